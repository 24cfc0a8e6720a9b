"""Wire variants as a runner dimension (``wirecheck run --variants``): results named by variant in every
report, baseline entries by variant, not-applicable with a reason where a variant cannot apply, providers
whose bugs only a variant shows, mock fidelity on Gemini's streamed array, and the reference providers
passing the whole shipped suite under every variant."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.baseline import Baseline, BaselineError
from harness.checks.facts import Sent
from harness.checks.mock import _problems
from harness.report import junit as junit_report
from harness.report import matrix, terminal
from harness.runner import run
from harness.scenario import load_paths
from harness.verdicts import RunResult, Verdict
from mocks.capture import CapturedRequest
from mocks.engine import MockUpstream, Request
from mocks.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BROKEN = "tests.harness.broken.variants"


def _cases(*ids: str):
    return [c for c in load_paths([SCENARIOS]) if c.id in ids]


@pytest.fixture(scope="module")
def naive_run() -> RunResult:
    cases = _cases("openai.stream.text.001", "openai.stream.tool_call.001")
    return run(cases, [f"{BROKEN}:SplitsOnBlankLF"], variants=("lf", "crlf", "cr"), sdk=False)


def test_a_parser_splitting_on_blank_lf_fails_under_crlf_and_cr_only(naive_run: RunResult) -> None:
    by = {(r.case_id, r.variant): r for r in naive_run.results}
    assert len(by) == 6
    for case in ("openai.stream.text.001", "openai.stream.tool_call.001"):
        assert by[(case, "lf")].verdict is Verdict.PASS, by[(case, "lf")].summary()
        for variant in ("crlf", "cr"):
            r = by[(case, variant)]
            assert r.verdict is Verdict.FAIL
            assert r.name == f"{case}[{BROKEN}:SplitsOnBlankLF]{{{variant}}}"


def test_reports_name_the_variant(naive_run: RunResult, tmp_path: Path) -> None:
    failing = next(r for r in naive_run.results if r.variant == "crlf")
    assert failing.to_json()["variant"] == "crlf"
    assert "{crlf}" in terminal.summary(naive_run)
    path = tmp_path / "junit.xml"
    junit_report.write(naive_run, path)
    cases = ET.parse(path).getroot().iter("testcase")
    named = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in cases}
    assert named[failing.name]["variant"] == "crlf"
    text = matrix.render(naive_run)
    assert "Results by wire variant" in text and f"`{failing.name}`" in text


def test_baseline_entries_may_name_a_variant(naive_run: RunResult, tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(
        "entries:\n"
        "  - case: openai.stream.text.001\n"
        f"    provider: {BROKEN}:SplitsOnBlankLF\n"
        "    variant: crlf\n"
        "    reason: splits events on a blank LF line only\n",
        encoding="utf-8",
    )
    baseline = Baseline.load(path)
    plain = [r for r in naive_run.results if r.case_id == "openai.stream.text.001"]
    applied = {
        r.variant: r.verdict for r in baseline.apply(plain, {"openai.stream.text.001"}, [plain[0].provider])
    }
    assert applied == {"lf": Verdict.PASS, "crlf": Verdict.EXPECTED_FAILURE, "cr": Verdict.FAIL}
    path.write_text(path.read_text().replace("variant: crlf", "variant: sideways"), encoding="utf-8")
    with pytest.raises(BaselineError, match="variant"):
        Baseline.load(path)


def test_copying_optional_upstream_ids_fails_under_minimal_only() -> None:
    cases = _cases("openai.chat.text.001")
    result = run(cases, [f"{BROKEN}:CopiesResponseId"], variants=("plain", "minimal"), sdk=False)
    by = {r.variant: r for r in result.results}
    assert by["plain"].verdict is Verdict.PASS, by["plain"].summary()
    assert by["minimal"].verdict is Verdict.FAIL
    assert by["minimal"].name.endswith("{minimal}")


def test_a_variant_that_cannot_apply_is_not_applicable_with_the_reason() -> None:
    cases = [c for c in load_paths([SCENARIOS]) if c.id.startswith(("openai.chat.text.001", "errors."))][:6]
    result = run(cases, ["openai"], variants=("crlf",), sdk=False)
    na = [r for r in result.results if r.verdict is Verdict.NOT_APPLICABLE]
    assert na and all(r.message and "variant crlf" in r.message for r in na)
    assert not any(r.verdict.fails_run for r in result.results)


def test_reference_providers_pass_the_whole_suite_under_every_variant() -> None:
    """The dedicated `--variants all` run: the reference providers are correct, so no variant fails them."""
    cases = load_paths([SCENARIOS])
    baseline = Baseline.load(ROOT / "baselines" / "reference.yaml")
    others = tuple(v for v in VARIANTS if v != "plain")  # plain: tests/harness/test_suite.py
    result = run(cases, None, baseline=baseline, variants=others)
    bad = [f"{r.name}: {r.summary()}" for r in result.results if r.verdict.fails_run]
    assert bad == []
    ran = {r.variant for r in result.results if r.verdict is Verdict.PASS}
    assert ran == set(others)


# --- mock fidelity on Gemini's streamed array -------------------------------------------------------------


def _array_reply(body: bytes) -> Sent:
    capture = CapturedRequest(0, "POST", "/v1beta/models/g:streamGenerateContent", {}, [], b"")
    capture.dialect, capture.endpoint = "gemini", "generate"
    return Sent(200, [("content-type", "application/json; charset=UTF-8")], body, capture)


def test_mock_fidelity_reads_the_gemini_array_element_by_element() -> None:
    up = MockUpstream(
        {
            "rules": [
                {
                    "reply": {
                        "answer": {"text": "one two three four five six seven eight nine ten eleven twelve"}
                    }
                }
            ]
        }
    )
    body = json.dumps({"contents": [{"parts": [{"text": "hi"}]}]}).encode()
    reply = up.handle(
        Request("POST", "/v1beta/models/g:streamGenerateContent", [("x-goog-api-key", "k")], body)
    )
    assert reply.body.count(b"\n,\r\n") >= 1
    assert _problems(_array_reply(reply.body)) == []
    broken = reply.body.replace(
        b'"candidates": [', b'"candidates": 7, "was": [', 1
    )  # not a list in element 0
    problems = _problems(_array_reply(broken))
    assert problems and all("array element 0 (gemini.response)" in p for p in problems)
    cut = _problems(_array_reply(reply.body[:-2]))  # no closing "]"
    assert cut == [
        "POST /v1beta/models/g:streamGenerateContent → 200: the streamed JSON array is malformed: "
        "streamed JSON array ended after an element: unterminated"
    ]
