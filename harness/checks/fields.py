"""Family ``fields``: what the client got, compared with the case's expectations.

``fields.result`` compares the result's JSON with ``expect.result`` (a subset with matchers, see
``harness.checks.subset``); ``fields.stream.*`` the stream items; ``fields.text`` / ``thinking`` /
``tool_calls`` / ``stop`` / ``usage`` read the IR response the output accumulates to, whatever its dialect
(stream ≡ non-stream, docs/contract.md#equivalence-stream: the accumulated stream gives the non-streaming
answer's text, thinking, tool calls, stop reason and usage). Always on: ``fields.succeeds`` (a case that
expects no error must not get one) and ``fields.schema`` (a non-streaming result validates against its
dialect's wire schema).
"""

from __future__ import annotations

from typing import Any

from harness.checks import check
from harness.checks.facts import Facts, describe_error, schema_problems
from harness.checks.subset import differences, show


def _succeeded(f: Facts) -> bool:
    return f.main.ok and "error" not in f.expect


@check("fields.succeeds")
def succeeds(f: Facts) -> list[str] | None:
    """The call succeeds when the case expects no error."""
    if f.main.not_applicable is not None or "error" in f.expect:
        return None
    if f.main.deadline_exceeded:
        return [f"deadline exceeded after {f.main.duration:.2f}s (the call or its stream hung)"]
    if f.main.error is not None:
        where = f" (raised by the {f.main.raised})" if f.main.raised else ""
        return [f"the call failed{where}: {describe_error(f.main.error)}"]
    return []


@check("fields.result")
def result(f: Facts) -> list[str] | None:
    """The result's JSON contains ``expect.result``."""
    if "result" not in f.expect or not _succeeded(f):
        return None
    if f.main.streamed:
        return ["expect.result given for a streaming method: use expect.stream"]
    return differences(f.expect["result"], f.main.result_json, "result")


def _stream_expect(f: Facts, key: str) -> Any:
    stream = f.expect.get("stream")
    if not isinstance(stream, dict) or key not in stream or not _succeeded(f) or not f.main.streamed:
        return None
    return stream[key]


@check("fields.stream.items")
def stream_items(f: Facts) -> list[str] | None:
    """The stream items' JSON contain ``expect.stream.items``."""
    want = _stream_expect(f, "items")
    return None if want is None else differences(want, f.main.item_json, "items")


def _types(f: Facts) -> list[Any]:
    return [
        item.get("type") if isinstance(item, dict) else None
        for item in f.main.item_json
        if not (isinstance(item, dict) and item.get("type") == "ping")
    ]


@check("fields.stream.types")
def stream_types(f: Facts) -> list[str] | None:
    """The sequence of item types (``ping`` left out) is ``expect.stream.types``."""
    want = _stream_expect(f, "types")
    if want is None:
        return None
    got = _types(f)
    return [] if got == want else [f"item types: expected {show(want, 400)}, got {show(got, 400)}"]


@check("fields.stream.count")
def stream_count(f: Facts) -> list[str] | None:
    """The stream has ``expect.stream.count`` items."""
    want = _stream_expect(f, "count")
    if want is None:
        return None
    got = len(f.main.item_json)
    return [] if got == want else [f"expected {want} stream items, got {got}"]


def _semantic(f: Facts, key: str) -> tuple[Any, list[str] | None]:
    """(the accumulated value for ``key``, None) or (None, the problem list / None when n/a)."""
    if key not in f.expect or not _succeeded(f):
        return None, None
    response, why = f.main.accumulated
    if response is None:
        return None, [why or "no accumulated response"]
    return f.main.semantic[key], None


@check("fields.text")
def text(f: Facts) -> list[str] | None:
    """The accumulated assistant text is ``expect.text``."""
    got, problems = _semantic(f, "text")
    if problems is not None or "text" not in f.expect or not _succeeded(f):
        return problems
    want = f.expect["text"]
    return [] if got == want else [f"text: expected {show(want, 300)}, got {show(got, 300)}"]


@check("fields.thinking")
def thinking(f: Facts) -> list[str] | None:
    """The accumulated reasoning text is ``expect.thinking``."""
    got, problems = _semantic(f, "thinking")
    if problems is not None or "thinking" not in f.expect or not _succeeded(f):
        return problems
    want = f.expect["thinking"]
    return [] if got == want else [f"thinking: expected {show(want, 300)}, got {show(got, 300)}"]


@check("fields.tool_calls")
def tool_calls(f: Facts) -> list[str] | None:
    """The accumulated tool calls (name, parsed arguments, id when given) are ``expect.tool_calls``."""
    got, problems = _semantic(f, "tool_calls")
    if problems is not None or "tool_calls" not in f.expect or not _succeeded(f):
        return problems
    want = [{k: v for k, v in call.items()} for call in f.expect["tool_calls"]]
    return differences(want, got, "tool_calls")


@check("fields.stop")
def stop(f: Facts) -> list[str] | None:
    """The accumulated IR stop reason is ``expect.stop``."""
    got, problems = _semantic(f, "stop")
    if problems is not None or "stop" not in f.expect or not _succeeded(f):
        return problems
    want = f.expect["stop"]
    return [] if got == want else [f"stop reason: expected {want}, got {got}"]


@check("fields.usage")
def usage(f: Facts) -> list[str] | None:
    """The accumulated IR usage has the parts and totals of ``expect.usage``."""
    got, problems = _semantic(f, "usage")
    if problems is not None or "usage" not in f.expect or not _succeeded(f):
        return problems
    want = f.expect["usage"]
    if got is None:
        return [f"usage: expected {show(want)}, got no usage at all"]
    return [
        f"usage.{key}: expected {value}, got {got.get(key)}"
        for key, value in want.items()
        if got.get(key) != value
    ]


_RESULT_SCHEMA = {
    "openai": "openai.chat.response",
    "anthropic": "anthropic.messages.response",
    "gemini": "gemini.response",
    "embeddings": "openai.embeddings.response",
}


@check("fields.schema")
def schema(f: Facts) -> list[str] | None:
    """A non-streaming result validates against its dialect's JSON Schema (harness/schemas)."""
    o = f.main
    if o.streamed or not o.ok or o.output not in _RESULT_SCHEMA:
        return None
    data = o.result_json
    if isinstance(data, dict) and "$text" in data:
        return [f"the result is not JSON: {data['$text'][:80]!r}"]
    name = _RESULT_SCHEMA[o.output]
    return [f"result ({name}): {p}" for p in schema_problems(name, data)]
