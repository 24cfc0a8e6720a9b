"""Ctrl-C, SIGTERM and SIGHUP stop ``wirecheck run`` (in-process providers) with one line on stderr, exit status
128 + the signal, no traceback, and the reports of the cases that finished written where the run writes them.
wirecheck runs as a real program (``python -m harness.cli``)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]

CASES = """\
cases:
  - id: demo.quick.001
    title: answered at once
    clause: {spec: contract, ref: r}
    method: chat_completion
    providers: [openai]
    request: {model: gpt-4o, messages: [{role: user, content: hi}]}
    upstream: {reply: {answer: {text: ok, usage: {prompt: 3, completion: 1}}}}
    expect: {text: ok}
  - id: demo.stalls.001
    title: the upstream stalls for a minute
    clause: {spec: contract, ref: r}
    method: chat_completion
    providers: [openai]
    request: {model: gpt-4o, messages: [{role: user, content: hi}]}
    upstream: {fault: {stall: {ms: 60000}}}
    expect: {text: ok}
"""


def _start(folder: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    scenarios = folder / "cases.yaml"
    scenarios.write_text(CASES)
    report, stderr = folder / "r.json", folder / "stderr"
    with open(stderr, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "run", "--provider", "openai", "--scenarios", str(scenarios),
             "--no-sdk", "--concurrency", "2", "--deadline", "120", "--no-baseline", "--json", str(report)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    end = time.monotonic() + 60
    while "." not in stderr.read_text():  # the first case's progress mark: it finished
        if time.monotonic() > end or process.poll() is not None:
            process.kill()
            process.wait(10)
            raise AssertionError(stderr.read_text())
        time.sleep(0.05)
    return process, report, stderr


@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [(signal.SIGINT, 130, "wirecheck: interrupted"), (signal.SIGTERM, 143, "wirecheck: terminated")],
)
def test_a_stopped_run_says_so_in_one_line_and_writes_the_finished_cases(
    tmp_path: Path, sig: int, code: int, line: str
) -> None:
    process, report, stderr = _start(tmp_path)
    process.send_signal(sig)
    assert process.wait(60) == code
    err = stderr.read_text()
    assert err.splitlines()[-1] == line and err.count(line) == 1 and "Traceback" not in err, err
    assert err.splitlines()[-2] == ".", err  # the progress line was ended first
    results = json.loads(report.read_text())["results"]
    assert [(r["case"], r["verdict"]) for r in results] == [("demo.quick.001", "pass")]


def test_main_turns_a_keyboard_interrupt_into_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness.cli

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(harness.cli, "_list", interrupted)
    assert main(["list"]) == 130
    assert capsys.readouterr().err == "wirecheck: interrupted\n"


def test_main_leaves_other_errors_alone_and_puts_the_signal_handlers_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import harness.cli

    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    during = []

    def broken(args: object) -> int:
        during.append(signal.getsignal(signal.SIGTERM))
        raise ExceptionGroup("x", [ValueError("not an interrupt")])

    monkeypatch.setattr(harness.cli, "_list", broken)
    with pytest.raises(ExceptionGroup):
        main(["list"])
    assert callable(during[0])  # SIGTERM stops the command as Ctrl-C does while it runs
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
