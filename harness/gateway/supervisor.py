"""The gateway's supervisor: a small process between wirecheck and the gateway that ends the gateway's whole
process tree however wirecheck ends (normal exit, Ctrl-C, SIGTERM, even SIGKILL).

Run as ``python -I supervisor.py [--grace S] [--remove DIR] [--status-fd FD] -- COMMAND ...`` (stdlib only, so it starts
fast and never imports the gateway's environment). ``harness.gateway.process.ProcessLauncher`` starts it
with its stdin the read end of a pipe whose write end only wirecheck holds.

- It makes itself a child subreaper (Linux ``prctl(PR_SET_CHILD_SUBREAPER)``): every process the gateway
  starts stays in its subtree, even one that double-forks or calls ``setsid`` to leave the group, because
  an orphaned descendant is reparented to the supervisor instead of to init.
- It starts COMMAND in a new session (stdin from /dev/null, stdout and stderr its own: the log) with
  ``PR_SET_PDEATHSIG`` SIGKILL, so the gateway does not outlive a supervisor that was killed.
- It stops the tree when its stdin reaches end of file (wirecheck closed the pipe to stop the gateway, or
  wirecheck died: the kernel closes the pipe then, whatever killed it), when it receives SIGTERM, SIGINT or
  SIGHUP, or when the gateway's first process exits on its own (its workers are not left running).
  Stopping: SIGTERM to every descendant (found by walking the ``ppid`` links of ``/proc/*/stat``) and to the
  gateway's process group, up to ``--grace`` seconds for them to end, then SIGKILL to whatever is left,
  until no descendant is left; it reaps every child, then removes ``--remove DIR``.
- When the gateway's first process ends on its own, it writes its exit code (``-N``: killed by signal N)
  and a newline to ``--status-fd`` at once and closes it, so wirecheck learns of the death before the
  cleanup; it ends the rest of the tree, then waits for wirecheck to stop it (the log in the temporary
  directory stays readable until then). A command that cannot be started is exit code 127, with the
  reason in the log.
- It exits as the gateway did: the same status, or killed by the same signal.

Without ``/proc`` or ``prctl`` (not Linux) it falls back to the gateway's process group.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["alive", "descendants", "set_child_subreaper", "set_parent_death_signal"]

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
#: How often the tree is looked at again while waiting for it to end.
POLL = 0.05


def _prctl(option: int, value: int) -> bool:
    """``prctl(option, value)``; False where there is no prctl (not Linux) or it failed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def set_child_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux); whether that worked."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux); whether that worked."""
    return _prctl(PR_SET_PDEATHSIG, int(sig))


def _stat(pid: int) -> tuple[int, str] | None:
    """(ppid, state) of ``pid`` from ``/proc/PID/stat``, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
    fields = text[text.rfind(")") + 2 :].split()
    return int(fields[1]), fields[0]


def descendants(root: int) -> list[int]:
    """Every living (not zombie) descendant of ``root``, parents before children; [] without ``/proc``."""
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    children: dict[int, list[int]] = {}
    for pid in pids:
        stat = _stat(pid)
        if stat is not None and stat[1] != "Z":
            children.setdefault(stat[0], []).append(pid)
    found: list[int] = []
    queue = list(children.get(root, []))
    while queue:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` names a process that has not ended (a zombie has ended)."""
    stat = _stat(pid)
    if stat is not None:
        return stat[1] != "Z"
    if os.path.isdir("/proc"):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Supervisor:
    """Runs one gateway command and ends its tree (see the module docstring)."""

    def __init__(self, command: list[str], grace: float, remove: str | None, status_fd: int | None) -> None:
        self.command = command
        self.grace = grace
        self.remove = remove
        self.status_fd = status_fd
        self.child: int | None = None
        self.status: int | None = None  # the gateway's wait status once it ended
        self.stop_requested = False

    def reap(self) -> None:
        """Collect every child that ended (the gateway, and orphans reparented here)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.child and self.status is None:
                self.status = status

    def start(self) -> bool:
        try:
            process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=set_parent_death_signal,
            )
        except OSError as exc:
            print(f"# wirecheck supervisor: cannot run {self.command[0]}: {exc}", flush=True)
            return False
        process.returncode = 0  # reaped here with waitpid, never by Popen
        self.child = process.pid
        return True

    def members(self) -> list[int]:
        return descendants(os.getpid())

    def stop_tree(self) -> None:
        """SIGTERM to the tree, ``grace`` seconds, then SIGKILL until nothing is left; reap."""
        self._send(signal.SIGTERM)
        end = time.monotonic() + self.grace
        while time.monotonic() < end:
            self.reap()
            if not self.members():
                break
            time.sleep(POLL)
        for _ in range(200):  # a tree that forks while it is killed needs a few rounds
            self.reap()
            if not self.members():
                break
            self._send(signal.SIGKILL)
            time.sleep(POLL / 5)
        self.reap()

    def _send(self, sig: int) -> None:
        if self.child is not None and self.status is None:
            _signal_group(self.child, sig)
        for pid in self.members():
            _signal(pid, sig)

    def listen(self) -> None:
        """Wake on a child's end, on a stop signal, and on the control pipe (stdin)."""
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)

        def stop(signum: int, frame: object) -> None:
            self.stop_requested = True

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, stop)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self.selector = selectors.DefaultSelector()
        self.selector.register(wake_read, selectors.EVENT_READ, "wake")
        with contextlib.suppress(ValueError, OSError):
            self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "control")

    def wait(self, until_stopped: bool) -> None:
        """Until a stop is requested (wirecheck's pipe closed, a stop signal) or, unless ``until_stopped``,
        the gateway's first process ended."""
        while not self.stop_requested:
            self.reap()
            if self.status is not None and not until_stopped:
                return
            for key, _ in self.selector.select(timeout=1.0):
                try:
                    data = os.read(key.fd, 512)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if key.data == "control" and not data:  # end of file: wirecheck closed it or is gone
                    self.stop_requested = True
                    self.selector.unregister(key.fd)

    def report(self) -> None:
        """The gateway's exit code to wirecheck, once."""
        if self.status_fd is None:
            return
        fd, self.status_fd = self.status_fd, None
        code = os.waitstatus_to_exitcode(self.status) if self.status is not None else 127
        with contextlib.suppress(OSError):
            os.write(fd, f"{code}\n".encode())
        with contextlib.suppress(OSError):
            os.close(fd)

    def exit_as_gateway(self) -> None:
        status = self.status
        if status is None:
            sys.exit(1)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            signal.set_wakeup_fd(-1)
            with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
                signal.signal(sig, signal.SIG_DFL)
            with contextlib.suppress(OSError):
                os.kill(os.getpid(), sig)
                time.sleep(1)
            sys.exit(128 + sig)
        sys.exit(os.waitstatus_to_exitcode(status))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="supervisor")
    parser.add_argument("--grace", type=float, default=5.0)
    parser.add_argument("--remove", default=None)
    parser.add_argument("--status-fd", type=int, default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    # The thread that started this process may have had signals blocked (a runtime's worker thread): the
    # mask is inherited, and a blocked SIGCHLD would hide the gateway's exit. Start clean, for it too.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
    set_child_subreaper()
    supervisor = Supervisor(command, args.grace, args.remove, args.status_fd)
    supervisor.listen()
    try:
        if not supervisor.start():
            supervisor.status = 127 << 8
        else:
            supervisor.wait(until_stopped=False)
        if supervisor.status is not None:  # ended on its own: say so, end its workers, wait for the stop
            supervisor.report()
            supervisor.stop_tree()
            supervisor.wait(until_stopped=True)
    finally:
        supervisor.stop_tree()
        if supervisor.remove:
            shutil.rmtree(supervisor.remove, ignore_errors=True)
    supervisor.exit_as_gateway()


if __name__ == "__main__":
    main()
