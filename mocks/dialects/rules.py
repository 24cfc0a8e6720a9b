"""The vendors' own request rules: the request body fields each upstream API refuses with a 400 when they
are missing or hold a value it does not take, in one table (``RULES``), each citing docs/wire.md.

The mock's dialects answer a request that breaks a rule as the vendor would (``Dialect.validate``, each in
its own error body shape, naming the field), and the ``upstream.vendor_rules`` check
(harness/checks/upstream.py) fails a provider or gateway that sent such a request, naming the field. Both
read this table through ``refusal``; nothing else decides what a vendor refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "NOT_EMPTY", "POSITIVE_INTEGER", "PRESENT", "RULES", "Refusal", "Rule", "refusal"]

#: What a rule demands of its field's value.
PRESENT = "present"  # given, and not null
NOT_EMPTY = "not-empty"  # given, and not null, "" or []
POSITIVE_INTEGER = "positive-integer"  # an integer of at least 1 (not a bool, not a float)

#: Why a value breaks its rule: the field is absent (or null), empty, not an integer, or below 1.
MISSING, EMPTY, NOT_INTEGER, TOO_SMALL = "missing", "empty", "not-integer", "too-small"


@dataclass(frozen=True)
class Rule:
    """``field`` of a ``dialect``'s ``endpoint`` request body must be ``demand``; ``anchor``: where
    docs/wire.md says so. Gemini fields are named in lowerCamelCase (their snake_case spelling is read
    too)."""

    dialect: str
    endpoint: str
    field: str
    demand: str
    anchor: str


@dataclass(frozen=True)
class Refusal:
    """A request the vendor refuses: the rule it breaks and why (``MISSING``, ``EMPTY``, ``NOT_INTEGER``,
    ``TOO_SMALL``)."""

    rule: Rule
    problem: str

    @property
    def field(self) -> str:
        return self.rule.field

    def describe(self) -> str:
        """One line naming the field, the problem and the docs."""
        what = {
            MISSING: "is missing",
            EMPTY: "is empty",
            NOT_INTEGER: "is not an integer",
            TOO_SMALL: "is below 1",
        }[self.problem]
        return (
            f"`{self.field}` {what}: {self.rule.dialect} refuses such a {self.rule.endpoint} request with a 400 "
            f"(docs/wire.md#{self.rule.anchor})"
        )


_OPENAI = "openai-chat-request"
_AZURE = "azure"
_ANTHROPIC = "anthropic-request"
_GEMINI = "gemini-request"

RULES: tuple[Rule, ...] = (
    Rule("openai", "chat", "model", NOT_EMPTY, _OPENAI),
    Rule("openai", "chat", "messages", NOT_EMPTY, _OPENAI),
    Rule("openai", "embeddings", "model", NOT_EMPTY, "openai-embeddings"),
    Rule("openai", "embeddings", "input", NOT_EMPTY, "openai-embeddings"),
    Rule("openai", "images", "prompt", NOT_EMPTY, "openai-images"),
    Rule("openai", "speech", "model", NOT_EMPTY, "openai-speech"),
    Rule("openai", "speech", "input", NOT_EMPTY, "openai-speech"),
    Rule("openai", "speech", "voice", NOT_EMPTY, "openai-speech"),
    # Azure routes by the deployment in the path: no body needs `model`.
    Rule("azure", "chat", "messages", NOT_EMPTY, _AZURE),
    Rule("azure", "embeddings", "input", NOT_EMPTY, _AZURE),
    Rule("azure", "images", "prompt", NOT_EMPTY, _AZURE),
    Rule("azure", "speech", "input", NOT_EMPTY, _AZURE),
    Rule("azure", "speech", "voice", NOT_EMPTY, _AZURE),
    Rule("anthropic", "messages", "model", PRESENT, _ANTHROPIC),
    Rule("anthropic", "messages", "max_tokens", POSITIVE_INTEGER, _ANTHROPIC),
    Rule("anthropic", "messages", "messages", NOT_EMPTY, _ANTHROPIC),
    Rule("anthropic", "count_tokens", "model", PRESENT, "anthropic-other-endpoints"),
    Rule("anthropic", "count_tokens", "messages", PRESENT, "anthropic-other-endpoints"),
    Rule("gemini", "generate", "contents", NOT_EMPTY, _GEMINI),
)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _problem(demand: str, data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return MISSING
    if demand == NOT_EMPTY and value in ("", []):
        return EMPTY
    if demand == POSITIVE_INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            return NOT_INTEGER
        if value < 1:
            return TOO_SMALL
    return None


def refusal(dialect: str, endpoint: str | None, data: Any) -> Refusal | None:
    """The first rule of ``dialect``'s ``endpoint`` that the request body ``data`` breaks, or ``None``
    (also for a body that is not a JSON object: that is another 400, not a field's)."""
    if not isinstance(data, Mapping):
        return None
    for rule in RULES:
        if rule.dialect != dialect or rule.endpoint != endpoint:
            continue
        name = rule.field if rule.field in data or dialect != "gemini" else _snake(rule.field)
        problem = _problem(rule.demand, data, name)
        if problem is not None:
            return Refusal(rule, problem)
    return None
