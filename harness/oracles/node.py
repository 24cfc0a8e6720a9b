"""One persistent Node process that answers JSON-line requests (``harness/oracles/js/worker.mjs``).

``NodeWorker(command)`` starts nothing until the first ``ask``; then it starts ``command`` and waits up to
``start_timeout`` seconds for its first line, ``{"ready": true, ...}`` (kept as ``ready``). ``ask(request,
timeout)`` gives the request a fresh ``id``, writes it as one line and returns the worker's answer line
with that id (a dict), from any thread; several requests may be in flight. Every wait is bounded, and
a failure is a ``WorkerUnavailable`` whose message says what happened:

- the worker does not answer within ``timeout``: it is killed (its state is unknown) and the next
  ``ask`` starts a new one;
- the worker exits (or closes its output) before answering: a new one is started (``restarts`` counts
  them) and each request that was in flight is asked once more; one whose second worker exits too fails;
- the worker cannot be started or never says it is ready: every later ``ask`` fails the same way, without
  trying again (``broken``).

``stop()`` closes its input, waits up to ``stop_timeout`` seconds, then kills it. The worker's stderr is
drained (its last lines are kept for the messages) so it can never block on a full pipe.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import queue
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NodeWorker", "WorkerUnavailable"]


class WorkerUnavailable(Exception):
    """The worker gave no answer to a request; ``str()`` says why, on one line."""


@dataclass(eq=False)
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] | None = None
    failure: str | None = None
    exited: bool = False  # the worker exited on its own before answering


class _Process:
    """One started worker process: its pipes, the threads that serve them, and its requests in flight."""

    def __init__(self, command: Sequence[str]) -> None:
        self.popen = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.ready = threading.Event()
        self.hello: dict[str, Any] | None = None
        self.pending: dict[int, _Pending] = {}
        self.lock = threading.Lock()
        self.closed: str | None = None  # why no more answers will come
        self.stderr: collections.deque[str] = collections.deque(maxlen=5)
        self.outbox: queue.Queue[str | None] = queue.Queue()
        for target in (self._read, self._drain, self._write):
            threading.Thread(target=target, daemon=True, name=f"node-worker-{target.__name__}").start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            if message.get("ready"):
                self.hello = message
                self.ready.set()
                continue
            with self.lock:
                key = message.get("id")
                waiting = self.pending.pop(key, None) if isinstance(key, int) else None
            if waiting is not None:
                waiting.answer = message
                waiting.done.set()
        try:
            code = self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.close(f"the JS oracle worker exited (code {code}){self.last_words()}", exited=True)

    def _drain(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            if line.strip():
                self.stderr.append(line.strip())

    def _write(self) -> None:
        assert self.popen.stdin is not None
        while (line := self.outbox.get()) is not None:
            try:
                self.popen.stdin.write(line)
                self.popen.stdin.flush()
            except (OSError, ValueError):
                return  # the process is gone: the reader reports it
        with contextlib.suppress(OSError, ValueError):
            self.popen.stdin.close()

    def last_words(self) -> str:
        return f": {' | '.join(self.stderr)[-300:]}" if self.stderr else ""

    def close(self, why: str, *, exited: bool = False) -> None:
        """No more answers will come: fail every request in flight with ``why`` (``exited``: the process
        ended on its own)."""
        with self.lock:
            if self.closed is None:
                self.closed = why
            waiting, self.pending = list(self.pending.values()), {}
        for pending in waiting:
            pending.failure, pending.exited = why, exited
            pending.done.set()
        self.ready.set()

    def kill(self, why: str) -> None:
        self.close(why)
        self.outbox.put(None)
        if self.popen.poll() is None:
            self.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


class NodeWorker:
    """See the module docstring."""

    def __init__(
        self, command: Sequence[str], *, start_timeout: float = 20.0, stop_timeout: float = 3.0
    ) -> None:
        self.command = list(command)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.restarts = 0
        self.broken: str | None = None
        self._process: _Process | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._started = 0

    @property
    def ready(self) -> dict[str, Any] | None:
        """The current process's ready line, or None."""
        process = self._process
        return process.hello if process is not None else None

    @property
    def pid(self) -> int | None:
        """The current process's id, or None when none runs."""
        process = self._process
        return process.popen.pid if process is not None and process.closed is None else None

    def _running(self) -> _Process:
        with self._lock:
            if self.broken is not None:
                raise WorkerUnavailable(self.broken)
            process = self._process
            if process is not None and process.closed is None:
                return process
            if process is not None:
                process.kill(process.closed or "replaced")
            try:
                process = _Process(self.command)
            except OSError as exc:
                self.broken = f"the JS oracle worker cannot be started: {exc}"
                raise WorkerUnavailable(self.broken) from exc
            if not process.ready.wait(self.start_timeout) or process.hello is None:
                why = process.closed or f"no ready line within {self.start_timeout:g} s"
                process.kill(why)
                self.broken = f"the JS oracle worker did not start: {why}{process.last_words()}"
                raise WorkerUnavailable(self.broken)
            if self._started:
                self.restarts += 1
            self._started += 1
            self._process = process
            return process

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The worker's answer to ``request`` (see the module docstring); raises ``WorkerUnavailable``. A
        request whose worker exits before answering is asked once more of a new worker."""
        for attempt in (1, 2):
            process = self._running()
            pending = _Pending()
            with process.lock:
                if process.closed is None:
                    process.pending[number := next(self._ids)] = pending
                else:
                    pending.failure, pending.exited = process.closed, True
                    pending.done.set()
            if not pending.done.is_set():
                process.outbox.put(json.dumps({**request, "id": number}) + "\n")
                if not pending.done.wait(timeout):
                    process.kill(
                        f"the JS oracle worker did not answer within {timeout:g} s: it was restarted"
                    )
            if pending.answer is not None:
                return pending.answer
            if not (pending.exited and attempt == 1):
                break
        raise WorkerUnavailable(pending.failure or "the JS oracle worker gave no answer")

    def stop(self) -> None:
        """Stop the process, if one runs: close its input, wait ``stop_timeout`` seconds, then kill it."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        process.outbox.put(None)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=self.stop_timeout)
        process.kill("the JS oracle worker was stopped")
