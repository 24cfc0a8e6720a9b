"""Capture: nothing lost under concurrency, secrets redacted, frame timing, early disconnects, near misses."""

from __future__ import annotations

import json
import time

import httpx
import trio

from mocks.capture import CaptureLog
from mocks.engine import HostedUpstream


def test_200_concurrent_requests_are_all_captured(upstream: HostedUpstream) -> None:
    async def main() -> list[int]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        statuses: list[int] = []
        async with httpx.AsyncClient(base_url=upstream.urls["openai"], limits=limits, timeout=30) as client:

            async def one(i: int) -> None:
                body = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"request {i}"}]}
                response = await client.post(
                    "/chat/completions", json=body, headers={"authorization": f"Bearer key-{i}"}
                )
                statuses.append(response.status_code)

            async with trio.open_nursery() as nursery:
                for i in range(200):
                    nursery.start_soon(one, i)
        return statuses

    statuses = trio.run(main)
    assert statuses == [200] * 200
    captured = upstream.requests
    assert len(captured) == 200
    assert sorted(r.seq for r in captured) == list(range(1, 201))
    contents = sorted(r.json["messages"][0]["content"] for r in captured)
    assert contents == sorted(f"request {i}" for i in range(200))
    assert all(r.completed and r.status == 200 for r in captured)


def test_capture_log_is_thread_safe() -> None:
    import threading

    log = CaptureLog()

    def record(n: int) -> None:
        for i in range(500):
            log.record("POST", f"/{n}/{i}", {}, [], b"")

    threads = [threading.Thread(target=record, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(log.requests) == 4000
    assert sorted(r.seq for r in log.requests) == list(range(1, 4001))


def test_credentials_are_redacted_but_checked(upstream: HostedUpstream) -> None:
    upstream.script({"auth": {"keys": ["sk-secret-value"]}})
    ok = httpx.post(
        upstream.urls["openai"] + "/embeddings",
        headers={"Authorization": "Bearer sk-secret-value", "X-Custom": "kept"},
        json={"model": "text-embedding-3-small", "input": "x"},
    )
    wrong = httpx.post(
        upstream.urls["anthropic"] + "/v1/messages",
        headers={"x-api-key": "sk-wrong"},
        json={"model": "m", "max_tokens": 1, "messages": []},
    )
    assert (ok.status_code, wrong.status_code) == (200, 401)
    first, second = upstream.requests
    assert first.header("authorization") == "Bearer <redacted:15 chars>"
    assert first.header("x-custom") == "kept"
    assert second.header("x-api-key") == "<redacted:8 chars>"
    assert "sk-secret-value" not in json.dumps([r.to_json() for r in upstream.requests])


def test_frames_are_delivered_incrementally_and_timed(upstream: HostedUpstream) -> None:
    events = [{"data": {"n": i}, "delay_ms": 150} for i in range(3)]
    upstream.script({"rules": [{"match": {"path": "/v1/chat/completions"}, "reply": {"events": events}}]})
    arrivals = []
    started = time.monotonic()
    with httpx.stream(
        "POST", upstream.urls["openai"] + "/chat/completions", headers={"authorization": "Bearer k"}, json={}
    ) as response:
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        for piece in response.iter_raw():
            arrivals.append((time.monotonic() - started, piece))
    assert b"".join(p for _, p in arrivals).endswith(b"data: [DONE]\n\n")
    first_event = next(t for t, p in arrivals if b'"n":0' in p)
    last_event = next(t for t, p in arrivals if b'"n":2' in p)
    assert first_event < 0.4 and last_event - first_event >= 0.25  # not buffered until the end
    frame_times = upstream.requests[0].frame_times
    assert len(frame_times) == 4 and frame_times[2] - frame_times[0] >= 0.28


def test_early_client_disconnect_is_recorded(upstream: HostedUpstream) -> None:
    events = [{"data": {"n": i}, "delay_ms": 0 if i == 0 else 300} for i in range(6)]
    upstream.script({"rules": [{"reply": {"events": events, "done": False}}]})
    with httpx.stream(
        "POST", upstream.urls["openai"] + "/chat/completions", headers={"authorization": "Bearer k"}, json={}
    ) as r:
        next(r.iter_raw())  # read the start, then hang up
    deadline = time.monotonic() + 3
    while not upstream.requests[0].disconnected and time.monotonic() < deadline:
        time.sleep(0.02)
    seen = upstream.requests[0]
    assert seen.disconnected and not seen.completed
    assert seen.disconnect_frame == 1  # frame 0 went out, frame 1 was waiting its turn
    assert len(seen.frame_times) == 1


def test_unmatched_request_gets_404_and_a_near_miss(upstream: HostedUpstream) -> None:
    upstream.script(
        {
            "rules": [
                {"name": "embeddings", "match": {"path": "/v1/embeddings"}},
                {
                    "name": "gpt-4o chat",
                    "match": {
                        "method": "POST",
                        "path": "/v1/chat/completions",
                        "json": {"model": "gpt-4o", "stream": True},
                    },
                },
            ]
        }
    )
    response = httpx.post(
        upstream.urls["openai"] + "/chat/completions",
        headers={"authorization": "Bearer k"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"
    (near,) = upstream.unmatched
    assert near.nearest == "gpt-4o chat"
    assert near.reasons == (
        "json.model: expected 'gpt-4o', got 'gpt-4o-mini'",
        "json.stream: missing (expected True)",
    )
    assert "nearest 'gpt-4o chat'" in response.json()["error"]["message"]
    assert near.request is upstream.requests[0]


def test_used_up_rule_is_the_near_miss(upstream: HostedUpstream) -> None:
    upstream.script({"rules": [{"name": "once", "match": {"path": "/v1/models"}, "times": 1}]})
    with httpx.Client(base_url=upstream.urls["openai"], headers={"authorization": "Bearer k"}) as client:
        assert client.get("/models").status_code == 200
        assert client.get("/models").status_code == 404
    (near,) = upstream.unmatched
    assert near.reasons == ("times: used up (1 of 1)",)


def test_control_endpoints_report_and_reset(upstream: HostedUpstream) -> None:
    upstream.script({"rules": [{"name": "only", "match": {"path": "/v1/models"}, "times": 1}]})
    with httpx.Client(base_url=upstream.url, headers={"authorization": "Bearer sk-hidden"}) as client:
        client.get("/v1/models")
        client.get("/v1/models")
        captured = client.get("/__wirecheck/requests").json()["requests"]
        assert [(r["path"], r["status"], r["rule"]) for r in captured] == [
            ("/v1/models", 200, "only"),
            ("/v1/models", 404, None),
        ]
        assert "sk-hidden" not in json.dumps(captured)
        unmatched = client.get("/__wirecheck/unmatched").json()["unmatched"]
        assert unmatched[0]["reasons"] == ["times: used up (1 of 1)"]
        assert client.post("/__wirecheck/reset").json() == {"reset": True}
        assert client.get("/__wirecheck/requests").json() == {"requests": []}
        assert client.get("/v1/models").status_code == 200  # the rule counters restarted


def test_a_capture_read_back_from_json_keeps_drops_and_truncated_bodies() -> None:
    from mocks.capture import CapturedRequest

    log = CaptureLog()
    dropped = log.record("POST", "/v1/messages", {}, [("x-api-key", "sk-secret")], b'{"model": "m"}')
    dropped.status = 200
    dropped.dropped_at(0, head_sent=False)
    cut = log.record("POST", "/v1/chat/completions", {}, [], b"head of it")
    cut.status, cut.rejected = 413, "body too large"
    cut.truncated(5_000_000, "ab" * 32)
    back = [CapturedRequest.from_json(json.loads(json.dumps(c.to_json()))) for c in (dropped, cut)]
    assert [c.to_json() for c in back] == [dropped.to_json(), cut.to_json()]
    assert (back[0].status, back[0].dropped, back[0].outcome) == (None, True, "dropped (no response)")
    assert back[0].json == {"model": "m"} and back[0].header("x-api-key") == "<redacted:9 chars>"
    assert (back[1].body_length, back[1].body_truncated, back[1].body_sha256) == (5_000_000, True, "ab" * 32)
