"""Providers written for asyncio run unchanged (``harness.provider_loop``, ``harness.asyncio_bridge``):
they pass whole families on the bridge's loop, picked by the flag or detected; a hung one hits the
deadline (its asyncio task cancelled) and the run goes on; a stream left early is closed where it lives;
the loop closes with bounded waits; and the program exits promptly whatever the provider left running.
Loopback only."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path

import pytest
import trio

from harness.asyncio_bridge import CANCEL_GRACE, AsyncioBridge, BridgeError
from harness.cli import main
from harness.provider_loop import choose_loop
from harness.runner import RunnerError, resolve_providers, run
from harness.scenario import load_paths, load_yaml, parse
from harness.verdicts import RunResult, Verdict
from providers.errors import ProviderError
from providers.streams import Stream
from tests.harness.event_loops import asyncio_providers
from tests.harness.test_cli import _pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
ASYNCIO = "tests.harness.event_loops.asyncio_providers"
PROVIDER = f"{ASYNCIO}:AsyncioProvider"
TRIO_MODULE = "tests.harness.event_loops.trio_providers"
TRIO_PROVIDER = f"{TRIO_MODULE}:TrioProvider"
LOOP_THREAD = "wirecheck-asyncio-providers"
#: The families the asyncio provider was written for, and one case whose retry waits it takes from
#: the injected (asyncio) ``sleep``.
FAMILIES = ("openai.chat.", "openai.stream.", "anthropic.stream.", "errors.http.rate_limit.001")


# --- the bridge: calls, errors and streams cross; close is bounded ------------------------------------------


@pytest.mark.anyio
async def test_a_stream_left_after_one_item_is_closed_where_it_lives() -> None:
    seen: list[tuple[str, str]] = []

    def record(what: str) -> None:
        seen.append((what, threading.current_thread().name))

    async def numbers():
        try:
            for n in range(1000):
                record(f"yield {n}")
                yield n
        finally:
            record("generator closed")

    async def on_close() -> None:
        record("on_close")

    class Numbers:
        async def open(self) -> Stream[int]:
            return Stream(numbers(), on_close=on_close)

    bridge = AsyncioBridge()
    try:
        provider = await bridge.build(Numbers, {})
        async with await provider.open() as items:
            async for n in items:
                assert n == 0
                break
        assert seen == [
            ("yield 0", LOOP_THREAD),
            ("generator closed", LOOP_THREAD),
            ("on_close", LOOP_THREAD),
        ]
    finally:
        assert await trio.to_thread.run_sync(bridge.close)


@pytest.mark.anyio
async def test_what_the_asyncio_side_raises_arrives_as_it_was_except_its_own_cancellation() -> None:
    async def refuses() -> None:
        raise ProviderError.upstream(429, "slow down", retry_after=2)

    async def cancels_itself() -> None:
        asyncio.current_task().cancel()
        await asyncio.sleep(0)

    bridge = AsyncioBridge()
    try:
        with pytest.raises(ProviderError) as refused:
            await bridge.call(refuses)
        assert (refused.value.status, refused.value.retry_after) == (429, 2)
        with pytest.raises(BridgeError, match="cancels_itself ended with CancelledError on the asyncio side"):
            await bridge.call(cancels_itself)  # an asyncio CancelledError must not unwind the trio side
        assert await bridge.call(lambda: 7) == 7
    finally:
        assert await trio.to_thread.run_sync(bridge.close)


@pytest.mark.anyio
async def test_cancelling_the_trio_side_cancels_the_asyncio_task() -> None:
    ended: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            ended.append(threading.current_thread().name)
            raise

    bridge = AsyncioBridge()
    try:
        started = trio.current_time()
        with trio.move_on_after(0.2) as scope:
            await bridge.call(forever)
        assert scope.cancelled_caught and ended == [LOOP_THREAD]  # ended before the trio side went on
        assert trio.current_time() - started < 0.2 + 0.5
    finally:
        assert await trio.to_thread.run_sync(bridge.close)


@pytest.mark.anyio
async def test_close_cancels_what_is_pending_and_joins_the_thread() -> None:
    ended = threading.Event()
    tasks = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            ended.set()

    def leave_a_task() -> None:
        tasks.append(asyncio.get_running_loop().create_task(forever()))

    bridge = AsyncioBridge()
    await bridge.call(leave_a_task)
    thread = bridge.thread
    assert thread is not None and thread.is_alive() and thread.daemon
    assert await trio.to_thread.run_sync(bridge.close)
    assert ended.is_set() and not thread.is_alive()
    with pytest.raises(BridgeError, match="closed"):
        await bridge.call(lambda: None)


@pytest.mark.anyio
async def test_a_blocked_loop_costs_bounded_waits_never_a_hang() -> None:
    """A provider that blocks its loop (time.sleep in a coroutine) cannot be cancelled: the call is given
    up after the grace, and close() gives up after its timeout, leaving a daemon thread."""
    bridge = AsyncioBridge()
    started = trio.current_time()
    with trio.move_on_after(0.2):
        await bridge.call(time.sleep, 2.5)
    assert trio.current_time() - started < 0.2 + CANCEL_GRACE + 0.5
    closing = time.monotonic()
    assert not await trio.to_thread.run_sync(bridge.close, 0.3)
    assert time.monotonic() - closing < 1.0
    thread = bridge.thread
    assert thread is not None and thread.daemon
    await trio.to_thread.run_sync(thread.join, 5)  # (only so the test leaves nothing behind)
    assert not thread.is_alive()


# --- asyncio providers in the runner ------------------------------------------------------------------------


def _cases(*prefixes: str):
    return [c for c in load_paths([SCENARIOS]) if c.id.startswith(prefixes)]


def _inline(text: str):
    return list(parse(*load_yaml(textwrap.dedent(text), "inline.yaml"), "inline.yaml").cases)


def _bad(result: RunResult) -> list[tuple[str, str, str]]:
    return [
        (r.case_id, r.verdict.value, r.summary()) for r in result.results if r.verdict is not Verdict.PASS
    ]


@pytest.fixture(autouse=True)
def _events():
    asyncio_providers.EVENTS.clear()
    yield
    asyncio_providers.EVENTS.clear()


@pytest.mark.parametrize("provider_loop", ["asyncio", "auto"])
def test_an_asyncio_provider_passes_its_families(provider_loop: str) -> None:
    (put,) = resolve_providers([PROVIDER], provider_loop=provider_loop)
    assert put.loop == "asyncio"
    cases = [c for c in _cases(*FAMILIES) if put.applies(c)]
    result = run(cases, [put], sdk=provider_loop == "asyncio")  # (the SDK oracles once: they are slow)
    assert len(result.results) == len(cases) >= 14
    assert _bad(result) == []
    # The retry waits were taken from the injected sleep, on asyncio, and checked.
    (retried,) = [r for r in result.results if r.case_id == "errors.http.rate_limit.001"]
    assert any(c.id == "upstream.waits" and c.status == "pass" for c in retried.checks)
    assert not [t for t in threading.enumerate() if t.name == LOOP_THREAD]  # the run closed its loop


def test_on_trio_the_same_provider_cannot_even_be_built() -> None:
    """It is asyncio-only code: the passes above happened on the asyncio loop, not by accident."""
    result = run(_cases("openai.chat.text.001"), [PROVIDER], provider_loop="trio", sdk=False)
    (only,) = result.results
    assert only.verdict is Verdict.ERROR and "no running event loop" in only.message


def test_a_trio_provider_still_runs_on_trio_with_auto() -> None:
    (put,) = resolve_providers([TRIO_PROVIDER])
    assert put.loop == "trio" and put.loop_reason == f"auto: module {TRIO_MODULE} refers to trio"
    cases = _cases("openai.chat.")
    result = run(cases, [put], sdk=False)
    assert len(result.results) == len(cases) and _bad(result) == []
    forced = run(cases[:1], [TRIO_PROVIDER], provider_loop="asyncio", sdk=False)
    assert forced.results[0].verdict is Verdict.FAIL  # trio-only code: the choice matters


CASE = """\
  - id: {id}
    title: t
    clause: {{spec: contract, ref: r}}
    method: {method}
    request: {{model: gpt-4o, stream: {stream}, messages: [{{role: user, content: hi}}]}}
    upstream: {upstream}
    expect: {{text: "Hello there.", equivalence: false}}
"""
ANSWER = '{reply: {answer: {text: "Hello there.", usage: {prompt: 3, completion: 2}}}}'


@pytest.mark.parametrize(
    ("hanging", "event", "within"),
    [
        ("Hangs", "chat_completion cancelled", 1.0),
        ("HangsStubbornly", "cancellation ignored", CANCEL_GRACE + 1.0),
    ],
)
def test_a_hung_asyncio_provider_hits_the_deadline_and_the_run_goes_on(
    hanging: str, event: str, within: float
) -> None:
    cases = _inline("cases:\n" + CASE.format(id="demo.hang.001", method="chat_completion", stream="false",
                                             upstream=ANSWER))  # fmt: skip
    started = time.monotonic()
    result = run(cases, [f"{ASYNCIO}:{hanging}", PROVIDER], deadline=0.5, sdk=False, concurrency=1)
    hung = result.get("demo.hang.001", f"{ASYNCIO}:{hanging}")
    assert hung.verdict is Verdict.FAIL and "deadline exceeded" in hung.summary()
    assert 0.5 <= hung.duration < 0.5 + within  # about the deadline (plus the grace a stubborn task gets)
    assert (event, LOOP_THREAD) in asyncio_providers.EVENTS  # the asyncio task was cancelled, on its loop
    assert result.get("demo.hang.001", PROVIDER).verdict is Verdict.PASS  # the same loop serves on
    assert time.monotonic() - started < 0.5 + within + 5  # the run itself, its loop's close included


def test_a_stream_cut_by_the_deadline_is_closed_on_the_asyncio_side() -> None:
    stall = "{fault: {stall: {ms: 30000, after_events: 2}}}"
    cases = _inline("cases:\n" + CASE.format(id="demo.stall.001", method="chat_completion_stream",
                                             stream="true", upstream=stall))  # fmt: skip
    (only,) = run(cases, [PROVIDER], deadline=0.5, sdk=False).results
    assert only.verdict is Verdict.FAIL and "deadline exceeded" in only.summary()
    assert only.details["main:chat_completion_stream"]["items"] >= 1  # cut mid-stream, not before it
    assert asyncio_providers.EVENTS == [("stream closed", LOOP_THREAD)]


def _module(monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(textwrap.dedent(source), module.__dict__)
    return module


def test_detection_reads_the_class_attribute_then_its_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _module(monkeypatch, "plain_mod", "class P: pass\n")
    uses_asyncio = _module(monkeypatch, "asyncio_mod", "import asyncio\nclass P: pass\n")
    one_function = _module(
        monkeypatch, "function_mod", "from asyncio import get_running_loop\nclass P: pass\n"
    )
    both = _module(monkeypatch, "both_mod", "import asyncio, trio\nclass P: pass\n")
    declared = _module(monkeypatch, "declared_mod", "import trio\nclass P:\n    event_loop = 'asyncio'\n")
    sub = _module(monkeypatch, "sub_mod", "from asyncio_mod import P as Base\nclass P(Base): pass\n")
    assert choose_loop(plain.P) == ("trio", "auto: no asyncio-bound library in its modules")
    assert choose_loop(uses_asyncio.P) == ("asyncio", "auto: module asyncio_mod refers to asyncio")
    assert choose_loop(one_function.P)[0] == "asyncio"  # asyncio.get_running_loop lives in _asyncio
    assert choose_loop(both.P) == ("trio", "auto: module both_mod refers to trio")
    assert choose_loop(declared.P) == ("asyncio", "class attribute event_loop = 'asyncio'")
    assert choose_loop(sub.P) == ("asyncio", "auto: module asyncio_mod refers to asyncio")  # a base's module
    assert choose_loop(uses_asyncio.P, "trio") == ("trio", "--provider-loop trio")  # the flag wins
    with pytest.raises(ValueError, match="expected 'trio' or 'asyncio'"):
        choose_loop(type("Odd", (), {"event_loop": "uvloop"}))


def test_reference_providers_always_run_on_trio_and_bad_values_are_refused() -> None:
    loops = [p.loop for p in resolve_providers(["openai", "anthropic"], provider_loop="asyncio")]
    assert loops == ["trio", "trio"]
    with pytest.raises(RunnerError, match="provider loop 'gevent'"):
        resolve_providers([PROVIDER], provider_loop="gevent")


# --- the program --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "guarded"), [("AsyncioProvider", False), ("LeavesThingsBehind", True)])
def test_the_program_exits_promptly_whatever_the_provider_left_running(provider: str, guarded: bool) -> None:
    """LeavesThingsBehind starts a non-daemon thread, a task that ignores cancellation and an atexit
    handler, each 10 minutes long: the process still ends with the run's exit code soon after the results."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--provider", f"{ASYNCIO}:{provider}",
         "-k", "openai.chat.text.001", "--no-sdk"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pass: 1 " in done.stdout, done.stdout
    assert f"{ASYNCIO}:{provider} runs on asyncio (auto: module {ASYNCIO} refers to asyncio)" in done.stderr
    assert ("had not exited" in done.stderr) is guarded, done.stderr  # ended by the guard, or by itself
    if guarded:
        assert "non-daemon threads: left-behind" in done.stderr
    assert took < 60  # each thing left behind would hold it for 600 s


def test_the_flag_chooses_the_loop(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--provider", PROVIDER, "--scenarios", str(SCENARIOS / "openai_chat.yaml"), "--no-sdk"]
    assert main([*argv, "--provider-loop", "asyncio"]) == 0
    assert f"{PROVIDER} runs on asyncio (--provider-loop asyncio)" in capsys.readouterr().err
    assert not [t for t in threading.enumerate() if t.name == LOOP_THREAD]  # closed after the results
    assert main([*argv, "--provider-loop", "trio"]) == 1
    assert f"{PROVIDER} runs on trio (--provider-loop trio)" in capsys.readouterr().err


def test_the_pytest_plugin_takes_the_loop_from_its_option_and_ini(tmp_path: Path) -> None:
    scenarios = SCENARIOS / "openai_chat.yaml"
    (tmp_path / "pytest.ini").write_text(
        f"[pytest]\nwirecheck_scenarios = {scenarios}\nwirecheck_providers = {PROVIDER}\n"
    )
    done = _pytest(tmp_path, "--wirecheck-no-sdk", "--wirecheck-provider-loop", "asyncio")
    assert done.returncode == 0 and "5 passed" in done.stdout, done.stdout + done.stderr
    with (tmp_path / "pytest.ini").open("a") as ini:
        ini.write("wirecheck_provider_loop = trio\n")
    done = _pytest(tmp_path, "--wirecheck-no-sdk")
    assert done.returncode == 1 and "5 failed" in done.stdout, done.stdout + done.stderr


# --- the README ---------------------------------------------------------------------------------------------


def test_the_readme_asyncio_example_runs_on_asyncio_and_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Testing your own provider", 1)[1]
    provider, asyncio_provider = re.findall(r"```python\n(.*?)```", section.split("\n### ", 1)[0], re.S)[:2]
    (tmp_path / "my_provider.py").write_text(provider, encoding="utf-8")
    (tmp_path / "my_asyncio_provider.py").write_text(asyncio_provider, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ("my_provider", "my_asyncio_provider")
    for name in names:
        monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        (put,) = resolve_providers(["my_asyncio_provider:MyAsyncioProvider"])
        assert put.loop == "asyncio"
        cases = _cases("openai.chat.")
        result = run(cases, [put], sdk=False)
        assert len(result.results) == len(cases) and _bad(result) == []
        on_trio = run(cases[:1], ["my_asyncio_provider:MyAsyncioProvider"], provider_loop="trio", sdk=False)
        assert on_trio.results[0].verdict is Verdict.FAIL  # asyncio.timeout needs asyncio
    finally:
        for name in names:
            sys.modules.pop(name, None)
