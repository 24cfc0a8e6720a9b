"""Writing a run's report files: the one writer both ``wirecheck run`` and gateway mode use.

``write_reports`` writes each report it is given a path for (``json``, ``junit_xml``, ``matrix_md``, and
``summary``: the terminal summary text), creating parent folders, prints ``wrote PATH`` for each on
stdout, and returns whether all were written. ``shard``: the block a shard's JSON report carries
(``harness.report.merge.record``). A file that cannot be written does not stop the others:
its error is one line on stderr naming the file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.report import jsonfile, junit, matrix
from harness.verdicts import RunResult

__all__ = ["write_reports"]


def write_reports(
    result: RunResult,
    *,
    json: str | None = None,
    junit_xml: str | None = None,
    matrix_md: str | None = None,
    summary: str | None = None,
    summary_text: str = "",
    command: str = "wirecheck run",
    shard: dict[str, Any] | None = None,
) -> bool:
    """Write the reports given a path (see the module docstring); False when one could not be written."""
    jobs: list[tuple[str | None, Callable[[str], None]]] = [
        (summary, lambda path: Path(path).write_text(summary_text + "\n", encoding="utf-8")),
        (json, lambda path: jsonfile.write(result, path, shard)),
        (junit_xml, lambda path: junit.write(result, path)),
        (matrix_md, lambda path: matrix.write(result, path)),
    ]
    ok = True
    for path, write in jobs:
        if not path:
            continue
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write(path)
        except OSError as exc:
            print(f"{command}: {path}: cannot write it: {exc.strerror or exc}", file=sys.stderr)
            ok = False
            continue
        print(f"wrote {path}")
    return ok
