"""Replay through the mock engine: strict matching with clear near misses, once mode, unused interactions as
failures, the recorded chunks and timing (scaled), and every cassette replayed whole, byte for byte."""

from __future__ import annotations

import json

import httpx
import pytest
import trio

from harness.cassettes import format as fmt
from harness.cassettes.replay import Replay, ReplayError, json_diff, replaying, without_version
from mocks.engine import MockUpstream
from mocks.server import BackgroundServer

from .corpus import cassettes, http_client

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"


def _chat(body: dict, answer: bytes, status: int = 200) -> fmt.Interaction:
    return fmt.Interaction(
        request=fmt.Request(
            "POST", CHAT, {}, {"content-type": ["application/json"]}, json.dumps(body).encode()
        ),
        response=fmt.Response(
            status, {"content-type": ["application/json"], "x-answer": [answer.decode()]}, body=answer
        ),
        source="synthetic",
    )


def _stream(chunks: list[tuple[float, bytes]], head: float = 0.0) -> fmt.Interaction:
    return fmt.Interaction(
        request=fmt.Request("POST", CHAT, {}, {}, b'{"model":"m","stream":true}'),
        response=fmt.Response(
            200,
            {"content-type": ["text/event-stream"]},
            chunks=[fmt.Chunk(t, d) for t, d in chunks],
            t_ms=head,
        ),
        source="synthetic",
    )


@pytest.fixture(scope="module")
def server():
    with BackgroundServer(MockUpstream()) as hosted:
        yield hosted


async def _post(url: str, body: dict | bytes, path: str = CHAT, **kw) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http_client(base_url=url) as client:
        return await client.post(path, content=content, headers={"content-type": "application/json"}, **kw)


async def test_once_mode_serves_repeats_in_order_then_reports_used_up(server):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    replay = Replay(fmt.Cassette([_chat(body, b'{"n":1}'), _chat(body, b'{"n":2}')], name="c"), speed=0)
    replay.install(server)
    assert (await _post(server.url, body)).content == b'{"n":1}'
    assert replay.unused() == ["c#1"]
    with pytest.raises(ReplayError, match=r"unused interaction c#1: POST /v1/chat/completions"):
        replay.check()
    assert (await _post(server.url, body)).content == b'{"n":2}'
    replay.check()
    third = await _post(server.url, body)
    assert third.status_code == 404
    assert replay.served() == {"c#0": 1, "c#1": 1}
    with pytest.raises(ReplayError) as caught:
        replay.check()
    assert (
        "unmatched request: POST /v1/chat/completions: no rule matched; nearest 'c#0': times: used up (1 of 1)"
        in str(caught.value)
    )


async def test_repeats_allowed_when_not_once(server):
    body = {"model": "m"}
    replay = Replay(fmt.Cassette([_chat(body, b"{}")], name="c"), speed=0, once=False)
    replay.install(server)
    for _ in range(3):
        assert (await _post(server.url, body)).status_code == 200
    assert replay.served() == {"c#0": 3}
    replay.check()


async def test_matching_is_strict_and_near_misses_say_why(server):
    body = {
        "model": "m",
        "temperature": 1,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
    }
    replay = Replay(fmt.Cassette([_chat(body, b"{}")], name="c"), speed=0)
    replay.install(server)
    variants = {
        "json.temperature: expected 1, got 1.0": {**body, "temperature": 1.0},
        "json.stream_options: missing": {k: v for k, v in body.items() if k != "stream_options"},
        "json.extra: not expected (got true)": {**body, "extra": True},
        "json.messages[0].content: expected 'hi', got 'ho'": {
            **body,
            "messages": [{"role": "user", "content": "ho"}],
        },
    }
    for reason, variant in variants.items():
        assert (await _post(server.url, variant)).status_code == 404
        assert reason in str(replay.unmatched()[-1]), replay.unmatched()[-1]
    assert (await _post(server.url, body, params={"x": "1"})).status_code == 404
    assert 'query.x: expected null, got ["1"]' in str(replay.unmatched()[-1])
    assert (await _post(server.url, body, path="/v1/embeddings")).status_code == 404
    assert "path: expected /v1/chat/completions, got /v1/embeddings" in str(replay.unmatched()[-1])
    # key order does not matter
    assert (await _post(server.url, dict(reversed(list(body.items()))))).status_code == 200


async def test_ignored_json_paths_and_scrubbed_values(server):
    recorded = {
        "model": "m",
        "metadata": {"user_id": "u1"},
        "messages": [{"role": "user", "content": "a", "cache_control": {"type": "ephemeral"}}],
        "note": "key <scrubbed> end",
    }
    it = _chat(recorded, b"{}")
    it.request.query = {"key": ["<scrubbed>"], "alt": ["sse"]}
    replay = Replay(
        fmt.Cassette([it], name="c"),
        speed=0,
        once=False,
        ignore=["metadata.user_id", "messages[*].cache_control"],
    )
    replay.install(server)
    sent = {
        **recorded,
        "metadata": {"user_id": "u2"},
        "messages": [{"role": "user", "content": "a"}],
        "note": "key sk-real end",
    }
    assert (await _post(server.url, sent, params={"key": "real-key", "alt": "sse"})).status_code == 200
    # the scrubbed query parameter may also be absent; the others are compared
    assert (await _post(server.url, sent, params={"alt": "sse"})).status_code == 200
    assert (await _post(server.url, sent, params={"alt": "json"})).status_code == 404
    assert json_diff({"a": "x <scrubbed>"}, {"a": "y"}, "", None) == [
        "json.a: expected 'x <scrubbed>', got 'y'"
    ]


async def test_unused_interactions_fail_the_replaying_block():
    cassette = fmt.Cassette([_chat({"model": "a"}, b"{}"), _chat({"model": "b"}, b"{}")], name="pair")
    with pytest.raises(ReplayError, match="unused interaction pair#1"):
        async with replaying(cassette, speed=0) as session:
            assert (await _post(session.url, {"model": "a"})).status_code == 200
    async with replaying(cassette, speed=0) as session:
        for model in ("a", "b"):
            assert (await _post(session.url, {"model": model})).status_code == 200
        assert session.urls["openai"] == session.url + "/v1"


async def test_status_headers_and_exact_chunks_at_their_timing(server):
    chunks = [(50.0, b'data: {"a":1}\r\n'), (50.0, b"\r\n"), (150.0, b"data: [DO"), (250.0, b"NE]\n\n")]
    it = _stream(chunks, head=20.0)
    it.response.headers["x-kept"] = ["yes"]
    it.response.headers["transfer-encoding"] = ["chunked"]
    it.response.headers["content-encoding"] = ["gzip"]  # stored decoded: never replayed
    replay = Replay(fmt.Cassette([it], name="s"), speed=2.0)  # twice as fast
    replay.install(server)
    got: list[tuple[float, bytes]] = []
    async with http_client(base_url=server.url) as client:
        start = trio.current_time()
        async with client.stream("POST", CHAT, content=it.request.body) as response:
            assert response.status_code == 200
            assert response.headers["x-kept"] == "yes"
            assert response.headers["content-type"] == "text/event-stream"
            assert "content-encoding" not in response.headers
            async for piece in response.aiter_raw():
                got.append(((trio.current_time() - start) * 1000, piece))
    assert b"".join(p for _, p in got) == it.response.body
    # the waits are the recorded gaps halved: 10 ms head, 15 ms, 0, 50 ms, 50 ms
    assert got[-1][0] >= 120 * 0.9
    assert got[0][0] < 100
    replay.check()


async def test_speed_zero_sends_at_once_and_a_cut_recording_is_cut_again(server):
    it = _stream([(0.0, b"data: {}\n\n"), (5000.0, b"data: {}\n\n")])
    it.response.complete = False
    replay = Replay(fmt.Cassette([it], name="cut"), speed=0)
    replay.install(server)
    async with http_client(base_url=server.url) as client:
        with trio.fail_after(2):
            async with client.stream("POST", CHAT, content=it.request.body) as response:
                received = b""
                with pytest.raises(httpx.RemoteProtocolError):
                    async for piece in response.aiter_raw():
                        received += piece
    assert received == it.response.body


@pytest.mark.parametrize(("cid", "cassette"), [pytest.param(cid, c, id=cid) for cid, c in cassettes()])
async def test_every_cassette_replays_whole_byte_for_byte(cid, cassette, server):
    """Every interaction of the cassette, in order, through plain HTTP: status and body bytes as recorded,
    and nothing left unused."""
    replay = Replay(cassette, speed=0)
    replay.install(server)
    async with http_client(base_url=server.url) as client:
        for it in cassette.interactions:
            req = it.request
            headers = {
                k: vs[0] for k, vs in req.headers.items() if k not in ("accept-encoding", "content-length")
            }
            params = [(k, v) for k, vs in req.query.items() for v in vs]
            response = await client.request(
                req.method, req.path, params=params, headers=headers, content=req.body
            )
            assert response.status_code == it.response.status
            assert response.content == it.response.body
    replay.check()


async def test_a_gemini_json_array_stream_replays_byte_for_byte(server):
    pieces = [
        b'[{"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}',
        b',\r\n{"candidates": [{"finishReason": "STOP"}]}',
        b"]",
    ]
    it = fmt.Interaction(
        request=fmt.Request(
            "POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", {}, {}, b'{"contents":[]}'
        ),
        response=fmt.Response(
            200,
            {"content-type": ["application/json; charset=UTF-8"]},
            chunks=[fmt.Chunk(10 * i, p) for i, p in enumerate(pieces)],
        ),
        source="synthetic",
    )
    replay = Replay(fmt.Cassette([it], name="array"), speed=0)
    replay.install(server)
    response = await _post(server.url, {"contents": []}, path=it.request.path)
    assert response.content == b"".join(pieces)  # the mock's own array framing adds nothing
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    replay.check()


async def test_relaxed_matching_leaves_out_only_what_is_declared(server):
    """A query flag and the path's version segment are compared unless the call or the cassette (its
    ``match``) leaves them out; what each declares adds up."""
    it = _chat({"contents": []}, b'{"ok":1}')
    it.request.path = "/v1beta/models/g:generateContent"
    sent = {"path": "/v1/models/g:generateContent", "params": {"beta": "true"}}

    def install(**kw) -> Replay:
        match = kw.pop("match", fmt.MatchPolicy())
        replay = Replay(fmt.Cassette([it], name="g", match=match), speed=0, once=False, **kw)
        replay.install(server)
        return replay

    replay = install()
    assert (await _post(server.url, {"contents": []}, **sent)).status_code == 404
    reasons = str(replay.unmatched()[-1])
    assert "path: expected /v1beta/models/g:generateContent, got /v1/models/g:generateContent" in reasons
    assert 'query.beta: expected null, got ["true"]' in reasons
    install(ignore_query=["beta"])
    assert (await _post(server.url, {"contents": []}, **sent)).status_code == 404  # the version still counts
    install(ignore_query=["beta"], ignore_path_version=True)
    assert (await _post(server.url, {"contents": []}, **sent)).content == b'{"ok":1}'
    install(match=fmt.MatchPolicy(ignore_query=("beta",)), ignore_path_version=True)
    assert (await _post(server.url, {"contents": []}, **sent)).status_code == 200
    replay = install(match=fmt.MatchPolicy(ignore_path_version=True))
    assert (await _post(server.url, {"contents": []}, path=sent["path"])).status_code == 200
    assert (await _post(server.url, {"contents": []}, path="/v1/models/h:generateContent")).status_code == 404
    assert "path: expected" in str(replay.unmatched()[-1])  # only the version segment is relaxed


def test_path_versions() -> None:
    assert without_version("/v1beta/models/g:generateContent") == "/v*/models/g:generateContent"
    assert without_version("/openai/v1/chat/completions") == "/openai/v*/chat/completions"
    assert without_version("/v2alpha1/x") == without_version("/v1/x") == without_version("/v1preview/x")
    assert without_version("/v1x/models") == "/v1x/models"  # not a version segment
    assert without_version("/models/v1") == "/models/v*"
