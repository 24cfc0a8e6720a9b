"""Hand-written hypothesis strategies for Anthropic Messages wire JSON (docs/wire.md#anthropic), and the
loader of the recorded Anthropic traffic of the external corpus (``tests/corpus.py``).

Every object may carry unknown ``x_*`` fields; every optional field is either absent, an explicit ``null``
or a value; enum-like fields also draw values no table knows. Coherent streams (``message_streams``) are
built from a drawn message: the blocks' text and tool-call JSON are cut into fragments at drawn points
(an empty first ``partial_json`` fragment included), pings are sprinkled in, usage is split between
``message_start`` and the cumulative ``message_delta``.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
from typing import Any

from hypothesis import strategies as st

from tests.corpus import real_traffic_dir
from tests.strategies.common import json_scalars, numbers, text

# --- building blocks -------------------------------------------------------------------------------

# Same shapes as ``common.ident`` / ``unknown_keys`` / ``json_values``, drawn without ``st.from_regex``
# (about seven times slower), which keeps these deep strategies within the test-time budget.
_LOWER = "abcdefghijklmnopqrstuvwxyz"
ident = st.builds(str.__add__, st.sampled_from(_LOWER), st.text(alphabet=_LOWER + "0123456789_", max_size=11))
unknown_keys = st.text(alphabet=_LOWER, min_size=1, max_size=8).map("x_".__add__)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ident, inner, max_size=3)),
    max_leaves=8,
)
json_objects = st.dictionaries(ident, json_values, max_size=4)

counts = st.integers(0, 2**31)
flags = st.booleans()


def nullable(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A value, or an explicit JSON null."""
    return st.one_of(st.none(), strategy)


@st.composite
def obj(
    draw: st.DrawFn,
    required: dict[str, st.SearchStrategy],
    optional: dict[str, st.SearchStrategy] | None = None,
    *,
    unknown: bool = True,
) -> dict[str, Any]:
    """An object with drawn ``required`` values, a drawn subset of ``optional`` fields, and (unless told
    otherwise) zero to two unknown ``x_*`` fields holding any JSON."""
    out = {key: draw(strategy) for key, strategy in required.items()}
    for key, strategy in (optional or {}).items():
        if draw(flags):
            out[key] = draw(strategy)
    if unknown:
        for key in draw(st.lists(unknown_keys, max_size=2, unique=True)):
            out[key] = draw(json_values)
    return out


def tag(value: str) -> st.SearchStrategy[str]:
    return st.just(value)


cache_control = obj({"type": tag("ephemeral")}, {"ttl": nullable(st.sampled_from(["5m", "1h", "x"]))})
citation_types = st.sampled_from(
    ["char_location", "page_location", "content_block_location", "web_search_result_location"]
)
citation = obj({"type": citation_types, "cited_text": text}, {"document_index": counts})

# --- content blocks --------------------------------------------------------------------------------

text_block = obj(
    {"type": tag("text"), "text": text},
    {"cache_control": nullable(cache_control), "citations": nullable(st.lists(citation, max_size=2))},
)
_b64 = st.binary(max_size=12).map(lambda raw: base64.b64encode(raw).decode())
_source_extras = {
    "media_type": nullable(st.sampled_from(["image/png", "text/plain", "application/pdf"])),
    "data": nullable(text),
    "url": nullable(text),
    "file_id": nullable(ident),
}


def _source(kind: str, fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    return obj({"type": tag(kind), **fields}, {k: v for k, v in _source_extras.items() if k not in fields})


image_source = st.one_of(
    _source("base64", {"media_type": st.sampled_from(["image/png", "image/jpeg"]), "data": _b64}),
    _source("url", {"url": text}),
    _source("file", {"file_id": ident}),
    obj({"type": st.sampled_from(["base64", "url", "file", "x_source"])}, _source_extras),
)
document_source = st.one_of(
    image_source,
    _source("base64", {"media_type": tag("application/pdf"), "data": _b64}),
    _source("text", {"media_type": tag("text/plain"), "data": text}),
    obj({"type": tag("text")}, _source_extras),
    obj({"type": tag("content"), "content": st.one_of(text, st.lists(text_block, max_size=2))}),
)
image_block = obj({"type": tag("image"), "source": image_source}, {"cache_control": nullable(cache_control)})
document_block = obj(
    {"type": tag("document"), "source": document_source},
    {
        "title": nullable(text),
        "context": nullable(text),
        "citations": nullable(obj({"enabled": flags})),
        "cache_control": nullable(cache_control),
    },
)
tool_use_block = obj(
    {"type": tag("tool_use"), "id": ident, "name": ident, "input": json_objects},
    {"cache_control": nullable(cache_control), "caller": obj({"type": tag("direct")})},
)
thinking_block = obj({"type": tag("thinking"), "thinking": text}, {"signature": nullable(text)})
redacted_block = obj({"type": tag("redacted_thinking"), "data": text})
other_block = obj(
    {"type": st.sampled_from(["server_tool_use", "web_search_tool_result", "search_result", "x_future"])},
    {"id": ident, "content": json_values, "input": json_objects},
)
tool_result_block = obj(
    {"type": tag("tool_result"), "tool_use_id": ident},
    {
        "content": nullable(
            st.one_of(
                text, st.lists(st.one_of(text_block, image_block, document_block, other_block), max_size=3)
            )
        ),
        "is_error": nullable(flags),
        "cache_control": nullable(cache_control),
    },
)
request_block = st.one_of(
    text_block,
    image_block,
    document_block,
    tool_use_block,
    tool_result_block,
    thinking_block,
    redacted_block,
    other_block,
)
response_block = st.one_of(text_block, tool_use_block, thinking_block, redacted_block, other_block)

# --- request ---------------------------------------------------------------------------------------

message = obj(
    {
        "role": st.sampled_from(["user", "assistant", "user", "assistant", "system"]),
        "content": st.one_of(text, st.lists(request_block, max_size=3)),
    }
)
custom_tool = obj(
    {"name": ident},
    {
        "type": nullable(tag("custom")),
        "description": nullable(text),
        "input_schema": nullable(json_objects),
        "cache_control": nullable(cache_control),
        "strict": nullable(flags),
        "defer_loading": flags,
    },
)
server_tool = st.one_of(
    obj(
        {
            "type": st.sampled_from(["web_search_20250305", "bash_20250124", "advisor_20260301"]),
            "name": ident,
        },
        {"max_uses": counts, "allowed_domains": st.lists(text, max_size=2)},
    ),
    obj({"type": tag("mcp_toolset"), "mcp_server_name": ident}),
    obj({"name": st.none()}, {"type": nullable(tag("custom"))}),
)
tool = st.one_of(custom_tool, custom_tool, server_tool)
tool_choice = obj(
    {"type": st.sampled_from(["auto", "any", "tool", "none", "x_choice"])},
    {"name": nullable(ident), "disable_parallel_tool_use": nullable(flags)},
)
thinking_config = obj(
    {"type": st.sampled_from(["enabled", "disabled", "adaptive", "between_tools"])},
    {
        "budget_tokens": nullable(counts),
        "display": nullable(st.sampled_from(["summarized", "omitted", "x_display"])),
    },
)
output_format = st.one_of(
    obj({"type": tag("json_schema"), "schema": json_objects}),
    obj({"type": st.sampled_from(["json_object", "x_format"])}),
)
output_config = obj(
    {},
    {
        "effort": nullable(st.sampled_from(["low", "medium", "high", "xhigh", "max", "x_effort"])),
        "format": nullable(output_format),
        "task_budget": json_objects,
    },
)
messages_request = obj(
    {"model": ident, "max_tokens": counts, "messages": st.lists(message, max_size=3)},
    {
        "system": nullable(st.one_of(text, st.lists(st.one_of(text_block, other_block), max_size=3))),
        "stop_sequences": nullable(st.lists(text, max_size=2)),
        "stream": nullable(flags),
        "temperature": nullable(numbers),
        "top_p": nullable(numbers),
        "top_k": nullable(counts),
        "metadata": nullable(obj({}, {"user_id": nullable(text)})),
        "tools": nullable(st.lists(tool, max_size=4)),
        "tool_choice": nullable(tool_choice),
        "thinking": nullable(thinking_config),
        "service_tier": nullable(st.sampled_from(["auto", "standard_only"])),
        "cache_control": nullable(cache_control),
        "output_config": nullable(output_config),
        "container": nullable(st.one_of(text, json_objects)),
        "inference_geo": nullable(text),
        "speed": nullable(st.sampled_from(["standard", "fast"])),
        "context_management": json_objects,
    },
)

# --- response --------------------------------------------------------------------------------------

stop_reasons = st.sampled_from(
    [
        "end_turn",
        "tool_use",
        "max_tokens",
        "stop_sequence",
        "pause_turn",
        "refusal",
        "model_context_window_exceeded",
        "x_new_reason",
    ]
)
stop_details = obj({"type": tag("refusal")}, {"category": nullable(text), "explanation": nullable(text)})
cache_creation = obj(
    {}, {"ephemeral_5m_input_tokens": nullable(counts), "ephemeral_1h_input_tokens": nullable(counts)}
)
server_tool_usage = obj({}, {"web_search_requests": nullable(counts), "web_fetch_requests": nullable(counts)})
output_details = obj({}, {"thinking_tokens": nullable(counts)})
usage = obj(
    {"input_tokens": counts, "output_tokens": counts},
    {
        "cache_creation_input_tokens": nullable(counts),
        "cache_read_input_tokens": nullable(counts),
        "cache_creation": nullable(cache_creation),
        "server_tool_use": nullable(server_tool_usage),
        "output_tokens_details": nullable(output_details),
        "service_tier": nullable(st.sampled_from(["standard", "priority", "batch"])),
        "inference_geo": nullable(text),
        "speed": nullable(text),
    },
)
delta_usage = obj(
    {"output_tokens": counts},
    {
        "input_tokens": nullable(counts),
        "cache_creation_input_tokens": nullable(counts),
        "cache_read_input_tokens": nullable(counts),
        "cache_creation": nullable(cache_creation),
        "server_tool_use": nullable(server_tool_usage),
        "output_tokens_details": nullable(output_details),
    },
)
messages_response = obj(
    {"id": ident, "content": st.lists(response_block, max_size=4), "model": ident, "usage": usage},
    {
        "type": st.sampled_from(["message", "message", "x_type"]),
        "role": st.sampled_from(["assistant", "assistant", "x_role"]),
        "stop_reason": nullable(stop_reasons),
        "stop_sequence": nullable(text),
        "stop_details": nullable(stop_details),
        "container": nullable(json_objects),
    },
)
error_detail = obj({"type": st.sampled_from(["overloaded_error", "api_error", "x_error"]), "message": text})
error_body = obj({"type": tag("error"), "error": error_detail}, {"request_id": nullable(text)})

# --- stream events ---------------------------------------------------------------------------------

start_message = obj(
    {
        "id": ident,
        "type": tag("message"),
        "role": tag("assistant"),
        "content": st.just([]),
        "model": ident,
        "stop_reason": st.none(),
        "stop_sequence": st.none(),
        "usage": usage,
    },
    {"stop_details": st.none(), "container": nullable(json_objects)},
)
delta = st.one_of(
    obj({"type": tag("text_delta"), "text": text}),
    obj({"type": tag("input_json_delta"), "partial_json": text}),
    obj({"type": tag("thinking_delta"), "thinking": text}),
    obj({"type": tag("signature_delta"), "signature": text}),
    obj({"type": tag("citations_delta"), "citation": citation}),
    obj({"type": tag("x_delta")}, {"value": json_values}),
)
stream_event = st.one_of(
    obj({"type": tag("message_start"), "message": start_message}),
    obj({"type": tag("content_block_start"), "index": counts, "content_block": response_block}),
    obj({"type": tag("content_block_delta"), "index": counts, "delta": delta}),
    obj({"type": tag("content_block_stop"), "index": counts}),
    obj(
        {
            "type": tag("message_delta"),
            "delta": obj(
                {},
                {
                    "stop_reason": nullable(stop_reasons),
                    "stop_sequence": nullable(text),
                    "stop_details": nullable(stop_details),
                    "container": nullable(json_objects),
                },
            ),
            "usage": delta_usage,
        }
    ),
    obj({"type": tag("message_stop")}),
    obj({"type": tag("ping")}),
    obj({"type": tag("error"), "error": error_detail}),
    obj({"type": st.sampled_from(["x_event", "agent_status"])}, {"payload": json_values}),
)


# --- coherent streams ------------------------------------------------------------------------------


@st.composite
def fragments(draw: st.DrawFn, whole: str, *, empty_first: bool = False) -> list[str]:
    """``whole`` cut at drawn points (possibly inside a UTF-8 sequence's characters, never inside one)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(whole)), max_size=4)))
    pieces = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
    if empty_first and draw(flags):
        pieces.insert(0, "")
    return pieces


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_stream_block = st.one_of(
    obj({"type": tag("text"), "text": text}, unknown=False),
    obj(
        {"type": tag("tool_use"), "id": ident, "name": ident, "input": json_objects},
        {"caller": st.just({"type": "direct"})},
    ),
    obj({"type": tag("thinking"), "thinking": text, "signature": text}, unknown=False),
    obj({"type": tag("redacted_thinking"), "data": text}, unknown=False),
    obj({"type": tag("server_tool_use"), "id": ident, "name": ident, "input": json_objects}, unknown=False),
    obj(
        {
            "type": tag("web_search_tool_result"),
            "tool_use_id": ident,
            "content": st.lists(json_objects, max_size=2),
        },
        unknown=False,
    ),
)


@st.composite
def message_streams(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A complete message (the non-stream reply) and a stream of wire events that carries the same content."""
    blocks = draw(st.lists(_stream_block, max_size=5))
    stop_reason = draw(stop_reasons)
    stop_sequence = draw(nullable(text)) if stop_reason == "stop_sequence" else None
    start_usage = {
        "input_tokens": draw(counts),
        "output_tokens": draw(st.integers(0, 3)),
        "cache_creation_input_tokens": draw(counts),
        "cache_read_input_tokens": draw(counts),
    }
    final_usage = dict(start_usage, output_tokens=draw(counts))
    delta_usage_json: dict[str, Any] = {"output_tokens": final_usage["output_tokens"]}
    if draw(flags):  # newer API: the delta repeats the cumulative input counts
        delta_usage_json.update({k: v for k, v in final_usage.items() if k != "output_tokens"})
    msg_id, model = draw(ident), draw(ident)
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        }
    ]
    if draw(flags):
        events.append({"type": "ping"})
    for index, block in enumerate(blocks):
        kind = block["type"]
        start = dict(block)
        deltas: list[dict[str, Any]] = []
        if kind == "text":
            start["text"] = ""
            deltas = [{"type": "text_delta", "text": piece} for piece in draw(fragments(block["text"]))]
        elif kind in ("tool_use", "server_tool_use"):
            start["input"] = {}
            pieces = draw(fragments(_compact(block["input"]), empty_first=True))
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
        elif kind == "thinking":
            start.update(thinking="", signature="")
            deltas = [
                {"type": "thinking_delta", "thinking": piece} for piece in draw(fragments(block["thinking"]))
            ]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        for item in deltas:
            events.append({"type": "content_block_delta", "index": index, "delta": item})
            if draw(st.integers(0, 9)) == 0:
                events.append({"type": "ping"})
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
            "usage": delta_usage_json,
        }
    )
    events.append({"type": "message_stop"})
    message_json = {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "content": blocks,
        "model": model,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": final_usage,
    }
    return message_json, events


# --- recorded traffic ------------------------------------------------------------------------------


def _body_text(raw: Any, headers: dict[str, Any]) -> bytes:
    data = raw.encode() if isinstance(raw, str) else raw
    encoding = {k.lower(): v for k, v in (headers or {}).items()}.get("content-encoding") or []
    if "gzip" in encoding or data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


@functools.cache
def anthropic_interactions() -> list[tuple[str, dict[str, Any] | None, bytes, int]]:
    """Every recorded call of POST /v1/messages: (name, request JSON or None, response body bytes, status).

    ``count_tokens`` calls are left out (their body is a different request type), as are the non-Anthropic
    calls some cassettes hold (OpenAI, Gemini, file downloads)."""
    import yaml

    root = real_traffic_dir()
    if root is None:
        return []
    files = sorted((root / "anthropic").glob("*.yaml")) + sorted(
        (root / "openllmetry" / "anthropic").glob("*.yaml")
    )
    out = []
    for path in files:
        doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for number, interaction in enumerate(doc["interactions"]):
            request, response = interaction["request"], interaction["response"]
            uri = request["uri"]
            if "api.anthropic.com/v1/messages" not in uri or "count_tokens" in uri:
                continue
            body = request.get("parsed_body")
            if body is None and request.get("body"):
                body = json.loads(request["body"])
            if "parsed_body" in response:
                raw = json.dumps(response["parsed_body"], ensure_ascii=False).encode()
            else:
                raw = _body_text(response["body"]["string"], response.get("headers"))
            name = f"{path.parent.name}/{path.stem}#{number}"
            out.append((name, body, raw, response["status"]["code"]))
    return out


def is_sse(raw: bytes) -> bool:
    return raw.lstrip().startswith(b"event:")
