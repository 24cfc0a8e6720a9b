"""Finding a provider class by name: ours by registry name, or a user's as ``"module:Class"``.

The harness builds the provider under test from a spec string (ours by name, or a user's ``module:Class``,
aimed at the mock: docs/design.md#case-flow), so a wrong spec must say exactly what is wrong: the spec, what
was found, and what was expected. Every such failure is a ``ProviderSpecError``, which is both a
``LookupError`` and a ``ValueError``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from providers.anthropic import AnthropicProvider
from providers.azure import AzureOpenAIProvider
from providers.base import Provider
from providers.google import GoogleProvider
from providers.openai import OpenAIProvider

#: Registry names of the reference providers (``gemini`` is an alias of ``google``).
PROVIDERS: dict[str, type[Provider]] = {
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
    "google": GoogleProvider,
    "gemini": GoogleProvider,
    "azure": AzureOpenAIProvider,
}


class ProviderSpecError(LookupError, ValueError):
    """A provider spec that names no usable Provider class."""


def provider_class(spec: str) -> type[Provider]:
    """The Provider class ``spec`` names: a registry name (case-insensitive) or ``"module:Class"``
    (``Class`` may be a dotted path inside the module). The class must subclass ``providers.base.Provider``
    and implement every abstract method."""
    if not isinstance(spec, str) or not spec.strip():
        raise ProviderSpecError(
            f"provider spec {spec!r}: expected a registry name ({_known()}) or 'module:Class'"
        )
    spec = spec.strip()
    if ":" not in spec:
        found = PROVIDERS.get(spec.lower())
        if found is None:
            raise ProviderSpecError(
                f"provider spec {spec!r}: no provider of that name; expected one of {_known()} or 'module:Class'"
            )
        return found
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise ProviderSpecError(f"provider spec {spec!r}: expected 'module:Class' with both parts given")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProviderSpecError(
            f"provider spec {spec!r}: module {module_name!r} cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc
    obj: Any = module
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            where = module_name if obj is module else f"{module_name}:{attr_path}"
            raise ProviderSpecError(
                f"provider spec {spec!r}: {where} has no attribute {part!r}; "
                f"Provider classes found in {module_name}: {_providers_in(module) or 'none'}"
            )
        obj = getattr(obj, part)
    if not inspect.isclass(obj) or not issubclass(obj, Provider):
        got = (
            f"class {obj.__module__}.{obj.__qualname__}"
            if inspect.isclass(obj)
            else f"a {type(obj).__name__}"
        )
        raise ProviderSpecError(
            f"provider spec {spec!r}: found {got}, expected a subclass of providers.base.Provider"
        )
    missing = sorted(getattr(obj, "__abstractmethods__", ()))
    if missing:
        raise ProviderSpecError(
            f"provider spec {spec!r}: {obj.__qualname__} leaves abstract methods unimplemented: "
            f"{', '.join(missing)}"
        )
    return obj


def load_provider(spec: str, **kwargs: Any) -> Provider:
    """An instance of the class ``spec`` names, built with ``kwargs`` (api_key, base_url, ...)."""
    return provider_class(spec)(**kwargs)


def _known() -> str:
    return ", ".join(repr(name) for name in PROVIDERS)


def _providers_in(module: Any) -> str:
    names = [
        name
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, Provider) and value is not Provider
    ]
    return ", ".join(sorted(names))
