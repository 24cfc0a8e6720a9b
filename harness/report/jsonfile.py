"""``--json FILE``: every verdict of the run with its case id, provider, clause, checks (ids, messages,
diffs) and timings, as one JSON document, scrubbed of secrets. A shard's report (``--shard K/N``) adds the
``shard`` block ``wirecheck report merge`` needs (``harness.report.merge.record``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report import scrub
from harness.verdicts import RunResult

__all__ = ["render", "write"]


def render(run: RunResult, shard: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report of ``run``, with the ``shard`` block when one is given."""
    data = run.to_json()
    if shard is not None:
        data["shard"] = shard
    return scrub(data, run.secrets)


def write(run: RunResult, path: str | Path, shard: dict[str, Any] | None = None) -> None:
    text = json.dumps(render(run, shard), indent=2, ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")
