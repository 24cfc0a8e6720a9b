"""Correct but different: providers that make other legal choices than the reference ones.

Each is a reference provider with four changes, every one allowed by the vendors' specs and the Provider
contract (docs/contract.md), none made by the reference:

- it sends other legal wire forms upstream: Anthropic ``system`` and message ``content`` as text blocks
  rather than strings; OpenAI ``max_tokens`` rather than ``max_completion_tokens`` (for the models that
  take both) and message content as text parts; Gemini fields in snake_case rather than camelCase;
- it mints its own ids where the upstream gives none (another format than the reference's);
- it never retries (the contract limits retries; it does not require them);
- it inherits the contract's raw defaults instead of forwarding bytes (``*_raw`` through the typed
  methods, the raw streams not offered) and the default compat flags (false).

wirecheck must find nothing wrong with them at the ``spec`` and ``contract`` profiles: every failure
there would be a false alarm (tests/harness/test_levels.py). They are used as
``tests.harness.different.providers:ClassName`` specs, as a user's provider would be.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from harness.checks.meaning import GEMINI_CALLER_DATA, takes_max_tokens
from providers.anthropic import AnthropicProvider
from providers.base import Provider
from providers.google import GoogleProvider
from providers.openai import OpenAIProvider
from providers.streams import Stream
from providers.transport import RetryPolicy

NO_RETRIES = RetryPolicy(max_retries=0)


def _blocks(value: Any) -> Any:
    """A non-empty string as one text block (the APIs refuse empty text blocks); anything else as is."""
    return [{"type": "text", "text": value}] if isinstance(value, str) and value else value


def _anthropic_form(body: dict[str, Any]) -> dict[str, Any]:
    if "system" in body:
        body["system"] = _blocks(body["system"])
    for message in body.get("messages") or ():
        message["content"] = _blocks(message.get("content"))
        for block in message["content"] if isinstance(message["content"], list) else ():
            if block.get("type") == "tool_result" and "content" in block:
                block["content"] = _blocks(block["content"])
    return body


def _openai_form(body: dict[str, Any]) -> dict[str, Any]:
    if "max_completion_tokens" in body and takes_max_tokens(body.get("model")):
        body["max_tokens"] = body.pop("max_completion_tokens")
    for message in body.get("messages") or ():
        if message.get("role") in ("system", "developer", "user", "tool") and "content" in message:
            message["content"] = _blocks(message["content"])
    return body


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _gemini_form(value: Any) -> Any:
    if isinstance(value, dict):
        return {_snake(k): v if k in GEMINI_CALLER_DATA else _gemini_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_gemini_form(item) for item in value]
    return value


_FORMS = {"anthropic": _anthropic_form, "openai": _openai_form, "gemini": _gemini_form}


class _OtherForms:
    """Rewrites every JSON body the provider sends upstream into ``_FORMS[dialect]``."""

    dialect: str

    def _other_form(self, content: Any) -> Any:
        if not isinstance(content, bytes):
            return content  # a streamed passthrough body: the caller's bytes
        try:
            body = json.loads(content)
        except ValueError:
            return content
        if not isinstance(body, dict):
            return content
        return json.dumps(_FORMS[self.dialect](body)).encode()

    async def post(self, path: str, content: bytes, **kwargs: Any) -> Any:
        return await super().post(path, self._other_form(content), **kwargs)  # type: ignore[misc]

    async def open_stream(self, path: str, content: Any, **kwargs: Any) -> Any:
        return await super().open_stream(path, self._other_form(content), **kwargs)  # type: ignore[misc]


def _defaults(cls: type) -> type:
    """``cls`` with the contract's defaults for the raw methods and the compat flags."""
    for name in (
        "chat_completion_raw",
        "chat_completion_stream_raw",
        "anthropic_messages_raw",
        "anthropic_messages_stream_raw",
        "gemini_generate_content_raw",
        "gemini_generate_content_stream_raw",
        "chat_completion_stream_passthrough",
        "is_openai_compat",
        "is_anthropic_compat",
        "is_gemini_compat",
    ):
        setattr(cls, name, getattr(Provider, name))
    return cls


@_defaults
class DifferentOpenAI(_OtherForms, OpenAIProvider):
    upstream_dialect = "openai"

    def __init__(self, api_key: str, base_url: str) -> None:
        super().__init__(api_key, base_url, retry=NO_RETRIES)


@_defaults
class DifferentAnthropic(_OtherForms, AnthropicProvider):
    upstream_dialect = "anthropic"

    def __init__(self, api_key: str, base_url: str) -> None:
        super().__init__(api_key, base_url, retry=NO_RETRIES)


class _Minted:
    """New ids of another format for the ids the reference mints (Gemini answers carry none), the same
    id always given the same new one within a call, so a stream's chunks and its tool calls still agree."""

    def __init__(self) -> None:
        self.given: dict[str, str] = {}

    def id_for(self, old: str) -> str:
        return self.given.setdefault(old, f"gw-{len(self.given) + 1:04d}")

    def rewrite(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: self.id_for(v)
                if k in ("id", "tool_call_id", "tool_use_id") and isinstance(v, str)
                else self.rewrite(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.rewrite(item) for item in value]
        return value

    def model(self, item: Any) -> Any:
        return type(item).parse(self.rewrite(item.to_json()))


def _reminted(stream: Stream[Any], minted: _Minted) -> Stream[Any]:
    async def items() -> AsyncIterator[Any]:
        async for item in stream:
            yield minted.model(item)

    return Stream(items(), on_close=stream.aclose)


@_defaults
class DifferentGoogle(_OtherForms, GoogleProvider):
    upstream_dialect = "gemini"

    def __init__(self, api_key: str, base_url: str) -> None:
        super().__init__(api_key, base_url, retry=NO_RETRIES)

    async def chat_completion(self, request):
        return _Minted().model(await super().chat_completion(request))

    async def anthropic_messages(self, request):
        return _Minted().model(await super().anthropic_messages(request))

    async def chat_completion_stream(self, request):
        return _reminted(await super().chat_completion_stream(request), _Minted())

    async def anthropic_messages_stream(self, request):
        return _reminted(await super().anthropic_messages_stream(request), _Minted())


__all__ = ["DifferentAnthropic", "DifferentGoogle", "DifferentOpenAI"]
