"""Drift detection for cassettes: is what a cassette recorded still what the
providers' current wire formats say, and is the cassette getting old?

``drift(cassette, max_age_days=None)`` lists, per interaction: a stored index that no longer matches the
bytes (``index.derive``), bodies the current wire schemas (``harness/schemas``) reject (request, response or
error body, each stream item), and a ``recorded_at`` older than ``max_age_days``. ``wirecheck cassette show
--check`` prints these and exits 1 when there is any. The schemas accept what the real APIs send and the
requests they accept, also where that is looser than the vendors' written specs (each such place says so in
a ``$comment``), so over real traffic from a vendor API only a request that the API refused (a 4xx answer)
can be flagged; a cassette recorded from something else (a test's echo server) may show more.
"""

from __future__ import annotations

import datetime
from typing import Any

from harness import schemas
from harness.cassettes import index as ix
from harness.cassettes.format import Cassette, Interaction

__all__ = ["SCHEMAS", "drift", "interaction_drift"]

#: kind -> (request schema, 2xx response schema, stream item schema), per dialect family.
SCHEMAS: dict[tuple[str, str], tuple[str | None, str | None, str | None]] = {
    ("openai", "chat"): ("openai.chat.request", "openai.chat.response", "openai.chat.chunk"),
    ("openai", "embeddings"): ("openai.embeddings.request", "openai.embeddings.response", None),
    ("openai", "images"): ("openai.images.request", "openai.images.response", None),
    ("openai", "speech"): ("openai.audio.speech.request", None, None),
    ("openai", "transcription"): (None, "openai.audio.transcription.response", None),
    ("anthropic", "messages"): (
        "anthropic.messages.request",
        "anthropic.messages.response",
        "anthropic.stream.event",
    ),
    ("gemini", "generate"): ("gemini.request", "gemini.response", "gemini.response"),
    ("gemini", "batch_embed"): ("gemini.embed.request", "gemini.embed.response", None),
}
ERRORS = {"openai": "openai.error", "anthropic": "anthropic.error", "gemini": "gemini.error"}


def _family(dialect: str | None) -> str | None:
    return "openai" if dialect == "azure" else dialect


def _problems(name: str | None, body: Any, what: str) -> list[str]:
    if name is None or body is None:
        return []
    return [f"{what} ({name}): {p}" for p in schemas.problems(name, body)[:3]]


def interaction_drift(
    it: Interaction, *, now: datetime.datetime | None = None, max_age_days: float | None = None
) -> list[str]:
    """What has drifted in one interaction (empty: nothing)."""
    out = []
    derived = ix.derive(it)
    if it.index is not None and it.index != derived:
        changed = sorted(k for k in derived.keys() | it.index.keys() if derived.get(k) != it.index.get(k))
        out.append("index: stale (" + ", ".join(changed) + "); recompute it")
    if max_age_days is not None and it.recorded_at:
        when = datetime.datetime.fromisoformat(it.recorded_at.replace("Z", "+00:00"))
        age = ((now or datetime.datetime.now(datetime.UTC)) - when).total_seconds() / 86400
        if age > max_age_days:
            out.append(f"recorded_at: {it.recorded_at} is {age:.0f} days old (limit {max_age_days:g})")
    endpoint = ix.classify(it.request.method, it.request.path, it.host)
    family = _family(endpoint.dialect)
    names = SCHEMAS.get((family or "", endpoint.kind))
    if names is None or family is None:
        return out
    request, response, item = names
    out.extend(_problems(request, it.request.json, "request body"))
    if it.response.chunks is not None:
        if item is not None:
            for k, obj in enumerate(ix.stream_items(it)):
                error = isinstance(obj, dict) and "error" in obj and family == "openai"
                out.extend(_problems(ERRORS[family] if error else item, obj, f"stream item {k}"))
    else:
        body = it.response.json
        failed = not 200 <= it.response.status < 300 or (isinstance(body, dict) and "error" in body)
        out.extend(_problems(ERRORS[family] if failed else response, body, "response body"))
    return out


def drift(cassette: Cassette, *, max_age_days: float | None = None) -> list[str]:
    """``"<id>#<n>: <what>"`` for every drifted interaction of ``cassette``."""
    return [
        f"{cassette.id}#{n}: {problem}"
        for n, it in enumerate(cassette.interactions)
        for problem in interaction_drift(it, max_age_days=max_age_days)
    ]
