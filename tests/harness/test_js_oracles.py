"""The official JS SDKs as oracles (harness/checks/sdk_js.py) in real runs: a correct stream passes all
three; ``delta.role: null`` on every chunk fails openai-node but not openai-python; a stream without its
terminator is one grammar failure while the other rules still judge it; the Node worker dying or hanging
costs a skip with its reason, never the run; without the install every JS oracle skips with one reason.

The tests that drive Node need the install (``nox -s js-oracles``; ``nox -s tests-js`` runs this file
after installing it) and skip with one reason without it; the last test needs no install.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from harness.checks import sdk_js
from harness.report import matrix
from harness.runner import run
from harness.scenario import load_paths
from harness.verdicts import CheckResult, RunResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
BROKEN = "tests.harness.broken.oracles"
needs_js = pytest.mark.skipif(sdk_js.install() is None, reason=sdk_js.NOT_INSTALLED)
JS_CHECKS = ("sdk.js.openai", "sdk.js.anthropic", "sdk.js.gemini")


def scenarios(*names: str, method: str | None = None) -> list:
    cases = load_paths([ROOT / "scenarios" / f"{name}.yaml" for name in names])
    return [c for c in cases if method is None or c.method == method]


def wirecheck(cases: list, providers: list[str], **kw) -> RunResult:
    if str(ROOT) not in sys.path:  # the specs import tests.harness.broken as a user's module would be
        sys.path.insert(0, str(ROOT))
    return run(cases, providers, concurrency=8, **kw)


def results(run_result: RunResult, check_id: str) -> list[CheckResult]:
    return [c for r in run_result.results for c in r.checks if c.id == check_id]


def tally(run_result: RunResult, check_ids=JS_CHECKS) -> Counter:
    """(check, status) counts, skips without a reason (not applicable) left out."""
    return Counter(
        (c.id, c.status)
        for check_id in check_ids
        for c in results(run_result, check_id)
        if c.status != "skip" or c.message
    )


@needs_js
def test_a_correct_stream_passes_all_three_js_oracles_and_the_matrix_counts_them() -> None:
    outcome = wirecheck(
        scenarios("openai_stream", "anthropic_stream", "gemini"), ["openai", "anthropic", "google"]
    )
    counts = tally(outcome)
    for check_id in JS_CHECKS:
        assert counts[(check_id, "pass")] >= 3, (check_id, counts)
        assert counts[(check_id, "fail")] == 0 and counts[(check_id, "skip")] == 0, (check_id, counts)
    assert not [r.name for r in outcome.results if r.verdict.fails_run]
    table = matrix.render(outcome)
    row = next(line for line in table.splitlines() if "(`sdk.js.openai`)" in line)
    cells = [cell.strip() for cell in row.strip("|").split("|")[1:]]
    passes = Counter(
        r.provider
        for r in outcome.results
        for c in r.checks
        if c.id == "sdk.js.openai" and c.status == "pass"
    )
    assert cells == [f"{passes[p]} / 0 / 0" if passes[p] else "" for p in outcome.providers]


@needs_js
def test_role_null_on_every_chunk_fails_openai_node_while_openai_python_accepts_it() -> None:
    spec = f"{BROKEN}:RoleNullEveryChunk"
    outcome = wirecheck(scenarios("openai_stream", method="chat_completion_stream"), [spec], profile="spec")
    judged = [
        r for r in outcome.results if any(c.id == "sdk.js.openai" and c.status == "fail" for c in r.checks)
    ]
    assert len(judged) >= 3
    for r in judged:
        checks = {c.id: c for c in r.checks}
        assert checks["sdk.openai"].status == "pass", r.name  # why both languages are needed
        assert checks["sdk.js.openai"].message.startswith("sdk-raises: openai 7.60.0 (JS) "), r.name
        assert "missing role for choice 0" in checks["sdk.js.openai"].message
        assert checks["stream.grammar.openai.role_every_choice"].status == "fail", r.name
        assert checks["stream.grammar.openai.role_first"].status == "fail", r.name
        assert r.verdict is Verdict.FAIL


def _grammar(r) -> dict[str, str]:
    return {c.id: c.status for c in r.checks if c.id.startswith("stream.grammar.")}


#: (scenario files, raw stream method, broken provider, the rule about the stream's end, other rules).
TERMINATORS = {
    "openai [DONE]": (
        ("openai_raw", "raw"), "chat_completion_stream_raw", "NoDoneTerminator",
        "stream.grammar.openai.done_last", ("one_id", "role_first", "role_every_choice", "one_finish"),
    ),
    "anthropic message_stop": (
        ("anthropic_raw", "raw"), "anthropic_messages_stream_raw", "NoMessageStop",
        "stream.grammar.anthropic.message_end", ("message_start", "blocks", "block_indices", "event_names"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("terminator", list(TERMINATORS))
def test_a_stream_without_its_terminator_is_one_grammar_failure_and_the_other_rules_still_judge_it(
    terminator: str,
) -> None:
    files, method, provider, end_rule, others = TERMINATORS[terminator]
    outcome = wirecheck(scenarios(*files, method=method), [f"{BROKEN}:{provider}"], profile="spec")
    judged = [r for r in outcome.results if "fail" in _grammar(r).values()]
    assert len(judged) >= 3, [r.name for r in outcome.results]
    dialect = end_rule.split(".")[2]
    for r in judged:
        grammar = _grammar(r)
        assert [k for k, v in grammar.items() if v == "fail"] == [end_rule], r.name
        for rule in others:
            assert grammar[f"stream.grammar.{dialect}.{rule}"] == "pass", (r.name, rule)
        assert next(c for c in r.checks if c.id == f"sdk.{dialect}").status == "pass", r.name
    if dialect == "openai":
        done = next(c for r in judged for c in r.checks if c.id == end_rule)
        assert done.message.startswith("no [DONE]: the stream ended after "), done.message


@pytest.fixture
def flaky_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The worker script swapped for tests/harness/js/flaky_worker.mjs, failing once as asked."""

    def arm(fault: str) -> Path:
        flag = tmp_path / "fault-happened"
        monkeypatch.setattr(sdk_js, "WORKER_SCRIPT", ROOT / "tests" / "harness" / "js" / "flaky_worker.mjs")
        monkeypatch.setenv("WIRECHECK_TEST_FAULT", fault)
        monkeypatch.setenv("WIRECHECK_TEST_FAULT_FLAG", str(flag))
        return flag

    return arm


STREAMS = ("openai_stream", "anthropic_stream")


@needs_js
def test_a_worker_that_dies_mid_run_is_restarted_and_the_run_goes_on(flaky_worker) -> None:
    flag = flaky_worker("die")
    outcome = wirecheck(scenarios(*STREAMS), ["openai", "anthropic"])
    assert flag.exists()  # the worker did die on a request
    counts = tally(outcome)
    # the requests in flight were asked again of a new worker: every stream was still judged
    assert set(counts) == {("sdk.js.openai", "pass"), ("sdk.js.anthropic", "pass")}, counts
    assert counts[("sdk.js.openai", "pass")] >= 5 and counts[("sdk.js.anthropic", "pass")] >= 5, counts
    assert not [r.name for r in outcome.results if r.verdict.fails_run]


@needs_js
def test_a_worker_that_dies_on_every_attempt_is_a_skip_naming_the_exit(
    flaky_worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky_worker("die")
    monkeypatch.setenv("WIRECHECK_TEST_FAULT_FLAG", "")  # no flag: every request kills its worker
    outcome = wirecheck(scenarios("anthropic_stream"), ["anthropic"])
    reasons = Counter(c.message for c in results(outcome, "sdk.js.anthropic") if c.message)
    assert list(reasons) == ["@anthropic-ai/sdk 1.17.0 (JS): the JS oracle worker exited (code 3)"], reasons
    assert not [r.name for r in outcome.results if r.verdict.fails_run]


@needs_js
def test_a_hung_worker_request_is_a_skip_with_its_timeout_and_the_run_goes_on(
    flaky_worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky_worker("hang")
    monkeypatch.setattr(sdk_js, "REQUEST_TIMEOUT", 2.0)
    started = time.monotonic()
    outcome = wirecheck(scenarios(*STREAMS), ["openai", "anthropic"])
    assert time.monotonic() - started < 60
    skipped = [
        c for check_id in JS_CHECKS for c in results(outcome, check_id) if c.status == "skip" and c.message
    ]
    assert skipped and all("did not answer within 2 s: it was restarted" in c.message for c in skipped), (
        skipped
    )
    assert len(skipped) <= 8
    counts = tally(outcome)
    assert counts[("sdk.js.openai", "pass")] + counts[("sdk.js.anthropic", "pass")] >= 10, counts
    assert not [r.name for r in outcome.results if r.verdict.fails_run]


def test_without_the_install_every_js_oracle_skips_with_one_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(sdk_js.INSTALL_ENV, str(tmp_path / "nothing-installed"))
    outcome = wirecheck(
        scenarios("openai_stream", "anthropic_stream", "gemini"), ["openai", "anthropic", "google"]
    )
    reasons = Counter(c.message for check_id in JS_CHECKS for c in results(outcome, check_id) if c.message)
    assert list(reasons) == [sdk_js.NOT_INSTALLED]
    assert not [c for check_id in JS_CHECKS for c in results(outcome, check_id) if c.status != "skip"]
    assert sum(reasons.values()) >= 9
    assert not [r.name for r in outcome.results if r.verdict.fails_run]
