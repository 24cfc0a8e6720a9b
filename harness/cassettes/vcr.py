"""Import VCR.py / pytest-recording YAML cassettes (and export to them, for other tools).

VCR.py stores ``interactions: [{request: {method, uri, body, headers}, response: {status: {code, message},
headers, body: {string}}}]``. Two storage styles are read:

- plain VCR.py (e.g. openllmetry): ``body.string`` is text, or bytes (``!!binary``) that are often gzip with
  ``Content-Encoding`` kept; gzip, deflate and br (when the ``brotli`` package is installed) are decoded and
  the interaction gets a note saying so (the ``content-encoding`` header is kept as recorded; replay does
  not send it, since the stored body is the decoded one);
- pydantic-ai's serializer: ``parsed_body`` (request and/or response) instead of the body bytes. The JSON
  is re-serialized compactly and the interaction says so: the original bytes are not in the file.

VCR keeps no timing and no chunk boundaries, so an SSE body (``text/event-stream``) is split into one chunk
per event (after each blank line) with ``t_ms: 0``; a Gemini JSON-array stream becomes one chunk. Header
names are lower-cased; ``host``, ``connection``, ``keep-alive``, ``content-length``, ``transfer-encoding``
of the request are not kept (they describe the recording client's connection). Secrets are scrubbed
(``harness.cassettes.scrub``) before the cassette exists in memory, let alone on disk.

Every interaction is imported, whatever its endpoint; ``import_file`` also reports whether the file holds
any interaction the provider contract covers (``outcome``) and why the rest are out of scope.
"""

from __future__ import annotations

import collections
import email.utils
import gzip
import importlib
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.cassettes import index as ix
from harness.cassettes.format import Cassette, CassetteError, Chunk, Interaction, Request, Response
from harness.cassettes.scrub import scrub
from harness.config import ConfigError, line_of, load_document, pointer_of

__all__ = ["ImportResult", "export_vcr", "import_file", "import_folder", "read_vcr", "split_sse"]

DROPPED_REQUEST_HEADERS = frozenset(
    {"host", "connection", "keep-alive", "content-length", "transfer-encoding", "te", "upgrade"}
)


@dataclass
class ImportResult:
    """One file's import: the cassette, ``outcome`` (``imported``: at least one interaction the contract
    covers; ``out-of-scope``: none; ``failed``: the file could not be read, ``error`` says why) and the
    reasons (with counts) for its out-of-scope interactions."""

    path: Path
    outcome: Literal["imported", "out-of-scope", "failed"]
    cassette: Cassette | None = None
    reasons: collections.Counter[str] = field(default_factory=collections.Counter)
    error: str | None = None

    @property
    def in_scope(self) -> int:
        if self.cassette is None:
            return 0
        return sum(1 for it in self.cassette.interactions if "out_of_scope" not in (it.index or {}))

    def summary(self) -> str:
        if self.outcome == "failed":
            return f"{self.path}: failed: {self.error}"
        n = len(self.cassette.interactions) if self.cassette else 0
        head = f"{self.path}: {self.outcome}: {self.in_scope}/{n} interactions in scope"
        if self.reasons:
            head += "; out of scope: " + "; ".join(f"{r} (x{c})" for r, c in self.reasons.most_common())
        return head


# --- bodies -----------------------------------------------------------------------------------------------


def _decompress(data: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    if encoding == "deflate":
        try:
            return zlib.decompress(data)
        except zlib.error:
            return zlib.decompress(data, -zlib.MAX_WBITS)  # raw deflate, as some servers send it
    if encoding == "br":
        try:
            brotli = importlib.import_module("brotli")
        except ImportError:
            raise ValueError(
                "the body is brotli-compressed and the 'brotli' package is not installed"
            ) from None
        return brotli.decompress(data)
    if encoding in ("identity", ""):
        return data
    raise ValueError(f"unknown content-encoding {encoding!r}")


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and "string" in value:
        return _bytes(value["string"])
    raise ValueError(f"a body of type {type(value).__name__}")


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_EVENT_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def split_sse(data: bytes) -> list[bytes]:
    """``data`` cut after each SSE event (after the blank line that ends it); the pieces join back to
    ``data``. Bytes after the last blank line (an unterminated event) are the last piece."""
    out = []
    pos = 0
    for m in _EVENT_END.finditer(data):
        out.append(data[pos : m.end()])
        pos = m.end()
    if pos < len(data):
        out.append(data[pos:])
    return out or [data]


def _headers(raw: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in (raw or {}).items():
        values = value if isinstance(value, list) else [value]
        out.setdefault(str(name).lower(), []).extend(str(v) for v in values)
    return out


def _date(headers: dict[str, list[str]]) -> str | None:
    value = (headers.get("date") or [None])[0]
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- one interaction --------------------------------------------------------------------------------------


def read_interaction(item: dict[str, Any], where: str, source: str) -> Interaction:
    """One VCR interaction as ours (not yet scrubbed or indexed)."""
    notes: list[str] = []
    req = item.get("request")
    resp = item.get("response")
    if not isinstance(req, dict) or not isinstance(resp, dict):
        raise CassetteError(source, where, "expected request and response mappings")
    uri = req.get("uri")
    if not isinstance(uri, str):
        raise CassetteError(source, f"{where}.request.uri", "expected a URL")
    parts = urlsplit(uri)
    query: dict[str, list[str]] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(k, []).append(v)
    headers = {k: v for k, v in _headers(req.get("headers")).items() if k not in DROPPED_REQUEST_HEADERS}
    if "parsed_body" in req:
        body = _compact(req["parsed_body"]) if req["parsed_body"] is not None else b""
        if body:
            notes.append("request body re-serialized from parsed_body (the original bytes were not kept)")
    else:
        try:
            body = _bytes(req.get("body"))
        except ValueError as exc:
            raise CassetteError(source, f"{where}.request.body", str(exc)) from None
    request = Request(
        method=str(req.get("method", "GET")).upper(),
        path=parts.path or "/",
        query=query,
        headers=headers,
        body=body,
    )

    status = resp.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    if not isinstance(code, int):
        raise CassetteError(source, f"{where}.response.status", "expected {code: int}")
    rheaders = _headers(resp.get("headers"))
    if "parsed_body" in resp:
        data = _compact(resp["parsed_body"]) if resp["parsed_body"] is not None else b""
        notes.append("response body re-serialized from parsed_body (the original bytes were not kept)")
    else:
        try:
            data = _bytes(resp.get("body"))
        except ValueError as exc:
            raise CassetteError(source, f"{where}.response.body", str(exc)) from None
        encoding = (rheaders.get("content-encoding") or [""])[0]
        if encoding and encoding.lower() != "identity" and data:
            try:
                data = _decompress(data, encoding)
            except (OSError, ValueError, zlib.error) as exc:
                raise CassetteError(
                    source, f"{where}.response.body", f"cannot decode {encoding}: {exc}"
                ) from None
            notes.append(
                f"response body decoded from {encoding} (content-encoding kept as recorded, not replayed)"
            )
    content_type = (rheaders.get("content-type") or [""])[0].lower()
    endpoint = ix.classify(request.method, request.path, f"{parts.scheme}://{parts.netloc}")
    chunks = None
    if "text/event-stream" in content_type:
        chunks = [Chunk(0.0, piece) for piece in split_sse(data)] if data else []
        notes.append("VCR keeps no timing or chunk boundaries: one chunk per SSE event, t_ms 0")
    elif endpoint.stream and 200 <= code < 300:
        chunks = [Chunk(0.0, data)] if data else []
        notes.append("VCR keeps no timing or chunk boundaries: the stream is one chunk, t_ms 0")
    response = Response(status=code, headers=rheaders, body=data if chunks is None else b"", chunks=chunks)
    return Interaction(
        request=request,
        response=response,
        source="imported-vcr",
        recorded_at=_date(rheaders),
        host=f"{parts.scheme}://{parts.netloc}" if parts.scheme else None,
        notes=notes,
    )


# --- files ------------------------------------------------------------------------------------------------


def read_vcr(path: str | Path) -> Cassette:
    """A VCR cassette file as our ``Cassette``: every interaction imported, scrubbed and indexed."""
    path = Path(path)
    source = str(path)
    try:
        doc, lines = load_document(path, source=source, kind="yaml", what="VCR cassette file")
    except ConfigError as exc:
        raise CassetteError.from_config(exc) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise CassetteError(source, "interactions", "not a VCR cassette (no interactions list)")
    interactions = []
    for i, item in enumerate(doc["interactions"]):
        try:
            it = scrub(read_interaction(item, f"interactions[{i}]", source))
        except CassetteError as exc:
            if exc.line:
                raise
            line = line_of(lines, pointer_of(exc.field))
            raise CassetteError(exc.source, exc.field, exc.message, line) from None
        it.index = ix.derive(it)
        interactions.append(it)
    return Cassette(
        interactions=interactions,
        name=path.stem,
        meta={"imported_from": path.name, "vcr_version": doc.get("version")},
        path=path.with_suffix(".yaml"),
    )


def import_file(path: str | Path) -> ImportResult:
    """``read_vcr`` with its outcome: never raises for a bad file (the outcome is ``failed``)."""
    path = Path(path)
    try:
        cassette = read_vcr(path)
    except CassetteError as exc:
        return ImportResult(path, "failed", error=str(exc))
    reasons: collections.Counter[str] = collections.Counter(
        it.index["out_of_scope"] for it in cassette.interactions if it.index and "out_of_scope" in it.index
    )
    covered = len(cassette.interactions) - sum(reasons.values())
    return ImportResult(path, "imported" if covered else "out-of-scope", cassette, reasons)


def import_folder(folder: str | Path) -> list[ImportResult]:
    """``import_file`` for every ``.yaml``/``.yml`` file under ``folder`` (recursively), sorted."""
    folder = Path(folder)
    return [
        import_file(p)
        for p in sorted(folder.rglob("*"))
        if p.suffix.lower() in (".yaml", ".yml") and p.is_file()
    ]


# --- export -----------------------------------------------------------------------------------------------


def export_vcr(cassette: Cassette) -> dict[str, Any]:
    """The cassette as a plain VCR.py document (bodies as text, or bytes when not UTF-8; chunks joined:
    VCR has no place for timing)."""
    out = []
    for it in cassette.interactions:
        req, resp = it.request, it.response
        host = it.host or "http://localhost"
        scheme, _, netloc = host.partition("://")
        query = urlencode([(k, v) for k, vs in req.query.items() for v in vs])
        out.append(
            {
                "request": {
                    "body": _text_or_bytes(req.body) if req.body else None,
                    "headers": {k: list(v) for k, v in req.headers.items()},
                    "method": req.method,
                    "uri": urlunsplit((scheme, netloc, req.path, query, "")),
                },
                "response": {
                    "body": {"string": _text_or_bytes(resp.body)},
                    "headers": {k: list(v) for k, v in resp.headers.items() if k != "content-encoding"},
                    "status": {"code": resp.status, "message": ""},
                },
            }
        )
    return {"interactions": out, "version": 1}


def _text_or_bytes(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data
