"""The VCR.py importer: every file of the real recorded traffic is imported or reported out of scope with its
reason (counts per folder and outcome are fixed, since the data is), plus the storage quirks it undoes."""

from __future__ import annotations

import collections
import gzip
import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.cassettes import format as fmt
from harness.cassettes.index import SCOPE
from harness.cassettes.vcr import export_vcr, import_file, read_vcr, split_sse
from tests.corpus import MISSING, require_real_traffic

from .corpus import imports, real_traffic_dir

# (folder, outcome) -> number of files. The real-traffic folder is fixed (SOURCES.md), so are these.
EXPECTED_FILES = {
    ("anthropic", "imported"): 39,
    ("anthropic", "out-of-scope"): 2,
    ("google", "imported"): 37,
    ("openai", "imported"): 31,
    ("openai", "out-of-scope"): 1,
    ("openllmetry/anthropic", "imported"): 13,
    ("openllmetry/openai", "imported"): 58,
    ("openllmetry/openai", "out-of-scope"): 33,
}


def _folder(path) -> str:
    return str(path.parent.relative_to(real_traffic_dir()))


def test_real_traffic_present(real_traffic):
    assert real_traffic == real_traffic_dir()
    assert imports(), "the real-traffic folder holds no VCR files"


def test_every_real_traffic_file_is_imported_or_explained():
    require_real_traffic()
    results = imports()
    on_disk = sorted(
        p for p in real_traffic_dir().rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml")
    )
    assert [r.path for r in results] == on_disk  # every file, none skipped
    files = collections.Counter((_folder(r.path), r.outcome) for r in results)
    interactions = collections.Counter()
    reasons = collections.Counter()
    for r in results:
        assert r.outcome != "failed", r.summary()
        reasons.update(r.reasons)
        for it in r.cassette.interactions:
            interactions[(_folder(r.path), "out of scope" if "out_of_scope" in it.index else "in scope")] += 1
        if r.outcome == "imported":
            assert r.in_scope >= 1
        else:
            assert r.in_scope == 0 and r.reasons, r.summary()
    print("\nfiles per folder and outcome:", dict(sorted(files.items())))
    print("interactions per folder:", dict(sorted(interactions.items())))
    print("out-of-scope reasons:", dict(reasons.most_common()))
    assert dict(files) == EXPECTED_FILES
    assert len(results) == sum(EXPECTED_FILES.values()) == 214
    assert set(reasons) <= set(SCOPE.values())  # every reason is one of the documented ones


def test_every_import_is_a_valid_cassette_with_its_notes():
    results = [r for r in imports() if r.cassette is not None]
    if not results:
        pytest.skip(MISSING)
    notes = collections.Counter()
    for r in results:
        assert fmt.problems(fmt.to_data(r.cassette)) == [], r.path
        for it in r.cassette.interactions:
            assert it.source == "imported-vcr"
            notes.update(n.split(" (")[0] for n in it.notes)
    assert notes["response body decoded from gzip"] > 300
    assert notes["response body re-serialized from parsed_body"] > 100
    assert notes["VCR keeps no timing or chunk boundaries: one chunk per SSE event, t_ms 0"] > 50


def test_sse_bodies_become_one_chunk_per_event():
    folder = require_real_traffic()
    cassette = read_vcr(folder / "anthropic" / "test_anthropic_web_search_tool_stream.yaml")
    stream = next(it for it in cassette.interactions if it.response.chunks is not None)
    chunks = stream.response.chunks
    assert len(chunks) > 10
    assert all(c.t_ms == 0 for c in chunks)
    assert all(c.data.endswith(b"\n\n") for c in chunks)
    assert chunks[0].data.startswith(b"event: message_start\n")


def test_plain_vcr_storage_gzip_base64_and_parsed_body(tmp_path):
    answer = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o", "choices": []}
    doc = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "https://api.openai.com/v1/chat/completions?x=1&x=2",
                    "body": '{"model": "gpt-4o", "messages": []}',
                    "headers": {
                        "Authorization": ["Bearer sk-abcdefghijklmnopqrstuvwxyz0123"],
                        "Host": ["api.openai.com"],
                        "Content-Length": ["35"],
                    },
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {
                        "Content-Encoding": ["gzip"],
                        "Content-Type": ["application/json"],
                        "Set-Cookie": ["a=1", "b=2"],
                        "Date": ["Thu, 07 Mar 2024 13:45:54 GMT"],
                    },
                    "body": {"string": gzip.compress(json.dumps(answer, indent=2).encode() + b"\n")},
                },
            },
            {
                "request": {
                    "method": "POST",
                    "uri": "https://api.anthropic.com/v1/messages",
                    "parsed_body": {"model": "m", "max_tokens": 1, "messages": []},
                    "headers": {},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["application/json"]},
                    "parsed_body": {"type": "message", "content": []},
                },
            },
        ],
    }
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = import_file(path)
    assert result.outcome == "imported"
    first, second = result.cassette.interactions
    assert first.request.query == {"x": ["1", "2"]}
    assert "host" not in first.request.headers and "content-length" not in first.request.headers
    assert first.request.headers["authorization"] == ["Bearer <scrubbed>"]
    assert first.response.headers["set-cookie"] == ["<scrubbed>", "<scrubbed>"]
    assert json.loads(first.response.body) == answer
    assert first.recorded_at == "2024-03-07T13:45:54Z"
    assert first.host == "https://api.openai.com"
    assert fmt.encode_body(first.response.body) == {"json": answer, "style": "indent2+nl"}
    assert second.request.body == b'{"model":"m","max_tokens":1,"messages":[]}'
    assert any("parsed_body" in n for n in second.notes)
    # and back out to VCR: the bodies decoded, timing lost
    exported = export_vcr(result.cassette)
    assert (
        exported["interactions"][0]["request"]["uri"] == "https://api.openai.com/v1/chat/completions?x=1&x=2"
    )
    assert json.loads(exported["interactions"][0]["response"]["body"]["string"]) == answer


def test_broken_files_fail_with_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions:\n- request: {method: GET}\n  response: {status: {code: 200}}\n")
    result = import_file(bad)
    assert result.outcome == "failed"
    assert result.error == f"{bad}:2: interactions[0].request.uri: expected a URL"
    notvcr = tmp_path / "other.yaml"
    notvcr.write_text("a: 1\n")
    assert "not a VCR cassette" in import_file(notvcr).error


@given(
    st.lists(
        st.sampled_from([b"data: x", b"\n", b"\r\n", b"\r", b"event: e", b"\n\n", b"\r\n\r\n", b":c"]),
        max_size=20,
    ).map(b"".join)
)
def test_split_sse_keeps_every_byte_and_cuts_after_blank_lines(data):
    pieces = split_sse(data)
    assert b"".join(pieces) == data
    for piece in pieces[:-1]:
        assert piece.endswith(
            (b"\n\n", b"\r\n\r\n", b"\r\r", b"\n\r\n", b"\r\n\n", b"\n\r", b"\r\n\r", b"\r\r\n")
        )
