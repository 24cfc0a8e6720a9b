"""Secrets: scrubbing takes every credential out before a cassette is written, and the scanner finds planted
secrets of every kind (with file and line), allows the long base64 values bodies carry by design, finds
nothing in the shipped cassettes, and nothing in the imported real traffic (its false-positive guard)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from harness.cassettes import format as fmt
from harness.cassettes.cli import add_commands
from harness.cassettes.scrub import PLACEHOLDER, entropy, scan, scan_text, scrub
from tests.corpus import MISSING

from .corpus import STARTER_DIR, imports

OPENAI_KEY = "sk-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
PROJECT_KEY = "sk-proj-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8Ba7"
ANTHROPIC_KEY = "sk-ant-api03-" + "Qw3rTy9UiOp1AsDfGhJkLzXcVbNm0123456789abcdefGHIJ"
GOOGLE_KEY = "AIza" + "SyD3x4mPl3K3y_ABCDEFGHIJKLMNOPQRSTU"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLQ"
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
ENTROPIC = "Zm9vYmFyYmF6cXV4cXV1eDk4NzY1NDMyMTBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2"
SIGNATURE = "EqQBCkYIBxgCKkDwn3Yy0bSg2rJ8m5xTn4Hq7Zc1VtQv0Lr2uJk8Ws9Fe6Dp3Nh1Ab5Cd7Ef9Gh2Ij4Kl6Mn8Op0Qr" * 3


def _interaction(**kw) -> fmt.Interaction:
    return fmt.Interaction(
        request=fmt.Request(
            "POST",
            "/v1beta/models/gemini-2.5-flash:generateContent",
            kw.get("query", {}),
            kw.get("headers", {}),
            kw.get("body", b"{}"),
        ),
        response=fmt.Response(200, kw.get("response_headers", {}), body=kw.get("response_body", b"{}")),
        source="recorded",
    )


# --- scrub ------------------------------------------------------------------------------------------------


def test_scrub_replaces_credentials_with_a_fixed_placeholder():
    it = _interaction(
        headers={
            "authorization": [f"Bearer {OPENAI_KEY}"],
            "x-api-key": [ANTHROPIC_KEY],
            "x-goog-api-key": [GOOGLE_KEY],
            "api-key": ["0123456789abcdef0123456789abcdef"],
            "cookie": ["session=abc"],
            "proxy-authorization": ["Basic dXNlcjpwYXNz"],
            "x-custom": [f"token {PROJECT_KEY}"],
            "user-agent": ["OpenAI/Python 1.0"],
        },
        query={"key": [GOOGLE_KEY], "alt": ["sse"]},
        response_headers={"set-cookie": ["__cf_bm=xyz; path=/"], "content-type": ["application/json"]},
        body=json.dumps({"note": f"my key is {OPENAI_KEY}", "contents": []}).encode(),
    )
    scrub(it)
    h = it.request.headers
    assert h["authorization"] == ["Bearer <scrubbed>"]
    assert h["x-api-key"] == h["x-goog-api-key"] == h["api-key"] == h["cookie"] == [PLACEHOLDER]
    assert h["proxy-authorization"] == ["Basic <scrubbed>"]
    assert h["x-custom"] == ["token <scrubbed>"]
    assert h["user-agent"] == ["OpenAI/Python 1.0"]
    assert it.request.query == {"key": [PLACEHOLDER], "alt": ["sse"]}
    assert it.response.headers["set-cookie"] == [PLACEHOLDER]
    assert json.loads(it.request.body)["note"] == "my key is <scrubbed>"
    assert it.notes == ["key-shaped strings scrubbed in: request body"]
    # never a hash: the placeholder is the same whatever the secret was
    assert OPENAI_KEY not in repr(it) and ANTHROPIC_KEY not in repr(it) and GOOGLE_KEY not in repr(it)


def test_scrub_keeps_signatures_and_short_test_keys():
    body = json.dumps({"content": [{"type": "thinking", "thinking": "x", "signature": SIGNATURE}]}).encode()
    it = _interaction(headers={"authorization": ["Bearer sk-test"]}, response_body=body)
    scrub(it)
    assert it.response.body == body and not it.notes


# --- scan -------------------------------------------------------------------------------------------------

PLANTED = [
    ("authorization", f"Bearer {OPENAI_KEY}", "credential header 'authorization'"),
    ("x-api-key", ANTHROPIC_KEY, "credential header 'x-api-key'"),
    ("x-goog-api-key", GOOGLE_KEY, "credential header 'x-goog-api-key'"),
    ("api-key", "0123456789abcdef0123456789abcdef", "credential header 'api-key'"),
    ("cookie", "session=1234", "credential header 'cookie'"),
    ("x-trace-token", ENTROPIC, "high-entropy value in header 'x-trace-token'"),
]
BODY_PLANTS = [
    (OPENAI_KEY, "OpenAI key (sk-)"),
    (PROJECT_KEY, "OpenAI project key (sk-proj-)"),
    (ANTHROPIC_KEY, "Anthropic API key (sk-ant-)"),
    (GOOGLE_KEY, "Google API key (AIza)"),
    (AWS_KEY, "AWS access key id (AKIA)"),
    (JWT, "JWT"),
    (f"Bearer {ENTROPIC}", "Bearer token"),
    (f"https://example.com/v1/x?alt=sse&key={ENTROPIC[:20]}", "credential in a URL query"),
]


def _write(tmp_path: Path, it: fmt.Interaction, name: str = "planted.yaml") -> Path:
    return fmt.save(fmt.Cassette([it], name="planted"), tmp_path / name)


@pytest.mark.parametrize(("header", "value", "kind"), PLANTED, ids=[p[0] for p in PLANTED])
def test_scan_finds_planted_header_secrets(tmp_path, header, value, kind):
    path = _write(tmp_path, _interaction(headers={header: [value]}))
    found = scan(path)
    assert found, "nothing found"
    first = found[0]
    assert kind in first.kind
    assert first.file == str(path)
    line = path.read_text().splitlines()[first.line - 1]
    assert f"{header}:" in line, (first, line)
    assert value not in str(first)  # the report shows only the start of the secret


@pytest.mark.parametrize(("secret", "kind"), BODY_PLANTS, ids=[p[1] for p in BODY_PLANTS])
@pytest.mark.parametrize("where", ["request-json", "response-text", "stream-chunk", "query"])
def test_scan_finds_planted_secrets_in_bodies_chunks_and_queries(tmp_path, secret, kind, where):
    it = _interaction()
    if where == "request-json":
        it.request.body = json.dumps({"contents": [], "meta": {"note": secret}}).encode()
    elif where == "response-text":
        it.response.body = f"plain text answer mentioning {secret} here\n".encode()
    elif where == "stream-chunk":
        it.response.chunks = [fmt.Chunk(3.5, ("data: " + json.dumps({"x": {"y": secret}}) + "\n\n").encode())]
    else:
        it.request.query = {"q": [secret]}
    path = _write(tmp_path, it)
    found = scan(path)
    assert any(kind in f.kind for f in found), found
    finding = next(f for f in found if kind in f.kind)
    assert finding.line > 0 and secret[:8] in path.read_text().splitlines()[finding.line - 1]


def test_scan_finds_credential_query_parameters_and_secret_named_fields(tmp_path):
    it = _interaction(
        query={"key": ["abcdef123456"]}, body=json.dumps({"client_secret": "s3cr3t-value-123"}).encode()
    )
    found = scan(_write(tmp_path, it))
    kinds = {f.kind for f in found}
    assert "credential query parameter 'key'" in kinds
    assert "secret-named field 'client_secret'" in kinds


def test_allow_listed_base64_is_not_a_secret(tmp_path):
    """Anthropic thinking signatures and Gemini thoughtSignature are long base64 by design."""
    anthropic = {"content": [{"type": "thinking", "thinking": "hmm", "signature": SIGNATURE}]}
    gemini = {"candidates": [{"content": {"parts": [{"text": "x", "thoughtSignature": SIGNATURE}]}}]}
    delta = (
        'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"signature_delta","signature":"'
        + SIGNATURE
        + '"}}\n\n'
    )
    it = _interaction(body=json.dumps(gemini).encode(), response_body=json.dumps(anthropic).encode())
    it.response.headers = {
        "x-request-id": ["req_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"],
        "cf-ray": ["8f0a1b2c3d4e5f60-CDG"],
    }
    assert scan(_write(tmp_path, it)) == []
    stream = _interaction()
    stream.response.chunks = [fmt.Chunk(0, delta.encode())]
    assert scan(_write(tmp_path, stream, "stream.yaml")) == []
    # the same value under a key that is not allow-listed, in a header, is reported
    it.response.headers["x-debug"] = [SIGNATURE[:60]]
    assert [f.kind for f in scan(_write(tmp_path, it, "header.yaml"))] == [
        "high-entropy value in header 'x-debug'"
    ]


def test_entropy():
    assert entropy("") == 0
    assert entropy("aaaa") == 0
    assert entropy("abcd") == 2
    assert entropy(ENTROPIC) > 4.3


def test_scan_reads_har_and_plain_json(tmp_path):
    har = {
        "log": {
            "entries": [
                {
                    "request": {
                        "headers": [{"name": "Authorization", "value": f"Bearer {OPENAI_KEY}"}],
                        "queryString": [{"name": "key", "value": GOOGLE_KEY}],
                    }
                }
            ]
        }
    }
    path = tmp_path / "x.har"
    path.write_text(json.dumps(har, indent=2))
    kinds = {f.kind for f in scan(path)}
    assert "credential header 'authorization' with a real value" in kinds
    assert "credential query parameter 'key'" in kinds
    assert scan_text("just some text", "t.txt") == []


# --- the shipped set and real traffic ---------------------------------------------------------------------


def test_shipped_cassettes_scan_clean():
    assert list(STARTER_DIR.glob("*.yaml")), "no shipped cassettes"
    assert scan(STARTER_DIR) == []


def test_imported_real_traffic_scans_clean(tmp_path):
    """The real traffic had its keys filtered by VCR, and the importer scrubs cookies; what is left (ids,
    signatures, rate-limit headers, Cloudflare report URLs) must not be reported as secrets."""
    results = [r for r in imports() if r.cassette is not None]
    if not results:
        pytest.skip(MISSING)
    for k, result in enumerate(results):
        fmt.save(result.cassette, tmp_path / f"{k:03d}.yaml")
    assert scan(tmp_path) == []


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wirecheck")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.run(args)


def test_cli_scan_exit_codes(tmp_path, capsys):
    assert _cli("cassette", "scan", str(STARTER_DIR)) == 0
    assert "clean: 9 files scanned" in capsys.readouterr().out
    path = _write(tmp_path, _interaction(headers={"x-api-key": [ANTHROPIC_KEY]}))
    assert _cli("cassette", "scan", str(tmp_path)) == 1
    out = capsys.readouterr().out
    assert f"{path}:" in out and "credential header 'x-api-key'" in out
    assert _cli("cassette", "scan", str(tmp_path / "missing")) == 2
