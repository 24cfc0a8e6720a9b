"""The gateway deviations page (harness/gateway/docs.py): the variants a deviation appeared under, and the SDK
oracles per SDK and upstream with the reasons they skipped."""

from __future__ import annotations

from pathlib import Path

from harness.checks.sdk_js import NOT_INSTALLED
from harness.gateway import docs
from harness.gateway.adapter import load_adapter
from harness.verdicts import CaseResult, CheckResult, RunResult, Verdict

ADAPTER = Path(__file__).resolve().parents[2] / "gateways" / "examples" / "header-routed.yaml"


def _result(
    case: str, upstream: str, variant: str, verdict: Verdict, checks: list[CheckResult]
) -> CaseResult:
    return CaseResult(
        case, f"gw/{upstream}", verdict, method="chat_completion_stream", variant=variant, checks=checks
    )


def _run(variants: tuple[str, ...]) -> RunResult:
    results = []
    for variant in variants:
        broken = variant == "crlf"  # the deviation shows only under one variant
        results.append(
            _result(
                "openai.stream.text.001",
                "openai",
                variant,
                Verdict.FAIL if broken else Verdict.PASS,
                [
                    CheckResult("sdk.openai", "sdk", "fail" if broken else "pass", "SDK refused the stream"),
                    CheckResult("sdk.js.openai", "sdk", "skip", NOT_INSTALLED),
                    CheckResult("sdk.anthropic", "sdk", "skip"),  # does not apply: not counted
                ],
            )
        )
    return RunResult(results, ["gw/openai"], case_count=1)


def test_deviation_names_its_variant_and_sdk_table_gives_skip_reasons() -> None:
    page = docs.render(_run(("plain", "crlf", "minimal")), load_adapter(ADAPTER))
    assert "| Case | Upstreams | Variants | What the gateway did |" in page
    row = next(line for line in page.splitlines() if line.startswith("| `openai.stream.text.001`"))
    assert "| openai | crlf |" in row
    sdk = page.split("## SDK oracles", 1)[1]
    assert "| python openai (`sdk.openai`) | 2 / 1 / 0 |" in sdk
    assert f"| js openai (`sdk.js.openai`) | 0 / 0 / 3 | {NOT_INSTALLED} (3) |" in sdk
    assert "| python anthropic (`sdk.anthropic`) |  |  |" in sdk  # a skip without a reason is not counted


def test_plain_run_has_no_variants_column() -> None:
    run = _run(("plain",))
    run.results[0].verdict = Verdict.FAIL
    run.results[0].checks[0].status = "fail"
    page = docs.render(run, load_adapter(ADAPTER))
    assert "| Case | Upstreams | What the gateway did |" in page
    assert "Variants" not in page.split("## SDK oracles", 1)[0]


def test_an_expected_failure_excused_by_two_entries_is_two_deviations(tmp_path: Path) -> None:
    """Each baseline entry that excuses a failing check of a result is its own row, with its own reason and
    check: a deviation only one wire variant shows is not hidden behind another entry's reason."""
    from harness.baseline import Baseline

    baseline_file = tmp_path / "baseline.yaml"
    baseline_file.write_text(
        "entries:\n"
        '  - {case: "**", provider: gw/openai, check: stream.schema, reason: "finish_reason left out"}\n'
        '  - {case: "**", provider: gw/openai, variant: minimal, check: stream.grammar.openai.one_id,'
        ' reason: "ids minted per chunk"}\n'
    )
    checks = [
        CheckResult("stream.schema", "stream", "fail", "finish_reason missing"),
        CheckResult("stream.grammar.openai.one_id", "stream", "fail", "two ids"),
    ]
    result = _result("openai.stream.text.001", "openai", "minimal", Verdict.FAIL, checks)
    baseline = Baseline.load(baseline_file)
    applied = next(
        r
        for r in baseline.apply([result], {"openai.stream.text.001"}, ["gw/openai"])
        if r.case_id == result.case_id
    )
    assert applied.verdict is Verdict.EXPECTED_FAILURE
    page = docs.render(RunResult([applied], ["gw/openai"], case_count=1), load_adapter(ADAPTER), baseline)
    rows = [line for line in page.splitlines() if line.startswith("| `**`")]
    assert len(rows) == 2, page
    assert any("ids minted per chunk" in row and "`stream.grammar.openai.one_id`" in row for row in rows)
    assert any("finish_reason left out" in row and "`stream.schema`" in row for row in rows)
