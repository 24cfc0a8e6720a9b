"""Family ``mock``: fidelity of the scripted upstream (like the MCP conformance suite's
``wire-schema-harness-error``: a wrong mock is the harness's failure, docs/design.md#verdicts).

Every reply the mock sent for a case (the main call and its twins) is validated against the JSON Schema
of the upstream dialect's object for that endpoint and status (harness/schemas): chat responses, each
streamed chunk / event / item (a Gemini stream without ``alt=sse`` is one JSON array, read element by
element as a client reads it), error bodies, embeddings, images. A failure is the verdict
``mock-infidelity``: our script is wrong, so the provider can be judged neither way.

Azure OpenAI is judged by OpenAI's schemas, which accept its documented departures (docs/wire.md#azure):
error bodies (and in-stream error events) of only ``{"error": {"code", "message"}}``, and the prompt-filter
chunk (``object: ""``, ``choices: []``, ``prompt_filter_results``) that opens a stream.

Deliberate breakage is not infidelity: parts cut or garbled by a declared fault (``drop``,
``malformed_sse``, ``malformed_json``) are skipped, and a case whose upstream says ``unfaithful:
"reason"`` (testing a provider's tolerance of a non-conforming upstream) skips this check.
"""

from __future__ import annotations

import json
from typing import Any

from harness.checks import check
from harness.checks.facts import Facts, Sent, schema_problems
from providers.errors import ProviderError
from providers.jsonstream import JSONArrayDecoder
from providers.sse import decode_all, is_done

#: (dialect, endpoint) → (schema of a JSON reply, schema of each streamed item).
_SCHEMAS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("openai", "chat"): ("openai.chat.response", "openai.chat.chunk"),
    ("azure", "chat"): ("openai.chat.response", "openai.chat.chunk"),
    ("openai", "embeddings"): ("openai.embeddings.response", None),
    ("azure", "embeddings"): ("openai.embeddings.response", None),
    ("openai", "images"): ("openai.images.response", None),
    ("azure", "images"): ("openai.images.response", None),
    ("anthropic", "messages"): ("anthropic.messages.response", "anthropic.stream.event"),
    ("gemini", "generate"): ("gemini.response", "gemini.response"),
    ("gemini", "batch_embed"): ("gemini.embed.response", None),
}
_ERRORS = {
    "openai": "openai.error",
    "azure": "openai.error",
    "anthropic": "anthropic.error",
    "gemini": "gemini.error",
}
_BROKEN = ("malformedsse", "malformedjson", "drop")


def _problems(sent: Sent) -> list[str]:
    capture = sent.capture
    if capture is None or capture.dialect is None:
        return []
    dialect, endpoint = capture.dialect, capture.endpoint or ""
    broken = any(fault.startswith(_BROKEN) for fault in capture.faults)
    where = f"{capture.method} {capture.path} → {sent.status}"
    if sent.status >= 400:
        if capture.rejected in ("auth", "protocol") or broken:
            return []
        return _validate(_ERRORS[dialect], sent.body, where, broken)
    schemas = _SCHEMAS.get((dialect, endpoint))
    if schemas is None or sent.status != 200:
        return []
    whole, item = schemas
    if "event-stream" in sent.content_type and item is not None:
        out = []
        for n, event in enumerate(decode_all(sent.body, errors="replace")):
            if is_done(event) or not event.data.strip():
                continue
            try:
                data = json.loads(event.data)
            except ValueError:
                if not broken:
                    out.append(f"{where}: event {n} is not JSON: {event.data[:80]!r}")
                continue
            name = _ERRORS[dialect] if _is_error(data) and dialect != "anthropic" else item
            out.extend(f"{where}: event {n} ({name}): {p}" for p in schema_problems(name, data))
            if dialect == "anthropic" and isinstance(data, dict) and event.event != data.get("type"):
                out.append(f"{where}: event {n}: `event: {event.event}` but type {data.get('type')!r}")
        return out
    if "json" not in sent.content_type:
        return []
    if dialect == "gemini" and capture.path.endswith(":streamGenerateContent") and item is not None:
        return _array_problems(item, sent.body, where, broken)
    return _validate(whole, sent.body, where, broken)


def _array_problems(item: str, body: bytes, where: str, broken: bool) -> list[str]:
    """Gemini's non-SSE stream: one JSON array (docs/wire.md#gemini-streaming), decoded element by element
    as a client reads it; each element is judged alone (an error element by the error schema)."""
    decoder = JSONArrayDecoder()
    try:
        elements = decoder.feed(body)
        decoder.close()
    except ProviderError as exc:
        return [] if broken else [f"{where}: the streamed JSON array is malformed: {exc.message}"]
    out = []
    for n, element in enumerate(elements):
        name = "gemini.error" if _is_error(element) else item
        out.extend(f"{where}: array element {n} ({name}): {p}" for p in schema_problems(name, element))
    return out


def _is_error(data: Any) -> bool:
    return (
        isinstance(data, dict) and "error" in data and not data.get("choices") and not data.get("candidates")
    )


def _validate(schema: str, body: bytes, where: str, broken: bool) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return [] if broken else [f"{where}: body is not JSON: {body[:80]!r}"]
    if isinstance(data, list) and schema == "gemini.error" and len(data) == 1:
        data = data[0]
    return [f"{where} ({schema}): {p}" for p in schema_problems(schema, data)]


@check("mock.fidelity")
def fidelity(f: Facts) -> list[str] | None:
    """Every reply the scripted upstream sent validates against the upstream's wire schema."""
    if f.case.upstream_for(f.upstream_dialect).get("unfaithful"):
        return None
    sent = [s for o in f.outcomes() for s in o.sent]
    if not sent:
        return None
    return [p for s in sent for p in _problems(s)]
