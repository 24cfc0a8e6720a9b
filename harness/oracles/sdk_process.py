"""The Python SDK oracles (``harness/oracles/python_sdk.py``) in a process of their own.

Importing openai, anthropic and google-genai and building their clients costs about 2.5 s of CPU, and
judging a stream with them some milliseconds each; in the runner's process all of it holds the GIL that
the calls and the other checks need. So a run with many oracle streams (``harness.runner``; ``wirecheck
run`` even before it loads the cases, ``harness.runner.oracles_ahead``) calls ``start()`` first: one
child process imports the SDKs on another core meanwhile, then judges streams for the run, until the
run calls ``stop()``. While it serves, ``ask(dialect, body, timeout)`` sends it the bytes of a stream
and returns what ``harness.oracles.python_sdk.answer`` computed there: the same function on the same bytes with
the same SDKs, so every verdict is the one judging in the run's own process gives.

- ``ask`` returns None when no process serves: none was started, it could not start, it did not say it
  was ready within ``START_TIMEOUT`` seconds, it exited, or its answer could not be made (then the caller
  judges in its own process, as without this module);
- an answer that does not come within ``timeout`` seconds (an SDK stuck in a call): the child is killed
  and ``ask`` raises ``Busy``, so the caller gives that oracle up as it does for a client stuck in its
  own process; later asks return None.

``start()`` and ``stop()`` count their callers: concurrent runs in one process share one child, ended
when the last of them stops. The child ends when its input closes (stopped, or its parent died); it
ignores Ctrl-C, which reaches the whole process group, and leaves the interrupt to its parent.

Frames on the pipes: a 4-byte big-endian length, then a pickle (written only by the parent and its own
child). The child is ``COMMAND``: ``main()`` of this module under the parent's interpreter.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "COMMAND",
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "Busy",
    "OracleProcess",
    "ask",
    "serving",
    "start",
    "stop",
]

#: Seconds the first ``ask`` waits for the child to import the SDKs and say it is ready.
START_TIMEOUT = 30.0
#: Seconds ``stop`` waits for the child to exit after its input closes, before killing it.
STOP_TIMEOUT = 3.0
_READY = "ready"
_ROOT = Path(__file__).resolve().parents[2]


class Busy(Exception):
    """The oracle process did not answer within the timeout; it was killed."""


def _send(stream: IO[bytes], message: Any) -> None:
    _write(stream, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _write(stream: IO[bytes], data: bytes) -> None:
    stream.write(len(data).to_bytes(4, "big") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream (or a torn frame)."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


#: The child: this module run by the parent's interpreter.
COMMAND = (sys.executable, "-c", "from harness.oracles.sdk_process import main; main()")


class OracleProcess:
    """One started child (``command``, default ``COMMAND``) and the thread that reads its answers (see
    the module docstring). Raises ``OSError`` when it cannot be started."""

    def __init__(self, command: Sequence[str] = COMMAND) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
        self.popen = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.ready = threading.Event()
        self.gone = False  # no more answers will come
        self._answers: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()  # one request at a time: the child answers in order
        threading.Thread(target=self._read, daemon=True, name="sdk-oracle-reader").start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        try:
            while (message := _receive(self.popen.stdout)) is not None:
                if message == _READY:
                    self.ready.set()
                else:
                    self._answers.put(message)
        except (OSError, ValueError, pickle.UnpicklingError, EOFError):
            pass
        self.gone = True
        self.ready.set()
        self._answers.put(None)

    def ask(self, dialect: str, body: bytes, timeout: float) -> tuple[str, Any] | None:
        """The child's ``python_sdk.answer(dialect, body)``, or None when it cannot give one; raises ``Busy``."""
        with self._lock:
            if self.gone:
                return None
            if not self.ready.wait(START_TIMEOUT) or self.gone:
                self.kill()
                return None
            try:
                assert self.popen.stdin is not None
                _send(self.popen.stdin, (dialect, body))
            except (OSError, ValueError):
                self.kill()
                return None
            try:
                answer = self._answers.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                raise Busy(f"the SDK oracle process did not answer within {timeout:g} s") from None
        if not isinstance(answer, tuple) or answer[0] == "failed":
            return None
        return answer

    def kill(self) -> None:
        self.gone = True
        with contextlib.suppress(OSError):
            self.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Close the child's input (it exits), wait ``STOP_TIMEOUT`` seconds, then kill it; a child still
        importing the SDKs (not ready) is killed at once: it holds nothing."""
        if not self.ready.is_set():
            self.kill()
            return
        with contextlib.suppress(OSError, ValueError):
            assert self.popen.stdin is not None
            self.popen.stdin.close()
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
        self.gone = True


_process: OracleProcess | None = None
_users = 0
_guard = threading.Lock()


def start() -> None:
    """Start the oracle process (or count one more user of the running one); returns at once."""
    global _process, _users
    with _guard:
        _users += 1
        if _process is None or _process.gone:
            try:
                _process = OracleProcess()
            except OSError:
                _process = None


def stop() -> None:
    """One user fewer; the last one stops the process (within ``STOP_TIMEOUT`` seconds)."""
    global _process, _users
    with _guard:
        _users = max(0, _users - 1)
        if _users or _process is None:
            return
        process, _process = _process, None
    process.stop()


@contextlib.contextmanager
def ahead(wanted: bool = True) -> Iterator[None]:
    """``start()`` now and ``stop()`` when the block ends, for a caller about to do other work first (import,
    load cases) and then run: the child imports the SDKs meanwhile, and a run inside the block uses it.
    ``wanted=False`` (nothing in the block judges with the SDK oracles) starts nothing."""
    if not wanted:
        yield
        return
    start()
    try:
        yield
    finally:
        stop()


def serving() -> bool:
    """A process is started and has not failed (it may still be importing the SDKs)."""
    process = _process
    return process is not None and not process.gone


def ask(dialect: str, body: bytes, timeout: float) -> tuple[str, Any] | None:
    """The answer of the serving process (see ``OracleProcess.ask``), or None when none serves."""
    process = _process
    return None if process is None else process.ask(dialect, body, timeout)


@atexit.register
def _end() -> None:
    process = _process
    if process is not None:
        process.stop()


def main() -> None:
    """The child: import the SDKs, say it is ready, then answer each request until the input closes, and
    exit at once with status 0 (``os._exit``): it has nothing to flush or close, and the interpreter's
    usual teardown of the SDKs' modules took about a second that ``stop`` (so the run) waited for."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    given, sent = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever an SDK prints must not land in the frames
    from harness.oracles import python_sdk

    python_sdk.warm()
    _send(sent, _READY)
    while (request := _receive(given)) is not None:
        dialect, body = request
        try:
            data = pickle.dumps(python_sdk.answer(dialect, body), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # the parent judges this stream itself
            data = pickle.dumps(("failed", f"{type(exc).__name__}: {exc}"))
        _write(sent, data)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
