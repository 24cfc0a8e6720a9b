"""The official SDKs as stream oracles (harness/checks/sdk.py, harness/oracles/python_sdk.py), on hand-made
streams: each oracle passes a good stream and fails one its SDK rejects or assembles differently; an SDK the oracle cannot drive is a
skip with a reason naming the SDK and its version, never a hang and never the provider's fault.

These tests run against whatever SDK versions are installed: to measure an older one, install it into a
scratch venv with wirecheck and pytest and run this file there. Below ``SDKS[...].oldest`` the good-stream
tests assert the skip and its reason instead of the pass.
"""

from __future__ import annotations

import pickle
import re
import signal
import subprocess
import sys
import threading
import tomllib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import runner
from harness.checks import CHECKS, oracle
from harness.checks.facts import Facts, Outcome
from harness.oracles import python_sdk, sdk_process
from harness.report import terminal
from harness.runner import run
from harness.scenario import load_paths, load_yaml, parse
from harness.verdicts import CheckResult, Verdict
from tests.harness.test_checks import (
    GOOD_ANTHROPIC,
    GOOD_OPENAI,
    USAGE_REQUEST,
    _renumber,
    case,
    chunk,
    item,
    tool,
)

ROOT = Path(__file__).resolve().parents[2]
#: Seconds any single oracle call may take here before the test calls it a hang.
HANG = 20.0
GOOD = {
    "openai": ("chat_completion_stream", GOOD_OPENAI),
    "anthropic": ("anthropic_messages_stream", GOOD_ANTHROPIC),
    "gemini": ("gemini_generate_content_stream", [item("Hel", total=4), item("lo", "STOP", total=5)]),
}


def oracle_facts(method: str, items: list[Any], dialect: str) -> Facts:
    request = USAGE_REQUEST if dialect == "openai" else None
    return Facts(case(method, request), "p", dialect, Outcome(method, items=list(items)), sdk=True)


def judge(dialect: str, items: list[Any] | None = None, method: str | None = None) -> CheckResult:
    """The dialect's oracle on ``items`` (default: the good stream) of ``method`` (default: the typed
    stream), in a worker thread as the runner runs it, failing the test if it does not return within
    ``HANG`` seconds."""
    typed, good = GOOD[dialect]
    facts = oracle_facts(method or typed, good if items is None else items, dialect)
    out: list[CheckResult] = []
    worker = threading.Thread(target=lambda: out.append(CHECKS[f"sdk.{dialect}"].run(facts)), daemon=True)
    worker.start()
    worker.join(HANG)
    assert not worker.is_alive(), f"sdk.{dialect} hung for {HANG:g} s"
    assert not python_sdk._locks[dialect].locked(), f"sdk.{dialect} left its lock held"
    return out[0]


def usable(dialect: str) -> bool:
    if not python_sdk.available(dialect):
        pytest.skip(f"{python_sdk.SDKS[dialect].name} is not installed")
    return python_sdk.release(python_sdk.version(dialect) or "") >= python_sdk.release(
        python_sdk.SDKS[dialect].oldest
    )


def needs(dialect: str) -> None:
    if not usable(dialect):
        pytest.skip(
            f"{python_sdk.SDKS[dialect].name} {python_sdk.version(dialect)} is older than the oracle supports"
        )


@pytest.fixture(autouse=True)
def fresh_oracles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no dialect given up, and leaves the shared clients as it found them."""
    monkeypatch.setattr(python_sdk, "_stuck", {})
    monkeypatch.setattr(python_sdk, "_clients", dict(python_sdk._clients))


# --- verdicts on real SDKs --------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", list(GOOD))
def test_a_good_stream_passes_each_oracle_or_an_old_sdk_is_skipped_with_its_version(dialect: str) -> None:
    result = judge(dialect)
    if usable(dialect):
        assert (result.status, result.message) == ("pass", "")
    else:
        name, oldest = python_sdk.SDKS[dialect].name, python_sdk.SDKS[dialect].oldest
        assert result.status == "skip"
        assert result.message == (
            f"{name} {python_sdk.version(dialect)}: stream helper API differs; the oracle needs {name}>={oldest}"
        )


def test_the_openai_sdk_raising_inside_its_accumulator_is_a_fail_verdict() -> None:
    needs("openai")
    gap = [*GOOD_OPENAI[:2], chunk(tool(1, "{}", "call_1", "f")), *GOOD_OPENAI[5:]]  # no tool call 0
    result = judge("openai", gap)
    assert result.status == "fail"
    assert result.message.startswith("sdk-raises: openai IndexError: ")


def test_the_anthropic_sdk_raising_on_gappy_block_indices_is_a_fail_verdict() -> None:
    needs("anthropic")
    result = judge("anthropic", _renumber(GOOD_ANTHROPIC, {0: 0, 1: 2}))
    assert result.status == "fail"
    assert result.message.startswith("sdk-raises: anthropic IndexError: ")


def test_google_genai_raising_on_data_that_is_not_json_is_a_fail_verdict() -> None:
    needs("gemini")
    body = b'data: {"candidates": [{"content": {"parts": [{"text": "hi"}]}}]}\n\ndata: {not json\n\n'
    result = judge("gemini", [body], method="gemini_generate_content_stream_raw")
    assert result.status == "fail"
    assert result.message.startswith("sdk-raises: google-genai ")
    assert "{not json" in result.message


def test_a_stream_the_sdk_assembles_differently_fails() -> None:
    needs("openai")
    repeated = [*GOOD_OPENAI[:3], chunk(tool(0, '{"a":1}', "call_1", "f")), *GOOD_OPENAI[4:]]
    result = judge("openai", repeated)
    assert result.status == "fail"
    assert result.message.startswith('sdk-assembles-differently: tool calls [["call_1call_1","ff",')


# --- an SDK the oracle cannot drive -------------------------------------------------------------------------


def test_pyproject_asks_for_the_sdk_versions_the_oracles_need() -> None:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    bounds = dict(re.fullmatch(r"([a-z-]+)>=([0-9.]+)", spec).groups() for spec in dev if ">=" in spec)  # type: ignore[union-attr]
    for known in python_sdk.SDKS.values():
        assert python_sdk.release(bounds[known.name]) == python_sdk.release(known.oldest), known.name


def test_an_sdk_older_than_the_oracle_supports_is_a_skip_naming_sdk_and_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    needs("anthropic")
    monkeypatch.setattr(python_sdk, "version", lambda dialect: "0.1.0")
    result = judge("anthropic")
    oldest = python_sdk.SDKS["anthropic"].oldest
    assert (result.status, result.message) == (
        "skip",
        f"anthropic 0.1.0: stream helper API differs; the oracle needs anthropic>={oldest}",
    )


def test_a_type_error_building_the_client_inside_the_lock_is_a_skip_and_the_next_oracle_still_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """anthropic 0.125 rejected an httpx2 client with a TypeError while the lock was held; the lock was
    never released and the next oracle waited forever."""
    needs("anthropic")
    import anthropic

    def rejects(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("Invalid `http_client` argument; Expected an instance of `httpx.Client`")

    monkeypatch.delitem(python_sdk._clients, "anthropic", raising=False)
    with monkeypatch.context() as patched:
        patched.setattr(anthropic, "Anthropic", rejects)
        first = judge("anthropic")
    assert first.status == "skip"
    assert first.message.startswith(
        f"anthropic {python_sdk.version('anthropic')}: stream helper API differs "
    )
    assert "(building its client: TypeError: Invalid `http_client` argument;" in first.message
    assert (judge("anthropic").status, judge("anthropic").message) == ("pass", "")


def fake_client(stream: Callable[..., Any]) -> Any:
    """An object shaped like ``openai.OpenAI`` whose ``chat.completions.stream`` is ``stream``."""
    return types.SimpleNamespace(chat=types.SimpleNamespace(completions=types.SimpleNamespace(stream=stream)))


def test_an_attribute_the_sdk_version_lacks_is_a_skip_not_a_provider_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    needs("openai")
    lacking = types.SimpleNamespace(chat=types.SimpleNamespace(completions=types.SimpleNamespace()))
    monkeypatch.setitem(python_sdk._clients, "openai", lacking)
    result = judge("openai")
    assert result.status == "skip"
    assert result.message.startswith(
        f"openai {python_sdk.version('openai')}: stream helper API differs (AttributeError: "
    )
    assert "'beta'" in result.message


def test_a_type_error_raised_inside_the_sdk_is_the_sdk_rejecting_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a TypeError raised by the oracle's own calls means an incompatible SDK; one raised in the
    SDK's code (here a stand-in defined outside harness/oracles/python_sdk.py) is a verdict on the stream."""
    needs("openai")

    def stream(**request: Any) -> Any:
        raise TypeError("can only concatenate str (not 'NoneType') to str")

    monkeypatch.setitem(python_sdk._clients, "openai", fake_client(stream))
    result = judge("openai")
    assert (result.status, result.message) == (
        "fail",
        "sdk-raises: openai TypeError: can only concatenate str (not 'NoneType') to str",
    )


def test_a_client_stuck_in_another_oracle_is_given_up_after_the_lock_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    needs("gemini")
    monkeypatch.setattr(python_sdk, "LOCK_TIMEOUT", 0.2)
    lock = python_sdk._locks["gemini"]
    assert lock.acquire(timeout=HANG)  # an oracle stuck inside the SDK holds it
    try:
        method, good = GOOD["gemini"]
        busy = CHECKS["sdk.gemini"].run(oracle_facts(method, good, "gemini"))
    finally:
        lock.release()
    assert busy.status == "skip"
    assert busy.message == (
        f"google-genai {python_sdk.version('gemini')}: its client stayed busy for 0.2 s (an earlier oracle is stuck "
        "in the SDK); this oracle is given up for the rest of the run"
    )
    assert judge("gemini").message == busy.message  # given up: no second wait


# --- in a run ---------------------------------------------------------------------------------------------

STREAMS = """\
cases:
  - id: oracle.stream.text.{n:03d}
    title: a streamed answer
    clause: {{spec: anthropic, ref: "Streaming"}}
    method: anthropic_messages_stream
    providers: [anthropic]
    request: {{model: claude-x, max_tokens: 16, stream: true, messages: [{{role: user, content: hi}}]}}
    upstream: {{reply: {{answer: {{text: "Hello {n}", usage: {{prompt: 3, completion: 2}}}}}}}}
    expect: {{text: "Hello {n}"}}
"""


def test_a_run_whose_first_oracle_hits_a_type_error_goes_on_and_judges_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    needs("anthropic")
    import anthropic

    real = anthropic.Anthropic
    calls: list[int] = []

    def first_call_rejects(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise TypeError("Invalid `http_client` argument")
        return real(*args, **kwargs)

    monkeypatch.setattr(anthropic, "Anthropic", first_call_rejects)
    monkeypatch.setattr(python_sdk, "warm", lambda: None)  # the first client is built by the first oracle
    monkeypatch.delitem(python_sdk._clients, "anthropic", raising=False)
    text = "cases:\n" + "".join(STREAMS.format(n=n).split("cases:\n", 1)[1] for n in (1, 2))
    cases = list(parse(*load_yaml(text, "oracles.yaml"), "oracles.yaml").cases)
    done: list[Any] = []
    worker = threading.Thread(
        target=lambda: done.append(run(cases, ["anthropic"], concurrency=1)), daemon=True
    )
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the run hung"
    (result,) = done
    oracles = [next(c for c in r.checks if c.id == "sdk.anthropic") for r in result.results]
    assert [r.verdict for r in result.results] == [Verdict.PASS, Verdict.PASS]
    assert sorted(c.status for c in oracles) == ["pass", "skip"]
    (skipped,) = [c for c in oracles if c.status == "skip"]
    assert "building its client: TypeError: Invalid `http_client` argument" in skipped.message
    summary = terminal.summary(result).splitlines()  # the reason is shown, not only kept in the JSON report
    at = next(i for i, line in enumerate(summary) if line.startswith("CHECKS SKIPPED WITH A REASON"))
    assert f"  - sdk.anthropic in 1 result: {skipped.message}" in summary[at + 1 :]


# --- in the oracle process (harness/oracles/sdk_process.py) --------------------------------------------------

#: A child that says it is ready and then never answers (frames as sdk_process writes them).
READY_THEN_SILENT = (
    "import pickle, sys, time\n"
    "data = pickle.dumps('ready')\n"
    "sys.stdout.buffer.write(len(data).to_bytes(4, 'big') + data)\n"
    "sys.stdout.buffer.flush()\n"
    "time.sleep(60)\n"
)


def client_body(dialect: str, items: list[Any] | None = None, method: str | None = None) -> bytes:
    """The bytes the dialect's oracle feeds its SDK for ``items`` (default: the good stream)."""
    typed, good = GOOD[dialect]
    facts = oracle_facts(method or typed, good if items is None else items, dialect)
    target = oracle.target(facts, dialect)
    assert target is not None
    return oracle.client_bytes(target)


@pytest.fixture(scope="module")
def oracle_process() -> Any:
    process = sdk_process.OracleProcess()
    yield process
    process.stop()


def test_the_oracle_process_answers_exactly_as_this_process_does(oracle_process: Any) -> None:
    for dialect in GOOD:
        needs(dialect)
    streams = [
        ("openai", client_body("openai")),
        ("anthropic", client_body("anthropic")),
        ("gemini", client_body("gemini")),
        (
            "openai",
            client_body("openai", [*GOOD_OPENAI[:2], chunk(tool(1, "{}", "call_1", "f")), *GOOD_OPENAI[5:]]),
        ),
        ("anthropic", client_body("anthropic", _renumber(GOOD_ANTHROPIC, {0: 0, 1: 2}))),
        (
            "gemini",
            b'data: {"candidates": [{"content": {"parts": [{"text": "hi"}]}}]}\n\ndata: {not json\n\n',
        ),
    ]
    answers = [oracle_process.ask(dialect, body, HANG) for dialect, body in streams]
    assert answers == [python_sdk.answer(dialect, body) for dialect, body in streams]
    assert [kind for kind, _ in answers] == ["assembled"] * 3 + ["raised"] * 3
    assert answers[0][1]["text"] == "Hi"  # what the good OpenAI stream says


def test_the_oracle_process_imports_none_of_the_checks_scenarios_or_mocks() -> None:
    """The child pays for the SDKs only: what it runs before them (``main`` up to ``warm``) loads no
    module of ``harness.checks`` (facts, scenarios, schemas) and nothing of ``mocks``."""
    probe = (
        "import sys\n"
        "from harness.oracles import python_sdk, sdk_process\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('harness.checks', 'harness.scenario', "
        "'mocks')))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=HANG, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
    assert "harness.oracles.sdk_process import main" in " ".join(sdk_process.COMMAND)


def test_the_gemini_client_is_built_without_an_async_transport_it_never_uses() -> None:
    """google-genai builds an async client of its own unless it is handed one: on a real transport, that is
    httpcore's import and an SSL context (~0.35 s) in the oracle process for nothing; the oracle hands it
    one on a mock transport, so building every client imports no httpcore."""
    needs("gemini")
    from google.genai import types

    if "httpx_async_client" not in types.HttpOptions.model_fields:
        pytest.skip(f"google-genai {python_sdk.version('gemini')} takes no async client")
    probe = (
        "import sys\n"
        "from harness.oracles import python_sdk\n"
        "python_sdk.warm()\n"
        "print(sorted(python_sdk._clients), [m for m in ('httpcore', 'httpcore2') if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=HANG * 3, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    clients, transports = done.stdout.strip().split("] ")
    assert "'gemini'" in clients
    assert transports == "[]"


def test_the_oracle_process_exits_without_the_interpreter_teardown_once_its_input_closes() -> None:
    """Tearing down an interpreter that holds the SDKs took about a second the run waited for: the child
    ends with ``os._exit(0)`` instead, so exit handlers (here one the test registers) never run."""
    child = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('interpreter teardown\\n'))\n"
        "from harness.oracles import python_sdk, sdk_process\n"
        "python_sdk.warm = lambda: None\n"
        "sdk_process.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], input=b"", capture_output=True, timeout=HANG, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert pickle.loads(done.stdout[4:]) == "ready"  # it said it was ready, then its input closed
    assert b"interpreter teardown" not in done.stderr


def test_an_oracle_process_that_does_not_answer_in_time_is_killed_and_the_oracle_given_up() -> None:
    process = sdk_process.OracleProcess([sys.executable, "-c", READY_THEN_SILENT])
    with pytest.raises(sdk_process.Busy, match=re.escape("did not answer within 0.5 s")):
        process.ask("openai", b"data: [DONE]\n\n", 0.5)
    assert process.popen.poll() is not None  # killed
    assert process.ask("openai", b"data: [DONE]\n\n", 0.5) is None  # later: judged in the run's process


def test_an_oracle_process_that_never_gets_ready_or_exits_leaves_the_judging_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sdk_process, "START_TIMEOUT", 0.5)
    silent = sdk_process.OracleProcess([sys.executable, "-c", "import time; time.sleep(60)"])
    assert silent.ask("openai", b"data: [DONE]\n\n", HANG) is None
    assert silent.popen.poll() is not None
    exits = sdk_process.OracleProcess([sys.executable, "-c", "pass"])
    assert exits.ask("openai", b"data: [DONE]\n\n", HANG) is None


def test_a_busy_oracle_process_gives_the_dialect_up_like_a_stuck_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    needs("openai")
    monkeypatch.setattr(python_sdk, "LOCK_TIMEOUT", 0.5)
    monkeypatch.setattr(
        sdk_process, "_process", sdk_process.OracleProcess([sys.executable, "-c", READY_THEN_SILENT])
    )
    result = judge("openai")
    assert (result.status, result.message) == (
        "skip",
        f"openai {python_sdk.version('openai')}: its client stayed busy for 0.5 s (an earlier oracle is stuck in the "
        "SDK); this oracle is given up for the rest of the run",
    )
    assert judge("openai").message == result.message  # given up: not asked again


def test_a_run_with_many_oracle_streams_judges_them_in_the_oracle_process_with_the_same_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for dialect in GOOD:
        needs(dialect)
    cases = load_paths(
        [ROOT / "scenarios" / f"{name}.yaml" for name in ("openai_stream", "anthropic_stream", "gemini")]
    )
    here = run(cases, concurrency=4)
    served = _count_oracle_answers(monkeypatch)
    monkeypatch.setattr(python_sdk, "ready_here", lambda: False)  # as in a fresh `wirecheck run`
    monkeypatch.setattr(runner, "ORACLE_PROCESS_STREAMS", 1)
    there = run(cases, concurrency=4)
    assert set(served) == set(GOOD)
    assert not sdk_process.serving()  # the run stopped it

    def verdicts(result: Any) -> list[Any]:
        return [
            (r.name, r.verdict, r.message, [(c.id, c.status, c.message) for c in r.checks])
            for r in result.results
        ]

    assert verdicts(there) == verdicts(here)
    assert any(c.id.startswith("sdk.") and c.status == "pass" for r in there.results for c in r.checks)


def test_stopping_an_oracle_process_that_is_not_ready_kills_it_rather_than_waiting_for_it() -> None:
    """A child still importing the SDKs would notice its input closed only once ready: it is killed."""
    process = sdk_process.OracleProcess([sys.executable, "-c", "import sys; sys.stdin.buffer.read()"])
    process.stop()
    assert process.popen.returncode == -signal.SIGKILL  # closing its input alone would have ended it with 0


def test_a_process_started_ahead_of_loading_serves_even_a_small_run_and_ends_with_the_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``wirecheck run`` starts the oracle process before it loads the cases (``runner.oracles_ahead``):
    a run inside the block uses it whatever its size, and leaving the block stops it."""
    needs("anthropic")
    served = _count_oracle_answers(monkeypatch)
    monkeypatch.setattr(python_sdk, "ready_here", lambda: False)
    cases = list(parse(*load_yaml(STREAMS.format(n=1), "ahead.yaml"), "ahead.yaml").cases)
    with runner.oracles_ahead():
        assert sdk_process.serving()
        result = run(cases, ["anthropic"])
        assert sdk_process.serving()  # the run leaves it to the block
    assert not sdk_process.serving()
    assert served == ["anthropic"]
    assert [r.verdict for r in result.results] == [Verdict.PASS]
    with runner.oracles_ahead(False):
        assert not sdk_process.serving()


def _count_oracle_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The dialects the oracle process answered for, one entry per answer, from now on."""
    served: list[str] = []
    asked = sdk_process.ask

    def spy(dialect: str, body: bytes, timeout: float) -> Any:
        answer = asked(dialect, body, timeout)
        if answer is not None:
            served.append(dialect)
        return answer

    monkeypatch.setattr(sdk_process, "ask", spy)
    return served
