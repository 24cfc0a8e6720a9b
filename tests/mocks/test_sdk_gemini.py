"""The official google-genai SDK (sync client: its async one is asyncio-bound) against both mock servers,
on ``v1`` (3.x's default) and ``v1beta``; plus the raw wire: SSE framing and the JSON-array stream."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from google import genai
from google.genai import types

from mocks.engine import HostedUpstream
from providers.jsonstream import JSONArrayDecoder
from providers.sse import decode_all

WEATHER = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Weather of a city",
            parameters={"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
        )
    ]
)
ASK_TOOL = "What is the weather in Madrid? Call get_weather."


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_generate_with_function_call(
    gemini_client: Callable[..., genai.Client], upstream: HostedUpstream, version: str
) -> None:
    client = gemini_client(version)
    config = types.GenerateContentConfig(
        tools=[WEATHER], thinking_config=types.ThinkingConfig(include_thoughts=True)
    )
    response = client.models.generate_content(model="gemini-2.5-flash", contents=ASK_TOOL, config=config)
    call = response.function_calls[0]
    assert call.name == "get_weather" and isinstance(call.args["city"], str)
    parts = response.candidates[0].content.parts
    assert parts[0].thought is True and parts[1].thought_signature
    usage = response.usage_metadata
    assert (
        usage.total_token_count
        == usage.prompt_token_count + usage.candidates_token_count + usage.thoughts_token_count
    )
    seen = upstream.requests[0]
    assert seen.path == f"/{version}/models/gemini-2.5-flash:generateContent"
    assert seen.header("x-goog-api-key") == "<redacted:6 chars>"


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_stream_with_function_call(
    gemini_client: Callable[..., genai.Client], upstream: HostedUpstream, version: str
) -> None:
    client = gemini_client(version)
    chunks = list(
        client.models.generate_content_stream(
            model="gemini-2.5-flash", contents=ASK_TOOL, config=types.GenerateContentConfig(tools=[WEATHER])
        )
    )
    calls = [c for chunk in chunks for c in chunk.function_calls or []]
    assert [c.name for c in calls] == ["get_weather"]
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert upstream.requests[0].query == {"alt": ["sse"]}


def test_stream_text_usage_is_cumulative(gemini_client: Callable[..., genai.Client]) -> None:
    client = gemini_client("v1")
    chunks = list(
        client.models.generate_content_stream(model="gemini-2.5-flash", contents="Describe the forecast")
    )
    counts = [c.usage_metadata.candidates_token_count for c in chunks]
    assert counts == sorted(counts) and len(chunks) > 1
    whole = client.models.generate_content(model="gemini-2.5-flash", contents="Describe the forecast")
    assert "".join(c.text for c in chunks) == whole.text
    assert chunks[-1].usage_metadata.total_token_count == whole.usage_metadata.total_token_count


def test_embed_content(gemini_client: Callable[..., genai.Client], upstream: HostedUpstream) -> None:
    client = gemini_client("v1")
    result = client.models.embed_content(
        model="gemini-embedding-001",
        contents=["one", "two"],
        config=types.EmbedContentConfig(output_dimensionality=32),
    )
    assert [len(e.values) for e in result.embeddings] == [32, 32]
    assert result.embeddings[0].values != result.embeddings[1].values
    assert upstream.requests[0].path.endswith(":batchEmbedContents")


def test_count_tokens(gemini_client: Callable[..., genai.Client]) -> None:
    assert (
        gemini_client("v1beta").models.count_tokens(model="gemini-2.5-flash", contents="hello").total_tokens
        > 0
    )


def test_sse_framing_matches_the_real_api(upstream: HostedUpstream) -> None:
    response = httpx.post(
        upstream.url + "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=query-key",
        json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    )
    assert response.headers["content-type"] == "text/event-stream"
    body = response.content
    assert body.startswith(b'data: {"candidates": [{"content": {"parts": [')
    assert body.endswith(b"\r\n\r\n") and b"[DONE]" not in body
    assert all(e.event is None for e in decode_all(body))
    assert upstream.requests[0].query["key"] == ["<redacted:9 chars>"]


def test_json_array_stream_without_alt_sse(upstream: HostedUpstream) -> None:
    """Snake_case request fields are accepted; the body is one JSON array sent element by element."""
    body = {
        "contents": [{"role": "user", "parts": [{"text": ASK_TOOL}]}],
        "tools": [
            {
                "function_declarations": [
                    {"name": "get_weather", "parameters": {"type": "OBJECT", "properties": {}}}
                ]
            }
        ],
        "tool_config": {"function_calling_config": {"mode": "ANY"}},
    }
    decoder = JSONArrayDecoder()
    items = []
    with httpx.stream(
        "POST",
        upstream.url + "/v1/models/gemini-2.5-flash:streamGenerateContent",
        headers={"x-goog-api-key": "k"},
        json=body,
    ) as response:
        assert response.headers["content-type"].startswith("application/json")
        for piece in response.iter_raw():
            items.extend(decoder.feed(piece))
    decoder.close()
    assert decoder.done
    parts = [p for item in items for p in item["candidates"][0]["content"]["parts"]]
    assert parts == [{"functionCall": {"name": "get_weather", "args": {}}}]
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"


def test_missing_key_is_permission_denied(upstream: HostedUpstream) -> None:
    response = httpx.post(
        upstream.url + "/v1beta/models/gemini-2.5-flash:generateContent", json={"contents": []}
    )
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"
    assert upstream.requests[0].rejected == "auth"


def test_embed_content_route_reads_camel_and_snake_case(upstream: HostedUpstream) -> None:
    url = upstream.url + "/v1beta/models/text-embedding-004:embedContent?key=k"
    content = {"parts": [{"text": "same text"}]}
    camel = httpx.post(url, json={"content": content, "outputDimensionality": 5}).json()
    snake = httpx.post(url, json={"content": content, "output_dimensionality": 5}).json()
    assert camel == snake and len(camel["embedding"]["values"]) == 5
