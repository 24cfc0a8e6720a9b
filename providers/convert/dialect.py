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
- ``lossy``: the rows of the lossiness ledger (``providers.convert.tables.LEDGER``, read from
  ``lossy.toml``) this dialect's converter module lists (what does not survive a translation, and why).

Each module builds its ``DIALECT`` as a ``Converters``: its own functions behind the protocol's names.

Errors: a malformed input body raises ``pydantic.ValidationError`` (naming its field) or ``ValueError``
(not JSON); IR that the wire cannot express raises ``ProviderError``. An error reported inside a stream is
an ``ir.StreamError`` event on the way in; ``StreamFromIR.feed`` raises ``ProviderError(kind="upstream")``
for it in OpenAI and Gemini, and writes an ``error`` event in Anthropic.

The outputs are built as wire JSON without a second validation (the test suite proves them valid) and may
share sub-objects with the IR: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from providers.convert.tables import LEDGER, Lossy
from providers.types import ir
from providers.types._base import Wire

__all__ = ["Body", "Converters", "Dialect", "StreamFromIR", "StreamOptions", "StreamToIR", "parse_body"]

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


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """The options of ``Dialect.stream_from_ir``, as a stream-writer factory takes them (each dialect
    uses those its wire has: see the module docstring)."""

    include_usage: bool = True
    message_id: str | None = None
    model: str | None = None
    as_json: bool = True


@dataclass(frozen=True, slots=True)
class Converters:
    """A ``Dialect`` made of one converter module's functions (positional, in this order):

    - ``name``: the dialect name; ``lossy`` is its rows of ``tables.LEDGER``;
    - ``read_request(body, model)`` → IR request (``model`` is the URL's model, ``None`` when not given);
    - ``write_request(request)`` → request wire JSON;
    - ``read_response(body)`` → IR response; ``write_response(response)`` → response wire JSON;
    - ``read_stream()`` → a fresh ``StreamToIR``; ``write_stream(options)`` → a fresh ``StreamFromIR``
      for a ``StreamOptions``.

    The protocol's methods only forward to these, so every dialect has the protocol's exact signatures.
    """

    name: str
    read_request: Callable[[Body, str | None], ir.Request]
    write_request: Callable[[ir.Request], dict[str, Any]]
    read_response: Callable[[Body], ir.Response]
    write_response: Callable[[ir.Response], dict[str, Any]]
    read_stream: Callable[[], StreamToIR]
    write_stream: Callable[[StreamOptions], StreamFromIR]

    @property
    def lossy(self) -> Sequence[Lossy]:
        return LEDGER[self.name]

    def request_to_ir(self, body: Body, *, model: str | None = None) -> ir.Request:
        return self.read_request(body, model)

    def request_from_ir(self, request: ir.Request) -> dict[str, Any]:
        return self.write_request(request)

    def response_to_ir(self, body: Body) -> ir.Response:
        return self.read_response(body)

    def response_from_ir(self, response: ir.Response) -> dict[str, Any]:
        return self.write_response(response)

    def stream_to_ir(self) -> StreamToIR:
        return self.read_stream()

    # fmt: off
    def stream_from_ir(
        self, *, include_usage: bool = True, message_id: str | None = None, model: str | None = None,
        as_json: bool = True,
    ) -> StreamFromIR:
        # fmt: on
        return self.write_stream(StreamOptions(include_usage, message_id, model, as_json))


WireModel = TypeVar("WireModel", bound=Wire)


def parse_body(body: Body, model: type[WireModel]) -> WireModel:
    """``body`` validated as ``model`` (a body that already is one is returned as it is). A wire model of
    another type raises ``TypeError``: it belongs to another dialect or endpoint."""
    if type(body) is dict:  # the common body, told before pydantic's Python-level isinstance checks
        return model.parse(body)
    if isinstance(body, model):
        return body
    if isinstance(body, Wire):
        raise TypeError(f"expected {model.__name__} or its wire JSON, got {type(body).__name__}")
    return model.parse(body)
