"""Secrets in bytes: the key shapes, the credential names, and where in a run of bytes a secret sits.

Everything here works on bytes, so that one search covers UTF-8 text, JSON, SSE streams and binary file
parts alike (keys are ASCII, so a key-shaped run of bytes is found wherever it is), and every offset is an
offset into the stored bytes (a hit found in a joined stream maps back onto its chunks).

``hits(data)`` finds, in the bytes as they are:

- known key shapes (``KEY_SHAPES``: OpenAI ``sk-``/``sk-proj-``, Anthropic ``sk-ant-``, Google ``AIza``,
  AWS ``AKIA``/``ASIA``, JWTs) and ``Bearer`` tokens;
- credential parameters (``key=``, ``api_key=``, ``access_token=``... in a URL or a form body);
- values named by a credential phrase: ``Incorrect API key provided: 0123...``, ``subscription key: ...``,
  ``"password": "..."`` (the value needs 12 or more token characters and a digit, so prose is left alone);
- inside JSON string literals: a value whose field is named like a credential (``password``, ``api_key``,
  ``client_secret``...; ``token`` and ``key`` only for an opaque value), and key shapes hidden by escapes
  (``"\\u0073k-proj-..."``: the literal is unescaped, scrubbed and written back escaped the same way).

A ``Hit`` is a span of the bytes, what replaces it, and what was found there (kind, secret) for reports.
The replacement is ``PLACEHOLDER``, which matches none of the patterns (nor does any replacement), so
scrubbing twice changes nothing and a scrubbed body has no hits: that is what the scanner relies on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "KEY_SHAPES",
    "PLACEHOLDER",
    "Hit",
    "apply",
    "apply_to_pieces",
    "credential_field",
    "credential_header",
    "credential_segment",
    "hex_hits",
    "hits",
    "merge",
    "opaque",
    "opaque_hits",
]

PLACEHOLDER = "<scrubbed>"
_PLACEHOLDER = PLACEHOLDER.encode()


def _after(prefix: bytes, rest: bytes, not_before: bytes = rb"[\w-]") -> re.Pattern[bytes]:
    """``prefix`` then ``rest``, ``prefix`` not preceded by ``not_before``. The check comes after the literal
    prefix so that the regex engine searches for the literal first (several times faster on large bodies)."""
    return re.compile(prefix + rb"(?<=(?<!" + not_before + rb")" + prefix + rb")" + rest)


#: (kind, pattern) of known key shapes, most specific first. Bounded so that they do not fire inside longer
#: identifiers; the minimum lengths keep test placeholders such as ``sk-test`` out.
KEY_SHAPES: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("Anthropic API key (sk-ant-)", _after(rb"sk-ant-", rb"[A-Za-z0-9_-]{20,}")),
    ("OpenAI project key (sk-proj-)", _after(rb"sk-proj-", rb"[A-Za-z0-9_-]{20,}")),
    ("OpenAI key (sk-)", _after(rb"sk-", rb"(?:svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("Google API key (AIza)", _after(rb"AIza", rb"[0-9A-Za-z_-]{35}")),
    ("AWS access key id (AKIA)", _after(rb"(?:AKIA|ASIA)", rb"[0-9A-Z]{16}(?![A-Z0-9])", rb"[A-Z0-9]")),
    ("JWT", _after(rb"eyJ", rb"[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)
BEARER = re.compile(rb"\bBearer\s+(?!<scrubbed>)([A-Za-z0-9._~+/=-]{16,})")
#: ``name=value`` credential parameters, in a URL or a form-encoded body.
PARAMETER = re.compile(
    rb"(?:(?<=[?&;\s\"'])|^)(?:key|api_key|api-key|apikey|access_token|token|sig|subscription-key|"
    rb"subscription_key|client_secret|password)=(?!<|%3C)([^&\s\"'<>]{8,})",
    re.IGNORECASE,
)
#: A credential phrase (``API key``, ``subscription key``, ``password``...) then its value.
PHRASE = re.compile(
    rb"(?<![A-Za-z0-9])(?:api[ _-]?key|subscription[ _-]?key|access[ _-]?key|secret[ _-]?key|"
    rb"private[ _-]?key|client[ _-]?secret|(?:access|auth|refresh|session|id|bearer)[ _-]?token|"
    rb"password|passwd)(?:\\?[\"'])?[ \t]*(?:(?:provided|is|was|value|given|used)[ \t]*)?[:=]?[ \t]*"
    rb"(?:\\?[\"'])?[ \t]*([A-Za-z0-9_.~+/-]{12,}=*)",
    re.IGNORECASE,
)
_PHRASE_WORDS = (b"key", b"token", b"secret", b"passw")  # PHRASE cannot match without one of them
_OPAQUE = re.compile(rb"[A-Za-z0-9._~+/=-]{12,}")
_HEX = re.compile(rb"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")
_LITERAL = re.compile(rb'"((?:[^"\\\n]|\\.)*)"(\s*:)?')
_DIGIT = re.compile(rb"[0-9]")

#: Header names that always hold a credential (the whole value is scrubbed).
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
_CREDENTIAL_NAME = re.compile(
    r"key|token(?!s)|secret|auth|credential|password|passwd|signature", re.IGNORECASE
)
_NOT_CREDENTIAL_NAME = re.compile(r"rate-?limit|www-authenticate|keep-alive", re.IGNORECASE)
#: JSON fields (and form fields) whose value is a credential whenever it is 8 characters or more.
SECRET_FIELDS = re.compile(
    r"^(api[_-]?key|apikey|password|passwd|secret|client[_-]?secret|access[_-]?token|refresh[_-]?token|"
    r"auth[_-]?token|private[_-]?key|session[_-]?token|id[_-]?token|subscription[_-]?key|"
    r"credentials?|bearer[_-]?token|secret[_-]?key|access[_-]?key)$",
    re.IGNORECASE,
)
#: Fields whose value is a credential only when it is opaque (``token`` is also a logprobs field).
_MAYBE_SECRET_FIELDS = re.compile(
    r"^(token|key|auth|authorization|x[_-]api[_-]key|api[_-]token)$", re.IGNORECASE
)
_SECRET_SEGMENT = re.compile(r"^(api[-_]?)?(keys?|tokens?|secrets?|credentials?|passwords?)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Hit:
    """``data[start:end]`` is to become ``replacement``; ``reports`` are the (kind, secret) found there."""

    start: int
    end: int
    replacement: bytes
    reports: tuple[tuple[str, str], ...]


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def opaque(value: str, minimum: int = 12) -> bool:
    """Whether ``value`` looks like a key rather than a word: ``minimum`` or more token characters, no
    space, a digit, and not the placeholder."""
    return (
        len(value) >= minimum
        and PLACEHOLDER not in value
        and not any(ch.isspace() for ch in value)
        and any(ch.isdigit() for ch in value)
    )


def credential_header(name: str) -> bool:
    """Whether a header (or query parameter) named ``name`` carries a credential by its name: the known
    ones, and any whose name says key, token, secret, auth, credential or password (rate-limit headers
    and ``www-authenticate`` excepted)."""
    lower = name.lower()
    if lower in SECRET_HEADERS:
        return True
    return bool(_CREDENTIAL_NAME.search(lower)) and not _NOT_CREDENTIAL_NAME.search(lower)


def credential_field(name: str, value: str) -> bool:
    """Whether a JSON or form field ``name`` holding ``value`` is a credential to scrub."""
    if PLACEHOLDER in value:
        return False
    if SECRET_FIELDS.match(name):
        return len(value) >= 8
    if _MAYBE_SECRET_FIELDS.match(name):
        return opaque(value, 16)
    return False


def credential_segment(name: str) -> bool:
    """Whether a URL path segment named ``name`` (``keys``, ``api-keys``, ``tokens``...) introduces a
    credential in the next segment."""
    return bool(_SECRET_SEGMENT.match(name))


def _shape_hits(data: bytes) -> list[Hit]:
    out = []
    for kind, pattern in KEY_SHAPES:
        for m in pattern.finditer(data):
            out.append(Hit(m.start(), m.end(), _PLACEHOLDER, ((kind, _text(m.group(0))),)))
    for m in BEARER.finditer(data):
        out.append(Hit(m.start(1), m.end(1), _PLACEHOLDER, (("Bearer token", _text(m.group(1))),)))
    lower = data.lower()
    for m in PARAMETER.finditer(data) if b"=" in data else ():
        out.append(
            Hit(
                m.start(1),
                m.end(1),
                _PLACEHOLDER,
                (("credential in a URL query (key=...)", _text(m.group(1))),),
            )
        )
    for m in PHRASE.finditer(data) if any(word in lower for word in _PHRASE_WORDS) else ():
        value = m.group(1)
        if _DIGIT.search(value):
            out.append(
                Hit(m.start(1), m.end(1), _PLACEHOLDER, (("value after a credential phrase", _text(value)),))
            )
    return out


def _literal_hits(data: bytes) -> list[Hit]:
    """Hits inside JSON string literals: credential-named fields and escaped key shapes."""
    out: list[Hit] = []
    key: str | None = None
    key_end = -1
    for m in _LITERAL.finditer(data):
        inner = m.group(1)
        if m.group(2):  # a field name
            key = _unescape(inner)
            key_end = m.end()
            continue
        field = key if key is not None and not data[key_end : m.start()].strip() else None
        key = None
        if field is None and b"\\" not in inner:
            continue
        value = _unescape(inner)
        if value is None:
            continue
        if field is not None and credential_field(field, value):
            out.append(Hit(m.start(1), m.end(1), _PLACEHOLDER, ((f"secret-named field {field!r}", value),)))
            continue
        if b"\\" in inner:
            found = hits(value.encode("utf-8"))
            if found:
                clean = apply(value.encode("utf-8"), found).decode("utf-8", errors="replace")
                written = json.dumps(clean, ensure_ascii=inner.isascii())[1:-1].encode("utf-8")
                reports = tuple(r for h in found for r in h.reports)
                out.append(Hit(m.start(1), m.end(1), written, reports))
    return out


def _unescape(inner: bytes) -> str | None:
    try:
        value = json.loads(b'"' + inner + b'"')
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def hits(data: bytes) -> list[Hit]:
    """Every secret in ``data`` as it is (see the module doc), merged and in order."""
    if not data:
        return []
    return merge(_shape_hits(data) + (_literal_hits(data) if b'"' in data else []))


def opaque_hits(data: bytes, kind: str, minimum: int = 12) -> list[Hit]:
    """Every opaque run (``opaque``) in ``data``: for values whose name or place says they are credentials."""
    out = []
    for m in _OPAQUE.finditer(data):
        value = _text(m.group(0))
        if opaque(value, minimum):
            out.append(Hit(m.start(), m.end(), _PLACEHOLDER, ((kind, value),)))
    return out


def hex_hits(data: bytes, kind: str) -> list[Hit]:
    """Every standalone run of 32 or more hex digits (Azure keys) in ``data``."""
    return [
        Hit(m.start(), m.end(), _PLACEHOLDER, ((kind, _text(m.group(0))),))
        for m in _HEX.finditer(data)
        if _DIGIT.search(m.group(0))
    ]


def merge(found: Iterable[Hit]) -> list[Hit]:
    """Hits in order without overlaps: a hit inside another is folded into it (the outer replacement
    stands); hits that overlap partly become one placeholder over both."""
    out: list[Hit] = []
    for hit in sorted(found, key=lambda h: (h.start, -h.end)):
        if out and hit.start < out[-1].end:
            last = out[-1]
            if hit.end <= last.end:
                out[-1] = Hit(last.start, last.end, last.replacement, _union(last.reports, hit.reports))
            else:
                out[-1] = Hit(last.start, hit.end, _PLACEHOLDER, _union(last.reports, hit.reports))
        else:
            out.append(hit)
    return out


def _union(a: tuple[tuple[str, str], ...], b: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return a + tuple(r for r in b if r not in a)


def apply(data: bytes, found: Sequence[Hit]) -> bytes:
    """``data`` with every (merged) hit replaced."""
    return b"".join(apply_to_pieces([data], found))


def apply_to_pieces(pieces: Sequence[bytes], found: Sequence[Hit]) -> list[bytes]:
    """The pieces (stream chunks) whose concatenation the (merged) hits refer to, each hit replaced where it
    lies: its replacement goes in the piece where it starts, and its bytes in later pieces are removed.
    The number of pieces never changes."""
    out = []
    start = 0
    for piece in pieces:
        end = start + len(piece)
        parts = []
        at = start
        for hit in found:
            if hit.end <= start or hit.start >= end:
                continue
            parts.append(piece[at - start : max(hit.start, start) - start])
            if hit.start >= start:
                parts.append(hit.replacement)
            at = min(hit.end, end)
        parts.append(piece[at - start :])
        out.append(b"".join(parts))
        start = end
    return out
