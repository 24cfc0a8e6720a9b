"""Hand-written hypothesis strategies for the Gemini wire JSON (providers/types/gemini.py), and the
real recorded Gemini traffic.

Each strategy draws a JSON object of one wire model: required fields always, each optional field
present or absent, sometimes an explicit ``null``, zero to two unknown ``x_*`` fields holding any JSON,
and each known key spelled camelCase or, now and then, snake_case (Gemini accepts both, and real
clients mix them). Values lean towards real shapes (known enum words, base64, JSON Schema) but also
take arbitrary text. ``stream_items`` draws a whole ``:streamGenerateContent`` reply as a list of items.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st
from pydantic.alias_generators import to_snake

from tests.corpus import real_traffic_dir
from tests.strategies.common import json_values, numbers, short_text, text

__all__ = [
    "MODELS",
    "RealExchange",
    "any_part",
    "blob",
    "candidate",
    "content",
    "error_body",
    "file_data",
    "function_call",
    "function_declaration",
    "function_response",
    "generation_config",
    "part",
    "real_exchanges",
    "request",
    "response",
    "stream_items",
    "thinking_config",
    "tool",
    "tool_config",
    "usage_metadata",
]

# Text-alphabet strategies rather than from_regex: three times faster to draw, and this suite draws a lot.
_LOWER = "abcdefghijklmnopqrstuvwxyz"
ident = st.builds(str.__add__, st.sampled_from(_LOWER), st.text(_LOWER + "_0123456789", max_size=11))
unknown_keys = st.text(_LOWER, min_size=1, max_size=8).map("x_".__add__)
json_objects = st.dictionaries(ident, json_values, max_size=3)
ints = st.integers(0, 2**31 - 1)
any_ints = st.integers(-(2**31), 2**31 - 1)
signature = st.text("ABCXYZabcxyz0189+/_-", min_size=4, max_size=24)
b64 = st.text("ABCXYZabcxyz0189+/=", max_size=16)
mime = st.one_of(
    st.sampled_from(
        ["image/png", "image/jpeg", "audio/wav", "audio/x-wav", "audio/mpeg", "audio/ogg", "audio/",
         "application/pdf", "text/plain", "video/mp4"]
    ),
    short_text,
)  # fmt: skip
uri = st.one_of(
    st.sampled_from(["https://example.com/a.png", "gs://bucket/doc.pdf", "https://generativelanguage.googleapis.com/v1beta/files/abc"]),
    short_text,
)  # fmt: skip
FINISH = [
    "STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "LANGUAGE", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT",
    "SPII", "MALFORMED_FUNCTION_CALL", "IMAGE_SAFETY", "UNEXPECTED_TOOL_CALL", "FINISH_REASON_UNSPECIFIED",
]  # fmt: skip
finish_reason = st.one_of(st.sampled_from(FINISH), short_text)
spelling = st.sampled_from([False, False, False, True])  # snake_case one time in four


@st.composite
def obj(
    draw: st.DrawFn,
    required: dict[str, st.SearchStrategy],
    optional: dict[str, st.SearchStrategy],
    *,
    nulls: bool = True,
    unknown: bool = True,
) -> dict[str, Any]:
    """A wire object: ``required`` keys always, a drawn subset of ``optional`` ones (one time in ten an
    explicit null), every known key camelCase or snake_case, plus unknown ``x_*`` keys."""
    out: dict[str, Any] = {}
    for key, strategy in required.items():
        out[to_snake(key) if draw(spelling) else key] = draw(strategy)
    for key, strategy in optional.items():
        if draw(st.booleans()):
            value = None if nulls and draw(st.integers(0, 9)) == 0 else draw(strategy)
            out[to_snake(key) if draw(spelling) else key] = value
    if unknown:
        for key in draw(st.lists(unknown_keys, max_size=2, unique=True)):
            out[key] = draw(json_values)
    return out


def model_of(required: dict, optional: dict, **kw: Any) -> st.SearchStrategy[dict[str, Any]]:
    return obj(required, optional, **kw)


# --- content ---------------------------------------------------------------------------------------

blob = model_of({}, {"mimeType": mime, "data": b64, "displayName": short_text})
file_data = model_of({}, {"mimeType": mime, "fileUri": uri, "displayName": short_text})
function_call = model_of(
    {}, {"id": ident, "name": ident, "args": json_objects, "partialArgs": st.lists(json_objects, max_size=2),
         "willContinue": st.booleans()}
)  # fmt: skip
function_response_part = model_of({}, {"inlineData": blob, "fileData": file_data})
function_response = model_of(
    {},
    {
        "id": ident,
        "name": ident,
        "response": json_objects,
        "parts": st.lists(function_response_part, max_size=2),
        "willContinue": st.booleans(),
        "scheduling": st.sampled_from(["SILENT", "WHEN_IDLE", "INTERRUPT"]),
    },
)
executable_code = model_of({}, {"language": st.just("PYTHON"), "code": short_text, "id": ident})
code_execution_result = model_of(
    {}, {"outcome": st.sampled_from(["OUTCOME_OK", "OUTCOME_FAILED"]), "output": short_text, "id": ident}
)
video_metadata = model_of({}, {"startOffset": st.just("1.5s"), "endOffset": st.just("3s"), "fps": numbers})
_flags = {
    "videoMetadata": video_metadata,
    "partMetadata": json_objects,
    "mediaResolution": st.one_of(
        json_objects, st.sampled_from(["MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_HIGH"])
    ),
}
# The part kinds real traffic has, each with its usual companions, then a part of anything at all.
text_part = st.one_of(
    st.builds(lambda t: {"text": t}, text),
    model_of({"text": text}, {"thoughtSignature": signature, "thought": st.just(False), **_flags}),
)
thought_part = st.one_of(
    st.builds(lambda t: {"text": t, "thought": True}, text),
    st.builds(lambda t, s: {"text": t, "thought": True, "thoughtSignature": s}, text, signature),
    model_of({"text": text, "thought": st.just(True)}, {"thoughtSignature": signature, **_flags}),
)
signature_part = model_of({"thoughtSignature": signature}, {})
call_part = model_of({"functionCall": function_call}, {"thoughtSignature": signature})
response_part = model_of({"functionResponse": function_response}, {"thoughtSignature": signature})
media_part = st.one_of(model_of({"inlineData": blob}, _flags), model_of({"fileData": file_data}, _flags))
server_part = st.one_of(
    model_of({"executableCode": executable_code}, {}),
    model_of({"codeExecutionResult": code_execution_result}, {}),
    model_of({"toolCall": json_objects}, {"thoughtSignature": signature}),
    model_of({"toolResponse": json_objects}, {}),
)
any_part = model_of(
    {},
    {
        "text": text,
        "inlineData": blob,
        "fileData": file_data,
        "functionCall": function_call,
        "functionResponse": function_response,
        "executableCode": executable_code,
        "codeExecutionResult": code_execution_result,
        "toolCall": json_objects,
        "toolResponse": json_objects,
        "thought": st.booleans(),
        "thoughtSignature": signature,
        **_flags,
    },
)
part = st.one_of(
    text_part,
    text_part,
    thought_part,
    signature_part,
    call_part,
    response_part,
    media_part,
    server_part,
    any_part,
)
role = st.one_of(st.sampled_from(["user", "model"]), short_text)
content = model_of({}, {"parts": st.lists(part, max_size=4), "role": role})
model_content = model_of({}, {"parts": st.lists(part, max_size=5), "role": st.just("model")})

# --- tools and settings ----------------------------------------------------------------------------

TYPES = ["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "string", "object", "integer"]
openapi_schema = st.recursive(
    st.fixed_dictionaries(
        {"type": st.sampled_from(TYPES)},
        optional={"description": short_text, "nullable": st.booleans(), "enum": st.lists(ident, max_size=2),
                  "format": st.sampled_from(["int32", "float", "enum"])},
    ),
    lambda inner: st.fixed_dictionaries(
        {"type": st.sampled_from(["OBJECT", "ARRAY", "object"])},
        optional={"properties": st.dictionaries(ident, inner, max_size=3), "items": inner,
                  "required": st.lists(ident, max_size=2), "anyOf": st.lists(inner, max_size=2),
                  "nullable": st.booleans(), "propertyOrdering": st.lists(ident, max_size=2)},
    ),
    max_leaves=6,
)  # fmt: skip
schema = st.one_of(openapi_schema, json_objects)
function_declaration = model_of(
    {"name": ident},
    {
        "description": short_text,
        "parameters": schema,
        "parametersJsonSchema": st.one_of(schema, json_values),
        "response": openapi_schema,
        "responseJsonSchema": json_values,
        "behavior": st.sampled_from(["BLOCKING", "NON_BLOCKING"]),
    },
)
_builtin = st.one_of(st.just({}), st.just({"x_option": 1}), json_objects)  # mostly the usual empty object
tool = model_of(
    {},
    {
        "functionDeclarations": st.lists(function_declaration, max_size=2),
        "googleSearch": _builtin,
        "googleSearchRetrieval": _builtin,
        "codeExecution": _builtin,
        "urlContext": _builtin,
        "fileSearch": _builtin,
        "googleMaps": _builtin,
        "computerUse": _builtin,
        "retrieval": _builtin,
        "enterpriseWebSearch": _builtin,
    },
)
function_calling_config = model_of(
    {},
    {
        "mode": st.one_of(
            st.sampled_from(["AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"]), short_text
        ),
        "allowedFunctionNames": st.lists(ident, max_size=3),
        "streamFunctionCallArguments": st.booleans(),
    },
)
tool_config = model_of(
    {},
    {
        "functionCallingConfig": function_calling_config,
        "retrievalConfig": json_objects,
        "includeServerSideToolInvocations": st.booleans(),
    },
)
thinking_config = model_of(
    {},
    {
        "includeThoughts": st.booleans(),
        "thinkingBudget": st.one_of(st.sampled_from([-1, 0, 128, 1024, 24576]), any_ints),
        "thinkingLevel": st.one_of(
            st.sampled_from(["MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH", "low", "High"]), short_text
        ),
    },
)
top_k = st.one_of(ints, st.integers(1, 100).map(float), numbers)
generation_config = model_of(
    {},
    {
        "candidateCount": ints,
        "stopSequences": st.lists(short_text, max_size=3),
        "maxOutputTokens": ints,
        "temperature": numbers,
        "topP": numbers,
        "topK": top_k,
        "seed": any_ints,
        "presencePenalty": numbers,
        "frequencyPenalty": numbers,
        "responseMimeType": st.one_of(
            st.sampled_from(["application/json", "text/plain", "text/x.enum"]), short_text
        ),
        "responseSchema": schema,
        "responseJsonSchema": st.one_of(schema, json_values),
        "responseLogprobs": st.booleans(),
        "logprobs": ints,
        "responseModalities": st.lists(st.sampled_from(["TEXT", "IMAGE", "AUDIO"]), max_size=2),
        "speechConfig": json_objects,
        "thinkingConfig": thinking_config,
        "imageConfig": json_objects,
        "mediaResolution": st.sampled_from(["MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM"]),
        "enableEnhancedCivicAnswers": st.booleans(),
        "audioTimestamp": st.booleans(),
    },
)
safety_setting = model_of(
    {},
    {
        "category": st.sampled_from(["HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH"]),
        "threshold": st.sampled_from(["BLOCK_NONE", "BLOCK_ONLY_HIGH", "OFF"]),
        "method": st.sampled_from(["SEVERITY", "PROBABILITY"]),
    },
)
request = model_of(
    {"contents": st.lists(content, max_size=4)},
    {
        "systemInstruction": content,
        "tools": st.lists(tool, max_size=2),
        "toolConfig": tool_config,
        "safetySettings": st.lists(safety_setting, max_size=2),
        "generationConfig": generation_config,
        "cachedContent": st.just("cachedContents/abc"),
        "model": st.just("models/gemini-2.5-flash"),
        "labels": st.dictionaries(ident, short_text, max_size=2),
    },
)

# --- response --------------------------------------------------------------------------------------

safety_rating = model_of(
    {},
    {
        "category": st.sampled_from(["HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_DANGEROUS_CONTENT"]),
        "probability": st.sampled_from(["NEGLIGIBLE", "LOW", "HIGH"]),
        "blocked": st.booleans(),
        "probabilityScore": numbers,
        "severity": st.just("HARM_SEVERITY_LOW"),
        "severityScore": numbers,
        "overwrittenThreshold": st.just("BLOCK_NONE"),
    },
)
citation_source = model_of(
    {},
    {
        "startIndex": ints,
        "endIndex": ints,
        "uri": uri,
        "license": short_text,
        "title": short_text,
        "publicationDate": json_objects,
    },
)
citation_metadata = model_of(
    {},
    {
        "citationSources": st.lists(citation_source, max_size=2),
        "citations": st.lists(citation_source, max_size=2),
    },
)
modality_token_count = model_of(
    {}, {"modality": st.sampled_from(["TEXT", "IMAGE", "AUDIO", "VIDEO", "DOCUMENT"]), "tokenCount": ints}
)
usage_metadata = model_of(
    {},
    {
        "promptTokenCount": ints,
        "cachedContentTokenCount": ints,
        "candidatesTokenCount": ints,
        "toolUsePromptTokenCount": ints,
        "thoughtsTokenCount": ints,
        "totalTokenCount": ints,
        "promptTokensDetails": st.lists(modality_token_count, max_size=2),
        "cacheTokensDetails": st.lists(modality_token_count, max_size=2),
        "candidatesTokensDetails": st.lists(modality_token_count, max_size=2),
        "toolUsePromptTokensDetails": st.lists(modality_token_count, max_size=2),
        "trafficType": st.just("ON_DEMAND"),
        "serviceTier": st.just("standard"),
    },
)
candidate = model_of(
    {},
    {
        "content": model_content,
        "finishReason": finish_reason,
        "finishMessage": short_text,
        "index": ints,
        "safetyRatings": st.lists(safety_rating, max_size=2),
        "citationMetadata": citation_metadata,
        "tokenCount": ints,
        "groundingMetadata": json_objects,
        "avgLogprobs": numbers,
        "logprobsResult": json_objects,
        "urlContextMetadata": json_objects,
    },
)
prompt_feedback = model_of(
    {},
    {
        "blockReason": st.sampled_from(["SAFETY", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT"]),
        "blockReasonMessage": short_text,
        "safetyRatings": st.lists(safety_rating, max_size=2),
    },
)
response = model_of(
    {},
    {
        "candidates": st.lists(candidate, max_size=2),
        "promptFeedback": prompt_feedback,
        "usageMetadata": usage_metadata,
        "modelVersion": st.one_of(st.just("gemini-2.5-flash"), short_text),
        "responseId": st.text(_LOWER + "ABC_-0129", min_size=8, max_size=20),
        "createTime": st.one_of(st.just("2026-11-24T10:00:00.123456Z"), short_text),
        "modelStatus": json_objects,
    },
)

# --- countTokens, embeddings, errors ---------------------------------------------------------------

count_tokens_request = model_of(
    {}, {"contents": st.lists(content, max_size=2), "generateContentRequest": request}
)
count_tokens_response = model_of(
    {},
    {
        "totalTokens": ints,
        "cachedContentTokenCount": ints,
        "promptTokensDetails": st.lists(modality_token_count, max_size=2),
        "cacheTokensDetails": st.lists(modality_token_count, max_size=2),
    },
)
embed_content_request = model_of(
    {"content": content},
    {
        "model": st.just("models/gemini-embedding-001"),
        "taskType": st.sampled_from(["RETRIEVAL_QUERY", "SEMANTIC_SIMILARITY"]),
        "title": short_text,
        "outputDimensionality": ints,
    },
)
content_embedding = model_of({}, {"values": st.lists(numbers, max_size=4)})
embed_content_response = model_of({}, {"embedding": content_embedding})
batch_embed_contents_request = model_of({"requests": st.lists(embed_content_request, max_size=2)}, {})
batch_embed_contents_response = model_of({}, {"embeddings": st.lists(content_embedding, max_size=2)})
error_detail = model_of(
    {},
    {
        "code": st.sampled_from([400, 403, 404, 429, 500, 503]),
        "message": short_text,
        "status": st.sampled_from(["INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "UNAVAILABLE"]),
        "details": st.lists(json_values, max_size=2),
    },
)
error_body = model_of({"error": error_detail}, {}, nulls=False)

#: Model name → strategy, for every wire model of providers/types/gemini.py.
MODELS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "Blob": blob,
    "FileData": file_data,
    "FunctionCall": function_call,
    "FunctionResponsePart": function_response_part,
    "FunctionResponse": function_response,
    "ExecutableCode": executable_code,
    "CodeExecutionResult": code_execution_result,
    "VideoMetadata": video_metadata,
    "Part": part,
    "Content": content,
    "FunctionDeclaration": function_declaration,
    "Tool": tool,
    "FunctionCallingConfig": function_calling_config,
    "ToolConfig": tool_config,
    "ThinkingConfig": thinking_config,
    "GenerationConfig": generation_config,
    "SafetySetting": safety_setting,
    "GenerateContentRequest": request,
    "SafetyRating": safety_rating,
    "CitationSource": citation_source,
    "CitationMetadata": citation_metadata,
    "ModalityTokenCount": modality_token_count,
    "UsageMetadata": usage_metadata,
    "Candidate": candidate,
    "PromptFeedback": prompt_feedback,
    "GenerateContentResponse": response,
    "CountTokensRequest": count_tokens_request,
    "CountTokensResponse": count_tokens_response,
    "EmbedContentRequest": embed_content_request,
    "ContentEmbedding": content_embedding,
    "EmbedContentResponse": embed_content_response,
    "BatchEmbedContentsRequest": batch_embed_contents_request,
    "BatchEmbedContentsResponse": batch_embed_contents_response,
    "ErrorDetail": error_detail,
    "ErrorBody": error_body,
}

# --- streams ---------------------------------------------------------------------------------------

stream_text = st.text(alphabet='abc xyz\n"ü🙂', min_size=1, max_size=8)
stream_part = st.one_of(
    st.builds(lambda t: {"text": t}, stream_text),
    st.builds(lambda t: {"text": t}, stream_text),
    st.builds(lambda t: {"text": t, "thought": True}, stream_text),
    st.builds(lambda t, s: {"text": t, "thought": True, "thoughtSignature": s}, stream_text, signature),
    st.builds(lambda s: {"thoughtSignature": s}, signature),
    st.builds(lambda t, s: {"text": t, "thoughtSignature": s}, st.one_of(st.just(""), stream_text), signature),
    st.builds(
        lambda n, a, s: {"functionCall": {"name": n, "args": a}, **({"thoughtSignature": s} if s else {})},
        ident,
        json_objects,
        st.one_of(st.none(), signature),
    ),
    st.builds(lambda n, a, i: {"functionCall": {"id": i, "name": n, "args": a}}, ident, json_objects, ident.map(lambda s: "fc_" + s)),
    st.builds(lambda c: {"executableCode": {"language": "PYTHON", "code": c}}, short_text),
)  # fmt: skip


@st.composite
def stream_items(draw: st.DrawFn, *, finish: bool | None = None) -> list[dict[str, Any]]:
    """A ``:streamGenerateContent`` reply: parts spread over chunks (one to three per chunk), every chunk
    with modelVersion, responseId and the cumulative usage so far; the finishReason on the last chunk or on
    a trailing chunk of its own (``{"text": ""}``, as Gemini 3 sends it), or missing when ``finish`` is
    False (a truncated stream)."""
    parts = draw(st.lists(stream_part, min_size=1, max_size=8))
    sizes: list[int] = []
    left = len(parts)
    while left:
        n = min(left, draw(st.integers(1, 3)))
        sizes.append(n)
        left -= n
    rid = draw(st.text(_LOWER + "ABC0129", min_size=8, max_size=8))
    prompt = draw(st.integers(1, 500))
    thoughts = draw(st.one_of(st.none(), st.integers(1, 300)))
    items, at, produced = [], 0, 0
    for n in sizes:
        chunk = parts[at : at + n]
        at += n
        produced += draw(st.integers(1, 20))
        usage = {"promptTokenCount": prompt, "candidatesTokenCount": produced}
        if thoughts is not None:
            usage["thoughtsTokenCount"] = thoughts
        usage["totalTokenCount"] = prompt + produced + (thoughts or 0)
        cand = {"content": {"parts": chunk, "role": "model"}, "index": 0}
        items.append(
            {"candidates": [cand], "usageMetadata": usage, "modelVersion": "gemini-3-pro", "responseId": rid}
        )
    end = draw(st.booleans()) if finish is None else finish
    if end:
        reason = draw(st.sampled_from(["STOP", "STOP", "MAX_TOKENS", "SAFETY"]))
        if draw(st.booleans()):
            items[-1]["candidates"][0]["finishReason"] = reason
        else:
            last = json.loads(json.dumps(items[-1]))
            last["candidates"][0] = {
                "content": {"parts": [{"text": ""}], "role": "model"},
                "finishReason": reason,
                "index": 0,
            }
            items.append(last)
    return items


# --- real traffic ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RealExchange:
    """One recorded generateContent call: where it came from, the request body, and either the response
    body (``response``) or the raw SSE body (``sse``)."""

    name: str
    uri: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    sse: bytes | None
    status: int


@functools.cache
def real_exchanges() -> tuple[RealExchange, ...]:
    """Every recorded Gemini/Vertex ``:generateContent``/``:streamGenerateContent`` interaction."""
    root = real_traffic_dir()
    if root is None:
        return ()
    out = []
    for path in sorted((root / "google").glob("*.yaml")):
        cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, interaction in enumerate(cassette.get("interactions") or ()):
            req, resp = interaction["request"], interaction["response"]
            if "enerateContent" not in req["uri"] or "parsed_body" not in req:
                continue
            body = resp.get("body")
            raw = body.get("string") if isinstance(body, dict) else None
            sse = raw.encode() if isinstance(raw, str) and raw.startswith("data:") else None
            out.append(
                RealExchange(
                    name=f"{path.stem}#{i}",
                    uri=req["uri"],
                    request=req["parsed_body"],
                    response=resp.get("parsed_body"),
                    sse=sse,
                    status=resp["status"]["code"],
                )
            )
    return tuple(out)
