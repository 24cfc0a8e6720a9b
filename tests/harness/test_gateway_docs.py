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
