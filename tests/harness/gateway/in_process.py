"""A launcher for the tests' gateways: served in the runner's own trio loop, no process to start."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import trio

from harness.gateway.process import RunningGateway, attached_values

#: ``serve(upstreams, upstream_key, key, task_status=...)``: starts a test gateway on loopback and reports
#: its base URL through ``task_status``.
Serve = Callable[..., Awaitable[None]]


class InProcess:
    """Starts ``serve`` in the run's nursery, as a launcher of ``harness.gateway.run`` would start a
    process: the gateway ``name`` with its adapter file ``adapter``, keyed ``sk-<name>-in-process``."""

    def __init__(self, name: str, adapter: Path, serve: Serve) -> None:
        self.name = name
        self.adapter = adapter
        self.serve = serve

    async def start(
        self, nursery: trio.Nursery, upstreams: Mapping[str, str], upstream_key: str, client: Any
    ) -> RunningGateway:
        key = f"sk-{self.name}-in-process"
        url = await nursery.start(self.serve, dict(upstreams), upstream_key, key)
        values = attached_values(url, key, upstreams, upstream_key, str(self.adapter))
        return RunningGateway(self.name, url, key, readiness_url=url + "/health", values=values)
