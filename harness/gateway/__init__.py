"""Gateway mode: the conformance suite against a real LLM gateway process, over HTTP.

- ``adapter``: gateway adapter files (``gateways/*.yaml``, schema ``harness/schemas/gateway.json``);
- ``process``: starting, probing, watching and stopping the gateway (or attaching to a running one);
- ``provider``: ``GatewayProvider``, the Provider contract spoken to the gateway's front doors;
- ``transparency``: the ``timing.transparency`` check and its probe cases;
- ``doors``: the door probe (front doors the gateway does not have, with the evidence);
- ``run``: the runner (topology, isolation, applicability), ``run_gateway``;
- ``cli``: the ``wirecheck run --gateway ...`` options;
- ``docs``: the generated deviations page (``docs/gateways/<name>.md``).

The names below are imported on first use, so ``wirecheck``'s argument parser can load ``cli`` cheaply.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Adapter": "adapter",
    "AdapterError": "adapter",
    "load_adapter": "adapter",
    "AttachLauncher": "process",
    "GatewayDied": "process",
    "GatewayError": "process",
    "GatewayStartError": "process",
    "ProcessLauncher": "process",
    "RunningGateway": "process",
    "GatewayProvider": "provider",
    "run_gateway": "run",
    "run_gateway_async": "run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness.gateway' has no attribute {name!r}")
    return getattr(importlib.import_module(f"harness.gateway.{module}"), name)
