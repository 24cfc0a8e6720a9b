"""The IR accumulator: stream ≡ non-stream folding, and refusal of broken or truncated streams."""

from __future__ import annotations

import pytest

from providers.convert.accumulate import accumulate
from providers.errors import ProviderError
from providers.types import ir


def stream(*middle: ir.StreamEvent, end: bool = True) -> list[ir.StreamEvent]:
    head = [ir.MessageStart(id="m1", model="x", usage=ir.Usage(input_tokens=3))]
    tail = [ir.Finish(stop=ir.Stop(reason="tool_use")), ir.End()] if end else []
    return [*head, *middle, *tail]


def test_text_reasoning_and_tool_call_fold_into_one_response():
    events = stream(
        ir.BlockStart(index=0, part=ir.Reasoning()),
        ir.BlockDelta(index=0, reasoning="think "),
        ir.BlockDelta(index=0, reasoning="hard"),
        ir.BlockDelta(index=0, signature="sig"),
        ir.BlockStop(index=0),
        ir.BlockStart(index=1, part=ir.Text(text="")),
        ir.BlockDelta(index=1, text="Hel"),
        ir.BlockDelta(index=1, text="lo"),
        ir.BlockStop(index=1),
        ir.BlockStart(index=2, part=ir.ToolCall(id="c1", name="f", arguments="")),
        ir.BlockDelta(index=2, arguments=""),
        ir.BlockDelta(index=2, arguments='{"a":'),
        ir.BlockDelta(index=2, arguments="1}"),
        ir.BlockStop(index=2),
        ir.UsageUpdate(usage=ir.Usage(input_tokens=3, output_tokens=9)),
    )
    response = accumulate(events)
    assert response.id == "m1"
    assert response.content == [
        ir.Reasoning(text="think hard", signature="sig"),
        ir.Text(text="Hello"),
        ir.ToolCall(id="c1", name="f", arguments='{"a":1}'),
    ]
    assert response.content[2].input == {"a": 1}
    assert response.stop == ir.Stop(reason="tool_use")
    assert response.usage == ir.Usage(input_tokens=3, output_tokens=9)


def test_accumulating_does_not_mutate_the_events():
    start = ir.BlockStart(index=0, part=ir.Text(text=""))
    accumulate(stream(start, ir.BlockDelta(index=0, text="abc"), ir.BlockStop(index=0)))
    assert start.part == ir.Text(text="")


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (stream(ir.BlockDelta(index=0, text="x")), "never started"),
        (
            stream(
                ir.BlockStart(index=0, part=ir.Text(text="")), ir.BlockStart(index=0, part=ir.Text(text=""))
            ),
            "started twice",
        ),
        (
            stream(ir.BlockStart(index=0, part=ir.Text(text="")), ir.BlockDelta(index=0, arguments="{}")),
            "does not fit",
        ),
        ([ir.BlockStart(index=0, part=ir.Text(text=""))], "before MessageStart"),
        ([*stream(), ir.BlockStart(index=0, part=ir.Text(text=""))], "after the end"),
    ],
    ids=["delta-unstarted", "double-start", "wrong-delta-kind", "no-message-start", "event-after-end"],
)
def test_grammar_breaks_are_decode_errors(events, message):
    with pytest.raises(ProviderError, match=message) as caught:
        accumulate(events)
    assert caught.value.kind == "decode"


def test_truncated_stream_is_a_disconnect_not_a_short_answer():
    events = stream(
        ir.BlockStart(index=0, part=ir.Text(text="")), ir.BlockDelta(index=0, text="par"), end=False
    )
    with pytest.raises(ProviderError) as caught:
        accumulate(events)
    assert (caught.value.kind, caught.value.reason) == ("transport", "disconnect")
    assert accumulate(events, require_end=False).content == [ir.Text(text="par")]


def test_in_stream_error_raises_upstream_error_with_its_type():
    events = stream(
        ir.StreamError(status=529, error_type="overloaded_error", message="Overloaded"), end=False
    )
    with pytest.raises(ProviderError) as caught:
        accumulate(events)
    assert (caught.value.kind, caught.value.status, caught.value.error_type) == (
        "upstream",
        529,
        "overloaded_error",
    )
