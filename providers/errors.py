"""The one error type of the Provider contract (docs/contract.md#errors).

Every failure a provider reports is a ``ProviderError`` with a ``kind``:

- ``not_implemented``: the provider does not offer the method; ``method`` names it.
- ``upstream``: the upstream answered with an HTTP error or an in-stream error event; carries the status,
  the provider's own error type and message, ``retry_after`` (seconds) when given, and the raw body.
- ``transport``: the connection failed; ``reason`` is ``connect``, ``connect_timeout``, ``read_timeout``,
  ``write_timeout``, ``total_timeout`` (the call, or the stream to its end, took longer than its total
  deadline) or ``disconnect`` (the peer closed mid-stream).
- ``decode``: the upstream sent JSON or SSE we cannot read; ``raw`` holds the offending bytes.
- ``invalid_request``: the caller's request cannot be sent (bad JSON, a field the target cannot express).

Pure: no I/O imports, so the wire models and converters can raise it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ErrorKind = Literal["not_implemented", "upstream", "transport", "decode", "invalid_request"]
TransportReason = Literal[
    "connect", "connect_timeout", "read_timeout", "write_timeout", "total_timeout", "disconnect"
]

#: Statuses an idempotent call is retried on (docs/contract.md#retries); every 5xx is retried too.
RETRY_STATUSES = frozenset({408, 409, 429})
#: Transport failures after which the request certainly never reached the upstream, so retrying is safe.
RETRY_TRANSPORT = frozenset({"connect", "connect_timeout"})


@dataclass(eq=False)
class ProviderError(Exception):
    """A provider failure of one ``kind``; the fields that do not apply to a kind stay ``None``."""

    kind: ErrorKind
    message: str
    method: str | None = None
    status: int | None = None
    error_type: str | None = None
    retry_after: float | None = None
    body: bytes | None = None
    reason: TransportReason | None = None
    raw: bytes | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        head = f"[{self.kind}"
        if self.status is not None:
            head += f" {self.status}"
        if self.error_type:
            head += f" {self.error_type}"
        if self.reason:
            head += f" {self.reason}"
        return f"{head}] {self.message}"

    @property
    def retryable(self) -> bool:
        """Whether an idempotent call may be sent again after this error."""
        if self.kind == "upstream" and self.status is not None:
            return self.status in RETRY_STATUSES or self.status >= 500
        return self.kind == "transport" and self.reason in RETRY_TRANSPORT

    def to_json(self) -> dict[str, Any]:
        """A plain dict for reports; bytes are decoded leniently and cut, never secrets (none are kept)."""
        out: dict[str, Any] = {"kind": self.kind, "message": self.message}
        for name in ("method", "status", "error_type", "retry_after", "reason"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name in ("body", "raw"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value[:4096].decode("utf-8", "replace")
        if self.details:
            out["details"] = self.details
        return out

    # Constructors, one per kind: they keep call sites short and the messages uniform.

    @classmethod
    def not_implemented(cls, method: str) -> ProviderError:
        return cls("not_implemented", f"provider method '{method}' is not implemented", method=method)

    @classmethod
    def upstream(
        cls,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        retry_after: float | None = None,
        body: bytes | None = None,
    ) -> ProviderError:
        return cls(
            "upstream", message, status=status, error_type=error_type, retry_after=retry_after, body=body
        )

    @classmethod
    def transport(cls, reason: TransportReason, message: str) -> ProviderError:
        return cls("transport", message, reason=reason)

    @classmethod
    def decode(cls, message: str, *, raw: bytes | None = None) -> ProviderError:
        return cls("decode", message, raw=raw)

    @classmethod
    def invalid_request(cls, message: str) -> ProviderError:
        return cls("invalid_request", message)
