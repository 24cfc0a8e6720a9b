"""Wall time of the whole conformance suite: ``wirecheck run`` (all scenarios × all reference providers) in
a child process, timed from the outside; the slowest cases come from its ``--json`` report.

The goal (< 20 s on 2 cores) is absolute, not a ratio: it is the figure a developer waits for.

    python -m benchmarks.suite [-k SUBSTRING]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._timing import Goal, print_goals

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 20.0


def _durations(doc: Any) -> list[tuple[float, str]]:
    """(seconds, case id @ provider) for every result of the JSON report that carries a duration."""
    found: list[tuple[float, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ms = node.get("duration_ms")
            seconds = ms / 1000 if isinstance(ms, int | float) else None
            case = node.get("case")
            if seconds is not None and case:
                found.append((float(seconds), f"{case} @ {node.get('provider', '?')}"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    return sorted(found, reverse=True)


def run(select: list[str] | None = None) -> tuple[list[Goal], dict[str, Any]]:
    exe = shutil.which("wirecheck")
    command = [exe] if exe else [sys.executable, "-m", "harness.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "run.json"
        args = [*command, "run", "--json", str(report)]
        for k in select or ():
            args += ["-k", k]
        t0 = time.perf_counter()
        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        doc = json.loads(report.read_text()) if report.exists() else {}
    slowest = _durations(doc)[:10]
    counts = doc.get("counts") if isinstance(doc, dict) else None
    tail = json.dumps(counts) if counts else (proc.stdout.strip().splitlines() or [""])[-1]
    detail = f"exit {proc.returncode}; {tail}"
    if slowest:
        detail += "; slowest: " + ", ".join(f"{name} {s:.2f}s" for s, name in slowest[:5])
    figures = {"wall_seconds": wall, "exit": proc.returncode, "summary": tail, "slowest": slowest}
    goal = Goal(
        "suite",
        "wirecheck run wall time (all scenarios x providers)",
        wall,
        GOAL_SECONDS,
        higher=False,
        unit=" s",
        detail=detail,
        figures=figures,
    )
    return [goal], {"suite": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", action="append", help="only cases whose id contains it")
    args = parser.parse_args()
    goals, _ = run(args.k)
    print_goals(goals)


if __name__ == "__main__":
    main()
