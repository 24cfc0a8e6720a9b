"""Google Gemini (docs/wire.md#gemini): ``/v1beta/...`` and ``/v1/...`` ``models/{model}:generateContent``,
``:streamGenerateContent`` with ``?alt=sse`` (data-only SSE framed ``data: {json}\\r\\n\\r\\n`` in Google's
JSON spacing, no ``[DONE]``) and without it (one streamed JSON array), ``:embedContent``,
``:batchEmbedContents``, ``:countTokens``, ``models``; errors ``{"error": {code, message, status, details}}``
with google.rpc status names and ``RetryInfo`` on 429.

Credentials: ``x-goog-api-key``, ``?key=`` or ``Authorization: Bearer``. Request fields are read in
camelCase or snake_case. Stream chunks hold only the new parts, repeat the cumulative ``usageMetadata``,
``modelVersion`` and ``responseId``, and the last one carries ``finishReason``.
"""

from __future__ import annotations

import json
from typing import Any

from mocks.dialects.common import (
    Call,
    Dialect,
    pick,
    route,
    seconds_text,
    status_entry,
    text_pieces,
)
from mocks.dialects.rules import refusal
from mocks.faults import ErrorFault, StreamErrorFault
from mocks.framing import ArrayFramer, Body, Event, Framer, SSEFramer
from mocks.generate import Answer, Ask, Tool, embedding, estimate_tokens, random_key
from providers.sse import gemini_event

_V = r"/(?P<version>v1|v1beta|v1alpha)/models/(?P<model>[^/:]+)"
_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}
# status: (google.rpc code name, default message)
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    409: ("ABORTED", "The operation was aborted."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    499: ("CANCELLED", "The operation was cancelled."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    501: ("UNIMPLEMENTED", "Method not implemented."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out. Please try again."),
}
_RPC = "type.googleapis.com/google.rpc."
_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-embedding-001")
_SSE = SSEFramer(gemini_event)
_ARRAY = ArrayFramer()


def _text_of(content: Any) -> str:
    parts = pick(content, "parts") or []
    if any(isinstance(p, dict) and pick(p, "functionResponse") is not None for p in parts):
        return ""
    return " ".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


class Gemini(Dialect):
    name = "gemini"
    routes = (
        route("POST", _V + r":generateContent", "generate"),
        route("POST", _V + r":streamGenerateContent", "generate", stream="1"),
        route("POST", _V + r":embedContent", "embed"),
        route("POST", _V + r":batchEmbedContents", "batch_embed"),
        route("POST", _V + r":countTokens", "count_tokens"),
        route("GET", r"/(?P<version>v1|v1beta|v1alpha)/models", "models"),
        route("GET", _V, "model"),
    )
    chat_endpoints = frozenset({"generate"})

    # -- protocol --

    def credential(self, call: Call) -> str | None:
        key = call.headers.get("x-goog-api-key") or call.q("key")
        if key:
            return key
        scheme, _, token = call.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def validate(self, call: Call) -> ErrorFault | None:
        """The API's 400 for a body that breaks its rules (mocks/dialects/rules.py), naming the field."""
        refused = refusal(self.name, call.endpoint, call.data)
        if refused is None:
            return None
        name = refused.field
        return ErrorFault(400, message=f"* GenerateContentRequest.{name}: {name} is not specified\n")

    def _streaming(self, call: Call) -> bool:
        return call.params.get("stream") == "1"

    # -- errors --

    def _error_object(self, status: int, message: str | None, details: list[Any]) -> dict[str, Any]:
        name, default = status_entry(_ERRORS, status)
        return {"error": {"code": status, "message": message or default, "status": name, "details": details}}

    def error(self, call: Call, fault: ErrorFault) -> Body:
        details: list[Any] = []
        if fault.status == 429:
            model = call.params.get("model", "gemini")
            details = [
                {
                    "@type": _RPC + "QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                            "quotaDimensions": {"location": "global", "model": model},
                            "quotaValue": "10",
                        }
                    ],
                },
                {
                    "@type": _RPC + "Help",
                    "links": [
                        {
                            "description": "Learn more about Gemini API quotas",
                            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                        }
                    ],
                },
                {"@type": _RPC + "RetryInfo", "retryDelay": seconds_text(fault.retry_after or 36) + "s"},
            ]
        if fault.code:
            details.append({"@type": _RPC + "ErrorInfo", "reason": fault.code, "domain": "googleapis.com"})
        body = self.json_body(self._error_object(fault.status, fault.message, details), fault.status)
        body.headers.update(fault.headers)
        return body

    def auth_error(self, call: Call, missing: bool) -> Body:
        if missing:
            message = (
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API."
            )
            return self.error(call, ErrorFault(403, message=message))
        details = [
            {
                "@type": _RPC + "ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": _RPC + "LocalizedMessage",
                "locale": "en-US",
                "message": "API key not valid. Please pass a valid API key.",
            },
        ]
        return self.json_body(
            self._error_object(400, "API key not valid. Please pass a valid API key.", details), 400
        )

    def stream_error(self, call: Call, fault: StreamErrorFault) -> Event:
        status = 503 if fault.status == 529 else fault.status
        return Event(data=self._error_object(status, fault.message, []))

    # -- replies --

    def json_body(self, obj: Any, status: int = 200) -> Body:
        body = super().json_body(obj, status)
        body.content_type = "application/json; charset=UTF-8"
        return body

    def framer(self, call: Call) -> Framer:
        return _SSE if call.q("alt") == "sse" else _ARRAY

    def stream_content_type(self, call: Call) -> str:
        return "text/event-stream" if call.q("alt") == "sse" else "application/json; charset=UTF-8"

    def ask(self, call: Call) -> Ask:
        data = call.data
        contents = [c for c in pick(data, "contents") or [] if isinstance(c, dict)]
        last = contents[-1] if contents else {}
        tools = tuple(
            Tool(
                d.get("name", ""),
                pick(d, "parametersJsonSchema") or d.get("parameters") or {},
            )
            for t in pick(data, "tools") or []
            for d in pick(t, "functionDeclarations") or []
            if isinstance(d, dict)
        )
        calling = pick(pick(data, "toolConfig"), "functionCallingConfig") or {}
        mode = str(pick(calling, "mode", "AUTO")).upper()
        allowed = pick(calling, "allowedFunctionNames") or []
        choice, forced = {"ANY": "any", "NONE": "none"}.get(mode, "auto"), None
        if choice == "any" and len(allowed) == 1:
            choice, forced = "tool", allowed[0]
        config = pick(data, "generationConfig") or {}
        thinking = pick(config, "thinkingConfig") or {}
        prompt = estimate_tokens(call.prompt_bytes)
        return Ask(
            last_user_text=_text_of(last) if last.get("role", "user") == "user" else "",
            tools=tools,
            tool_choice=choice,
            forced_tool=forced,
            thinking=pick(thinking, "includeThoughts") is True,
            max_tokens=pick(config, "maxOutputTokens"),
            prompt_tokens=prompt,
            cached_tokens=prompt // 2 if pick(data, "cachedContent") else 0,
        )

    def _usage(self, answer: Answer, candidates: int, thoughts: int) -> dict[str, Any]:
        u = answer.usage
        usage: dict[str, Any] = {
            "promptTokenCount": u.prompt,
            "candidatesTokenCount": candidates,
            "totalTokenCount": u.prompt + candidates + thoughts,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": u.prompt}],
        }
        if u.cached:
            usage["cachedContentTokenCount"] = u.cached
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        return usage

    def _parts(self, answer: Answer, rng: Any) -> list[list[dict[str, Any]]]:
        """The answer's parts grouped as stream chunks (one group each; a non-streamed reply joins them)."""
        groups: list[list[dict[str, Any]]] = []
        if answer.thinking is not None:
            groups.append([{"text": answer.thinking, "thought": True}])
        signed = answer.thinking is not None
        for tc in answer.tool_calls:
            part: dict[str, Any] = {"functionCall": {"name": tc.name, "args": tc.arguments}}
            if tc.id:
                part["functionCall"]["id"] = tc.id
            if signed:
                part["thoughtSignature"] = answer.signature
                signed = False
            groups.append([part])
        if answer.text is not None:
            pieces = text_pieces(answer.text, rng)
            groups.extend([{"text": "".join(pieces[i : i + 2])}] for i in range(0, len(pieces), 2))
        return groups or [[{"text": ""}]]

    def render(self, call: Call, answer: Answer) -> Body:
        rng = answer.rng("gemini")
        head = {"modelVersion": call.params.get("model", "gemini"), "responseId": random_key(rng, 23)}
        finish = _FINISH.get(answer.finish, answer.finish)
        groups = self._parts(answer, rng)
        u = answer.usage
        if not self._streaming(call):
            candidate = {
                "content": {"parts": [p for g in groups for p in g], "role": "model"},
                "finishReason": finish,
                "index": 0,
            }
            return self.json_body(
                {
                    "candidates": [candidate],
                    "usageMetadata": self._usage(answer, u.completion - u.reasoning, u.reasoning),
                    **head,
                }
            )
        chunks = []
        produced = 0
        for i, parts in enumerate(groups):
            last = i == len(groups) - 1
            thoughts = u.reasoning if any(p.get("thought") for g in groups[: i + 1] for p in g) else 0
            produced += sum(estimate_tokens(p["text"]) for p in parts if "text" in p and not p.get("thought"))
            candidates = u.completion - u.reasoning if last else min(produced, u.completion - u.reasoning)
            candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
            if last:
                candidate["finishReason"] = finish
            candidate["index"] = 0
            chunks.append(
                {
                    "candidates": [candidate],
                    "usageMetadata": self._usage(answer, candidates, thoughts),
                    **head,
                }
            )
        return self.stream_events(call, chunks)

    # -- other endpoints --

    def _dimensions(self, request: Any, model: str) -> int:
        return int(pick(request, "outputDimensionality") or (3072 if "gemini-embedding" in model else 768))

    def _embed(self, request: Any, model: str) -> dict[str, Any]:
        text = _text_of(pick(request, "content") or {})
        return {"values": embedding(f"{model}:{json.dumps(text)}", self._dimensions(request, model))}

    def endpoint_embed(self, call: Call) -> Body:
        return self.json_body({"embedding": self._embed(call.data, call.params["model"])})

    def endpoint_batch_embed(self, call: Call) -> Body:
        requests = pick(call.data, "requests") or []
        model = call.params["model"]
        return self.json_body({"embeddings": [self._embed(r, model) for r in requests]})

    def endpoint_count_tokens(self, call: Call) -> Body:
        tokens = estimate_tokens(call.prompt_bytes)
        return self.json_body(
            {"totalTokens": tokens, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}]}
        )

    def _model_info(self, model: str) -> dict[str, Any]:
        methods = (
            ["embedContent", "countTokens"] if "embedding" in model else ["generateContent", "countTokens"]
        )
        return {
            "name": f"models/{model}",
            "version": "001",
            "displayName": model,
            "inputTokenLimit": 1_048_576,
            "outputTokenLimit": 65_536,
            "supportedGenerationMethods": methods,
        }

    def endpoint_models(self, call: Call) -> Body:
        return self.json_body({"models": [self._model_info(m) for m in _MODELS]})

    def endpoint_model(self, call: Call) -> Body:
        return self.json_body(self._model_info(call.params["model"]))
