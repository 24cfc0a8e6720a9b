"""The Provider base: a provider with only the five required methods gets working defaults for the rest,
and every method it does not offer raises not_implemented naming the method (docs/contract.md#methods)."""

from __future__ import annotations

import json

import pytest

from providers.base import METHODS, NOT_IMPLEMENTED_DEFAULTS, REQUIRED, Provider
from providers.errors import ProviderError
from providers.streams import Stream, from_items
from providers.types import ir
from providers.types.anthropic import MessagesRequest, MessagesResponse
from providers.types.gemini import GenerateContentRequest
from providers.types.media import AudioSpeechRequest, EmbeddingRequest, ImageRequest, MultipartField
from providers.types.openai import ChatCompletionRequest, ChatCompletionResponse
from tests.strategies.common import assert_strict_equal

pytestmark = pytest.mark.anyio

CHAT_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-test",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}
ANTHROPIC_REPLY = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-test",
    "content": [{"type": "text", "text": "Hello from Claude"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 4, "output_tokens": 3},
}


class Fake(Provider):
    """Implements only the five required methods, and records what reached them."""

    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    async def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        self.calls.append(("chat_completion", request.to_json()))
        return ChatCompletionResponse.parse(CHAT_REPLY)

    async def chat_completion_stream(self, request):
        self.calls.append(("chat_completion_stream", request.to_json()))
        return from_items([])

    async def anthropic_messages(self, request: MessagesRequest) -> MessagesResponse:
        self.calls.append(("anthropic_messages", request.to_json()))
        return MessagesResponse.parse(ANTHROPIC_REPLY)

    async def anthropic_messages_stream(self, request):
        self.calls.append(("anthropic_messages_stream", request.to_json()))
        return from_items([])

    async def gemini_generate_content_stream(self, model, request):
        self.calls.append(("gemini_generate_content_stream", request.to_json()))
        return from_items([])


def test_the_contract_has_22_methods_and_5_are_abstract():
    assert len(METHODS) == 22 == len(set(METHODS))
    assert Provider.__abstractmethods__ == REQUIRED
    for method in METHODS:
        assert callable(getattr(Provider, method)), method


def test_a_provider_missing_a_required_method_cannot_be_built():
    class Incomplete(Provider):
        async def chat_completion(self, request):
            raise AssertionError

    with pytest.raises(TypeError, match="anthropic_messages"):
        Incomplete()


async def test_gemini_default_goes_through_anthropic_messages_with_the_model_from_the_path():
    fake = Fake()
    request = GenerateContentRequest.parse(
        {
            "contents": [{"role": "user", "parts": [{"text": "Say hi"}]}],
            "generationConfig": {"maxOutputTokens": 50},
        }
    )
    answer = await fake.gemini_generate_content("gemini-test", request)
    (method, sent), *rest = fake.calls
    assert method == "anthropic_messages" and rest == []
    assert sent["model"] == "gemini-test"
    assert sent["max_tokens"] == 50
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Say hi"}]}]
    body = answer.to_json()
    assert body["candidates"][0]["content"] == {"role": "model", "parts": [{"text": "Hello from Claude"}]}
    assert body["candidates"][0]["finishReason"] == "STOP"
    assert body["usageMetadata"]["promptTokenCount"] == 4
    assert body["usageMetadata"]["candidatesTokenCount"] == 3


async def test_gemini_raw_default_parses_calls_the_typed_method_and_serializes():
    fake = Fake()
    raw = json.dumps({"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]}).encode()
    body = json.loads(await fake.gemini_generate_content_raw("gemini-test", raw))
    assert [m for m, _ in fake.calls] == ["anthropic_messages"]
    assert body["candidates"][0]["content"]["parts"] == [{"text": "Hello from Claude"}]


async def test_chat_raw_default_parses_overrides_the_model_and_serializes_losslessly():
    fake = Fake()
    raw = b'{"model":"alias","messages":[{"role":"user","content":"hi"}],"x_vendor":{"keep":null}}'
    out = await fake.chat_completion_raw("gpt-test", raw)
    assert fake.calls == [
        ("chat_completion", {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}],
                             "x_vendor": {"keep": None}}),
    ]  # fmt: skip
    assert_strict_equal(json.loads(out), CHAT_REPLY)


async def test_anthropic_raw_default_translates_through_chat_completion_and_back():
    fake = Fake()
    raw = json.dumps(
        {"model": "claude-test", "max_tokens": 64, "system": "Be brief.",
         "messages": [{"role": "user", "content": "hi"}]}
    ).encode()  # fmt: skip
    body = json.loads(await fake.anthropic_messages_raw(raw))
    (method, sent), *rest = fake.calls
    assert method == "chat_completion" and rest == []
    assert sent["model"] == "claude-test"
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert 64 in (sent.get("max_tokens"), sent.get("max_completion_tokens"))
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["content"] == [{"type": "text", "text": "Hi there"}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"]["input_tokens"] == 5 and body["usage"]["output_tokens"] == 2


@pytest.mark.parametrize(
    ("method", "raw"),
    [("chat_completion_raw", b"{not json"), ("anthropic_messages_raw", b'{"model": 1}'),
     ("gemini_generate_content_raw", b"[]")],
)  # fmt: skip
async def test_raw_defaults_reject_a_bad_client_body_as_invalid_request(method, raw):
    fake = Fake()
    call = getattr(fake, method)
    args = (raw,) if method == "anthropic_messages_raw" else ("m", raw)
    with pytest.raises(ProviderError) as caught:
        await call(*args)
    assert caught.value.kind == "invalid_request"
    assert method in caught.value.message
    assert fake.calls == []


async def _body() -> Stream[bytes]:
    return from_items([b"{}"])


NOT_IMPLEMENTED = {
    "complete": lambda p: p.complete(ir.Request(model="m")),
    "complete_stream": lambda p: p.complete_stream(ir.Request(model="m")),
    "embedding": lambda p: p.embedding(EmbeddingRequest(model="m", input="x")),
    "image_generation": lambda p: p.image_generation(ImageRequest(prompt="x")),
    "audio_speech": lambda p: p.audio_speech(AudioSpeechRequest(model="m", input="x", voice="alloy")),
    "audio_transcription": lambda p: p.audio_transcription("m", [MultipartField("file", b"x", "a.wav")]),
    "chat_completion_stream_passthrough": lambda p: p.chat_completion_stream_passthrough(
        "m", from_items([b"{}"])
    ),
    "chat_completion_stream_raw": lambda p: p.chat_completion_stream_raw("m", b"{}"),
    "anthropic_messages_stream_raw": lambda p: p.anthropic_messages_stream_raw(b"{}"),
    "gemini_generate_content_stream_raw": lambda p: p.gemini_generate_content_stream_raw("m", b"{}"),
}


@pytest.mark.parametrize("method", sorted(NOT_IMPLEMENTED))
async def test_methods_without_a_default_raise_not_implemented_naming_the_method(method):
    fake = Fake()
    with pytest.raises(ProviderError) as caught:
        await NOT_IMPLEMENTED[method](fake)
    assert (caught.value.kind, caught.value.method) == ("not_implemented", method)
    assert method in str(caught.value)


def test_the_published_list_of_not_implemented_defaults_is_exactly_those_that_raise():
    assert set(NOT_IMPLEMENTED) == NOT_IMPLEMENTED_DEFAULTS


def test_every_contract_method_is_covered_by_these_tests():
    tested = set(NOT_IMPLEMENTED) | REQUIRED | {
        "gemini_generate_content", "chat_completion_raw", "anthropic_messages_raw", "gemini_generate_content_raw",
        "is_openai_compat", "is_anthropic_compat", "is_gemini_compat",
    }  # fmt: skip
    assert tested == set(METHODS)


def test_compat_flags_default_to_false():
    fake = Fake()
    assert (fake.is_openai_compat(), fake.is_anthropic_compat(), fake.is_gemini_compat()) == (
        False,
        False,
        False,
    )
