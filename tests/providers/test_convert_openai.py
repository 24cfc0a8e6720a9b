"""OpenAI Chat Completions ⇄ IR converters (providers/convert/openai.py).

What is checked, and how it could fail:
1. Same-dialect round trips through the IR are the identity on generated requests and responses, unknown
   fields, explicit nulls and absent fields included; and on every recorded real request and response.
2. Streams: the IR events obey the IR grammar (checker below, with broken examples); accumulating a chunk
   stream equals the non-stream response of the same content; OpenAI → IR → OpenAI keeps the semantic
   content, judged by the official openai SDK's stream accumulator in strict mode.
3. Awkward IR streams from other dialects (split argument fragments, parallel calls behind text and
   thinking blocks, usage at the end, no finish reason, Gemini STOP with calls) give OpenAI chunks that
   obey the OpenAI grammar (checker below, with broken examples) and that the SDK assembles as expected.
4. Translations out of the IR (Anthropic- and Gemini-shaped IR) and the lossiness ledger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.convert import openai as conv
from providers.convert.accumulate import accumulate
from providers.convert.tables import Lossy
from providers.errors import ProviderError
from providers.sse import OPENAI_DONE, decode_all, is_done, openai_event
from providers.types import ir
from providers.types.openai import ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse
from tests.corpus import require_real_traffic
from tests.strategies import openai as strat
from tests.strategies.common import assert_strict_equal, text

PROPERTY = settings(max_examples=150, deadline=None)
STREAMS = settings(max_examples=40, deadline=None)  # the SDK oracle costs ~2 ms a call


# ==================================================================================================
# Checkers and the SDK oracle
# ==================================================================================================


def check_ir(events: list[ir.StreamEvent], *, complete: bool = True) -> None:
    """The IR stream grammar: MessageStart first and once; BlockStart with dense indices from 0; deltas
    (one field each) and BlockStop only for started, unstopped blocks; every block stopped and no block
    event after Finish; End last. A StreamError may come at any point (even first) and ends the stream.
    ``complete``: Finish and End are required."""
    assert events, "empty stream"
    if isinstance(events[-1], ir.StreamError):
        events = events[:-1]
        complete = False
        if not events:
            return
    assert isinstance(events[0], ir.MessageStart), (
        f"first event is {type(events[0]).__name__}, not MessageStart"
    )
    started: set[int] = set()
    stopped: set[int] = set()
    finished = ended = False
    for n, event in enumerate(events):
        where = f"event {n} ({type(event).__name__})"
        assert not ended, f"{where} after End"
        if isinstance(event, ir.MessageStart):
            assert n == 0, f"{where}: second MessageStart"
        elif isinstance(event, ir.StreamError):
            raise AssertionError(f"{where}: events after a StreamError")
        elif isinstance(event, ir.BlockStart | ir.BlockDelta | ir.BlockStop):
            assert not finished, f"{where}: block event after Finish"
            if isinstance(event, ir.BlockStart):
                assert event.index == len(started), f"{where}: index {event.index}, expected {len(started)}"
                started.add(event.index)
            else:
                assert event.index in started, f"{where}: block {event.index} never started"
                assert event.index not in stopped, f"{where}: block {event.index} already stopped"
                if isinstance(event, ir.BlockStop):
                    stopped.add(event.index)
                else:
                    fields = ("text", "arguments", "reasoning", "signature", "citation")
                    assert sum(getattr(event, f) is not None for f in fields) == 1, f"{where}: not one field"
        elif isinstance(event, ir.Finish):
            assert not finished, f"{where}: second Finish"
            assert started == stopped, f"{where}: blocks {sorted(started - stopped)} still open"
            finished = True
        elif isinstance(event, ir.End):
            assert finished, f"{where}: End without Finish"
            ended = True
    if complete:
        assert ended, "no End (truncated)"


def check_chunks(chunks: list[dict[str, Any]]) -> None:
    """The OpenAI chunk grammar a translated stream must obey (docs/wire.md#openai-streaming; gateway bugs:
    new-api PR#5229, OmniRoute#682, openclaw PR#5898).
    Leading Azure filter events (``object: ""``, no choices) are skipped, as the SDK skips them."""
    while chunks and chunks[0]["object"] == "" and not chunks[0]["choices"]:
        chunks = chunks[1:]
    assert chunks, "no chunks"
    head = {k: chunks[0][k] for k in ("id", "created", "model")}
    first_delta = chunks[0]["choices"][0]["delta"] if chunks[0]["choices"] else {}
    assert first_delta.get("role") == "assistant", "first chunk must carry delta.role 'assistant'"
    tools = 0
    finishes = 0
    for n, chunk in enumerate(chunks):
        where = f"chunk {n}"
        assert chunk["object"] == "chat.completion.chunk", f"{where}: object {chunk['object']!r}"
        assert {k: chunk[k] for k in head} == head, f"{where}: id/created/model changed: {chunk}"
        if chunk.get("usage") is not None:
            assert chunk["choices"] == [], f"{where}: usage must be on its own chunk with choices: []"
            assert finishes == 1, f"{where}: usage before the finish chunk"
            assert n == len(chunks) - 1, f"{where}: usage chunk is not the last"
        for choice in chunk["choices"]:
            assert choice["index"] == 0, f"{where}: choice index {choice['index']}"
            assert finishes == 0, f"{where}: a chunk after the finish chunk"
            for call in choice["delta"].get("tool_calls") or ():
                if call["index"] == tools:
                    assert call.get("id") is not None, f"{where}: first fragment of call {tools} has no id"
                    assert call.get("type") == "function", (
                        f"{where}: first fragment of call {tools} has no type"
                    )
                    assert call.get("function", {}).get("name") is not None, (
                        f"{where}: first fragment, no name"
                    )
                    tools += 1
                elif call["index"] < tools:
                    assert set(call) <= {"index", "function", "extra_content"}, (
                        f"{where}: id/type repeated: {call}"
                    )
                    assert set(call.get("function", {})) <= {"arguments"}, f"{where}: name repeated: {call}"
                else:
                    raise AssertionError(f"{where}: tool index {call['index']} skips {tools}")
            if choice.get("finish_reason") is not None:
                finishes += 1
    assert finishes == 1, f"{finishes} chunks carry a finish_reason, expected exactly one"


def sse_body(chunks: list[dict[str, Any]]) -> bytes:
    return b"".join(openai_event(c) for c in chunks) + OPENAI_DONE


def sdk_final(body: bytes, *, strict: bool = True) -> Any:
    """The openai SDK's assembled completion of an SSE body (strict response validation, no retries).

    Strict mode rejects Azure's leading filter event (``object: ""``, ``created: 0``) that the default,
    non-strict client skips: streams that carry one are checked with ``strict=False``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client = openai.OpenAI(
        api_key="test",
        base_url="http://mock.test/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        _strict_response_validation=strict,
        max_retries=0,
    )
    with client.chat.completions.stream(model="m", messages=[{"role": "user", "content": "hi"}]) as stream:
        for _ in stream:
            pass
        try:
            return stream.get_final_completion()
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
            return (
                exc.completion
            )  # the helper refuses to "parse" these; the assembled snapshot is what we check


def sdk_summary(completion: Any) -> dict[str, Any]:
    """What a client sees of an assembled completion."""
    choice = completion.choices[0]
    msg = choice.message
    return {
        "content": msg.content or None,
        "reasoning": getattr(msg, "reasoning_content", None) or None,
        "calls": [(c.id, c.function.name, c.function.arguments) for c in msg.tool_calls or ()],
        "finish": choice.finish_reason,
        "usage": completion.usage.model_dump(exclude_unset=True) if completion.usage else None,
    }


def to_ir(chunks: list[dict[str, Any]]) -> list[ir.StreamEvent]:
    s = conv.StreamToIR()
    events = [e for c in chunks for e in s.feed(ChatCompletionChunk.parse(c))]
    return events + s.close()


def from_ir(events: list[ir.StreamEvent], **kwargs: Any) -> list[dict[str, Any]]:
    s = conv.StreamFromIR(**kwargs)
    out = [c for e in events for c in s.feed(e)]
    return [c.to_json() for c in out + s.close()]


def semantic(r: ir.Response) -> dict[str, Any]:
    """The content a stream and a non-stream reply must agree on."""
    parts = []
    for p in r.content:
        if isinstance(p, ir.Text):
            parts.append(("refusal" if (p.vendor.get("openai") or {}).get("refusal") else "text", p.text))
        elif isinstance(p, ir.Reasoning):
            parts.append(("reasoning", p.text, p.signature))
        elif isinstance(p, ir.ToolCall):
            parts.append(("call", p.id, p.name, p.arguments, p.signature))
        else:
            parts.append(("other", repr(p)))
    usage = r.usage
    return {
        "parts": parts,
        "stop": (r.stop.reason, r.stop.raw) if r.stop else None,
        "usage": None
        if usage is None
        else (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
            usage.reasoning_tokens,
        ),
    }


# --- the checkers can fail -------------------------------------------------------------------------


def good_ir() -> list[ir.StreamEvent]:
    return [
        ir.MessageStart(id="m", model="x"),
        ir.BlockStart(index=0, part=ir.Text(text="")),
        ir.BlockDelta(index=0, text="hi"),
        ir.BlockStop(index=0),
        ir.Finish(stop=ir.Stop(reason="end_turn")),
        ir.End(),
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.pop(0), "not MessageStart"),
        (lambda e: e.insert(1, ir.BlockDelta(index=0, text="x")), "never started"),
        (lambda e: e.__setitem__(1, ir.BlockStart(index=1, part=ir.Text(text=""))), "expected 0"),
        (lambda e: e.insert(4, ir.BlockDelta(index=0, text="late")), "already stopped"),
        (lambda e: e.pop(3), "still open"),
        (lambda e: e.insert(5, ir.BlockDelta(index=0, text="x")), "after Finish"),
        (lambda e: e.append(ir.UsageUpdate(usage=ir.Usage())), "after End"),
        (lambda e: e.pop(), "truncated"),
        (
            lambda e: e.insert(2, ir.StreamError(status=None, error_type="x", message="m")),
            "after a StreamError",
        ),
    ],
)
def test_ir_checker_catches_broken_streams(mutate, message):
    check_ir(good_ir())
    events = good_ir()
    mutate(events)
    with pytest.raises(AssertionError, match=message):
        check_ir(events)


def chunk(delta: dict[str, Any] | None, finish: str | None = None, **head: Any) -> dict[str, Any]:
    out = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", **head}
    out["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return out


def call_delta(index: int, args: str, id: str | None = None, name: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"index": index}
    if id is not None:
        out["id"], out["type"] = id, "function"
    out["function"] = {"arguments": args} if name is None else {"name": name, "arguments": args}
    return {"tool_calls": [out]}


def set_delta(c: dict[str, Any], delta: dict[str, Any]) -> None:
    c["choices"][0]["delta"] = delta


def good_chunks() -> list[dict[str, Any]]:
    return [
        chunk({"role": "assistant", "content": ""}),
        chunk(call_delta(0, "", "call_1", "f")),
        chunk(call_delta(0, '{"a":1}')),
        chunk({}, "tool_calls"),
        {**chunk(None), "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: set_delta(c[1], call_delta(1, "", "call_1", "f")), "skips 0"),  # tool index from 1
        (
            lambda c: set_delta(c[2], call_delta(0, '{"a":1}', "call_1", "f")),
            "repeated",
        ),  # id on every fragment
        (lambda c: c[2].update(id="chatcmpl-2"), "changed"),  # a new id per chunk (crabllm)
        (lambda c: c[1]["choices"][0].update(finish_reason="stop"), "after the finish"),  # two finishes
        (lambda c: c.pop(3), "before the finish"),  # no finish chunk
        (lambda c: c[3].update(usage=c.pop()["usage"]), "own chunk"),  # usage on the finish chunk
        (lambda c: c[0]["choices"][0]["delta"].pop("role"), "role"),
    ],
)
def test_chunk_checker_catches_broken_streams(mutate, message):
    check_chunks(good_chunks())
    chunks = good_chunks()
    mutate(chunks)
    with pytest.raises(AssertionError, match=message):
        check_chunks(chunks)


def test_sdk_oracle_catches_broken_streams():
    ok = sdk_summary(sdk_final(sse_body(good_chunks())))
    assert ok["calls"] == [("call_1", "f", '{"a":1}')] and ok["finish"] == "tool_calls"
    from_one = good_chunks()
    set_delta(from_one[1], call_delta(1, "", "call_1", "f"))
    set_delta(from_one[2], call_delta(1, '{"a":1}'))
    with pytest.raises(IndexError):
        sdk_final(sse_body(from_one))
    repeated = good_chunks()
    set_delta(repeated[2], call_delta(0, '{"a":1}', "call_1", "f"))
    assert sdk_summary(sdk_final(sse_body(repeated)))["calls"] == [("call_1call_1", "ff", '{"a":1}')]
    bad_finish = good_chunks()
    bad_finish[3]["choices"][0]["finish_reason"] = "end_turn"  # an Anthropic word leaking (Portkey#459)
    with pytest.raises(openai.APIResponseValidationError):
        sdk_final(sse_body(bad_finish))


# ==================================================================================================
# 1. Same-dialect round trips
# ==================================================================================================


@PROPERTY
@given(strat.request)
def test_request_round_trip_is_identity(obj):
    m = ChatCompletionRequest.parse(obj)
    assert_strict_equal(conv.request_from_ir(conv.request_to_ir(m)).to_json(), obj)


@PROPERTY
@given(strat.response)
def test_response_round_trip_is_identity(obj):
    m = ChatCompletionResponse.parse(obj)
    assert_strict_equal(conv.response_from_ir(conv.response_to_ir(m)).to_json(), obj)


def test_round_trip_property_can_fail():
    """A converter that forgets the vendor rest (as crabllm does outside the request) is caught."""
    obj = {"id": "x", "created": 1, "model": "m", "choices": [], "x_extra": None}
    r = conv.response_to_ir(ChatCompletionResponse.parse(obj))
    r.vendor.clear()
    with pytest.raises(AssertionError, match="x_extra"):
        assert_strict_equal(conv.response_from_ir(r).to_json(), obj)


def real_exchanges() -> tuple[strat.Exchange, ...]:
    require_real_traffic()
    return strat.real_exchanges()


#: Recorded replies that are not OpenAI JSON (pydantic-ai tests of a broken upstream); see test_types_openai.
NOT_OPENAI = {"openai/test_invalid_response#0", "openai/test_text_response#0"}


def is_error(body: Any) -> bool:
    return isinstance(body, dict) and "error" in body and "choices" not in body


def test_real_requests_and_responses_survive_the_ir():
    requests = responses = 0
    for ex in real_exchanges():
        ir_req = conv.request_to_ir(ChatCompletionRequest.parse(ex.request))
        assert_strict_equal(conv.request_from_ir(ir_req).to_json(), ex.request, ex.name)
        requests += 1
        if ex.name in NOT_OPENAI or isinstance(ex.response, str) or is_error(ex.response):
            continue
        ir_resp = conv.response_to_ir(ChatCompletionResponse.parse(ex.response))
        assert_strict_equal(conv.response_from_ir(ir_resp).to_json(), ex.response, ex.name)
        responses += 1
    assert requests > 150 and responses > 100


def real_streams() -> list[tuple[str, list[dict[str, Any]]]]:
    out = []
    for ex in real_exchanges():
        if isinstance(ex.response, str) and ex.response.lstrip().startswith("data:"):
            events = decode_all(ex.response.encode())
            assert is_done(events[-1]), f"{ex.name}: recorded stream without [DONE]"
            out.append((ex.name, [json.loads(e.data) for e in events if not is_done(e)]))
    return out


def test_real_streams_obey_the_ir_grammar_and_survive_a_round_trip():
    streams = real_streams()
    assert len(streams) > 20
    oracle_done: set[str] = set()
    for name, chunks in streams:
        events = to_ir(chunks)
        check_ir(events)
        first_id = next(c["id"] for c in chunks if c["choices"])
        assert events[0].id == first_id, name  # not the empty id of Azure's filter event
        again = from_ir(events)
        check_chunks(again)
        assert semantic(accumulate(to_ir(again))) == semantic(accumulate(events)), name
        cassette = name.split("#")[0]
        if cassette in oracle_done:  # the SDK takes ~0.5 ms a chunk: once per cassette (same shapes)
            continue
        oracle_done.add(cassette)
        strict = chunks[0]["object"] == "chat.completion.chunk"  # else Azure's filter event leads
        original = sdk_summary(sdk_final(sse_body(chunks), strict=strict))
        assert sdk_summary(sdk_final(sse_body(again), strict=strict)) == original, name
    assert len(oracle_done) >= 8


def test_azure_prompt_filter_chunk_is_kept_for_openai():
    """Azure sends a chunk with empty id/object and only prompt_filter_results before the message."""
    pre = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [{"prompt_index": 0}],
    }
    events = to_ir([pre, chunk({"role": "assistant", "content": "hi"}), chunk({}, "stop")])
    check_ir(events)
    assert events[0].id == "chatcmpl-1" and events[0].vendor["openai"]["pre"] == [pre]
    again = from_ir(events)
    assert again[0] == pre and again[1]["id"] == "chatcmpl-1"
    check_chunks(again[1:])
    assert sdk_summary(sdk_final(sse_body(again), strict=False))["content"] == "hi"  # the SDK skips it
    with pytest.raises(openai.APIResponseValidationError):  # and strict mode refuses it, as Azure's own
        sdk_final(sse_body(again))


# ==================================================================================================
# 2. Streams: OpenAI chunks → IR → OpenAI, and stream ≡ non-stream
# ==================================================================================================


@dataclass
class Turn:
    """The content of one assistant reply, and how a stream of it is cut into chunks."""

    reasoning: str
    content: str
    calls: list[tuple[str, str, str]]
    finish: str
    usage: dict[str, Any] | None
    cuts: Any  # a draw function: str → list of fragments
    interleave: bool
    empty_tool_calls: bool

    def response(self) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.reasoning:
            msg["reasoning_content"] = self.reasoning
        if self.calls:
            msg["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                for i, n, a in self.calls
            ]
        out = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "message": msg, "finish_reason": self.finish}],
        }
        if self.usage is not None:
            out["usage"] = self.usage
        return out

    def chunks(self) -> list[dict[str, Any]]:
        out = [chunk({"role": "assistant", "content": ""})]
        out += [chunk({"reasoning_content": f}) for f in self.cuts(self.reasoning)]
        texts = self.cuts(self.content)
        for n, f in enumerate(texts):
            # LiteLLM#25172: a `tool_calls: []` next to text must not drop the text
            delta = {"content": f, "tool_calls": []} if self.empty_tool_calls and n == 0 else {"content": f}
            out.append(chunk(delta))
        streams = []
        for index, (id_, name, args) in enumerate(self.calls):
            frags = self.cuts(args) or [""]
            first = chunk(call_delta(index, frags[0], id_, name))
            streams.append([first] + [chunk(call_delta(index, f)) for f in frags[1:]])
        if self.interleave:  # parallel calls whose fragments alternate
            while any(streams):
                for s in streams:
                    if s:
                        out.append(s.pop(0))
        else:
            out += [c for s in streams for c in s]
        out.append(chunk({}, self.finish))
        if self.usage is not None:
            out.append({**chunk(None), "usage": self.usage})
        return out


@st.composite
def cutter(draw: st.DrawFn) -> Any:
    seed = draw(st.lists(st.integers(0, 4), min_size=1, max_size=8))

    def cut(s: str) -> list[str]:
        pieces, i, k = [], 0, 0
        while i < len(s):
            step = seed[k % len(seed)]
            pieces.append(s[i : i + step])  # a 0 step makes an empty fragment
            i += step
            k += 1
            if k > 4 * len(s) + 8:
                pieces.append(s[i:])
                break
        return pieces

    return cut


turns = st.builds(
    Turn,
    reasoning=st.one_of(st.just(""), text),
    content=st.one_of(st.just(""), text),
    calls=st.lists(
        st.tuples(strat.call_ids, strat.ident, strat.arguments),
        max_size=3,
    ),
    finish=st.sampled_from(["stop", "length", "tool_calls", "content_filter"]),
    usage=st.one_of(st.none(), strat.usage),
    cuts=cutter(),
    interleave=st.booleans(),
    empty_tool_calls=st.booleans(),
)


@STREAMS
@given(turns)
def test_stream_equals_non_stream(turn):
    events = to_ir(turn.chunks())
    check_ir(events)
    assert semantic(accumulate(events)) == semantic(conv.response_to_ir(turn.response()))


@STREAMS
@given(turns)
def test_stream_round_trip_keeps_the_content_the_sdk_sees(turn):
    again = from_ir(to_ir(turn.chunks()))
    check_chunks(again)
    got = sdk_summary(sdk_final(sse_body(again)))
    want = sdk_summary(sdk_final(sse_body(turn.chunks())))
    assert got == want
    # and it is the content of the non-stream reply
    assert got["content"] == (turn.content or None) and got["reasoning"] == (turn.reasoning or None)
    assert got["calls"] == turn.calls and got["finish"] == turn.finish


def test_stream_equals_non_stream_can_fail():
    """A converter that loses one argument fragment (LiteLLM#29491's symptom) is caught."""
    turn = Turn(
        "",
        "",
        [("call_1", "f", '{"city":"Paris"}')],
        "tool_calls",
        None,
        lambda s: [s[:5], s[5:]],
        False,
        False,
    )
    chunks = turn.chunks()
    assert semantic(accumulate(to_ir(chunks))) == semantic(conv.response_to_ir(turn.response()))
    del chunks[-2]  # the last argument fragment
    assert semantic(accumulate(to_ir(chunks))) != semantic(conv.response_to_ir(turn.response()))


@settings(max_examples=30, deadline=None)  # a list of generated chunks is the dearest thing drawn here
@given(st.lists(st.one_of(strat.chunk, strat.error_body), max_size=4))
def test_any_chunk_sequence_gives_a_grammatical_ir_stream(items):
    s = conv.StreamToIR()
    events = [e for item in items for e in s.feed(item)] + s.close()
    if events:
        check_ir(events, complete=any(isinstance(e, ir.End) for e in events))


@st.composite
def ir_soup(draw: st.DrawFn) -> list[ir.StreamEvent]:
    """IR events in any order an upstream (or a buggy converter before us) could produce."""
    pool: list[ir.StreamEvent] = [ir.MessageStart(id="msg_x", model="x")] if draw(st.booleans()) else []
    for index in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["text", "reasoning", "call", "other"]))
        part = {
            "text": ir.Text(text=draw(st.sampled_from(["", "a"]))),
            "reasoning": ir.Reasoning(text=""),
            "call": ir.ToolCall(id=f"call_{index}", name="f", arguments=draw(st.sampled_from(["", "{"]))),
            "other": ir.Other(dialect="anthropic", data={"type": "server_tool_use"}),
        }[kind]
        pool.append(ir.BlockStart(index=index, part=part))
        for _ in range(draw(st.integers(0, 3))):
            field = draw(st.sampled_from(["text", "arguments", "reasoning", "signature", "citation"]))
            value = {} if field == "citation" else draw(st.sampled_from(["", "x", "}"]))
            pool.append(ir.BlockDelta(index=index, **{field: value}))
        pool.append(ir.BlockStop(index=index))
    pool += [ir.UsageUpdate(usage=ir.Usage(input_tokens=1, output_tokens=2))] * draw(st.integers(0, 2))
    pool += [
        ir.Finish(stop=ir.Stop(reason=draw(st.sampled_from(["end_turn", "tool_use", "max_tokens"]))))
    ] * draw(st.integers(0, 2))
    return [*draw(st.permutations(pool)), ir.End()]


@STREAMS
@given(ir_soup())
def test_any_ir_event_order_gives_a_valid_openai_stream(events):
    chunks = from_ir(events)
    check_chunks(chunks)
    sdk_final(sse_body(chunks))  # strict: the SDK accepts it


def test_truncated_stream_has_no_end():
    """D6 #35: an upstream that stops before its finish reason must not look like a clean end."""
    s = conv.StreamToIR()
    events = s.feed(chunk({"role": "assistant", "content": "Hel"})) + s.feed(chunk({"content": "lo"}))
    events += s.close()
    check_ir(events, complete=False)
    assert not any(isinstance(e, ir.End | ir.Finish) for e in events)
    with pytest.raises(AssertionError, match="truncated"):
        check_ir(events)
    with pytest.raises(ProviderError) as info:
        from_ir(events)
    assert info.value.kind == "transport" and info.value.reason == "disconnect"


def test_mid_stream_error_becomes_stream_error_and_raises_on_the_way_out():
    body = {"error": {"message": "overloaded", "type": "server_error", "param": None, "code": None}}
    s = conv.StreamToIR()
    events = s.feed(chunk({"role": "assistant", "content": "x"})) + s.feed(body) + s.close()
    assert isinstance(events[-1], ir.StreamError) and events[-1].message == "overloaded"
    assert not any(isinstance(e, ir.End) for e in events)
    with pytest.raises(ProviderError) as info:
        from_ir(events)
    assert info.value.kind == "upstream" and info.value.error_type == "server_error"
    assert json.loads(info.value.body) == body


def test_reasoning_refusal_and_usage_chunks_map_to_blocks():
    chunks = [
        chunk({"role": "assistant", "content": None}, system_fingerprint="fp_1"),
        chunk({"reasoning_content": "think"}),
        chunk({"reasoning": " more"}),  # vLLM's name for it
        chunk({"content": "Hi"}),
        chunk({"refusal": "No."}),
        chunk({}, "stop"),
        {**chunk(None), "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17,
                                  "prompt_tokens_details": {"cached_tokens": 4},
                                  "completion_tokens_details": {"reasoning_tokens": 5}}},
    ]  # fmt: skip
    events = to_ir(chunks)
    check_ir(events)
    assert events[0].vendor["openai"] == {"system_fingerprint": "fp_1"}
    r = accumulate(events)
    assert semantic(r)["parts"] == [("reasoning", "think more", None), ("text", "Hi"), ("refusal", "No.")]
    assert r.usage == ir.Usage(
        input_tokens=6, output_tokens=2, cache_read_tokens=4, reasoning_tokens=5, vendor=r.usage.vendor
    )
    assert [type(e).__name__ for e in events[-3:]] == ["Finish", "UsageUpdate", "End"]
    again = from_ir(events)
    check_chunks(again)
    assert all(c["system_fingerprint"] == "fp_1" for c in again)
    assert again[-1]["usage"] == chunks[-1]["usage"]
    final = sdk_final(sse_body(again)).choices[0].message
    assert (final.content, final.refusal, final.reasoning_content) == ("Hi", "No.", "think more")


# ==================================================================================================
# 3. Awkward IR streams from other dialects → OpenAI chunks
# ==================================================================================================


def start(model: str = "claude-x") -> ir.MessageStart:
    return ir.MessageStart(id="msg_01", model=model, usage=ir.Usage(input_tokens=12))


def text_block(index: int, *pieces: str) -> list[ir.StreamEvent]:
    return [
        ir.BlockStart(index=index, part=ir.Text(text="")),
        *(ir.BlockDelta(index=index, text=p) for p in pieces),
        ir.BlockStop(index=index),
    ]


def call_block(index: int, id: str, name: str, *pieces: str, sig: str | None = None) -> list[ir.StreamEvent]:
    return [
        ir.BlockStart(index=index, part=ir.ToolCall(id=id, name=name, arguments="", signature=sig)),
        *(ir.BlockDelta(index=index, arguments=p) for p in pieces),
        ir.BlockStop(index=index),
    ]


def anthropic_stop(word: str) -> ir.Finish:
    reason = {"end_turn": "end_turn", "tool_use": "tool_use", "max_tokens": "max_tokens"}[word]
    return ir.Finish(stop=ir.Stop(reason=reason, raw=word, dialect="anthropic"))


def translate(events: list[ir.StreamEvent]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    chunks = from_ir(events)
    check_chunks(chunks)
    return chunks, sdk_summary(sdk_final(sse_body(chunks)))


@STREAMS
@given(value=strat.json_objects, cut=cutter(), empty_first=st.booleans())
def test_argument_fragments_split_anywhere(value, cut, empty_first):
    args = json.dumps(value)
    pieces = ([""] if empty_first else []) + cut(args)
    events = [start(), *call_block(0, "toolu_1", "f", *pieces), anthropic_stop("tool_use"), ir.End()]
    _, got = translate(events)
    assert got["calls"] == [("toolu_1", "f", args)] and json.loads(got["calls"][0][2]) == value


def test_text_then_tool_then_text():
    events = [
        start(),
        *text_block(0, "Let me ", "look."),
        *call_block(1, "toolu_1", "search", "", '{"q":', '"x"}'),
        *text_block(2, " Done."),
        ir.UsageUpdate(usage=ir.Usage(input_tokens=12, output_tokens=30)),
        anthropic_stop("tool_use"),
        ir.End(),
    ]
    chunks, got = translate(events)
    assert got["content"] == "Let me look. Done."
    assert got["calls"] == [("toolu_1", "search", '{"q":"x"}')] and got["finish"] == "tool_calls"
    calls = [c for ch in chunks for choice in ch["choices"] for c in choice["delta"].get("tool_calls") or ()]
    assert {c["index"] for c in calls} == {0}  # the Anthropic block index 1 does not leak (new-api PR#5229)


def test_two_parallel_calls_behind_thinking_and_text_are_numbered_from_zero():
    events = [
        start(),
        ir.BlockStart(index=0, part=ir.Reasoning()),
        ir.BlockDelta(index=0, reasoning="plan"),
        ir.BlockDelta(index=0, signature="EqQBsig"),
        ir.BlockStop(index=0),
        *text_block(1, "Checking both."),
        ir.BlockStart(index=2, part=ir.ToolCall(id="toolu_a", name="weather", arguments="")),
        ir.BlockStart(index=3, part=ir.ToolCall(id="toolu_b", name="weather", arguments="")),
        ir.BlockDelta(index=3, arguments='{"city":'),
        ir.BlockDelta(index=2, arguments='{"city":'),
        ir.BlockDelta(index=2, arguments='"Paris"}'),
        ir.BlockDelta(index=3, arguments='"Oslo"}'),
        ir.BlockStop(index=2),
        ir.BlockStop(index=3),
        anthropic_stop("tool_use"),
        ir.End(),
    ]
    chunks, got = translate(events)
    assert got["reasoning"] == "plan" and got["content"] == "Checking both."
    assert got["calls"] == [
        ("toolu_a", "weather", '{"city":"Paris"}'),
        ("toolu_b", "weather", '{"city":"Oslo"}'),
    ]
    assert "EqQBsig" not in json.dumps(chunks)  # a thinking signature has no OpenAI slot (LOSSY)


def test_usage_only_at_the_end_is_one_last_chunk_without_double_counting():
    events = [
        start(),
        *text_block(0, "ok"),
        anthropic_stop("end_turn"),
        ir.UsageUpdate(
            usage=ir.Usage(input_tokens=10, output_tokens=3, cache_read_tokens=100, cache_write_tokens=20)
        ),
        ir.End(),
    ]
    chunks, got = translate(events)
    assert chunks[-1]["choices"] == [] and got["finish"] == "stop"
    assert got["usage"] == {
        "prompt_tokens": 130,
        "completion_tokens": 3,
        "total_tokens": 133,
        "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 20},
    }
    assert from_ir(events, include_usage=False)[-1]["choices"] != []


def test_usage_from_message_start_is_not_lost_when_the_update_omits_it():
    """D3 #23/#24: Anthropic states input tokens in message_start; the final update may only say output."""
    events = [
        start(),
        *text_block(0, "ok"),
        ir.UsageUpdate(usage=ir.Usage(output_tokens=7)),
        anthropic_stop("end_turn"),
        ir.End(),
    ]
    assert translate(events)[1]["usage"] == {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
    events = [start(), *text_block(0, "ok"), anthropic_stop("end_turn"), ir.End()]
    assert translate(events)[1]["usage"] == {"prompt_tokens": 12, "completion_tokens": 0, "total_tokens": 12}


def test_upstream_without_finish_reason_still_gets_exactly_one():
    events = [start(), *text_block(0, "partial"), ir.End()]
    _, got = translate(events)
    assert got["finish"] == "stop" and got["content"] == "partial"
    events = [start(), *call_block(0, "c1", "f", "{}"), ir.End()]
    assert translate(events)[1]["finish"] == "tool_calls"


def test_gemini_stop_with_calls_becomes_tool_calls_but_max_tokens_stays_length():
    """D2 #15: Gemini ends a function call with STOP; an OpenAI client needs tool_calls."""
    gemini_stop = ir.Finish(stop=ir.Stop(reason="end_turn", raw="STOP", dialect="gemini"))
    events = [start("gemini-x"), *call_block(0, "", "f", '{"a":1}', sig="c2ln"), gemini_stop, ir.End()]
    chunks, got = translate(events)
    assert got["finish"] == "tool_calls"
    first = chunks[1]["choices"][0]["delta"]["tool_calls"][0]
    assert first["extra_content"] == {"google": {"thought_signature": "c2ln"}}
    back = accumulate(to_ir(chunks))
    assert back.content[0].signature == "c2ln"  # Google's convention reads back into the IR
    events = [start(), *call_block(0, "c1", "f", '{"a":'), anthropic_stop("max_tokens"), ir.End()]
    assert translate(events)[1]["finish"] == "length"


def test_events_before_message_start_and_after_finish_keep_the_grammar():
    events = [*text_block(0, "a"), anthropic_stop("end_turn"), *text_block(1, "late"), ir.End()]
    chunks, got = translate(events)
    assert got["content"] == "a" and chunks[0]["id"].startswith("chatcmpl-")


# ==================================================================================================
# 4. Requests and responses: OpenAI → IR specifics, and IR from other dialects → OpenAI
# ==================================================================================================


def test_request_to_ir_mapping():
    req = conv.request_to_ir(
        {
            "model": "gpt-x",
            "messages": [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "Look", "cache_control": {"type": "ephemeral"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                    {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"}},
                    {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                ]},
                {"role": "system", "content": "Mid-conversation system."},
                {"role": "assistant", "reasoning_content": "r", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1 }'},
                     "extra_content": {"google": {"thought_signature": "sig"}}},
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "42"},
            ],
            "max_tokens": 100,
            "stop": "END",
            "reasoning_effort": "low",
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}}},
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )  # fmt: skip
    assert [m.role for m in req.messages] == ["developer", "user", "system", "assistant", "tool"]
    assert req.system is None
    text, data_image, url_image, pdf, audio = req.messages[1].content
    assert text.cache_control == {"type": "ephemeral"}
    assert (data_image.media_type, data_image.data, data_image.detail) == ("image/png", "iVBO", "low")
    assert url_image.url == "https://x.test/a.png" and url_image.data is None
    assert (pdf.media_type, pdf.data, pdf.filename) == ("application/pdf", "JVBE", "a.pdf")
    assert (audio.data, audio.format) == ("UklG", "wav")
    reasoning, call = req.messages[3].content
    assert reasoning.text == "r" and (call.id, call.arguments, call.signature) == (
        "call_1",
        '{"a": 1 }',
        "sig",
    )
    assert req.messages[4].content == [  # named after the call it answers, for Gemini
        ir.ToolResult(call_id="call_1", content=[ir.Text(text="42")], shorthand=True, name="f")
    ]
    assert (req.max_tokens, req.stop, req.stop_shorthand) == (100, ["END"], True)
    assert req.thinking == ir.Thinking(effort="low", mode="enabled")
    assert req.tool_choice == ir.ToolChoice(mode="tool", name="f")
    assert req.response_format == {"type": "json_schema", "name": "out", "schema": {"type": "object"}}
    assert (req.stream, req.include_usage) == (True, True)
    assert req.vendor["openai"]["max_tokens_field"] == "max_tokens"


def anthropic_shaped_request() -> ir.Request:
    return ir.Request(
        model="claude-x",
        system=[ir.Text(text="You are terse.", cache_control={"type": "ephemeral"})],
        system_shorthand=False,
        max_tokens=2048,
        top_k=5,
        stop=["\n\nHuman:"],
        stream=True,
        thinking=ir.Thinking(mode="enabled", budget_tokens=5000),
        tools=[
            ir.Tool(name="look", description="d", parameters={"type": "object"}, cache_control={"type": "x"})
        ],
        tool_choice=ir.ToolChoice(mode="required"),
        response_format={"type": "json_schema", "schema": {"type": "object"}},
        messages=[
            ir.Message(role="user", content=[ir.Text(text="hi")], shorthand=True),
            ir.Message(
                role="assistant",
                content=[
                    ir.Reasoning(text="hmm", signature="sig"),
                    ir.Other(dialect="anthropic", data={"type": "server_tool_use", "id": "srvtoolu_1"}),
                    ir.Text(text="Looking."),
                    ir.ToolCall(id="toolu_1", name="look", arguments='{"x":1}'),
                    ir.ToolCall(id="toolu_2", name="look", arguments="{}"),
                ],
            ),
            ir.Message(
                role="user",
                content=[
                    ir.ToolResult(call_id="toolu_1", content=[ir.Text(text="a")], shorthand=True),
                    ir.ToolResult(
                        call_id="toolu_2",
                        content=[ir.Text(text="see image"), ir.Image(media_type="image/png", data="iVBO")],
                        is_error=True,
                    ),
                    ir.Text(text="Now answer."),
                ],
            ),
        ],
    )


def test_request_from_anthropic_shaped_ir():
    out = conv.request_from_ir(anthropic_shaped_request()).to_json()
    assert out["messages"] == [
        {"role": "system", "content": [{"type": "text", "text": "You are terse."}]},
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "Looking.",
            "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "look", "arguments": '{"x":1}'}},
                {"id": "toolu_2", "type": "function", "function": {"name": "look", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "a"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "see image"}]},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                {"type": "text", "text": "Now answer."},
            ],
        },
    ]
    assert out["max_completion_tokens"] == 2048 and "top_k" not in out
    assert out["stop"] == ["\n\nHuman:"] and out["reasoning_effort"] == "high"
    assert out["stream_options"] == {"include_usage": True}  # D3 #26: ask for the usage chunk
    assert out["tools"] == [
        {
            "type": "function",
            "function": {"name": "look", "description": "d", "parameters": {"type": "object"}},
        }
    ]
    assert out["tool_choice"] == "required"
    assert out["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": {"type": "object"}},
    }
    assert "cache_control" not in json.dumps(out) and "hmm" not in json.dumps(out)


@pytest.mark.parametrize(
    ("thinking", "effort"),
    [
        (ir.Thinking(mode="disabled"), "none"),
        (ir.Thinking(mode="enabled", budget_tokens=1024), "low"),
        (ir.Thinking(mode="enabled", budget_tokens=0), "none"),
        (ir.Thinking(mode="adaptive"), None),
        (ir.Thinking(effort="xhigh", budget_tokens=1), "xhigh"),
    ],
)
def test_thinking_to_reasoning_effort(thinking, effort):
    out = conv.request_from_ir(ir.Request(model="m", thinking=thinking)).to_json()
    assert out.get("reasoning_effort") == effort


@pytest.mark.parametrize(
    "part",
    [ir.Image(file_id="file_1"), ir.File(url="https://x.test/a.pdf"), ir.Audio(data="UklG")],
)
def test_parts_openai_cannot_address_are_refused(part):
    r = ir.Request(model="m", messages=[ir.Message(role="user", content=[part])])
    with pytest.raises(ProviderError) as info:
        conv.request_from_ir(r)
    assert info.value.kind == "invalid_request"


def test_response_from_gemini_and_anthropic_shaped_ir():
    gemini = ir.Response(
        id="resp_1",
        model="gemini-x",
        content=[ir.Reasoning(text="t"), ir.ToolCall(id="", name="f", arguments="{}", signature="c2ln")],
        stop=ir.Stop(reason="end_turn", raw="STOP", dialect="gemini"),
        usage=ir.Usage(input_tokens=5, output_tokens=2, reasoning_tokens=9),
    )
    out = conv.response_from_ir(gemini).to_json()
    choice = out["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "reasoning_content": "t",
        "tool_calls": [
            {
                "id": "",
                "type": "function",
                "function": {"name": "f", "arguments": "{}"},
                "extra_content": {"google": {"thought_signature": "c2ln"}},
            }
        ],
    }
    assert out["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 11,
        "total_tokens": 16,
        "completion_tokens_details": {"reasoning_tokens": 9},
    }
    assert isinstance(out["created"], int) and out["object"] == "chat.completion"
    openai.types.chat.ChatCompletion.model_validate(out)  # the SDK's own type accepts it
    anthropic = ir.Response(
        id="msg_1",
        model="claude-x",
        content=[ir.Text(text="a"), ir.ToolCall(id="t", name="f", arguments="{}"), ir.Text(text="b")],
        stop=ir.Stop(reason="stop_sequence", raw="stop_sequence", dialect="anthropic", sequence="###"),
        usage=ir.Usage(input_tokens=3, output_tokens=4, cache_read_tokens=10, cache_write_tokens=6),
    )
    out = conv.response_from_ir(anthropic).to_json()
    assert (
        out["choices"][0]["message"]["content"] == "ab" and out["choices"][0]["finish_reason"] == "tool_calls"
    )
    assert out["usage"]["prompt_tokens"] == 19 and out["usage"]["prompt_tokens_details"] == {
        "cached_tokens": 10,
        "cache_write_tokens": 6,
    }
    anthropic.content = [ir.Text(text="a")]
    assert conv.response_from_ir(anthropic).to_json()["choices"][0]["finish_reason"] == "stop"


@settings(max_examples=100, deadline=None)
@given(strat.usage)
def test_usage_parts_do_not_overlap(u):
    usage = conv.response_to_ir({"id": "x", "created": 1, "model": "m", "choices": [], "usage": u}).usage
    assert usage.prompt_total == u["prompt_tokens"] and usage.completion_total == u["completion_tokens"]
    details = u.get("prompt_tokens_details") or {}
    assert usage.cache_read_tokens == details.get("cached_tokens")  # absent stays absent
    assert usage.reasoning_tokens == (u.get("completion_tokens_details") or {}).get("reasoning_tokens")


def test_response_choices_after_the_first_and_refusal():
    obj = {
        "id": "x",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": None, "refusal": "I can't."}, "finish_reason": "stop"},
            {"index": 1, "message": {"role": "assistant", "content": "B"}, "finish_reason": "stop"},
        ],
    }  # fmt: skip
    r = conv.response_to_ir(obj)
    assert semantic(r)["parts"] == [("refusal", "I can't.")]
    assert r.vendor["openai"]["choices"] == obj["choices"][1:]
    r.vendor.clear()  # as another dialect sees it: one candidate, the refusal as text
    out = conv.response_from_ir(r).to_json()
    assert len(out["choices"]) == 1 and out["choices"][0]["message"]["content"] is None


# ==================================================================================================
# The ledger
# ==================================================================================================


def test_lossy_ledger_is_well_formed():
    assert conv.LOSSY and all(isinstance(row, Lossy) for row in conv.LOSSY)
    for row in conv.LOSSY:
        assert "openai" in (row.source, row.target), row
        assert row.source in ("openai", "*") and row.target in ("openai", "*", "anthropic", "gemini"), row
        assert row.field and len(row.reason) > 10, row
    assert len({(r.source, r.target, r.field) for r in conv.LOSSY}) == len(conv.LOSSY)


def test_translated_text_turns_are_written_plainly_and_anything_more_takes_the_full_path():
    """The turns request_json_from_ir writes without the general bookkeeping (one text, or an assistant's
    texts) give what the general path gives; a name, another part or a kept OpenAI entry goes the full way."""
    call = ir.ToolCall(id="c1", name="f", arguments="{}")
    messages = [
        ir.Message(role="user", content=[ir.Text(text="short")], shorthand=True),
        ir.Message(role="user", content=[ir.Text(text="listed")]),
        ir.Message(role="user", content=[ir.Text(text="a"), ir.Text(text="b")]),
        ir.Message(role="user", content=[ir.Text(text="named")], shorthand=True, name="ann"),
        ir.Message(role="assistant", content=[ir.Text(text="one "), ir.Text(text="two")]),
        ir.Message(role="assistant", content=[ir.Text(text="named")], name="bot"),
        ir.Message(role="assistant", content=[ir.Text(text="calling"), call]),
        ir.Message(role="assistant", content=[ir.Text(text="no", vendor={"openai": {"refusal": "field"}})]),
        ir.Message(role="assistant", content=[call]),
        ir.Message(role="assistant", content=[call, ir.Text(text="after")]),
        ir.Message(role="assistant", content=[ir.Reasoning(text="thought"), call]),
        ir.Message(
            role="user", content=[ir.ToolResult(call_id="c1", content=[ir.Text(text="r")], shorthand=True)]
        ),
        ir.Message(role="user", content=[ir.ToolResult(call_id="c1", content=[ir.Text(text="r")])]),
    ]
    body = conv.request_json_from_ir(ir.Request(model="m", messages=messages, vendor={"anthropic": {}}))
    written_call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    assert body["messages"] == [
        {"role": "user", "content": "short"},
        {"role": "user", "content": [{"type": "text", "text": "listed"}]},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "user", "content": "named", "name": "ann"},
        {"role": "assistant", "content": "one two"},
        {"role": "assistant", "content": "named", "name": "bot"},
        {
            "role": "assistant",
            "content": "calling",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "assistant", "content": ""},  # a refusal is written back to OpenAI only (same dialect)
        {"role": "assistant", "tool_calls": [written_call]},
        {"role": "assistant", "content": "after", "tool_calls": [written_call]},
        {"role": "assistant", "tool_calls": [written_call]},  # reasoning is not sent in a request
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "r"}]},
    ]


def test_reading_a_reply_leaves_the_callers_dict_as_it_was():
    """The reply is copied one level at a time (each object taken apart is a copy): the caller's dict,
    nested objects included, is never changed, and the same-dialect round trip is still exact."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m", "x_top": {"a": [1]},
        "choices": [
            {
                "index": 0, "finish_reason": "tool_calls", "logprobs": None,
                "message": {
                    "role": "assistant", "content": "hi", "x_msg": 1,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}", "x_fn": 2}},
                        {"id": "c2", "type": "custom", "custom": {"name": "g", "input": "x"}},
                    ],
                },
            },
            {"index": 1, "finish_reason": "stop", "message": {"role": "assistant", "content": "other"}},
        ],
        "usage": {
            "prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8,
            "prompt_tokens_details": {"cached_tokens": 2, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 1, "x_detail": 3},
        },
    }  # fmt: skip
    before = json.loads(json.dumps(body))
    response = conv.response_to_ir(body)
    assert body == before
    assert conv.response_json_from_ir(response) == before
    assert body == before


def test_a_dict_body_is_checked_without_building_its_model_and_still_refused_when_malformed(monkeypatch):
    reply = {
        "id": "r1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }  # fmt: skip
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    built: list[str] = []
    for model in (ChatCompletionResponse, ChatCompletionRequest):
        original = model.parse.__func__
        monkeypatch.setattr(
            model,
            "parse",
            classmethod(lambda cls, data, f=original: built.append(cls.__name__) or f(cls, data)),
        )
    assert conv.response_to_ir(reply).content == [ir.Text(text="hi")]
    assert conv.request_to_ir(request).messages[0].content == [ir.Text(text="hi")]
    assert built == []  # Wire.check validated them: no model asked for
    with pytest.raises(ProviderError) as caught:
        conv.response_to_ir({**reply, "created": "yesterday"})
    assert "ChatCompletionResponse: field created" in caught.value.message and built == [
        "ChatCompletionResponse"
    ]
