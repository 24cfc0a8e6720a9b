"""AnthropicProvider against a loopback upstream: the exact requests, typed/raw results and streams,
in-stream errors with their statuses, truncation, error mapping, retries, and the translated paths."""

from __future__ import annotations

import copy
import json

import pytest

from providers.anthropic import AnthropicProvider
from providers.convert import anthropic as anthropic_convert
from providers.convert.accumulate import accumulate
from providers.errors import ProviderError
from providers.sse import decode_all
from providers.transport import RetryPolicy
from providers.types import ir
from providers.types.anthropic import MessagesRequest
from providers.types.gemini import GenerateContentRequest
from providers.types.openai import ChatCompletionRequest
from tests.fixtures.providers import (
    ANTHROPIC_ERRORS,
    ANTHROPIC_EVENTS,
    ANTHROPIC_REQUEST,
    ANTHROPIC_RESPONSE,
    ANTHROPIC_TOOL_EVENTS,
    GEMINI_AS_ANTHROPIC,
    GEMINI_REQUEST,
    OPENAI_AS_ANTHROPIC,
    OPENAI_REQUEST,
    Sleeps,
    anthropic_error,
    anthropic_sse,
    dumps,
    sent,
    sent_json,
    split_frames,
    streaming,
)
from tests.strategies.common import assert_strict_equal

pytestmark = pytest.mark.anyio

MESSAGES = "/v1/messages"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def provider(httpserver, sleeps):
    async with AnthropicProvider(
        "sk-ant-test",
        base_url=httpserver.url_for("/"),
        betas=["prompt-caching-2024-07-31", "context-1m-2025-08-07"],
        retry=RetryPolicy(jitter=False),
        sleep=sleeps,
    ) as p:
        yield p


def expect_messages(httpserver, reply: dict | bytes, **kwargs):
    handler = httpserver.expect_request(MESSAGES, method="POST")
    if isinstance(reply, bytes):
        handler.respond_with_handler(streaming(split_frames(reply), **kwargs))
    else:
        handler.respond_with_json(reply)


def assert_anthropic_headers(request) -> None:
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert "Authorization" not in request.headers
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["anthropic-beta"] == "prompt-caching-2024-07-31,context-1m-2025-08-07"
    assert request.headers["Content-Type"] == "application/json"


# --- native -------------------------------------------------------------------------------------------


async def test_messages_sends_the_request_as_given_and_returns_the_upstream_body(httpserver, provider):
    expect_messages(httpserver, ANTHROPIC_RESPONSE)
    result = await provider.anthropic_messages(MessagesRequest.parse(ANTHROPIC_REQUEST))
    request = sent(httpserver)
    assert (request.method, request.path, request.query_string) == ("POST", MESSAGES, b"")
    assert_anthropic_headers(request)
    assert_strict_equal(sent_json(httpserver), ANTHROPIC_REQUEST)
    assert_strict_equal(result.to_json(), ANTHROPIC_RESPONSE)
    assert (result.content[0].text, result.stop_reason, result.usage.output_tokens) == (
        "Hello!",
        "end_turn",
        3,
    )


async def test_messages_never_asks_the_upstream_to_stream(httpserver, provider):
    expect_messages(httpserver, ANTHROPIC_RESPONSE)
    await provider.anthropic_messages(MessagesRequest.parse({**ANTHROPIC_REQUEST, "stream": True}))
    assert_strict_equal(sent_json(httpserver), {**ANTHROPIC_REQUEST, "stream": False})


@pytest.mark.parametrize(
    ("auth", "version", "header", "value"),
    [("x-api-key", "2023-06-01", "x-api-key", "k"), ("bearer", "2026-10-21", "Authorization", "Bearer k")],
)
async def test_auth_styles_and_version(httpserver, auth, version, header, value):
    expect_messages(httpserver, ANTHROPIC_RESPONSE)
    async with AnthropicProvider(
        "k", base_url=httpserver.url_for(""), auth=auth, version=version
    ) as provider:
        await provider.anthropic_messages(MessagesRequest.parse(ANTHROPIC_REQUEST))
    request = sent(httpserver)
    assert request.headers[header] == value
    assert request.headers["anthropic-version"] == version
    assert "anthropic-beta" not in request.headers
    other = "Authorization" if header == "x-api-key" else "x-api-key"
    assert other not in request.headers


def test_an_unknown_auth_style_is_refused():
    with pytest.raises(ValueError, match="auth must be"):
        AnthropicProvider("k", auth="cookie")


async def test_stream_yields_every_event_ping_included(httpserver, provider):
    expect_messages(httpserver, anthropic_sse(ANTHROPIC_EVENTS))
    stream = await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    events = await stream.collect()
    assert_strict_equal(sent_json(httpserver), {**ANTHROPIC_REQUEST, "stream": True})
    assert_anthropic_headers(sent(httpserver))
    assert [e.to_json() for e in events] == ANTHROPIC_EVENTS
    to_ir = anthropic_convert.StreamToIR()
    answer = accumulate([x for e in events for x in to_ir.feed(e)] + to_ir.close())
    assert [p.text for p in answer.content] == ["Hello!"]
    assert (answer.stop.raw, answer.usage.input_tokens, answer.usage.output_tokens) == ("end_turn", 12, 3)


async def test_streamed_tool_input_accumulates(httpserver, provider):
    expect_messages(httpserver, anthropic_sse(ANTHROPIC_TOOL_EVENTS))
    stream = await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    to_ir = anthropic_convert.StreamToIR()
    [call] = accumulate([x for e in await stream.collect() for x in to_ir.feed(e)] + to_ir.close()).content
    assert (call.id, call.name, json.loads(call.arguments)) == ("toolu_01", "weather", {"city": "Paris"})


@pytest.mark.parametrize(
    ("error_type", "status"),
    [
        ("overloaded_error", 529),
        ("rate_limit_error", 429),
        ("api_error", 500),
        ("invalid_request_error", 400),
        ("timeout_error", 504),
        ("brand_new_error", 500),
    ],
)
async def test_an_error_event_raises_with_the_status_of_its_type(httpserver, provider, error_type, status):
    error = {"type": "error", "error": {"type": error_type, "message": "Overloaded"}}
    expect_messages(httpserver, anthropic_sse([*ANTHROPIC_EVENTS[:4], error]))
    stream = await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    got = []
    with pytest.raises(ProviderError) as caught:
        async for event in stream:
            got.append(event.to_json())
    assert got == ANTHROPIC_EVENTS[:4]
    failure = caught.value
    assert (failure.kind, failure.status, failure.error_type, failure.message) == (
        "upstream",
        status,
        error_type,
        "Overloaded",
    )
    assert failure.details == {"in_stream": True} and json.loads(failure.body) == error


async def test_a_stream_without_message_stop_is_a_disconnect(httpserver, provider):
    expect_messages(httpserver, anthropic_sse(ANTHROPIC_EVENTS[:-1]))
    stream = await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    got = []
    with pytest.raises(ProviderError) as caught:
        async for event in stream:
            got.append(event)
    assert len(got) == len(ANTHROPIC_EVENTS) - 1
    assert (caught.value.kind, caught.value.reason) == ("transport", "disconnect")
    assert "message_stop" in caught.value.message


async def test_a_mid_stream_disconnect_is_raised_and_not_retried(httpserver, provider, sleeps):
    expect_messages(httpserver, anthropic_sse(ANTHROPIC_EVENTS), fail_after=3)
    stream = await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    got = []
    with pytest.raises(ProviderError) as caught:
        async for event in stream:
            got.append(event)
    assert len(got) == 3 and (caught.value.kind, caught.value.reason) == ("transport", "disconnect")
    assert "RemoteProtocolError" in caught.value.message
    assert len(httpserver.log) == 1 and sleeps.waits == []


async def test_a_malformed_event_is_a_decode_error_with_its_bytes(httpserver, provider):
    body = (
        anthropic_sse(ANTHROPIC_EVENTS[:1])
        + b'event: content_block_start\ndata: {"type":"content_block_start","index":"zero"}\n\n'
    )
    expect_messages(httpserver, body)
    stream = await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    with pytest.raises(ProviderError) as caught:
        await stream.collect()
    assert caught.value.kind == "decode" and b'"zero"' in caught.value.raw


async def test_a_stream_owns_its_data(httpserver, provider):
    expect_messages(httpserver, anthropic_sse(ANTHROPIC_EVENTS), pause=0.01)
    request = MessagesRequest.parse(copy.deepcopy(ANTHROPIC_REQUEST))
    stream = await provider.anthropic_messages_stream(request)
    request.messages.clear()
    request.model = "other"
    assert [e.to_json() for e in await stream.collect()] == ANTHROPIC_EVENTS
    assert sent_json(httpserver)["model"] == "claude-sonnet-4-5"


# --- raw ----------------------------------------------------------------------------------------------

RAW_BODY = b'{"model":"claude-sonnet-4-5", "max_tokens": 50,\n "messages":[{"role":"user","content":"Hi"}], "temperature": 1.0}'
RAW_REPLY = json.dumps(ANTHROPIC_RESPONSE, indent=1).encode()


async def test_raw_forwards_both_bodies_and_agrees_with_typed(httpserver, provider):
    httpserver.expect_request(MESSAGES).respond_with_data(RAW_REPLY, content_type="application/json")
    raw = await provider.anthropic_messages_raw(RAW_BODY)
    typed = await provider.anthropic_messages(MessagesRequest.parse(RAW_BODY))
    assert raw == RAW_REPLY and sent(httpserver, 0).get_data() == RAW_BODY
    assert_anthropic_headers(sent(httpserver, 0))
    assert_strict_equal(json.loads(raw), typed.to_json())
    assert_strict_equal(typed.to_json(), ANTHROPIC_RESPONSE)


async def test_stream_raw_forwards_bytes_and_agrees_with_typed(httpserver, provider):
    body = anthropic_sse(ANTHROPIC_EVENTS)
    raw_request = b'{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]}'
    expect_messages(httpserver, body)
    raw = b"".join(await (await provider.anthropic_messages_stream_raw(raw_request)).collect())
    typed = await (await provider.anthropic_messages_stream(MessagesRequest.parse(raw_request))).collect()
    assert raw == body and sent(httpserver, 0).get_data() == raw_request
    events = decode_all(raw)
    assert [e.event for e in events] == [e["type"] for e in ANTHROPIC_EVENTS]
    assert_strict_equal([json.loads(e.data) for e in events], [e.to_json() for e in typed])


async def test_stream_raw_reports_truncation_after_every_byte_but_not_an_in_band_error(httpserver, provider):
    cut = anthropic_sse(ANTHROPIC_EVENTS[:5])
    failed = cut + anthropic_sse([anthropic_error("overloaded_error", "Overloaded")])
    httpserver.expect_ordered_request(MESSAGES).respond_with_data(cut, content_type="text/event-stream")
    httpserver.expect_ordered_request(MESSAGES).respond_with_data(failed, content_type="text/event-stream")
    got = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in await provider.anthropic_messages_stream_raw(RAW_BODY):
            got.append(chunk)
    assert b"".join(got) == cut and (caught.value.kind, caught.value.reason) == ("transport", "disconnect")
    assert b"".join(await (await provider.anthropic_messages_stream_raw(RAW_BODY)).collect()) == failed


# --- translated ---------------------------------------------------------------------------------------


async def test_chat_completion_is_translated_and_honours_max_completion_tokens(httpserver, provider):
    expect_messages(httpserver, ANTHROPIC_RESPONSE)
    result = await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    assert_strict_equal(sent_json(httpserver), OPENAI_AS_ANTHROPIC)
    out = result.to_json()
    assert (out["id"], out["object"], out["model"]) == (
        "msg_01XFDUDYJgAACzvnptvVoYEL",
        "chat.completion",
        "claude-sonnet-4-5-20250929",
    )
    [choice] = out["choices"]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("Hello!", "stop")
    assert (
        out["usage"]["prompt_tokens"],
        out["usage"]["completion_tokens"],
        out["usage"]["total_tokens"],
    ) == (12, 3, 15)


@pytest.mark.parametrize("usage", [False, True])
async def test_chat_completion_stream_is_translated(httpserver, provider, usage):
    expect_messages(httpserver, anthropic_sse(ANTHROPIC_TOOL_EVENTS))
    options = {"stream_options": {"include_usage": True}} if usage else {}
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse({**OPENAI_REQUEST, **options}))
    chunks = [c.to_json() for c in await stream.collect()]
    assert_strict_equal(sent_json(httpserver), {**OPENAI_AS_ANTHROPIC, "stream": True})
    assert {c["id"] for c in chunks} == {"msg_tool"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    calls = [tc for c in chunks for ch in c["choices"] for tc in ch["delta"].get("tool_calls", [])]
    assert calls[0] == {
        "index": 0,
        "id": "toolu_01",
        "type": "function",
        "function": {"name": "weather", "arguments": ""},
    }
    assert "".join(tc["function"]["arguments"] for tc in calls) == '{"city": "Paris"}'
    assert [ch["finish_reason"] for c in chunks for ch in c["choices"] if ch["finish_reason"]] == [
        "tool_calls"
    ]
    # the usage-only chunk comes exactly when the client asked for it, as OpenAI sends it
    if usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 20
    else:
        assert all(c["choices"] for c in chunks) and all(c.get("usage") is None for c in chunks)


async def test_a_translated_stream_owns_its_data(httpserver, provider):
    expect_messages(httpserver, anthropic_sse(ANTHROPIC_EVENTS), pause=0.01)
    request = ChatCompletionRequest.parse(copy.deepcopy(OPENAI_REQUEST))
    stream = await provider.chat_completion_stream(request)
    request.messages.clear()
    request.model = "other"
    chunks = [c.to_json() for c in await stream.collect()]
    assert "".join(ch["delta"].get("content") or "" for c in chunks for ch in c["choices"]) == "Hello!"
    assert_strict_equal(sent_json(httpserver), {**OPENAI_AS_ANTHROPIC, "stream": True})


async def test_chat_completion_stream_raises_an_in_stream_error(httpserver, provider):
    expect_messages(
        httpserver, anthropic_sse([*ANTHROPIC_EVENTS[:4], anthropic_error("overloaded_error", "Overloaded")])
    )
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    with pytest.raises(ProviderError) as caught:
        await stream.collect()
    assert (caught.value.status, caught.value.error_type, caught.value.details) == (
        529,
        "overloaded_error",
        {"in_stream": True},
    )


async def test_gemini_stream_is_translated_through_the_anthropic_stream(httpserver, provider):
    expect_messages(httpserver, anthropic_sse(ANTHROPIC_EVENTS))
    stream = await provider.gemini_generate_content_stream(
        "gemini-2.5-flash", GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    items = [i.to_json() for i in await stream.collect()]
    assert_strict_equal(sent_json(httpserver), {**GEMINI_AS_ANTHROPIC, "stream": True})
    text = "".join(
        p.get("text", "") for i in items for c in i.get("candidates", []) for p in c["content"]["parts"]
    )
    assert text == "Hello!"
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"
    assert (
        items[-1]["usageMetadata"]["promptTokenCount"] == 12
        and items[-1]["usageMetadata"]["candidatesTokenCount"] == 3
    )


async def test_gemini_generate_content_keeps_the_seed_default_via_messages(httpserver, provider):
    expect_messages(httpserver, ANTHROPIC_RESPONSE)
    result = await provider.gemini_generate_content(
        "gemini-2.5-flash", GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    assert_strict_equal(sent_json(httpserver), GEMINI_AS_ANTHROPIC)
    candidate = result.to_json()["candidates"][0]
    assert (candidate["content"]["parts"], candidate["finishReason"]) == ([{"text": "Hello!"}], "STOP")


async def test_raw_defaults_of_other_dialects_parse_call_and_serialize(httpserver, provider):
    expect_messages(httpserver, ANTHROPIC_RESPONSE)
    chat = json.loads(await provider.chat_completion_raw("", json.dumps(OPENAI_REQUEST).encode()))
    gemini = json.loads(
        await provider.gemini_generate_content_raw("gemini-2.5-flash", json.dumps(GEMINI_REQUEST).encode())
    )
    assert_strict_equal(sent_json(httpserver, 0), OPENAI_AS_ANTHROPIC)
    assert_strict_equal(sent_json(httpserver, 1), GEMINI_AS_ANTHROPIC)
    assert chat["choices"][0]["message"]["content"] == "Hello!"
    assert gemini["candidates"][0]["content"]["parts"] == [{"text": "Hello!"}]


async def test_a_malformed_raw_body_of_another_dialect_is_invalid_request(httpserver, provider):
    with pytest.raises(ProviderError) as caught:
        await provider.chat_completion_raw("m", b'{"model": "m"}')
    assert caught.value.kind == "invalid_request" and httpserver.log == []


async def test_complete_and_complete_stream_go_through_messages(httpserver, provider):
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(ANTHROPIC_RESPONSE)
    httpserver.expect_ordered_request(MESSAGES).respond_with_data(anthropic_sse(ANTHROPIC_EVENTS))
    request = ir.Request(
        model="claude-sonnet-4-5",
        messages=[ir.Message(role="user", content=[ir.Text(text="Hi")], shorthand=True)],
        max_tokens=50,
    )
    answer = await provider.complete(request)
    events = await (await provider.complete_stream(request)).collect()
    want = {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}
    assert_strict_equal(sent_json(httpserver, 0), want)
    assert_strict_equal(sent_json(httpserver, 1), {**want, "stream": True})
    assert [p.text for p in answer.content] == ["Hello!"] and answer.stop.raw == "end_turn"
    streamed = accumulate(events)
    assert [p.text for p in streamed.content] == ["Hello!"] and streamed.usage.output_tokens == 3


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("embedding", (None,)),
        ("image_generation", (None,)),
        ("audio_speech", (None,)),
        ("audio_transcription", ("m", [])),
        ("chat_completion_stream_passthrough", ("m", None)),
        ("chat_completion_stream_raw", ("m", b"{}")),
        ("gemini_generate_content_stream_raw", ("m", b"{}")),
    ],
)
async def test_methods_anthropic_does_not_offer(httpserver, provider, method, args):
    with pytest.raises(ProviderError) as caught:
        await getattr(provider, method)(*args)
    assert (caught.value.kind, caught.value.method) == ("not_implemented", method)
    assert method in str(caught.value) and httpserver.log == []


def test_compat_flags():
    provider = AnthropicProvider("k")
    assert (provider.is_openai_compat(), provider.is_anthropic_compat(), provider.is_gemini_compat()) == (
        False,
        True,
        False,
    )


# --- errors and retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(ANTHROPIC_ERRORS))
async def test_http_errors_map_to_upstream_errors(httpserver, status):
    headers, body, error_type, message = ANTHROPIC_ERRORS[status]
    httpserver.expect_request(MESSAGES).respond_with_json(body, status=status, headers=headers)
    async with AnthropicProvider(
        "k", base_url=httpserver.url_for(""), retry=RetryPolicy(max_retries=0)
    ) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    error = caught.value
    assert (error.kind, error.status, error.error_type, error.message) == (
        "upstream",
        status,
        error_type,
        message,
    )
    assert error.retry_after == (7.0 if status == 429 else None)
    assert json.loads(error.body) == body and "in_stream" not in error.details


async def test_529_overloaded_then_200_is_retried(httpserver, provider, sleeps):
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(ANTHROPIC_ERRORS[529][1], status=529)
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(
        ANTHROPIC_ERRORS[429][1], status=429, headers={"retry-after": "1"}
    )
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(ANTHROPIC_RESPONSE)
    result = await provider.anthropic_messages(MessagesRequest.parse(ANTHROPIC_REQUEST))
    assert result.id == ANTHROPIC_RESPONSE["id"]
    assert provider.transport.last_attempts == 3 and sleeps.waits == [0.5, 1.0]


async def test_raw_calls_are_retried_too_but_not_a_400(httpserver, provider, sleeps):
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(ANTHROPIC_ERRORS[500][1], status=500)
    httpserver.expect_ordered_request(MESSAGES).respond_with_data(RAW_REPLY)
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(ANTHROPIC_ERRORS[400][1], status=400)
    assert await provider.anthropic_messages_raw(RAW_BODY) == RAW_REPLY
    assert provider.transport.last_attempts == 2
    with pytest.raises(ProviderError) as caught:
        await provider.anthropic_messages_raw(RAW_BODY)
    assert caught.value.status == 400 and provider.transport.last_attempts == 1 and sleeps.waits == [0.5]


def test_event_payloads_are_literal_wire_json():
    # The SSE framing of docs/wire.md#anthropic-streaming: event name == JSON type.
    for event in decode_all(anthropic_sse(ANTHROPIC_EVENTS)):
        assert json.loads(event.data)["type"] == event.event
    assert dumps({"a": 1}) == '{"a":1}'
