"""Anthropic wire models: parse∘serialize is the identity (unknown fields, explicit nulls, absent fields,
integer-valued numbers), decoding failures are ``ProviderError(kind="decode")``, and every recorded body and
SSE event of the real traffic parses and serializes back to itself."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from providers.errors import ProviderError
from providers.sse import decode_all
from providers.types import anthropic as wire
from tests.corpus import parameters, require_real_traffic
from tests.strategies import anthropic as strat
from tests.strategies.common import assert_strict_equal

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Whole bodies get many examples; the parts (also drawn inside the bodies) get a few of their own.
CASES = [
    (wire.MessagesRequest, strat.messages_request),
    (wire.MessagesResponse, strat.messages_response),
    (wire.ErrorBody, strat.error_body),
]
PARTS = [
    (wire.Usage, strat.usage),
    (wire.MessageDeltaUsage, strat.delta_usage),
    (wire.InputMessage, strat.message),
    (wire.Tool, strat.tool),
    (wire.ToolChoice, strat.tool_choice),
    (wire.ThinkingConfig, strat.thinking_config),
    (wire.OutputConfig, strat.output_config),
    (wire.TextBlock, strat.text_block),
    (wire.ImageBlock, strat.image_block),
    (wire.DocumentBlock, strat.document_block),
    (wire.ToolUseBlock, strat.tool_use_block),
    (wire.ToolResultBlock, strat.tool_result_block),
    (wire.ThinkingBlock, strat.thinking_block),
    (wire.RedactedThinkingBlock, strat.redacted_block),
    (wire.OtherBlock, strat.other_block),
]


def _identity(model, strategy, examples) -> int:
    """Check parse∘serialize on generated objects; the number of objects checked."""
    checked = []

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy)
    def check(obj):
        parsed = model.parse(obj)
        assert_strict_equal(parsed.to_json(), obj)
        assert_strict_equal(model.parse(parsed.to_bytes()).to_json(), obj)
        checked.append(obj)

    check()
    return len(checked)


@pytest.mark.parametrize(("model", "strategy"), CASES, ids=[model.__name__ for model, _ in CASES])
def test_parse_then_serialize_is_the_identity(model, strategy):
    assert _identity(model, strategy, 100 if model is not wire.ErrorBody else 40) > 0


@pytest.mark.parametrize(("model", "strategy"), PARTS, ids=[model.__name__ for model, _ in PARTS])
def test_parse_then_serialize_is_the_identity_for_parts(model, strategy):
    assert _identity(model, strategy, 20) > 0


@FAST
@given(strat.stream_event)
def test_stream_events_parse_and_serialize_back(obj):
    event = wire.parse_stream_event(obj)
    assert_strict_equal(event.to_json(), obj)
    assert_strict_equal(wire.parse_stream_event(event.to_bytes()).to_json(), obj)
    assert_strict_equal(wire.parse_stream_event(json.dumps(obj)).to_json(), obj)


def test_a_lossy_serializer_fails_the_identity_check():
    """The property above can fail: dumping without ``exclude_unset`` adds the absent optional fields."""
    obj = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "temperature": 1}
    parsed = wire.MessagesRequest.parse(obj)
    with pytest.raises(AssertionError, match="keys differ"):
        assert_strict_equal(parsed.model_dump(mode="json"), obj)
    widened = dict(parsed.to_json(), temperature=1.0)
    with pytest.raises(AssertionError, match="temperature"):
        assert_strict_equal(widened, obj)


def test_integer_numbers_stay_integers_and_floats_stay_floats():
    req = wire.MessagesRequest.parse(
        {"model": "m", "max_tokens": 5, "messages": [], "temperature": 1, "top_p": 0.5}
    )
    assert type(req.temperature) is int and type(req.top_p) is float
    assert req.to_bytes() == b'{"model":"m","max_tokens":5,"messages":[],"temperature":1,"top_p":0.5}'


def test_unknown_block_delta_and_event_types_are_kept_whole():
    req = wire.MessagesRequest.parse(
        {
            "model": "m",
            "max_tokens": 1,
            "messages": [{"role": "user", "content": [{"type": "hologram", "depth": [1, {"z": None}]}]}],
        }
    )
    block = req.messages[0].content[0]
    assert isinstance(block, wire.OtherBlock) and block.extra == {"depth": [1, {"z": None}]}
    delta = wire.parse_stream_event(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "compaction_delta", "c": 1}}
    )
    assert isinstance(delta.delta, wire.OtherDelta)
    event = wire.parse_stream_event({"type": "session_status", "status": "idle"})
    assert isinstance(event, wire.OtherEvent) and event.to_json() == {
        "type": "session_status",
        "status": "idle",
    }


def test_known_shapes_validate_into_their_models():
    event = wire.parse_stream_event(
        b'{"type":"content_block_start","index":0,"content_block":'
        b'{"type":"tool_use","id":"t","name":"f","input":{}}}'
    )
    assert isinstance(event, wire.ContentBlockStart) and isinstance(event.content_block, wire.ToolUseBlock)
    tools = wire.MessagesRequest.parse(
        {
            "model": "m",
            "max_tokens": 1,
            "messages": [],
            "tools": [{"type": "mcp_toolset", "mcp_server_name": "s"}, {"name": "f", "input_schema": {}}],
        }
    ).tools
    assert tools is not None and tools[0].name is None and tools[1].name == "f"


@pytest.mark.parametrize(
    ("model", "data", "where"),
    [
        (wire.MessagesRequest, {"model": "m", "messages": []}, "max_tokens"),
        (wire.MessagesRequest, {"model": "m", "max_tokens": True, "messages": []}, "max_tokens"),
        (wire.MessagesRequest, {"model": "m", "max_tokens": 1.0, "messages": []}, "max_tokens"),
        (
            wire.MessagesRequest,
            {"model": "m", "max_tokens": 1, "messages": [], "temperature": "1"},
            "temperature",
        ),
        (wire.MessagesResponse, {"id": "x", "content": [], "model": "m"}, "usage"),
        (
            wire.MessagesResponse,
            {
                "id": "x",
                "content": [{"type": "text"}],
                "model": "m",
                "usage": {"input_tokens": 1, "output_tokens": 1},
            },
            "content",
        ),
        (wire.ErrorBody, {"type": "error", "error": {"type": "api_error"}}, "message"),
    ],
)
def test_invalid_bodies_raise_decode_errors_naming_the_field(model, data, where):
    with pytest.raises(ProviderError) as caught:
        model.parse(data)
    assert caught.value.kind == "decode" and where in caught.value.message
    assert caught.value.raw


@pytest.mark.parametrize(
    "data",
    [b'{"type":', b'{"type":"content_block_delta","index":0}', b"[1]", b"{}", b'{"type":7}'],
)
def test_parse_stream_event_raises_decode_errors(data):
    with pytest.raises(ProviderError) as caught:
        wire.parse_stream_event(data)
    assert caught.value.kind == "decode" and caught.value.raw == data


def test_message_delta_usage_needs_only_output_tokens():
    event = wire.parse_stream_event(
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}
    )
    assert isinstance(event, wire.MessageDelta) and event.usage.input_tokens is None
    with pytest.raises(ProviderError):
        wire.parse_stream_event({"type": "message_delta", "delta": {}, "usage": {"input_tokens": 3}})


def test_aliases():
    assert wire.AnthropicRequest is wire.MessagesRequest
    assert wire.AnthropicResponse is wire.MessagesResponse


# --- recorded traffic ------------------------------------------------------------------------------


def _interactions():
    return strat.anthropic_interactions()


INTERACTIONS = _interactions()


def test_real_traffic_is_there():
    require_real_traffic()
    assert len(INTERACTIONS) >= 40, "expected the recorded Anthropic cassettes"
    assert sum(strat.is_sse(raw) for _, _, raw, _ in INTERACTIONS) >= 5


@pytest.mark.parametrize(
    ("name", "request_json", "raw", "status"), parameters(INTERACTIONS, [i[0] for i in INTERACTIONS], arity=4)
)
def test_real_bodies_parse_and_round_trip(name, request_json, raw, status):
    if request_json is not None:
        assert_strict_equal(wire.MessagesRequest.parse(request_json).to_json(), request_json)
    if strat.is_sse(raw):
        events = decode_all(raw)
        assert events and all(event.event is not None for event in events)
        for event in events:
            data = json.loads(event.data)
            parsed = wire.parse_stream_event(event.data.encode())
            assert type(parsed) is not wire.OtherEvent, data["type"]
            assert event.event == data["type"]
            assert_strict_equal(parsed.to_json(), data)
        return
    body = json.loads(raw)
    model = wire.ErrorBody if status >= 400 else wire.MessagesResponse
    assert_strict_equal(model.parse(body).to_json(), body)
    assert_strict_equal(model.parse(raw).to_json(), body)
