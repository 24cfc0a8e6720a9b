"""Each fault reaches the official SDKs as their own error type, on both servers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anthropic
import httpx
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors

from mocks.engine import HostedUpstream
from tests.mocks.conftest import ANTHROPIC_MODEL

HELLO = [{"role": "user", "content": "hello"}]


def fault(spec: dict, **match: str) -> dict:
    return {"rules": [{"match": match, "fault": spec}]}


def openai_stream(client: openai.OpenAI) -> list:
    return list(client.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True))


def anthropic_stream(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=100, messages=HELLO) as stream:
        stream.get_final_message()


def gemini_stream(client: genai.Client) -> list:
    return list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hello"))


# --- status errors ---------------------------------------------------------------------------------------


def test_openai_rate_limit_honours_retry_after(upstream: HostedUpstream) -> None:
    upstream.script(
        {
            "fallback": "generate",
            "rules": [
                {
                    "match": {"path": "/v1/chat/completions"},
                    "times": 1,
                    "fault": {"error": {"status": 429, "retry_after": 0.4}},
                }
            ],
        }
    )
    client = openai.OpenAI(base_url=upstream.urls["openai"], api_key="sk-test", max_retries=1)
    started = time.monotonic()
    completion = client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert completion.choices[0].message.content
    assert time.monotonic() - started >= 0.4  # the SDK waited as told
    first, second = upstream.requests
    assert first.status == 429 and first.faults == ["error(status=429, retry_after=0.4)"]
    assert second.header("x-stainless-retry-count") == "1"


def test_openai_rate_limit_error_shape(openai_client: openai.OpenAI, upstream: HostedUpstream) -> None:
    upstream.script(fault({"error": {"status": 429, "retry_after": 2}}))
    with pytest.raises(openai.RateLimitError) as info:
        openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert info.value.body["code"] == "rate_limit_exceeded"
    headers = info.value.response.headers
    assert headers["retry-after"] == "2" and headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"] == "2s" and headers["x-request-id"].startswith("req_")


def test_openai_server_error(openai_client: openai.OpenAI, upstream: HostedUpstream) -> None:
    upstream.script(fault({"error": {"status": 500}}))
    with pytest.raises(openai.InternalServerError):
        openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)


def test_auth_errors(
    openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic, upstream: HostedUpstream
) -> None:
    upstream.script({"auth": {"keys": ["the-right-key"]}})
    with pytest.raises(openai.AuthenticationError) as info:
        openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert info.value.body["code"] == "invalid_api_key"
    with pytest.raises(anthropic.AuthenticationError):
        anthropic_client.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=HELLO)
    missing = httpx.post(
        upstream.urls["openai"] + "/chat/completions", json={"model": "m", "messages": HELLO}
    )
    assert missing.status_code == 401 and "didn't provide an API key" in missing.json()["error"]["message"]
    assert [r.rejected for r in upstream.requests] == ["auth", "auth", "auth"]


def test_auth_fault_on_one_rule(openai_client: openai.OpenAI, upstream: HostedUpstream) -> None:
    upstream.script(fault({"auth": {}}))
    with pytest.raises(openai.AuthenticationError):
        openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)


def test_anthropic_overloaded_529(anthropic_client: anthropic.Anthropic, upstream: HostedUpstream) -> None:
    upstream.script(fault({"error": {"status": 529}}))
    with pytest.raises(anthropic.OverloadedError) as info:
        anthropic_client.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=HELLO)
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_anthropic_rate_limit_headers(
    anthropic_client: anthropic.Anthropic, upstream: HostedUpstream
) -> None:
    upstream.script(fault({"error": {"status": 429, "retry_after": 30}}))
    with pytest.raises(anthropic.RateLimitError) as info:
        anthropic_client.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=HELLO)
    headers = info.value.response.headers
    assert headers["retry-after"] == "30"
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert headers["anthropic-ratelimit-tokens-reset"].endswith("Z")  # RFC 3339


def test_gemini_client_and_server_errors(
    gemini_client: Callable[..., genai.Client], upstream: HostedUpstream
) -> None:
    client = gemini_client()
    upstream.script(fault({"error": {"status": 429, "retry_after": 7}}))
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    retry = [d for d in info.value.details["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]
    upstream.script(fault({"error": {"status": 503}}))
    with pytest.raises(genai_errors.ServerError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.status == "UNAVAILABLE"


def test_azure_content_filter(upstream: HostedUpstream) -> None:
    upstream.script(fault({"error": {"status": 400, "code": "content_filter"}}))
    client = openai.AzureOpenAI(
        azure_endpoint=upstream.url, api_key="k", api_version="2024-10-21", max_retries=0
    )
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="dep", messages=HELLO)
    assert info.value.code == "content_filter"
    assert info.value.body["innererror"]["code"] == "ResponsibleAIPolicyViolation"


# --- in-stream errors ------------------------------------------------------------------------------------


def test_openai_in_stream_error(openai_client: openai.OpenAI, upstream: HostedUpstream) -> None:
    upstream.script(fault({"stream_error": {"after_events": 2, "status": 500}}))
    with pytest.raises(openai.APIError, match="server had an error"):
        openai_stream(openai_client)


def test_anthropic_in_stream_error(anthropic_client: anthropic.Anthropic, upstream: HostedUpstream) -> None:
    upstream.script(fault({"stream_error": {"after_events": 1}}))
    with pytest.raises(anthropic.APIStatusError) as info:
        anthropic_stream(anthropic_client)
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_gemini_in_stream_error(gemini_client: Callable[..., genai.Client], upstream: HostedUpstream) -> None:
    upstream.script(fault({"stream_error": {"after_events": 1, "status": 500}}))
    with pytest.raises(genai_errors.ServerError):
        gemini_stream(gemini_client())


# --- broken bytes and connections --------------------------------------------------------------------------


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``error`` is ``kind`` or has it in its chain of causes."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def raises_transport(sdk_error: type[BaseException], transport_error: type[BaseException]) -> Iterator[None]:
    """The call fails with the SDK's documented class for a transport failure (``APIConnectionError`` and
    its ``APITimeoutError``; anthropic >= 2.17 wraps mid-stream failures in them too), or, in the SDK
    versions that let it through unwrapped, the transport error itself; in both cases caused by
    ``transport_error``, so another failure does not pass for this one."""
    with pytest.raises((sdk_error, transport_error)) as caught:
        yield
    assert _caused_by(caught.value, transport_error), f"{caught.value!r} is not caused by {transport_error}"


def test_dropped_stream_raises_in_every_sdk(
    openai_client: openai.OpenAI,
    anthropic_client: anthropic.Anthropic,
    gemini_client: Callable[..., genai.Client],
    upstream: HostedUpstream,
) -> None:
    upstream.script(fault({"drop": {"after_events": 3}}))
    with raises_transport(openai.APIConnectionError, httpx2.RemoteProtocolError):
        openai_stream(openai_client)
    with raises_transport(anthropic.APIConnectionError, httpx2.RemoteProtocolError):
        anthropic_stream(anthropic_client)
    with pytest.raises(httpx2.RemoteProtocolError):
        gemini_stream(gemini_client())
    assert all(r.completed is False and r.faults == ["drop(after_events=3)"] for r in upstream.requests)
    # The head said 200; then the mock closed the connection on purpose, after the frames it kept.
    assert all(r.status == 200 and r.dropped and not r.disconnected for r in upstream.requests)
    assert {r.outcome for r in upstream.requests} <= {f"200, dropped after frame {n}" for n in range(3, 6)}


def test_dropped_json_body_and_no_response(openai_client: openai.OpenAI, upstream: HostedUpstream) -> None:
    upstream.script(fault({"drop": {"after_bytes": 20}}))
    with pytest.raises(openai.APIConnectionError):
        openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)
    upstream.script(fault({"drop": {}}))
    with pytest.raises(openai.APIConnectionError):
        openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)
    cut, dropped = upstream.requests
    assert (cut.status, cut.dropped, cut.completed) == (200, True, False)  # the head went out
    # Nothing was sent: no status reached the client, and the capture says so (not 200).
    assert (dropped.status, dropped.dropped, dropped.completed) == (None, True, False)
    assert dropped.outcome == "dropped (no response)"
    shown = httpx.get(upstream.url + "/__wirecheck/requests", timeout=5).json()["requests"]
    assert [(r["status"], r["dropped"], r["outcome"]) for r in shown][1] == (
        None,
        True,
        "dropped (no response)",
    )


def test_malformed_replies_raise(
    openai_client: openai.OpenAI,
    anthropic_client: anthropic.Anthropic,
    gemini_client: Callable[..., genai.Client],
    upstream: HostedUpstream,
) -> None:
    upstream.script(fault({"malformed_sse": {"after_events": 2}}))
    with pytest.raises(ValueError):  # json.JSONDecodeError
        openai_stream(openai_client)
    with pytest.raises(ValueError):
        anthropic_stream(anthropic_client)
    with pytest.raises(genai_errors.UnknownApiResponseError):
        gemini_stream(gemini_client())
    upstream.script(fault({"malformed_json": {}}))
    with pytest.raises(ValueError):
        openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)


def test_stall_before_head_hits_the_read_timeout(upstream: HostedUpstream) -> None:
    upstream.script(fault({"stall": {"ms": 3000}}))
    client = openai.OpenAI(base_url=upstream.urls["openai"], api_key="k", max_retries=0, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert time.monotonic() - started < 2


def test_stall_mid_stream_hits_the_read_timeout(
    gemini_client: Callable[..., genai.Client], upstream: HostedUpstream
) -> None:
    upstream.script(fault({"stall": {"ms": 3000, "after_events": 2}}))
    client = anthropic.Anthropic(base_url=upstream.urls["anthropic"], api_key="k", max_retries=0, timeout=0.3)
    with raises_transport(anthropic.APITimeoutError, httpx2.ReadTimeout):
        anthropic_stream(client)
    with pytest.raises(httpx2.ReadTimeout):
        gemini_stream(gemini_client(timeout_ms=300))
    deadline = time.monotonic() + 2
    while not all(r.disconnected for r in upstream.requests) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r.disconnect_frame for r in upstream.requests] == [2, 2]  # the client left while frame 2 waited


def test_drip_paces_the_body(upstream: HostedUpstream) -> None:
    upstream.script(
        {
            "rules": [
                {"reply": {"body": "x" * 2000}, "fault": {"drip": {"bytes_per_second": 10000, "piece": 500}}}
            ]
        }
    )
    arrivals = []
    started = time.monotonic()
    with httpx.stream("POST", upstream.url + "/anything") as response:
        for piece in response.iter_raw():
            arrivals.append((time.monotonic() - started, len(piece)))
    assert sum(n for _, n in arrivals) == 2000
    assert arrivals[-1][0] >= 0.19  # 4 pieces of 500 bytes, each 50 ms apart
    assert len(arrivals) >= 3  # delivered piece by piece, not at once


def test_random_faults_replay_identically(upstream: HostedUpstream) -> None:
    script = {
        "seed": 42,
        "rules": [
            {
                "random": {
                    "probability": 0.5,
                    "faults": [{"error": {"status": 500}}, {"error": {"status": 503}}],
                }
            }
        ],
    }

    def run() -> list[int]:
        upstream.script(script)
        with httpx.Client(base_url=upstream.urls["openai"], headers={"authorization": "Bearer k"}) as client:
            return [
                client.post("/chat/completions", json={"model": "m", "messages": HELLO}).status_code
                for _ in range(12)
            ]

    first = run()
    assert first == run()
    assert len(set(first)) > 1 and set(first) <= {200, 500, 503}
