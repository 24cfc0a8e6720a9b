"""The wire schemas in harness/schemas: well-formed, faithful to the official specs and to real traffic.

1. every schema is a valid draft 2020-12 schema and NAMES lists exactly the files on disk;
2. every example of the official specs that a schema covers is accepted (OpenAI ``x-oaiMeta``
   examples, Anthropic ``example``/``examples`` values);
3. the recorded real traffic (VCR cassettes) is accepted where the real API spoke: every body a vendor API
   sent (response, stream item, error body) and every request it accepted (2xx) validates. A request it
   refused (4xx) may be rejected. Only bodies from hosts that are not vendor APIs (``NOT_VENDOR_HOSTS``) may
   be rejected otherwise, each listed in ALLOWED_REJECTIONS with the reason;
4. deliberately broken instances are rejected, and the problem names the offending field, also next to
   every place where a schema is looser than the vendor's written spec (its ``$comment`` says why and
   names the recording that needs it).

The specs and the real traffic come from the external corpus (``tests/corpus.py``); when it is missing the
data-driven tests skip with its one reason.
"""

from __future__ import annotations

import collections
import copy
import fnmatch
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from jsonschema import Draft202012Validator

from harness import schemas
from tests.corpus import NOT_VENDOR_HOSTS

SCHEMA_DIR = Path(schemas.__file__).parent


# ----------------------------------------------------------------------------- external corpus


@pytest.fixture(scope="session")
def shared(specs: Path, real_traffic: Path) -> Path:
    """The corpus folder holding both ``specs/`` and ``real-traffic/``."""
    assert specs.parent == real_traffic.parent
    return specs.parent


@pytest.fixture(scope="session")
def openai_spec(shared: Path) -> dict[str, Any]:
    with open(shared / "specs/openai/openapi.yaml", "rb") as fh:
        return yaml.load(fh, Loader=yaml.CSafeLoader)


@pytest.fixture(scope="session")
def anthropic_spec(shared: Path) -> dict[str, Any]:
    # JSON content despite the .yaml name
    return json.loads((shared / "specs/anthropic/openapi.yaml").read_text(encoding="utf-8"))


def assert_valid(name: str, instance: Any, label: str) -> None:
    found = schemas.problems(name, instance)
    assert not found, f"{label} rejected by {name}:\n  " + "\n  ".join(found)


# ----------------------------------------------------------------------------- 1. schemas are well-formed


#: Schemas of wirecheck's own files (scenarios, baselines, cassettes, reports), not wire objects: not in NAMES.
OWN_FILES = {"scenario", "baseline", "cassette", "gateway", "report"}


def test_names_match_files_on_disk():
    on_disk = sorted(p.stem for p in SCHEMA_DIR.glob("*.json") if p.stem not in OWN_FILES)
    assert sorted(schemas.NAMES) == on_disk
    assert len(set(schemas.NAMES)) == len(schemas.NAMES)


@pytest.mark.parametrize("name", schemas.NAMES)
def test_schema_is_valid_2020_12(name):
    doc = schemas.load(name)
    Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["title"].strip()
    # the description cites the spec location it follows
    assert re.search(r"components\.schemas\.|docs/wire\.md#|proto", doc["description"]), doc["description"]


def test_loader_api():
    assert isinstance(schemas.NAMES, tuple)
    assert schemas.validator("openai.error") is schemas.validator("openai.error")
    doc = schemas.load("openai.error")
    doc["title"] = "changed"
    assert schemas.load("openai.error")["title"] != "changed"
    assert (
        schemas.problems(
            "openai.error", {"error": {"message": "m", "type": "t", "param": None, "code": None}}
        )
        == []
    )
    # format is an annotation only (format checking is off)
    assert (
        schemas.problems(
            "anthropic.messages.response", _anthropic_message(container={"id": "c", "expires_at": "soon"})
        )
        == []
    )
    with pytest.raises(KeyError):
        schemas.load("openai.nope")


def test_problems_are_sorted_path_messages():
    found = schemas.problems("openai.chat.response", {"object": "chat.completion", "choices": [{}], "id": 3})
    assert found == sorted(found)
    assert "$: 'created' is a required property" in found
    assert "id: 3 is not of type 'string'" in found
    assert "choices.0: 'message' is a required property" in found


# ----------------------------------------------------------------------------- 2. official spec examples

_ELLIPSIS_LINE = re.compile(r"^\s*\.{3,}.*$", re.MULTILINE)
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")


def _loose_json(text: str) -> Any:
    """JSON from a spec example, which may elide items with '...' lines and leave a trailing comma."""
    return json.loads(_TRAILING_COMMA.sub(r"\1", _ELLIPSIS_LINE.sub("", text)))


def _example_bodies(text: str) -> list[Any]:
    """The JSON bodies of one example response: one object, several separated by blank lines, or SSE."""
    text = text.strip()
    if re.match(r"^(data|event):", text):
        return [json.loads(data) for _event, data in _sse_events(text) if data != "[DONE]"]
    try:
        return [_loose_json(text)]
    except json.JSONDecodeError:
        chunks = [
            c for c in re.split(r"\n\s*\n", text) if c.strip() and not _ELLIPSIS_LINE.fullmatch(c.strip())
        ]
        return [_loose_json(c) for c in chunks]


def _curl_body(curl: str) -> Any | None:
    match = re.search(r"-d '(.*?)'", curl, re.DOTALL)
    return _loose_json(match.group(1)) if match else None


# path -> (request schema, response schema, response schema when the request streams)
OPENAI_OPERATIONS = {
    "/chat/completions": ("openai.chat.request", "openai.chat.response", "openai.chat.chunk"),
    "/embeddings": ("openai.embeddings.request", "openai.embeddings.response", None),
    "/images/generations": ("openai.images.request", "openai.images.response", "openai.images.response"),
    "/audio/speech": ("openai.audio.speech.request", None, None),
    "/audio/transcriptions": (
        None,
        "openai.audio.transcription.response",
        "openai.audio.transcription.response",
    ),
}
# component with an x-oaiMeta example -> (schema, wrap the example into a full body)
OPENAI_COMPONENTS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "CreateChatCompletionResponse": ("openai.chat.response", lambda x: x),
    "CreateChatCompletionStreamResponse": ("openai.chat.chunk", lambda x: x),
    "Embedding": (
        "openai.embeddings.response",
        lambda x: {
            "object": "list",
            "data": [x],
            "model": "m",
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        },
    ),
    "ImagesResponse": ("openai.images.response", lambda x: x),
    "ImageGenPartialImageEvent": ("openai.images.response", lambda x: x),
    "ImageGenCompletedEvent": ("openai.images.response", lambda x: x),
    "CreateTranscriptionResponseJson": ("openai.audio.transcription.response", lambda x: x),
    "CreateTranscriptionResponseVerboseJson": ("openai.audio.transcription.response", lambda x: x),
    "CreateTranscriptionResponseDiarizedJson": ("openai.audio.transcription.response", lambda x: x),
    "TranscriptTextDeltaEvent": ("openai.audio.transcription.response", lambda x: x),
    "TranscriptTextDoneEvent": ("openai.audio.transcription.response", lambda x: x),
    "TranscriptTextSegmentEvent": ("openai.audio.transcription.response", lambda x: x),
}
# request component whose `properties.<p>.example` values are checked inside the operation's first example
OPENAI_REQUEST_COMPONENTS = {
    "CreateChatCompletionRequest": "/chat/completions",
    "CreateEmbeddingRequest": "/embeddings",
    "CreateImageRequest": "/images/generations",
    "CreateSpeechRequest": "/audio/speech",
}


def openai_spec_examples(spec: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(schema, label, instance) for every OpenAI spec example one of our schemas covers."""
    first_request: dict[str, Any] = {}
    for path, (req_schema, resp_schema, stream_schema) in OPENAI_OPERATIONS.items():
        examples = spec["paths"][path]["post"]["x-oaiMeta"]["examples"]
        for n, example in enumerate(examples if isinstance(examples, list) else [examples]):
            label = f"paths.{path}.x-oaiMeta.examples[{n}] {example.get('title', '')}".rstrip()
            request = example["request"]
            body = _curl_body(request["curl"] if isinstance(request, dict) else request)
            if body is not None and req_schema:
                first_request.setdefault(path, body)
                yield req_schema, f"{label} request", body
            if example.get("response") and resp_schema:
                schema = stream_schema if body and body.get("stream") else resp_schema
                for i, item in enumerate(_example_bodies(example["response"])):
                    yield schema, f"{label} response[{i}]", item
    components = spec["components"]["schemas"]
    for component, (schema, wrap) in OPENAI_COMPONENTS.items():
        for i, item in enumerate(_example_bodies(components[component]["x-oaiMeta"]["example"])):
            yield schema, f"components.schemas.{component}.x-oaiMeta.example[{i}]", wrap(item)
    for component, path in OPENAI_REQUEST_COMPONENTS.items():
        parts = components[component].get("allOf", [components[component]])
        for part in parts:
            for prop, prop_schema in part.get("properties", {}).items():
                if "example" in prop_schema:
                    body = {**first_request[path], prop: prop_schema["example"]}
                    label = f"components.schemas.{component}.properties.{prop}.example"
                    yield OPENAI_OPERATIONS[path][0], label, body


# Anthropic: examples sit on components (top-level `example`/`examples`) and on their properties.
# For each component: the schema it belongs to, how to embed an instance of it into a full body, and
# a base instance into which a property example is put.
_A_REQ = {"model": "claude-opus-4-6", "max_tokens": 1024, "messages": [{"role": "user", "content": "Hello"}]}
_A_MSG = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "Hi"}],
    "model": "claude-opus-4-6",
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}
_A_DELTA = {
    "type": "message_delta",
    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
    "usage": {"output_tokens": 1},
}
ANTHROPIC_COMPONENTS: dict[str, tuple[str, Callable[[Any], Any], Any]] = {
    "CreateMessageParams": ("anthropic.messages.request", lambda x: x, _A_REQ),
    "CreateMessageParamsWithoutStream": ("anthropic.messages.request", lambda x: x, _A_REQ),
    "InputMessage": (
        "anthropic.messages.request",
        lambda x: {**_A_REQ, "messages": [x]},
        _A_REQ["messages"][0],
    ),
    "ThinkingConfigParam": (
        "anthropic.messages.request",
        lambda x: {**_A_REQ, "thinking": x},
        {"type": "adaptive"},
    ),
    "Metadata": ("anthropic.messages.request", lambda x: {**_A_REQ, "metadata": x}, {}),
    "Tool": (
        "anthropic.messages.request",
        lambda x: {**_A_REQ, "tools": [x]},
        {"name": "get_weather", "input_schema": {"type": "object"}},
    ),
    "UserLocation": (
        "anthropic.messages.request",
        lambda x: {
            **_A_REQ,
            "tools": [{"type": "web_search_20250305", "name": "web_search", "user_location": x}],
        },
        {"type": "approximate"},
    ),
    "SkillParams": (
        "anthropic.messages.request",
        lambda x: {**_A_REQ, "container": {"skills": [x]}},
        {"type": "anthropic", "skill_id": "pdf"},
    ),
    "Message": ("anthropic.messages.response", lambda x: x, _A_MSG),
    "Usage": ("anthropic.messages.response", lambda x: {**_A_MSG, "usage": x}, _A_MSG["usage"]),
    "ServerToolUsage": (
        "anthropic.messages.response",
        lambda x: {**_A_MSG, "usage": {**_A_MSG["usage"], "server_tool_use": x}},
        {"web_search_requests": 0, "web_fetch_requests": 0},
    ),
    "Skill": (
        "anthropic.messages.response",
        lambda x: {
            **_A_MSG,
            "container": {"id": "container_1", "expires_at": "2026-01-01T00:00:00Z", "skills": [x]},
        },
        {"type": "anthropic", "skill_id": "pdf", "version": "latest"},
    ),
    "MessageDeltaEvent": ("anthropic.stream.event", lambda x: x, _A_DELTA),
    "MessageDeltaUsage": ("anthropic.stream.event", lambda x: {**_A_DELTA, "usage": x}, _A_DELTA["usage"]),
}
ANTHROPIC_ROOTS = [
    "CreateMessageParams",
    "CreateMessageParamsWithoutStream",
    "Message",
    "MessageStreamEvent",
    "ErrorResponse",
]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _examples_in(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of every example value below node; `examples` lists are expanded."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("example", "examples") and not (path and path[-1] == "properties"):
                for v in value if key == "examples" and isinstance(value, list) else [value]:
                    yield path, v
            else:
                yield from _examples_in(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _examples_in(value, (*path, str(i)))


def anthropic_spec_examples(spec: dict[str, Any]) -> tuple[list[tuple[str, str, Any]], list[str]]:
    """(schema, label, instance) for every example in the Messages/stream/error part of the spec, and
    the labels of examples found there that no mapping covers."""
    components = spec["components"]["schemas"]
    roots = ANTHROPIC_ROOTS + [f"Beta{r}" for r in ANTHROPIC_ROOTS]
    seen: set[str] = set()
    todo = [r for r in roots if r in components]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_refs(components[name]))
    found, unmapped = [], []
    for component in sorted(seen):
        mapping = ANTHROPIC_COMPONENTS.get(component.removeprefix("Beta"))
        for path, value in _examples_in(components[component]):
            label = ".".join(("components.schemas", component, *path)) or component
            if mapping is None:
                unmapped.append(label)
                continue
            schema, wrap, base = mapping
            if not path:  # an example of the whole component
                found.append((schema, label, wrap(copy.deepcopy(value))))
            elif path[0] == "properties":  # an example of one property, set into the base instance
                prop = components[component]["properties"][path[1]]
                if prop.get("type") == "array" and not isinstance(value, list):
                    # the spec puts *item* examples on some array properties (e.g. `tools`: one Tool)
                    value = [value]
                found.append((schema, label, wrap({**copy.deepcopy(base), path[1]: copy.deepcopy(value)})))
            else:
                unmapped.append(label)
    return found, unmapped


# schemas with examples in the official specs (the rest have none there)
SPEC_EXAMPLE_SCHEMAS = {
    "openai": [
        "openai.chat.request",
        "openai.chat.response",
        "openai.chat.chunk",
        "openai.embeddings.request",
        "openai.embeddings.response",
        "openai.images.request",
        "openai.images.response",
        "openai.audio.speech.request",
        "openai.audio.transcription.response",
    ],
    "anthropic": ["anthropic.messages.request", "anthropic.messages.response", "anthropic.stream.event"],
}


@pytest.mark.parametrize("name", SPEC_EXAMPLE_SCHEMAS["openai"])
def test_openai_spec_examples_accepted(openai_spec, name):
    examples = [(label, body) for schema, label, body in openai_spec_examples(openai_spec) if schema == name]
    print(f"{name}: {len(examples)} OpenAI spec examples")
    assert examples, f"no spec example found for {name}"
    for label, body in examples:
        assert_valid(name, body, label)


@pytest.mark.parametrize("name", SPEC_EXAMPLE_SCHEMAS["anthropic"])
def test_anthropic_spec_examples_accepted(anthropic_spec, name):
    found, _unmapped = anthropic_spec_examples(anthropic_spec)
    examples = [(label, body) for schema, label, body in found if schema == name]
    print(f"{name}: {len(examples)} Anthropic spec examples")
    assert examples, f"no spec example found for {name}"
    for label, body in examples:
        assert_valid(name, body, label)


def test_every_anthropic_spec_example_is_mapped(anthropic_spec):
    found, unmapped = anthropic_spec_examples(anthropic_spec)
    assert not unmapped, "examples in the Messages part of the spec that no schema checks: " + ", ".join(
        unmapped
    )
    assert len(found) > 20


# ----------------------------------------------------------------------------- 3. real recorded traffic

# Real bodies that a schema rejects on purpose, because no vendor API sent them: the wire format they break is
# not one they were meant to speak. (source folder, cassette file name glob, "request" | "response" | "stream",
# text of the expected problem) -> why the body is not a vendor's. A listed rejection is excused only for a
# body from a host in NOT_VENDOR_HOSTS (tests/corpus.py), so this list can never hide a vendor body that a
# schema rejects; an entry that excuses nothing fails test_allow_list_is_not_stale.
ALLOWED_REJECTIONS: dict[tuple[str, str, str, str], str] = {
    ("openai", "test_text_response.yaml", "response", "not JSON"): (
        "not a vendor body: pydantic-ai's demo-endpoints echo server answers /chat/completions with text/plain "
        "on purpose (the test checks the client's error on a non-JSON body)"
    ),
    ("openai", "test_invalid_response.yaml", "response", "'choices' is a required property"): (
        "not a vendor body: pydantic-ai's demo-endpoints echo server answers with a JSON description of the "
        "request, not a chat completion, on purpose (the test checks the client's error on it)"
    ),
}


def _sse_events(text: str) -> Iterator[tuple[str | None, str]]:
    """(event name, data) of each server-sent event; data lines of one event are joined by newlines."""
    name, data = None, []
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if data:
                yield name, "\n".join(data)
            name, data = None, []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line.startswith("event:"):
            name = line[6:].strip()
    return


def _header(headers: dict[str, Any], name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else str(value)
    return ""


def _decode(raw: Any, headers: dict[str, Any]) -> str:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, bytes):
        return ""
    encoding = _header(headers, "content-encoding")
    if encoding == "gzip" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif encoding == "deflate":
        raw = zlib.decompress(raw)
    elif encoding == "br":
        raise ValueError("brotli-encoded body")
    return raw.decode("utf-8")


def _request_body(request: dict[str, Any]) -> Any:
    if "parsed_body" in request:
        return request["parsed_body"]
    raw = request.get("body")
    if isinstance(raw, dict):
        raw = raw.get("string")
    text = _decode(raw, request.get("headers", {}))
    return json.loads(text) if text.strip() else None


def _response_text(response: dict[str, Any]) -> str | Any:
    if "parsed_body" in response:
        return response["parsed_body"]
    body = response.get("body") or {}
    raw = body.get("string") if isinstance(body, dict) else body
    return _decode(raw, response.get("headers", {}))


@dataclass(frozen=True)
class Route:
    dialect: str
    request: str | None
    response: str
    stream: str
    error: str


ROUTES: list[tuple[Callable[[str], bool], Route]] = [
    (
        lambda p: p.endswith("/chat/completions"),
        Route("openai", "openai.chat.request", "openai.chat.response", "openai.chat.chunk", "openai.error"),
    ),
    (
        lambda p: p.endswith("/embeddings"),
        Route("openai", "openai.embeddings.request", "openai.embeddings.response", "", "openai.error"),
    ),
    (
        lambda p: p.endswith("/images/generations"),
        Route(
            "openai",
            "openai.images.request",
            "openai.images.response",
            "openai.images.response",
            "openai.error",
        ),
    ),
    (
        lambda p: p.endswith("/audio/speech"),
        Route("openai", "openai.audio.speech.request", "", "", "openai.error"),
    ),
    (
        lambda p: p.endswith("/audio/transcriptions"),
        Route(
            "openai",
            None,  # multipart/form-data
            "openai.audio.transcription.response",
            "openai.audio.transcription.response",
            "openai.error",
        ),
    ),
    (
        lambda p: p.endswith("/v1/messages"),
        Route(
            "anthropic",
            "anthropic.messages.request",
            "anthropic.messages.response",
            "anthropic.stream.event",
            "anthropic.error",
        ),
    ),
    (
        lambda p: p.endswith((":generateContent", ":streamGenerateContent")),
        Route("gemini", "gemini.request", "gemini.response", "gemini.response", "gemini.error"),
    ),
    (
        lambda p: p.endswith((":embedContent", ":batchEmbedContents")),
        Route("gemini", "gemini.embed.request", "gemini.embed.response", "", "gemini.error"),
    ),
]


def _route(uri: str) -> Route | None:
    path = urlparse(uri).path
    return next((route for match, route in ROUTES if match(path)), None)


def _out_of_scope_kind(uri: str) -> str:
    """host + path with ids (segments with a digit, 10+ chars) folded, for counting."""
    parsed = urlparse(uri)
    path = re.sub(r"/(?=[^/:]*\d)[^/:]{10,}", "/{id}", parsed.path)
    return f"{parsed.netloc}{path}"


@dataclass
class TrafficReport:
    # (source, dialect, kind, schema) -> number of bodies validated
    validated: collections.Counter = field(default_factory=collections.Counter)
    out_of_scope: collections.Counter = field(default_factory=collections.Counter)  # endpoint -> interactions
    failures: list[tuple[str, str]] = field(default_factory=list)  # (dialect, message)
    allowed: dict[tuple[str, str, str, str], list[str]] = field(default_factory=dict)
    # requests the API refused (4xx) that a schema rejects too: allowed, listed for the record
    refused: list[str] = field(default_factory=list)


TRAFFIC_SOURCES = ["openai", "anthropic", "google", "openllmetry/openai", "openllmetry/anthropic"]


def _check_interaction(report: TrafficReport, source: str, cassette: Path, n: int, interaction: dict) -> None:
    request, response = interaction["request"], interaction["response"]
    route = _route(request["uri"])
    if route is None:
        report.out_of_scope[_out_of_scope_kind(request["uri"])] += 1
        return
    label = f"{source}/{cassette.name}#{n}"
    status = response["status"]["code"]
    host = urlparse(request["uri"]).netloc

    def reject(kind: str, what: str, why: str) -> None:
        message = f"{label} {what}: {why}"
        for key in ALLOWED_REJECTIONS:
            src, pattern, allowed_kind, problem = key
            if (
                (src, allowed_kind) == (source, kind)
                and fnmatch.fnmatch(cassette.name, pattern)
                and problem in why
            ):
                if host not in NOT_VENDOR_HOSTS:
                    message += f" (allow-listed, but {host} is a vendor API: what it sent must validate)"
                    break
                report.allowed.setdefault(key, []).append(message)
                return
        report.failures.append((route.dialect, message))

    def check(kind: str, schema: str, body: Any, what: str) -> None:
        found = schemas.problems(schema, body)
        report.validated[(source, route.dialect, kind, schema)] += 1
        if found:
            reject(kind, what, f"rejected by {schema}: " + "; ".join(found[:5]))

    if route.request:
        body = _request_body(request)
        if body is not None and 400 <= status < 500:
            # the API refused this request: a schema may reject it as well (judged by the status it got)
            found = schemas.problems(route.request, body)
            report.validated[(source, route.dialect, "refused request", route.request)] += 1
            if found:
                report.refused.append(f"{label} request body ({status}): " + "; ".join(found[:5]))
        elif body is not None:
            check("request", route.request, body, "request body")

    def response_schema(body: Any) -> str:
        # an error body: any status >= 400, and error envelopes sent with 200 (Azure's prompt filter does)
        if status >= 400 or (isinstance(body, dict) and ("error" in body or body.get("type") == "error")):
            return route.error
        return route.response

    text = _response_text(response)
    if not isinstance(text, str):  # parsed_body
        check("response", response_schema(text), text, "response body")
        return
    content_type = _header(response.get("headers", {}), "content-type")
    if "text/event-stream" in content_type or re.match(r"^(data|event):", text):
        for i, (event, data) in enumerate(_sse_events(text)):
            if data.strip() == "[DONE]":
                continue
            item = json.loads(data)
            if route.dialect == "openai" and isinstance(item, dict) and "error" in item:
                check("stream", route.error, item, f"stream event {i}")
            else:
                check("stream", route.stream, item, f"stream event {i} ({event or 'data-only'})")
                if event is not None and route.dialect == "anthropic" and event != item.get("type"):
                    reject(
                        "stream", f"stream event {i}", f"event name {event!r} != type {item.get('type')!r}"
                    )
        return
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        reject("response", "response body", f"not JSON ({content_type or 'no content-type'}): {text[:60]!r}")
        return
    if isinstance(body, list) and route.dialect == "gemini":  # streamGenerateContent without alt=sse
        for i, item in enumerate(body):
            check(
                "stream", response_schema(item) if "error" in item else route.stream, item, f"array item {i}"
            )
        return
    check("response", response_schema(body), body, "response body")


@pytest.fixture(scope="session")
def traffic(shared: Path) -> TrafficReport:
    report = TrafficReport()
    for source in TRAFFIC_SOURCES:
        for cassette in sorted((shared / "real-traffic" / source).glob("*.yaml")):
            with open(cassette, "rb") as fh:
                doc = yaml.load(fh, Loader=yaml.CSafeLoader)
            for n, interaction in enumerate(doc.get("interactions") or []):
                _check_interaction(report, source, cassette, n, interaction)
    return report


# minimum number of real bodies validated per dialect (the recorded set is fixed; these catch a routing
# or parsing regression that would silently validate nothing)
MIN_VALIDATED = {"openai": 300, "anthropic": 300, "gemini": 100}
PYDANTIC_AI_SOURCES = ("openai", "anthropic", "google")


@pytest.mark.parametrize("dialect", sorted(MIN_VALIDATED))
def test_real_traffic_accepted(traffic, dialect):
    mine = {key: n for key, n in traffic.validated.items() if key[1] == dialect}
    per_schema = collections.Counter()
    per_source = collections.Counter()
    for (source, _dialect, kind, schema), n in mine.items():
        per_schema[schema] += n
        per_source[(source.split("/")[0], kind)] += n
    print(
        f"{dialect}: {sum(mine.values())} bodies validated; per schema {dict(sorted(per_schema.items()))}; "
        f"per source {dict(sorted(per_source.items()))}"
    )
    failures = [message for d, message in traffic.failures if d == dialect]
    assert not failures, "\n".join(failures)
    assert sum(mine.values()) >= MIN_VALIDATED[dialect]
    # pydantic-ai's cassettes alone give requests and responses of every dialect
    from_pydantic_ai = collections.Counter()
    for (source, _dialect, kind, _schema), n in mine.items():
        if source in PYDANTIC_AI_SOURCES:
            from_pydantic_ai["response" if kind == "stream" else kind] += n
    assert from_pydantic_ai["request"] > 20 and from_pydantic_ai["response"] > 20, from_pydantic_ai


def test_allow_list_is_not_stale(traffic):
    print("allow-listed:", {f"{k[0]}/{k[1]} {k[2]}": len(v) for k, v in traffic.allowed.items()})
    stale = sorted(set(ALLOWED_REJECTIONS) - set(traffic.allowed))
    assert not stale, f"allow-listed bodies that are now accepted (remove them): {stale}"


def test_requests_the_api_refused_are_told_apart(traffic):
    """The corpus's 4xx-answered requests are judged as refused (a schema may reject them), not as accepted."""
    refused = {key: n for key, n in traffic.validated.items() if key[2] == "refused request"}
    print("refused requests:", refused, traffic.refused)
    assert sum(refused.values()) >= 6  # OpenAI 400s (o1-mini system role, image download), Azure APIM 401s
    accepted = sum(n for key, n in traffic.validated.items() if key[2] == "request")
    assert accepted > 300


def _vcr_interaction(uri: str, request: Any, status: int, answer: Any) -> dict[str, Any]:
    return {
        "request": {"uri": uri, "method": "POST", "body": json.dumps(request)},
        "response": {
            "status": {"code": status},
            "headers": {"content-type": ["application/json"]},
            "body": {"string": answer if isinstance(answer, str) else json.dumps(answer)},
        },
    }


_CHAT_URI = "https://api.openai.com/v1/chat/completions"
_REFUSED = {
    "error": {
        "message": "[] is too short",
        "type": "invalid_request_error",
        "param": "messages",
        "code": None,
    }
}


def test_a_request_is_judged_by_the_status_it_got():
    """An invalid request answered 4xx is a refusal the schema may share; answered 2xx it is a failure."""
    bad_request = {"model": "gpt-4o", "messages": []}
    refused, accepted = TrafficReport(), TrafficReport()
    _check_interaction(
        refused, "x", Path("c.yaml"), 0, _vcr_interaction(_CHAT_URI, bad_request, 400, _REFUSED)
    )
    answer = copy.deepcopy(VALID["openai.chat.response"])
    _check_interaction(
        accepted, "x", Path("c.yaml"), 0, _vcr_interaction(_CHAT_URI, bad_request, 200, answer)
    )
    assert refused.failures == []
    assert refused.refused == ["x/c.yaml#0 request body (400): messages: [] should be non-empty"]
    assert accepted.refused == []
    assert accepted.failures == [
        (
            "openai",
            "x/c.yaml#0 request body: rejected by openai.chat.request: messages: [] should be non-empty",
        )
    ]


def test_the_allow_list_never_excuses_a_vendor_body():
    """The same allow-listed rejection is excused from pydantic-ai's echo server and a failure from OpenAI."""
    request = copy.deepcopy(VALID["openai.chat.request"])
    answer = {"method": "POST", "pathname": "/chat/completions"}
    echo = "https://demo-endpoints.pydantic.workers.dev/bin/content-type/application/json/chat/completions"
    assert urlparse(echo).netloc in NOT_VENDOR_HOSTS
    name = Path("test_invalid_response.yaml")
    excused, vendor = TrafficReport(), TrafficReport()
    _check_interaction(excused, "openai", name, 0, _vcr_interaction(echo, request, 200, answer))
    _check_interaction(vendor, "openai", name, 0, _vcr_interaction(_CHAT_URI, request, 200, answer))
    assert excused.failures == [] and len(excused.allowed) == 1
    assert vendor.allowed == {}
    ((dialect, message),) = vendor.failures
    assert dialect == "openai"
    assert "'choices' is a required property" in message
    assert message.endswith("(allow-listed, but api.openai.com is a vendor API: what it sent must validate)")


def _comments(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from [value] if key == "$comment" else _comments(value)
    elif isinstance(node, list):
        for value in node:
            yield from _comments(value)


def test_every_loosening_names_recordings_that_exist(real_traffic):
    """Where a wire schema is looser than the vendor's written spec, its ``$comment`` says so and names the
    recorded cassette(s) that need it; each named cassette (a path under real-traffic/, globs allowed) exists."""
    named = 0
    for name in schemas.NAMES:
        for comment in _comments(schemas.load(name)):
            assert comment.startswith("Looser than") or "Not in" in comment, (name, comment)
            cited = re.findall(r"[\w./*\[\]-]+\.yaml", comment)
            assert cited, f"{name}: a $comment that names no recording: {comment}"
            for pattern in cited:
                assert list(real_traffic.glob(pattern)), f"{name}: {pattern} is not a recording"
                named += 1
    assert named >= 5


def test_out_of_scope_traffic_is_counted(traffic):
    print("out of scope:", dict(traffic.out_of_scope.most_common()))
    assert sum(traffic.out_of_scope.values()) > 0
    assert not any("chat/completions" in kind or ":generateContent" in kind for kind in traffic.out_of_scope)


# ----------------------------------------------------------------------------- 4. positive and broken fixtures


def _anthropic_message(**overrides: Any) -> dict[str, Any]:
    return {**copy.deepcopy(_A_MSG), **overrides}


VALID: dict[str, Any] = {
    "openai.chat.request": {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hi"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "42"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": "auto",
        "stream": False,
    },
    "openai.chat.response": {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"a": 1}'},
                        }
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    },
    "openai.chat.chunk": {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"a'}}]},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
        "usage": None,
        "obfuscation": "x1",
    },
    "openai.error": {
        "error": {
            "message": "Rate limit reached",
            "type": "tokens",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    },
    "openai.embeddings.request": {
        "input": ["a", "b"],
        "model": "text-embedding-3-small",
        "encoding_format": "base64",
    },
    "openai.embeddings.response": {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.1, -0.2]},
            {"object": "embedding", "index": 1, "embedding": "AAAA"},
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    },
    "openai.images.request": {
        "prompt": "an otter",
        "model": "gpt-image-1",
        "n": 1,
        "size": "1024x1024",
        "quality": "high",
    },
    "openai.images.response": {"created": 1700000000, "data": [{"b64_json": "AAAA"}]},
    "openai.audio.speech.request": {
        "model": "tts-1",
        "input": "hello",
        "voice": "alloy",
        "response_format": "wav",
    },
    "openai.audio.transcription.response": {"text": "hello", "usage": {"type": "duration", "seconds": 1.5}},
    "anthropic.messages.request": {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": "Hi"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]},
        ],
        "tools": [
            {"name": "f", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search"},
        ],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    },
    "anthropic.messages.response": _anthropic_message(),
    "anthropic.stream.event": {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "Hi"},
    },
    "anthropic.error": {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": "req_1",
    },
    "gemini.request": {
        "contents": [
            {
                "role": "user",
                "parts": [{"text": "Hi"}, {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}],
            },
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"result": 42}}}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT"}}]}],
        "generationConfig": {"maxOutputTokens": 100, "thinkingConfig": {"thinkingBudget": 0}},
    },
    "gemini.response": {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "abc",
    },
    "gemini.error": {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "36s"}],
        }
    },
    "gemini.embed.request": {"content": {"parts": [{"text": "hello"}]}, "taskType": "RETRIEVAL_QUERY"},
    "gemini.embed.response": {"embedding": {"values": [0.1, 0.2]}},
}


def test_every_schema_has_a_valid_fixture():
    assert sorted(VALID) == sorted(schemas.NAMES)


@pytest.mark.parametrize("name", schemas.NAMES)
def test_valid_fixture_accepted(name):
    assert_valid(name, VALID[name], "VALID fixture")


def _set(doc: Any, path: str, value: Any) -> None:
    """Set (or with value DELETE, remove) a dotted path; integer segments index lists."""
    *parents, last = path.split(".")
    for part in parents:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    key: Any = int(last) if isinstance(doc, list) else last
    if value is DELETE:
        del doc[key]
    else:
        doc[key] = value


DELETE = object()


def variant(name: str, **changes: Any) -> Any:
    """A copy of VALID[name] with dotted-path changes (`__` in a keyword stands for `.`)."""
    doc = copy.deepcopy(VALID[name])
    for path, value in changes.items():
        _set(doc, path.replace("__", "."), value)
    return doc


#: Azure OpenAI's first event of a chat stream, as recorded (openllmetry's test_azure chat streams).
AZURE_PROMPT_FILTER_CHUNK = {
    "choices": [],
    "created": 0,
    "id": "",
    "model": "",
    "object": "",
    "prompt_filter_results": [
        {"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}
    ],
}


# (schema, id, instance or changes, text that one problem must contain (field path / name))
BROKEN: list[tuple[str, str, Any, str]] = [
    # OpenAI chat request
    (
        "openai.chat.request",
        "missing-messages",
        variant("openai.chat.request", messages=DELETE),
        "'messages' is a required",
    ),
    (
        "openai.chat.request",
        "empty-messages",
        variant("openai.chat.request", messages=[]),
        "messages: [] should be non-empty",
    ),
    (
        "openai.chat.request",
        "unknown-role",
        variant("openai.chat.request", messages__0__role="bot"),
        "messages.0.role: 'bot' is not one of",
    ),
    (
        "openai.chat.request",
        "tool-call-arguments-object",
        variant("openai.chat.request", messages__2__tool_calls__0__function__arguments={"a": 1}),
        "messages.2.tool_calls.0.function.arguments: {'a': 1} is not of type 'string'",
    ),
    (
        "openai.chat.request",
        "tool-message-without-tool_call_id",
        variant("openai.chat.request", messages__3__tool_call_id=DELETE),
        "messages.3: 'tool_call_id' is a required",
    ),
    (
        "openai.chat.request",
        "text-part-without-text",
        variant("openai.chat.request", messages__1__content__0__text=DELETE),
        "messages.1.content.0: 'text' is a required",
    ),
    (
        "openai.chat.request",
        "tool-type-unknown",
        variant("openai.chat.request", tools__0__type="retrieval"),
        "tools.0.type",
    ),
    # OpenAI chat response
    (
        "openai.chat.response",
        "finish-reason-unknown",
        variant("openai.chat.response", choices__0__finish_reason="done"),
        "choices.0.finish_reason: 'done' is not one of",
    ),
    (
        "openai.chat.response",
        "tool-call-arguments-object",
        variant("openai.chat.response", choices__0__message__tool_calls__0__function__arguments={"a": 1}),
        "choices.0.message.tool_calls.0.function.arguments",
    ),
    (
        "openai.chat.response",
        "wrong-object",
        variant("openai.chat.response", object="chat.completion.chunk"),
        "object: 'chat.completion' was expected",
    ),
    (
        "openai.chat.response",
        "missing-created",
        variant("openai.chat.response", created=DELETE),
        "'created' is a required",
    ),
    (
        "openai.chat.response",
        "usage-tokens-string",
        variant("openai.chat.response", usage__total_tokens="3"),
        "usage.total_tokens",
    ),
    # ... next to the loosenings: content may be absent (Cerebras, Gemini's OpenAI endpoint), not of any type
    (
        "openai.chat.response",
        "message-content-number",
        variant("openai.chat.response", choices__0__message__content=5),
        "choices.0.message.content: 5 is not of type 'string', 'null'",
    ),
    (
        "openai.chat.response",
        "message-without-role",
        variant("openai.chat.response", choices__0__message__role=DELETE),
        "choices.0.message: 'role' is a required property",
    ),
    # ... a choice may lack message only when Azure content-filtered it (finish_reason and its results)
    (
        "openai.chat.response",
        "message-missing-on-a-normal-finish",
        variant("openai.chat.response", choices__0__message=DELETE, choices__0__content_filter_results={}),
        "choices.0: 'message' is a required property",
    ),
    (
        "openai.chat.response",
        "message-missing-content-filter-without-results",
        variant(
            "openai.chat.response", choices__0__message=DELETE, choices__0__finish_reason="content_filter"
        ),
        "choices.0: 'message' is a required property",
    ),
    (
        "openai.chat.response",
        "content-filter-results-not-an-object",
        variant(
            "openai.chat.response",
            choices__0__message=DELETE,
            choices__0__finish_reason="content_filter",
            choices__0__content_filter_results=[],
        ),
        "choices.0.content_filter_results: [] is not of type 'object'",
    ),
    # OpenAI chunk
    (
        "openai.chat.chunk",
        "choice-without-delta",
        variant("openai.chat.chunk", choices__0__delta=DELETE),
        "choices.0: 'delta' is a required",
    ),
    (
        "openai.chat.chunk",
        "tool-call-delta-without-index",
        variant("openai.chat.chunk", choices__0__delta__tool_calls__0__index=DELETE),
        "choices.0.delta.tool_calls.0: 'index' is a required",
    ),
    (
        "openai.chat.chunk",
        "wrong-object",
        variant("openai.chat.chunk", object="chat.completion"),
        "object: 'chat.completion.chunk' was expected",
    ),
    (
        "openai.chat.chunk",
        "finish-reason-unknown",
        variant("openai.chat.chunk", choices__0__finish_reason="end"),
        "choices.0.finish_reason",
    ),
    # ... next to the loosening: Azure's prompt-filter chunk is recognised by prompt_filter_results alone
    (
        "openai.chat.chunk",
        "empty-object-without-prompt-filter-results",
        {"id": "", "object": "", "created": 0, "model": "", "choices": []},
        "object: 'chat.completion.chunk' was expected",
    ),
    (
        "openai.chat.chunk",
        "prompt-filter-chunk-with-choices",
        {**AZURE_PROMPT_FILTER_CHUNK, "choices": copy.deepcopy(VALID["openai.chat.chunk"]["choices"])},
        "choices: [{'index': 0",
    ),
    (
        "openai.chat.chunk",
        "prompt-filter-result-without-index",
        {**AZURE_PROMPT_FILTER_CHUNK, "prompt_filter_results": [{"content_filter_results": {}}]},
        "prompt_filter_results.0: 'prompt_index' is a required property",
    ),
    # OpenAI error
    (
        "openai.error",
        "not-wrapped",
        {"message": "x", "type": "t", "param": None, "code": None},
        "$: 'error' is a required",
    ),
    (
        "openai.error",
        "missing-message",
        variant("openai.error", error__message=DELETE),
        "error: 'message' is a required",
    ),
    (
        "openai.error",
        "code-integer",
        variant("openai.error", error__code=429),
        "error.code: 429 is not of type",
    ),
    (
        "openai.error",
        "type-number",  # null is allowed (Azure content filter), other types are not
        variant("openai.error", error__type=5),
        "error.type: 5 is not of type 'string', 'null'",
    ),
    # ... next to the loosening: only Azure API Management's two-key {code, message} may lack type and param
    (
        "openai.error",
        "missing-type-beside-param",
        variant("openai.error", error__type=DELETE),
        "'type' is a required property",
    ),
    (
        "openai.error",
        "gateway-shape-with-another-field",
        {"error": {"code": "401", "message": "Access denied", "status": 401}},
        "'status' is not one of ['code', 'message']",
    ),
    (
        "openai.error",
        "gateway-shape-code-null",
        {"error": {"code": None, "message": "Access denied"}},
        "error.code: None is not of type 'string'",
    ),
    (
        "openai.error",
        "missing-code",
        variant("openai.error", error__code=DELETE),
        "error: 'code' is a required property",
    ),
    # OpenAI embeddings
    (
        "openai.embeddings.request",
        "missing-input",
        variant("openai.embeddings.request", input=DELETE),
        "'input' is a required",
    ),
    (
        "openai.embeddings.request",
        "empty-input-list",
        variant("openai.embeddings.request", input=[]),
        "input",
    ),
    (
        "openai.embeddings.request",
        "encoding-format-unknown",
        variant("openai.embeddings.request", encoding_format="int8"),
        "encoding_format: 'int8' is not one of",
    ),
    (
        "openai.embeddings.response",
        "wrong-item-object",
        variant("openai.embeddings.response", data__0__object="vector"),
        "data.0.object",
    ),
    (
        "openai.embeddings.response",
        "missing-usage",
        variant("openai.embeddings.response", usage=DELETE),
        "'usage' is a required",
    ),
    (
        "openai.embeddings.response",
        "missing-index",
        variant("openai.embeddings.response", data__1__index=DELETE),
        "data.1: 'index' is a required",
    ),
    # OpenAI images
    (
        "openai.images.request",
        "missing-prompt",
        variant("openai.images.request", prompt=DELETE),
        "'prompt' is a required",
    ),
    ("openai.images.request", "n-string", variant("openai.images.request", n="1"), "n: '1' is not of type"),
    (
        "openai.images.request",
        "quality-unknown",
        variant("openai.images.request", quality="ultra"),
        "quality",
    ),
    (
        "openai.images.response",
        "missing-created",
        variant("openai.images.response", created=DELETE),
        "'created' is a required",
    ),
    (
        "openai.images.response",
        "data-not-array",
        variant("openai.images.response", data={"b64_json": "x"}),
        "data: {'b64_json': 'x'} is not of type 'array'",
    ),
    (
        "openai.images.response",
        "stream-event-unknown",
        {"type": "image_generation.done", "b64_json": "x"},
        "type: 'image_generation.done' is not one of",
    ),
    (
        "openai.images.response",
        "partial-without-index",
        {"type": "image_generation.partial_image", "b64_json": "x"},
        "'partial_image_index' is a required",
    ),
    # OpenAI speech
    (
        "openai.audio.speech.request",
        "missing-voice",
        variant("openai.audio.speech.request", voice=DELETE),
        "'voice' is a required",
    ),
    (
        "openai.audio.speech.request",
        "speed-too-high",
        variant("openai.audio.speech.request", speed=10),
        "speed: 10 is greater than the maximum",
    ),
    (
        "openai.audio.speech.request",
        "format-unknown",
        variant("openai.audio.speech.request", response_format="ogg"),
        "response_format: 'ogg' is not one of",
    ),
    # OpenAI transcription
    (
        "openai.audio.transcription.response",
        "missing-text",
        variant("openai.audio.transcription.response", text=DELETE),
        "'text' is a required",
    ),
    (
        "openai.audio.transcription.response",
        "usage-type-unknown",
        variant("openai.audio.transcription.response", usage__type="bytes"),
        "usage.type: 'bytes' is not one of",
    ),
    (
        "openai.audio.transcription.response",
        "delta-event-without-delta",
        {"type": "transcript.text.delta"},
        "'delta' is a required",
    ),
    (
        "openai.audio.transcription.response",
        "verbose-segment-without-tokens",
        {
            "task": "transcribe",
            "language": "en",
            "duration": 1.0,
            "text": "hi",
            "segments": [{"id": 0, "seek": 0, "start": 0, "end": 1, "text": "hi"}],
        },
        "segments.0: 'tokens' is a required",
    ),
    # Anthropic request
    (
        "anthropic.messages.request",
        "missing-max_tokens",
        variant("anthropic.messages.request", max_tokens=DELETE),
        "'max_tokens' is a required",
    ),
    (
        "anthropic.messages.request",
        "system-role-in-messages",
        variant("anthropic.messages.request", messages__0__role="system"),
        "messages.0.role: 'system' is not one of",
    ),
    (
        "anthropic.messages.request",
        "tool-use-input-string",
        variant("anthropic.messages.request", messages__1__content__0__input="{}"),
        "messages.1.content.0.input: '{}' is not of type 'object'",
    ),
    (
        "anthropic.messages.request",
        "tool-result-without-id",
        variant("anthropic.messages.request", messages__2__content__0__tool_use_id=DELETE),
        "messages.2.content.0: 'tool_use_id' is a required",
    ),
    (
        "anthropic.messages.request",
        "image-media-type-unknown",
        variant(
            "anthropic.messages.request",
            messages__0__content=[
                {"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "AA"}}
            ],
        ),
        "messages.0.content.0.source.media_type: 'image/bmp' is not one of",
    ),
    (
        "anthropic.messages.request",
        "thinking-budget-too-small",
        variant("anthropic.messages.request", thinking__budget_tokens=100),
        "thinking.budget_tokens: 100 is less than the minimum of 1024",
    ),
    (
        "anthropic.messages.request",
        "custom-tool-without-input_schema",
        variant("anthropic.messages.request", tools__0__input_schema=DELETE),
        "tools.0: 'input_schema' is a required",
    ),
    (
        "anthropic.messages.request",
        "unknown-block-without-type",
        variant("anthropic.messages.request", messages__1__content=[{"kind": "x"}]),
        "messages.1.content.0: 'type' is a required",
    ),
    # Anthropic response
    (
        "anthropic.messages.response",
        "stop-reason-unknown",
        variant("anthropic.messages.response", stop_reason="stopped"),
        "stop_reason: 'stopped' is not one of",
    ),
    (
        "anthropic.messages.response",
        "tool-use-without-id",
        variant("anthropic.messages.response", content=[{"type": "tool_use", "name": "f", "input": {}}]),
        "content.0: 'id' is a required",
    ),
    (
        "anthropic.messages.response",
        "wrong-type",
        variant("anthropic.messages.response", type="msg"),
        "type: 'message' was expected",
    ),
    (
        "anthropic.messages.response",
        "usage-tokens-string",
        variant("anthropic.messages.response", usage__input_tokens="1"),
        "usage.input_tokens: '1' is not of type 'integer'",
    ),
    (
        "anthropic.messages.response",
        "missing-usage",
        variant("anthropic.messages.response", usage=DELETE),
        "'usage' is a required",
    ),
    # Anthropic stream
    (
        "anthropic.stream.event",
        "unknown-event-type",
        {"type": "content_block_pause", "index": 0},
        "type: 'content_block_pause' is not one of",
    ),
    (
        "anthropic.stream.event",
        "delta-without-index",
        variant("anthropic.stream.event", index=DELETE),
        "$: 'index' is a required",
    ),
    (
        "anthropic.stream.event",
        "delta-type-unknown",
        variant("anthropic.stream.event", delta={"type": "json_delta", "partial_json": "{"}),
        "delta.type: 'json_delta' is not one of",
    ),
    (
        "anthropic.stream.event",
        "text-delta-without-text",
        variant("anthropic.stream.event", delta={"type": "text_delta"}),
        "delta: 'text' is a required",
    ),
    (
        "anthropic.stream.event",
        "message-delta-without-usage",
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}},
        "'usage' is a required",
    ),
    (
        "anthropic.stream.event",
        "message-start-without-id",
        {"type": "message_start", "message": {k: v for k, v in _A_MSG.items() if k != "id"}},
        "message: 'id' is a required",
    ),
    (
        "anthropic.stream.event",
        "block-stop-negative-index",
        {"type": "content_block_stop", "index": -1},
        "index: -1 is less than the minimum",
    ),
    ("anthropic.stream.event", "error-without-error", {"type": "error"}, "'error' is a required"),
    # Anthropic error
    (
        "anthropic.error",
        "error-type-unknown",
        variant("anthropic.error", error__type="oops_error"),
        "error.type: 'oops_error' is not one of",
    ),
    (
        "anthropic.error",
        "missing-message",
        variant("anthropic.error", error__message=DELETE),
        "error: 'message' is a required",
    ),
    (
        "anthropic.error",
        "wrong-type",
        variant("anthropic.error", type="failure"),
        "type: 'error' was expected",
    ),
    # Gemini request
    (
        "gemini.request",
        "missing-contents",
        variant("gemini.request", contents=DELETE),
        "'contents' is a required",
    ),
    (
        "gemini.request",
        "assistant-role",
        variant("gemini.request", contents__1__role="assistant"),
        "contents.1.role: 'assistant' is not one of",
    ),
    (
        "gemini.request",
        "function-call-without-name",
        variant("gemini.request", contents__1__parts__0__functionCall__name=DELETE),
        "contents.1.parts.0.functionCall: 'name' is a required",
    ),
    (
        "gemini.request",
        "function-call-args-string",
        variant("gemini.request", contents__1__parts__0__functionCall__args="{}"),
        "contents.1.parts.0.functionCall.args: '{}' is not of type 'object'",
    ),
    (
        "gemini.request",
        "snake-case-inline-data-without-mime-type",
        variant("gemini.request", contents__0__parts__1={"inline_data": {"data": "AAAA"}}),
        "contents.0.parts.1.inline_data",
    ),
    (
        "gemini.request",
        "empty-part",
        variant("gemini.request", contents__0__parts__0={}),
        "contents.0.parts.0: {} should be non-empty",
    ),
    (
        "gemini.request",
        "snake-case-generation-config-wrong-type",
        variant("gemini.request", generation_config={"max_output_tokens": "100"}),
        "generation_config.max_output_tokens: '100' is not of type 'integer'",
    ),
    # Gemini response
    (
        "gemini.response",
        "system-role",
        variant("gemini.response", candidates__0__content__role="system"),
        "candidates.0.content.role: 'system' is not one of",
    ),
    (
        "gemini.response",
        "assistant-role",
        variant("gemini.response", candidates__0__content__role="assistant"),
        "candidates.0.content.role",
    ),
    (
        "gemini.response",
        "finish-reason-unknown",
        variant("gemini.response", candidates__0__finishReason="FINISHED"),
        "candidates.0.finishReason: 'FINISHED' is not one of",
    ),
    (
        "gemini.response",
        "function-call-args-string",
        variant(
            "gemini.response", candidates__0__content__parts__0={"functionCall": {"name": "f", "args": "{}"}}
        ),
        "candidates.0.content.parts.0.functionCall.args: '{}' is not of type 'object'",
    ),
    (
        "gemini.response",
        "usage-string",
        variant("gemini.response", usageMetadata__totalTokenCount="2"),
        "usageMetadata.totalTokenCount: '2' is not of type 'integer'",
    ),
    ("gemini.response", "empty-object", {}, "'candidates' is a required"),
    # Gemini error
    (
        "gemini.error",
        "status-unknown",
        variant("gemini.error", error__status="BAD"),
        "error.status: 'BAD' is not one of",
    ),
    (
        "gemini.error",
        "code-string",
        variant("gemini.error", error__code="429"),
        "error.code: '429' is not of type 'integer'",
    ),
    (
        "gemini.error",
        "missing-message",
        variant("gemini.error", error__message=DELETE),
        "error: 'message' is a required",
    ),
    # Gemini embeddings
    (
        "gemini.embed.request",
        "missing-content",
        variant("gemini.embed.request", content=DELETE),
        "'content' is a required",
    ),
    (
        "gemini.embed.request",
        "task-type-unknown",
        variant("gemini.embed.request", taskType="SEARCH"),
        "taskType: 'SEARCH' is not one of",
    ),
    (
        "gemini.embed.request",
        "batch-item-without-model",
        {"requests": [copy.deepcopy(VALID["gemini.embed.request"])]},
        "requests.0: 'model' is a required",
    ),
    (
        "gemini.embed.response",
        "values-strings",
        {"embedding": {"values": ["0.1"]}},
        "embedding.values.0: '0.1' is not of type 'number'",
    ),
    ("gemini.embed.response", "empty-object", {}, "'embedding' is a required"),
]


@pytest.mark.parametrize(
    ("name", "instance", "expected"), [pytest.param(n, i, e, id=f"{n}:{case}") for n, case, i, e in BROKEN]
)
def test_broken_instance_rejected(name, instance, expected):
    found = schemas.problems(name, instance)
    assert found, f"{name} accepted a broken instance"
    assert any(expected in p for p in found), f"expected a problem containing {expected!r}, got {found}"


def test_every_schema_has_two_broken_fixtures():
    per_schema = collections.Counter(name for name, *_ in BROKEN)
    assert {n: per_schema[n] for n in schemas.NAMES if per_schema[n] < 2} == {}


# Additions the schemas must tolerate: unknown fields, unknown content-block types, snake_case Gemini.
OPEN: list[tuple[str, str, Any]] = [
    (
        "openai.chat.request",
        "unknown-top-level-field",
        variant("openai.chat.request", future_option={"x": 1}),
    ),
    (
        "openai.chat.request",
        "unknown-content-part-type",
        variant("openai.chat.request", messages__1__content__1={"type": "input_video", "video": {}}),
    ),
    (
        "openai.chat.response",
        "unknown-message-field",
        variant("openai.chat.response", choices__0__message__reasoning_content="..."),
    ),
    (
        "openai.chat.chunk",
        "usage-only-chunk",
        variant(
            "openai.chat.chunk",
            choices=[],
            usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        ),
    ),
    # what real vendors send beyond OpenAI's written spec (the schemas' $comment names each recording)
    (
        "openai.chat.response",
        "tool-call-message-without-content",
        variant("openai.chat.response", choices__0__message__content=DELETE),
    ),
    (
        "openai.chat.response",
        "azure-content-filtered-choice-without-message",
        variant(
            "openai.chat.response",
            choices__0__message=DELETE,
            choices__0__finish_reason="content_filter",
            choices__0__content_filter_results={"hate": {"filtered": True, "severity": "high"}},
        ),
    ),
    ("openai.chat.chunk", "azure-prompt-filter-chunk", AZURE_PROMPT_FILTER_CHUNK),
    (
        "openai.chat.chunk",
        "prompt-filter-results-on-an-openai-chunk",
        variant("openai.chat.chunk", prompt_filter_results=[{"prompt_index": 0}]),
    ),
    ("openai.error", "azure-api-management-401", {"error": {"code": "401", "message": "Access denied"}}),
    (
        "anthropic.messages.request",
        "unknown-block-type",
        variant(
            "anthropic.messages.request", messages__1__content=[{"type": "compaction", "content": "..."}]
        ),
    ),
    (
        "anthropic.messages.request",
        "server-tool",
        variant(
            "anthropic.messages.request",
            tools__1={"type": "code_execution_20250825", "name": "code_execution"},
        ),
    ),
    (
        "anthropic.messages.response",
        "unknown-block-type",
        variant("anthropic.messages.response", content=[{"type": "mcp_tool_use", "id": "x"}]),
    ),
    (
        "anthropic.messages.response",
        "stop-reason-null",
        variant("anthropic.messages.response", stop_reason=None),
    ),
    (
        "anthropic.messages.response",
        "model-context-window-exceeded",
        variant("anthropic.messages.response", stop_reason="model_context_window_exceeded"),
    ),
    ("anthropic.stream.event", "ping", {"type": "ping"}),
    (
        "anthropic.stream.event",
        "unknown-block-in-start",
        {"type": "content_block_start", "index": 1, "content_block": {"type": "advisor_tool_result", "x": 1}},
    ),
    (
        "gemini.request",
        "snake-case-everywhere",
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"inline_data": {"mime_type": "image/png", "data": "AAAA"}},
                        {"file_data": {"file_uri": "gs://x"}},
                    ],
                }
            ],
            "system_instruction": {"parts": [{"text": "Be brief."}]},
            "tools": [
                {"function_declarations": [{"name": "f", "parameters_json_schema": {"type": "object"}}]}
            ],
            "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
            "generation_config": {"max_output_tokens": 5, "thinking_config": {"include_thoughts": True}},
            "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        },
    ),
    (
        "gemini.response",
        "blocked-prompt",
        {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}},
    ),
    ("gemini.response", "empty-candidate-content", variant("gemini.response", candidates__0__content={})),
    (
        "gemini.embed.request",
        "batch",
        {"requests": [{"model": "models/text-embedding-004", "content": {"parts": [{"text": "a"}]}}]},
    ),
]


@pytest.mark.parametrize(("name", "instance"), [pytest.param(n, i, id=f"{n}:{case}") for n, case, i in OPEN])
def test_additions_accepted(name, instance):
    assert_valid(name, instance, "addition")
