"""Family ``stream``: the grammar of the stream a provider returned, per OUTPUT dialect, and the schema of
every item (each rule of the event state machine is its own named check, docs/design.md#checks).

Always on for a streaming method whose call succeeded (a stream cut by an expected error is judged by
the ``error`` family instead); ``stream.schema`` also runs on the items received before an error.

- OpenAI (``stream.grammar.openai.*``): one id across chunks; the role comes first, and every choice gets
  a role; tool-call indices
  are dense from 0 in order of appearance; a call's id and name are sent once; exactly one finish
  chunk, and nothing of choice 0 after it; the usage-only chunk (``choices: []``) is last, present iff
  the client asked (``stream_options.include_usage``); raw streams end with exactly one ``[DONE]``.
- Anthropic (``stream.grammar.anthropic.*``): ``message_start`` first and once; blocks open with
  ``content_block_start``, take deltas of their own type, close with ``content_block_stop``, one open
  at a time; block indices dense from 0; ``message_delta`` (with the stop reason) after the blocks and
  ``message_stop`` last; raw streams name every event after its ``type``.
- Gemini (``stream.grammar.gemini.*``): every item is a full response with a candidate; the
  ``finishReason`` (or the prompt's ``blockReason``) only on the last item; usage counts never
  decrease; raw streams have no ``[DONE]``.

A stream read to its end without its terminal marker (``[DONE]``, ``message_stop``), in a case that
expects no error, is judged on the items that arrived (``judged_stream``): the missing terminator fails
``done_last`` / ``message_end`` once, and every other rule still judges what the client received.

A stream that ends with an in-band error item (a raw stream forwarding the upstream's error event) ends
there: the rules about its normal end (finish chunk, ``[DONE]``, ``message_delta``/``message_stop``,
closed blocks) do not apply to it.
"""

from __future__ import annotations

import json
from typing import Any

from harness.checks import check
from harness.checks.facts import Facts, Outcome, schema_problems
from providers.sse import is_done

_ITEM_SCHEMA = {
    "openai": "openai.chat.chunk",
    "anthropic": "anthropic.stream.event",
    "gemini": "gemini.response",
}
_ERROR_SCHEMA = {"openai": "openai.error", "anthropic": "anthropic.stream.event", "gemini": "gemini.error"}


def judged_stream(f: Facts, dialect: str) -> Outcome | None:
    """The main outcome when its stream is judged by the grammar of ``dialect``: a stream of that output
    dialect that succeeded, or that was read to its end without its terminal marker
    (``Outcome.unterminated``) in a case that expects no error. The second kind is judged on the items
    that did arrive, so a missing terminator is the one failure of the rule about the stream's end
    (``done_last``, ``message_end``), not a reason to skip every other rule."""
    o = f.main
    if not o.streamed or o.output != dialect:
        return None
    if o.ok or (o.unterminated and f.expect.get("error") is None):
        return o
    return None


def _stream(f: Facts, dialect: str, *, raw: bool | None = None) -> Outcome | None:
    """``judged_stream``, raw / typed as asked."""
    o = judged_stream(f, dialect)
    if o is None or (raw is not None and o.raw != raw):
        return None
    return o


def _is_error(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    if item.get("type") == "error":
        return True
    return "error" in item and not item.get("choices") and not item.get("candidates")


def ends_in_error(o: Outcome) -> bool:
    """The stream ends with an in-band error item (a raw stream forwards it for the client to see): its
    end-of-stream rules are then the error's, not the normal terminal's."""
    items = [i for i in o.item_json if not (isinstance(i, dict) and i.get("type") == "ping")]
    return bool(items) and _is_error(items[-1])


@check("stream.schema")
def schema(f: Facts) -> list[str] | None:
    """Every stream item validates against its dialect's JSON Schema (harness/schemas)."""
    o = f.main
    if not o.streamed or o.output not in _ITEM_SCHEMA or o.not_applicable is not None:
        return None
    out = []
    for i, item in enumerate(o.item_json):
        if isinstance(item, dict) and "$text" in item:
            out.append(f"item {i}: not JSON: {item['$text'][:80]!r}")
            continue
        name = _ERROR_SCHEMA[o.output] if _is_error(item) else _ITEM_SCHEMA[o.output]
        out.extend(f"item {i} ({name}): {p}" for p in schema_problems(name, item))
    return out


# --- OpenAI -----------------------------------------------------------------------------------------------


def _chunks(o: Outcome) -> list[dict[str, Any]]:
    return [c for c in o.item_json if isinstance(c, dict) and not _is_error(c)]


def _choice0(chunk: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in chunk.get("choices") or () if c.get("index", 0) == 0), None)


@check("stream.grammar.openai.one_id")
def openai_one_id(f: Facts) -> list[str] | None:
    """Every chunk carries the same non-empty id."""
    o = _stream(f, "openai")
    if o is None:
        return None
    ids = [c.get("id") for c in _chunks(o)]
    first = next((i for i in ids if i), None)
    bad = [(n, i) for n, i in enumerate(ids) if i != first and not (i == "" and n == 0)]
    if first is None:
        return ["no chunk has an id"]
    return [f"chunk {n} has id {i!r}, chunk ids must all be {first!r}" for n, i in bad[:3]]


@check("stream.grammar.openai.role_first")
def openai_role_first(f: Facts) -> list[str] | None:
    """The first delta of choice 0 carries ``role: assistant``; no later delta changes it."""
    o = _stream(f, "openai")
    if o is None:
        return None
    deltas = [(n, ch.get("delta") or {}) for n, c in enumerate(_chunks(o)) if (ch := _choice0(c))]
    if not deltas:
        return ["no chunk has a choice 0"]
    out = []
    if deltas[0][1].get("role") != "assistant":
        out.append(
            f"first delta (chunk {deltas[0][0]}) has role {deltas[0][1].get('role')!r}, expected 'assistant'"
        )
    out.extend(
        f"chunk {n} changes role to {d['role']!r}"
        for n, d in deltas[1:]
        if d.get("role") not in (None, "assistant")
    )
    return out


@check("stream.grammar.openai.role_every_choice")
def openai_role_every_choice(f: Facts) -> list[str] | None:
    """Every choice that appears gets a non-empty ``delta.role`` in some chunk (docs/wire.md#openai-streaming:
    openai-node's stream helper keeps the last non-empty role per choice and throws "missing role for
    choice N" when a choice has none; a ``role: null`` after the role is ignored)."""
    o = _stream(f, "openai")
    if o is None:
        return None
    seen: dict[Any, int] = {}
    with_role: set[Any] = set()
    for n, chunk in enumerate(_chunks(o)):
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", 0)
            seen.setdefault(index, n)
            if (choice.get("delta") or {}).get("role"):
                with_role.add(index)
    return [
        f"choice {index} (first in chunk {n}): no delta carries a role (openai-node: missing role for choice {index})"
        for index, n in seen.items()
        if index not in with_role
    ]


def _tool_deltas(o: Outcome) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for n, chunk in enumerate(_chunks(o)):
        choice = _choice0(chunk)
        for call in (choice or {}).get("delta", {}).get("tool_calls") or ():
            out.append((n, call))
    return out


@check("stream.grammar.openai.tool_index")
def openai_tool_index(f: Facts) -> list[str] | None:
    """Tool-call indices are integers, dense from 0, new ones in increasing order."""
    o = _stream(f, "openai")
    if o is None:
        return None
    deltas = _tool_deltas(o)
    if not deltas:
        return None
    seen: list[int] = []
    out = []
    for n, call in deltas:
        index = call.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            out.append(f"chunk {n}: tool call without an integer index: {call}")
            continue
        if index not in seen:
            if index != len(seen):
                out.append(f"chunk {n}: new tool call index {index}, expected {len(seen)} (dense from 0)")
            seen.append(index)
    return out


@check("stream.grammar.openai.tool_id_once")
def openai_tool_id_once(f: Facts) -> list[str] | None:
    """Each tool call's ``id`` and ``function.name`` are sent once, in its first delta."""
    o = _stream(f, "openai")
    if o is None:
        return None
    deltas = _tool_deltas(o)
    if not deltas:
        return None
    first: dict[Any, int] = {}
    out = []
    for n, call in deltas:
        index = call.get("index")
        fn = call.get("function") or {}
        if index not in first:
            first[index] = n
            if not call.get("id"):
                out.append(f"chunk {n}: tool call {index} starts without an id")
            if not fn.get("name"):
                out.append(f"chunk {n}: tool call {index} starts without a function name")
            continue
        if call.get("id"):
            out.append(
                f"chunk {n}: tool call {index} repeats its id {call['id']!r} (clients concatenate ids)"
            )
        if fn.get("name"):
            out.append(f"chunk {n}: tool call {index} repeats its name {fn['name']!r}")
    return out


@check("stream.grammar.openai.one_finish")
def openai_one_finish(f: Facts) -> list[str] | None:
    """Exactly one chunk has choice 0's ``finish_reason``, and no delta content follows it."""
    o = _stream(f, "openai")
    if o is None:
        return None
    finishes = []
    out = []
    for n, chunk in enumerate(_chunks(o)):
        choice = _choice0(chunk)
        if choice is None:
            continue
        if finishes:
            delta = choice.get("delta") or {}
            if any(delta.get(k) for k in ("content", "tool_calls", "refusal", "reasoning_content")):
                out.append(f"chunk {n}: delta content after the finish chunk {finishes[0]}")
        if choice.get("finish_reason") is not None:
            finishes.append(n)
    if len(finishes) > 1 or (not finishes and not ends_in_error(o)):
        out.insert(0, f"expected exactly one finish chunk, got {len(finishes)} (chunks {finishes})")
    return out


def _asks_usage(f: Facts) -> bool:
    request = f.case.request if isinstance(f.case.request, dict) else {}
    options = request.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


@check("stream.grammar.openai.usage_last")
def openai_usage_last(f: Facts) -> list[str] | None:
    """The usage-only chunk (``choices: []``) comes last, once, exactly when the client asked for it."""
    o = _stream(f, "openai")
    if o is None or o.method == "complete_stream":
        return None
    chunks = _chunks(o)
    usage_only = [n for n, c in enumerate(chunks) if c.get("choices") == [] and c.get("usage") is not None]
    asked = _asks_usage(f)
    out = []
    if asked and not usage_only and not ends_in_error(o):
        out.append("the client asked for usage (stream_options.include_usage) but no usage-only chunk came")
    if not asked and usage_only and not o.raw:
        out.append(f"usage-only chunk {usage_only[0]} sent although the client did not ask for it")
    if len(usage_only) > 1:
        out.append(f"{len(usage_only)} usage-only chunks (expected one)")
    if usage_only and usage_only[-1] != len(chunks) - 1:
        out.append(f"usage-only chunk {usage_only[-1]} is not the last chunk ({len(chunks)} chunks)")
    return out


@check("stream.grammar.openai.done_last")
def openai_done_last(f: Facts) -> list[str] | None:
    """A raw OpenAI stream ends with exactly one ``data: [DONE]``."""
    o = _stream(f, "openai", raw=True)
    if o is None:
        return None
    events = o.sse_events
    done = [n for n, e in enumerate(events) if is_done(e)]
    want = (f.expect.get("stream") or {}).get("done", True)
    if not want:
        return [f"[DONE] sent (event {done[0]}) but not expected"] if done else []
    if not done and ends_in_error(o):
        return []  # an in-band error ends the stream on its own
    if not done:
        return [f"no [DONE]: the stream ended after {len(events)} events without it"]
    if len(done) != 1:
        return [f"expected one [DONE], got {len(done)}"]
    if done[0] != len(events) - 1:
        return [f"[DONE] is event {done[0]} of {len(events)}: events follow it"]
    return []


# --- Anthropic ---------------------------------------------------------------------------------------------

_DELTA_FITS = {
    "text_delta": ("text",),
    "citations_delta": ("text",),
    "input_json_delta": ("tool_use", "server_tool_use", "mcp_tool_use"),
    "thinking_delta": ("thinking",),
    "signature_delta": ("thinking",),
}


def _events(o: Outcome) -> list[dict[str, Any]]:
    return [e for e in o.item_json if isinstance(e, dict) and e.get("type") != "ping"]


@check("stream.grammar.anthropic.message_start")
def anthropic_message_start(f: Facts) -> list[str] | None:
    """The first event is ``message_start``, and there is only one."""
    o = _stream(f, "anthropic")
    if o is None:
        return None
    events = _events(o)
    if not events or events[0].get("type") != "message_start":
        return [f"first event is {events[0].get('type') if events else 'missing'}, expected message_start"]
    extra = [n for n, e in enumerate(events) if e.get("type") == "message_start"][1:]
    return [f"message_start repeated at event {n}" for n in extra]


@check("stream.grammar.anthropic.blocks")
def anthropic_blocks(f: Facts) -> list[str] | None:
    """Blocks: start → deltas of the block's own type → stop, one open at a time, none left open."""
    o = _stream(f, "anthropic")
    if o is None:
        return None
    out = []
    open_index: int | None = None
    open_type = None
    for n, e in enumerate(_events(o)):
        kind = e.get("type")
        index = e.get("index")
        if kind == "error":
            return out  # the stream ends here; an open block is the error's consequence
        if kind == "content_block_start":
            if open_index is not None:
                out.append(f"event {n}: block {index} starts while block {open_index} is open")
            open_index, open_type = index, (e.get("content_block") or {}).get("type")
        elif kind == "content_block_delta":
            delta_type = (e.get("delta") or {}).get("type")
            if open_index is None or index != open_index:
                out.append(f"event {n}: {delta_type} for block {index}, but the open block is {open_index}")
            elif open_type not in _DELTA_FITS.get(delta_type, (open_type,)):
                out.append(f"event {n}: {delta_type} does not fit block {index} of type {open_type}")
        elif kind == "content_block_stop":
            if index != open_index:
                out.append(f"event {n}: stop for block {index}, but the open block is {open_index}")
            open_index = open_type = None
        elif kind in ("message_delta", "message_stop") and open_index is not None:
            out.append(f"event {n}: {kind} while block {open_index} is still open")
            open_index = None
    if open_index is not None:
        out.append(f"block {open_index} is never stopped")
    return out


@check("stream.grammar.anthropic.block_indices")
def anthropic_block_indices(f: Facts) -> list[str] | None:
    """``content_block_start`` indices are 0, 1, 2, ... in order (the SDK indexes content by them)."""
    o = _stream(f, "anthropic")
    if o is None:
        return None
    starts = [e.get("index") for e in _events(o) if e.get("type") == "content_block_start"]
    want = list(range(len(starts)))
    return [] if starts == want else [f"block indices {starts}, expected {want}"]


@check("stream.grammar.anthropic.message_end")
def anthropic_message_end(f: Facts) -> list[str] | None:
    """After the blocks: ``message_delta`` with a stop reason, then ``message_stop`` last."""
    o = _stream(f, "anthropic")
    if o is None:
        return None
    events = _events(o)
    kinds = [e.get("type") for e in events]
    if kinds and kinds[-1] == "error":
        return [f"events after message_stop: {kinds}"] if "message_stop" in kinds else []
    out = []
    if not kinds or kinds[-1] != "message_stop":
        out.append(f"last event is {kinds[-1] if kinds else 'missing'}, expected message_stop")
    if kinds.count("message_stop") > 1:
        out.append("message_stop sent more than once")
    deltas = [n for n, k in enumerate(kinds) if k == "message_delta"]
    if not deltas:
        out.append("no message_delta")
    else:
        last_block = max((n for n, k in enumerate(kinds) if k.startswith("content_block")), default=-1)
        if deltas[0] < last_block:
            out.append(f"message_delta (event {deltas[0]}) before the last block event ({last_block})")
        if not any((events[n].get("delta") or {}).get("stop_reason") for n in deltas):
            out.append("no message_delta carries a stop_reason")
    return out


@check("stream.grammar.anthropic.event_names")
def anthropic_event_names(f: Facts) -> list[str] | None:
    """Raw Anthropic SSE names every event (``event:``) after its JSON ``type`` (the SDK drops unnamed ones)."""
    o = _stream(f, "anthropic", raw=True)
    if o is None:
        return None
    out = []
    for n, event in enumerate(o.sse_events):
        if not event.data.strip():
            continue
        try:
            data = json.loads(event.data)
        except ValueError:
            data = None
        kind = data.get("type") if isinstance(data, dict) else None
        if event.event != kind:
            out.append(f"event {n}: `event: {event.event}` but its data has type {kind!r}")
    return out


# --- Gemini ------------------------------------------------------------------------------------------------


def _finish(item: dict[str, Any]) -> Any:
    """The item's finishReason, or the prompt's blockReason (a blocked prompt ends the stream too)."""
    found = next((c.get("finishReason") for c in item.get("candidates") or () if c.get("finishReason")), None)
    return found or (item.get("promptFeedback") or {}).get("blockReason")


@check("stream.grammar.gemini.full_items")
def gemini_full_items(f: Facts) -> list[str] | None:
    """Every item is a full ``GenerateContentResponse`` with a candidate (or prompt feedback)."""
    o = _stream(f, "gemini")
    if o is None:
        return None
    out = []
    for n, item in enumerate(o.item_json):
        if not isinstance(item, dict) or "$text" in item:
            out.append(f"item {n} is not a JSON object")
        elif not item.get("candidates") and "promptFeedback" not in item:
            out.append(f"item {n} has no candidates: {str(item)[:80]}")
    return out


@check("stream.grammar.gemini.finish_last")
def gemini_finish_last(f: Facts) -> list[str] | None:
    """``finishReason`` is on the last item and on no other."""
    o = _stream(f, "gemini")
    if o is None:
        return None
    items = [i for i in o.item_json if isinstance(i, dict)]
    if not items:
        return ["empty stream"]
    with_finish = [n for n, item in enumerate(items) if _finish(item)]
    if ends_in_error(o) and not with_finish:
        return []
    if with_finish != [len(items) - 1]:
        return [f"finishReason on items {with_finish}, expected only on the last ({len(items) - 1})"]
    return []


_USAGE_COUNTS = ("promptTokenCount", "candidatesTokenCount", "totalTokenCount", "thoughtsTokenCount")


@check("stream.grammar.gemini.usage_monotonic")
def gemini_usage_monotonic(f: Facts) -> list[str] | None:
    """``usageMetadata`` counts are cumulative: they never decrease from one item to the next."""
    o = _stream(f, "gemini")
    if o is None:
        return None
    last: dict[str, int] = {}
    out = []
    for n, item in enumerate(o.item_json):
        usage = item.get("usageMetadata") if isinstance(item, dict) else None
        if not isinstance(usage, dict):
            continue
        for key in _USAGE_COUNTS:
            value = usage.get(key)
            if isinstance(value, int) and value < last.get(key, 0):
                out.append(f"item {n}: {key} {value} < {last[key]} before it")
            if isinstance(value, int):
                last[key] = value
    return out


@check("stream.grammar.gemini.no_done")
def gemini_no_done(f: Facts) -> list[str] | None:
    """A raw Gemini stream has no ``[DONE]`` (google-genai raises on it)."""
    o = _stream(f, "gemini", raw=True)
    if o is None:
        return None
    return [f"event {n} is [DONE]" for n, e in enumerate(o.sse_events) if is_done(e)]
