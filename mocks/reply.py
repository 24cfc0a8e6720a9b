"""What a server adapter sends for one request: status, headers, timed frames and how the exchange ends.

The engine decides everything (bytes, cuts, delays, faults); a server only walks the frames: wait
``delay`` seconds, write ``data`` as one piece (one HTTP chunk when the body is chunked), then either end
the message or, for ``end == "drop"``, close the connection where it stands. ``content_length`` is the
length announced in the head (``None``: chunked transfer); after a byte-level drop it still announces
the full length, so the client sees a short body rather than a clean end.

``together`` says nothing in the script times or groups the writes (no delay, byte chunking, write
regrouping or fault): a server may then send the head and every frame in one write (each frame still its
own HTTP chunk). ``memo`` is shared by every reply rendered from one remembered rendering
(``mocks.engine``): a server may keep there what it derives from the frames alone (their encoded bytes)
instead of deriving it again for each request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mocks.capture import CapturedRequest

__all__ = ["Frame", "Reply", "rechunk"]


@dataclass(frozen=True, slots=True)
class Frame:
    """``data`` written as one piece after waiting ``delay`` seconds (empty ``data``: just the wait)."""

    data: bytes
    delay: float = 0.0


@dataclass(slots=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    frames: list[Frame]
    content_length: int | None = None
    head_delay: float = 0.0  # before the status line
    send_head: bool = True  # False: the connection is closed without any response
    end: Literal["complete", "drop"] = "complete"
    capture: CapturedRequest | None = field(default=None, repr=False)
    together: bool = False  # no scripted timing or grouping: one write may carry head and frames
    memo: dict[str, bytes] | None = field(default=None, repr=False)  # shared per remembered rendering

    @property
    def body(self) -> bytes:
        return b"".join(f.data for f in self.frames)


def rechunk(frames: Sequence[Frame], sizes: Sequence[int]) -> list[Frame]:
    """Cut the concatenated bytes of ``frames`` into pieces of ``sizes`` (the last size repeats; a size of
    0 stands for "the rest"). A piece waits for the delays of the frames that start inside it, so the
    timing of each event is kept as closely as the new cuts allow."""
    if not sizes:
        return list(frames)
    data = b"".join(f.data for f in frames)
    starts: list[tuple[int, float]] = []  # (offset where a frame starts, its delay), in order
    offset = 0
    for f in frames:
        if f.delay:
            starts.append((offset, f.delay))
        offset += len(f.data)
    out: list[Frame] = []
    pos = 0
    k = 0  # next entry of starts
    i = 0
    while pos < len(data):
        size = sizes[min(i, len(sizes) - 1)] or len(data) - pos
        end = min(pos + size, len(data))
        delay = 0.0
        while k < len(starts) and starts[k][0] < end:
            delay += starts[k][1]
            k += 1
        out.append(Frame(data[pos:end], delay))
        pos = end
        i += 1
    tail = sum(d for _, d in starts[k:])  # waits after the last byte (a stall before the end)
    if tail:
        out.append(Frame(b"", tail))
    return out
