"""Anthropic ↔ IR conversion.

Properties: Anthropic → IR → Anthropic is the identity on generated and recorded requests and responses
(unknown fields included); a stream read into the IR and written back carries the same content, obeys the
Messages grammar and accumulates (in the official SDK) to the non-stream reply; IR streams from awkward
upstreams (fragments split anywhere, interleaved parallel tool calls, usage only at the end, no finish
reason, truncation, errors) come out as streams the SDK accepts. Each grammar/oracle check is shown to
fire on a deliberately broken stream.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic._models import validate_type
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import RawMessageStreamEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.convert import anthropic as conv
from providers.convert.accumulate import accumulate
from providers.convert.tables import Lossy
from providers.errors import ProviderError
from providers.sse import anthropic_event, decode_all, encode
from providers.types import anthropic as wire
from providers.types import ir
from tests.corpus import parameters, require_real_traffic
from tests.strategies import anthropic as strat
from tests.strategies.anthropic import ident, json_objects
from tests.strategies.common import assert_strict_equal, text

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- checkers and oracles --------------------------------------------------------------------------


def check_ir_grammar(events: list[ir.StreamEvent], *, complete: bool = True) -> None:
    """The IR stream grammar: MessageStart first; blocks started before their deltas with dense indices
    0, 1, 2… in start order; deltas and stops only for open blocks; Finish after every block stopped;
    StreamError or End last (End required unless ``complete`` is False)."""
    assert events, "empty stream"
    if isinstance(events[0], ir.StreamError):
        assert len(events) == 1, "events after a StreamError"
        return
    assert isinstance(events[0], ir.MessageStart), f"first event is {type(events[0]).__name__}"
    open_blocks: set[int] = set()
    next_index = 0
    for position, event in enumerate(events[1:], 1):
        last = position == len(events) - 1
        match event:
            case ir.MessageStart():
                raise AssertionError("second MessageStart")
            case ir.BlockStart(index=index):
                assert index == next_index, f"block index {index}, expected {next_index} (dense, in order)"
                next_index += 1
                open_blocks.add(index)
            case ir.BlockDelta(index=index):
                assert index in open_blocks, f"delta for block {index}, which is not open"
                assert (
                    sum(
                        v is not None
                        for v in (
                            event.text,
                            event.arguments,
                            event.reasoning,
                            event.signature,
                            event.citation,
                        )
                    )
                    == 1
                )
            case ir.BlockStop(index=index):
                assert index in open_blocks, f"stop for block {index}, which is not open"
                open_blocks.discard(index)
            case ir.Finish():
                assert not open_blocks, f"Finish while blocks {open_blocks} are open"
            case ir.StreamError() | ir.End():
                assert last, f"{type(event).__name__} is not the last event"
    if complete:
        assert isinstance(events[-1], ir.End), "stream does not end with End"


_DELTA_FITS = {
    "text_delta": {"text"},
    "citations_delta": {"text"},
    "input_json_delta": {"tool_use", "server_tool_use", "mcp_tool_use"},
    "thinking_delta": {"thinking"},
    "signature_delta": {"thinking"},
}


def check_wire_grammar(events: list[dict[str, Any]], *, complete: bool = True) -> None:
    """The Messages stream grammar (docs/wire.md#anthropic-streaming): message_start first; then per block,
    in dense index order and one at a time, content_block_start → deltas of the block's kind →
    content_block_stop; tool input fragments concatenate to a JSON object; then message_delta (with a
    stop_reason) and message_stop last. ``error`` ends the stream; ``ping`` may appear anywhere."""
    events = [e for e in events if e["type"] != "ping"]
    assert events, "empty stream"
    if events[0]["type"] == "error":
        assert len(events) == 1, "events after error"
        return
    assert events[0]["type"] == "message_start", f"first event is {events[0]['type']}"
    message = events[0]["message"]
    assert message["content"] == [] and message["stop_reason"] is None, "message_start must be empty"
    assert isinstance(message["usage"]["input_tokens"], int)
    open_index: int | None = None
    kind = ""
    fragments: list[str] = []
    next_index = 0
    delta_seen = False
    for position, event in enumerate(events[1:], 1):
        name = event["type"]
        assert not delta_seen or name in ("message_delta", "message_stop", "error"), (
            f"{name} after message_delta"
        )
        if name == "content_block_start":
            assert open_index is None, f"block {event['index']} starts while block {open_index} is open"
            assert event["index"] == next_index, f"block index {event['index']}, expected {next_index}"
            open_index, kind, fragments = next_index, event["content_block"]["type"], []
            next_index += 1
            if kind == "tool_use":
                assert event["content_block"]["input"] == {}, "tool_use starts with input {}"
        elif name == "content_block_delta":
            assert event["index"] == open_index, f"delta for block {event['index']}, open is {open_index}"
            assert kind in _DELTA_FITS.get(event["delta"]["type"], ()), f"{event['delta']['type']} on {kind}"
            if event["delta"]["type"] == "input_json_delta":
                fragments.append(event["delta"]["partial_json"])
        elif name == "content_block_stop":
            assert event["index"] == open_index, f"stop for block {event['index']}, open is {open_index}"
            if complete and fragments and "".join(fragments).strip():  # a truncated stream may cut the JSON
                assert isinstance(json.loads("".join(fragments)), dict), "tool input is not a JSON object"
            open_index = None
        elif name == "message_delta":
            assert open_index is None, "message_delta while a block is open"
            assert event["delta"]["stop_reason"] is not None, "message_delta without stop_reason"
            delta_seen = True
        elif name == "message_stop":
            assert delta_seen, "message_stop without message_delta"
            assert position == len(events) - 1, "events after message_stop"
        elif name == "error":
            assert position == len(events) - 1, "events after error"
        else:
            raise AssertionError(f"unknown event {name}")
    if complete:
        assert events[-1]["type"] == "message_stop", "stream does not end with message_stop"
    else:
        assert open_index is None, "a block is left open"


def sse(events: list[dict[str, Any]]) -> bytes:
    return b"".join(anthropic_event(event) for event in events)


class Oracle:
    """The official SDK (strict validation unless told otherwise) reading SSE bytes through
    ``messages.stream``."""

    def __init__(self, *, strict: bool = True) -> None:
        self.body = b""
        transport = httpx2.MockTransport(
            lambda request: httpx2.Response(
                200, headers={"content-type": "text/event-stream"}, content=self.body
            )
        )
        self.client = anthropic.Anthropic(
            api_key="test",
            base_url="http://mock.invalid",
            http_client=httpx2.Client(transport=transport),
            _strict_response_validation=strict,
            max_retries=0,
        )

    def final(self, body: bytes) -> dict[str, Any]:
        self.body = body
        with self.client.messages.stream(
            model="m", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            return stream.get_final_message().to_dict(mode="json", warnings=False)


_ORACLES: dict[bool, Oracle] = {}


def oracle(*, strict: bool = True) -> Oracle:
    if strict not in _ORACLES:
        _ORACLES[strict] = Oracle(strict=strict)
    return _ORACLES[strict]


def sdk_accumulate(events: list[dict[str, Any]], *, strict: bool = False) -> dict[str, Any]:
    """The SDK's own fold (``accumulate_event``), in process: cheap enough for property tests. ``strict``
    first validates each event against the SDK's types, as ``_strict_response_validation`` does."""
    snapshot = None
    buffers: dict[int, bytes] = {}
    for event in events:
        if event["type"] in ("ping", "message_stop"):
            continue
        item = validate_type(type_=RawMessageStreamEvent, value=event) if strict else event
        snapshot = accumulate_event(event=item, current_snapshot=snapshot, json_bufs=buffers)
    assert snapshot is not None
    return snapshot.to_dict(mode="json", warnings=False)


def to_ir(items: list[dict[str, Any]]) -> tuple[list[ir.StreamEvent], conv.StreamToIR]:
    reader = conv.StreamToIR()
    out: list[ir.StreamEvent] = []
    for item in items:
        out += reader.feed(wire.parse_stream_event(item))
    out += reader.close()
    return out, reader


def from_ir(events: list[ir.StreamEvent], **kwargs: Any) -> tuple[list[dict[str, Any]], conv.StreamFromIR]:
    writer = conv.StreamFromIR(**kwargs)
    out: list[Any] = []
    for event in events:
        out += writer.feed(event)
    out += writer.close()
    return [item.to_json() for item in out], writer


# --- same-dialect round trips ----------------------------------------------------------------------


@FAST
@given(strat.messages_request)
def test_request_round_trip_through_the_ir_is_the_identity(obj):
    req = wire.MessagesRequest.parse(obj)
    assert_strict_equal(conv.request_from_ir(conv.request_to_ir(req)).to_json(), obj)


@FAST
@given(strat.messages_response)
def test_response_round_trip_through_the_ir_is_the_identity(obj):
    resp = wire.MessagesResponse.parse(obj)
    assert_strict_equal(conv.response_from_ir(conv.response_to_ir(resp)).to_json(), obj)


def test_a_converter_that_forgets_vendor_fails_the_round_trip():
    obj = {
        "model": "m",
        "max_tokens": 9,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "x", "x_mark": 1}]}],
        "service_tier": "auto",
        "temperature": None,
    }
    r = conv.request_to_ir(wire.MessagesRequest.parse(obj))
    r.vendor.clear()
    with pytest.raises(AssertionError, match="keys differ"):
        assert_strict_equal(conv.request_from_ir(r).to_json(), obj)


def test_what_the_ir_holds_for_a_request():
    obj = {
        "model": "claude",
        "max_tokens": 100,
        "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "enc"},
                    {"type": "tool_use", "id": "t1", "name": "f", "input": {"b": 1, "a": [1.5, "é"]}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "boom", "is_error": True}
                ],
            },
        ],
        "tools": [
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 2},
            {"name": "f", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "thinking": {"type": "enabled", "budget_tokens": 2048, "display": "omitted"},
        "output_config": {"effort": "high"},
        "metadata": {"user_id": "u1"},
        "stop_sequences": ["END"],
        "stream": True,
    }
    r = conv.request_to_ir(wire.MessagesRequest.parse(obj))
    assert r.system == [ir.Text(text="be brief", cache_control={"type": "ephemeral", "ttl": "1h"})]
    assert r.messages[0].shorthand and r.messages[0].content == [ir.Text(text="hi")]
    thinking, redacted, call = r.messages[1].content
    assert thinking == ir.Reasoning(text="hmm", signature="sig") and redacted == ir.Reasoning(redacted="enc")
    assert call == ir.ToolCall(id="t1", name="f", arguments='{"b":1,"a":[1.5,"é"]}')
    result = r.messages[2].content[0]
    assert isinstance(result, ir.ToolResult) and result.is_error is True and result.shorthand
    assert [t.name for t in r.tools or []] == ["f"], "server tools stay out of the IR tools"
    assert r.tools and r.tools[0].cache_control == {"type": "ephemeral"}
    assert r.tool_choice and r.tool_choice.mode == "required" and r.parallel_tool_calls is False
    assert r.thinking and (r.thinking.mode, r.thinking.budget_tokens, r.thinking.effort) == (
        "enabled",
        2048,
        "high",
    )
    assert r.thinking.include_thoughts is False
    assert (r.user, r.stop, r.stream, r.max_tokens) == ("u1", ["END"], True, 100)
    assert_strict_equal(conv.request_from_ir(r).to_json(), obj)


# --- IR from other dialects → Anthropic requests ---------------------------------------------------


def _openai_like_request(**kwargs: Any) -> ir.Request:
    return ir.Request(model="gpt", **kwargs)


def test_foreign_request_is_adapted_to_what_the_api_accepts():
    r = _openai_like_request(
        messages=[
            ir.Message(role="system", content=[ir.Text(text="rule one")], shorthand=True),
            ir.Message(role="developer", content=[ir.Text(text="rule two")], shorthand=True),
            ir.Message(role="user", content=[ir.Text(text="go")], shorthand=True),
            ir.Message(
                role="assistant",
                content=[
                    ir.Reasoning(text="unsigned thoughts"),
                    ir.Text(text=""),
                    ir.ToolCall(id="c1", name="f", arguments='{"x": 1}'),
                    ir.ToolCall(id="c2", name="g", arguments=""),
                ],
            ),
            ir.Message(
                role="tool",
                content=[ir.ToolResult(call_id="c1", content=[ir.Text(text="1")], shorthand=True)],
            ),
            ir.Message(
                role="tool",
                content=[
                    ir.ToolResult(call_id="c2", content=[ir.Text(text="2")], is_error=True, shorthand=True)
                ],
            ),
            ir.Message(role="system", content=[ir.Text(text="late rule")], shorthand=True),
            ir.Message(role="user", content=[ir.Text(text="more"), ir.ToolResult(call_id="c3")]),
        ],
        tools=[ir.Tool(name="f", parameters={"type": "object"}), ir.Tool(name="g")],
        parallel_tool_calls=False,
        seed=7,
        presence_penalty=0.5,
        user="someone",
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
    )
    out = conv.request_from_ir(r).to_json()
    assert out["max_tokens"] == conv.DEFAULT_MAX_TOKENS
    assert out["system"] == [{"type": "text", "text": "rule one"}, {"type": "text", "text": "rule two"}]
    assert out["messages"] == [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "c1", "name": "f", "input": {"x": 1}},
                {"type": "tool_use", "id": "c2", "name": "g", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "1"},
                {"type": "tool_result", "tool_use_id": "c2", "content": "2", "is_error": True},
            ],
        },
        {"role": "user", "content": "late rule"},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c3", "content": []},
                {"type": "text", "text": "more"},
            ],
        },
    ]
    assert out["tools"][1]["input_schema"] == {"type": "object", "properties": {}}
    assert out["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert out["metadata"] == {"user_id": "someone"}
    assert out["output_config"] == {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    assert "seed" not in out and "presence_penalty" not in out


def test_one_system_message_becomes_a_system_string():
    r = _openai_like_request(
        messages=[
            ir.Message(role="system", content=[ir.Text(text="s")], shorthand=True),
            ir.Message(role="user", content=[ir.Text(text="u")], shorthand=True),
        ]
    )
    out = conv.request_from_ir(r).to_json()
    assert out["system"] == "s" and out["messages"] == [{"role": "user", "content": "u"}]


@pytest.mark.parametrize("arguments", ["{", "[1,2]", "nope", '{"a":1}x'])
def test_tool_arguments_that_are_not_a_json_object_raise(arguments):
    r = _openai_like_request(
        messages=[ir.Message(role="assistant", content=[ir.ToolCall(id="c9", name="f", arguments=arguments)])]
    )
    with pytest.raises(ProviderError) as caught:
        conv.request_from_ir(r)
    assert caught.value.kind == "invalid_request" and "c9" in caught.value.message
    response = ir.Response(id="r", model="m", content=[ir.ToolCall(id="c9", name="f", arguments=arguments)])
    with pytest.raises(ProviderError) as caught:
        conv.response_from_ir(response)
    assert caught.value.kind == "decode" and "c9" in caught.value.message


@pytest.mark.parametrize(
    ("thinking", "max_tokens", "want", "effort"),
    [
        (ir.Thinking(effort="high"), 8000, {"type": "enabled", "budget_tokens": 4096}, None),
        (ir.Thinking(effort="minimal"), 8000, {"type": "enabled", "budget_tokens": 1024}, None),
        (ir.Thinking(effort="none"), 8000, {"type": "disabled"}, None),
        (ir.Thinking(effort="max"), 2000, {"type": "enabled", "budget_tokens": 1999}, None),
        (ir.Thinking(budget_tokens=0), 8000, {"type": "disabled"}, None),
        (ir.Thinking(budget_tokens=-1, effort="medium"), 8000, {"type": "adaptive"}, "medium"),
        (
            ir.Thinking(budget_tokens=300, include_thoughts=True),
            8000,
            {"type": "enabled", "budget_tokens": 1024, "display": "summarized"},
            None,
        ),
    ],
)
def test_foreign_reasoning_settings_become_a_valid_thinking_config(thinking, max_tokens, want, effort):
    out = conv.request_from_ir(_openai_like_request(max_tokens=max_tokens, thinking=thinking)).to_json()
    assert out["thinking"] == want
    assert out.get("output_config", {}).get("effort") == effort
    if want.get("budget_tokens"):
        assert 1024 <= want["budget_tokens"] < out["max_tokens"]


def test_foreign_media_and_citations():
    r = _openai_like_request(
        messages=[
            ir.Message(
                role="user",
                content=[
                    ir.Image(url="data:image/png;base64,AAAA", detail="high"),
                    ir.Image(url="https://x/y.png"),
                    ir.File(data="aGVsbG8=", media_type="text/plain", filename="a.txt"),
                    ir.File(data="JVBE", media_type="application/pdf"),
                    ir.Audio(data="UklG", format="wav"),
                    ir.Other(dialect="gemini", data={"executableCode": {}}),
                    ir.Text(
                        text="t",
                        citations=[
                            {"type": "url_citation", "url_citation": {}},
                            {"type": "char_location", "cited_text": "c"},
                        ],
                    ),
                ],
            )
        ]
    )
    content = conv.request_from_ir(r).to_json()["messages"][0]["content"]
    assert content == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "hello"},
            "title": "a.txt",
        },
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}},
        {"type": "text", "text": "t", "citations": [{"type": "char_location", "cited_text": "c"}]},
    ]


def test_text_documents_travel_as_base64_in_the_ir():
    obj = {
        "model": "m",
        "max_tokens": 5,
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "héllo\n"},
                    }
                ],
            }
        ],
    }
    r = conv.request_to_ir(wire.MessagesRequest.parse(obj))
    part = r.messages[0].content[0]
    assert isinstance(part, ir.File) and part.data == "aMOpbGxvCg==" and part.media_type == "text/plain"
    assert_strict_equal(conv.request_from_ir(r).to_json(), obj)


# --- responses -------------------------------------------------------------------------------------


def test_usage_maps_onto_non_overlapping_ir_parts():
    obj = {
        "id": "msg",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "x"}],
        "model": "m",
        "stop_reason": "stop_sequence",
        "stop_sequence": "END",
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 20,
            "cache_read_input_tokens": 30,
            "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 50,
            "output_tokens_details": {"thinking_tokens": 35},
            "server_tool_use": {"web_search_requests": 1},
        },
    }
    r = conv.response_to_ir(wire.MessagesResponse.parse(obj))
    u = r.usage
    assert u is not None
    assert (u.input_tokens, u.cache_write_tokens, u.cache_read_tokens) == (10, 20, 30)
    assert (u.output_tokens, u.reasoning_tokens, u.completion_total) == (15, 35, 50)
    assert set(u.vendor["anthropic"]["rest"]) == {"cache_creation", "server_tool_use"}
    assert r.stop == ir.Stop(reason="stop_sequence", raw="stop_sequence", dialect="anthropic", sequence="END")
    assert_strict_equal(conv.response_from_ir(r).to_json(), obj)


def test_foreign_response_is_written_as_the_sdk_expects():
    r = ir.Response(
        id="chatcmpl-1",
        model="gpt",
        created=1700000000,
        content=[
            ir.Reasoning(text="why"),
            ir.Text(text="calling"),
            ir.ToolCall(id="c", name="f", arguments='{"q": "x"}', signature="gemini-sig"),
        ],
        stop=ir.Stop(reason="end_turn", raw="stop", dialect="openai"),
        usage=ir.Usage(input_tokens=7, output_tokens=3, reasoning_tokens=2, cache_read_tokens=4),
    )
    out = conv.response_from_ir(r).to_json()
    assert out == {
        "id": "chatcmpl-1",
        "type": "message",
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "why", "signature": ""},
            {"type": "text", "text": "calling"},
            {"type": "tool_use", "id": "c", "name": "f", "input": {"q": "x"}},
        ],
        "model": "gpt",
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 7,
            "output_tokens": 5,
            "cache_read_input_tokens": 4,
            "output_tokens_details": {"thinking_tokens": 2},
        },
    }
    anthropic.types.Message.model_validate(out)  # the SDK's own model accepts it
    empty = conv.response_from_ir(ir.Response(id="x", model="m")).to_json()
    assert empty["usage"] == {"input_tokens": 0, "output_tokens": 0} and empty["stop_reason"] is None


# --- recorded traffic ------------------------------------------------------------------------------


def _interactions() -> list[Any]:
    return strat.anthropic_interactions()


INTERACTIONS = _interactions()
STREAMS = [i for i in INTERACTIONS if strat.is_sse(i[2])]
REPLIES = [i for i in INTERACTIONS if not strat.is_sse(i[2]) and i[3] < 400]


def test_real_traffic_is_there():
    require_real_traffic()
    assert len(REPLIES) >= 40 and len(STREAMS) >= 5


@pytest.mark.parametrize(
    ("name", "request_json", "raw", "status"), parameters(INTERACTIONS, [i[0] for i in INTERACTIONS], arity=4)
)
def test_real_requests_round_trip_through_the_ir(name, request_json, raw, status):
    assert request_json is not None
    req = wire.MessagesRequest.parse(request_json)
    assert_strict_equal(conv.request_from_ir(conv.request_to_ir(req)).to_json(), request_json)


@pytest.mark.parametrize(
    ("name", "request_json", "raw", "status"), parameters(REPLIES, [i[0] for i in REPLIES], arity=4)
)
def test_real_replies_round_trip_through_the_ir(name, request_json, raw, status):
    body = json.loads(raw)
    resp = wire.MessagesResponse.parse(raw)
    assert_strict_equal(conv.response_from_ir(conv.response_to_ir(resp)).to_json(), body)


#: Recordings whose own bytes the strict SDK 2.13 rejects, with the reason.
SDK_TOO_OLD = {
    "anthropic/test_anthropic_advisor_tool_stream#0": "server_tool_use name 'advisor' and the "
    "advisor_tool_result block are newer than the SDK",
    "anthropic/test_anthropic_web_search_tool_stream#0": "message_delta usage.server_tool_use has no "
    "web_fetch_requests, which the SDK requires",
}


@pytest.mark.parametrize(
    ("name", "request_json", "raw", "status"), parameters(STREAMS, [i[0] for i in STREAMS], arity=4)
)
def test_real_streams_survive_ir_and_the_sdk_sees_the_same_message(name, request_json, raw, status):
    items = [json.loads(event.data) for event in decode_all(raw)]
    events, reader = to_ir(items)
    check_ir_grammar(events)
    assert reader.skipped == 0 and reader.remapped == 0
    out, writer = from_ir(events)
    check_wire_grammar(out)
    assert writer.dropped == 0
    try:
        want, strict = oracle().final(raw), True
    except anthropic.APIResponseValidationError:
        # The strict SDK rejects the upstream's own stream (see SDK_TOO_OLD): both sides are read by the lax SDK.
        assert name in SDK_TOO_OLD, name
        want, strict = oracle(strict=False).final(raw), False
    got = oracle(strict=strict).final(sse(out))
    assert_strict_equal(got, want)
    accumulated = accumulate(events)
    assert accumulated.stop is not None and accumulated.stop.raw == want["stop_reason"]


# --- generated streams: same dialect ---------------------------------------------------------------


@FAST
@given(strat.message_streams())
def test_stream_through_the_ir_keeps_its_content_and_equals_the_reply(case):
    message_json, items = case
    events, reader = to_ir(items)
    check_ir_grammar(events)
    assert reader.skipped == 0
    # stream ≡ non-stream, in the IR
    folded = accumulate(events)
    reply = conv.response_to_ir(wire.MessagesResponse.parse(message_json))
    assert folded.content == reply.content
    assert folded.stop == reply.stop
    assert folded.usage is not None and reply.usage is not None
    for name in (
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    ):
        assert getattr(folded.usage, name) == getattr(reply.usage, name), name
    # and written back: the grammar holds and the SDK assembles the same message
    out, writer = from_ir(events)
    check_wire_grammar(out)
    assert writer.dropped == 0
    got = sdk_accumulate(out)
    if "stop_details" not in message_json:  # the SDK's accumulator always sets it (null when not sent)
        assert got.pop("stop_details", None) is None
    assert_strict_equal(got, message_json)


# --- IR streams from awkward upstreams → Anthropic -------------------------------------------------

OPENAI_TOOL_STOP = ir.Stop(reason="tool_use", raw="tool_calls", dialect="openai")
OPENAI_STOP = ir.Stop(reason="end_turn", raw="stop", dialect="openai")


def _run(
    events: list[ir.StreamEvent], *, complete: bool = True
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    out, _ = from_ir(events)
    check_wire_grammar(out, complete=complete)
    return out, oracle().final(sse(out))


def test_openai_tool_fragments_split_anywhere_with_usage_only_at_the_end():
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id="chatcmpl-1", model="gpt"),
        ir.BlockStart(index=0, part=ir.ToolCall(id="call_1", name="get", arguments="")),
        ir.BlockDelta(index=0, arguments=""),
        ir.BlockDelta(index=0, arguments='{"ci'),
        ir.BlockDelta(index=0, arguments='ty": "Pa'),
        ir.BlockDelta(index=0, arguments='ris"}'),
        ir.BlockStop(index=0),
        ir.Finish(stop=OPENAI_TOOL_STOP),
        ir.UsageUpdate(usage=ir.Usage(input_tokens=11, cache_read_tokens=5, output_tokens=9)),
        ir.End(),
    ]
    out, final = _run(events)
    assert out[0]["message"]["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert out[-2]["usage"] == {"input_tokens": 11, "output_tokens": 9, "cache_read_input_tokens": 5}
    assert "cache_creation_input_tokens" not in out[-2]["usage"], "cached_tokens must not become cache writes"
    assert final["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "get", "input": {"city": "Paris"}}
    ]
    assert final["stop_reason"] == "tool_use"
    assert final["usage"] == {"input_tokens": 11, "output_tokens": 9, "cache_read_input_tokens": 5}


def test_text_then_tool_then_text_with_a_plain_stop_ends_in_tool_use():
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id="m", model="gpt", usage=ir.Usage(input_tokens=3)),
        ir.BlockStart(index=0, part=ir.Text(text="")),
        ir.BlockDelta(index=0, text="Let me check."),
        ir.BlockStop(index=0),
        ir.BlockStart(index=1, part=ir.ToolCall(id="c", name="f", arguments="")),
        ir.BlockDelta(index=1, arguments="{}"),
        ir.BlockStop(index=1),
        ir.BlockStart(index=2, part=ir.Text(text="")),
        ir.BlockDelta(index=2, text="Done"),
        ir.BlockStop(index=2),
        ir.Finish(stop=OPENAI_STOP),
        ir.End(),
    ]
    _, final = _run(events)
    assert [b["type"] for b in final["content"]] == ["text", "tool_use", "text"]
    assert final["stop_reason"] == "tool_use"  # bifrost#6123
    assert final["usage"]["input_tokens"] == 3


def test_interleaved_parallel_tool_calls_are_replayed_one_block_at_a_time():
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id="m", model="gpt"),
        ir.BlockStart(index=0, part=ir.ToolCall(id="a", name="f", arguments="")),
        ir.BlockDelta(index=0, arguments='{"x":'),
        ir.BlockStart(index=1, part=ir.ToolCall(id="b", name="g", arguments="")),
        ir.BlockDelta(index=1, arguments='{"y":'),
        ir.BlockDelta(index=0, arguments="1}"),
        ir.BlockDelta(index=1, arguments="2}"),
        ir.BlockStop(index=1),
        ir.BlockStop(index=0),
        ir.Finish(stop=OPENAI_TOOL_STOP),
        ir.End(),
    ]
    out, final = _run(events)
    assert [e["type"] for e in out[1:]] == [
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert [(b["id"], b["input"]) for b in final["content"]] == [("a", {"x": 1}), ("b", {"y": 2})]
    # the waiting block is replayed as soon as the open one stops, not held back until the finish
    writer = conv.StreamFromIR()
    emitted = [[item.to_json()["type"] for item in writer.feed(event)] for event in events]
    assert emitted[8] == [
        "content_block_stop",
        *["content_block_start"],
        *["content_block_delta"] * 2,
        "content_block_stop",
    ]


def test_thinking_signature_text_and_tool():
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id="m", model="claude"),
        ir.BlockStart(index=0, part=ir.Reasoning()),
        ir.BlockDelta(index=0, reasoning="step 1"),
        ir.BlockDelta(index=0, reasoning=", step 2"),
        ir.BlockDelta(index=0, signature="SIG=="),
        ir.BlockStop(index=0),
        ir.BlockStart(index=1, part=ir.Text(text="")),
        ir.BlockDelta(index=1, text="ok"),
        ir.BlockStop(index=1),
        ir.BlockStart(index=2, part=ir.ToolCall(id="t", name="f", arguments="")),
        ir.BlockDelta(index=2, arguments='{"a":[1,2]}'),
        ir.BlockStop(index=2),
        ir.Finish(stop=ir.Stop(reason="tool_use", raw="tool_use", dialect="anthropic")),
        ir.End(),
    ]
    _, final = _run(events)
    assert final["content"] == [
        {"type": "thinking", "thinking": "step 1, step 2", "signature": "SIG=="},
        {"type": "text", "text": "ok"},
        {"type": "tool_use", "id": "t", "name": "f", "input": {"a": [1, 2]}},
    ]


def test_upstream_without_finish_reason_still_completes_the_message():
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id="m", model="gpt"),
        ir.BlockStart(index=0, part=ir.Text(text="")),
        ir.BlockDelta(index=0, text="hi"),
        ir.End(),
    ]
    out, final = _run(events)
    assert out[-2]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert final["content"] == [{"type": "text", "text": "hi"}]


def test_truncated_ir_stream_closes_the_block_and_writes_no_message_stop():
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id="m", model="gpt"),
        ir.BlockStart(index=0, part=ir.Text(text="")),
        ir.BlockDelta(index=0, text="half"),
        ir.BlockStart(index=1, part=ir.ToolCall(id="c", name="f", arguments="")),
        ir.BlockDelta(index=1, arguments='{"a":'),
    ]
    out, _ = from_ir(events)
    check_wire_grammar(out, complete=False)
    assert [e["type"] for e in out][-3:] == [
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
    ]
    assert not any(e["type"] in ("message_delta", "message_stop") for e in out)


def test_stream_error_becomes_an_error_event_and_nothing_follows():
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id="m", model="gpt"),
        ir.BlockStart(index=0, part=ir.Text(text="")),
        ir.BlockDelta(index=0, text="par"),
        ir.StreamError(status=529, error_type=None, message="Overloaded"),
        ir.BlockDelta(index=0, text="tial"),
        ir.End(),
    ]
    out, writer = from_ir(events)
    assert out[-1] == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert writer.dropped == 2
    with pytest.raises(anthropic.APIStatusError) as caught:
        oracle().final(sse(out))
    assert "overloaded_error" in str(caught.value)


def test_content_before_message_start_and_deltas_without_block_start():
    events: list[ir.StreamEvent] = [
        ir.BlockDelta(index=0, text="orphan"),
        ir.BlockDelta(index=1, arguments="{}"),
        ir.BlockStop(index=0),
        ir.Finish(stop=OPENAI_STOP),
        ir.End(),
    ]
    out, writer = from_ir(events, message_id="msg_x", model="m")
    check_wire_grammar(out)
    assert out[0]["message"]["id"] == "msg_x" and writer.dropped == 1
    assert oracle().final(sse(out))["content"] == [{"type": "text", "text": "orphan"}]


@st.composite
def interleaved_ir_streams(draw: st.DrawFn) -> tuple[list[ir.StreamEvent], list[dict[str, Any]], str]:
    """Blocks of text, tool calls and signed reasoning, their deltas and stops interleaved at random (starts
    in index order), usage early, late or never, and a finish that is present or missing."""
    kinds = draw(st.lists(st.sampled_from(["text", "tool", "reasoning"]), max_size=4))
    plans: list[list[ir.StreamEvent]] = []
    expected: list[dict[str, Any]] = []
    for index, kind in enumerate(kinds):
        if kind == "text":
            whole = draw(text)
            pieces = draw(strat.fragments(whole))
            plan: list[ir.StreamEvent] = [ir.BlockStart(index=index, part=ir.Text(text=""))]
            plan += [ir.BlockDelta(index=index, text=p) for p in pieces]
            expected.append({"type": "text", "text": whole})
        elif kind == "tool":
            call_id, name, args = draw(ident), draw(ident), draw(json_objects)
            raw = json.dumps(args, ensure_ascii=draw(st.booleans()))
            plan = [ir.BlockStart(index=index, part=ir.ToolCall(id=call_id, name=name, arguments=""))]
            plan += [
                ir.BlockDelta(index=index, arguments=p) for p in draw(strat.fragments(raw, empty_first=True))
            ]
            expected.append({"type": "tool_use", "id": call_id, "name": name, "input": args})
        else:
            whole, signature = draw(text), draw(text)
            plan = [ir.BlockStart(index=index, part=ir.Reasoning())]
            plan += [ir.BlockDelta(index=index, reasoning=p) for p in draw(strat.fragments(whole))]
            plan.insert(draw(st.integers(1, len(plan))), ir.BlockDelta(index=index, signature=signature))
            expected.append({"type": "thinking", "thinking": whole, "signature": signature})
        plan.append(ir.BlockStop(index=index))
        plans.append(plan)
    events: list[ir.StreamEvent] = [ir.MessageStart(id="chatcmpl", model="gpt")]
    cursors = [0] * len(plans)
    started = 0
    while any(c < len(p) for c, p in zip(cursors, plans, strict=True)):
        ready = [i for i in range(started) if cursors[i] < len(plans[i])]
        if started < len(plans):
            ready.append(started)
        i = draw(st.sampled_from(ready))
        if i == started:
            started += 1
        events.append(plans[i][cursors[i]])
        cursors[i] += 1
    usage = ir.Usage(input_tokens=draw(strat.counts), output_tokens=draw(strat.counts))
    where = draw(st.sampled_from(["early", "late", "never"]))
    if where == "early":
        events.insert(1, ir.UsageUpdate(usage=usage))
    ending = draw(st.sampled_from(["finish", "no-finish", "truncated"]))
    if ending == "finish":
        events.append(ir.Finish(stop=draw(st.sampled_from([OPENAI_STOP, OPENAI_TOOL_STOP]))))
    if where == "late" and ending != "truncated":
        events.append(ir.UsageUpdate(usage=usage))
    if ending != "truncated":
        events.append(ir.End())
    return events, expected, ending


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interleaved_ir_streams())
def test_any_interleaving_of_ir_blocks_gives_a_valid_stream_with_the_same_content(case):
    events, expected, ending = case
    finish = next((e for e in events if isinstance(e, ir.Finish)), None)
    out, writer = from_ir(events)
    check_wire_grammar(out, complete=ending != "truncated")
    assert writer.dropped == 0
    final = sdk_accumulate(out, strict=True)
    assert_strict_equal(final["content"], expected)
    if ending != "truncated":
        tool_turn = any(b["type"] == "tool_use" for b in expected) or (
            finish and finish.stop.reason == "tool_use"
        )
        assert final["stop_reason"] == ("tool_use" if tool_turn else "end_turn")


# --- StreamToIR details ----------------------------------------------------------------------------


def _start(usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage or {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 4},
        },
    }


def test_stream_to_ir_merges_usage_renumbers_indices_and_counts_what_it_skips():
    items = [
        _start(),
        {"type": "ping"},
        {"type": "content_block_start", "index": 3, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 3, "delta": {"type": "text_delta", "text": "a"}},
        {"type": "content_block_delta", "index": 3, "delta": {"type": "future_delta", "x": 1}},
        {"type": "content_block_delta", "index": 8, "delta": {"type": "text_delta", "text": "?"}},
        {"type": "content_block_stop", "index": 3},
        {"type": "agent_status", "state": "x"},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}},
        {"type": "message_stop"},
        {"type": "content_block_stop", "index": 3},
    ]
    events, reader = to_ir(items)
    check_ir_grammar(events)
    assert reader.remapped == 1 and reader.skipped == 4
    assert events[2] == ir.BlockStart(index=0, part=ir.Text(text=""))
    usage = [e.usage for e in events if isinstance(e, ir.UsageUpdate)]
    assert (usage[0].input_tokens, usage[0].output_tokens) == (10, 1)
    assert (usage[-1].input_tokens, usage[-1].cache_read_tokens, usage[-1].output_tokens) == (10, 4, 7)


def test_stream_to_ir_error_and_truncation():
    events, _ = to_ir(
        [_start(), {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]
    )
    assert events[-1] == ir.StreamError(
        status=529,
        error_type="overloaded_error",
        message="Overloaded",
        body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    check_ir_grammar(events, complete=False)
    truncated, _ = to_ir(
        [_start(), {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}]
    )
    check_ir_grammar(truncated, complete=False)
    assert not any(isinstance(e, ir.End | ir.Finish) for e in truncated)
    with pytest.raises(ProviderError, match="truncated"):
        accumulate(truncated)


def test_server_tool_blocks_are_gathered_into_one_other_part():
    items = [
        _start(),
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"query'},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '": "q"}'},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}},
        {"type": "message_stop"},
    ]
    events, _ = to_ir(items)
    part = ir.Other(
        dialect="anthropic",
        data={"type": "server_tool_use", "id": "s", "name": "web_search", "input": {"query": "q"}},
    )
    assert events[2:4] == [ir.BlockStart(index=0, part=part), ir.BlockStop(index=0)]
    out, _ = from_ir(events)
    check_wire_grammar(out)
    assert oracle().final(sse(out))["content"] == [part.data]


# --- the checks fire on broken streams -------------------------------------------------------------

GOOD = [
    _start(),
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 2},
    },
    {"type": "message_stop"},
]


def _broken(change: Any) -> list[dict[str, Any]]:
    events = copy.deepcopy(GOOD)
    change(events)
    return events


BROKEN = {
    "index gap": lambda e: [x.__setitem__("index", 1) for x in e[1:4]],
    "delta to a closed block": lambda e: e.insert(4, e[2]),
    "no message_start": lambda e: e.pop(0),
    "delta of the wrong kind": lambda e: e[2].__setitem__(
        "delta", {"type": "input_json_delta", "partial_json": "{}"}
    ),
    "two blocks open": lambda e: e.insert(
        2, {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}
    ),
    "no message_stop": lambda e: e.pop(),
    "message_delta without stop_reason": lambda e: e[4]["delta"].__setitem__("stop_reason", None),
}


def test_the_good_stream_passes_every_check():
    check_wire_grammar(GOOD)
    assert oracle().final(sse(GOOD))["content"] == [{"type": "text", "text": "hi"}]


@pytest.mark.parametrize("name", BROKEN)
def test_the_wire_grammar_check_fires_on_broken_streams(name):
    with pytest.raises(AssertionError):
        check_wire_grammar(_broken(BROKEN[name]))


def test_the_sdk_oracle_fails_on_an_index_gap_and_on_missing_event_lines():
    with pytest.raises(IndexError):
        oracle().final(sse(_broken(BROKEN["index gap"])))
    data_only = b"".join(encode(json.dumps(event)) for event in GOOD)
    with pytest.raises((AssertionError, RuntimeError)):
        oracle().final(data_only)


@pytest.mark.parametrize(
    "events",
    [
        [ir.BlockStart(index=0, part=ir.Text(text="")), ir.End()],
        [ir.MessageStart(id="m", model="x"), ir.BlockStart(index=1, part=ir.Text(text="")), ir.End()],
        [ir.MessageStart(id="m", model="x"), ir.BlockDelta(index=0, text="x"), ir.End()],
        [
            ir.MessageStart(id="m", model="x"),
            ir.BlockStart(index=0, part=ir.Text(text="")),
            ir.Finish(stop=OPENAI_STOP),
            ir.End(),
        ],
        [ir.MessageStart(id="m", model="x"), ir.End(), ir.UsageUpdate(usage=ir.Usage())],
        [ir.MessageStart(id="m", model="x")],
    ],
    ids=["no start", "index gap", "delta before start", "finish with open block", "after end", "no end"],
)
def test_the_ir_grammar_check_fires_on_broken_ir(events):
    with pytest.raises(AssertionError):
        check_ir_grammar(events)


def test_a_broken_writer_fails_the_stream_property():
    """Drop the buffering of interleaved blocks (send every delta at once) and the grammar check fails."""
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id="m", model="gpt"),
        ir.BlockStart(index=0, part=ir.ToolCall(id="a", name="f", arguments="")),
        ir.BlockStart(index=1, part=ir.ToolCall(id="b", name="g", arguments="")),
        ir.BlockDelta(index=1, arguments="{}"),
        ir.BlockDelta(index=0, arguments="{}"),
    ]
    naive = [_start()]
    for event in events[1:]:
        if isinstance(event, ir.BlockStart):
            naive.append(
                {
                    "type": "content_block_start",
                    "index": event.index,
                    "content_block": {"type": "tool_use", "id": "x", "name": "f", "input": {}},
                }
            )
        else:
            naive.append(
                {
                    "type": "content_block_delta",
                    "index": event.index,  # type: ignore[union-attr]
                    "delta": {"type": "input_json_delta", "partial_json": "{}"},
                }
            )
    with pytest.raises(AssertionError, match="starts while block"):
        check_wire_grammar(naive, complete=False)
    out, _ = from_ir(events)
    check_wire_grammar(out, complete=False)


# --- the lossiness ledger --------------------------------------------------------------------------


def test_the_ledger_is_well_formed():
    assert conv.LOSSY and all(isinstance(row, Lossy) for row in conv.LOSSY)
    for row in conv.LOSSY:
        assert "anthropic" in (row.source, row.target) and row.field and row.reason
    fields = [(row.source, row.target, row.field) for row in conv.LOSSY]
    assert len(fields) == len(set(fields))
    assert any(row.field.startswith("Request.max_tokens") and "4096" in row.reason for row in conv.LOSSY)


def test_translated_text_turns_are_text_blocks_and_anything_more_takes_the_full_path():
    """A translated turn of plain texts is written as text blocks directly (empty ones dropped, an empty
    turn dropped); cache control, citations or kept Anthropic fields go through the general path."""
    citation = {"type": "char_location", "cited_text": "x", "document_index": 0, "start_char_index": 0,
                "end_char_index": 1}  # fmt: skip
    messages = [
        ir.Message(role="user", content=[ir.Text(text="a"), ir.Text(text=""), ir.Text(text="b")]),
        ir.Message(role="assistant", content=[ir.Text(text="")]),
        ir.Message(role="user", content=[ir.Text(text="cached", cache_control={"type": "ephemeral"})]),
        ir.Message(role="assistant", content=[ir.Text(text="cited", citations=[citation])]),
        ir.Message(role="user", content=[ir.Text(text="kept", vendor={"anthropic": {"rest": {"x_new": 1}}})]),
        ir.Message(role="tool", content=[ir.ToolResult(call_id="t1", content=[ir.Text(text="r")])]),
        ir.Message(role="user", content=[ir.Text(text="after results")]),
    ]
    body = conv.request_json_from_ir(ir.Request(model="m", messages=messages, vendor={"openai": {}}))
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {
            "role": "user",
            "content": [{"type": "text", "text": "cached", "cache_control": {"type": "ephemeral"}}],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "cited", "citations": [citation]}]},
        {"role": "user", "content": [{"type": "text", "text": "kept", "x_new": 1}]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "r"}]}
            ],
        },
        {"role": "user", "content": [{"type": "text", "text": "after results"}]},
    ]
