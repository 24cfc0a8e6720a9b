"""Secrets: scrubbing them out of interactions before anything is written, and proving a folder holds none.

``scrub(interaction)`` (used by the recorder and both importers, in memory, before a cassette is saved)
replaces every secret by the fixed placeholder ``<scrubbed>`` (never a hash of the secret; it matches no
key pattern, so scrubbing twice changes nothing):

- credential headers (``secrets.SECRET_HEADERS``: Authorization, x-api-key, api-key, Cookie, Set-Cookie,
  Ocp-Apim-Subscription-Key...) become ``<scrubbed>``, keeping an auth scheme word (``Bearer <scrubbed>``);
  in any other header named like a credential (key, token, secret, auth, credential, password: Azure's
  32-hex keys under a custom name), every opaque value (12+ token characters with a digit) is scrubbed;
  in all other headers, known key shapes (``secrets.KEY_SHAPES``);
- credential query parameters (``SECRET_QUERY``: ``key`` as Gemini uses it, ``api_key``, ``access_token``,
  ...) become ``<scrubbed>``; opaque values of other credential-named parameters and key shapes in any
  value are scrubbed; so are key shapes in URL path segments, and an opaque segment after ``/keys/``,
  ``/tokens/``, ``/secrets/``...;
- bodies and streams, whatever their encoding (``body_hits``): a gzip/deflate/br body (``br`` only when a
  ``brotli`` module is importable; otherwise its bytes are searched as they are) is decoded, scrubbed and
  **encoded again the same way**, so the stored bytes stay a faithful, scrubbed body with its
  ``content-encoding`` header still true (the compressed bytes differ from the original compressor's; the
  interaction's note says so); each multipart part is scrubbed on its own (a file part keeps its bytes but
  for key-shaped runs); JSON string literals are unescaped first (``"\\u0073k-..."``), and a field named
  like a credential (``password``, ``api_key``, ``client_secret``...) loses its value; a value after a
  credential phrase (``Incorrect API key provided: 0123...``) is scrubbed, and so is any 32+ hex run in a
  401 or 403 answer (Azure echoes keys there);
- a stream is searched as the concatenation of its chunks, and each hit is replaced in the chunks it spans
  (the placeholder where it starts, its other bytes removed), so a key split across network reads is found
  and the chunk boundaries and timings stay as recorded.

Changed bodies and chunks give the interaction a note. The key patterns and credential names are in
``harness.cassettes.secrets``, body decoding in ``harness.cassettes.decode``.

``scan(path)`` proves the result: it reads every cassette (and any YAML/JSON/HAR file) under a path and
reports ``Finding``s with file and line. A cassette or HAR file is also read as interactions (``b64``
bodies and chunks, HAR ``encoding: base64`` content decoded) and everything ``scrub`` would take out of
them is a finding, so the scanner sees through every encoding the scrubber does; on the document itself it
looks for known key shapes anywhere, credential headers whose value is not the placeholder, long
high-entropy header values, and secret-named fields with a real-looking value. A file that cannot be read
or parsed (not UTF-8, truncated YAML or JSON, bad base64, an invalid cassette) is a finding naming the
file and the reason: it is never reported clean.

Long base64 values that are *meant* to be in bodies are not secrets and are allow-listed by JSON key
(``ALLOWED_BODY_KEYS``): Anthropic thinking ``signature`` (and ``signature_delta``), redacted thinking
``data``, Gemini ``thoughtSignature``, OpenAI ``encrypted_content``, base64 embeddings, images and audio.
High-entropy checks run on headers only (``ENTROPY_HEADERS_ALLOWED`` lists request-id style headers).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.cassettes import decode, secrets
from harness.cassettes.format import VERSION_KEY, CassetteError, Interaction, parse, problems
from harness.cassettes.secrets import PLACEHOLDER, SECRET_HEADERS, Hit

__all__ = [
    "PLACEHOLDER",
    "Finding",
    "body_hits",
    "scan",
    "scan_text",
    "scrub",
    "scrub_header",
    "scrub_text",
]

SECRET_QUERY = frozenset({"key", "api_key", "api-key", "apikey", "access_token", "token", "sig", "signature"})

#: (name, regex) of known key shapes, as text patterns (``secrets.KEY_SHAPES`` works on bytes).
KEY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern.pattern.decode("ascii"))) for kind, pattern in secrets.KEY_SHAPES
)
BEARER = re.compile(r"\bBearer\s+(?!<scrubbed>)([A-Za-z0-9._~+/=-]{16,})")
URL_KEY = re.compile(
    r"[?&](?:key|api_key|api-key|apikey|access_token|token|sig)=(?!(?:<|%3C)scrubbed)([^&\s\"'<>]{8,})"
)

#: JSON keys whose values are long base64 by design (never secrets).
ALLOWED_BODY_KEYS = frozenset(
    {
        "signature",  # Anthropic thinking blocks and signature_delta
        "thoughtSignature",  # Gemini
        "thought_signature",
        "encrypted_content",  # OpenAI reasoning items
        "data",  # Anthropic redacted_thinking, Gemini inlineData, audio
        "b64_json",  # images
        "embedding",  # base64 embeddings
        "obfuscation",  # OpenAI stream padding
    }
)
#: JSON keys whose (string) values are credentials when they are not placeholders.
SECRET_BODY_KEYS = re.compile(
    r"^(api[_-]?key|apikey|password|passwd|secret|client[_-]?secret|access[_-]?token|refresh[_-]?token|"
    r"auth[_-]?token|private[_-]?key|session[_-]?token)$",
    re.IGNORECASE,
)
#: Headers whose values are ids or transport metadata (high entropy but not secrets).
ENTROPY_HEADERS_ALLOWED = frozenset(
    {
        "x-request-id",
        "request-id",
        "apim-request-id",
        "cf-ray",
        "traceparent",
        "tracestate",
        "etag",
        "report-to",
        "nel",
        "server-timing",
        "alt-svc",
        "content-security-policy",
        "x-goog-upload-url",
        "x-guploader-uploadid",
        "openai-organization",
        "anthropic-organization-id",
        "x-ms-client-request-id",
        "azureml-model-session",
        "x-envoy-upstream-service-time",
        "cf-cache-status",
        "via",
        "date",
        "vary",
    }
)
_TOKEN = re.compile(r"[A-Za-z0-9+/_=.-]{32,}")


# --- scrubbing ----------------------------------------------------------------------------------------------

Report = tuple[str, str, str]
"""(where, kind, secret): what scrubbing took out, and where (``request.headers.x-api-key``...)."""


def _clean(data: bytes, found: list[Hit]) -> bytes:
    return secrets.apply(data, found) if found else data


def scrub_text(text: str) -> str:
    """``text`` with every secret ``secrets.hits`` finds in it replaced by the placeholder."""
    data = text.encode("utf-8")
    found = secrets.hits(data)
    return _clean(data, found).decode("utf-8", errors="replace") if found else text


def _reports(found: list[Hit]) -> list[tuple[str, str]]:
    return [report for hit in found for report in hit.reports]


def _clean_header(name: str, value: str) -> tuple[str, list[tuple[str, str]]]:
    lower = name.lower()
    if lower in SECRET_HEADERS:
        scheme, space, rest = value.partition(" ")
        keep = bool(space) and scheme.isalpha() and lower.endswith("authorization")
        bare = (rest if keep else value).strip()
        found = (
            []
            if not bare or bare == PLACEHOLDER
            else [(f"credential header {lower!r} with a real value", bare)]
        )
        return (f"{scheme} {PLACEHOLDER}" if keep else PLACEHOLDER), found
    data = value.encode("utf-8")
    hits = secrets.hits(data)
    if secrets.credential_header(lower):
        hits = secrets.merge(hits + secrets.opaque_hits(data, f"opaque value in credential header {lower!r}"))
    return _clean(data, hits).decode("utf-8", errors="replace"), _reports(hits)


def scrub_header(name: str, value: str) -> str:
    """``value`` of header ``name`` scrubbed: the whole value for a known credential header (keeping the
    scheme word of ``*authorization``: ``Bearer <scrubbed>``), opaque values in any header named like a
    credential (``secrets.credential_header``), and key shapes anywhere."""
    return _clean_header(name, value)[0]


def _clean_query(name: str, value: str) -> tuple[str, list[tuple[str, str]]]:
    if name.lower() in SECRET_QUERY:
        found = [] if not value or value == PLACEHOLDER else [(f"credential query parameter {name!r}", value)]
        return PLACEHOLDER, found
    data = value.encode("utf-8")
    hits = secrets.hits(data)
    if secrets.credential_header(name):
        hits = secrets.merge(
            hits + secrets.opaque_hits(data, f"opaque value in credential parameter {name!r}")
        )
    return _clean(data, hits).decode("utf-8", errors="replace"), _reports(hits)


def _clean_path(path: str) -> tuple[str, list[tuple[str, str]]]:
    segments = path.split("/")
    reports: list[tuple[str, str]] = []
    for i, segment in enumerate(segments):
        data = segment.encode("utf-8")
        hits = secrets.hits(data)
        if i and secrets.credential_segment(segments[i - 1]):
            hits = secrets.merge(
                hits + secrets.opaque_hits(data, f"opaque value in the URL path after /{segments[i - 1]}/")
            )
        if hits:
            segments[i] = _clean(data, hits).decode("utf-8", errors="replace")
            reports.extend(_reports(hits))
    return "/".join(segments), reports


def body_hits(data: bytes, headers: Mapping[str, list[str]], status: int | None = None) -> list[Hit]:
    """The secrets in a body (or a joined stream), as hits on its stored bytes: decoded first when it is
    gzip/deflate/br (one hit over the whole body, re-encoded the same way), each multipart part on its own
    (file bytes keep everything but key-shaped runs), and in a 401/403 answer any 32+ hex run as well."""
    if not data:
        return []
    applied = decode.codings(headers, data)
    if applied:
        try:
            inner = decode.decode(data, applied)
        except decode.Undecodable:
            inner = None  # opaque bytes: still searched as they are, below
        if inner is not None:
            plain = {k: v for k, v in headers.items() if k.lower() != "content-encoding"}
            found = body_hits(inner, plain, status)
            if not found:
                return []
            label = "+".join(applied)
            reports = tuple(
                (f"{kind} (in a {label}-encoded body)", secret) for kind, secret in _reports(found)
            )
            clean = decode.encode(secrets.apply(inner, found), applied, like=data)
            return [Hit(0, len(data), clean, reports)]
    found = secrets.hits(data)
    content_type = ", ".join(v for k, vs in headers.items() if k.lower() == "content-type" for v in vs)
    for part in decode.multipart(data, content_type):
        content = data[part.start : part.end]
        inner_hits = body_hits(content, part.headers, None)
        if part.filename is None and part.name and not inner_hits:
            value = content.decode("utf-8", errors="replace")
            if secrets.credential_field(part.name, value) or (
                secrets.credential_header(part.name) and secrets.opaque(value)
            ):
                inner_hits = [
                    Hit(
                        0, len(content), PLACEHOLDER.encode(), ((f"secret-named field {part.name!r}", value),)
                    )
                ]
        found += [Hit(h.start + part.start, h.end + part.start, h.replacement, h.reports) for h in inner_hits]
    if status in (401, 403):
        found += secrets.hex_hits(data, f"hex key in a {status} answer")
    return secrets.merge(found)


def _clean_values(
    values_by_name: Mapping[str, list[str]],
    clean: Callable[[str, str], tuple[str, list[tuple[str, str]]]],
    where: str,
    reports: list[Report],
) -> dict[str, list[str]]:
    """Each value of each name (headers, query parameters) through ``clean``; what it took out is added to
    ``reports`` at ``where.<name>``."""
    out: dict[str, list[str]] = {}
    for name, values in values_by_name.items():
        out[name] = []
        for value in values:
            cleaned, found = clean(name, value)
            out[name].append(cleaned)
            reports += [(f"{where}.{name}", kind, secret) for kind, secret in found]
    return out


def _scrub(it: Interaction) -> list[Report]:
    """Scrub ``it`` in place; what was taken out, and where."""
    req, resp = it.request, it.response
    out: list[Report] = []
    req.path, found = _clean_path(req.path)
    out += [("request.path", kind, secret) for kind, secret in found]
    for side, message in (("request", req), ("response", resp)):
        message.headers = _clean_values(message.headers, _clean_header, f"{side}.headers", out)
    req.query = _clean_values(req.query, _clean_query, "request.query", out)
    changed = []
    hits = body_hits(req.body, req.headers)
    if hits:
        req.body = secrets.apply(req.body, hits)
        changed.append("request body" + _encoded(req.headers, req.body))
        out += [("request.body", kind, secret) for kind, secret in _reports(hits)]
    if resp.chunks is not None:
        joined = resp.body
        hits = body_hits(joined, resp.headers, resp.status)
        if hits:
            pieces = [c.data for c in resp.chunks]
            if (
                len(hits) == 1
                and (hits[0].start, hits[0].end) == (0, len(joined))
                and decode.codings(resp.headers, joined)
            ):
                pieces = _spread(hits[0].replacement, [len(p) for p in pieces])
            else:
                pieces = secrets.apply_to_pieces(pieces, hits)
            for k, (chunk, data) in enumerate(zip(resp.chunks, pieces, strict=True)):
                if data != chunk.data:
                    chunk.data = data
                    changed.append(f"response chunk {k}")
            out += [("response.chunks", kind, secret) for kind, secret in _reports(hits)]
    else:
        hits = body_hits(resp.body, resp.headers, resp.status)
        if hits:
            resp.body = secrets.apply(resp.body, hits)
            changed.append("response body" + _encoded(resp.headers, resp.body))
            out += [("response.body", kind, secret) for kind, secret in _reports(hits)]
    if changed:
        it.notes.append("key-shaped strings scrubbed in: " + ", ".join(changed))
    return out


def _encoded(headers: Mapping[str, list[str]], data: bytes) -> str:
    """For the note: how a scrubbed body was encoded, when it was decoded to be scrubbed."""
    applied = decode.codings(headers, data)
    if not applied:
        return ""
    try:
        decode.decode(data, applied)
    except decode.Undecodable:
        return ""  # a header that does not match the bytes (or br without brotli): scrubbed as they are
    return f" ({'+'.join(applied)}: decoded, scrubbed and encoded again)"


def _spread(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into pieces of the given sizes (the last takes the rest; later ones may be empty)."""
    out = []
    at = 0
    for k, size in enumerate(sizes):
        end = len(data) if k == len(sizes) - 1 else min(at + size, len(data))
        out.append(data[at:end])
        at = end
    return out


def scrub(it: Interaction) -> Interaction:
    """Scrub ``it`` in place (and return it); see the module doc."""
    _scrub(it)
    return it


# --- scanning -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """A likely secret: ``file``, ``line`` (1-based; 0 when it could not be placed), ``where`` (the field
    path), ``kind`` (what was found) and ``excerpt`` (the start of the value only). A file that could not
    be read or parsed is a finding too: ``where`` is ``<file>`` and ``kind`` gives the reason."""

    file: str
    line: int
    where: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        if self.unreadable:
            return f"{self.file}:{self.line}: {self.kind}"
        return f"{self.file}:{self.line}: {self.kind} at {self.where}: {self.excerpt}"

    @property
    def unreadable(self) -> bool:
        """Whether this is a file that could not be read or parsed (so it was not proven clean)."""
        return self.where == "<file>"


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _high_entropy(value: str) -> str | None:
    for m in _TOKEN.finditer(value):
        token = m.group(0)
        if PLACEHOLDER in token:
            continue
        if len(token) >= 32 and entropy(token) >= 4.3:
            return token
    return None


def _excerpt(secret: str) -> str:
    return secret[:8] + "…" if len(secret) > 8 else secret


SCANNED_SUFFIXES = (".yaml", ".yml", ".json", ".har")


class _Unreadable(Exception):
    """A document (or a part of it) that cannot be read, so it cannot be proven clean."""

    def __init__(self, reason: str, line: int = 0) -> None:
        self.reason = reason
        self.line = line
        super().__init__(reason)


def scan(path: str | Path) -> list[Finding]:
    """Findings in one file, or in every YAML/JSON/HAR file under a folder (recursively); a file that
    cannot be read or parsed is a finding too (see the module doc)."""
    path = Path(path)
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SCANNED_SUFFIXES)
    )
    out: list[Finding] = []
    for file in files:
        try:
            text = journal_decode(file.read_bytes())
        except OSError as exc:
            out.append(_failure(str(file), f"cannot read: {exc.strerror}"))
            continue
        except UnicodeDecodeError as exc:
            out.append(_failure(str(file), f"not UTF-8 text (byte {exc.start})"))
            continue
        out.extend(scan_text(text, str(file)))
    return out


def journal_decode(raw: bytes) -> str:
    """A file's bytes as text, as the cassette loader reads them (a journal torn mid-character included)."""
    from harness.cassettes.journal import decode

    return decode(raw)


def _failure(file: str, reason: str, line: int = 0) -> Finding:
    return Finding(file, line, "<file>", f"unreadable, so not proven clean: {reason}", "")


def scan_text(text: str, file: str = "<text>") -> list[Finding]:
    """Findings in one document's text: YAML or JSON (a cassette or HAR file also as interactions); text
    that parses as neither is a failure finding, unless ``file`` has a suffix other than the scanned ones
    (then it is searched as plain text)."""
    from harness.cassettes.journal import recover  # the journal writer scans with this module

    complete, torn = recover(text)
    try:
        data = _parse(complete, file)
        found = [(where, kind, secret, _stored_b64(data, where)) for where, kind, secret in _walk(data, "")]
        found += _interaction_reports(data, file)
    except _Unreadable as exc:
        return [_failure(file, exc.reason, exc.line)]
    if torn is not None:  # a recording killed mid-write: its tail is not a document, but is searched as text
        found += [
            ("<torn tail>", kind, secret, "")
            for hit in secrets.hits(torn.encode())
            for kind, secret in hit.reports
        ]
    lines = _Lines(text)
    seen: set[str] = set()
    out = []
    for where, kind, secret, probe in found:
        if secret in seen:
            continue
        seen.add(secret)
        line = lines.find(secret) or (lines.find(probe) if probe else 0)
        out.append(Finding(file, line, where or "$", kind, _excerpt(secret)))
    return out


def _parse(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
        line = mark.line + 1 if mark is not None else 0
    try:
        return json.loads(text)
    except ValueError:
        pass
    suffix = Path(file).suffix.lower()
    if file == "<text>" or suffix in SCANNED_SUFFIXES or not suffix:
        raise _Unreadable(problem, line)
    return text


def _interaction_reports(data: Any, file: str) -> list[tuple[str, str, str, str]]:
    """What ``scrub`` would take out of a cassette's or a HAR file's interactions (their bodies decoded; also
    a bare list of interactions, as the recorder renders one to scan it before appending it), as
    (where, kind, secret, probe): ``probe`` is the start of the stored base64 of the body the secret is in,
    to place a secret that is not in the text as it is."""
    if isinstance(data, list) and data and all(isinstance(x, dict) and "request" in x for x in data):
        data = {VERSION_KEY: 1, "interactions": data}  # interactions rendered on their own (a journal entry)
    if not isinstance(data, dict):
        return []
    if VERSION_KEY in data:
        try:  # validating against the schema costs more than the scan: only to say what is wrong
            cassette = parse(data, file, validate=False)
        except CassetteError as exc:
            raise _Unreadable(f"not a valid cassette: {exc.field}: {exc.message}") from None
        except (KeyError, TypeError, AttributeError, ValueError):
            found = problems(data)
            where, message = found[0] if found else ("<cassette>", "cannot be read")
            raise _Unreadable(f"not a valid cassette: {where}: {message}") from None
        items = [(f"interactions[{i}]", it) for i, it in enumerate(cassette.interactions)]
    elif isinstance(data.get("log"), dict) and isinstance(data["log"].get("entries"), list):
        from harness.cassettes.har import scan_interactions

        try:
            items = scan_interactions(data, file)
        except CassetteError as exc:
            raise _Unreadable(f"not a readable HAR file: {exc.field}: {exc.message}") from None
    else:
        return []
    out = []
    for label, it in items:
        stored = {
            "request.body": [it.request.body],
            "response.body": [it.response.body],
            "response.chunks": [c.data for c in it.response.chunks or ()],
        }
        for where, kind, secret in _scrub(copy.deepcopy(it)):
            probe = next((_b64_start(data) for data in stored.get(where, ()) if _b64_start(data)), "")
            out.append((f"{label}.{where}", kind, secret, probe))
    return out


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _stored_b64(data: Any, where: str) -> str:
    """For a finding in a decoded ``b64`` value, the start of that value's text (to place it), else ''."""
    if not where.endswith(".b64"):
        return ""
    value = data
    for m in _STEP.finditer(where):
        key, index = m.groups()
        if index is not None and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        elif key is not None and isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return ""
    return value[:24] if isinstance(value, str) else ""


def _b64_start(data: bytes) -> str:
    """The first 24 characters of ``data`` in base64 when it is not UTF-8 (so stored as base64), else ''."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data[:18]).decode("ascii")
    return ""


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text

    def find(self, secret: str) -> int:
        for probe in (secret, secret[:24], secret[:12]):
            at = self.text.find(probe)
            if at >= 0:
                return self.text.count("\n", 0, at) + 1
        return 0


def _walk(value: Any, where: str, context: str | None = None) -> Iterator[tuple[str, str, str]]:
    """(field path, kind, secret) for everything suspicious in a loaded document. ``context`` is
    ``"headers"``, ``"query"`` (also HAR's form ``params``) or ``"cookies"`` (HAR's) inside those (our
    mappings, or HAR's lists of ``{name, value}``)."""
    if isinstance(value, dict):
        if context and isinstance(value.get("name"), str) and isinstance(value.get("value"), str):
            yield from _pair(context, value["name"], value["value"], f"{where}.{value['name']}")
            return
        for k, v in value.items():
            sub = f"{where}.{k}" if where else str(k)
            name = str(k)
            if context and (
                isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
            ):
                for item in v if isinstance(v, list) else [v]:
                    if isinstance(item, str):
                        yield from _pair(context, name, item, sub)
                continue
            if name in ALLOWED_BODY_KEYS and isinstance(v, str):
                continue
            if name == "b64" and isinstance(v, str):
                try:
                    raw = base64.b64decode(v, validate=True)
                except (binascii.Error, ValueError):
                    raise _Unreadable(f"{sub}: not valid base64") from None
                yield from _bytes(raw, sub)
                continue
            if SECRET_BODY_KEYS.match(name) and isinstance(v, str):
                if len(v) >= 8 and PLACEHOLDER not in v:
                    yield sub, f"secret-named field {name!r}", v
                continue
            lower = name.lower()
            sub_context = (
                "headers"
                if lower in ("headers", "trailers")
                else "query"
                if lower in ("query", "querystring") or (lower == "params" and isinstance(v, list))
                else "cookies"
                if lower == "cookies" and isinstance(v, list)
                else None
            )
            yield from _walk(v, sub, sub_context)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{where}[{i}]", context)
    elif isinstance(value, str):
        yield from _string(value, where)
    elif isinstance(value, bytes):  # YAML !!binary (VCR.py bodies)
        yield from _bytes(value, where)


def _bytes(data: bytes, where: str) -> Iterator[tuple[str, str, str]]:
    """Secrets in stored bytes, decoded as ``body_hits`` decodes them (gzip, deflate...)."""
    for kind, secret in _reports(body_hits(data, {})):
        yield where, kind, secret


def _pair(context: str, name: str, value: str, where: str) -> Iterator[tuple[str, str, str]]:
    if context == "headers":
        yield from _header(name, value, where)
    elif context == "cookies":  # HAR's parsed cookies: every value is a credential
        if value and value != PLACEHOLDER:
            yield where, f"cookie {name!r}", value
    elif name.lower() in SECRET_QUERY and value and value != PLACEHOLDER:
        yield where, f"credential query parameter {name!r}", value
    else:
        yield from _string(value, where)


def _header(name: str, value: str, where: str) -> Iterator[tuple[str, str, str]]:
    lower = name.lower()
    if lower in SECRET_HEADERS:
        bare = value.split(" ", 1)[1] if " " in value and value.split(" ", 1)[0].isalpha() else value
        if bare.strip() and bare.strip() != PLACEHOLDER:
            yield where, f"credential header {lower!r} with a real value", bare
            return
    yield from _string(value, where)
    if lower not in ENTROPY_HEADERS_ALLOWED and not lower.startswith(("x-ratelimit", "anthropic-ratelimit")):
        token = _high_entropy(value)
        if token is not None:
            yield where, f"high-entropy value in header {lower!r}", token


def _string(value: str, where: str) -> Iterator[tuple[str, str, str]]:
    """Key shapes in a string; JSON inside it (a body stored as text, the ``data:`` lines of SSE chunks) is
    walked as JSON instead, so that the allow-listed keys apply to it."""
    if len(value) < 16:
        return
    plain = value
    if "{" in value or "[" in value:
        whole = _json(value.strip())
        if whole is not _NOT_JSON:
            yield from _walk(whole, where + "{json}")
            return
        rest = []
        for line in value.splitlines():
            payload = line.strip()
            if payload.startswith("data:"):
                payload = payload[5:].strip()
            obj = _json(payload) if payload[:1] in ("{", "[") else _NOT_JSON
            if obj is _NOT_JSON:
                rest.append(line)
            else:
                yield from _walk(obj, where + "{json}")
        plain = "\n".join(rest)
    for kind, pattern in KEY_PATTERNS:
        for m in pattern.finditer(plain):
            yield where, kind, m.group(0)
    for m in BEARER.finditer(plain):
        yield where, "Bearer token", m.group(1)
    for m in URL_KEY.finditer(plain):
        yield where, "credential in a URL query (key=...)", m.group(1)


_NOT_JSON = object()


def _json(text: str) -> Any:
    if text[:1] not in ("{", "["):
        return _NOT_JSON
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON
