"""Request bodies compared by meaning: each legal spelling of the same request brought to one form.

The vendors' APIs accept several forms for the same thing. A check at ``spec`` or ``contract`` level must
pass every legal form, so ``upstream.request`` compares the expected subset and the captured body after
both went through ``canonical_request``; ``upstream.request.form`` (level ``reference``) still compares
them as written, for the reference providers, whose chosen form is pinned.

What counts as the same request, per upstream wire dialect (docs/wire.md):

- **anthropic**: ``system`` as a string or as text blocks; a message's ``content`` as a string or as
  text blocks; a ``tool_result``'s ``content`` as a string or as text blocks.
- **openai** (and Azure): a message's ``content`` as a string or as text parts; ``max_tokens`` or
  ``max_completion_tokens`` for the models that take both (not the reasoning models, which refuse
  ``max_tokens``); ``stream: false`` or no ``stream`` (its default).
- **gemini**: camelCase or snake_case field names (the API reads both), except inside the caller's own
  data (function arguments and results, JSON Schemas), which is compared as written.

Only concrete values are rewritten: a matcher (``{"$regex": ...}``) in an expectation is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from harness.checks.subset import is_matcher
from providers.convert.leftovers import camel

__all__ = ["GEMINI_CALLER_DATA", "canonical_request", "takes_max_tokens"]

#: OpenAI models that refuse ``max_tokens`` (reasoning models): for them the two names are not the same.
_ONLY_MAX_COMPLETION_TOKENS = re.compile(r"^(o\d|gpt-5)")


def takes_max_tokens(model: Any) -> bool:
    """Whether the OpenAI ``model`` takes ``max_tokens`` as well as ``max_completion_tokens``."""
    return not (isinstance(model, str) and _ONLY_MAX_COMPLETION_TOKENS.match(model))


def _text_blocks(value: Any) -> Any:
    """A string as one text block; anything else (blocks, a matcher, absent) unchanged."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    return value


#: Matchers over lists whose items are compared one by one: their items are rewritten like list items.
_LIST_MATCHERS = ("$prefix", "$contains")


def _each(value: Any, rewrite: Callable[[Any], Any]) -> Any:
    """``rewrite`` applied to each item of a list, or of the list inside a ``$prefix``/``$contains``
    matcher; anything else unchanged."""
    if isinstance(value, list):
        return [rewrite(item) for item in value]
    if is_matcher(value) and next(iter(value)) in _LIST_MATCHERS:
        name, items = next(iter(value.items()))
        return {name: _each(items, rewrite)}
    return value


def _object(value: Any) -> bool:
    return isinstance(value, dict) and not is_matcher(value)


def _anthropic(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    if "system" in out:
        out["system"] = _text_blocks(out["system"])
    if "messages" in out:
        out["messages"] = _each(out["messages"], _anthropic_message)
    return out


def _tool_result(block: Any) -> Any:
    if _object(block) and block.get("type") == "tool_result" and "content" in block:
        return {**block, "content": _text_blocks(block["content"])}
    return block


def _anthropic_message(message: Any) -> Any:
    if not _object(message) or "content" not in message:
        return message
    return {**message, "content": _each(_text_blocks(message["content"]), _tool_result)}


def _openai_message(message: Any) -> Any:
    if not _object(message) or "content" not in message:
        return message
    return {**message, "content": _text_blocks(message["content"])}


def _openai(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    if "messages" in out:
        out["messages"] = _each(out["messages"], _openai_message)
    if takes_max_tokens(out.get("model")) and "max_tokens" in out and "max_completion_tokens" not in out:
        out["max_completion_tokens"] = out.pop("max_tokens")
    if out.get("stream") is False:
        del out["stream"]
    return out


#: Gemini fields whose value is the caller's own data (arguments, results, JSON Schemas): their keys are
#: kept as written, so ``city_name`` and ``cityName`` stay different there.
GEMINI_CALLER_DATA = frozenset(
    {"args", "response", "parameters", "parametersJsonSchema", "responseSchema", "responseJsonSchema"}
)


def _gemini(value: Any) -> Any:
    if isinstance(value, dict) and not is_matcher(value):
        out = {}
        for key, item in value.items():
            name = camel(key) if "_" in key else key
            out[name] = item if name in GEMINI_CALLER_DATA else _gemini(item)
        return out
    if isinstance(value, list):
        return [_gemini(item) for item in value]
    return value


_CANONICAL = {"anthropic": _anthropic, "openai": _openai, "azure": _openai}


def canonical_request(dialect: str | None, body: Any) -> Any:
    """``body`` (a request body sent to, or expected at, an upstream of ``dialect``) in its one canonical
    form; a body that is not a JSON object is returned as it is."""
    if not isinstance(body, dict) or is_matcher(body):
        return body
    if dialect == "gemini":
        return _gemini(body)
    form = _CANONICAL.get(dialect or "")
    return form(body) if form else body
