"""Providers with bugs only a wire variant shows (tests/harness/test_variants.py): each is right on the
mock's plain bytes and wrong on other legal bytes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from providers import translate
from providers.errors import ProviderError
from providers.google import GoogleProvider
from providers.openai import OpenAIProvider
from providers.streams import Stream
from providers.types.openai import ChatCompletionChunk, ChatCompletionResponse


class SplitsOnBlankLF(OpenAIProvider):
    """Re-parses the upstream stream naively: events end at ``\\n\\n`` and each is one ``data: `` line. Right
    for LF streams; with CRLF or CR line ends (legal SSE) it finds no event boundary and fails."""

    upstream_dialect = "openai"

    async def chat_completion_stream(self, request):
        body = json.dumps(request.to_json() | {"stream": True}).encode()
        upstream = await self.chat_completion_stream_raw(request.model, body)

        async def chunks() -> AsyncIterator[ChatCompletionChunk]:
            buffer = b""
            async for piece in upstream:
                buffer += piece
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    data = event.removeprefix(b"data: ")
                    if data == b"[DONE]":
                        return
                    try:
                        yield ChatCompletionChunk.parse(data)
                    except ProviderError:
                        raise
                    except ValueError as exc:
                        raise ProviderError.decode(f"bad event: {exc}", raw=event) from None
            if buffer.strip():
                raise ProviderError.decode("the stream ended inside an event", raw=buffer[-200:])

        return Stream(chunks(), on_close=upstream.aclose)


class CopiesResponseId(GoogleProvider):
    """Builds the OpenAI reply's required ``id`` and ``model`` from Gemini's optional ``responseId`` and
    ``modelVersion`` with no fallback (the gateway bug behind issue 15): right while the upstream sends
    them, a broken reply when a legal upstream leaves them out."""

    upstream_dialect = "gemini"

    async def chat_completion(self, request):
        body = translate.request("openai", "gemini", request.to_json())
        raw = await self.gemini_generate_content_raw(request.model, json.dumps(body).encode())
        upstream = json.loads(raw)
        reply = translate.response("gemini", "openai", upstream)
        reply["id"] = upstream.get("responseId")
        reply["model"] = upstream.get("modelVersion")
        return ChatCompletionResponse.parse(reply)
