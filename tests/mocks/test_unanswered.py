"""The standalone server's handling of requests no rule answered (reported, or forwarded to another server
and streamed back as it arrives), and servers that cannot start or stop: one-line ``ServeError``s, bounded
waits. Loopback only."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
import trio

from mocks.server import BackgroundServer, ServeError, TrioThread, Unanswered

SCRIPT = {
    "rules": [
        {"match": {"path": "/v1/chat/completions", "json": {"model": "a"}}, "reply": {"json": {"ok": 1}}}
    ]
}
KEY = {"authorization": "Bearer sk-test"}


def test_unanswered_requests_are_reported_with_what_differed() -> None:
    seen: list[Unanswered] = []

    def hook(unanswered: Unanswered) -> None:
        seen.append(unanswered)

    with BackgroundServer(SCRIPT, on_unanswered=hook) as server:
        url = server.urls["openai"] + "/chat/completions"
        assert httpx.post(url, json={"model": "a"}, headers=KEY).json() == {"ok": 1}
        assert httpx.post(url, json={"model": "b"}, headers=KEY).status_code == 404
        assert httpx.post(url, json={"model": "a"}).status_code == 401  # no key: turned away
    assert [str(u) for u in seen] == [
        "unmatched: POST /v1/chat/completions: no rule matched; nearest 'rules[0]': json.model: expected 'a', got 'b'",
        "turned away (auth): POST /v1/chat/completions",
    ]
    assert seen[0].near is not None and seen[1].near is None


def test_generated_replies_are_not_unanswered() -> None:
    seen: list[Unanswered] = []
    with BackgroundServer(None, on_unanswered=seen.append) as server:
        reply = httpx.post(
            server.urls["openai"] + "/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            headers=KEY,
        )
        assert reply.status_code == 200
    assert seen == []


def test_a_forwarded_request_streams_back_as_it_arrives() -> None:
    events = [{"data": {"n": i}, "delay_ms": 600 if i else 0} for i in range(2)]
    behind = {"rules": [{"match": {"path": "/v1/chat/completions"}, "reply": {"events": events}}]}
    with (
        BackgroundServer(behind) as upstream,
        BackgroundServer(SCRIPT, on_unanswered=lambda u: upstream.url) as front,
    ):
        arrivals = []
        with httpx.Client(timeout=10) as client:
            start = time.monotonic()
            with client.stream(
                "POST", front.urls["openai"] + "/chat/completions?x=1", json={"model": "b"}, headers=KEY
            ) as reply:
                assert reply.status_code == 200
                assert reply.headers["content-type"].startswith("text/event-stream")
                for piece in reply.iter_raw():
                    arrivals.append((time.monotonic() - start, piece))
            # the connection is kept alive and a matching request is still the front's own
            assert client.post(
                front.urls["openai"] + "/chat/completions", json={"model": "a"}, headers=KEY
            ).json() == {"ok": 1}
    assert (
        arrivals[0][1].startswith(b'data: {"n":0}') and arrivals[0][0] < 0.5
    )  # before the upstream was done
    assert b"".join(p for _, p in arrivals).endswith(b"data: [DONE]\n\n")
    forwarded = front.requests[0]
    assert (
        forwarded.rule == f"forwarded to {upstream.url}" and forwarded.status == 200 and forwarded.completed
    )
    assert upstream.requests[0].query == {"x": ["1"]} and upstream.requests[0].json == {"model": "b"}
    assert upstream.requests[0].header("authorization") == "Bearer <redacted:7 chars>"  # the key went along
    assert front.unmatched[0].request is forwarded  # still listed as a near miss of the front's script


def test_an_unreachable_forward_target_is_a_502() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: refused
        with BackgroundServer(SCRIPT, on_unanswered=lambda u: closed) as front:
            reply = httpx.post(front.urls["openai"] + "/chat/completions", json={"model": "b"}, headers=KEY)
    assert reply.status_code == 502 and f"forwarding to {closed} failed" in reply.text


def test_a_busy_port_and_a_bad_host_are_serve_errors() -> None:
    with BackgroundServer() as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(ServeError, match=rf"^port {port} on 127.0.0.1 is already in use$"):
            BackgroundServer(port=port)
    with pytest.raises(ServeError, match=r"^cannot listen on host 'no-such-host.invalid': "):
        BackgroundServer(host="no-such-host.invalid")
    with pytest.raises(ServeError, match=r"^port 70000 is outside 0..65535$"):
        BackgroundServer(port=70000)


def test_trio_thread_waits_are_bounded() -> None:
    async def never_starts(task_status=trio.TASK_STATUS_IGNORED) -> None:
        await trio.sleep_forever()

    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"^slow did not start within 0.2 s$"):
        TrioThread(never_starts, name="slow", start_timeout=0.2)
    assert time.monotonic() - start < 5

    async def stubborn(task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started("up")
        with trio.CancelScope(shield=True):
            await trio.sleep(1.0)

    thread = TrioThread(stubborn, name="stubborn", stop_timeout=0.2)
    assert thread.value == "up"
    with pytest.raises(RuntimeError, match=r"^stubborn did not stop within 0.2 s$"):
        thread.close()
