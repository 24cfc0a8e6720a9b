"""Deliberately broken providers (tests/harness/broken/providers.py), one per check family, run over the
first scenarios: each fails exactly the cases that check what it breaks, with the checks listed here.

A passing suite only proves the checks raise no false alarm; these prove each family can fail. The
table is the whole truth for each provider: any other case failing, or a listed check not failing, is
a test failure. (A bug travels to every method a provider builds on the broken one: the Gemini and
OpenAI fixtures' other streams and translations fail too, through the fields and equivalence checks.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.runner import run
from harness.scenario import load_paths
from harness.verdicts import RunResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
RUNNER_SCENARIOS = [
    ROOT / "scenarios" / f"{name}.yaml"
    for name in ("openai_chat", "openai_stream", "anthropic_messages", "anthropic_stream", "gemini", "raw", "ir",
                 "media", "compat", "upstream", "errors", "timing")
]  # fmt: skip
MODULE = "tests.harness.broken.providers"

#: provider class → {failing case id: the checks that fail in it, exactly}.
EXPECTED: dict[str, dict[str, list[str]]] = {
    "RepeatsToolCallId": {
        "openai.stream.tool_call.001": [
            "equivalence.raw",
            "sdk.openai",
            "stream.grammar.openai.tool_id_once",
        ],
        "openai.stream.parallel_tools.001": [
            "equivalence.raw",
            "sdk.openai",
            "stream.grammar.openai.tool_id_once",
        ],
    },
    "GappyBlockIndices": {
        "anthropic.stream.text_then_tool.001": [
            "equivalence.raw",
            "fields.stream.items",
            "sdk.anthropic",
            "stream.grammar.anthropic.block_indices",
        ],
        "anthropic.stream.parallel_tools.001": [
            "equivalence.raw",
            "sdk.anthropic",
            "stream.grammar.anthropic.block_indices",
        ],
    },
    "FinishOnEveryItem": {
        "openai.stream.text.001": [
            "equivalence.stream",
            "fields.stream.items",
            "fields.text",
            "fields.usage",
        ],
        "openai.stream.parallel_tools.001": ["equivalence.stream", "fields.text", "fields.tool_calls"],
        "anthropic.stream.text_then_tool.001": ["equivalence.stream"],
        "anthropic.stream.parallel_tools.001": ["equivalence.stream"],
        "gemini.stream.text.001": [
            "equivalence.raw",
            "equivalence.stream",
            "fields.usage",
            "stream.grammar.gemini.finish_last",
        ],
        "ir.complete_stream.tool.001": ["equivalence.stream", "fields.usage"],
        "upstream.chat.request.001": ["equivalence.stream"],
    },
    "DropsUsage": {
        "openai.chat.text.001": ["equivalence.raw", "fields.result", "fields.usage"],
        "openai.chat.tool_call.001": ["equivalence.raw", "fields.usage"],
        "openai.chat.parallel_tools.001": ["equivalence.raw"],
        "openai.chat.length.001": ["equivalence.raw", "fields.usage"],
        "openai.chat.cached_usage.001": ["equivalence.raw", "fields.result", "fields.usage"],
        "openai.stream.text.001": ["equivalence.stream"],
        "openai.stream.tool_call.001": ["equivalence.stream"],
        "openai.stream.parallel_tools.001": ["equivalence.stream"],
        "anthropic.messages.text.001": ["fields.result", "fields.usage"],
        "anthropic.stream.text.001": ["equivalence.stream"],
        "anthropic.stream.tool_use.001": ["equivalence.stream"],
        "anthropic.stream.text_then_tool.001": ["equivalence.stream"],
        "anthropic.stream.parallel_tools.001": ["equivalence.stream"],
        "gemini.generate.text.001": ["fields.result", "fields.usage"],
        "gemini.stream.text.001": ["equivalence.stream"],
        "gemini.stream.function_call.001": ["equivalence.stream"],
        "raw.chat.001": ["equivalence.raw"],
        "ir.complete.text.001": ["fields.usage"],
        "ir.complete_stream.tool.001": ["equivalence.stream"],
        "upstream.chat.request.001": ["equivalence.stream"],
        "upstream.anthropic_stream.include_usage.001": ["equivalence.stream"],
    },
    "WrongFinishReason": {
        "openai.chat.tool_call.001": ["equivalence.raw", "fields.result", "fields.stop"],
        "openai.chat.parallel_tools.001": ["equivalence.raw", "fields.result", "fields.stop"],
        "openai.stream.tool_call.001": ["equivalence.stream"],
        "openai.stream.parallel_tools.001": ["equivalence.stream"],
        "ir.complete_stream.tool.001": ["equivalence.stream"],
    },
    "DropsToolCallId": {  # the typed answer cannot even be built without the id: the call fails
        "openai.chat.tool_call.001": ["fields.succeeds"],
        "openai.chat.parallel_tools.001": ["fields.succeeds"],
        "openai.stream.tool_call.001": ["equivalence.stream"],
        "openai.stream.parallel_tools.001": ["equivalence.stream"],
        "anthropic.messages.tool_use.001": ["fields.succeeds"],
        "anthropic.stream.tool_use.001": ["equivalence.stream"],
        "anthropic.stream.text_then_tool.001": ["equivalence.stream"],
        "anthropic.stream.parallel_tools.001": ["equivalence.stream"],
        "gemini.generate.function_call.001": ["fields.succeeds"],
        "gemini.stream.function_call.001": ["equivalence.stream"],
        "ir.complete_stream.tool.001": ["equivalence.stream"],
    },
    "InflatesStreamUsage": {
        "openai.stream.text.001": ["equivalence.stream", "fields.stream.items", "fields.usage"],
        "openai.stream.tool_call.001": ["equivalence.stream", "fields.usage"],
        "openai.stream.parallel_tools.001": ["equivalence.stream"],
        "anthropic.stream.text.001": ["equivalence.raw", "equivalence.stream", "fields.usage"],
        "anthropic.stream.tool_use.001": ["equivalence.raw", "equivalence.stream", "fields.usage"],
        "anthropic.stream.text_then_tool.001": ["equivalence.raw", "equivalence.stream"],
        "anthropic.stream.parallel_tools.001": ["equivalence.raw", "equivalence.stream"],
        "anthropic.stream.ping.001": ["equivalence.raw", "equivalence.stream"],
        "gemini.stream.text.001": ["equivalence.stream", "fields.usage"],
        "gemini.stream.function_call.001": ["equivalence.stream"],
        "raw.anthropic_stream.001": ["equivalence.raw"],
        "ir.complete_stream.tool.001": ["equivalence.stream", "fields.usage"],
        "upstream.chat.request.001": ["equivalence.stream"],
    },
    "RawDiffersFromTyped": {
        "openai.chat.text.001": ["equivalence.raw"],
        "openai.chat.tool_call.001": ["equivalence.raw"],
        "openai.chat.parallel_tools.001": ["equivalence.raw"],
        "openai.chat.length.001": ["equivalence.raw"],
        "openai.chat.cached_usage.001": ["equivalence.raw"],
        "raw.chat.001": ["equivalence.raw"],
    },
    "Maps529Wrong": {
        "errors.http.overloaded.001": ["error.kind", "error.status", "error.type"],
        "errors.stream.mid_stream.001": ["error.kind"],
        "errors.stream.mid_stream.002": ["error.kind", "error.status", "error.type"],
    },
    "RetriesAfterStream": {
        "errors.stream.mid_stream.001": ["upstream.attempts", "upstream.retry.after_stream"],
        "errors.stream.mid_stream.002": ["upstream.attempts", "upstream.retry.after_stream"],
        "errors.stream.truncated.001": ["upstream.attempts", "upstream.retry.after_stream"],
    },
    "WrongVersionHeader": {
        "upstream.chat.request.001": ["upstream.request"],
    },
    "BuffersStream": {
        "errors.stream.mid_stream.001": ["error.raised"],
        "errors.stream.mid_stream.002": ["error.raised"],
        "errors.stream.truncated.001": ["error.raised"],
        "timing.stream.first_item.001": ["timing.streamed"],
    },
}
#: The check each fixture exists for (its family's proof).
PROVES = {
    "RepeatsToolCallId": ["stream.grammar.openai.tool_id_once", "sdk.openai"],
    "GappyBlockIndices": ["stream.grammar.anthropic.block_indices", "sdk.anthropic"],
    "FinishOnEveryItem": ["stream.grammar.gemini.finish_last"],
    "DropsUsage": ["fields.usage", "fields.result"],
    "WrongFinishReason": ["fields.stop"],
    "DropsToolCallId": ["fields.succeeds"],
    "InflatesStreamUsage": ["equivalence.stream"],
    "RawDiffersFromTyped": ["equivalence.raw"],
    "Maps529Wrong": ["error.kind", "error.status", "error.type"],
    "RetriesAfterStream": ["upstream.retry.after_stream", "upstream.attempts"],
    "WrongVersionHeader": ["upstream.request"],
    "BuffersStream": ["timing.streamed", "error.raised"],
}


@pytest.fixture(scope="module")
def broken_run() -> RunResult:
    if str(ROOT) not in sys.path:  # the specs import tests.harness.broken as a user's module would be
        sys.path.insert(0, str(ROOT))
    with pytest.MonkeyPatch.context() as patch:  # the table holds with or without Node: the JS oracles
        patch.setenv("WIRECHECK_JS_ORACLES", str(ROOT / "no-js-oracles-here"))  # are test_js_oracles.py's
        return run(
            load_paths(RUNNER_SCENARIOS),
            [f"{MODULE}:{name}" for name in EXPECTED],
            concurrency=16,
            profile="contract",
        )


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_broken_provider_fails_exactly_the_cases_that_check_it(broken_run: RunResult, name: str) -> None:
    spec = f"{MODULE}:{name}"
    mine = [r for r in broken_run.results if r.provider == spec]
    assert mine, f"{name} ran no case"
    assert not [r.name for r in mine if r.verdict in (Verdict.ERROR, Verdict.MOCK_INFIDELITY)]
    got = {r.case_id: sorted(c.id for c in r.failed_checks) for r in mine if r.verdict is Verdict.FAIL}
    assert got == EXPECTED[name]
    fired = {c for checks in got.values() for c in checks}
    assert set(PROVES[name]) <= fired
