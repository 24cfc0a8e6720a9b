"""Property: whatever the key, wherever it is put, however the body is encoded and the stream cut, a scrubbed
cassette (or HAR file) scans clean and holds the key nowhere, not even decoded; and the same file written
without scrubbing is flagged by the scanner (so the scanner is not vacuous)."""

from __future__ import annotations

import base64
import copy
import gzip
import itertools
import json
import re
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cassettes import format as fmt
from harness.cassettes.har import export_har
from harness.cassettes.scrub import scan, scrub

_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _run(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=low, max_size=high)


def _has_digit(value: str) -> bool:
    return any(ch.isdigit() for ch in value)


#: (format, key): the shaped formats are found anywhere; "azure" and "opaque" only by their context.
KEYS = st.one_of(
    st.tuples(st.just("openai-project"), _run(_URLSAFE, 24, 60).map(lambda s: "sk-proj-" + s)),
    st.tuples(st.just("anthropic"), _run(_URLSAFE, 40, 90).map(lambda s: "sk-ant-api03-" + s)),
    st.tuples(st.just("google"), _run(_URLSAFE, 35, 35).map(lambda s: "AIza" + s)),
    st.tuples(
        st.just("jwt"),
        st.tuples(_run(_URLSAFE, 10, 30), _run(_URLSAFE, 10, 40), _run(_URLSAFE, 10, 43)).map(
            lambda p: f"eyJ{p[0]}.eyJ{p[1]}.{p[2]}"
        ),
    ),
    st.tuples(st.just("aws"), _run("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16, 16).map(lambda s: "AKIA" + s)),
    st.tuples(st.just("azure"), _run("0123456789abcdef", 32, 32).filter(_has_digit)),
    st.tuples(st.just("opaque"), _run(_ALNUM, 20, 40).filter(_has_digit)),
)
CONTEXT_ONLY = frozenset({"azure", "opaque"})

PLACEMENTS = (
    "request-header",
    "response-header",
    "query",
    "path",
    "json-body",
    "json-body-escaped",
    "error-message",
    "multipart-text",
    "multipart-file",
    "stream",
    "har-content",
)
BODY_PLACEMENTS = frozenset(
    {"json-body", "json-body-escaped", "error-message", "multipart-text", "multipart-file", "har-content"}
)
CREDENTIAL_HEADERS = (
    ("authorization", "Bearer "),
    ("api-key", ""),
    ("ocp-apim-subscription-key", ""),
    ("x-azure-key", ""),
    ("x-service-token", ""),
    ("x-custom-secret", ""),
    ("x-client-credential", ""),
    ("x-password", ""),
    ("x-my-auth", ""),
)
CREDENTIAL_QUERY = ("key", "api_key", "subscription-key", "x-token", "access_token")
CREDENTIAL_FIELDS = ("api_key", "password", "client_secret", "apiKey", "secret", "access_token")


@dataclass
class Case:
    kind: str
    key: str
    placement: str
    encoding: str
    output: str
    interaction: fmt.Interaction


def _escape(key: str, mask: list[bool]) -> str:
    """``key`` as it would be inside a JSON string literal, the characters picked by ``mask`` ``\\u``-escaped."""
    return "".join(f"\\u{ord(ch):04x}" if escape else ch for ch, escape in zip(key, mask, strict=False))


def _encode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    return body


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind, key = draw(KEYS)
    placement = draw(st.sampled_from(PLACEMENTS))
    contextual = kind in CONTEXT_ONLY
    encoding = (
        draw(st.sampled_from(["identity", "gzip", "deflate"])) if placement in BODY_PLACEMENTS else "identity"
    )
    output = draw(st.sampled_from(["yaml", "json", "har", "har-base64"]))
    if placement == "har-content":
        output = draw(st.sampled_from(["har", "har-base64"]))
    request = fmt.Request("POST", "/v1/chat/completions", {}, {"content-type": ["application/json"]}, b"{}")
    response = fmt.Response(200, {"content-type": ["application/json"]}, body=b'{"ok":true}')
    body: bytes | None = None
    if placement in ("request-header", "response-header"):
        if contextual:
            name, scheme = draw(st.sampled_from(CREDENTIAL_HEADERS))
        else:
            name, scheme = draw(st.sampled_from(["x-custom-thing", "x-trace", "user-agent"])), "prefix "
        (request if placement == "request-header" else response).headers[name] = [scheme + key]
    elif placement == "query":
        name = draw(st.sampled_from(CREDENTIAL_QUERY)) if contextual else "q"
        request.query = {name: [key], "alt": ["sse"]}
    elif placement == "path":
        request.path = f"/v1/keys/{key}" if contextual else f"/v1/files/{key}/content"
    elif placement in ("json-body", "json-body-escaped", "har-content"):
        field = draw(st.sampled_from(CREDENTIAL_FIELDS)) if contextual else "note"
        value = key if contextual else f"my key is {key} ok"
        text = json.dumps({"model": "m", "meta": {field: value}})
        if placement == "json-body-escaped":
            mask = draw(st.lists(st.booleans(), min_size=len(key), max_size=len(key)).filter(any))
            text = text.replace(key, _escape(key, mask))
        body = text.encode()
    elif placement == "error-message":
        response.status = draw(st.sampled_from([400, 401, 403]))
        message = f"Incorrect API key provided: {key}. You can find your API key at https://example.com/keys."
        body = json.dumps({"error": {"message": message, "type": "invalid_request_error"}}).encode()
    elif placement in ("multipart-text", "multipart-file"):
        boundary = "wc" + draw(_run(_ALNUM, 8, 16))
        request.headers["content-type"] = [f"multipart/form-data; boundary={boundary}"]
        if placement == "multipart-text":
            name = draw(st.sampled_from(CREDENTIAL_FIELDS)) if contextual else "note"
            value = (key if contextual else f"key {key} end").encode()
            head = f'Content-Disposition: form-data; name="{name}"'
        else:
            junk = draw(st.binary(min_size=0, max_size=40).map(lambda b: b.replace(b"--", b"")))
            value = (
                b"\x89PNG\x00\xff"
                + junk
                + (b"\napi_key=" if contextual else b"\xfe")
                + key.encode()
                + b"\n\x00"
            )
            head = 'Content-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream'
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'.encode()
            + f"--{boundary}\r\n{head}\r\n\r\n".encode()
            + value
            + f"\r\n--{boundary}--\r\n".encode()
        )
    elif placement == "stream":
        event = {"api_key": key} if contextual else {"delta": {"content": f"my key is {key} ok"}}
        data = f"data: {json.dumps(event)}\n\ndata: [DONE]\n\n".encode()
        at = data.index(key.encode())
        cuts = draw(st.lists(st.integers(at + 1, at + len(key) - 1), min_size=1, max_size=2, unique=True))
        bounds = [0, *sorted(cuts), len(data)]
        response.headers = {"content-type": ["text/event-stream"]}
        response.body = b""
        response.chunks = [
            fmt.Chunk(10.0 * k, data[a:b]) for k, (a, b) in enumerate(itertools.pairwise(bounds))
        ]
    if body is not None:
        target = response if placement in ("error-message", "har-content") else request
        if encoding != "identity":
            target.headers["content-encoding"] = [encoding]
        target.body = _encode(body, encoding)
    it = fmt.Interaction(request, response, source="recorded", host="https://api.example.com")
    return Case(kind, key, placement, encoding, output, it)


def _write(it: fmt.Interaction, output: str, folder: Path) -> Path:
    cassette = fmt.Cassette([it], name="planted")
    if output == "yaml":
        return fmt.save(cassette, folder / "planted.yaml")
    if output == "json":
        return fmt.save(cassette, folder / "planted.json")
    doc = export_har(cassette)
    if output == "har-base64":
        for entry in doc["log"]["entries"]:
            content = entry["response"]["content"]
            if content.get("encoding") != "base64":
                content["text"] = base64.b64encode(content["text"].encode()).decode()
                content["encoding"] = "base64"
    path = folder / "planted.har"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def _unescaped(data: bytes) -> bytes:
    return re.sub(rb"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)).encode(), data)


def _decoded(data: bytes, headers: dict[str, list[str]]) -> bytes:
    coding = (headers.get("content-encoding") or [""])[0]
    if coding == "gzip":
        data = gzip.decompress(data)
    elif coding == "deflate":
        data = zlib.decompress(data)
    return _unescaped(data)


def _everything(it: fmt.Interaction) -> bytes:
    """Every byte of ``it`` a reader could get the key back from: bodies decoded and JSON-unescaped."""
    req, resp = it.request, it.response
    parts = [
        req.path.encode(),
        repr(req.query).encode(),
        repr(req.headers).encode(),
        repr(resp.headers).encode(),
    ]
    parts.append(_decoded(req.body, req.headers))
    parts.append(_decoded(resp.body, resp.headers))
    return b"\n".join(parts)


@settings(deadline=None, max_examples=150)
@given(case=cases())
def test_scrubbed_cassettes_scan_clean_and_unscrubbed_ones_are_flagged(case: Case):
    with tempfile.TemporaryDirectory() as folder:
        raw = copy.deepcopy(case.interaction)
        flagged = scan(_write(raw, case.output, Path(folder)))
        assert flagged, (
            f"the scanner missed a {case.kind} key in {case.placement} ({case.encoding}, {case.output})"
        )
        timings = [c.t_ms for c in case.interaction.response.chunks or []]
        it = scrub(case.interaction)
        assert case.key.encode() not in _everything(it)
        assert [c.t_ms for c in it.response.chunks or []] == timings
        path = _write(it, case.output, Path(folder))
        assert scan(path) == [], (case.kind, case.placement, case.encoding, case.output)
        assert case.key not in path.read_text()
        # scrubbing twice changes nothing
        again = copy.deepcopy(it)
        scrub(again)
        assert again == it
