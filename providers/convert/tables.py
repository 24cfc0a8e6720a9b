"""Mapping tables shared by the converters and rendered into docs/translation.md.

Stop reasons map each dialect's word onto the IR's (``providers.types.ir.StopReason``) and back. A value
a table does not know maps to ``other`` on the way in and keeps its raw word in ``ir.Stop.raw``, so the
same dialect gets it back unchanged; on the way out, ``other`` becomes the dialect's neutral value.

Sources: docs/wire.md#openai-chat-response (OpenAI finish_reason), docs/wire.md#anthropic-response
(Anthropic stop_reason), docs/wire.md#gemini-response (Gemini finishReason).

The lossiness ledger is data, not code: ``lossy.toml`` beside this module, read once at import into
``LEDGER`` (each converter's ``LOSSY`` is its dialect's rows).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from providers.types.ir import Stop, StopReason

OPENAI_STOP_IN: dict[str, StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filter",
}
OPENAI_STOP_OUT: dict[StopReason, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "pause_turn": "stop",
    "error": "stop",
    "other": "stop",
}

ANTHROPIC_STOP_IN: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "pause_turn": "pause_turn",
    "refusal": "refusal",
    "model_context_window_exceeded": "max_tokens",
}
ANTHROPIC_STOP_OUT: dict[StopReason, str] = {
    "end_turn": "end_turn",
    "stop_sequence": "stop_sequence",
    "max_tokens": "max_tokens",
    "tool_use": "tool_use",
    "content_filter": "refusal",
    "refusal": "refusal",
    "pause_turn": "pause_turn",
    "error": "end_turn",
    "other": "end_turn",
}

#: Gemini has no tool-call finish reason: a candidate whose parts hold a functionCall ends with STOP,
#: and the converter reads that as ``tool_use`` (gateways got this wrong: LiteLLM PR#10485, Portkey#1200).
GEMINI_STOP_IN: dict[str, StopReason] = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "MODEL_ARMOR": "content_filter",
    "MALFORMED_FUNCTION_CALL": "other",
    "UNEXPECTED_TOOL_CALL": "other",
    "TOO_MANY_TOOL_CALLS": "other",
    "OTHER": "other",
    "FINISH_REASON_UNSPECIFIED": "other",
}
GEMINI_STOP_OUT: dict[StopReason, str] = {
    "end_turn": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",
    "pause_turn": "STOP",
    "max_tokens": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "refusal": "SAFETY",
    "error": "OTHER",
    "other": "OTHER",
}

STOP_TABLES: dict[str, tuple[dict[str, StopReason], dict[StopReason, str]]] = {
    "openai": (OPENAI_STOP_IN, OPENAI_STOP_OUT),
    "anthropic": (ANTHROPIC_STOP_IN, ANTHROPIC_STOP_OUT),
    "gemini": (GEMINI_STOP_IN, GEMINI_STOP_OUT),
}


def stop_from(dialect: str, raw: str | None, *, sequence: str | None = None) -> Stop | None:
    """The IR stop for a dialect's stop word (``None`` stays ``None``: the stream has not stopped yet)."""
    if raw is None:
        return None
    return Stop(reason=STOP_TABLES[dialect][0].get(raw, "other"), raw=raw, dialect=dialect, sequence=sequence)


def stop_to(dialect: str, stop: Stop | None) -> str | None:
    """The dialect's stop word for an IR stop: its own raw word when it came from that dialect."""
    if stop is None:
        return None
    if stop.dialect == dialect and stop.raw is not None:
        return stop.raw
    return STOP_TABLES[dialect][1][stop.reason]


#: Reasoning effort levels and the Anthropic/Gemini thinking budgets they stand for (a budget maps to the
#: highest level whose budget it reaches). The same ladder LiteLLM and crabllm use, so budgets agree.
EFFORT_BUDGETS: dict[str, int] = {
    "none": 0,
    "minimal": 128,
    "low": 1024,
    "medium": 2048,
    "high": 4096,
    "xhigh": 8192,
    "max": 16384,
}


def effort_for_budget(budget: int) -> str:
    """The effort level a thinking budget stands for (``-1``, Gemini's "automatic", is ``medium``)."""
    if budget < 0:
        return "medium"
    level = "none"
    for name, floor in EFFORT_BUDGETS.items():
        if budget >= floor:
            level = name
    return level


#: How each dialect's usage fields map onto the IR's non-overlapping parts (``ir.Usage``).
#: Rows: (dialect, IR field, rule). The converters implement these; the docs render them.
USAGE_RULES: tuple[tuple[str, str, str], ...] = (
    ("openai", "input_tokens", "prompt_tokens - prompt_tokens_details.cached_tokens - cache_write_tokens"),
    ("openai", "cache_read_tokens", "prompt_tokens_details.cached_tokens"),
    ("openai", "cache_write_tokens", "prompt_tokens_details.cache_write_tokens"),
    ("openai", "output_tokens", "completion_tokens - completion_tokens_details.reasoning_tokens"),
    ("openai", "reasoning_tokens", "completion_tokens_details.reasoning_tokens"),
    ("anthropic", "input_tokens", "input_tokens (already excludes cache reads and writes)"),
    ("anthropic", "cache_read_tokens", "cache_read_input_tokens"),
    ("anthropic", "cache_write_tokens", "cache_creation_input_tokens"),
    ("anthropic", "output_tokens", "output_tokens (thinking included: Anthropic does not split it)"),
    ("gemini", "input_tokens", "promptTokenCount - cachedContentTokenCount"),
    ("gemini", "cache_read_tokens", "cachedContentTokenCount"),
    ("gemini", "output_tokens", "candidatesTokenCount"),
    ("gemini", "reasoning_tokens", "thoughtsTokenCount"),
)


@dataclass(frozen=True, slots=True)
class Lossy:
    """One field that does not survive a translation, and why (the lossiness ledger)."""

    source: str  # dialect the field comes from
    target: str  # dialect it fails to reach ("*" = every other dialect)
    field: str  # wire path in the source dialect
    reason: str


#: The ledger's data file: one array per converter module, one ``{source, target, field, reason}`` row
#: per entry.
LEDGER_FILE = Path(__file__).with_name("lossy.toml")


def read_ledger(path: Path = LEDGER_FILE) -> dict[str, tuple[Lossy, ...]]:
    """The rows of each converter module's ledger (keyed by its dialect name), in file order. A row with a
    missing or an unknown key raises ``TypeError``; a malformed file raises ``tomllib.TOMLDecodeError``."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    return {dialect: tuple(Lossy(**row) for row in rows) for dialect, rows in data.items()}


#: The whole ledger, read once: ``LEDGER[dialect]`` is what that dialect's converter module lists.
LEDGER: dict[str, tuple[Lossy, ...]] = read_ledger()
