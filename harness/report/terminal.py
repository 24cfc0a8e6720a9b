"""The terminal report: live progress on stderr, then the summary.

Progress is a bar redrawn in place when stderr is a TTY, one character per result otherwise (``.`` pass,
``F`` fail, ``x`` expected failure, ``s`` not applicable, ``E`` harness error, ``M`` mock infidelity).
The summary has the counts per verdict and per provider, every failure with its case id, spec clause and
readable diff (with ``verbose``, also what was compared, the differing places marked), the harness
errors and mock infidelities listed apart, the expected failures, the checks skipped with a reason (an
SDK oracle that cannot drive the installed SDK), and the slowest cases.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO

from harness.evidence import render as render_evidence
from harness.report import scrub
from harness.verdicts import ORDER, CaseResult, RunResult, Verdict

__all__ = ["Progress", "failure_text", "summary"]

_MARKS = {
    Verdict.PASS: ".",
    Verdict.FAIL: "F",
    Verdict.EXPECTED_FAILURE: "x",
    Verdict.NOT_APPLICABLE: "s",
    Verdict.ERROR: "E",
    Verdict.MOCK_INFIDELITY: "M",
}


class Progress:
    """Call with each ``CaseResult`` as it finishes; ``close()`` ends the line."""

    def __init__(self, total: int, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = 0
        self.counts: Counter[Verdict] = Counter()
        self.column = 0

    def __call__(self, result: CaseResult) -> None:
        self.done += 1
        self.counts[result.verdict] += 1
        if self.tty:
            width = 30
            filled = width * self.done // max(self.total, 1)
            bad = sum(n for v, n in self.counts.items() if v.fails_run)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                + (f"  {bad} failing" if bad else "")
            )
        else:
            self.stream.write(_MARKS[result.verdict])
            self.column += 1
            if self.column == 80:
                self.stream.write("\n")
                self.column = 0
        self.stream.flush()

    def close(self) -> None:
        if self.done:
            self.stream.write("\n")
            self.stream.flush()


def failure_text(r: CaseResult, *, verbose: bool = False) -> str:
    """The readable account of a non-passing result: where, which clause, which checks, the diffs; with
    ``verbose``, also what the checks compared (``harness.evidence``: the upstream requests the mock
    captured, the result, the stream items), the places the diffs name marked ``<-- differs``."""
    clause = r.clause or {}
    lines = [f"{r.name}  ({r.verdict})", f"  {r.title}" if r.title else ""]
    if clause:
        lines.append(
            f"  clause: {clause.get('spec')}: {clause.get('ref')}"
            + (f" <{clause['url']}>" if clause.get("url") else "")
        )
    if r.source:
        lines.append(f"  scenario: {r.source}  method: {r.method}  level: {r.level or '?'}")
    if r.message:
        lines.append(f"  {r.message}")
    for c in r.failed_checks:
        lines.append(f"  ✗ {c.id}: {c.message}  [{c.level}]")
        lines.extend(f"      {d}" for d in c.diff[1:12])
        if len(c.diff) > 12:
            lines.append(f"      ... {len(c.diff) - 12} more")
    for c in r.notes:
        lines.append(f"  note {c.id} [{c.level}, above the {r.profile} profile]: {c.message}")
    trace = r.details.get("traceback") if r.details else None
    if trace and r.verdict is Verdict.ERROR:
        lines.append("  " + trace.strip().splitlines()[-1])
    compared = r.details.get("compared") if r.details else None
    if verbose and compared:
        lines.append("  compared (the case's own call):")
        lines += render_evidence(compared, r.failed_checks)
    return "\n".join(line for line in lines if line)


_SKIPS_SHOWN = 12


def _cut(text: str, limit: int = 150) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _levels_line(run: RunResult) -> str:
    """Per requirement level: the results of its cases, and the failures above the profile (notes)."""
    profiles = sorted({r.profile for r in run.results if r.profile})
    parts = []
    for level, counts in run.level_counts().items():
        results = sum(counts[str(v)] for v in ORDER)
        parts.append(f"{level}: {results} results, {counts['notes']} notes")
    return f"  levels (profile {'/'.join(profiles) or '-'}): " + "; ".join(parts)


def summary(run: RunResult, *, slowest: int = 5, verbose: bool = False) -> str:
    counts = run.counts()
    out = [
        "",
        f"wirecheck: {run.case_count} cases, {len(run.results)} results "
        f"({', '.join(run.providers)}) in {run.duration:.2f}s",
        "  " + "   ".join(f"{v}: {counts.get(v, 0)}" for v in ORDER),
        _levels_line(run),
        "",
    ]
    # Per-provider table.
    header = f"  {'provider':<28}" + "".join(f"{v!s:>18}" for v in ORDER)
    out.append(header)
    for provider in run.providers:
        row = Counter(r.verdict for r in run.results if r.provider == provider)
        out.append(f"  {provider:<28}" + "".join(f"{row.get(v, 0):>18}" for v in ORDER))
    extra = sorted({r.provider for r in run.results} - set(run.providers))
    for provider in extra:
        row = Counter(r.verdict for r in run.results if r.provider == provider)
        out.append(f"  {provider:<28}" + "".join(f"{row.get(v, 0):>18}" for v in ORDER))
    sections = (
        (Verdict.FAIL, "FAILURES"),
        (Verdict.ERROR, "HARNESS ERRORS (the harness broke; not a provider verdict)"),
        (Verdict.MOCK_INFIDELITY, "MOCK INFIDELITY (the scripted upstream is wrong; not a provider verdict)"),
    )
    for verdict, title in sections:
        items = run.by_verdict(verdict)
        if items:
            out += ["", f"{title}: {len(items)}", ""]
            for r in items:
                out += [failure_text(r, verbose=verbose), ""]
    expected = run.by_verdict(Verdict.EXPECTED_FAILURE)
    if expected:
        out += ["", f"EXPECTED FAILURES (baseline): {len(expected)}"]
        out += [f"  x {r.name}: {_cut(r.message)}" for r in expected]
    skipped = Counter(
        (c.id, c.message) for r in run.results for c in r.checks if c.status == "skip" and c.message
    )
    if skipped:
        out += ["", f"CHECKS SKIPPED WITH A REASON (not judged; never a pass): {len(skipped)}"]
        for (check_id, message), n in sorted(skipped.items())[:_SKIPS_SHOWN]:
            out.append(f"  - {check_id} in {n} result{'s' if n > 1 else ''}: {_cut(message, 200)}")
        if len(skipped) > _SKIPS_SHOWN:
            out.append(f"  ... {len(skipped) - _SKIPS_SHOWN} more (see the JSON report)")
    if verbose:
        na = run.by_verdict(Verdict.NOT_APPLICABLE)
        if na:
            out += ["", f"NOT APPLICABLE: {len(na)}"] + [f"  s {r.name}: {r.message}" for r in na]
    if slowest and run.results:
        out += ["", "slowest:"]
        for r in sorted(run.results, key=lambda r: r.duration, reverse=True)[:slowest]:
            out.append(f"  {r.duration * 1000:8.1f} ms  {r.name}")
    out += ["", "OK" if run.ok else "FAILED (exit 1): fail / error / mock-infidelity verdicts above", ""]
    return scrub("\n".join(out), run.secrets)
