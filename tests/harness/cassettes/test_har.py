"""HAR 1.2: export then import gives back the same cassette (every shipped and imported one), the export is a
well-formed HAR with the stream's chunks in ``_chunks``, and a foreign HAR (a browser's) comes in."""

from __future__ import annotations

import base64
import json

import pytest

from harness.cassettes import format as fmt
from harness.cassettes.har import export_har, import_har, read_har, write_har

from .corpus import cassettes, starter

HAR_ENTRY_FIELDS = {"startedDateTime", "time", "request", "response", "cache", "timings"}
HAR_REQUEST_FIELDS = {
    "method",
    "url",
    "httpVersion",
    "cookies",
    "headers",
    "queryString",
    "headersSize",
    "bodySize",
}
HAR_RESPONSE_FIELDS = {
    "status",
    "statusText",
    "httpVersion",
    "cookies",
    "headers",
    "content",
    "redirectURL",
    "headersSize",
    "bodySize",
}


def _same(a: fmt.Cassette, b: fmt.Cassette) -> None:
    assert (a.name, a.description, a.meta) == (b.name, b.description, b.meta)
    assert len(a.interactions) == len(b.interactions)
    for x, y in zip(a.interactions, b.interactions, strict=True):
        assert x.request == y.request
        assert x.response == y.response
        assert (x.source, x.recorded_at, x.host, x.notes, x.index) == (
            y.source,
            y.recorded_at,
            y.host,
            y.notes,
            y.index,
        )


def test_export_then_import_is_the_identity_for_every_cassette():
    checked = 0
    for cid, cassette in cassettes():
        doc = json.loads(json.dumps(export_har(cassette)))  # through JSON text, as a file would be
        try:
            _same(cassette, import_har(doc, cid))
        except AssertionError as exc:
            raise AssertionError(f"{cid}: {exc}") from exc
        checked += 1
    assert checked == len(cassettes()) > len(starter()) - 1 >= 0  # every cassette, not an empty loop


def test_export_is_well_formed_har_with_chunks(tmp_path):
    cassette = next(c for c in starter() if c.name == "openai-chat")
    path = write_har(cassette, tmp_path / "x.har")
    doc = json.loads(path.read_text())
    log = doc["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "wirecheck"
    for entry in log["entries"]:
        assert entry.keys() >= HAR_ENTRY_FIELDS
        assert entry["request"].keys() >= HAR_REQUEST_FIELDS
        assert entry["response"].keys() >= HAR_RESPONSE_FIELDS
        assert {"send", "wait", "receive"} <= entry["timings"].keys()
        assert all(k.startswith("_") for k in entry.keys() - HAR_ENTRY_FIELDS)
        assert entry["request"]["url"] == "http://localhost/v1/chat/completions"
    stream = log["entries"][1]["response"]
    assert "".join(c["text"] for c in stream["_chunks"]) == stream["content"]["text"]
    assert stream["content"]["mimeType"].startswith("text/event-stream")
    assert log["entries"][1]["timings"]["wait"] == cassette.interactions[1].response.t_ms
    assert read_har(path).interactions[1].response.chunks == cassette.interactions[1].response.chunks


def test_binary_bodies_go_as_base64():
    speech = next(c for c in starter() if c.name == "openai-speech")
    entry = export_har(speech)["log"]["entries"][0]
    assert entry["response"]["content"]["encoding"] == "base64"
    assert base64.b64decode(entry["response"]["content"]["text"]) == speech.interactions[0].response.body


def test_a_foreign_har_is_imported_scrubbed_and_indexed():
    sse = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    doc = {
        "log": {
            "version": "1.2",
            "creator": {"name": "Chrome DevTools", "version": "1"},
            "entries": [
                {
                    "startedDateTime": "2026-03-01T10:00:00.250+01:00",
                    "time": 812,
                    "request": {
                        "method": "POST",
                        "url": "https://api.openai.com/v1/chat/completions?x=1",
                        "httpVersion": "h2",
                        "headers": [
                            {"name": ":authority", "value": "api.openai.com"},
                            {
                                "name": "Authorization",
                                "value": "Bearer sk-proj-abcdefghijklmnopqrstuvwxyz123456",
                            },
                            {"name": "Content-Type", "value": "application/json"},
                        ],
                        "queryString": [{"name": "x", "value": "1"}],
                        "postData": {
                            "mimeType": "application/json",
                            "text": '{"model":"gpt-4o","stream":true,"messages":[]}',
                        },
                    },
                    "response": {
                        "status": 200,
                        "headers": [{"name": "Content-Type", "value": "text/event-stream"}],
                        "content": {"size": len(sse), "mimeType": "text/event-stream", "text": sse},
                    },
                    "timings": {"send": 1, "wait": 300.5, "receive": 511},
                }
            ],
        }
    }
    cassette = import_har(doc, "browser.har")
    it = cassette.interactions[0]
    assert it.source == "imported-har"
    assert it.recorded_at == "2026-03-01T09:00:00.250Z"
    assert it.host == "https://api.openai.com"
    assert it.request.headers == {
        "authorization": ["Bearer <scrubbed>"],
        "content-type": ["application/json"],
    }
    assert it.request.query == {"x": ["1"]}
    assert [c.data for c in it.response.chunks] == [
        sse.split("\n\n")[0].encode() + b"\n\n",
        b"data: [DONE]\n\n",
    ]
    assert all(c.t_ms == 300.5 for c in it.response.chunks)
    assert it.index["preview"] == "Hi" and it.index["finish"] == "stop"
    assert cassette.meta == {"imported_from": "browser.har"}


def test_broken_har_names_the_field():
    with pytest.raises(fmt.CassetteError, match=r"x.har: log.entries\[0\].request.url: expected a str"):
        import_har({"log": {"entries": [{"request": {}, "response": {"status": 200}}]}}, "x.har")
