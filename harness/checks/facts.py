"""The facts a conformance case collects, and the views every check reads from them.

The runner (harness/runner.py) fills one ``Outcome`` per method call it made for a (case, provider): the
case's own method, and the sibling methods of the equivalence checks (``stream``: the non-streaming
twin of a streaming method; ``raw``: the raw twin of a typed method or the typed twin of a raw one).
Checks never call a provider; they read these facts (Jepsen's "record, then judge" split).

Views are computed lazily and cached: the JSON of the result or of each stream item, the SSE events of
raw streams, and the IR response the output accumulates to (``providers.convert`` + ``accumulate``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from typing import Any

from harness.levels import INHERITED, Level
from harness.scenario import Case
from mocks.capture import CapturedRequest
from providers import contract
from providers.sse import SSEEvent, decode_all, is_done
from providers.translate import DIALECTS

__all__ = [
    "METHOD_OUTPUT",
    "RAW_METHODS",
    "STREAM_METHODS",
    "Facts",
    "Outcome",
    "Sent",
    "ir_json",
    "schema_problems",
    "semantic",
]

#: What each method returns (``providers.contract.Method.output``): a wire dialect, ``ir``, ``embeddings``,
#: ``media`` or ``bool``.
METHOD_OUTPUT: dict[str, str] = {method.name: method.output for method in contract.METHODS}
STREAM_METHODS: frozenset[str] = frozenset(method.name for method in contract.METHODS if method.streams)
RAW_METHODS: frozenset[str] = frozenset(method.name for method in contract.METHODS if method.raw)


@dataclass(slots=True)
class Sent:
    """One reply the mock upstream sent (after faults and chunking): what the provider received."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    capture: CapturedRequest | None
    complete: bool = True  # False: the connection was dropped or never answered

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")


@dataclass(eq=False)
class Outcome:
    """One method call of a provider and everything observed around it."""

    method: str
    role: str = "main"  # main | stream | raw
    result: Any = None
    error: BaseException | None = None
    raised: str | None = None  # where the error surfaced: "call" or "iterator"
    items: list[Any] = field(default_factory=list)  # typed items, or byte chunks of a raw stream
    item_times: list[float] = field(default_factory=list)  # seconds from the call to each item
    first_item_wall: float | None = None  # time.time() when the first item reached the caller
    duration: float = 0.0
    deadline_exceeded: bool = False
    not_applicable: str | None = None
    captured: list[CapturedRequest] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    waits_known: bool = False  # the harness recorded the provider's retry waits

    # -- what kind of call --

    @property
    def streamed(self) -> bool:
        return self.method in STREAM_METHODS

    @property
    def raw(self) -> bool:
        return self.method in RAW_METHODS

    @property
    def output(self) -> str:
        return METHOD_OUTPUT[self.method]

    @property
    def ok(self) -> bool:
        return self.error is None and self.not_applicable is None

    @property
    def unterminated(self) -> bool:
        """The stream was read to its end but ended without its dialect's terminal marker (OpenAI's
        ``[DONE]``, Anthropic's ``message_stop``, a Gemini ``finishReason``): the iterator raised
        ``transport``/``disconnect`` after the items (``providers._dialect``; also what a gateway-mode
        client raises on such a stream). Its items are what a client received."""
        error = self.error
        return (
            self.streamed
            and self.raised == "iterator"
            and self.not_applicable is None
            and getattr(error, "kind", None) == "transport"
            and getattr(error, "reason", None) == "disconnect"
            and bool(self.items)
        )

    @property
    def first_item(self) -> float | None:
        return self.item_times[0] if self.item_times else None

    # -- views --

    @functools.cached_property
    def raw_bytes(self) -> bytes | None:
        """The bytes a raw method returned (joined chunks for a raw stream)."""
        if not self.raw:
            return None
        if self.streamed:
            return b"".join(self.items)
        return self.result if isinstance(self.result, bytes) else None

    @functools.cached_property
    def sse_events(self) -> list[SSEEvent]:
        """The SSE events of a raw stream (decoded leniently, so a broken byte still shows)."""
        if not (self.raw and self.streamed):
            return []
        return decode_all(self.raw_bytes or b"", errors="replace")

    @functools.cached_property
    def result_json(self) -> Any:
        """The result as JSON: typed results ``.to_json()``, raw bytes parsed, ``(bytes, content_type)``
        as ``{content_type, size, json?}``, IR responses as plain dicts, booleans as they are."""
        value = self.result
        if hasattr(value, "to_json"):
            return value.to_json()
        if isinstance(value, bytes):
            return _json_or_text(value)
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bytes):
            body, content_type = value
            out: dict[str, Any] = {"content_type": content_type, "size": len(body)}
            if "json" in str(content_type):
                out["json"] = _json_or_text(body)
            elif str(content_type).startswith("text/"):
                out["text"] = body.decode("utf-8", "replace")
            return out
        if dataclasses.is_dataclass(value):
            return ir_json(value)
        return value

    @functools.cached_property
    def item_json(self) -> list[Any]:
        """Each stream item as JSON: typed items ``.to_json()``, IR events as dicts, and for raw streams
        each SSE event's JSON data (``[DONE]`` left out; data that is not JSON as ``{"$text": ...}``)."""
        if self.raw and self.streamed:
            out = []
            for event in self.sse_events:
                if is_done(event) or not event.data.strip():
                    continue
                out.append(_json_or_text(event.data.encode()))
            return out
        return [item.to_json() if hasattr(item, "to_json") else ir_json(item) for item in self.items]

    @functools.cached_property
    def accumulated(self) -> tuple[Any, str | None]:
        """``(ir.Response, None)`` the output stands for, or ``(None, why not)``."""
        if self.error is not None:
            return None, f"the call failed: {describe_error(self.error)}"
        try:
            return _to_ir(self), None
        except Exception as exc:  # a grammar break the accumulator refuses is an observation
            return None, f"cannot accumulate the {self.output} output: {type(exc).__name__}: {exc}"

    @property
    def semantic(self) -> dict[str, Any] | None:
        response, _ = self.accumulated
        return semantic(response) if response is not None else None


@dataclass(eq=False)
class Facts:
    """Everything known about one (case, provider) after its calls."""

    case: Case
    provider: str
    upstream_dialect: str | None
    main: Outcome
    siblings: dict[str, Outcome] = field(default_factory=dict)
    reference: bool = True
    sdk: bool = True
    profile: Level = Level.REFERENCE  # the widest requirement level that can fail (harness.levels)
    inherited: frozenset[str] = frozenset()  # methods called here that the provider inherits as defaults

    def inherits_default(self, check_id: str) -> bool:
        """Whether a call that check ``check_id`` judges went through a translating default the provider
        inherits; which calls each such check judges is ``harness.levels.INHERITED``'s (false for any
        other check)."""
        calls = INHERITED.get(check_id)
        if calls is None:
            return False
        judged = [self.main] if calls == "main" else self.outcomes()
        return any(outcome.method in self.inherited for outcome in judged)

    @functools.cached_property
    def situations(self) -> tuple[str, ...]:
        """The situations of ``harness.levels.SITUATIONS`` that hold for the main call: ``translated`` when
        the method's dialect is not the upstream's, ``stream_started`` when the upstream fails after its
        stream began. Worked out once: every check of the facts reads it."""
        out: list[str] = []
        client = METHOD_OUTPUT.get(self.main.method)
        if client in DIALECTS and client != self.schema_dialect:
            out.append("translated")
        if self.case.fails_after_stream_start(self.upstream_dialect):
            out.append("stream_started")
        return tuple(out)

    @property
    def expect(self) -> Any:
        return self.case.expect

    @property
    def schema_dialect(self) -> str | None:
        """The wire dialect of the upstream's schemas (Azure speaks OpenAI's)."""
        return "openai" if self.upstream_dialect == "azure" else self.upstream_dialect

    def outcomes(self) -> list[Outcome]:
        return [self.main, *self.siblings.values()]


# --- helpers --------------------------------------------------------------------------------------------

_VERDICTS: dict[tuple[str, str], tuple[str, ...]] = {}


def schema_problems(name: str, instance: Any) -> list[str]:
    """``harness.schemas.problems``, remembered per (schema, canonical JSON): a run validates the same
    frames many times (a twin replaying the first call's bytes, one upstream answer per provider), and
    jsonschema is the most expensive thing a check does."""
    from harness.schemas import problems

    key = (name, json.dumps(instance, sort_keys=True, separators=(",", ":"), default=str))
    found = _VERDICTS.get(key)
    if found is None:
        found = tuple(problems(name, instance))
        if len(_VERDICTS) < 100_000:
            _VERDICTS[key] = found
    return list(found)


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {"$text": data[:2000].decode("utf-8", "replace")}


def ir_json(obj: Any) -> Any:
    """An IR object (dataclass) as plain JSON, each object tagged with its class name under ``type``;
    empty ``vendor`` maps and ``None`` fields are left out."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"type": type(obj).__name__}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value is None or (f.name == "vendor" and not value):
                continue
            out[f.name] = ir_json(value)
        return out
    if isinstance(obj, list | tuple):
        return [ir_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: ir_json(v) for k, v in obj.items()}
    return obj


def _to_ir(o: Outcome) -> Any:
    from providers import translate
    from providers.convert.accumulate import accumulate
    from providers.types import ir

    output = o.output
    if output == "ir":
        if o.streamed:
            return accumulate(o.items)
        if not isinstance(o.result, ir.Response):
            raise TypeError(f"complete returned {type(o.result).__name__}, not an ir.Response")
        return o.result
    if output not in ("openai", "anthropic", "gemini"):
        raise TypeError(f"{o.method} output has no IR form")
    if not o.streamed:
        return translate.response_to_ir(output, o.result_json)
    converter = translate.stream_to_ir(output)
    events = [event for item in o.item_json for event in converter.feed(item)]
    return accumulate(events + list(converter.close()))


def semantic(response: Any) -> dict[str, Any]:
    """What a client reads from an IR response: text, thinking, tool calls (arguments parsed), the stop
    reason and the usage parts (``None`` parts as 0)."""
    from providers.types import ir

    text, thinking, calls = [], [], []
    for part in response.content:
        if isinstance(part, ir.Text):
            text.append(part.text)
        elif isinstance(part, ir.Reasoning):
            thinking.append(part.text)
        elif isinstance(part, ir.ToolCall):
            try:
                arguments: Any = part.input
            except ValueError:
                arguments = {"$invalid_json": part.arguments}
            calls.append({"id": part.id, "name": part.name, "arguments": arguments})
    usage = response.usage
    parts = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
    return {
        "text": "".join(text),
        "thinking": "".join(thinking),
        "tool_calls": calls,
        "stop": response.stop.reason if response.stop is not None else None,
        "usage": None
        if usage is None
        else {
            **{p.removesuffix("_tokens"): getattr(usage, p) or 0 for p in parts},
            "prompt": usage.prompt_total,
            "completion": usage.completion_total,
        },
    }
