"""The standalone trio + h11 server: inside a nursery, keep-alive, bad input, and ``wirecheck serve``."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import anthropic
import openai
import trio

from mocks.engine import HostedUpstream
from mocks.server import BackgroundServer, serve
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
    assert "broken.json: rules[0].times: expected an integer >= 1, got 'twice'" in result.stderr
