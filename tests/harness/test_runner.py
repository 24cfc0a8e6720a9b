"""The runner end to end, against the shipped scenarios and hand-made ones: verdict rules, baseline,
deadline, isolation, harness errors, mock infidelity."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from harness import runner
from harness.baseline import Baseline, BaselineError
from harness.checks import CHECKS, Check, sdk_js
from harness.runner import RunnerError, resolve_providers, run
from harness.scenario import load_paths, load_yaml, parse
from harness.verdicts import RunResult, Verdict
from providers.base import METHODS

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BROKEN = Path(__file__).resolve().parent / "broken"
#: The first scenarios, written with the runner (others add files beside them; a whole-folder run is
#: what `wirecheck run` and the nox session do). These tests pin the runner's behaviour on these.
RUNNER_SCENARIOS = [
    SCENARIOS / f"{name}.yaml"
    for name in ("openai_chat", "openai_stream", "anthropic_messages", "anthropic_stream", "gemini", "raw", "ir",
                 "media", "compat", "upstream", "errors", "timing")
]  # fmt: skip

CASE = """\
  - id: {id}
    title: t
    clause: {{spec: contract, ref: r}}
    method: chat_completion
    providers: [openai]
    request: {{model: gpt-4o, messages: [{{role: user, content: hi}}]}}
    upstream: {{reply: {{answer: {{text: "{text}", usage: {{prompt: 3, completion: 1}}}}}}}}
    expect: {{text: "{text}"}}
"""


def cases_from(text: str, name: str = "inline.yaml"):
    return list(parse(*load_yaml(textwrap.dedent(text), name), name).cases)


def baseline_from(tmp_path: Path, text: str) -> Baseline:
    path = tmp_path / "baseline.yaml"
    path.write_text(textwrap.dedent(text))
    return Baseline.load(path)


@pytest.fixture(scope="module")
def reference_run() -> RunResult:
    cases = load_paths(RUNNER_SCENARIOS)
    return run(cases, baseline=Baseline.load(ROOT / "baselines" / "reference.yaml"))


def test_the_suite_passes_for_the_reference_providers_with_the_baseline(reference_run: RunResult) -> None:
    bad = [f"{r.name}: {r.verdict}: {r.summary()}" for r in reference_run.results if r.verdict.fails_run]
    assert bad == []
    assert reference_run.ok and reference_run.exit_code == 0
    counts = reference_run.counts()
    assert counts[Verdict.PASS] >= 150
    assert reference_run.duration < 20


def test_the_suite_exercises_every_check_family_and_method(reference_run: RunResult) -> None:
    passed = {c.id for r in reference_run.results for c in r.checks if c.status == "pass"}
    families = {CHECKS[i].family for i in passed}
    assert families == {"fields", "upstream", "stream", "equivalence", "error", "timing", "sdk", "mock"}
    never = sorted(set(CHECKS) - passed)
    if sdk_js.install() is None:  # the optional JS oracles skip, with their one reason, when not installed
        reasons = {
            c.message
            for r in reference_run.results
            for c in r.checks
            if c.id.startswith("sdk.js.") and c.message
        }
        assert reasons == {sdk_js.NOT_INSTALLED}
        never = [check for check in never if not check.startswith("sdk.js.")]
    assert never == [], f"checks no shipped scenario exercises: {never}"
    assert {r.method for r in reference_run.results if r.verdict is Verdict.PASS} == set(METHODS)


def test_without_the_baseline_the_known_failures_fail() -> None:
    cases = [c for c in load_paths(RUNNER_SCENARIOS) if c.id == "openai.stream.text.001"]
    result = run(cases, ["azure"])
    (only,) = result.results
    assert only.verdict is Verdict.FAIL and not result.ok
    # the openai SDK's strict mode refuses Azure's prompt-filter chunk; the wire schema accepts it
    assert {c.id for c in only.failed_checks} == {"sdk.openai"}
    with_baseline = run(cases, ["azure"], baseline=Baseline.load(ROOT / "baselines" / "reference.yaml"))
    assert with_baseline.results[0].verdict is Verdict.EXPECTED_FAILURE and with_baseline.ok


def test_a_stale_baseline_entry_fails_the_run(tmp_path: Path) -> None:
    cases = cases_from("cases:\n" + CASE.format(id="demo.ok.001", text="Hi"))
    baseline = baseline_from(
        tmp_path,
        """\
        entries:
          - {case: demo.ok.001, provider: openai, reason: "was broken once"}
        """,
    )
    result = run(cases, ["openai"], baseline=baseline, sdk=False)
    (only,) = result.results
    assert only.verdict is Verdict.FAIL
    assert only.message.startswith("stale baseline entry: remove it")
    assert result.exit_code == 1


def test_baseline_entries_naming_unknown_cases_or_excusing_nothing_fail(tmp_path: Path) -> None:
    cases = cases_from("cases:\n" + CASE.format(id="demo.ok.001", text="Hi"))
    baseline = baseline_from(
        tmp_path,
        """\
        entries:
          - {case: demo.gone.001, provider: openai, reason: "renamed"}
          - {case: "demo.**", provider: openai, check: stream.schema, reason: "never fails"}
          - {case: demo.ok.001, provider: google, reason: "another provider: not run, left alone"}
        """,
    )
    result = run(cases, ["openai"], baseline=baseline, sdk=False)
    messages = sorted(r.message for r in result.results if r.verdict is Verdict.FAIL)
    assert len(messages) == 2
    assert messages[0].startswith("baseline entry names an unknown case 'demo.gone.001'")
    assert messages[1].startswith("stale baseline entry: remove it: pattern 'demo.**'")
    assert result.get("demo.ok.001", "openai").verdict is Verdict.PASS


def test_a_failing_case_in_the_baseline_is_an_expected_failure(tmp_path: Path) -> None:
    text = "cases:\n" + CASE.format(id="demo.bad.001", text="Hi").replace(
        'expect: {text: "Hi"}', 'expect: {text: "Bye"}'
    )
    baseline = baseline_from(
        tmp_path,
        """\
        entries:
          - {case: demo.bad.001, provider: openai, check: fields.text, reason: "says hi", issue: "https://example.com/1"}
        """,
    )
    result = run(cases_from(text), ["openai"], baseline=baseline, sdk=False)
    (only,) = result.results
    assert only.verdict is Verdict.EXPECTED_FAILURE and result.ok
    assert only.baseline["issue"] == "https://example.com/1"


def test_a_case_marked_xfail_that_passes_fails() -> None:
    text = "cases:\n" + CASE.format(id="demo.xfail.001", text="Hi") + '    xfail: "thought to be broken"\n'
    (only,) = run(cases_from(text), ["openai"], sdk=False).results
    assert only.verdict is Verdict.FAIL and "stale baseline entry" in only.message


def test_a_malformed_baseline_names_file_line_and_field(tmp_path: Path) -> None:
    with pytest.raises(BaselineError) as caught:
        baseline_from(tmp_path, "entries:\n  - {case: a.b.001, provider: openai}\n")
    assert caught.value.line == 2 and caught.value.field == "entries[0].reason"
    with pytest.raises(BaselineError, match="a case pattern must name the check"):
        baseline_from(tmp_path, "entries:\n  - {case: 'a.**', provider: openai, reason: r}\n")


def test_a_hang_is_a_failed_case_with_deadline_exceeded_not_a_hung_run() -> None:
    text = """\
    cases:
      - id: demo.hang.001
        title: the upstream stalls
        clause: {spec: contract, ref: r}
        method: anthropic_messages_stream
        providers: [anthropic]
        request: {model: m, max_tokens: 5, messages: [{role: user, content: hi}]}
        upstream: {fault: {stall: {ms: 30000, after_events: 2}}}
        expect: {text: "never"}
    """
    result = run(cases_from(text), ["anthropic"], deadline=0.5, sdk=False)
    (only,) = result.results
    assert only.verdict is Verdict.FAIL
    assert "deadline exceeded" in only.summary()
    assert result.duration < 5


def test_concurrent_cases_are_isolated() -> None:
    text = "cases:\n" + "".join(CASE.format(id=f"demo.iso.{i:03d}", text=f"answer {i}") for i in range(24))
    result = run(cases_from(text), ["openai"], concurrency=24, sdk=False)
    assert [r.verdict for r in result.results] == [Verdict.PASS] * 24


def test_a_request_the_wire_model_rejects_is_a_harness_error() -> None:
    text = """\
    cases:
      - id: demo.badreq.001
        title: messages is not a list
        clause: {spec: contract, ref: r}
        method: chat_completion
        providers: [openai]
        request: {model: gpt-4o, messages: 7}
        expect: {text: x}
    """
    result = run(cases_from(text), ["openai"], sdk=False)
    (only,) = result.results
    assert only.verdict is Verdict.ERROR and only.message.startswith("harness error:")
    assert not result.ok


def test_a_method_the_provider_does_not_offer_is_not_applicable() -> None:
    (case,) = [c for c in load_paths(RUNNER_SCENARIOS) if c.id == "raw.anthropic_stream.001"]
    result = run([case], ["openai", "anthropic"], sdk=False)
    assert result.get(case.id, "openai").verdict is Verdict.NOT_APPLICABLE
    assert result.get(case.id, "anthropic").verdict is Verdict.PASS
    assert result.ok


def test_mock_infidelity_is_its_own_verdict_and_fails_the_run() -> None:
    cases = load_paths([BROKEN / "infidelity.yaml"])
    result = run(cases, ["openai", "anthropic", "azure"], sdk=False)
    verdicts = {r.case_id: r for r in result.results}
    assert len(verdicts) == 4
    assert {r.verdict for r in verdicts.values()} == {Verdict.MOCK_INFIDELITY}
    assert "object" in verdicts["broken.infidelity.json.001"].message
    assert "`event: ping` but type 'content_block_delta'" in verdicts["broken.infidelity.sse.001"].message
    # Azure is judged by OpenAI's schemas, which accept only Azure's real departures: an empty-object chunk
    # without prompt_filter_results, or an error body without a message, is still infidelity
    prelude = verdicts["broken.infidelity.azure_prelude.001"].message
    assert "event 0 (openai.chat.chunk): object: 'chat.completion.chunk' was expected" in prelude
    error = verdicts["broken.infidelity.azure_error.001"].message
    assert "→ 429 (openai.error): error: 'message' is a required property" in error
    assert not result.ok and result.counts()[Verdict.FAIL] == 0


def test_user_providers_need_an_upstream_dialect() -> None:
    with pytest.raises(RunnerError, match="expected its upstream dialect"):
        resolve_providers(["providers.openai:OpenAIProvider"])
    (put,) = resolve_providers(["providers.openai:OpenAIProvider"], upstream="openai")
    assert not put.reference and put.upstream_dialect == "openai"
    with pytest.raises(RunnerError, match="no provider of that name"):
        resolve_providers(["mistral"])


def test_a_user_provider_runs_the_cases_of_its_upstream_dialect() -> None:
    cases = [c for c in load_paths(RUNNER_SCENARIOS) if c.family in ("openai.chat", "compat")]
    result = run(cases, ["providers.openai:OpenAIProvider"], upstream="openai", sdk=False)
    assert result.ok
    assert {r.case_id for r in result.results} >= {"openai.chat.text.001", "compat.openai.001"}
    assert "compat.openai.002" not in {r.case_id for r in result.results}  # meant for other upstreams


REFUSAL = """\
cases:
  - id: inline.refusal.001
    title: embedding is refused, naming the method
    clause: {spec: contract, ref: "9. embedding: default not implemented"}
    method: embedding
    providers: [anthropic, openai]
    request: {model: text-embedding-3-small, input: hi}
    expect: {error: {kind: not_implemented}}
"""


def test_a_case_that_expects_not_implemented_runs_and_fails_a_provider_that_answers() -> None:
    result = run(cases_from(REFUSAL), providers=resolve_providers(["anthropic", "openai"]))
    verdicts = {r.provider: r.verdict for r in result.results}
    # The Anthropic provider refuses (pass: the refusal is what the case checks); the OpenAI provider
    # answers the embedding, which this case says must be refused (fail): the check can fail.
    assert verdicts == {"anthropic": Verdict.PASS, "openai": Verdict.FAIL}


def test_the_injected_clock_goes_only_to_a_constructor_that_names_it() -> None:
    from harness.runner import _named_parameters
    from providers.openai import OpenAIProvider

    class TakesKeywords(OpenAIProvider):
        def __init__(self, api_key: str, base_url: str, **kwargs) -> None:
            super().__init__(api_key=api_key, base_url=base_url)

    assert {"sleep", "client"} <= _named_parameters(OpenAIProvider)
    assert _named_parameters(TakesKeywords) == {"api_key", "base_url"}

    retried = """\
    cases:
      - id: inline.retry.001
        title: a 429 then a reply; waits are checked only where the provider takes the clock
        clause: {spec: contract, ref: retries}
        method: chat_completion
        request: {model: gpt-4o, messages: [{role: user, content: hi}]}
        upstream:
          rules:
            - {times: 1, fault: {error: {status: 429, retry_after: 0}}}
            - {reply: {answer: {text: ok, usage: {prompt: 3, completion: 1}}}}
        expect: {text: ok, attempts: 2, waits: [99]}
    """
    import sys
    import types

    holder = types.ModuleType("wirecheck_test_keywords")
    holder.TakesKeywords = TakesKeywords
    sys.modules[holder.__name__] = holder
    try:
        result = run(cases_from(retried), [f"{holder.__name__}:TakesKeywords"], upstream="openai", sdk=False)
    finally:
        del sys.modules[holder.__name__]
    (case,) = result.results
    statuses = {c.id: c.status for c in case.checks}
    assert statuses["upstream.attempts"] == "pass"
    assert statuses["upstream.waits"] == "skip"  # no clock given, so the made-up waits are no fault
    # The same case against the reference provider, which names `sleep`, does check the waits: [99] fails.
    reference = run(cases_from(retried), ["openai"], sdk=False)
    assert {c.id: c.status for c in reference.results[0].checks}["upstream.waits"] == "fail"


def test_a_check_that_never_returns_is_a_harness_error_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def never_returns(facts: Any) -> list[str]:
        release.wait(30)
        return []

    monkeypatch.setitem(CHECKS, "sdk.openai", Check("sdk.openai", "sdk", never_returns, "never returns"))
    monkeypatch.setattr(runner, "CHECKS_DEADLINE", 0.5)
    cases = cases_from(
        "cases:\n" + CASE.format(id="t.hang.001", text="hi") + CASE.format(id="t.hang.002", text="ho")
    )
    try:
        result = run(cases, ["openai"], sdk=False)
    finally:
        release.set()
    assert [(r.verdict, r.message) for r in result.results] == [
        (Verdict.ERROR, "harness error: check sdk.openai did not return within 0.5 s: abandoned")
    ] * 2


STREAM_CASE = """\
  - id: {id}
    title: t
    clause: {{spec: contract, ref: r}}
    method: chat_completion_stream
    providers: [openai]
    request: {{model: gpt-4o, stream: true, messages: [{{role: user, content: hi}}]}}
    upstream: {{reply: {{event_delay_ms: {delay}, answer: {{text: "hi", usage: {{prompt: 3, completion: 1}}}}}}}}
    expect: {{text: "hi"}}
"""


def test_jobs_start_longest_scripted_wait_first_and_oracle_streams_last_and_report_in_suite_order() -> None:
    cases = cases_from(
        "cases:\n"
        + STREAM_CASE.format(id="t.stream.001", delay=0)
        + CASE.format(id="t.plain.001", text="hi")
        + STREAM_CASE.format(id="t.stream.002", delay=20)
        + CASE.format(id="t.plain.002", text="ho")
    )
    (openai,) = resolve_providers(["openai"])
    jobs = [(case, openai, "plain") for case in cases]
    assert [cases[i].id for i in runner.schedule(jobs)] == [
        "t.stream.002",
        "t.plain.001",
        "t.plain.002",
        "t.stream.001",
    ]
    assert runner.scripted_wait(cases[2].script_for("openai")) == pytest.approx(0.2)
    result = run(cases, ["openai"], concurrency=1, sdk=False)
    assert [r.case_id for r in result.results] == [c.id for c in cases]


def test_a_case_being_judged_does_not_hold_its_slot_the_next_cases_calls_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``concurrency`` bounds the calls in flight: with one slot, the second case's calls (and checks) run
    while the first case's checks wait for them."""
    judged_second = threading.Event()
    seen: dict[str, bool] = {}

    def waits_for_the_next_case(facts: Any) -> list[str]:
        if facts.case.id == "t.slot.002":
            judged_second.set()
        else:
            seen["second judged meanwhile"] = judged_second.wait(10)
        return []

    monkeypatch.setitem(CHECKS, "sdk.openai", Check("sdk.openai", "sdk", waits_for_the_next_case, "waits"))
    cases = cases_from(
        "cases:\n" + CASE.format(id="t.slot.001", text="hi") + CASE.format(id="t.slot.002", text="ho")
    )
    result = run(cases, ["openai"], concurrency=1, sdk=False)
    assert seen == {"second judged meanwhile": True}
    assert [r.verdict for r in result.results] == [Verdict.PASS, Verdict.PASS]


def test_a_run_without_oracle_streams_neither_imports_the_sdks_nor_starts_the_oracle_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from harness.oracles import python_sdk, sdk_process

    started: list[str] = []
    monkeypatch.setattr(python_sdk, "warm", lambda: started.append("warm"))
    monkeypatch.setattr(sdk_process, "start", lambda: started.append("process"))
    monkeypatch.setattr(python_sdk, "ready_here", lambda: False)  # as in a fresh process
    monkeypatch.setattr(runner, "ORACLE_PROCESS_STREAMS", 1)
    result = run(cases_from("cases:\n" + CASE.format(id="t.plain.001", text="hi")), ["openai"])
    assert [r.verdict for r in result.results] == [Verdict.PASS]
    assert started == []
    run(cases_from("cases:\n" + STREAM_CASE.format(id="t.stream.001", delay=0)), ["openai"])
    assert started[:1] == [
        "process"
    ]  # the same run with a stream does (and, as no process serves, warms here)
