"""The Gemini wire models are lossless: parse then serialize gives back exactly the JSON given.

Properties: for every model of providers/types/gemini.py, on generated JSON with unknown ``x_*``
fields, explicit nulls, absent optional fields and keys spelled camelCase or snake_case,
``Model.parse(obj).to_json()`` is ``obj`` (type-strict: 1 is not 1.0), and no known key in either
spelling lands among the unknown fields. Every field's JSON name is the proto's lowerCamelCase.
Real traffic: every recorded Gemini request, response and SSE item parses and serializes back exactly.
"""

from __future__ import annotations

import inspect
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

import providers.types.gemini as wire
from providers.errors import ProviderError
from providers.sse import decode_all
from providers.types._base import CamelWire
from tests.corpus import require_real_traffic
from tests.strategies import gemini as strat
from tests.strategies.common import assert_strict_equal

#: The top-level request and reply are drawn often; every nested model is inside them and is also drawn
#: alone, a few times (hypothesis spends milliseconds per drawn object and this file must stay fast).
TOP = ["GenerateContentRequest", "GenerateContentResponse"]
NESTED = sorted(set(strat.MODELS) - set(TOP))


def _wire_models() -> dict[str, type[CamelWire]]:
    return {
        name: obj
        for name, obj in vars(wire).items()
        if inspect.isclass(obj)
        and issubclass(obj, CamelWire)
        and obj.__module__ == wire.__name__
        and obj.__name__ == name  # not the GeminiRequest / GeminiResponse aliases
    }


def _real() -> tuple[strat.RealExchange, ...]:
    require_real_traffic()
    return strat.real_exchanges()


def unknown_keys(model: BaseModel, path: str = "$") -> list[str]:
    """Every unknown key anywhere in a parsed model, as a path."""
    found = [f"{path}.{key}" for key in model.extra]
    for name in type(model).model_fields:
        value = getattr(model, name)
        values = value if isinstance(value, list) else [value]
        for i, item in enumerate(values):
            if isinstance(item, BaseModel):
                found += unknown_keys(item, f"{path}.{name}[{i}]")
    return found


# --- the models and their names --------------------------------------------------------------------


def test_every_wire_model_has_a_strategy():
    assert set(_wire_models()) == set(strat.MODELS)


def test_every_model_is_camel_wire_and_aliases_are_lower_camel_case():
    for name, model in _wire_models().items():
        for field, info in model.model_fields.items():
            assert info.alias == to_camel(field), (name, field, info.alias)
            assert "_" not in info.alias, (name, field)


#: JSON names checked one by one against docs/wire.md#gemini and the v1beta protos (to_camel must not
#: surprise us).
EXPECTED_ALIASES = {
    "Blob": {"mime_type": "mimeType", "data": "data"},
    "FileData": {"mime_type": "mimeType", "file_uri": "fileUri"},
    "Part": {
        "inline_data": "inlineData",
        "file_data": "fileData",
        "function_call": "functionCall",
        "function_response": "functionResponse",
        "executable_code": "executableCode",
        "code_execution_result": "codeExecutionResult",
        "thought_signature": "thoughtSignature",
        "video_metadata": "videoMetadata",
        "part_metadata": "partMetadata",
        "media_resolution": "mediaResolution",
    },
    "FunctionResponse": {"will_continue": "willContinue"},
    "FunctionDeclaration": {
        "parameters_json_schema": "parametersJsonSchema",
        "response_json_schema": "responseJsonSchema",
    },
    "Tool": {
        "function_declarations": "functionDeclarations",
        "google_search": "googleSearch",
        "google_search_retrieval": "googleSearchRetrieval",
        "code_execution": "codeExecution",
        "url_context": "urlContext",
    },
    "FunctionCallingConfig": {"allowed_function_names": "allowedFunctionNames"},
    "ToolConfig": {"function_calling_config": "functionCallingConfig"},
    "ThinkingConfig": {
        "include_thoughts": "includeThoughts",
        "thinking_budget": "thinkingBudget",
        "thinking_level": "thinkingLevel",
    },
    "GenerationConfig": {
        "candidate_count": "candidateCount",
        "stop_sequences": "stopSequences",
        "max_output_tokens": "maxOutputTokens",
        "top_p": "topP",
        "top_k": "topK",
        "presence_penalty": "presencePenalty",
        "frequency_penalty": "frequencyPenalty",
        "response_mime_type": "responseMimeType",
        "response_schema": "responseSchema",
        "response_json_schema": "responseJsonSchema",
        "response_modalities": "responseModalities",
        "thinking_config": "thinkingConfig",
    },
    "GenerateContentRequest": {
        "system_instruction": "systemInstruction",
        "tool_config": "toolConfig",
        "safety_settings": "safetySettings",
        "generation_config": "generationConfig",
        "cached_content": "cachedContent",
    },
    "UsageMetadata": {
        "prompt_token_count": "promptTokenCount",
        "cached_content_token_count": "cachedContentTokenCount",
        "candidates_token_count": "candidatesTokenCount",
        "tool_use_prompt_token_count": "toolUsePromptTokenCount",
        "thoughts_token_count": "thoughtsTokenCount",
        "total_token_count": "totalTokenCount",
        "prompt_tokens_details": "promptTokensDetails",
        "cache_tokens_details": "cacheTokensDetails",
        "candidates_tokens_details": "candidatesTokensDetails",
        "tool_use_prompt_tokens_details": "toolUsePromptTokensDetails",
    },
    "Candidate": {
        "finish_reason": "finishReason",
        "finish_message": "finishMessage",
        "safety_ratings": "safetyRatings",
        "citation_metadata": "citationMetadata",
        "token_count": "tokenCount",
        "grounding_metadata": "groundingMetadata",
        "avg_logprobs": "avgLogprobs",
        "logprobs_result": "logprobsResult",
    },
    "PromptFeedback": {"block_reason": "blockReason"},
    "GenerateContentResponse": {
        "prompt_feedback": "promptFeedback",
        "usage_metadata": "usageMetadata",
        "model_version": "modelVersion",
        "response_id": "responseId",
        "create_time": "createTime",
    },
    "EmbedContentRequest": {"task_type": "taskType", "output_dimensionality": "outputDimensionality"},
}


def test_aliases_match_the_protos():
    models = _wire_models()
    for name, expected in EXPECTED_ALIASES.items():
        fields = models[name].model_fields
        assert {field: fields[field].alias for field in expected} == expected, name


def test_aliases_table_can_fail():
    fields = wire.Part.model_fields
    assert fields["inline_data"].alias != "inline_data"  # what a missing alias generator would give


# --- lossless round trip ---------------------------------------------------------------------------


def _assert_identity(model: type[CamelWire], obj: dict) -> None:
    parsed = model.parse(obj)
    assert_strict_equal(parsed.to_json(), obj)
    assert [k for k in unknown_keys(parsed) if not k.rsplit(".", 1)[1].startswith("x_")] == []
    from_bytes = model.parse(json.dumps(obj, ensure_ascii=False).encode())
    assert_strict_equal(json.loads(from_bytes.to_bytes()), obj)


@pytest.mark.parametrize("name", TOP)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_parse_serialize_is_identity(name, data):
    _assert_identity(getattr(wire, name), data.draw(strat.MODELS[name]))


@pytest.mark.parametrize("name", NESTED)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_parse_serialize_is_identity_nested(name, data):
    _assert_identity(getattr(wire, name), data.draw(strat.MODELS[name]))


def test_snake_case_request_keeps_its_spelling():
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "hi"},
                    {"inline_data": {"mime_type": "image/png", "data": "AAAA"}},
                    {"file_data": {"file_uri": "gs://b/x.pdf", "mimeType": "application/pdf"}},
                ],
            },
            {"role": "model", "parts": [{"function_call": {"name": "f", "args": {"some_key": 1}}, "thought_signature": "c2ln"}]},
        ],
        "system_instruction": {"parts": [{"text": "be brief"}]},
        "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": {"type": "object"}}]}],
        "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
        "generation_config": {"max_output_tokens": 5, "thinking_config": {"include_thoughts": True, "thinking_budget": 0}},
    }  # fmt: skip
    parsed = wire.GenerateContentRequest.parse(body)
    assert parsed.generation_config.thinking_config.thinking_budget == 0
    assert parsed.contents[0].parts[1].inline_data.mime_type == "image/png"
    assert parsed.contents[1].parts[0].thought_signature == "c2ln"
    assert parsed.contents[1].parts[0].function_call.args == {"some_key": 1}  # free-form keys untouched
    assert unknown_keys(parsed) == []
    assert_strict_equal(parsed.to_json(), body)


def test_camel_case_is_not_an_unknown_field():
    part = wire.Part.parse({"thoughtSignature": "s", "functionCall": {"name": "f"}})
    assert part.thought_signature == "s" and part.function_call is not None and part.extra == {}
    usage = wire.UsageMetadata.parse({"promptTokenCount": 3, "prompt_token_count_x": 1})
    assert usage.prompt_token_count == 3 and usage.extra == {"prompt_token_count_x": 1}


def test_one_field_given_in_both_spellings_is_refused_not_half_dropped():
    obj = {"inlineData": {"mimeType": "a/b"}, "inline_data": {"data": "AAAA"}}
    with pytest.raises(ProviderError, match="given twice") as caught:
        wire.Part.parse(obj)
    assert caught.value.kind == "decode"


def test_numbers_keep_their_type():
    obj = {"temperature": 1, "topP": 0.5, "topK": 40.0, "maxOutputTokens": 10}
    assert_strict_equal(wire.GenerationConfig.parse(obj).to_json(), obj)
    with pytest.raises(AssertionError):  # the assertion tells 1 from 1.0
        assert_strict_equal({"temperature": 1.0}, {"temperature": 1})


# --- wrong input is refused with context -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "obj", "where"),
    [
        (wire.UsageMetadata, {"promptTokenCount": "7"}, "promptTokenCount"),
        (wire.GenerationConfig, {"maxOutputTokens": 1.5}, "maxOutputTokens"),
        (wire.Part, {"functionCall": {"name": "f", "args": '{"a":'}}, "args"),  # partial JSON args
        (wire.GenerateContentRequest, {"systemInstruction": {"parts": []}}, "contents"),
        (wire.Part, {"thought": "true"}, "thought"),
    ],
)
def test_wrong_types_raise_decode_errors(model, obj, where):
    with pytest.raises(ProviderError) as info:
        model.parse(obj)
    assert info.value.kind == "decode" and where in info.value.message


def test_parse_stream_item():
    item = wire.parse_stream_item(b'{"candidates": [{"content": {"parts": [{"text": "hi"}]}}]}')
    assert isinstance(item, wire.GenerateContentResponse)
    error = wire.parse_stream_item({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}})
    assert isinstance(error, wire.ErrorBody) and error.error.code == 503
    for bad in (b"[DONE]", b"[1]", b'{"candidates": 5}'):
        with pytest.raises(ProviderError) as info:
            wire.parse_stream_item(bad)
        assert info.value.kind == "decode"


# --- real traffic ----------------------------------------------------------------------------------


def test_real_traffic_bodies_round_trip_exactly():
    exchanges = _real()
    seen = {"request": 0, "response": 0, "sse": 0}
    for ex in exchanges:
        parsed = wire.GenerateContentRequest.parse(ex.request)
        assert_strict_equal(parsed.to_json(), ex.request, f"{ex.name}:request")
        assert unknown_keys(parsed) == [], ex.name
        seen["request"] += 1
        if ex.response is not None:
            parsed = wire.GenerateContentResponse.parse(ex.response)
            assert_strict_equal(parsed.to_json(), ex.response, f"{ex.name}:response")
            assert unknown_keys(parsed) == [], ex.name
            seen["response"] += 1
        if ex.sse is not None:
            for event in decode_all(ex.sse):
                item = wire.parse_stream_item(event.data)
                assert_strict_equal(item.to_json(), json.loads(event.data), f"{ex.name}:sse")
                assert unknown_keys(item) == [], ex.name
                seen["sse"] += 1
    assert seen["request"] >= 40 and seen["response"] >= 30 and seen["sse"] >= 20, seen
