"""The OpenAI wire models are lossless: parse then serialize gives back exactly the JSON given.

Property: for every model of providers/types/openai.py, on generated JSON with unknown ``x_*`` fields,
explicit nulls and absent optional fields, ``Model.parse(obj).to_json()`` is ``obj`` (type-strict: 1 is not
1.0). Real traffic: every recorded chat-completions body (request, response, SSE chunk, error) does too.
"""

from __future__ import annotations

import inspect
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict

import providers.types.openai as wire
from providers.errors import ProviderError
from providers.sse import decode_all, is_done
from providers.types._base import Wire
from tests.corpus import require_real_traffic
from tests.strategies import openai as strat
from tests.strategies.common import assert_strict_equal

#: The top-level wire objects, drawn often; every nested model is inside them and also drawn alone, less
#: often (hypothesis spends ~3 ms per drawn object, and this file must stay fast).
TOP = ["ChatCompletionRequest", "ChatCompletionResponse", "ChatCompletionChunk", "ErrorBody"]
NESTED = sorted(set(strat.MODELS) - set(TOP))


def test_every_wire_model_has_a_strategy():
    models = {
        name
        for name, obj in vars(wire).items()
        if inspect.isclass(obj) and issubclass(obj, Wire) and obj.__module__ == wire.__name__
    }
    assert models == set(strat.MODELS)


@pytest.mark.parametrize("name", TOP)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_parse_serialize_is_identity(name, data):
    obj = data.draw(strat.MODELS[name])
    model = getattr(wire, name)
    assert_strict_equal(model.parse(obj).to_json(), obj)
    from_bytes = model.parse(json.dumps(obj, ensure_ascii=False).encode())
    assert_strict_equal(from_bytes.to_json(), obj)
    assert_strict_equal(json.loads(from_bytes.to_bytes()), obj)


@pytest.mark.parametrize("name", NESTED)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_parse_serialize_is_identity_nested(name, data):
    obj = data.draw(strat.MODELS[name])
    assert_strict_equal(getattr(wire, name).parse(obj).to_json(), obj)


def test_shapes_that_must_survive():
    """The cases a lossy codec gets wrong (docs/contract.md#crabllm-strict-decoding,
    docs/contract.md#crabllm-null), written out."""
    body = {
        "model": "m",
        "messages": [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": ""}}],
            },
            {
                "role": "user",
                "content": [{"type": "input_video", "video": {"url": "u"}}, {"type": "text", "text": ""}],
            },
            {"role": "x_new_role", "content": []},
        ],
        "temperature": 1,
        "top_p": 0.5,
        "x_vendor": {"nested": [None, 1.0]},
    }
    req = wire.ChatCompletionRequest.parse(body)
    assert_strict_equal(req.to_json(), body)
    assert type(req.messages[1].content[0]) is wire.OtherPart  # an unknown part type is kept, not rejected
    assert req.to_json()["messages"][0]["content"] is None  # null is not folded into absent
    assert "type" not in req.to_json()["messages"][0]["tool_calls"][0]  # a default is not written


def test_broken_model_fails_the_property():
    """The assertion can fail: a model that drops unknown fields, or turns 1 into 1.0, is caught."""

    class Dropping(wire.TextPart):
        model_config = ConfigDict(extra="ignore")

    obj = {"type": "text", "text": "hi", "x_keep": 1}
    with pytest.raises(AssertionError, match="keys differ"):
        assert_strict_equal(Dropping.parse(obj).to_json(), obj)

    class Floating(Wire):
        temperature: float

    with pytest.raises(AssertionError, match="got float"):
        assert_strict_equal(
            Floating.model_validate({"temperature": 1}, strict=False).to_json(), {"temperature": 1}
        )


def test_strict_types_reject_wrong_json():
    with pytest.raises(ProviderError) as info:
        wire.ChatCompletionResponse.parse({"id": "x", "created": "NOT_INT", "model": "m", "choices": []})
    assert info.value.kind == "decode" and "created" in info.value.message


# --- real traffic --------------------------------------------------------------------------------

#: Recorded chat-completions replies that are not OpenAI JSON at all (pydantic-ai's tests of a broken
#: upstream): an echo of the request metadata, and a text/plain body.
NOT_OPENAI = {"openai/test_invalid_response#0", "openai/test_text_response#0"}


def real_exchanges() -> tuple[strat.Exchange, ...]:
    require_real_traffic()
    return strat.real_exchanges()


def sse_payloads(body: str) -> list[dict]:
    """The JSON items of an SSE body, without ``[DONE]``."""
    return [json.loads(e.data) for e in decode_all(body.encode()) if not is_done(e)]


def test_real_requests_round_trip_exactly():
    exchanges = real_exchanges()
    for ex in exchanges:
        assert_strict_equal(wire.ChatCompletionRequest.parse(ex.request).to_json(), ex.request, ex.name)
    assert len(exchanges) > 150


def test_real_responses_round_trip_exactly():
    counts = {"json": 0, "sse": 0, "error": 0}
    for ex in real_exchanges():
        if ex.name in NOT_OPENAI:
            continue
        if isinstance(ex.response, str):
            items = sse_payloads(ex.response)
            assert items, ex.name
            for item in items:
                assert_strict_equal(wire.ChatCompletionChunk.parse(item).to_json(), item, ex.name)
            counts["sse"] += 1
        elif "error" in ex.response and "choices" not in ex.response:
            assert_strict_equal(wire.ErrorBody.parse(ex.response).to_json(), ex.response, ex.name)
            counts["error"] += 1
        else:
            assert_strict_equal(
                wire.ChatCompletionResponse.parse(ex.response).to_json(), ex.response, ex.name
            )
            counts["json"] += 1
    assert counts["json"] > 100 and counts["sse"] > 20 and counts["error"] >= 4, counts


def test_real_exceptions_are_really_not_openai():
    """The recorded exceptions stay exceptions for the reason given (else drop them from NOT_OPENAI)."""
    by_name = {ex.name: ex for ex in real_exchanges()}
    assert isinstance(by_name["openai/test_text_response#0"].response, str)
    with pytest.raises(ProviderError, match="field id"):
        wire.ChatCompletionResponse.parse(by_name["openai/test_invalid_response#0"].response)
