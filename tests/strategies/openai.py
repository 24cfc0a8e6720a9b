"""Hand-written hypothesis strategies for the OpenAI Chat Completions wire JSON (providers/types/openai.py).

Each strategy draws a JSON object of one wire model: required fields always, each optional field present
or absent, nullable ones sometimes an explicit ``null``, and zero to two unknown ``x_*`` fields holding
any JSON. Values lean towards the shapes real traffic has (data URLs, JSON argument strings, known enum
words) but also take arbitrary text, so the converters meet both.
"""

from __future__ import annotations

import functools
import gzip
import json
import string
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.corpus import real_traffic_dir
from tests.strategies.common import json_scalars, numbers, short_text, text

__all__ = [
    "MODELS",
    "Exchange",
    "audio_part",
    "chunk",
    "chunk_choice",
    "completion_tokens_details",
    "content_part",
    "delta",
    "error_body",
    "error_detail",
    "file_part",
    "file_ref",
    "function_call",
    "function_call_delta",
    "function_def",
    "function_tool",
    "image_part",
    "image_url",
    "input_audio",
    "message",
    "other_part",
    "other_tool",
    "prompt_tokens_details",
    "real_exchanges",
    "refusal_part",
    "request",
    "response",
    "response_choice",
    "response_message",
    "stream_options",
    "text_part",
    "tool",
    "tool_call",
    "tool_call_delta",
    "usage",
]


# The same kinds of values as tests/strategies/common.py, with keys drawn from an alphabet rather than a
# regex: from_regex is ~1 ms a draw, and these objects draw hundreds of keys (the file must stay fast).
ident = st.text(string.ascii_lowercase + "_", min_size=1, max_size=8)
unknown_keys = st.text(string.ascii_lowercase, min_size=1, max_size=8).map(lambda s: "x_" + s)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ident, inner, max_size=3)),
    max_leaves=8,
)
json_objects = st.dictionaries(ident, json_values, max_size=4)


@st.composite
def with_unknown(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """``base`` plus zero to two unknown ``x_*`` fields holding any JSON (null included)."""
    obj = dict(draw(base))
    for key in draw(st.lists(unknown_keys, max_size=2, unique=True)):
        obj[key] = draw(json_values)
    return obj


def nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def _fields(
    draw: st.DrawFn, required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> dict[str, Any]:
    out = {key: draw(strategy) for key, strategy in required.items()}
    for key, strategy in optional.items():
        if draw(st.booleans()):
            out[key] = draw(strategy)
    return out


def obj(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """An object with the ``required`` fields, a subset of the ``optional`` ones, and unknown fields."""
    return with_unknown(_fields(required, optional or {}))


def lists(strategy: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[list[Any]]:
    return st.lists(strategy, max_size=max_size)


tokens = st.one_of(st.integers(0, 5000), st.integers(-(2**40), 2**40))
b64 = st.builds(
    lambda body, pad: body + pad,
    st.text(string.ascii_letters + string.digits + "+/", max_size=16),
    st.sampled_from(["", "=", "=="]),
)
media_types = st.sampled_from(["image/png", "image/jpeg", "application/pdf", "text/plain", "audio/wav", ""])
data_urls = st.builds(lambda mt, data: f"data:{mt};base64,{data}", media_types, b64)
urls = st.one_of(st.sampled_from(["https://example.com/a.png", "http://x.test/b?c=d"]), data_urls, text)
words = st.one_of(st.sampled_from(["auto", "low", "high", "none", "required"]), short_text)
arguments = st.one_of(json_values.map(lambda v: json.dumps(v)), st.sampled_from(["", "{", '{"a":']), text)
finish_reasons = st.one_of(
    st.sampled_from(["stop", "length", "tool_calls", "content_filter", "function_call"]), ident
)

# --- content parts ---------------------------------------------------------------------------------

text_part = obj({"type": st.just("text"), "text": text})
image_url = obj(
    {"url": urls}, {"detail": nullable(st.sampled_from(["auto", "low", "high", "original"]) | ident)}
)
image_part = obj({"type": st.just("image_url"), "image_url": image_url})
input_audio = obj({"data": b64, "format": st.sampled_from(["wav", "mp3"]) | ident})
audio_part = obj({"type": st.just("input_audio"), "input_audio": input_audio})
file_ref = obj(
    {}, {"file_data": nullable(data_urls | b64 | text), "file_id": nullable(text), "filename": nullable(text)}
)
file_part = obj({"type": st.just("file"), "file": file_ref})
refusal_part = obj({"type": st.just("refusal"), "refusal": text})
other_part = obj({"type": st.sampled_from(["input_video", "x_part", "document"])}, {"data": json_values})
content_part = st.one_of(text_part, image_part, audio_part, file_part, refusal_part, other_part)
content = st.one_of(text, lists(content_part))

# --- tool calls and messages -----------------------------------------------------------------------

call_ids = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6).map(lambda s: "call_" + s)
function_call = obj({"name": text, "arguments": arguments})
tool_call = obj(
    {
        "id": st.one_of(
            st.just(""),
            st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6).map(
                lambda s: "call_" + s
            ),
        )
    },
    {
        "type": st.sampled_from(["function", "custom"]),
        "function": nullable(function_call),
        "custom": nullable(json_objects),
        "extra_content": st.builds(lambda s: {"google": {"thought_signature": s}}, b64),
    },
)
roles = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "x_role"])
message = obj(
    {"role": roles},
    {
        "content": nullable(content),
        "name": nullable(text),
        "tool_calls": nullable(lists(tool_call)),
        "tool_call_id": nullable(text),
        "refusal": nullable(text),
        "function_call": nullable(function_call),
        "audio": nullable(json_objects),
        "reasoning_content": nullable(text),
        "reasoning": text,
    },
)

# --- tools and request -----------------------------------------------------------------------------

function_def = obj(
    {"name": text},
    {"description": nullable(text), "parameters": nullable(json_objects), "strict": nullable(st.booleans())},
)
function_tool = obj({"type": st.just("function"), "function": function_def}, {"cache_control": json_objects})
other_tool = obj({"type": st.sampled_from(["custom", "x_tool"])}, {"custom": json_objects})
tool = st.one_of(function_tool, other_tool)
stream_options = obj(
    {}, {"include_usage": nullable(st.booleans()), "include_obfuscation": nullable(st.booleans())}
)
tool_choice = st.one_of(
    words,
    obj({"type": st.just("function"), "function": obj({"name": text})}),
    st.fixed_dictionaries({"type": st.just("allowed_tools"), "allowed_tools": json_objects}),
    json_objects,
)
response_format = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["text", "json_object"])}),
    obj(
        {
            "type": st.just("json_schema"),
            "json_schema": obj({"name": text}, {"schema": json_objects, "strict": st.booleans()}),
        }
    ),
    json_objects,
)
request = obj(
    {"model": text, "messages": lists(message, 4)},
    {
        "stream": nullable(st.booleans()),
        "stream_options": nullable(stream_options),
        "max_tokens": nullable(tokens),
        "max_completion_tokens": nullable(tokens),
        "temperature": nullable(numbers),
        "top_p": nullable(numbers),
        "n": nullable(tokens),
        "stop": nullable(st.one_of(text, lists(text))),
        "presence_penalty": nullable(numbers),
        "frequency_penalty": nullable(numbers),
        "seed": nullable(tokens),
        "user": nullable(text),
        "tools": nullable(lists(tool)),
        "tool_choice": nullable(tool_choice),
        "parallel_tool_calls": nullable(st.booleans()),
        "response_format": nullable(response_format),
        "reasoning_effort": nullable(
            st.sampled_from(["none", "minimal", "low", "medium", "high", "xhigh"]) | ident
        ),
        "logprobs": nullable(st.booleans()),
        "top_logprobs": nullable(tokens),
        "logit_bias": nullable(st.dictionaries(ident, numbers, max_size=3)),
        "metadata": nullable(json_objects),
        "store": nullable(st.booleans()),
        "service_tier": nullable(words),
        "modalities": nullable(lists(st.sampled_from(["text", "audio"]))),
    },
)

# --- response --------------------------------------------------------------------------------------

prompt_tokens_details = obj(
    {},
    {
        k: nullable(tokens)
        for k in ("cached_tokens", "audio_tokens", "image_tokens", "text_tokens", "cache_write_tokens")
    },
)
completion_tokens_details = obj(
    {},
    {
        k: nullable(tokens)
        for k in (
            "reasoning_tokens",
            "audio_tokens",
            "accepted_prediction_tokens",
            "rejected_prediction_tokens",
            "text_tokens",
        )
    },
)
usage = obj(
    {"prompt_tokens": tokens, "completion_tokens": tokens, "total_tokens": tokens},
    {
        "prompt_tokens_details": nullable(prompt_tokens_details),
        "completion_tokens_details": nullable(completion_tokens_details),
    },
)
response_message = obj(
    {},
    {
        "role": st.sampled_from(["assistant", "x_role"]),
        "content": nullable(text),
        "refusal": nullable(text),
        "tool_calls": nullable(lists(tool_call)),
        "annotations": nullable(lists(json_objects)),
        "audio": nullable(json_objects),
        "function_call": nullable(function_call),
        "reasoning_content": nullable(text),
        "reasoning": text,
    },
)
response_choice = obj(
    {"index": st.integers(0, 3)},
    {
        "message": nullable(response_message),
        "finish_reason": nullable(finish_reasons),
        "logprobs": nullable(json_objects),
    },
)
response = obj(
    {"id": text, "created": tokens, "model": text, "choices": lists(response_choice)},
    {
        "object": st.sampled_from(["chat.completion", ""]),
        "usage": nullable(usage),
        "system_fingerprint": nullable(text),
        "service_tier": nullable(words),
    },
)

# --- stream chunks ---------------------------------------------------------------------------------

function_call_delta = obj({}, {"name": nullable(text), "arguments": nullable(arguments)})
tool_call_delta = obj(
    {"index": st.integers(0, 3)},
    {"id": nullable(text), "type": nullable(st.just("function")), "function": nullable(function_call_delta)},
)
delta = obj(
    {},
    {
        "role": nullable(st.sampled_from(["assistant", "x_role"])),
        "content": nullable(text),
        "refusal": nullable(text),
        "tool_calls": nullable(lists(tool_call_delta)),
        "function_call": nullable(function_call_delta),
        "audio": nullable(json_objects),
        "reasoning_content": nullable(text),
    },
)
chunk_choice = obj(
    {"index": st.integers(0, 2), "delta": delta},
    {"finish_reason": nullable(finish_reasons), "logprobs": nullable(json_objects)},
)
chunk = obj(
    {"id": text, "created": tokens, "model": text, "choices": lists(chunk_choice, 2)},
    {
        "object": st.sampled_from(["chat.completion.chunk", ""]),
        "usage": nullable(usage),
        "system_fingerprint": nullable(text),
        "service_tier": nullable(words),
        "obfuscation": short_text,
    },
)

# --- errors ----------------------------------------------------------------------------------------

error_detail = obj(
    {"message": text},
    {
        "type": nullable(ident),
        "param": nullable(text),
        "code": nullable(st.one_of(ident, st.integers(100, 599))),
    },
)
error_body = obj({"error": error_detail})

#: Every wire model of providers/types/openai.py with the strategy of its JSON.
MODELS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "TextPart": text_part,
    "ImageURL": image_url,
    "ImagePart": image_part,
    "InputAudio": input_audio,
    "AudioPart": audio_part,
    "FileRef": file_ref,
    "FilePart": file_part,
    "RefusalPart": refusal_part,
    "OtherPart": other_part,
    "FunctionCall": function_call,
    "ToolCall": tool_call,
    "Message": message,
    "FunctionDef": function_def,
    "FunctionTool": function_tool,
    "OtherTool": other_tool,
    "StreamOptions": stream_options,
    "ChatCompletionRequest": request,
    "PromptTokensDetails": prompt_tokens_details,
    "CompletionTokensDetails": completion_tokens_details,
    "Usage": usage,
    "ResponseMessage": response_message,
    "Choice": response_choice,
    "ChatCompletionResponse": response,
    "FunctionCallDelta": function_call_delta,
    "ToolCallDelta": tool_call_delta,
    "Delta": delta,
    "ChunkChoice": chunk_choice,
    "ChatCompletionChunk": chunk,
    "ErrorDetail": error_detail,
    "ErrorBody": error_body,
}


# --- real recorded traffic -------------------------------------------------------------------------
# Not a strategy, but the other source of OpenAI wire JSON the tests run on: the VCR cassettes in
# real-traffic/{openai,openllmetry/openai} of the external corpus (tests/corpus.py), read once.


@dataclass(frozen=True)
class Exchange:
    """One recorded POST .../chat/completions: the request JSON and the response (JSON or SSE text)."""

    name: str
    request: dict[str, Any]
    status: int
    response: dict[str, Any] | str


def _response_body(response: dict[str, Any]) -> dict[str, Any] | str:
    if "parsed_body" in response:
        return response["parsed_body"]
    body = response["body"]["string"]
    headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
    if isinstance(body, bytes):
        if "gzip" in (headers.get("content-encoding") or []):
            body = gzip.decompress(body)
        body = body.decode("utf-8")
    try:
        return json.loads(body)
    except ValueError:
        return body  # SSE, or a plain-text reply


def _request_body(request: dict[str, Any]) -> dict[str, Any]:
    if "parsed_body" in request:
        return request["parsed_body"]
    body = request["body"]
    return json.loads(body["string"] if isinstance(body, dict) else body)


@functools.cache
def real_exchanges() -> tuple[Exchange, ...]:
    """Every recorded chat-completions exchange (empty when the external corpus is missing)."""
    root = real_traffic_dir()
    if root is None:
        return ()
    files = sorted(root.glob("openai/*.yaml")) + sorted(root.glob("openllmetry/openai/*.yaml"))
    out = []
    for path in files:
        with open(path, "rb") as fh:
            cassette = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for i, interaction in enumerate(cassette["interactions"]):
            request, response = interaction["request"], interaction["response"]
            if not request["uri"].split("?")[0].endswith("/chat/completions"):
                continue
            name = f"{path.parent.name}/{path.stem}#{i}"
            status = response["status"]["code"]
            out.append(Exchange(name, _request_body(request), status, _response_body(response)))
    return tuple(out)
