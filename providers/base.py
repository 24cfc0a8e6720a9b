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

Each method's docstring states its contract (what it returns, which ``ProviderError`` kinds it raises and
where, when it may retry, what its default does), as docs/contract.md does; the sets below derive from
``providers.contract``, whose rows a test holds equal to these methods.
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
    """An LLM upstream adapter (docs/contract.md#overview). Subclasses implement the five abstract
    methods and override the rest where the upstream speaks a format natively.

    The words the method docstrings use:

    - **Call errors** (docs/contract.md#errors): every failure is a ``ProviderError``, never another
      exception. ``upstream``: the upstream answered an HTTP error status (``status``, ``error_type``,
      ``message``, ``retry_after``, ``body``). ``transport``: the connection failed (``reason``:
      ``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``). ``decode``:
      a 200 body that cannot be read. ``invalid_request``: the request cannot be sent (a value the
      upstream's format cannot express, an unreadable raw body). ``not_implemented``: the method is not
      offered.
    - **Stream errors** (docs/contract.md#stream-errors): awaiting a streaming method returns its
      ``Stream`` only once the upstream answered 200, so every call error above is raised by the call.
      After that, errors are raised by the iterator, after the items before them: ``upstream`` with
      ``details["in_stream"] = True`` for an error event inside the 200 stream
      (docs/contract.md#errors-in-stream), ``transport``/``disconnect`` for a dropped connection or a
      stream that ends before its end marker (docs/contract.md#stream-end), ``decode`` for an event
      that cannot be read.
    - **Idempotent retries** (docs/contract.md#retries): a call may be resent, with backoff and honouring
      the wait the upstream asked for, after 408, 409, 429 or any 5xx, or after ``connect`` /
      ``connect_timeout`` (the request never arrived); never after another 4xx, ``read_timeout``,
      ``write_timeout``, ``disconnect`` or ``decode``. When retries run out the last error is raised as
      it is. A stream's opening is retried like a call; once the upstream answered 200 nothing is resent.
    """

    #: Registry name, e.g. ``"openai"``; set by concrete providers.
    name: ClassVar[str] = "provider"

    # --- required --------------------------------------------------------------------------------

    @abc.abstractmethod
    async def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        """One OpenAI Chat Completions call, not streamed (docs/contract.md#method-chat-completion).

        Args:
          request: the call, as an OpenAI client sends it.

        Returns:
          The answer, as an OpenAI client reads it (translated from the upstream's format if need be).

        Raises:
          ProviderError: ``upstream`` for an error status; ``transport`` when the connection fails or times
            out (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read; ``invalid_request`` for a request the upstream's
            format cannot express.

        Retries: idempotent retries. Default: none, the method is required.
        """

    @abc.abstractmethod
    async def chat_completion_stream(self, request: ChatCompletionRequest) -> Stream[ChatCompletionChunk]:
        """The same, streamed (docs/contract.md#method-chat-completion-stream).

        Args:
          request: the call, as an OpenAI client sends it.

        Returns:
          A ``Stream`` of ``ChatCompletionChunk``, one per SSE event, the ``data: [DONE]`` marker left
          out; returned once the upstream answered 200.

        Raises:
          ProviderError: from the call, before the stream exists: ``upstream`` for an error status,
            ``transport`` when the connection fails or times out, ``invalid_request``. From the iterator,
            after the items before it: ``upstream`` with ``details["in_stream"]`` for an error event inside
            the 200 stream; ``transport`` (``disconnect``, ``read_timeout``) for a dropped or stalled
            connection or an end before ``data: [DONE]``; ``decode`` for an event that cannot be read.

        Retries: the opening only (idempotent retries), never once the stream exists. Default: none, the
        method is required.
        """

    @abc.abstractmethod
    async def anthropic_messages(self, request: MessagesRequest) -> MessagesResponse:
        """One Anthropic Messages call, not streamed (docs/contract.md#method-anthropic-messages).

        Args:
          request: the call, as an Anthropic client sends it.

        Returns:
          The answer, as an Anthropic client reads it.

        Raises:
          ProviderError: ``upstream`` for an error status; ``transport`` when the connection fails or times
            out (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read; ``invalid_request`` for a request the upstream's
            format cannot express.

        Retries: idempotent retries. Default: none, the method is required.
        """

    @abc.abstractmethod
    async def anthropic_messages_stream(self, request: MessagesRequest) -> Stream[StreamEvent]:
        """The same, streamed (docs/contract.md#method-anthropic-messages-stream).

        Args:
          request: the call, as an Anthropic client sends it.

        Returns:
          A ``Stream`` of ``StreamEvent``, one per SSE event (``ping`` included); returned once the
          upstream answered 200.

        Raises:
          ProviderError: from the call, before the stream exists: ``upstream`` for an error status,
            ``transport`` when the connection fails or times out, ``invalid_request``. From the iterator,
            after the items before it: ``upstream`` with ``details["in_stream"]`` for an ``event: error``
            inside the 200 stream; ``transport`` (``disconnect``, ``read_timeout``) for a dropped or stalled
            connection or an end before ``message_stop``; ``decode`` for an event that cannot be read.

        Retries: the opening only (idempotent retries), never once the stream exists. Default: none, the
        method is required.
        """

    @abc.abstractmethod
    async def gemini_generate_content_stream(
        self, model: str, request: GenerateContentRequest
    ) -> Stream[GenerateContentResponse]:
        """Gemini ``:streamGenerateContent`` (docs/contract.md#method-gemini-generate-content-stream).

        Args:
          model: the model, part of the URL (not of the body).
          request: the call, as a Gemini client sends it.

        Returns:
          A ``Stream`` of ``GenerateContentResponse``: each item a whole response with one candidate
          holding only the new parts; returned once the upstream answered 200.

        Raises:
          ProviderError: from the call, before the stream exists: ``upstream`` for an error status,
            ``transport`` when the connection fails or times out, ``invalid_request``. From the iterator,
            after the items before it: ``upstream`` with ``details["in_stream"]`` for an ``{"error": ...}``
            item inside the 200 stream; ``transport`` (``disconnect``, ``read_timeout``) for a dropped or
            stalled connection or an end before an item with a ``finishReason`` or a
            ``promptFeedback.blockReason``; ``decode`` for an event that cannot be read.

        Retries: the opening only (idempotent retries), never once the stream exists. Default: none, the
        method is required.
        """

    # --- provided --------------------------------------------------------------------------------

    async def gemini_generate_content(
        self, model: str, request: GenerateContentRequest
    ) -> GenerateContentResponse:
        """Gemini ``:generateContent`` (docs/contract.md#method-gemini-generate-content).

        Args:
          model: the model, part of the URL (not of the body).
          request: the call, as a Gemini client sends it.

        Returns:
          The answer, as a Gemini client reads it.

        Raises:
          ProviderError: ``upstream`` for an error status; ``transport`` when the connection fails or times
            out (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read; ``invalid_request`` for a request the upstream's
            format cannot express (the default: for a value the Anthropic format cannot express, then whatever
            ``anthropic_messages`` raises).

        Retries: idempotent retries (the default: those of ``anthropic_messages``, one call).

        Default: Gemini → IR (the model from the argument) → ``anthropic_messages`` → IR → Gemini.
        """
        request_ir = gemini_convert.request_to_ir(request, model)
        answer = await self.anthropic_messages(anthropic_convert.request_from_ir(request_ir))
        return gemini_convert.response_from_ir(anthropic_convert.response_to_ir(answer))

    async def complete(self, request: ir.Request) -> ir.Response:
        """One call in the canonical IR, not streamed (docs/contract.md#method-complete).

        Args:
          request: the call in the IR.

        Returns:
          The answer in the IR.

        Raises:
          ProviderError: ``upstream`` for an error status; ``transport`` when the connection fails or times
            out (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read; ``invalid_request`` for an IR value the upstream's
            format cannot express. The default raises ``not_implemented``.

        Retries: idempotent retries.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("complete")

    async def complete_stream(self, request: ir.Request) -> Stream[ir.StreamEvent]:
        """The same, streamed as IR events (docs/contract.md#method-complete-stream).

        Args:
          request: the call in the IR.

        Returns:
          A ``Stream`` of ``ir.StreamEvent``; returned once the upstream answered 200.

        Raises:
          ProviderError: from the call, before the stream exists: ``upstream`` for an error status,
            ``transport`` when the connection fails or times out, ``invalid_request``. From the iterator,
            after the items before it: ``upstream`` with ``details["in_stream"]`` for an error event inside
            the 200 stream; ``transport`` (``disconnect``, ``read_timeout``) for a dropped or stalled
            connection or an end before ``ir.End``; ``decode`` for an event that cannot be read. The default
            raises ``not_implemented`` from the call.

        Retries: the opening only (idempotent retries), never once the stream exists.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("complete_stream")

    async def embedding(self, request: EmbeddingRequest) -> EmbeddingResponse:
        """OpenAI embeddings (docs/contract.md#method-embedding).

        Args:
          request: the call, as an OpenAI client sends it.

        Returns:
          The embeddings, as an OpenAI client reads them.

        Raises:
          ProviderError: ``upstream`` for an error status; ``transport`` when the connection fails or times
            out (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read; ``invalid_request`` for a request the upstream's
            format cannot express. The default raises ``not_implemented``.

        Retries: idempotent retries.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("embedding")

    async def image_generation(self, request: ImageRequest) -> tuple[bytes, str]:
        """OpenAI image generation (docs/contract.md#method-image-generation).

        Args:
          request: the call, as an OpenAI client sends it.

        Returns:
          The upstream's body and its content type.

        Raises:
          ProviderError: ``upstream`` for an error status; ``transport`` when the connection fails or times
            out (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read; ``invalid_request`` for a request the upstream's
            format cannot express. The default raises ``not_implemented``.

        Retries: idempotent retries.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("image_generation")

    async def audio_speech(self, request: AudioSpeechRequest) -> tuple[bytes, str]:
        """OpenAI text to speech (docs/contract.md#method-audio-speech).

        Args:
          request: the call, as an OpenAI client sends it.

        Returns:
          The audio bytes and their content type.

        Raises:
          ProviderError: ``upstream`` for an error status; ``transport`` when the connection fails or times
            out (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read; ``invalid_request`` for a request the upstream's
            format cannot express. The default raises ``not_implemented``.

        Retries: idempotent retries.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("audio_speech")

    async def audio_transcription(self, model: str, fields: list[MultipartField]) -> tuple[bytes, str]:
        """OpenAI transcription (docs/contract.md#method-audio-transcription).

        Args:
          model: a non-empty model names the model.
          fields: the caller's form fields, sent upstream as ``multipart/form-data``.

        Returns:
          The upstream's body (JSON or text, as ``response_format`` asked) and its content type.

        Raises:
          ProviderError: ``upstream`` for an error status; ``transport`` when the connection fails or times
            out (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read; ``invalid_request`` for a request the upstream's
            format cannot express. The default raises ``not_implemented``.

        Retries: idempotent retries.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("audio_transcription")

    def is_openai_compat(self) -> bool:
        """Whether the upstream speaks the OpenAI wire format, so raw OpenAI JSON can be forwarded as it
        is (docs/contract.md#method-is-openai-compat).

        Returns:
          A promise about the OpenAI raw methods: true means they forward the caller's bytes.

        Raises:
          Nothing: no I/O. Retries: none (nothing is sent).

        Default: ``False``.
        """
        return False

    def is_anthropic_compat(self) -> bool:
        """Whether raw Anthropic ``/v1/messages`` bytes can be forwarded as they are
        (docs/contract.md#method-is-anthropic-compat).

        Returns:
          A promise about the Anthropic raw methods: true means they forward the caller's bytes.

        Raises:
          Nothing: no I/O. Retries: none (nothing is sent).

        Default: ``False``.
        """
        return False

    def is_gemini_compat(self) -> bool:
        """Whether raw Gemini ``:generateContent`` bytes can be forwarded as they are
        (docs/contract.md#method-is-gemini-compat).

        Returns:
          A promise about the Gemini raw methods: true means they forward the caller's bytes.

        Raises:
          Nothing: no I/O. Retries: none (nothing is sent).

        Default: ``False``.
        """
        return False

    async def chat_completion_stream_passthrough(self, model: str, body: Stream[bytes]) -> Stream[bytes]:
        """Streams a request body, as it arrives, to an OpenAI-compatible upstream
        (docs/contract.md#method-chat-completion-stream-passthrough, docs/contract.md#passthrough).

        Args:
          model: routes the call.
          body: the caller's Chat Completions body, piece by piece.

        Returns:
          A ``Stream`` of the upstream's SSE bytes, unchanged, as they arrive; returned once the upstream
          answered 200.

        Raises:
          ProviderError: from the call, before the stream exists: ``upstream`` for an error status (a 429 or
            5xx at once, with its ``retry_after``), ``transport`` when the connection fails or times out,
            ``invalid_request``. From the iterator, after the items before it: ``upstream`` with
            ``details["in_stream"]`` for an error event inside the 200 stream; ``transport`` (``disconnect``,
            ``read_timeout``) for a dropped or stalled connection or an end before ``data: [DONE]``;
            ``decode`` for an event that cannot be read. The default raises ``not_implemented`` from the call.

        Retries: never, whatever the upstream answers: the body is consumed by the one attempt.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("chat_completion_stream_passthrough")

    async def chat_completion_stream_raw(self, model: str, raw_body: bytes) -> Stream[bytes]:
        """A caller's raw Chat Completions body in, the upstream's SSE bytes out, unchanged
        (docs/contract.md#method-chat-completion-stream-raw).

        Args:
          model: a non-empty model replaces the body's ``model``.
          raw_body: the caller's JSON body (docs/contract.md#raw-methods).

        Returns:
          A ``Stream`` of the upstream's SSE bytes as they arrive; returned once the upstream answered
          200. An end before ``data: [DONE]`` raises ``transport``/``disconnect`` after the bytes.

        Raises:
          ProviderError: from the call, before the stream exists: ``upstream`` for an error status,
            ``transport`` when the connection fails or times out, ``invalid_request`` for a body that cannot
            be read (before anything is sent). From the iterator, after the items before it: ``upstream`` with
            ``details["in_stream"]`` for an error event inside the 200 stream; ``transport`` (``disconnect``,
            ``read_timeout``) for a dropped or stalled connection or an end before ``data: [DONE]``;
            ``decode`` for an event that cannot be read. The default raises ``not_implemented`` from the call.

        Retries: the opening only (idempotent retries), never once the stream exists.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("chat_completion_stream_raw")

    async def chat_completion_raw(self, model: str, raw_body: bytes) -> bytes:
        """A caller's raw Chat Completions body in, the reply's JSON bytes out
        (docs/contract.md#method-chat-completion-raw).

        Args:
          model: a non-empty model replaces the body's ``model``.
          raw_body: the caller's JSON body (docs/contract.md#raw-methods).

        Returns:
          The reply's JSON bytes.

        Raises:
          ProviderError: ``invalid_request`` for a body that cannot be read (before anything is sent); then
            ``upstream`` for an error status; ``transport`` when the connection fails or times out
            (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read (the default: whatever ``chat_completion`` raises).

        Retries: idempotent retries (the default: those of ``chat_completion``, one call).

        Default: parse the body, call ``chat_completion``, serialize the answer.
        """
        request = parse_client_body(ChatCompletionRequest, raw_body, "chat_completion_raw")
        if model:
            request.model = model
        return (await self.chat_completion(request)).to_bytes()

    async def anthropic_messages_raw(self, raw_body: bytes) -> bytes:
        """A caller's raw Messages body in, the reply's JSON bytes out
        (docs/contract.md#method-anthropic-messages-raw).

        Args:
          raw_body: the caller's JSON body (docs/contract.md#raw-methods).

        Returns:
          The reply's JSON bytes.

        Raises:
          ProviderError: ``invalid_request`` for a body that cannot be read or a value OpenAI cannot express
            (before anything is sent); then ``upstream`` for an error status; ``transport`` when the
            connection fails or times out (``connect``, ``connect_timeout``, ``read_timeout``,
            ``write_timeout``, ``disconnect``); ``decode`` for a 200 body that cannot be read (the default:
            whatever ``chat_completion`` raises).

        Retries: idempotent retries (the default: those of ``chat_completion``, one call).

        Default: parse the body, Anthropic → OpenAI, ``chat_completion``, OpenAI → Anthropic.
        """
        request = parse_client_body(MessagesRequest, raw_body, "anthropic_messages_raw")
        chat = openai_convert.request_from_ir(anthropic_convert.request_to_ir(request))
        answer = await self.chat_completion(chat)
        return anthropic_convert.response_from_ir(openai_convert.response_to_ir(answer)).to_bytes()

    async def anthropic_messages_stream_raw(self, raw_body: bytes) -> Stream[bytes]:
        """A caller's raw Messages body in, the upstream's SSE bytes out, unchanged
        (docs/contract.md#method-anthropic-messages-stream-raw).

        Args:
          raw_body: the caller's JSON body (docs/contract.md#raw-methods).

        Returns:
          A ``Stream`` of the upstream's SSE bytes as they arrive; returned once the upstream answered
          200. An end before ``message_stop`` raises ``transport``/``disconnect`` after the bytes.

        Raises:
          ProviderError: from the call, before the stream exists: ``upstream`` for an error status,
            ``transport`` when the connection fails or times out, ``invalid_request`` for a body that cannot
            be read (before anything is sent). From the iterator, after the items before it: ``upstream`` with
            ``details["in_stream"]`` for an error event inside the 200 stream; ``transport`` (``disconnect``,
            ``read_timeout``) for a dropped or stalled connection or an end before ``message_stop``;
            ``decode`` for an event that cannot be read. The default raises ``not_implemented`` from the call.

        Retries: the opening only (idempotent retries), never once the stream exists.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("anthropic_messages_stream_raw")

    async def gemini_generate_content_raw(self, model: str, raw_body: bytes) -> bytes:
        """A caller's raw ``generateContent`` body in, the reply's JSON bytes out
        (docs/contract.md#method-gemini-generate-content-raw).

        Args:
          model: the model, part of the URL (not of the body).
          raw_body: the caller's JSON body (docs/contract.md#raw-methods).

        Returns:
          The reply's JSON bytes.

        Raises:
          ProviderError: ``invalid_request`` for a body that cannot be read (before anything is sent); then
            ``upstream`` for an error status; ``transport`` when the connection fails or times out
            (``connect``, ``connect_timeout``, ``read_timeout``, ``write_timeout``, ``disconnect``);
            ``decode`` for a 200 body that cannot be read (the default: whatever ``gemini_generate_content``
            raises).

        Retries: idempotent retries (the default: those of ``gemini_generate_content``, one call).

        Default: parse the body, call ``gemini_generate_content``, serialize the answer.
        """
        request = parse_client_body(GenerateContentRequest, raw_body, "gemini_generate_content_raw")
        return (await self.gemini_generate_content(model, request)).to_bytes()

    async def gemini_generate_content_stream_raw(self, model: str, raw_body: bytes) -> Stream[bytes]:
        """A caller's raw ``generateContent`` body in, the upstream's ``alt=sse`` bytes out, unchanged
        (docs/contract.md#method-gemini-generate-content-stream-raw).

        Args:
          model: the model, part of the URL (not of the body).
          raw_body: the caller's JSON body (docs/contract.md#raw-methods).

        Returns:
          A ``Stream`` of the upstream's SSE bytes as they arrive; returned once the upstream answered
          200. An end before an item with a ``finishReason`` (or ``promptFeedback.blockReason``) raises
          ``transport``/``disconnect`` after the bytes.

        Raises:
          ProviderError: from the call, before the stream exists: ``upstream`` for an error status,
            ``transport`` when the connection fails or times out, ``invalid_request`` for a body that cannot
            be read (before anything is sent). From the iterator, after the items before it: ``upstream`` with
            ``details["in_stream"]`` for an error event inside the 200 stream; ``transport`` (``disconnect``,
            ``read_timeout``) for a dropped or stalled connection or an end before an item with a
            ``finishReason``; ``decode`` for an event that cannot be read. The default raises
            ``not_implemented`` from the call.

        Retries: the opening only (idempotent retries), never once the stream exists.

        Default: raises ``not_implemented``: a provider that keeps it does not offer the method.
        """
        raise ProviderError.not_implemented("gemini_generate_content_stream_raw")
