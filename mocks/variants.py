"""Wire variants: other bytes a real upstream may legally send for the same reply.

A mock that always sends the same bytes hides the provider bugs that depend on them (a parser that splits
SSE events only on ``\\n\\n``, a translation that copies an optional upstream field into a required client
field). A script's ``variant:`` names one row of ``VARIANTS``; the engine applies it to the replies it
renders itself (generated and ``answer`` replies, ``mocks.engine``), never to literal ``json`` /
``events`` / ``body`` replies nor to the bytes of a fault, which keep the bytes the script gave them.

Every variant is legal on the wire, and why is in the table:

========================  =====================================================================================
``plain``                 each dialect's own bytes, as the mocks have always sent them.
``lf`` / ``crlf`` / ``cr``  SSE lines end with LF, CRLF or CR. The SSE format accepts all three line ends
                          (WHATWG HTML, "Server-sent events", event stream interpretation); the vendors'
                          framing (docs/wire.md#openai-streaming, #anthropic-streaming, #gemini-streaming)
                          names no line end of its own, and Google already sends CRLF where OpenAI and
                          Anthropic send LF.
``many-per-write``        up to three events in one network write: a stream is a byte stream, its writes
                          carry no meaning (docs/wire.md#openai-streaming: framing is the SSE format only).
``split``                 the stream cut at small odd byte offsets, through events, lines and UTF-8
                          characters: TCP and proxies may deliver any cut.
``minimal``               only the fields the vendor's schema requires, plus those carrying the answer
                          (text, tool calls, finish reason, token counts): OpenAI without
                          ``system_fingerprint``, ``service_tier``, ``obfuscation``, ``logprobs``,
                          ``refusal``, ``annotations`` and ``content: null`` beside tool calls
                          (docs/wire.md#openai-chat-response, #openai-streaming); Anthropic usage
                          with only its token counts (no ``cache_creation`` per TTL, ``service_tier``,
                          ``server_tool_use``) and no ``stop_details`` or ``citations``
                          (docs/wire.md#anthropic-response, #anthropic-streaming); Gemini without
                          ``responseId``, ``modelVersion`` and the candidate's ``index`` /
                          ``safetyRatings`` (docs/wire.md#gemini-response: all optional). Usage stays:
                          without it a client's usage is unknowable and a stream's usage chunk
                          (``include_usage``) cannot be honoured, which no variant of a correct reply
                          should require.
``maximal``               every optional field the schema knows (fingerprints, service tiers, token
                          details, safety ratings) plus a field no client knows yet, ``x_new_field``:
                          the vendors add fields without notice, and the wire models keep unknown fields
                          (docs/wire.md#openai-chat-response, #anthropic-response, #gemini-response).
``key-order``             every JSON object's keys in reverse order: JSON objects are unordered.
========================  =====================================================================================

A variant either shapes the JSON of a chat reply (``shape``: the response object, or each stream item) or
the framing of a stream (``line_end``, ``writes``); ``framing`` tells which, so the runner can say when a
variant cannot apply to a case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from mocks.framing import LINE_END, Body, Event, LineEndFramer, SSEFramer
from mocks.reply import Frame, rechunk

__all__ = ["DEFAULT", "PLAIN", "VARIANTS", "Variant", "resolve_names"]

Shaper = Callable[[dict[str, Any], str], dict[str, Any]]

#: An unknown field a future API version might add, for ``maximal``.
NEW_FIELD: dict[str, Any] = {"x_new_field": {"added": "by a newer API", "values": [1, "two", None]}}

_SPLIT_SIZES = (5, 3, 7, 2, 11, 1, 13)  # odd offsets, small enough to cut inside UTF-8 characters
_BATCH = 3  # events per write under ``many-per-write``


# --- JSON shapers, per dialect -----------------------------------------------------------------------------


def _pop(obj: Any, *keys: str) -> None:
    if isinstance(obj, dict):
        for key in keys:
            obj.pop(key, None)


def _minimal_openai(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    _pop(obj, "system_fingerprint", "service_tier", "obfuscation")
    for choice in obj.get("choices") or []:
        _pop(choice, "logprobs")
        message = choice.get("message")
        if isinstance(message, dict):
            _pop(message, "refusal", "annotations")
            if message.get("content", "") is None and message.get("tool_calls"):
                del message["content"]
        _pop(choice.get("delta"), "refusal")
    return obj


#: The token counts an Anthropic usage keeps under ``minimal``: the required two and the cache counts that
#: carry the answer's meaning (the total input is their sum, docs/wire.md#anthropic-response).
_ANTHROPIC_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def _minimal_anthropic(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    message = obj.get("message") if obj.get("type") == "message_start" else obj
    if isinstance(message, dict) and message.get("type") == "message":
        _pop(message, "stop_details", "container")
        usage = message.get("usage")
        if isinstance(usage, dict):
            message["usage"] = {k: usage[k] for k in _ANTHROPIC_COUNTS if k in usage}
        for block in message.get("content") or []:
            _pop(block, "citations")
    if obj.get("type") == "message_delta" and isinstance(obj.get("usage"), dict):
        obj["usage"] = {k: v for k, v in obj["usage"].items() if k in _ANTHROPIC_COUNTS}
    if obj.get("type") == "content_block_start":
        _pop(obj.get("content_block"), "citations")
    return obj


def _minimal_gemini(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    _pop(obj, "responseId", "modelVersion", "createTime")
    for candidate in obj.get("candidates") or []:
        _pop(candidate, "index", "safetyRatings", "citationMetadata", "finishMessage", "avgLogprobs")
    return obj


def _maximal_openai(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    if obj.get("object") == "":  # Azure's prompt-filter chunk keeps its exact documented shape
        return obj
    obj.setdefault("system_fingerprint", "fp_wirecheck01")
    obj.setdefault("service_tier", "default")
    usage = obj.get("usage")
    if isinstance(usage, dict):
        usage.setdefault("prompt_tokens_details", {"cached_tokens": 0, "audio_tokens": 0})
        usage.setdefault(
            "completion_tokens_details",
            {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        )
    for choice in obj.get("choices") or []:
        choice.setdefault("logprobs", None)
        message = choice.get("message")
        if isinstance(message, dict):
            message.setdefault("refusal", None)
            message.setdefault("annotations", [])
    obj.update(NEW_FIELD)
    return obj


def _maximal_anthropic(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    message = obj.get("message") if obj.get("type") == "message_start" else obj
    if isinstance(message, dict) and message.get("type") == "message":
        usage = message.get("usage")
        if isinstance(usage, dict):
            usage.setdefault("cache_creation_input_tokens", 0)
            usage.setdefault("cache_read_input_tokens", 0)
            usage.setdefault("service_tier", "standard")
    obj.update(NEW_FIELD)
    return obj


_RATINGS = [
    {"category": f"HARM_CATEGORY_{c}", "probability": "NEGLIGIBLE"}
    for c in ("HATE_SPEECH", "DANGEROUS_CONTENT", "HARASSMENT", "SEXUALLY_EXPLICIT")
]


def _maximal_gemini(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    for i, candidate in enumerate(obj.get("candidates") or []):
        candidate.setdefault("index", i)
        candidate.setdefault("safetyRatings", [dict(r) for r in _RATINGS])
    usage = obj.get("usageMetadata")
    if isinstance(usage, dict):
        usage.setdefault(
            "candidatesTokensDetails",
            [{"modality": "TEXT", "tokenCount": usage.get("candidatesTokenCount", 0)}],
        )
    obj.setdefault("modelVersion", "gemini-2.5-flash")
    obj.setdefault("responseId", "wirecheckResponseId01")
    obj.update(NEW_FIELD)
    return obj


def _by_dialect(table: dict[str, Shaper]) -> Shaper:
    def shape(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
        if "error" in obj and not obj.get("choices") and not obj.get("candidates"):
            return obj  # an in-stream error item keeps the dialect's error shape
        return table[dialect](obj, dialect)

    return shape


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(value)}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def _key_order(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    return _reversed_keys(obj)


# --- the table ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variant:
    """One legal way to send a rendered reply: ``shape`` rewrites the JSON of a chat reply (the object, or
    each stream item) for a dialect; ``line_end`` re-frames SSE lines; ``writes`` regroups the stream's
    network writes (``one`` per event, ``many`` per write, ``split`` at odd offsets)."""

    name: str
    summary: str
    shape: Shaper | None = None
    line_end: bytes | None = None
    writes: Literal["one", "many", "split"] = "one"

    @property
    def framing(self) -> bool:
        """Whether the variant changes only how a stream is framed and written (not its JSON)."""
        return self.line_end is not None or self.writes != "one"

    @property
    def plain(self) -> bool:
        return self.shape is None and not self.framing

    def apply(self, body: Body, dialect: str, chat: bool) -> Body:
        """``body`` as this variant sends it (a new ``Body``; ``chat``: the reply of a chat endpoint,
        whose JSON ``shape`` may rewrite). Raw events keep their bytes."""
        out = replace(body, headers=dict(body.headers))
        if self.shape is not None and chat:
            if out.payload is not None:
                obj = json.loads(out.payload)
                if isinstance(obj, dict):
                    shaped = self.shape(_copy(obj), dialect)
                    out.payload = json.dumps(shaped, ensure_ascii=False, separators=(",", ":")).encode()
            elif out.events is not None:
                out.events = [self._shape_event(e, dialect) for e in out.events]
        if self.line_end is not None and isinstance(out.framer, SSEFramer):
            out.framer = LineEndFramer(out.framer, self.line_end)
            if (
                out.events is not None
            ):  # the dialect's own raw events (Anthropic's ping); a fault's come later
                out.events = [
                    e if e.raw is None else replace(e, raw=LINE_END.sub(self.line_end, e.raw))
                    for e in out.events
                ]
        if self.writes != "one" and out.events is not None:
            out.regroup = self.regroup
        return out

    def _shape_event(self, event: Event, dialect: str) -> Event:
        if event.raw is not None or not isinstance(event.data, dict):
            return event
        assert self.shape is not None
        return replace(event, data=self.shape(_copy(event.data), dialect), scripted=False)

    def regroup(self, frames: list[Frame]) -> list[Frame]:
        """The network writes of a stream's ``frames`` under this variant; each frame's wait is kept
        before the bytes it starts (``mocks.reply.rechunk``)."""
        if self.writes == "split":
            total = sum(len(f.data) for f in frames)
            sizes: list[int] = []
            while sum(sizes) < total:
                sizes.extend(_SPLIT_SIZES)
            return rechunk(frames, sizes)
        if self.writes == "many":
            out: list[Frame] = []
            run = 0
            for f in frames:
                if out and f.data and not f.delay and 0 < run < _BATCH:
                    out[-1] = Frame(out[-1].data + f.data, out[-1].delay)
                    run += 1
                else:
                    out.append(f)
                    run = 1 if f.data else 0
            return out
        return frames


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(obj))


PLAIN = Variant("plain", "each dialect's own bytes")

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        PLAIN,
        Variant("lf", "SSE lines end with LF", line_end=b"\n"),
        Variant("crlf", "SSE lines end with CRLF", line_end=b"\r\n"),
        Variant("cr", "SSE lines end with CR", line_end=b"\r"),
        Variant("many-per-write", f"up to {_BATCH} events in one network write", writes="many"),
        Variant("split", "the stream cut at small odd byte offsets, mid-UTF-8 included", writes="split"),
        Variant(
            "minimal",
            "only the fields the schema requires",
            shape=_by_dialect(
                {
                    "openai": _minimal_openai,
                    "azure": _minimal_openai,
                    "anthropic": _minimal_anthropic,
                    "gemini": _minimal_gemini,
                }
            ),
        ),
        Variant(
            "maximal",
            "every optional field and an unknown new one",
            shape=_by_dialect(
                {
                    "openai": _maximal_openai,
                    "azure": _maximal_openai,
                    "anthropic": _maximal_anthropic,
                    "gemini": _maximal_gemini,
                }
            ),
        ),
        Variant("key-order", "every object's keys reversed", shape=_key_order),
    )
}

#: What ``--variants default`` runs: the plain bytes only, so the default suite costs what it did.
DEFAULT: tuple[str, ...] = ("plain",)


def resolve_names(spec: str | None) -> tuple[str, ...]:
    """Variant names from a comma-separated ``spec`` (names, ``default`` or ``all``), in table order,
    each once. Raises ``ValueError`` naming an unknown variant."""
    if not spec:
        return DEFAULT
    wanted: set[str] = set()
    for name in (n.strip() for n in spec.split(",")):
        if name == "all":
            wanted.update(VARIANTS)
        elif name == "default":
            wanted.update(DEFAULT)
        elif name in VARIANTS:
            wanted.add(name)
        elif name:
            raise ValueError(
                f"unknown variant {name!r}: expected default, all or one of {', '.join(VARIANTS)}"
            )
    return tuple(n for n in VARIANTS if n in wanted) or DEFAULT
