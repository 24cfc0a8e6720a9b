"""The 22-method Provider contract as one table (docs/contract.md#methods): a row per method, in the
contract's order.

Every other description of the methods derives from ``METHODS``: ``providers.base`` (the names, the
required methods, the defaults), the harness's facts (what each method returns, which stream, which are
raw), the runner's twins and the arguments it builds, the scenario loader's model and request rules, the
gateway provider's front doors and forwarders, and the ``method`` enum of ``harness/schemas/scenario.json``
(a test holds it equal). ``providers.base.Provider`` defines the methods themselves; a test holds their
signatures and defaults equal to the rows.

Plain data with no I/O. Nothing here imports ``harness``: a row's requirement level is the plain string of a
``harness.levels.Level``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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

__all__ = ["BY_NAME", "METHODS", "Default", "Method", "named", "raw_stream_method"]

#: The page that states the contract in words.
_PAGE = "docs/contract.md"


class Default(StrEnum):
    """What ``Provider`` does for a method a subclass does not override."""

    #: Abstract: a class without it cannot be instantiated (docs/contract.md#required-methods).
    REQUIRED = "required"
    #: A working body that answers through other methods of the provider, by wirecheck's own translation
    #: (docs/contract.md#provided-methods): a provider that inherits it answers with that trip's losses.
    TRANSLATES = "translates"
    #: Raises ``not_implemented``: a provider that inherits it does not offer the method.
    NOT_IMPLEMENTED = "not_implemented"
    #: Answers ``False`` (the compat flags, docs/contract.md#compat-flags).
    FALSE = "false"


@dataclass(frozen=True, slots=True)
class Method:
    """One method of the contract.

    - ``dialect``: the format it speaks, ``openai``, ``anthropic``, ``gemini`` or ``ir``; for a compat
      flag, the format it is about.
    - ``output``: what its result is read as: its dialect, ``embeddings``, ``media`` (body and content
      type) or ``bool``.
    - ``arguments``: its parameter names, in order (``request``, ``model``, ``raw_body``, ``body``,
      ``fields``).
    - ``request``: the type of its request argument (``bytes`` for a raw body, ``Stream[bytes]`` for a
      streamed one, ``list[MultipartField]`` for a form); ``None`` when it takes none.
    - ``result``: what awaiting it returns (``Stream[...]`` for a streaming method).
    - ``model``: ``""`` when it takes no model; ``"path"`` when the model is part of the upstream's URL
      (Gemini), so a call needs one; ``"override"`` when a non-empty model replaces the body's (or routes
      the call) and an empty one leaves the body's.
    - ``streams``: it returns a ``Stream`` (docs/contract.md#streams).
    - ``raw``: it takes the caller's body as bytes and returns bytes (docs/contract.md#raw-methods).
    - ``stream_switch``: where a streaming method's wire asks for a stream: ``"body"`` (``"stream": true``
      in OpenAI and Anthropic bodies; a raw body is forwarded unparsed, so it must carry it) or
      ``"path"`` (Gemini's ``:streamGenerateContent``); ``""`` otherwise.
    - ``stream_twin``: a streaming method's non-streaming twin (docs/contract.md#equivalence-stream).
    - ``raw_twin``: a typed method's raw twin, or a raw method's typed twin
      (docs/contract.md#equivalence-raw-typed).
    - ``default``: what the base class does when a provider does not override it (``Default``).
    - ``level``: the requirement level (``harness.levels.Level``) that defines the call: ``spec`` for one
      of a vendor's HTTP calls, typed or raw (its wire is the vendor's, and a gateway answers it at that
      vendor's front door); ``contract`` for what only the Provider contract defines (the IR calls and
      the compat flags describe a provider, not HTTP).
    """

    name: str
    dialect: str
    output: str
    arguments: tuple[str, ...]
    request: Any
    result: Any
    default: Default
    level: str
    model: str = ""
    streams: bool = False
    raw: bool = False
    stream_switch: str = ""
    stream_twin: str | None = None
    raw_twin: str | None = None

    @property
    def takes_model(self) -> bool:
        """Its first argument is a model name (``model:`` in a scenario case)."""
        return bool(self.model)

    @property
    def anchor(self) -> str:
        """Its section of docs/contract.md, e.g. ``docs/contract.md#method-chat-completion``."""
        return f"{_PAGE}#method-{self.name.replace('_', '-')}"


_SPEC, _CONTRACT = "spec", "contract"

#: The 22 methods in the contract's order (the order the harness reports coverage in).
METHODS: tuple[Method, ...] = (
    Method(
        "chat_completion",
        "openai",
        "openai",
        ("request",),
        ChatCompletionRequest,
        ChatCompletionResponse,
        Default.REQUIRED,
        _SPEC,
        raw_twin="chat_completion_raw",
    ),
    Method(
        "chat_completion_stream",
        "openai",
        "openai",
        ("request",),
        ChatCompletionRequest,
        Stream[ChatCompletionChunk],
        Default.REQUIRED,
        _SPEC,
        streams=True,
        stream_switch="body",
        stream_twin="chat_completion",
        raw_twin="chat_completion_stream_raw",
    ),
    Method(
        "anthropic_messages",
        "anthropic",
        "anthropic",
        ("request",),
        MessagesRequest,
        MessagesResponse,
        Default.REQUIRED,
        _SPEC,
        raw_twin="anthropic_messages_raw",
    ),
    Method(
        "anthropic_messages_stream",
        "anthropic",
        "anthropic",
        ("request",),
        MessagesRequest,
        Stream[StreamEvent],
        Default.REQUIRED,
        _SPEC,
        streams=True,
        stream_switch="body",
        stream_twin="anthropic_messages",
        raw_twin="anthropic_messages_stream_raw",
    ),
    Method(
        "gemini_generate_content_stream",
        "gemini",
        "gemini",
        ("model", "request"),
        GenerateContentRequest,
        Stream[GenerateContentResponse],
        Default.REQUIRED,
        _SPEC,
        model="path",
        streams=True,
        stream_switch="path",
        stream_twin="gemini_generate_content",
        raw_twin="gemini_generate_content_stream_raw",
    ),
    Method(
        "gemini_generate_content",
        "gemini",
        "gemini",
        ("model", "request"),
        GenerateContentRequest,
        GenerateContentResponse,
        Default.TRANSLATES,
        _SPEC,
        model="path",
        raw_twin="gemini_generate_content_raw",
    ),
    Method("complete", "ir", "ir", ("request",), ir.Request, ir.Response, Default.NOT_IMPLEMENTED, _CONTRACT),
    Method(
        "complete_stream",
        "ir",
        "ir",
        ("request",),
        ir.Request,
        Stream[ir.StreamEvent],
        Default.NOT_IMPLEMENTED,
        _CONTRACT,
        streams=True,
        stream_twin="complete",
    ),
    Method(
        "embedding",
        "openai",
        "embeddings",
        ("request",),
        EmbeddingRequest,
        EmbeddingResponse,
        Default.NOT_IMPLEMENTED,
        _SPEC,
    ),
    Method(
        "image_generation",
        "openai",
        "media",
        ("request",),
        ImageRequest,
        tuple[bytes, str],
        Default.NOT_IMPLEMENTED,
        _SPEC,
    ),
    Method(
        "audio_speech",
        "openai",
        "media",
        ("request",),
        AudioSpeechRequest,
        tuple[bytes, str],
        Default.NOT_IMPLEMENTED,
        _SPEC,
    ),
    Method(
        "audio_transcription",
        "openai",
        "media",
        ("model", "fields"),
        list[MultipartField],
        tuple[bytes, str],
        Default.NOT_IMPLEMENTED,
        _SPEC,
        model="override",
    ),
    Method("is_openai_compat", "openai", "bool", (), None, bool, Default.FALSE, _CONTRACT),
    Method("is_anthropic_compat", "anthropic", "bool", (), None, bool, Default.FALSE, _CONTRACT),
    Method("is_gemini_compat", "gemini", "bool", (), None, bool, Default.FALSE, _CONTRACT),
    Method(
        "chat_completion_stream_passthrough",
        "openai",
        "openai",
        ("model", "body"),
        Stream[bytes],
        Stream[bytes],
        Default.NOT_IMPLEMENTED,
        _SPEC,
        model="override",
        streams=True,
        raw=True,
        stream_switch="body",
    ),
    Method(
        "chat_completion_stream_raw",
        "openai",
        "openai",
        ("model", "raw_body"),
        bytes,
        Stream[bytes],
        Default.NOT_IMPLEMENTED,
        _SPEC,
        model="override",
        streams=True,
        raw=True,
        stream_switch="body",
        stream_twin="chat_completion_raw",
        raw_twin="chat_completion_stream",
    ),
    Method(
        "chat_completion_raw",
        "openai",
        "openai",
        ("model", "raw_body"),
        bytes,
        bytes,
        Default.TRANSLATES,
        _SPEC,
        model="override",
        raw=True,
        raw_twin="chat_completion",
    ),
    Method(
        "anthropic_messages_raw",
        "anthropic",
        "anthropic",
        ("raw_body",),
        bytes,
        bytes,
        Default.TRANSLATES,
        _SPEC,
        raw=True,
        raw_twin="anthropic_messages",
    ),
    Method(
        "anthropic_messages_stream_raw",
        "anthropic",
        "anthropic",
        ("raw_body",),
        bytes,
        Stream[bytes],
        Default.NOT_IMPLEMENTED,
        _SPEC,
        streams=True,
        raw=True,
        stream_switch="body",
        stream_twin="anthropic_messages_raw",
        raw_twin="anthropic_messages_stream",
    ),
    Method(
        "gemini_generate_content_raw",
        "gemini",
        "gemini",
        ("model", "raw_body"),
        bytes,
        bytes,
        Default.TRANSLATES,
        _SPEC,
        model="path",
        raw=True,
        raw_twin="gemini_generate_content",
    ),
    Method(
        "gemini_generate_content_stream_raw",
        "gemini",
        "gemini",
        ("model", "raw_body"),
        bytes,
        Stream[bytes],
        Default.NOT_IMPLEMENTED,
        _SPEC,
        model="path",
        streams=True,
        raw=True,
        stream_switch="path",
        stream_twin="gemini_generate_content_raw",
        raw_twin="gemini_generate_content_stream",
    ),
)

#: The rows by method name.
BY_NAME: dict[str, Method] = {method.name: method for method in METHODS}


def named(*defaults: Default) -> frozenset[str]:
    """The names of the methods whose default is one of ``defaults``."""
    return frozenset(method.name for method in METHODS if method.default in defaults)


def raw_stream_method(dialect: str) -> str:
    """The method that sends a caller's raw body of ``dialect`` and returns the upstream's SSE bytes
    unchanged (the passthrough, which streams the body too, is not it). Raises ``KeyError``."""
    for method in METHODS:
        if method.dialect == dialect and method.streams and method.request is bytes:
            return method.name
    raise KeyError(dialect)
