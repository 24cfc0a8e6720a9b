"""Property tests over every cassette: the shipped starter set and every imported real-traffic cassette,
parametrized by cassette and interaction id (``starter/openai-chat#1``, ``real/anthropic/test_x#0``).

(a) lossless: every JSON body the contract covers parses into its wire model and ``to_json()`` gives it back
    exactly (request, response or error body, and each stream item);
(b) raw ≡ typed: the interaction is replayed through the mock (strict matching, once mode, speed 0) and the
    reference provider's raw method and typed method are called on it: the raw bytes are the recorded bytes
    exactly, and they parse to exactly the typed result's JSON (streams: the decoded raw events are the
    typed items' JSON; an error is the same error on both sides). After each call, no interaction is unused
    and no request went unmatched;
(c) stream ≡ non-stream: a recorded stream accumulated through the dialect's ``StreamToIR`` and
    ``providers.convert.accumulate`` is a complete answer (stop reason, content, well-formed tool calls,
    usage) or fails with the in-stream error it carries; where a cassette holds the same request streamed
    and not, both answers agree (synthetic cassettes: exactly; recorded ones are two separate generations);
(d) SSE chunking invariance: the recorded bytes re-cut at random boundaries decode to the same events.
"""

from __future__ import annotations

import collections
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cassettes import index as ix
from harness.cassettes.replay import Replay
from mocks.engine import MockUpstream
from mocks.server import BackgroundServer
from providers.anthropic import AnthropicProvider
from providers.azure import AzureOpenAIProvider
from providers.errors import ProviderError
from providers.google import GoogleProvider
from providers.jsonstream import JSONArrayDecoder
from providers.openai import OpenAIProvider
from providers.sse import SSEDecoder, decode_all, is_done
from providers.transport import RetryPolicy
from providers.types import anthropic as at
from providers.types import gemini as gt
from providers.types import ir, media
from providers.types import openai as ot
from tests.corpus import MISSING
from tests.strategies.common import assert_strict_equal

from .corpus import Case, http_client, params

pytestmark = pytest.mark.anyio

NO_RETRY = RetryPolicy(max_retries=0)
RAW_TYPED_KINDS = {"chat", "messages", "generate", "embeddings", "images", "speech", "transcription"}

# --- which wire model reads which body ------------------------------------------------------------------

REQUEST_MODELS: dict[str, type] = {
    "chat": ot.ChatCompletionRequest,
    "messages": at.MessagesRequest,
    "generate": gt.GenerateContentRequest,
    "embeddings": media.EmbeddingRequest,
    "batch_embed": gt.BatchEmbedContentsRequest,
    "images": media.ImageRequest,
    "speech": media.AudioSpeechRequest,
}
RESPONSE_MODELS: dict[str, type] = {
    "chat": ot.ChatCompletionResponse,
    "messages": at.MessagesResponse,
    "generate": gt.GenerateContentResponse,
    "embeddings": media.EmbeddingResponse,
    "batch_embed": gt.BatchEmbedContentsResponse,
    "images": media.ImageResponse,
    "transcription": media.TranscriptionResponse,
}
ERROR_MODELS: dict[str, type] = {
    "openai": ot.ErrorBody,
    "azure": ot.ErrorBody,
    "anthropic": at.ErrorBody,
    "gemini": gt.ErrorBody,
}


def stream_item(dialect: str, item: Any) -> Any:
    """The wire model of one stream item."""
    if dialect in ("openai", "azure"):
        if isinstance(item, dict) and "error" in item and "choices" not in item:
            return ot.ErrorBody.parse(item)
        return ot.ChatCompletionChunk.parse(item)
    if dialect == "anthropic":
        return at.parse_stream_event(item)
    return gt.parse_stream_item(item)


# 2xx response bodies that are not the endpoint's wire format, by case id: the typed call must fail with a
# decode error and the raw bytes must not parse either (raw ≡ typed). A stale entry fails the test.
NOT_WIRE_BODIES = {
    "real/openai/test_text_response#0": "pydantic-ai's demo echo server answers /chat/completions with text/plain",
    "real/openai/test_invalid_response#0": "pydantic-ai's demo echo server answers a JSON that is not a completion",
    "real/openllmetry/openai/openai__test_azure__test_prompt_content_filtering#0": (
        "Azure's prompt filter answers HTTP 200 with an error envelope ({error: {code: content_filter}}); it parses "
        "as the error body, and the typed provider reports a decode error, not an upstream error"
    ),
}
# Request bodies the real API accepted that the wire model refuses, by case id (checked to still be refused).
NOT_WIRE_REQUESTS: dict[str, str] = {}
# Query parameters the replay ignores, per dialect (the opt-in ``ignore_query`` of harness.cassettes.replay):
# the Anthropic SDK's beta client adds ``?beta=true``, which our reference provider does not send.
IGNORED_QUERY = {"anthropic": ("beta",)}


# --- (a) lossless -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", params(lambda c: c.covered))
def test_a_every_body_parses_and_serializes_back_exactly(case: Case):
    it, endpoint = case.it, case.endpoint
    checked = 0
    request = it.request.json
    if request is not None and endpoint.kind in REQUEST_MODELS:
        if case.id in NOT_WIRE_REQUESTS:
            with pytest.raises(ProviderError):
                REQUEST_MODELS[endpoint.kind].parse(request)
        else:
            assert_strict_equal(REQUEST_MODELS[endpoint.kind].parse(request).to_json(), request)
            checked += 1
    if it.response.chunks is not None:
        for item in ix.stream_items(it):
            assert_strict_equal(stream_item(endpoint.dialect, item).to_json(), item)
            checked += 1
    else:
        body = it.response.json
        if body is not None:
            ok = 200 <= it.response.status < 300 and not (isinstance(body, dict) and "error" in body)
            model = RESPONSE_MODELS.get(endpoint.kind) if ok else ERROR_MODELS[endpoint.dialect]
            if model is not None:
                try:
                    parsed = model.parse(body)
                except ProviderError:
                    assert case.id in NOT_WIRE_BODIES, f"{case.id}: the response body does not parse"
                else:
                    assert_strict_equal(parsed.to_json(), body)
                    checked += 1
        elif it.response.body and endpoint.kind in RESPONSE_MODELS and 200 <= it.response.status < 300:
            assert case.id in NOT_WIRE_BODIES, f"{case.id}: a non-JSON body on a JSON endpoint"
    if checked == 0:
        assert (
            endpoint.kind in ("speech", "transcription") or case.id in NOT_WIRE_BODIES | NOT_WIRE_REQUESTS
        ), case.id


def test_allow_lists_name_existing_cases():
    ids = {case.id for case in (p.values[0] for p in params())}
    if not any(i.startswith("real/") for i in ids):
        pytest.skip(MISSING)
    assert set(NOT_WIRE_BODIES) | set(NOT_WIRE_REQUESTS) <= ids


# --- (b) raw ≡ typed ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with BackgroundServer(MockUpstream()) as hosted:
        yield hosted


def _streams(case: Case) -> bool:
    body = case.it.request.json
    return case.endpoint.stream or (isinstance(body, dict) and body.get("stream") is True)


def _provider(case: Case, url: str, client: httpx.AsyncClient) -> Any:
    endpoint, it = case.endpoint, case.it
    if endpoint.dialect == "openai":
        return OpenAIProvider("sk-test", base_url=url + endpoint.prefix, retry=NO_RETRY, client=client)
    if endpoint.dialect == "azure":
        body = it.request.json or {}
        model = body.get("model") if isinstance(body, dict) else None
        return AzureOpenAIProvider(
            "azure-test-key",
            endpoint=url + endpoint.prefix,
            api_version=it.request.query["api-version"][0],
            deployments={model or endpoint.model: endpoint.model},
            retry=NO_RETRY,
            client=client,
        )
    if endpoint.dialect == "anthropic":
        return AnthropicProvider("sk-ant-test", base_url=url + endpoint.prefix, retry=NO_RETRY, client=client)
    return GoogleProvider(
        "g-test", base_url=url, api_version=endpoint.prefix.strip("/"), retry=NO_RETRY, client=client
    )


async def _collect(opening) -> tuple[list[Any], ProviderError | None]:
    """Open a stream and read it to the end: (items, the error it raised or None)."""
    items: list[Any] = []
    try:
        stream = await opening
        async for item in stream:
            items.append(item)
    except ProviderError as exc:
        return items, exc
    return items, None


async def _raw(case: Case, provider: Any, url: str) -> tuple[Any, ProviderError | None]:
    """The raw side: the provider's raw method where the contract has one, else the bytes over plain HTTP."""
    endpoint, req = case.endpoint, case.it.request
    body = req.body
    if endpoint.kind == "chat":
        if _streams(case):
            items, error = await _collect(provider.chat_completion_stream_raw("", body))
            return b"".join(items), error
        return await _call(provider.chat_completion_raw("", body))
    if endpoint.kind == "messages":
        if _streams(case):
            items, error = await _collect(provider.anthropic_messages_stream_raw(body))
            return b"".join(items), error
        return await _call(provider.anthropic_messages_raw(body))
    if endpoint.kind == "generate":
        if _streams(case):
            items, error = await _collect(provider.gemini_generate_content_stream_raw(endpoint.model, body))
            return b"".join(items), error
        return await _call(provider.gemini_generate_content_raw(endpoint.model, body))
    async with http_client(base_url=url) as client:
        headers = {"content-type": req.header("content-type") or "application/json"}
        response = await client.post(
            req.path,
            params=[(k, v) for k, vs in req.query.items() for v in vs],
            content=body,
            headers=headers,
        )
    if response.status_code >= 400:
        return None, ProviderError.upstream(response.status_code, "raw", body=response.content)
    return response.content, None


async def _call(coro) -> tuple[Any, ProviderError | None]:
    try:
        return await coro, None
    except ProviderError as exc:
        return None, exc


async def _typed(case: Case, provider: Any) -> tuple[Any, ProviderError | None]:
    endpoint, req = case.endpoint, case.it.request
    data = req.json
    if endpoint.kind == "chat":
        request = ot.ChatCompletionRequest.parse(data)
        if _streams(case):
            return await _collect(provider.chat_completion_stream(request))
        return await _call(provider.chat_completion(request))
    if endpoint.kind == "messages":
        request = at.MessagesRequest.parse(data)
        if _streams(case):
            return await _collect(provider.anthropic_messages_stream(request))
        return await _call(provider.anthropic_messages(request))
    if endpoint.kind == "generate":
        request = gt.GenerateContentRequest.parse(data)
        if _streams(case):
            return await _collect(provider.gemini_generate_content_stream(endpoint.model, request))
        return await _call(provider.gemini_generate_content(endpoint.model, request))
    if endpoint.kind == "embeddings":
        return await _call(provider.embedding(media.EmbeddingRequest.parse(data)))
    if endpoint.kind == "images":
        return await _call(provider.image_generation(media.ImageRequest.parse(data)))
    if endpoint.kind == "speech":
        return await _call(provider.audio_speech(media.AudioSpeechRequest.parse(data)))
    fields = media.decode_multipart(req.body, req.header("content-type") or "")
    return await _call(provider.audio_transcription("", fields))


def _events(dialect: str, raw: bytes) -> list[Any]:
    """The JSON items of raw stream bytes, as a client decodes them."""
    if dialect == "gemini" and not raw.lstrip().startswith((b"data:", b"event:", b":")):
        decoder = JSONArrayDecoder()
        return decoder.feed(raw) + decoder.close()
    return [
        json.loads(e.data) for e in decode_all(raw, errors="replace") if not is_done(e) and e.data.strip()
    ]


def _json_of(value: Any) -> Any:
    if isinstance(value, tuple):  # images, speech, transcription: (bytes, content type)
        value = value[0]
    if isinstance(value, bytes):
        return value
    return value.to_json()


def _check_clean(replay: Replay) -> None:
    replay.check()  # raises ReplayError naming unused interactions and near misses
    assert replay.unused() == []


def _same_error(raw: ProviderError, typed: ProviderError, recorded_status: int, recorded_body: bytes) -> None:
    assert typed.kind == raw.kind == "upstream", (raw, typed)
    assert typed.status == raw.status == recorded_status
    assert typed.body == raw.body == recorded_body


@pytest.mark.parametrize("case", params(lambda c: c.covered and c.endpoint.kind in RAW_TYPED_KINDS))
async def test_b_raw_and_typed_agree_on_the_replayed_interaction(case: Case, server):
    it, endpoint = case.it, case.endpoint
    replay = Replay(
        [case.cassette],
        speed=0,
        only=[(0, case.number)],
        ignore_query=IGNORED_QUERY.get(endpoint.dialect, ()),
    )
    client = http_client()
    provider = _provider(case, server.url, client)
    try:
        replay.install(server)
        raw, raw_error = await _raw(case, provider, server.url)
        _check_clean(replay)
        if case.id in NOT_WIRE_REQUESTS:  # no typed request can be built from this body
            with pytest.raises(ProviderError):
                REQUEST_MODELS[endpoint.kind].parse(it.request.json)
            assert raw == it.response.body or raw_error is not None
            return
        replay.install(server)
        typed, typed_error = await _typed(case, provider)
        _check_clean(replay)
    finally:
        await provider.aclose()
        await client.aclose()

    recorded = it.response.body
    if not 200 <= it.response.status < 300:
        assert raw_error is not None and typed_error is not None, (raw_error, typed_error)
        _same_error(raw_error, typed_error, it.response.status, recorded)
        return
    if _streams(case) and endpoint.kind in ("chat", "messages", "generate"):
        assert raw == recorded  # byte-exact replay through the raw stream
        events = _events(endpoint.dialect, raw)
        items = [item.to_json() for item in typed]
        if typed_error is None:
            assert raw_error is None
            assert_strict_equal(items, events)
        elif typed_error.details.get("in_stream"):
            # the upstream reported an error after HTTP 200: the same items, then that error
            assert_strict_equal(items, events[: len(items)])
            assert json.loads(typed_error.body) == events[len(items)]
        else:
            assert typed_error.kind == "transport" and raw_error is not None and raw_error.kind == "transport"
            assert_strict_equal(items, events[: len(items)])
        return
    assert raw_error is None, raw_error
    assert raw == recorded  # byte-exact
    model = RESPONSE_MODELS.get(endpoint.kind)
    if typed_error is not None:
        # only a body that is not the wire format may fail the typed call, and then it is a decode error
        assert typed_error.kind == "decode" and case.id in NOT_WIRE_BODIES, typed_error
        with pytest.raises(ProviderError):
            model.parse(raw)
        return
    got = _json_of(typed)
    if isinstance(got, bytes):
        assert got == raw
        if model is not None:
            assert_strict_equal(model.parse(raw).to_json(), json.loads(raw))
    else:
        assert_strict_equal(got, json.loads(raw))


# --- (c) stream ≡ non-stream --------------------------------------------------------------------------------

CHAT_STREAMS = lambda c: c.covered and c.endpoint.kind in ix.CHAT_KINDS and c.it.response.chunks is not None  # noqa: E731


def _without_stream_flags(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    return body


def _pair(case: Case) -> Any:
    """The non-stream interaction of the same cassette that asked the same thing, if any."""
    want = (
        _without_stream_flags(case.it.request.json),
        case.it.request.path.replace(":streamGenerateContent", ":generateContent"),
    )
    for other in case.cassette.interactions:
        plain = other.response.chunks is None and 200 <= other.response.status < 300
        if plain and (_without_stream_flags(other.request.json), other.request.path) == want:
            return other
    return None


def _summary(response: ir.Response) -> dict[str, Any]:
    return {
        "text": "".join(p.text for p in response.content if isinstance(p, ir.Text)),
        "reasoning": "".join(p.text for p in response.content if isinstance(p, ir.Reasoning)),
        "tools": [
            (p.name, json.loads(p.arguments or "{}")) for p in response.content if isinstance(p, ir.ToolCall)
        ],
        "stop": response.stop.reason if response.stop else None,
        "usage": (response.usage.prompt_total, response.usage.completion_total) if response.usage else None,
    }


@pytest.mark.parametrize("case", params(CHAT_STREAMS))
def test_c_an_accumulated_stream_is_a_complete_answer(case: Case):
    it = case.it
    if not 200 <= it.response.status < 300:
        pytest.skip("an error status has no stream")
    try:
        response = ix.ir_response(it, case.endpoint)
    except ProviderError as exc:
        # only a stream that carries an error (after HTTP 200) may fail, with that error
        assert exc.kind == "upstream", exc
        assert any(
            isinstance(item, dict) and ("error" in item or item.get("type") == "error")
            for item in ix.stream_items(it)
        )
        return
    assert response.stop is not None, "no stop reason"
    parts = [p for p in response.content if isinstance(p, ir.Text | ir.ToolCall | ir.Reasoning | ir.Other)]
    assert parts or response.stop.reason in ("max_tokens", "content_filter", "end_turn", "stop"), "no content"
    for part in response.content:
        if isinstance(part, ir.ToolCall):
            assert part.name
            json.loads(part.arguments or "{}")  # the fragments joined into valid JSON
    if response.usage is not None:
        u = response.usage
        for value in (
            u.input_tokens,
            u.output_tokens,
            u.cache_read_tokens,
            u.cache_write_tokens,
            u.reasoning_tokens,
        ):
            assert value is None or value >= 0
    other = _pair(case)
    if other is not None:
        whole = ix.ir_response(other, case.endpoint)
        a, b = _summary(response), _summary(whole)
        if a["usage"] is None:  # the stream did not ask for usage (stream_options.include_usage)
            b["usage"] = None
        if case.synthetic:
            assert a == b
        else:  # two generations by a real model: the same kind of answer
            assert (a["stop"] is None) == (b["stop"] is None)


def test_c_synthetic_pairs_exist():
    pairs = [
        case
        for case in (p.values[0] for p in params(CHAT_STREAMS))
        if case.synthetic and _pair(case) is not None
    ]
    kinds = collections.Counter(case.endpoint.dialect for case in pairs)
    assert set(kinds) == {"openai", "azure", "anthropic", "gemini"}, kinds


# --- (d) SSE chunking invariance ------------------------------------------------------------------------------

SSE_STREAMS = lambda c: c.it.response.chunks is not None and ix.is_sse(c.it) and c.it.response.body  # noqa: E731


def _decode_pieces(pieces: list[bytes]) -> list[Any]:
    decoder = SSEDecoder(errors="replace")
    out = []
    for piece in pieces:
        out.extend(decoder.feed(piece))
    return out + decoder.close()


@pytest.mark.parametrize("case", params(SSE_STREAMS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_d_recutting_the_stream_anywhere_gives_the_same_events(case: Case, data):
    body = case.it.response.body
    whole = decode_all(body, errors="replace")
    assert _decode_pieces([c.data for c in case.it.response.chunks]) == whole  # as recorded
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=24), label="cuts"))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert _decode_pieces(pieces) == whole
    # byte by byte around a random point (CRLF pairs and multi-byte UTF-8 split)
    at = data.draw(st.integers(0, max(0, len(body) - 8)), label="at")
    assert (
        _decode_pieces(
            [body[:at], *(body[i : i + 1] for i in range(at, min(at + 8, len(body)))), body[at + 8 :]]
        )
        == whole
    )
