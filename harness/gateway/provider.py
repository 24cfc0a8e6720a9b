"""``GatewayProvider``: the Provider contract spoken to a gateway's front doors over HTTP.

A gateway's front doors speak exactly the public dialects, so the reference providers are its HTTP
clients, aimed at the gateway instead of an upstream: ``OpenAIProvider`` at the OpenAI front door
(chat, raw chat, passthrough, embeddings, images, audio), ``AnthropicProvider`` at ``/v1/messages``
(typed and raw), ``GoogleProvider`` at ``:generateContent`` / ``:streamGenerateContent`` (typed and raw).
No HTTP client is rewritten here, and none of them translates anything: each method calls the front
door of its own dialect, so what the client receives is what the gateway sent.

One class per (gateway, upstream dialect) (``bind``): the runner runs each scenario once per upstream
the gateway routes to, and the model alias the case's request carries picks that upstream. The clients
never retry (``max_retries=0``): any retry the mock sees is the gateway's own. Methods of a front door
the gateway does not have raise ``not_implemented``; the gateway runner reports those cases as
not-applicable before calling. The forwarding methods are made from the contract's table
(``providers.contract``): one per method with a front door, with ``Provider``'s signature.

The runner hands every provider the base URL of its per-call mock upstream (``base_url``); a gateway
provider ignores it and talks to the gateway, whose upstreams are the mock's gateway lane
(harness/gateway/run.py).
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Literal, cast

from harness.gateway.adapter import FrontDoor, ModelRoute, render
from providers import contract
from providers.anthropic import AnthropicProvider
from providers.base import Provider
from providers.errors import ProviderError
from providers.google import GoogleProvider
from providers.openai import OpenAIProvider
from providers.transport import RetryPolicy

__all__ = ["METHOD_DOOR", "GatewayProvider"]

#: How the Anthropic client sends the key (``AnthropicProvider`` refuses any other value).
_AnthropicAuth = Literal["x-api-key", "bearer"]

#: The front door (dialect) each contract method calls: the spec-level methods, a vendor's HTTP calls
#: (``providers.contract.Method.level``). The others have none: the IR methods ``complete``/``complete_stream``
#: and the ``is_*_compat`` capability queries describe a Provider implementation, not HTTP behaviour.
METHOD_DOOR: dict[str, str] = {m.name: m.dialect for m in contract.METHODS if m.level == "spec"}


def _forwarder(method: contract.Method) -> Callable[..., Awaitable[Any]]:
    """``method`` of ``GatewayProvider``: the same call on the reference client of its front door."""
    name = method.name

    async def forward(self: GatewayProvider, *args: Any, **kwargs: Any) -> Any:
        return await getattr(self._door(name), name)(*args, **kwargs)

    forward.__name__ = name
    forward.__qualname__ = f"GatewayProvider.{name}"
    forward.__doc__ = (
        f"``{name}`` ({method.anchor}) at the gateway's {method.dialect} front door; "
        "``not_implemented`` when the gateway has none."
    )
    forward.__dict__["__signature__"] = inspect.signature(getattr(Provider, name))
    return forward


def _forwarding(cls: type[GatewayProvider]) -> type[GatewayProvider]:
    """``cls`` with a forwarder for every method that has a front door (``METHOD_DOOR``)."""
    for method in contract.METHODS:
        if method.name in METHOD_DOOR:
            setattr(cls, method.name, _forwarder(method))
    abc.update_abstractmethods(cls)
    return cls


@_forwarding
class GatewayProvider(Provider):
    """The contract over a gateway's front doors. Use ``bind`` to get the class for one gateway and
    upstream dialect; instances take the gateway's key as ``api_key``."""

    name: ClassVar[str] = "gateway"
    gateway_url: ClassVar[str] = ""
    front_doors: ClassVar[Mapping[str, FrontDoor]] = {}
    upstream_dialect: ClassVar[str] = ""
    route: ClassVar[ModelRoute | None] = None
    values: ClassVar[Mapping[str, str]] = {}
    model: ClassVar[str] = ""

    @classmethod
    def bind(
        cls,
        name: str,
        url: str,
        front_doors: Mapping[str, FrontDoor],
        dialect: str,
        route: ModelRoute,
        values: Mapping[str, str] | None = None,
    ) -> type[GatewayProvider]:
        """A subclass aimed at the gateway at ``url``, for the cases it routes to ``dialect``; ``values``:
        the run's template values (request headers are rendered with them)."""
        return type(
            f"GatewayProvider[{name}]",
            (cls,),
            {
                "name": name,
                "gateway_url": url.rstrip("/"),
                "front_doors": dict(front_doors),
                "upstream_dialect": dialect,
                "route": route,
                "values": dict(values or {}),
                "__module__": __name__,
            },
        )

    @classmethod
    def for_model(cls, model: str) -> type[GatewayProvider]:
        """The class for one case: ``{{model}}`` in request headers is ``model`` (the model the gateway is
        to send upstream)."""
        return type(cls.__name__, (cls,), {"model": model, "__module__": __name__})

    @classmethod
    def header_values(cls, key: str) -> dict[str, str]:
        """The values request headers are rendered with: the run's, the key, and the route's."""
        upstream = cls.values.get(f"upstream.{cls.upstream_dialect}", "")
        return {
            **cls.values,
            "master_key": key,
            "upstream.url": upstream,
            "upstream.dialect": cls.upstream_dialect,
            "model": cls.model,
        }

    def __init__(
        self, api_key: str | None = None, base_url: str | None = None, *, client: Any = None
    ) -> None:
        del base_url  # the per-call mock URL: a gateway provider talks to the gateway
        key = api_key or "wirecheck-no-key"
        no_retry = RetryPolicy(max_retries=0)
        url = self.gateway_url
        self._doors: dict[str, Any] = {}
        values = self.header_values(key)
        route_headers = dict(self.route.headers) if self.route is not None else {}
        for dialect, door in self.front_doors.items():
            if self.route is not None and not self.route.reached_by(dialect):
                continue
            headers = {k: render(v, values) for k, v in {**door.headers, **route_headers}.items()}
            common: dict[str, Any] = {
                "base_url": url + door.base_path,
                "headers": headers,
                "retry": no_retry,
                "client": client,
            }
            if dialect == "openai":
                self._doors[dialect] = OpenAIProvider(key, **common)
            elif dialect == "anthropic":
                self._doors[dialect] = AnthropicProvider(key, auth=cast(_AnthropicAuth, door.auth), **common)
            elif dialect == "gemini":
                self._doors[dialect] = GoogleProvider(key, api_version=door.api_version, **common)

    def _door(self, method: str) -> Any:
        dialect = METHOD_DOOR.get(method)
        door = self._doors.get(dialect) if dialect else None
        if door is None:
            raise ProviderError.not_implemented(method)
        return door

    async def aclose(self) -> None:
        for door in self._doors.values():
            await door.aclose()
