"""Secrets in every encoding: the five leaks measured on the recorder (each end to end through
``format.save``/``load``), keys split at every offset across stream chunks, the decoders and the credential
rules (each guard shown to fire and shown to hold back), and the scanner failing files it cannot read."""

from __future__ import annotations

import argparse
import base64
import functools
import gzip
import itertools
import json
import zlib
from pathlib import Path

import pytest
import trio

from harness.cassettes import decode, secrets
from harness.cassettes import format as fmt
from harness.cassettes.cli import add_commands
from harness.cassettes.har import write_har
from harness.cassettes.record import serve_recorder
from harness.cassettes.scrub import PLACEHOLDER, scan, scan_text, scrub, scrub_header, scrub_text

from .corpus import http_client

AZURE = "0123456789abcdef" + "fedcba9876543210"
PROJECT_KEY = "sk-proj-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8Ba7"
ANTHROPIC_KEY = "sk-ant-api03-" + "Qw3rTy9UiOp1AsDfGhJkLzXcVbNm0123456789abcdefGHIJ"
GOOGLE_KEY = "AIza" + "SyD3x4mPl3K3y_ABCDEFGHIJKLMNOPQRSTU"
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def _interaction(**kw) -> fmt.Interaction:
    return fmt.Interaction(
        request=fmt.Request(
            "POST",
            kw.get("path", "/v1/chat/completions"),
            kw.get("query", {}),
            kw.get("headers", {}),
            kw.get("body", b""),
        ),
        response=fmt.Response(
            kw.get("status", 200),
            kw.get("response_headers", {}),
            body=kw.get("response_body", b""),
            chunks=kw.get("chunks"),
        ),
        source="recorded",
    )


def _round_trip(tmp_path: Path, it: fmt.Interaction, secret: str) -> fmt.Interaction:
    """Save ``it`` unscrubbed (the scanner must flag it), then scrubbed; load it back and check the secret is
    nowhere in the file, in the loaded bytes, or in what the scanner sees."""
    raw = fmt.save(fmt.Cassette([it], name="leak"), tmp_path / "raw.yaml")
    assert scan(raw), "the scanner called the unscrubbed cassette clean"
    scrub(it)
    path = fmt.save(fmt.Cassette([it], name="leak"), tmp_path / "scrubbed.yaml")
    assert secret not in path.read_text()
    assert scan(path) == []
    back = fmt.load(path).interactions[0]
    for data in (back.request.body, back.response.body):
        for plain in (data, *_decompressed(data)):
            assert secret.encode() not in plain
    return back


def _decompressed(data: bytes) -> list[bytes]:
    try:
        return [gzip.decompress(data)]
    except OSError:
        return []


# --- the five measured leaks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        f"Incorrect API key provided: {AZURE}. You can find your API key in the portal.",
        f"Access denied: {AZURE} is not a valid key for this resource.",
    ],
    ids=["api-key-phrase", "bare-echo"],
)
def test_leak_azure_key_echoed_in_a_401_body(tmp_path, message):
    body = json.dumps({"error": {"code": "401", "message": message}}).encode()
    it = _interaction(status=401, response_headers={"content-type": ["application/json"]}, response_body=body)
    back = _round_trip(tmp_path, it, AZURE)
    assert PLACEHOLDER in back.response.json["error"]["message"]


def test_leak_azure_key_in_a_custom_header(tmp_path):
    it = _interaction(headers={"x-contoso-openai-key": [AZURE], "x-trace": ["abc"]})
    back = _round_trip(tmp_path, it, AZURE)
    assert back.request.headers == {"x-contoso-openai-key": [PLACEHOLDER], "x-trace": ["abc"]}


def test_leak_binary_file_part_of_a_multipart_body(tmp_path):
    picture = b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" + PROJECT_KEY.encode() + b"\x00\x01\xc3"
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nvision\r\n'
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + picture + b"\r\n--b0undary--\r\n"
    )
    it = _interaction(headers={"content-type": ["multipart/form-data; boundary=b0undary"]}, body=body)
    raw = fmt.save(fmt.Cassette([it]), tmp_path / "b64.yaml")
    assert "b64:" in raw.read_text()  # not UTF-8: stored as base64, which the scanner has to decode
    [finding] = scan(raw)
    assert finding.kind == "OpenAI project key (sk-proj-)" and finding.where.endswith("request.body.b64")
    assert "b64: " in raw.read_text().splitlines()[finding.line - 1]  # placed on the base64 line
    back = _round_trip(tmp_path, it, PROJECT_KEY)
    # the file keeps every byte but the key
    assert back.request.body == body.replace(PROJECT_KEY.encode(), PLACEHOLDER.encode())


def test_leak_gzip_request_body(tmp_path):
    plain = json.dumps({"model": "gpt-4o", "metadata": {"note": f"key {ANTHROPIC_KEY}"}}).encode()
    it = _interaction(headers={"content-encoding": ["gzip"]}, body=gzip.compress(plain))
    back = _round_trip(tmp_path, it, ANTHROPIC_KEY)
    # re-encoded the same way: the stored body is still gzip, and decodes to the scrubbed JSON
    assert json.loads(gzip.decompress(back.request.body))["metadata"]["note"] == f"key {PLACEHOLDER}"
    assert "gzip: decoded, scrubbed and encoded again" in back.notes[0]


def test_leak_key_split_across_two_sse_chunks(tmp_path):
    event = b'data: {"choices":[{"delta":{"content":"my key is ' + PROJECT_KEY.encode() + b'"}}]}\n\n'
    cut = event.index(b"sk-proj-") + 11
    chunks = [
        fmt.Chunk(12.5, event[:cut]),
        fmt.Chunk(40.0, event[cut:]),
        fmt.Chunk(41.0, b"data: [DONE]\n\n"),
    ]
    it = _interaction(response_headers={"content-type": ["text/event-stream"]}, chunks=chunks)
    back = _round_trip(tmp_path, it, PROJECT_KEY)
    assert [c.t_ms for c in back.response.chunks] == [12.5, 40.0, 41.0]
    assert back.response.chunks[0].data == event[: event.index(b"sk-proj-")] + PLACEHOLDER.encode()
    assert back.response.chunks[1].data == b'"}}]}\n\n'
    assert back.response.chunks[2].data == b"data: [DONE]\n\n"


# --- streams: every cut ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", [PROJECT_KEY, ANTHROPIC_KEY, GOOGLE_KEY, JWT], ids=["proj", "ant", "aiza", "jwt"]
)
def test_a_key_cut_at_every_offset_into_two_or_three_chunks_is_scrubbed(key):
    data = b'data: {"delta":{"text":"' + key.encode() + b'"}}\n\ndata: [DONE]\n\n'
    at = data.index(key.encode())
    cuts = [(k,) for k in range(at + 1, at + len(key))]
    cuts += [(a, b) for a in range(at + 1, at + len(key), 7) for b in range(a + 1, at + len(key), 5)]
    for points in cuts:
        bounds = [0, *points, len(data)]
        chunks = [fmt.Chunk(float(k), data[a:b]) for k, (a, b) in enumerate(itertools.pairwise(bounds))]
        it = scrub(_interaction(chunks=chunks))
        got = it.response.chunks
        assert len(got) == len(chunks) and [c.t_ms for c in got] == [c.t_ms for c in chunks], points
        assert it.response.body == data.replace(key.encode(), PLACEHOLDER.encode()), points


# --- JSON, URLs, credential names ---------------------------------------------------------------------------


def test_escaped_keys_in_json_strings_are_scrubbed_and_stay_valid_json():
    escaped = "\\u0073\\u006b" + PROJECT_KEY[2:]
    body = ('{"messages":[{"content":"my key ' + escaped + ' caf\\u00e9"}]}').encode()
    it = scrub(_interaction(body=body))
    assert it.request.json == {"messages": [{"content": f"my key {PLACEHOLDER} café"}]}
    assert it.request.body.isascii()  # written back escaped as it came


def test_keys_in_url_path_segments_and_query_values():
    it = _interaction(
        path=f"/v1/keys/{AZURE}/files/{PROJECT_KEY}/content",
        query={"q": [f"x {GOOGLE_KEY}"], "subscription-key": [AZURE], "api-version": ["2024-10-21"]},
    )
    scrub(it)
    assert it.request.path == f"/v1/keys/{PLACEHOLDER}/files/{PLACEHOLDER}/content"
    assert it.request.query == {
        "q": [f"x {PLACEHOLDER}"],
        "subscription-key": [PLACEHOLDER],
        "api-version": ["2024-10-21"],
    }


def test_credential_header_names_and_what_they_leave_alone():
    assert scrub_header("x-my-service-token", f"v1 {AZURE}") == f"v1 {PLACEHOLDER}"
    assert scrub_header("X-Client-Credential", "abcdEFGH12345678") == PLACEHOLDER
    assert scrub_header("ocp-apim-subscription-key", "anything at all") == PLACEHOLDER
    # words and counters under such names are not keys; rate-limit headers are not credentials
    assert scrub_header("www-authenticate", 'Bearer realm="OpenAI API"') == 'Bearer realm="OpenAI API"'
    assert scrub_header("x-ratelimit-remaining-tokens", "149984000000") == "149984000000"
    assert scrub_header("x-trace", AZURE) == AZURE  # a hex id under a neutral name is not a key


def test_json_fields_named_like_credentials():
    body = json.dumps(
        {
            "password": "correct horse battery",
            "client_secret": AZURE,
            "token": "Kx8pQ2mZ7vN4bR1tY6wE",
            "logprobs": {
                "content": [{"token": "Hello", "logprob": -0.1}, {"token": " world", "logprob": -0.2}]
            },
            "max_tokens": 1024,
        }
    ).encode()
    it = scrub(_interaction(body=body))
    assert it.request.json == {
        "password": PLACEHOLDER,
        "client_secret": PLACEHOLDER,
        "token": PLACEHOLDER,
        "logprobs": {"content": [{"token": "Hello", "logprob": -0.1}, {"token": " world", "logprob": -0.2}]},
        "max_tokens": 1024,
    }


def test_api_key_phrases_need_a_key_like_value():
    assert scrub_text(f"Incorrect API key provided: {AZURE}.") == f"Incorrect API key provided: {PLACEHOLDER}"
    assert (
        scrub_text(f"subscription key '{AZURE}' is invalid") == f"subscription key '{PLACEHOLDER}' is invalid"
    )
    prose = (
        "Your API key is invalid. You can find your API key at https://platform.openai.com/account/api-keys."
    )
    assert scrub_text(prose) == prose
    masked = "Incorrect API key provided: sk-proj-********************************************1234."
    assert scrub_text(masked) == masked


def test_the_placeholder_never_looks_like_a_key():
    contexts = [
        PLACEHOLDER,
        f"Bearer {PLACEHOLDER}",
        f"https://x/?key={PLACEHOLDER}&api_key={PLACEHOLDER}",
        f"Incorrect API key provided: {PLACEHOLDER}",
        json.dumps({"password": PLACEHOLDER, "api_key": PLACEHOLDER, "token": PLACEHOLDER}),
    ]
    for text in contexts:
        assert secrets.hits(text.encode()) == [], text
        assert scan_text(json.dumps({"body": {"text": text}})) == [], text


def test_multipart_credential_fields_and_form_bodies():
    body = (
        b'--zz\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n' + AZURE.encode() + b"\r\n"
        b'--zz\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--zz--\r\n'
    )
    it = scrub(_interaction(headers={"content-type": ["multipart/form-data; boundary=zz"]}, body=body))
    assert it.request.body == body.replace(AZURE.encode(), PLACEHOLDER.encode())
    form = scrub(_interaction(body=f"grant_type=x&client_secret={AZURE}&scope=y".encode()))
    assert form.request.body == f"grant_type=x&client_secret={PLACEHOLDER}&scope=y".encode()


# --- decoding ----------------------------------------------------------------------------------------------


def test_deflate_is_re_encoded_in_the_same_flavour():
    plain = json.dumps({"note": PROJECT_KEY}).encode()
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    for stored in (zlib.compress(plain), raw.compress(plain) + raw.flush()):
        it = scrub(_interaction(headers={"content-encoding": ["deflate"]}, body=stored))
        assert decode.decode(it.request.body, ["deflate"]) == json.dumps({"note": PLACEHOLDER}).encode()
        assert decode._zlib_wrapped(it.request.body) == decode._zlib_wrapped(stored)


def test_an_unlabelled_gzip_body_is_sniffed():
    it = scrub(_interaction(response_body=gzip.compress(f"key {GOOGLE_KEY}".encode())))
    assert gzip.decompress(it.response.body) == f"key {PLACEHOLDER}".encode()


def test_undecodable_bodies_are_still_searched_as_bytes():
    """``br`` without a brotli module, or a corrupt gzip body: the bytes are opaque, but a key in them is
    still a key."""
    for coding in ("br", "gzip", "zstd"):
        body = b"\x8b\x00\x07" + PROJECT_KEY.encode() + b"\x03"
        it = scrub(_interaction(headers={"content-encoding": [coding]}, body=body))
        assert it.request.body == b"\x8b\x00\x07" + PLACEHOLDER.encode() + b"\x03", coding
    with pytest.raises(decode.Undecodable):
        decode.decode(b"not gzip", ["gzip"])
    with pytest.raises(decode.Undecodable):
        decode.decode(zlib.compress(b"x") + b"trailing", ["deflate"])


def test_a_gzip_stream_is_scrubbed_and_keeps_its_chunk_count_and_timings():
    packed = gzip.compress(f"data: {JWT}\n\n".encode())
    chunks = [fmt.Chunk(1.0, packed[:10]), fmt.Chunk(2.0, packed[10:])]
    it = scrub(_interaction(response_headers={"content-encoding": ["gzip"]}, chunks=chunks))
    assert [c.t_ms for c in it.response.chunks] == [1.0, 2.0]
    assert gzip.decompress(it.response.body) == f"data: {PLACEHOLDER}\n\n".encode()


# --- the scanner: decoding, and files it cannot read ---------------------------------------------------------


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wirecheck")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.run(args)


def _saved(tmp_path: Path, name: str = "c.yaml") -> Path:
    it = _interaction(
        body=json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi " * 40}]}).encode()
    )
    it.response.chunks = [fmt.Chunk(float(k), f"data: {k}\n\n".encode()) for k in range(20)]
    return fmt.save(fmt.Cassette([it], name="c"), tmp_path / name)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_cassette_scan_fails_a_truncated_file_and_names_it(tmp_path, capsys, suffix):
    path = _saved(tmp_path, "whole" + suffix)
    assert _cli("cassette", "scan", str(path)) == 0
    capsys.readouterr()
    text = path.read_text()
    cut = tmp_path / ("cut" + suffix)
    cut.write_text(text[: len(text) // 2])
    assert _cli("cassette", "scan", str(tmp_path)) == 1
    captured = capsys.readouterr()
    assert f"{cut}:" in captured.out and "unreadable" in captured.out
    assert str(path) not in captured.out
    assert "1 unreadable" in captured.err


def test_scan_fails_bad_base64_invalid_cassettes_and_non_utf8_files(tmp_path):
    it = _interaction(body=b"\xff\xfe binary")
    path = fmt.save(fmt.Cassette([it]), tmp_path / "b.yaml")
    text = path.read_text()
    assert "b64:" in text
    path.write_text(text.replace("b64: ", "b64: .."))
    [finding] = scan(path)
    assert "unreadable" in finding.kind and "base64" in finding.kind and finding.file == str(path)
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("wirecheck_cassette: 1\ninteractions:\n- request: {method: GET}\n")
    [finding] = scan(invalid)
    assert "not a valid cassette" in finding.kind
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"a": "\xff"}')
    [finding] = scan(binary)
    assert "not UTF-8" in finding.kind
    # plain text under another suffix is searched as text, not failed
    assert scan_text("key: value: other", "notes.txt") == []
    assert [f.kind for f in scan_text(f"x: y: {PROJECT_KEY}", "notes.txt")] == [
        "OpenAI project key (sk-proj-)"
    ]


def test_scan_decodes_har_base64_content_and_fails_bad_base64(tmp_path):
    it = _interaction(response_body=json.dumps({"echo": AZURE, "note": f"key {GOOGLE_KEY}"}).encode())
    path = write_har(fmt.Cassette([it]), tmp_path / "x.har")
    doc = json.loads(path.read_text())
    content = doc["log"]["entries"][0]["response"]["content"]
    content["text"] = base64.b64encode(content["text"].encode()).decode()
    content["encoding"] = "base64"
    path.write_text(json.dumps(doc))
    assert GOOGLE_KEY not in path.read_text()
    assert [f.kind for f in scan(path)] == ["Google API key (AIza)"]
    # HAR's parsed cookies and form params are read as such
    entry = doc["log"]["entries"][0]
    entry["request"]["cookies"] = [{"name": "session", "value": "opaque-session-value"}]
    entry["request"]["postData"] = {
        "mimeType": "x",
        "text": "",
        "params": [{"name": "api_key", "value": AZURE}],
    }
    path.write_text(json.dumps(doc))
    kinds = {f.kind for f in scan(path)}
    assert {"cookie 'session'", "credential query parameter 'api_key'"} <= kinds
    # ... but only HAR's lists: a JSON body's "params" object is a body like any other
    body = {"jsonrpc": "2.0", "params": {"key": "plain-value", "cookies": {"a": "b"}}}
    assert scan_text(json.dumps({"request": {"body": body}})) == []
    content["text"] = "%%%not base64"
    path.write_text(json.dumps(doc))
    [finding] = scan(path)
    assert "unreadable" in finding.kind and "base64" in finding.kind


def test_scan_decodes_gzip_in_yaml_binary_and_b64_values(tmp_path):
    """Bodies the scanner meets outside cassettes: VCR.py's ``!!binary`` and any ``b64`` value."""
    packed = gzip.compress(f"token {JWT}".encode())
    vcr = tmp_path / "vcr.yaml"
    vcr.write_text(
        "interactions:\n- response:\n    body:\n      string: !!binary |\n        "
        + base64.b64encode(packed).decode()
        + "\n"
    )
    assert [f.kind for f in scan(vcr)] == ["JWT (in a gzip-encoded body)"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"body": {"b64": base64.b64encode(packed).decode()}}))
    assert [f.kind for f in scan(other)] == ["JWT (in a gzip-encoded body)"]


# --- the recorder, end to end on loopback ------------------------------------------------------------------


def _upstream_reply(path: str) -> list[tuple[float, bytes]]:
    """(delay in seconds, bytes) to send for a request to ``path``: the measured leaks, as an upstream does."""
    if path.startswith("/stream"):
        event = b'data: {"choices":[{"delta":{"content":"key ' + PROJECT_KEY.encode() + b'"}}]}\n\n'
        cut = event.index(b"sk-proj-") + 9
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        pieces = [event[:cut], event[cut:], b"data: [DONE]\n\n"]
        return [(0, head)] + [(0.05, b"%x\r\n%s\r\n" % (len(p), p)) for p in pieces] + [(0, b"0\r\n\r\n")]
    if path.startswith("/denied"):
        body = json.dumps(
            {"error": {"code": "401", "message": f"Incorrect API key provided: {AZURE}."}}
        ).encode()
        status = b"401 Unauthorized"
        extra = b"content-type: application/json\r\n"
    else:
        body = gzip.compress(json.dumps({"echo": f"key {ANTHROPIC_KEY}"}).encode())
        status = b"200 OK"
        extra = b"content-type: application/json\r\ncontent-encoding: gzip\r\n"
    return [(0, b"HTTP/1.1 %s\r\n%scontent-length: %d\r\n\r\n%s" % (status, extra, len(body), body))]


async def _raw_upstream(stream) -> None:
    data = b""
    with trio.move_on_after(5):
        while True:
            while b"\r\n\r\n" not in data:
                more = await stream.receive_some(65536)
                if not more:
                    return
                data += more
            head, _, data = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(data) < length:
                data += await stream.receive_some(65536)
            data = data[length:]
            path = head.split(b" ")[1].decode()
            for delay, piece in _upstream_reply(path):
                await trio.sleep(delay)
                await stream.send_all(piece)


@pytest.mark.anyio
async def test_the_recorder_writes_none_of_the_measured_leaks(tmp_path):
    """The attacker's measurement, replayed: a recorder on loopback between a client and an upstream that
    echoes keys; the written cassette holds none of them and scans clean."""
    out = tmp_path / "recorded.yaml"
    async with trio.open_nursery() as nursery:
        [listener] = await nursery.start(
            functools.partial(trio.serve_tcp, _raw_upstream, 0, host="127.0.0.1")
        )
        port = listener.socket.getsockname()[1]
        recorder = await nursery.start(functools.partial(serve_recorder, f"http://127.0.0.1:{port}", None))
        async with http_client(base_url=recorder.url, timeout=10) as client:
            files = {"file": ("x.png", b"\x89PNG\x00\xff" + PROJECT_KEY.encode() + b"\x00", "image/png")}
            await client.post("/gzip", headers={"x-contoso-openai-key": AZURE}, files=files)
            packed = gzip.compress(json.dumps({"note": GOOGLE_KEY}).encode())
            await client.post("/denied", content=packed, headers={"content-encoding": "gzip"})
            async with client.stream("POST", "/stream", json={"stream": True}) as response:
                streamed = b"".join([piece async for piece in response.aiter_raw()])
        with trio.fail_after(5):
            while len(recorder.interactions) < 3:
                await trio.sleep(0.005)
        recorder.save(out)
        nursery.cancel_scope.cancel()
    assert PROJECT_KEY.encode() in streamed  # the client got the real stream; only the cassette is scrubbed
    text = out.read_text()
    for key in (AZURE, PROJECT_KEY, ANTHROPIC_KEY, GOOGLE_KEY):
        assert key not in text
    assert scan(out) == []
    gz, denied, stream = fmt.load(out).interactions
    assert gz.request.headers["x-contoso-openai-key"] == [PLACEHOLDER]
    assert PROJECT_KEY.encode() not in gz.request.body and b"\x89PNG" in gz.request.body
    assert ANTHROPIC_KEY.encode() not in b"".join([gz.response.body, *_decompressed(gz.response.body)])
    assert AZURE.encode() not in denied.response.body
    assert GOOGLE_KEY.encode() not in b"".join([denied.request.body, *_decompressed(denied.request.body)])
    assert len(stream.response.chunks) >= 2 and PLACEHOLDER.encode() in stream.response.body
    # the recorder stores the upstream's gzip answer decoded: the note says what the scrubber did
    assert "response body" in gz.notes[-1] and "encoded again" not in gz.notes[-1].split("response body")[1]
    assert "request body (gzip: decoded, scrubbed and encoded again)" in denied.notes[-1]


def test_interactions_rendered_on_their_own_are_read_as_interactions():
    """The recorder scans each interaction's text (a YAML list of one) before it appends it: a key split
    across two chunks is found there too, and a scrubbed one is clean."""
    event = f"data: {JWT}\n\n".encode()
    it = _interaction(chunks=[fmt.Chunk(1.0, event[:15]), fmt.Chunk(2.0, event[15:])])
    text = fmt.dump_text([fmt.interaction_data(it)])
    assert [f.kind for f in scan_text(text, "exchange #1")] == ["JWT"]
    scrub(it)
    assert scan_text(fmt.dump_text([fmt.interaction_data(it)]), "exchange #1") == []
