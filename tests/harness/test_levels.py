"""Requirement levels and profiles (harness/levels.py): a provider is failed only for what its profile
requires, and fewer false alarms never come from looser checks.

The proof has two sides. A "correct but different" provider (tests/harness/different/providers.py),
making other legal choices than the reference, has no failure at the spec and contract profiles, while
its differences are still seen (as notes, and as failures at the reference profile). The deliberately
broken providers (tests/harness/test_broken_providers.py) still fail exactly their cases at the contract
profile, the default for a user's provider.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.checks.meaning import canonical_request
from harness.levels import Level, case_level, check_level, default_profile
from harness.runner import decide, run
from harness.scenario import load_paths
from harness.verdicts import CheckResult, RunResult, Verdict
from tests.harness.different.providers import _Minted

ROOT = Path(__file__).resolve().parents[2]
DIFFERENT = [
    f"tests.harness.different.providers:{name}"
    for name in ("DifferentOpenAI", "DifferentAnthropic", "DifferentGoogle")
]
FAILING = (Verdict.FAIL, Verdict.ERROR, Verdict.MOCK_INFIDELITY)


@pytest.fixture(scope="module")
def suite():
    if str(ROOT) not in sys.path:  # the specs import tests.harness.different as a user's module would be
        sys.path.insert(0, str(ROOT))
    return load_paths([ROOT / "scenarios"])


@pytest.fixture(scope="module")
def different_runs(suite) -> dict[str, RunResult]:
    return {
        profile: run(suite, DIFFERENT, concurrency=16, profile=profile)
        for profile in ("spec", "contract", "reference")
    }


@pytest.mark.parametrize("profile", ["spec", "contract"])
def test_a_correct_but_different_provider_has_no_failure(different_runs, profile: str) -> None:
    result = different_runs[profile]
    failures = [f"{r.name}: {r.summary()}" for r in result.results if r.verdict in FAILING]
    assert failures == []
    for provider in DIFFERENT:
        passed = [r for r in result.results if r.provider == provider and r.verdict is Verdict.PASS]
        assert len(passed) >= 75, provider  # judged on most of the suite, not excused from it


def test_its_differences_are_seen_as_notes_and_fail_at_the_reference_profile(different_runs) -> None:
    noted = {c.id for r in different_runs["contract"].results for c in r.notes}
    assert {"upstream.request.form", "upstream.attempts"} <= noted
    failed = {c.id for r in different_runs["reference"].results for c in r.failed_checks}
    assert {"upstream.request.form", "upstream.attempts", "fields.result"} <= failed
    assert not different_runs["reference"].ok


def test_the_profile_defaults() -> None:
    assert default_profile(reference=True) is Level.REFERENCE
    assert default_profile(reference=False) is Level.CONTRACT
    assert default_profile(reference=False, gateway=True) is Level.SPEC


def test_where_a_level_comes_from() -> None:
    assert case_level(None, "anthropic") is Level.SPEC
    assert case_level(None, "contract") is Level.CONTRACT
    assert case_level("reference", "openai") is Level.REFERENCE
    assert check_level("stream.grammar.openai.one_id", Level.REFERENCE) is Level.SPEC  # the check's own
    assert check_level("fields.text", Level.CONTRACT) is Level.CONTRACT  # the case's
    assert check_level("upstream.attempts", Level.CONTRACT, {"upstream.*": "reference"}) is Level.REFERENCE
    assert check_level("upstream.request.form", Level.SPEC) is Level.REFERENCE
    assert check_level("upstream.request", Level.SPEC, inherited=True) is Level.REFERENCE
    assert check_level("equivalence.stream", Level.SPEC, inherited=True) is Level.CONTRACT  # by meaning: kept


def test_a_situation_raises_a_level_to_the_contract_and_never_lowers_it() -> None:
    assert check_level("error.type", Level.SPEC, situations=["translated"]) is Level.CONTRACT
    assert check_level("error.status", Level.SPEC, situations=["translated"]) is Level.CONTRACT
    assert (
        check_level("error.kind", Level.SPEC, situations=["translated"]) is Level.SPEC
    )  # not swallowed: spec
    assert check_level("upstream.attempts", Level.SPEC, situations=["stream_started"]) is Level.CONTRACT
    assert check_level("upstream.attempts", Level.SPEC, situations=["translated"]) is Level.SPEC
    assert check_level("error.type", Level.REFERENCE, situations=["translated"]) is Level.REFERENCE
    assert (
        check_level(
            "upstream.attempts", Level.SPEC, {"upstream.*": "reference"}, situations=["stream_started"]
        )
        is Level.REFERENCE
    )


def test_which_situations_a_case_puts_its_calls_in(suite) -> None:
    from harness.checks.facts import Facts, Outcome

    cases = {case.id: case for case in suite}

    def situations(case_id: str, method: str, dialect: str) -> tuple[str, ...]:
        return Facts(cases[case_id], "p", dialect, Outcome(method=method)).situations

    # an Anthropic error event mid-stream, met by an OpenAI client: both
    assert situations(
        "faults.stream.error_event.anthropic_to_openai.001", "chat_completion_stream", "anthropic"
    ) == (
        "translated",
        "stream_started",
    )
    # the same dialect on both sides (Azure speaks OpenAI's), an error before any stream: neither
    assert situations("errors.http.rate_limit.001", "chat_completion", "azure") == ()
    assert situations("faults.stream.drop.openai_raw.001", "chat_completion_stream_raw", "openai") == (
        "stream_started",
    )


def test_which_calls_an_inherited_default_lowers_each_check_for(suite) -> None:
    """``levels.INHERITED`` says which calls each check judges: the main call for the upstream request and
    the result body, any call for raw ≡ typed; no other check is lowered."""
    from harness.checks.facts import Facts, Outcome

    case = next(iter(suite))

    def facts(inherited: set[str]) -> Facts:
        siblings = {"raw": Outcome(method="chat_completion_raw", role="raw")}
        main = Outcome(method="chat_completion")
        return Facts(case, "p", "openai", main, siblings, inherited=frozenset(inherited))

    through_main, through_sibling = facts({"chat_completion"}), facts({"chat_completion_raw"})
    assert through_main.inherits_default("upstream.request")
    assert through_main.inherits_default("fields.result")
    assert through_main.inherits_default("equivalence.raw")
    assert not through_sibling.inherits_default("upstream.request")  # judges only the main call
    assert not through_sibling.inherits_default("fields.result")
    assert through_sibling.inherits_default("equivalence.raw")  # judges any call
    assert not through_main.inherits_default("fields.text")  # by meaning: never lowered
    assert not through_main.inherits_default("equivalence.stream")
    assert not facts(set()).inherits_default("upstream.request")


def _check(check_id: str, status: str, level: Level, profile: Level, family: str = "fields") -> CheckResult:
    return CheckResult(
        check_id,
        family,
        status,
        "m" if status == "fail" else "",
        level=level,
        counted=level.fails_under(profile),
    )


def test_a_failure_above_the_profile_is_a_note_not_a_failure() -> None:
    contract = Level.CONTRACT
    note = _check("upstream.attempts", "fail", Level.REFERENCE, contract)
    assert note.noted and not note.failed
    assert decide([note, _check("fields.text", "pass", Level.SPEC, contract)]) == (Verdict.PASS, "")
    verdict, message = decide([note, _check("mock.fidelity", "pass", Level.SPEC, contract, "mock")])
    assert verdict is Verdict.NOT_APPLICABLE and "above the profile" in message  # nothing counted passed
    assert decide([_check("fields.text", "fail", Level.SPEC, contract)])[0] is Verdict.FAIL
    infidelity = _check("mock.fidelity", "fail", Level.SPEC, Level.SPEC, "mock")
    assert decide([infidelity, note])[0] is Verdict.MOCK_INFIDELITY


@pytest.mark.parametrize(
    ("dialect", "one", "other"),
    [
        ("anthropic", {"system": "Be brief."}, {"system": [{"type": "text", "text": "Be brief."}]}),
        (
            "anthropic",
            {"messages": [{"role": "user", "content": "hi"}]},
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
        ),
        (
            "anthropic",
            {
                "messages": {
                    "$prefix": [
                        {
                            "role": "user",
                            "content": [{"type": "tool_result", "tool_use_id": "t", "content": "18"}],
                        }
                    ]
                }
            },
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "t",
                                "content": [{"type": "text", "text": "18"}],
                            }
                        ],
                    }
                ]
            },
        ),
        ("openai", {"model": "gpt-4o", "max_completion_tokens": 5}, {"model": "gpt-4o", "max_tokens": 5}),
        ("openai", {"model": "gpt-4o", "stream": False}, {"model": "gpt-4o"}),
        (
            "gemini",
            {"systemInstruction": {"parts": [{"text": "x"}]}},
            {"system_instruction": {"parts": [{"text": "x"}]}},
        ),
    ],
)
def test_legal_spellings_of_one_request_mean_the_same(dialect: str, one: dict, other: dict) -> None:
    from harness.checks.subset import differences

    assert differences(canonical_request(dialect, one), canonical_request(dialect, other)) == []


@pytest.mark.parametrize(
    ("dialect", "want", "got"),
    [
        ("anthropic", {"system": "Be brief."}, {"system": [{"type": "text", "text": "Be long."}]}),
        (
            "openai",
            {"model": "o3", "max_completion_tokens": 5},
            {"model": "o3", "max_tokens": 5},
        ),  # o3 refuses it
        ("openai", {"model": "gpt-4o", "stream": True}, {"model": "gpt-4o"}),
        (
            "gemini",
            {"contents": [{"parts": [{"functionCall": {"name": "f", "args": {"city_name": "P"}}}]}]},
            {"contents": [{"parts": [{"function_call": {"name": "f", "args": {"cityName": "P"}}}]}]},
        ),  # the caller's data
    ],
)
def test_different_requests_stay_different(dialect: str, want: dict, got: dict) -> None:
    from harness.checks.subset import differences

    assert differences(canonical_request(dialect, want), canonical_request(dialect, got)) != []


def test_the_different_provider_mints_its_own_ids_consistently() -> None:
    minted = _Minted()
    first = minted.rewrite({"id": "chatcmpl-1", "choices": [{"message": {"tool_calls": [{"id": "call_a"}]}}]})
    again = minted.rewrite({"id": "chatcmpl-1", "choices": [{"delta": {"tool_calls": [{"id": "call_a"}]}}]})
    assert first["id"] == again["id"] == "gw-0001"
    assert first["choices"][0]["message"]["tool_calls"][0]["id"] == "gw-0002"
