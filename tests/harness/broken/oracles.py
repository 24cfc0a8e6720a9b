"""Broken providers for the JS SDK oracles and the stream terminators (tests/harness/test_js_oracles.py),
on top of the reference providers, used as ``tests.harness.broken.oracles:ClassName`` specs.

- ``RoleNullEveryChunk``: every OpenAI chunk's delta says ``"role": null``. openai-python accepts it;
  openai-node throws "missing role for choice 0" (sdk.js.openai), and the grammar's role rules fail.
- ``NoDoneTerminator``: raw OpenAI streams lose their ``data: [DONE]``, read back as a client of such a
  gateway reads them (``providers._dialect.raw_sse``: the iterator raises transport/disconnect after the
  last byte).
- ``NoMessageStop``: raw Anthropic streams lose their ``message_stop`` event, read back the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from providers._dialect import raw_sse
from providers.anthropic import AnthropicProvider
from providers.openai import OpenAIProvider
from providers.sse import SSEDecoder, encode
from providers.streams import Stream
from providers.types.openai import ChatCompletionChunk


def _without(stream: Stream[bytes], dialect: str, drop) -> Stream[bytes]:
    """``stream``'s SSE events except those ``drop(event)`` names, re-read by the dialect's raw reader."""

    async def events() -> AsyncIterator[bytes]:
        decoder = SSEDecoder()
        async for piece in stream:
            for event in decoder.feed(piece):
                if not drop(event):
                    yield encode(event.data, event=event.event)

    return raw_sse(Stream(events(), on_close=stream.aclose), dialect)


class RoleNullEveryChunk(OpenAIProvider):
    """Typed OpenAI streams with ``delta.role: null`` on every chunk."""

    upstream_dialect = "openai"

    async def chat_completion_stream(self, request):
        stream = await super().chat_completion_stream(request)

        async def items() -> AsyncIterator[Any]:
            async for chunk in stream:
                data = chunk.to_json()
                for choice in data.get("choices") or ():
                    choice.setdefault("delta", {})["role"] = None
                yield ChatCompletionChunk.parse(data)

        return Stream(items(), on_close=stream.aclose)


class NoDoneTerminator(OpenAIProvider):
    """Raw OpenAI streams without ``data: [DONE]``."""

    upstream_dialect = "openai"

    async def chat_completion_stream_raw(self, model, raw_body):
        stream = await super().chat_completion_stream_raw(model, raw_body)
        return _without(stream, "openai", lambda event: event.data.startswith("[DONE]"))


class NoMessageStop(AnthropicProvider):
    """Raw Anthropic streams without the ``message_stop`` event."""

    upstream_dialect = "anthropic"

    async def anthropic_messages_stream_raw(self, raw_body):
        stream = await super().anthropic_messages_stream_raw(raw_body)
        return _without(stream, "anthropic", lambda event: event.event == "message_stop")
