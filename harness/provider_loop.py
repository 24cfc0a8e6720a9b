"""Which event loop a user's provider runs on: trio (the harness's own) or asyncio (a dedicated loop in a
thread of its own, ``harness.asyncio_bridge``).

``provider_loop="trio"`` or ``"asyncio"`` (``harness.runner.resolve_providers`` and ``run``; the CLI's
``wirecheck run --provider-loop``; pytest's ``--wirecheck-provider-loop`` or ini key
``wirecheck_provider_loop``) says it for every ``module:Class`` provider of the run. ``auto``, the
default, decides per class by the first of these rules that applies:

1. the class (or a base class) has the attribute ``event_loop = "asyncio"`` or ``event_loop = "trio"``:
   that loop;
2. a module that defines the class or one of its base classes refers to trio (it imported ``trio``, or a
   class or function from it): trio;
3. such a module refers to an asyncio-bound library (``ASYNCIO_LIBRARIES``: it imported the module, or a
   class or function from it, e.g. ``import asyncio``, ``from aiohttp import ClientSession``): asyncio;
4. otherwise: trio.

The rule reads the class and its modules' globals before any call. Nothing is tried on one loop and
retried on the other: a first call that failed under trio would already have reached the upstream.
Reference providers (``openai``, ``anthropic``, ``google``, ``azure``) always run on trio.
"""

from __future__ import annotations

import inspect
import sys
from types import ModuleType

__all__ = ["ASYNCIO_LIBRARIES", "PROVIDER_LOOPS", "choose_loop"]

#: The values of ``--provider-loop``.
PROVIDER_LOOPS: tuple[str, ...] = ("trio", "asyncio", "auto")
#: Top-level packages whose code only runs under asyncio (rule 3).
ASYNCIO_LIBRARIES: frozenset[str] = frozenset(
    {"asyncio", "aiohttp", "aiofiles", "aiobotocore", "litellm", "uvloop"}
)
_LOOPS = ("trio", "asyncio")
#: C accelerator modules that stand for their package (``asyncio.get_running_loop.__module__ == "_asyncio"``).
_ACCELERATORS = {"_asyncio": "asyncio"}


def choose_loop(cls: type, requested: str = "auto") -> tuple[str, str]:
    """The loop ``cls`` runs on (``"trio"`` or ``"asyncio"``) and why, in words, for ``requested`` (one of
    ``PROVIDER_LOOPS``). Raises ``ValueError`` for an unknown ``requested`` or ``event_loop`` value."""
    if requested not in PROVIDER_LOOPS:
        raise ValueError(f"provider loop {requested!r}: expected one of {', '.join(PROVIDER_LOOPS)}")
    if requested != "auto":
        return requested, f"--provider-loop {requested}"
    declared = getattr(cls, "event_loop", None)
    if declared is not None:
        if declared not in _LOOPS:
            raise ValueError(
                f"{cls.__module__}.{cls.__qualname__}.event_loop = {declared!r}: expected 'trio' or 'asyncio'"
            )
        return declared, f"class attribute event_loop = {declared!r}"
    referred = [(module.__name__, _libraries_referred_to(module)) for module in _defining_modules(cls)]
    for wanted, loop in (({"trio"}, "trio"), (ASYNCIO_LIBRARIES, "asyncio")):
        for name, libraries in referred:
            if libraries & wanted:
                return loop, f"auto: module {name} refers to {', '.join(sorted(libraries & wanted))}"
    return "trio", "auto: no asyncio-bound library in its modules"


def _defining_modules(cls: type) -> list[ModuleType]:
    """The modules that define ``cls`` and its base classes (``object`` aside), nearest first."""
    out: list[ModuleType] = []
    for klass in cls.__mro__:
        module = sys.modules.get(getattr(klass, "__module__", "") or "")
        if klass is not object and module is not None and module not in out:
            out.append(module)
    return out


def _libraries_referred_to(module: ModuleType) -> set[str]:
    """The top-level packages of the modules, classes and functions among a module's globals."""
    out = set()
    for value in list(vars(module).values()):
        if inspect.ismodule(value):
            name = value.__name__
        elif inspect.isclass(value) or inspect.isroutine(value):
            name = getattr(value, "__module__", None)
        else:
            continue
        if isinstance(name, str) and name:
            top = name.partition(".")[0]
            out.add(_ACCELERATORS.get(top, top))
    return out
