"""``wirecheck serve`` as a real process: a recorded cassette for the official SDKs, a folder of cassettes,
near misses as they happen and the account at shutdown, generated replies with no script, and bad input as
one line on stderr with exit 2. Loopback only."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from harness.cassettes import format as fmt

from .corpus import REPO, STARTER_DIR

DIALECTS = ("openai", "anthropic", "gemini", "azure")
WAIT = 20.0  # seconds any one read from the server process may take


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "serve", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


class Served:
    """A ``wirecheck serve`` process: its base URLs, and its stdout and stderr read line by line, each read
    bounded by a timeout (raw reads of the pipes: a buffered reader would hide lines from ``select``)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.selector = selectors.DefaultSelector()
        self.names = {process.stdout.fileno(): "stdout", process.stderr.fileno(): "stderr"}
        for fd in self.names:
            self.selector.register(fd, selectors.EVENT_READ)
        self.pending = {"stdout": b"", "stderr": b""}
        self.urls = dict(self.line("stdout").split(": ", 1) for _ in DIALECTS)
        self.url = self.urls["anthropic"]  # the bare base URL

    def line(self, which: str, timeout: float = WAIT) -> str:
        """The next line of ``stdout`` or ``stderr`` (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending[which]:
            left = deadline - time.monotonic()
            assert left > 0, f"no {which} line from wirecheck serve within {timeout} s"
            for key, _ in self.selector.select(left):
                data = os.read(key.fd, 65536)
                assert data, f"wirecheck serve ended early ({self.process.wait(WAIT)}): {self.pending}"
                self.pending[self.names[key.fd]] += data
        line, _, self.pending[which] = self.pending[which].partition(b"\n")
        return line.decode()

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then (exit status, the rest of stdout, the rest of stderr)."""
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=WAIT)
        rest_out = (self.pending["stdout"] + out).decode().strip()
        rest_err = (self.pending["stderr"] + err).decode().strip()
        return self.process.returncode, rest_out, rest_err


@contextmanager
def served(*args: str) -> Iterator[Served]:
    process = subprocess.Popen(_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        yield Served(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)


def sse_events(body: bytes) -> list[dict]:
    """The JSON of every SSE ``data:`` line but ``[DONE]``."""
    out = []
    for line in body.decode().replace("\r\n", "\n").split("\n"):
        if line.startswith("data:") and line[5:].strip() != "[DONE]":
            out.append(json.loads(line[5:]))
    return out


def _dump(value) -> dict:
    return value.model_dump(mode="json", exclude_unset=True)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_official_sdks_get_what_the_cassette_recorded(sdk: str) -> None:
    """Each interaction's request sent again by the SDK (sync client, ``base_url=``): a plain call parses to
    the recorded body, a stream to the recorded events (the anthropic SDK does not surface ``ping``), and
    the server ends with every interaction used (exit 0)."""
    cassette = fmt.load(STARTER_DIR / ("openai-chat.yaml" if sdk == "openai" else "anthropic-messages.yaml"))
    assert {bool(it.request.json.get("stream")) for it in cassette.interactions} == {False, True}
    with served(str(cassette.path), "--speed", "0") as server:
        if sdk == "openai":
            client = openai.OpenAI(
                base_url=server.urls["openai"], api_key="sk-test", max_retries=0, timeout=10
            )
            create = client.chat.completions.create
        else:
            client = anthropic.Anthropic(
                base_url=server.urls["anthropic"], api_key="sk-ant-test", max_retries=0, timeout=10
            )
            create = client.messages.create
        for it in cassette.interactions:
            result = create(**it.request.json)
            if it.request.json.get("stream"):
                want = [e for e in sse_events(it.response.body) if e.get("type") != "ping"]
                assert [_dump(event) for event in result] == want
            else:
                assert _dump(result) == it.response.json
        client.close()
        status, out, err = server.stop()
    assert (status, out, err) == (0, "stopped\nserved 2 of 2 interactions", "")


def test_a_folder_near_misses_as_they_come_and_the_account_at_shutdown(tmp_path: Path) -> None:
    """A folder of cassettes behind one server; a request nothing matches is reported on stderr while the
    server runs, with what differed; at SIGTERM the unused interactions are listed and the exit is 1."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name in ("openai-chat.yaml", "gemini-generate.yaml"):
        (folder / name).write_bytes((STARTER_DIR / name).read_bytes())
    chat = fmt.load(folder / "openai-chat.yaml").interactions[0]
    with (
        served(str(folder), "--speed", "0") as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        assert client.post(chat.request.path, content=chat.request.body).content == chat.response.body
        wrong = {**chat.request.json, "model": "gpt-5"}
        assert client.post(chat.request.path, json=wrong).status_code == 404
        line = server.line("stderr")
        assert line.startswith("wirecheck serve: unmatched: POST /v1/chat/completions: no rule matched;"), (
            line
        )
        assert "json.model: expected 'gpt-4o', got 'gpt-5'" in line
        status, out, err = server.stop()
    assert status == 1
    assert "served 1 of 4 interactions" in out
    lines = err.splitlines()
    assert "wirecheck serve: unused interaction openai-chat#1: POST /v1/chat/completions" in lines
    assert (
        "wirecheck serve: unused interaction gemini-generate#0: POST /v1beta/models/gemini-2.5-flash:generateContent"
        in lines
    )
    assert any(x.startswith("wirecheck serve: unmatched request: POST /v1/chat/completions") for x in lines)


def test_speed_scales_the_recorded_timing(tmp_path: Path) -> None:
    """A stream whose last chunk came 3 s after the first: at --speed 0 it arrives at once, at --speed 10 it
    waits for the scaled gap (0.3 s); by default it waits the whole 3 s (not measured: too slow)."""
    it = fmt.Interaction(
        request=fmt.Request("POST", "/v1/chat/completions", body=b'{"model":"m","stream":true}'),
        response=fmt.Response(
            200,
            {"content-type": ["text/event-stream"]},
            chunks=[fmt.Chunk(0, b'data: {"n":1}\n\n'), fmt.Chunk(3000, b"data: [DONE]\n\n")],
            t_ms=0,
        ),
        source="synthetic",
    )
    path = fmt.save(fmt.Cassette([it], name="slow"), tmp_path / "slow.yaml")
    took = {}
    for speed in ("0", "10"):
        with served(str(path), "--speed", speed) as server:
            start = time.monotonic()
            reply = httpx.post(
                server.urls["openai"] + "/chat/completions", content=it.request.body, timeout=10
            )
            took[speed] = time.monotonic() - start
            assert reply.content == it.response.body
            assert server.stop()[0] == 0
    assert took["0"] < 1.5
    assert took["10"] >= 0.3 * 0.9


def test_relaxed_matching_flags(tmp_path: Path) -> None:
    """``--ignore-query beta --ignore-path-version``: ``?beta=true`` and ``/v1/`` for ``/v1beta/`` match."""
    source = fmt.load(STARTER_DIR / "gemini-generate.yaml").interactions[0]
    path = fmt.save(fmt.Cassette([source], name="g"), tmp_path / "g.yaml")
    target = source.request.path.replace("/v1beta/", "/v1/") + "?beta=true"
    headers = {"content-type": "application/json", "x-goog-api-key": "g-test"}
    with served(str(path), "--speed", "0") as server:
        assert (
            httpx.post(server.url + target, content=source.request.body, headers=headers).status_code == 404
        )
        assert "path: expected /v1beta/models/gemini-2.5-flash:generateContent" in server.line("stderr")
        assert server.stop()[0] == 1
    with served(str(path), "--speed", "0", "--ignore-query", "beta", "--ignore-path-version") as server:
        reply = httpx.post(server.url + target, content=source.request.body, headers=headers)
        assert reply.content == source.response.body
        assert server.stop() == (0, "stopped\nserved 1 of 1 interactions", "")


HI = [{"role": "user", "content": "hi"}]
#: name -> (dialect, path under its base URL, JSON body, the key header), one request per kind of route
ROUTES = {
    "openai": (
        "openai",
        "/chat/completions",
        {"model": "gpt-4o", "messages": HI},
        {"authorization": "Bearer k"},
    ),
    "anthropic": (
        "anthropic",
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": HI},
        {"x-api-key": "k", "anthropic-version": "2023-06-01"},
    ),
    "gemini": (
        "gemini",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        {"x-goog-api-key": "k"},
    ),
    "azure": (
        "azure",
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
        {"model": "gpt-4o", "messages": HI},
        {"api-key": "k"},
    ),
    "embeddings": ("openai", "/embeddings", {"model": "m", "input": "hi"}, {"authorization": "Bearer k"}),
}


def test_serve_with_no_script_answers_every_route() -> None:
    with served() as server:
        replies = {
            name: httpx.post(server.urls[dialect] + path, json=body, headers=key, timeout=10)
            for name, (dialect, path, body, key) in ROUTES.items()
        }
        status, out, err = server.stop()
    for name, reply in replies.items():
        assert reply.status_code == 200, (name, reply.text)
    assert replies["openai"].json()["choices"][0]["message"]["content"]
    assert replies["anthropic"].json()["content"][0]["type"] == "text"
    assert replies["gemini"].json()["candidates"][0]["content"]["parts"]
    assert replies["embeddings"].json()["data"][0]["embedding"]
    assert (status, out, err) == (0, "stopped", "")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _bad_inputs(tmp: Path, busy: int) -> dict[str, tuple[list[str], str]]:
    """name -> (arguments, what the one line must say)."""
    bad_yaml = tmp / "broken.yaml"
    bad_yaml.write_text("rules: [\n")
    not_text = tmp / "binary.yaml"
    not_text.write_bytes(b"\xff\xfe\x00 wirecheck")
    bad_cassette = tmp / "bad-cassette.yaml"
    bad_cassette.write_text("wirecheck_cassette: 1\nmatch: {ignore_query: beta}\ninteractions: []\n")
    empty = tmp / "empty"
    empty.mkdir()
    return {
        "busy port": (["--port", str(busy)], f"port {busy} on 127.0.0.1 is already in use"),
        "unknown host": (["--host", "no-such-host.invalid"], "cannot listen on host 'no-such-host.invalid'"),
        "foreign address": (
            ["--host", "192.0.2.1"],
            "cannot listen on host '192.0.2.1': not an address of this machine",
        ),
        "port too big": (["--port", "65536"], "--port 65536: outside 0..65535"),
        "negative port": (["--port", "-1"], "--port -1: outside 0..65535"),
        "port not a number": (["--port", "http"], "--port 'http': expected a whole number in 0..65535"),
        "missing file": ([str(tmp / "nope.yaml")], f"{tmp / 'nope.yaml'}: no such file or folder"),
        "not text": ([str(not_text)], f"{not_text}: not UTF-8 text"),
        "malformed script": ([str(bad_yaml)], f"{bad_yaml}:2: <yaml>: expected valid YAML"),
        "malformed cassette": (
            [str(bad_cassette)],
            f"{bad_cassette}:2: match.ignore_query: 'beta' is not of type 'array'",
        ),
        "folder without cassettes": ([str(empty)], f"{empty}: <folder>: no cassettes in it"),
        "bad speed": ([str(STARTER_DIR), "--speed", "-2"], "--speed -2: expected a number >= 0"),
        "replay flag on a script": ([str(bad_yaml), "--speed", "0"], "apply to cassettes only"),
    }


@pytest.mark.parametrize(
    "case",
    ["busy port", "unknown host", "foreign address", "port too big", "negative port", "port not a number",
     "missing file", "not text", "malformed script", "malformed cassette", "folder without cassettes",
     "bad speed", "replay flag on a script"],
)  # fmt: skip
def test_bad_input_is_one_line_naming_it_and_exit_2(case: str, tmp_path: Path, busy_port: int) -> None:
    args, message = _bad_inputs(tmp_path, busy_port)[case]
    done = subprocess.run(_command(*args), capture_output=True, text=True, timeout=60, env=_env())
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("wirecheck serve: ") and message in done.stderr, done.stderr
