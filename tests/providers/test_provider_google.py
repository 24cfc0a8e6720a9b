"""GoogleProvider against a loopback upstream: URLs (base_url honoured, model URL-encoded, no doubled
prefix), the exact requests, typed/raw results and streams, completion without a terminal marker, errors,
retries, embeddings via batchEmbedContents, and the translated OpenAI/Anthropic/IR paths."""

from __future__ import annotations

import copy
import json
import re

import pytest

from providers.convert import gemini as gemini_convert
from providers.convert.accumulate import accumulate
from providers.errors import ProviderError
from providers.google import GoogleProvider, model_path
from providers.sse import decode_all
from providers.transport import RetryPolicy
from providers.types import ir
from providers.types.anthropic import MessagesRequest
from providers.types.gemini import GenerateContentRequest
from providers.types.media import EmbeddingRequest
from providers.types.openai import ChatCompletionRequest
from tests.fixtures.providers import (
    ANTHROPIC_AS_GEMINI,
    ANTHROPIC_REQUEST,
    GEMINI_ERRORS,
    GEMINI_ITEMS,
    GEMINI_REQUEST,
    GEMINI_RESPONSE,
    GEMINI_TOOL_ITEMS,
    OPENAI_AS_GEMINI,
    OPENAI_REQUEST,
    Sleeps,
    gemini_sse,
    raw_path,
    sent,
    sent_json,
    split_frames,
    streaming,
)
from tests.strategies.common import assert_strict_equal

pytestmark = pytest.mark.anyio

MODEL = "gemini-2.5-flash"
GENERATE = f"/v1beta/models/{MODEL}:generateContent"
STREAM = f"/v1beta/models/{MODEL}:streamGenerateContent"


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def provider(httpserver, sleeps):
    async with GoogleProvider(
        "AIza-test", base_url=httpserver.url_for("/"), retry=RetryPolicy(jitter=False), sleep=sleeps
    ) as p:
        yield p


def expect_generate(httpserver, reply: dict) -> None:
    httpserver.expect_request(GENERATE, method="POST").respond_with_json(reply)


def expect_stream(httpserver, body: bytes, **kwargs) -> None:
    httpserver.expect_request(STREAM, method="POST", query_string="alt=sse").respond_with_handler(
        streaming(split_frames(body), **kwargs)
    )


def assert_gemini_headers(request) -> None:
    assert request.headers["x-goog-api-key"] == "AIza-test"
    assert "Authorization" not in request.headers
    assert request.headers["Content-Type"] == "application/json"


def stream_text(items: list[dict]) -> str:
    return "".join(
        p.get("text", "") for i in items for c in i.get("candidates", []) for p in c["content"]["parts"]
    )


# --- URLs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("gemini-2.5-flash", "models/gemini-2.5-flash"),
        ("models/gemini-2.5-flash", "models/gemini-2.5-flash"),
        ("tunedModels/my-tune-7", "tunedModels/my-tune-7"),
        ("ft:weird model/v1?x", "models/ft%3Aweird%20model%2Fv1%3Fx"),
        ("models/", "models/models%2F"),
    ],
)
def test_model_path_is_one_encoded_segment_and_never_doubled(model, path):
    assert model_path(model) == path


@pytest.mark.parametrize(
    ("model", "want"),
    [
        ("models/gemini-2.5-flash", "/proxy/v1/models/gemini-2.5-flash:generateContent"),
        ("tunedModels/t1", "/proxy/v1/tunedModels/t1:generateContent"),
        ("a/b:c", "/proxy/v1/models/a%2Fb%3Ac:generateContent"),
    ],
)
async def test_base_url_and_api_version_are_honoured_and_the_model_is_encoded(httpserver, model, want):
    httpserver.expect_request(re.compile(".*")).respond_with_json(GEMINI_RESPONSE)
    async with GoogleProvider("k", base_url=httpserver.url_for("/proxy/"), api_version="v1") as provider:
        await provider.gemini_generate_content(model, GenerateContentRequest.parse(GEMINI_REQUEST))
    assert raw_path(sent(httpserver)) == want


async def test_a_missing_model_is_invalid_request(httpserver, provider):
    with pytest.raises(ProviderError) as caught:
        await provider.gemini_generate_content("", GenerateContentRequest.parse(GEMINI_REQUEST))
    assert caught.value.kind == "invalid_request" and httpserver.log == []


# --- native -------------------------------------------------------------------------------------------


async def test_generate_content_sends_the_request_as_given_and_returns_the_upstream_body(
    httpserver, provider
):
    expect_generate(httpserver, GEMINI_RESPONSE)
    result = await provider.gemini_generate_content(MODEL, GenerateContentRequest.parse(GEMINI_REQUEST))
    request = sent(httpserver)
    assert (request.method, request.path, request.query_string) == ("POST", GENERATE, b"")
    assert_gemini_headers(request)
    assert_strict_equal(sent_json(httpserver), GEMINI_REQUEST)
    assert_strict_equal(result.to_json(), GEMINI_RESPONSE)
    assert result.candidates[0].content.parts[0].text == "Hello!"


async def test_a_snake_case_request_keeps_its_spelling(httpserver, provider):
    body = {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "generation_config": {"max_output_tokens": 5},
    }
    expect_generate(httpserver, GEMINI_RESPONSE)
    await provider.gemini_generate_content(MODEL, GenerateContentRequest.parse(body))
    assert_strict_equal(sent_json(httpserver), body)


async def test_stream_yields_every_item_and_is_complete_after_a_finish_reason(httpserver, provider):
    expect_stream(httpserver, gemini_sse(GEMINI_ITEMS))
    stream = await provider.gemini_generate_content_stream(
        MODEL, GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    items = await stream.collect()
    request = sent(httpserver)
    assert (request.path, request.query_string) == (STREAM, b"alt=sse")
    assert_gemini_headers(request)
    assert_strict_equal(sent_json(httpserver), GEMINI_REQUEST)
    assert [i.to_json() for i in items] == GEMINI_ITEMS
    to_ir = gemini_convert.StreamToIR()
    answer = accumulate([e for i in items for e in to_ir.feed(i)] + to_ir.close())
    assert [p.text for p in answer.content] == ["Hello!"]
    assert (answer.stop.raw, answer.usage.input_tokens, answer.usage.output_tokens) == ("STOP", 12, 3)


async def test_streamed_function_call_accumulates(httpserver, provider):
    expect_stream(httpserver, gemini_sse(GEMINI_TOOL_ITEMS))
    stream = await provider.gemini_generate_content_stream(
        MODEL, GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    to_ir = gemini_convert.StreamToIR()
    answer = accumulate([e for i in await stream.collect() for e in to_ir.feed(i)] + to_ir.close())
    calls = [p for p in answer.content if isinstance(p, ir.ToolCall)]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("weather", {"city": "Paris"})]
    assert answer.stop.reason == "tool_use"


async def test_a_stream_closed_before_any_finish_reason_is_a_disconnect(httpserver, provider):
    expect_stream(httpserver, gemini_sse(GEMINI_ITEMS[:1]))
    stream = await provider.gemini_generate_content_stream(
        MODEL, GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    got = []
    with pytest.raises(ProviderError) as caught:
        async for item in stream:
            got.append(item.to_json())
    assert got == GEMINI_ITEMS[:1]
    assert (caught.value.kind, caught.value.reason) == ("transport", "disconnect")


async def test_a_blocked_prompt_is_a_complete_stream(httpserver, provider):
    blocked = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4},
        "modelVersion": MODEL,
    }
    expect_stream(httpserver, gemini_sse([blocked]))
    stream = await provider.gemini_generate_content_stream(
        MODEL, GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    assert [i.to_json() for i in await stream.collect()] == [blocked]


async def test_an_error_item_is_raised_from_the_iterator(httpserver, provider):
    error = {
        "error": {
            "code": 503,
            "message": "The model is overloaded. Please try again later.",
            "status": "UNAVAILABLE",
        }
    }
    expect_stream(httpserver, gemini_sse([GEMINI_ITEMS[0], error]))
    stream = await provider.gemini_generate_content_stream(
        MODEL, GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    got = []
    with pytest.raises(ProviderError) as caught:
        async for item in stream:
            got.append(item.to_json())
    assert got == GEMINI_ITEMS[:1]
    failure = caught.value
    assert (failure.kind, failure.status, failure.error_type, failure.message) == (
        "upstream", 503, "UNAVAILABLE", "The model is overloaded. Please try again later.",
    )  # fmt: skip
    assert failure.details == {"in_stream": True} and json.loads(failure.body) == error


async def test_a_mid_stream_disconnect_is_raised_and_not_retried(httpserver, provider, sleeps):
    expect_stream(httpserver, gemini_sse(GEMINI_ITEMS), fail_after=1)
    stream = await provider.gemini_generate_content_stream(
        MODEL, GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    got = []
    with pytest.raises(ProviderError) as caught:
        async for item in stream:
            got.append(item)
    assert len(got) == 1 and (caught.value.kind, caught.value.reason) == ("transport", "disconnect")
    assert "RemoteProtocolError" in caught.value.message
    assert len(httpserver.log) == 1 and sleeps.waits == []


async def test_a_stream_owns_its_data(httpserver, provider):
    expect_stream(httpserver, gemini_sse(GEMINI_ITEMS), pause=0.01)
    request = GenerateContentRequest.parse(copy.deepcopy(GEMINI_REQUEST))
    model = [MODEL]
    stream = await provider.gemini_generate_content_stream(model[0], request)
    request.contents.clear()
    model[0] = "other"
    assert [i.to_json() for i in await stream.collect()] == GEMINI_ITEMS
    assert_strict_equal(sent_json(httpserver), GEMINI_REQUEST)


# --- raw ----------------------------------------------------------------------------------------------

RAW_BODY = b'{"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],\r\n "generationConfig": {"temperature": 1.0}}'
RAW_REPLY = json.dumps(GEMINI_RESPONSE, indent=2).encode()


async def test_raw_forwards_both_bodies_and_agrees_with_typed(httpserver, provider):
    httpserver.expect_request(GENERATE).respond_with_data(RAW_REPLY, content_type="application/json")
    raw = await provider.gemini_generate_content_raw(MODEL, RAW_BODY)
    typed = await provider.gemini_generate_content(MODEL, GenerateContentRequest.parse(RAW_BODY))
    assert raw == RAW_REPLY and sent(httpserver, 0).get_data() == RAW_BODY
    assert_gemini_headers(sent(httpserver, 0))
    assert_strict_equal(json.loads(raw), typed.to_json())
    assert_strict_equal(typed.to_json(), GEMINI_RESPONSE)


async def test_stream_raw_forwards_bytes_and_agrees_with_typed(httpserver, provider):
    body = gemini_sse(GEMINI_ITEMS)
    expect_stream(httpserver, body)
    raw = b"".join(await (await provider.gemini_generate_content_stream_raw(MODEL, RAW_BODY)).collect())
    typed = await (
        await provider.gemini_generate_content_stream(MODEL, GenerateContentRequest.parse(RAW_BODY))
    ).collect()
    assert raw == body and sent(httpserver, 0).get_data() == RAW_BODY
    assert sent(httpserver, 0).query_string == b"alt=sse"
    assert_strict_equal([json.loads(e.data) for e in decode_all(raw)], [i.to_json() for i in typed])


async def test_stream_raw_reports_a_close_without_finish_reason(httpserver, provider):
    body = gemini_sse(GEMINI_ITEMS[:1])
    expect_stream(httpserver, body)
    got = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in await provider.gemini_generate_content_stream_raw(MODEL, RAW_BODY):
            got.append(chunk)
    assert b"".join(got) == body and (caught.value.kind, caught.value.reason) == ("transport", "disconnect")


# --- translated ---------------------------------------------------------------------------------------


async def test_chat_completion_is_translated(httpserver, provider):
    httpserver.expect_request("/v1beta/models/gpt-4o-mini:generateContent").respond_with_json(GEMINI_RESPONSE)
    result = await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    assert_strict_equal(sent_json(httpserver), OPENAI_AS_GEMINI)
    assert_gemini_headers(sent(httpserver))
    out = result.to_json()
    assert (out["id"], out["object"], out["model"]) == ("mK2lZ-abc", "chat.completion", MODEL)
    assert out["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}
    ]
    assert out["usage"] == {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


@pytest.mark.parametrize("usage", [False, True])
async def test_chat_completion_stream_is_translated(httpserver, provider, usage):
    httpserver.expect_request(
        "/v1beta/models/gpt-4o-mini:streamGenerateContent", query_string="alt=sse"
    ).respond_with_data(gemini_sse(GEMINI_TOOL_ITEMS), content_type="text/event-stream")
    options = {"stream_options": {"include_usage": True}} if usage else {}
    stream = await provider.chat_completion_stream(ChatCompletionRequest.parse({**OPENAI_REQUEST, **options}))
    chunks = [c.to_json() for c in await stream.collect()]
    assert_strict_equal(sent_json(httpserver), OPENAI_AS_GEMINI)
    calls = [tc for c in chunks for ch in c["choices"] for tc in ch["delta"].get("tool_calls", [])]
    assert calls[0]["index"] == 0 and calls[0]["function"]["name"] == "weather"
    assert json.loads("".join(tc["function"]["arguments"] for tc in calls)) == {"city": "Paris"}
    assert [ch["finish_reason"] for c in chunks for ch in c["choices"] if ch["finish_reason"]] == [
        "tool_calls"
    ]
    # the usage-only chunk comes exactly when the client asked for it, as OpenAI sends it
    if usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 20
    else:
        assert all(c["choices"] for c in chunks) and all(c.get("usage") is None for c in chunks)


async def test_anthropic_messages_and_stream_are_translated(httpserver, provider):
    httpserver.expect_request("/v1beta/models/claude-sonnet-4-5:generateContent").respond_with_json(
        GEMINI_RESPONSE
    )
    httpserver.expect_request("/v1beta/models/claude-sonnet-4-5:streamGenerateContent").respond_with_data(
        gemini_sse(GEMINI_ITEMS), content_type="text/event-stream"
    )
    message = await provider.anthropic_messages(MessagesRequest.parse(ANTHROPIC_REQUEST))
    events = [
        e.to_json()
        for e in await (
            await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
        ).collect()
    ]
    assert_strict_equal(sent_json(httpserver, 0), ANTHROPIC_AS_GEMINI)
    assert_strict_equal(sent_json(httpserver, 1), ANTHROPIC_AS_GEMINI)
    out = message.to_json()
    assert (out["content"], out["stop_reason"], out["usage"]) == (
        [{"type": "text", "text": "Hello!"}], "end_turn", {"input_tokens": 12, "output_tokens": 3},
    )  # fmt: skip
    assert events[0]["type"] == "message_start" and events[-1] == {"type": "message_stop"}
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert text == "Hello!"
    assert events[-2]["delta"]["stop_reason"] == "end_turn" and events[-2]["usage"]["output_tokens"] == 3


async def test_complete_and_raw_defaults(httpserver, provider):
    expect_generate(httpserver, GEMINI_RESPONSE)
    request = ir.Request(
        model=MODEL, messages=[ir.Message(role="user", content=[ir.Text(text="Hi")])], max_tokens=50
    )
    answer = await provider.complete(request)
    chat = json.loads(await provider.chat_completion_raw(MODEL, json.dumps(OPENAI_REQUEST).encode()))
    message = json.loads(
        await provider.anthropic_messages_raw(json.dumps({**ANTHROPIC_REQUEST, "model": MODEL}).encode())
    )
    assert_strict_equal(
        sent_json(httpserver, 0),
        {
            "contents": [{"parts": [{"text": "Hi"}], "role": "user"}],
            "generationConfig": {"maxOutputTokens": 50},
        },
    )
    assert_strict_equal(sent_json(httpserver, 1), OPENAI_AS_GEMINI)
    assert_strict_equal(sent_json(httpserver, 2), ANTHROPIC_AS_GEMINI)
    assert (answer.id, [p.text for p in answer.content], answer.stop.raw) == ("mK2lZ-abc", ["Hello!"], "STOP")
    assert chat["choices"][0]["message"]["content"] == "Hello!"
    assert message["content"] == [{"type": "text", "text": "Hello!"}]


async def test_complete_stream(httpserver, provider):
    expect_stream(httpserver, gemini_sse(GEMINI_ITEMS))
    request = ir.Request(model=MODEL, messages=[ir.Message(role="user", content=[ir.Text(text="Hi")])])
    answer = accumulate(await (await provider.complete_stream(request)).collect())
    assert_strict_equal(sent_json(httpserver), {"contents": [{"parts": [{"text": "Hi"}], "role": "user"}]})
    assert [p.text for p in answer.content] == ["Hello!"] and answer.usage.output_tokens == 3


# --- embeddings ---------------------------------------------------------------------------------------

EMBED = "/v1beta/models/gemini-embedding-001:batchEmbedContents"
EMBED_REPLY = {"embeddings": [{"values": [0.25, -0.5]}, {"values": [1, 0.125]}]}


@pytest.mark.parametrize(
    ("encoding", "want"),
    [
        (None, [[0.25, -0.5], [1, 0.125]]),
        ("float", [[0.25, -0.5], [1, 0.125]]),
        ("base64", ["AACAPgAAAL8=", "AACAPwAAAD4="]),  # little-endian float32, what the openai SDK decodes
    ],
)
async def test_embedding_goes_through_batch_embed_contents(httpserver, provider, encoding, want):
    httpserver.expect_request(EMBED, method="POST").respond_with_json(EMBED_REPLY)
    request = {"model": "gemini-embedding-001", "input": ["a", "b"], "dimensions": 2, "user": "u-1"}
    if encoding:
        request["encoding_format"] = encoding
    result = await provider.embedding(EmbeddingRequest.parse(request))
    assert_gemini_headers(sent(httpserver))
    assert_strict_equal(
        sent_json(httpserver),
        {
            "requests": [
                {
                    "model": "models/gemini-embedding-001",
                    "content": {"parts": [{"text": "a"}]},
                    "outputDimensionality": 2,
                },
                {
                    "model": "models/gemini-embedding-001",
                    "content": {"parts": [{"text": "b"}]},
                    "outputDimensionality": 2,
                },
            ]
        },
    )
    assert_strict_equal(
        result.to_json(),
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": 0, "embedding": want[0]},
                {"object": "embedding", "index": 1, "embedding": want[1]},
            ],
            "model": "gemini-embedding-001",
            "usage": {"prompt_tokens": 0, "total_tokens": 0},  # Gemini reports none; OpenAI requires it
        },
    )
    assert [d.vector() for d in result.data] == [[0.25, -0.5], [1.0, 0.125]]


async def test_embedding_of_one_string_with_usage(httpserver, provider):
    httpserver.expect_request(EMBED).respond_with_json(
        {"embeddings": [{"values": [0.5]}], "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}}
    )
    result = await provider.embedding(
        EmbeddingRequest.parse({"model": "models/gemini-embedding-001", "input": "a"})
    )
    assert sent_json(httpserver) == {
        "requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a"}]}}]
    }
    assert result.to_json()["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


@pytest.mark.parametrize("value", [[1, 2, 3], [[1, 2]], []])
async def test_embedding_inputs_gemini_cannot_take_are_invalid_request(httpserver, provider, value):
    with pytest.raises(ProviderError) as caught:
        await provider.embedding(EmbeddingRequest.parse({"model": "gemini-embedding-001", "input": value}))
    assert caught.value.kind == "invalid_request" and httpserver.log == []


async def test_an_embedding_count_mismatch_is_a_decode_error(httpserver, provider):
    httpserver.expect_request(EMBED).respond_with_json({"embeddings": [{"values": [0.5]}]})
    with pytest.raises(ProviderError) as caught:
        await provider.embedding(
            EmbeddingRequest.parse({"model": "gemini-embedding-001", "input": ["a", "b"]})
        )
    assert caught.value.kind == "decode"


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("image_generation", (None,)),
        ("audio_speech", (None,)),
        ("audio_transcription", ("m", [])),
        ("chat_completion_stream_passthrough", ("m", None)),
        ("chat_completion_stream_raw", ("m", b"{}")),
        ("anthropic_messages_stream_raw", (b"{}",)),
    ],
)
async def test_methods_google_does_not_offer(httpserver, provider, method, args):
    with pytest.raises(ProviderError) as caught:
        await getattr(provider, method)(*args)
    assert (caught.value.kind, caught.value.method) == ("not_implemented", method)
    assert method in str(caught.value) and httpserver.log == []


def test_compat_flags():
    provider = GoogleProvider("k")
    assert (provider.is_openai_compat(), provider.is_anthropic_compat(), provider.is_gemini_compat()) == (
        False,
        False,
        True,
    )


# --- errors and retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(GEMINI_ERRORS))
async def test_http_errors_map_to_upstream_errors(httpserver, status):
    headers, body, error_type, message = GEMINI_ERRORS[status]
    httpserver.expect_request(GENERATE).respond_with_json(body, status=status, headers=headers)
    async with GoogleProvider(
        "k", base_url=httpserver.url_for(""), retry=RetryPolicy(max_retries=0)
    ) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.gemini_generate_content(MODEL, GenerateContentRequest.parse(GEMINI_REQUEST))
    error = caught.value
    assert (error.kind, error.status, error.error_type, error.message) == (
        "upstream",
        status,
        error_type,
        message,
    )
    assert error.retry_after == (36.0 if status == 429 else None)
    assert json.loads(error.body) == body


async def test_503_then_200_is_retried_and_400_is_not(httpserver, provider, sleeps):
    httpserver.expect_ordered_request(STREAM).respond_with_json(GEMINI_ERRORS[529][1], status=503)
    httpserver.expect_ordered_request(STREAM).respond_with_data(
        gemini_sse(GEMINI_ITEMS), content_type="text/event-stream"
    )
    httpserver.expect_ordered_request(GENERATE).respond_with_json(GEMINI_ERRORS[400][1], status=400)
    stream = await provider.gemini_generate_content_stream(
        MODEL, GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    assert len(await stream.collect()) == 2 and provider.transport.last_attempts == 2
    with pytest.raises(ProviderError):
        await provider.gemini_generate_content_raw(MODEL, RAW_BODY)
    assert provider.transport.last_attempts == 1 and sleeps.waits == [0.5]
