"""The canonical intermediate representation (IR) every translation goes through.

One request, one response and one stream grammar that can hold what the three dialects share: messages
of typed parts (text, image, file, audio, tool call, tool result, reasoning), tools and tool choice,
sampling and thinking settings, a stop reason with the upstream's own word for it, and usage split into
its parts. The stream grammar is Anthropic's, the richest of the three: a message start, then content
blocks (start, deltas, stop) addressed by a dense index, then a finish with usage, then the end.

Losslessness: every IR object has ``vendor``, a dict keyed by dialect name (``"openai"``,
``"anthropic"``, ``"gemini"``) holding the wire fields that dialect sent and the IR has no slot for.
Converting back into the same dialect restores them, so OpenAI → IR → OpenAI gives back the same JSON;
another dialect ignores them, and each such drop is listed in ``providers.convert.tables.LEDGER``.

Plain dataclasses with slots: the IR is built and read on every translated request and stream event,
so it is kept cheaper than the validated wire models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Vendor = dict[str, dict[str, Any]]

#: IR stop reasons. Each dialect's own values map onto these (``providers.convert.tables``).
StopReason = Literal[
    "end_turn", "max_tokens", "stop_sequence", "tool_use", "content_filter", "refusal", "pause_turn",
    "error", "other",
]  # fmt: skip


def _vendor() -> Vendor:
    return {}


# --- content parts ---------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Text:
    text: str
    cache_control: dict[str, Any] | None = None
    citations: list[Any] | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class Image:
    """An image by URL, by inline base64 ``data`` with its ``media_type``, or by uploaded ``file_id``."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    file_id: str | None = None
    detail: str | None = None
    cache_control: dict[str, Any] | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class File:
    """A document (PDF, text, ...) by inline base64 ``data``, URL, or uploaded ``file_id``."""

    data: str | None = None
    media_type: str | None = None
    url: str | None = None
    file_id: str | None = None
    filename: str | None = None
    cache_control: dict[str, Any] | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class Audio:
    data: str
    format: str | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class ToolCall:
    """A call the model made. ``arguments`` is JSON text, kept exactly as the upstream wrote it.

    ``signature`` is Gemini's ``thoughtSignature`` on a functionCall part, which must be sent back.
    """

    id: str
    name: str
    arguments: str = "{}"
    signature: str | None = None
    cache_control: dict[str, Any] | None = None
    vendor: Vendor = field(default_factory=_vendor)

    @property
    def input(self) -> Any:
        """The arguments parsed; raises ValueError when the model wrote invalid JSON."""
        return json.loads(self.arguments) if self.arguments.strip() else {}


@dataclass(slots=True, kw_only=True)
class ToolResult:
    """The answer to a tool call. ``name`` is needed by Gemini, which pairs results by function name."""

    call_id: str
    content: list[Part] = field(default_factory=list)
    name: str | None = None
    is_error: bool | None = None
    shorthand: bool = False  # the wire gave the content as a bare string
    cache_control: dict[str, Any] | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class Reasoning:
    """Thinking text; ``signature`` must be echoed back; ``redacted`` holds encrypted thinking data."""

    text: str = ""
    signature: str | None = None
    redacted: str | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class Other:
    """A part the IR does not model (a server tool block, say): kept for its own dialect only."""

    dialect: str
    data: dict[str, Any]
    vendor: Vendor = field(default_factory=_vendor)


Part = Text | Image | File | Audio | ToolCall | ToolResult | Reasoning | Other


# --- request ---------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Message:
    """One turn. ``role`` is ``system``, ``developer``, ``user``, ``assistant`` or ``tool`` (as sent).

    ``shorthand`` records that the wire gave the content as one bare string, so a dialect that has the
    same shorthand writes it back that way.
    """

    role: str
    content: list[Part] = field(default_factory=list)
    name: str | None = None
    shorthand: bool = False
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class Tool:
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    cache_control: dict[str, Any] | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class ToolChoice:
    """``mode`` is ``auto``, ``none``, ``required`` (any tool) or ``tool`` (the one ``name``)."""

    mode: Literal["auto", "none", "required", "tool"]
    name: str | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class Thinking:
    """Reasoning settings: ``mode`` enabled/disabled/adaptive, a token budget, or an effort level."""

    mode: Literal["enabled", "disabled", "adaptive"] | None = None
    budget_tokens: int | None = None
    effort: str | None = None
    include_thoughts: bool | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class Request:
    """A generation request. ``system`` holds the top-level instructions (Anthropic ``system``, Gemini
    ``systemInstruction``); OpenAI system/developer messages stay in ``messages`` where they stood.
    """

    model: str
    messages: list[Message] = field(default_factory=list)
    system: list[Part] | None = None
    system_shorthand: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] | None = None
    stop_shorthand: bool = False  # OpenAI ``stop`` given as a bare string
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    thinking: Thinking | None = None
    response_format: dict[str, Any] | None = None  # JSON Schema output: {"type": "json_schema", ...}
    user: str | None = None
    stream: bool = False
    include_usage: bool | None = None  # ask the upstream for usage on streams
    vendor: Vendor = field(default_factory=_vendor)


# --- response --------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Usage:
    """Token counts split into parts that do not overlap (``None`` = the upstream did not say).

    - ``input_tokens``: prompt tokens neither read from nor written to a cache;
    - ``cache_read_tokens`` / ``cache_write_tokens``: prompt tokens served from / stored into a cache;
    - ``output_tokens``: visible output; ``reasoning_tokens``: thinking tokens billed as output.
    Prompt total = input + cache_read + cache_write; completion total = output + reasoning.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    vendor: Vendor = field(default_factory=_vendor)

    @property
    def prompt_total(self) -> int:
        return (self.input_tokens or 0) + (self.cache_read_tokens or 0) + (self.cache_write_tokens or 0)

    @property
    def completion_total(self) -> int:
        return (self.output_tokens or 0) + (self.reasoning_tokens or 0)


@dataclass(slots=True, kw_only=True)
class Stop:
    """Why generation stopped: the IR ``reason`` plus the upstream's own ``raw`` word and ``dialect``,
    so the same dialect gets its exact value back and others get the mapped one.
    """

    reason: StopReason
    raw: str | None = None
    dialect: str | None = None
    sequence: str | None = None


@dataclass(slots=True, kw_only=True)
class Response:
    id: str
    model: str
    content: list[Part] = field(default_factory=list)
    stop: Stop | None = None
    usage: Usage | None = None
    created: int | None = None
    vendor: Vendor = field(default_factory=_vendor)


# --- stream ----------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class MessageStart:
    id: str
    model: str
    usage: Usage | None = None
    created: int | None = None
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class BlockStart:
    """Opens content block ``index`` (dense, from 0). ``part`` is a Text, Reasoning, ToolCall (with empty
    ``arguments``) or Other, carrying whatever the upstream gave at the start."""

    index: int
    part: Part


@dataclass(slots=True, kw_only=True)
class BlockDelta:
    """A fragment for block ``index``: exactly one of the fields is set."""

    index: int
    text: str | None = None
    arguments: str | None = None
    reasoning: str | None = None
    signature: str | None = None
    citation: dict[str, Any] | None = None


@dataclass(slots=True, kw_only=True)
class BlockStop:
    index: int


@dataclass(slots=True, kw_only=True)
class UsageUpdate:
    """Usage so far (cumulative: the last one wins)."""

    usage: Usage


@dataclass(slots=True, kw_only=True)
class Finish:
    stop: Stop
    vendor: Vendor = field(default_factory=_vendor)


@dataclass(slots=True, kw_only=True)
class StreamError:
    """An error the upstream reported inside an HTTP 200 stream."""

    status: int | None
    error_type: str | None
    message: str
    body: dict[str, Any] | None = None


@dataclass(slots=True, kw_only=True)
class End:
    """The stream ended properly (``[DONE]``, ``message_stop``, or Gemini's last chunk)."""


StreamEvent = MessageStart | BlockStart | BlockDelta | BlockStop | UsageUpdate | Finish | StreamError | End
