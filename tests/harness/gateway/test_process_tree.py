"""The gateway's process tree and temporary folder do not outlive ``wirecheck run --gateway``, whichever way
the run ends: SIGTERM, SIGKILL (the supervisor sees its control pipe close) or Ctrl-C, which also prints one
line and exits 130.

The gateway is forking.py: a first process, a worker, and a child of the worker that called ``os.setsid()``
(out of the gateway's process group, so signalling the group alone would leave it running). wirecheck runs
as a real program (``python -m harness.cli``) with its own TMPDIR, so its temporary folders can be counted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.gateway.supervisor import alive, descendants
from tests.harness.gateway.processes import parent_of, wait_for

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SCENARIOS = ROOT / "scenarios" / "openai_chat.yaml"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


TWO_CASES = """\
cases:
  - id: demo.finishes.001
    title: the gateway answers this one (500)
    clause: {spec: contract, ref: r}
    method: chat_completion
    providers: [openai]
    request: {model: gpt-4o, messages: [{role: user, content: wirecheck-answer}]}
    upstream: {reply: {answer: {text: ok}}}
    expect: {text: ok}
  - id: demo.hangs.001
    title: the gateway holds this one
    clause: {spec: contract, ref: r}
    method: chat_completion
    providers: [openai]
    request: {model: gpt-4o, messages: [{role: user, content: hi}]}
    upstream: {reply: {answer: {text: ok}}}
    expect: {text: ok}
"""


class Run:
    """``wirecheck run --gateway`` of forking.py in the background, until its gateway is serving: the case
    openai.chat.text.001 (held by the gateway), or with ``two_cases`` one that finishes, then one held."""

    def __init__(self, folder: Path, two_cases: bool = False) -> None:
        self.tmp = folder / "tmp"
        self.tmp.mkdir()
        pids = self.pids = folder / "pids"
        adapter = folder / "forking.yaml"
        adapter.write_text(
            "name: forking\n"
            f'command: ["{{{{python}}}}", "{HERE / "forking.py"}", --port, "{{{{port}}}}", --pids, "{pids}"]\n'
            "readiness: {path: /health, timeout_s: 30}\n"
            "stop: {grace_s: 1}\n"
            "front_doors: {openai: {base_path: /v1}}\n"
            "door_probe: false\n"
            'models: {openai: "forking/{{model}}"}\n'
        )
        self.report = folder / "r.json"
        if two_cases:
            (folder / "two.yaml").write_text(TWO_CASES)
            selection = ["--scenarios", str(folder / "two.yaml"), "--profile", "contract"]
        else:
            selection = ["--scenarios", str(SCENARIOS), "-k", "openai.chat.text.001"]
        self.stderr = folder / "stderr"
        with open(self.stderr, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "harness.cli", "run", "--gateway", str(adapter), *selection, "--no-sdk",
                 "--no-transparency", "--deadline", "120", "--json", str(self.report)],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                env={**os.environ, "TMPDIR": str(self.tmp)},
            )  # fmt: skip
        try:
            wait_for("the gateway's three processes", lambda: pids.exists(), 60)
            wait_for("the ready line", lambda: "ready at" in self.stderr.read_text(), 30)
        except AssertionError:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(self.stderr.read_text()) from None
        first, worker, escaped = (int(line) for line in pids.read_text().split())
        # the supervisor (the first process's parent) is part of what must go
        self.gateway = [parent_of(first), first, worker, escaped]
        assert os.getsid(escaped) != os.getpgid(first), "the escaped child left the group"
        assert self.temporary(), "the run's temporary folder exists while it runs"

    def temporary(self) -> list[str]:
        return [p.name for p in self.tmp.iterdir() if p.name.startswith("wirecheck-")]

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(60)
        wait_for("no process of the gateway left", lambda: not any(alive(p) for p in self.gateway), 30)
        wait_for("no temporary folder left", lambda: not self.temporary(), 30)
        return code


def test_sigterm_ends_the_whole_gateway_tree_and_removes_the_temporary_folder(tmp_path: Path) -> None:
    run = Run(tmp_path)
    assert all(alive(p) for p in run.gateway)
    code = run.stop(signal.SIGTERM)
    assert code == 143
    assert run.stderr.read_text().endswith("wirecheck: terminated\n")


def test_sigkill_of_wirecheck_ends_the_whole_gateway_tree_too(tmp_path: Path) -> None:
    run = Run(tmp_path)
    code = run.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path: Path) -> None:
    run = Run(tmp_path)
    before = run.stderr.read_text()
    code = run.stop(signal.SIGINT)
    after = run.stderr.read_text()[len(before) :]
    assert code == 130
    assert after == "wirecheck: interrupted\n", after
    assert "Traceback" not in before + after


def test_ctrl_c_still_writes_the_reports_of_the_cases_that_finished(tmp_path: Path) -> None:
    run = Run(tmp_path, two_cases=True)
    hanging = Path(str(run.pids) + ".hanging")
    wait_for("the second case to reach the gateway", hanging.exists, 60)
    code = run.stop(signal.SIGINT)
    err = run.stderr.read_text()
    assert code == 130 and err.endswith("wirecheck: interrupted\n") and "Traceback" not in err
    results = json.loads(run.report.read_text())["results"]
    assert [r["case"] for r in results] == ["demo.finishes.001"], results
    assert all(r["verdict"] in ("fail", "error") for r in results)


def test_ctrl_c_before_any_case_finished_writes_no_report(tmp_path: Path) -> None:
    run = Run(tmp_path)
    assert run.stop(signal.SIGINT) == 130
    assert not run.report.exists()


def test_descendants_follows_the_ppid_links_through_a_process_that_left_its_group() -> None:
    code = "import os, time\nif os.fork() == 0:\n    os.setsid(); time.sleep(30)\ntime.sleep(30)\n"
    parent = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    tree: list[int] = []
    try:
        wait_for("the forked child", lambda: len(descendants(parent.pid)) == 1, 10)
        tree = descendants(parent.pid)
        (child,) = tree
        assert parent_of(child) == parent.pid and os.getsid(child) == child
        assert set(descendants(os.getpid())) >= {parent.pid, child}
    finally:
        for pid in tree:  # first: once the parent is gone, the child is no longer its descendant
            os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait(10)
    wait_for("the child's end", lambda: not alive(child), 10)


def test_the_subreaper_call_works_here() -> None:
    """prctl through ctypes: where it fails, orphans of the gateway would escape to init."""
    probe = (
        "from harness.gateway.supervisor import set_child_subreaper as s; raise SystemExit(0 if s() else 1)"
    )
    assert subprocess.run([sys.executable, "-c", probe], cwd=ROOT, timeout=30).returncode == 0
