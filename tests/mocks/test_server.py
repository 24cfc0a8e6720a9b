"""The standalone trio + h11 server: inside a nursery, keep-alive, bad input, and ``wirecheck serve``."""

from __future__ import annotations

import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
import trio

from mocks.engine import HostedUpstream
from mocks.server import BackgroundServer, Timeouts, serve
from tests.mocks.conftest import ANTHROPIC_MODEL, OPENAI_TOOL


def test_serve_in_a_nursery_with_async_sdks() -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            hosted: HostedUpstream = await nursery.start(serve, {"fallback": "generate"})
            assert hosted.url.startswith("http://127.0.0.1:")
            oai = openai.AsyncOpenAI(base_url=hosted.urls["openai"], api_key="k", max_retries=0)
            completion = await oai.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "call get_weather"}],
                tools=[OPENAI_TOOL],
            )
            assert completion.choices[0].message.tool_calls[0].function.name == "get_weather"
            ant = anthropic.AsyncAnthropic(base_url=hosted.urls["anthropic"], api_key="k", max_retries=0)
            async with ant.messages.stream(
                model=ANTHROPIC_MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}]
            ) as stream:
                message = await stream.get_final_message()
            assert message.content[0].type == "text"
            assert [r.endpoint for r in hosted.requests] == ["chat", "messages"]
            nursery.cancel_scope.cancel()

    trio.run(main)


def _read_response(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes]:
    """One Content-Length response from ``buffer`` + the socket; returns (response, rest)."""
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with (
        BackgroundServer() as server,
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as sock,
    ):
        request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
        sock.sendall(request * 2)  # pipelined
        first, rest = _read_response(sock, b"")
        second, _ = _read_response(sock, rest)
        sock.sendall(request)
        third, _ = _read_response(sock, b"")
        assert all(r.startswith(b"HTTP/1.1 200 OK\r\n") for r in (first, second, third))
        assert len(server.requests) == 3


MODELS = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"


def _connect(server: BackgroundServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    sock.settimeout(10)
    return sock


def test_a_connection_left_idle_is_closed_after_the_idle_timeout() -> None:
    with BackgroundServer(timeouts=Timeouts(idle=0.3)) as server, _connect(server) as sock:
        sock.sendall(MODELS)
        _read_response(sock, b"")
        started = time.monotonic()
        assert sock.recv(65536) == b""
        assert 0.3 <= time.monotonic() - started < 3


def test_a_request_that_stops_halfway_gets_408_and_is_captured_as_such() -> None:
    with BackgroundServer(timeouts=Timeouts(read=0.3)) as server, _connect(server) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}")
        started = time.monotonic()
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"connection: close" in answer
        assert 0.3 <= time.monotonic() - started < 3
        assert sock.recv(65536) == b""
        (seen,) = server.requests
        assert (seen.status, seen.rejected, seen.body, seen.body_length) == (408, "body deadline", b"{}", 2)


def test_a_client_that_stops_reading_is_recorded_as_gone() -> None:
    script = {"rules": [{"reply": {"body": "x" * (32 << 20)}}]}  # more than the socket buffers hold
    with BackgroundServer(script, timeouts=Timeouts(write=0.3)) as server, _connect(server) as sock:
        sock.sendall(MODELS)
        deadline = time.monotonic() + 5
        while not (server.requests and server.requests[0].disconnected) and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = server.requests[0]
        assert seen.disconnected and seen.disconnect_frame == 0 and not seen.completed


def test_scripted_pauses_are_not_cut_by_the_write_timeout() -> None:
    events = [{"data": {"n": i}, "delay_ms": 400} for i in range(2)]
    with BackgroundServer({"rules": [{"reply": {"events": events}}]}, timeouts=Timeouts(write=0.2)) as server:
        reply = httpx.post(server.urls["openai"] + "/chat/completions", headers={"authorization": "Bearer k"})
        assert reply.status_code == 200 and reply.text.endswith("data: [DONE]\n\n")
        assert server.requests[0].completed and not server.requests[0].disconnected


def _reset(sock: socket.socket) -> None:
    """Close with a reset (RST), not a FIN: what a gateway dropping its upstream connection does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


STREAM = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
    b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
)


@pytest.mark.parametrize("how", ["reset", "garbage", "half_close"])
def test_a_client_that_resets_or_sends_garbage_mid_reply_never_stops_the_server(how: str) -> None:
    events = [{"data": {"n": i}, "delay_ms": 150} for i in range(4)]
    with BackgroundServer({"rules": [{"reply": {"events": events}}]}) as server:
        sock = _connect(server)
        sock.sendall(STREAM)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")  # the head and the first frame
        if how == "reset":
            _reset(sock)
        elif how == "garbage":
            sock.sendall(b"\x00\xff\xfe not http at all \r\n\r\n" * 64)
        else:
            sock.shutdown(socket.SHUT_WR)
        time.sleep(0.8)  # the rest of the reply's pauses: the watcher saw the client's move by now
        if how != "reset":
            sock.close()
        reply = httpx.post(server.urls["openai"] + "/chat/completions", headers={"authorization": "Bearer k"})
        assert reply.status_code == 200  # the server still serves
        if how != "garbage":  # garbage is only read once the reply is done (then answered 400)
            first = server.requests[0]
            assert first.disconnected and not first.completed


def test_malformed_http_gets_400() -> None:
    with (
        BackgroundServer() as server,
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as sock,
    ):
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400 ")


def test_wirecheck_serve_prints_urls_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(
        "rules:\n  - match: {path: /v1/chat/completions}\n    reply: {answer: {text: scripted}}\n"
    )
    # Python's own Ctrl-C handler, even when this test runs as a background job (which ignores SIGINT).
    launcher = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    launcher += "from harness.cli import main; sys.exit(main())"
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, "serve", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = dict(process.stdout.readline().strip().split(": ", 1) for _ in range(4))
        assert set(lines) == {"openai", "anthropic", "gemini", "azure"}
        assert lines["openai"].endswith("/v1") and lines["openai"].startswith("http://127.0.0.1:")
        client = openai.OpenAI(base_url=lines["openai"], api_key="k", max_retries=0)
        reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content == "scripted"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out.strip() == "stopped"


def test_wirecheck_serve_reports_script_errors(tmp_path: Path) -> None:
    script = tmp_path / "broken.json"
    script.write_text('{"rules": [{"times": "twice"}]}')
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "serve", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "broken.json:1: rules[0].times: expected an integer >= 1, got 'twice'" in result.stderr


def test_wirecheck_serve_limits_flags_reach_the_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "--max-body", "1KiB", "--head-timeout", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = dict(process.stdout.readline().strip().split(": ", 1) for _ in range(4))
        base = lines["openai"].removesuffix("/v1")
        headers = {"authorization": "Bearer k"}
        reply = httpx.post(
            lines["openai"] + "/chat/completions", content=b"x" * 2048, headers=headers, timeout=5
        )
        assert reply.status_code == 413
        (seen,) = httpx.get(base + "/__wirecheck/requests", timeout=5).json()["requests"]
        assert (seen["status"], seen["body_length"], seen["body_truncated"]) == (413, 2048, True)
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 408 ")  # after the 0.3 s head deadline
    finally:
        process.kill()
        process.communicate(timeout=10)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-body", "lots"], "argument --max-body: expected bytes"),
        (["--max-connections", "0"], "wirecheck serve: --max-connections 0: expected a whole number >= 1"),
        (
            ["--head-timeout", "-1"],
            "wirecheck serve: --head-timeout -1.0: expected a finite number of seconds above 0",
        ),
        (
            ["--body-timeout", "inf"],
            "wirecheck serve: --body-timeout inf: expected a finite number of seconds above 0",
        ),
        (["cassettes/openai-chat.yaml", "--max-connections", "3"], "apply to a script"),
    ],
)
def test_wirecheck_serve_refuses_bad_limits(flags: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "serve", *flags],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 2
    assert message in result.stderr
