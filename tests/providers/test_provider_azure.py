"""AzureOpenAIProvider: Azure's routing (deployment in the path, api-version in the query) and auth on
EVERY OpenAI method — raw stream and passthrough included, which crabllm's Azure lacks — and on the
translated Anthropic, Gemini and IR paths, which crabllm's Azure fails."""

from __future__ import annotations

import json

import pytest

from providers.azure import AzureOpenAIProvider
from providers.errors import ProviderError
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
)
from providers.types.openai import ChatCompletionRequest
from tests.fixtures.providers import (
    ANTHROPIC_AS_OPENAI,
    ANTHROPIC_REQUEST,
    AZURE_CONTENT_FILTER,
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
    OPENAI_TRANSCRIPTION_RESPONSE,
    Sleeps,
    openai_sse,
    raw_path,
    sent,
    sent_json,
)
from tests.strategies.common import assert_strict_equal

pytestmark = pytest.mark.anyio

VERSION = "2024-10-21"
DEPLOYMENTS = {"gpt-4o-mini": "prod-mini", "claude-sonnet-4-5": "prod-mini", "gemini-2.5-flash": "prod-mini"}


def route(deployment: str, endpoint: str) -> str:
    return f"/openai/deployments/{deployment}/{endpoint}"


CHAT = route("prod-mini", "chat/completions")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def provider(httpserver, sleeps):
    async with AzureOpenAIProvider(
        "azure-key",
        endpoint=httpserver.url_for("/"),
        deployments=DEPLOYMENTS,
        retry=RetryPolicy(jitter=False),
        sleep=sleeps,
    ) as p:
        yield p


def expect(httpserver, path: str):
    return httpserver.expect_request(path, method="POST", query_string={"api-version": VERSION})


def assert_azure_headers(request, content_type: str | None = "application/json") -> None:
    assert request.headers["api-key"] == "azure-key"
    assert "Authorization" not in request.headers
    if content_type:
        assert request.headers["Content-Type"] == content_type


async def test_chat_completion_routes_by_deployment(httpserver, provider):
    expect(httpserver, CHAT).respond_with_json(OPENAI_RESPONSE)
    result = await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    request = sent(httpserver)
    assert (request.method, request.path, request.query_string) == (
        "POST",
        CHAT,
        f"api-version={VERSION}".encode(),
    )
    assert_azure_headers(request)
    assert_strict_equal(sent_json(httpserver), OPENAI_REQUEST)
    assert_strict_equal(result.to_json(), OPENAI_RESPONSE)


async def test_a_model_without_a_mapping_is_its_own_deployment_and_is_encoded(httpserver, provider):
    httpserver.expect_request(route("gpt 4o/x", "chat/completions")).respond_with_json(OPENAI_RESPONSE)
    await provider.chat_completion(ChatCompletionRequest.parse({**OPENAI_REQUEST, "model": "gpt 4o/x"}))
    assert raw_path(sent(httpserver)) == "/openai/deployments/gpt%204o%2Fx/chat/completions"


async def test_entra_id_token_auth_and_a_custom_api_version(httpserver):
    httpserver.expect_request(CHAT, query_string={"api-version": "2025-04-01-preview"}).respond_with_json(
        OPENAI_RESPONSE
    )
    async with AzureOpenAIProvider(
        endpoint=httpserver.url_for(""),
        azure_ad_token="eyJ0",
        api_version="2025-04-01-preview",
        deployments=DEPLOYMENTS,
    ) as provider:
        await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    request = sent(httpserver)
    assert request.headers["Authorization"] == "Bearer eyJ0" and "api-key" not in request.headers


@pytest.mark.parametrize("credentials", [{}, {"api_key": "k", "azure_ad_token": "t"}])
def test_exactly_one_credential_is_required(credentials):
    with pytest.raises(ValueError, match="exactly one"):
        AzureOpenAIProvider(endpoint="https://r.openai.azure.com", **credentials)


async def test_chat_stream_typed_raw_and_passthrough(httpserver, provider):
    body = openai_sse(OPENAI_CHUNKS)
    expect(httpserver, CHAT).respond_with_data(body, content_type="text/event-stream")
    typed = await (
        await provider.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST))
    ).collect()
    raw_request = b'{"model":"whatever","stream":true,"messages":[{"role":"user","content":"Hi"}]}'
    raw = b"".join(await (await provider.chat_completion_stream_raw("gpt-4o-mini", raw_request)).collect())
    passed = await provider.chat_completion_stream_passthrough(
        "gpt-4o-mini", from_items([raw_request[:9], raw_request[9:]])
    )
    assert [c.to_json() for c in typed] == OPENAI_CHUNKS
    assert raw == body and b"".join(await passed.collect()) == body
    assert len(httpserver.log) == 3
    assert all(sent(httpserver, i).path == CHAT for i in range(3))
    assert_strict_equal(sent_json(httpserver, 0), {**OPENAI_REQUEST, "stream": True})
    assert sent_json(httpserver, 1) == {**json.loads(raw_request), "model": "gpt-4o-mini"}
    assert sent(httpserver, 2).get_data() == raw_request
    for i in range(3):
        assert_azure_headers(sent(httpserver, i))


async def test_chat_completion_raw_routes_by_the_body_model_when_none_is_given(httpserver, provider):
    raw_request = b'{"model": "gpt-4o-mini", "messages": []}'
    expect(httpserver, CHAT).respond_with_data(b'{"id":"x"}', content_type="application/json")
    assert await provider.chat_completion_raw("", raw_request) == b'{"id":"x"}'
    assert sent(httpserver).get_data() == raw_request


async def test_media_endpoints_route_by_deployment(httpserver, provider):
    expect(httpserver, route("text-embedding-3-small", "embeddings")).respond_with_json(
        OPENAI_EMBEDDING_RESPONSE
    )
    expect(httpserver, route("gpt-image-1", "images/generations")).respond_with_json(OPENAI_IMAGE_RESPONSE)
    expect(httpserver, route("gpt-4o-mini-tts", "audio/speech")).respond_with_data(
        b"OggS", content_type="audio/ogg"
    )
    expect(httpserver, route("whisper-1", "audio/transcriptions")).respond_with_json(
        OPENAI_TRANSCRIPTION_RESPONSE
    )

    embedding = await provider.embedding(EmbeddingRequest.parse(OPENAI_EMBEDDING_REQUEST))
    image, image_type = await provider.image_generation(ImageRequest.parse(OPENAI_IMAGE_REQUEST))
    audio = await provider.audio_speech(AudioSpeechRequest.parse(OPENAI_SPEECH_REQUEST))
    text, _ = await provider.audio_transcription(
        "whisper-1", [MultipartField("file", b"wav", filename="a.wav")]
    )

    assert_strict_equal(embedding.to_json(), OPENAI_EMBEDDING_RESPONSE)
    assert json.loads(image) == OPENAI_IMAGE_RESPONSE and image_type == "application/json"
    assert audio == (b"OggS", "audio/ogg")
    assert json.loads(text) == OPENAI_TRANSCRIPTION_RESPONSE
    assert_strict_equal(sent_json(httpserver, 0), OPENAI_EMBEDDING_REQUEST)
    assert_strict_equal(sent_json(httpserver, 1), OPENAI_IMAGE_REQUEST)
    assert_strict_equal(sent_json(httpserver, 2), OPENAI_SPEECH_REQUEST)
    form = sent(httpserver, 3)
    assert [(f.name, f.data) for f in decode_multipart(form.get_data(), form.headers["Content-Type"])] == [
        ("file", b"wav"), ("model", b"whisper-1"),
    ]  # fmt: skip
    for i in range(4):
        assert_azure_headers(sent(httpserver, i), content_type=None)


async def test_an_image_request_without_a_model_cannot_be_routed(httpserver, provider):
    with pytest.raises(ProviderError) as caught:
        await provider.image_generation(ImageRequest.parse({"prompt": "a cube"}))
    assert caught.value.kind == "invalid_request" and "deployment" in caught.value.message
    assert httpserver.log == []


async def test_translated_paths_work_on_azure(httpserver, provider):
    expect(httpserver, CHAT).respond_with_json(OPENAI_RESPONSE)
    message = await provider.anthropic_messages(MessagesRequest.parse(ANTHROPIC_REQUEST))
    gemini = await provider.gemini_generate_content(
        "gemini-2.5-flash", GenerateContentRequest.parse(GEMINI_REQUEST)
    )
    answer = await provider.complete(
        ir.Request(
            model="gpt-4o-mini",
            messages=[ir.Message(role="user", content=[ir.Text(text="Hi")], shorthand=True)],
            max_tokens=50,
        )
    )
    assert message.content[0].text == "Hello!"
    assert gemini.candidates[0].content.parts[0].text == "Hello!"
    assert [p.text for p in answer.content] == ["Hello!"]
    assert_strict_equal(sent_json(httpserver, 0), ANTHROPIC_AS_OPENAI)
    assert_strict_equal(sent_json(httpserver, 1), GEMINI_AS_OPENAI)
    assert_strict_equal(sent_json(httpserver, 2), {**IR_REQUEST_JSON, "max_completion_tokens": 50})
    assert all(sent(httpserver, i).path == CHAT for i in range(3))


async def test_translated_streams_work_on_azure(httpserver, provider):
    expect(httpserver, CHAT).respond_with_data(openai_sse(OPENAI_CHUNKS), content_type="text/event-stream")
    events = await (
        await provider.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST))
    ).collect()
    items = await (
        await provider.gemini_generate_content_stream(
            "gemini-2.5-flash", GenerateContentRequest.parse(GEMINI_REQUEST)
        )
    ).collect()
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    assert items[-1].candidates[0].finish_reason == "STOP"
    usage = {"stream": True, "stream_options": {"include_usage": True}}
    assert_strict_equal(sent_json(httpserver, 0), {**ANTHROPIC_AS_OPENAI, **usage})
    assert_strict_equal(sent_json(httpserver, 1), {**GEMINI_AS_OPENAI, **usage})


async def test_the_content_filter_error_keeps_its_code_as_type(httpserver, provider):
    expect(httpserver, CHAT).respond_with_json(AZURE_CONTENT_FILTER, status=400)
    with pytest.raises(ProviderError) as caught:
        await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    error = caught.value
    assert (error.kind, error.status, error.error_type) == ("upstream", 400, "content_filter")
    assert (
        error.message.startswith("The response was filtered")
        and json.loads(error.body) == AZURE_CONTENT_FILTER
    )


async def test_429_then_200_is_two_attempts(httpserver, provider, sleeps):
    headers, body, _, _ = OPENAI_ERRORS[429]
    httpserver.expect_ordered_request(CHAT).respond_with_json(
        body, status=429, headers={"retry-after-ms": "250"}
    )
    httpserver.expect_ordered_request(CHAT).respond_with_json(OPENAI_RESPONSE)
    await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    assert provider.transport.last_attempts == 2 and sleeps.waits == [0.25] and headers


def test_compat_flags():
    provider = AzureOpenAIProvider("k", endpoint="https://r.openai.azure.com")
    assert (provider.is_openai_compat(), provider.is_anthropic_compat(), provider.is_gemini_compat()) == (
        True,
        False,
        False,
    )


@pytest.mark.parametrize("status", sorted(OPENAI_ERRORS))
async def test_http_errors_map_to_upstream_errors(httpserver, status):
    headers, body, error_type, message = OPENAI_ERRORS[status]
    expect(httpserver, CHAT).respond_with_json(body, status=status, headers=headers)
    async with AzureOpenAIProvider(
        "k", endpoint=httpserver.url_for(""), deployments=DEPLOYMENTS, retry=RetryPolicy(max_retries=0)
    ) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.chat_completion_stream_raw("gpt-4o-mini", b'{"model":"gpt-4o-mini","stream":true}')
    error = caught.value
    assert (error.kind, error.status, error.error_type, error.message) == (
        "upstream",
        status,
        error_type,
        message,
    )
    assert error.retry_after == (2.0 if status == 429 else None)


async def test_raw_and_typed_agree(httpserver, provider):
    reply = json.dumps(OPENAI_RESPONSE, indent=3).encode()
    expect(httpserver, CHAT).respond_with_data(reply, content_type="application/json")
    raw = await provider.chat_completion_raw("gpt-4o-mini", json.dumps(OPENAI_REQUEST).encode())
    typed = await provider.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST))
    assert raw == reply
    assert_strict_equal(json.loads(raw), typed.to_json())
    assert_strict_equal(typed.to_json(), OPENAI_RESPONSE)


async def test_a_transcription_without_a_model_argument_routes_by_the_forms_model(httpserver, provider):
    expect(httpserver, route("whisper-1", "audio/transcriptions")).respond_with_data(
        b"Hello there.", content_type="text/plain; charset=utf-8"
    )
    fields = [MultipartField("file", b"wav", filename="a.wav"), MultipartField("model", b"whisper-1")]
    assert await provider.audio_transcription("", fields) == (b"Hello there.", "text/plain; charset=utf-8")
    form = sent(httpserver)
    got = decode_multipart(form.get_data(), form.headers["Content-Type"])
    assert [(f.name, f.data) for f in got] == [("file", b"wav"), ("model", b"whisper-1")]
