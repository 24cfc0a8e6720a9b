"""Secrets: scrubbing them out of interactions before anything is written, and proving a folder holds none.

``scrub(interaction)`` (used by the recorder and both importers, in memory, before a cassette is saved):

- credential headers (``SECRET_HEADERS``: Authorization, x-api-key, x-goog-api-key, api-key, Cookie,
  Set-Cookie, Proxy-Authorization, ...) become ``<scrubbed>``, keeping an auth scheme word
  (``Bearer <scrubbed>``) because clients and checks look at it; never a hash of the secret;
- any other header whose value holds a known key shape (``KEY_PATTERNS``) gets that part scrubbed;
- credential query parameters (``SECRET_QUERY``: ``key`` as Gemini uses it, ``api_key``, ``access_token``,
  ...) become ``<scrubbed>``;
- known key shapes inside bodies and stream chunks are replaced by ``<scrubbed>`` (the bytes change, so
  the interaction gets a note; replay treats a ``<scrubbed>`` in a recorded JSON string as a wildcard).

``scan(path)`` proves the result: it reads every cassette (and any YAML/JSON/HAR file) under a path and
reports ``Finding``s with file and line for known key shapes anywhere (OpenAI ``sk-``/``sk-proj-``,
Anthropic ``sk-ant-``, Google ``AIza``, AWS ``AKIA``, JWTs, ``Bearer`` tokens, ``key=`` in URLs),
credential headers whose value is not the placeholder, long high-entropy header values, and secret-named
body fields (``api_key``, ``password``, ``client_secret``...) with a real-looking value.

Long base64 values that are *meant* to be in bodies are not secrets and are allow-listed by JSON key
(``ALLOWED_BODY_KEYS``): Anthropic thinking ``signature`` (and ``signature_delta``), redacted thinking
``data``, Gemini ``thoughtSignature``, OpenAI ``encrypted_content``, base64 embeddings, images and audio.
High-entropy checks run on headers only (``ENTROPY_HEADERS_ALLOWED`` lists request-id style headers).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.cassettes.format import Interaction

__all__ = ["PLACEHOLDER", "Finding", "scan", "scan_text", "scrub", "scrub_text"]

PLACEHOLDER = "<scrubbed>"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "x-auth-token",
        "x-amz-security-token",
        "ocp-apim-subscription-key",
    }
)
SECRET_QUERY = frozenset({"key", "api_key", "api-key", "apikey", "access_token", "token", "sig", "signature"})

#: (name, regex) of known key shapes, most specific first. Word-bounded so that they do not fire inside
#: longer identifiers; the minimum lengths keep test placeholders such as ``sk-test`` out.
KEY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Anthropic API key (sk-ant-)", re.compile(r"(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}")),
    ("OpenAI project key (sk-proj-)", re.compile(r"(?<![\w-])sk-proj-[A-Za-z0-9_-]{20,}")),
    ("OpenAI key (sk-)", re.compile(r"(?<![\w-])sk-(?:svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("Google API key (AIza)", re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}")),
    ("AWS access key id (AKIA)", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("JWT", re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
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


def scrub_text(text: str) -> str:
    """``text`` with every known key shape replaced by the placeholder."""
    for _, pattern in KEY_PATTERNS:
        text = pattern.sub(PLACEHOLDER, text)
    return BEARER.sub("Bearer " + PLACEHOLDER, text)


def scrub_header(name: str, value: str) -> str:
    if name.lower() in SECRET_HEADERS:
        scheme, space, _ = value.partition(" ")
        if space and scheme.isalpha() and name.lower().endswith("authorization"):
            return f"{scheme} {PLACEHOLDER}"
        return PLACEHOLDER
    return scrub_text(value)


def scrub(it: Interaction) -> Interaction:
    """Scrub ``it`` in place (and return it); see the module doc."""
    req, resp = it.request, it.response
    req.headers = {k: [scrub_header(k, v) for v in vs] for k, vs in req.headers.items()}
    resp.headers = {k: [scrub_header(k, v) for v in vs] for k, vs in resp.headers.items()}
    req.query = {
        k: [PLACEHOLDER if k.lower() in SECRET_QUERY else scrub_text(v) for v in vs]
        for k, vs in req.query.items()
    }
    changed = []
    body = _scrub_bytes(req.body)
    if body != req.body:
        req.body = body
        changed.append("request body")
    if resp.chunks is not None:
        for k, chunk in enumerate(resp.chunks):
            data = _scrub_bytes(chunk.data)
            if data != chunk.data:
                chunk.data = data
                changed.append(f"response chunk {k}")
    else:
        body = _scrub_bytes(resp.body)
        if body != resp.body:
            resp.body = body
            changed.append("response body")
    if changed:
        it.notes.append("key-shaped strings scrubbed in: " + ", ".join(changed))
    return it


def _scrub_bytes(data: bytes) -> bytes:
    if not data:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    out = scrub_text(text)
    return data if out == text else out.encode("utf-8")


# --- scanning -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """A likely secret: ``file``, ``line`` (1-based; 0 when it could not be placed), ``where`` (the field
    path), ``kind`` (what was found) and ``excerpt`` (the start of the value only)."""

    file: str
    line: int
    where: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind} at {self.where}: {self.excerpt}"


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


def scan(path: str | Path) -> list[Finding]:
    """Findings in one file, or in every YAML/JSON/HAR file under a folder (recursively)."""
    path = Path(path)
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SCANNED_SUFFIXES)
    )
    out: list[Finding] = []
    for file in files:
        out.extend(scan_text(file.read_text(encoding="utf-8", errors="replace"), str(file)))
    return out


def scan_text(text: str, file: str = "<text>") -> list[Finding]:
    """Findings in one document's text (YAML or JSON; anything else is scanned as plain text)."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        try:
            data = json.loads(text)
        except ValueError:
            data = text
    lines = _Lines(text)
    seen: set[tuple[str, str]] = set()
    out = []
    for where, kind, secret in _walk(data, ""):
        if (kind, secret) in seen:
            continue
        seen.add((kind, secret))
        out.append(Finding(file, lines.find(secret), where or "$", kind, _excerpt(secret)))
    return out


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
    ``"headers"`` or ``"query"`` inside those (our mappings, or HAR's lists of ``{name, value}``)."""
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
            if SECRET_BODY_KEYS.match(name) and isinstance(v, str):
                if len(v) >= 8 and PLACEHOLDER not in v:
                    yield sub, f"secret-named field {name!r}", v
                continue
            lower = name.lower()
            sub_context = (
                "headers"
                if lower in ("headers", "trailers")
                else "query"
                if lower in ("query", "querystring")
                else None
            )
            yield from _walk(v, sub, sub_context)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{where}[{i}]", context)
    elif isinstance(value, str):
        yield from _string(value, where)


def _pair(context: str, name: str, value: str, where: str) -> Iterator[tuple[str, str, str]]:
    if context == "headers":
        yield from _header(name, value, where)
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
