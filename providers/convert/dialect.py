"""The one protocol every converter module implements: ``Dialect``.

Each of ``providers.convert.openai``, ``.anthropic`` and ``.gemini`` exposes one object, ``DIALECT``, with
the same entry points and the same signatures, so a caller (``providers.translate``, a gateway, a test)
picks a dialect by name and never branches on which one it got:

- ``request_to_ir(body, *, model=None)``: a client request (wire JSON as a mapping, bytes or text, or the
  dialect's validated wire model) as an IR request. ``model`` is the model named by the URL: Gemini's
  request body has none, so Gemini needs it (a missing one raises ``ValueError``); the other dialects read
  the model from the body and ignore ``model``.
- ``request_from_ir(request)``: the IR request as the dialect's request body (wire JSON; for Gemini the
  model goes in the URL path and is the IR request's ``model``).
- ``response_to_ir(body)`` / ``response_from_ir(response)``: the same for replies.
- ``stream_to_ir()``: a fresh ``StreamToIR``: ``feed`` each parsed stream event (a ``data:`` JSON object,
  an error object included), ``close`` when the stream ended; both give IR stream events.
- ``stream_from_ir(*, include_usage, message_id, model, as_json)``: a fresh ``StreamFromIR``: ``feed`` IR
  events, ``close`` at the end; both give the dialect's stream events (wire JSON dicts when ``as_json``,
  validated models otherwise). Every dialect accepts every option and uses those its wire has: OpenAI
  ``include_usage`` (a usage chunk at the end), Anthropic ``message_id`` and ``model`` (the names of a
  message whose IR stream has no ``MessageStart``); Gemini uses none.
- ``lossy``: the rows of ``providers.convert.tables.LOSSY`` this dialect contributes (what does not
  survive a translation, and why).

Errors: a malformed input body raises ``pydantic.ValidationError`` (naming its field) or ``ValueError``
(not JSON); IR that the wire cannot express raises ``ProviderError``. An error reported inside a stream is
an ``ir.StreamError`` event on the way in; ``StreamFromIR.feed`` raises ``ProviderError(kind="upstream")``
for it in OpenAI and Gemini, and writes an ``error`` event in Anthropic.

The outputs are built as wire JSON without a second validation (the test suite proves them valid) and may
share sub-objects with the IR: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from providers.convert.tables import Lossy
from providers.types import ir
from providers.types._base import Wire

__all__ = ["Body", "Dialect", "StreamFromIR", "StreamToIR", "parse_body"]

#: A wire body as a converter accepts it: parsed JSON, its bytes or text, or the validated wire model.
Body = Mapping[str, Any] | bytes | str | Wire


@runtime_checkable
class StreamToIR(Protocol):
    """One upstream stream's events → IR stream events."""

    def feed(self, item: Any) -> list[ir.StreamEvent]: ...

    def close(self) -> list[ir.StreamEvent]: ...


@runtime_checkable
class StreamFromIR(Protocol):
    """IR stream events → one client stream's events."""

    def feed(self, event: ir.StreamEvent) -> list[Any]: ...

    def close(self) -> list[Any]: ...


@runtime_checkable
class Dialect(Protocol):
    """A wire dialect's converters to and from the IR (see the module docstring for the contract)."""

    @property
    def name(self) -> str: ...

    @property
    def lossy(self) -> Sequence[Lossy]: ...

    def request_to_ir(self, body: Body, *, model: str | None = None) -> ir.Request: ...

    def request_from_ir(self, request: ir.Request) -> dict[str, Any]: ...

    def response_to_ir(self, body: Body) -> ir.Response: ...

    def response_from_ir(self, response: ir.Response) -> dict[str, Any]: ...

    def stream_to_ir(self) -> StreamToIR: ...

    def stream_from_ir(
        self,
        *,
        include_usage: bool = True,
        message_id: str | None = None,
        model: str | None = None,
        as_json: bool = True,
    ) -> StreamFromIR: ...


WireModel = TypeVar("WireModel", bound=Wire)


def parse_body(body: Body, model: type[WireModel]) -> WireModel:
    """``body`` validated as ``model`` (a body that already is one is returned as it is). A wire model of
    another type raises ``TypeError``: it belongs to another dialect or endpoint."""
    if isinstance(body, model):
        return body
    if isinstance(body, Wire):
        raise TypeError(f"expected {model.__name__} or its wire JSON, got {type(body).__name__}")
    return model.parse(body)
