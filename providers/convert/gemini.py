"""Gemini generateContent <-> IR, streams included (docs/wire.md#gemini; docs/contract.md#crabllm lists what
a naive converter loses).

Public API (the same names in every dialect module):

- ``request_to_ir(req, model)``: the model comes from the URL path, not the body.
- ``request_from_ir(r)``: the body only (``r.model`` goes in the path).
- ``response_to_ir(resp)`` / ``response_from_ir(r)``.
- ``StreamToIR``: ``feed(item)`` one parsed SSE item (a full ``GenerateContentResponse`` holding only the
  new parts, or an ``ErrorBody``) → IR events; ``close()`` → ``End`` only if a finishReason was seen.
- ``StreamFromIR``: ``feed(event)`` → ``GenerateContentResponse`` items; ``close()``.
- ``LOSSY``: the fields that do not survive a translation, and why.

Losslessness. Whatever the IR has no slot for is kept in ``vendor["gemini"]`` of the IR object that
came from it, so Gemini → IR → Gemini gives back the same JSON, unknown fields, explicit nulls and
snake_case spellings included. The entry has the layout of ``providers.convert.leftovers``: ``rest``
(the wire fields not mapped to the IR, as wire JSON, placed first when written back), ``snake`` (mapped
fields the client spelled snake_case), ``absent`` (IR slots that got a default because the wire field was
missing: a synthetic call id, an empty model name...), and a few named facts (``split``: lengths of merged text parts; ``openapi``: the original OpenAPI-subset schema).
Another dialect never reads them.

Decisions worth knowing (each one is also a ``LOSSY`` row where data is lost):

- Calls without an ``id`` get ``call_{n}``, counted over the whole request/response/stream and never
  equal to a real id in it; a ``functionResponse`` without an id answers the earliest unanswered call
  of the same name (FIFO). Synthetic ids are flagged and not written back to Gemini.
- ``thought: true`` parts are ``Reasoning``, never answer text; a part holding only a
  ``thoughtSignature`` is a signature-only ``Reasoning``. The signature of a ``functionCall`` part is
  ``ToolCall.signature``; on any other part it stays in vendor.
- Responses: consecutive text parts (and thought parts) are concatenated into one Text (Reasoning),
  a part that carries anything but ``text`` starting a new one; ``split`` records the part boundaries.
  Streams group parts by exactly the same rule (an empty ``{"text": ""}`` opens no block), so
  accumulating a stream equals the non-stream reply.
- A STOP whose candidate (or stream) holds a functionCall is ``tool_use`` (raw STOP kept).
- Tool parameters go out as ``parametersJsonSchema`` (plain JSON Schema, which the API accepts),
  except when they came from Gemini's own OpenAPI-subset ``parameters`` and are unchanged; incoming
  ``parameters`` are converted to JSON Schema (lower-case ``type``, ``nullable`` → ``[type, "null"]``).
- ``ir.Request.response_format`` is the flattened form the other converters use: ``{"type": "json_schema",
  "schema": ...}`` (read from ``responseJsonSchema``, or ``responseSchema`` converted), ``{"type":
  "json_object"}`` (application/json without a schema) or ``{"type": "text"}`` (text/plain).
- Tool results: all results of one assistant turn go in ONE user Content (eino-ext#571); the
  ``response`` is the result text when it is a JSON object, else ``{"result": text}``
  (``{"error": ...}`` when ``is_error``); the function name comes from the result or the earlier call.
- OpenAI system/developer messages anywhere in ``messages`` are folded, in order, into
  ``systemInstruction`` after ``ir.Request.system`` (Gemini has no system turn).
- ``StreamFromIR`` emits one item per text/thought fragment, one complete ``functionCall`` part per
  tool block (arguments buffered to the block's end; invalid JSON raises), and a final item with
  ``finishReason`` and the usage when the IR stream ends (``End``). Without ``End`` (a truncated
  upstream) no finishReason is written, so the client can tell. ``StreamError`` raises
  ``ProviderError(kind="upstream")`` from ``feed``: a typed Gemini stream cannot carry an error item.

Pure: no I/O.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any, Final, Literal

from providers.convert import jsontext, leftovers
from providers.convert.dialect import Body, Converters, StreamOptions, parse_body
from providers.convert.tables import LEDGER, Lossy, stop_from, stop_to
from providers.errors import ProviderError
from providers.types import ir
from providers.types.gemini import (
    Candidate,
    Content,
    ErrorBody,
    FunctionDeclaration,
    GenerateContentRequest,
    GenerateContentResponse,
    Part,
    UsageMetadata,
    parse_stream_item,
)

__all__ = ["DIALECT", "LOSSY", "NAME", "StreamFromIR", "StreamToIR", "openapi_to_json_schema"]
__all__ += ["request_from_ir", "request_json_from_ir", "request_to_ir"]
__all__ += ["response_from_ir", "response_json_from_ir", "response_to_ir"]

NAME = "gemini"

_dumps = jsontext.encoder(allow_nan=False)

# --- leftovers (providers/convert/leftovers.py), spelled as Gemini spells them: camelCase, unless the
# client wrote a field snake_case ------------------------------------------------------------------


#: The leftovers entry of one Gemini wire object: ``leftovers.keep`` with Gemini's spelling (a partial, not a
#: wrapper function: it runs for every wire object of a body).
_keep = functools.partial(leftovers.keep, leftovers.camel)
#: ``leftovers.keep_given`` with Gemini's spelling: consumed = the given ``names`` that are not null.
_keep_given = functools.partial(leftovers.keep_given, leftovers.camel)


# --- ids -------------------------------------------------------------------------------------------


class _Calls:
    """Synthetic call ids (``{prefix}{n}``, never equal to a real id seen) and FIFO pairing by name.

    A request numbers its calls ``call_0, call_1...`` in order, so the ids are stable across the turns of one
    conversation. A response or stream must not reuse those (its calls join the same conversation; a gateway
    that restarted ids per response collided: praxis-proxy/ai PR#1000), so it mints ``call_{responseId}_{n}``:
    unique per response, and deterministic for a replayed response.

    ``seen`` gives the real ids of the body; it is called when the first id is minted (most bodies need
    none), and then those ids are taken too."""

    __slots__ = ("_n", "_pending", "_prefix", "_seen", "_taken")

    def __init__(self, prefix: str = "call_", seen: Callable[[], set[str]] | None = None) -> None:
        self._n = 0
        self._prefix = prefix
        self._taken: set[str] = set()
        self._seen = seen
        self._pending: dict[str | None, deque[str]] = {}

    @classmethod
    def for_response(cls, response_id: str | None, seen: Callable[[], set[str]] | None = None) -> _Calls:
        return cls(f"call_{response_id or uuid.uuid4().hex[:12]}_", seen)

    def new_id(self) -> str:
        if self._seen is not None:
            self._taken |= self._seen()
            self._seen = None
        while True:
            cid = f"{self._prefix}{self._n}"
            self._n += 1
            if cid not in self._taken:
                self._taken.add(cid)
                return cid

    def called(self, name: str | None, cid: str) -> None:
        self._taken.add(cid)
        self._pending.setdefault(name, deque()).append(cid)

    def answered(self, name: str | None, cid: str) -> None:
        queue = self._pending.get(name)
        if queue and cid in queue:
            queue.remove(cid)

    def pair(self, name: str | None) -> str:
        queue = self._pending.get(name)
        return queue.popleft() if queue else self.new_id()


def _lacks_ids(contents: Iterable[Content]) -> bool:
    """Whether a call or function response in ``contents`` has no id (a request whose calls and results
    all have ids avoids only the ids it has seen so far when one is minted, in its system instruction)."""
    return any(
        (part.function_call is not None and part.function_call.id is None)
        or (part.function_response is not None and part.function_response.id is None)
        for content in contents
        for part in content.parts or ()
    )


def _ids_in(contents: Iterable[Content | None]) -> set[str]:
    """Every call/response id a list of contents already uses (so synthetic ones never collide)."""
    taken: set[str] = set()
    for content in contents:
        if content is None or not content.parts:
            continue
        for part in content.parts:
            if part.function_call is not None and part.function_call.id is not None:
                taken.add(part.function_call.id)
            if part.function_response is not None and part.function_response.id is not None:
                taken.add(part.function_response.id)
    return taken


# --- parts: wire -> IR -----------------------------------------------------------------------------

_DATA = (
    "text", "inline_data", "file_data", "function_call", "function_response", "executable_code",
    "code_execution_result", "tool_call", "tool_response",
)  # fmt: skip
_DATA_FIELDS = frozenset(_DATA)
_PLAIN_TEXT = frozenset({"text"})
_PLAIN_THOUGHT = frozenset({"text", "thought", "thought_signature"})

_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}
_AUDIO_MIMES = {"wav": "audio/wav", "mp3": "audio/mp3"}


def _audio_format(mime: str) -> str:
    return _AUDIO_FORMATS.get(mime) or mime.split("/", 1)[1]


def _audio_mime(fmt: str | None) -> str:
    if fmt is None:
        return "audio/wav"
    return _AUDIO_MIMES.get(fmt) or f"audio/{fmt}"


def _other(part: Any) -> ir.Other:
    return ir.Other(dialect=NAME, data=part.to_json())


def _sub(entry: dict[str, Any], model: Any, names: frozenset[str]) -> None:
    """Record the vendor entry of a part's inner object (functionCall, inlineData...) if it has one; the
    fields of ``names`` that are not null are consumed."""
    inner = _keep_given(model, names)
    if inner:
        entry["sub"] = inner


_BLOB_FIELDS = frozenset({"mime_type", "data"})
_FILE_FIELDS = frozenset({"mime_type", "file_uri"})
_CALL_FIELDS = frozenset({"id", "name", "args"})
_RESULT_FIELDS = frozenset({"id", "name", "response", "parts"})
_RESULT_FIELDS_BUT_PARTS = frozenset({"id", "name", "response"})
_CALL_PART = frozenset({"function_call"})
_SIGNED_CALL_PART = frozenset({"function_call", "thought_signature"})
_RESULT_PART = frozenset({"function_response"})
_CONTENT_FIELDS = frozenset({"parts", "role"})


def _media_to_ir(part: Any, entry: dict[str, Any]) -> ir.Part:
    """``inlineData`` → Image (image/*), Audio (audio/*) or File; ``fileData`` → Image or File by URL."""
    blob = part.inline_data
    if blob is not None:
        mime, data = blob.mime_type, blob.data
        _sub(entry, blob, _BLOB_FIELDS)
        if mime is not None and mime.startswith("image/"):
            return ir.Image(data=data, media_type=mime, vendor=leftovers.vendor(NAME, entry))
        if mime is not None and mime.startswith("audio/") and data is not None:
            fmt = _audio_format(mime)
            if _audio_mime(fmt) != mime:
                entry["mime"] = mime
            return ir.Audio(data=data, format=fmt, vendor=leftovers.vendor(NAME, entry))
        return ir.File(data=data, media_type=mime, vendor=leftovers.vendor(NAME, entry))
    ref = part.file_data
    mime, uri = ref.mime_type, ref.file_uri
    _sub(entry, ref, _FILE_FIELDS)
    entry["via"] = "fileData"
    if mime is not None and mime.startswith("image/"):
        return ir.Image(url=uri, media_type=mime, vendor=leftovers.vendor(NAME, entry))
    return ir.File(url=uri, media_type=mime, vendor=leftovers.vendor(NAME, entry))


def _part_to_ir(part: Part, calls: _Calls) -> ir.Part:
    """One Gemini part → one IR part (a part that is not one clear kind → ``Other``, kept whole)."""
    data = part.__dict__
    if part.__pydantic_fields_set__ == _PLAIN_TEXT and data["text"] is not None:
        return ir.Text(text=data["text"])  # the common part, with nothing left over: skip the bookkeeping
    kind = None
    count = 0
    for (
        name
    ) in part.__pydantic_fields_set__:  # the given fields: fewer than the data fields, and unset is None
        if name in _DATA_FIELDS and data[name] is not None:
            kind = name
            count += 1
    if count > 1:
        return _other(part)
    sig = part.thought_signature
    if kind == "text" and part.thought is not True:
        return ir.Text(text=part.text, vendor=leftovers.vendor(NAME, _keep(part, _PLAIN_TEXT)))
    if (kind == "text" and part.thought is True) or (
        kind is None and (part.thought is True or (part.thought is None and sig is not None))
    ):
        # thinking text, or a bare thoughtSignature (hidden thinking): Reasoning either way
        consumed = {"text"} if part.text is not None else set()
        entry: dict[str, Any] = {}
        if part.text is None:
            leftovers.mark_absent(entry, "text")
        if part.thought is not None:
            consumed.add("thought")
        else:
            leftovers.mark_absent(entry, "thought")
        if sig is not None:
            consumed.add("thought_signature")
        # always marked as Gemini's: an empty thought part is kept, where another dialect's is dropped
        return ir.Reasoning(text=part.text or "", signature=sig, vendor={NAME: _keep(part, consumed, entry)})
    if kind == "function_call":
        return _call_to_ir(part, calls)
    if kind == "function_response":
        return _result_to_ir(part, calls)
    if kind == "inline_data" or kind == "file_data":
        return _media_to_ir(part, _keep(part, {kind}))
    return _other(part)


def _call_to_ir(part: Part, calls: _Calls) -> ir.ToolCall:
    call = part.function_call
    assert call is not None
    signature = part.thought_signature
    if part.__pydantic_fields_set__ == _CALL_PART and "_snake_keys" not in part.__dict__:
        entry: dict[str, Any] = {}  # _keep's answer for a bare call part, without the call (every call)
    else:
        entry = _keep(part, _CALL_PART if signature is None else _SIGNED_CALL_PART)
    inner = _keep_given(call, _CALL_FIELDS)  # _sub, inline: this runs for every call
    if inner:
        entry["sub"] = inner
    cid, name, args = call.id, call.name, call.args
    if cid is None:
        cid = calls.new_id()
        leftovers.mark_absent(entry, "id")
    if name is None:
        leftovers.mark_absent(entry, "name")
    if args is None:
        leftovers.mark_absent(entry, "args")
    calls.called(name, cid)
    return ir.ToolCall(
        id=cid,
        name=name or "",
        arguments=_dumps(args) if args is not None else "{}",
        signature=signature,
        vendor={NAME: entry} if entry else {},
    )


def _result_to_ir(part: Part, calls: _Calls) -> ir.ToolResult:
    resp = part.function_response
    assert resp is not None
    if part.__pydantic_fields_set__ == _RESULT_PART and "_snake_keys" not in part.__dict__:
        entry: dict[str, Any] = {}  # _keep's answer for a bare result part, without the call (every result)
    else:
        entry = _keep(part, _RESULT_PART)
    cid, name, response, media_parts = resp.id, resp.name, resp.response, resp.parts
    # _sub, inline (this runs for every result); an empty parts list is kept as given
    inner = _keep_given(resp, _RESULT_FIELDS if media_parts != [] else _RESULT_FIELDS_BUT_PARTS)
    if inner:
        entry["sub"] = inner
    if cid is not None:
        calls.answered(name, cid)
    else:
        cid = calls.pair(name)
        leftovers.mark_absent(entry, "id")
    if name is None:
        leftovers.mark_absent(entry, "name")
    content: list[ir.Part] = []
    error = _error_of(response) if response is not None and "error" in response else None
    if error is not None:
        content.append(ir.Text(text=error))
    elif response is not None:
        content.append(ir.Text(text=_dumps(response)))
    else:
        leftovers.mark_absent(entry, "response")
    for media in media_parts or ():
        if (media.inline_data is None) == (media.file_data is None):
            content.append(_other(media))
        else:
            kind = "inline_data" if media.inline_data is not None else "file_data"
            content.append(_media_to_ir(media, _keep(media, {kind})))
    return ir.ToolResult(
        call_id=cid,
        name=name,
        content=content,
        is_error=True if error is not None else None,
        vendor={NAME: entry} if entry else {},
    )


def _error_of(response: Any) -> str | None:
    """The error text of a ``{"error": ...}`` function response (Gemini: "use 'error' key to specify error
    details"), when ``_response_object`` writes that same object back from it; else None."""
    if not isinstance(response, dict) or response.keys() != {"error"}:
        return None
    value = response["error"]
    if isinstance(value, dict):
        return _dumps(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return None if isinstance(parsed, dict) else value
    return None


def _content_entry(content: Content) -> dict[str, Any]:
    """Vendor entry of a Content: unknown fields, a role other than user/model, absent role or parts."""
    role = content.role
    if (
        (role == "user" or role == "model")
        and content.parts is not None
        and content.__pydantic_fields_set__ <= _CONTENT_FIELDS
        and "_snake_keys" not in content.__dict__
    ):
        return {}  # the common turn, with nothing to keep (checked inline: this runs for every turn)
    entry = _keep_given(content, _CONTENT_FIELDS)
    if content.role is None:
        leftovers.mark_absent(entry, "role")
    elif content.role not in ("user", "model"):
        entry["role"] = content.role
    if content.parts is None:
        leftovers.mark_absent(entry, "parts")
    return entry


def _messages_to_ir(contents: list[Content], calls: _Calls) -> list[ir.Message]:
    """The turns of a request (one loop for all of them: this is the bulk of a request)."""
    messages = []
    text_part, message = ir.Text, ir.Message  # local names: looked up once, not per turn and part
    for content in contents:
        parts = []
        values = content.__dict__  # the fields read from the instance dict directly
        given = values["parts"]
        for part in given or ():
            text = part.__dict__["text"]
            if text is not None and part.__pydantic_fields_set__ == _PLAIN_TEXT:
                parts.append(
                    text_part(text=text)
                )  # _part_to_ir's first case, inline: most parts are plain text
            else:
                parts.append(_part_to_ir(part, calls))
        role = values["role"]
        if (
            given is not None
            and (role == "user" or role == "model")
            and content.__pydantic_fields_set__ == _CONTENT_FIELDS
            and "_snake_keys" not in values
        ):
            entry: dict[str, Any] = {}  # _content_entry's common case, inline
        else:
            entry = _content_entry(content)
        # always marked: an empty Gemini turn is kept, not dropped
        messages.append(
            message(role="assistant" if role == "model" else "user", content=parts, vendor={NAME: entry})
        )
    return messages


def _merge_parts(parts: list[Part], calls: _Calls) -> list[ir.Part]:
    """Response parts → IR parts, concatenating consecutive text (and thought) parts (see the module
    docstring); ``split`` in the vendor keeps the part boundaries for the way back."""
    out: list[ir.Part] = []
    current: ir.Text | ir.Reasoning | None = None
    chunks: list[str] = []
    lengths: list[int] = []
    for part in parts:
        fields_set = part.__pydantic_fields_set__
        text = part.text
        plain = text is not None and "_snake_keys" not in part.__dict__
        if plain and part.thought is None and fields_set == _PLAIN_TEXT:
            if isinstance(current, ir.Text):
                chunks.append(text)
                lengths.append(len(text))
                continue
            _seal(current, chunks, lengths)
            current = ir.Text(text=text)
        elif plain and part.thought is True and fields_set <= _PLAIN_THOUGHT:
            sig = part.thought_signature
            if isinstance(current, ir.Reasoning) and current.signature is None:
                chunks.append(text)
                lengths.append(len(text))
                current.signature = sig
                continue
            _seal(current, chunks, lengths)
            current = ir.Reasoning(text=text, signature=sig, vendor={NAME: {}})
        else:
            _seal(current, chunks, lengths)
            converted = _part_to_ir(part, calls)
            out.append(converted)
            if isinstance(converted, ir.Text) or (
                isinstance(converted, ir.Reasoning)
                and not leftovers.is_absent(leftovers.entry(converted.vendor, NAME), "text")
            ):
                current = converted
                chunks = [converted.text]
                lengths = [len(converted.text)]
            else:
                current = None
            continue
        out.append(current)
        chunks = [text]
        lengths = [len(text)]
    _seal(current, chunks, lengths)
    return out


def _seal(current: ir.Text | ir.Reasoning | None, chunks: list[str], lengths: list[int]) -> None:
    """Join the texts merged into ``current`` and record their boundaries (``split``). A function, not
    a closure in ``_merge_parts``: its variables stay plain locals there."""
    if current is not None and len(lengths) > 1:
        current.text = "".join(chunks)
        current.vendor.setdefault(NAME, {})["split"] = list(lengths)


# --- parts: IR -> wire -----------------------------------------------------------------------------


def _split(text: str, entry: dict[str, Any] | None) -> list[str]:
    lengths = entry.get("split") if entry else None
    if not lengths or sum(lengths) != len(text):
        return [text]
    pieces, at = [], 0
    for n in lengths:
        pieces.append(text[at : at + n])
        at += n
    return pieces


def _text_parts(p: ir.Text, out: list[dict[str, Any]]) -> None:
    entry = leftovers.entry(p.vendor, NAME)
    if entry is None:  # from another dialect: one part, nothing to put back
        out.append({"text": p.text})
        return
    for i, piece in enumerate(_split(p.text, entry)):
        if i == 0:
            part, snake = leftovers.rest_and_spelling(entry)
            leftovers.put(part, snake, "text", piece)
            out.append(part)
        else:
            out.append({"text": piece})


def _reasoning_parts(p: ir.Reasoning, out: list[dict[str, Any]]) -> None:
    entry = leftovers.entry(p.vendor, NAME)
    if entry is None and not p.text and p.signature is None:
        return  # nothing Gemini can carry (Anthropic redacted thinking, say)
    pieces = _split(p.text, entry)
    last = len(pieces) - 1
    for i, piece in enumerate(pieces):
        if i == 0:
            part, snake = leftovers.rest_and_spelling(entry)
            if not (piece == "" and leftovers.is_absent(entry, "text")):
                leftovers.put(part, snake, "text", piece)
            if not leftovers.is_absent(entry, "thought"):
                leftovers.put(part, snake, "thought", True)
        else:
            part, snake = {"text": piece, "thought": True}, ()
        if i == last and p.signature is not None:
            leftovers.put(part, snake, "thought_signature", p.signature)
        out.append(part)


def _args_object(call: ir.ToolCall) -> dict[str, Any]:
    text = call.arguments
    if not text.strip():
        return {}
    try:
        args = jsontext.decode(text)  # json.loads, without its wrapper calls
    except ValueError:
        raise ProviderError.invalid_request(
            f"tool call {call.id!r} ({call.name}) has arguments that are not valid JSON: {text[:200]!r}"
        ) from None
    if not isinstance(args, dict):
        raise ProviderError.invalid_request(
            f"tool call {call.id!r} ({call.name}) arguments must be a JSON object for Gemini, got {text[:200]!r}"
        )
    return args


def _call_part(tool_call: ir.ToolCall) -> dict[str, Any]:
    entry = leftovers.entry(tool_call.vendor, NAME)
    if entry is None:  # from another dialect: what the general path below writes for it, directly
        call = {"id": tool_call.id, "name": tool_call.name, "args": _args_object(tool_call)}
        written: dict[str, Any] = {"functionCall": call}
        if tool_call.signature is not None:
            written["thoughtSignature"] = tool_call.signature
        return written
    part, snake = leftovers.rest_and_spelling(entry)
    call, csnake = leftovers.rest_and_spelling(entry.get("sub") if entry else None)
    if not leftovers.is_absent(entry, "id"):
        leftovers.put(call, csnake, "id", tool_call.id)
    if not (tool_call.name == "" and leftovers.is_absent(entry, "name")):
        leftovers.put(call, csnake, "name", tool_call.name)
    if not (leftovers.is_absent(entry, "args") and tool_call.arguments in ("{}", "")):
        leftovers.put(call, csnake, "args", _args_object(tool_call))
    leftovers.put(part, snake, "function_call", call)
    if tool_call.signature is not None:
        leftovers.put(part, snake, "thought_signature", tool_call.signature)
    return part


def _result_part(result: ir.ToolResult, names: dict[str, str]) -> dict[str, Any]:
    entry = leftovers.entry(result.vendor, NAME)
    part, snake = leftovers.rest_and_spelling(entry)
    resp, rsnake = leftovers.rest_and_spelling(entry.get("sub") if entry else None)
    if not leftovers.is_absent(entry, "id"):
        leftovers.put(resp, rsnake, "id", result.call_id)
    name = result.name if result.name is not None else names.get(result.call_id)
    if name is None and not leftovers.is_absent(entry, "name"):
        raise ProviderError.invalid_request(
            f"tool result for call {result.call_id!r} has no function name and answers no earlier call; "
            "Gemini needs the name"
        )
    if result.name is not None or not leftovers.is_absent(entry, "name"):
        leftovers.put(resp, rsnake, "name", name)
    texts: list[str] = []
    media: list[dict[str, Any]] = []
    for p in result.content:
        if isinstance(p, ir.Text):
            texts.append(p.text)
        elif isinstance(p, ir.Other):
            if p.dialect == NAME:
                media.append(p.data)
        elif isinstance(p, ir.Image | ir.File | ir.Audio):
            media.append(_media_part(p))
    if texts or not leftovers.is_absent(entry, "response"):
        leftovers.put(resp, rsnake, "response", _response_object(texts, result.is_error))
    if media:
        leftovers.put(resp, rsnake, "parts", media)
    leftovers.put(part, snake, "function_response", resp)
    return part


def _response_object(texts: list[str], is_error: bool | None) -> dict[str, Any]:
    """A tool result as ``functionResponse.response``: its text when that is a JSON object, else
    ``{"result": text}``; ``{"error": ...}`` when the result is an error."""
    text = "\n".join(texts)
    value = None
    if text:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            value = parsed
    if is_error:
        return {"error": value if value is not None else text}
    if value is not None:
        return value
    return {"result": text} if texts else {}


_IMAGE_EXT = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
              "webp": "image/webp", "heic": "image/heic", "heif": "image/heif"}  # fmt: skip


def _image_mime(url: str) -> str | None:
    """An image URL's MIME type from its extension (Gemini wants one on fileData); None if unknown."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _IMAGE_EXT.get(ext)


def _data_url(url: str) -> tuple[str, str] | None:
    if not url.startswith("data:"):
        return None
    head, sep, data = url[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    return head[: -len(";base64")], data


def _media_part(p: ir.Image | ir.File | ir.Audio) -> dict[str, Any]:
    entry = leftovers.entry(p.vendor, NAME)
    part, snake = leftovers.rest_and_spelling(entry)
    sub, ssnake = leftovers.rest_and_spelling(entry.get("sub") if entry else None)
    if isinstance(p, ir.Audio):
        mime = entry.get("mime") if entry else None
        if mime is None or _audio_format(mime) != p.format:
            mime = _audio_mime(p.format)
        return _with_media(part, snake, "inline_data", sub, ssnake, mime, "data", p.data)
    if entry is not None and entry.get("via") == "fileData":
        return _with_media(part, snake, "file_data", sub, ssnake, p.media_type, "file_uri", p.url)
    if p.data is None and p.url is not None:
        inline = _data_url(p.url)
        if inline is None:
            mime = p.media_type
            if mime is None and isinstance(p, ir.Image):
                mime = _image_mime(p.url)
            return _with_media(part, snake, "file_data", sub, ssnake, mime, "file_uri", p.url)
        mime, data = inline
        return _with_media(part, snake, "inline_data", sub, ssnake, p.media_type or mime, "data", data)
    if p.data is None and p.file_id is not None:
        raise ProviderError.invalid_request(
            f"Gemini cannot reference an uploaded file by id ({p.file_id!r}); send it inline or by URI"
        )
    return _with_media(part, snake, "inline_data", sub, ssnake, p.media_type, "data", p.data)


def _with_media(
    part: dict[str, Any],
    snake: Collection[str],
    kind: str,
    sub: dict[str, Any],
    sub_snake: Collection[str],
    mime: str | None,
    key: str,
    value: str | None,
) -> dict[str, Any]:
    """``part`` holding ``sub`` as its ``kind`` (``inline_data`` or ``file_data``), with ``mime_type`` =
    ``mime`` and ``key`` (``data`` or ``file_uri``) = ``value``, each only when it is not None."""
    if mime is not None:
        leftovers.put(sub, sub_snake, "mime_type", mime)
    if value is not None:
        leftovers.put(sub, sub_snake, key, value)
    leftovers.put(part, snake, kind, sub)
    return part


def _parts_from_ir(parts: list[ir.Part], names: dict[str, str]) -> list[dict[str, Any]]:
    """IR parts → Gemini part objects; ``names`` maps call ids seen so far to function names."""
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, ir.Text):
            _text_parts(part, out)
        elif isinstance(part, ir.ToolCall):
            names[part.id] = part.name
            out.append(_call_part(part))
        elif isinstance(part, ir.ToolResult):
            out.append(_result_part(part, names))
        elif isinstance(part, ir.Reasoning):
            _reasoning_parts(part, out)
        elif isinstance(part, ir.Image | ir.File | ir.Audio):
            out.append(_media_part(part))
        elif isinstance(part, ir.Other) and part.dialect == NAME:
            out.append(part.data)
    return out


def _content_from_entry(
    entry: dict[str, Any] | None, ir_role: str | None, parts: list[dict[str, Any]]
) -> dict:
    """A Content object. ``ir_role`` None: a candidate's content (the IR keeps no role for it)."""
    out, snake = leftovers.rest_and_spelling(entry)
    if parts or not leftovers.is_absent(entry, "parts"):
        leftovers.put(out, snake, "parts", parts)
    raw_known = entry is not None and ("role" in entry or leftovers.is_absent(entry, "role"))
    if raw_known and (ir_role is None or ir_role == "user"):  # a missing or unusual role was read as user
        if entry is not None and "role" in entry:
            leftovers.put(out, snake, "role", entry["role"])
    else:
        leftovers.put(out, snake, "role", "user" if ir_role not in ("assistant", None) else "model")
    return out


# --- schemas ---------------------------------------------------------------------------------------

_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "additionalItems", "contains")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def openapi_to_json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-subset Schema as JSON Schema: upper-case ``type`` names lower-cased, and
    ``nullable: true`` folded into ``type: [t, "null"]``; everything else kept. Never mutates."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: openapi_to_json_schema(v) for k, v in value.items()}
        elif key in _SCHEMA_ONE:
            out[key] = openapi_to_json_schema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [openapi_to_json_schema(v) for v in value]
        else:
            out[key] = value
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        del out["nullable"]
        out["type"] = [out["type"], "null"]
    return out


# --- request ---------------------------------------------------------------------------------------

_MODE_IN: dict[str, Literal["auto", "none", "required", "tool"]] = {
    "AUTO": "auto",
    "ANY": "required",
    "NONE": "none",
    "VALIDATED": "auto",
    "MODE_UNSPECIFIED": "auto",
}
_MODE_OUT = {"auto": "AUTO", "required": "ANY", "tool": "ANY", "none": "NONE"}
_LEVELS = frozenset({"minimal", "low", "medium", "high", "xhigh"})


def _thinking_to_ir(config: Any) -> ir.Thinking:
    budget, level = config.thinking_budget, config.thinking_level
    consumed = {n for n in ("include_thoughts", "thinking_budget") if getattr(config, n) is not None}
    effort = None
    entry: dict[str, Any] = {}
    if isinstance(level, str) and level.lower() in _LEVELS:
        effort = level.lower()
        consumed.add("thinking_level")
        if level != effort.upper():
            entry["level"] = level
    mode = None
    if budget is not None:
        mode = "disabled" if budget == 0 else "adaptive" if budget < 0 else "enabled"
    _keep(config, consumed, entry)
    return ir.Thinking(
        mode=mode,
        budget_tokens=budget,
        effort=effort,
        include_thoughts=config.include_thoughts,
        vendor={NAME: entry},
    )


def _thinking_from_ir(thinking_config: ir.Thinking) -> dict[str, Any]:
    entry = leftovers.entry(thinking_config.vendor, NAME)
    out, snake = leftovers.rest_and_spelling(entry)
    if thinking_config.include_thoughts is not None:
        leftovers.put(out, snake, "include_thoughts", thinking_config.include_thoughts)
    elif entry is None and thinking_config.mode in ("enabled", "adaptive"):
        leftovers.put(out, snake, "include_thoughts", True)  # the other dialects show thinking when it is on
    budget = thinking_config.budget_tokens
    if budget is None and entry is None:
        budget = {"disabled": 0, "adaptive": -1}.get(thinking_config.mode or "")
        if budget is None and thinking_config.effort == "none":
            budget = 0
    if budget is not None:
        leftovers.put(out, snake, "thinking_budget", budget)
    effort = thinking_config.effort
    if effort is not None and (entry is not None or thinking_config.budget_tokens is None):
        raw = entry.get("level") if entry else None
        if raw is not None and raw.lower() == effort:
            leftovers.put(out, snake, "thinking_level", raw)
        elif effort in _LEVELS:
            leftovers.put(out, snake, "thinking_level", effort.upper())
        elif effort == "max":
            leftovers.put(out, snake, "thinking_level", "XHIGH")
    return out


def _generation_to_ir(config: Any, request: ir.Request, body_entry: dict[str, Any]) -> None:
    consumed: set[str] = set()
    entry: dict[str, Any] = {}
    fields = config.__dict__
    if fields["max_output_tokens"] is not None:
        request.max_tokens = fields["max_output_tokens"]
        consumed.add("max_output_tokens")
    for name, slot in (
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("seed", "seed"),
        ("presence_penalty", "presence_penalty"),
        ("frequency_penalty", "frequency_penalty"),
    ):
        if fields[name] is not None:
            setattr(request, slot, fields[name])
            consumed.add(name)
    top_k = fields["top_k"]
    if top_k is not None:
        consumed.add("top_k")
        if isinstance(top_k, float) and top_k.is_integer():
            top_k = int(top_k)
            entry["top_k_float"] = True
        request.top_k = top_k
    if fields["stop_sequences"] is not None:
        request.stop = list(fields["stop_sequences"])
        consumed.add("stop_sequences")
    if fields["thinking_config"] is not None:
        request.thinking = _thinking_to_ir(fields["thinking_config"])
        consumed.add("thinking_config")
    mime, json_schema, openapi_schema = (
        fields["response_mime_type"],
        fields["response_json_schema"],
        fields["response_schema"],
    )
    if mime == "application/json":
        consumed.add("response_mime_type")
        if json_schema is not None:
            request.response_format = {"type": "json_schema", "schema": json_schema}
            consumed.add("response_json_schema")
        elif openapi_schema is not None:
            request.response_format = {
                "type": "json_schema",
                "schema": openapi_to_json_schema(openapi_schema),
            }
            entry["openapi"] = openapi_schema
            consumed.add("response_schema")
        else:
            request.response_format = {"type": "json_object"}
    elif mime == "text/plain" and json_schema is None and openapi_schema is None:
        consumed.add("response_mime_type")
        request.response_format = {"type": "text"}
    body_entry["gen"] = _keep(config, consumed, entry)


def _generation_from_ir(request: ir.Request, entry: dict[str, Any] | None) -> dict[str, Any] | None:
    out, snake = leftovers.rest_and_spelling(entry)
    top_k = request.top_k
    if top_k is not None and entry and entry.get("top_k_float") and isinstance(top_k, int):
        top_k = float(top_k)
    sampling = {
        "max_output_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": top_k,
        "stop_sequences": None if request.stop is None else list(request.stop),
        "seed": request.seed,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
    }
    for name, value in sampling.items():
        if value is not None:
            leftovers.put(out, snake, name, value)
    response_format = request.response_format
    if response_format is not None:
        kind = response_format.get("type")
        if kind == "json_schema":
            inner = response_format.get("json_schema")  # OpenAI's nested shape, accepted too
            schema = inner.get("schema") if isinstance(inner, dict) else response_format.get("schema")
            leftovers.put(out, snake, "response_mime_type", "application/json")
            if schema is not None:
                original = entry.get("openapi") if entry else None
                if original is not None and openapi_to_json_schema(original) == schema:
                    leftovers.put(out, snake, "response_schema", original)
                else:
                    leftovers.put(out, snake, "response_json_schema", schema)
        elif kind == "json_object":
            leftovers.put(out, snake, "response_mime_type", "application/json")
        elif kind == "text":
            leftovers.put(out, snake, "response_mime_type", "text/plain")
    if request.thinking is not None:
        thinking = _thinking_from_ir(request.thinking)
        if thinking or leftovers.entry(request.thinking.vendor, NAME) is not None:
            leftovers.put(out, snake, "thinking_config", thinking)
    if out or entry is not None:
        return out
    return None


#: The fields a function declaration's IR tool consumes (the name, a non-null description, and the
#: parameters in the form that was read).
_DECLARATION = frozenset({"name", "description"})
_DECLARATION_JSON_SCHEMA = _DECLARATION | {"parameters_json_schema"}
_DECLARATION_OPENAPI = _DECLARATION | {"parameters"}


def _tool_to_ir(declaration: FunctionDeclaration) -> ir.Tool:
    entry: dict[str, Any] = {}
    params = declaration.parameters_json_schema
    if isinstance(params, dict):
        names = _DECLARATION_JSON_SCHEMA
    else:
        names = _DECLARATION
        params = None
        if declaration.parameters is not None:
            params = openapi_to_json_schema(declaration.parameters)
            entry["openapi"] = declaration.parameters
            names = _DECLARATION_OPENAPI
    return ir.Tool(
        name=declaration.name,
        description=declaration.description,
        parameters=params,
        vendor=leftovers.vendor(NAME, _keep_given(declaration, names, entry)),
    )


def _tool_from_ir(tool: ir.Tool) -> dict[str, Any]:
    entry = leftovers.entry(tool.vendor, NAME)
    out, snake = leftovers.rest_and_spelling(entry)
    leftovers.put(out, snake, "name", tool.name)
    if tool.description is not None:
        leftovers.put(out, snake, "description", tool.description)
    if tool.parameters is not None:
        original = entry.get("openapi") if entry else None
        if original is not None and openapi_to_json_schema(original) == tool.parameters:
            leftovers.put(out, snake, "parameters", original)
        else:
            leftovers.put(out, snake, "parameters_json_schema", tool.parameters)
    return out


def _tools_from_ir(request: ir.Request, layout: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    decls = [_tool_from_ir(tool) for tool in request.tools or ()]
    if layout is not None and sum(e.get("n") or 0 for e in layout) == len(decls):
        out, at = [], 0
        for e in layout:
            obj, snake = leftovers.rest_and_spelling(e)
            n = e.get("n")
            if n is not None:
                leftovers.put(obj, snake, "function_declarations", decls[at : at + n])
                at += n
            out.append(obj)
        return out
    out = [{"functionDeclarations": decls}] if decls else []
    for e in layout or ():
        if leftovers.rest(e):  # a built-in tool (googleSearch...) with nothing in the IR: keep it as it was
            out.append(dict(leftovers.rest(e)))
    return out if out or layout is not None else None


_NOTHING: frozenset[str] = frozenset()
_CALLING_CONFIG = frozenset({"function_calling_config"})
_MODE = frozenset({"mode"})
_MODE_AND_NAMES = frozenset({"mode", "allowed_function_names"})


def _tool_config_to_ir(tool_config: Any, request: ir.Request, body_entry: dict[str, Any]) -> None:
    calling_config = tool_config.function_calling_config
    consumed = _NOTHING
    if calling_config is not None and isinstance(calling_config.mode, str):
        consumed = _CALLING_CONFIG
        mode, allowed = calling_config.mode, calling_config.allowed_function_names
        taken = _MODE
        entry: dict[str, Any] = {}
        if mode == "ANY" and allowed is not None and len(allowed) == 1:
            choice = ir.ToolChoice(mode="tool", name=allowed[0])
            taken = _MODE_AND_NAMES
        else:
            choice = ir.ToolChoice(mode=_MODE_IN.get(mode, "auto"))
            if _MODE_OUT[choice.mode] != mode:
                entry["mode"] = mode
        choice.vendor = {NAME: _keep(calling_config, taken, entry)}
        request.tool_choice = choice
    body_entry["tool_config"] = _keep(tool_config, consumed)


def _tool_config_from_ir(request: ir.Request, entry: dict[str, Any] | None) -> dict[str, Any] | None:
    choice = request.tool_choice
    if choice is None and entry is None:
        return None
    out, snake = leftovers.rest_and_spelling(entry)
    if choice is not None:
        candidate_entry = leftovers.entry(choice.vendor, NAME)
        calling_config, fsnake = leftovers.rest_and_spelling(candidate_entry)
        raw = candidate_entry.get("mode") if candidate_entry else None
        mode = raw if raw is not None and _MODE_IN.get(raw, "auto") == choice.mode else _MODE_OUT[choice.mode]
        leftovers.put(calling_config, fsnake, "mode", mode)
        if choice.mode == "tool" and choice.name is not None:
            leftovers.put(calling_config, fsnake, "allowed_function_names", [choice.name])
        leftovers.put(out, snake, "function_calling_config", calling_config)
    return out


#: The fields a request and a Tool consume when they are not null.
_REQUEST_FIELDS = frozenset({"contents", "system_instruction", "tools", "tool_config", "generation_config"})
_TOOL_FIELDS = frozenset({"function_declarations"})


def request_to_ir(req: GenerateContentRequest, model: str) -> ir.Request:
    """A generateContent body → IR (``model`` from the URL path: ``models/{model}:generateContent``)."""
    calls = _Calls(seen=lambda: _ids_in(req.contents) if _lacks_ids(req.contents) else set())
    request = ir.Request(model=model, messages=_messages_to_ir(req.contents, calls))
    body_entry: dict[str, Any] = {}
    system_instruction = req.system_instruction
    if system_instruction is not None:
        request.system = (
            [_part_to_ir(part, calls) for part in system_instruction.parts]
            if system_instruction.parts
            else []
        )
        sentry = _content_entry(system_instruction)
        if system_instruction.role is not None:
            sentry["role"] = system_instruction.role  # kept whatever it is: the IR system prompt has no role
        body_entry["system"] = sentry
    if req.tools is not None:
        tools: list[ir.Tool] = []
        layout = []
        single = not isinstance(req.tools, list)  # Gemini also accepts one Tool object (seen in real traffic)
        if single:
            body_entry["tools_single"] = True
        for tool in [req.tools] if single else req.tools:
            decls = tool.function_declarations
            entry = _keep_given(tool, _TOOL_FIELDS)
            entry["n"] = len(decls) if decls is not None else None
            layout.append(entry)
            tools.extend(_tool_to_ir(declaration) for declaration in decls or ())
        request.tools = tools or None
        body_entry["tools"] = layout
    if req.tool_config is not None:
        _tool_config_to_ir(req.tool_config, request, body_entry)
    if req.generation_config is not None:
        _generation_to_ir(req.generation_config, request, body_entry)
    _keep_given(req, _REQUEST_FIELDS, body_entry)
    request.vendor = leftovers.vendor(NAME, body_entry)
    return request


def request_from_ir(request: ir.Request) -> GenerateContentRequest:
    """IR → a generateContent body (the model goes in the URL path, ``r.model``)."""
    return GenerateContentRequest.model_validate(request_json_from_ir(request))


def request_json_from_ir(request: ir.Request) -> dict[str, Any]:
    """:func:`request_from_ir` as wire JSON, built without validating it again (the converters' output is
    proven valid by the tests): what a gateway that forwards bytes needs."""
    body_entry = leftovers.entry(request.vendor, NAME)
    out, snake = leftovers.rest_and_spelling(body_entry)
    names: dict[str, str] = {}
    contents: list[dict[str, Any]] = []
    folded: list[dict[str, Any]] = []
    tool_turn: dict[str, Any] | None = None
    for message in request.messages:
        role = message.role
        if role == "system" or role == "developer":
            folded.extend(_parts_from_ir(message.content, names))
            continue
        parts = _parts_from_ir(message.content, names)
        entry = leftovers.entry(message.vendor, NAME)
        if role == "tool":
            if tool_turn is not None and contents and contents[-1] is tool_turn:
                tool_turn["parts"].extend(parts)
            else:
                tool_turn = _content_from_entry(entry, "user", parts)
                contents.append(tool_turn)
            continue
        if not parts and entry is None:
            continue  # an empty turn from another dialect: Gemini rejects empty parts
        contents.append(_content_from_entry(entry, role, parts))
    leftovers.put(out, snake, "contents", contents)
    if request.system is not None or folded:
        sentry = body_entry.get("system") if body_entry else None
        parts = _parts_from_ir(request.system or [], names) + folded
        system, ssnake = leftovers.rest_and_spelling(sentry)
        if parts or not leftovers.is_absent(sentry, "parts"):
            leftovers.put(system, ssnake, "parts", parts)
        if sentry is not None and "role" in sentry:
            leftovers.put(system, ssnake, "role", sentry["role"])
        leftovers.put(out, snake, "system_instruction", system)
    tools = _tools_from_ir(request, body_entry.get("tools") if body_entry else None)
    if tools is not None and len(tools) == 1 and body_entry and body_entry.get("tools_single"):
        tools = tools[0]
    if tools is not None:
        leftovers.put(out, snake, "tools", tools)
    tool_config = _tool_config_from_ir(request, body_entry.get("tool_config") if body_entry else None)
    if tool_config is not None:
        leftovers.put(out, snake, "tool_config", tool_config)
    generation = _generation_from_ir(request, body_entry.get("gen") if body_entry else None)
    if generation is not None:
        leftovers.put(out, snake, "generation_config", generation)
    return out


# --- response --------------------------------------------------------------------------------------


_USAGE_FIELDS = frozenset(
    {"prompt_token_count", "cached_content_token_count", "candidates_token_count", "thoughts_token_count"}
)
_CANDIDATE_FIELDS = frozenset({"content", "finish_reason"})


def _usage_to_ir(usage: UsageMetadata) -> ir.Usage:
    prompt, cached = usage.prompt_token_count, usage.cached_content_token_count
    return ir.Usage(
        input_tokens=prompt - (cached or 0) if prompt is not None else None,
        output_tokens=usage.candidates_token_count,
        cache_read_tokens=cached,
        reasoning_tokens=usage.thoughts_token_count,
        # always marked: Gemini's own usage never gets a computed total
        vendor={NAME: _keep_given(usage, _USAGE_FIELDS)},
    )


def _usage_from_ir(u: ir.Usage) -> dict[str, Any]:
    entry = leftovers.entry(u.vendor, NAME)
    if entry is None:
        return _usage_translated(u)
    out, snake = leftovers.rest_and_spelling(entry)
    total = 0
    known = False
    if (
        u.input_tokens is not None
        or u.cache_write_tokens is not None
        or (u.cache_read_tokens is not None and entry is None)
    ):
        prompt = u.prompt_total
        leftovers.put(out, snake, "prompt_token_count", prompt)
        total += prompt
        known = True
    if u.cache_read_tokens is not None:
        leftovers.put(out, snake, "cached_content_token_count", u.cache_read_tokens)
    if u.output_tokens is not None:
        leftovers.put(out, snake, "candidates_token_count", u.output_tokens)
        total += u.output_tokens
        known = True
    if u.reasoning_tokens is not None:
        leftovers.put(out, snake, "thoughts_token_count", u.reasoning_tokens)
        total += u.reasoning_tokens
        known = True
    if known and entry is None:  # Gemini's own total (kept in rest) is never recomputed
        out["totalTokenCount"] = total
    return out


def _usage_translated(u: ir.Usage) -> dict[str, Any]:
    """:func:`_usage_from_ir` of a usage from another dialect (no Gemini entry: no kept field, no
    snake_case spelling, a computed total): the same object, written directly."""
    out: dict[str, Any] = {}
    total = 0
    known = False
    if u.input_tokens is not None or u.cache_write_tokens is not None or u.cache_read_tokens is not None:
        out["promptTokenCount"] = total = u.prompt_total
        known = True
    if u.cache_read_tokens is not None:
        out["cachedContentTokenCount"] = u.cache_read_tokens
    if u.output_tokens is not None:
        out["candidatesTokenCount"] = u.output_tokens
        total += u.output_tokens
        known = True
    if u.reasoning_tokens is not None:
        out["thoughtsTokenCount"] = u.reasoning_tokens
        total += u.reasoning_tokens
        known = True
    if known:
        out["totalTokenCount"] = total
    return out


def _stop(raw: str | None, tool_seen: bool) -> ir.Stop | None:
    stop = stop_from(NAME, raw)
    if stop is not None and raw == "STOP" and tool_seen:
        stop.reason = "tool_use"
    return stop


def _created(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except (ValueError, OverflowError, OSError):
        return None


def _new_response_id() -> str:
    return "gemini-" + uuid.uuid4().hex[:24]


#: The fields of a reply that its IR response consumes when they are not null.
_RESPONSE_FIELDS = frozenset({"candidates", "usage_metadata", "model_version", "response_id"})


def response_to_ir(resp: GenerateContentResponse) -> ir.Response:
    """A generateContent reply → IR. Only the first candidate is content; the others stay in vendor."""
    body_entry: dict[str, Any] = {}
    content: list[ir.Part] = []
    stop = None
    all_candidates = resp.candidates
    if all_candidates is None:
        leftovers.mark_absent(body_entry, "candidates")
    else:
        if all_candidates:
            first = all_candidates[0]
            parts = first.content.parts if first.content is not None else None
            calls = _Calls.for_response(resp.response_id, lambda content=first.content: _ids_in([content]))
            content = _merge_parts(parts, calls) if parts else []
            candidate_entry = _keep_given(first, _CANDIDATE_FIELDS)
            if first.content is not None:
                candidate_entry["content"] = _content_entry(first.content)
                if first.content.role == "user":  # unusual for a candidate: keep it
                    candidate_entry["content"]["role"] = "user"
            else:
                leftovers.mark_absent(candidate_entry, "content")
            body_entry["candidate"] = candidate_entry
            tool_seen = False
            for part in content:  # a loop, not any(generator): a reply has few parts
                if isinstance(part, ir.ToolCall):
                    tool_seen = True
                    break
            stop = _stop(first.finish_reason, tool_seen)
            if len(all_candidates) > 1:
                body_entry["more"] = [c.to_json() for c in all_candidates[1:]]
    feedback = resp.prompt_feedback
    if stop is None and not all_candidates and feedback is not None and feedback.block_reason is not None:
        stop = ir.Stop(reason="content_filter", raw=feedback.block_reason, dialect=NAME)
        body_entry["blocked"] = True
    usage = None
    if resp.usage_metadata is not None:
        usage = _usage_to_ir(resp.usage_metadata)
    model = resp.model_version
    if model is None:
        leftovers.mark_absent(body_entry, "model")
    response_id = resp.response_id
    if response_id is None:
        response_id = _new_response_id()
        leftovers.mark_absent(body_entry, "id")
    _keep_given(resp, _RESPONSE_FIELDS, body_entry)
    return ir.Response(
        id=response_id,
        model=model or "",
        content=content,
        stop=stop,
        usage=usage,
        created=_created(resp.create_time),
        vendor=leftovers.vendor(NAME, body_entry),
    )


def _candidate_from_ir(
    parts: list[dict[str, Any]], stop: ir.Stop | None, entry: dict[str, Any] | None, blocked: bool
) -> dict[str, Any]:
    cand, snake = leftovers.rest_and_spelling(entry) if entry is not None else ({"index": 0}, ())
    candidate_entry = entry.get("content") if entry else None
    if parts or not leftovers.is_absent(entry, "content"):
        leftovers.put(cand, snake, "content", _content_from_entry(candidate_entry, None, parts))
    finish = None if blocked else stop_to(NAME, stop)
    if finish is not None:
        leftovers.put(cand, snake, "finish_reason", finish)
    return cand


def response_from_ir(response: ir.Response) -> GenerateContentResponse:
    """IR → a generateContent reply with one candidate (plus any the same dialect kept in vendor)."""
    return GenerateContentResponse.model_validate(response_json_from_ir(response))


def response_json_from_ir(response: ir.Response) -> dict[str, Any]:
    """:func:`response_from_ir` as wire JSON, built without validating it again."""
    body_entry = leftovers.entry(response.vendor, NAME)
    if body_entry is None:
        return _response_translated(response)
    out, snake = leftovers.rest_and_spelling(body_entry)
    parts = _parts_from_ir(response.content, {})
    blocked = (
        bool(body_entry and body_entry.get("blocked"))
        and response.stop is not None
        and response.stop.reason == "content_filter"
    )
    candidate_entry = body_entry.get("candidate") if body_entry else None
    if (
        candidate_entry is not None
        or parts
        or (response.stop is not None and not blocked)
        or not leftovers.is_absent(body_entry, "candidates")
    ):
        all_candidates = []
        if candidate_entry is not None or parts or (response.stop is not None and not blocked):
            all_candidates.append(_candidate_from_ir(parts, response.stop, candidate_entry, blocked))
        if body_entry and "more" in body_entry:
            all_candidates.extend(body_entry["more"])
        leftovers.put(out, snake, "candidates", all_candidates)
    if response.usage is not None:
        leftovers.put(out, snake, "usage_metadata", _usage_from_ir(response.usage))
    if not (response.model == "" and leftovers.is_absent(body_entry, "model")):
        leftovers.put(out, snake, "model_version", response.model)
    if not leftovers.is_absent(body_entry, "id"):
        leftovers.put(out, snake, "response_id", response.id)
    return out


def _response_translated(response: ir.Response) -> dict[str, Any]:
    """:func:`response_json_from_ir` of a reply from another dialect (no Gemini entry: nothing kept to put
    back, every name camelCase, one candidate when it has content or a stop): the same object, written
    directly (this runs for every translated reply)."""
    parts = _parts_from_ir(response.content, {})
    candidates = []
    if parts or response.stop is not None:
        candidate: dict[str, Any] = {"index": 0, "content": {"parts": parts, "role": "model"}}
        finish = stop_to(NAME, response.stop)
        if finish is not None:
            candidate["finishReason"] = finish
        candidates.append(candidate)
    out: dict[str, Any] = {"candidates": candidates}
    if response.usage is not None:
        out["usageMetadata"] = _usage_from_ir(response.usage)
    out["modelVersion"] = response.model
    out["responseId"] = response.id
    return out


# --- stream: Gemini items -> IR events ---------------------------------------------------------------


class StreamToIR:
    """``:streamGenerateContent?alt=sse`` items → IR events.

    Each item holds only the new parts of candidate 0. The first item gives MessageStart; text parts
    extend one Text block, thought parts one Reasoning block (a thought signature seals it), each
    functionCall part is a complete call (BlockStart with empty arguments, one BlockDelta with the whole
    JSON, BlockStop; ids unique over the stream); other parts become an ``Other`` block. usageMetadata
    is cumulative: UsageUpdate carries the latest whenever it changes, and again with the finish.
    finishReason → Finish (``tool_use`` if the stream made a call); Gemini has no end marker, so
    ``close()`` gives End only after a finishReason. An ``{"error": ...}`` item → StreamError.
    Per-chunk candidate metadata (grounding, safety ratings, citations, logprobs) is not carried.
    """

    def __init__(self) -> None:
        self._started = False
        self._next = 0
        self._open: int | None = None  # index of the open text/reasoning block
        self._open_kind: type | None = None
        self._sealed = False  # the open reasoning block got its signature
        self._calls = _Calls()
        self._tool_seen = False
        self._finished = False
        self._ended = False  # End given, or the stream failed: close() owes nothing more
        self._usage: UsageMetadata | None = None
        self._usage_sent: UsageMetadata | None = None

    def feed(
        self, item: GenerateContentResponse | ErrorBody | dict[str, Any] | bytes | str
    ) -> list[ir.StreamEvent]:
        if not isinstance(item, GenerateContentResponse | ErrorBody):
            item = parse_stream_item(item)
        if isinstance(item, ErrorBody) or (item.candidates is None and "error" in item.extra):
            return [self._error(item)]
        out: list[ir.StreamEvent] = []
        if not self._started:
            self._started = True
            entry: dict[str, Any] = {}
            response_id = item.response_id
            if response_id is None:
                response_id = _new_response_id()
                leftovers.mark_absent(entry, "id")
            self._calls = _Calls.for_response(response_id)
            if item.model_version is None:
                leftovers.mark_absent(entry, "model")
            if item.create_time is not None:
                entry["create_time"] = item.create_time
            um = item.usage_metadata
            out.append(
                ir.MessageStart(
                    id=response_id,
                    model=item.model_version or "",
                    usage=_usage_to_ir(um) if um is not None else None,
                    created=_created(item.create_time),
                    vendor=leftovers.vendor(NAME, entry),
                )
            )
            self._usage = self._usage_sent = um
        finish = None
        all_candidates = item.candidates
        cand: Candidate | None = None
        for c in all_candidates or ():
            if not c.index:  # candidate 0 (proto3 omits index 0); other candidates are not streamed on
                cand = c
                break
        if cand is not None:
            content = cand.content
            if content is not None and content.parts:
                for part in content.parts:
                    self._part(part, out)
            finish = cand.finish_reason
        um = item.usage_metadata
        if um is not None:
            self._usage = um
            if um != self._usage_sent and finish is None:
                self._usage_sent = um
                out.append(ir.UsageUpdate(usage=_usage_to_ir(um)))
        feedback = item.prompt_feedback
        vendor: ir.Vendor = {}
        if (
            finish is None
            and not all_candidates
            and feedback is not None
            and feedback.block_reason is not None
        ):
            stop: ir.Stop | None = ir.Stop(reason="content_filter", raw=feedback.block_reason, dialect=NAME)
            vendor = {NAME: {"prompt_feedback": feedback.to_json()}}  # a blocked prompt: no candidate at all
        else:
            stop = _stop(finish, self._tool_seen)
        if stop is not None and not self._finished:
            self._close_open(out)
            if self._usage is not None:
                self._usage_sent = self._usage
                out.append(ir.UsageUpdate(usage=_usage_to_ir(self._usage)))
            out.append(ir.Finish(stop=stop, vendor=vendor))
            self._finished = True
        return out

    def close(self) -> list[ir.StreamEvent]:
        if self._finished and not self._ended:
            self._ended = True
            return [ir.End()]
        return []

    # -- internals

    def _error(self, item: Any) -> ir.StreamError:
        self._ended = True
        body = item.to_json()
        err = body.get("error")
        err = err if isinstance(err, dict) else {}
        code = err.get("code")
        return ir.StreamError(
            status=code if isinstance(code, int) else None,
            error_type=err.get("status") if isinstance(err.get("status"), str) else None,
            message=err.get("message") if isinstance(err.get("message"), str) else "Gemini stream error",
            body=body,
        )

    def _close_open(self, out: list[ir.StreamEvent]) -> None:
        if self._open is not None:
            out.append(ir.BlockStop(index=self._open))
            self._open = None
            self._open_kind = None

    def _open_block(self, part: ir.Part, out: list[ir.StreamEvent]) -> int:
        self._close_open(out)
        index = self._next
        self._next += 1
        out.append(ir.BlockStart(index=index, part=part))
        return index

    def _part(self, part: Part, out: list[ir.StreamEvent]) -> None:
        fields_set = part.__pydantic_fields_set__
        text = part.text
        plain = text is not None and "_snake_keys" not in part.__dict__
        if plain and part.thought is None and fields_set == _PLAIN_TEXT:
            if not text:  # Gemini's trailing {"text": ""}: no block, but it ends a thought group
                if self._open_kind is not ir.Text:
                    self._close_open(out)
                return
            if self._open is None or self._open_kind is not ir.Text:
                self._open = self._open_block(ir.Text(text=""), out)
                self._open_kind = ir.Text
            out.append(ir.BlockDelta(index=self._open, text=text))
            return
        if plain and part.thought is True and fields_set <= _PLAIN_THOUGHT:
            if self._open is None or self._open_kind is not ir.Reasoning or self._sealed:
                self._open = self._open_block(ir.Reasoning(text=""), out)
                self._open_kind = ir.Reasoning
                self._sealed = False
            if text:
                out.append(ir.BlockDelta(index=self._open, reasoning=text))
            if part.thought_signature is not None:
                out.append(ir.BlockDelta(index=self._open, signature=part.thought_signature))
                self._sealed = True
            return
        converted = _part_to_ir(part, self._calls)
        if isinstance(converted, ir.Text):
            index = self._open_block(ir.Text(text="", vendor=converted.vendor), out)
            self._open, self._open_kind = index, ir.Text
            if converted.text:
                out.append(ir.BlockDelta(index=index, text=converted.text))
        elif isinstance(converted, ir.Reasoning):
            index = self._open_block(ir.Reasoning(text="", vendor=converted.vendor), out)
            self._open, self._open_kind, self._sealed = index, ir.Reasoning, False
            if converted.text:
                out.append(ir.BlockDelta(index=index, reasoning=converted.text))
            if converted.signature is not None:
                out.append(ir.BlockDelta(index=index, signature=converted.signature))
                self._sealed = True
            if leftovers.is_absent(leftovers.entry(converted.vendor, NAME), "text"):
                self._close_open(out)  # a bare signature: nothing may extend it
        elif isinstance(converted, ir.ToolCall):
            self._tool_seen = True
            start = ir.ToolCall(
                id=converted.id,
                name=converted.name,
                arguments="",
                signature=converted.signature,
                vendor=converted.vendor,
            )
            index = self._open_block(start, out)
            out.append(ir.BlockDelta(index=index, arguments=converted.arguments))
            out.append(ir.BlockStop(index=index))
        else:
            index = self._open_block(ir.Other(dialect=NAME, data=part.to_json()), out)
            out.append(ir.BlockStop(index=index))


# --- stream: IR events -> Gemini items ---------------------------------------------------------------


class StreamFromIR:
    """IR events → ``GenerateContentResponse`` items that any Gemini client accepts.

    Grammar written: every item is a complete response with one candidate (index 0, role "model")
    holding only new parts, and ``modelVersion``/``responseId`` from MessageStart; text deltas are text
    parts (one item each); reasoning deltas are ``thought: true`` parts, held back by one fragment so a
    signature delta lands on the thought part it closes (a signature with no text gets its own part);
    a tool block is ONE functionCall part with the complete parsed ``args``, emitted at BlockStop
    (fragments are buffered; invalid JSON raises ``ProviderError(kind="decode")`` rather than send
    partial args); every item carries the latest cumulative usage once known, and the last item — sent
    on ``End`` — carries ``finishReason`` (STOP when the IR ended without a Finish) and the final usage.
    No ``[DONE]``. If the IR stream ends without ``End`` (truncated upstream), ``close()`` flushes the
    content and writes no finishReason. ``StreamError`` raises ``ProviderError(kind="upstream")``.
    With ``as_json`` the items are wire JSON dicts, not validated models (for byte-forwarding gateways).
    """

    def __init__(self, *, as_json: bool = False) -> None:
        self._as_json = as_json
        self._id: str | None = None
        self._model: str | None = None
        self._write_id = True
        self._write_model = True
        self._usage: dict[str, Any] | None = None
        self._blocks: dict[int, _Block] = {}
        self._stop: ir.Stop | None = None
        self._done = False
        self._emitted = False  # a content item was sent
        self._feedback: dict[str, Any] | None = None

    def feed(self, event: ir.StreamEvent) -> list[Any]:
        if self._done:
            return []
        out: list[Any] = []
        if isinstance(event, ir.BlockDelta):
            block = self._blocks.get(event.index)
            if block is not None:
                self._delta(block, event, out)
        elif isinstance(event, ir.BlockStart):
            self._blocks[event.index] = _Block(event.part)
        elif isinstance(event, ir.BlockStop):
            block = self._blocks.pop(event.index, None)
            if block is not None:
                self._stop_block(block, out)
        elif isinstance(event, ir.MessageStart):
            entry = leftovers.entry(event.vendor, NAME)
            self._id, self._model = event.id, event.model
            self._write_id = not leftovers.is_absent(entry, "id")
            self._write_model = not (event.model == "" and leftovers.is_absent(entry, "model"))
            if event.usage is not None:
                self._usage = _usage_from_ir(event.usage)
        elif isinstance(event, ir.UsageUpdate):
            self._usage = _usage_from_ir(event.usage)
        elif isinstance(event, ir.Finish):
            self._stop = event.stop
            entry = leftovers.entry(event.vendor, NAME)
            self._feedback = entry.get("prompt_feedback") if entry else None
        elif isinstance(event, ir.End):
            self._flush_all(out)
            if self._feedback is not None and not self._emitted:
                out.append(self._item(None, feedback=self._feedback))  # Gemini's blocked-prompt reply
            else:
                out.append(self._item([{"text": ""}], stop_to(NAME, self._stop) or "STOP"))
            self._done = True
        elif isinstance(event, ir.StreamError):
            self._done = True
            body = event.body
            raise ProviderError(
                "upstream",
                event.message,
                status=event.status,
                error_type=event.error_type,
                body=_dumps(body).encode() if body is not None else None,
            )
        return out

    def close(self) -> list[Any]:
        if self._done:
            return []
        self._done = True
        out: list[Any] = []
        self._flush_all(out)
        return out

    # -- internals

    def _item(
        self,
        parts: list[dict[str, Any]] | None,
        finish: str | None = None,
        feedback: dict[str, Any] | None = None,
    ) -> Any:
        obj: dict[str, Any]
        if parts is None:
            obj = {"promptFeedback": feedback}
        else:
            cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
            if finish is not None:
                cand["finishReason"] = finish
            cand["index"] = 0
            obj = {"candidates": [cand]}
            self._emitted = True
        if self._usage is not None:
            obj["usageMetadata"] = self._usage
        if self._write_model:
            obj["modelVersion"] = self._model if self._model is not None else ""
        if self._write_id:
            if self._id is None:
                self._id = _new_response_id()
            obj["responseId"] = self._id
        return obj if self._as_json else GenerateContentResponse.model_validate(obj)

    def _delta(self, block: _Block, event: ir.BlockDelta, out: list[Any]) -> None:
        part = block.part
        if isinstance(part, ir.Text):
            if event.text is not None and (event.text or block.pending):
                out.append(self._item([block.text_part(event.text)]))
        elif isinstance(part, ir.ToolCall):
            if event.arguments is not None:
                block.args.append(event.arguments)
            elif event.signature is not None:
                block.held = {
                    "signature": event.signature
                }  # a signature delta on a call: its thoughtSignature
        elif isinstance(part, ir.Reasoning):
            if event.reasoning is not None and event.reasoning:
                held = block.held
                if held is not None:
                    out.append(self._item([held]))
                block.held = block.thought_part(event.reasoning)
            elif event.signature is not None:
                held = block.held if block.held is not None else block.thought_part("")
                leftovers.put(held, block.snake, "thought_signature", event.signature)
                out.append(self._item([held]))
                block.held = None

    def _stop_block(self, block: _Block, out: list[Any]) -> None:
        part = block.part
        if isinstance(part, ir.ToolCall):
            tool_call = part
            arguments = "".join(block.args) if block.args else tool_call.arguments
            try:
                args = json.loads(arguments) if arguments.strip() else {}
            except ValueError:
                raise ProviderError.decode(
                    f"streamed tool call {tool_call.id!r} ({tool_call.name}) ended with arguments that are not valid JSON",
                    raw=arguments.encode()[:2048],
                ) from None
            if not isinstance(args, dict):
                raise ProviderError.decode(
                    f"streamed tool call {tool_call.id!r} ({tool_call.name}) arguments are not a JSON object",
                    raw=arguments.encode()[:2048],
                )
            signature = block.held["signature"] if block.held else tool_call.signature
            call = ir.ToolCall(
                id=tool_call.id,
                name=tool_call.name,
                arguments=_dumps(args),
                signature=signature,
                vendor=tool_call.vendor,
            )
            out.append(self._item([_call_part(call)]))
        elif isinstance(part, ir.Text):
            if block.pending:
                out.append(self._item([block.text_part("")]))
        elif isinstance(part, ir.Reasoning):
            if block.held is not None:
                out.append(self._item([block.held]))
                block.held = None
            elif block.pending:
                out.append(self._item([block.thought_part("")]))
        elif isinstance(part, ir.Other) and part.dialect == NAME:
            out.append(self._item([part.data]))

    def _flush_all(self, out: list[Any]) -> None:
        for index in sorted(self._blocks):
            block = self._blocks.pop(index)
            if isinstance(block.part, ir.ToolCall):
                continue  # an unfinished call: its arguments may be partial, never send them
            self._stop_block(block, out)


class _Block:
    """One open IR block of a StreamFromIR: its start part, vendor leftovers not yet written, the
    buffered tool arguments, and ``held``: the thought part held back for a signature (for a tool
    block, a signature delta to put on the call)."""

    __slots__ = ("args", "held", "part", "pending", "snake")

    def __init__(self, part: ir.Part) -> None:
        self.part = part
        self.args: list[str] = []
        self.held: dict[str, Any] | None = None
        entry = leftovers.entry(part.vendor, NAME) if isinstance(part, ir.Text | ir.Reasoning) else None
        self.snake = entry.get(leftovers.SNAKE, ()) if entry else ()
        self.pending: dict[str, Any] | None = entry  # the first part written carries it
        if isinstance(part, ir.Reasoning) and part.signature is not None:
            self.pending = dict(entry or {})
            self.pending["_signature"] = part.signature

    def text_part(self, text: str) -> dict[str, Any]:
        entry, self.pending = self.pending, None
        part, snake = leftovers.rest_and_spelling(entry)
        leftovers.put(part, snake, "text", text)
        return part

    def thought_part(self, text: str) -> dict[str, Any]:
        entry, self.pending = self.pending, None
        part, snake = leftovers.rest_and_spelling(entry)
        if not (text == "" and leftovers.is_absent(entry, "text")):
            leftovers.put(part, snake, "text", text)
        if not leftovers.is_absent(entry, "thought"):
            leftovers.put(part, snake, "thought", True)
        if entry and "_signature" in entry:
            leftovers.put(part, snake, "thought_signature", entry["_signature"])
        return part


# --- the lossiness ledger and the Dialect object ------------------------------------------------------

#: What does not survive a translation from or into Gemini, and why (its rows of lossy.toml).
LOSSY: list[Lossy] = list(LEDGER[NAME])


def _read_request(body: Body, model: str | None) -> ir.Request:
    """``request_to_ir`` of any ``Body``. The model is in the URL path, not the body: ``model`` is needed
    (``ValueError`` without it)."""
    if model is None:
        raise ValueError("a Gemini request needs the model from its URL (models/{model}:generateContent)")
    return request_to_ir(parse_body(body, GenerateContentRequest), model)


def _read_response(body: Body) -> ir.Response:
    return response_to_ir(parse_body(body, GenerateContentResponse))


def _write_stream(options: StreamOptions) -> StreamFromIR:
    """A Gemini stream has no option: all but ``as_json`` are accepted and ignored."""
    return StreamFromIR(as_json=options.as_json)


#: Gemini generateContent as a :class:`providers.convert.dialect.Dialect`; ``request_from_ir`` writes the
#: body only (the model goes in the URL path).
DIALECT: Final = Converters(
    NAME,
    _read_request,
    request_json_from_ir,
    _read_response,
    response_json_from_ir,
    StreamToIR,
    _write_stream,
)
