"""Reports: terminal, JSON, JUnit and matrix, all generated from one run and none carrying a secret."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.report import jsonfile, junit, matrix, scrub, terminal
from harness.runner import run
from harness.scenario import load_paths, load_yaml, parse
from harness.verdicts import RunResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-wirecheck-TOPSECRET-0123456789"
PICKED = {
    "openai.chat.text.001",
    "errors.http.auth.001",
    "raw.anthropic_stream.001",
    "upstream.chat.request.001",
}
FAILING = """\
cases:
  - id: report.fails.001
    title: expects a text the upstream does not say
    clause: {spec: openai, ref: "Chat Completions: create", url: "https://platform.openai.com/docs/api-reference/chat/create"}
    method: chat_completion
    providers: [openai]
    request: {model: gpt-4o, messages: [{role: user, content: hi}]}
    upstream: {reply: {answer: {text: "Hello.", usage: {prompt: 3, completion: 1}}}}
    expect: {text: "Goodbye.", upstream: {headers: {authorization: "Bearer not-the-key"}}}
"""


@pytest.fixture(scope="module")
def result() -> RunResult:
    files = [ROOT / "scenarios" / f"{n}.yaml" for n in ("openai_chat", "errors", "raw", "upstream")]
    cases = [c for c in load_paths(files) if c.id in PICKED]
    cases += list(parse(*load_yaml(FAILING, "report.yaml"), "report.yaml").cases)
    return run(cases, ["openai", "anthropic"], api_key=SECRET, sdk=False)


def test_the_run_has_every_kind_of_row(result: RunResult) -> None:
    verdicts = {r.verdict for r in result.results}
    assert {Verdict.PASS, Verdict.FAIL, Verdict.NOT_APPLICABLE} <= verdicts
    assert result.secrets == [SECRET]


def test_no_report_contains_the_api_key(result: RunResult, tmp_path: Path) -> None:
    jsonfile.write(result, tmp_path / "r.json")
    junit.write(result, tmp_path / "r.xml")
    matrix.write(result, tmp_path / "r.md")
    texts = [(tmp_path / name).read_text(encoding="utf-8") for name in ("r.json", "r.xml", "r.md")]
    texts.append(terminal.summary(result, verbose=True))
    for text in texts:
        assert SECRET not in text
        assert SECRET[6:] not in text and SECRET[-12:] not in text
    # The failing case shows the captured request headers, with the credential redacted.
    details = json.dumps(jsonfile.render(result))
    assert '"authorization", "Bearer <redacted:' in details


def test_scrub_redacts_credential_headers_and_known_secrets() -> None:
    data = {"headers": {"x-api-key": "abc", "accept": "*/*"}, "pairs": {"headers": [["Authorization", "Bearer abc"]]},
            "text": f"key={SECRET}"}  # fmt: skip
    out = scrub(data, [SECRET])
    assert out["headers"] == {"x-api-key": "<redacted:3 chars>", "accept": "*/*"}
    assert out["pairs"]["headers"] == [["Authorization", "Bearer <redacted:3 chars>"]]
    assert SECRET not in out["text"]


def test_json_report_has_every_verdict_with_checks_clause_and_timings(result: RunResult) -> None:
    data = jsonfile.render(result)
    assert data["ok"] is False and data["cases"] == len(PICKED) + 1
    rows = {(r["case"], r["provider"]): r for r in data["results"]}
    assert len(rows) == len(result.results)
    failing = rows[("report.fails.001", "openai")]
    assert failing["verdict"] == "fail"
    assert failing["clause"]["url"] == "https://platform.openai.com/docs/api-reference/chat/create"
    failed = {c["id"]: c for c in failing["checks"] if c["status"] == "fail"}
    assert set(failed) == {"fields.text", "upstream.request", "upstream.request.form"}
    assert {c["id"]: c["level"] for c in failed.values()} == {
        "fields.text": "spec",
        "upstream.request": "spec",
        "upstream.request.form": "reference",
    }
    assert failing["level"] == "spec" and failing["profile"] == "reference"
    assert data["levels"]["spec"]["fail"] >= 1
    assert failed["fields.text"]["message"] == 'text: expected "Goodbye.", got "Hello."'
    assert failing["duration_ms"] > 0
    assert rows[("raw.anthropic_stream.001", "openai")]["verdict"] == "not-applicable"


def test_junit_has_one_testcase_per_result_with_properties_and_diffs(result: RunResult) -> None:
    root = ET.fromstring(junit.render(result))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(result.results)
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == str(len(cases))
    (failing,) = [c for c in cases if c.get("name") == "report.fails.001[openai]"]
    props = {p.get("name"): p.get("value") for p in failing.findall("./properties/property")}
    assert props["case_id"] == "report.fails.001" and props["provider"] == "openai"
    assert props["clause"].startswith("openai: Chat Completions: create")
    failure = failing.find("failure")
    assert failure is not None and 'expected "Goodbye.", got "Hello."' in (failure.text or "")
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert {c.get("name") for c in skipped} == {"raw.anthropic_stream.001[openai]"}


def test_matrix_is_generated_from_the_run(result: RunResult) -> None:
    text = matrix.render(result)
    assert "| Family | openai | anthropic |" in text
    assert "| `openai.chat` | ✅ 1/1 | ✅ 1/1 |" in text
    assert "| `report.fails` | ❌ 0/1 |  |" in text
    assert "| `anthropic_messages_stream_raw` | n/a | ✅ 1/1 |" in text


def test_terminal_summary_lists_failures_with_clause_and_diff(result: RunResult) -> None:
    text = terminal.summary(result)
    assert "FAILURES: 1" in text
    assert "report.fails.001[openai]  (fail)" in text
    assert "clause: openai: Chat Completions: create" in text
    assert "✗ fields.text: text: expected" in text
    assert "slowest:" in text and text.rstrip().endswith("verdicts above")


def test_progress_is_dots_off_a_tty_and_a_bar_on_one(result: RunResult) -> None:
    plain = io.StringIO()
    progress = terminal.Progress(len(result.results), plain, tty=False)
    for r in result.results:
        progress(r)
    progress.close()
    assert sorted(plain.getvalue().strip()) == sorted(
        {"pass": ".", "fail": "F", "not-applicable": "s"}[str(r.verdict)] for r in result.results
    )
    bar = io.StringIO()
    progress = terminal.Progress(2, bar, tty=True)
    progress(result.results[0])
    assert bar.getvalue().startswith("\r[") and "1/2" in bar.getvalue()


#: Plain JSON data as reports hold it, and the corners of its encoding: non-ASCII and control characters,
#: big integers, floats (NaN and the infinities too), empty containers, tuples.
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_PLAIN = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=25,
)


@given(_PLAIN)
def test_the_json_report_text_is_what_json_dumps_with_an_indent_of_2_writes(data: object) -> None:
    assert jsonfile.indented(data) == json.dumps(data, indent=2, ensure_ascii=False)


@pytest.mark.parametrize(
    "data", [{1: "a"}, {"k": {None: 2}}, [1, {"x": object()}]], ids=["int key", "None key", "object"]
)
def test_data_the_fast_encoder_does_not_know_is_left_to_json_dumps(data: object) -> None:
    try:
        expected = json.dumps(data, indent=2, ensure_ascii=False)
    except TypeError:
        with pytest.raises(TypeError):
            jsonfile.indented(data)
        return
    assert jsonfile.indented(data) == expected
