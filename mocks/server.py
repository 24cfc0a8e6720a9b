"""The standalone mock server: HTTP/1.1 written with h11 over trio sockets, nothing in between.

Why h11 directly: every byte and every write is ours. Each frame of a ``Reply`` is written as its own
chunk (``Transfer-Encoding: chunked``, no ``Content-Length`` on streams) at its scheduled time; a dropped
connection is the socket closed in the middle of the body (a FIN: the client has what was sent, then an
incomplete message); connections are kept alive between requests.

Every network wait has a timeout (``Timeouts``). While a reply with delays is being sent, a watcher reads
the socket: the moment the client closes, sending stops and the capture records at which frame the client
went away (an upstream-cancellation fact a gateway test can assert on).

``serve`` runs inside a trio nursery and reports the bound URLs through ``task_status``;
``BackgroundServer`` runs it in a thread for synchronous code (``TrioThread``: any trio server in a thread of
its own, every start and stop bounded by a timeout); ``run_server`` is the ``wirecheck serve`` command: it
prints one base URL per dialect, reports requests no rule answered on stderr as they come, and stops
cleanly on Ctrl-C or SIGTERM. A host or port it cannot listen on is a ``ServeError`` with a one-line
reason (``port 18555 on 127.0.0.1 is already in use``).

Requests no rule answered (a near miss, or a request the dialect turned away) go to ``on_unanswered``,
when given, as an ``Unanswered``; a base URL it returns makes the server forward that request there (with
httpx, streaming the answer back piece by piece as it arrives, timeouts ``Timeouts.forward``) instead of
sending the mock's own 404 or error. The capture's ``rule`` then reads ``forwarded to URL``. This is how
a replay forwards what its cassette does not hold to the recording proxy (``harness.cassettes.session``).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import http
import math
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TextIO

import h11
import httpx
import trio

from mocks.capture import CapturedRequest, NearMiss
from mocks.engine import HostedUpstream, MockUpstream, Request, as_script
from mocks.reply import Reply

__all__ = [
    "HOP_BY_HOP",
    "BackgroundServer",
    "ServeError",
    "Timeouts",
    "TrioThread",
    "Unanswered",
    "listen",
    "run_server",
    "serve",
]

_MAX_HEAD = 1 << 20
_MAX_BODY = 64 << 20
_RECEIVE = 65536
_REASONS = {s.value: s.phrase.encode() for s in http.HTTPStatus}
_SLACK = 1.0625  # a wait may last this much longer than its timeout (see _Connection._allow)

#: Headers that describe one connection, never passed on by a proxy (and ``host``, which names the hop).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "proxy-authenticate",
        "host",
    }
)


class ServeError(Exception):
    """A server that cannot start: the message is one line naming the host or port and why."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed for each network wait (up to a sixteenth more: deadlines are moved lazily)."""

    idle: float = 120.0  # for the next request on a kept-alive connection
    read: float = 30.0  # for each piece of a request once it has started
    write: float = 30.0  # for each write of the reply
    forward: float = 600.0  # for each wait on the upstream a request is forwarded to (30 s to connect)


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A request no rule answered: ``near`` is its near miss, or ``None`` when the dialect turned it away
    before any rule was tried (``capture.rejected`` says why: auth, protocol, validation)."""

    capture: CapturedRequest
    near: NearMiss | None

    def __str__(self) -> str:
        if self.near is not None:
            return f"unmatched: {self.near}"
        return f"turned away ({self.capture.rejected}): {self.capture.method} {self.capture.path}"


#: Called for each ``Unanswered`` request; returns a base URL to forward it to, or ``None``.
UnansweredHook = Callable[[Unanswered], str | None]


def _unanswered(upstream: MockUpstream, reply: Reply) -> Unanswered | None:
    """The request behind ``reply`` if no rule answered it (``handle`` has just run: in a trio loop no other
    request is handled in between, so its near miss, if any, is the latest)."""
    capture = reply.capture
    if capture is None or capture.rule is not None:
        return None
    if capture.rejected is not None:
        return Unanswered(capture, None)
    misses = upstream.unmatched
    if misses and misses[-1].request is capture:
        return Unanswered(capture, misses[-1])
    return None  # a generated reply (``fallback: generate``)


async def listen(host: str, port: int) -> tuple[list[trio.SocketListener], str]:
    """TCP listeners on ``host``:``port`` (0: any free port) and the base URL they answer at; a
    ``ServeError`` with a one-line reason when that is not possible."""
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ServeError(f"port {port!r} is outside 0..65535")
    try:
        listeners = await trio.open_tcp_listeners(port, host=host)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on host {host!r}: {exc.strerror}") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is already in use") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"cannot listen on host {host!r}: not an address of this machine") from None
        if exc.errno == errno.EACCES:
            raise ServeError(f"port {port} on {host}: permission denied") from None
        raise ServeError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    except (OverflowError, ValueError, UnicodeError) as exc:
        raise ServeError(f"cannot listen on host {host!r} port {port}: {exc}") from None
    bound = listeners[0].socket.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return listeners, f"http://{shown}:{bound}"


async def serve(
    script: Any = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    timeouts: Timeouts = Timeouts(),
    on_unanswered: UnansweredHook | None = None,
    task_status: trio.TaskStatus[HostedUpstream] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``script`` (a ``MockUpstream``, a ``Script``, plain data or a file path) until cancelled.
    ``task_status.started`` receives a ``HostedUpstream``: ``.url``, ``.urls`` per dialect, ``.requests``.
    ``on_unanswered``: see the module doc. ``ServeError`` when ``host``:``port`` cannot be listened on."""
    upstream = script if isinstance(script, MockUpstream) else MockUpstream(as_script(script))
    listeners, url = await listen(host, port)
    forwarder = _Forwarder(timeouts) if on_unanswered is not None else None
    task_status.started(HostedUpstream(upstream, url))

    async def handler(stream: trio.SocketStream) -> None:
        try:
            await _Connection(upstream, stream, timeouts, on_unanswered, forwarder).run()
        except Exception as exc:  # one connection's failure never stops the server (nor the run it serves)
            print(f"wirecheck mock: a connection failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    try:
        await trio.serve_listeners(handler, listeners)
    finally:
        if forwarder is not None:
            with trio.CancelScope(shield=True):
                await forwarder.aclose()


class _Forwarder:
    """The httpx client requests are forwarded with, opened on first use (no proxies from the
    environment: forwarding targets are given explicitly)."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.timeout = httpx.Timeout(timeouts.forward, connect=30.0)
        self.client: httpx.AsyncClient | None = None

    def get(self) -> httpx.AsyncClient:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=self.timeout, trust_env=False, follow_redirects=False)
        return self.client

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()


class _ClientGone(Exception):
    """The client closed its side while a reply was being sent."""


#: What a client that resets, half-closes or sends garbage can make a connection raise: each ends that
#: connection only.
_CONNECTION_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError, OSError)


class _Connection:
    """One client connection: requests in, replies out, until either side stops."""

    def __init__(
        self,
        upstream: MockUpstream,
        stream: trio.SocketStream,
        timeouts: Timeouts,
        on_unanswered: UnansweredHook | None = None,
        forwarder: _Forwarder | None = None,
    ) -> None:
        self.upstream = upstream
        self.stream = stream
        self.timeouts = timeouts
        self.on_unanswered = on_unanswered
        self.forwarder = forwarder
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
        except _CONNECTION_ERRORS:
            pass
        finally:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await self.stream.aclose()

    async def _serve(self) -> None:
        """Requests and replies until the client closes or a reply ends the connection."""
        while True:
            request = await self._read_request()
            if request is None:  # closed, or not a request
                return
            reply = self.upstream.handle(request)
            target = None
            if self.on_unanswered is not None:
                unanswered = _unanswered(self.upstream, reply)
                if unanswered is not None:
                    target = self.on_unanswered(unanswered)
            if target is not None:
                reusable = await self._forward(target, request, reply.capture)
            else:
                reusable = await self._send(reply)
            if not reusable or self.h11.our_state is h11.MUST_CLOSE:
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
                sent_all: bool | None = None  # stays None when the watcher cut the reply short
                try:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._watch, nursery.cancel_scope)
                        sent_all = await self._send_frames(reply)
                        nursery.cancel_scope.cancel()
                except BaseExceptionGroup as group:  # a write failed: the client is gone
                    _, rest = group.split((_ClientGone, trio.BrokenResourceError, trio.ClosedResourceError))
                    if rest is not None:
                        raise
                    raise _ClientGone from None
                if sent_all is None:  # closed by the client before the reply was written
                    raise _ClientGone
                # A client that closed once it had the whole reply got all of it: complete, not reusable.
                reusable = sent_all and not self.gone
            else:
                reusable = await self._send_frames(reply)
        except (_ClientGone, trio.BrokenResourceError, trio.ClosedResourceError):
            if reply.capture is not None:
                reply.capture.client_gone(self._progress)
            reusable = False
        self._replying = None
        return reusable

    async def _forward(self, base: str, request: Request, capture: CapturedRequest | None) -> bool:
        """Send ``request`` to ``base`` + its target and stream the answer back as it arrives; True when
        the connection can carry another request. An upstream that cannot be reached is a 502."""
        assert self.forwarder is not None
        client = self.forwarder.get()
        headers = [
            (k, v)
            for k, v in request.headers
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
        ]
        url = base.rstrip("/") + request.target
        if capture is not None:
            capture.rule = f"forwarded to {base}"
        self._scope.deadline = math.inf  # the forwarder's own timeouts bound the waits on the upstream
        try:
            response = await client.send(
                client.build_request(request.method, url, headers=headers, content=request.body), stream=True
            )
        except httpx.HTTPError as exc:
            body = f"wirecheck mock: forwarding to {base} failed: {exc!r}\n".encode()
            head = h11.Response(status_code=502, headers=[("content-length", str(len(body)))])
            if capture is not None:
                capture.status = 502
                capture.finished()
            await self._write(self.h11.send(head) + self.h11.send(h11.Data(data=body)))
            await self._write(self.h11.send(h11.EndOfMessage()))
            return True
        sent = 0
        try:
            if capture is not None:
                capture.status = response.status_code
            out = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
            reason = _REASONS.get(response.status_code, b"")
            head = h11.Response(status_code=response.status_code, headers=out, reason=reason)
            await self._write(self.h11.send(head))
            self._scope.deadline = math.inf
            try:
                async for piece in response.aiter_raw():
                    if capture is not None:
                        capture.frame_sent()
                    await self._write(self.h11.send(h11.Data(data=piece)))
                    sent += 1
                    self._scope.deadline = math.inf
            except httpx.HTTPError:
                if capture is not None:
                    capture.client_gone(sent)  # the upstream broke off: so does this answer
                return False
            if capture is not None:
                capture.finished()
            await self._write(self.h11.send(h11.EndOfMessage()))
            return True
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            if capture is not None:
                capture.client_gone(sent)
            return False
        finally:
            with trio.CancelScope(shield=True):
                await response.aclose()

    async def _watch(self, scope: trio.CancelScope) -> None:
        """Read while a reply is sent: EOF or a reset means the client went away; anything else is kept
        for later."""
        while True:
            try:
                data = await self.stream.receive_some(_RECEIVE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
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


def _single(exc: BaseException) -> BaseException:
    """The one exception inside (nested) single-member exception groups, else ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class TrioThread:
    """A trio task run by its own trio loop in a daemon thread, for synchronous callers (and for tests of any
    style: sync, asyncio, trio).

    ``start`` is a trio function that takes ``task_status`` (as for ``nursery.start``) and runs until
    cancelled; ``value`` is what it passed to ``task_status.started``. The constructor waits at most
    ``start_timeout`` seconds for that and raises what the task raised before it started (a ``ServeError``,
    say) as is; ``close()`` cancels the task and waits at most ``stop_timeout`` seconds for the thread to
    end, then raises what the task raised on its way out (``RuntimeError`` when it did not stop in time)."""

    def __init__(
        self,
        start: Callable[..., Awaitable[None]],
        *,
        name: str = "wirecheck-trio",
        start_timeout: float = 10.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.stop_timeout = stop_timeout
        self.value: Any = None
        self._ready = threading.Event()
        self._started = False
        self._error: BaseException | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None
        self._thread = threading.Thread(target=self._run, args=(start,), daemon=True, name=name)
        self._thread.start()
        if not self._ready.wait(start_timeout):
            self._cancel()
            raise RuntimeError(f"{name} did not start within {start_timeout:g} s")
        if not self._started:
            assert self._error is not None
            raise self._error

    def _run(self, start: Callable[..., Awaitable[None]]) -> None:
        async def main() -> None:
            self._token = trio.lowlevel.current_trio_token()
            async with trio.open_nursery() as nursery:
                self._scope = nursery.cancel_scope
                self.value = await nursery.start(start)
                self._started = True
                self._ready.set()

        try:
            trio.run(main)
        except BaseException as exc:  # reported by __init__ (before the start) or close (after it)
            self._error = _single(exc)
        finally:
            self._ready.set()

    def _cancel(self) -> None:
        if self._token is not None and self._scope is not None:
            with contextlib.suppress(trio.RunFinishedError):
                trio.from_thread.run_sync(self._scope.cancel, trio_token=self._token)

    def close(self) -> None:
        """Cancel the task and wait for the thread (at most ``stop_timeout`` seconds)."""
        if self._thread.is_alive():
            self._cancel()
            self._thread.join(self.stop_timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"{self.name} did not stop within {self.stop_timeout:g} s")
        if self._error is not None and self._started:
            error, self._error = self._error, None
            raise error


class BackgroundServer(HostedUpstream):
    """The standalone server run by trio in a daemon thread, for synchronous callers and tests::

    with BackgroundServer({"rules": [...]}) as server:
        client = openai.OpenAI(base_url=server.urls["openai"], api_key="sk-test")

    Starting waits at most 10 s (a ``ServeError`` when the host or port cannot be listened on), closing
    at most 10 s."""

    def __init__(
        self,
        script: Any = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeouts: Timeouts = Timeouts(),
        on_unanswered: UnansweredHook | None = None,
    ) -> None:
        upstream = script if isinstance(script, MockUpstream) else MockUpstream(as_script(script))
        start = functools.partial(serve, upstream, host, port, timeouts=timeouts, on_unanswered=on_unanswered)
        self._thread = TrioThread(start, name="wirecheck-mock-server")
        super().__init__(upstream, self._thread.value.url)

    def close(self) -> None:
        self._thread.close()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_server(
    script: Any = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    capture_limit: int | None = 10_000,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Serve ``script`` (a file path, a ``Script``, plain data, ``None`` for generated replies on every
    route, or a ready ``MockUpstream``) until Ctrl-C or SIGTERM; print one base URL per dialect first,
    and each request no rule answered on ``err`` as it comes (captures are read over
    ``/__wirecheck/requests``; only the latest ``capture_limit`` are kept). Returns the exit status (0);
    ``ScriptError`` for a bad script, ``ServeError`` when the host or port cannot be listened on."""
    if isinstance(script, MockUpstream):
        upstream = script
    else:
        upstream = MockUpstream(as_script(script), capture_limit=capture_limit)

    def report(unanswered: Unanswered) -> None:
        print(f"wirecheck serve: {unanswered}", file=err, flush=True)

    async def main() -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                hosted: HostedUpstream = await nursery.start(
                    functools.partial(serve, upstream, host, port, on_unanswered=report)
                )
                for name, url in hosted.urls.items():
                    print(f"{name}: {url}", file=out, flush=True)
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    break

    try:
        trio.run(main)
    except BaseException as exc:
        error = _single(exc)
        if not isinstance(error, KeyboardInterrupt):  # a Ctrl-C before the signal receiver was in place
            raise error from None
    print("stopped", file=out, flush=True)
    return 0
