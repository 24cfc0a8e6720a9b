"""Generated replies: deterministic, self-consistent, and shaped by what the request asks for."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mocks.engine import MockUpstream, Request
from mocks.generate import (
    Ask,
    Tool,
    answer_for,
    audio_bytes,
    embedding,
    png_bytes,
    rng_for,
    sample_from_schema,
)

OPENAI = ("/v1/chat/completions", [("authorization", "Bearer k")])
ANTHROPIC = ("/v1/messages", [("x-api-key", "k")])


def reply(route: tuple[str, list], body: dict, script: dict | None = None) -> tuple[bytes, dict]:
    path, headers = route
    got = MockUpstream(script).handle(Request("POST", path, headers, json.dumps(body).encode()))
    return got.body, dict(got.headers)


@given(text=st.text(max_size=60), model=st.sampled_from(["gpt-4o", "gpt-4o-mini"]))
def test_same_request_same_bytes(text: str, model: str) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    assert reply(OPENAI, body)[0] == reply(OPENAI, body)[0]


def test_the_script_seed_changes_the_answer() -> None:
    body = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    assert reply(ANTHROPIC, body, {"seed": 1})[0] != reply(ANTHROPIC, body, {"seed": 2})[0]


def test_openai_usage_adds_up_and_max_tokens_cuts() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "describe the forecast " * 20}]}
    full = json.loads(reply(OPENAI, body)[0])
    usage = full["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] >= len(json.dumps(body)) // 4 - 5  # estimated from the request size
    cut = json.loads(reply(OPENAI, {**body, "max_completion_tokens": 3})[0])
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] <= 3


def test_forced_tool_choice_and_tool_results() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        }
    ]
    asked = {
        "model": "m",
        "messages": [{"role": "user", "content": "anything"}],
        "tools": tools,
        "tool_choice": "required",
    }
    message = json.loads(reply(OPENAI, asked)[0])["choices"][0]["message"]
    assert message["tool_calls"][0]["function"]["name"] == "lookup"
    auto = json.loads(reply(OPENAI, {**asked, "tool_choice": "auto"})[0])["choices"][0]
    assert auto["finish_reason"] == "stop"  # not named in the text, not forced: no call
    answered = {
        **asked,
        "tool_choice": "auto",
        "messages": [
            {"role": "user", "content": "use lookup"},
            {"role": "assistant", "content": None, "tool_calls": message["tool_calls"]},
            {"role": "tool", "tool_call_id": message["tool_calls"][0]["id"], "content": "42"},
        ],
    }
    assert json.loads(reply(OPENAI, answered)[0])["choices"][0]["finish_reason"] == "stop"


def test_anthropic_thinking_and_cache_usage() -> None:
    system = [{"type": "text", "text": "rules " * 100, "cache_control": {"type": "ephemeral"}}]
    body = {
        "model": "m",
        "max_tokens": 4000,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "system": system,
        "messages": [{"role": "user", "content": "hello"}],
    }
    message = json.loads(reply(ANTHROPIC, body)[0])
    assert [b["type"] for b in message["content"]] == ["thinking", "text"]
    assert message["content"][0]["signature"]
    usage = message["usage"]
    assert usage["cache_read_input_tokens"] > 100 and usage["input_tokens"] > 0


def test_sample_from_schema_fills_every_property() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "unit": {"enum": ["c", "f"]},
            "tags": {"type": "array", "items": {"type": "STRING"}},
            "nested": {"type": "OBJECT", "properties": {"ok": {"type": "BOOLEAN"}}},
            "maybe": {"type": ["null", "number"]},
        },
    }
    value = sample_from_schema(schema, rng_for("x"))
    assert set(value) == set(schema["properties"])
    assert 1 <= value["days"] <= 7 and value["unit"] in ("c", "f")
    assert isinstance(value["tags"][0], str) and isinstance(value["nested"]["ok"], bool)
    assert isinstance(value["maybe"], float)


def test_answer_names_tools_in_order_of_mention() -> None:
    tools = (Tool("alpha", {}), Tool("beta", {}))
    answer = answer_for(Ask(last_user_text="first beta then alpha", tools=tools), rng_for("t"))
    assert [c.name for c in answer.tool_calls] == ["beta", "alpha"]
    assert answer.finish == "tool_calls" and answer.text is None


@pytest.mark.parametrize("dims", [1, 8, 1536])
def test_embeddings_are_float32_unit_vectors(dims: int) -> None:
    vector = embedding("k", dims)
    assert len(vector) == dims
    assert sum(x * x for x in vector) == pytest.approx(1.0, rel=1e-5)
    assert list(struct.unpack(f"<{dims}f", struct.pack(f"<{dims}f", *vector))) == vector


def test_png_is_valid() -> None:
    png = png_bytes(rng_for("p"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    kinds = []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + data)
        kinds.append(kind)
        pos += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]


@pytest.mark.parametrize(
    ("fmt", "magic"),
    [("mp3", b"\xff\xfb"), ("wav", b"RIFF"), ("flac", b"fLaC"), ("opus", b"OggS"), ("aac", b"\xff\xf1")],
)
def test_audio_formats_start_with_their_magic(fmt: str, magic: bytes) -> None:
    assert audio_bytes(fmt, "hello").startswith(magic)
