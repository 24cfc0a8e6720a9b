"""The standalone server's limits under abuse (``mocks.server.Limits``): the connection cap, the deadlines
for a request head and body, the body cap, accept errors such as EMFILE. Small limits keep each test well
under a second or two; every wait has a timeout. Loopback only. (RSS under load is ``nox -s bench``'s.)"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
import trio

from mocks.engine import HostedUpstream
from mocks.server import BackgroundServer, Limits, Timeouts, listen, serve

AUTH = {"authorization": "Bearer k"}
MODELS = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
WAIT = 5.0  # seconds any single wait of a test may take before it fails


def _connect(server: HostedUpstream) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=WAIT)
    sock.settimeout(WAIT)
    return sock


def _closed(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (EOF or a reset), False if it is still open after WAIT."""
    try:
        while data := sock.recv(65536):
            del data
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


# --- the connection cap ---------------------------------------------------------------------------------------


def test_idle_sockets_over_the_cap_never_keep_a_real_client_out(sockets: list[socket.socket]) -> None:
    with BackgroundServer(limits=Limits(connections=4)) as server:
        for _ in range(4 + 6):
            sockets.append(_connect(server))
        sockets[-1].sendall(b"GET /v1/mo")  # a slowloris among them
        started = time.monotonic()
        reply = httpx.get(server.urls["openai"] + "/models", headers=AUTH, timeout=WAIT)
        assert reply.status_code == 200
        assert time.monotonic() - started < 1.0  # served at once, not after a head deadline (10 s)
        assert _closed(sockets[0])  # the oldest idle socket made room
        assert len(server.requests) == 1


def test_at_the_cap_with_every_connection_busy_a_new_client_waits_its_turn() -> None:
    slow = {
        "match": {"path": "/v1/chat/completions"},
        "reply": {"events": [{"data": {"n": 1}, "delay_ms": 400}]},
    }
    script = {"fallback": "generate", "rules": [slow]}
    with BackgroundServer(script, limits=Limits(connections=1)) as server:
        busy = _connect(server)
        busy.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
        time.sleep(0.1)  # the busy connection's request is in (its reply pauses 0.4 s)
        started = time.monotonic()
        reply = httpx.get(server.urls["openai"] + "/models", headers=AUTH, timeout=WAIT)
        waited = time.monotonic() - started
        assert reply.status_code == 200  # waited in the backlog, was not closed
        assert waited >= 0.2  # ...until the busy one ended
        assert busy.recv(65536).startswith(b"HTTP/1.1 200 ")  # the busy one was not evicted
        busy.close()


# --- deadlines ---------------------------------------------------------------------------------------------------


def test_a_slowloris_head_gets_408_and_is_closed_after_the_head_deadline() -> None:
    with BackgroundServer(limits=Limits(head=0.3)) as server, _connect(server) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        for _ in range(3):  # one header line at a time, each well within the read timeout
            time.sleep(0.05)
            sock.sendall(b"X-Slow: 1\r\n")
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert 0.3 <= time.monotonic() - started < 2.0
        assert _closed(sock)
        assert server.requests == []  # no whole head: not a request


def test_a_connection_that_sends_nothing_is_closed_silently_after_the_head_deadline() -> None:
    with BackgroundServer(limits=Limits(head=0.3)) as server, _connect(server) as sock:
        started = time.monotonic()
        assert sock.recv(65536) == b""
        assert 0.3 <= time.monotonic() - started < 2.0


def test_a_kept_alive_connection_waits_the_idle_timeout_not_the_head_deadline() -> None:
    limits = Limits(head=0.2)
    with BackgroundServer(timeouts=Timeouts(idle=5), limits=limits) as server, _connect(server) as sock:
        sock.sendall(MODELS)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        time.sleep(0.5)  # longer than the head deadline, between two requests
        sock.sendall(MODELS)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_body_sent_too_slowly_gets_408_and_is_captured_with_what_came() -> None:
    with BackgroundServer(limits=Limits(body=0.3)) as server, _connect(server) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        started = time.monotonic()
        answer = b""
        for _ in range(40):  # a byte every 50 ms: each read is quick, the whole body is not
            try:
                sock.sendall(b"x")
            except OSError:
                break
            sock.settimeout(0.05)
            try:
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            break
        sock.settimeout(WAIT)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert 0.3 <= time.monotonic() - started < 1.5
        (seen,) = server.requests
        assert (seen.status, seen.rejected, seen.endpoint) == (408, "body deadline", "chat")
        assert seen.body == b"x" * seen.body_length and 3 <= seen.body_length < 100
        assert seen.outcome == "408 (body deadline)"


# --- the body cap --------------------------------------------------------------------------------------------


def _chunked(data: bytes, piece: int = 700) -> Iterator[bytes]:
    for i in range(0, len(data), piece):
        yield data[i : i + piece]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_the_cap_is_hashed_not_kept_answered_413_and_captured(framing: str) -> None:
    limits = Limits(body_bytes=1000, body_prefix=100)
    body = bytes(range(256)) * 20  # 5120 bytes
    with BackgroundServer({"fallback": "generate"}, limits=limits) as server:
        with httpx.Client(base_url=server.urls["openai"], headers=AUTH, timeout=WAIT) as client:
            content = body if framing == "content-length" else _chunked(body)
            reply = client.post("/chat/completions", content=content)
            assert reply.status_code == 413
            assert reply.json()["error"]["type"] == "request_too_large"
            again = client.get("/models")  # the connection stayed usable: the body was read to its end
            assert again.status_code == 200
            assert client.get(server.url + "/__wirecheck/requests").json()["requests"][0]["body_sha256"] == (
                hashlib.sha256(body).hexdigest()
            )
        big, _ = server.requests
        assert (big.status, big.rejected, big.endpoint, big.rule) == (413, "body too large", "chat", None)
        assert big.body == body[:100] and big.body_truncated
        assert big.body_length == len(body)
        assert big.body_sha256 == hashlib.sha256(body).hexdigest()
        assert big.completed


def test_a_body_at_the_cap_reaches_the_script_whole() -> None:
    message = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}
    body = json.dumps(message).encode()
    body += b" " * (1000 - len(body))  # exactly the cap
    with BackgroundServer(limits=Limits(body_bytes=1000, body_prefix=100)) as server:
        reply = httpx.post(
            server.urls["openai"] + "/chat/completions", content=body, headers=AUTH, timeout=WAIT
        )
        assert reply.status_code == 200
        (seen,) = server.requests
        assert seen.json == message and seen.body == body and not seen.body_truncated
        assert seen.body_sha256 == hashlib.sha256(body).hexdigest()


# --- accept errors -------------------------------------------------------------------------------------------


class FailingListener(trio.abc.Listener[trio.SocketStream]):
    """A listener whose first ``failures`` accepts fail with ``OSError(EMFILE)``, as when the process is
    out of file descriptors."""

    def __init__(self, inner: trio.SocketListener, failures: int) -> None:
        self.inner = inner
        self.socket = inner.socket
        self.failures = failures

    async def accept(self) -> trio.SocketStream:
        if self.failures:
            self.failures -= 1
            await trio.sleep(0)
            raise OSError(errno.EMFILE, "Too many open files")
        return await self.inner.accept()

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_emfile_is_logged_once_and_the_server_keeps_serving() -> None:
    err = io.StringIO()

    async def main() -> None:
        listeners, _ = await listen("127.0.0.1", 0)
        failing = FailingListener(listeners[0], failures=4)
        with trio.fail_after(WAIT):
            async with trio.open_nursery() as nursery:
                hosted: HostedUpstream = await nursery.start(
                    lambda task_status: serve(None, listeners=[failing], err=err, task_status=task_status)
                )
                async with httpx.AsyncClient(timeout=WAIT) as client:
                    reply = await client.get(hosted.urls["openai"] + "/models", headers=AUTH)
                assert reply.status_code == 200
                assert failing.failures == 0
                nursery.cancel_scope.cancel()

    trio.run(main)
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "EMFILE" in lines[0] and "Traceback" not in err.getvalue()


def test_emfile_closes_a_connection_that_only_waits_for_a_head(sockets: list[socket.socket]) -> None:
    async def main() -> None:
        listeners, _ = await listen("127.0.0.1", 0)
        failing = FailingListener(listeners[0], failures=0)
        with trio.fail_after(WAIT):
            async with trio.open_nursery() as nursery:
                hosted: HostedUpstream = await nursery.start(
                    lambda task_status: serve(
                        None, listeners=[failing], err=io.StringIO(), task_status=task_status
                    )
                )
                idle = await trio.open_tcp_stream("127.0.0.1", int(hosted.url.rsplit(":", 1)[1]))
                await trio.sleep(0.05)  # accepted
                failing.failures = 1
                async with httpx.AsyncClient(timeout=WAIT) as client:
                    reply = await client.get(hosted.urls["openai"] + "/models", headers=AUTH)
                assert reply.status_code == 200
                assert await idle.receive_some(100) == b""  # given up to free a descriptor
                nursery.cancel_scope.cancel()

    trio.run(main)


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="connections"):
        Limits(connections=0)
    with pytest.raises(ValueError, match="head"):
        Limits(head=-1)


def test_at_the_cap_a_never_served_socket_goes_before_a_kept_alive_one(sockets: list[socket.socket]) -> None:
    with BackgroundServer(limits=Limits(connections=2)) as server:
        kept = _connect(server)
        sockets.append(kept)
        kept.sendall(MODELS)
        assert kept.recv(65536).startswith(b"HTTP/1.1 200 ")  # served once, now idle and kept alive
        silent = _connect(server)  # newer, but has never sent a request
        sockets.append(silent)
        time.sleep(0.1)
        reply = httpx.get(server.urls["openai"] + "/models", headers=AUTH, timeout=WAIT)
        assert reply.status_code == 200
        assert _closed(silent)
        kept.sendall(MODELS)  # the kept-alive connection still serves
        assert kept.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_the_connection_cap_leaves_64_descriptors_of_the_open_file_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mocks.server

    monkeypatch.setattr(mocks.server.resource, "getrlimit", lambda _: (100, 4096))
    assert Limits(connections=512).open_connections() == 36
    assert Limits(connections=20).open_connections() == 20
