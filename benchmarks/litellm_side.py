"""LiteLLM's own translation functions, called on the same dict inputs as ours (LiteLLM 1.108).

Direction ``client→upstream``: the request goes client → upstream, the reply and the stream come back
upstream → client (what a gateway does). What is called:

- OpenAI→Anthropic: request ``AnthropicConfig.map_openai_params`` + ``AnthropicConfig.transform_request``;
  reply ``AnthropicConfig.transform_parsed_response`` (→ ``ModelResponse``); stream
  ``anthropic.chat.handler.ModelResponseIterator.chunk_parser`` per event (→ ``ModelResponseStream``).
- OpenAI→Gemini: request ``GoogleAIStudioGeminiConfig.map_openai_params`` + ``vertex_ai.gemini.
  transformation.transform_request_body``; reply ``_transform_google_generate_content_to_openai_model_
  response``; stream ``vertex_and_google_ai_studio_gemini.ModelResponseIterator.chunk_parser``.
- Anthropic→OpenAI: request ``LiteLLMAnthropicMessagesAdapter.translate_anthropic_to_openai``; reply
  ``ModelResponse(**dict)`` + ``translate_openai_response_to_anthropic``; stream ``ModelResponseStream(**
  chunk)`` through ``AnthropicStreamWrapper``.
- Gemini→OpenAI: request ``GoogleGenAIAdapter.translate_generate_content_to_completion``; reply
  ``ModelResponse(**dict)`` + ``translate_completion_to_generate_content``; stream ``ModelResponseStream``
  through ``GoogleGenAIStreamWrapper``.
- Anthropic→Gemini and Gemini→Anthropic: LiteLLM has no direct function; it goes through its OpenAI form
  (as its proxy does for an ``/v1/messages`` or ``generateContent`` call routed to the other provider), so
  the two hops above are chained.

LiteLLM mutates some inputs, so each call gets a fresh copy of its input (``json.loads`` of the
serialized dict); the copy's cost is timed on its own and subtracted. LiteLLM's outputs that are
pydantic objects (``ModelResponse``, ``ModelResponseStream``) are not dumped to dicts (in LiteLLM's
favour: our side's time includes ``to_json``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch of the price map

ANTHROPIC_MODEL = "claude-sonnet-4-5"
GEMINI_MODEL = "gemini-2.5-flash"
OPENAI_MODEL = "gpt-4o"

COMPOSED = {("anthropic", "gemini"), ("gemini", "anthropic")}


def available() -> str | None:
    """LiteLLM's version, or None when it is not installed."""
    try:
        from importlib.metadata import version

        import litellm  # noqa: F401

        return version("litellm")
    except Exception:
        return None


class _Log:
    """Enough of LiteLLM's logging object for the transform functions (they only call ``post_call``)."""

    model_call_details: dict[str, Any] = {}  # noqa: RUF012
    optional_params: dict[str, Any] = {}  # noqa: RUF012

    def post_call(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return None


def build() -> dict[tuple[str, str, str], Callable[[Any], Any]]:
    """``(client, upstream, kind) → fn(input)`` for kind in request/response/stream. A stream fn takes the
    list of upstream event dicts and returns the list of client events."""
    import httpx
    from litellm.google_genai.adapters.transformation import GoogleGenAIAdapter, GoogleGenAIStreamWrapper
    from litellm.llms.anthropic.chat.handler import ModelResponseIterator as AnthropicIterator
    from litellm.llms.anthropic.chat.transformation import AnthropicConfig
    from litellm.llms.anthropic.pass_through.adapters.streaming_iterator import AnthropicStreamWrapper
    from litellm.llms.anthropic.pass_through.adapters.transformation import LiteLLMAnthropicMessagesAdapter
    from litellm.llms.gemini.chat.transformation import GoogleAIStudioGeminiConfig
    from litellm.llms.vertex_ai.gemini.transformation import transform_request_body
    from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import (
        ModelResponseIterator as GeminiIterator,
    )
    from litellm.types.utils import ModelResponse, ModelResponseStream

    raw = httpx.Response(200, request=httpx.Request("POST", "http://127.0.0.1/"))
    log = _Log()
    anthropic_adapter = LiteLLMAnthropicMessagesAdapter()
    genai_adapter = GoogleGenAIAdapter()

    # -- requests: into and out of LiteLLM's OpenAI form ----------------------------------------------
    def openai_to_anthropic_req(d: dict[str, Any]) -> dict[str, Any]:
        cfg = AnthropicConfig()
        params = {k: v for k, v in d.items() if k not in ("model", "messages")}
        optional = cfg.map_openai_params(params, {}, ANTHROPIC_MODEL, False)
        return cfg.transform_request(ANTHROPIC_MODEL, d["messages"], optional, {}, {})

    def openai_to_gemini_req(d: dict[str, Any]) -> dict[str, Any]:
        cfg = GoogleAIStudioGeminiConfig()
        params = {k: v for k, v in d.items() if k not in ("model", "messages")}
        optional = cfg.map_openai_params(params, {}, GEMINI_MODEL, False)
        return transform_request_body(d["messages"], GEMINI_MODEL, optional, "gemini", {}, None)  # type: ignore[return-value]

    def anthropic_to_openai_req(d: dict[str, Any]) -> dict[str, Any]:
        return anthropic_adapter.translate_anthropic_to_openai(d)[0]  # type: ignore[return-value]

    def gemini_to_openai_req(d: dict[str, Any]) -> dict[str, Any]:
        config = {k: v for k, v in d.items() if k != "contents"}
        return genai_adapter.translate_generate_content_to_completion(OPENAI_MODEL, d["contents"], config)

    # -- responses: upstream → LiteLLM's ModelResponse → client ---------------------------------------
    def anthropic_to_model(d: dict[str, Any]) -> Any:
        return AnthropicConfig().transform_parsed_response(d, raw, ModelResponse())

    def gemini_to_model(d: dict[str, Any]) -> Any:
        return GoogleAIStudioGeminiConfig()._transform_google_generate_content_to_openai_model_response(
            d, ModelResponse(), GEMINI_MODEL, log, raw
        )

    def model_to_anthropic(m: Any) -> Any:
        return anthropic_adapter.translate_openai_response_to_anthropic(m)

    def model_to_gemini(m: Any) -> Any:
        return genai_adapter.translate_completion_to_generate_content(m)

    # -- streams ---------------------------------------------------------------------------------------
    def anthropic_chunks(events: Iterable[dict[str, Any]]) -> Iterator[Any]:
        it = AnthropicIterator(None, sync_stream=True)
        for e in events:
            yield it.chunk_parser(e)

    def gemini_chunks(events: Iterable[dict[str, Any]]) -> Iterator[Any]:
        it = GeminiIterator(None, sync_stream=True, logging_obj=log)
        for e in events:
            chunk = it.chunk_parser(e)
            if chunk is not None:
                yield chunk

    def openai_chunks(events: Iterable[dict[str, Any]]) -> Iterator[Any]:
        for e in events:
            yield ModelResponseStream(**e)

    def to_anthropic_stream(chunks: Iterator[Any]) -> list[Any]:
        return list(AnthropicStreamWrapper(chunks, OPENAI_MODEL))

    def to_gemini_stream(chunks: Iterator[Any]) -> list[Any]:
        return list(GoogleGenAIStreamWrapper(chunks))

    upstream_chunks = {"anthropic": anthropic_chunks, "gemini": gemini_chunks, "openai": openai_chunks}
    upstream_model = {
        "anthropic": anthropic_to_model,
        "gemini": gemini_to_model,
        "openai": lambda d: ModelResponse(**d),
    }
    client_model = {"anthropic": model_to_anthropic, "gemini": model_to_gemini, "openai": lambda m: m}
    client_stream = {"anthropic": to_anthropic_stream, "gemini": to_gemini_stream, "openai": list}
    to_openai_req = {"anthropic": anthropic_to_openai_req, "gemini": gemini_to_openai_req, "openai": None}
    from_openai_req = {"anthropic": openai_to_anthropic_req, "gemini": openai_to_gemini_req, "openai": None}

    cells: dict[tuple[str, str, str], Callable[[Any], Any]] = {}
    for client in ("openai", "anthropic", "gemini"):
        for upstream in ("openai", "anthropic", "gemini"):
            if client == upstream:
                continue
            into, out = to_openai_req[client], from_openai_req[upstream]
            if into is None:
                cells[(client, upstream, "request")] = out  # type: ignore[assignment]
            elif out is None:
                cells[(client, upstream, "request")] = into
            else:
                cells[(client, upstream, "request")] = lambda d, a=into, b=out: b(a(d))
            cells[(client, upstream, "response")] = (
                lambda d, a=upstream_model[upstream], b=client_model[client]: b(a(d))
            )
            cells[(client, upstream, "stream")] = (
                lambda events, a=upstream_chunks[upstream], b=client_stream[client]: b(a(events))
            )
    return cells


def fresh(obj: Any) -> Callable[[], Any]:
    """A function returning a fresh deep copy of the JSON value ``obj`` (LiteLLM mutates its inputs)."""
    text = json.dumps(obj)
    return lambda: json.loads(text)
