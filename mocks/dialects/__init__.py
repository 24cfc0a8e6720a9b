"""The four upstream dialects and the route table that tells them apart.

``resolve`` finds the dialect, endpoint and path parameters of a request; ``guess`` names the dialect whose
error shape an unroutable request gets. Anthropic comes before OpenAI because both serve ``/v1/models``
(Anthropic's only when ``anthropic-version`` is sent).
"""

from __future__ import annotations

from collections.abc import Mapping

from mocks.dialects.anthropic import Anthropic
from mocks.dialects.azure import Azure
from mocks.dialects.common import Call, Dialect
from mocks.dialects.gemini import Gemini
from mocks.dialects.openai import OpenAI

__all__ = ["DIALECTS", "Call", "Dialect", "guess", "resolve"]

DIALECTS: dict[str, Dialect] = {d.name: d for d in (Anthropic(), OpenAI(), Gemini(), Azure())}


def resolve(method: str, path: str, headers: Mapping[str, str]) -> tuple[Dialect, str, dict[str, str]] | None:
    """``(dialect, endpoint, params)`` for a known route, else ``None``."""
    for dialect in DIALECTS.values():
        found = dialect.resolve(method, path, headers)
        if found is not None:
            return dialect, found[0], found[1]
    return None


def guess(path: str, headers: Mapping[str, str]) -> Dialect:
    """The dialect an unknown path most likely meant, for the shape of its 404."""
    if path.startswith("/openai/"):
        return DIALECTS["azure"]
    if path.startswith(("/v1beta/", "/v1alpha/")) or ":" in path:
        return DIALECTS["gemini"]
    if "anthropic-version" in headers or path.startswith("/v1/messages"):
        return DIALECTS["anthropic"]
    return DIALECTS["openai"]
