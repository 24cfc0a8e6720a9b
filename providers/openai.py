"""The OpenAI reference provider (docs/wire.md#openai): Chat Completions, embeddings, images, audio, and every
OpenAI-compatible server (Ollama, vLLM, DeepSeek, ...) through a configurable ``base_url``.

Native: the chat calls typed, raw and passthrough, embeddings, images, speech, transcription.
Translated through the IR onto ``chat_completion(_stream)``: ``complete(_stream)``, the Anthropic Messages
calls, and the Gemini calls — Gemini → IR → OpenAI directly, overriding the seed's default that hops
through ``anthropic_messages`` (Gemini → IR → Anthropic → IR → OpenAI), which loses whatever Anthropic
cannot carry on the way (tool-result images, penalties, seed, response_format ...).
Defaults kept: ``anthropic_messages_raw`` (parse, translate, ``chat_completion``, back) and
``gemini_generate_content_raw`` (parse, ``gemini_generate_content``, serialize); the Anthropic and Gemini
raw streams are not implemented (no upstream speaks them here).

Translated streams ask the upstream for usage (``stream_options.include_usage: true``): without it an
OpenAI stream carries no token counts, and the Anthropic or Gemini client would see zero usage (a
translator that forgot it reported 0 tokens: kaitranntt/ccs PR#1574).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping

import httpx

from providers._dialect import (
    HTTPProvider,
    OpenAIEvents,
    body_for,
    merge_headers,
    openai_error_parser,
    retarget,
)
from providers.convert import anthropic as anthropic_convert
from providers.convert import gemini as gemini_convert
from providers.convert import openai as openai_convert
from providers.streams import Stream, translate
from providers.transport import RetryPolicy, Timeouts
from providers.types import ir
from providers.types.anthropic import MessagesRequest, MessagesResponse, StreamEvent
from providers.types.gemini import GenerateContentRequest, GenerateContentResponse
from providers.types.media import (
    SPEECH_CONTENT_TYPES,
    AudioSpeechRequest,
    EmbeddingRequest,
    EmbeddingResponse,
    ImageRequest,
    MultipartField,
    encode_multipart,
)
from providers.types.openai import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    StreamOptions,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"

CHAT = "chat/completions"
EMBEDDINGS = "embeddings"
IMAGES = "images/generations"
SPEECH = "audio/speech"
TRANSCRIPTIONS = "audio/transcriptions"


def with_usage(request: ChatCompletionRequest) -> ChatCompletionRequest:
    """``request`` (a fresh converter output) asking for usage on its stream: a new ``stream_options``
    object, so one shared with the caller's IR ``vendor`` data is never mutated."""
    given = request.stream_options.to_json() if request.stream_options is not None else {}
    request.stream_options = StreamOptions.parse({**given, "include_usage": True})
    return request


def asks_for_usage(request: ChatCompletionRequest) -> bool:
    """Whether an OpenAI client asked for the usage chunk (``stream_options.include_usage``). A stream
    translated for it carries that last ``choices: []`` chunk only then, as OpenAI does: clients that
    read ``choices[0]`` of every chunk break on one they did not ask for."""
    options = request.stream_options
    return bool(options is not None and options.include_usage)


class OpenAIProvider(HTTPProvider):
    """OpenAI Chat Completions and the media endpoints, at ``base_url`` (an OpenAI-compatible server's
    ``…/v1`` works the same). ``Authorization: Bearer <api_key>``, plus ``OpenAI-Organization`` and
    ``OpenAI-Project`` when given; ``headers`` are added to every request. ``sleep`` is what a retry waits
    on (tests inject a recorder)."""

    name = "openai"
    dialect = "openai"

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        organization: str | None = None,
        project: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        auth = {"authorization": f"Bearer {api_key}"}
        if organization:
            auth["openai-organization"] = organization
        if project:
            auth["openai-project"] = project
        super().__init__(
            base_url,
            headers=merge_headers(auth, headers),
            error_parser=openai_error_parser,
            timeouts=timeouts,
            retry=retry,
            client=client,
            sleep=sleep,
        )

    def path(self, endpoint: str, model: str | None) -> str:
        """The URL path of ``endpoint`` for ``model`` (Azure routes by deployment instead)."""
        return "/" + endpoint

    def is_openai_compat(self) -> bool:
        return True

    # --- chat, native ------------------------------------------------------------------------------

    async def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        body = body_for(request, stream=False, stream_options=True)
        return await self.post_model(self.path(CHAT, request.model), body, ChatCompletionResponse)

    async def chat_completion_stream(self, request: ChatCompletionRequest) -> Stream[ChatCompletionChunk]:
        body = body_for(request, stream=True)
        return await self.open_sse(self.path(CHAT, request.model), body, OpenAIEvents(ChatCompletionChunk))

    async def chat_completion_raw(self, model: str, raw_body: bytes) -> bytes:
        """The caller's body forwarded unparsed (only ``model`` rewritten, when it differs); the reply's
        bytes unparsed."""
        body, target = retarget(raw_body, model, "chat_completion_raw")
        return (await self.post(self.path(CHAT, target), body)).content

    async def chat_completion_stream_raw(self, model: str, raw_body: bytes) -> Stream[bytes]:
        """The caller's body forwarded unparsed (only ``model`` rewritten, when it differs; its ``stream``
        flag is the caller's business); the upstream's SSE bytes as they arrive."""
        body, target = retarget(raw_body, model, "chat_completion_stream_raw")
        return await self.open_raw_sse(self.path(CHAT, target), body)

    async def chat_completion_stream_passthrough(self, model: str, body: Stream[bytes]) -> Stream[bytes]:
        """``body`` streamed to the upstream as it arrives (so it is sent once, never retried; ``model``
        only routes); the upstream's SSE bytes as they arrive."""
        try:
            return await self.open_raw_sse(self.path(CHAT, model), body, idempotent=False)
        except Exception:
            await body.aclose()
            raise

    # --- media, native -----------------------------------------------------------------------------

    async def embedding(self, request: EmbeddingRequest) -> EmbeddingResponse:
        return await self.post_model(
            self.path(EMBEDDINGS, request.model), request.to_bytes(), EmbeddingResponse
        )

    async def image_generation(self, request: ImageRequest) -> tuple[bytes, str]:
        response = await self.post(self.path(IMAGES, request.model), request.to_bytes())
        return response.content, response.headers.get("content-type", "application/json")

    async def audio_speech(self, request: AudioSpeechRequest) -> tuple[bytes, str]:
        """The audio bytes and their type. The spec declares ``application/octet-stream`` while the API
        sends the real type (docs/wire.md#openai-speech): a missing or generic type is replaced by the one of
        ``response_format`` (mp3 when absent)."""
        response = await self.post(
            self.path(SPEECH, request.model),
            request.to_bytes(),
            headers={"content-type": "application/json", "accept": "application/octet-stream"},
        )
        kind = response.headers.get("content-type", "")
        if not kind or kind.split(";")[0].strip() == "application/octet-stream":
            kind = SPEECH_CONTENT_TYPES.get(
                request.response_format or "mp3", kind or "application/octet-stream"
            )
        return response.content, kind

    async def audio_transcription(self, model: str, fields: list[MultipartField]) -> tuple[bytes, str]:
        """The caller's form fields as multipart/form-data; a ``model`` argument that differs from the
        form's ``model`` field replaces it (or is added when the form has none). Without one, the form's
        ``model`` routes the call (Azure's deployment)."""
        fields = list(fields)
        if not model:
            model = next((field.text for field in fields if field.name == "model"), "")
        else:
            named = [i for i, field in enumerate(fields) if field.name == "model"]
            if not named:
                fields.append(MultipartField("model", model.encode()))
            for i in named:
                if fields[i].data != model.encode():
                    fields[i] = MultipartField("model", model.encode())
        content, content_type = encode_multipart(fields)
        response = await self.post(
            self.path(TRANSCRIPTIONS, model), content, headers={"content-type": content_type}
        )
        return response.content, response.headers.get("content-type", "application/json")

    # --- translated through the IR -----------------------------------------------------------------

    async def complete(self, request: ir.Request) -> ir.Response:
        answer = await self.chat_completion(openai_convert.request_from_ir(request))
        return openai_convert.response_to_ir(answer)

    async def complete_stream(self, request: ir.Request) -> Stream[ir.StreamEvent]:
        chat = openai_convert.request_from_ir(dataclasses.replace(request, stream=True, include_usage=True))
        return translate(await self.chat_completion_stream(with_usage(chat)), openai_convert.StreamToIR())

    async def anthropic_messages(self, request: MessagesRequest) -> MessagesResponse:
        chat = openai_convert.request_from_ir(anthropic_convert.request_to_ir(request))
        answer = await self.chat_completion(chat)
        return anthropic_convert.response_from_ir(openai_convert.response_to_ir(answer))

    async def anthropic_messages_stream(self, request: MessagesRequest) -> Stream[StreamEvent]:
        chat = openai_convert.request_from_ir(_streaming(anthropic_convert.request_to_ir(request)))
        chunks = await self.chat_completion_stream(with_usage(chat))
        return translate(chunks, openai_convert.StreamToIR(), anthropic_convert.StreamFromIR())

    async def gemini_generate_content(
        self, model: str, request: GenerateContentRequest
    ) -> GenerateContentResponse:
        """Gemini → IR → OpenAI → ``chat_completion`` → IR → Gemini: one hop through the IR, not the
        seed's two (via ``anthropic_messages``), which would drop what Anthropic cannot carry."""
        chat = openai_convert.request_from_ir(gemini_convert.request_to_ir(request, model))
        answer = await self.chat_completion(chat)
        return gemini_convert.response_from_ir(openai_convert.response_to_ir(answer))

    async def gemini_generate_content_stream(
        self, model: str, request: GenerateContentRequest
    ) -> Stream[GenerateContentResponse]:
        chat = openai_convert.request_from_ir(_streaming(gemini_convert.request_to_ir(request, model)))
        chunks = await self.chat_completion_stream(with_usage(chat))
        return translate(chunks, openai_convert.StreamToIR(), gemini_convert.StreamFromIR())


def _streaming(request: ir.Request) -> ir.Request:
    """A fresh IR request (ours to change) marked as streaming with usage asked for."""
    request.stream = True
    request.include_usage = True
    return request
