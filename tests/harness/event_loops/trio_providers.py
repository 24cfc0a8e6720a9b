"""A provider written for trio: ``tests.harness.event_loops.trio_providers:TrioProvider``. Its calls ask
``trio.lowlevel.current_task()``, a ``RuntimeError`` on any other loop."""

from __future__ import annotations

import trio

from providers.openai import OpenAIProvider


class TrioProvider(OpenAIProvider):
    """The reference OpenAI provider, with trio-only code in front of its non-streaming call."""

    upstream_dialect = "openai"

    async def chat_completion(self, request):
        trio.lowlevel.current_task()
        await trio.sleep(0)
        return await super().chat_completion(request)
