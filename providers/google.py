"""The Google Gemini reference provider (docs/wire.md#gemini): the Gemini API (Generative Language API).

URLs are ``{base_url}/{api_version}/{model}:generateContent``, ``:streamGenerateContent?alt=sse`` and
``:batchEmbedContents`` (what google-genai calls for embeddings), with ``x-goog-api-key``. Unlike crabllm
(docs/contract.md#crabllm-google), the configured ``base_url`` is honoured and the model is one URL-encoded
path segment: ``gemini-2.5-flash`` becomes ``models/gemini-2.5-flash``; a name given with its collection
(``models/x``, ``tunedModels/x``, ``dynamic/x``) is not prefixed again; anything else in the name (``/``,
``:``, spaces) is percent-encoded.

Native: ``gemini_generate_content`` (overriding the seed's default, which would go through
``anthropic_messages``), its stream and both raw methods (bytes forwarded unparsed). Translated through the
IR: the OpenAI chat calls, the Anthropic Messages calls, ``complete(_stream)``, and ``embedding`` (an OpenAI
embedding request ↔ ``batchEmbedContents``). Raw OpenAI/Anthropic bodies keep the defaults (parse, typed
call, serialize); the raw streams of other dialects, the passthrough, images and audio are not implemented.

Gemini sends no end-of-stream marker: the typed and raw streams are complete when an item carried a
``finishReason`` (or a ``promptFeedback.blockReason``), and a close before that raises
``transport``/``disconnect`` from the iterator. A translated OpenAI stream ends with the usage-only chunk
only when the client asked for it (``stream_options.include_usage``), as OpenAI does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from providers._dialect import GeminiEvents, HTTPProvider, dump, gemini_error_parser, merge_headers
from providers.base import parse_client_body
from providers.convert import anthropic as anthropic_convert
from providers.convert import gemini as gemini_convert
from providers.convert import openai as openai_convert
from providers.errors import ProviderError
from providers.openai import asks_for_usage
from providers.streams import Stream, translate
from providers.transport import RetryPolicy, Timeouts
from providers.types import ir
from providers.types.anthropic import MessagesRequest, MessagesResponse, StreamEvent
from providers.types.gemini import (
    BatchEmbedContentsResponse,
    GenerateContentRequest,
    GenerateContentResponse,
    parse_stream_item,
)
from providers.types.media import EmbeddingRequest, EmbeddingResponse, encode_base64
from providers.types.openai import ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_API_VERSION = "v1beta"

#: Collections a Gemini API model name may be given with (docs/wire.md#gemini-endpoints).
MODEL_COLLECTIONS = ("models/", "tunedModels/", "dynamic/")

SSE_PARAMS = {"alt": "sse"}


def model_resource(model: str) -> str:
    """The model's resource name, unencoded: ``models/<model>`` unless it names its collection."""
    if not model:
        raise ProviderError.invalid_request("a Gemini call needs a model name")
    for collection in MODEL_COLLECTIONS:
        if model.startswith(collection) and len(model) > len(collection):
            return model
    return "models/" + model


def model_path(model: str) -> str:
    """The model's resource name as URL path segments: the collection, then the id percent-encoded
    whole (so ``/``, ``:``, ``?``, ``%`` and spaces inside it cannot change the route)."""
    collection, _, name = model_resource(model).partition("/")
    return f"{collection}/{quote(name, safe='')}"


class GoogleProvider(HTTPProvider):
    """The Gemini API at ``base_url`` and ``api_version`` (``v1beta``; google-genai >= 3 uses ``v1``)."""

    name = "google"
    dialect = "gemini"

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.api_version = api_version.strip("/")
        super().__init__(
            base_url,
            headers=merge_headers({"x-goog-api-key": api_key}, headers),
            error_parser=gemini_error_parser,
            timeouts=timeouts,
            retry=retry,
            client=client,
            sleep=sleep,
        )

    def path(self, model: str, action: str) -> str:
        return f"/{self.api_version}/{model_path(model)}:{action}"

    def is_gemini_compat(self) -> bool:
        return True

    # --- native ------------------------------------------------------------------------------------

    async def gemini_generate_content(
        self, model: str, request: GenerateContentRequest
    ) -> GenerateContentResponse:
        return await self.post_model(
            self.path(model, "generateContent"), request.to_bytes(), GenerateContentResponse
        )

    async def gemini_generate_content_stream(
        self, model: str, request: GenerateContentRequest
    ) -> Stream[GenerateContentResponse]:
        return await self.open_sse(
            self.path(model, "streamGenerateContent"),
            request.to_bytes(),
            GeminiEvents(parse_stream_item),
            params=SSE_PARAMS,
        )

    async def gemini_generate_content_raw(self, model: str, raw_body: bytes) -> bytes:
        """The caller's body and the upstream's reply, both unparsed."""
        return (await self.post(self.path(model, "generateContent"), raw_body)).content

    async def gemini_generate_content_stream_raw(self, model: str, raw_body: bytes) -> Stream[bytes]:
        """The caller's body unparsed; the upstream's ``alt=sse`` bytes as they arrive."""
        return await self.open_raw_sse(self.path(model, "streamGenerateContent"), raw_body, params=SSE_PARAMS)

    # --- translated through the IR -----------------------------------------------------------------

    async def complete(self, request: ir.Request) -> ir.Response:
        answer = await self.gemini_generate_content(request.model, gemini_convert.request_from_ir(request))
        return gemini_convert.response_to_ir(answer)

    async def complete_stream(self, request: ir.Request) -> Stream[ir.StreamEvent]:
        items = await self.gemini_generate_content_stream(
            request.model, gemini_convert.request_from_ir(request)
        )
        return translate(items, gemini_convert.StreamToIR())

    async def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        return openai_convert.response_from_ir(await self.complete(openai_convert.request_to_ir(request)))

    async def chat_completion_stream(self, request: ChatCompletionRequest) -> Stream[ChatCompletionChunk]:
        events = await self.complete_stream(openai_convert.request_to_ir(request))
        return translate(events, openai_convert.StreamFromIR(include_usage=asks_for_usage(request)))

    async def anthropic_messages(self, request: MessagesRequest) -> MessagesResponse:
        return anthropic_convert.response_from_ir(
            await self.complete(anthropic_convert.request_to_ir(request))
        )

    async def anthropic_messages_stream(self, request: MessagesRequest) -> Stream[StreamEvent]:
        events = await self.complete_stream(anthropic_convert.request_to_ir(request))
        return translate(events, anthropic_convert.StreamFromIR())

    async def anthropic_messages_raw(self, raw_body: bytes) -> bytes:
        """Parse, ``anthropic_messages``, serialize. Overrides the seed's default (Anthropic → OpenAI →
        ``chat_completion`` → back), whose extra OpenAI hop loses what OpenAI cannot carry, such as
        Gemini thought signatures, so raw and typed would disagree on the same upstream reply."""
        request = parse_client_body(MessagesRequest, raw_body, "anthropic_messages_raw")
        return (await self.anthropic_messages(request)).to_bytes()

    async def embedding(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """An OpenAI embedding request as ``batchEmbedContents``: one request per input string,
        ``dimensions`` → ``outputDimensionality``; the reply in OpenAI's shape, as base64 float32 when
        ``encoding_format`` is ``base64`` (the openai SDK's default). Token-array inputs cannot be expressed
        (``invalid_request``); ``user`` has no Gemini field and is not sent. ``usage`` carries the upstream's
        token counts (``usageMetadata``) when it reports them; Gemini's batchEmbedContents does not, and
        OpenAI's reply requires ``usage`` (strict clients refuse a reply without it), so it is then 0/0,
        meaning "not reported" (listed in docs/translation.md)."""
        texts = _embedding_texts(request.input)
        encoding = request.encoding_format
        if encoding not in (None, "float", "base64"):
            raise ProviderError.invalid_request(
                f"embedding: encoding_format must be float or base64, not {encoding!r}"
            )
        resource = model_resource(request.model)
        entries: list[dict[str, Any]] = []
        for text in texts:
            entry: dict[str, Any] = {"model": resource, "content": {"parts": [{"text": text}]}}
            if request.dimensions is not None:
                entry["outputDimensionality"] = request.dimensions
            entries.append(entry)
        reply = await self.post_model(
            self.path(request.model, "batchEmbedContents"),
            dump({"requests": entries}),
            BatchEmbedContentsResponse,
        )
        answer = reply.to_json()
        embeddings = answer.get("embeddings") or []
        if len(embeddings) != len(texts):
            raise ProviderError.decode(
                f"batchEmbedContents answered {len(embeddings)} embeddings for {len(texts)} inputs",
                raw=reply.to_bytes()[:2048],
            )
        data = []
        for index, embedding in enumerate(embeddings):
            values = embedding.get("values") or []
            vector = encode_base64([float(v) for v in values]) if encoding == "base64" else values
            data.append({"object": "embedding", "index": index, "embedding": vector})
        out: dict[str, Any] = {"object": "list", "data": data, "model": request.model}
        usage = answer.get("usageMetadata")
        if isinstance(usage, dict) and isinstance(usage.get("promptTokenCount"), int):
            total = usage.get("totalTokenCount", usage["promptTokenCount"])
            out["usage"] = {"prompt_tokens": usage["promptTokenCount"], "total_tokens": total}
        else:
            out["usage"] = {"prompt_tokens": 0, "total_tokens": 0}
        return EmbeddingResponse.parse(out)


def _embedding_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if value and all(isinstance(item, str) for item in value):
        return list(value)
    if not value:
        raise ProviderError.invalid_request("embedding: input is empty")
    raise ProviderError.invalid_request(
        "embedding: token-array input cannot be sent to Gemini (batchEmbedContents takes text only)"
    )
