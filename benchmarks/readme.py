"""The README's speed table, made from one ``nox -s bench`` run's ``reports/bench.json``.

``render(doc)`` gives the table as Markdown: a line naming the run (date, cores, CPU, Python, the load
average when the run began and when it ended, the versions of LiteLLM, aimock and llmock, and the load
generator the mock rows used), then one row per goal with its measured value, target, whether it is met,
and the figures behind it. Nothing is hand-edited: every row comes from the same run, so a table never
mixes runs.

``update(readme, doc)`` replaces what lies between the markers ``<!-- bench:begin -->`` and
``<!-- bench:end -->`` in the README with ``render(doc)``, and nothing else. A README without exactly one
pair of markers in that order, or a report that is not a bench report, is a ``ValueError`` naming the
file and what was expected.

    python -m benchmarks.readme [--json reports/bench.json] [--readme README.md] [--check]

``--check`` changes nothing and exits 1 when the README's table is not the one the report gives.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _value(goal: dict[str, Any]) -> str:
    value, unit = goal.get("value"), goal.get("unit", "x")
    if value is None:
        return "n/a"
    text = f"{value:.2f}"
    if goal.get("met") is not None and _meets(float(text), goal) != goal["met"]:
        text = f"{value:.3f}"  # two decimals would round across the target (2.997 shown as 3.00, not met)
    return f"{text}{unit}"


def _meets(value: float, goal: dict[str, Any]) -> bool:
    return value >= goal["threshold"] if goal.get("higher", True) else value < goal["threshold"]


def _target(goal: dict[str, Any]) -> str:
    sign = "≥" if goal.get("higher", True) else "<"
    return f"{sign} {goal['threshold']:g}{goal.get('unit', 'x')}"


_MET = {True: "yes", False: "**no**", None: "not measured"}


def _versions(doc: dict[str, Any]) -> list[str]:
    out = []
    litellm = (doc.get("translation") or {}).get("litellm")
    if litellm:
        out.append(f"LiteLLM {litellm}")
    tools: dict[str, str] = {}
    generators: set[str] = set()
    for row in doc.get("mock_server") or []:
        generators.add(str(row.get("generator")))
        for name, server in (row.get("servers") or {}).items():
            if isinstance(server, dict) and server.get("version"):
                tools[name] = str(server["version"])
    out += [f"{name} {version}" for name, version in sorted(tools.items())]
    if generators:
        out.append("mock load generator: " + ", ".join(sorted(generators)))
    return out


def render(doc: dict[str, Any]) -> str:
    """The Markdown table of one bench report (``benchmarks/__main__.py``'s ``--json``)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("goals"), list) or "machine" not in doc:
        raise ValueError("expected a bench report: an object with 'machine' and a list of 'goals'")
    end = doc["machine"]
    start = doc.get("machine_start") or end
    load = f"load {start['loadavg']:.2f} at the start, {end['loadavg']:.2f} at the end"
    run = (
        f"`nox -s bench`, {start['date']} to {end['date']}: {end['nproc']} cores ({end['cpu']}), "
        f"Python {end['python']}, {load}"
    )
    versions = _versions(doc)
    if versions:
        run += "; " + ", ".join(versions)
    goals = doc["goals"]
    met = sum(1 for g in goals if g.get("met") is True)
    lines = [
        f"From {run}. {met} of {len(goals)} goals met.",
        "",
        "| Section | Goal | Measured | Target | Met | Figures |",
        "|---|---|---|---|---|---|",
    ]
    for goal in goals:
        lines.append(
            f"| {_cell(goal['section'])} | {_cell(goal['name'])} | {_value(goal)} | {_target(goal)} "
            f"| {_MET[goal.get('met')]} | {_cell(goal.get('detail') or '')} |"
        )
    return "\n".join(lines) + "\n"


def _spans(text: str, readme: Path) -> tuple[int, int]:
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(
            f"{readme}: expected one {BEGIN} line followed by one {END} line around the speed table"
        )
    return text.index(BEGIN) + len(BEGIN), text.index(END)


def updated(text: str, readme: Path, doc: dict[str, Any]) -> str:
    """``text`` (the README's) with the table between the markers made from ``doc``."""
    begin, end = _spans(text, readme)
    return text[:begin] + "\n" + render(doc) + text[end:]


def update(readme: Path, doc: dict[str, Any]) -> bool:
    """Write the table into ``readme``; whether it changed."""
    text = readme.read_text(encoding="utf-8")
    new = updated(text, readme, doc)
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("reports/bench.json"))
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the table differs")
    args = parser.parse_args(argv)
    try:
        doc = json.loads(args.json.read_text(encoding="utf-8"))
        if args.check:
            text = args.readme.read_text(encoding="utf-8")
            if updated(text, args.readme, doc) != text:
                print(f"{args.readme}: the speed table is not the one {args.json} gives", file=sys.stderr)
                return 1
            return 0
        changed = update(args.readme, doc)
    except (OSError, ValueError) as exc:
        where = "" if str(args.json) in str(exc) or str(args.readme) in str(exc) else f"{args.json}: "
        print(f"benchmarks.readme: {where}{exc}", file=sys.stderr)
        return 2
    print(f"{args.readme}: speed table {'rewritten' if changed else 'already current'} from {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
