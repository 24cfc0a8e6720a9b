"""HAR 1.2 export and import (http://www.softwareishard.com/blog/har-12-spec/), so cassettes open in HAR
viewers, browsers' devtools, Playwright (``routeFromHAR``) and Polly.js, and recordings made there come in.

Export: one entry per interaction. ``response.content.text`` holds the whole body (UTF-8 text, or base64
with ``encoding: "base64"``), ``timings`` give ``wait`` (until the response head) and ``receive`` (until the
last chunk). HAR has no place for chunks, so custom fields (HAR allows any field starting with ``_``) carry
what the format needs to come back unchanged:

- ``response._chunks: [{t_ms, text | b64}]``: the stream's chunks and their timing, as in the cassette;
- ``response._t_ms``: when the head arrived; ``response._complete: false`` for a recording cut short;
- ``request.postData._encoding: "base64"`` for a request body that is not UTF-8 (HAR 1.2 has no encoding
  field for ``postData``);
- ``entry._wirecheck: {source, host, notes, index}`` and ``log._wirecheck: {name, description, meta, match}``.

Import: our own exports come back as the same cassette (``export_har`` then ``import_har`` is the identity,
a test checks it). A foreign HAR has no ``_chunks``: a ``text/event-stream`` body is split into one chunk
per event with ``t_ms`` at the entry's ``wait`` time, and the interactions' source is ``imported-har``.
HTTP/2 pseudo-headers (``:authority``) and the request's connection headers are dropped; secrets are
scrubbed and the index derived, as for every import.

Scanning (``scan_interactions``, for ``harness.cassettes.scrub.scan``): every entry of any HAR document as an
interaction exactly as stored (nothing scrubbed, nothing dropped), its ``encoding: base64`` content,
``_encoding: base64`` post data and ``b64`` chunks decoded strictly (bad base64 is a ``CassetteError``,
never skipped), so the scanner searches what the bytes say rather than their base64 text.
"""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.cassettes import index as ix
from harness.cassettes.format import (
    VERSION_KEY,
    Cassette,
    CassetteError,
    Chunk,
    Interaction,
    MatchPolicy,
    Request,
    Response,
    _ms,
    encode_body,
    problems,
)
from harness.cassettes.scrub import scrub
from harness.cassettes.vcr import DROPPED_REQUEST_HEADERS, split_sse

__all__ = ["export_har", "import_har", "read_har", "scan_interactions", "write_har"]

_EPOCH = "1970-01-01T00:00:00.000Z"


def _text_or_b64(data: bytes) -> dict[str, str]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(data).decode("ascii"), "encoding": "base64"}


def _pairs(values: dict[str, list[str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, vs in values.items() for v in vs]


def _entry(it: Interaction) -> dict[str, Any]:
    req, resp = it.request, it.response
    host = it.host or "http://localhost"
    scheme, _, netloc = host.partition("://")
    query = urlencode([(k, v) for k, vs in req.query.items() for v in vs])
    request: dict[str, Any] = {
        "method": req.method,
        "url": urlunsplit((scheme, netloc, req.path, query, "")),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(req.headers),
        "queryString": _pairs(req.query),
        "headersSize": -1,
        "bodySize": len(req.body),
    }
    if req.body:
        body = _text_or_b64(req.body)
        post: dict[str, Any] = {"mimeType": req.header("content-type") or "", "text": body["text"]}
        if "encoding" in body:
            post["_encoding"] = body["encoding"]
        request["postData"] = post
    content: dict[str, Any] = {"size": len(resp.body), "mimeType": resp.header("content-type") or ""}
    content.update(_text_or_b64(resp.body))
    response: dict[str, Any] = {
        "status": resp.status,
        "statusText": "",
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(resp.headers),
        "content": content,
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(resp.body),
    }
    if resp.t_ms is not None:
        response["_t_ms"] = _ms(resp.t_ms)
    if resp.chunks is not None:
        response["_chunks"] = [
            {"t_ms": _ms(c.t_ms), **encode_body(c.data, allow_json=False)} for c in resp.chunks
        ]
    if not resp.complete:
        response["_complete"] = False
    wait = resp.t_ms or 0.0
    end = max([wait, *(c.t_ms for c in resp.chunks or ())])
    extra: dict[str, Any] = {"source": it.source}
    if it.host is not None:
        extra["host"] = it.host
    if it.notes:
        extra["notes"] = list(it.notes)
    if it.index is not None:
        extra["index"] = it.index
    return {
        "startedDateTime": _har_time(it.recorded_at),
        "time": _ms(end),
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": _ms(wait), "receive": _ms(end - wait)},
        "_wirecheck": extra,
    }


def _har_time(recorded_at: str | None) -> str:
    """HAR's ``startedDateTime`` (ISO 8601 with milliseconds); the epoch when the time is unknown."""
    if not recorded_at:
        return _EPOCH
    if recorded_at.endswith("Z") and "." not in recorded_at:
        return recorded_at[:-1] + ".000Z"
    return recorded_at


def export_har(cassette: Cassette) -> dict[str, Any]:
    """The cassette as a HAR 1.2 document (plain data)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("wirecheck")
    except PackageNotFoundError:
        ours = "0"
    log: dict[str, Any] = {
        "version": "1.2",
        "creator": {"name": "wirecheck", "version": ours},
        "entries": [_entry(it) for it in cassette.interactions],
    }
    extra = {
        k: v
        for k, v in (
            ("name", cassette.name),
            ("description", cassette.description),
            ("meta", cassette.meta),
            ("match", cassette.match.to_data()),
        )
        if v
    }
    if extra:
        log["_wirecheck"] = extra
    return {"log": log}


def write_har(cassette: Cassette, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(export_har(cassette), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# --- import ---------------------------------------------------------------------------------------------


def _get(obj: Any, key: str, kind: type, where: str, source: str) -> Any:
    if not isinstance(obj, dict) or not isinstance(obj.get(key), kind):
        raise CassetteError(source, f"{where}.{key}", f"expected a {kind.__name__}")
    return obj[key]


def _multi(pairs: list[Any], lower: bool, drop: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in pairs:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            continue
        name = p["name"].lower() if lower else p["name"]
        if name.startswith(":") or name in drop:
            continue
        out.setdefault(name, []).append(str(p.get("value", "")))
    return out


def _iso(started: Any) -> str | None:
    if not isinstance(started, str) or started == _EPOCH:
        return None
    try:
        when = datetime.datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return started
    text = when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("Z" if when.microsecond == 0 else f".{when.microsecond // 1000:03d}Z")


def _decode(text: str, b64: bool) -> bytes:
    return base64.b64decode(text) if b64 else text.encode("utf-8")


def _interaction(entry: Any, where: str, source: str) -> Interaction:
    request = _get(entry, "request", dict, where, source)
    response = _get(entry, "response", dict, where, source)
    url = _get(request, "url", str, f"{where}.request", source)
    parts = urlsplit(url)
    ours = entry.get("_wirecheck") if isinstance(entry.get("_wirecheck"), dict) else None
    query: dict[str, list[str]] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(k, []).append(v)
    post = request.get("postData") or {}
    body = _decode(post.get("text", ""), post.get("_encoding") == "base64") if isinstance(post, dict) else b""
    req = Request(
        method=str(request.get("method", "GET")).upper(),
        path=parts.path or "/",
        query=query,
        headers=_multi(request.get("headers") or [], True, frozenset() if ours else DROPPED_REQUEST_HEADERS),
        body=body,
    )
    content = response.get("content") or {}
    data = _decode(content.get("text", ""), content.get("encoding") == "base64")
    headers = _multi(response.get("headers") or [], True)
    status = _get(response, "status", int, f"{where}.response", source)
    t_ms = response.get("_t_ms")
    chunks = None
    notes: list[str] = []
    if isinstance(response.get("_chunks"), list):
        chunks = [
            Chunk(
                float(c.get("t_ms", 0)),
                _decode(c["b64"], True) if "b64" in c else _decode(c.get("text", ""), False),
            )
            for c in response["_chunks"]
        ]
        if b"".join(c.data for c in chunks) != data:
            raise CassetteError(
                source, f"{where}.response._chunks", "the chunks do not add up to content.text"
            )
    elif (
        "text/event-stream" in (content.get("mimeType") or "")
        or "text/event-stream" in ((headers.get("content-type") or [""])[0])
    ):
        wait = (entry.get("timings") or {}).get("wait")
        at = float(wait) if isinstance(wait, int | float) and wait >= 0 else 0.0
        chunks = [Chunk(at, piece) for piece in split_sse(data)] if data else []
        notes.append("HAR keeps no chunk boundaries: one chunk per SSE event, at the entry's wait time")
    if ours is None:
        wait = (entry.get("timings") or {}).get("wait")
        t_ms = float(wait) if isinstance(wait, int | float) and wait >= 0 else None
    it = Interaction(
        request=req,
        response=Response(
            status=status,
            headers=headers,
            body=data if chunks is None else b"",
            chunks=chunks,
            t_ms=float(t_ms) if isinstance(t_ms, int | float) else None,
            complete=response.get("_complete", True) is not False,
        ),
        source=str(ours.get("source", "imported-har")) if ours else "imported-har",
        recorded_at=_iso(entry.get("startedDateTime")),
        host=ours.get("host") if ours else (f"{parts.scheme}://{parts.netloc}" if parts.scheme else None),
        notes=list(ours.get("notes", [])) if ours else notes,
    )
    if ours is None:
        scrub(it)
        it.index = ix.derive(it)
    else:
        it.index = ours.get("index")
    return it


def import_har(doc: Any, source: str = "<har>") -> Cassette:
    """A cassette from a HAR document (plain data)."""
    log = _get(doc, "log", dict, "", source)
    entries = _get(log, "entries", list, "log", source)
    interactions = [_interaction(e, f"log.entries[{i}]", source) for i, e in enumerate(entries)]
    extra = log.get("_wirecheck") if isinstance(log.get("_wirecheck"), dict) else {}
    creator = log.get("creator") if isinstance(log.get("creator"), dict) else {}
    ours = creator.get("name") == "wirecheck"
    return Cassette(
        interactions=interactions,
        name=extra.get("name"),
        description=extra.get("description"),
        meta=dict(extra.get("meta") or {}) if ours else {"imported_from": Path(source).name},
        match=_match(extra.get("match"), source),
    )


def _match(data: Any, source: str) -> MatchPolicy:
    """The cassette's ``match`` from ``log._wirecheck.match``, checked as the cassette loader checks it."""
    if not data:
        return MatchPolicy()
    found = problems({VERSION_KEY: 1, "interactions": [], "match": data})
    if found:
        where, message = found[0]
        raise CassetteError(source, f"log._wirecheck.{where}", message)
    return MatchPolicy.from_data(data)


def read_har(path: str | Path) -> Cassette:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CassetteError(str(path), "<file>", f"not a readable HAR (JSON) file: {exc}") from None
    cassette = import_har(doc, str(path))
    if not cassette.name:
        cassette.name = path.stem
    return cassette


# --- scanning -------------------------------------------------------------------------------------------


def _strict(text: Any, b64: bool, where: str, source: str) -> bytes:
    if not isinstance(text, str):
        return b""
    if not b64:
        return text.encode("utf-8")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise CassetteError(source, where, "not valid base64") from None


def _scanned(entry: Any, where: str, source: str, *, with_chunks: bool) -> Interaction:
    entry = entry if isinstance(entry, dict) else {}
    request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    parts = urlsplit(request.get("url") if isinstance(request.get("url"), str) else "")
    query: dict[str, list[str]] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(k, []).append(v)
    post = request.get("postData") if isinstance(request.get("postData"), dict) else {}
    body = _strict(post.get("text"), post.get("_encoding") == "base64", f"{where}.request.postData", source)
    content = response.get("content") if isinstance(response.get("content"), dict) else {}
    data = _strict(
        content.get("text"), content.get("encoding") == "base64", f"{where}.response.content", source
    )
    chunks = None
    if with_chunks and isinstance(response.get("_chunks"), list):
        chunks = [
            Chunk(
                0.0,
                _strict(c.get("b64"), True, f"{where}.response._chunks[{k}]", source)
                if "b64" in c
                else _strict(c.get("text"), False, "", source),
            )
            for k, c in enumerate(response["_chunks"])
            if isinstance(c, dict)
        ]
    status = response.get("status")
    return Interaction(
        request=Request(
            method=str(request.get("method", "GET")).upper(),
            path=parts.path or "/",
            query=query,
            headers=_multi(request.get("headers") or [], True),
            body=body,
        ),
        response=Response(
            status=status if isinstance(status, int) else 0,
            headers=_multi(response.get("headers") or [], True),
            body=data if chunks is None else b"",
            chunks=chunks,
        ),
    )


def scan_interactions(doc: Any, source: str = "<har>") -> list[tuple[str, Interaction]]:
    """(``log.entries[i]``, interaction) for every entry of a HAR document, unscrubbed, bodies decoded (module
    doc); a ``CassetteError`` for base64 that does not decode."""
    log = doc.get("log") if isinstance(doc, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        return []
    out = []
    for i, entry in enumerate(entries):
        where = f"log.entries[{i}]"
        it = _scanned(entry, where, source, with_chunks=True)
        out.append((where, it))
        if it.response.chunks is not None:  # content.text too, in case it is not what the chunks say
            out.append((f"{where}.response.content", _scanned(entry, where, source, with_chunks=False)))
    return out
