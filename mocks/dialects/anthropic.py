"""Anthropic Messages (docs/wire.md#anthropic): ``/v1/messages`` (JSON, or SSE with ``event:`` lines equal to
each JSON ``type``), ``/v1/messages/count_tokens``, ``/v1/models``; error bodies by status (529
``overloaded_error`` included) with ``request-id`` and the ``anthropic-ratelimit-*`` family (RFC 3339 resets).

Both client generations are accepted: ``x-api-key`` or ``Authorization: Bearer``, ``anthropic-version``
2023-06-01 or 2026-10-21 (an unknown version gets the real 400), and ``?beta=true`` is ignored. Streams
imitate the real ones: ``message_start`` (usage with ``output_tokens`` 1), per block start / deltas / stop
(a thinking block ends with its ``signature_delta``; tool input arrives as ``input_json_delta`` fragments,
the first one empty), a ``ping`` right after the first block starts (written ``{"type": "ping"}`` as the
API writes it), ``message_delta`` with the stop reason and cumulative usage, ``message_stop``; each JSON
payload is padded with the trailing spaces the API puts inside its ``data:`` lines.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

from mocks.dialects.common import (
    Call,
    Dialect,
    json_fragments,
    rfc3339,
    route,
    seconds_text,
    status_entry,
    text_pieces,
    tokens_before,
)
from mocks.dialects.rules import EMPTY, MISSING, NOT_INTEGER, TOO_SMALL, refusal
from mocks.faults import ErrorFault, StreamErrorFault
from mocks.framing import Body, Event, SSEFramer
from mocks.generate import Answer, Ask, Tool, estimate_tokens, random_key
from mocks.script import AuthPolicy
from providers.sse import anthropic_event, dumps

VERSIONS = frozenset({"2023-01-01", "2023-06-01", "2026-10-21"})
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "This request would exceed the rate limit for your organization."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}
_PING = b'event: ping\ndata: {"type": "ping"}\n\n'
# A broken event must carry a name: the SDK skips unnamed events without parsing them.
_FRAMER = SSEFramer(anthropic_event, broken=b'event: content_block_delta\ndata: {"broken\n\n')
_MODELS = (
    ("claude-sonnet-4-6", "Claude Sonnet 4.6"),
    ("claude-opus-4-7", "Claude Opus 4.7"),
    ("claude-haiku-4-5", "Claude Haiku 4.5"),
)


def _text_of(content: Any) -> str:
    """The text of a user turn; empty when it carries tool results (the model then answers in text)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    blocks = [b for b in content if isinstance(b, dict)]
    if any(b.get("type") == "tool_result" for b in blocks):
        return ""
    return " ".join(b.get("text", "") for b in blocks if b.get("type") == "text")


class Anthropic(Dialect):
    name = "anthropic"
    routes = (
        route("POST", r"/v1/messages", "messages"),
        route("POST", r"/v1/messages/count_tokens", "count_tokens"),
        route("GET", r"/v1/models", "models", header="anthropic-version"),
        route("GET", r"/v1/models/(?P<model>[^/]+)", "model", header="anthropic-version"),
    )
    chat_endpoints = frozenset({"messages"})

    # -- protocol --

    def credential(self, call: Call) -> str | None:
        if call.headers.get("x-api-key"):
            return call.headers["x-api-key"]
        scheme, _, key = call.headers.get("authorization", "").partition(" ")
        return key.strip() if scheme.lower() == "bearer" else None

    def check(self, call: Call, auth: AuthPolicy) -> tuple[str, Body] | None:
        version = call.headers.get("anthropic-version")
        if version is not None and version not in VERSIONS:
            message = f'anthropic-version: "{version}" is not a valid version'
            return "protocol", self.error(call, ErrorFault(400, message=message))
        return super().check(call, auth)

    def validate(self, call: Call) -> ErrorFault | None:
        """The API's 400 for a body that breaks its rules (mocks/dialects/rules.py), naming the field as
        its validation errors do."""
        refused = refusal(self.name, call.endpoint, call.data)
        if refused is None:
            return None
        detail = {
            MISSING: "Field required",
            EMPTY: "at least one message is required",
            NOT_INTEGER: "Input should be a valid integer",
            TOO_SMALL: "Input should be greater than or equal to 1",
        }[refused.problem]
        return ErrorFault(400, message=f"{refused.field}: {detail}")

    def headers(self, call: Call) -> dict[str, str]:
        return {
            "request-id": "req_011C" + random_key(None, 20),
            "anthropic-organization-id": "00000000-0000-4000-8000-" + secrets.token_hex(6),
            **self._ratelimit(remaining=True, reset=1.0),
        }

    def _ratelimit(self, remaining: bool, reset: float) -> dict[str, str]:
        out = {}
        for family, limit in (
            ("requests", 4000),
            ("tokens", 2_000_000),
            ("input-tokens", 1_600_000),
            ("output-tokens", 400_000),
        ):
            out[f"anthropic-ratelimit-{family}-limit"] = str(limit)
            out[f"anthropic-ratelimit-{family}-remaining"] = str(limit - 1 if remaining else 0)
            out[f"anthropic-ratelimit-{family}-reset"] = rfc3339(reset)
        return out

    # -- errors --

    def _error_object(self, status: int, message: str | None, type_: str | None) -> dict[str, Any]:
        default_type, default_message = status_entry(_ERRORS, status)
        return {
            "type": "error",
            "error": {"type": type_ or default_type, "message": message or default_message},
        }

    def error(self, call: Call, fault: ErrorFault) -> Body:
        obj = self._error_object(fault.status, fault.message, fault.type)
        obj["request_id"] = "req_011C" + random_key(None, 20)
        body = self.json_body(obj, fault.status)
        if fault.retry_after is not None:
            body.headers["retry-after"] = seconds_text(fault.retry_after)
        if fault.status == 429:
            body.headers.update(self._ratelimit(remaining=False, reset=fault.retry_after or 1.0))
        body.headers.update(fault.headers)
        return body

    def auth_error(self, call: Call, missing: bool) -> Body:
        message = "x-api-key header is required" if missing else "invalid x-api-key"
        return self.error(call, ErrorFault(401, message=message))

    def stream_error(self, call: Call, fault: StreamErrorFault) -> Event:
        return Event(data=self._error_object(fault.status, fault.message, fault.type))

    # -- replies --

    def framer(self, call: Call) -> SSEFramer:
        return _FRAMER

    def ask(self, call: Call) -> Ask:
        data = call.data
        messages = data.get("messages") or [{}]
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        tools = tuple(
            Tool(t.get("name", ""), t["input_schema"])
            for t in data.get("tools") or []
            if isinstance(t, dict) and isinstance(t.get("input_schema"), dict)
        )
        tc = data.get("tool_choice") or {}
        kind = tc.get("type", "auto") if isinstance(tc, dict) else "auto"
        thinking = data.get("thinking") or {}
        prompt = estimate_tokens(call.prompt_bytes)
        return Ask(
            last_user_text=_text_of(last.get("content")) if last.get("role") == "user" else "",
            tools=tools,
            tool_choice=kind if kind in ("auto", "none", "any", "tool") else "auto",
            forced_tool=tc.get("name") if kind == "tool" else None,
            thinking=isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"),
            max_tokens=data.get("max_tokens"),
            prompt_tokens=prompt,
            cached_tokens=tokens_before(call.body, b'"cache_control"'),
        )

    def _usage(self, answer: Answer, output_tokens: int) -> dict[str, Any]:
        u = answer.usage
        return {
            "input_tokens": u.prompt - u.cached,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": u.cached,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }

    def _blocks(self, answer: Answer) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if answer.thinking is not None:
            blocks.append(
                {"type": "thinking", "thinking": answer.thinking, "signature": answer.signature or ""}
            )
        if answer.text is not None:
            blocks.append({"type": "text", "text": answer.text})
        for tc in answer.tool_calls:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": tc.id or "toolu_01" + tc.key[:22],
                    "name": tc.name,
                    "input": tc.arguments,
                }
            )
        return blocks

    def render(self, call: Call, answer: Answer) -> Body:
        rng = answer.rng("anthropic")
        message = {
            "id": "msg_01" + random_key(rng, 22),
            "type": "message",
            "role": "assistant",
            "model": str(call.data.get("model") or "claude-sonnet-4-6"),
            "content": self._blocks(answer),
            "stop_reason": _STOP.get(answer.finish, answer.finish),
            "stop_sequence": None,
            "usage": self._usage(answer, answer.usage.completion),
        }
        if call.data.get("stream") is not True:
            return self.json_body(message)

        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self._usage(answer, 1),
        }
        events: list[Any] = [{"type": "message_start", "message": start}]
        for index, block in enumerate(message["content"]):
            events.extend(self._block_events(index, block, rng))
            if index == 0:
                events.insert(2, Event(raw=_PING, delay=call.event_delay))
        usage = self._usage(answer, answer.usage.completion)
        del usage["cache_creation"], usage["service_tier"]
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": usage,
            }
        )
        events.append({"type": "message_stop"})
        pads = [10 if i == 0 else rng.randint(0, 15) for i in range(len(events))]
        return self.stream_events(call, events, pads)

    def _block_events(self, index: int, block: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        kind = block["type"]
        deltas: list[dict[str, Any]]
        if kind == "thinking":
            opening = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in text_pieces(block["thinking"], rng)]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            opening = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in text_pieces(block["text"], rng)]
        else:
            opening = {**block, "input": {}}
            fragments = ["", *json_fragments(dumps(block["input"]), rng)]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in fragments]
        return [
            {"type": "content_block_start", "index": index, "content_block": opening},
            *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
            {"type": "content_block_stop", "index": index},
        ]

    # -- other endpoints --

    def endpoint_count_tokens(self, call: Call) -> Body:
        return self.json_body({"input_tokens": estimate_tokens(call.prompt_bytes)})

    def _model_info(self, model: str, display: str) -> dict[str, Any]:
        return {"type": "model", "id": model, "display_name": display, "created_at": "2025-09-29T00:00:00Z"}

    def endpoint_models(self, call: Call) -> Body:
        data = [self._model_info(m, d) for m, d in _MODELS]
        return self.json_body(
            {"data": data, "first_id": data[0]["id"], "last_id": data[-1]["id"], "has_more": False}
        )

    def endpoint_model(self, call: Call) -> Body:
        model = call.params["model"]
        return self.json_body(self._model_info(model, dict(_MODELS).get(model, model)))
