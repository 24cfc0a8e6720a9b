"""The standalone mock server: HTTP/1.1 over trio sockets, nothing in between.

Every byte and every write is ours. Each frame of a ``Reply`` is its own HTTP chunk
(``Transfer-Encoding: chunked``, no ``Content-Length`` on streams), written at its scheduled time; a reply
the script neither times nor groups (``Reply.together``) goes out in one write, head and all chunks (its
encoded body kept in ``Reply.memo`` for the next request rendered alike). A dropped connection is the
socket closed in the middle of the body (a FIN: the client has what was sent, then an incomplete
message); connections are kept alive between requests.

Plain requests (``mocks.http1``: an HTTP/1.1 head with a ``Content-Length`` body and nothing that needs
h11's rules) are read and answered by hand, byte for byte as h11 would; on anything else the connection
is handed to h11 with every byte of the current request, so malformed input is accepted or rejected
exactly as h11 does (``400``, ``431``, ``501``, chunked bodies, ``100-continue``). Reads and writes go
straight to the socket (``_Connection._read`` / ``_write``), waiting through trio only when they would
block.

Every network wait has a timeout (``Timeouts``). While a reply with delays is being sent, a watcher reads
the socket: the moment the client closes, sending stops and the capture records at which frame the client
went away (an upstream-cancellation fact a gateway test can assert on).

``serve`` runs inside a trio nursery and reports the bound URLs through ``task_status``;
``BackgroundServer`` runs it in a thread for synchronous code (``TrioThread``: any trio server in a thread of
its own, every start and stop bounded by a timeout); ``run_server`` is the ``wirecheck serve`` command: it
prints one base URL per dialect, reports requests no rule answered on stderr as they come, and stops
cleanly on Ctrl-C or SIGTERM. A host or port it cannot listen on is a ``ServeError`` with a one-line
reason (``port 18555 on 127.0.0.1 is already in use``).

Limits (``Limits``; ``wirecheck serve --max-connections --head-timeout --body-timeout --max-body``) keep
one abusive client from taking the server down for the others:

- **Connections.** At most ``connections`` are open at once. When a new one arrives at the cap, the
  connection that has waited longest for a request head is closed to make room (first those that never
  sent a whole request, such as slowloris sockets, then idle kept-alive ones); when every open connection
  is busy with a request, new ones **wait** until one ends or goes idle (the first accepted and held
  unread, the rest in the kernel's listen backlog); none is accepted and closed. Real clients keep being
  served while idle sockets pile up.
- **Request head.** A head must be complete ``head`` seconds after the connection was accepted (for a later
  request on a kept-alive connection: after its first byte; the wait before that is ``Timeouts.idle``).
  A client that sent part of a head by then gets ``408`` and the connection is closed; one that sent
  nothing is closed silently. Neither is captured: without a whole head there is no request to route.
- **Request body.** A body must be complete ``body`` seconds after its head (each read also waits at most
  ``Timeouts.read``). A slow body is answered ``408`` (``connection: close``) and captured with status 408,
  ``rejected`` ``"body deadline"`` and the bytes that arrived.
- **Body size.** A body up to ``body_bytes`` is handed to the script whole, as the dialects need its parsed
  JSON. The default, 32 MiB, is above Anthropic's 32 MB request limit, Gemini's 20 MB request limit and
  OpenAI's 25 MB file uploads, so what those vendors accept passes (OpenAI chat requests with images may
  reach 50 MB: raise it to test those), and eight such bodies at once stay well under a GB. A larger one
  is refused (413, as the vendors refuse an oversized request): it is read to its end through a SHA-256 (never held: only its first ``body_prefix`` bytes are kept), then
  answered ``413`` with a JSON error (``request_too_large``) on a connection that stays usable, and
  captured with status 413, ``rejected`` ``"body too large"``, the prefix, the full length and the hash.
  A refused request never reaches the script (no rule counts it); it is recorded straight into the
  served upstream's capture log.
- **Descriptors.** An ``accept`` that fails (``EMFILE``: out of file descriptors, ``ENFILE``, ``ENOBUFS``,
  ``ENOMEM``, ...) closes the connection waiting longest for a head, if any, waits a moment and tries
  again: the server keeps serving as soon as descriptors free up. Such conditions, and connections that
  fail, are logged one line per condition per ``log_interval`` seconds (with the count of repeats since
  the last line), never a traceback each.

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
import hashlib
import http
import json
import math
import os
import resource
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import parse_qs

import h11
import httpx
import trio

from mocks import http1
from mocks.capture import CapturedRequest, NearMiss
from mocks.dialects import resolve
from mocks.engine import HostedUpstream, MockUpstream, Request, as_script
from mocks.reply import Reply

__all__ = [
    "HOP_BY_HOP",
    "BackgroundServer",
    "Limits",
    "ServeError",
    "Timeouts",
    "TrioThread",
    "Unanswered",
    "listen",
    "run_server",
    "serve",
]

_MAX_HEAD = 1 << 20
_RECEIVE = 65536
_RECEIVE_BODY = 1 << 18  # a body is read in larger pieces: one read per scheduling round, so fewer rounds
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
class Limits:
    """What one client may take (see the module doc): open ``connections`` (at most the process's
    open-file limit less 64, kept for forwarding sockets and files), seconds for a request ``head`` and
    for a ``body``, bytes of a body handed to the script (``body_bytes``) and bytes kept of a larger one
    (``body_prefix``, at most ``body_bytes``); ``log_interval``: seconds between two log lines about the same condition."""

    connections: int = 512
    head: float = 10.0
    body: float = 60.0
    body_bytes: int = 32 << 20
    body_prefix: int = 16 << 10
    log_interval: float = 10.0

    def __post_init__(self) -> None:
        for name in ("connections", "head", "body", "log_interval"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Limits.{name} must be above 0, not {getattr(self, name)!r}")
        for name in ("body_bytes", "body_prefix"):
            if getattr(self, name) < 0:
                raise ValueError(f"Limits.{name} must be 0 or more, not {getattr(self, name)!r}")

    def open_connections(self) -> int:
        """``connections``, lowered to leave 64 descriptors of the process's soft open-file limit."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.connections
        return max(1, min(self.connections, soft - 64))


class _Notes:
    """A log that prints at most one line per condition per ``interval`` seconds on ``err`` (``None``:
    ``sys.stderr`` as it is when the line is printed); a line after a quiet spell says how many times
    the condition came back meanwhile."""

    def __init__(self, err: TextIO | None, interval: float) -> None:
        self.err = err
        self.interval = interval
        self._last: dict[str, tuple[float, int]] = {}  # condition: (time of its last line, repeats since)

    def note(self, condition: str, message: str) -> None:
        now = time.monotonic()
        last, repeats = self._last.get(condition, (-math.inf, 0))
        if now - last < self.interval:
            self._last[condition] = (last, repeats + 1)
            return
        self._last[condition] = (now, 0)
        more = f" (and {repeats} more since the last such line)" if repeats else ""
        with contextlib.suppress(OSError, ValueError):  # a closed or full stderr never stops the server
            print(f"wirecheck mock: {message}{more}", file=self.err or sys.stderr, flush=True)


#: ``accept`` errors that mean "out of a resource", not "this listener is broken".
_ACCEPT_CAPACITY = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_ACCEPT_RETRY = 0.1  # seconds between accept attempts while descriptors are exhausted


class _Gate:
    """Admission of connections under ``Limits.connections``: which are open, and which of them wait
    for a request head (those may be closed to make room, oldest first: never-served ones before
    kept-alive ones)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: set[_Connection] = set()
        self.fresh: dict[_Connection, None] = {}  # waiting for their first head, oldest first
        self.idle: dict[_Connection, None] = {}  # served before, waiting for the next head
        self._freed = trio.Event()
        self.evicted = 0

    def waiting(self, connection: _Connection) -> None:
        (self.idle if connection.served else self.fresh)[connection] = None
        self._freed.set()  # room() may close it now

    def busy(self, connection: _Connection) -> None:
        self.fresh.pop(connection, None)
        self.idle.pop(connection, None)

    def closed(self, connection: _Connection) -> None:
        self.busy(connection)
        if connection in self.open:
            self.open.discard(connection)
            self._freed.set()

    def evict(self) -> bool:
        """Close the connection that has waited longest for a head; False when none waits."""
        for waiting in (self.fresh, self.idle):
            if waiting:
                connection = next(iter(waiting))
                self.closed(connection)
                connection.evict()
                self.evicted += 1
                return True
        return False

    async def room(self) -> None:
        """Return once one more connection may be accepted (closing a waiting one if that makes room)."""
        while len(self.open) >= self.cap and not self.evict():
            if self._freed.is_set():
                self._freed = trio.Event()
            await self._freed.wait()


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
    limits: Limits = Limits(),
    on_unanswered: UnansweredHook | None = None,
    listeners: Sequence[trio.abc.Listener[trio.SocketStream]] | None = None,
    err: TextIO | None = None,
    task_status: trio.TaskStatus[HostedUpstream] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``script`` (a ``MockUpstream``, a ``Script``, plain data or a file path) until cancelled.
    ``task_status.started`` receives a ``HostedUpstream``: ``.url``, ``.urls`` per dialect, ``.requests``.
    ``limits``: see the module doc; ``on_unanswered``: see the module doc. ``listeners``: serve on these
    (already listening; the URL is ``http://host:PORT`` with the port of the first one's ``socket``)
    instead of opening ``host``:``port``. ``err``: where the rate-limited log lines go (``None``: stderr).
    ``ServeError`` when ``host``:``port`` cannot be listened on."""
    upstream = script if isinstance(script, MockUpstream) else MockUpstream(as_script(script))
    if listeners is None:
        listeners, url = await listen(host, port)
    else:
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{listeners[0].socket.getsockname()[1]}"  # type: ignore[attr-defined]
    forwarder = _Forwarder(timeouts) if on_unanswered is not None else None
    notes = _Notes(err, limits.log_interval)
    gate = _Gate(limits.open_connections())
    task_status.started(HostedUpstream(upstream, url))

    async def handle(connection: _Connection) -> None:
        try:
            await connection.run()
        except Exception as exc:  # one connection's failure never stops the server (nor the run it serves)
            notes.note(f"failed:{type(exc).__name__}", f"a connection failed: {type(exc).__name__}: {exc}")
        finally:
            gate.closed(connection)

    async def accept(listener: trio.abc.Listener[trio.SocketStream], nursery: trio.Nursery) -> None:
        async with listener:
            while True:
                try:
                    stream = await listener.accept()
                except OSError as exc:
                    name = errno.errorcode.get(exc.errno or 0, "error")
                    if exc.errno in _ACCEPT_CAPACITY:
                        notes.note(
                            f"accept:{name}",
                            f"cannot accept connections: {name} ({os.strerror(exc.errno or 0)}); "
                            f"{len(gate.open)} open; retrying every {_ACCEPT_RETRY:g} s",
                        )
                        gate.evict()  # a descriptor back from a connection that only waits for a head
                    else:
                        notes.note(f"accept:{name}", f"accept failed: {name}: {exc}; retrying")
                    await trio.sleep(_ACCEPT_RETRY)
                    continue
                try:
                    await gate.room()  # room is made only for a connection that is there
                except BaseException:  # the server stops while this one waits for room
                    await trio.aclose_forcefully(stream)
                    raise
                connection = _Connection(upstream, stream, timeouts, limits, gate, on_unanswered, forwarder)
                gate.open.add(connection)
                gate.waiting(connection)
                nursery.start_soon(handle, connection)

    try:
        async with trio.open_nursery() as nursery:
            for listener in listeners:
                nursery.start_soon(accept, listener, nursery)
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


class _Body:
    """A request body as it arrives: kept whole up to ``Limits.body_bytes``; past that (or when the head
    announces more) only its first ``body_prefix`` bytes are kept and everything goes through a SHA-256."""

    __slots__ = ("_limit", "_prefix", "digest", "head", "kept", "length")

    def __init__(self, head: http1.Head, limits: Limits) -> None:
        self.head = head
        self._limit = limits.body_bytes
        self._prefix = min(limits.body_prefix, limits.body_bytes)
        self.kept = bytearray()
        self.length = 0
        self.digest: Any = None  # a hashlib sha256 once the body is over the limit
        if head.length > self._limit:
            self.digest = hashlib.sha256()

    def add(self, data: bytes) -> None:
        self.length += len(data)
        if self.digest is None:
            self.kept += data
            if len(self.kept) > self._limit:
                self.digest = hashlib.sha256(self.kept)
                self.kept = self.kept[: self._prefix]
            return
        self.digest.update(data)
        room = self._prefix - len(self.kept)
        if room > 0:
            self.kept += data[:room]

    def refused(self, status: int, reason: str) -> _Refused:
        digest = self.digest if self.digest is not None else hashlib.sha256(self.kept)
        prefix = bytes(self.kept[: self._prefix])
        return _Refused(self.head, status, reason, prefix, self.length, digest.hexdigest())


@dataclass(slots=True)
class _Refused:
    """A request the server answers itself, without the script: its head, its body as kept, why."""

    head: http1.Head
    status: int
    reason: str  # the capture's ``rejected``: "body too large" or "body deadline"
    prefix: bytes
    length: int
    sha256: str


class _Connection:
    """One client connection: requests in, replies out, until either side stops (or the gate closes it)."""

    def __init__(
        self,
        upstream: MockUpstream,
        stream: trio.SocketStream,
        timeouts: Timeouts,
        limits: Limits,
        gate: _Gate,
        on_unanswered: UnansweredHook | None = None,
        forwarder: _Forwarder | None = None,
    ) -> None:
        self.upstream = upstream
        self.stream = stream
        self.timeouts = timeouts
        self.limits = limits
        self.gate = gate
        self.on_unanswered = on_unanswered
        self.forwarder = forwarder
        # None while every request so far was plain (``mocks.http1`` reads and writes it); h11 from the
        # first one that is not, for the rest of the connection (``_promote``).
        self.h11: h11.Connection | None = None
        self._buffer = bytearray()  # bytes read and not yet parsed, while h11 is None
        self._eof = False  # the client closed its side (seen while h11 is None)
        self._current: _Body | None = None  # the plain request being served: what h11 would be handed
        self._chunked = False  # the reply being written (plain) is chunked
        self._direct = isinstance(stream, trio.SocketStream)  # reads and writes straight on its socket
        self.early: list[bytes] = []  # bytes of a next request read while watching for a disconnect
        self.gone = False  # the watcher saw the client close
        self.served = 0  # requests answered on this connection
        self.evicted = False  # closed by the gate to make room
        # One scope for the whole connection bounds every wait; its deadline moves before each wait
        # (``_allow``): a scope per request or per reply, or a move per write, costs more than the
        # rest of a small reply.
        self._scope = trio.CancelScope()
        self._accepted = trio.current_time()
        self._replying: CapturedRequest | None = None  # the capture of the reply being sent
        self._progress = 0
        self._head_started = False  # bytes of the current request's head have arrived
        self._head_wait: trio.CancelScope | None = None  # the wait for a head, which an eviction ends
        self._reading: _Body | None = None  # the body being read, while it is

    def evict(self) -> None:
        """Close this connection (it waits for a head) to make room for another."""
        self.evicted = True
        if self._head_wait is not None:
            self._head_wait.cancel()

    async def run(self) -> None:
        try:
            with self._scope:
                await self._serve()
            if self._scope.cancelled_caught and not self.evicted:
                if self._replying is not None:  # the client stopped reading
                    self._replying.client_gone(self._progress)
                elif self._reading is not None:  # the body did not arrive in time
                    await self._answer_refused(self._reading.refused(408, "body deadline"), close=True)
                elif self._head_started:  # part of a head, then nothing in time
                    await self._request_timeout()
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
            if isinstance(request, _Refused):
                reusable = await self._answer_refused(request, close=False)
            else:
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
            self.served += 1
            if not reusable:
                return
            if self.h11 is None:
                self._current = None
                for data in self.early:
                    self._receive(data)
            else:
                if self.h11.our_state is h11.MUST_CLOSE:
                    return
                self.h11.start_next_cycle()
                for data in self.early:
                    self.h11.receive_data(data)
            self.early.clear()

    # -- the plain case and h11 --

    def _receive(self, data: bytes) -> None:
        """Bytes from the client (``b""``: it closed its side) to whichever reader is in charge."""
        if self.h11 is not None:
            self.h11.receive_data(data)
        elif data:
            self._buffer += data
        else:
            self._eof = True

    def _promote(self) -> None:
        """Hand the connection to h11 from here on: it is given every byte of the current request (what
        was read of it, when one is being served) and everything read after, and is brought to the point
        the plain reader had reached, so h11 accepts, rejects and answers exactly as if it had read every
        byte itself."""
        if self.h11 is not None:
            return
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)
        current = self._current
        if current is not None:
            connection.receive_data(current.head.raw + bytes(current.kept))
        if self._buffer:  # (an empty piece would tell h11 the client closed)
            connection.receive_data(bytes(self._buffer))
            self._buffer.clear()
        if self._eof:
            connection.receive_data(b"")
        self.h11 = connection
        if current is not None:  # up to where the plain reader was: the end of the body, or of what came
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA or isinstance(event, h11.EndOfMessage):
                    break

    def _next_head(self) -> Any:
        """The next head: an ``http1.Head`` (plain), h11's event, or ``h11.NEED_DATA``."""
        if self.h11 is None:
            head = http1.parse_head(self._buffer, self.limits.body_bytes, _MAX_HEAD)
            if head is http1.NEED_DATA:
                if not self._eof:
                    return h11.NEED_DATA
                if not self._buffer:
                    return h11.ConnectionClosed()
            elif head is not None:
                return head
            self._promote()
        assert self.h11 is not None
        return self.h11.next_event()

    def _head_buffered(self) -> bool:
        """Bytes of a next request have arrived."""
        return bool(self._buffer) if self.h11 is None else bool(self.h11.trailing_data[0])

    def _response(self, status: int, headers: list[tuple[str, str]], length: int | None) -> bytes:
        """The bytes of a response head (``length`` ``None``: a chunked body)."""
        reason = _REASONS.get(status, b"")
        if self.h11 is None:
            head = http1.response_head(status, reason, headers, length)
            if head is not None:
                self._chunked = length is None
                return head
            self._promote()
        assert self.h11 is not None
        if length is not None:
            headers = [*headers, ("content-length", str(length))]
        return self.h11.send(h11.Response(status_code=status, headers=headers, reason=reason))

    def _data(self, data: bytes) -> bytes:
        """The bytes of one piece of the body (one chunk when it is chunked)."""
        if self.h11 is None:
            return http1.chunk(data) if self._chunked else data
        return self.h11.send(h11.Data(data=data))

    def _end(self) -> bytes:
        """The bytes that end the body."""
        if self.h11 is None:
            return http1.CHUNKED_END if self._chunked else b""
        return self.h11.send(h11.EndOfMessage())

    def _allow(self, seconds: float) -> None:
        """Let the next wait last ``seconds`` (or up to a sixteenth longer): the deadline moves only when
        the one in place would cut the wait short or leave it much longer, so back-to-back writes move
        it once."""
        now = trio.current_time()
        if not now + seconds <= self._scope.deadline <= now + seconds * _SLACK:
            self._scope.deadline = now + seconds * _SLACK

    # -- reading --

    async def _event(self, timeout: float, deadline: float = math.inf) -> Any:
        """The next event of a request body, reading as needed; each read waits at most ``timeout``, and
        none past ``deadline`` (trio time)."""
        assert self.h11 is not None
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            self._allow(max(0.0, min(timeout, deadline - trio.current_time())))
            self.h11.receive_data(await self._read(_RECEIVE_BODY))

    async def _read_head(self) -> Any:
        """The next head (or whatever h11 makes of the bytes), under ``Limits.head``: counted from the
        accept for a connection's first request, else from the request's first byte (before it, the wait
        is ``Timeouts.idle``). While it waits, the gate may close the connection (``None``); only the wait
        is ended, so a head that has arrived is always served."""
        event = self._next_head()
        if event is not h11.NEED_DATA:  # pipelined: no wait
            if self._direct:  # direct writes that do not block never yield: let other connections in
                await trio.lowlevel.checkpoint()
            self.gate.busy(self)
            return event
        if self.evicted:  # closed by the gate before this task first ran
            return None
        self.gate.waiting(self)
        self._head_started = self._head_buffered()
        if self.served == 0:
            deadline = self._accepted + self.limits.head
        elif self._head_started:
            deadline = trio.current_time() + self.limits.head
        else:
            deadline = math.inf
        self._head_wait = trio.CancelScope()
        with self._head_wait:
            while event is h11.NEED_DATA:
                if deadline == math.inf:
                    self._allow(self.timeouts.idle)
                else:
                    self._allow(max(0.0, min(self.timeouts.read, deadline - trio.current_time())))
                data = await self._read(_RECEIVE, idle=self.served > 0 and not self._head_started)
                if data and not self._head_started:
                    self._head_started = True
                    if deadline == math.inf:
                        deadline = trio.current_time() + self.limits.head
                self._receive(data)
                event = self._next_head()
        self._head_wait = None
        if event is h11.NEED_DATA:  # evicted while waiting
            return None
        if self.evicted:  # the head came in just as the gate chose this connection: serve it after all
            self.evicted = False
            self.gate.open.add(self)
        self.gate.busy(self)
        self._head_started = False
        return event

    async def _read_request(self) -> Request | _Refused | None:
        event = await self._read_head()
        if isinstance(event, http1.Head):
            return await self._read_plain_body(event)
        if not isinstance(event, h11.Request):
            return None
        assert self.h11 is not None
        if self.h11.client_is_waiting_for_100_continue:
            self._allow(self.timeouts.write)
            await self.stream.send_all(self.h11.send(h11.InformationalResponse(status_code=100, headers=[])))
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
        announced = next((v for k, v in headers if k == "content-length"), "")
        length = int(announced) if announced.isdigit() else 0
        head = http1.Head(event.method.decode("ascii"), event.target.decode("latin-1"), headers, length)
        body = _Body(head, self.limits)
        self._reading = body
        deadline = trio.current_time() + self.limits.body
        while True:
            event = await self._event(self.timeouts.read, deadline)
            if isinstance(event, h11.Data):
                body.add(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                return None
        self._reading = None
        if body.digest is not None:
            return body.refused(413, "body too large")
        return Request(head.method, head.target, headers, bytes(body.kept))

    async def _read_plain_body(self, head: http1.Head) -> Request | _Refused | None:
        """The body of a plain request (its length announced, within ``Limits.body_bytes``), under the
        same deadlines as h11's path; a client that closes before its end is h11's to answer."""
        body = _Body(head, self.limits)
        self._current = body
        buffered = self._buffer
        if len(buffered) >= head.length:  # the usual case: the body came with its head
            body.add(bytes(buffered[: head.length]))
            del buffered[: head.length]
            return Request(head.method, head.target, head.headers, bytes(body.kept))
        self._reading = body
        body.add(bytes(buffered))
        buffered.clear()
        deadline = trio.current_time() + self.limits.body
        while body.length < head.length:
            self._allow(max(0.0, min(self.timeouts.read, deadline - trio.current_time())))
            data = await self._read(_RECEIVE_BODY)
            if not data:
                self._eof = True
                self._promote()  # h11 raises its RemoteProtocolError for the cut body
                assert self.h11 is not None
                self.h11.next_event()
                return None
            missing = head.length - body.length
            body.add(data[:missing])
            if len(data) > missing:
                self._buffer += data[missing:]
        self._reading = None
        return Request(head.method, head.target, head.headers, bytes(body.kept))

    def _record(self, refused: _Refused) -> CapturedRequest:
        """Capture a refused request as the engine captures any (credentials redacted, its route), straight
        into the upstream's log: the script never sees it."""
        head = refused.head
        method = head.method.upper()
        path, _, query_text = head.target.partition("?")
        pairs = [(k.lower(), v) for k, v in head.headers]
        capture = self.upstream.log.record(
            method, path, parse_qs(query_text, keep_blank_values=True), pairs, refused.prefix
        )
        capture.truncated(refused.length, refused.sha256)
        found = resolve(method, path, dict(pairs))
        if found is not None:
            capture.dialect, capture.endpoint = found[0].name, found[1]
        capture.rejected = refused.reason
        capture.status = refused.status
        return capture

    async def _answer_refused(self, refused: _Refused, *, close: bool) -> bool:
        """Capture ``refused`` and answer it with its status and a JSON error; True when the connection
        can carry another request (never after a body cut short, ``close``)."""
        self._promote()  # a rare answer: h11 writes it
        assert self.h11 is not None
        capture = self._record(refused)
        if refused.status == 413:
            kind = "request_too_large"
            message = (
                f"wirecheck mock: the request body ({refused.length} bytes) is over the limit of "
                f"{self.limits.body_bytes} bytes"
            )
        else:
            kind = "request_timeout"
            message = (
                f"wirecheck mock: the request body was not sent in time ({refused.length} bytes came; "
                f"each read may wait {self.timeouts.read:g} s, the whole body {self.limits.body:g} s)"
            )
        payload = json.dumps({"error": {"type": kind, "message": message}}).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(payload)))]
        if close:
            headers.append(("connection", "close"))
        capture.frame_sent()
        capture.finished()
        with trio.move_on_after(self.timeouts.write) as scope:
            with contextlib.suppress(*_CONNECTION_ERRORS, h11.LocalProtocolError):
                response = h11.Response(
                    status_code=refused.status, headers=headers, reason=_REASONS[refused.status]
                )
                await self.stream.send_all(
                    self.h11.send(response)
                    + self.h11.send(h11.Data(data=payload))
                    + self.h11.send(h11.EndOfMessage())
                )
                return not close
        if scope.cancelled_caught:
            capture.client_gone(0)
        return False

    async def _request_timeout(self) -> None:
        """A 408 for a head that did not complete in time (written by hand: h11 has no request to answer)."""
        body = f"wirecheck mock: the request head did not arrive within {self.limits.head:g} s\n".encode()
        head = (
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n" % len(body)
        )
        with trio.move_on_after(self.timeouts.write), contextlib.suppress(*_CONNECTION_ERRORS):
            await self.stream.send_all(head + body)

    async def _reject(self, exc: h11.RemoteProtocolError) -> None:
        assert self.h11 is not None  # only h11 raises it
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

    async def _read(self, size: int, *, idle: bool = False) -> bytes:
        """One read of at most ``size`` bytes (``b""``: the client closed its side), as
        ``stream.receive_some`` but straight on the socket: a read that finds nothing waits for the socket
        to be readable (a checkpoint, so deadlines and evictions apply) instead of raising inside trio, and
        one that finds bytes does not go round the scheduler twice. A read that never had to wait still
        yields once, so a client that pipelines without pause cannot hold the loop. ``idle``: nothing is
        expected yet (the next request right after a reply): wait for readability before reading."""
        if not self._direct:
            return await self.stream.receive_some(size)
        waited = False
        if idle:
            fd = self._descriptor()
            await trio.lowlevel.wait_readable(fd)
            waited = True
        while True:
            fd = self._descriptor()
            try:
                data = os.read(fd, size)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(fd)
                waited = True
                continue
            except OSError as exc:
                raise trio.BrokenResourceError(f"reading failed: {exc}") from exc
            if not waited:
                await trio.lowlevel.checkpoint()
            return data

    def _descriptor(self) -> int:
        """The connection's file descriptor; ``trio.ClosedResourceError`` once it is closed."""
        fd = self.stream.socket.fileno()
        if fd < 0:
            raise trio.ClosedResourceError("the connection was closed")
        return fd

    async def _write(self, data: bytes) -> None:
        """One write, bounded by ``timeouts.write``: straight on the socket (as ``_read``), waiting (and
        moving the deadline) only when the socket's buffer is full."""
        if not self._direct:
            self._allow(self.timeouts.write)
            await self.stream.send_all(data)
            return
        view = memoryview(data)
        while view:
            fd = self._descriptor()
            try:
                sent = os.write(fd, view)
            except BlockingIOError:
                self._allow(self.timeouts.write)
                await trio.lowlevel.wait_writable(fd)
                continue
            except OSError as exc:
                raise trio.BrokenResourceError(f"writing failed: {exc}") from exc
            view = view[sent:]

    async def _sleep(self, seconds: float) -> None:
        """A scripted wait between writes: no deadline while the reply is silent on purpose."""
        self._scope.deadline = math.inf
        await trio.sleep(seconds)

    async def _send(self, reply: Reply) -> bool:
        """Send ``reply``; True when the connection can carry another request. A write that times out
        cancels the whole connection; ``run`` then records the client as gone."""
        timed = not reply.together and (reply.head_delay > 0 or any(f.delay > 0 for f in reply.frames))
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
        self._promote()  # forwarded answers carry any upstream's headers: h11 writes them
        assert self.h11 is not None
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
        capture = reply.capture
        if reply.head_delay:
            await self._sleep(reply.head_delay)
        if not reply.send_head:
            if capture is not None:
                capture.dropped_at(0, head_sent=False)
            return False
        pending = self._response(reply.status, reply.headers, reply.content_length)
        if reply.together and reply.frames:
            return await self._send_together(reply, pending)
        last = len(reply.frames) - 1
        dropping = reply.end == "drop"
        for i, frame in enumerate(reply.frames):
            if frame.delay > 0:
                if pending:
                    await self._write(pending)
                    pending = b""
                await self._sleep(frame.delay)
            if frame.data:
                pending += self._data(frame.data)
            if i == last and reply.end == "complete":
                pending += self._end()
                if capture is not None:
                    capture.finished()
            if capture is not None:
                capture.frame_sent()
                if dropping and i == last:  # recorded before the last write, as ``finished`` is
                    capture.dropped_at(i + 1, head_sent=True)
            if pending:
                await self._write(pending)
                pending = b""
            self._progress = i + 1
        if dropping:
            if capture is not None and last < 0:
                capture.dropped_at(0, head_sent=True)
            if pending:
                await self._write(pending)
            return False
        if last < 0:  # no frames: an empty body
            if capture is not None:
                capture.finished()
            await self._write(pending + self._end())
        return True

    async def _send_together(self, reply: Reply, head: bytes) -> bool:
        """A reply nothing in the script times or groups (``Reply.together``): the head and every frame
        (each its own HTTP chunk when the body is chunked) in one write. The encoded body of a plain
        connection is kept in the reply's ``memo``, for the next request rendered alike."""
        frames = reply.frames
        body = None
        key = "chunked" if self._chunked else "whole"
        memo = reply.memo if self.h11 is None else None
        if memo is not None:
            body = memo.get(key)
        if body is None:
            body = b"".join([self._data(f.data) for f in frames]) + self._end()
            if memo is not None:
                memo[key] = body
        capture = reply.capture
        if capture is not None:
            capture.frames_sent(len(frames))
            capture.finished()
        await self._write(head + body)
        self._progress = len(frames)
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
    at most 10 s. ``timeouts``, ``limits``, ``on_unanswered`` and ``err`` are ``serve``'s."""

    def __init__(
        self,
        script: Any = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeouts: Timeouts = Timeouts(),
        limits: Limits = Limits(),
        on_unanswered: UnansweredHook | None = None,
        err: TextIO | None = None,
    ) -> None:
        upstream = script if isinstance(script, MockUpstream) else MockUpstream(as_script(script))
        start = functools.partial(
            serve,
            upstream,
            host,
            port,
            timeouts=timeouts,
            limits=limits,
            on_unanswered=on_unanswered,
            err=err,
        )
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
    limits: Limits = Limits(),
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Serve ``script`` (a file path, a ``Script``, plain data, ``None`` for generated replies on every
    route, or a ready ``MockUpstream``) until Ctrl-C or SIGTERM; print one base URL per dialect first,
    and each request no rule answered on ``err`` as it comes (captures are read over
    ``/__wirecheck/requests``; only the latest ``capture_limit`` are kept; ``limits``: see the module
    doc, its log lines go to ``err``). Returns the exit status (0);
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
                    functools.partial(
                        serve, upstream, host, port, limits=limits, on_unanswered=report, err=err
                    )
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
