"""The Anthropic reference provider (docs/wire.md#anthropic): Messages at ``{base_url}/v1/messages``.

Native: ``anthropic_messages`` typed and streamed, and both raw methods (bytes forwarded unparsed).
Translated through the IR onto ``anthropic_messages(_stream)``: the OpenAI chat calls (OpenAI → IR →
Anthropic; ``max_completion_tokens`` reaches ``max_tokens`` — crabllm ignores it), ``complete(_stream)``,
and the Gemini stream (Gemini → IR → Anthropic stream → IR → Gemini). ``gemini_generate_content`` keeps the
seed's default, which already goes through ``anthropic_messages``; the OpenAI and Gemini raw calls keep
theirs (parse, typed call, serialize). Anthropic has no embeddings, images or audio: those, the
passthrough and the OpenAI/Gemini raw streams are not implemented.

The typed stream yields every event the upstream sent, ``ping`` included, so typed and raw agree (each
event is read by its JSON ``type``; the ``event:`` line is not needed, unlike in the SDKs); an ``event:
error`` raises ``ProviderError(kind="upstream")`` from the iterator with the status of its error type
(``overloaded_error`` → 529; the table is ``convert.anthropic.ERROR_STATUS``) and ``details["in_stream"]``.
A translated OpenAI stream ends with the usage-only chunk only when the client asked for it
(``stream_options.include_usage``), as OpenAI does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Literal

import httpx

from providers._dialect import AnthropicEvents, HTTPProvider, anthropic_error_parser, body_for, merge_headers
from providers.convert import anthropic as anthropic_convert
from providers.convert import gemini as gemini_convert
from providers.convert import openai as openai_convert
from providers.openai import asks_for_usage
from providers.streams import Stream, translate
from providers.transport import RetryPolicy, Timeouts
from providers.types import ir
from providers.types.anthropic import MessagesRequest, MessagesResponse, StreamEvent, parse_stream_event
from providers.types.gemini import GenerateContentRequest, GenerateContentResponse
from providers.types.openai import ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_VERSION = "2023-06-01"
MESSAGES = "/v1/messages"


class AnthropicProvider(HTTPProvider):
    """Anthropic Messages at ``base_url``. ``auth`` picks the key header: ``x-api-key`` (SDK <= 1.x) or
    ``bearer`` (``Authorization: Bearer``, SDK >= 2.0); ``version`` is sent as ``anthropic-version`` and
    ``betas`` comma-joined as ``anthropic-beta`` (docs/wire.md#anthropic-headers)."""

    name = "anthropic"
    dialect = "anthropic"

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        auth: Literal["x-api-key", "bearer"] = "x-api-key",
        version: str = DEFAULT_VERSION,
        betas: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if auth == "x-api-key":
            fixed = {"x-api-key": api_key}
        elif auth == "bearer":
            fixed = {"authorization": f"Bearer {api_key}"}
        else:
            raise ValueError(f"auth must be 'x-api-key' or 'bearer', not {auth!r}")
        fixed["anthropic-version"] = version
        betas = [betas] if isinstance(betas, str) else list(betas)
        if betas:
            fixed["anthropic-beta"] = ",".join(betas)
        super().__init__(
            base_url,
            headers=merge_headers(fixed, headers),
            error_parser=anthropic_error_parser,
            timeouts=timeouts,
            retry=retry,
            client=client,
            sleep=sleep,
        )

    def is_anthropic_compat(self) -> bool:
        return True

    # --- native ------------------------------------------------------------------------------------

    async def anthropic_messages(self, request: MessagesRequest) -> MessagesResponse:
        return await self.post_model(MESSAGES, body_for(request, stream=False), MessagesResponse)

    async def anthropic_messages_stream(self, request: MessagesRequest) -> Stream[StreamEvent]:
        return await self.open_sse(
            MESSAGES, body_for(request, stream=True), AnthropicEvents(parse_stream_event)
        )

    async def anthropic_messages_raw(self, raw_body: bytes) -> bytes:
        """The caller's body and the upstream's reply, both unparsed."""
        return (await self.post(MESSAGES, raw_body)).content

    async def anthropic_messages_stream_raw(self, raw_body: bytes) -> Stream[bytes]:
        """The caller's body unparsed; the upstream's SSE bytes as they arrive."""
        return await self.open_raw_sse(MESSAGES, raw_body)

    # --- translated through the IR -----------------------------------------------------------------

    async def complete(self, request: ir.Request) -> ir.Response:
        answer = await self.anthropic_messages(anthropic_convert.request_from_ir(request))
        return anthropic_convert.response_to_ir(answer)

    async def complete_stream(self, request: ir.Request) -> Stream[ir.StreamEvent]:
        events = await self.anthropic_messages_stream(anthropic_convert.request_from_ir(request))
        return translate(events, anthropic_convert.StreamToIR())

    async def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        answer = await self.anthropic_messages(
            anthropic_convert.request_from_ir(openai_convert.request_to_ir(request))
        )
        return openai_convert.response_from_ir(anthropic_convert.response_to_ir(answer))

    async def chat_completion_stream(self, request: ChatCompletionRequest) -> Stream[ChatCompletionChunk]:
        body = anthropic_convert.request_from_ir(openai_convert.request_to_ir(request))
        events = await self.anthropic_messages_stream(body)
        to_openai = openai_convert.StreamFromIR(include_usage=asks_for_usage(request))
        return translate(events, anthropic_convert.StreamToIR(), to_openai)

    async def gemini_generate_content_stream(
        self, model: str, request: GenerateContentRequest
    ) -> Stream[GenerateContentResponse]:
        body = anthropic_convert.request_from_ir(gemini_convert.request_to_ir(request, model))
        events = await self.anthropic_messages_stream(body)
        return translate(events, anthropic_convert.StreamToIR(), gemini_convert.StreamFromIR())
