"""The common case of HTTP/1.1, read and written by hand for speed; everything else is left to h11.

``mocks.server`` reads each request head with ``parse_head`` first. A head it accepts is the plain case
(an HTTP/1.1 request line; one ``Host``; at most one ``Content-Length`` of digits and within the body
limit; no ``Transfer-Encoding``, ``Connection``, ``Expect`` or ``Upgrade``; not ``HEAD`` or ``CONNECT``;
every line ends with CRLF and matches the RFC 9110/9112 grammar h11 applies), and for it this module gives
exactly what h11 would (the same method, target, lower-cased header names and values, the same body
length). For any other bytes ``parse_head`` answers ``None`` and the server hands the connection, with
every byte of the current request, to h11, which accepts or rejects it as it always has (``400``,
``431``, ``501``, chunked bodies, ``100-continue``, keep-alive rules): strictness is h11's, not ours.

``response_head`` writes the head h11 writes for a response (status line, the headers in order,
``Transfer-Encoding: chunked`` last when no length is given) or ``None`` when h11 must write it: a status
without a body (1xx, 204, 304) or outside 200..599, a header h11 treats as framing or routing
(``content-length``, ``transfer-encoding``, ``connection``, ``host``) or one h11 would refuse.
``chunk`` frames one piece of a chunked body as h11 does (an empty piece is no chunk at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CHUNKED_END", "NEED_DATA", "Head", "chunk", "parse_head", "response_head"]

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_VALUE = rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/1\.1")
_HEADER_LINE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*(" + _VALUE + rb")[ \t]*")
_RESPONSE_HEADERS = re.compile(rb"(?:" + _TOKEN + rb": " + _VALUE + rb"\r\n)*")
_LEFT_TO_H11 = frozenset({b"transfer-encoding", b"connection", b"expect", b"upgrade"})
_METHODS_LEFT_TO_H11 = frozenset({b"HEAD", b"CONNECT"})
_RESPONSE_LEFT_TO_H11 = frozenset({"content-length", "transfer-encoding", "connection", "host"})

#: ``parse_head``: no whole head yet, read more.
NEED_DATA = object()
#: The end of a chunked body.
CHUNKED_END = b"0\r\n\r\n"


@dataclass(slots=True)
class Head:
    """A request head: ``method`` and ``target`` as sent, ``headers`` with lower-case names (both
    decoded as Latin-1, as the server always did), the body's announced ``length`` (0 when none), and
    the ``raw`` bytes of the head (empty when h11 read it)."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    length: int
    raw: bytes = b""


def parse_head(buffer: bytearray, body_limit: int, head_limit: int) -> Head | object | None:
    """The next request head in ``buffer``, removed from it; ``NEED_DATA`` while it is incomplete (and
    still shorter than ``head_limit``); ``None`` when anything about it is outside the plain case (the
    buffer is then left as it was, for h11)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if not buffer:
            return NEED_DATA
        if buffer[0] < 0x21 or len(buffer) > head_limit or b"\n\n" in buffer or b"\n\r\n" in buffer:
            return None  # h11 sees a broken or finished head here
        return NEED_DATA
    if end > head_limit or buffer[0] < 0x21:
        return None
    raw = bytes(buffer[: end + 4])
    lines = raw[:end].split(b"\r\n")
    line = _REQUEST_LINE.fullmatch(lines[0])
    if line is None or line[1] in _METHODS_LEFT_TO_H11:
        return None
    headers: list[tuple[str, str]] = []
    hosts = 0
    length: bytes | None = None
    for text in lines[1:]:
        field = _HEADER_LINE.fullmatch(text)
        if field is None:
            return None  # a bare CR or LF, an obs-fold, a space before the colon, a control byte ...
        name = field[1].lower()
        value = field[2]
        if name in _LEFT_TO_H11:
            return None
        if name == b"host":
            hosts += 1
        elif name == b"content-length":
            if length is not None or not value.isdigit() or len(value) > 18:
                return None
            length = value
        headers.append((name.decode("ascii"), value.decode("latin-1")))
    if hosts != 1:
        return None
    size = int(length) if length is not None else 0
    if size > body_limit:
        return None  # refused with 413 by the server's h11 path
    del buffer[: end + 4]
    return Head(line[1].decode("ascii"), line[2].decode("latin-1"), headers, size, raw)


def response_head(
    status: int, reason: bytes, headers: list[tuple[str, str]], length: int | None
) -> bytes | None:
    """The head h11 writes for this response to a plain request (``length`` ``None``: chunked), or
    ``None`` when h11 must write it (see the module doc)."""
    if not 200 <= status <= 599 or status in (204, 304):
        return None
    for name, _ in headers:
        if name.lower() in _RESPONSE_LEFT_TO_H11 or ":" in name:
            return None
    try:
        fields = "".join([f"{name}: {value}\r\n" for name, value in headers]).encode("ascii")
    except UnicodeEncodeError:
        return None
    if fields.count(b"\r\n") != len(headers) or _RESPONSE_HEADERS.fullmatch(fields) is None:
        return None  # h11 refuses it (a bad name or value, a line break inside one): let it say so
    framing = b"Transfer-Encoding: chunked\r\n" if length is None else b"content-length: %d\r\n" % length
    return b"HTTP/1.1 %d %s\r\n%s%s\r\n" % (status, reason, fields, framing)


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body (nothing for empty ``data``)."""
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b""
