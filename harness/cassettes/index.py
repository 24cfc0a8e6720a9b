"""The derived index of an interaction: what it is, semantically, so a folder of cassettes can be searched.

``derive(interaction)`` gives ``{dialect, kind, model, stream, status, finish, tools, usage, preview, error,
out_of_scope}`` (absent keys: not applicable or unknown). It is derived data: recomputed from the request
and response bytes at any time, stored in the file for ``grep`` and ``wirecheck cassette show``, and a test
checks that every shipped cassette's stored index equals ``derive``.

The answer part (finish, tools, usage, preview) goes through the reference converters to the IR
(``providers.convert``): a non-stream body by ``response_to_ir``, a stream by the dialect's ``StreamToIR``
and ``providers.convert.accumulate``, so a stream and the equivalent non-stream reply index alike.

``classify`` tells the endpoint from the method and path alone; ``SCOPE`` says which endpoints the
provider contract (docs/contract.md, 22 methods) covers, and why the others are out of scope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness.cassettes.format import Interaction
from providers.jsonstream import JSONArrayDecoder
from providers.sse import SSEDecoder, SSEEvent, is_done

__all__ = ["SCOPE", "Endpoint", "classify", "derive", "ir_response", "stream_events", "stream_items"]

PREVIEW = 80


@dataclass(frozen=True, slots=True)
class Endpoint:
    """``dialect`` (openai / azure / anthropic / gemini, or None), ``kind`` (chat, messages, generate,
    embeddings, ...), the ``model`` named by the path (Gemini, Azure deployment), and ``prefix``: the
    path before the endpoint's own part (an OpenAI-compatible base path, a Gemini API version)."""

    dialect: str | None
    kind: str
    model: str | None = None
    prefix: str = ""
    stream: bool = False  # the path alone says it streams (Gemini's :streamGenerateContent)


_GEMINI = re.compile(
    r"(?P<prefix>.*)/(?P<model>(?:models|tunedModels)/[^/:]+):(?P<action>generateContent|streamGenerateContent"
    r"|embedContent|batchEmbedContents|countTokens)"
)
_GEMINI_KINDS = {
    "generateContent": "generate",
    "streamGenerateContent": "generate",
    "embedContent": "embed",
    "batchEmbedContents": "batch_embed",
    "countTokens": "count_tokens",
}
_OPENAI_TAILS = {
    "/chat/completions": "chat",
    "/embeddings": "embeddings",
    "/images/generations": "images",
    "/audio/speech": "speech",
    "/audio/transcriptions": "transcription",
    "/completions": "completions",
    "/responses": "responses",
    "/moderations": "moderations",
}
_AZURE = re.compile(r"(?P<prefix>.*)/openai/deployments/(?P<deployment>[^/]+)(?P<tail>/.+)")
_ASSISTANTS = re.compile(r".*/v1/(assistants|threads|vector_stores|files|batches|uploads)(/|$)")

#: Endpoint kinds the provider contract covers (a method family of docs/contract.md), per dialect.
COVERED: dict[str, frozenset[str]] = {
    "openai": frozenset({"chat", "embeddings", "images", "speech", "transcription"}),
    "azure": frozenset({"chat", "embeddings", "images", "speech", "transcription"}),
    "anthropic": frozenset({"messages"}),
    "gemini": frozenset({"generate", "batch_embed"}),
}

#: Why an endpoint kind is out of scope (not one of the 22 contract methods).
SCOPE: dict[str, str] = {
    "responses": "OpenAI Responses API (/v1/responses): not a method of the provider contract",
    "completions": "legacy OpenAI Completions (/v1/completions): not a method of the provider contract",
    "assistants": "OpenAI Assistants/Threads API: not a method of the provider contract",
    "moderations": "OpenAI moderations: not a method of the provider contract",
    "count_tokens": "token counting (Anthropic count_tokens, Gemini countTokens): not a contract method",
    "embed": "Gemini single :embedContent: the contract's embedding goes through :batchEmbedContents",
    "file_search": "Gemini File Search store management and uploads: not a method of the provider contract",
    "download": "a plain file download from a non-LLM host (a test fixture fetched by the client)",
    "other": "an endpoint no provider method calls",
}


def classify(method: str, path: str, host: str | None = None) -> Endpoint:
    """The endpoint of a request, from its method and path (and host, to tell downloads apart)."""
    m = _GEMINI.fullmatch(path)
    if m:
        action = m["action"]
        return Endpoint(
            "gemini",
            _GEMINI_KINDS[action],
            m["model"].split("/", 1)[1],
            m["prefix"],
            stream=action == "streamGenerateContent",
        )
    if "fileSearchStores" in path or path.startswith("/upload/"):
        return Endpoint("gemini", "file_search")
    if method == "POST" and path.endswith("/v1/messages"):
        return Endpoint("anthropic", "messages", prefix=path[: -len("/v1/messages")])
    if path.endswith("/v1/messages/count_tokens"):
        return Endpoint("anthropic", "count_tokens")
    m = _AZURE.fullmatch(path)
    if m and m["tail"] in _OPENAI_TAILS:
        return Endpoint("azure", _OPENAI_TAILS[m["tail"]], m["deployment"], m["prefix"])
    if _ASSISTANTS.match(path):
        return Endpoint("openai", "assistants")
    for tail, kind in _OPENAI_TAILS.items():  # "/chat/completions" is tried before "/completions"
        if path.endswith(tail) and method == "POST":
            return Endpoint("openai", kind, prefix=path[: -len(tail)])
    if method == "GET" and host is not None and not _api_host(host):
        return Endpoint(None, "download")
    return Endpoint(None, "other")


def _api_host(host: str) -> bool:
    return bool(re.search(r"openai|anthropic|googleapis|cerebras|azure|127\.0\.0\.1|localhost", host))


def out_of_scope(endpoint: Endpoint) -> str | None:
    """Why the contract does not cover this endpoint, or None when it does."""
    if endpoint.dialect is not None and endpoint.kind in COVERED.get(endpoint.dialect, ()):
        return None
    return SCOPE.get(endpoint.kind, SCOPE["other"])


# --- streams ----------------------------------------------------------------------------------------------


def is_stream(it: Interaction) -> bool:
    return it.response.chunks is not None


def is_sse(it: Interaction) -> bool:
    """Whether the response body is an SSE stream (by its content type, or by its first bytes)."""
    kind = (it.response.header("content-type") or "").lower()
    if "text/event-stream" in kind:
        return True
    head = it.response.body.lstrip()[:6]
    return is_stream(it) and head.startswith((b"data:", b"event:", b":"))


def stream_events(it: Interaction) -> list[SSEEvent]:
    """The SSE events of a streamed response (decoded chunk by chunk, as a client would)."""
    decoder = SSEDecoder(errors="replace")
    out: list[SSEEvent] = []
    for piece in _pieces(it):
        out.extend(decoder.feed(piece))
    out.extend(decoder.close())
    return out


def _pieces(it: Interaction) -> list[bytes]:
    """The response bytes as they arrived (one piece when the body was stored whole)."""
    if it.response.chunks is not None:
        return [c.data for c in it.response.chunks]
    return [it.response.body]


def stream_items(it: Interaction) -> Iterator[Any]:
    """The JSON items of a stream: each SSE event's data (``[DONE]`` and blank data skipped), or each
    element of Gemini's JSON-array stream."""
    if is_sse(it):
        for event in stream_events(it):
            if is_done(event) or not event.data.strip():
                continue
            yield json.loads(event.data)
        return
    decoder = JSONArrayDecoder()
    for piece in _pieces(it):
        yield from decoder.feed(piece)
    yield from decoder.close()


# --- to the IR ----------------------------------------------------------------------------------------------


def _converters(dialect: str) -> Any:
    from providers.convert import anthropic, gemini, openai

    return {"openai": openai, "azure": openai, "anthropic": anthropic, "gemini": gemini}[dialect]


def _wire_response(dialect: str) -> Any:
    from providers.types.anthropic import MessagesResponse
    from providers.types.gemini import GenerateContentResponse
    from providers.types.openai import ChatCompletionResponse

    return {
        "openai": ChatCompletionResponse,
        "azure": ChatCompletionResponse,
        "anthropic": MessagesResponse,
        "gemini": GenerateContentResponse,
    }[dialect]


CHAT_KINDS = {"chat", "messages", "generate"}


def ir_response(it: Interaction, endpoint: Endpoint | None = None) -> Any:
    """The IR response of a chat-like interaction (non-stream: ``response_to_ir``; stream: ``StreamToIR``
    then ``accumulate``). Raises ``ProviderError`` when the body is not a complete answer."""
    from providers.convert.accumulate import accumulate

    endpoint = endpoint or classify(it.request.method, it.request.path, it.host)
    convert = _converters(endpoint.dialect or "openai")
    if not is_stream(it):
        return convert.response_to_ir(_wire_response(endpoint.dialect or "openai").parse(it.response.body))
    to_ir = convert.StreamToIR()
    events = []
    for item in stream_items(it):
        events.extend(to_ir.feed(item))
    events.extend(to_ir.close())
    return accumulate(events)


# --- the index ----------------------------------------------------------------------------------------------


def _model(it: Interaction, endpoint: Endpoint) -> str | None:
    data = it.request.json
    if isinstance(data, dict) and isinstance(data.get("model"), str):
        return data["model"]
    return endpoint.model


def _error_text(body: Any) -> str | None:
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        named = [error.get(k) for k in ("type", "status", "code")]
        kind = next((k for k in named if isinstance(k, str) and k), None) or next(
            (k for k in named if k), None
        )
        message = str(error.get("message") or "")
        return f"{kind}: {message}"[:PREVIEW] if kind else message[:PREVIEW]
    if isinstance(error, str):
        return error[:PREVIEW]
    return None


def derive(it: Interaction) -> dict[str, Any]:
    """The index of ``it`` (see the module doc)."""
    from providers.errors import ProviderError
    from providers.types import ir

    endpoint = classify(it.request.method, it.request.path, it.host)
    streamed = is_stream(it)
    out: dict[str, Any] = {"dialect": endpoint.dialect, "kind": endpoint.kind}
    model = _model(it, endpoint)
    if model:
        out["model"] = model
    out["stream"] = streamed
    out["status"] = it.response.status
    reason = out_of_scope(endpoint)
    if reason is not None:
        out["out_of_scope"] = reason
    envelope = _error_text(it.response.json)  # an error body, even one sent with HTTP 200 (Azure's filter)
    if not 200 <= it.response.status < 300 or envelope:
        out["error"] = envelope or it.response.body[:PREVIEW].decode("utf-8", "replace")
        return out
    if endpoint.kind in CHAT_KINDS and endpoint.dialect is not None:
        try:
            response = ir_response(it, endpoint)
        except ProviderError as exc:
            out["error"] = f"{exc.kind}: {exc.message}"[:PREVIEW]
            if streamed:
                text = _stream_error(it)
                if text:
                    out["error"] = text
            return out
        except (ValueError, TypeError, KeyError) as exc:
            out["error"] = f"unreadable: {exc}"[:PREVIEW]
            return out
        if response.stop is not None:
            out["finish"] = response.stop.raw or response.stop.reason
        tools = [p.name for p in response.content if isinstance(p, ir.ToolCall)]
        if tools:
            out["tools"] = tools
        if response.usage is not None:
            usage = response.usage
            out["usage"] = {
                "input": usage.prompt_total,
                "output": usage.completion_total,
                "total": usage.prompt_total + usage.completion_total,
            }
        text = "".join(p.text for p in response.content if isinstance(p, ir.Text))
        if text:
            out["preview"] = _preview(text)
    elif endpoint.kind in ("embeddings", "batch_embed") and isinstance(it.response.json, dict):
        usage = it.response.json.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
            out["usage"] = {
                "input": usage["prompt_tokens"],
                "total": usage.get("total_tokens", usage["prompt_tokens"]),
            }
    return out


def _stream_error(it: Interaction) -> str | None:
    try:
        for item in stream_items(it):
            text = _error_text(item) if isinstance(item, dict) and "error" in item else None
            if text:
                return text
    except ValueError:
        return None
    return None


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
