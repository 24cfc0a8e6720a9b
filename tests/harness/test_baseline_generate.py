"""``wirecheck baseline --from report.json -o FILE``: a baseline drafted from a real run's JSON report,
refused by the loader until a person gives every entry a reason, then turning exactly that run's failures
into expected failures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from harness.baseline import Baseline, BaselineError
from harness.cli import main
from harness.scenario import schema_problem

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BROKEN = "tests.harness.broken.providers"
#: Two deliberately broken providers over the OpenAI chat and stream cases (tests/harness/broken/).
RUN = [
    "run",
    "--scenarios", str(SCENARIOS / "openai_chat.yaml"),
    "--scenarios", str(SCENARIOS / "openai_stream.yaml"),
    "--provider", f"{BROKEN}:RepeatsToolCallId",
    "--provider", f"{BROKEN}:DropsUsage",
]  # fmt: skip


@pytest.fixture(autouse=True)
def importable_broken_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(
        str(ROOT)
    )  # the specs import tests.harness.broken as a user's module would be


def failing_checks(report: dict) -> set[tuple[str, str, str]]:
    return {
        (r["case"], r["provider"], c["id"])
        for r in report["results"]
        if r["verdict"] == "fail"
        for c in r["checks"]
        if c["status"] == "fail"
    }


def test_a_drafted_baseline_needs_a_reason_per_entry_then_makes_every_failure_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, draft = tmp_path / "report.json", tmp_path / "my-baseline.yaml"
    assert main([*RUN, "--json", str(report)]) == 1
    data = json.loads(report.read_text())
    assert schema_problem("report", data) is None
    failing = failing_checks(data)
    failed_results = {(case, provider) for case, provider, _ in failing}
    assert {provider for _, provider in failed_results} == {
        f"{BROKEN}:RepeatsToolCallId",
        f"{BROKEN}:DropsUsage",
    }
    capsys.readouterr()

    assert main(["baseline", "--from", str(report), "-o", str(draft)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"wrote {draft}: {len(failing)} entries for {len(failed_results)} failing results of {report}; "
        "fill in every reason (the loader refuses an empty one)"
    )
    text = draft.read_text()
    assert text.startswith(f"# Expected-failure baseline drafted from {report} by `wirecheck baseline`")
    assert "# Fill in every `reason:` with why the failure is expected" in text
    entries = yaml.safe_load(text)["entries"]
    assert {(e["case"], e["provider"], e["check"]) for e in entries} == failing
    assert len(entries) == len(failing) and {e["reason"] for e in entries} == {""}

    # The loader refuses the draft: the first empty reason, by file, line and field.
    first_reason = text.splitlines().index('    reason: ""') + 1
    with pytest.raises(BaselineError) as refused:
        Baseline.load(draft)
    assert str(refused.value) == (
        f"{draft}:{first_reason}: entries[0].reason: expected a reason (reason must say why this failure "
        "is expected), got ''"
    )
    assert main([*RUN, "--baseline", str(draft)]) == 2
    assert capsys.readouterr().err == f"wirecheck run: {refused.value}\n"

    # A person fills the reasons in: the same run now passes, each failure an expected one.
    draft.write_text(text.replace('reason: ""', 'reason: "deliberately broken (tests/harness/broken)"'))
    again = tmp_path / "again.json"
    assert main([*RUN, "--baseline", str(draft), "--json", str(again)]) == 0
    rerun = json.loads(again.read_text())
    assert rerun["counts"]["fail"] == 0 and rerun["ok"]
    expected = {(r["case"], r["provider"]) for r in rerun["results"] if r["verdict"] == "expected-failure"}
    assert expected == failed_results
    capsys.readouterr()

    # Drafting from that second report: nothing fails, and what was left out is said.
    assert main(["baseline", "--from", str(again), "-o", str(tmp_path / "none.yaml")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {tmp_path / 'none.yaml'}: no failing check in {again}, so an empty entries list",
        f"  left out {len(failed_results)} expected failures (the run's baseline lists them already)",
    ]


def test_a_report_without_failures_drafts_an_empty_baseline_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, draft = tmp_path / "report.json", tmp_path / "b.yaml"
    passing = ["run", "--scenarios", str(SCENARIOS / "openai_chat.yaml"), "--provider", "openai", "--no-sdk"]
    assert main([*passing, "--json", str(report)]) == 0
    capsys.readouterr()
    assert main(["baseline", "--from", str(report), "-o", str(draft)]) == 0
    assert (
        capsys.readouterr().out == f"wrote {draft}: no failing check in {report}, so an empty entries list\n"
    )
    assert "entries: []" in draft.read_text()
    assert Baseline.load(draft).entries == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, ": <file>: expected a readable JSON report (wirecheck run --json), got <No such file or directory>"),
        ('{"results": [}', ":1: <json>: expected a JSON report (wirecheck run --json), got <Expecting value>"),
        ("[1, 2]", ": <file>: expected a value of type object, got [1, 2]"),
        ('{"results": [{"case": "a.b", "verdict": "fail", "checks": []}]}',
         ": results[0].provider: expected a value (required), got <nothing>"),
        ('{"results": [{"case": "a.b", "provider": "p", "verdict": "broken", "checks": []}]}',
         ': results[0].verdict: expected one of pass, fail, expected-failure, not-applicable, error, '
         "mock-infidelity, got 'broken'"),
    ],
)  # fmt: skip
def test_a_report_it_cannot_read_is_one_line_naming_the_file_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    report, draft = tmp_path / "report.json", tmp_path / "b.yaml"
    if content is not None:
        report.write_text(content)
    assert main(["baseline", "--from", str(report), "-o", str(draft)]) == 2
    err = capsys.readouterr().err
    assert err == f"wirecheck baseline: {report}{message}\n"
    assert not draft.exists()


def test_an_existing_output_is_kept_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, draft = tmp_path / "report.json", tmp_path / "b.yaml"
    report.write_text('{"results": []}')
    draft.write_text("keep me\n")
    assert main(["baseline", "--from", str(report), "-o", str(draft)]) == 2
    assert capsys.readouterr().err == f"wirecheck baseline: {draft} exists: pass --force to overwrite it\n"
    assert draft.read_text() == "keep me\n"
    assert main(["baseline", "--from", str(report), "-o", str(draft), "--force"]) == 0
    assert "entries: []" in draft.read_text()


def test_the_loader_refuses_a_blank_reason_too(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text('entries:\n  - case: openai.chat.text.001\n    provider: openai\n    reason: "  "\n')
    with pytest.raises(BaselineError, match=re.escape(f"{path}:4: entries[0].reason: expected a reason")):
        Baseline.load(path)
