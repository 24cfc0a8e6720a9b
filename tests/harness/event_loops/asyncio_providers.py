"""Providers written for asyncio: ``tests.harness.event_loops.asyncio_providers:Class``.

Their code runs only under asyncio: the constructor and every call ask ``asyncio.get_running_loop()``
(a ``RuntimeError`` under trio) and the upstream is spoken with an ``httpx.AsyncClient`` made on that
loop. ``EVENTS`` records what happened on the asyncio side (cancellations, stream closes, with the
thread they ran on) for the tests to assert.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from providers.base import Provider
from providers.convert import anthropic, gemini, openai
from providers.errors import ProviderError
from providers.sse import SSEDecoder, is_done
from providers.streams import Stream, translate
from providers.types.openai import ChatCompletionChunk, ChatCompletionResponse

#: (event, thread name) as they happen on the asyncio side.
EVENTS: list[tuple[str, str]] = []
_KEPT: set[asyncio.Future[Any]] = set()  # the loop keeps only weak references to tasks


def _record(event: str) -> None:
    EVENTS.append((event, threading.current_thread().name))


class AsyncioProvider(Provider):
    """An OpenAI-compatible upstream over httpx under asyncio; Anthropic and Gemini through the IR. It
    retries a 429 twice, waiting its retry-after with the ``sleep`` it was given."""

    upstream_dialect = "openai"

    def __init__(
        self,
        api_key: str,
        base_url: str,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        client: Any = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.sleep = sleep or asyncio.sleep
        if client is not None:
            raise TypeError("an asyncio provider must not be handed the harness's trio-bound client")
        self.http = httpx.AsyncClient(base_url=base_url, headers={"authorization": f"Bearer {api_key}"})

    def _check_loop(self) -> None:
        if asyncio.get_running_loop() is not self.loop:
            raise RuntimeError("called on another asyncio loop than the one it was built on")

    async def aclose(self) -> None:
        self._check_loop()
        await self.http.aclose()

    async def _open(self, body: dict[str, Any]) -> tuple[httpx.Response, Any]:
        """The upstream's response (its body unread) and the stream context to exit, after the retries."""
        self._check_loop()
        for attempt in range(3):
            context = self.http.stream("POST", "/chat/completions", json=body)
            response = await context.__aenter__()
            if response.status_code < 400:
                return response, context
            await response.aread()
            await context.__aexit__(None, None, None)
            retry_after = response.headers.get("retry-after")
            if response.status_code != 429 or attempt == 2:
                raise ProviderError.upstream(
                    response.status_code,
                    response.text,
                    retry_after=float(retry_after) if retry_after else None,
                    body=response.content,
                )
            await self.sleep(float(retry_after or 1))
        raise AssertionError("unreachable")

    async def chat_completion(self, request):
        response, context = await self._open(request.to_json() | {"stream": False})
        try:
            return ChatCompletionResponse.parse(await response.aread())
        finally:
            await context.__aexit__(None, None, None)

    async def chat_completion_stream(self, request):
        return await self._chunks(request.to_json() | {"stream": True})

    async def _chunks(self, body: dict[str, Any]) -> Stream[ChatCompletionChunk]:
        response, context = await self._open(body)

        async def chunks() -> AsyncIterator[ChatCompletionChunk]:
            decoder = SSEDecoder()
            async for piece in response.aiter_bytes():
                self._check_loop()
                for event in decoder.feed(piece):
                    if is_done(event):
                        return
                    yield ChatCompletionChunk.parse(event.data)

        async def close() -> None:
            self._check_loop()
            _record("stream closed")
            await context.__aexit__(None, None, None)

        return Stream(chunks(), on_close=close)

    async def anthropic_messages(self, request):
        answer = await self.chat_completion(openai.request_from_ir(anthropic.request_to_ir(request)))
        return anthropic.response_from_ir(openai.response_to_ir(answer))

    async def anthropic_messages_stream(self, request):
        chunks = await self._translated(anthropic.request_to_ir(request))
        return translate(chunks, openai.StreamToIR(), anthropic.StreamFromIR())

    async def gemini_generate_content_stream(self, model, request):
        chunks = await self._translated(gemini.request_to_ir(request, model))
        return translate(chunks, openai.StreamToIR(), gemini.StreamFromIR())

    async def _translated(self, request_ir: Any) -> Stream[ChatCompletionChunk]:
        body = openai.request_from_ir(request_ir).to_json()
        return await self._chunks(body | {"stream": True, "stream_options": {"include_usage": True}})


class Hangs(AsyncioProvider):
    """``chat_completion`` never returns; it records the cancellation that ends it."""

    async def chat_completion(self, request):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            _record("chat_completion cancelled")
            raise


class HangsStubbornly(AsyncioProvider):
    """``chat_completion`` never returns and swallows every cancellation (the bridge must abandon it)."""

    async def chat_completion(self, request):
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                _record("cancellation ignored")


class LeavesThingsBehind(AsyncioProvider):
    """Answers, after starting what a careless library leaves at exit: a non-daemon thread, a job in the
    loop's default executor (whose workers the interpreter joins at exit), a task that swallows
    cancellation, and an atexit handler; each would hold the exiting process for 10 minutes."""

    async def chat_completion(self, request):
        loop = asyncio.get_running_loop()
        threading.Thread(target=time.sleep, args=(600,), name="left-behind", daemon=False).start()
        _KEPT.add(loop.run_in_executor(None, time.sleep, 600))
        _KEPT.add(loop.create_task(_stubborn()))
        atexit.register(time.sleep, 600)
        return await super().chat_completion(request)


async def _stubborn() -> None:
    while True:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(600)
