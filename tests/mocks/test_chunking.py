"""Byte chunking: any cut of a reply (mid-line, mid-UTF-8, between CR and LF) decodes to the same events,
keeps the bytes and the timing, and reaches the wire as exactly those HTTP chunks."""

from __future__ import annotations

import json
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mocks.engine import HostedUpstream, MockUpstream, Request
from mocks.reply import Frame, rechunk
from providers.jsonstream import JSONArrayDecoder
from providers.sse import SSEDecoder

TEXT_EVENTS = [
    {"data": {"type": "message_start", "text": "héllo wörld — 東京 😀"}},
    {"data": "line one\r\nline two", "event": "custom"},
    {"raw": ": keep-alive comment\r\n\r\n"},
    {"data": {"type": "message_stop"}},
]
CASES = {
    "anthropic generated (padded)": (
        "/v1/messages",
        [("x-api-key", "k")],
        {
            "model": "m",
            "max_tokens": 300,
            "stream": True,
            "messages": [{"role": "user", "content": "héllo 東京"}],
        },
    ),
    "gemini generated (CRLF)": (
        "/v1beta/models/g:streamGenerateContent?alt=sse",
        [("x-goog-api-key", "k")],
        {"contents": [{"parts": [{"text": "naïve café"}]}]},
    ),
    "openai generated": (
        "/v1/chat/completions",
        [("authorization", "Bearer k")],
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "😀 get"}]},
    ),
}


def events_of(frames: list[Frame]) -> list:
    decoder = SSEDecoder()
    out = []
    for frame in frames:
        out.extend(decoder.feed(frame.data))
    return out + decoder.close()


def reply_frames(
    path: str, headers: list, body: dict, chunks: list[int] | None = None, events: list | None = None
) -> list[Frame]:
    reply: dict = {"chunks": chunks} if chunks else {}
    if events is not None:
        reply["events"] = events
    upstream = MockUpstream({"seed": 1, "fallback": "generate", "rules": [{"reply": reply}]})
    return upstream.handle(Request("POST", path, headers, json.dumps(body).encode())).frames


@pytest.mark.parametrize("case", sorted(CASES))
@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8))
def test_any_chunking_gives_the_same_events(case: str, sizes: list[int]) -> None:
    path, headers, body = CASES[case]
    whole = reply_frames(path, headers, body)
    cut = reply_frames(path, headers, body, chunks=sizes)
    assert b"".join(f.data for f in cut) == b"".join(f.data for f in whole)
    assert [len(f.data) for f in cut[: len(sizes)]] == sizes[: len(cut)]
    assert events_of(cut) == events_of(whole)


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=6))
def test_scripted_events_survive_any_chunking(sizes: list[int]) -> None:
    path, headers = "/v1/chat/completions", [("authorization", "Bearer k")]
    whole = reply_frames(path, headers, {}, events=TEXT_EVENTS)
    cut = reply_frames(path, headers, {}, chunks=sizes, events=TEXT_EVENTS)
    events = events_of(cut)
    assert events == events_of(whole)
    assert [e.event for e in events] == [None, "custom", None, None]  # the last one is [DONE]
    assert events[1].data == "line one\nline two"


@settings(max_examples=100, deadline=None)
@given(
    frames=st.lists(
        st.tuples(st.binary(min_size=0, max_size=12), st.sampled_from([0.0, 0.25, 1.0])), max_size=8
    ),
    sizes=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=5).filter(any),
)
def test_rechunk_keeps_bytes_and_total_delay(frames: list[tuple[bytes, float]], sizes: list[int]) -> None:
    original = [Frame(data, delay) for data, delay in frames]
    cut = rechunk(original, sizes)
    assert b"".join(f.data for f in cut) == b"".join(f.data for f in original)
    assert sum(f.delay for f in cut) == pytest.approx(sum(f.delay for f in original))


def test_json_array_stream_survives_one_byte_chunks() -> None:
    body = {"contents": [{"parts": [{"text": "tell me about 東京"}]}]}
    frames = reply_frames("/v1/models/g:streamGenerateContent", [("x-goog-api-key", "k")], body, chunks=[1])
    assert all(len(f.data) == 1 for f in frames)
    decoder = JSONArrayDecoder()
    items = [item for f in frames for item in decoder.feed(f.data)]
    decoder.close()
    assert items and all("candidates" in item for item in items)


def _chunk_sizes(raw: bytes) -> list[int]:
    """The sizes of the HTTP chunks of a raw chunked response."""
    body = raw.split(b"\r\n\r\n", 1)[1]
    sizes = []
    while body:
        line, _, body = body.partition(b"\r\n")
        size = int(line, 16)
        if size == 0:
            break
        sizes.append(size)
        body = body[size + 2 :]
    return sizes


def test_frames_are_written_as_their_own_http_chunks(upstream: HostedUpstream) -> None:
    events = [{"data": {"i": i, "pad": "x" * 20}} for i in range(3)]
    upstream.script({"rules": [{"reply": {"events": events, "chunks": [5, 3], "done": False}}]})
    port = int(upstream.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert raw.startswith(b"HTTP/1.1 200 ")
    sizes = _chunk_sizes(raw)
    total = sum(len(f"data: {json.dumps(e['data'], separators=(',', ':'))}\n\n") for e in events)
    assert sizes[:2] == [5, 3] and set(sizes[1:-1]) == {3} and sum(sizes) == total
