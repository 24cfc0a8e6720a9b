"""Every converter through the one ``Dialect`` protocol (providers/convert/dialect.py), with the same
properties for each: the object satisfies the protocol with the protocol's own signatures; requests and
responses, representative and generated, come back exactly through the IR; a reply written as a stream
and read back accumulates to the reply (stream ≡ non-stream, docs/contract.md#equivalence-stream); a
translated stream accumulates to the translated reply; and the common ``model`` keyword and stream
options behave as the protocol says.
"""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import inputs
from harness.translation_doc import lossy_rows
from providers import translate
from providers.convert import anthropic, gemini, openai
from providers.convert.accumulate import accumulate
from providers.convert.dialect import Dialect, StreamFromIR, StreamToIR
from providers.types import ir
from providers.types.anthropic import MessagesRequest
from providers.types.openai import ChatCompletionRequest
from tests.strategies import anthropic as anthropic_strat
from tests.strategies import gemini as gemini_strat
from tests.strategies import openai as openai_strat
from tests.strategies.common import assert_strict_equal

MODULES = {"openai": openai, "anthropic": anthropic, "gemini": gemini}
NAMES = tuple(MODULES)
MODEL = "gemini-2.5-flash"  # the model a Gemini URL names
METHODS = (
    "request_to_ir",
    "request_from_ir",
    "response_to_ir",
    "response_from_ir",
    "stream_to_ir",
    "stream_from_ir",
)
GENERATED_REQUESTS = {
    "openai": openai_strat.request,
    "anthropic": anthropic_strat.messages_request,
    "gemini": gemini_strat.request,
}
GENERATED_RESPONSES = {
    "openai": openai_strat.response,
    "anthropic": anthropic_strat.messages_response,
    "gemini": gemini_strat.response,
}
REPRESENTATIVE_REQUESTS = {
    "openai": inputs.REQUESTS["openai"],
    "anthropic": inputs.REQUESTS["anthropic"],
    "gemini": inputs.REQUESTS["gemini"],
}
REPRESENTATIVE_RESPONSES = inputs.RESPONSES


def _dialect(name: str) -> Dialect:
    return translate.dialect(name)


# --- the objects satisfy the protocol ------------------------------------------------------------------


def protocol_mismatches(candidate: Any) -> list[str]:
    """What keeps ``candidate`` from implementing ``Dialect`` with the protocol's exact signatures."""
    problems = []
    if not isinstance(candidate, Dialect):
        problems.append("not a Dialect (a member is missing)")
    for method in METHODS:
        want = inspect.signature(getattr(Dialect, method))
        found = getattr(candidate, method, None)
        if found is None:
            continue
        got = inspect.signature(getattr(type(candidate), method))
        if [(p.name, p.kind, p.default) for p in got.parameters.values()] != [
            (p.name, p.kind, p.default) for p in want.parameters.values()
        ]:
            problems.append(f"{method}{got} is not {method}{want}")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_each_converter_module_exposes_one_dialect_with_the_protocol_signatures(name):
    module = MODULES[name]
    assert protocol_mismatches(module.DIALECT) == []
    assert module.DIALECT.name == module.NAME == name
    assert translate.dialect(name) is module.DIALECT
    assert list(module.DIALECT.lossy) == module.LOSSY
    assert module.LOSSY and all(name in (row.source, row.target) for row in module.LOSSY)
    assert all(row in lossy_rows() for row in module.LOSSY)  # the rows docs/translation.md renders


def test_the_protocol_check_fires_on_a_missing_method_and_a_different_signature():
    class Missing:
        name = "x"
        lossy = ()

        def request_to_ir(self, body: Any, *, model: str | None = None) -> Any: ...

    class Different(openai.OpenAIDialect):
        def request_to_ir(self, body: Any, model: str | None = None) -> Any:  # model not keyword-only
            return None

    assert "not a Dialect (a member is missing)" in protocol_mismatches(Missing())
    assert any(p.startswith("request_to_ir") for p in protocol_mismatches(Different()))


def test_translate_is_a_lookup_over_the_three_dialects():
    assert translate.DIALECTS == NAMES
    with pytest.raises(ValueError, match="unknown dialect 'cohere'"):
        translate.dialect("cohere")


# --- the model keyword and the stream options ------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_model_is_a_keyword_every_dialect_accepts_and_only_gemini_needs(name):
    body = REPRESENTATIVE_REQUESTS[name]
    named = _dialect(name).request_to_ir(copy.deepcopy(body), model="from-the-url")
    if name == "gemini":
        assert named.model == "from-the-url"
        with pytest.raises(ValueError, match="needs the model"):
            _dialect(name).request_to_ir(copy.deepcopy(body))
    else:  # the body names the model; the URL's is not read
        assert named.model == body["model"]
        assert _dialect(name).request_to_ir(copy.deepcopy(body)).model == body["model"]


@pytest.mark.parametrize("name", NAMES)
def test_every_dialect_accepts_every_stream_option(name):
    dialect = _dialect(name)
    writer = dialect.stream_from_ir(include_usage=False, message_id="msg_x", model="m", as_json=True)
    assert isinstance(writer, StreamFromIR) and isinstance(dialect.stream_to_ir(), StreamToIR)
    events = writer.feed(ir.MessageStart(id="r1", model="m")) + writer.feed(
        ir.Finish(stop=ir.Stop(reason="end_turn"))
    )
    events += writer.feed(ir.End()) + writer.close()
    assert events and all(isinstance(event, dict) for event in events)
    typed = dialect.stream_from_ir(as_json=False)
    items = typed.feed(ir.MessageStart(id="r1", model="m")) + typed.feed(ir.End()) + typed.close()
    assert items and not any(isinstance(item, dict) for item in items)


def test_openai_include_usage_and_anthropic_message_names_reach_the_writers():
    without = openai.DIALECT.stream_from_ir(include_usage=False)
    with_usage = openai.DIALECT.stream_from_ir(include_usage=True)
    start = ir.MessageStart(id="c1", model="m", usage=ir.Usage(input_tokens=1, output_tokens=2))
    for writer in (without, with_usage):
        writer.feed(start)
    assert not any("usage" in chunk for chunk in without.feed(ir.End()))
    assert any(chunk.get("usage") for chunk in with_usage.feed(ir.End()))
    named = anthropic.DIALECT.stream_from_ir(message_id="msg_named", model="claude-x")
    first = named.feed(ir.BlockStart(index=0, part=ir.Text(text="")))[0]
    assert first["message"]["id"] == "msg_named" and first["message"]["model"] == "claude-x"


def test_a_wire_model_of_another_dialect_is_refused():
    foreign = MessagesRequest.parse(REPRESENTATIVE_REQUESTS["anthropic"])
    with pytest.raises(TypeError, match="ChatCompletionRequest"):
        openai.DIALECT.request_to_ir(foreign)
    with pytest.raises(TypeError, match="GenerateContentRequest"):
        gemini.DIALECT.request_to_ir(
            ChatCompletionRequest.parse(REPRESENTATIVE_REQUESTS["openai"]), model="m"
        )
    own = MessagesRequest.parse(REPRESENTATIVE_REQUESTS["anthropic"])
    assert anthropic.DIALECT.request_to_ir(own).model == REPRESENTATIVE_REQUESTS["anthropic"]["model"]


# --- round trips through the IR ------------------------------------------------------------------------


def request_round_trip(name: str, body: dict[str, Any]) -> dict[str, Any]:
    dialect = _dialect(name)
    return dialect.request_from_ir(dialect.request_to_ir(copy.deepcopy(body), model=MODEL))


def response_round_trip(name: str, body: dict[str, Any]) -> dict[str, Any]:
    dialect = _dialect(name)
    return dialect.response_from_ir(dialect.response_to_ir(copy.deepcopy(body)))


@pytest.mark.parametrize("name", NAMES)
def test_representative_bodies_come_back_exactly(name):
    assert_strict_equal(
        request_round_trip(name, REPRESENTATIVE_REQUESTS[name]), REPRESENTATIVE_REQUESTS[name]
    )
    assert_strict_equal(
        response_round_trip(name, REPRESENTATIVE_RESPONSES[name]), REPRESENTATIVE_RESPONSES[name]
    )
    as_bytes = json.dumps(REPRESENTATIVE_REQUESTS[name]).encode()
    assert_strict_equal(
        _dialect(name).request_from_ir(_dialect(name).request_to_ir(as_bytes, model=MODEL)),
        REPRESENTATIVE_REQUESTS[name],
    )


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_generated_requests_come_back_exactly(name, data):
    body = data.draw(GENERATED_REQUESTS[name])
    assert_strict_equal(request_round_trip(name, body), body)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_generated_responses_come_back_exactly(name, data):
    body = data.draw(GENERATED_RESPONSES[name])
    assert_strict_equal(response_round_trip(name, body), body)


def test_the_round_trip_property_fires_when_leftovers_are_lost():
    """A converter that forgets what the IR has no slot for fails the round trip: the property can fail."""
    body = {**REPRESENTATIVE_REQUESTS["openai"], "x_unknown": {"kept": None}}
    request = openai.DIALECT.request_to_ir(copy.deepcopy(body))
    request.vendor.clear()
    with pytest.raises(AssertionError):
        assert_strict_equal(openai.DIALECT.request_from_ir(request), body)


# --- streams ≡ replies ---------------------------------------------------------------------------------


def ir_stream_of(response: ir.Response) -> list[ir.StreamEvent]:
    """The IR events a streaming upstream would send for ``response``: one block per part, each text,
    reasoning and argument in two fragments (so a writer must join them), then the finish and the end."""
    events: list[ir.StreamEvent] = [
        ir.MessageStart(id=response.id, model=response.model, usage=response.usage)
    ]
    for index, part in enumerate(response.content):
        if isinstance(part, ir.Text):
            events.append(ir.BlockStart(index=index, part=ir.Text(text="")))
            events += [ir.BlockDelta(index=index, text=piece) for piece in _halves(part.text)]
        elif isinstance(part, ir.Reasoning) and part.redacted is None:
            events.append(ir.BlockStart(index=index, part=ir.Reasoning(text="")))
            events += [ir.BlockDelta(index=index, reasoning=piece) for piece in _halves(part.text)]
            if part.signature is not None:
                events.append(ir.BlockDelta(index=index, signature=part.signature))
        elif isinstance(part, ir.ToolCall):
            start = ir.ToolCall(id=part.id, name=part.name, arguments="", signature=part.signature)
            events.append(ir.BlockStart(index=index, part=start))
            events += [ir.BlockDelta(index=index, arguments=piece) for piece in _halves(part.arguments)]
        else:
            continue
        events.append(ir.BlockStop(index=index))
    if response.usage is not None:
        events.append(ir.UsageUpdate(usage=response.usage))
    events.append(ir.Finish(stop=response.stop or ir.Stop(reason="end_turn")))
    events.append(ir.End())
    return events


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [piece for piece in (text[:middle], text[middle:]) if piece]


def essentials(response: ir.Response) -> dict[str, Any]:
    """What a stream must carry of a reply in every dialect: answer text, reasoning text, tool calls with
    their parsed arguments, the stop reason and the token counts."""
    calls = [(p.name, p.input) for p in response.content if isinstance(p, ir.ToolCall)]
    usage = response.usage or ir.Usage()
    return {
        "text": "".join(p.text for p in response.content if isinstance(p, ir.Text)),
        "reasoning": "".join(p.text for p in response.content if isinstance(p, ir.Reasoning)),
        "calls": calls,
        "stop": response.stop.reason if response.stop else None,
        "tokens": (usage.input_tokens, usage.output_tokens),
    }


def through_the_stream(name: str, response: ir.Response) -> ir.Response:
    """``response`` written as ``name``'s stream, chunk by chunk, and read back into one IR response."""
    dialect = _dialect(name)
    writer, reader = dialect.stream_from_ir(as_json=True), dialect.stream_to_ir()
    wire_events = [item for event in ir_stream_of(response) for item in writer.feed(event)] + writer.close()
    json.dumps(wire_events)  # plain JSON, ready for ``data:`` lines
    return accumulate([event for item in wire_events for event in reader.feed(item)] + reader.close())


@pytest.mark.parametrize("name", NAMES)
def test_a_representative_reply_streamed_chunk_wise_equals_the_reply(name):
    response = _dialect(name).response_to_ir(copy.deepcopy(REPRESENTATIVE_RESPONSES[name]))
    assert essentials(through_the_stream(name, response)) == essentials(response)


@st.composite
def replies(draw: st.DrawFn) -> ir.Response:
    """An IR reply with text, reasoning and tool calls in any order (what every dialect's stream holds)."""
    words = st.text(alphabet="abc xyz,.é中", min_size=1, max_size=12)
    kinds = draw(st.lists(st.sampled_from(["text", "call"]), min_size=1, max_size=4))
    content: list[ir.Part] = []
    for number, kind in enumerate(kinds):
        if kind == "text":
            content.append(ir.Text(text=draw(words)))
        else:
            arguments = json.dumps(
                draw(st.dictionaries(st.sampled_from("pqr"), st.integers(0, 9), max_size=2))
            )
            content.append(
                ir.ToolCall(id=f"call_{number}", name=draw(st.sampled_from(["f", "g"])), arguments=arguments)
            )
    stop = "tool_use" if any(isinstance(p, ir.ToolCall) for p in content) else "end_turn"
    usage = ir.Usage(input_tokens=draw(st.integers(0, 99)), output_tokens=draw(st.integers(0, 99)))
    return ir.Response(id="resp_1", model="m", content=content, stop=ir.Stop(reason=stop), usage=usage)


def _answer_only(response: ir.Response) -> dict[str, Any]:
    """OpenAI's stream joins an assistant turn's texts into one string and puts the calls after it."""
    found = essentials(response)
    return {**found, "calls": sorted(found["calls"], key=lambda call: (call[0], json.dumps(call[1])))}


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(response=replies())
def test_a_generated_reply_streamed_chunk_wise_equals_the_reply(name, response):
    assert _answer_only(through_the_stream(name, response)) == _answer_only(response)


@pytest.mark.parametrize("upstream", NAMES)
@pytest.mark.parametrize("client", NAMES)
def test_a_translated_stream_accumulates_to_the_translated_reply(upstream, client):
    reply = _dialect(upstream).response_to_ir(copy.deepcopy(REPRESENTATIVE_RESPONSES[upstream]))
    upstream_writer = _dialect(upstream).stream_from_ir(as_json=True)
    upstream_events = [
        item for e in ir_stream_of(reply) for item in upstream_writer.feed(e)
    ] + upstream_writer.close()
    stream = translate.Stream(upstream, client)
    client_events = [item for e in upstream_events for item in stream.feed(e)] + stream.close()
    reader = _dialect(client).stream_to_ir()
    streamed = accumulate([event for item in client_events for event in reader.feed(item)] + reader.close())
    translated = _dialect(client).response_to_ir(
        translate.response(upstream, client, REPRESENTATIVE_RESPONSES[upstream])
    )
    assert essentials(streamed) == essentials(translated)


def test_the_stream_property_fires_when_a_fragment_is_lost():
    response = _dialect("anthropic").response_to_ir(copy.deepcopy(REPRESENTATIVE_RESPONSES["anthropic"]))
    dialect = _dialect("anthropic")
    writer, reader = dialect.stream_from_ir(), dialect.stream_to_ir()
    events = [e for e in ir_stream_of(response) if not (isinstance(e, ir.BlockDelta) and e.text)][:]
    wire_events = [item for event in events for item in writer.feed(event)] + writer.close()
    lossy = accumulate([event for item in wire_events for event in reader.feed(item)] + reader.close())
    assert essentials(lossy) != essentials(response)
