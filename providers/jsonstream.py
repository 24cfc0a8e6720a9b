"""Gemini's non-SSE ``:streamGenerateContent`` body: one JSON array sent a piece at a time.

Without ``?alt=sse`` the API streams a single JSON array, ``[{…}`` then ``\\n,\\r\\n{…}`` … then ``\\n]``; an error
during the stream arrives as an element ``{"error": {…}}`` (possibly the only one: ``[{"error": {…}}]``).
``JSONArrayDecoder`` yields each top-level element as soon as its last byte has arrived, whatever the split
of the bytes into chunks; ``encode_array_stream`` writes such a body the way the API frames it.

The scanner jumps between the bytes that matter (brackets, braces, quotes, backslashes) with compiled
regular expressions, tracking string state and escapes so that brackets inside strings are not counted;
each complete element is then parsed once with ``json.loads``.

Pure: no I/O imports.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from providers.errors import ProviderError

__all__ = ["ARRAY_CLOSE", "ARRAY_SEPARATOR", "JSONArrayDecoder", "encode_array_stream", "gemini_pretty"]

_WS: Final = b" \t\r\n"
_NOT_WS: Final = re.compile(rb"[^ \t\r\n]")
_STRUCT: Final = re.compile(rb'[\[\]{}"]')  # outside strings: what changes the depth or enters a string
_IN_STRING: Final = re.compile(rb'["\\]')  # inside a string: its end or an escape
_SCALAR_END: Final = re.compile(rb"[ \t\r\n,\]]")  # a number, true, false or null ends at one of these

# States of the top level.
_OPEN: Final = 0  # before "["
_FIRST: Final = 1  # after "[": an element or "]"
_NEXT: Final = 2  # after ",": an element
_AFTER: Final = 3  # after an element: "," or "]"
_DONE: Final = 4  # after "]": whitespace only
_VALUE: Final = 5  # inside an element

_SHOW: Final = 200  # bytes of context kept in error messages


class JSONArrayDecoder:
    """Incremental decoder of one streamed JSON array: ``feed(chunk)`` returns the elements that chunk
    completes, parsed; ``close()`` checks that the array was closed. Malformed input raises
    ``ProviderError(kind="decode")`` with the offending bytes in ``raw`` as soon as it is seen."""

    __slots__ = ("_buf", "_depth", "_in_string", "_pos", "_recent", "_start", "_state", "_total")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0  # next byte of _buf to scan
        self._state = _OPEN
        self._start = 0  # where the current element begins in _buf
        self._depth = 0
        self._in_string = False
        self._total = 0  # bytes dropped from the front of _buf so far (for error offsets)
        self._recent = b""  # the last bytes dropped (context for error messages)

    @property
    def done(self) -> bool:
        """Whether the closing ``]`` has been seen."""
        return self._state == _DONE

    def feed(self, chunk: bytes) -> list[Any]:
        """Take the next bytes of the body; return the elements they complete (possibly none)."""
        buf = self._buf
        buf += chunk
        out: list[Any] = []
        self._scan(out)
        # Drop what is consumed (everything before the element under way), so the buffer stays small.
        keep = self._start if self._state == _VALUE else self._pos
        if keep:
            self._recent = (self._recent + buf[max(0, keep - _SHOW) : keep])[-_SHOW:]
            del buf[:keep]
            self._total += keep
            self._pos -= keep
            self._start = 0
        return out

    def close(self) -> list[Any]:
        """End of the body: raise ``ProviderError(kind="decode")`` unless the array was closed. Returns the
        elements still pending (always none: an element is complete before the ``]`` that follows it)."""
        if self._state != _DONE:
            where = {
                _OPEN: "before its opening '['",
                _FIRST: "after '['",
                _NEXT: "after ','",
                _AFTER: "after an element",
                _VALUE: "inside an element",
            }[self._state]
            tail = bytes(self._buf[self._start if self._state == _VALUE else 0 :])
            raise ProviderError.decode(f"streamed JSON array ended {where}: unterminated", raw=tail[-4096:])
        return []

    # -- scanning -------------------------------------------------------------------------------------

    def _fail(self, message: str, at: int) -> ProviderError:
        """A decode error for the byte at ``at``; ``raw`` holds up to _SHOW bytes either side of it."""
        buf = self._buf
        before = (self._recent + buf[:at])[-_SHOW:]
        return ProviderError.decode(
            f"malformed streamed JSON array: {message} at byte {self._total + at}",
            raw=bytes(before + buf[at : at + _SHOW]),
        )

    def _scan(self, out: list[Any]) -> None:
        buf = self._buf
        n = len(buf)
        pos = self._pos
        state = self._state
        while pos < n:
            if state == _VALUE:
                pos = self._scan_value(pos, out)
                if pos < 0:  # the element is not complete yet
                    self._pos = -pos - 1
                    return
                state = _AFTER
                continue
            m = _NOT_WS.search(buf, pos)
            if m is None:
                pos = n
                break
            pos = m.start()
            c = buf[pos]
            if state == _OPEN:
                if c != 0x5B:  # [
                    raise self._fail("expected '['", pos)
                state = _FIRST
                pos += 1
            elif state == _AFTER:
                if c == 0x2C:  # ,
                    state = _NEXT
                elif c == 0x5D:  # ]
                    state = _DONE
                else:
                    raise self._fail("expected ',' or ']' after an element", pos)
                pos += 1
            elif state == _DONE:
                raise self._fail("data after the closing ']'", pos)
            elif c == 0x5D and state == _FIRST:  # "[]"
                state = _DONE
                pos += 1
            elif c in b",]":
                raise self._fail("expected an element", pos)
            else:  # an element starts here
                self._start = pos
                self._depth = 0
                self._in_string = False
                state = _VALUE
            self._state = state
        self._state = state
        self._pos = pos

    def _scan_value(self, pos: int, out: list[Any]) -> int:
        """Scan the element that starts at ``self._start`` from ``pos``; append it to ``out`` and return
        the position after it, or return ``-(resume position) - 1`` if it is not complete yet."""
        buf = self._buf
        start = self._start
        first = buf[start]
        if first not in b'{["':  # a scalar: it ends at whitespace, ',' or ']'
            m = _SCALAR_END.search(buf, pos)
            if m is None:
                return -len(buf) - 1
            end = m.start()
            self._emit(start, end, out)
            self._state = _AFTER
            return end
        depth = self._depth
        in_string = self._in_string
        if pos == start:  # nothing scanned yet: the first byte opens the container or the string
            if first == 0x22:
                in_string = True
            else:
                depth = 1
            pos += 1
        n = len(buf)
        while True:
            if in_string:
                m = _IN_STRING.search(buf, pos)
                if m is None:
                    pos = n
                    break
                pos = m.start()
                if buf[pos] == 0x5C:  # backslash: skip the escaped byte (\uXXXX needs no more care)
                    if pos + 1 >= n:
                        break  # resume at the backslash once the next byte is here
                    pos += 2
                    continue
                in_string = False
                pos += 1
                if depth == 0:  # a top-level string ends here
                    break
            else:
                m = _STRUCT.search(buf, pos)
                if m is None:
                    pos = n
                    break
                pos = m.start()
                c = buf[pos]
                pos += 1
                if c == 0x22:
                    in_string = True
                elif c == 0x7B or c == 0x5B:
                    depth += 1
                else:
                    depth -= 1
                    if depth == 0:
                        break
        if depth == 0 and not in_string:
            self._emit(start, pos, out)
            self._state = _AFTER
            return pos
        self._depth = depth
        self._in_string = in_string
        return -pos - 1

    def _emit(self, start: int, end: int, out: list[Any]) -> None:
        raw = bytes(self._buf[start:end])
        try:
            out.append(json.loads(raw.decode("utf-8")))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
            raise ProviderError.decode(
                f"malformed element at byte {self._total + start} of a streamed JSON array: {exc}", raw=raw
            ) from None


#: What Google writes between two elements of a streamed array, and before its closing ``]``
#: (docs/wire.md#gemini-streaming): a newline before the comma, CRLF after it.
ARRAY_SEPARATOR: Final = "\n,\r\n"
ARRAY_CLOSE: Final = "\n]"


def encode_array_stream(items: list[dict[str, Any]]) -> list[bytes]:
    """The chunks of a streamed JSON array byte for byte as Gemini frames them (docs/wire.md#gemini-streaming):
    ``[`` + the first item, then ``\\n,\\r\\n`` + each next item, then ``\\n]`` alone, no final newline (an
    empty list gives ``[`` then ``]``). Items are pretty-printed with two-space indents, ``<`` and ``>``
    escaped as Google escapes them (``gemini_pretty``)."""
    chunks = [("[" if i == 0 else ARRAY_SEPARATOR) + gemini_pretty(item) for i, item in enumerate(items)]
    if not chunks:
        return [b"[", b"]"]
    chunks.append(ARRAY_CLOSE)
    return [c.encode("utf-8") for c in chunks]


def gemini_pretty(obj: Any) -> str:
    """JSON as Google pretty-prints a streamed array's elements: two-space indents, ``"key": value``,
    non-ASCII left as UTF-8, ``<`` and ``>`` escaped as ``\\u003c`` and ``\\u003e``."""
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    if "<" in text or ">" in text:  # both can only occur inside strings, so replacing is safe
        text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return text
