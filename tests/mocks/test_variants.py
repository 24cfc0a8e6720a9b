"""Wire variants (mocks/variants.py): every variant's bytes are legal and mean what the plain bytes mean,
read with wirecheck's own decoders and with the official SDKs; Gemini's streamed array has Google's
separators; minimal and maximal replies validate against the wire schemas; literal replies keep their
bytes; the Azure mock routes by deployment without ``model``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from harness.checks.facts import schema_problems
from mocks.engine import HostedUpstream, MockUpstream, Request
from mocks.reply import Reply
from mocks.script import ScriptError, parse_script
from mocks.variants import VARIANTS, resolve_names
from providers.jsonstream import JSONArrayDecoder
from providers.sse import SSEDecoder, is_done

TEXT = "Grüße aus Zürich — ½ price, 東京 ✓ and more words to cut"
ANSWER = {"text": TEXT, "usage": {"prompt": 12, "completion": 9}}
HEADERS = [
    ("authorization", "Bearer k"),
    ("x-api-key", "k"),
    ("anthropic-version", "2023-06-01"),
    ("x-goog-api-key", "k"),
    ("content-type", "application/json"),
]
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "openai": (
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True},
    ),
    "anthropic": (
        "/v1/messages",
        {"model": "claude-x", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}], "stream": True},
    ),
    "gemini": ("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", {"contents": [{"parts": [{"text": "hi"}]}]}),
}  # fmt: skip


def _reply(dialect: str, variant: str, *, stream: bool = True, path: str | None = None) -> Reply:
    target, body = CALLS[dialect]
    body = dict(body)
    if not stream:
        body.pop("stream", None)
        target = target.replace(":streamGenerateContent?alt=sse", ":generateContent")
    up = MockUpstream({"variant": variant, "rules": [{"reply": {"answer": ANSWER}}]})
    return up.handle(Request("POST", path or target, HEADERS, json.dumps(body).encode()))


def _sse_items(reply: Reply) -> list[dict[str, Any]]:
    """The JSON of every event, the frames fed to the decoder one write at a time."""
    decoder = SSEDecoder()
    events = [e for f in reply.frames for e in decoder.feed(f.data)] + decoder.close()
    return [json.loads(e.data) for e in events if not is_done(e) and e.data.strip()]


def _text(dialect: str, items: list[dict[str, Any]]) -> str:
    if dialect == "openai":
        return "".join(c["delta"].get("content") or "" for i in items for c in i.get("choices", []))
    if dialect == "anthropic":
        return "".join(i["delta"].get("text", "") for i in items if i["type"] == "content_block_delta")
    return "".join(p.get("text", "") for i in items for c in i["candidates"] for p in c["content"]["parts"])


@pytest.mark.parametrize("dialect", sorted(CALLS))
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_decodes_to_the_plain_answer(dialect: str, variant: str) -> None:
    reply = _reply(dialect, variant)
    assert reply.status == 200
    items = _sse_items(reply)
    assert _text(dialect, items) == TEXT
    plain = _sse_items(_reply(dialect, "plain"))
    assert len(items) == len(plain)
    schema = {
        "openai": "openai.chat.chunk",
        "anthropic": "anthropic.stream.event",
        "gemini": "gemini.response",
    }
    assert [p for i in items for p in schema_problems(schema[dialect], i)] == []


@pytest.mark.parametrize("dialect", sorted(CALLS))
def test_line_end_variants_end_every_line_alike(dialect: str) -> None:
    crlf, cr, lf = (_reply(dialect, v).body for v in ("crlf", "cr", "lf"))
    assert b"\r\n\r\n" in crlf and b"\n\n" not in crlf.replace(b"\r\n", b"")
    assert b"\n" not in cr and b"\r\r" in cr
    assert b"\r" not in lf and b"\n\n" in lf


def test_writes_variants_regroup_the_same_bytes() -> None:
    plain, many, split = (_reply("anthropic", v) for v in ("plain", "many-per-write", "split"))
    assert plain.body == many.body == split.body
    assert len(many.frames) < len(plain.frames)
    assert sum(f.data.count(b"\n\n") > 1 for f in many.frames) > 0  # several events in one write
    assert len(split.frames) > 3 * len(plain.frames)
    cut_in_a_character = 0
    for f in split.frames:
        try:
            f.data.decode("utf-8")
        except UnicodeDecodeError:
            cut_in_a_character += 1
    assert cut_in_a_character > 0


@pytest.mark.parametrize("dialect", sorted(CALLS))
@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("variant", ["minimal", "maximal", "key-order"])
def test_shaped_replies_validate_against_the_schemas(dialect: str, stream: bool, variant: str) -> None:
    reply = _reply(dialect, variant, stream=stream)
    plain = _reply(dialect, "plain", stream=stream)
    if stream:
        items, before = _sse_items(reply), _sse_items(plain)
        schema = {"openai": "openai.chat.chunk", "anthropic": "anthropic.stream.event"}.get(
            dialect, "gemini.response"
        )
    else:
        items, before = [json.loads(reply.body)], [json.loads(plain.body)]
        schema = {"openai": "openai.chat.response", "anthropic": "anthropic.messages.response"}.get(
            dialect, "gemini.response"
        )  # fmt: skip
    assert [p for i in items for p in schema_problems(schema, i)] == []
    keys = sum(len(json.dumps(i)) for i in items)
    if variant == "minimal":
        assert keys < sum(len(json.dumps(i)) for i in before)
    if variant == "maximal":
        assert all("x_new_field" in i for i in items if i.get("type") != "ping")  # the ping is raw bytes
    if variant == "key-order":
        assert list(items[0]) == list(reversed(before[0]))


def test_minimal_gemini_leaves_out_the_optional_ids() -> None:
    reply = json.loads(_reply("gemini", "minimal", stream=False).body)
    assert "responseId" not in reply and "modelVersion" not in reply
    assert "index" not in reply["candidates"][0]
    assert "".join(p["text"] for p in reply["candidates"][0]["content"]["parts"]) == TEXT


def test_literal_replies_keep_their_bytes() -> None:
    events = [{"data": {"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}]}}]
    for reply in ({"events": events, "done": True}, {"json": {"a": 1}}, {"body": "exact\n\nbytes"}):
        plain = MockUpstream({"rules": [{"reply": reply}]})
        varied = MockUpstream({"variant": "crlf", "rules": [{"reply": reply}]})
        path, body = CALLS["openai"]
        request = Request("POST", path, HEADERS, json.dumps(body).encode())
        assert varied.handle(request).body == plain.handle(request).body
    with pytest.raises(ScriptError, match="variant"):
        parse_script({"variant": "sideways"})
    assert resolve_names("crlf,default") == ("plain", "crlf")
    assert resolve_names("all") == tuple(VARIANTS)
    with pytest.raises(ValueError, match="unknown variant 'nope'"):
        resolve_names("nope")


# --- Gemini's streamed JSON array ---------------------------------------------------------------------------

#: docs/wire.md#gemini-streaming, from a real recording: "[{\n", "\n}\n,\r\n{\n" between elements,
#: "\n}\n]" at the end with no final newline.
GOOGLE_SEPARATORS = (b"[{\n", b"\n}\n,\r\n{\n", b"\n}\n]")


def _separators(body: bytes) -> list[bytes]:
    """The bytes between elements: every run of structural bytes at the top level (start, between, end)."""
    return re.findall(rb"^\[\{\n|\n\}\n,\r\n\{\n|\n\}\n\]$", body)


def test_gemini_array_stream_has_googles_separators() -> None:
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    reply = _reply("gemini", "plain", path=path)
    body = reply.body
    assert reply.headers and dict(reply.headers)["content-type"].startswith("application/json")
    found = _separators(body)
    assert found[0] == GOOGLE_SEPARATORS[0] and found[-1] == GOOGLE_SEPARATORS[2]
    assert set(found[1:-1]) == {GOOGLE_SEPARATORS[1]} and len(found) >= 3
    assert not body.endswith(b"\n") and b'": ' in body and b"\n  " in body  # pretty, two-space indents
    decoder = JSONArrayDecoder()
    items = [i for f in _reply("gemini", "split", path=path).frames for i in decoder.feed(f.data)]
    decoder.close()
    assert _text("gemini", items) == TEXT
    recorded = _recorded_array_bodies()
    for recording in recorded:  # a corpus with such a recording: the same separators, byte for byte
        assert set(_separators(recording)) <= set(GOOGLE_SEPARATORS)


def _recorded_array_bodies() -> list[bytes]:
    """Non-``alt=sse`` stream bodies in the real-traffic corpus, when it holds any (it holds only
    ``alt=sse`` calls today: the separators above are those docs/wire.md quotes from a real recording)."""
    import os

    import yaml

    root = Path(os.environ.get("WIRECHECK_CORPUS", Path(__file__).resolve().parents[3] / "shared"))
    out = []
    for path in sorted((root / "real-traffic" / "google").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if ":streamGenerateContent" not in text:
            continue
        for interaction in (yaml.safe_load(text) or {}).get("interactions", []):
            uri = interaction["request"].get("uri", "")
            body = (interaction["response"].get("body") or {}).get("string")
            if ":streamGenerateContent" in uri and "alt=sse" not in uri and isinstance(body, str):
                out.append(body.encode())
    return out


# --- the official SDKs against every variant -----------------------------------------------------------------


@pytest.fixture
def server(mock_upstream_server: HostedUpstream) -> HostedUpstream:
    return mock_upstream_server


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_sdks_read_every_variant(server: HostedUpstream, variant: str) -> None:
    server.script({"variant": variant, "rules": [{"reply": {"answer": ANSWER}}]})
    client = openai.OpenAI(base_url=server.urls["openai"], api_key="sk-test", max_retries=0, timeout=5)
    chunks = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    claude = anthropic.Anthropic(
        base_url=server.urls["anthropic"], api_key="sk-ant", max_retries=0, timeout=5
    )
    with claude.messages.stream(
        model="claude-x", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        assert "".join(stream.text_stream) == TEXT
    options = genai_types.HttpOptions(base_url=server.url, api_version="v1beta", timeout=5000)
    gemini = genai.Client(api_key="g-test", http_options=options)
    parts = gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
    assert "".join(p.text or "" for p in parts) == TEXT
    whole = gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert whole.text == TEXT


def test_azure_routes_by_deployment_without_model(server: HostedUpstream) -> None:
    url = server.url + "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21"
    body = {"messages": [{"role": "user", "content": "hi"}]}
    reply = httpx.post(url, json=body, headers={"api-key": "k"}, timeout=5)
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["role"] == "assistant"
    missing = httpx.post(url, json={"model": "x"}, headers={"api-key": "k"}, timeout=5)
    assert missing.status_code == 400 and "messages" in missing.text
