"""Every reference provider × every one of the 22 contract methods, against one scripted upstream per
dialect: the method is native, translated, the seed's default, or not implemented — exactly as the table
below says (overridden or not, and what a call does) — and every offered method returns a valid result
carrying the upstream's answer ("Hello!"). The exact requests per method are in test_provider_<name>.py."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug import Request, Response

from providers.anthropic import AnthropicProvider
from providers.azure import AzureOpenAIProvider
from providers.base import METHODS, Provider
from providers.errors import ProviderError
from providers.google import GoogleProvider
from providers.openai import OpenAIProvider
from providers.sse import decode_all
from providers.streams import Stream, from_items
from providers.transport import RetryPolicy
from providers.types import ir
from providers.types.anthropic import MessagesRequest, MessagesResponse, parse_stream_event
from providers.types.gemini import GenerateContentRequest, GenerateContentResponse
from providers.types.media import (
    AudioSpeechRequest,
    EmbeddingRequest,
    EmbeddingResponse,
    ImageRequest,
    MultipartField,
)
from providers.types.openai import ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse
from tests.fixtures.providers import (
    ANTHROPIC_EVENTS,
    ANTHROPIC_REQUEST,
    ANTHROPIC_RESPONSE,
    GEMINI_ITEMS,
    GEMINI_REQUEST,
    GEMINI_RESPONSE,
    OPENAI_CHUNKS,
    OPENAI_EMBEDDING_RESPONSE,
    OPENAI_IMAGE_RESPONSE,
    OPENAI_REQUEST,
    OPENAI_RESPONSE,
    OPENAI_TRANSCRIPTION_RESPONSE,
    anthropic_sse,
    gemini_sse,
    openai_sse,
)

pytestmark = pytest.mark.anyio

N, T, D, X = "native", "translated", "default", "not_implemented"

#: How each provider offers each method: N native, T translated through the IR, D the seed's default body
#: (providers/base.py), X not implemented. For the compat flags, N = overridden to True, D = False.
GRID = """
                                     openai azure anthropic google
chat_completion                         N     N       T       T
chat_completion_stream                  N     N       T       T
anthropic_messages                      T     T       N       T
anthropic_messages_stream               T     T       N       T
gemini_generate_content_stream          T     T       T       N
gemini_generate_content                 T     T       D       N
complete                                T     T       T       T
complete_stream                         T     T       T       T
embedding                               N     N       X       T
image_generation                        N     N       X       X
audio_speech                            N     N       X       X
audio_transcription                     N     N       X       X
is_openai_compat                        N     N       D       D
is_anthropic_compat                     D     D       N       D
is_gemini_compat                        D     D       D       N
chat_completion_stream_passthrough      N     N       X       X
chat_completion_stream_raw              N     N       X       X
chat_completion_raw                     N     N       D       D
anthropic_messages_raw                  D     D       N       T
anthropic_messages_stream_raw           X     X       N       X
gemini_generate_content_raw             D     D       D       N
gemini_generate_content_stream_raw      X     X       X       N
"""
_KINDS = {"N": N, "T": T, "D": D, "X": X}
_HEAD, *_ROWS = GRID.strip().splitlines()
TABLE: dict[str, dict[str, str]] = {
    name: {row.split()[0]: _KINDS[row.split()[1 + i]] for row in _ROWS}
    for i, name in enumerate(_HEAD.split())
}
CLASSES: dict[str, type[Provider]] = {
    "openai": OpenAIProvider,
    "azure": AzureOpenAIProvider,
    "anthropic": AnthropicProvider,
    "google": GoogleProvider,
}
CASES = [(name, method) for name in TABLE for method in METHODS]


def test_the_table_covers_every_method_of_the_contract():
    assert len(METHODS) == 22
    for methods in TABLE.values():
        assert list(methods) == list(METHODS)


@pytest.mark.parametrize(("name", "method"), CASES)
def test_a_method_is_overridden_exactly_when_the_table_says_so(name, method):
    cls, kind = CLASSES[name], TABLE[name][method]
    overridden = getattr(cls, method) is not getattr(Provider, method)
    assert overridden == (kind in (N, T)), f"{name}.{method} is {kind} but overridden={overridden}"
    assert not cls.__abstractmethods__


# --- one scripted upstream per dialect ----------------------------------------------------------------


def _sse(body: bytes) -> Response:
    return Response(body, content_type="text/event-stream")


def _json(obj) -> Response:
    return Response(json.dumps(obj), content_type="application/json")


def upstream(request: Request) -> Response:
    """Answers whatever any of the four providers asks, in the dialect its path speaks."""
    path = request.path
    body = json.loads(request.get_data() or b"{}") if request.mimetype == "application/json" else {}
    streamed = isinstance(body, dict) and body.get("stream") is True
    if path.endswith("/chat/completions"):
        return _sse(openai_sse(OPENAI_CHUNKS)) if streamed else _json(OPENAI_RESPONSE)
    if path.endswith("/embeddings"):
        return _json(OPENAI_EMBEDDING_RESPONSE)
    if path.endswith("/images/generations"):
        return _json(OPENAI_IMAGE_RESPONSE)
    if path.endswith("/audio/speech"):
        return Response(b"ID3-audio", content_type="audio/mpeg")
    if path.endswith("/audio/transcriptions"):
        return _json(OPENAI_TRANSCRIPTION_RESPONSE)
    if path == "/v1/messages":
        return _sse(anthropic_sse(ANTHROPIC_EVENTS)) if streamed else _json(ANTHROPIC_RESPONSE)
    if path.endswith(":streamGenerateContent"):
        return _sse(gemini_sse(GEMINI_ITEMS))
    if path.endswith(":generateContent"):
        return _json(GEMINI_RESPONSE)
    if path.endswith(":batchEmbedContents"):
        return _json({"embeddings": [{"values": [0.25, -0.5]}]})
    return Response("no such route", status=404)


@pytest.fixture
def make(httpserver):
    httpserver.expect_request(re.compile(".*")).respond_with_handler(upstream)
    base = httpserver.url_for("")
    factories = {
        "openai": lambda: OpenAIProvider("k", base_url=base + "/v1", retry=RetryPolicy(max_retries=0)),
        "azure": lambda: AzureOpenAIProvider("k", endpoint=base, retry=RetryPolicy(max_retries=0)),
        "anthropic": lambda: AnthropicProvider("k", base_url=base, retry=RetryPolicy(max_retries=0)),
        "google": lambda: GoogleProvider("k", base_url=base, retry=RetryPolicy(max_retries=0)),
    }
    return lambda name: factories[name]()


# --- calling each method ------------------------------------------------------------------------------

IR_REQUEST = ir.Request(
    model="gpt-4o-mini", messages=[ir.Message(role="user", content=[ir.Text(text="Hi")])], max_tokens=50
)
CHAT_RAW = json.dumps({**OPENAI_REQUEST, "stream": True}).encode()


async def _drain(stream: Stream) -> list:
    assert isinstance(stream, Stream)
    return await stream.collect()


def _chat_text(response: ChatCompletionResponse) -> str:
    return response.choices[0].message.content


def _chunks_text(chunks: list) -> str:
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    return "".join(ch.delta.content or "" for c in chunks for ch in c.choices)


def _message_text(message: MessagesResponse) -> str:
    assert isinstance(message, MessagesResponse)
    return "".join(b.text for b in message.content)


def _events_text(events: list) -> str:
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    return "".join(getattr(e.delta, "text", "") for e in events if e.type == "content_block_delta")


def _gemini_text(items: list) -> str:
    assert all(isinstance(i, GenerateContentResponse) for i in items)
    return "".join(p.text or "" for i in items for c in i.candidates or () for p in c.content.parts)


async def call(provider: Provider, method: str):
    """Call ``method`` with a canned argument; return the answer's text (or a marker for media)."""
    p = provider
    match method:
        case "chat_completion":
            return _chat_text(await p.chat_completion(ChatCompletionRequest.parse(OPENAI_REQUEST)))
        case "chat_completion_stream":
            return _chunks_text(
                await _drain(await p.chat_completion_stream(ChatCompletionRequest.parse(OPENAI_REQUEST)))
            )
        case "anthropic_messages":
            return _message_text(await p.anthropic_messages(MessagesRequest.parse(ANTHROPIC_REQUEST)))
        case "anthropic_messages_stream":
            return _events_text(
                await _drain(await p.anthropic_messages_stream(MessagesRequest.parse(ANTHROPIC_REQUEST)))
            )
        case "gemini_generate_content_stream":
            stream = await p.gemini_generate_content_stream(
                "gemini-2.5-flash", GenerateContentRequest.parse(GEMINI_REQUEST)
            )
            return _gemini_text(await _drain(stream))
        case "gemini_generate_content":
            return _gemini_text(
                [
                    await p.gemini_generate_content(
                        "gemini-2.5-flash", GenerateContentRequest.parse(GEMINI_REQUEST)
                    )
                ]
            )
        case "complete":
            answer = await p.complete(IR_REQUEST)
            assert isinstance(answer, ir.Response)
            return "".join(part.text for part in answer.content)
        case "complete_stream":
            events = await _drain(await p.complete_stream(IR_REQUEST))
            assert isinstance(events[0], ir.MessageStart) and isinstance(events[-1], ir.End)
            return "".join(e.text or "" for e in events if isinstance(e, ir.BlockDelta))
        case "embedding":
            result = await p.embedding(
                EmbeddingRequest.parse({"model": "text-embedding-3-small", "input": "a"})
            )
            assert isinstance(result, EmbeddingResponse) and result.data[0].vector()[:2] == [0.25, -0.5]
            return "embedding"
        case "image_generation":
            body, kind = await p.image_generation(
                ImageRequest.parse({"model": "gpt-image-1", "prompt": "cube"})
            )
            assert json.loads(body) == OPENAI_IMAGE_RESPONSE and kind == "application/json"
            return "image"
        case "audio_speech":
            request = AudioSpeechRequest.parse({"model": "tts-1", "input": "Hi", "voice": "alloy"})
            assert await p.audio_speech(request) == (b"ID3-audio", "audio/mpeg")
            return "audio"
        case "audio_transcription":
            body, _ = await p.audio_transcription(
                "whisper-1", [MultipartField("file", b"wav", filename="a.wav")]
            )
            return json.loads(body)["text"]
        case "is_openai_compat" | "is_anthropic_compat" | "is_gemini_compat":
            return getattr(p, method)()
        case "chat_completion_stream_passthrough":
            stream = await p.chat_completion_stream_passthrough("gpt-4o-mini", from_items([CHAT_RAW]))
            return _chunks_text(
                [ChatCompletionChunk.parse(e.data) for e in decode_all(b"".join(await _drain(stream)))[:-1]]
            )
        case "chat_completion_stream_raw":
            stream = await p.chat_completion_stream_raw("gpt-4o-mini", CHAT_RAW)
            return _chunks_text(
                [ChatCompletionChunk.parse(e.data) for e in decode_all(b"".join(await _drain(stream)))[:-1]]
            )
        case "chat_completion_raw":
            return _chat_text(
                ChatCompletionResponse.parse(
                    await p.chat_completion_raw("gpt-4o-mini", json.dumps(OPENAI_REQUEST).encode())
                )
            )
        case "anthropic_messages_raw":
            return _message_text(
                MessagesResponse.parse(await p.anthropic_messages_raw(json.dumps(ANTHROPIC_REQUEST).encode()))
            )
        case "anthropic_messages_stream_raw":
            stream = await p.anthropic_messages_stream_raw(
                json.dumps({**ANTHROPIC_REQUEST, "stream": True}).encode()
            )
            return _events_text(
                [parse_stream_event(e.data) for e in decode_all(b"".join(await _drain(stream)))]
            )
        case "gemini_generate_content_raw":
            raw = await p.gemini_generate_content_raw("gemini-2.5-flash", json.dumps(GEMINI_REQUEST).encode())
            return _gemini_text([GenerateContentResponse.parse(raw)])
        case "gemini_generate_content_stream_raw":
            stream = await p.gemini_generate_content_stream_raw(
                "gemini-2.5-flash", json.dumps(GEMINI_REQUEST).encode()
            )
            return _gemini_text(
                [GenerateContentResponse.parse(e.data) for e in decode_all(b"".join(await _drain(stream)))]
            )
    raise AssertionError(f"no call for {method}")


EXPECTED = {
    "embedding": "embedding",
    "image_generation": "image",
    "audio_speech": "audio",
    "audio_transcription": "Hello there.",
}


@pytest.mark.parametrize(("name", "method"), CASES)
async def test_every_method_does_what_the_table_says(httpserver, make, name, method):
    kind = TABLE[name][method]
    async with make(name) as provider:
        if kind == X:
            with pytest.raises(ProviderError) as caught:
                await call(provider, method)
            assert (caught.value.kind, caught.value.method) == ("not_implemented", method)
            assert f"'{method}'" in str(caught.value)
            assert httpserver.log == []
        elif method.startswith("is_"):
            assert await call(provider, method) is (kind == N)
        else:
            assert await call(provider, method) == EXPECTED.get(method, "Hello!")
            assert len(httpserver.log) >= 1
