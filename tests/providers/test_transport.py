"""Transport: error mapping, retries and their limits, stream opening, timeouts — against a real
loopback HTTP server (pytest-httpserver)."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest
import trio
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


# --- the total deadline: a drip upstream --------------------------------------------------------------------


async def _drip(stream: trio.SocketStream) -> None:
    """Reads a request head, answers 200 with a 1000-byte body, and sends it one byte every 0.2 s."""
    head = b""
    with trio.move_on_after(10):
        while b"\r\n\r\n" not in head:
            data = await stream.receive_some(65536)
            if not data:
                return
            head += data
    head_end = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 1000\r\n\r\n"
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
        await stream.send_all(head_end)
        for _ in range(1000):
            await stream.send_all(b"x")
            await trio.sleep(0.2)


@contextlib.asynccontextmanager
async def drip_upstream() -> AsyncIterator[str]:
    """The base URL of a loopback trio server that drips every body (``_drip``); all within 10 s."""
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(partial(trio.serve_tcp, _drip, 0, host="127.0.0.1"))
            port = listeners[0].socket.getsockname()[1]
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                nursery.cancel_scope.cancel()


async def test_a_drip_fails_a_plain_call_after_the_total_timeout():
    async with drip_upstream() as url:
        transport = Transport(url, timeouts=Timeouts(read=5, total=0.5))
        started = trio.current_time()
        with pytest.raises(ProviderError) as caught:
            await transport.request("POST", "/v1/x", content=b"{}")
        took = trio.current_time() - started
        await transport.aclose()
    assert (caught.value.kind, caught.value.reason) == ("transport", "total_timeout")
    assert "0.5s" in caught.value.message
    assert 0.45 <= took < 2.5, took


async def test_a_drip_fails_a_stream_after_the_total_timeout_counted_from_the_call():
    async with drip_upstream() as url:
        transport = Transport(url, timeouts=Timeouts(read=5, total=0.5))
        started = trio.current_time()
        stream = await transport.stream("POST", "/s", content=b"{}")
        got = []
        with pytest.raises(ProviderError) as caught:
            async for chunk in stream:
                got.append(chunk)
        took = trio.current_time() - started
        await transport.aclose()
    assert (caught.value.kind, caught.value.reason) == ("transport", "total_timeout")
    assert 1 <= len(got) <= 4 and all(chunk == b"x" for chunk in got)  # some bytes came, then time ran out
    assert 0.45 <= took < 2.5, took


async def test_a_drip_fails_a_provider_call_and_stream_with_the_total_timeout():
    from providers.openai import OpenAIProvider
    from providers.types.openai import ChatCompletionRequest

    request = ChatCompletionRequest.parse(
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}'
    )
    async with drip_upstream() as url:
        provider = OpenAIProvider(api_key="sk-test", base_url=url, timeouts=Timeouts(read=5, total=0.5))
        for call in (provider.chat_completion, provider.chat_completion_stream):
            started = trio.current_time()
            with pytest.raises(ProviderError) as caught:
                result = await call(request)
                async for _ in result:
                    pass
            assert (caught.value.kind, caught.value.reason) == ("transport", "total_timeout"), call
            assert 0.45 <= trio.current_time() - started < 2.5
        await provider.aclose()


async def test_the_total_timeout_covers_the_retries_and_their_waits(httpserver):
    httpserver.expect_request("/v1/x").respond_with_data(
        error_body(), status=503, headers={"retry-after": "0.3"}
    )
    transport = Transport(
        httpserver.url_for(""), timeouts=Timeouts(total=0.5), retry=RetryPolicy(max_retries=10, jitter=False)
    )
    started = trio.current_time()
    with pytest.raises(ProviderError) as caught:
        await transport.request("POST", "/v1/x", content=b"{}")
    assert (caught.value.kind, caught.value.reason) == ("transport", "total_timeout")
    assert 0.45 <= trio.current_time() - started < 2.5
    assert 2 <= transport.last_attempts <= 3  # 0 s, 0.3 s, (0.6 s: past the total)
    await transport.aclose()


async def test_without_a_total_a_slow_body_is_read_to_its_end(httpserver):
    httpserver.expect_request("/s").respond_with_handler(stalling_stream)
    transport, _ = make(httpserver, timeouts=Timeouts(read=5))
    assert Timeouts().total is None
    stream = await transport.stream("POST", "/s", content=b"{}")
    assert b"".join(await stream.collect()) == b"data: first\n\ndata: late\n\n"


# --- retry-after values that are no wait ---------------------------------------------------------------------


@pytest.mark.parametrize("header", ["-5", "nan", "inf"])
async def test_an_unusable_retry_after_gets_the_policys_backoff_and_is_logged_once(
    httpserver, caplog, header
):
    httpserver.expect_ordered_request("/v1/x").respond_with_data(
        error_body(), status=503, headers={"retry-after": header}
    )
    httpserver.expect_ordered_request("/v1/x").respond_with_json({"ok": True})
    transport, waits = make(httpserver)
    with caplog.at_level(logging.WARNING, logger="providers.transport"):
        response = await transport.request("POST", "/v1/x", content=b"{}")
    assert response.json() == {"ok": True}
    assert waits == [0.5]  # the policy's first backoff, not 0 s and not a refusal to retry
    records = [r for r in caplog.records if r.name == "providers.transport"]
    assert len(records) == 1 and "no wait" in records[0].getMessage(), records


async def test_an_unusable_retry_after_is_not_reported_as_the_errors_wait(httpserver, caplog):
    httpserver.expect_request("/v1/x").respond_with_data(
        error_body(), status=429, headers={"retry-after-ms": "-5000"}
    )
    transport, waits = make(httpserver, retry=RetryPolicy(max_retries=0))
    with pytest.raises(ProviderError) as caught:
        await transport.request("POST", "/v1/x", content=b"{}")
    assert caught.value.retry_after is None and waits == []
    assert len([r for r in caplog.records if r.name == "providers.transport"]) == 1


async def test_a_too_long_retry_after_is_logged_once_and_not_waited_for(httpserver, caplog):
    httpserver.expect_request("/v1/x").respond_with_data(
        error_body(), status=429, headers={"retry-after": "3600"}
    )
    transport, waits = make(httpserver)
    with (
        caplog.at_level(logging.WARNING, logger="providers.transport"),
        pytest.raises(ProviderError) as caught,
    ):
        await transport.request("POST", "/v1/x", content=b"{}")
    assert caught.value.retry_after == 3600 and waits == []
    records = [r for r in caplog.records if r.name == "providers.transport"]
    assert len(records) == 1 and "max_retry_after" in records[0].getMessage()


def test_the_policy_backs_off_on_a_wait_that_is_no_wait_and_refuses_a_too_long_finite_one():
    policy = RetryPolicy(jitter=False)
    for asked in (-5.0, float("nan"), float("-inf"), float("inf")):
        assert policy.delay(0, ProviderError.upstream(503, "x", retry_after=asked)) == 0.5
        assert policy.delay(1, ProviderError.upstream(503, "x", retry_after=asked)) == 1.0
    assert policy.delay(0, ProviderError.upstream(503, "x", retry_after=61)) is None
    assert policy.delay(0, ProviderError.upstream(503, "x", retry_after=0)) == 0
    assert parse_retry_after(httpx.Headers({"retry-after": "-5"})) == -5
