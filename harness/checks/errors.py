"""Family ``error``: the one error type of the contract and where it surfaces (docs/contract.md#errors).

``expect.error`` names the ``ProviderError`` the call must end with: ``kind``, ``status``,
``error_type``, ``retry_after``, ``reason``, a ``message`` regex, and ``raised``: ``call`` (before the
first item: the streaming method itself raises) or ``iterator`` (after it); ``items_before`` counts the
items received first. ``error.provider_error`` is always on: whatever a provider raises must be a
``ProviderError``, never a bare exception from its insides.
"""

from __future__ import annotations

import re
from typing import Any

from harness.checks import check
from harness.checks.facts import Facts, describe_error
from providers.errors import ProviderError


def _expected(f: Facts) -> dict[str, Any] | None:
    want = f.expect.get("error")
    if want is None or f.main.not_applicable is not None:
        return None
    return want


def _error_or_problem(f: Facts) -> tuple[ProviderError | None, list[str] | None]:
    error = f.main.error
    if error is None:
        if f.main.deadline_exceeded:
            return None, ["deadline exceeded instead of the expected error"]
        return None, [f"expected an error, the call succeeded with {_summary(f)}"]
    if not isinstance(error, ProviderError):
        return None, [f"expected a ProviderError, got {describe_error(error)}"]
    return error, None


def _summary(f: Facts) -> str:
    if f.main.streamed:
        return f"{len(f.main.items)} stream items"
    return type(f.main.result).__name__


def _field(f: Facts, name: str, attr: str) -> list[str] | None:
    want = _expected(f)
    if want is None or name not in want:
        return None
    error, problems = _error_or_problem(f)
    if error is None:
        return problems
    got = getattr(error, attr)
    if name == "retry_after" and isinstance(got, int | float) and isinstance(want[name], int | float):
        return [] if abs(got - want[name]) < 1e-6 else [f"retry_after: expected {want[name]}, got {got}"]
    return [] if got == want[name] else [f"{name}: expected {want[name]!r}, got {got!r} ({error})"]


@check("error.provider_error")
def provider_error(f: Facts) -> list[str] | None:
    """Any error a provider raises is a ``ProviderError``."""
    errors = [o for o in f.outcomes() if o.error is not None and not o.deadline_exceeded]
    if not errors:
        return None
    return [
        f"{o.method} raised {describe_error(o.error)}, not a ProviderError"
        for o in errors
        if not isinstance(o.error, ProviderError)
    ]


@check("error.expected")
def expected(f: Facts) -> list[str] | None:
    """The call fails when the case expects an error."""
    if _expected(f) is None:
        return None
    _, problems = _error_or_problem(f)
    return problems or []


@check("error.kind")
def kind(f: Facts) -> list[str] | None:
    """The error's ``kind`` is the expected one."""
    return _field(f, "kind", "kind")


@check("error.status")
def status(f: Facts) -> list[str] | None:
    """The error's HTTP ``status`` is the expected one."""
    return _field(f, "status", "status")


@check("error.type")
def error_type(f: Facts) -> list[str] | None:
    """The error keeps the upstream's own error type."""
    return _field(f, "error_type", "error_type")


@check("error.retry_after")
def retry_after(f: Facts) -> list[str] | None:
    """The error carries the upstream's retry-after, in seconds."""
    return _field(f, "retry_after", "retry_after")


@check("error.reason")
def reason(f: Facts) -> list[str] | None:
    """A transport error names its ``reason``."""
    return _field(f, "reason", "reason")


@check("error.message")
def message(f: Facts) -> list[str] | None:
    """The error message contains the expected text (a regex)."""
    want = _expected(f)
    if want is None or "message" not in want:
        return None
    error, problems = _error_or_problem(f)
    if error is None:
        return problems
    return (
        []
        if re.search(want["message"], error.message)
        else [f"message {error.message!r} !~ /{want['message']}/"]
    )


@check("error.raised")
def raised(f: Facts) -> list[str] | None:
    """The error surfaces where the contract says: from the call before the first item, from the
    iterator after it."""
    want = _expected(f)
    if want is None or not ({"raised", "items_before"} & set(want)):
        return None
    error, problems = _error_or_problem(f)
    if error is None:
        return problems
    out = []
    if "raised" in want and f.main.raised != want["raised"]:
        out.append(f"raised by the {f.main.raised}, expected by the {want['raised']} ({error})")
    if "items_before" in want and len(f.main.items) != want["items_before"]:
        out.append(f"{len(f.main.items)} items before the error, expected {want['items_before']}")
    return out
