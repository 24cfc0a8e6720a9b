"""Rendered replies are remembered per rule and request: sending one again must look exactly like
rendering it again, and everything per request (capture, counters, faults, ids in headers) still runs."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mocks.engine import MockUpstream, Request
from mocks.faults import DropFault, ErrorFault, RandomFaults
from mocks.reply import Reply

OPENAI = ("/v1/chat/completions", [("authorization", "Bearer k")])
ANTHROPIC = ("/v1/messages", [("x-api-key", "k"), ("anthropic-version", "2023-06-01")])
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there"}]}
ANSWER = {
    "rules": [{"name": "a", "match": {"path": "/v1/chat/completions"}, "reply": {"answer": {"text": "Hi."}}}]
}


def send(upstream: MockUpstream, body: dict, route: tuple[str, list] = OPENAI, query: str = "") -> Reply:
    path, headers = route
    return upstream.handle(Request("POST", path + query, headers, json.dumps(body).encode()))


@given(text=st.text(max_size=40), stream=st.booleans())
def test_a_remembered_reply_is_the_rendered_one(text: str, stream: bool) -> None:
    body = {**CHAT, "messages": [{"role": "user", "content": text}], "stream": stream}
    for script in (None, ANSWER):
        upstream = MockUpstream(script)
        first, again = send(upstream, body), send(upstream, body)
        fresh = send(MockUpstream(script), body)
        assert first.body == again.body == fresh.body
        assert [(f.data, f.delay) for f in again.frames] == [(f.data, f.delay) for f in fresh.frames]
        assert again.content_length == fresh.content_length and again.status == fresh.status


def test_headers_ids_and_captures_stay_per_request() -> None:
    upstream = MockUpstream(ANSWER)
    first, again = send(upstream, CHAT), send(upstream, CHAT)
    assert [k for k, _ in first.headers] == [k for k, _ in again.headers]
    assert dict(first.headers)["x-request-id"] != dict(again.headers)["x-request-id"]
    assert [(r.seq, r.rule, r.status) for r in upstream.requests] == [(1, "a", 200), (2, "a", 200)]
    assert first.capture is not again.capture and first.frames is not again.frames


def test_times_nth_and_random_faults_still_count_every_call() -> None:
    rules = [
        {
            "name": "once",
            "match": {"json": {"model": "once"}},
            "times": 1,
            "reply": {"answer": {"text": "A"}},
        },
        {"name": "then", "match": {"json": {"model": "once"}}, "reply": {"answer": {"text": "B"}}},
        {"name": "second", "match": {"json": {"model": "nth"}}, "nth": 2, "reply": {"answer": {"text": "C"}}},
        {
            "name": "flaky",
            "match": {"json": {"model": "flaky"}},
            "reply": {"answer": {"text": "D"}},
            "random": {
                "probability": 0.7,
                "faults": [{"error": {"status": 503}}, {"drop": {"after_bytes": 9}}],
            },
        },
    ]
    upstream = MockUpstream({"seed": 3, "rules": rules})
    texts = [json.loads(send(upstream, {**CHAT, "model": "once"}).body) for _ in range(3)]
    assert [t["choices"][0]["message"]["content"] for t in texts] == ["A", "B", "B"]
    assert [send(upstream, {**CHAT, "model": "nth"}).status for _ in range(3)] == [404, 200, 404]
    got = [send(upstream, {**CHAT, "model": "flaky"}) for _ in range(16)]
    draws = RandomFaults(0.7, ((ErrorFault(503),), (DropFault(after_bytes=9),)))
    outcome = {"": (200, None), "ErrorFault": (503, None), "DropFault": (200, 9)}
    expected = [outcome["".join(type(f).__name__ for f in draws.pick(3, "flaky", n))] for n in range(1, 17)]
    assert [(r.status, len(r.body) if r.end == "drop" else None) for r in got] == expected
    assert len(set(expected)) == 3


def test_what_the_reply_depends_on_keeps_replies_apart() -> None:
    upstream = MockUpstream()
    assert send(upstream, CHAT).body != send(upstream, {**CHAT, "model": "gpt-4o-mini"}).body
    gemini = ("/v1beta/models/gemini-2.0-flash:streamGenerateContent", [("x-goog-api-key", "k")])
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    array, sse = send(upstream, body, gemini), send(upstream, body, gemini, "?alt=sse")
    assert dict(array.headers)["content-type"] != dict(sse.headers)["content-type"]
    assert send(upstream, body, gemini).body == array.body


def test_error_bodies_with_fresh_ids_are_rendered_each_time() -> None:
    upstream = MockUpstream()
    invalid = {"model": "claude", "messages": [{"role": "user", "content": "hi"}]}  # no max_tokens
    first, again = send(upstream, invalid, ANTHROPIC), send(upstream, invalid, ANTHROPIC)
    assert first.status == again.status == 400
    assert json.loads(first.body)["request_id"] != json.loads(again.body)["request_id"]
    assert [r.rejected for r in upstream.requests] == ["validation", "validation"]


def test_a_new_script_forgets_the_replies_of_the_old_one() -> None:
    upstream = MockUpstream(ANSWER)
    assert json.loads(send(upstream, CHAT).body)["choices"][0]["message"]["content"] == "Hi."
    upstream.load({"rules": [{"reply": {"answer": {"text": "Bye."}}}]})
    assert json.loads(send(upstream, CHAT).body)["choices"][0]["message"]["content"] == "Bye."
