"""Capture: every request the mock received, what answered it, and how its reply went out.

A ``CapturedRequest`` is created when a request arrives (before any rule is tried) and then updated by the
server adapter that sends the reply: the time of each frame, and whether and at which frame the client
went away. Requests nobody scripted are also listed in ``unmatched`` with a near-miss report: the rule
that came closest and the reasons it missed.

Secrets: the values of credential headers (``Authorization``, ``x-api-key``, ``api-key``,
``x-goog-api-key``, ``Proxy-Authorization``) and of the ``key`` query parameter are stored redacted, as
``<redacted:N chars>`` (an ``Authorization`` scheme such as ``Bearer`` is kept), because captures end up in
reports. The engine checks credentials before anything is stored.

Bodies: a body up to the server's limit (``mocks.server.Limits.body_bytes``) is kept whole. A larger one is
refused by the server (413) and kept as its first bytes only (``body_truncated``), with its full length
(``body_length``) and the SHA-256 of all of it (``body_sha256``), hashed as it streamed in; a body the
client was too slow to send (408) keeps what arrived.

How a reply ended: ``completed`` (all of it was handed to the socket), ``disconnected`` (the client went
away first, at ``disconnect_frame``) or ``dropped`` (the mock closed the connection on purpose, a ``drop``
fault: ``status`` is ``None`` when no response head was sent at all, since no status reached the client).
``outcome`` says it in a few words for anything that prints a capture.

Thread- and trio-safe: one ``threading.Lock`` guards the lists and is never held across a wait, so the
threaded in-process server and the trio server can both record without losing entries.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CaptureLog", "CapturedRequest", "NearMiss", "redact"]

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key"})
SECRET_QUERY = frozenset({"key"})
_SIZE_ONLY = re.compile(r"<\d+ bytes>")  # how ``to_json`` shows a body that is not UTF-8


def redact(value: str, *, keep_scheme: bool = False) -> str:
    """``<redacted:N chars>``; with ``keep_scheme``, an auth scheme word (``Bearer x``) stays readable."""
    if keep_scheme:
        scheme, space, secret = value.partition(" ")
        if space and scheme.isalpha():
            return f"{scheme} <redacted:{len(secret)} chars>"
    return f"<redacted:{len(value)} chars>"


@dataclass(slots=True)
class CapturedRequest:
    """One request as received (credentials redacted) and the story of its reply.

    ``frame_times`` are seconds from arrival to the moment each frame was handed to the socket (marked just
    before the write, so a client that has read a reply always finds it recorded); ``completed`` is set
    likewise before the last write; ``disconnect_frame`` is the index of the first frame the client did not
    get when it went away early, or at which the mock dropped the connection (``dropped``).
    """

    seq: int
    method: str
    path: str
    query: dict[str, list[str]]
    headers: list[tuple[str, str]]
    body: bytes
    json: Any = None
    received_at: float = field(default_factory=time.time)
    dialect: str | None = None
    endpoint: str | None = None
    rule: str | None = None
    status: int | None = None
    rejected: str | None = (
        None  # why the upstream turned it away before any rule (auth, protocol, validation)
    )
    faults: list[str] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    completed: bool = False
    disconnected: bool = False
    disconnect_frame: int | None = None
    dropped: bool = False  # the mock closed the connection on purpose (a ``drop`` fault)
    body_length: int = -1  # the whole body's length in bytes (``len(body)`` unless ``body_truncated``)
    body_truncated: bool = False  # ``body`` holds only the first bytes of a body over the limit
    _digest: str | None = field(default=None, repr=False)  # SHA-256 of a truncated body, taken as it streamed
    _t0: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if self.body_length < 0:
            self.body_length = len(self.body)

    @property
    def body_sha256(self) -> str:
        """The SHA-256 (hex) of the whole body as received, also when only its first bytes are kept."""
        return self._digest if self._digest is not None else hashlib.sha256(self.body).hexdigest()

    @property
    def outcome(self) -> str:
        """How the exchange ended, for people: ``"200"``, ``"dropped (no response)"``, ``"200, dropped after
        frame 3"``, ``"200, client gone at frame 1"``, ``"413 (body too large)"``."""
        if self.dropped and self.status is None:
            return "dropped (no response)"
        shown = "no reply" if self.status is None else str(self.status)
        if self.dropped:
            return f"{shown}, dropped after frame {self.disconnect_frame}"
        if self.disconnected:
            return f"{shown}, client gone at frame {self.disconnect_frame}"
        if self.rejected is not None and self.status is not None and self.status in (408, 413):
            return f"{shown} ({self.rejected})"
        return shown

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), redacted if it is a credential."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    def frame_sent(self) -> None:
        self.frame_times.append(time.monotonic() - self._t0)

    def frames_sent(self, count: int) -> None:
        """``count`` frames sent in one write: each gets the same time."""
        self.frame_times.extend([time.monotonic() - self._t0] * count)

    def client_gone(self, frame: int) -> None:
        self.disconnected = True
        self.disconnect_frame = frame
        self.completed = False

    def finished(self) -> None:
        self.completed = True

    def dropped_at(self, frame: int, *, head_sent: bool) -> None:
        """The mock closes the connection on purpose before frame ``frame``; without ``head_sent`` no
        response reached the client, so there is no status (``None``)."""
        self.dropped = True
        self.disconnect_frame = frame
        self.completed = False
        if not head_sent:
            self.status = None

    def truncated(self, length: int, sha256: str) -> None:
        """``body`` is only the first bytes of a body of ``length`` bytes whose SHA-256 (hex) is ``sha256``."""
        self.body_length = length
        self.body_truncated = length > len(self.body)
        self._digest = sha256

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapturedRequest:
        """A capture back from ``to_json`` (e.g. read over ``GET /__wirecheck/requests``): a body shown as
        ``<N bytes>`` (not UTF-8) comes back empty; its length and hash are kept."""
        body = data.get("body") or ""
        raw = body.encode("utf-8") if isinstance(body, str) and not _SIZE_ONLY.fullmatch(body) else b""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        capture = cls(
            seq=data.get("seq", 0),
            method=data.get("method", ""),
            path=data.get("path", ""),
            query={k: list(v) for k, v in (data.get("query") or {}).items()},
            headers=[(k, v) for k, v in data.get("headers") or ()],
            body=raw,
            json=parsed,
            received_at=data.get("received_at", time.time()),
            dialect=data.get("dialect"),
            endpoint=data.get("endpoint"),
            rule=data.get("rule"),
            status=data.get("status"),
            rejected=data.get("rejected"),
            faults=list(data.get("faults") or ()),
            frame_times=list(data.get("frame_times") or ()),
            completed=bool(data.get("completed")),
            disconnected=bool(data.get("disconnected")),
            disconnect_frame=data.get("disconnect_frame"),
            dropped=bool(data.get("dropped")),
        )
        length = data.get("body_length")
        if isinstance(length, int) and isinstance(data.get("body_sha256"), str):
            capture.body_length = length
            capture.body_truncated = bool(data.get("body_truncated"))
            capture._digest = data["body_sha256"]
        return capture

    def to_json(self) -> dict[str, Any]:
        """A plain dict for reports and ``GET /__wirecheck/requests`` (the body as text when it is UTF-8,
        else its size; ``status`` is ``null`` for a connection dropped before any response)."""
        try:
            body: Any = self.body.decode("utf-8")
        except UnicodeDecodeError:
            body = f"<{len(self.body)} bytes>"
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": body,
            "received_at": self.received_at,
            "dialect": self.dialect,
            "endpoint": self.endpoint,
            "rule": self.rule,
            "status": self.status,
            "rejected": self.rejected,
            "faults": self.faults,
            "frame_times": self.frame_times,
            "completed": self.completed,
            "disconnected": self.disconnected,
            "disconnect_frame": self.disconnect_frame,
            "dropped": self.dropped,
            "outcome": self.outcome,
            "body_length": self.body_length,
            "body_truncated": self.body_truncated,
            "body_sha256": self.body_sha256,
        }


@dataclass(frozen=True, slots=True)
class NearMiss:
    """An unmatched request, the rule that came closest (``None``: the script has no rules) and why it
    missed, one reason per failed condition (``"json.model: expected 'a', got 'b'"``)."""

    request: CapturedRequest
    nearest: str | None
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        head = f"{self.request.method} {self.request.path}: no rule matched"
        if self.nearest is None:
            return head + " (no rules)"
        return f"{head}; nearest {self.nearest!r}: " + "; ".join(self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.request.seq,
            "nearest": self.nearest,
            "reasons": list(self.reasons),
            "summary": str(self),
        }


class CaptureLog:
    """The requests and near misses of one mock, in arrival order; with a ``limit``, only the latest
    ``limit`` of each are kept (a long-running server must not grow without bound)."""

    def __init__(self, limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._requests: deque[CapturedRequest] = deque(maxlen=limit)
        self._unmatched: deque[NearMiss] = deque(maxlen=limit)

    def record(
        self, method: str, path: str, query: dict[str, list[str]], headers: list[tuple[str, str]], body: bytes
    ) -> CapturedRequest:
        """Store a new request, redacting credentials (``headers`` names must be lower-case)."""
        safe_headers = [
            (k, redact(v, keep_scheme=k.endswith("authorization")) if k in SECRET_HEADERS else v)
            for k, v in headers
        ]
        safe_query = {k: [redact(v) for v in vs] if k in SECRET_QUERY else vs for k, vs in query.items()}
        with self._lock:
            entry = CapturedRequest(next(self._seq), method, path, safe_query, safe_headers, body)
            self._requests.append(entry)
        return entry

    def miss(self, near: NearMiss) -> None:
        with self._lock:
            self._unmatched.append(near)

    @property
    def requests(self) -> list[CapturedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def unmatched(self) -> list[NearMiss]:
        with self._lock:
            return list(self._unmatched)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._unmatched.clear()
