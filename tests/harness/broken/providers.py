"""One deliberate bug per provider; each class docstring names the family and the checks it trips.

They are used as ``tests.harness.broken.providers:ClassName`` specs, exactly as a user's provider would
be, so they also exercise the ``module:Class`` path of the runner.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from providers.anthropic import AnthropicProvider
from providers.errors import ProviderError
from providers.google import GoogleProvider
from providers.openai import OpenAIProvider
from providers.streams import Stream
from providers.types.anthropic import parse_stream_event
from providers.types.gemini import parse_stream_item
from providers.types.openai import ChatCompletionChunk, ChatCompletionResponse


def _mapped(stream: Stream[Any], change) -> Stream[Any]:
    """``stream`` with every item passed through ``change(item) -> item``."""

    async def items() -> AsyncIterator[Any]:
        async for item in stream:
            yield change(item)

    return Stream(items(), on_close=stream.aclose)


class RepeatsToolCallId(OpenAIProvider):
    """stream: repeats each tool call's ``id`` and ``function.name`` on every argument fragment (the
    OmniRoute#682 bug). Trips stream.grammar.openai.tool_id_once and sdk.openai (the SDK concatenates
    the ids)."""

    upstream_dialect = "openai"

    async def chat_completion_stream(self, request):
        stream = await super().chat_completion_stream(request)
        seen: dict[int, tuple[str, str]] = {}

        def change(chunk: ChatCompletionChunk) -> ChatCompletionChunk:
            data = chunk.to_json()
            for choice in data.get("choices") or ():
                for call in (choice.get("delta") or {}).get("tool_calls") or ():
                    fn = call.setdefault("function", {})
                    if call.get("id"):
                        seen[call["index"]] = (call["id"], fn.get("name", ""))
                    elif call.get("index") in seen:
                        call["id"], fn["name"] = seen[call["index"]]
                        call["type"] = "function"
            return ChatCompletionChunk.parse(data)

        return _mapped(stream, change)


class GappyBlockIndices(AnthropicProvider):
    """stream: numbers content blocks 0, 2, 4, ... (new-api#5483). Trips
    stream.grammar.anthropic.block_indices and sdk.anthropic (IndexError) on multi-block streams."""

    upstream_dialect = "anthropic"

    async def anthropic_messages_stream(self, request):
        stream = await super().anthropic_messages_stream(request)

        def change(event: Any) -> Any:
            if isinstance(getattr(event, "index", None), int):
                data = event.to_json()
                data["index"] *= 2
                return parse_stream_event(data)
            return event

        return _mapped(stream, change)


class FinishOnEveryItem(GoogleProvider):
    """stream: puts ``finishReason: STOP`` on every streamed Gemini item. Trips
    stream.grammar.gemini.finish_last on streams of more than one item."""

    upstream_dialect = "gemini"

    async def gemini_generate_content_stream(self, model, request):
        stream = await super().gemini_generate_content_stream(model, request)

        def change(item: Any) -> Any:
            data = item.to_json()
            for candidate in data.get("candidates") or ():
                candidate.setdefault("finishReason", "STOP")
            return parse_stream_item(data)

        return _mapped(stream, change)


class DropsUsage(OpenAIProvider):
    """fields: loses ``usage`` in non-streaming chat completions. Trips fields.usage / fields.result where
    a case expects usage, and equivalence.raw against the raw twin, which keeps it."""

    upstream_dialect = "openai"

    async def chat_completion(self, request):
        response = await super().chat_completion(request)
        data = response.to_json()
        data.pop("usage", None)
        return ChatCompletionResponse.parse(data)


class WrongFinishReason(OpenAIProvider):
    """fields: reports ``finish_reason: "stop"`` where the upstream said ``tool_calls`` (non-streaming chat).
    Trips fields.stop (and fields.result / equivalence where a case or a twin states the reason)."""

    upstream_dialect = "openai"

    async def chat_completion(self, request):
        data = (await super().chat_completion(request)).to_json()
        for choice in data.get("choices") or ():
            if choice.get("finish_reason") == "tool_calls":
                choice["finish_reason"] = "stop"
        return ChatCompletionResponse.parse(data)


class DropsToolCallId(OpenAIProvider):
    """fields: drops each tool call's ``id`` in non-streaming chat answers, so the client cannot send the
    result back. Trips fields.tool_calls / fields.result / fields.schema where a case has tool calls."""

    upstream_dialect = "openai"

    async def chat_completion(self, request):
        data = (await super().chat_completion(request)).to_json()
        for choice in data.get("choices") or ():
            for call in (choice.get("message") or {}).get("tool_calls") or ():
                call.pop("id", None)
        return ChatCompletionResponse.parse(data)


class InflatesStreamUsage(AnthropicProvider):
    """equivalence: its Anthropic streams report one more output token than the non-streaming answer.
    Trips equivalence.stream (and fields.usage where a case states the usage)."""

    upstream_dialect = "anthropic"

    async def anthropic_messages_stream(self, request):
        stream = await super().anthropic_messages_stream(request)

        def change(event: Any) -> Any:
            if getattr(event, "type", None) == "message_delta":
                data = event.to_json()
                data["usage"]["output_tokens"] += 1
                return parse_stream_event(data)
            return event

        return _mapped(stream, change)


class RawDiffersFromTyped(OpenAIProvider):
    """equivalence: its raw chat path drops ``system_fingerprint`` the typed path keeps. Trips
    equivalence.raw only."""

    upstream_dialect = "openai"

    async def chat_completion_raw(self, model, raw_body):
        body = json.loads(await super().chat_completion_raw(model, raw_body))
        body.pop("system_fingerprint", None)
        return json.dumps(body).encode()


class Maps529Wrong(AnthropicProvider):
    """error: reports Anthropic's 529 overloaded_error as a transport disconnect. Trips error.kind (and
    error.status / error.type where a case states them)."""

    upstream_dialect = "anthropic"

    @staticmethod
    def _remap(exc: ProviderError) -> ProviderError:
        if exc.status == 529:
            return ProviderError.transport("disconnect", f"upstream went away ({exc.message})")
        return exc

    async def anthropic_messages(self, request):
        try:
            return await super().anthropic_messages(request)
        except ProviderError as exc:
            raise self._remap(exc) from None

    async def anthropic_messages_stream(self, request):
        try:
            stream = await super().anthropic_messages_stream(request)
        except ProviderError as exc:
            raise self._remap(exc) from None

        async def items() -> AsyncIterator[Any]:
            try:
                async for item in stream:
                    yield item
            except ProviderError as exc:
                raise self._remap(exc) from None

        return Stream(items(), on_close=stream.aclose)


class RetriesAfterStream(AnthropicProvider):
    """upstream: when a stream fails midway it silently sends the request again and goes on with the new
    stream. Trips upstream.retry.after_stream and upstream.attempts."""

    upstream_dialect = "anthropic"

    async def anthropic_messages_stream(self, request):
        first = await super().anthropic_messages_stream(request)
        again = super().anthropic_messages_stream

        async def items() -> AsyncIterator[Any]:
            try:
                async for item in first:
                    yield item
            except ProviderError:
                second = await again(request)
                async for item in second:
                    yield item

        return Stream(items(), on_close=first.aclose)


class WrongVersionHeader(AnthropicProvider):
    """upstream: sends ``anthropic-version: 2023-01-01`` (an old version the API still accepts) instead of
    2023-06-01. Trips upstream.request where a case states the header."""

    upstream_dialect = "anthropic"

    def __init__(
        self, api_key: str, base_url: str = "https://api.anthropic.com", client: Any = None, sleep: Any = None
    ) -> None:
        super().__init__(api_key, base_url, version="2023-01-01", client=client, sleep=sleep)


class BuffersStream(AnthropicProvider):
    """timing: reads the whole upstream stream before yielding the first event. Trips timing.streamed
    when the upstream spaces its events out (and error.raised: a mid-stream error now comes from the
    call)."""

    upstream_dialect = "anthropic"

    async def anthropic_messages_stream(self, request):
        stream = await super().anthropic_messages_stream(request)
        events = await stream.collect()

        async def items() -> AsyncIterator[Any]:
            for event in events:
                yield event

        return Stream(items())
