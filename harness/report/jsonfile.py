"""``--json FILE``: every verdict of the run with its case id, provider, clause, checks (ids, messages,
diffs) and timings, as one JSON document, scrubbed of secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report import scrub
from harness.verdicts import RunResult

__all__ = ["render", "write"]


def render(run: RunResult) -> dict[str, Any]:
    return scrub(run.to_json(), run.secrets)


def write(run: RunResult, path: str | Path) -> None:
    Path(path).write_text(json.dumps(render(run), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
