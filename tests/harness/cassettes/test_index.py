"""The derived index: endpoint classification, what it says about real and synthetic interactions, that the
stored index always equals the derived one, and searching a folder with ``wirecheck cassette show``."""

from __future__ import annotations

import argparse
import json
import re
from urllib.parse import urlparse

import pytest
import yaml

from harness.cassettes import format as fmt
from harness.cassettes import index as ix
from harness.cassettes.cli import add_commands
from harness.cassettes.har import export_har
from tests.corpus import MISSING, NOT_VENDOR_HOSTS, require_real_traffic

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
        pytest.skip(MISSING)
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


# `wirecheck cassette show --check` over the corpus: "<file>: <cassette id>#<n>: <problem>" per drifted body.
_DRIFT_LINE = re.compile(r"^(?P<path>.+?): (?P<id>[^:]+)#(?P<n>\d+): (?P<problem>.+)$")
_SUMMARY = re.compile(r"^(\d+) interactions in (\d+) cassettes$")


def judge_drift(stderr: str) -> tuple[list[str], list[str]]:
    """The drift lines of ``wirecheck cassette show --check`` as (false alarms, rightly flagged). A wire schema
    may reject only a request the API refused (a 4xx answer) or a body from a host that is not a vendor API
    (``NOT_VENDOR_HOSTS``): a vendor's response, stream item or error body, or a request it accepted, that is
    flagged is a false alarm, and so is any other drift (a stale index) or an unreadable line."""
    wrong, right = [], []
    loaded: dict[str, fmt.Cassette] = {}
    for line in stderr.splitlines():
        if _SUMMARY.match(line):
            continue
        match = _DRIFT_LINE.match(line)
        if match is None:
            wrong.append(line)
            continue
        cassette = loaded.get(match["path"]) or loaded.setdefault(match["path"], fmt.load(match["path"]))
        it = cassette.interactions[int(match["n"])]
        problem = match["problem"]
        if problem.startswith("request body (") and 400 <= it.response.status < 500:
            right.append(line)  # the API refused this request
        elif problem.startswith(("response body (", "stream item ")) and (
            urlparse(it.host or "").netloc in NOT_VENDOR_HOSTS
        ):
            right.append(line)  # no vendor sent this body
        else:
            wrong.append(line)
    return wrong, right


def test_judge_drift_tells_false_alarms_from_what_the_api_refused(tmp_path, capsys):
    """The same invalid request is rightly flagged when the API answered 400 and a false alarm when it
    answered 200; the same non-completion answer is a false alarm from OpenAI and rightly flagged from
    pydantic-ai's echo server."""
    base = next(c for c in starter() if c.name == "openai-chat")
    refusal = {
        "error": {"message": "[] is too short", "type": "invalid_request_error", "param": None, "code": None}
    }
    shapes = [  # (host, request is invalid, status, response body or None for the recorded one)
        ("https://api.openai.com", True, 400, refusal),
        ("https://api.openai.com", True, 200, None),
        ("https://api.openai.com", False, 200, {"method": "POST"}),
        ("https://demo-endpoints.pydantic.workers.dev", False, 200, {"method": "POST"}),
    ]
    cassette = fmt.Cassette(name="judged")
    for host, invalid, status, answer in shapes:
        (it, *_) = fmt.parse(fmt.to_data(base), "copy").interactions
        it.host = host
        if invalid:
            it.request.body = json.dumps({**it.request.json, "messages": []}).encode()
        it.response.status = status
        if answer is not None:
            it.response.body = json.dumps(answer).encode()
        it.index = ix.derive(it)
        cassette.interactions.append(it)
    path = fmt.save(cassette, tmp_path / "judged.yaml")
    assert _cli("cassette", "show", str(path), "--check") == 1
    wrong, right = judge_drift(capsys.readouterr().err)
    assert [line.split(": ", 2)[1] for line in right] == ["judged#0", "judged#3", "judged#3", "judged#3"]
    assert [line.split(": ", 2)[1] for line in wrong] == ["judged#1", "judged#2", "judged#2", "judged#2"]
    assert all(
        "request body (openai.chat.request): messages: [] should be non-empty" in line
        for line in [right[0], wrong[0]]
    )


def test_show_check_over_the_corpus_flags_no_vendor_body(tmp_path, capsys):
    """``wirecheck cassette import`` of the whole corpus of recorded traffic, then ``wirecheck cassette show
    --check`` over the shipped cassettes (no drift at all) and over the imported corpus: no schema problem on
    any body a vendor API sent or any request it accepted (2xx). The one body flagged is pydantic-ai's echo
    server's JSON that is not a chat completion."""
    corpus = require_real_traffic()
    out = tmp_path / "imported"
    assert _cli("cassette", "import", str(corpus), "--out", str(out)) == 0
    imported = capsys.readouterr().out.splitlines()
    assert len(imported) == sum(1 for _ in corpus.rglob("*.yaml")) > 200
    assert _cli("cassette", "show", str(STARTER_DIR), "--check") == 0
    assert [line for line in capsys.readouterr().err.splitlines() if not _SUMMARY.match(line)] == []
    status = _cli("cassette", "show", str(out), "--check")
    err = capsys.readouterr().err
    wrong, right = judge_drift(err)
    assert wrong == [], "false alarms:\n" + "\n".join(wrong)
    assert {line.split(": ", 2)[1] for line in right} == {"test_invalid_response#0"}
    assert status == 1
    (summary,) = [m for m in map(_SUMMARY.match, err.splitlines()) if m]
    assert int(summary[1]) > 500 and int(summary[2]) == len(imported)  # every imported cassette was checked
