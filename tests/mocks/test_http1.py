"""The plain-case HTTP/1.1 reader and writer (``mocks.http1``) and how the server uses it: what it accepts
it reads and writes exactly as h11 does, everything else goes to h11, and an unpaced reply is one write."""

from __future__ import annotations

import socket
import string

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mocks import http1
from mocks import server as server_module
from mocks.engine import MockUpstream, Request
from mocks.server import BackgroundServer

TOKEN = st.text(alphabet=string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=12)
VISIBLE = st.text(alphabet=[chr(c) for c in range(0x21, 0x7F)], min_size=1, max_size=20)
WORD = st.text(alphabet=[chr(c) for c in range(0x21, 0x7F)] + ["é", "\x80"], min_size=1, max_size=8)
VALUE = st.lists(WORD, max_size=4).map(" ".join)  # field content: words with single spaces between
LEFT = {"transfer-encoding", "connection", "expect", "upgrade", "host", "content-length"}
NAME = TOKEN.filter(lambda n: n.lower() not in LEFT)
BODY_LIMIT = 1 << 20


def _h11_head(raw: bytes) -> h11.Request:
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(raw)
    event = connection.next_event()
    assert isinstance(event, h11.Request)
    return event


@settings(max_examples=200, deadline=None)
@given(
    method=TOKEN.filter(lambda m: m not in ("HEAD", "CONNECT")),
    target=VISIBLE,
    fields=st.lists(st.tuples(NAME, VALUE), max_size=6),
    length=st.none() | st.integers(0, BODY_LIMIT),
    spaces=st.sampled_from(["", " ", "\t", "  "]),
)
def test_plain_heads_read_as_h11_reads_them(
    method: str, target: str, fields: list[tuple[str, str]], length: int | None, spaces: str
) -> None:
    lines = [f"{method} {target} HTTP/1.1", "Host: example"]
    lines += [f"{name}:{spaces}{value}{spaces}" for name, value in fields]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    buffer = bytearray(raw + b"next")
    head = http1.parse_head(buffer, BODY_LIMIT, 1 << 20)
    assert isinstance(head, http1.Head)
    assert buffer == b"next" and head.raw == raw
    event = _h11_head(raw)
    assert head.method == event.method.decode() and head.target == event.target.decode()
    assert head.headers == [(k.decode(), v.decode("latin-1")) for k, v in event.headers]
    assert head.length == (length or 0)


PLAIN = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"


@pytest.mark.parametrize(
    "raw",
    [
        PLAIN.replace(b"HTTP/1.1", b"HTTP/1.0"),
        PLAIN.replace(b"POST", b"HEAD"),
        PLAIN.replace(b"POST /v1/chat/completions", b"CONNECT example:443"),
        PLAIN.replace(b"Content-Length: 2", b"Transfer-Encoding: chunked"),
        PLAIN.replace(b"Host: x", b"Host: x\r\nConnection: close"),
        PLAIN.replace(b"Host: x", b"Host: x\r\nExpect: 100-continue"),
        PLAIN.replace(b"Host: x", b"Host: x\r\nUpgrade: h2c"),
        PLAIN.replace(b"Host: x\r\n", b""),  # no Host
        PLAIN.replace(b"Host: x", b"Host: x\r\nHost: y"),
        PLAIN.replace(b"Content-Length: 2", b"Content-Length: 2, 2"),
        PLAIN.replace(b"Content-Length: 2", b"Content-Length: 2\r\nContent-Length: 2"),
        PLAIN.replace(b"Content-Length: 2", b"Content-Length: -2"),
        PLAIN.replace(b"Content-Length: 2", b"Content-Length: %d" % (BODY_LIMIT + 1)),
        PLAIN.replace(b"Host: x", b"Host: x\r\n folded"),  # obs-fold
        PLAIN.replace(b"Host: x", b"Host : x"),  # space before the colon
        PLAIN.replace(b"Host: x", b"Host: x\x00y"),
        PLAIN.replace(b"Host: x", b"Host: x\ry"),
        PLAIN.replace(b"\r\n", b"\n"),  # bare LF line ends
        PLAIN.replace(b"Host: x\r\n", b"Host: x\n"),
        b"\r\n" + PLAIN,  # an empty line first
        b" " + PLAIN,
        PLAIN.replace(b"/v1/chat/completions", b"/a b"),
        b"POST /x HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 2000,  # longer than the head limit, no end
    ],
)
def test_anything_else_is_left_to_h11(raw: bytes) -> None:
    buffer = bytearray(raw)
    assert http1.parse_head(buffer, BODY_LIMIT, 1024) is None
    assert buffer == raw  # untouched: h11 gets every byte


def test_an_incomplete_head_waits_for_more() -> None:
    buffer = bytearray(PLAIN[:30])
    assert http1.parse_head(buffer, BODY_LIMIT, 1 << 20) is http1.NEED_DATA
    assert http1.parse_head(bytearray(), BODY_LIMIT, 1 << 20) is http1.NEED_DATA


def _h11_response(status: int, reason: bytes, headers: list[tuple[str, str]], length: int | None) -> bytes:
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(PLAIN + b"{}")
    while not isinstance(connection.next_event(), h11.EndOfMessage):
        pass
    if length is not None:
        headers = [*headers, ("content-length", str(length))]
    return connection.send(h11.Response(status_code=status, headers=headers, reason=reason))


@settings(max_examples=200, deadline=None)
@given(
    status=st.integers(200, 599).filter(lambda s: s not in (204, 304)),
    reason=st.sampled_from([b"", b"OK", b"Not Found"]),
    fields=st.lists(st.tuples(NAME, st.lists(VISIBLE, max_size=3).map(" ".join)), max_size=8),
    length=st.none() | st.integers(0, 10**9),
)
def test_response_heads_are_h11s_bytes(
    status: int, reason: bytes, fields: list[tuple[str, str]], length: int | None
) -> None:
    assert http1.response_head(status, reason, fields, length) == _h11_response(
        status, reason, fields, length
    )


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (204, []),
        (304, []),
        (101, []),
        (600, []),
        (200, [("Content-Length", "3")]),
        (200, [("transfer-encoding", "chunked")]),
        (200, [("Connection", "close")]),
        (200, [("host", "x")]),
        (200, [("x-a", "b\r\nx-b: c")]),  # a line break inside a value
        (200, [("x-a: b", "c")]),  # a colon inside a name
        (200, [("x-a", " padded")]),
        (200, [("x-a", "café")]),
        (200, [("x a", "b")]),
    ],
)
def test_unusual_responses_are_left_to_h11(status: int, headers: list[tuple[str, str]]) -> None:
    assert http1.response_head(status, b"", headers, None) is None


def test_chunks_are_h11s() -> None:
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(PLAIN + b"{}")
    while not isinstance(connection.next_event(), h11.EndOfMessage):
        pass
    connection.send(h11.Response(status_code=200, headers=[]))
    for data in (b"", b"a", b"x" * 300):
        assert http1.chunk(data) == connection.send(h11.Data(data=data))
    assert connection.send(h11.EndOfMessage()) == http1.CHUNKED_END


# --- the server -------------------------------------------------------------------------------------------------

EVENTS = [{"data": {"i": i, "text": f"word{i}"}} for i in range(5)]
STREAM = b'{"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'


def _request(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (extra, len(body), body)
    )


def _read_chunked(sock: socket.socket, buffer: bytes = b"") -> tuple[bytes, bytes, bytes]:
    """One chunked response: (head, raw body up to its last chunk, what follows)."""
    while b"\r\n0\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        assert data, "closed before the end of the body"
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    body, _, after = rest.partition(b"\r\n0\r\n\r\n")
    return head, body + b"\r\n0\r\n\r\n", after


def _without_ids(head: bytes) -> list[bytes]:
    return [line for line in head.split(b"\r\n") if not line.startswith(b"x-request-id")]


def test_plain_and_h11_connections_send_the_same_bytes() -> None:
    """The same request read plainly (twice: the second body comes from the memo) and by h11 (a
    ``Connection: keep-alive`` header hands the connection to h11) gets the same head and body bytes."""
    script = {"rules": [{"reply": {"events": EVENTS}}]}
    with BackgroundServer(script) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(_request(STREAM) * 2)
            first_head, first, rest = _read_chunked(sock)
            second_head, second, rest = _read_chunked(sock, rest)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(_request(STREAM, b"Connection: keep-alive\r\n"))
            h11_head, h11_body, _ = _read_chunked(sock)
    assert first == second == h11_body
    assert _without_ids(first_head) == _without_ids(second_head) == _without_ids(h11_head)
    assert b"Transfer-Encoding: chunked" in first_head


def test_a_connection_handed_to_h11_midway_keeps_serving() -> None:
    """Plain, then a chunked request body (h11 from there on), then plain bytes again: all answered."""
    script = {"rules": [{"reply": {"json": {"ok": True}}}]}
    chunked = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    )
    with BackgroundServer(script) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(_request(b"{}") + chunked + _request(b"{}"))
            answer = b""
            while answer.count(b'{"ok":true}') < 3:
                data = sock.recv(65536)
                assert data, answer
                answer += data
        assert answer.count(b"HTTP/1.1 200 OK\r\n") == 3
        assert [r.body for r in server.requests] == [b"{}", b"{}", b"{}"]


def test_a_head_over_the_limit_is_h11s_431() -> None:
    with BackgroundServer() as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * (server_module._MAX_HEAD + 10))
            assert sock.recv(65536).startswith(b"HTTP/1.1 431 ")


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every write the server makes (all connections), in order."""
    seen: list[bytes] = []
    original = server_module._Connection._write

    async def record(self: server_module._Connection, data: bytes) -> None:
        seen.append(data)
        await original(self, data)

    monkeypatch.setattr(server_module._Connection, "_write", record)
    return seen


def _writes_for(script: dict, writes: list[bytes], body: bytes = STREAM) -> int:
    """How many writes the server made for one request."""
    with BackgroundServer(script) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(_request(body))
            _read_chunked(sock)
        (seen,) = server.requests
        assert seen.completed and len(seen.frame_times) > 1
    count = len(writes)
    writes.clear()
    return count


def test_an_unpaced_reply_is_one_write(writes: list[bytes]) -> None:
    assert _writes_for({"rules": [{"reply": {"events": EVENTS}}]}, writes) == 1
    assert _writes_for({"fallback": "generate"}, writes) == 1


@pytest.mark.parametrize(
    "script",
    [
        {"rules": [{"reply": {"events": EVENTS, "chunks": [7]}}]},
        {"rules": [{"reply": {"events": EVENTS, "event_delay_ms": 1}}]},
        {"fallback": "generate", "variant": "many-per-write"},
        {"fallback": "generate", "variant": "split"},
    ],
)
def test_paced_chunked_and_regrouped_replies_keep_their_writes(script: dict, writes: list[bytes]) -> None:
    headers = [("host", "x"), ("authorization", "Bearer k"), ("content-type", "application/json")]
    reply = MockUpstream(script).handle(Request("POST", "/v1/chat/completions", headers, STREAM))
    assert not reply.together
    head_alone = reply.frames[0].delay > 0  # the head goes out before the first wait
    assert _writes_for(script, writes) == len(reply.frames) + head_alone > 1


def test_a_pipelined_burst_does_not_hold_up_other_connections() -> None:
    """Hundreds of requests that arrive in one read are served with a yield between them: a request on
    another connection is answered among the first of them, not after the whole burst."""
    script = {"rules": [{"reply": {"json": {"ok": True}}}]}
    burst = 400  # about 60 KB: one loopback segment, one read
    with BackgroundServer(script) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as first,
            socket.create_connection(("127.0.0.1", port), timeout=5) as second,
        ):
            first.sendall(_request(b"{}", b"X-Burst: 1\r\n") * burst)
            second.sendall(_request(b"{}", b"X-Other: 1\r\n"))
            assert second.recv(65536).startswith(b"HTTP/1.1 200 ")
            answers = b""
            while answers.count(b'{"ok":true}') < burst:
                data = first.recv(1 << 20)
                assert data
                answers += data
        order = [r.header("x-other") is not None for r in server.requests]
    assert len(order) == burst + 1 and order.index(True) < 50


def test_expect_100_continue_is_h11s() -> None:
    script = {"rules": [{"reply": {"json": {"ok": True}}}]}
    with BackgroundServer(script) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            head = _request(b"{}", b"Expect: 100-continue\r\n")[:-2]  # the head alone: the body waits
            sock.sendall(head)
            assert sock.recv(65536).startswith(b"HTTP/1.1 100 ")
            sock.sendall(b"{}")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")


def test_a_reply_header_h11_must_write_hands_the_connection_over() -> None:
    """A scripted ``connection: close`` is h11's to honour: the answer says so and the connection ends."""
    script = {"rules": [{"reply": {"json": {"ok": True}, "headers": {"connection": "close"}}}]}
    with BackgroundServer(script) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(_request(b"{}"))
            answer = b""
            while data := sock.recv(65536):  # ends only when the server closes
                answer += data
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"connection: close" in answer.lower()
    assert answer.endswith(b'{"ok":true}')
