"""The crossing from the harness's trio tasks to a provider written for asyncio, which runs unchanged on a
dedicated asyncio event loop in a thread of its own (``harness.provider_loop`` says which providers).

- ``AsyncioBridge`` owns that loop: one for the whole run, started by the first crossing, in a daemon
  thread. ``await bridge.call(function, *args)`` (from a trio task) runs ``function(*args)`` in a new
  asyncio task, in a fresh ``contextvars`` context, awaits the result when it is awaitable, and returns it
  (or raises its exception) in the trio task. No trio worker thread is held: the task's done-callback
  wakes the trio task through its ``TrioToken``.
- **Cancellation.** When the trio side is cancelled (the case's ``trio.fail_after`` deadline, a close
  timeout), the asyncio task is cancelled and the trio side waits up to ``CANCEL_GRACE`` seconds for it to
  end (its ``finally`` blocks run, its connections close) before trio's ``Cancelled`` goes on, so the
  runner's deadline verdict and cleanup are exactly those of a trio provider. A task that ignores the
  cancellation is abandoned after the grace.
- ``await bridge.build(cls, kwargs)`` constructs the provider on the loop (a constructor may need a
  running loop, e.g. for ``aiohttp.ClientSession()``) and returns a ``BridgedProvider``: each method call
  crosses, and a result with ``__aiter__`` comes back as a ``BridgedStream``, whose every ``__anext__``
  crosses and whose ``aclose()`` crosses too (at most ``STREAM_CLOSE_TIMEOUT``), so a stream abandoned
  early is closed where it lives. Arguments cross as they are: the harness's are wire models, bytes and
  in-memory streams that run on any loop.
- ``bridge.close()`` (blocking; from any thread but the loop's) cancels every task still pending and waits
  ``TASK_GRACE`` for them, shuts down async generators, stops the loop and joins its thread, all within
  ``CLOSE_TIMEOUT``. The thread is a daemon: one that never stops cannot keep the process alive.
- ``guard_exit(code)`` bounds what may still hang once the program exits (threads a provider's library
  started, its atexit handlers, an import it does at shutdown): ``EXIT_GRACE`` seconds later the process
  ends with ``code`` whatever is left.

Every wait here has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import trio

__all__ = [
    "CANCEL_GRACE",
    "CLOSE_TIMEOUT",
    "EXIT_GRACE",
    "STREAM_CLOSE_TIMEOUT",
    "AsyncioBridge",
    "BridgeError",
    "BridgedProvider",
    "BridgedStream",
    "guard_exit",
]

#: Seconds the loop's thread has to start.
START_TIMEOUT = 5.0
#: Seconds the trio side waits for a cancelled asyncio task to end before it abandons it.
CANCEL_GRACE = 1.0
#: Seconds ``BridgedStream.aclose`` waits for the asyncio side to close the stream.
STREAM_CLOSE_TIMEOUT = 2.0
#: Seconds ``AsyncioBridge.close`` waits for the cancelled pending tasks (and then for async generators).
TASK_GRACE = 1.0
#: Seconds ``AsyncioBridge.close`` takes at most, the thread's join included.
CLOSE_TIMEOUT = 5.0
#: Seconds ``guard_exit`` lets the process exit on its own.
EXIT_GRACE = 3.0


class BridgeError(RuntimeError):
    """The asyncio side cannot run a call: the bridge is closed, its loop did not start or stopped, or the
    provider's task ended with a ``BaseException`` that is not an ``Exception`` (cancelled on the asyncio
    side, ``SystemExit``), which must not unwind the harness."""


class _Crossing:
    """One call run as an asyncio task and awaited by one trio task: once ``done``, its ``value`` or its
    ``error``."""

    __slots__ = ("done", "error", "task", "token", "value")

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        self.token = token
        self.done = trio.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.task: asyncio.Task[Any] | None = None

    def start(self, loop: asyncio.AbstractEventLoop, body: Callable[[], Any], name: str) -> None:
        """On the loop: run ``body()`` as a task."""
        try:
            self.task = loop.create_task(body(), name=name)
        except BaseException as exc:
            self.finish(None, exc)
            return
        self.task.add_done_callback(self.settled)

    def settled(self, task: asyncio.Task[Any]) -> None:
        """On the loop: the task's done-callback."""
        if task.cancelled():
            self.finish(None, asyncio.CancelledError())
        elif task.exception() is not None:
            self.finish(None, task.exception())
        else:
            self.finish(task.result(), None)

    def cancel(self) -> None:
        """On the loop: cancel the task (it ends with ``CancelledError``, which wakes the trio side)."""
        if self.task is not None:
            self.task.cancel()

    def finish(self, value: Any, error: BaseException | None) -> None:
        """On the loop: keep the result and wake the trio task (unless its run has ended)."""
        self.value, self.error = value, error
        with contextlib.suppress(trio.RunFinishedError):
            self.token.run_sync_soon(self.done.set)


class AsyncioBridge:
    """A dedicated asyncio event loop in a daemon thread, and the crossing to it from trio (module
    docstring). Start it by crossing; ``close()`` it when the run is over (the owner does: ``runner.run``
    for a bridge it made, the CLI after the results print)."""

    def __init__(self, name: str = "wirecheck-asyncio-providers") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def started(self) -> bool:
        """Whether a crossing started the loop."""
        return self._loop is not None

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread, once started."""
        return self._thread

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise BridgeError("the asyncio bridge is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(target=_serve, args=(loop, ready), name=self._name, daemon=True)
                thread.start()
                if not ready.wait(START_TIMEOUT):
                    raise BridgeError(f"the asyncio loop's thread did not start within {START_TIMEOUT:g}s")
                self._loop, self._thread = loop, thread
            return self._loop

    async def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` run in a new task on the loop (awaited there if it returns an
        awaitable); its value, or its exception raised here. Cancelling the caller cancels the task and
        waits up to ``CANCEL_GRACE`` for it to end."""
        loop = self._running_loop()
        crossing = _Crossing(trio.lowlevel.current_trio_token())

        async def body() -> Any:
            value = function(*args, **kwargs)
            if inspect.isawaitable(value):
                value = await value
            return value

        try:
            name = f"wirecheck: {_name(function)}"  # what asyncio's logs call it
            loop.call_soon_threadsafe(crossing.start, loop, body, name, context=contextvars.Context())
        except RuntimeError as exc:  # the loop is closed
            raise BridgeError(f"the asyncio loop is not running: {exc}") from None
        try:
            await crossing.done.wait()
        except BaseException:  # trio.Cancelled (a deadline), KeyboardInterrupt: the task must not go on
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(crossing.cancel)
            with trio.move_on_after(CANCEL_GRACE) as grace:
                grace.shield = True
                await crossing.done.wait()
            if crossing.done.is_set() and crossing.error is None:  # it ended before the cancellation landed
                _discard(loop, crossing.value)
            raise
        error = crossing.error
        if error is None:
            return crossing.value
        if isinstance(error, Exception):
            raise error
        # CancelledError (by the provider itself, or by close()), SystemExit: not for the harness to unwind
        raise BridgeError(f"{_name(function)} ended with {type(error).__name__} on the asyncio side")

    async def build(self, cls: type, kwargs: dict[str, Any]) -> BridgedProvider:
        """``cls(**kwargs)`` constructed on the loop, as a ``BridgedProvider``."""
        return BridgedProvider(self, await self.call(cls, **kwargs))

    def close(self, timeout: float = CLOSE_TIMEOUT) -> bool:
        """Cancel the pending tasks (``TASK_GRACE``), stop the loop and join its thread, all within
        ``timeout`` seconds; True when the thread has ended (or never started). Blocking; idempotent; no
        crossing is possible afterwards."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return True
        if threading.current_thread() is thread:
            raise BridgeError("AsyncioBridge.close() called from its own loop")
        end = time.monotonic() + timeout
        if not loop.is_closed():  # else its thread died (e.g. a KeyboardInterrupt in a task)
            with contextlib.suppress(RuntimeError):  # it closed meanwhile
                drained = asyncio.run_coroutine_threadsafe(_drain(min(TASK_GRACE, timeout)), loop)
                with contextlib.suppress(Exception):
                    drained.result(timeout=max(0.0, end - time.monotonic()))
                loop.call_soon_threadsafe(loop.stop)
        thread.join(max(0.0, end - time.monotonic()))
        return not thread.is_alive()


def _discard(loop: asyncio.AbstractEventLoop, value: Any) -> None:
    """Close, on the loop and without waiting, a stream that a cancelled call returned all the same."""
    closer = getattr(value, "aclose", None) if hasattr(value, "__aiter__") else None
    if closer is None:
        return

    async def close_quietly() -> None:
        with contextlib.suppress(Exception):
            await closer()

    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(lambda: loop.create_task(close_quietly()), context=contextvars.Context())


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    """The loop's thread: run the loop until ``close`` stops it, then close it."""
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
    finally:
        left = asyncio.all_tasks(loop)  # when close gave up on a blocked loop, or a task ignores cancelling
        for task in left:
            task.cancel()
        if left:  # one more step lets them end (those that ignore it are left, and logged when collected)
            loop.run_until_complete(asyncio.sleep(0))
        loop.close()  # also shuts the default executor down, without waiting for it


async def _drain(grace: float) -> None:
    """On the loop: cancel every other task, give them ``grace`` seconds, then finalize async generators."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=grace)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.get_running_loop().shutdown_asyncgens(), grace)


def _name(function: Any) -> str:
    return getattr(function, "__qualname__", None) or type(function).__name__


class BridgedProvider:
    """A provider instance living on the bridge's loop, seen from trio: every callable attribute is a
    coroutine function that crosses (``getattr(p, "aclose", None)`` is None when the instance has no
    ``aclose``); a result with ``__aiter__`` comes back as a ``BridgedStream``."""

    __slots__ = ("_bridge", "instance")

    def __init__(self, bridge: AsyncioBridge, instance: Any) -> None:
        self._bridge = bridge
        self.instance = instance

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.instance, name)
        if not callable(attribute):
            return attribute
        bridge = self._bridge

        async def crossing(*args: Any, **kwargs: Any) -> Any:
            value = await bridge.call(attribute, *args, **kwargs)
            return BridgedStream(bridge, value) if hasattr(value, "__aiter__") else value

        crossing.__name__ = crossing.__qualname__ = name
        return crossing

    def __repr__(self) -> str:
        return f"<BridgedProvider {self.instance!r} on asyncio>"


class BridgedStream:
    """A stream living on the bridge's loop, iterated from trio: each ``__anext__`` crosses (the first one
    also calls the source's ``__aiter__`` there); ``aclose()`` crosses, waits at most
    ``STREAM_CLOSE_TIMEOUT`` and is a no-op the second time."""

    __slots__ = ("_bridge", "_closed", "_iterator", "source")

    def __init__(self, bridge: AsyncioBridge, source: Any) -> None:
        self._bridge = bridge
        self.source = source
        self._iterator: Any = None
        self._closed = False

    def __aiter__(self) -> BridgedStream:
        return self

    async def __anext__(self) -> Any:
        if self._closed:
            raise StopAsyncIteration
        return await self._bridge.call(self._next_on_loop)

    async def _next_on_loop(self) -> Any:
        if self._iterator is None:
            self._iterator = self.source.__aiter__()
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        closer = getattr(self.source, "aclose", None)
        if closer is None:
            return
        with trio.move_on_after(STREAM_CLOSE_TIMEOUT):
            await self._bridge.call(closer)

    async def __aenter__(self) -> BridgedStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def guard_exit(code: int, grace: float = EXIT_GRACE) -> threading.Thread:
    """For the program (not for code that goes on running): a daemon thread that ends the process with
    ``code`` once ``grace`` seconds have passed, when its normal exit (joining the threads a provider's
    library left, its atexit handlers) has not ended it first. Returns the thread."""

    def watch() -> None:
        time.sleep(grace)
        main = threading.main_thread()
        left = [t.name for t in threading.enumerate() if not t.daemon and t is not main and t.is_alive()]
        with contextlib.suppress(Exception):
            print(
                f"wirecheck: the process had not exited {grace:g}s after the run "
                f"(non-daemon threads: {', '.join(left) or 'none'}); ending it",
                file=sys.stderr,
            )
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)

    thread = threading.Thread(target=watch, name="wirecheck-exit-guard", daemon=True)
    thread.start()
    return thread
