"""OpenAIProvider against a loopback upstream (pytest-httpserver): the exact requests it sends, what it
returns, its streams (typed, raw, passthrough, translated), error mapping, retries, and raw ≡ typed."""

from __future__ import annotations

import copy
import json
import time

import pytest
from werkzeug import Response

from providers.convert import anthropic as anthropic_convert
from providers.convert import openai as openai_convert
from providers.convert.accumulate import accumulate
from providers.errors import ProviderError
from providers.openai import OpenAIProvider
from providers.sse import decode_all, is_done
from providers.streams import from_items
from providers.transport import RetryPolicy
from providers.types import ir
from providers.types.anthropic import MessagesRequest
from providers.types.gemini import GenerateContentRequest
from providers.types.media import (
    AudioSpeechRequest,
    EmbeddingRequest,
    ImageRequest,
    MultipartField,
    decode_multipart,
    encode_base64,
)
from providers.types.openai import ChatCompletionRequest
from tests.fixtures.providers import (
    ANTHROPIC_AS_OPENAI,
    ANTHROPIC_REQUEST,
    GEMINI_AS_OPENAI,
    GEMINI_REQUEST,
    IR_REQUEST_JSON,
    OPENAI_CHUNKS,
    OPENAI_EMBEDDING_REQUEST,
    OPENAI_EMBEDDING_RESPONSE,
    OPENAI_ERRORS,
    OPENAI_IMAGE_REQUEST,
    OPENAI_IMAGE_RESPONSE,
    OPENAI_REQUEST,
    OPENAI_RESPONSE,
    OPENAI_SPEECH_REQUEST,
    OPENAI_TOOL_CHUNKS,
    OPENAI_TRANSCRIPTION_RESPONSE,
    Sleeps,
    dumps,
    openai_sse,
    sent,
    sent_json,
    split_frames,
    streaming,
)
from tests.strategies.common import assert_strict_equal

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def provider(httpserver, sleeps):
    async with OpenAIProvider(
        "sk-test",
        base_url=httpserver.url_for("/v1/"),
        organization="org-1",
        project="proj-1",
        headers={"X-Trace": "t-1"},
        retry=RetryPolicy(jitter=False),
        sleep=sleeps,
    ) as p:
        yield p


def expect_chat(httpserver, reply: dict | bytes, **kwargs):
    handler = httpserver.expect_request(CHAT, method="POST")
    if isinstance(reply, bytes):
        handler.respond_with_handler(streaming(split_frames(reply), **kwargs))
    else:
        handler.respond_with_json(reply)


def assert_openai_headers(request) -> None:
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert request.headers["OpenAI-Organization"] == "org-1"
    assert request.headers["OpenAI-Project"] == "proj-1"
    assert request.headers["X-Trace"] == "t-1"
    assert request.headers["Content-Type"] == "application/json"


# --- chat, typed --------------------------------------------------------------------------------------


async def test_chat_completion_sends_the_request_as_given_and_returns_the_upstream_body(httpserver, provider):
    expect_chat(httpserver, OPENAI_RESPONSE)
    result = await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))

    request = sent(httpserver)
    assert (request.method, request.path, request.query_string) == ("POST", CHAT, b"")
    assert_openai_headers(request)
    assert_strict_equal(sent_json(httpserver), OPENAI_REQUEST)
    assert_strict_equal(result.to_json(), OPENAI_RESPONSE)
    assert result.choices[0].message.content == "Hello!"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (12, 3)


async def test_chat_completion_never_asks_the_upstream_to_stream(httpserver, provider):
    expect_chat(httpserver, OPENAI_RESPONSE)
    body = {**OPENAI_REQUEST, "stream": True, "stream_options": {"include_usage": True}}
    await provider.chat_completion(ChatCompletionRequest.parse(body))
    assert_strict_equal(sent_json(httpserver), {**OPENAI_REQUEST, "stream": False})


async def test_chat_completion_stream_yields_every_chunk_until_done(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_CHUNKS))
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    chunks = await stream.collect()

    assert_strict_equal(sent_json(httpserver), {**OPENAI_REQUEST, "stream": True})
    assert_openai_headers(sent(httpserver))
    assert [c.to_json() for c in chunks] == OPENAI_CHUNKS
    to_ir = openai_convert.StreamToIR()
    answer = accumulate([e for c in chunks for e in to_ir.feed(c)] + to_ir.close())
    assert [p.text for p in answer.content] == ["Hello!"]
    assert (answer.stop.reason, answer.stop.raw) == ("end_turn", "stop")
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (12, 3)


async def test_streamed_tool_call_fragments_accumulate_to_the_whole_call(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_TOOL_CHUNKS))
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    to_ir = openai_convert.StreamToIR()
    events = [e for c in await stream.collect() for e in to_ir.feed(c)] + to_ir.close()
    [call] = accumulate(events).content
    assert (call.id, call.name, call.arguments) == ("call_w1", "weather", '{"city":"Paris"}')


@pytest.mark.parametrize(
    ("error", "status", "error_type"),
    [
        (
            {"message": "The server had an error", "type": "server_error", "param": None, "code": None},
            500,
            "server_error",
        ),
        (
            {"message": "Rate limit reached", "type": "tokens", "param": None, "code": "rate_limit_exceeded"},
            429,
            "tokens",
        ),
        ({"message": "bad", "type": "BadRequestError", "code": 400}, 400, "BadRequestError"),  # vLLM style
        ({"message": "odd"}, 500, None),
    ],
)
async def test_an_error_item_in_the_stream_is_raised_from_the_iterator(
    httpserver, provider, error, status, error_type
):
    frames = [
        *split_frames(openai_sse(OPENAI_CHUNKS[:2], done=False)),
        f"data: {dumps({'error': error})}\n\n".encode(),
    ]
    httpserver.expect_request(CHAT).respond_with_handler(streaming(frames))
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    got = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in stream:
            got.append(chunk.to_json())
    assert got == OPENAI_CHUNKS[:2]
    failure = caught.value
    assert (failure.kind, failure.status, failure.error_type, failure.message) == (
        "upstream", status, error_type, error["message"],
    )  # fmt: skip
    assert failure.details == {"in_stream": True}
    assert json.loads(failure.body) == {"error": error}


async def test_a_stream_that_ends_without_done_is_a_disconnect_not_a_short_answer(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_CHUNKS[:3], done=False))
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    got = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in stream:
            got.append(chunk)
    assert len(got) == 3
    assert (caught.value.kind, caught.value.reason) == ("transport", "disconnect")


async def test_a_mid_stream_disconnect_is_raised_from_the_iterator_and_never_retried(
    httpserver, provider, sleeps
):
    expect_chat(httpserver, openai_sse(OPENAI_CHUNKS), fail_after=2)
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    got = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in stream:
            got.append(chunk)
    assert len(got) == 2
    assert (caught.value.kind, caught.value.reason) == ("transport", "disconnect")
    assert "RemoteProtocolError" in caught.value.message  # a broken chunked body, not a clean close
    assert len(httpserver.log) == 1 and provider.transport.last_attempts == 1 and sleeps.waits == []


async def test_a_200_that_is_not_sse_is_a_decode_error(httpserver, provider):
    httpserver.expect_request(CHAT).respond_with_json(OPENAI_RESPONSE)
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    with pytest.raises(ProviderError) as caught:
        await stream.collect()
    assert caught.value.kind == "decode" and b"chatcmpl-abc123" in caught.value.raw


async def test_a_stream_owns_its_data_the_request_can_change_after_the_call(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_CHUNKS), pause=0.01)
    request = ChatCompletionRequest.parse(copy.deepcopy(OPENAI_REQUEST))
    stream = await provider.chat_completion_stream(request)
    request.model = "changed"
    request.messages.clear()
    assert [c.to_json() for c in await stream.collect()] == OPENAI_CHUNKS
    assert sent_json(httpserver)["model"] == "gpt-4o-mini"


async def test_closing_a_stream_early_releases_the_connection_at_once(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_CHUNKS * 20), pause=0.05)
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    started = time.monotonic()
    async with stream:
        async for _chunk in stream:
            break
    assert time.monotonic() - started < 1.0  # 100 frames x 50 ms were not waited for
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


# --- chat, raw and passthrough ---------------------------------------------------------------------------

RAW_BODY = (
    b'{"model": "gpt-4o-mini",  "messages": [{"role": "user", "content": "Hi"}], "temperature": 1.0, "n": 1}'
)
RAW_REPLY = json.dumps(OPENAI_RESPONSE, indent=2).encode()  # formatting a re-serialization would change


@pytest.mark.parametrize("model", ["gpt-4o-mini", ""])
async def test_chat_completion_raw_forwards_both_bodies_byte_for_byte(httpserver, provider, model):
    httpserver.expect_request(CHAT).respond_with_data(RAW_REPLY, content_type="application/json")
    assert await provider.chat_completion_raw(model, RAW_BODY) == RAW_REPLY
    assert sent(httpserver).get_data() == RAW_BODY
    assert_openai_headers(sent(httpserver))


async def test_chat_completion_raw_rewrites_only_the_model_when_it_differs(httpserver, provider):
    httpserver.expect_request(CHAT).respond_with_data(RAW_REPLY, content_type="application/json")
    await provider.chat_completion_raw("gpt-4o", RAW_BODY)
    want = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "temperature": 1.0, "n": 1}
    assert_strict_equal(sent_json(httpserver), want)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
async def test_a_raw_body_that_is_not_a_json_object_is_the_callers_fault(httpserver, provider, body):
    with pytest.raises(ProviderError) as caught:
        await provider.chat_completion_raw("m", body)
    assert caught.value.kind == "invalid_request" and "chat_completion_raw" in caught.value.message
    assert httpserver.log == []


async def test_raw_and_typed_chat_agree_on_the_same_upstream_reply(httpserver, provider):
    httpserver.expect_request(CHAT).respond_with_data(RAW_REPLY, content_type="application/json")
    raw = await provider.chat_completion_raw("", RAW_BODY)
    typed = await provider.chat_completion(ChatCompletionRequest.parse(RAW_BODY))
    assert_strict_equal(json.loads(raw), typed.to_json())
    assert_strict_equal(typed.to_json(), OPENAI_RESPONSE)


async def test_stream_raw_forwards_the_sse_bytes_and_agrees_with_the_typed_stream(httpserver, provider):
    body = openai_sse(OPENAI_CHUNKS)
    raw_request = b'{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}'
    expect_chat(httpserver, body)
    raw = b"".join(await (await provider.chat_completion_stream_raw("gpt-4o-mini", raw_request)).collect())
    typed = await (await provider.chat_completion_stream(ChatCompletionRequest.parse(raw_request))).collect()

    assert raw == body
    assert sent(httpserver, 0).get_data() == raw_request
    events = decode_all(raw)
    assert is_done(events[-1])
    assert_strict_equal([json.loads(e.data) for e in events[:-1]], [c.to_json() for c in typed])


async def test_stream_raw_reports_a_truncated_upstream_after_forwarding_every_byte(httpserver, provider):
    body = openai_sse(OPENAI_CHUNKS[:2], done=False)
    expect_chat(httpserver, body)
    stream = await provider.chat_completion_stream_raw("", b'{"model":"m","stream":true,"messages":[]}')
    got = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in stream:
            got.append(chunk)
    assert b"".join(got) == body
    assert (caught.value.kind, caught.value.reason) == ("transport", "disconnect")


async def test_stream_raw_forwards_an_in_band_error_as_bytes(httpserver, provider):
    body = (
        openai_sse(OPENAI_CHUNKS[:1], done=False)
        + b'data: {"error":{"message":"boom","type":"server_error"}}\n\n'
    )
    expect_chat(httpserver, body)
    stream = await provider.chat_completion_stream_raw("", b'{"model":"m","stream":true,"messages":[]}')
    assert b"".join(await stream.collect()) == body


async def test_passthrough_streams_the_body_once_and_returns_the_sse_bytes(httpserver, provider):
    body = openai_sse(OPENAI_CHUNKS)
    expect_chat(httpserver, body)
    parts = [b'{"model":"gpt-4o-mini",', b'"stream":true,', b'"messages":[{"role":"user","content":"Hi"}]}']
    stream = await provider.chat_completion_stream_passthrough("gpt-4o-mini", from_items(parts))
    assert b"".join(await stream.collect()) == body
    assert sent(httpserver).get_data() == b"".join(parts)
    assert_openai_headers(sent(httpserver))


async def test_passthrough_is_never_retried(httpserver, provider, sleeps):
    status, (headers, error, _, _) = 500, OPENAI_ERRORS[500]
    httpserver.expect_request(CHAT).respond_with_json(error, status=503, headers=headers)
    with pytest.raises(ProviderError) as caught:
        await provider.chat_completion_stream_passthrough("m", from_items([b'{"model":"m"}']))
    assert caught.value.status == 503 and status == 500
    assert len(httpserver.log) == 1 and provider.transport.last_attempts == 1 and sleeps.waits == []


# --- media ----------------------------------------------------------------------------------------------


async def test_embedding(httpserver, provider):
    httpserver.expect_request("/v1/embeddings", method="POST").respond_with_json(OPENAI_EMBEDDING_RESPONSE)
    result = await provider.embedding(EmbeddingRequest.parse(OPENAI_EMBEDDING_REQUEST))
    assert_strict_equal(sent_json(httpserver), OPENAI_EMBEDDING_REQUEST)
    assert_openai_headers(sent(httpserver))
    assert_strict_equal(result.to_json(), OPENAI_EMBEDDING_RESPONSE)
    assert [d.vector() for d in result.data] == [[0.25, -0.5], [1.0, 0.125]]


async def test_embedding_base64_reply_is_kept_as_sent(httpserver, provider):
    reply = {
        **OPENAI_EMBEDDING_RESPONSE,
        "data": [{"object": "embedding", "index": 0, "embedding": "AACAPgAAAL8="}],
    }
    httpserver.expect_request("/v1/embeddings").respond_with_json(reply)
    result = await provider.embedding(
        EmbeddingRequest.parse({"model": "m", "input": "a", "encoding_format": "base64"})
    )
    assert result.data[0].embedding == encode_base64([0.25, -0.5]) == "AACAPgAAAL8="
    assert result.data[0].vector() == [0.25, -0.5]


async def test_image_generation_returns_the_body_and_its_type(httpserver, provider):
    reply = json.dumps(OPENAI_IMAGE_RESPONSE).encode()
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_data(
        reply, content_type="application/json"
    )
    assert await provider.image_generation(ImageRequest.parse(OPENAI_IMAGE_REQUEST)) == (
        reply,
        "application/json",
    )
    assert_strict_equal(sent_json(httpserver), OPENAI_IMAGE_REQUEST)


@pytest.mark.parametrize(
    ("upstream_type", "want"), [("audio/ogg", "audio/ogg"), ("application/octet-stream", "audio/opus")]
)
async def test_audio_speech_returns_the_audio_and_its_type(httpserver, provider, upstream_type, want):
    audio = bytes(range(256)) * 4
    httpserver.expect_request("/v1/audio/speech", method="POST").respond_with_data(
        audio, content_type=upstream_type
    )
    assert await provider.audio_speech(AudioSpeechRequest.parse(OPENAI_SPEECH_REQUEST)) == (audio, want)
    assert_strict_equal(sent_json(httpserver), OPENAI_SPEECH_REQUEST)
    assert sent(httpserver).headers["Accept"] == "application/octet-stream"


async def test_audio_transcription_sends_multipart_and_returns_the_body(httpserver, provider):
    httpserver.expect_request("/v1/audio/transcriptions", method="POST").respond_with_json(
        OPENAI_TRANSCRIPTION_RESPONSE
    )
    fields = [
        MultipartField("file", b"RIFF\x00\x01wav", filename="a.wav", content_type="audio/wav"),
        MultipartField("model", b"whisper-1"),
        MultipartField("response_format", b"json"),
    ]
    body, kind = await provider.audio_transcription("gpt-4o-transcribe", fields)
    assert json.loads(body) == OPENAI_TRANSCRIPTION_RESPONSE and kind == "application/json"
    request = sent(httpserver)
    assert request.headers["Authorization"] == "Bearer sk-test"
    got = decode_multipart(request.get_data(), request.headers["Content-Type"])
    assert [(f.name, f.data, f.filename, f.content_type) for f in got] == [
        ("file", b"RIFF\x00\x01wav", "a.wav", "audio/wav"),
        ("model", b"gpt-4o-transcribe", None, None),
        ("response_format", b"json", None, None),
    ]
    assert fields[1].data == b"whisper-1"  # the caller's list is not changed


# --- translated -----------------------------------------------------------------------------------------


def ir_request() -> ir.Request:
    return ir.Request(
        model="gpt-4o-mini",
        messages=[ir.Message(role="user", content=[ir.Text(text="Hi")], shorthand=True)],
        max_tokens=50,
    )


async def test_complete_goes_through_chat_completion(httpserver, provider):
    expect_chat(httpserver, OPENAI_RESPONSE)
    answer = await provider.complete(ir_request())
    assert_strict_equal(sent_json(httpserver), IR_REQUEST_JSON)
    assert [p.text for p in answer.content] == ["Hello!"]
    assert (answer.id, answer.stop.reason, answer.usage.input_tokens, answer.usage.output_tokens) == (
        "chatcmpl-abc123", "end_turn", 12, 3,
    )  # fmt: skip


async def test_complete_stream_asks_for_usage_and_yields_ir_events(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_CHUNKS))
    request = ir_request()
    events = await (await provider.complete_stream(request)).collect()
    assert_strict_equal(
        sent_json(httpserver), {**IR_REQUEST_JSON, "stream": True, "stream_options": {"include_usage": True}}
    )
    assert request.stream is False and request.include_usage is None  # the caller's request is not changed
    answer = accumulate(events)
    assert [p.text for p in answer.content] == ["Hello!"]
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (12, 3)


async def test_anthropic_messages_is_translated_to_chat_and_back(httpserver, provider):
    expect_chat(httpserver, OPENAI_RESPONSE)
    result = await provider.anthropic_messages(MessagesRequest.parse(ANTHROPIC_REQUEST))
    assert_strict_equal(sent_json(httpserver), ANTHROPIC_AS_OPENAI)
    out = result.to_json()
    assert (out["type"], out["role"], out["content"], out["stop_reason"]) == (
        "message", "assistant", [{"type": "text", "text": "Hello!"}], "end_turn",
    )  # fmt: skip
    assert (out["usage"]["input_tokens"], out["usage"]["output_tokens"]) == (12, 3)


async def test_anthropic_messages_stream_asks_for_usage_and_emits_anthropic_events(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_TOOL_CHUNKS))
    stream = await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    events = await stream.collect()
    assert_strict_equal(
        sent_json(httpserver),
        {**ANTHROPIC_AS_OPENAI, "stream": True, "stream_options": {"include_usage": True}},
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    to_ir = anthropic_convert.StreamToIR()
    answer = accumulate([x for e in events for x in to_ir.feed(e)] + to_ir.close())
    [call] = answer.content
    assert (call.id, call.name, json.loads(call.arguments)) == ("call_w1", "weather", {"city": "Paris"})
    assert answer.stop.reason == "tool_use"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (20, 9)
    final = events[-2].to_json()
    assert final["delta"]["stop_reason"] == "tool_use" and final["usage"]["output_tokens"] == 9


async def test_anthropic_messages_stream_translation_still_reports_truncation(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_CHUNKS[:2], done=False))
    stream = await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    with pytest.raises(ProviderError) as caught:
        await stream.collect()
    assert (caught.value.kind, caught.value.reason) == ("transport", "disconnect")


async def test_anthropic_messages_raw_keeps_the_seed_default(httpserver, provider):
    expect_chat(httpserver, OPENAI_RESPONSE)
    raw = await provider.anthropic_messages_raw(json.dumps(ANTHROPIC_REQUEST).encode())
    assert_strict_equal(sent_json(httpserver), ANTHROPIC_AS_OPENAI)
    assert json.loads(raw)["content"] == [{"type": "text", "text": "Hello!"}]


async def test_gemini_generate_content_is_translated_directly(httpserver, provider):
    expect_chat(httpserver, OPENAI_RESPONSE)
    result = await provider.gemini_generate_content(
        "gemini-2.5-flash", GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    assert_strict_equal(sent_json(httpserver), GEMINI_AS_OPENAI)
    out = result.to_json()
    assert out["candidates"][0]["content"]["parts"] == [{"text": "Hello!"}]
    assert out["candidates"][0]["finishReason"] == "STOP"
    assert (
        out["usageMetadata"]["promptTokenCount"] == 12 and out["usageMetadata"]["candidatesTokenCount"] == 3
    )


async def test_gemini_stream_is_translated_and_asks_for_usage(httpserver, provider):
    expect_chat(httpserver, openai_sse(OPENAI_CHUNKS))
    stream = await provider.gemini_generate_content_stream(
        "gemini-2.5-flash", GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    items = [i.to_json() for i in await stream.collect()]
    assert_strict_equal(
        sent_json(httpserver), {**GEMINI_AS_OPENAI, "stream": True, "stream_options": {"include_usage": True}}
    )
    text = "".join(
        p.get("text", "") for i in items for c in i.get("candidates", []) for p in c["content"]["parts"]
    )
    assert text == "Hello!"
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"
    assert items[-1]["usageMetadata"]["promptTokenCount"] == 12


async def test_gemini_raw_keeps_the_seed_default_over_the_direct_translation(httpserver, provider):
    expect_chat(httpserver, OPENAI_RESPONSE)
    raw = await provider.gemini_generate_content_raw("gemini-2.5-flash", json.dumps(GEMINI_REQUEST).encode())
    assert json.loads(raw)["candidates"][0]["content"]["parts"] == [{"text": "Hello!"}]
    assert_strict_equal(sent_json(httpserver), GEMINI_AS_OPENAI)


@pytest.mark.parametrize("method", ["anthropic_messages_stream_raw", "gemini_generate_content_stream_raw"])
async def test_methods_not_offered_raise_not_implemented_naming_them(httpserver, provider, method):
    args = (b"{}",) if method.startswith("anthropic") else ("m", b"{}")
    with pytest.raises(ProviderError) as caught:
        await getattr(provider, method)(*args)
    assert (caught.value.kind, caught.value.method) == ("not_implemented", method)
    assert method in str(caught.value) and httpserver.log == []


def test_compat_flags():
    provider = OpenAIProvider("k")
    assert (provider.is_openai_compat(), provider.is_anthropic_compat(), provider.is_gemini_compat()) == (
        True,
        False,
        False,
    )


# --- errors and retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(OPENAI_ERRORS))
async def test_http_errors_map_to_upstream_errors(httpserver, sleeps, status):
    headers, body, error_type, message = OPENAI_ERRORS[status]
    httpserver.expect_request(CHAT).respond_with_json(body, status=status, headers=headers)
    async with OpenAIProvider(
        "k", base_url=httpserver.url_for("/v1"), retry=RetryPolicy(max_retries=0)
    ) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    error = caught.value
    assert (error.kind, error.status, error.error_type, error.message) == (
        "upstream",
        status,
        error_type,
        message,
    )
    assert error.retry_after == (2.0 if status == 429 else None)
    assert json.loads(error.body) == body


async def test_429_with_retry_after_then_200_is_two_attempts(httpserver, provider, sleeps):
    headers, body, _, _ = OPENAI_ERRORS[429]
    httpserver.expect_ordered_request(CHAT).respond_with_json(body, status=429, headers=headers)
    httpserver.expect_ordered_request(CHAT).respond_with_json(OPENAI_RESPONSE)
    result = await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    assert result.id == "chatcmpl-abc123"
    assert provider.transport.last_attempts == 2 and sleeps.waits == [2.0]


@pytest.mark.parametrize("status", [408, 409, 500, 529])
async def test_retryable_statuses_back_off_then_succeed(httpserver, provider, sleeps, status):
    httpserver.expect_ordered_request(CHAT).respond_with_json(OPENAI_ERRORS[500][1], status=status)
    httpserver.expect_ordered_request(CHAT).respond_with_data(
        openai_sse(OPENAI_CHUNKS), content_type="text/event-stream"
    )
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    assert len(await stream.collect()) == len(OPENAI_CHUNKS)
    assert provider.transport.last_attempts == 2 and sleeps.waits == [0.5]


async def test_400_is_one_attempt(httpserver, provider, sleeps):
    httpserver.expect_request(CHAT).respond_with_json(OPENAI_ERRORS[400][1], status=400)
    with pytest.raises(ProviderError):
        await provider.chat_completion_raw("", RAW_BODY)
    assert len(httpserver.log) == 1 and provider.transport.last_attempts == 1 and sleeps.waits == []


async def test_a_trailing_slash_and_a_compatible_servers_prefix_are_honoured(httpserver):
    httpserver.expect_request("/ollama/v1/chat/completions").respond_with_response(
        Response(json.dumps(OPENAI_RESPONSE), content_type="application/json")
    )
    async with OpenAIProvider("ollama", base_url=httpserver.url_for("/ollama/v1/")) as provider:
        await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    request = sent(httpserver)
    assert request.path == "/ollama/v1/chat/completions"
    assert "OpenAI-Organization" not in request.headers and "OpenAI-Project" not in request.headers
