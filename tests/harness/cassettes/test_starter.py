"""The shipped starter set: exactly what ``harness/cassettes/starter.py`` produces (so it is regenerated, never
hand-edited silently), covering every provider and method family, valid, indexed, synthetic."""

from __future__ import annotations

import collections

from harness.cassettes import format as fmt
from harness.cassettes.index import derive
from harness.cassettes.starter import RECORDED_AT, STARTERS, generate, render

from .corpus import STARTER_DIR, starter


def test_committed_files_equal_what_the_generator_produces():
    expected = render(generate())
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in sorted(STARTER_DIR.glob("*.yaml"))}
    assert sorted(on_disk) == sorted(expected), "run: python -m harness.cassettes.starter"
    for name, text in expected.items():
        assert on_disk[name] == text, (
            f"cassettes/{name} differs from the generator's output: run python -m harness.cassettes.starter"
        )


def test_the_set_covers_every_provider_and_method_family():
    seen = collections.Counter()
    for cassette in starter():
        for it in cassette.interactions:
            i = it.index
            seen[(i["dialect"], i["kind"], i["stream"])] += 1
            if i.get("tools"):
                seen[(i["dialect"], "tools", i["stream"])] += 1
            if it.response.status == 429:
                seen[(i["dialect"], "429")] += 1
                # Gemini says when to retry in the body (google.rpc.RetryInfo), the others in a header
                assert it.response.header("retry-after") or b"RetryInfo" in it.response.body
            if it.response.chunks is not None and "error" in i:
                seen[(i["dialect"], "mid-stream error")] += 1
    for want in [
        ("openai", "chat", False),
        ("openai", "chat", True),
        ("openai", "tools", True),
        ("azure", "chat", False),
        ("azure", "chat", True),
        ("anthropic", "messages", False),
        ("anthropic", "messages", True),
        ("anthropic", "tools", True),
        ("anthropic", "tools", False),
        ("gemini", "generate", False),
        ("gemini", "generate", True),
        ("gemini", "tools", True),
        ("gemini", "tools", False),
        ("openai", "embeddings", False),
        ("openai", "images", False),
        ("openai", "speech", False),
        ("openai", "transcription", False),
        ("openai", "429"),
        ("anthropic", "429"),
        ("gemini", "429"),
        ("anthropic", "mid-stream error"),
        ("openai", "mid-stream error"),
    ]:
        assert seen[want], want
    thinking = next(c for c in starter() if c.name == "anthropic-messages")
    assert all(b'"thinking"' in it.response.body for it in thinking.interactions)
    embeddings = next(c for c in starter() if c.name == "openai-embeddings")
    assert b'"encoding_format":"base64"' in embeddings.interactions[0].request.body


def test_every_starter_is_synthetic_valid_and_indexed():
    assert {c.name for c in starter()} == {s.name for s in STARTERS}
    for cassette in starter():
        assert fmt.problems(fmt.to_data(cassette)) == []
        for it in cassette.interactions:
            assert it.source == "synthetic" and it.recorded_at == RECORDED_AT and it.host is None
            assert it.index == derive(it), f"{cassette.name}: stale index"
            if it.response.chunks is not None:
                times = [c.t_ms for c in it.response.chunks]
                assert times == sorted(times) and times[0] >= it.response.t_ms
