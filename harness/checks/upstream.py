"""Family ``upstream``: the requests the provider sent to the (mock) upstream.

``upstream.request`` compares every captured request (or each one in turn, when the expectation is a
list) with ``expect.upstream``: method, path, headers (names case-insensitive; credential values are
stored redacted, so they can only be matched with ``$any``/``$absent``), query and JSON body.
``upstream.auth`` is always on: every request carries the upstream dialect's credential. Attempts and
retry waits are counted, and the contract's retry limits are always checked: never a retry once a
stream was answered with 200, never a retry of a passthrough body (it was consumed):
docs/contract.md#retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.checks import check
from harness.checks.facts import METHOD_OUTPUT, Facts
from harness.checks.meaning import canonical_request
from harness.checks.subset import differences
from harness.scenario import DIALECT_NAMES
from mocks.capture import CapturedRequest
from mocks.dialects.rules import refusal

#: Where each upstream dialect carries its credential: headers, and query parameters.
CREDENTIALS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "openai": (("authorization",), ()),
    "azure": (("api-key", "authorization"), ()),
    "anthropic": (("x-api-key", "authorization"), ()),
    "gemini": (("x-goog-api-key", "authorization"), ("key",)),
}


def request_json(request: CapturedRequest) -> dict[str, Any]:
    """A captured request as the JSON an ``expect.upstream`` subset is compared with."""
    headers: dict[str, str] = {}
    for name, value in request.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return {
        "method": request.method,
        "path": request.path,
        "headers": headers,
        "query": {k: v[0] if v else "" for k, v in request.query.items()},
        "json": request.json,
    }


def _lower_headers(want: dict[str, Any]) -> dict[str, Any]:
    if isinstance(want.get("headers"), dict):
        want = {**want, "headers": {k.lower(): v for k, v in want["headers"].items()}}
    return want


def expected_requests(f: Facts) -> Any:
    want = f.expect.get("upstream")
    if isinstance(want, dict) and want and set(want) <= set(DIALECT_NAMES):
        dialect = f.upstream_dialect
        if dialect in want:
            return want[dialect]
        if dialect == "azure" and "openai" in want:
            return want["openai"]
        return None
    return want


def _compare(f: Facts, form: Callable[[Any], Any]) -> list[str] | None:
    want = expected_requests(f)
    if want is None or f.main.not_applicable is not None:
        return None
    got = [form(request_json(r)) for r in f.main.captured]
    if not got:
        return ["no request reached the upstream"]
    if isinstance(want, list):
        return differences([form(_lower_headers(w)) for w in want], got, "upstream")
    want = form(_lower_headers(want))
    out = []
    for i, item in enumerate(got):
        out.extend(differences(want, item, f"upstream[{i}]"))
    return out


@check("upstream.request")
def request(f: Facts) -> list[str] | None:
    """The request(s) sent upstream mean what ``expect.upstream`` states (per upstream dialect when so
    given): bodies compared by meaning, every legal spelling of the same request alike
    (``harness.checks.meaning``). A raw method's body is the caller's, spelling included, so it is
    compared as written."""
    dialect = f.upstream_dialect
    if f.main.raw:
        return _compare(f, lambda request: request)

    def by_meaning(request: Any) -> Any:
        if isinstance(request, dict) and "json" in request:
            return {**request, "json": canonical_request(dialect, request["json"])}
        return request

    return _compare(f, by_meaning)


@check("upstream.request.form")
def request_form(f: Facts) -> list[str] | None:
    """The request(s) sent upstream contain ``expect.upstream`` as written: the form the reference
    providers chose among the legal ones (level reference)."""
    return _compare(f, lambda request: request)


@check("upstream.auth")
def auth(f: Facts) -> list[str] | None:
    """Every request sent upstream carries the upstream dialect's credential (its value is never shown)."""
    if f.upstream_dialect not in CREDENTIALS:
        return None
    headers, params = CREDENTIALS[f.upstream_dialect]
    captured = [r for o in f.outcomes() for r in o.captured]
    if not captured:
        return None
    out = []
    for r in captured:
        present = any(r.header(h) for h in headers) or any(r.query.get(p) for p in params)
        if not present:
            where = " or ".join([*(f"header {h}" for h in headers), *(f"query {p}" for p in params)])
            out.append(f"{r.method} {r.path}: no credential ({where})")
    return out


@check("upstream.attempts")
def attempts(f: Facts) -> list[str] | None:
    """Exactly ``expect.attempts`` requests reached the upstream."""
    if "attempts" not in f.expect or f.main.not_applicable is not None:
        return None
    got = len(f.main.captured)
    want = f.expect["attempts"]
    if got == want:
        return []
    statuses = ", ".join(_shown_status(s) for s in f.main.sent) or "none"
    return [f"expected {want} requests upstream, got {got} (replies: {statuses})"]


@check("upstream.waits")
def waits(f: Facts) -> list[str] | None:
    """The provider waited ``expect.waits`` seconds before its retries (retry-after honoured)."""
    if "waits" not in f.expect or not f.main.waits_known or f.main.not_applicable is not None:
        return None
    want, got = f.expect["waits"], f.main.waits
    if len(want) == len(got) and all(abs(w - g) <= 0.01 for w, g in zip(want, got, strict=True)):
        return []
    return [f"retry waits: expected {want}, got {[round(g, 3) for g in got]}"]


def _shown_status(sent: Any) -> str:
    """The status the provider got, or ``dropped`` when the mock closed the connection before any."""
    capture = sent.capture
    if capture is not None and capture.dropped and capture.status is None:
        return "dropped"
    return str(sent.status)


def _answered_stream(sent: Any) -> bool:
    return sent.status == 200 and "event-stream" in sent.content_type


@check("upstream.retry.after_stream")
def no_retry_after_stream(f: Facts) -> list[str] | None:
    """No request is sent again once a stream was answered with 200 (the stream belonged to the caller)."""
    outcomes = [o for o in f.outcomes() if o.streamed and o.not_applicable is None]
    if not outcomes or not any(o.captured for o in outcomes):
        return None
    out = []
    for o in outcomes:
        for i, sent in enumerate(o.sent[:-1]):
            if _answered_stream(sent):
                out.append(
                    f"{o.method}: attempt {i + 1} was a 200 stream, yet the request was sent again "
                    f"({len(o.sent)} attempts)"
                )
                break
    return out


@check("upstream.retry.passthrough")
def no_retry_passthrough(f: Facts) -> list[str] | None:
    """A passthrough body is sent once: never retried (it was consumed)."""
    outcomes = [o for o in f.outcomes() if o.method == "chat_completion_stream_passthrough" and o.captured]
    if not outcomes:
        return None
    return [
        f"{o.method}: the consumed body was sent {len(o.captured)} times"
        for o in outcomes
        if len(o.captured) > 1
    ]


@check("upstream.vendor_rules")
def vendor_rules(f: Facts) -> list[str] | None:
    """Every request sent upstream keeps its vendor's own rules (mocks/dialects/rules.py): no required
    field missing, none holding a value the API refuses (e.g. Anthropic ``max_tokens`` absent or below 1).
    A provider or gateway that breaks one gets the vendor's 400; this names the field. A field the
    caller's own request, in the upstream's own dialect, already breaks was forwarded as asked: not the
    provider's."""
    captured = [r for o in f.outcomes() if o.not_applicable is None for r in o.captured]
    if not any(r.dialect and r.endpoint for r in captured):
        return None
    family = METHOD_OUTPUT.get(f.case.method)
    out = []
    for r in captured:
        refused = refusal(r.dialect or "", r.endpoint, r.json)
        if refused is None:
            continue
        same_dialect = family == ("openai" if r.dialect == "azure" else r.dialect)
        asked = refusal(r.dialect or "", r.endpoint, f.case.request) if same_dialect else None
        if asked is not None and asked.rule == refused.rule:
            continue
        out.append(f"{r.method} {r.path}: {refused.describe()}")
    return out
