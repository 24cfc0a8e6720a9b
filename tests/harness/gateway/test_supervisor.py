"""The supervisor alone (harness/gateway/supervisor.py), driven as ProcessLauncher drives it: its stdin the read
end of a pipe the test holds, a status pipe on ``--status-fd``. Orphans of the gateway stay its to end (child
subreaper), a gateway that ignores SIGTERM is killed after the grace period, and the gateway's own exit is
reported at once and relayed as the supervisor's exit status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.gateway.process import SUPERVISOR
from harness.gateway.supervisor import alive
from tests.harness.gateway.processes import parent_of, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

#: Double-forks a sleeper that calls setsid (its parent exits at once, so it is orphaned), writes its pid to
#: argv[1], then sleeps; SIGTERM is ignored by both when argv[2] == "stubborn".
DOUBLE_FORK = """
import os, signal, sys, time
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    if os.fork() == 0:
        os.setsid()
        with open(sys.argv[1] + ".partial", "w") as out:
            out.write(str(os.getpid()))
        os.replace(sys.argv[1] + ".partial", sys.argv[1])
        time.sleep(3600)
    os._exit(0)
time.sleep(3600)
"""


class Supervised:
    def __init__(self, command: list[str], grace: float = 5.0, remove: Path | None = None) -> None:
        control, self.control = os.pipe()
        self.status, status_write = os.pipe()
        extra = ["--remove", str(remove)] if remove else []
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(SUPERVISOR), "--grace", str(grace), "--status-fd", str(status_write),
             *extra, "--", *command],
            stdin=control, pass_fds=(status_write,), start_new_session=True,
        )  # fmt: skip
        os.close(control)
        os.close(status_write)

    def reported(self) -> bytes:
        """What the status pipe carried before it closed."""
        data = b""
        while chunk := os.read(self.status, 64):
            data += chunk
        return data

    def stop(self) -> int:
        os.close(self.control)
        return self.process.wait(30)


def test_an_orphan_of_the_gateway_is_reparented_to_the_supervisor_and_ended_with_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "orphan"
    folder = tmp_path / "tmp"
    folder.mkdir()
    run = Supervised([sys.executable, "-c", DOUBLE_FORK, str(pid_file), "plain"], remove=folder)
    wait_for("the orphan", pid_file.exists, 30)
    orphan = int(pid_file.read_text())
    wait_for("its reparenting", lambda: parent_of(orphan) == run.process.pid, 10)  # not to init: a subreaper
    assert run.stop() == -signal.SIGTERM  # the gateway died of the SIGTERM, and so does its supervisor
    assert not alive(orphan) and not folder.exists()
    assert run.reported() == b""  # stopped, not ended on its own: nothing to report


def test_a_gateway_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    pid_file = tmp_path / "orphan"
    run = Supervised([sys.executable, "-c", DOUBLE_FORK, str(pid_file), "stubborn"], grace=0.5)
    wait_for("the orphan", pid_file.exists, 30)
    orphan = int(pid_file.read_text())
    started = time.monotonic()
    assert run.stop() == -signal.SIGKILL
    assert 0.4 < time.monotonic() - started < 10
    assert not alive(orphan)


@pytest.mark.parametrize(
    ("code", "expected"), [("raise SystemExit(17)", b"17\n"), ("import os; os.abort()", b"-6\n")]
)
def test_the_gateways_own_end_is_reported_at_once_and_relayed(code: str, expected: bytes) -> None:
    run = Supervised([sys.executable, "-c", code])
    assert run.reported() == expected  # before wirecheck asked it to stop
    assert run.process.poll() is None  # it waits for the stop (the log stays readable until then)
    status = run.stop()
    assert status == (17 if expected == b"17\n" else -signal.SIGABRT)


def test_a_command_that_cannot_run_is_127() -> None:
    run = Supervised([str(Path(__file__).parent / "no-such-gateway")])
    assert run.reported() == b"127\n"
    assert run.stop() == 127
