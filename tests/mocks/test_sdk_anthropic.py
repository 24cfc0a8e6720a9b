"""The official anthropic SDK (2.x: ``Authorization: Bearer``, ``anthropic-version: 2026-10-21``) and the
older client generation's headers against both mock servers."""

from __future__ import annotations

import anthropic
import httpx

from mocks.engine import HostedUpstream
from providers.sse import decode_all
from tests.mocks.conftest import ANTHROPIC_MODEL, ANTHROPIC_TOOL

THINKING = {"type": "enabled", "budget_tokens": 1024}
ASK_TOOL = [{"role": "user", "content": "What is the weather in Lima? Call get_weather."}]


def test_create_with_thinking_and_tool_use(
    anthropic_client: anthropic.Anthropic, upstream: HostedUpstream
) -> None:
    message = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=2048, thinking=THINKING, messages=ASK_TOOL, tools=[ANTHROPIC_TOOL]
    )
    assert [b.type for b in message.content] == ["thinking", "tool_use"]
    thinking, tool_use = message.content
    assert thinking.thinking and thinking.signature
    assert tool_use.name == "get_weather" and set(tool_use.input) == {"city", "unit"}
    assert tool_use.id.startswith("toolu_01")
    assert message.stop_reason == "tool_use"
    seen = upstream.requests[0]
    assert seen.header("authorization") == "Bearer <redacted:11 chars>"
    assert seen.header("anthropic-version") == "2026-10-21"


def test_stream_helper_assembles_thinking_and_tool_use(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=2048, thinking=THINKING, messages=ASK_TOOL, tools=[ANTHROPIC_TOOL]
    ) as stream:
        final = stream.get_final_message()
    thinking, tool_use = final.content
    assert thinking.type == "thinking" and thinking.signature
    assert tool_use.type == "tool_use" and tool_use.input["unit"] in ("c", "f")
    plain = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=2048, thinking=THINKING, messages=ASK_TOOL, tools=[ANTHROPIC_TOOL]
    )
    assert final.content == plain.content  # the same request gets the same answer, streamed or not
    assert final.usage.output_tokens == plain.usage.output_tokens


def test_text_after_tool_result(anthropic_client: anthropic.Anthropic) -> None:
    first = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=512, messages=ASK_TOOL, tools=[ANTHROPIC_TOOL]
    )
    tool_use = first.content[-1]
    messages = [
        *ASK_TOOL,
        {"role": "assistant", "content": [tool_use.model_dump(exclude_none=True)]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "18 C"}]},
    ]
    second = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=512, messages=messages, tools=[ANTHROPIC_TOOL]
    )
    assert second.stop_reason == "end_turn" and second.content[0].type == "text"


def test_stream_wire_shape(upstream: HostedUpstream) -> None:
    """Event names equal the JSON type, ping right after the first block starts, padding inside data."""
    response = httpx.post(
        upstream.urls["anthropic"] + "/v1/messages?beta=true",
        headers={"x-api-key": "old-style-key", "anthropic-version": "2023-06-01"},
        json={
            "model": ANTHROPIC_MODEL,
            "max_tokens": 200,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = decode_all(response.content)
    names = [e.event for e in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert all(e.event == "ping" or f'"type":"{e.event}"' in e.data for e in events)
    assert any(e.data.endswith(" ") for e in events)  # the real API's whitespace padding
    assert upstream.requests[0].header("x-api-key") == "<redacted:13 chars>"


def test_unknown_anthropic_version_is_rejected(upstream: HostedUpstream) -> None:
    response = httpx.post(
        upstream.urls["anthropic"] + "/v1/messages",
        headers={"x-api-key": "k", "anthropic-version": "1999-01-01"},
        json={"model": ANTHROPIC_MODEL, "max_tokens": 10, "messages": []},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"] == 'anthropic-version: "1999-01-01" is not a valid version'
    assert body["request_id"].startswith("req_")
    assert upstream.requests[0].rejected == "protocol"


def test_count_tokens_and_cache_control(anthropic_client: anthropic.Anthropic) -> None:
    counted = anthropic_client.messages.count_tokens(model=ANTHROPIC_MODEL, messages=ASK_TOOL)
    assert counted.input_tokens > 0
    system = [{"type": "text", "text": "You are terse. " * 40, "cache_control": {"type": "ephemeral"}}]
    message = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=256, system=system, messages=ASK_TOOL
    )
    usage = message.usage
    assert usage.cache_read_input_tokens > 0
    plain = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=256, system="You are terse.", messages=ASK_TOOL
    )
    assert plain.usage.cache_read_input_tokens == 0
