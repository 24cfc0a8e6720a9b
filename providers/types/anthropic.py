"""Anthropic Messages wire models (docs/wire.md#anthropic-request through docs/wire.md#anthropic-errors;
Anthropic OpenAPI ``CreateMessageParams``, ``Message``, ``MessageStreamEvent``, ``ErrorResponse``; SDK 2.13
``anthropic/types``).

Every model is lossless (see ``_base``): unknown fields, explicit nulls and absent fields come back as
they were given. Content blocks, stream events and deltas are open unions on ``type``: a block type we
do not model (``server_tool_use``, ``web_search_tool_result``, ``compaction``, next year's blocks) is
kept whole in ``OtherBlock``, an unknown event in ``OtherEvent``, an unknown delta in ``OtherDelta``.

Deliberate leniencies, so that a request a real client sends is never rejected by the reference:
- ``Tool.name`` is optional: beta tool kinds such as ``mcp_toolset`` have no name;
- ``ThinkingBlock.signature`` is optional: a request may carry an unsigned block (the API rejects it,
  but it is the upstream's place to say so);
- ``ErrorBody.request_id`` is optional: older replies and in-stream errors have none.
Required as the spec says: ``MessagesRequest.model/max_tokens/messages``, ``Usage.input_tokens`` and
``output_tokens`` on a message, ``MessageDeltaUsage.output_tokens`` on a ``message_delta``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from providers.types._base import JSON, Number, Wire, decode_error, open_union

# --- shared ----------------------------------------------------------------------------------------


class CacheControl(Wire):
    """``{"type": "ephemeral", "ttl": "5m" | "1h"}``: a prompt-cache breakpoint."""

    type: str = "ephemeral"
    ttl: str | None = None


class Source(Wire):
    """An image or document source, one flat model for every source ``type``:
    ``base64`` (media_type, data), ``url`` (url), ``file`` (file_id), ``text`` (media_type, data as plain
    text), ``content`` (content: string or blocks)."""

    type: str
    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    file_id: str | None = None
    content: str | list[ContentBlock] | None = None


# --- content blocks --------------------------------------------------------------------------------


class TextBlock(Wire):
    type: str = "text"
    text: str
    cache_control: CacheControl | None = None
    citations: list[dict[str, JSON]] | None = None


class ImageBlock(Wire):
    type: str = "image"
    source: Source
    cache_control: CacheControl | None = None


class DocumentBlock(Wire):
    type: str = "document"
    source: Source
    title: str | None = None
    context: str | None = None
    citations: dict[str, JSON] | None = None  # {"enabled": bool}
    cache_control: CacheControl | None = None


class ToolUseBlock(Wire):
    type: str = "tool_use"
    id: str
    name: str
    input: dict[str, JSON]
    cache_control: CacheControl | None = None


class ToolResultBlock(Wire):
    type: str = "tool_result"
    tool_use_id: str
    content: str | list[ContentBlock] | None = None
    is_error: bool | None = None
    cache_control: CacheControl | None = None


class ThinkingBlock(Wire):
    type: str = "thinking"
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(Wire):
    type: str = "redacted_thinking"
    data: str


class OtherBlock(Wire):
    """A block of a type we do not model (server tool use and results, search results, ...); kept whole."""

    type: str


ContentBlock = open_union(
    "type",
    {
        "text": TextBlock,
        "image": ImageBlock,
        "document": DocumentBlock,
        "tool_use": ToolUseBlock,
        "tool_result": ToolResultBlock,
        "thinking": ThinkingBlock,
        "redacted_thinking": RedactedThinkingBlock,
    },
    OtherBlock,
)

Source.model_rebuild()
ToolResultBlock.model_rebuild()


# --- request ---------------------------------------------------------------------------------------


class InputMessage(Wire):
    """One turn: ``role`` is ``user`` or ``assistant`` (kept as any string); content a string or blocks."""

    role: str
    content: str | list[ContentBlock]


class Tool(Wire):
    """A tool definition. Custom tools usually have no ``type`` (or ``"custom"``); server tools have a
    dated ``type`` (``web_search_20250305``, ...) and their own fields, kept as extras."""

    name: str | None = None
    type: str | None = None
    description: str | None = None
    input_schema: dict[str, JSON] | None = None
    cache_control: CacheControl | None = None
    strict: bool | None = None


class ToolChoice(Wire):
    """``auto`` | ``any`` | ``tool`` (with ``name``) | ``none``."""

    type: str
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class ThinkingConfig(Wire):
    """``enabled`` (with ``budget_tokens``) | ``disabled`` | ``adaptive``; ``display`` summarized | omitted."""

    type: str
    budget_tokens: int | None = None
    display: str | None = None


class OutputConfig(Wire):
    effort: str | None = None
    format: dict[str, JSON] | None = None  # {"type": "json_schema", "schema": {...}}


class Metadata(Wire):
    user_id: str | None = None


class MessagesRequest(Wire):
    """POST /v1/messages body."""

    model: str
    max_tokens: int
    messages: list[InputMessage]
    system: str | list[ContentBlock] | None = None
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    temperature: Number | None = None
    top_p: Number | None = None
    top_k: int | None = None
    metadata: Metadata | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    service_tier: str | None = None
    cache_control: CacheControl | None = None
    output_config: OutputConfig | None = None
    container: str | dict[str, JSON] | None = None
    inference_geo: str | None = None
    speed: str | None = None


# --- response --------------------------------------------------------------------------------------


class CacheCreation(Wire):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class ServerToolUsage(Wire):
    web_search_requests: int | None = None
    web_fetch_requests: int | None = None


class OutputTokensDetails(Wire):
    thinking_tokens: int | None = None


class Usage(Wire):
    """Usage of a message. Total input = input + cache_creation_input + cache_read_input tokens."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    server_tool_use: ServerToolUsage | None = None
    output_tokens_details: OutputTokensDetails | None = None
    service_tier: str | None = None
    inference_geo: str | None = None
    speed: str | None = None


class StopDetails(Wire):
    """``{"type": "refusal", "category", "explanation"}``."""

    type: str
    category: str | None = None
    explanation: str | None = None


class MessagesResponse(Wire):
    """The reply of POST /v1/messages (also the ``message`` of ``message_start``, with empty content)."""

    id: str
    type: str = "message"
    role: str = "assistant"
    content: list[ContentBlock]
    model: str
    stop_reason: str | None = None
    stop_sequence: str | None = None
    stop_details: StopDetails | None = None
    usage: Usage
    container: dict[str, JSON] | None = None


# --- stream events ---------------------------------------------------------------------------------


class TextDelta(Wire):
    type: str = "text_delta"
    text: str


class InputJsonDelta(Wire):
    type: str = "input_json_delta"
    partial_json: str


class ThinkingDelta(Wire):
    type: str = "thinking_delta"
    thinking: str


class SignatureDelta(Wire):
    type: str = "signature_delta"
    signature: str


class CitationsDelta(Wire):
    type: str = "citations_delta"
    citation: dict[str, JSON]


class OtherDelta(Wire):
    type: str


Delta = open_union(
    "type",
    {
        "text_delta": TextDelta,
        "input_json_delta": InputJsonDelta,
        "thinking_delta": ThinkingDelta,
        "signature_delta": SignatureDelta,
        "citations_delta": CitationsDelta,
    },
    OtherDelta,
)


class MessageStart(Wire):
    type: str = "message_start"
    message: MessagesResponse


class ContentBlockStart(Wire):
    type: str = "content_block_start"
    index: int
    content_block: ContentBlock


class ContentBlockDelta(Wire):
    type: str = "content_block_delta"
    index: int
    delta: Delta


class ContentBlockStop(Wire):
    type: str = "content_block_stop"
    index: int


class MessageDeltaBody(Wire):
    stop_reason: str | None = None
    stop_sequence: str | None = None
    stop_details: StopDetails | None = None
    container: dict[str, JSON] | None = None


class MessageDeltaUsage(Wire):
    """Cumulative usage on ``message_delta``: ``output_tokens`` always, the rest when it applies."""

    output_tokens: int
    input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    server_tool_use: ServerToolUsage | None = None
    output_tokens_details: OutputTokensDetails | None = None


class MessageDelta(Wire):
    type: str = "message_delta"
    delta: MessageDeltaBody
    usage: MessageDeltaUsage


class MessageStop(Wire):
    type: str = "message_stop"


class Ping(Wire):
    type: str = "ping"


class ErrorDetail(Wire):
    type: str
    message: str


class ErrorEvent(Wire):
    """``event: error`` mid-stream (HTTP 200): ``{"type": "error", "error": {"type", "message"}}``."""

    type: str = "error"
    error: ErrorDetail


class OtherEvent(Wire):
    type: str


StreamEvent = open_union(
    "type",
    {
        "message_start": MessageStart,
        "content_block_start": ContentBlockStart,
        "content_block_delta": ContentBlockDelta,
        "content_block_stop": ContentBlockStop,
        "message_delta": MessageDelta,
        "message_stop": MessageStop,
        "ping": Ping,
        "error": ErrorEvent,
    },
    OtherEvent,
)


@cache
def _stream_event_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(StreamEvent)


def parse_stream_event(data: dict[str, Any] | bytes | str) -> Any:
    """Validate one ``data:`` payload into its event model; raises ProviderError(kind="decode")."""
    adapter = _stream_event_adapter()
    try:
        if isinstance(data, bytes | str):
            return adapter.validate_json(data)
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise decode_error("StreamEvent", exc, data) from None


# --- errors ----------------------------------------------------------------------------------------


class ErrorBody(Wire):
    """An error reply: ``{"type": "error", "error": {"type", "message"}, "request_id"}``."""

    type: str = "error"
    error: ErrorDetail
    request_id: str | None = None


AnthropicRequest = MessagesRequest
AnthropicResponse = MessagesResponse
AnthropicStreamEvent = StreamEvent
