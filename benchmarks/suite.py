"""Wall time of the whole conformance suite: ``wirecheck run`` (all scenarios × all reference providers) in
a child process, timed from the outside, ``ROUNDS`` times; the figure is the median wall time. Beside it:
the spread, the CPU seconds the run and its own children used (the SDK oracle process,
``harness/oracles/sdk_process.py``), the machine's load average before each round (the machine is shared:
a loaded one stretches every figure), and the slowest cases from the ``--json`` report.

The goal (< 10 s on 2 cores) is absolute, not a ratio: it is the figure a developer waits for.

``same_results(before, after)`` compares two ``--json`` reports of the same suite result by result
(verdict, message, level, every check's status and message, the details) and returns the differences, not
counting what differs from run to run by nature (durations, first-item times, the mock's port); a change
made for speed must leave it empty (two checkouts of the same suite compare equal):

    python -m benchmarks.suite [-k SUBSTRING] [--rounds N]
    python -m benchmarks.suite --compare BEFORE.json AFTER.json     # exit 1 when a result differs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._timing import Goal, print_goals

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 10.0
ROUNDS = 3
#: Result fields that differ between two runs of the same code (timings).
_TIMINGS = frozenset({"duration_ms", "first_item_ms"})
_PORT = re.compile(r"127\.0\.0\.1:\d+")
_CHECKOUT = re.compile(r"[^\s'\"]*?/(scenarios|baselines)/")


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


def _comparable(node: Any) -> Any:
    """A report's node without its timings; the mock's port and the checkout's folder masked."""
    if isinstance(node, dict):
        return {k: _comparable(v) for k, v in node.items() if k not in _TIMINGS}
    if isinstance(node, list):
        return [_comparable(v) for v in node]
    if isinstance(node, str):
        return _CHECKOUT.sub(r"\1/", _PORT.sub("127.0.0.1:PORT", node))
    return node


def same_results(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The differences between two ``wirecheck run --json`` reports (see the module docstring), one line
    each: the run's verdict and counts, then each result (by case, provider and variant) missing from one
    side or different; empty when they agree."""
    out = [
        f"{key}: {before.get(key)!r} before, {after.get(key)!r} after"
        for key in ("ok", "counts")
        if before.get(key) != after.get(key)
    ]

    def index(doc: dict[str, Any]) -> dict[tuple[Any, ...], Any]:
        return {(r.get("case"), r.get("provider"), r.get("variant")): _comparable(r) for r in doc["results"]}

    old, new = index(before), index(after)
    for key in sorted(old.keys() | new.keys(), key=str):
        name = "{}[{}]{{{}}}".format(*key)
        if key not in new or key not in old:
            out.append(f"{name}: only {'before' if key in old else 'after'}")
            continue
        fields = sorted(f for f in old[key].keys() | new[key].keys() if old[key].get(f) != new[key].get(f))
        if fields:
            out.append(f"{name}: {', '.join(fields)} differ")
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(select: list[str] | None = None, rounds: int = ROUNDS) -> tuple[list[Goal], dict[str, Any]]:
    exe = shutil.which("wirecheck")
    command = [exe] if exe else [sys.executable, "-m", "harness.cli"]
    walls: list[float] = []
    cpus: list[float] = []
    loads: list[float] = []
    doc: dict[str, Any] = {}
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "run.json"
        args = [*command, "run", "--json", str(report)]
        for k in select or ():
            args += ["-k", k]
        for _ in range(max(1, rounds)):
            loads.append(os.getloadavg()[0])
            cpu0, t0 = _children_cpu(), time.perf_counter()
            proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
            walls.append(time.perf_counter() - t0)
            cpus.append(_children_cpu() - cpu0)
        doc = json.loads(report.read_text()) if report.exists() else {}
    assert proc is not None
    wall = statistics.median(walls)
    slowest = _durations(doc)[:10]
    counts = doc.get("counts") if isinstance(doc, dict) else None
    tail = json.dumps(counts) if counts else (proc.stdout.strip().splitlines() or [""])[-1]
    detail = (
        f"exit {proc.returncode}; median of {len(walls)}: {', '.join(f'{w:.1f}' for w in walls)} s wall, "
        f"CPU {statistics.median(cpus):.1f} s, load before {', '.join(f'{x:.1f}' for x in loads)}; {tail}"
    )
    if slowest:
        detail += "; slowest: " + ", ".join(f"{name} {s:.2f}s" for s, name in slowest[:5])
    figures = {
        "wall_seconds": wall,
        "walls": walls,
        "cpu_seconds": cpus,
        "loadavg_before": loads,
        "exit": proc.returncode,
        "summary": tail,
        "slowest": slowest,
    }
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
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="runs timed (default: %(default)s)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(path.read_text()) for path in args.compare)
        differences = same_results(before, after)
        print("\n".join(differences) or f"the same results ({len(after['results'])})")
        sys.exit(1 if differences else 0)
    goals, _ = run(args.k, args.rounds)
    print_goals(goals)


if __name__ == "__main__":
    main()
