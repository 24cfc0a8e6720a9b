"""The standalone mock server: HTTP/1.1 written with h11 over trio sockets, nothing in between.

Why h11 directly: every byte and every write is ours. Each frame of a ``Reply`` is written as its own
chunk (``Transfer-Encoding: chunked``, no ``Content-Length`` on streams) at its scheduled time; a dropped
connection is the socket closed in the middle of the body (a FIN: the client has what was sent, then an
incomplete message); connections are kept alive between requests.

Every network wait has a timeout (``Timeouts``). While a reply with delays is being sent, a watcher reads
the socket: the moment the client closes, sending stops and the capture records at which frame the client
went away (an upstream-cancellation fact a gateway test can assert on).

``serve`` runs inside a trio nursery and reports the bound URLs through ``task_status``;
``BackgroundServer`` runs it in a thread for synchronous code; ``run_server`` is the ``wirecheck serve``
command: it prints one base URL per dialect and stops cleanly on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import functools
import http
import math
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import h11
import trio

from mocks.capture import CapturedRequest
from mocks.engine import HostedUpstream, MockUpstream, Request, as_script
from mocks.reply import Reply

__all__ = ["BackgroundServer", "Timeouts", "run_server", "serve"]

_MAX_HEAD = 1 << 20
_MAX_BODY = 64 << 20
_RECEIVE = 65536
_REASONS = {s.value: s.phrase.encode() for s in http.HTTPStatus}
_SLACK = 1.0625  # a wait may last this much longer than its timeout (see _Connection._allow)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed for each network wait (up to a sixteenth more: deadlines are moved lazily)."""

    idle: float = 120.0  # for the next request on a kept-alive connection
    read: float = 30.0  # for each piece of a request once it has started
    write: float = 30.0  # for each write of the reply


async def serve(
    script: Any = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    timeouts: Timeouts = Timeouts(),
    task_status: trio.TaskStatus[HostedUpstream] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``script`` (a ``MockUpstream``, a ``Script``, plain data or a file path) until cancelled.
    ``task_status.started`` receives a ``HostedUpstream``: ``.url``, ``.urls`` per dialect, ``.requests``."""
    upstream = script if isinstance(script, MockUpstream) else MockUpstream(as_script(script))
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound_port = listeners[0].socket.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    task_status.started(HostedUpstream(upstream, f"http://{shown}:{bound_port}"))

    async def handler(stream: trio.SocketStream) -> None:
        await _Connection(upstream, stream, timeouts).run()

    await trio.serve_listeners(handler, listeners)


class _ClientGone(Exception):
    """The client closed its side while a reply was being sent."""


class _Connection:
    """One client connection: requests in, replies out, until either side stops."""

    def __init__(self, upstream: MockUpstream, stream: trio.SocketStream, timeouts: Timeouts) -> None:
        self.upstream = upstream
        self.stream = stream
        self.timeouts = timeouts
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)
        self.early: list[bytes] = []  # bytes of a next request read while watching for a disconnect
        self.gone = False  # the watcher saw the client close
        # One scope for the whole connection bounds every wait; its deadline moves before each wait
        # (``_allow``): a scope per request or per reply, or a move per write, costs more than the
        # rest of a small reply.
        self._scope = trio.CancelScope()
        self._replying: CapturedRequest | None = None  # the capture of the reply being sent
        self._progress = 0

    async def run(self) -> None:
        try:
            with self._scope:
                await self._serve()
            if self._scope.cancelled_caught and self._replying is not None:  # the client stopped reading
                self._replying.client_gone(self._progress)
        except h11.RemoteProtocolError as exc:
            await self._reject(exc)
        except (
            trio.BrokenResourceError,
            trio.ClosedResourceError,
            h11.LocalProtocolError,
        ):
            pass
        finally:
            await self.stream.aclose()

    async def _serve(self) -> None:
        """Requests and replies until the client closes or a reply ends the connection."""
        while True:
            request = await self._read_request()
            if request is None:  # closed, or not a request
                return
            reply = self.upstream.handle(request)
            if not await self._send(reply) or self.h11.our_state is h11.MUST_CLOSE:
                return
            self.h11.start_next_cycle()
            for data in self.early:
                self.h11.receive_data(data)
            self.early.clear()

    def _allow(self, seconds: float) -> None:
        """Let the next wait last ``seconds`` (or up to a sixteenth longer): the deadline moves only when
        the one in place would cut the wait short or leave it much longer, so back-to-back writes move
        it once."""
        now = trio.current_time()
        if not now + seconds <= self._scope.deadline <= now + seconds * _SLACK:
            self._scope.deadline = now + seconds * _SLACK

    # -- reading --

    async def _event(self, timeout: float) -> Any:
        """The next h11 event, reading as needed; each read waits at most ``timeout``."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            self._allow(timeout)
            self.h11.receive_data(await self.stream.receive_some(_RECEIVE))

    async def _read_request(self) -> Request | None:
        head = await self._event(self.timeouts.idle)
        if not isinstance(head, h11.Request):
            return None
        if self.h11.client_is_waiting_for_100_continue:
            self._allow(self.timeouts.write)
            await self.stream.send_all(self.h11.send(h11.InformationalResponse(status_code=100, headers=[])))
        body = bytearray()
        while True:
            event = await self._event(self.timeouts.read)
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_BODY:
                    raise h11.RemoteProtocolError("request body too large", error_status_hint=413)
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                return None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers]
        return Request(head.method.decode("ascii"), head.target.decode("latin-1"), headers, bytes(body))

    async def _reject(self, exc: h11.RemoteProtocolError) -> None:
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        with trio.move_on_after(self.timeouts.write):
            body = f"bad request: {exc}\n".encode()
            head = h11.Response(
                status_code=exc.error_status_hint, headers=[("content-length", str(len(body)))]
            )
            with contextlib.suppress(
                trio.BrokenResourceError, trio.ClosedResourceError, h11.LocalProtocolError
            ):
                await self.stream.send_all(self.h11.send(head) + self.h11.send(h11.Data(data=body)))

    # -- writing --

    async def _write(self, data: bytes) -> None:
        """One write, bounded by ``timeouts.write``."""
        self._allow(self.timeouts.write)
        await self.stream.send_all(data)

    async def _sleep(self, seconds: float) -> None:
        """A scripted wait between writes: no deadline while the reply is silent on purpose."""
        self._scope.deadline = math.inf
        await trio.sleep(seconds)

    async def _send(self, reply: Reply) -> bool:
        """Send ``reply``; True when the connection can carry another request. A write that times out
        cancels the whole connection; ``run`` then records the client as gone."""
        timed = reply.head_delay > 0 or any(f.delay > 0 for f in reply.frames)
        self._progress = 0  # index of the next frame to send
        self._replying = reply.capture
        try:
            if timed:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._watch, nursery.cancel_scope)
                    reusable = await self._send_frames(reply)
                    nursery.cancel_scope.cancel()
                if self.gone:  # closed by the client
                    raise _ClientGone
            else:
                reusable = await self._send_frames(reply)
        except (_ClientGone, trio.BrokenResourceError, trio.ClosedResourceError):
            if reply.capture is not None:
                reply.capture.client_gone(self._progress)
            reusable = False
        self._replying = None
        return reusable

    async def _watch(self, scope: trio.CancelScope) -> None:
        """Read while a reply is sent: EOF means the client went away; anything else is kept for later."""
        while True:
            data = await self.stream.receive_some(_RECEIVE)
            if not data:
                self.gone = True
                scope.cancel()
                return
            self.early.append(data)

    async def _send_frames(self, reply: Reply) -> bool:
        """Walk the frames: wait, write, record; False when the connection must close afterwards."""
        if reply.head_delay:
            await self._sleep(reply.head_delay)
        if not reply.send_head:
            return False
        headers = list(reply.headers)
        if reply.content_length is not None:
            headers.append(("content-length", str(reply.content_length)))
        reason = _REASONS.get(reply.status, b"")
        pending = self.h11.send(h11.Response(status_code=reply.status, headers=headers, reason=reason))
        capture = reply.capture
        last = len(reply.frames) - 1
        for i, frame in enumerate(reply.frames):
            if frame.delay > 0:
                if pending:
                    await self._write(pending)
                    pending = b""
                await self._sleep(frame.delay)
            if frame.data:
                pending += self.h11.send(h11.Data(data=frame.data))
            if i == last and reply.end == "complete":
                pending += self.h11.send(h11.EndOfMessage())
                if capture is not None:
                    capture.finished()
            if capture is not None:
                capture.frame_sent()
            if pending:
                await self._write(pending)
                pending = b""
            self._progress = i + 1
        if reply.end == "drop":
            if pending:
                await self._write(pending)
            return False
        if last < 0:  # no frames: an empty body
            if capture is not None:
                capture.finished()
            await self._write(pending + self.h11.send(h11.EndOfMessage()))
        return True


class BackgroundServer(HostedUpstream):
    """The standalone server run by trio in a daemon thread, for synchronous callers and tests::

    with BackgroundServer({"rules": [...]}) as server:
        client = openai.OpenAI(base_url=server.urls["openai"], api_key="sk-test")
    """

    def __init__(
        self, script: Any = None, host: str = "127.0.0.1", port: int = 0, *, timeouts: Timeouts = Timeouts()
    ) -> None:
        upstream = script if isinstance(script, MockUpstream) else MockUpstream(as_script(script))
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._hosted: HostedUpstream | None = None
        self._thread = threading.Thread(
            target=self._run, args=(upstream, host, port, timeouts), daemon=True, name="wirecheck-mock-server"
        )
        self._thread.start()
        if not self._ready.wait(10) or self._hosted is None:
            raise RuntimeError(f"mock server did not start: {self._error!r}")
        super().__init__(upstream, self._hosted.url)

    def _run(self, upstream: MockUpstream, host: str, port: int, timeouts: Timeouts) -> None:
        async def main() -> None:
            self._token = trio.lowlevel.current_trio_token()
            async with trio.open_nursery() as nursery:
                self._scope = nursery.cancel_scope
                self._hosted = await nursery.start(
                    functools.partial(serve, upstream, host, port, timeouts=timeouts)
                )
                self._ready.set()

        try:
            trio.run(main)
        except BaseException as exc:  # reported by __init__ when it happens before the start
            self._error = exc
            self._ready.set()

    def close(self) -> None:
        if self._thread.is_alive():
            trio.from_thread.run_sync(self._scope.cancel, trio_token=self._token)
            self._thread.join(10)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_server(
    script_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    capture_limit: int | None = 10_000,
    out: TextIO = sys.stdout,
) -> int:
    """Serve the script file until Ctrl-C; print one base URL per dialect first (captures are read over
    ``/__wirecheck/requests``; only the latest ``capture_limit`` are kept). Returns the exit status."""
    upstream = MockUpstream(as_script(Path(script_path)), capture_limit=capture_limit)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            hosted: HostedUpstream = await nursery.start(serve, upstream, host, port)
            for name, url in hosted.urls.items():
                print(f"{name}: {url}", file=out, flush=True)

    try:
        trio.run(main)
    except* KeyboardInterrupt:  # Ctrl-C: trio has cancelled the server and closed its connections
        print("stopped", file=out, flush=True)
    return 0
