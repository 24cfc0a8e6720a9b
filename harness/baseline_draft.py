"""A baseline drafted from a JSON report: ``wirecheck baseline --from report.json -o my-baseline.yaml``.

``read(path)`` takes a report written by ``wirecheck run --json`` (schema ``harness/schemas/report.json``)
and returns a ``Draft``: one entry per failing check of every result whose verdict is ``fail``, as
``case``, ``provider``, ``check`` and an empty ``reason``. ``Draft.render()`` is the baseline file
(``harness/baseline.py``), with a header comment telling the user to fill each reason: the loader
refuses an empty one, so a person states why every failure is expected.

What is left out, and said so by ``Draft.notes()``: results that are not provider failures (harness
errors, mock infidelities), expected failures (the run's baseline already lists them), and failing
results with no failing check (a stale baseline entry or one naming an unknown case: fix that file).
A report that cannot be read is a ``BaselineError`` naming the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from harness.baseline import BaselineError
from harness.scenario import dotted, schema_problem

__all__ = ["Draft", "read"]

HEADER = """\
# Expected-failure baseline drafted from {report} by `wirecheck baseline`: one entry per failing
# (case, provider, check) of that run.
#
# Fill in every `reason:` with why the failure is expected (an `issue:` URL may follow it); the loader
# refuses an empty reason. Delete the entries you would rather fix. Then run with it, with the options
# of the run that wrote the report:
#   wirecheck run ... --baseline {output}
# An entry whose check starts passing fails the run ("stale baseline entry: remove it").
"""


@dataclass(frozen=True, slots=True)
class Draft:
    """The entries drafted from ``report`` (case, provider, check triples, in report order) and the
    results left out, by why."""

    report: str
    entries: tuple[tuple[str, str, str], ...]
    left_out: dict[str, int] = field(default_factory=dict)

    def render(self, output: str) -> str:
        """The baseline file, every reason empty (``entries: []`` when nothing failed)."""
        lines = [
            HEADER.format(report=self.report, output=output).rstrip("\n"),
            f"description: {json.dumps(f'Known failures, drafted from {self.report}')}",
        ]
        if not self.entries:
            lines.append("entries: []  # the report has no failing check")
            return "\n".join(lines) + "\n"
        lines.append("entries:")
        for case, provider, check in self.entries:
            lines += [
                f"  - case: {json.dumps(case)}",
                f"    provider: {json.dumps(provider)}",
                f"    check: {json.dumps(check)}",
                '    reason: ""',
            ]
        return "\n".join(lines) + "\n"

    def notes(self) -> list[str]:
        """One line per kind of result left out."""
        why = {
            "expected-failure": "expected failures (the run's baseline lists them already)",
            "error": "harness errors (not a provider failure: fix the harness or the scenario)",
            "mock-infidelity": "mock infidelities (not a provider failure: the scripted upstream is wrong)",
            "no-check": "failing results without a failing check (a stale or unknown baseline entry)",
        }
        return [f"left out {n} {why[kind]}" for kind, n in self.left_out.items() if n]


def read(path: str | Path) -> Draft:
    """The draft of the report at ``path``; raises ``BaselineError`` (file, field, what was expected)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        got = f"<{exc.strerror}>" if isinstance(exc, OSError) else "<not UTF-8 text>"
        raise BaselineError(
            source, 0, "<file>", "a readable JSON report (wirecheck run --json)", got
        ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 0)
        problem = getattr(exc, "msg", str(exc))
        raise BaselineError(
            source, line, "<json>", "a JSON report (wirecheck run --json)", f"<{problem}>"
        ) from None
    problem = schema_problem("report", data)
    if problem is not None:
        pointer, expected, got = problem
        raise BaselineError(source, 0, dotted(pointer), expected, got)
    entries: list[tuple[str, str, str]] = []
    left_out = dict.fromkeys(("expected-failure", "error", "mock-infidelity", "no-check"), 0)
    for result in data["results"]:
        verdict = result["verdict"]
        if verdict in left_out:
            left_out[verdict] += 1
        if verdict != "fail":
            continue
        # A failure above the run's profile is a note (``counted: false``): nothing to excuse.
        failed = sorted(
            {c["id"] for c in result["checks"] if c["status"] == "fail" and c.get("counted", True)}
        )
        if not failed:
            left_out["no-check"] += 1
        entries += [(result["case"], result["provider"], check) for check in failed]
    return Draft(source, tuple(dict.fromkeys(entries)), left_out)
