"""The recording proxy, end to end on loopback only: a client (the official openai SDK, or httpx) talks to the
recorder, the recorder to our own mock server. The cassette holds no key, and replays byte for byte."""

from __future__ import annotations

import argparse
import functools
import json

import openai
import pytest
import trio

from harness.cassettes import format as fmt
from harness.cassettes.cli import add_commands
from harness.cassettes.record import RecordingRefused, serve_recorder
from harness.cassettes.replay import replaying
from harness.cassettes.scrub import scan
from mocks.server import serve

from .corpus import http_client

pytestmark = pytest.mark.anyio

KEY = "sk-proj-" + "Rk7Tq2Wm9Xc4Vb1Nz8Ls5Pd3Hf6Jg0Ka2Qe4Ru7Ty9Ui1Op3As"
GOOGLE_KEY = "AIza" + "SyB1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q6R"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
SCRIPT = {
    "seed": 3,
    "rules": [
        {
            "match": {"path": "/v1/chat/completions"},
            "reply": {
                "answer": {
                    "text": "Checking the weather.",
                    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
                },
                "event_delay_ms": 15,
            },
        },
        {"match": {"path": "/v1beta/models/{model}:generateContent"}, "reply": {"answer": {"text": "ok"}}},
    ],
}


def _sdk_calls(base_url: str) -> tuple[str, list[str]]:
    """The official (synchronous) openai SDK: one plain call and one stream; returns what the SDK parsed."""
    client = openai.OpenAI(base_url=base_url + "/v1", api_key=KEY, max_retries=0, timeout=10)
    messages = [{"role": "user", "content": "Weather in Oslo?"}]
    whole = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    pieces = []
    for chunk in client.chat.completions.create(
        model="gpt-4o", messages=messages, tools=TOOLS, stream=True, stream_options={"include_usage": True}
    ):
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            for call in choice.delta.tool_calls or []:
                pieces.append(call.function.arguments or "")
    client.close()
    return whole.model_dump_json(), pieces


async def _recorded(recorder, n: int) -> None:
    """Wait until the recorder has ``n`` interactions (a client may finish reading before the proxy has
    written the end of the message and filed the exchange)."""
    with trio.fail_after(5):
        while len(recorder.interactions) < n:
            await trio.sleep(0.005)


async def test_record_with_the_official_sdk_then_replay_byte_for_byte(tmp_path):
    out = tmp_path / "recorded.yaml"
    async with trio.open_nursery() as nursery:
        mock = await nursery.start(serve, SCRIPT)
        recorder = await nursery.start(functools.partial(serve_recorder, mock.url, out))
        recorded_whole, recorded_pieces = await trio.to_thread.run_sync(_sdk_calls, recorder.url)
        await _recorded(recorder, 2)
        nursery.cancel_scope.cancel()  # as Ctrl-C does: the cassette is written on the way out

    text = out.read_text()
    assert KEY not in text and KEY[:12] not in text
    assert "authorization: Bearer <scrubbed>" in text
    assert scan(out) == []
    cassette = fmt.load(out)
    plain, stream = cassette.interactions
    assert plain.source == stream.source == "recorded"
    assert plain.response.chunks is None and json.loads(plain.response.body)["object"] == "chat.completion"
    chunks = stream.response.chunks
    assert len(chunks) > 3 and stream.response.body.endswith(b"data: [DONE]\n\n")
    times = [c.t_ms for c in chunks]
    assert times == sorted(times) and times[-1] - times[0] >= 15 * (len(chunks) - 2) * 0.8
    assert stream.index["tools"] == ["get_weather"] and stream.index["stream"] is True
    assert "host" not in plain.request.headers and "content-length" not in plain.request.headers

    async with replaying(cassette, speed=0) as session:
        replayed_whole, replayed_pieces = await trio.to_thread.run_sync(_sdk_calls, session.url)
    assert replayed_whole == recorded_whole
    assert replayed_pieces == recorded_pieces

    async with replaying(cassette, speed=0) as session, http_client(base_url=session.url) as client:
        for it in cassette.interactions:
            response = await client.post(
                it.request.path, content=it.request.body, headers={"content-type": "application/json"}
            )
            assert response.content == it.response.body


async def test_the_recorder_forwards_each_chunk_as_it_arrives(tmp_path):
    script = {
        "auth": {"required": False},
        "rules": [
            {
                "match": {"path": "/v1/chat/completions"},
                "reply": {"events": [{"data": {"n": i}, "delay_ms": 150 if i else 0} for i in range(3)]},
            }
        ],
    }
    async with trio.open_nursery() as nursery:
        mock = await nursery.start(serve, script)
        recorder = await nursery.start(functools.partial(serve_recorder, mock.url, None, save_on_exit=False))
        arrivals = []
        async with http_client(base_url=recorder.url) as client:
            start = trio.current_time()
            async with client.stream(
                "POST", "/v1/chat/completions", json={"model": "m", "stream": True}
            ) as response:
                async for piece in response.aiter_raw():
                    arrivals.append((trio.current_time() - start, piece))
        await _recorded(recorder, 1)
        nursery.cancel_scope.cancel()
    assert arrivals[0][1].startswith(b'data: {"n":0}')
    assert arrivals[0][0] < 0.25  # the first event came through before the upstream was done (0.3 s)
    assert arrivals[-1][0] >= 0.28
    chunks = recorder.interactions[0].response.chunks
    assert [c.data for c in chunks][-1] == b"data: [DONE]\n\n"
    assert chunks[1].t_ms - chunks[0].t_ms >= 120


async def test_secrets_in_query_headers_and_bodies_never_reach_disk(tmp_path):
    out = tmp_path / "gemini.yaml"
    async with trio.open_nursery() as nursery:
        mock = await nursery.start(serve, SCRIPT)
        recorder = await nursery.start(functools.partial(serve_recorder, mock.url, None, save_on_exit=False))
        async with http_client(base_url=recorder.url) as client:
            body = {"contents": [{"role": "user", "parts": [{"text": f"my key is {GOOGLE_KEY}"}]}]}
            response = await client.post(
                "/v1beta/models/gemini-2.5-flash:generateContent",
                params={"key": GOOGLE_KEY},
                json=body,
                headers={"x-goog-api-key": GOOGLE_KEY, "cookie": "session=abc123"},
            )
            assert response.status_code == 200
        await _recorded(recorder, 1)
        nursery.cancel_scope.cancel()
    it = recorder.interactions[0]
    assert it.request.query == {"key": ["<scrubbed>"]}
    assert it.request.headers["x-goog-api-key"] == it.request.headers["cookie"] == ["<scrubbed>"]
    assert json.loads(it.request.body)["contents"][0]["parts"][0]["text"] == "my key is <scrubbed>"
    assert any("scrubbed" in note for note in it.notes)
    recorder.save(out)
    assert GOOGLE_KEY not in out.read_text() and scan(out) == []
    # a secret-named field the scrubber cannot recognise by shape: the cassette is refused, not written
    it.request.body = json.dumps({"contents": [], "client_secret": "hunter2-hunter2"}).encode()
    refused = tmp_path / "refused.yaml"
    with pytest.raises(RecordingRefused, match="secret-named field 'client_secret'"):
        recorder.save(refused)
    assert not refused.exists()


async def test_an_unreachable_upstream_is_a_502(tmp_path):
    async with trio.open_nursery() as nursery:
        recorder = await nursery.start(
            functools.partial(serve_recorder, "http://127.0.0.1:9", None, save_on_exit=False)
        )
        async with http_client(base_url=recorder.url) as client:
            response = await client.post("/v1/chat/completions", json={})
        nursery.cancel_scope.cancel()
    assert response.status_code == 502 and b"upstream" in response.content
    assert recorder.interactions == []


def test_record_command_line():
    parser = argparse.ArgumentParser(prog="wirecheck")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        ["record", "--upstream", "https://api.openai.com", "--out", "cassettes/x.yaml", "--port", "0"]
    )
    assert (args.upstream, args.out, args.port, args.host) == (
        "https://api.openai.com",
        "cassettes/x.yaml",
        0,
        "127.0.0.1",
    )
    assert args.run.__name__ == "_record"


def test_ctrl_c_writes_the_cassette(tmp_path):
    """``wirecheck record`` in its own process: requests go through, SIGINT stops it and the file is written."""
    import signal
    import subprocess
    import sys

    import httpx

    from mocks.server import BackgroundServer

    out = tmp_path / "ctrl-c.yaml"
    code = (
        "import argparse, sys\n"
        "from harness.cassettes.cli import add_commands\n"
        "parser = argparse.ArgumentParser(prog='wirecheck')\n"
        "add_commands(parser.add_subparsers(dest='command', required=True))\n"
        "args = parser.parse_args(sys.argv[1:])\n"
        "sys.exit(args.run(args))\n"
    )
    with BackgroundServer({"auth": {"required": False}, "rules": SCRIPT["rules"]}) as mock:
        process = subprocess.Popen(
            [sys.executable, "-c", code, "record", "--upstream", mock.url, "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            banner = process.stdout.readline()
            assert banner.startswith("recording http://127.0.0.1:"), banner + process.stderr.read()
            url = banner.split()[1]
            body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "stream": True}
            with httpx.Client(base_url=url, timeout=10) as client:
                assert (
                    client.post(
                        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {KEY}"}
                    ).status_code
                    == 200
                )
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr
    assert f"wrote 1 interactions to {out}" in stdout
    cassette = fmt.load(out)
    assert cassette.interactions[0].response.chunks and KEY not in out.read_text()
