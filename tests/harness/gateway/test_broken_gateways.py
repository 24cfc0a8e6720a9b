"""The proof that gateway mode catches what real gateways get wrong: the small translating gateway of
translating.py (OpenAI clients → Anthropic; Anthropic clients → OpenAI or Gemini), run in-process through
the whole machinery, once correct and once per defect.

The correct gateway passes every case its doors and routes apply to, under every wire variant. Each
defect fails, under the variant that exposes it where one does (the report names it), with the check that
names what it broke.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.gateway.adapter import load_adapter
from harness.gateway.run import run_gateway
from harness.report import terminal
from harness.scenario import Case, load_paths
from harness.verdicts import RunResult, Verdict
from mocks.variants import VARIANTS
from tests.harness.gateway import in_process, translating

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
ADAPTER = HERE / "translating.yaml"
#: The families whose cases go through a translating gateway's routes.
TRANSLATED = ("translate_to_anthropic", "translate_to_openai", "translate_gemini")


def launcher(defect: str | None) -> in_process.InProcess:
    """translating.py with ``defect``, in the runner's own trio loop (no process)."""

    async def serve(upstreams: Mapping[str, str], upstream_key: str, key: str, task_status: Any) -> None:
        await translating.serve(upstreams, upstream_key, key, defect, task_status=task_status)

    return in_process.InProcess("translating", ADAPTER, serve)


@pytest.fixture(autouse=True)
def _no_js_oracles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The verdicts here hold with or without Node: the JS oracles are tests/harness/test_js_oracles.py's."""
    monkeypatch.setenv("WIRECHECK_JS_ORACLES", str(ROOT / "no-js-oracles-here"))


def cases(*families: str, ids: Sequence[str] = ()) -> list[Case]:
    loaded = load_paths([ROOT / "scenarios" / f"{family}.yaml" for family in families])
    return [c for c in loaded if not ids or c.id in ids]


def run(
    defect: str | None, selected: Sequence[Case], variants: Sequence[str] = ("plain",), **kwargs: Any
) -> RunResult:
    return run_gateway(
        selected, load_adapter(ADAPTER), launcher(defect), variants=variants, transparency=False, **kwargs
    )


def failing(result: RunResult) -> dict[str, list[str]]:
    """Each result that is not a pass or not-applicable, by name (``case[provider]{variant}``): its failed
    checks."""
    return {
        r.name: sorted(c.id for c in r.failed_checks)
        for r in result.results
        if r.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE)
    }


def ran(result: RunResult) -> list[str]:
    return [r.name for r in result.results if r.verdict is not Verdict.NOT_APPLICABLE]


# --- the correct gateway ----------------------------------------------------------------------------------------


def test_the_correct_gateway_passes_every_case_its_routes_serve() -> None:
    every = load_paths(sorted((ROOT / "scenarios").glob("*.yaml")))
    result = run(None, every)
    assert failing(result) == {} and result.ok
    assert set(result.providers) == {"translating/anthropic", "translating/openai", "translating/gemini"}
    assert {r.provider for r in result.results if r.verdict is Verdict.PASS} == set(result.providers)
    assert len(ran(result)) >= 60
    # a method the gateway does not serve is not applicable, with the reason, never a failure
    images = [r for r in result.results if r.method == "image_generation"]
    assert images and all(r.verdict is Verdict.NOT_APPLICABLE and r.message for r in images)


def test_the_correct_gateway_passes_under_every_wire_variant_each_result_named_by_its_variant() -> None:
    result = run(None, cases(*TRANSLATED), variants=tuple(VARIANTS))
    assert failing(result) == {} and result.ok
    judged = {r.variant for r in result.results if r.verdict is Verdict.PASS}
    assert judged == set(VARIANTS)
    names = ran(result)
    assert any(n.endswith("{crlf}") for n in names) and any(n.endswith("{minimal}") for n in names)
    assert len(names) == len(set(names))  # one result per case × provider × variant


# --- each defect, caught ------------------------------------------------------------------------------------------


def test_an_sse_parser_that_only_splits_on_lf_lf_is_caught_under_the_crlf_and_cr_variants() -> None:
    selected = cases("translate_to_anthropic", "translate_to_openai")
    result = run("crlf_only", selected, variants=("plain", "crlf", "cr"))
    failed = failing(result)
    assert failed, "the defect went unnoticed"
    assert all(name.endswith(("{crlf}", "{cr}")) for name in failed), failed  # the plain bytes pass
    assert all("fields.succeeds" in checks or "error.kind" in checks for checks in failed.values())
    text = terminal.summary(result)
    assert all(name in text for name in failed)  # the report names each by its variant


def test_copying_optional_upstream_fields_into_required_ones_is_caught_under_minimal() -> None:
    result = run(
        "copies_optional", cases("translate_gemini", "anthropic_messages"), variants=("plain", "minimal")
    )
    failed = failing(result)
    assert failed and all(name.endswith("{minimal}") for name in failed), failed
    assert all(name.split("[")[1].startswith("translating/gemini") for name in failed)
    messages = [c.message for r in result.results for c in r.failed_checks if r.verdict is Verdict.FAIL]
    assert any("field id" in m for m in messages), messages


def test_dropping_max_tokens_gets_anthropics_400_and_the_vendor_rule_names_the_field() -> None:
    result = run("drops_max_tokens", cases("translate_to_anthropic"))
    failed = failing(result)
    assert failed and all("upstream.vendor_rules" in checks for checks in failed.values()), failed
    one = next(r for r in result.results if r.verdict is Verdict.FAIL)
    rule = next(c for c in one.checks if c.id == "upstream.vendor_rules")
    assert "`max_tokens` is missing" in rule.message and "docs/wire.md#anthropic-request" in rule.message
    succeeds = next(c for c in one.checks if c.id == "fields.succeeds")
    assert "max_tokens: Field required" in succeeds.message  # the mock answered as Anthropic does
    assert "POST /v1/messages" in terminal.summary(result, verbose=True)  # the upstream request is shown
    assert failing(run(None, cases("translate_to_anthropic"))) == {}


def test_a_null_role_on_every_chunk_breaks_the_openai_stream_grammar() -> None:
    result = run("role_null", cases("translate_to_anthropic"))
    failed = failing(result)
    streams = {n: c for n, c in failed.items() if ".stream." in n}
    answered = {n: c for n, c in streams.items() if ".error." not in n}  # not an in-stream error case
    assert answered and all("stream.grammar.openai.role_first" in c for c in answered.values()), failed
    assert any("stream.grammar.openai.role_every_choice" in c for c in streams.values())


def test_no_done_is_one_grammar_failure_and_the_other_rules_still_judge_the_stream() -> None:
    """``raw.chat_stream.001`` is a contract-level case: judged under ``--profile contract``."""
    selected = cases("raw", ids=["raw.chat_stream.001"])
    result = run("no_done", selected, profile="contract")
    one = result.get("raw.chat_stream.001", "translating/anthropic")
    assert one is not None and one.verdict is Verdict.FAIL
    grammar = {c.id: c.status for c in one.checks if c.id.startswith("stream.grammar.openai.")}
    assert [k for k, v in grammar.items() if v == "fail"] == ["stream.grammar.openai.done_last"]
    assert sum(v == "pass" for v in grammar.values()) >= 3
    assert failing(run(None, selected, profile="contract")) == {}


def test_retrying_after_the_stream_started_is_a_contract_finding() -> None:
    """Gateway mode judges at spec by default: the retry limits are the Provider contract's, so this one
    is caught with ``--profile contract`` (at spec it is a note, not a failure)."""
    selected = cases("faults", "translate_to_openai")
    result = run("retries_after_stream", selected, profile="contract")
    failed = failing(result)
    assert failed and all("upstream.retry.after_stream" in c for c in failed.values()), failed
    assert "faults.stream.drop.anthropic_client.001[translating/openai]" in failed
    at_spec = run("retries_after_stream", selected)
    assert not any("upstream.retry.after_stream" in c for c in failing(at_spec).values())
    noted = [c for r in at_spec.results for c in r.notes if c.id == "upstream.retry.after_stream"]
    assert noted


def test_swallowing_an_in_stream_error_into_a_clean_end_is_caught_by_the_error_checks() -> None:
    selected = cases("translate_to_anthropic", "translate_to_openai")
    result = run("swallows_stream_error", selected)
    failed = failing(result)
    assert set(failed) == {
        "translate.to_anthropic.stream.error.001[translating/anthropic]",
        "translate_to_openai.anthropic_stream.upstream_error.001[translating/openai]",
    }
    assert all("error.expected" in checks for checks in failed.values())
    assert failing(run(None, selected)) == {}
