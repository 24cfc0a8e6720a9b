"""Turning a reply body into wire pieces: events framed as SSE or as Gemini's streamed JSON array.

A ``Body`` is what a dialect (or a scripted rule) says to send, before timing and faults: either one
``payload`` or a list of ``Event``s plus the ``Framer`` that writes them. Keeping events apart until the last
moment lets faults work on event boundaries ("drop after 3 events", "error event after the first one")
and lets chunking then cut the framed bytes anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from mocks.reply import Frame
from providers.jsonstream import encode_array_stream
from providers.sse import dumps, encode

#: Any SSE line end: CRLF, CR or LF.
LINE_END = re.compile(rb"\r\n|\r|\n")

__all__ = ["LINE_END", "ArrayFramer", "Body", "Event", "Framer", "LineEndFramer", "SSEFramer"]


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class Event:
    """One stream event: JSON ``data`` (a dict, or a string sent as is), or ``raw`` bytes sent verbatim;
    ``name`` is an explicit SSE ``event:`` field; ``delay`` (seconds) comes before it; ``pad`` spaces are
    put after the JSON inside the ``data:`` line, as Anthropic's servers do. A ``scripted`` event lives as
    long as its script, so framers keep its bytes instead of encoding it for every request."""

    data: Any = None
    raw: bytes | None = None
    name: str | None = None
    delay: float = 0.0
    pad: int = 0
    scripted: bool = False


class Framer(Protocol):
    """Writes events on the wire; ``complete`` is False when the stream will be cut (no trailer)."""

    broken: bytes  # a malformed event, for the ``malformed_sse`` fault

    def frame(self, events: list[Event], complete: bool) -> list[Frame]: ...


@dataclass(frozen=True)
class SSEFramer:
    """SSE events: a dict without an explicit name goes through the dialect's own encoder ``encode_dict``
    (``providers.sse.openai_event`` / ``anthropic_event`` / ``gemini_event``), anything else through
    ``providers.sse.encode``. One framer per dialect lives for the process and remembers the bytes of
    scripted events (weakly: they go with their script)."""

    encode_dict: Callable[[dict[str, Any]], bytes]
    broken: bytes = b'data: {"broken\n\n'
    _known: WeakKeyDictionary[Event, bytes] = field(default_factory=WeakKeyDictionary, repr=False)

    def frame(self, events: list[Event], complete: bool) -> list[Frame]:
        return [Frame(self._bytes(e), e.delay) for e in events]

    def _bytes(self, event: Event) -> bytes:
        if event.raw is not None:
            return event.raw
        if event.scripted:
            known = self._known.get(event)
            if known is None:
                known = self._known[event] = self._encode(event)
            return known
        return self._encode(event)

    def _encode(self, event: Event) -> bytes:
        data = event.data
        if isinstance(data, dict) and event.name is None:
            out = self.encode_dict(data)
        else:
            out = encode(data if isinstance(data, str) else dumps(data), event=event.name)
        if event.pad:
            end = out.rindex(b"\n", 0, len(out) - 1)  # the LF or CRLF closing the last data line
            if out[end - 1 : end] == b"\r":
                end -= 1
            out = out[:end] + b" " * event.pad + out[end:]
        return out


@dataclass(frozen=True, slots=True)
class LineEndFramer:
    """An ``SSEFramer`` whose lines end with ``line_end`` (LF, CRLF or CR: the SSE format accepts all
    three, ``mocks.variants``). Raw events keep their bytes; an event's JSON holds no raw line break, so
    every LF, CR or CRLF in an encoded event is a line end."""

    inner: SSEFramer
    line_end: bytes

    @property
    def broken(self) -> bytes:
        return self.inner.broken

    def frame(self, events: list[Event], complete: bool) -> list[Frame]:
        frames = self.inner.frame(events, complete)  # one frame per event
        return [
            f if e.raw is not None else Frame(LINE_END.sub(self.line_end, f.data), f.delay)
            for e, f in zip(events, frames, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class ArrayFramer:
    """Gemini's ``:streamGenerateContent`` without ``alt=sse``: one JSON array written element by element
    (``providers.jsonstream.encode_array_stream``: Google's bytes, ``[{`` … ``\\n,\\r\\n{`` … ``\\n]``); the
    closing ``]`` only when the stream completes."""

    broken: bytes = b'\n,\r\n{"broken'

    def frame(self, events: list[Event], complete: bool) -> list[Frame]:
        items = [e.data for e in events if e.raw is None]
        pieces = encode_array_stream(items)
        closing = pieces.pop()  # "]"
        out: list[Frame] = []
        k = 0
        for e in events:
            if e.raw is not None:
                out.append(Frame(e.raw, e.delay))
            else:
                out.append(Frame(pieces[k], e.delay))
                k += 1
        if complete:
            if not items:
                out.append(Frame(pieces[0]))  # "[" of an empty array
            out.append(Frame(closing))
        return out


@dataclass(slots=True)
class Body:
    """A reply before timing and faults. Exactly one of ``payload`` and ``events`` is set; ``framer``
    writes the events; ``regroup`` (a wire variant's, ``mocks.variants``) turns the framed events into
    the stream's network writes before any scripted byte chunking."""

    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes | None = None
    events: list[Event] | None = None
    framer: Framer | None = None
    regroup: Callable[[list[Frame]], list[Frame]] | None = None
