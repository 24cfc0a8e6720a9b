"""Server-Sent Events: an incremental decoder and the encoders of the three dialects.

Decoding follows the WHATWG HTML "event stream interpretation" algorithm
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation), bytes in and
events out, for any split of the input into chunks:

- CRLF, LF and a lone CR each end a line; a CR at the very end of a chunk ends its line at once and an LF
  at the start of the next chunk is then swallowed.
- A UTF-8 byte order mark at the very start of the stream is dropped.
- ``:comment`` lines are ignored (and counted in ``SSEDecoder.comments``).
- ``name:value`` and ``name: value`` (exactly one leading space is stripped); a line without a colon is a
  field name with an empty value; unknown fields are ignored.
- ``data`` lines are joined with ``"\\n"``; ``event`` sets the name of the event being built; ``id`` sets the
  last event id unless it contains NUL (and the id persists across events); ``retry`` is taken only when it
  is all ASCII digits.
- A blank line dispatches the event when at least one ``data`` line was seen; otherwise it only resets the
  event name (and ``retry``).

Deliberate differences from WHATWG, for an API client rather than a browser:

- ``SSEEvent.event`` is ``None`` when the block had no ``event:`` line (WHATWG would report ``"message"``):
  callers must tell the two apart, because the Anthropic SDKs drop events that have no name.
- ``SSEEvent.retry`` is the ``retry:`` value given inside that event's block (as openai's and httpx-sse's
  decoders report it); the stream-wide reconnection time is ``SSEDecoder.retry``.
- ``close()`` dispatches a pending event that has data even when the stream ended without the final blank
  line (WHATWG discards it): Gemini servers and some proxies end with an unterminated last event.
- Invalid UTF-8 raises ``ProviderError(kind="decode")`` whose ``raw`` holds the bytes of the offending line
  (WHATWG would substitute U+FFFD, which ``SSEDecoder(errors="replace")`` does).

``[DONE]`` is not special here: it is an event whose data is ``"[DONE]"``; see ``is_done``.

Speed: line ends are found with ``bytes`` methods on the whole buffer, the complete lines of a chunk are
decoded at once, and the common ``data: …`` line takes the first branch of the loop; a chunk without CR
never goes through the CR normalisation.

Pure: no I/O imports.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from providers.errors import ProviderError

__all__ = [
    "OPENAI_DONE",
    "SSEDecoder",
    "SSEEvent",
    "anthropic_event",
    "decode_all",
    "dumps",
    "encode",
    "gemini_dumps",
    "gemini_event",
    "is_done",
    "openai_event",
]

_BOM: Final = b"\xef\xbb\xbf"
# Splits LF-ended text into matches of either a whole common event block, `event: NAME` (optional) then
# `data: VALUE` then a blank line (groups 1, 2), or any single line (group 3). Every position of LF-ended
# text matches, so re.split leaves no gaps and the Python loop runs once per event, not once per line.
_BLOCK: Final = re.compile(r"(?:event: ([^\n]*)\n)?data: ([^\n]*)\n\n|([^\n]*)\n")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event. ``event`` is ``None`` when no ``event:`` field was given (not ``"message"``);
    ``id`` is the last event id seen so far in the stream (``None`` if none was ever set); ``retry`` is the
    ``retry:`` value given in this event's block, if any."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


# Dispatching is the hot path: a frozen dataclass's generated __init__ goes through object.__setattr__ once
# per field, so events are built by filling the slots directly (same object, same equality, same repr).
# The slots' member descriptors are read from the class namespace (attribute access on the class would
# give the fields' defaults to a type checker).
_new_event = SSEEvent.__new__
_slots = vars(SSEEvent)
_set_data = _slots["data"].__set__
_set_event = _slots["event"].__set__
_set_id = _slots["id"].__set__
_set_retry = _slots["retry"].__set__


def _make_event(data: str, event: str | None, id: str | None, retry: int | None) -> SSEEvent:
    ev = _new_event(SSEEvent)
    _set_data(ev, data)
    _set_event(ev, event)
    _set_id(ev, id)
    _set_retry(ev, retry)
    return ev


def is_done(event: SSEEvent) -> bool:
    """Whether ``event`` is OpenAI's end-of-stream sentinel ``data: [DONE]`` (the SDK stops at data
    starting with ``[DONE]``; the event name is not looked at, since the Assistants API sends
    ``event: done`` with it)."""
    return event.data.startswith("[DONE]")


class SSEDecoder:
    """Incremental SSE decoder: ``feed(chunk)`` returns the events completed by that chunk, ``close()`` the
    ones completed by the end of the stream.

    ``errors`` is ``"strict"`` (invalid UTF-8 raises ``ProviderError(kind="decode")`` with the offending
    line's bytes in ``raw``; the decoder is unusable afterwards) or ``"replace"`` (U+FFFD, as browsers do).

    Diagnostics: ``comments`` counts comment lines, ``last_event_id`` is the id buffer, ``retry`` the last
    valid ``retry:`` value of the stream (WHATWG's reconnection time).
    """

    __slots__ = (
        "_bom_pending",
        "_data",
        "_errors",
        "_event",
        "_retry_field",
        "_skip_lf",
        "_tail",
        "comments",
        "last_event_id",
        "retry",
    )

    def __init__(self, *, errors: Literal["strict", "replace"] = "strict") -> None:
        if errors not in ("strict", "replace"):
            raise ValueError(f"errors must be 'strict' or 'replace', not {errors!r}")
        self._errors: str = errors
        self._tail: list[bytes] = []  # bytes after the last line end seen (no CR or LF inside)
        self._skip_lf = False  # the previous chunk ended with CR: an LF starting the next one belongs to it
        self._bom_pending = True  # nothing of the stream seen yet: a BOM may still come
        self._data: list[str] = []
        self._event: str | None = None
        self._retry_field: int | None = None
        self.comments = 0
        self.last_event_id: str | None = None
        self.retry: int | None = None

    # -- bytes to lines -------------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Take the next bytes of the stream; return the events they complete (possibly none)."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 10:
                chunk = chunk[1:]
                if not chunk:
                    return []
        if self._bom_pending:
            chunk = self._strip_bom(chunk)
            if not chunk:
                return []

        nl = chunk.rfind(b"\n")
        cr = chunk.rfind(b"\r")
        last = nl if nl > cr else cr
        if last < 0:  # no line end: the whole chunk continues the current line
            self._tail.append(chunk)
            return []

        tail = self._tail
        if tail:
            tail.append(chunk)
            data = b"".join(tail)
            last += len(data) - len(chunk)
        else:
            data = chunk
        end = len(data) - 1
        self._tail = [data[last + 1 :]] if last < end else []

        if cr < 0:  # the common case: LF only
            complete = data[:last]
        else:
            if last == end and data[last] == 13:
                self._skip_lf = True
            complete = (
                data[: last - 1] if last > 0 and data[last] == 10 and data[last - 1] == 13 else data[:last]
            )
            if 13 in complete:
                complete = complete.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        out: list[SSEEvent] = []
        self._run(self._decode(complete) + "\n", out)
        return out

    def close(self) -> list[SSEEvent]:
        """End of stream: a trailing unterminated line counts as a line, and a pending event with data is
        dispatched (unlike WHATWG, see the module doc). The decoder may then be fed a new stream (a
        reconnection): the last event id and ``retry`` persist, everything else is reset."""
        out: list[SSEEvent] = []
        # The unterminated last line (if any), then a blank line to dispatch what is pending.
        self._run(self._decode(b"".join(self._tail)) + "\n\n" if self._tail else "\n", out)
        self._tail = []
        self._skip_lf = False
        self._bom_pending = True
        return out

    def _strip_bom(self, chunk: bytes) -> bytes:
        head = b"".join([*self._tail, chunk]) if self._tail else chunk
        if len(head) < 3 and _BOM.startswith(head):
            self._tail = [head]  # could still be a BOM: wait for more (close() treats it as a line)
            return b""
        self._bom_pending = False
        self._tail = []
        return head[3:] if head.startswith(_BOM) else head

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8", self._errors)
        except UnicodeDecodeError as exc:
            start = raw.rfind(b"\n", 0, exc.start) + 1
            stop = raw.find(b"\n", exc.start)
            line = raw[start:] if stop < 0 else raw[start:stop]
            raise ProviderError.decode(
                f"SSE stream is not valid UTF-8: {exc.reason} at byte {exc.start - start} of a line",
                raw=line,
            ) from None

    # -- lines to events ------------------------------------------------------------------------------

    def _run(self, text: str, out: list[SSEEvent]) -> None:
        """Interpret ``text``: whole lines, each ended by LF (the last one too)."""
        data = self._data
        event = self._event
        retry = self._retry_field
        last_id = self.last_event_id
        parts = _BLOCK.split(text)
        it = iter(parts)
        next(it)  # the text before the first match: always empty
        # Each match is either a whole common event block (``value`` set) or one line (``line`` set).
        for name, value, line, _ in zip(it, it, it, it, strict=False):
            if line is None:
                if data or event is not None or retry is not None:  # an event was under way: add to it
                    if name is not None:
                        event = name
                    data.append(value)
                    out.append(_make_event("\n".join(data), event, last_id, retry))
                    data.clear()
                    event = retry = None
                else:
                    out.append(_make_event(value, name, last_id, None))
            elif not line:
                if data:
                    out.append(
                        _make_event(data[0] if len(data) == 1 else "\n".join(data), event, last_id, retry)
                    )
                    data.clear()
                event = retry = None
            elif line[0] == ":":
                self.comments += 1
            else:
                name, colon, value = line.partition(":")
                if colon and value[:1] == " ":
                    value = value[1:]
                if name == "data":
                    data.append(value)
                elif name == "event":
                    event = value
                elif name == "id":
                    if "\0" not in value:
                        last_id = value
                elif name == "retry" and value.isascii() and value.isdigit():
                    retry = self.retry = int(value)
                # any other field is ignored
        self._event = event
        self._retry_field = retry
        self.last_event_id = last_id


def decode_all(body: bytes, *, errors: Literal["strict", "replace"] = "strict") -> list[SSEEvent]:
    """Decode a whole SSE body (``feed`` then ``close``)."""
    decoder = SSEDecoder(errors=errors)
    return decoder.feed(body) + decoder.close()


# -- encoders --------------------------------------------------------------------------------------------

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
# Google's servers write `"key": value` with a space after the colon but none after commas, and escape
# `<` and `>` (as in recorded real Gemini traffic; docs/wire.md#gemini-streaming).
_gemini = json.JSONEncoder(ensure_ascii=False, separators=(",", ": "), allow_nan=False).encode
_LINE_END = re.compile(r"\r\n|\r|\n")

#: OpenAI's end-of-stream event.
OPENAI_DONE: Final = b"data: [DONE]\n\n"


def dumps(obj: Any) -> str:
    """Compact JSON (no spaces), UTF-8 left unescaped, NaN/Infinity refused: the JSON of every SSE payload
    OpenAI and Anthropic send."""
    return _compact(obj)


def gemini_dumps(obj: Any) -> str:
    """JSON as Google's Gemini servers write it: ``{"key": value,"next": …}`` (a space after each colon,
    none after commas), ``<`` and ``>`` escaped as ``\\u003c`` and ``\\u003e``, other non-ASCII left as
    UTF-8. Real ``alt=sse`` bodies re-encode byte for byte with it."""
    text = _gemini(obj)
    if "<" in text or ">" in text:  # both can only occur inside strings, so replacing is safe
        text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return text


def _check_field(name: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError(f"SSE {name} must not contain CR or LF: {value!r}")


def encode(data: str, *, event: str | None = None, id: str | None = None, retry: int | None = None) -> bytes:
    """One event as bytes: ``event:``, ``id:``, ``retry:`` (those given), one ``data:`` line per line of
    ``data`` (CRLF, CR and LF all split), then a blank line; always ``field: value`` with one space, LF line
    ends. ``decode`` gives back ``data`` (with its line ends as LF), ``event``, ``id`` and ``retry``."""
    parts: list[str] = []
    if event is not None:
        _check_field("event", event)
        parts.append(f"event: {event}\n")
    if id is not None:
        _check_field("id", id)
        if "\0" in id:
            raise ValueError("SSE id must not contain NUL (a decoder ignores it)")
        parts.append(f"id: {id}\n")
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"SSE retry must be a non-negative int, not {retry!r}")
        parts.append(f"retry: {retry}\n")
    if "\n" in data or "\r" in data:
        parts.extend(f"data: {line}\n" for line in _LINE_END.split(data))
    else:
        parts.append(f"data: {data}\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8")


def openai_event(obj: dict[str, Any]) -> bytes:
    """``data: {json}\\n\\n``: one OpenAI streaming event (no ``event:`` line)."""
    return b"data: " + _compact(obj).encode("utf-8") + b"\n\n"


def anthropic_event(obj: dict[str, Any]) -> bytes:
    """``event: {type}\\ndata: {json}\\n\\n``: one Anthropic streaming event, named after its JSON ``type``."""
    name = obj.get("type")
    if not isinstance(name, str) or not name:
        raise ValueError("an Anthropic stream event needs a non-empty string 'type'")
    _check_field("event", name)
    return b"event: " + name.encode("utf-8") + b"\ndata: " + _compact(obj).encode("utf-8") + b"\n\n"


def gemini_event(obj: dict[str, Any]) -> bytes:
    """``data: {json}\\r\\n\\r\\n``: one Gemini ``alt=sse`` event, framed as the real API frames it (CRLF line
    ends, no ``event:`` line, Google's JSON spacing)."""
    return b"data: " + gemini_dumps(obj).encode("utf-8") + b"\r\n\r\n"
