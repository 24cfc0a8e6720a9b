"""The JSON-out converters and ``providers.translate`` (wire JSON in → wire JSON out, output not validated
again): the JSON they build is exactly what the validated typed path gives, and it is valid wire JSON.
Also the Gemini camelCase-only fast validator: same models as the full path, snake_case still remembered.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from providers import translate
from providers.convert import anthropic as anthropic_convert
from providers.convert import gemini as gemini_convert
from providers.convert import openai as openai_convert
from providers.errors import ProviderError
from providers.types import anthropic as anthropic_wire
from providers.types import gemini as gemini_wire
from providers.types import openai as openai_wire
from providers.types._base import Wire
from tests.strategies import anthropic as anthropic_strat
from tests.strategies import gemini as gemini_strat
from tests.strategies import openai as openai_strat
from tests.strategies.common import assert_strict_equal

CONVERT = {"openai": openai_convert, "anthropic": anthropic_convert, "gemini": gemini_convert}
REQUEST = {
    "openai": openai_wire.ChatCompletionRequest,
    "anthropic": anthropic_wire.MessagesRequest,
    "gemini": gemini_wire.GenerateContentRequest,
}
RESPONSE = {
    "openai": openai_wire.ChatCompletionResponse,
    "anthropic": anthropic_wire.MessagesResponse,
    "gemini": gemini_wire.GenerateContentResponse,
}
STRAT_REQUEST = {
    "openai": openai_strat.request,
    "anthropic": anthropic_strat.messages_request,
    "gemini": gemini_strat.request,
}
STRAT_RESPONSE = {
    "openai": openai_strat.response,
    "anthropic": anthropic_strat.messages_response,
    "gemini": gemini_strat.response,
}
DIALECTS = tuple(CONVERT)
MOVING = ("id", "created", "responseId")  # made up at conversion time when the source had none


def _steady(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: ("…" if k in MOVING else v) for k, v in obj.items()}


def _outcome(fn: Any) -> Any:
    """The value of ``fn()``, or the kind and message of the ProviderError it raised."""
    try:
        return fn()
    except ProviderError as exc:
        return ("raised", exc.kind, str(exc))


def _request_ir(dialect: str, obj: dict[str, Any]) -> Any:
    return translate.request_to_ir(dialect, obj, model="gemini-2.5-flash")


# --- JSON out ≡ typed out ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", DIALECTS)
@pytest.mark.parametrize("target", DIALECTS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_request_json_is_the_typed_request_as_json(source, target, data):
    obj = data.draw(STRAT_REQUEST[source])
    convert = CONVERT[target]
    r = _request_ir(source, obj)
    typed = _outcome(lambda: convert.request_from_ir(copy.deepcopy(r)).to_json())
    built = _outcome(lambda: convert.request_json_from_ir(copy.deepcopy(r)))
    assert_strict_equal(built, typed)
    if isinstance(built, dict):  # valid wire JSON, and exactly what the validated model gives back
        assert_strict_equal(REQUEST[target].parse(built).to_json(), built)
        json.dumps(built)


@pytest.mark.parametrize("source", DIALECTS)
@pytest.mark.parametrize("target", DIALECTS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_response_json_is_the_typed_response_as_json(source, target, data):
    obj = data.draw(STRAT_RESPONSE[source])
    convert = CONVERT[target]
    r = translate.response_to_ir(source, obj)  # once: ids made up for a reply without them differ per call
    typed = _outcome(lambda: convert.response_from_ir(copy.deepcopy(r)).to_json())
    built = _outcome(lambda: convert.response_json_from_ir(copy.deepcopy(r)))
    if isinstance(built, dict):
        assert_strict_equal(RESPONSE[target].parse(built).to_json(), built)
    if isinstance(built, dict) and isinstance(typed, dict):
        built, typed = _steady(built), _steady(typed)
    assert_strict_equal(built, typed)


def _stream_events(dialect: str, draw: Any) -> list[dict[str, Any]]:
    if dialect == "anthropic":
        return draw(anthropic_strat.message_streams())[1]
    if dialect == "gemini":
        return draw(gemini_strat.stream_items(finish=True))
    return draw(st.lists(openai_strat.chunk, max_size=6))


def _ir_events(source: str, events: list[dict[str, Any]]) -> list[Any]:
    """The IR events of an upstream stream, once (ids made up for a stream without them differ per run)."""
    into = CONVERT[source].StreamToIR()
    out = [ev for e in events for ev in into.feed(copy.deepcopy(e))]
    return out + into.close()


def _run(target: str, ir_events: list[Any], as_json: bool) -> Any:
    out_of = CONVERT[target].StreamFromIR(as_json=as_json)
    items: list[Any] = []
    try:
        for ev in copy.deepcopy(ir_events):
            items.extend(out_of.feed(ev))
        items.extend(out_of.close())
    except ProviderError as exc:
        items.append(("raised", exc.kind))
    return [_steady(i if as_json else i.to_json()) if not isinstance(i, tuple) else i for i in items]


@pytest.mark.parametrize("source", DIALECTS)
@pytest.mark.parametrize("target", DIALECTS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_stream_json_items_are_the_typed_items_as_json(source, target, data):
    ir_events = _ir_events(source, _stream_events(source, data.draw))
    assert_strict_equal(_run(target, ir_events, as_json=True), _run(target, ir_events, as_json=False))


# --- providers.translate ------------------------------------------------------------------------------

SMALL_REQUEST = {
    "openai": {"model": "m", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]},
    "anthropic": {"model": "m", "max_tokens": 50, "system": "Be brief.", "messages": [{"role": "user", "content": "Hi"}]},
    "gemini": {"systemInstruction": {"parts": [{"text": "Be brief."}]}, "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
}  # fmt: skip
SMALL_RESPONSE = {
    "openai": {
        "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    },
    "anthropic": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    },
    "gemini": {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Hello"}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1, "totalTokenCount": 4},
        "modelVersion": "m", "responseId": "r1",
    },
}  # fmt: skip


@pytest.mark.parametrize("client", DIALECTS)
@pytest.mark.parametrize("upstream", DIALECTS)
def test_translate_gives_valid_upstream_json_and_leaves_the_input_alone(client, upstream):
    body = copy.deepcopy(SMALL_REQUEST[client])
    out = translate.request(client, upstream, body, model="m")
    assert body == SMALL_REQUEST[client]  # the converters pop from a copy, never from the caller's dict
    assert REQUEST[upstream].parse(out).to_json() == out
    reply = copy.deepcopy(SMALL_RESPONSE[upstream])
    back = translate.response(upstream, client, reply)
    assert reply == SMALL_RESPONSE[upstream]
    assert RESPONSE[client].parse(back).to_json() == back
    text = json.dumps(back)
    assert "Hello" in text and ("Be brief." in json.dumps(out))
    # bytes in, the same JSON out
    assert translate.request(client, upstream, json.dumps(body).encode(), model="m") == out


@pytest.mark.parametrize("client", DIALECTS)
def test_translate_names_the_field_of_a_malformed_body(client):
    body = copy.deepcopy(SMALL_REQUEST[client])
    key = "contents" if client == "gemini" else "messages"
    body[key] = "not a list"
    with pytest.raises(ProviderError) as err:
        translate.request(client, "openai", body, model="m")
    assert err.value.kind == "decode" and key in str(err.value)
    with pytest.raises(ProviderError) as err:
        translate.request(client, "openai", b"{not json", model="m")
    assert err.value.kind == "decode"


def test_translate_refuses_an_unknown_dialect_and_a_gemini_request_without_model():
    with pytest.raises(ValueError, match="unknown dialect 'cohere'"):
        translate.request("cohere", "openai", {})
    with pytest.raises(ValueError, match="needs the model"):
        translate.request("gemini", "openai", SMALL_REQUEST["gemini"])


def test_translate_stream_ends_with_one_terminal_event():
    events = [
        {"type": "message_start", "message": {"id": "m1", "type": "message", "role": "assistant", "model": "m",
         "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 0}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": 2}},
        {"type": "message_stop"},
    ]  # fmt: skip
    stream = translate.Stream("anthropic", "openai")
    out = [item for e in events for item in stream.feed(e)] + stream.close()
    assert all(isinstance(item, dict) for item in out)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in out if c["choices"]) == "Hello"
    assert [c["choices"][0]["finish_reason"] for c in out if c["choices"]].count("stop") == 1
    assert out[-1]["choices"] == [] and out[-1]["usage"]["completion_tokens"] == 2
    for item in out:
        openai_wire.ChatCompletionChunk.parse(item)


# --- the Gemini camelCase-only fast validator ---------------------------------------------------------


def _full_parse(model: type[Wire], obj: dict[str, Any]) -> Any:
    return Wire.parse.__func__(model, obj)  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None)
@given(
    obj=st.one_of(
        gemini_strat.request.map(lambda o: ("request", o)),
        gemini_strat.response.map(lambda o: ("response", o)),
    )
)
def test_fast_and_full_gemini_parses_agree(obj):
    kind, body = obj
    model = REQUEST["gemini"] if kind == "request" else RESPONSE["gemini"]
    fast, full = model.parse(body), _full_parse(model, body)
    assert_strict_equal(fast.to_json(), full.to_json())
    assert_strict_equal(fast.to_json(), body)
    assert fast == full


def test_fast_gemini_validator_takes_camel_case_and_leaves_the_rest_to_the_full_path():
    model = gemini_wire.GenerateContentRequest
    camel = {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "object"}}]}],
        "generationConfig": {"maxOutputTokens": 5},
    }
    model.parse(camel)
    assert model.__dict__["_fast_validator"].validate_python(camel).to_json() == camel  # the fast path holds
    snake = {**camel, "generation_config": {"max_output_tokens": 5}}
    del snake["generationConfig"]
    with pytest.raises(ValidationError):  # the fast path refuses it
        model.__dict__["_fast_validator"].validate_python(snake)
    parsed = model.parse(snake)  # ... and the full path reads it, remembering the spelling
    assert parsed.generation_config is not None and parsed.generation_config.max_output_tokens == 5
    assert parsed.to_json() == snake
    unknown = {**camel, "futureField": {"x": 1}}
    assert model.parse(unknown).to_json() == unknown
    both = {**camel, "generation_config": {"max_output_tokens": 5}}
    with pytest.raises(ProviderError, match="given twice"):
        model.parse(both)
