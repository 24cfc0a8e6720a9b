"""Google Gemini wire models: ``generateContent`` / ``streamGenerateContent``, ``countTokens``,
``embedContent`` / ``batchEmbedContents`` and the error body (docs/wire.md#gemini; googleapis
``google/ai/generativelanguage/v1beta`` protos, cross-checked against google-genai 3.6 ``types.py``).

Every model is a ``CamelWire``: JSON names are the protos' lowerCamelCase, the snake_case spelling that
Google's servers also accept (and that real clients mix in, e.g. ``parameters_json_schema`` inside an
otherwise camelCase request) is read as the same field and written back as it came.

The protos are proto3: a field at its default value is simply absent from the JSON (``index: 0``,
``text: ""`` and empty lists are often omitted), so nearly every field is optional here; only what the
API cannot do without is required (``contents``, a function declaration's ``name``, an error's ``error``).
``Part`` is one flat model rather than a union: its ``data`` oneof is enforced by the API, not by the wire
shape, and a part carrying a field we do not know yet must survive whole. Enum-like fields are ``str``
(``finishReason`` values are listed in ``providers.convert.tables``). Schemas (``parameters``,
``responseSchema``, ...), function ``args``/``response`` and metadata blobs we never interpret are plain
JSON, kept exactly as given.
"""

from __future__ import annotations

import json
from typing import Any

from providers.errors import ProviderError
from providers.types._base import JSON, CamelWire, Number

__all__ = [
    "BatchEmbedContentsRequest",
    "BatchEmbedContentsResponse",
    "Blob",
    "Candidate",
    "CitationMetadata",
    "CitationSource",
    "CodeExecutionResult",
    "Content",
    "ContentEmbedding",
    "CountTokensRequest",
    "CountTokensResponse",
    "EmbedContentRequest",
    "EmbedContentResponse",
    "ErrorBody",
    "ErrorDetail",
    "ExecutableCode",
    "FileData",
    "FunctionCall",
    "FunctionCallingConfig",
    "FunctionDeclaration",
    "FunctionResponse",
    "FunctionResponsePart",
    "GeminiRequest",
    "GeminiResponse",
    "GenerateContentRequest",
    "GenerateContentResponse",
    "GenerationConfig",
    "ModalityTokenCount",
    "Part",
    "PromptFeedback",
    "SafetyRating",
    "SafetySetting",
    "ThinkingConfig",
    "Tool",
    "ToolConfig",
    "UsageMetadata",
    "VideoMetadata",
    "parse_stream_item",
]

# --- content ---------------------------------------------------------------------------------------


class Blob(CamelWire):
    """``inlineData``: base64 ``data`` of the given IANA ``mimeType``."""

    mime_type: str | None = None
    data: str | None = None
    display_name: str | None = None  # Vertex only; the Gemini API rejects it


class FileData(CamelWire):
    """``fileData``: media by URI (a Files API URI, a ``gs://`` object, or an https URL)."""

    mime_type: str | None = None
    file_uri: str | None = None
    display_name: str | None = None  # Vertex only


class FunctionCall(CamelWire):
    """A call the model made. ``args`` is a JSON object (a proto ``Struct``), not a string."""

    id: str | None = None
    name: str | None = None
    args: dict[str, JSON] | None = None
    partial_args: list[JSON] | None = None  # Vertex streamed-arguments mode (SDK), never interpreted
    will_continue: bool | None = None


class FunctionResponsePart(CamelWire):
    """Media attached to a function response (``functionResponse.parts``)."""

    inline_data: Blob | None = None
    file_data: FileData | None = None


class FunctionResponse(CamelWire):
    """The client's answer to a ``FunctionCall``; paired by ``id`` when given, else by ``name``."""

    id: str | None = None
    name: str | None = None
    response: dict[str, JSON] | None = None
    parts: list[FunctionResponsePart] | None = None
    will_continue: bool | None = None
    scheduling: str | None = None  # SILENT | WHEN_IDLE | INTERRUPT


class ExecutableCode(CamelWire):
    language: str | None = None  # PYTHON
    code: str | None = None
    id: str | None = None


class CodeExecutionResult(CamelWire):
    outcome: str | None = None  # OUTCOME_OK | OUTCOME_FAILED | OUTCOME_DEADLINE_EXCEEDED
    output: str | None = None
    id: str | None = None


class VideoMetadata(CamelWire):
    start_offset: str | None = None  # proto Duration as JSON: "1.5s"
    end_offset: str | None = None
    fps: Number | None = None


class Part(CamelWire):
    """One part of a turn: exactly one data field (``text`` ... ``toolResponse``) plus flags.

    ``thought: true`` marks thinking text; ``thoughtSignature`` (base64 bytes) may sit on any part,
    most often the ``functionCall`` part, and must be sent back unchanged in the next request.
    """

    text: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    executable_code: ExecutableCode | None = None
    code_execution_result: CodeExecutionResult | None = None
    tool_call: dict[str, JSON] | None = None  # server-side tool invocation (toolType, args, id)
    tool_response: dict[str, JSON] | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    video_metadata: VideoMetadata | None = None
    part_metadata: dict[str, JSON] | None = None
    media_resolution: dict[str, JSON] | str | None = None


class Content(CamelWire):
    """A turn: ``role`` is ``user`` or ``model`` (optional on the wire), ``parts`` in order."""

    parts: list[Part] | None = None
    role: str | None = None


# --- tools -----------------------------------------------------------------------------------------


class FunctionDeclaration(CamelWire):
    """``parameters`` is Gemini's OpenAPI-subset Schema (``"type": "OBJECT"``, ``nullable``...);
    ``parametersJsonSchema`` is plain JSON Schema. At most one of the two is sent."""

    name: str
    description: str | None = None
    parameters: dict[str, JSON] | None = None
    parameters_json_schema: JSON = None
    response: dict[str, JSON] | None = None
    response_json_schema: JSON = None
    behavior: str | None = None  # BLOCKING | NON_BLOCKING


class Tool(CamelWire):
    """One tool entry: function declarations and/or one of Google's built-in tools."""

    function_declarations: list[FunctionDeclaration] | None = None
    google_search: dict[str, JSON] | None = None
    google_search_retrieval: dict[str, JSON] | None = None
    code_execution: dict[str, JSON] | None = None
    url_context: dict[str, JSON] | None = None
    file_search: dict[str, JSON] | None = None
    google_maps: dict[str, JSON] | None = None
    computer_use: dict[str, JSON] | None = None
    retrieval: dict[str, JSON] | None = None  # Vertex
    enterprise_web_search: dict[str, JSON] | None = None  # Vertex


class FunctionCallingConfig(CamelWire):
    mode: str | None = None  # AUTO | ANY | NONE | VALIDATED | MODE_UNSPECIFIED
    allowed_function_names: list[str] | None = None
    stream_function_call_arguments: bool | None = None  # Vertex


class ToolConfig(CamelWire):
    function_calling_config: FunctionCallingConfig | None = None
    retrieval_config: dict[str, JSON] | None = None
    include_server_side_tool_invocations: bool | None = None


# --- generation settings ---------------------------------------------------------------------------


class ThinkingConfig(CamelWire):
    """``thinkingBudget``: tokens, 0 = off, -1 = dynamic; ``thinkingLevel``: MINIMAL..XHIGH (Gemini 3)."""

    include_thoughts: bool | None = None
    thinking_budget: int | None = None
    thinking_level: str | None = None


class GenerationConfig(CamelWire):
    candidate_count: int | None = None
    stop_sequences: list[str] | None = None
    max_output_tokens: int | None = None
    temperature: Number | None = None
    top_p: Number | None = None
    top_k: Number | None = None  # int32 in the proto, but google-genai types it float and may send 40.0
    seed: int | None = None
    presence_penalty: Number | None = None
    frequency_penalty: Number | None = None
    response_mime_type: str | None = None
    response_schema: dict[str, JSON] | None = None
    response_json_schema: JSON = None
    response_logprobs: bool | None = None
    logprobs: int | None = None
    response_modalities: list[str] | None = None
    speech_config: dict[str, JSON] | None = None
    thinking_config: ThinkingConfig | None = None
    image_config: dict[str, JSON] | None = None
    media_resolution: str | None = None
    enable_enhanced_civic_answers: bool | None = None
    audio_timestamp: bool | None = None  # Vertex


class SafetySetting(CamelWire):
    category: str | None = None
    threshold: str | None = None
    method: str | None = None  # Vertex: SEVERITY | PROBABILITY


class GenerateContentRequest(CamelWire):
    """POST /v1beta/models/{model}:generateContent (and :streamGenerateContent) body."""

    contents: list[Content]
    system_instruction: Content | None = None
    tools: list[Tool] | Tool | None = None  # a list per the proto; the API also accepts one object
    tool_config: ToolConfig | None = None
    safety_settings: list[SafetySetting] | None = None
    generation_config: GenerationConfig | None = None
    cached_content: str | None = None
    model: str | None = None  # only inside countTokens' generateContentRequest; the path names the model
    labels: dict[str, str] | None = None  # Vertex


# --- response --------------------------------------------------------------------------------------


class SafetyRating(CamelWire):
    category: str | None = None
    probability: str | None = None
    blocked: bool | None = None
    probability_score: Number | None = None  # Vertex
    severity: str | None = None  # Vertex
    severity_score: Number | None = None  # Vertex
    overwritten_threshold: str | None = None


class CitationSource(CamelWire):
    start_index: int | None = None
    end_index: int | None = None
    uri: str | None = None
    license: str | None = None
    title: str | None = None
    publication_date: dict[str, JSON] | None = None


class CitationMetadata(CamelWire):
    citation_sources: list[CitationSource] | None = None  # Gemini API
    citations: list[CitationSource] | None = None  # Vertex


class ModalityTokenCount(CamelWire):
    modality: str | None = None  # TEXT | IMAGE | VIDEO | AUDIO | DOCUMENT
    token_count: int | None = None


class UsageMetadata(CamelWire):
    """Token counts. ``promptTokenCount`` includes ``cachedContentTokenCount``; ``totalTokenCount`` =
    prompt + candidates + thoughts + toolUsePrompt. In a stream every chunk repeats the running totals."""

    prompt_token_count: int | None = None
    cached_content_token_count: int | None = None
    candidates_token_count: int | None = None
    tool_use_prompt_token_count: int | None = None
    thoughts_token_count: int | None = None
    total_token_count: int | None = None
    prompt_tokens_details: list[ModalityTokenCount] | None = None
    cache_tokens_details: list[ModalityTokenCount] | None = None
    candidates_tokens_details: list[ModalityTokenCount] | None = None
    tool_use_prompt_tokens_details: list[ModalityTokenCount] | None = None
    traffic_type: str | None = None  # Vertex
    service_tier: str | None = None


class Candidate(CamelWire):
    content: Content | None = None
    finish_reason: str | None = None
    finish_message: str | None = None
    index: int | None = None
    safety_ratings: list[SafetyRating] | None = None
    citation_metadata: CitationMetadata | None = None
    token_count: int | None = None
    grounding_metadata: dict[str, JSON] | None = None
    avg_logprobs: Number | None = None
    logprobs_result: dict[str, JSON] | None = None
    url_context_metadata: dict[str, JSON] | None = None


class PromptFeedback(CamelWire):
    """Set when the prompt itself was blocked: the reply is HTTP 200 with no candidates."""

    block_reason: str | None = None
    block_reason_message: str | None = None
    safety_ratings: list[SafetyRating] | None = None


class GenerateContentResponse(CamelWire):
    """A generateContent reply, and also each item of a stream (holding only the new parts)."""

    candidates: list[Candidate] | None = None
    prompt_feedback: PromptFeedback | None = None
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None
    create_time: str | None = None  # Vertex, RFC 3339
    model_status: dict[str, JSON] | None = None


GeminiRequest = GenerateContentRequest
GeminiResponse = GenerateContentResponse

# --- countTokens -----------------------------------------------------------------------------------


class CountTokensRequest(CamelWire):
    contents: list[Content] | None = None
    generate_content_request: GenerateContentRequest | None = None


class CountTokensResponse(CamelWire):
    total_tokens: int | None = None
    cached_content_token_count: int | None = None
    prompt_tokens_details: list[ModalityTokenCount] | None = None
    cache_tokens_details: list[ModalityTokenCount] | None = None


# --- embeddings ------------------------------------------------------------------------------------


class EmbedContentRequest(CamelWire):
    """:embedContent body, and each entry of :batchEmbedContents ``requests`` (which names ``model``)."""

    content: Content
    model: str | None = None
    task_type: str | None = None
    title: str | None = None
    output_dimensionality: int | None = None


class ContentEmbedding(CamelWire):
    values: list[Number] | None = None


class EmbedContentResponse(CamelWire):
    embedding: ContentEmbedding | None = None


class BatchEmbedContentsRequest(CamelWire):
    requests: list[EmbedContentRequest]


class BatchEmbedContentsResponse(CamelWire):
    embeddings: list[ContentEmbedding] | None = None


# --- errors ----------------------------------------------------------------------------------------


class ErrorDetail(CamelWire):
    code: int | None = None  # the HTTP status
    message: str | None = None
    status: str | None = None  # google.rpc code name: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...
    details: list[JSON] | None = None  # google.rpc.ErrorInfo / RetryInfo / QuotaFailure / Help ...


class ErrorBody(CamelWire):
    """``{"error": {"code", "message", "status", "details"}}``: an HTTP error body, and also an item
    of a stream that failed after the 200 (``[{"error": ...}]`` in JSON-array mode)."""

    error: ErrorDetail


def parse_stream_item(data: dict[str, Any] | bytes | str) -> GenerateContentResponse | ErrorBody:
    """One ``data:`` payload of a ``:streamGenerateContent?alt=sse`` stream: a response chunk, or an
    error object when it carries ``error`` and no candidates. Raises ``ProviderError(kind="decode")``."""
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raw = data if isinstance(data, bytes) else data.encode("utf-8", "replace")
            raise ProviderError.decode(f"Gemini stream item is not JSON: {exc}", raw=raw[:2048]) from None
    if not isinstance(data, dict):
        raise ProviderError.decode(
            "Gemini stream item is not a JSON object", raw=json.dumps(data)[:2048].encode()
        )
    if "error" in data and "candidates" not in data:
        return ErrorBody.parse(data)
    return GenerateContentResponse.parse(data)
