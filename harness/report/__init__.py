"""Reports of a run, for four audiences (as IPFS gateway-conformance does): the terminal (progress and
summary), JSON (every verdict, for tools), JUnit XML (for CI), and a markdown provider × feature matrix (for
people). All of them are generated from the same ``RunResult`` and scrubbed of secrets: credential header
values are never written, and any secret the run used (its API key) is replaced. The JSON reports of a run's
shards merge into the whole run's (``harness.report.merge``, ``wirecheck report merge``).
"""

from __future__ import annotations

from typing import Any

from mocks.capture import SECRET_HEADERS, redact

__all__ = ["scrub"]


def scrub(obj: Any, secrets: list[str] | tuple[str, ...] = ()) -> Any:
    """``obj`` (plain JSON) with every ``secrets`` substring replaced and the values of credential
    headers (``Authorization``, ``x-api-key``, ...) redacted wherever a headers mapping or pair list shows
    up."""
    secrets = [s for s in secrets if s]

    def text(value: str) -> str:
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, redact(secret))
        return value

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, dict):
            if key == "headers":
                return {k: _header(k, walk(v)) for k, v in value.items()}
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            if key == "headers" and all(isinstance(p, list | tuple) and len(p) == 2 for p in value):
                return [[p[0], _header(p[0], walk(p[1]))] for p in value]
            return [walk(v) for v in value]
        return value

    return walk(obj)


def _header(name: Any, value: Any) -> Any:
    if isinstance(name, str) and name.lower() in SECRET_HEADERS and isinstance(value, str):
        if value.startswith("<redacted") or " <redacted" in value:
            return value
        return redact(value, keep_scheme=name.lower().endswith("authorization"))
    return value
