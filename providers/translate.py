"""Wire JSON in one dialect → wire JSON in another: the translation a gateway does, as plain functions.

The typed converters (``providers.convert.*``) give validated models, which a client library wants. A
gateway forwards bytes, so here the input is validated once (a malformed body fails naming its field) and
the output is built as JSON without a second validation: the converters' output is proven valid by the
test suite, not at run time. Dialects: ``"openai"`` (Chat Completions), ``"anthropic"`` (Messages),
``"gemini"`` (generateContent). Outputs may share sub-objects with each other and with the input body
(a field a converter keeps whole is not copied): treat them as read-only; the input is never changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.convert import anthropic, gemini, openai
from providers.convert.dialect import Body, Dialect, StreamFromIR, StreamToIR
from providers.types import ir

__all__ = ["DIALECTS", "Body", "Stream", "dialect", "request", "request_to_ir", "response", "response_to_ir"]

#: The Dialect object of each dialect name.
BY_NAME: Mapping[str, Dialect] = {
    each.name: each for each in (openai.DIALECT, anthropic.DIALECT, gemini.DIALECT)
}
DIALECTS = tuple(BY_NAME)


def dialect(name: str) -> Dialect:
    """The converters of dialect ``name``; ``ValueError`` for a name that is not one."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}: expected one of {', '.join(DIALECTS)}") from None


def request_to_ir(name: str, body: Body, *, model: str | None = None) -> ir.Request:
    """A client request as IR. Gemini names the model in the URL, not the body: pass ``model``."""
    return dialect(name).request_to_ir(body, model=model)


def request(client: str, upstream: str, body: Body, *, model: str | None = None) -> dict[str, Any]:
    """A ``client`` request body as the ``upstream`` body (for Gemini the model goes in the URL path:
    it is the IR request's ``model``, which :func:`request_to_ir` gives)."""
    source, target = _pair(client, upstream)
    return target.request_from_ir(source.request_to_ir(body, model=model))


def response_to_ir(name: str, body: Body) -> ir.Response:
    """An upstream reply body as IR."""
    return dialect(name).response_to_ir(body)


def response(upstream: str, client: str, body: Body) -> dict[str, Any]:
    """An ``upstream`` reply body as the ``client`` reply body."""
    source, target = _pair(upstream, client)
    return target.response_from_ir(source.response_to_ir(body))


def _pair(source: str, target: str) -> tuple[Dialect, Dialect]:
    """The Dialect objects of a translation's two ends (one lookup: this runs for every translated body)."""
    try:
        return BY_NAME[source], BY_NAME[target]
    except KeyError:
        dialect(target)  # raises, naming the target first when both are unknown
        dialect(source)
        raise


def stream_to_ir(name: str) -> StreamToIR:
    """A fresh ``StreamToIR`` of dialect ``name``: ``feed`` its stream events, ``close`` at the end."""
    return dialect(name).stream_to_ir()


class Stream:
    """An ``upstream`` stream's events (parsed ``data:`` JSON objects) → the ``client``'s events.

    ``feed`` each upstream event, then ``close`` when the upstream ended; both return the client events to
    write, in order. ``options`` are the keyword options of ``Dialect.stream_from_ir`` (``include_usage``
    for an OpenAI client, ``message_id`` and ``model`` for an Anthropic one; a dialect ignores the others).
    """

    def __init__(self, upstream: str, client: str, **options: Any) -> None:
        target = dialect(client)
        self._into = dialect(upstream).stream_to_ir()
        self._out_of: StreamFromIR = target.stream_from_ir(as_json=True, **options)

    def feed(self, event: Body) -> list[dict[str, Any]]:
        return [item for each in self._into.feed(event) for item in self._out_of.feed(each)]

    def close(self) -> list[dict[str, Any]]:
        out = [item for each in self._into.close() for item in self._out_of.feed(each)]
        out.extend(self._out_of.close())
        return out
