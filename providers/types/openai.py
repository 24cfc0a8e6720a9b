"""OpenAI Chat Completions wire models (docs/wire.md#openai-chat-request through docs/wire.md#openai-errors;
openapi ``CreateChatCompletionRequest``, ``CreateChatCompletionResponse``,
``CreateChatCompletionStreamResponse``, ``ErrorResponse``).

Every model is lossless (see ``_base``). Messages are one flat model keyed by ``role`` rather than a union
per role: the fields overlap, a gateway must accept roles it does not know, and a flat model keeps
unknown roles whole. Content parts and tools are open unions on ``type``.
"""

from __future__ import annotations

from providers.types._base import JSON, Number, Wire, open_union

# --- content parts ---------------------------------------------------------------------------------


class TextPart(Wire):
    type: str = "text"
    text: str


class ImageURL(Wire):
    url: str
    detail: str | None = None


class ImagePart(Wire):
    type: str = "image_url"
    image_url: ImageURL


class InputAudio(Wire):
    data: str
    format: str


class AudioPart(Wire):
    type: str = "input_audio"
    input_audio: InputAudio


class FileRef(Wire):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class FilePart(Wire):
    type: str = "file"
    file: FileRef


class RefusalPart(Wire):
    type: str = "refusal"
    refusal: str


class OtherPart(Wire):
    """A content part of a type we do not model; kept whole."""

    type: str


ContentPart = open_union(
    "type",
    {
        "text": TextPart,
        "image_url": ImagePart,
        "input_audio": AudioPart,
        "file": FilePart,
        "refusal": RefusalPart,
    },
    OtherPart,
)

# --- tool calls ------------------------------------------------------------------------------------


class FunctionCall(Wire):
    """``arguments`` is a JSON *string* on the wire; it is kept as the exact text the model produced."""

    name: str
    arguments: str


class ToolCall(Wire):
    id: str
    type: str = "function"
    function: FunctionCall | None = None
    custom: dict[str, JSON] | None = None


# --- messages --------------------------------------------------------------------------------------


class Message(Wire):
    """A request message of any role (system, developer, user, assistant, tool, function, or new ones)."""

    role: str
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None
    function_call: FunctionCall | None = None
    audio: dict[str, JSON] | None = None
    reasoning_content: str | None = None  # DeepSeek/vLLM-style reasoning text, seen on compatible servers


# --- tools and options -----------------------------------------------------------------------------


class FunctionDef(Wire):
    name: str
    description: str | None = None
    parameters: dict[str, JSON] | None = None
    strict: bool | None = None


class FunctionTool(Wire):
    type: str = "function"
    function: FunctionDef


class OtherTool(Wire):
    type: str


Tool = open_union("type", {"function": FunctionTool}, OtherTool)


class StreamOptions(Wire):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class ChatCompletionRequest(Wire):
    """POST /v1/chat/completions body."""

    model: str
    messages: list[Message]
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: Number | None = None
    top_p: Number | None = None
    n: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: Number | None = None
    frequency_penalty: Number | None = None
    seed: int | None = None
    user: str | None = None
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, JSON] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, JSON] | None = None
    reasoning_effort: str | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, Number] | None = None
    metadata: dict[str, JSON] | None = None
    store: bool | None = None
    service_tier: str | None = None
    modalities: list[str] | None = None


# --- responses -------------------------------------------------------------------------------------


class PromptTokensDetails(Wire):
    cached_tokens: int | None = None
    audio_tokens: int | None = None
    image_tokens: int | None = None
    text_tokens: int | None = None
    cache_write_tokens: int | None = None


class CompletionTokensDetails(Wire):
    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None
    text_tokens: int | None = None


class Usage(Wire):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class ResponseMessage(Wire):
    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None
    annotations: list[dict[str, JSON]] | None = None
    audio: dict[str, JSON] | None = None
    function_call: FunctionCall | None = None
    reasoning_content: str | None = None


class Choice(Wire):
    index: int
    message: ResponseMessage | None = None  # Azure omits it on a choice stopped by its content filter
    finish_reason: str | None = None
    logprobs: dict[str, JSON] | None = None


class ChatCompletionResponse(Wire):
    """Non-streaming reply of /v1/chat/completions."""

    id: str
    object: str = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None


# --- stream chunks ---------------------------------------------------------------------------------


class FunctionCallDelta(Wire):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(Wire):
    """One fragment of a streamed tool call: only ``index`` is required; clients concatenate by index."""

    index: int
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None


class Delta(Wire):
    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    function_call: FunctionCallDelta | None = None
    audio: dict[str, JSON] | None = None
    reasoning_content: str | None = None


class ChunkChoice(Wire):
    index: int
    delta: Delta
    finish_reason: str | None = None
    logprobs: dict[str, JSON] | None = None


class ChatCompletionChunk(Wire):
    """One ``data:`` item of a streamed chat completion; the usage-only last chunk has ``choices: []``."""

    id: str
    object: str = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None


# --- errors ----------------------------------------------------------------------------------------


class ErrorDetail(Wire):
    message: str
    type: str | None = None
    param: str | None = None
    code: str | int | None = None


class ErrorBody(Wire):
    """``{"error": {"message", "type", "param", "code"}}``, also sent mid-stream as a ``data:`` item."""

    error: ErrorDetail
