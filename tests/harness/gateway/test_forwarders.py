"""``GatewayProvider``'s forwarding methods, made from the contract's table (providers/contract.py): one per
method with a front door, each with ``Provider``'s signature, calling the same method of its door's client."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import trio

from harness.gateway.adapter import ModelRoute
from harness.gateway.provider import METHOD_DOOR, GatewayProvider
from providers import contract
from providers.base import Provider
from providers.errors import ProviderError

SPEC = [pytest.param(m, id=m.name) for m in contract.METHODS if m.level == "spec"]


class Door:
    """A front door's client that answers every call with what it was called with."""

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            return name, args, kwargs

        return call


def gateway(doors: dict[str, Any]) -> GatewayProvider:
    route = ModelRoute("openai", "{{model}}")
    provider = GatewayProvider.bind("g", "http://127.0.0.1:9", {}, "openai", route)("key")
    provider._doors.update(doors)
    return provider


def test_every_vendor_call_has_a_front_door_and_nothing_else_does() -> None:
    assert {m.name: m.dialect for m in contract.METHODS if m.level == "spec"} == METHOD_DOOR
    assert len(METHOD_DOOR) == 17
    assert not GatewayProvider.__abstractmethods__
    for method in contract.METHODS:
        own = method.name in vars(GatewayProvider)
        assert own == (method.name in METHOD_DOOR), method.name
        if own:
            assert inspect.signature(getattr(GatewayProvider, method.name)) == inspect.signature(
                getattr(Provider, method.name)
            )
            assert inspect.iscoroutinefunction(getattr(GatewayProvider, method.name))


@pytest.mark.parametrize("method", SPEC)
def test_a_forwarder_calls_its_doors_method_with_the_same_arguments(method: contract.Method) -> None:
    provider = gateway({method.dialect: Door()})
    args = tuple(f"arg{i}" for i, _ in enumerate(method.arguments))
    assert trio.run(getattr(provider, method.name), *args) == (method.name, args, {})
    keywords = dict(zip(method.arguments, args, strict=True))
    forward = getattr(provider, method.name)
    assert trio.run(lambda: forward(**keywords)) == (method.name, (), keywords)


@pytest.mark.parametrize("method", SPEC)
def test_without_its_front_door_a_method_is_not_implemented(method: contract.Method) -> None:
    others = {d: Door() for d in ("openai", "anthropic", "gemini") if d != method.dialect}
    provider = gateway(others)
    with pytest.raises(ProviderError) as raised:
        trio.run(getattr(provider, method.name), *([None] * len(method.arguments)))
    assert raised.value.kind == "not_implemented" and raised.value.method == method.name
