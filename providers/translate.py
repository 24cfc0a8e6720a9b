"""Wire JSON in one dialect → wire JSON in another: the translation a gateway does, as plain functions.

The typed converters (``providers.convert.*``) give validated models, which a client library wants. A
gateway forwards bytes, so here the input is validated once (a malformed body fails naming its field) and
the output is built as JSON without a second validation: the converters' output is proven valid by the
test suite, not at run time. Dialects: ``"openai"`` (Chat Completions), ``"anthropic"`` (Messages),
``"gemini"`` (generateContent). Outputs may share sub-objects with each other: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.convert import anthropic as anthropic_convert
from providers.convert import gemini as gemini_convert
from providers.convert import openai as openai_convert
from providers.types import ir
from providers.types.anthropic import MessagesRequest, MessagesResponse
from providers.types.gemini import GenerateContentRequest, GenerateContentResponse

Body = Mapping[str, Any] | bytes | str
DIALECTS = ("openai", "anthropic", "gemini")


def _check(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: expected one of {', '.join(DIALECTS)}")


def request_to_ir(dialect: str, body: Body, *, model: str | None = None) -> ir.Request:
    """A client request as IR. Gemini names the model in the URL, not the body: pass ``model``."""
    _check(dialect)
    if dialect == "openai":
        return openai_convert.request_to_ir(body)
    if dialect == "anthropic":
        return anthropic_convert.request_to_ir(MessagesRequest.parse(body))
    if model is None:
        raise ValueError("a Gemini request needs the model from its URL (models/{model}:generateContent)")
    return gemini_convert.request_to_ir(GenerateContentRequest.parse(body), model)


def request(client: str, upstream: str, body: Body, *, model: str | None = None) -> dict[str, Any]:
    """A ``client`` request body as the ``upstream`` body (for Gemini the model goes in the URL path:
    it is the IR request's ``model``, which :func:`request_to_ir` gives)."""
    _check(upstream)
    return _REQUEST_OUT[upstream](request_to_ir(client, body, model=model))


def response_to_ir(dialect: str, body: Body) -> ir.Response:
    _check(dialect)
    if dialect == "openai":
        return openai_convert.response_to_ir(body)
    if dialect == "anthropic":
        return anthropic_convert.response_to_ir(MessagesResponse.parse(body))
    return gemini_convert.response_to_ir(GenerateContentResponse.parse(body))


def response(upstream: str, client: str, body: Body) -> dict[str, Any]:
    """An ``upstream`` reply body as the ``client`` reply body."""
    _check(client)
    return _RESPONSE_OUT[client](response_to_ir(upstream, body))


def stream_to_ir(dialect: str) -> Any:
    """A fresh ``StreamToIR`` of ``dialect``: ``feed`` its stream events, ``close`` at the end."""
    _check(dialect)
    return _STREAM_IN[dialect]()


class Stream:
    """An ``upstream`` stream's events (parsed ``data:`` JSON objects) → the ``client``'s events.

    ``feed`` each upstream event, then ``close`` when the upstream ended; both return the client events to
    write, in order. The stream grammar of each side is the converters' (see their ``StreamFromIR``, which
    takes ``options``: e.g. OpenAI's ``include_usage``, Anthropic's ``message_id`` and ``model``)."""

    def __init__(self, upstream: str, client: str, **options: Any) -> None:
        _check(client)
        self._into: Any = stream_to_ir(upstream)
        self._out_of: Any = _STREAM_OUT[client](as_json=True, **options)

    def feed(self, event: Body) -> list[dict[str, Any]]:
        return [item for ev in self._into.feed(event) for item in self._out_of.feed(ev)]

    def close(self) -> list[dict[str, Any]]:
        out = [item for ev in self._into.close() for item in self._out_of.feed(ev)]
        out.extend(self._out_of.close())
        return out


_REQUEST_OUT = {
    "openai": openai_convert.request_json_from_ir,
    "anthropic": anthropic_convert.request_json_from_ir,
    "gemini": gemini_convert.request_json_from_ir,
}
_RESPONSE_OUT = {
    "openai": openai_convert.response_json_from_ir,
    "anthropic": anthropic_convert.response_json_from_ir,
    "gemini": gemini_convert.response_json_from_ir,
}
_STREAM_IN = {
    "openai": openai_convert.StreamToIR,
    "anthropic": anthropic_convert.StreamToIR,
    "gemini": gemini_convert.StreamToIR,
}
_STREAM_OUT = {
    "openai": openai_convert.StreamFromIR,
    "anthropic": anthropic_convert.StreamFromIR,
    "gemini": gemini_convert.StreamFromIR,
}
