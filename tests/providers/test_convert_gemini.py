"""Gemini <-> IR conversion: lossless same-dialect round trips, the mapping rules, streams in both
directions checked against the IR grammar, a Gemini stream grammar and the google-genai SDK as oracle.

Properties (hypothesis, on the wire strategies of tests/strategies/gemini.py):
- request and response: Gemini → IR → Gemini is the identity (unknown fields, nulls, snake_case
  spellings included; no normalisation needed);
- stream: Gemini items → IR obeys the IR grammar; IR → Gemini reproduces the items' content (text,
  thoughts, signatures, calls with ids/names/args, other parts, finishReason, usage) and obeys the
  Gemini grammar; accumulating the IR stream equals ``response_to_ir`` of the same content sent whole.
Real traffic: every recorded Gemini body and SSE stream does the same.
Cross-dialect: awkward IR streams (fragmented arguments, parallel calls, thinking + signature, late
usage, no finish) give Gemini streams the SDK parses to the expected content.
Every checker is also fed a broken example to show it fires.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import types as gtypes
from google.genai.errors import UnknownApiResponseError
from hypothesis import given, settings
from pydantic import ValidationError

from providers.convert import gemini as conv
from providers.convert.accumulate import accumulate
from providers.convert.tables import Lossy
from providers.errors import ProviderError
from providers.sse import decode_all, gemini_event
from providers.types import gemini as wire
from providers.types import ir
from tests.corpus import require_real_traffic
from tests.strategies import gemini as strat
from tests.strategies.common import assert_strict_equal

# --- checkers ----------------------------------------------------------------------------------------


def check_ir_grammar(events: list[ir.StreamEvent], *, complete: bool) -> None:
    """The IR stream grammar: MessageStart first; blocks opened in dense index order from 0 before any
    delta; one field per delta, fitting the block's kind; no delta after the block's stop; every block
    stopped before Finish; after Finish only UsageUpdate and End; End last (and present iff
    ``complete``); nothing after a StreamError."""
    assert events, "empty stream"
    assert type(events[0]) is ir.MessageStart, f"first event is {type(events[0]).__name__}"
    opened: dict[int, type] = {}
    stopped: set[int] = set()
    finished = ended = failed = False
    fits = {"text": ir.Text, "reasoning": ir.Reasoning, "signature": ir.Reasoning, "arguments": ir.ToolCall}
    for i, ev in enumerate(events[1:], 1):
        where = f"event {i} ({type(ev).__name__})"
        assert not ended and not failed, f"{where} after the end"
        assert type(ev) is not ir.MessageStart, f"{where}: second MessageStart"
        if type(ev) is ir.BlockStart:
            assert not finished, f"{where}: block after Finish"
            assert ev.index == len(opened), f"{where}: index {ev.index}, expected {len(opened)} (dense)"
            opened[ev.index] = type(ev.part)
            if type(ev.part) is ir.ToolCall:
                assert ev.part.arguments == "", f"{where}: a tool block starts with empty arguments"
        elif type(ev) is ir.BlockDelta:
            assert ev.index in opened, f"{where}: delta for unopened block {ev.index}"
            assert ev.index not in stopped, f"{where}: delta after stop of block {ev.index}"
            fields = [
                f
                for f in ("text", "arguments", "reasoning", "signature", "citation")
                if getattr(ev, f) is not None
            ]
            assert len(fields) == 1, f"{where}: fields {fields}"
            assert fits.get(fields[0], ir.Text) is opened[ev.index], (
                f"{where}: {fields[0]} in a {opened[ev.index]}"
            )
        elif type(ev) is ir.BlockStop:
            assert ev.index in opened and ev.index not in stopped, f"{where}: bad stop {ev.index}"
            stopped.add(ev.index)
        elif type(ev) is ir.Finish:
            assert not finished, f"{where}: second Finish"
            assert set(opened) == stopped, f"{where}: blocks still open at Finish: {set(opened) - stopped}"
            finished = True
        elif type(ev) is ir.End:
            assert finished, f"{where}: End without Finish"
            ended = True
        elif type(ev) is ir.StreamError:
            failed = True
        else:
            assert type(ev) is ir.UsageUpdate, where
    assert ended == complete, f"stream {'lacks' if complete else 'has'} End"


def check_gemini_stream(items: list[wire.GenerateContentResponse], *, finished: bool) -> None:
    """What every Gemini client may rely on: each item a complete response with ONE candidate (index 0,
    role model) holding new parts; modelVersion and responseId on every item, the same each time; a
    functionCall part is complete (a name, an args object, no partial-argument fields); finishReason
    only on the last item (present iff ``finished``), which also carries the usage when any was given,
    and a usage whose total is prompt + candidates + thoughts + tool-use prompt."""
    assert items, "no items"
    ids = {(it.response_id, it.model_version) for it in items}
    assert len(ids) == 1 and None not in next(iter(ids)), f"ids/models differ or are missing: {ids}"
    for n, item in enumerate(items):
        last = n == len(items) - 1
        assert item.candidates is not None and len(item.candidates) == 1, f"item {n}: one candidate"
        cand = item.candidates[0]
        assert cand.index == 0, f"item {n}: candidate index {cand.index}"
        assert cand.content is not None and cand.content.role == "model" and cand.content.parts is not None
        for part in cand.content.parts:
            call = part.function_call
            if call is not None:
                assert call.name and isinstance(call.args, dict), f"item {n}: incomplete call {call}"
                assert call.partial_args is None and call.will_continue is None, f"item {n}: partial call"
        if not last:
            assert cand.finish_reason is None, f"item {n}: finishReason before the last item"
    last = items[-1]
    assert (last.candidates[0].finish_reason is not None) == finished, "finishReason on the last item"
    if finished and any(it.usage_metadata is not None for it in items):
        u = last.usage_metadata
        assert u is not None, "the last item carries the usage"
        parts = (
            u.prompt_token_count,
            u.candidates_token_count,
            u.thoughts_token_count,
            u.tool_use_prompt_token_count,
        )
        assert u.total_token_count == sum(x or 0 for x in parts), (
            f"total {u.total_token_count} != sum {parts}"
        )


def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The content a Gemini client takes from a stream: answer text, thought text, signatures (with the
    kind of part they sit on), calls, other parts, the finish reason and the last usage."""
    text, thought, sigs, calls, others = [], [], [], [], []
    finish = usage = None
    for item in items:
        if "usageMetadata" in item:
            usage = item["usageMetadata"]
        for cand in item.get("candidates") or ():
            finish = cand.get("finishReason", finish)
            for part in (cand.get("content") or {}).get("parts") or ():
                sig = part.get("thoughtSignature")
                if "functionCall" in part:
                    fc = part["functionCall"]
                    calls.append((fc.get("id"), fc.get("name"), fc.get("args"), sig))
                    continue
                if "text" in part:
                    (thought if part.get("thought") else text).append(part["text"])
                    kind = "thought" if part.get("thought") else "text"
                elif set(part) <= {"thoughtSignature", "thought"}:
                    kind = "bare"
                else:
                    others.append(part)
                    continue
                if sig is not None:
                    sigs.append((kind, sig))
    return {
        "text": "".join(text),
        "thought": "".join(thought),
        "signatures": sigs,
        "calls": calls,
        "others": others,
        "finish": finish,
        "usage": usage,
    }


def run_stream(items: list[Any]) -> tuple[list[ir.StreamEvent], list[wire.GenerateContentResponse]]:
    """Gemini items → StreamToIR → StreamFromIR, as a gateway would run them."""
    to_ir, from_ir = conv.StreamToIR(), conv.StreamFromIR()
    events: list[ir.StreamEvent] = []
    out: list[wire.GenerateContentResponse] = []
    for item in items:
        for ev in to_ir.feed(item):
            events.append(ev)
            out += from_ir.feed(ev)
    for ev in to_ir.close():
        events.append(ev)
        out += from_ir.feed(ev)
    out += from_ir.close()
    return events, out


def emit(events: list[ir.StreamEvent]) -> list[wire.GenerateContentResponse]:
    conv_out = conv.StreamFromIR()
    items = [item for ev in events for item in conv_out.feed(ev)]
    return items + conv_out.close()


# --- SDK oracle ----------------------------------------------------------------------------------------


class Oracle:
    """google-genai 3.x, reading our SSE bytes through an in-process transport."""

    def __init__(self) -> None:
        self.body = b""
        self.urls: list[str] = []

        def handler(request: httpx2.Request) -> httpx2.Response:
            self.urls.append(str(request.url))
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=self.body)

        transport = httpx2.MockTransport(handler)
        options = gtypes.HttpOptions(
            base_url="http://mock.test", httpx_client=httpx2.Client(transport=transport)
        )
        self.client = genai.Client(api_key="k", http_options=options)

    def read(self, items: list[dict[str, Any]], tail: bytes = b"") -> list[gtypes.GenerateContentResponse]:
        self.body = b"".join(gemini_event(obj) for obj in items) + tail
        return list(self.client.models.generate_content_stream(model="gemini-x", contents="hi"))


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    return Oracle()


def sdk_summary(chunks: list[gtypes.GenerateContentResponse]) -> dict[str, Any]:
    text, thought, calls = [], [], []
    for chunk in chunks:
        for part in chunk.candidates[0].content.parts or ():
            if part.function_call is not None:
                calls.append((part.function_call.id, part.function_call.name, part.function_call.args))
            elif part.text is not None:
                (thought if part.thought else text).append(part.text)
    last = chunks[-1]
    reason = last.candidates[0].finish_reason
    usage = last.usage_metadata
    return {
        "text": "".join(text),
        "thought": "".join(thought),
        "calls": calls,
        "finish": reason.value if reason is not None else None,
        "usage": None
        if usage is None
        else (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count),
        "finish_only_last": all(c.candidates[0].finish_reason is None for c in chunks[:-1]),
    }


def _real() -> tuple[strat.RealExchange, ...]:
    require_real_traffic()
    return strat.real_exchanges()


def j(items: list[wire.GenerateContentResponse]) -> list[dict[str, Any]]:
    return [it.to_json() for it in items]


# --- same-dialect round trips (properties) ------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(obj=strat.request)
def test_request_round_trip_is_identity(obj):
    req = wire.GenerateContentRequest.parse(obj)
    back = conv.request_from_ir(conv.request_to_ir(req, "gemini-2.5-flash"))
    assert_strict_equal(back.to_json(), obj)


@settings(max_examples=120, deadline=None)
@given(obj=strat.response)
def test_response_round_trip_is_identity(obj):
    resp = wire.GenerateContentResponse.parse(obj)
    back = conv.response_from_ir(conv.response_to_ir(resp))
    assert_strict_equal(back.to_json(), obj)


def _stream_summaries(items: list[dict[str, Any]], finished: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the items through IR and back (checking both grammars); the summaries of output and input."""
    events, out = run_stream([wire.GenerateContentResponse.parse(i) for i in items])
    check_ir_grammar(events, complete=finished)
    check_gemini_stream(out, finished=finished)
    got, want = summary(j(out)), summary(items)
    if not finished:
        got["usage"] = want["usage"] = None  # without a finish there is no final item to carry it
    return got, want


@settings(max_examples=100, deadline=None)
@given(items=strat.stream_items(finish=True))
def test_stream_round_trip_keeps_the_content(items):
    got, want = _stream_summaries(items, finished=True)
    assert_strict_equal(got, want)


@settings(max_examples=30, deadline=None)
@given(items=strat.stream_items(finish=False))
def test_truncated_stream_has_no_end_and_no_finish(items):
    got, want = _stream_summaries(items, finished=False)
    assert_strict_equal(got, want)


def _normalised(r: ir.Response) -> list[tuple]:
    """Content as comparable tuples; documented normalisation: empty Text parts are dropped (the stream
    never opens a block for Gemini's empty ``{"text": ""}`` parts, the non-stream reply keeps them)."""
    out = []
    for p in r.content:
        if type(p) is ir.Text and p.text == "":
            continue
        if type(p) is ir.ToolCall:
            out.append(("call", p.id, p.name, json.loads(p.arguments), p.signature))
        elif type(p) is ir.Other:
            out.append(("other", p.data))
        else:
            out.append((type(p).__name__, p.text, getattr(p, "signature", None)))
    return out


@settings(max_examples=60, deadline=None)
@given(items=strat.stream_items(finish=True))
def test_accumulated_stream_equals_the_non_stream_response(items):
    events, _ = run_stream([wire.GenerateContentResponse.parse(i) for i in items])
    streamed = accumulate(events)
    whole = dict(items[-1])
    cand = dict(whole["candidates"][0])
    cand["content"] = {
        "parts": [p for i in items for p in i["candidates"][0]["content"]["parts"]],
        "role": "model",
    }
    whole["candidates"] = [cand]
    direct = conv.response_to_ir(wire.GenerateContentResponse.parse(whole))
    assert _normalised(streamed) == _normalised(direct)
    assert (streamed.stop.reason, streamed.stop.raw) == (direct.stop.reason, direct.stop.raw)
    fields = ("input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens")
    assert [getattr(streamed.usage, f) for f in fields] == [getattr(direct.usage, f) for f in fields]
    assert (streamed.id, streamed.model) == (direct.id, direct.model)


SNAKE_BODY = {
    "contents": [
        {"role": "user", "parts": [{"text": "hi"}, {"inline_data": {"mime_type": "image/png", "data": "AAAA"}}]},
        {"role": "model", "parts": [{"function_call": {"name": "f", "args": {"some_key": 1}}, "thought_signature": "c2ln"}]},
        {"role": "user", "parts": [{"function_response": {"name": "f", "response": {"ok": 1}}}], "x_turn": [1, None]},
    ],
    "system_instruction": {"parts": [{"text": "be brief"}]},
    "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": {"type": "object"}}], "googleSearch": {}}],
    "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
    "generation_config": {"max_output_tokens": 5, "top_k": 40.0, "thinking_config": {"include_thoughts": True, "thinking_budget": 0}},
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}],
    "x_extra": {"n": 1.0},
}  # fmt: skip


def test_snake_case_and_unknown_fields_survive_the_ir():
    r = conv.request_to_ir(wire.GenerateContentRequest.parse(SNAKE_BODY), "m")
    assert (r.max_tokens, r.top_k, r.tool_choice.mode, r.thinking.mode) == (5, 40, "tool", "disabled")
    assert_strict_equal(conv.request_from_ir(r).to_json(), SNAKE_BODY)


def test_round_trip_assertion_fires_without_vendor():
    """A converter that forgets the vendor data (crabllm drops unknown fields) fails the round trip."""
    r = conv.request_to_ir(wire.GenerateContentRequest.parse(SNAKE_BODY), "m")
    r.vendor = {}
    for m in r.messages:
        m.vendor = {}
    with pytest.raises(AssertionError):
        assert_strict_equal(conv.request_from_ir(r).to_json(), SNAKE_BODY)
    response = {
        "candidates": [{"content": {"parts": [{"text": "a", "x_p": 1}], "role": "model"}}],
        "responseId": "r",
    }
    back = conv.response_to_ir(wire.GenerateContentResponse.parse(response))
    back.content[0].vendor = {}
    with pytest.raises(AssertionError):
        assert_strict_equal(conv.response_from_ir(back).to_json(), response)


def test_stream_assertions_fire_on_lost_content():
    items = [
        _item(
            [{"text": "think", "thought": True, "thoughtSignature": SIG}],
            usage={"promptTokenCount": 1, "candidatesTokenCount": 1},
        ),
        _item([{"text": "hi"}], finish="STOP", usage={"promptTokenCount": 1, "candidatesTokenCount": 2}),
    ]
    events, out = run_stream([wire.GenerateContentResponse.parse(i) for i in items])
    assert_strict_equal(summary(j(out)), summary(items))
    lost_sig = json.loads(json.dumps(j(out)))
    del lost_sig[0]["candidates"][0]["content"]["parts"][0]["thoughtSignature"]  # crabllm drops signatures
    with pytest.raises(AssertionError):
        assert_strict_equal(summary(lost_sig), summary(items))
    dropped = [ev for ev in events if not (type(ev) is ir.BlockDelta and ev.text)]  # a stream losing its text
    whole = _item([p for i in items for p in i["candidates"][0]["content"]["parts"]], finish="STOP")
    assert _normalised(accumulate(dropped)) != _normalised(
        conv.response_to_ir(wire.GenerateContentResponse.parse(whole))
    )


def test_normalisation_is_only_empty_text():
    with_empty = ir.Response(id="r", model="m", content=[ir.Text(text=""), ir.Text(text="a")])
    assert _normalised(with_empty) == [("Text", "a", None)]
    assert _normalised(ir.Response(id="r", model="m", content=[ir.Reasoning(text="")])) != []


# --- real traffic --------------------------------------------------------------------------------------


def test_real_requests_and_responses_survive_the_ir():
    exchanges = _real()
    count = 0
    for ex in exchanges:
        req = wire.GenerateContentRequest.parse(ex.request)
        assert_strict_equal(conv.request_from_ir(conv.request_to_ir(req, "m")).to_json(), ex.request, ex.name)
        if ex.response is not None:
            resp = wire.GenerateContentResponse.parse(ex.response)
            assert_strict_equal(
                conv.response_from_ir(conv.response_to_ir(resp)).to_json(), ex.response, ex.name
            )
        count += 1
    assert count >= 40


def test_real_streams_obey_the_grammars_and_the_sdk(oracle):
    streams = [ex for ex in _real() if ex.sse is not None]
    assert len(streams) >= 8
    for ex in streams:
        items = [json.loads(e.data) for e in decode_all(ex.sse)]
        events, out = run_stream([wire.parse_stream_item(i) for i in items])
        check_ir_grammar(events, complete=True)
        check_gemini_stream(out, finished=True)
        got, want = summary(j(out)), summary(items)
        assert_strict_equal(got, want, ex.name)
        sdk_in, sdk_out = sdk_summary(oracle.read(items)), sdk_summary(oracle.read(j(out)))
        assert sdk_out == sdk_in, ex.name


def test_real_tool_call_stream_with_trailing_stop_chunk():
    ex = next(
        e for e in _real() if e.name.startswith("test_google_streaming_tool_call_thought_signature") and e.sse
    )
    events, _ = run_stream([wire.parse_stream_item(e.data) for e in decode_all(ex.sse)])
    finish = next(ev for ev in events if type(ev) is ir.Finish)
    assert (finish.stop.reason, finish.stop.raw) == ("tool_use", "STOP")  # envoy PR#2399
    start = next(ev for ev in events if type(ev) is ir.BlockStart)
    assert start.part.name == "get_country" and start.part.signature.startswith("EpwIC")


# --- request mapping -----------------------------------------------------------------------------------


def req(obj: dict[str, Any]) -> ir.Request:
    return conv.request_to_ir(wire.GenerateContentRequest.parse(obj), "gemini-x")


def test_request_roles_thoughts_signatures_and_calls():
    r = req(
        {
            "systemInstruction": {"parts": [{"text": "be brief"}], "role": "user"},
            "contents": [
                {
                    "role": "user",
                    "parts": [{"text": "hi"}, {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}],
                },
                {
                    "role": "model",
                    "parts": [
                        {"text": "plan", "thought": True, "thoughtSignature": "c2lnMQ=="},
                        {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "c2lnMg=="},
                        {"functionCall": {"name": "f", "args": {"a": 2}}},
                        {"functionCall": {"name": "g", "args": {}}},
                    ],
                },
                {
                    "role": "user",
                    "parts": [
                        {"functionResponse": {"name": "f", "response": {"r": 1}}},
                        {"functionResponse": {"name": "g", "response": {"r": 3}}},
                        {"functionResponse": {"name": "f", "response": {"r": 2}}},
                    ],
                },
            ],
        }
    )
    assert r.model == "gemini-x" and r.system == [ir.Text(text="be brief")]
    assert [m.role for m in r.messages] == ["user", "assistant", "user"]
    assert type(r.messages[0].content[1]) is ir.Image and r.messages[0].content[1].media_type == "image/png"
    thought, c1, c2, c3 = r.messages[1].content
    assert type(thought) is ir.Reasoning and thought.text == "plan" and thought.signature == "c2lnMQ=="
    assert [c.id for c in (c1, c2, c3)] == ["call_0", "call_1", "call_2"]
    assert (c1.arguments, c1.signature, c2.signature) == ('{"a":1}', "c2lnMg==", None)
    # FIFO by name: the first f answer goes to the first f call, the g answer to g
    assert [(t.call_id, t.name) for t in r.messages[2].content] == [
        ("call_0", "f"),
        ("call_2", "g"),
        ("call_1", "f"),
    ]
    assert r.messages[2].content[0].content == [ir.Text(text='{"r":1}')]


def test_synthetic_ids_never_collide_with_real_ones():
    r = req(
        {
            "contents": [
                {"role": "model", "parts": [{"functionCall": {"name": "f"}}, {"functionCall": {"id": "call_0", "name": "f"}}]},
                {"role": "user", "parts": [{"functionResponse": {"id": "call_0", "name": "f", "response": {}}},
                                           {"functionResponse": {"name": "f", "response": {}}}]},
            ]
        }
    )  # fmt: skip
    a, b = r.messages[0].content
    assert a.id != "call_0" and b.id == "call_0"
    assert [t.call_id for t in r.messages[1].content] == ["call_0", a.id]


def test_request_settings():
    r = req(
        {
            "contents": [],
            "generationConfig": {
                "maxOutputTokens": 100, "temperature": 1, "topP": 0.5, "topK": 40.0, "stopSequences": ["x"],
                "seed": 7, "presencePenalty": 0.1, "frequencyPenalty": 0.2,
                "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 2048},
                "responseMimeType": "application/json",
                "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "STRING", "nullable": True}}},
            },
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
            "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT"}}]}, {"googleSearch": {}}],
        }
    )  # fmt: skip
    assert (r.max_tokens, r.temperature, r.top_p, r.top_k, r.stop, r.seed) == (100, 1, 0.5, 40, ["x"], 7)
    assert type(r.top_k) is int and type(r.temperature) is int
    assert (r.presence_penalty, r.frequency_penalty) == (0.1, 0.2)
    t = r.thinking
    assert (t.mode, t.budget_tokens, t.include_thoughts, t.effort) == ("enabled", 2048, True, None)
    assert r.response_format == {
        "type": "json_schema",
        "schema": {"type": "object", "properties": {"a": {"type": ["string", "null"]}}},
    }
    assert (r.tool_choice.mode, r.tool_choice.name) == ("tool", "f")
    assert [(x.name, x.parameters) for x in r.tools] == [("f", {"type": "object"})]
    levels = req(
        {
            "contents": [],
            "generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW", "thinkingBudget": -1}},
        }
    )
    assert (levels.thinking.effort, levels.thinking.mode) == ("low", "adaptive")
    for mode, want in [("AUTO", "auto"), ("NONE", "none"), ("VALIDATED", "auto")]:
        assert (
            req({"contents": [], "toolConfig": {"functionCallingConfig": {"mode": mode}}}).tool_choice.mode
            == want
        )


def _ir_request(**kw: Any) -> ir.Request:
    return ir.Request(model="gemini-x", **kw)


def test_request_from_another_dialect():
    r = _ir_request(
        messages=[
            ir.Message(role="system", content=[ir.Text(text="sys")]),
            ir.Message(role="user", content=[ir.Text(text="hi"), ir.Image(url="data:image/png;base64,AAAA")]),
            ir.Message(
                role="assistant",
                content=[
                    ir.Reasoning(text="think", signature="c2ln"),
                    ir.Text(text="calling"),
                    ir.ToolCall(id="call_a", name="f", arguments='{"x": 1}', signature="dHM="),
                    ir.ToolCall(id="call_b", name="g", arguments=""),
                ],
            ),
            ir.Message(
                role="tool", content=[ir.ToolResult(call_id="call_a", content=[ir.Text(text='{"ok": true}')])]
            ),
            ir.Message(
                role="tool",
                content=[ir.ToolResult(call_id="call_b", content=[ir.Text(text="plain")], is_error=True)],
            ),
            ir.Message(role="user", content=[ir.Text(text="thanks")]),
            ir.Message(role="assistant", content=[]),  # an empty turn is dropped
        ],
        tools=[ir.Tool(name="f", description="d", parameters={"type": "object"}, strict=True)],
        tool_choice=ir.ToolChoice(mode="required"),
        thinking=ir.Thinking(mode="enabled", budget_tokens=1024),
        response_format={"type": "json_schema", "schema": {"type": "object"}, "name": "out", "strict": True},
        max_tokens=50,
        stop=["END"],
    )
    out = conv.request_from_ir(r).to_json()
    assert out["systemInstruction"] == {"parts": [{"text": "sys"}]}
    assert [c["role"] for c in out["contents"]] == ["user", "model", "user", "user"]
    assert out["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    assert out["contents"][1]["parts"] == [
        {"text": "think", "thought": True, "thoughtSignature": "c2ln"},
        {"text": "calling"},
        {"functionCall": {"id": "call_a", "name": "f", "args": {"x": 1}}, "thoughtSignature": "dHM="},
        {"functionCall": {"id": "call_b", "name": "g", "args": {}}},
    ]
    # both results in ONE user turn (eino-ext#571), names looked up from the calls
    assert out["contents"][2]["parts"] == [
        {"functionResponse": {"id": "call_a", "name": "f", "response": {"ok": True}}},
        {"functionResponse": {"id": "call_b", "name": "g", "response": {"error": "plain"}}},
    ]
    assert out["contents"][3] == {"parts": [{"text": "thanks"}], "role": "user"}
    assert out["tools"] == [
        {
            "functionDeclarations": [
                {"name": "f", "description": "d", "parametersJsonSchema": {"type": "object"}}
            ]
        }
    ]
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert out["generationConfig"] == {
        "maxOutputTokens": 50,
        "stopSequences": ["END"],
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"},
        "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024},
    }


def test_tool_result_response_shapes():
    def response_of(content: list[ir.Part], is_error: bool | None = None) -> Any:
        r = _ir_request(
            messages=[
                ir.Message(
                    role="tool",
                    content=[ir.ToolResult(call_id="c", name="f", content=content, is_error=is_error)],
                )
            ]
        )
        return conv.request_from_ir(r).to_json()["contents"][0]["parts"][0]["functionResponse"]["response"]

    assert response_of([ir.Text(text='{"a": [1]}')]) == {"a": [1]}
    assert response_of([ir.Text(text="[1, 2]")]) == {"result": "[1, 2]"}  # not an object: wrapped as text
    assert response_of([ir.Text(text="42")]) == {"result": "42"}
    assert response_of([ir.Text(text="a"), ir.Text(text="b")]) == {"result": "a\nb"}
    assert response_of([]) == {}
    assert response_of([ir.Text(text='{"a": 1}')], is_error=True) == {"error": {"a": 1}}


def test_requests_gemini_cannot_express_are_refused():
    bad_args = _ir_request(
        messages=[ir.Message(role="assistant", content=[ir.ToolCall(id="c", name="f", arguments='{"a":')])]
    )
    no_name = _ir_request(
        messages=[ir.Message(role="tool", content=[ir.ToolResult(call_id="zz", content=[ir.Text(text="x")])])]
    )
    file_id = _ir_request(messages=[ir.Message(role="user", content=[ir.File(file_id="file-abc")])])
    not_object = _ir_request(
        messages=[ir.Message(role="assistant", content=[ir.ToolCall(id="c", name="f", arguments="[1]")])]
    )
    for r, words in [
        (bad_args, "not valid JSON"),
        (no_name, "no function name"),
        (file_id, "file-abc"),
        (not_object, "JSON object"),
    ]:
        with pytest.raises(ProviderError) as info:
            conv.request_from_ir(r)
        assert info.value.kind == "invalid_request" and words in info.value.message


def test_thinking_and_choice_from_other_dialects():
    def gen(th: ir.Thinking) -> Any:
        return conv.request_from_ir(_ir_request(thinking=th)).to_json()["generationConfig"]["thinkingConfig"]

    assert gen(ir.Thinking(mode="disabled")) == {"thinkingBudget": 0}
    assert gen(ir.Thinking(mode="adaptive")) == {"includeThoughts": True, "thinkingBudget": -1}
    assert gen(ir.Thinking(effort="high")) == {"thinkingLevel": "HIGH"}
    assert gen(ir.Thinking(effort="max")) == {"thinkingLevel": "XHIGH"}
    assert gen(ir.Thinking(effort="low", budget_tokens=500)) == {
        "thinkingBudget": 500
    }  # exclusive: budget wins
    choice = conv.request_from_ir(_ir_request(tool_choice=ir.ToolChoice(mode="tool", name="f"))).to_json()
    assert choice["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}}


# --- response mapping ----------------------------------------------------------------------------------


def resp(obj: dict[str, Any]) -> ir.Response:
    return conv.response_to_ir(wire.GenerateContentResponse.parse(obj))


def test_response_thoughts_calls_stop_and_usage():
    r = resp(
        {
            "candidates": [
                {
                    "content": {
                        "parts": [
                            {"text": "hm", "thought": True},
                            {"text": "m", "thought": True, "thoughtSignature": "c2ln"},
                            {"text": "Hel"},
                            {"text": "lo"},
                            {"functionCall": {"name": "f", "args": {"q": 1}}, "thoughtSignature": "dHM="},
                            {"functionCall": {"name": "f", "args": {"q": 2}}},
                        ],
                        "role": "model",
                    },
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {"promptTokenCount": 100, "cachedContentTokenCount": 60, "candidatesTokenCount": 9,
                              "thoughtsTokenCount": 30, "toolUsePromptTokenCount": 5, "totalTokenCount": 144},
            "modelVersion": "gemini-2.5-pro",
            "responseId": "abc",
        }
    )  # fmt: skip
    assert (r.id, r.model) == ("abc", "gemini-2.5-pro")
    reasoning, text, c1, c2 = r.content
    assert (type(reasoning), reasoning.text, reasoning.signature) == (
        ir.Reasoning,
        "hmm",
        "c2ln",
    )  # not answer text
    assert (type(text), text.text) == (ir.Text, "Hello")
    assert (c1.id, c2.id, c1.signature, c2.arguments) == ("call_abc_0", "call_abc_1", "dHM=", '{"q":2}')
    assert (r.stop.reason, r.stop.raw, r.stop.dialect) == ("tool_use", "STOP", "gemini")
    u = r.usage
    assert (u.input_tokens, u.cache_read_tokens, u.output_tokens, u.reasoning_tokens) == (40, 60, 9, 30)
    assert u.prompt_total == 100
    back = conv.response_from_ir(r).to_json()
    assert back["candidates"][0]["finishReason"] == "STOP"
    assert back["candidates"][0]["content"]["parts"][2:4] == [{"text": "Hel"}, {"text": "lo"}]


def test_blocked_prompt_and_missing_ids():
    r = resp(
        {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 4}}
    )
    assert (r.stop.reason, r.stop.raw, r.content) == ("content_filter", "PROHIBITED_CONTENT", [])
    assert r.id.startswith("gemini-") and r.model == ""
    assert conv.response_from_ir(r).to_json() == {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 4},
    }
    assert resp({"candidates": [{"finishReason": "MAX_TOKENS"}]}).stop.reason == "max_tokens"
    assert resp({"candidates": [{"finishReason": "SAFETY"}]}).stop.reason == "content_filter"


def test_response_from_another_dialect():
    r = ir.Response(
        id="msg_1",
        model="claude-x",
        content=[
            ir.Reasoning(text="think", signature="c2ln"),
            ir.Reasoning(redacted="opaque"),  # no Gemini form
            ir.Text(text="hi", citations=[{"x": 1}]),
            ir.ToolCall(id="toolu_1", name="f", arguments='{"a":1}'),
            ir.Other(dialect="anthropic", data={"type": "server_tool_use"}),
        ],
        stop=ir.Stop(reason="tool_use", raw="tool_use", dialect="anthropic"),
        usage=ir.Usage(input_tokens=10, cache_read_tokens=5, cache_write_tokens=3, output_tokens=7),
    )
    out = conv.response_from_ir(r).to_json()
    assert out == {
        "candidates": [
            {
                "index": 0,
                "content": {
                    "parts": [
                        {"text": "think", "thought": True, "thoughtSignature": "c2ln"},
                        {"text": "hi"},
                        {"functionCall": {"id": "toolu_1", "name": "f", "args": {"a": 1}}},
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 18,
            "cachedContentTokenCount": 5,
            "candidatesTokenCount": 7,
            "totalTokenCount": 25,
        },
        "modelVersion": "claude-x",
        "responseId": "msg_1",
    }


# --- StreamToIR ----------------------------------------------------------------------------------------


def _item(parts: list[dict] | None = None, finish: str | None = None, usage: dict | None = None) -> dict:
    cand: dict[str, Any] = {"content": {"parts": parts or [], "role": "model"}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [cand], "modelVersion": "g", "responseId": "r1"}
    if usage:
        out["usageMetadata"] = usage
    return out


def test_stream_calls_in_different_chunks_get_distinct_ids():
    to_ir = conv.StreamToIR()
    events = []
    events += to_ir.feed(
        _item(
            [{"functionCall": {"name": "f", "args": {"a": 1}}}],
            usage={"promptTokenCount": 5, "candidatesTokenCount": 2},
        )
    )
    events += to_ir.feed(
        _item(
            [{"functionCall": {"name": "f", "args": {"a": 2}}}],
            usage={"promptTokenCount": 5, "candidatesTokenCount": 4},
        )
    )
    events += to_ir.feed(
        _item([{"text": ""}], finish="STOP", usage={"promptTokenCount": 5, "candidatesTokenCount": 4})
    )
    events += to_ir.close()
    check_ir_grammar(events, complete=True)
    starts = [e.part for e in events if type(e) is ir.BlockStart]
    # unique across chunks, and unlike a request's call_0, call_1... (ids of earlier turns; praxis-proxy/ai
    # PR#1000)
    assert [(p.id, p.name, p.arguments) for p in starts] == [("call_r1_0", "f", ""), ("call_r1_1", "f", "")]
    assert [e.arguments for e in events if type(e) is ir.BlockDelta] == ['{"a":1}', '{"a":2}']
    usages = [e.usage.output_tokens for e in events if type(e) is ir.UsageUpdate]
    assert usages[-1] == 4 and accumulate(events).usage.output_tokens == 4  # latest, never summed
    assert next(e for e in events if type(e) is ir.Finish).stop.reason == "tool_use"
    assert to_ir.close() == []  # End only once


def test_stream_error_item_and_truncation():
    to_ir = conv.StreamToIR()
    events = to_ir.feed(_item([{"text": "par"}]))
    events += to_ir.feed(
        {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    )
    events += to_ir.close()
    err = events[-1]
    assert type(err) is ir.StreamError and (err.status, err.error_type) == (503, "UNAVAILABLE")
    check_ir_grammar(events, complete=False)
    truncated = conv.StreamToIR()
    events = truncated.feed(_item([{"text": "par"}])) + truncated.close()
    check_ir_grammar(events, complete=False)
    assert not any(type(e) in (ir.Finish, ir.End) for e in events)
    with pytest.raises(ProviderError):
        accumulate(events)  # a truncated stream is never a quietly shorter answer


def test_stream_blocked_prompt():
    blocked = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
        "modelVersion": "g",
        "responseId": "r",
    }
    events, out = run_stream([blocked])
    check_ir_grammar(events, complete=True)
    assert accumulate(events).stop.reason == "content_filter"
    assert j(out) == [blocked]  # Gemini → IR → Gemini: the same blocked reply, no invented candidate
    other = j(emit([START, ir.Finish(stop=ir.Stop(reason="content_filter")), ir.End()]))  # another dialect's
    assert other[-1]["candidates"][0]["finishReason"] == "SAFETY"


# --- StreamFromIR on awkward IR streams (cross-dialect) ---------------------------------------------------

START = ir.MessageStart(id="msg_1", model="claude-x", usage=ir.Usage(input_tokens=10, output_tokens=1))


def _tool(index: int, cid: str, name: str, fragments: list[str]) -> list[ir.StreamEvent]:
    return [
        ir.BlockStart(index=index, part=ir.ToolCall(id=cid, name=name, arguments="")),
        *[ir.BlockDelta(index=index, arguments=f) for f in fragments],
        ir.BlockStop(index=index),
    ]


def _text(index: int, *pieces: str) -> list[ir.StreamEvent]:
    return [
        ir.BlockStart(index=index, part=ir.Text(text="")),
        *[ir.BlockDelta(index=index, text=p) for p in pieces],
        ir.BlockStop(index=index),
    ]


def _end(reason: str = "tool_use", usage: ir.Usage | None = None) -> list[ir.StreamEvent]:
    tail: list[ir.StreamEvent] = [ir.UsageUpdate(usage=usage)] if usage else []
    return [*tail, ir.Finish(stop=ir.Stop(reason=reason, raw=reason, dialect="anthropic")), ir.End()]


SIG = base64.b64encode(b"signature-bytes").decode()
AWKWARD = {
    "fragmented_args_empty_first": (
        [
            START,
            *_tool(0, "toolu_1", "get_weather", ["", '{"ci', 'ty": "Pa', 'ris", "n": [1,', "2]}"]),
            *_end(),
        ],
        {
            "text": "",
            "thought": "",
            "calls": [("toolu_1", "get_weather", {"city": "Paris", "n": [1, 2]})],
            "finish": "STOP",
        },
    ),
    "text_tool_text": (
        [
            START,
            *_text(0, "Let me ", "check."),
            *_tool(1, "toolu_1", "f", ['{"a":', "1}"]),
            *_text(2, " Done"),
            *_end(),
        ],
        {
            "text": "Let me check. Done",
            "thought": "",
            "calls": [("toolu_1", "f", {"a": 1})],
            "finish": "STOP",
        },
    ),
    "two_parallel_calls_interleaved": (
        [
            START,
            ir.BlockStart(index=0, part=ir.ToolCall(id="call_a", name="f", arguments="")),
            ir.BlockStart(index=1, part=ir.ToolCall(id="call_b", name="g", arguments="")),
            ir.BlockDelta(index=0, arguments='{"x"'),
            ir.BlockDelta(index=1, arguments='{"y": true}'),
            ir.BlockDelta(index=0, arguments=": 1}"),
            ir.BlockStop(index=0),
            ir.BlockStop(index=1),
            *_end(),
        ],
        {
            "text": "",
            "thought": "",
            "calls": [("call_a", "f", {"x": 1}), ("call_b", "g", {"y": True})],
            "finish": "STOP",
        },
    ),
    "thinking_signature_text_tool": (
        [
            START,
            ir.BlockStart(index=0, part=ir.Reasoning()),
            ir.BlockDelta(index=0, reasoning="Let me "),
            ir.BlockDelta(index=0, reasoning="think."),
            ir.BlockDelta(index=0, signature=SIG),
            ir.BlockStop(index=0),
            *_text(1, "Answer"),
            *_tool(2, "toolu_9", "f", ["{}"]),
            *_end(),
        ],
        {"text": "Answer", "thought": "Let me think.", "calls": [("toolu_9", "f", {})], "finish": "STOP"},
    ),
    "usage_only_at_the_end": (
        [
            ir.MessageStart(id="chatcmpl-1", model="gpt-x"),
            *_text(0, "hi"),
            ir.Finish(stop=ir.Stop(reason="end_turn", raw="stop", dialect="openai")),
            ir.UsageUpdate(
                usage=ir.Usage(input_tokens=12, cache_read_tokens=4, output_tokens=3, reasoning_tokens=2)
            ),
            ir.End(),
        ],
        {"text": "hi", "thought": "", "calls": [], "finish": "STOP", "usage": (16, 3, 21)},
    ),
    "no_finish_reason_but_clean_end": (
        [START, *_text(0, "ok"), ir.End()],
        {"text": "ok", "thought": "", "calls": [], "finish": "STOP"},
    ),
    "max_tokens_mid_call_text": (
        [START, *_text(0, "cut"), ir.Finish(stop=ir.Stop(reason="max_tokens")), ir.End()],
        {"text": "cut", "thought": "", "calls": [], "finish": "MAX_TOKENS"},
    ),
}


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_awkward_ir_streams_give_valid_gemini_streams(name, oracle):
    events, want = AWKWARD[name]
    items = emit(events)
    check_gemini_stream(items, finished=True)
    got = sdk_summary(oracle.read(j(items)))
    assert got["finish_only_last"]
    for key, value in want.items():
        assert got[key] == value, (key, got[key])
    assert oracle.urls[-1].endswith("/models/gemini-x:streamGenerateContent?alt=sse")
    mine = summary(j(items))
    assert mine["calls"] == [(cid, n, a, None) for cid, n, a in want["calls"]]


def test_signature_lands_on_the_thought_part_it_closes():
    events, _ = AWKWARD["thinking_signature_text_tool"]
    parts = [p for it in j(emit(events)) for p in it["candidates"][0]["content"]["parts"]]
    assert parts[:2] == [
        {"text": "Let me ", "thought": True},
        {"text": "think.", "thought": True, "thoughtSignature": SIG},
    ]
    only_sig = emit(
        [
            START,
            ir.BlockStart(index=0, part=ir.Reasoning()),
            ir.BlockDelta(index=0, signature=SIG),
            ir.BlockStop(index=0),
            *_end(),
        ]
    )
    assert j(only_sig)[0]["candidates"][0]["content"]["parts"] == [
        {"text": "", "thought": True, "thoughtSignature": SIG}
    ]


def test_signature_delta_on_a_tool_block_and_other_candidates():
    items = j(
        emit(
            [
                START,
                *_tool(0, "c", "f", ['{"a": 1}'])[:2],
                ir.BlockDelta(index=0, signature=SIG),
                ir.BlockStop(index=0),
                *_end(),
            ]
        )
    )
    assert items[0]["candidates"][0]["content"]["parts"] == [
        {"functionCall": {"id": "c", "name": "f", "args": {"a": 1}}, "thoughtSignature": SIG}
    ]
    to_ir = conv.StreamToIR()
    two = _item([{"text": "zero"}])
    two["candidates"].insert(0, {"content": {"parts": [{"text": "one"}], "role": "model"}, "index": 1})
    events = to_ir.feed(two)
    assert [e.text for e in events if type(e) is ir.BlockDelta] == ["zero"]  # candidate 0 only


def test_image_urls_get_a_mime_type():
    def part_of(image: ir.Image) -> Any:
        return conv.request_from_ir(
            _ir_request(messages=[ir.Message(role="user", content=[image])])
        ).to_json()["contents"][0]["parts"][0]

    assert part_of(ir.Image(url="https://x.test/cat.JPG?s=1")) == {
        "fileData": {"mimeType": "image/jpeg", "fileUri": "https://x.test/cat.JPG?s=1"}
    }
    assert part_of(ir.Image(url="https://x.test/image")) == {"fileData": {"fileUri": "https://x.test/image"}}
    assert (
        part_of(ir.Image(url="https://x.test/a", media_type="image/webp"))["fileData"]["mimeType"]
        == "image/webp"
    )
    assert part_of(ir.Image(data="AAAA", media_type="image/gif")) == {
        "inlineData": {"mimeType": "image/gif", "data": "AAAA"}
    }
    audio = part_of(ir.Audio(data="AAAA", format="mp3"))
    assert audio == {"inlineData": {"mimeType": "audio/mp3", "data": "AAAA"}}


def test_usage_is_cumulative_and_total_is_the_sum():
    items = j(emit(AWKWARD["usage_only_at_the_end"][0]))
    assert "usageMetadata" not in items[0]  # nothing known yet
    assert items[-1]["usageMetadata"] == {
        "promptTokenCount": 16, "cachedContentTokenCount": 4, "candidatesTokenCount": 3, "thoughtsTokenCount": 2, "totalTokenCount": 21,
    }  # fmt: skip


def test_truncated_ir_stream_writes_no_finish_and_never_partial_args():
    events = [START, *_text(0, "partial"), ir.BlockStart(index=1, part=ir.ToolCall(id="c", name="f", arguments="")),
              ir.BlockDelta(index=1, arguments='{"a": ')]  # fmt: skip
    items = emit(events)
    check_gemini_stream(items, finished=False)
    assert summary(j(items))["calls"] == []  # the unfinished call is not sent


def test_stream_error_and_bad_arguments_raise():
    out = conv.StreamFromIR()
    out.feed(START)
    with pytest.raises(ProviderError) as info:
        out.feed(
            ir.StreamError(
                status=529, error_type="overloaded_error", message="Overloaded", body={"type": "error"}
            )
        )
    assert (info.value.kind, info.value.status, info.value.error_type) == (
        "upstream",
        529,
        "overloaded_error",
    )
    bad = conv.StreamFromIR()
    for ev in [
        START,
        ir.BlockStart(index=0, part=ir.ToolCall(id="c", name="f", arguments="")),
        ir.BlockDelta(index=0, arguments='{"a": '),
    ]:
        bad.feed(ev)
    with pytest.raises(ProviderError) as info:
        bad.feed(ir.BlockStop(index=0))
    assert info.value.kind == "decode" and "not valid JSON" in info.value.message


# --- the checkers fire on broken input ---------------------------------------------------------------


def test_ir_grammar_checker_fires():
    good = [START, *_text(0, "a"), *_end()]
    check_ir_grammar(good, complete=True)
    broken = {
        "no MessageStart": good[1:],
        "index gap": [START, ir.BlockStart(index=1, part=ir.Text(text="")), ir.BlockStop(index=1), *_end()],
        "delta after stop": [START, *_text(0, "a"), ir.BlockDelta(index=0, text="b"), *_end()],
        "delta before start": [START, ir.BlockDelta(index=0, text="b"), *_end()],
        "wrong delta kind": [
            START,
            ir.BlockStart(index=0, part=ir.Text(text="")),
            ir.BlockDelta(index=0, arguments="{}"),
            ir.BlockStop(index=0),
            *_end(),
        ],
        "open at finish": [START, ir.BlockStart(index=0, part=ir.Text(text="")), *_end()],
        "End not last": [*good, ir.UsageUpdate(usage=ir.Usage())],
        "no End": good[:-1],
    }
    for what, events in broken.items():
        with pytest.raises(AssertionError):
            check_ir_grammar(events, complete=True)
        assert what


def _good_items() -> list[wire.GenerateContentResponse]:
    return emit(
        [
            START,
            *_text(0, "a"),
            *_tool(1, "c", "f", ["{}"]),
            *_end(usage=ir.Usage(input_tokens=1, output_tokens=2)),
        ]
    )


def test_gemini_grammar_checker_fires():
    good = j(_good_items())
    check_gemini_stream(_good_items(), finished=True)

    def broken(mutate) -> list[wire.GenerateContentResponse]:
        items = json.loads(json.dumps(good))
        mutate(items)
        return [wire.GenerateContentResponse.parse(i) for i in items]

    cases = [
        lambda it: it[0]["candidates"][0].__setitem__("finishReason", "STOP"),  # finish mid-stream
        lambda it: it[-1].pop("usageMetadata"),  # usage missing on the last item
        lambda it: it[1].__setitem__("responseId", "other"),  # id changes
        lambda it: it[1]["candidates"].append(it[1]["candidates"][0]),  # two candidates
        lambda it: it[1]["candidates"][0]["content"]["parts"][0]["functionCall"].__setitem__(
            "willContinue", True
        ),
        lambda it: it[-1]["usageMetadata"].__setitem__("totalTokenCount", 99),
    ]
    for mutate in cases:
        with pytest.raises(AssertionError):
            check_gemini_stream(broken(mutate), finished=True)


def test_summary_catches_a_crabllm_style_split_call():
    """crabllm turns each OpenAI argument fragment into its own functionCall: the content check fails."""
    good = j(_good_items())
    split = json.loads(json.dumps(good))
    call = split[1]["candidates"][0]["content"]["parts"][0]["functionCall"]
    split.insert(2, json.loads(json.dumps(split[1])))
    call["args"] = {}
    assert summary(split)["calls"] != summary(good)["calls"]


def test_sdk_oracle_rejects_broken_streams(oracle):
    good = j(_good_items())
    assert sdk_summary(oracle.read(good))["calls"] == [("c", "f", {})]
    with pytest.raises(UnknownApiResponseError):
        oracle.read(good, tail=b"data: [DONE]\r\n\r\n")  # an OpenAI terminator in a Gemini stream
    partial = json.loads(json.dumps(good))
    partial[1]["candidates"][0]["content"]["parts"][0]["functionCall"]["args"] = '{"a": '  # partial args text
    with pytest.raises(ValidationError, match=r"functionCall\.args"):
        oracle.read(partial)


# --- the lossiness ledger ------------------------------------------------------------------------------


def test_lossy_ledger_is_well_formed():
    assert all(isinstance(row, Lossy) for row in conv.LOSSY)
    assert all(row.reason and row.field for row in conv.LOSSY)
    sources = {row.source for row in conv.LOSSY}
    assert sources == {"gemini", "*"}
    assert all(row.target == "gemini" for row in conv.LOSSY if row.source == "*")
    fields = " ".join(row.field for row in conv.LOSSY)
    for name in (
        "safetySettings",
        "cachedContent",
        "thoughtSignature",
        "toolUsePromptTokenCount",
        "Reasoning.redacted",
        "cache_write_tokens",
    ):
        assert name in fields, name


@pytest.mark.parametrize("key", ["tools", "tools_as_list"])
def test_tools_given_as_one_object_are_read_and_given_back_as_one_object(key):
    # Gemini accepts `tools` as one Tool object as well as a list (seen in real pydantic-ai traffic).
    tool = {"function_declarations": [{"name": "f", "parameters": {"type": "OBJECT", "properties": {}}}]}
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "tools": tool if key == "tools" else [tool],
    }
    req = wire.GenerateContentRequest.parse(body)
    r = conv.request_to_ir(req, "gemini-x")
    assert [t.name for t in r.tools] == ["f"]
    assert_strict_equal(conv.request_from_ir(r).to_json(), body)


def test_a_translated_reply_is_written_directly_as_the_general_path_wrote_it():
    """A reply from another dialect (no Gemini entry) is written without the leftovers bookkeeping: one
    candidate with index 0 and role model when it has content or a stop, camelCase names, a computed total."""
    call = ir.ToolCall(id="c1", name="f", arguments='{"a": 1}', signature="c2ln")
    usage = ir.Usage(input_tokens=3, output_tokens=2, cache_read_tokens=4, reasoning_tokens=5)
    full = ir.Response(id="r1", model="m", content=[ir.Text(text="hi"), call], stop=ir.Stop(reason="tool_use"),
                       usage=usage)  # fmt: skip
    assert conv.response_json_from_ir(full) == {
        "candidates": [
            {
                "index": 0,
                "content": {
                    "parts": [
                        {"text": "hi"},
                        {
                            "functionCall": {"id": "c1", "name": "f", "args": {"a": 1}},
                            "thoughtSignature": "c2ln",
                        },
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 7,
            "cachedContentTokenCount": 4,
            "candidatesTokenCount": 2,
            "thoughtsTokenCount": 5,
            "totalTokenCount": 14,
        },
        "modelVersion": "m",
        "responseId": "r1",
    }
    stop_only = ir.Response(id="r3", model="m", stop=ir.Stop(reason="end_turn", raw="stop", dialect="openai"))
    assert conv.response_json_from_ir(stop_only) == {
        "candidates": [{"index": 0, "content": {"parts": [], "role": "model"}, "finishReason": "STOP"}],
        "modelVersion": "m",
        "responseId": "r3",
    }
    empty = ir.Response(id="r4", model="m", usage=ir.Usage())
    assert conv.response_json_from_ir(empty) == {
        "candidates": [], "usageMetadata": {}, "modelVersion": "m", "responseId": "r4"
    }  # fmt: skip
    bare_call = ir.Response(id="r5", model="m", content=[ir.ToolCall(id="c2", name="g", arguments="")])
    part = conv.response_json_from_ir(bare_call)["candidates"][0]["content"]["parts"][0]
    assert part == {"functionCall": {"id": "c2", "name": "g", "args": {}}}
