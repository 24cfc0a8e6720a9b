"""Transport: error mapping, retries and their limits, stream opening, timeouts — against a real
loopback HTTP server (pytest-httpserver)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from werkzeug import Response

from providers.errors import ProviderError
from providers.transport import RetryPolicy, Timeouts, Transport, parse_retry_after

pytestmark = pytest.mark.anyio


def make(httpserver, **kwargs) -> tuple[Transport, list[float]]:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    kwargs.setdefault("retry", RetryPolicy(max_retries=2, jitter=False))
    return Transport(httpserver.url_for(""), sleep=record, **kwargs), waits


def error_body(message="boom", kind="server_error"):
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": None}})


async def test_http_error_maps_status_type_message_retry_after_and_raw_body(httpserver):
    httpserver.expect_request("/v1/x").respond_with_data(
        error_body("slow down", "rate_limit_error"), status=429, headers={"retry-after": "0.25"},
        content_type="application/json",
    )  # fmt: skip
    transport, waits = make(httpserver, retry=RetryPolicy(max_retries=0))
    with pytest.raises(ProviderError) as caught:
        await transport.request("POST", "/v1/x", content=b"{}")
    error = caught.value
    assert (error.kind, error.status, error.error_type, error.message) == (
        "upstream", 429, "rate_limit_error", "slow down",
    )  # fmt: skip
    assert error.retry_after == 0.25
    assert json.loads(error.body)["error"]["type"] == "rate_limit_error"
    assert waits == []


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 529])
async def test_retryable_statuses_are_retried_with_backoff_then_succeed(httpserver, status):
    for _ in range(2):
        httpserver.expect_ordered_request("/v1/x").respond_with_data(error_body(), status=status)
    httpserver.expect_ordered_request("/v1/x").respond_with_json({"ok": True})
    transport, waits = make(httpserver)
    response = await transport.request("POST", "/v1/x", content=b"{}")
    assert response.json() == {"ok": True}
    assert transport.last_attempts == 3
    assert waits == [0.5, 1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(httpserver, status):
    httpserver.expect_request("/v1/x").respond_with_data(error_body(), status=status)
    transport, waits = make(httpserver)
    with pytest.raises(ProviderError) as caught:
        await transport.request("POST", "/v1/x", content=b"{}")
    assert caught.value.status == status
    assert transport.last_attempts == 1 and waits == []
    assert len(httpserver.log) == 1


async def test_retry_after_is_honoured_and_a_too_long_one_is_not_retried(httpserver):
    httpserver.expect_ordered_request("/v1/x").respond_with_data(
        error_body(), status=429, headers={"retry-after-ms": "1500"}
    )
    httpserver.expect_ordered_request("/v1/x").respond_with_data(
        error_body(), status=429, headers={"retry-after": "3600"}
    )
    transport, waits = make(httpserver)
    with pytest.raises(ProviderError) as caught:
        await transport.request("POST", "/v1/x", content=b"{}")
    assert waits == [1.5]
    assert caught.value.retry_after == 3600
    assert transport.last_attempts == 2


async def test_non_idempotent_calls_are_never_retried(httpserver):
    httpserver.expect_request("/v1/x").respond_with_data(error_body(), status=503)
    transport, _ = make(httpserver)
    with pytest.raises(ProviderError):
        await transport.request("POST", "/v1/x", content=b"{}", idempotent=False)
    assert transport.last_attempts == 1 and len(httpserver.log) == 1


async def test_connect_failure_is_a_retried_transport_error():
    transport = Transport("http://127.0.0.1:9", retry=RetryPolicy(max_retries=1, jitter=False))
    waits = []

    async def record(seconds):
        waits.append(seconds)

    transport._sleep = record
    with pytest.raises(ProviderError) as caught:
        await transport.request("GET", "/")
    assert (caught.value.kind, caught.value.reason) == ("transport", "connect")
    assert transport.last_attempts == 2 and waits == [0.5]


async def test_stream_open_error_is_raised_by_the_call_and_retried(httpserver):
    httpserver.expect_ordered_request("/s").respond_with_data(error_body(), status=500)
    httpserver.expect_ordered_request("/s").respond_with_data(
        "data: 1\n\ndata: 2\n\n", content_type="text/event-stream"
    )
    transport, _ = make(httpserver)
    stream = await transport.stream("POST", "/s", content=b"{}")
    assert b"".join(await stream.collect()) == b"data: 1\n\ndata: 2\n\n"
    assert transport.last_attempts == 2


async def test_passthrough_body_is_sent_once_and_never_retried(httpserver):
    httpserver.expect_request("/s").respond_with_data(error_body(), status=503)
    transport, waits = make(httpserver)

    async def body():
        yield b'{"a":'
        yield b"1}"

    with pytest.raises(ProviderError) as caught:
        await transport.stream("POST", "/s", content=body())
    assert caught.value.status == 503
    assert transport.last_attempts == 1 and waits == []
    assert httpserver.log[0][0].get_data() == b'{"a":1}'


def stalling_stream(_request):
    def body():
        yield b"data: first\n\n"
        time.sleep(1.0)
        yield b"data: late\n\n"

    return Response(body(), content_type="text/event-stream")


async def test_stream_idle_timeout_fires_between_chunks_and_is_not_retried(httpserver):
    httpserver.expect_request("/s").respond_with_handler(stalling_stream)
    transport, waits = make(httpserver, timeouts=Timeouts(read=0.2))
    stream = await transport.stream("POST", "/s", content=b"{}")
    got = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in stream:
            got.append(chunk)
    assert got == [b"data: first\n\n"]
    assert (caught.value.kind, caught.value.reason) == ("transport", "read_timeout")
    assert transport.last_attempts == 1 and waits == []


def test_retry_after_parsing_accepts_seconds_millis_and_http_dates():
    assert parse_retry_after(httpx.Headers({"retry-after": "2"})) == 2
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    assert (
        parse_retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}), now=1445412480)
        == 10
    )
    assert parse_retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert parse_retry_after(httpx.Headers({})) is None


async def test_a_retry_delay_from_the_error_body_is_used_when_no_header_gives_one(httpserver):
    httpserver.expect_ordered_request("/v1/x").respond_with_data(error_body(), status=429)
    httpserver.expect_ordered_request("/v1/x").respond_with_data(
        error_body(), status=429, headers={"retry-after": "2"}
    )
    httpserver.expect_ordered_request("/v1/x").respond_with_json({"ok": True})

    def parser(status, body):
        return "RESOURCE_EXHAUSTED", "quota", 0.75

    transport, waits = make(httpserver, error_parser=parser)
    await transport.request("POST", "/v1/x", content=b"{}")
    assert waits == [0.75, 2.0]  # the body's delay, then the header's, which wins when both are given
