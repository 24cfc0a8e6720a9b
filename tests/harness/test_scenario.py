"""Scenario files: the shipped suite loads; a malformed scenario names file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.scenario import (
    REFERENCE_PROVIDERS,
    Case,
    ScenarioError,
    default_scenarios_dir,
    load_file,
    load_paths,
    load_yaml,
    parse,
)
from providers.base import METHODS

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
RUNNER_SCENARIOS = [
    SCENARIOS / f"{name}.yaml"
    for name in ("openai_chat", "openai_stream", "anthropic_messages", "anthropic_stream", "gemini", "raw", "ir",
                 "media", "compat", "upstream", "errors", "timing")
]  # fmt: skip

GOOD_CASE = """\
cases:
  - id: demo.case.001
    title: A demo
    clause: {spec: openai, ref: "Chat Completions: create"}
    method: chat_completion
    request: {model: gpt-4o, messages: [{role: user, content: hi}]}
"""


def _parse(text: str, name: str = "demo.yaml"):
    return parse(*load_yaml(textwrap.dedent(text), name), name)


def _error(text: str, name: str = "demo.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        _parse(text, name)
    return caught.value


def test_every_shipped_scenario_file_loads_with_unique_ids() -> None:
    cases = load_paths([SCENARIOS])
    assert len({c.id for c in cases}) == len(cases)


def test_the_first_scenarios_cover_every_method() -> None:
    cases = load_paths(RUNNER_SCENARIOS)
    assert len(cases) >= 40
    assert len({c.id for c in cases}) == len(cases)
    assert {c.method for c in cases} == set(METHODS)
    for case in cases:
        assert case.clause.spec and case.clause.ref, case.id
        assert case.line > 0
        assert set(case.providers or REFERENCE_PROVIDERS) <= set(REFERENCE_PROVIDERS)


def test_default_scenarios_dir_is_the_checkout_s_scenarios_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WIRECHECK_SCENARIOS", raising=False)
    assert default_scenarios_dir() == SCENARIOS
    monkeypatch.setenv("WIRECHECK_SCENARIOS", "/elsewhere")
    assert default_scenarios_dir() == Path("/elsewhere")


def test_a_good_case_parses_with_its_line_and_family() -> None:
    (case,) = _parse(GOOD_CASE).cases
    assert case.id == "demo.case.001"
    assert case.family == "demo.case"
    assert case.line == 2
    assert case.providers is None and case.applies_to("google")
    assert case.script_for("openai") == {"rules": [{"name": "demo.case.001"}], "fallback": "not_found"}


def test_defaults_fill_missing_keys_and_merge_expect_only() -> None:
    text = """\
    family: demo
    defaults:
      method: chat_completion
      providers: [openai]
      request: {model: a, messages: []}
      expect: {attempts: 1}
    cases:
      - id: demo.one.001
        title: t
        clause: {spec: openai, ref: r}
        request: {model: b, messages: []}
        expect: {text: hi}
    """
    (case,) = _parse(text).cases
    assert case.method == "chat_completion" and case.providers == ("openai",)
    assert case.request == {"model": "b", "messages": []}  # replaced, not merged
    assert case.expect == {"attempts": 1, "text": "hi"}  # merged
    assert case.family == "demo"


def test_per_dialect_upstream_falls_back_from_azure_to_openai() -> None:
    text = (
        GOOD_CASE
        + "    upstream: {openai: {reply: {status: 200, json: {a: 1}}}, gemini: {fault: {drop: {}}}}\n"
    )
    (case,) = _parse(text).cases
    assert (
        case.upstream_for("azure")
        == case.upstream_for("openai")
        == {"reply": {"status": 200, "json": {"a": 1}}}
    )
    assert case.upstream_for("anthropic") == {}
    assert case.scripts_fault("gemini") and not case.scripts_fault("openai")


@pytest.mark.parametrize(
    ("extra", "line", "field", "expected"),
    [
        ("    expct: {}\n", 7, "cases[0].expct", "one of the keys"),
        ("    expect: {stop: finished}\n", 7, "cases[0].expect.stop", "one of end_turn"),
        ("    providers: [openai, mistral]\n", 7, "cases[0].providers[1]", "one of openai"),
        ("    upstream: {replay: {}}\n", 7, "cases[0].upstream.replay", "one of the keys"),
        ("    upstream:\n      reply:\n        answer: {text: 3}\n", 9, "cases[0].upstream.reply.answer.text", "a string"),
        ("    upstream:\n      anthropic:\n        fault: {error: {status: x}}\n", 9,
         "cases[0].upstream.anthropic.fault.error.status", "an integer"),
        ("    expect:\n      equivalence: maybe\n", 8, "cases[0].expect.equivalence", '"auto"'),
        ("    expect:\n      usage: {input: many}\n", 8, "cases[0].expect.usage.input", "type integer"),
    ],
)  # fmt: skip
def test_a_malformed_case_names_file_line_field_and_expectation(
    extra: str, line: int, field: str, expected: str
) -> None:
    error = _error(GOOD_CASE + extra, "scenarios/bad.yaml")
    assert (error.source, error.line, error.field) == ("scenarios/bad.yaml", line, field)
    assert expected in error.expected
    assert str(error).startswith(f"scenarios/bad.yaml:{line}: {field}: expected ")


@pytest.mark.parametrize(
    "url", ["docs/contract.md#errors", "docs/wire.md", "https://docs.claude.com/en/api/errors#http-errors"]
)
def test_a_clause_cites_a_web_page_or_a_document_of_the_repository(url: str) -> None:
    (case,) = _parse(GOOD_CASE.replace('ref: "Chat Completions: create"', f"ref: r, url: {url!r}")).cases
    assert case.clause.url == url


@pytest.mark.parametrize("url", ["../shared/CONTRACT.md", "/abs/contract.md", "docs/../x.md", "docs/x.md#"])
def test_a_clause_never_cites_a_path_outside_the_repository(url: str) -> None:
    error = _error(GOOD_CASE.replace('ref: "Chat Completions: create"', f"ref: r, url: {url!r}"))
    assert error.field == "cases[0].clause.url"


def test_missing_required_fields_are_named() -> None:
    error = _error(GOOD_CASE.replace("    method: chat_completion\n", ""))
    assert (error.line, error.field, error.expected) == (2, "cases[0].method", "a value (required)")
    error = _error(
        GOOD_CASE.replace("    request: {model: gpt-4o, messages: [{role: user, content: hi}]}\n", "")
    )
    assert error.field == "cases[0].request"
    error = _error(GOOD_CASE.replace("chat_completion", "gemini_generate_content"))
    assert error.field == "cases[0].model"


def test_broken_yaml_and_empty_files_are_reported_with_a_line(tmp_path: Path) -> None:
    error = _error("cases: [\n  {a: b\n")
    assert error.field == "<yaml>" and error.line == 3
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ScenarioError, match=r"empty\.yaml: <file>: expected a mapping with `cases:`"):
        load_file(empty)


def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD_CASE)
    (tmp_path / "b.yaml").write_text("# another family\n" + GOOD_CASE)
    with pytest.raises(ScenarioError) as caught:
        load_paths([tmp_path])
    error = caught.value
    assert error.source.endswith("b.yaml") and error.line == 3 and error.field == "id"
    assert "a.yaml:2" in error.expected


def test_a_missing_path_is_an_error() -> None:
    with pytest.raises(ScenarioError, match="expected a scenario file or directory"):
        load_paths(["/no/such/scenarios"])


def test_check_levels_are_remembered_per_case_question_never_mixed_between_cases() -> None:
    """``Case.check_level`` remembers its answers; two cases that differ only in their ``levels:`` map (its
    order included: the first matching pattern wins), or asked with another situation, get their own."""
    from harness.levels import check_level

    def case_with(levels: str) -> Case:
        (case,) = _parse(GOOD_CASE.replace("    method:", f"    levels: {levels}\n    method:")).cases
        return case

    plain = _parse(GOOD_CASE).cases[0]
    first = case_with("{upstream.*: contract, upstream.request: reference}")
    other = case_with("{upstream.request: reference, upstream.*: contract}")
    for _ in range(2):  # the second round answers from memory
        assert str(plain.check_level("upstream.request")) == "spec"
        assert str(first.check_level("upstream.request")) == "contract"
        assert str(other.check_level("upstream.request")) == "reference"
        assert str(plain.check_level("error.status", situations=("translated",))) == "contract"
        assert str(plain.check_level("error.status")) == "spec"
    for case in (plain, first, other):
        for check_id in ("upstream.request", "error.status", "stream.grammar.openai", "equivalence.raw"):
            for inherited in (False, True):
                assert case.check_level(check_id, inherited) == check_level(
                    check_id, case.level, case.levels, inherited
                )
