"""Accumulate an IR event stream into the IR response it stands for (stream ≡ non-stream,
docs/contract.md#equivalence-stream).

The same fold a client SDK does: block starts open parts, deltas extend them (text, reasoning, tool-call
argument text, citations; a signature replaces), the last usage wins because usage is cumulative, and the
finish gives the stop. A stream that ends without ``End`` was truncated: that is an error here, never a
quietly shorter answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from providers.errors import ProviderError
from providers.types import ir


def accumulate(events: Iterable[ir.StreamEvent], *, require_end: bool = True) -> ir.Response:
    """Fold ``events`` into one response; raises ``ProviderError`` on a grammar break or a truncation."""
    response: ir.Response | None = None
    blocks: dict[int, ir.Part] = {}
    ended = False
    for event in events:
        if ended:
            raise ProviderError.decode(f"stream event after the end: {type(event).__name__}")
        match event:
            case ir.MessageStart():
                if response is not None:
                    raise ProviderError.decode("second MessageStart in one stream")
                response = ir.Response(
                    id=event.id, model=event.model, usage=event.usage, created=event.created
                )
            case ir.BlockStart(index=index, part=part):
                _started(response, event)
                if index in blocks:
                    raise ProviderError.decode(f"block {index} started twice")
                blocks[index] = dataclasses.replace(part)
            case ir.BlockDelta(index=index):
                _started(response, event)
                if index not in blocks:
                    raise ProviderError.decode(f"delta for block {index}, which was never started")
                _apply(blocks[index], event)
            case ir.BlockStop(index=index):
                if index not in blocks:
                    raise ProviderError.decode(f"stop for block {index}, which was never started")
            case ir.UsageUpdate(usage=usage):
                _started(response, event).usage = usage
            case ir.Finish(stop=stop):
                _started(response, event).stop = stop
            case ir.StreamError():
                raise ProviderError.upstream(event.status or 200, event.message, error_type=event.error_type)
            case ir.End():
                ended = True
    if response is None:
        raise ProviderError.transport("disconnect", "stream ended before it started")
    if require_end and not ended:
        raise ProviderError.transport("disconnect", "stream ended without its terminal event (truncated)")
    response.content = [blocks[i] for i in sorted(blocks)]
    return response


def _started(response: ir.Response | None, event: ir.StreamEvent) -> ir.Response:
    if response is None:
        raise ProviderError.decode(f"{type(event).__name__} before MessageStart")
    return response


def _apply(part: ir.Part, delta: ir.BlockDelta) -> None:
    if delta.text is not None and isinstance(part, ir.Text):
        part.text += delta.text
    elif delta.arguments is not None and isinstance(part, ir.ToolCall):
        part.arguments += delta.arguments
    elif delta.reasoning is not None and isinstance(part, ir.Reasoning):
        part.text += delta.reasoning
    elif delta.signature is not None and isinstance(part, ir.Reasoning | ir.ToolCall):
        part.signature = delta.signature
    elif delta.citation is not None and isinstance(part, ir.Text):
        part.citations = [*(part.citations or []), delta.citation]
    else:
        raise ProviderError.decode(f"delta {delta} does not fit block of type {type(part).__name__}")
