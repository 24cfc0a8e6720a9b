"""Faults a rule can declare, and how they bend a reply on its way out.

Two families:

- Replacing faults decide the whole reply and are turned into one by the dialect: ``ErrorFault`` (any
  status with the dialect's error body and headers: ``retry-after``, rate-limit headers, Gemini
  ``RetryInfo``) and ``AuthFault`` (the dialect's own wrong-key or missing-key error).
- Delivery faults reshape a body (``shape``): ``StreamErrorFault`` (an in-stream error event after HTTP 200),
  ``MalformedSSEFault`` (a broken event), ``MalformedJSONFault`` (a cut JSON body), ``DropFault`` (close the
  connection before the head, after N events or after N bytes), ``StallFault`` (no bytes for a while, before
  the head or after N events) and ``DripFault`` (bytes at a fixed rate).

``RandomFaults`` picks one fault set per call from a generator seeded by the script ``seed``, the rule and
the call number, so a run replays identically even when requests arrive concurrently.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from mocks.framing import Body, Event
from mocks.reply import Frame, rechunk

__all__ = [
    "AuthFault",
    "DripFault",
    "DropFault",
    "ErrorFault",
    "Fault",
    "MalformedJSONFault",
    "MalformedSSEFault",
    "RandomFaults",
    "Shaped",
    "StallFault",
    "StreamErrorFault",
    "shape",
]


@dataclass(frozen=True, slots=True)
class ErrorFault:
    """Answer ``status`` with the dialect's error body; unset fields take the dialect's usual values."""

    status: int
    message: str | None = None
    type: str | None = None
    code: str | None = None
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuthFault:
    """The dialect's reply to a wrong key (or, with ``missing``, to no key at all)."""

    missing: bool = False


@dataclass(frozen=True, slots=True)
class StreamErrorFault:
    """After ``after_events`` events of a 200 stream, the dialect's in-stream error event, then the end."""

    after_events: int = 1
    status: int = 529
    message: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class MalformedSSEFault:
    """A broken event (``text``, or the framing's own, e.g. ``data: {"broken``) after ``after_events``."""

    after_events: int = 1
    text: bytes | None = None


@dataclass(frozen=True, slots=True)
class MalformedJSONFault:
    """A one-piece body cut in half: a complete HTTP message whose JSON does not parse."""


@dataclass(frozen=True, slots=True)
class DropFault:
    """Close the connection: after ``after_events`` events, after ``after_bytes`` body bytes, or (neither
    set) without sending any response."""

    after_events: int | None = None
    after_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class StallFault:
    """Send nothing for ``seconds``: before the response head, or after ``after_events`` events."""

    seconds: float
    after_events: int | None = None


@dataclass(frozen=True, slots=True)
class DripFault:
    """Send the body ``piece`` bytes at a time at ``bytes_per_second``."""

    bytes_per_second: float
    piece: int = 16


Fault = (
    ErrorFault
    | AuthFault
    | StreamErrorFault
    | MalformedSSEFault
    | MalformedJSONFault
    | DropFault
    | StallFault
    | DripFault
)


@dataclass(frozen=True, slots=True)
class RandomFaults:
    """With ``probability``, one of ``choices`` (each a set of faults) drawn uniformly."""

    probability: float
    choices: tuple[tuple[Fault, ...], ...]

    def pick(self, seed: int, rule: str, call: int) -> tuple[Fault, ...]:
        rng = random.Random(f"{seed}:{rule}:{call}")
        if not self.choices or rng.random() >= self.probability:
            return ()
        return rng.choice(self.choices)


def describe(fault: Fault) -> str:
    """A short label for capture and reports, e.g. ``drop(after_events=3)``."""
    fields = {k: getattr(fault, k) for k in fault.__slots__ if getattr(fault, k) not in (None, {}, b"")}
    name = type(fault).__name__.removesuffix("Fault").lower()
    return name + "(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"


@dataclass(slots=True)
class Shaped:
    """A body turned into timed frames, with how the exchange starts and ends."""

    frames: list[Frame]
    content_length: int | None
    head_delay: float = 0.0
    send_head: bool = True
    end: Literal["complete", "drop"] = "complete"
    ignored: list[str] = field(default_factory=list)  # faults that did not apply to this body


def shape(
    body: Body,
    faults: Sequence[Fault],
    *,
    chunks: Sequence[int] = (),
    head_delay: float = 0.0,
    error_event: Callable[[StreamErrorFault], Event],
) -> Shaped:
    """Apply the delivery faults and the byte chunking to ``body``; ``error_event`` builds the dialect's
    in-stream error event. Event-level faults go first, then framing, then byte-level cuts and timing."""
    events = list(body.events) if body.events is not None else None
    payload = body.payload or b""
    complete = True
    out = Shaped([], None, head_delay)
    for fault in faults:
        streaming_only = isinstance(fault, StreamErrorFault | MalformedSSEFault)
        if events is None and (
            streaming_only or (isinstance(fault, DropFault) and fault.after_events is not None)
        ):
            out.ignored.append(describe(fault) + " (the reply is not a stream)")
        elif isinstance(fault, StreamErrorFault):
            events = [*events[: fault.after_events], error_event(fault)]
        elif isinstance(fault, MalformedSSEFault):
            broken = Event(raw=fault.text or body.framer.broken)
            events = [*events[: fault.after_events], broken, *events[fault.after_events :]]
        elif isinstance(fault, DropFault) and fault.after_events is not None:
            events = events[: fault.after_events]
            complete = False
            out.end = "drop"
        elif isinstance(fault, MalformedJSONFault):
            if events is None:
                payload = payload[: len(payload) // 2] or b"{"
            else:
                out.ignored.append(describe(fault) + " (the reply is a stream: use malformed_sse)")

    if events is not None:
        frames = body.framer.frame(events, complete)
    else:
        frames = [Frame(payload)] if payload else []
        out.content_length = len(payload)

    for fault in faults:
        if isinstance(fault, StallFault):
            if fault.after_events is None:
                out.head_delay += fault.seconds
            else:
                frames = _insert_wait(frames, fault.after_events, fault.seconds)
    for fault in faults:
        if isinstance(fault, DropFault) and fault.after_events is None:
            out.end = "drop"
            if fault.after_bytes is None:
                out.send_head = False
                frames = []
            else:
                frames = _cut(frames, fault.after_bytes)
    if body.regroup is not None and events is not None:
        frames = body.regroup(frames)
    if chunks:
        frames = rechunk(frames, chunks)
    for fault in faults:
        if isinstance(fault, DripFault):
            wait = fault.piece / fault.bytes_per_second
            frames = [replace(f, delay=f.delay + wait) for f in rechunk(frames, [fault.piece])]
    out.frames = frames
    return out


def _insert_wait(frames: list[Frame], index: int, seconds: float) -> list[Frame]:
    if index >= len(frames):
        return [*frames, Frame(b"", seconds)]
    f = frames[index]
    return [*frames[:index], replace(f, delay=f.delay + seconds), *frames[index + 1 :]]


def _cut(frames: list[Frame], limit: int) -> list[Frame]:
    out: list[Frame] = []
    left = limit
    for f in frames:
        if left <= 0:
            break
        out.append(f if len(f.data) <= left else replace(f, data=f.data[:left]))
        left -= len(f.data)
    return out
