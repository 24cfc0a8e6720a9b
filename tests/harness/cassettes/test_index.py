"""The derived index: endpoint classification, what it says about real and synthetic interactions, that the
stored index always equals the derived one, and searching a folder with ``wirecheck cassette show``."""

from __future__ import annotations

import argparse
import json

import pytest
import yaml

from harness.cassettes import format as fmt
from harness.cassettes import index as ix
from harness.cassettes.cli import add_commands
from harness.cassettes.har import export_har

from .corpus import STARTER_DIR, cases, starter


@pytest.mark.parametrize(
    ("method", "path", "host", "want"),
    [
        ("POST", "/v1/chat/completions", None, ("openai", "chat", None, "/v1")),
        ("POST", "/v1beta/openai/chat/completions", None, ("openai", "chat", None, "/v1beta/openai")),
        (
            "POST",
            "/openai/deployments/gpt-4o-prod/chat/completions",
            None,
            ("azure", "chat", "gpt-4o-prod", ""),
        ),
        ("POST", "/openai/deployments/emb/embeddings", None, ("azure", "embeddings", "emb", "")),
        ("POST", "/v1/messages", None, ("anthropic", "messages", None, "")),
        ("POST", "/v1/messages/count_tokens", None, ("anthropic", "count_tokens", None, "")),
        (
            "POST",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            None,
            ("gemini", "generate", "gemini-2.5-flash", "/v1beta"),
        ),
        (
            "POST",
            "/v1beta1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent",
            None,
            (
                "gemini",
                "generate",
                "gemini-2.5-pro",
                "/v1beta1/projects/p/locations/us-central1/publishers/google",
            ),
        ),
        (
            "POST",
            "/v1beta/models/text-embedding-004:batchEmbedContents",
            None,
            ("gemini", "batch_embed", "text-embedding-004", "/v1beta"),
        ),
        ("POST", "/v1/responses", None, ("openai", "responses", None, "/v1")),
        ("POST", "/v1/completions", None, ("openai", "completions", None, "/v1")),
        ("GET", "/v1/threads/thread_1/runs/run_1", None, ("openai", "assistants", None, "")),
        ("GET", "/files/doc.txt", "https://example.com", (None, "download", None, "")),
        (
            "POST",
            "/upload/v1beta/fileSearchStores/s:uploadToFileSearchStore",
            None,
            ("gemini", "file_search", None, ""),
        ),
    ],
)
def test_classify(method, path, host, want):
    e = ix.classify(method, path, host)
    assert (e.dialect, e.kind, e.model, e.prefix) == want


def test_scope_reasons():
    assert ix.out_of_scope(ix.classify("POST", "/v1/chat/completions")) is None
    assert ix.out_of_scope(ix.classify("POST", "/v1/responses")) == ix.SCOPE["responses"]
    assert ix.out_of_scope(ix.classify("GET", "/x", "https://cdn.example.com")) == ix.SCOPE["download"]


def test_stored_index_equals_the_derived_index_everywhere():
    """Shipped cassettes carry their index; imported ones get it on import. Either way it is derived data."""
    for case in cases():
        assert case.it.index == ix.derive(case.it), case.id


def test_index_of_real_interactions():
    by_id = {case.id: case.it.index for case in cases()}
    if not any(i.startswith("real/") for i in by_id):
        pytest.skip("no real traffic")
    stream = by_id["real/google/test_google_model_iter_stream#0"]
    assert stream == {
        "dialect": "gemini",
        "kind": "generate",
        "model": "gemini-2.0-flash",
        "stream": True,
        "status": 200,
        "finish": "STOP",
        "tools": ["get_capital"],
        "usage": {"input": 52, "output": 5, "total": 57},
    }
    filtered = by_id["real/openllmetry/openai/openai__test_azure__test_prompt_content_filtering#0"]
    assert filtered["status"] == 200 and filtered["error"].startswith(
        "content_filter: The response was filtered"
    )
    download = by_id["real/openai/test_image_url_input_force_download#0"]
    assert download["kind"] == "download" and "out_of_scope" in download


def test_a_stale_index_is_reported_by_show_check(tmp_path, capsys):
    cassette = next(c for c in starter() if c.name == "openai-chat")
    doc = fmt.to_data(cassette)
    doc["interactions"][0]["index"]["finish"] = "stop"  # edited by hand: no longer what the bytes say
    path = tmp_path / "stale.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert _cli("cassette", "show", str(STARTER_DIR), "--check") == 0
    assert _cli("cassette", "show", str(path), "--check") == 1
    assert f"{path}: openai-chat#0: index: stale (finish); recompute it" in capsys.readouterr().err


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wirecheck")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.run(args)


def test_show_searches_a_folder(capsys):
    assert (
        _cli(
            "cassette",
            "show",
            str(STARTER_DIR),
            "--where",
            "tools=get_weather",
            "--where",
            "stream=true",
            "--json",
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["id"] for r in rows) == ["anthropic-messages#1", "gemini-generate#1", "openai-chat#1"]
    assert _cli("cassette", "show", str(STARTER_DIR), "--where", "status=429") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 3 and "errors#0" in out and "RESOURCE_EXHAUSTED" in out
    assert _cli("cassette", "show", str(STARTER_DIR), "--where", "nonsense") == 2


def test_import_and_export_commands(tmp_path, capsys):
    vcr = tmp_path / "in" / "sub" / "one.yaml"
    vcr.parent.mkdir(parents=True)
    vcr.write_text(
        yaml.safe_dump(
            {
                "interactions": [
                    {
                        "request": {
                            "method": "POST",
                            "uri": "https://api.openai.com/v1/responses",
                            "body": "{}",
                            "headers": {},
                        },
                        "response": {"status": {"code": 200}, "headers": {}, "body": {"string": "{}"}},
                    }
                ]
            }
        )
    )
    (tmp_path / "in" / "bad.yaml").write_text("a: 1\n")
    assert _cli("cassette", "import", str(tmp_path / "in"), "--out", str(tmp_path / "out")) == 1
    out = capsys.readouterr().out
    assert "bad.yaml: failed:" in out
    assert "one.yaml: out-of-scope: 0/1 interactions in scope; out of scope: OpenAI Responses API" in out
    imported = fmt.load(tmp_path / "out" / "sub" / "one.yaml")
    assert imported.interactions[0].source == "imported-vcr"

    har = tmp_path / "x.har"
    assert (
        _cli("cassette", "export", str(STARTER_DIR / "openai-chat.yaml"), "--to", "har", "--out", str(har))
        == 0
    )
    assert json.loads(har.read_text()) == json.loads(
        json.dumps(export_har(fmt.load(STARTER_DIR / "openai-chat.yaml")))
    )
    assert _cli("cassette", "import", str(har), "--out", str(tmp_path / "back")) == 0
    back = fmt.load(tmp_path / "back" / "x.yaml")
    assert (
        back.interactions[1].response.chunks
        == fmt.load(STARTER_DIR / "openai-chat.yaml").interactions[1].response.chunks
    )
    vcr_out = tmp_path / "x.vcr.yaml"
    assert (
        _cli(
            "cassette", "export", str(STARTER_DIR / "openai-chat.yaml"), "--to", "vcr", "--out", str(vcr_out)
        )
        == 0
    )
    assert yaml.safe_load(vcr_out.read_text())["interactions"][1]["response"]["body"]["string"].endswith(
        "data: [DONE]\n\n"
    )


# --- drift ---------------------------------------------------------------------------------------------------

# Real bodies the current wire schemas reject: only bodies no vendor API sent (tests/harness/test_schemas.py).
KNOWN_REAL_DRIFT = {
    "test_invalid_response": "pydantic-ai's demo echo server answers a JSON that is not a completion",
}


def test_drift_finds_stale_index_schema_violations_and_age():
    from harness.cassettes.drift import drift

    for cassette in starter():
        assert drift(cassette) == [], cassette.name
    cassette = fmt.parse(fmt.to_data(next(c for c in starter() if c.name == "openai-chat")), "copy")
    it = cassette.interactions[0]
    body = json.loads(it.response.body)
    del body["choices"][0]["finish_reason"]
    it.response.body = json.dumps(body).encode()
    found = drift(cassette, max_age_days=30)
    assert any("index: stale (finish)" in p for p in found), found
    assert any(
        "response body (openai.chat.response): choices.0: 'finish_reason' is a required property" in p
        for p in found
    )
    assert any("recorded_at: 2026-01-01T00:00:00Z is" in p and "(limit 30)" in p for p in found)


def test_real_traffic_drift_is_only_the_known_deviations():
    from harness.cassettes.drift import drift

    real = cassettes_of_real()
    if not real:
        pytest.skip("no real traffic")
    drifted = {cid.rsplit("/", 1)[-1] for cid, c in real if drift(c)}
    assert drifted == set(KNOWN_REAL_DRIFT)


def cassettes_of_real():
    from .corpus import cassettes

    return [(cid, c) for cid, c in cassettes() if cid.startswith("real/")]
