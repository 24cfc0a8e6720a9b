"""The Provider contract: 22 async methods (docs/contract.md#methods), five required and the rest with the
seed's defaults.

Where crabllm's code and the seed's text differ, this follows the seed's text (docs/contract.md#crabllm):
- ``gemini_generate_content`` converts the Gemini request to the IR (model from the path argument), sends it
  as an Anthropic request through ``anthropic_messages``, and converts the answer back;
- ``anthropic_messages_raw`` translates Anthropic → OpenAI, calls ``chat_completion`` and translates back.
A raw default that cannot parse the caller's body raises ``invalid_request`` (crabllm answers 500;
docs/contract.md#raw-methods).

Streaming methods are ``async`` and return a ``Stream`` once the upstream has accepted the request, so an
error before the first item is raised by the call itself (docs/contract.md#streams).
"""

from __future__ import annotations

import abc
from typing import ClassVar

from providers import contract
from providers.contract import Default
from providers.convert import anthropic as anthropic_convert
from providers.convert import gemini as gemini_convert
from providers.convert import openai as openai_convert
from providers.errors import ProviderError
from providers.streams import Stream
from providers.types import ir
from providers.types.anthropic import MessagesRequest, MessagesResponse, StreamEvent
from providers.types.gemini import GenerateContentRequest, GenerateContentResponse
from providers.types.media import (
    AudioSpeechRequest,
    EmbeddingRequest,
    EmbeddingResponse,
    ImageRequest,
    MultipartField,
)
from providers.types.openai import ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse

#: The 22 methods in the contract's order (docs/contract.md#methods); the harness reports coverage by it.
METHODS: tuple[str, ...] = tuple(method.name for method in contract.METHODS)
#: The abstract methods (docs/contract.md#required-methods).
REQUIRED: frozenset[str] = contract.named(Default.REQUIRED)
#: Methods whose default is a translation through other methods of the provider (docs/contract.md): a
#: provider that inherits one answers through wirecheck's own trip, with that trip's documented losses.
TRANSLATING_DEFAULTS: frozenset[str] = contract.named(Default.TRANSLATES)
#: Methods whose default raises not_implemented: a provider that inherits one does not offer it.
NOT_IMPLEMENTED_DEFAULTS: frozenset[str] = contract.named(Default.NOT_IMPLEMENTED)


def parse_client_body(model_type: type, raw_body: bytes, method: str):
    """Parse a caller's raw body; a body we cannot read is the caller's fault (invalid_request)."""
    try:
        return model_type.parse(raw_body)
    except ProviderError as exc:
        raise ProviderError.invalid_request(
            f"{method}: request body is not a valid {model_type.__name__}: {exc.message}"
        ) from None


class Provider(abc.ABC):
    """An LLM upstream adapter. Subclasses implement the five abstract methods and override the rest
    where the upstream speaks a format natively."""

    #: Registry name, e.g. ``"openai"``; set by concrete providers.
    name: ClassVar[str] = "provider"

    # --- required --------------------------------------------------------------------------------

    @abc.abstractmethod
    async def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        """OpenAI Chat Completions, non-streaming."""

    @abc.abstractmethod
    async def chat_completion_stream(self, request: ChatCompletionRequest) -> Stream[ChatCompletionChunk]:
        """OpenAI Chat Completions, streaming."""

    @abc.abstractmethod
    async def anthropic_messages(self, request: MessagesRequest) -> MessagesResponse:
        """Anthropic Messages, non-streaming."""

    @abc.abstractmethod
    async def anthropic_messages_stream(self, request: MessagesRequest) -> Stream[StreamEvent]:
        """Anthropic Messages, streaming."""

    @abc.abstractmethod
    async def gemini_generate_content_stream(
        self, model: str, request: GenerateContentRequest
    ) -> Stream[GenerateContentResponse]:
        """Gemini ``:streamGenerateContent``: each item is a full response with one candidate."""

    # --- provided --------------------------------------------------------------------------------

    async def gemini_generate_content(
        self, model: str, request: GenerateContentRequest
    ) -> GenerateContentResponse:
        """Default: Gemini → IR (model from the path) → ``anthropic_messages`` → IR → Gemini."""
        request_ir = gemini_convert.request_to_ir(request, model)
        answer = await self.anthropic_messages(anthropic_convert.request_from_ir(request_ir))
        return gemini_convert.response_from_ir(anthropic_convert.response_to_ir(answer))

    async def complete(self, request: ir.Request) -> ir.Response:
        raise ProviderError.not_implemented("complete")

    async def complete_stream(self, request: ir.Request) -> Stream[ir.StreamEvent]:
        raise ProviderError.not_implemented("complete_stream")

    async def embedding(self, request: EmbeddingRequest) -> EmbeddingResponse:
        raise ProviderError.not_implemented("embedding")

    async def image_generation(self, request: ImageRequest) -> tuple[bytes, str]:
        """Returns the upstream's body and its content type."""
        raise ProviderError.not_implemented("image_generation")

    async def audio_speech(self, request: AudioSpeechRequest) -> tuple[bytes, str]:
        """Returns the audio bytes and their content type."""
        raise ProviderError.not_implemented("audio_speech")

    async def audio_transcription(self, model: str, fields: list[MultipartField]) -> tuple[bytes, str]:
        """Returns the upstream's body (JSON or text, per ``response_format``) and its content type."""
        raise ProviderError.not_implemented("audio_transcription")

    def is_openai_compat(self) -> bool:
        """Speaks the OpenAI wire format, so raw OpenAI JSON can be forwarded unparsed."""
        return False

    def is_anthropic_compat(self) -> bool:
        """Can forward raw ``/v1/messages`` bytes."""
        return False

    def is_gemini_compat(self) -> bool:
        """Can forward raw ``:generateContent`` bytes."""
        return False

    async def chat_completion_stream_passthrough(self, model: str, body: Stream[bytes]) -> Stream[bytes]:
        """Stream a request body straight to an OpenAI-compatible endpoint; never retried (body consumed)."""
        raise ProviderError.not_implemented("chat_completion_stream_passthrough")

    async def chat_completion_stream_raw(self, model: str, raw_body: bytes) -> Stream[bytes]:
        """Raw OpenAI SSE bytes for a raw request body."""
        raise ProviderError.not_implemented("chat_completion_stream_raw")

    async def chat_completion_raw(self, model: str, raw_body: bytes) -> bytes:
        """Default: parse, ``chat_completion``, serialize. ``model`` replaces the body's model."""
        request = parse_client_body(ChatCompletionRequest, raw_body, "chat_completion_raw")
        if model:
            request.model = model
        return (await self.chat_completion(request)).to_bytes()

    async def anthropic_messages_raw(self, raw_body: bytes) -> bytes:
        """Default: Anthropic → OpenAI, ``chat_completion``, OpenAI → Anthropic."""
        request = parse_client_body(MessagesRequest, raw_body, "anthropic_messages_raw")
        chat = openai_convert.request_from_ir(anthropic_convert.request_to_ir(request))
        answer = await self.chat_completion(chat)
        return anthropic_convert.response_from_ir(openai_convert.response_to_ir(answer)).to_bytes()

    async def anthropic_messages_stream_raw(self, raw_body: bytes) -> Stream[bytes]:
        raise ProviderError.not_implemented("anthropic_messages_stream_raw")

    async def gemini_generate_content_raw(self, model: str, raw_body: bytes) -> bytes:
        """Default: parse, ``gemini_generate_content``, serialize."""
        request = parse_client_body(GenerateContentRequest, raw_body, "gemini_generate_content_raw")
        return (await self.gemini_generate_content(model, request)).to_bytes()

    async def gemini_generate_content_stream_raw(self, model: str, raw_body: bytes) -> Stream[bytes]:
        raise ProviderError.not_implemented("gemini_generate_content_stream_raw")
