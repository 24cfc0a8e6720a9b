"""``--matrix FILE``: a markdown provider × feature matrix generated from the run (the cross-implementation
report people look at).

Three tables: features = case families, then the 22 contract methods, then the SDK oracles; a run with
wire variants (``--variants``) adds one row per variant and lists its failures by name
(``case[provider]{variant}``). A cell of the first two is ``✅ p/n`` when all ``n``
applicable results passed, ``⚠️ p/n`` when the rest are expected failures (baseline), ``❌ p/n`` when any
failed (fail, error or mock-infidelity), ``n/a`` when the provider does not offer it, blank when no
case covers it. The SDK oracle table has one row per official SDK (Python and JS, ``SDK_ORACLES``) and in
each provider's cell the counts of that oracle's check results, ``pass / fail / skip``: a fail counts
even when the baseline expects it, and a skip counts only when it has a reason (the oracle applied but
could not judge: an SDK it cannot drive, the JS install missing); a stream the oracle does not apply
to is not counted.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from harness.report import scrub
from harness.verdicts import CaseResult, RunResult, Verdict
from providers.base import METHODS

__all__ = ["SDK_ORACLES", "render", "write"]

#: The SDK oracle checks, by the SDK they consult (row label → check id).
SDK_ORACLES: dict[str, str] = {
    "python openai": "sdk.openai",
    "python anthropic": "sdk.anthropic",
    "python google-genai": "sdk.gemini",
    "js openai": "sdk.js.openai",
    "js @anthropic-ai/sdk": "sdk.js.anthropic",
    "js @google/genai": "sdk.js.gemini",
}


def _cell(results: list[CaseResult]) -> str:
    if not results:
        return ""
    judged = [r for r in results if r.verdict is not Verdict.NOT_APPLICABLE]
    if not judged:
        return "n/a"
    passed = sum(r.verdict is Verdict.PASS for r in judged)
    if any(r.verdict.fails_run for r in judged):
        mark = "❌"
    elif passed < len(judged):
        mark = "⚠️"
    else:
        mark = "✅"
    return f"{mark} {passed}/{len(judged)}"


def _table(title: str, rows: list[str], run: RunResult, key) -> list[str]:
    cells: dict[tuple[str, str], list[CaseResult]] = defaultdict(list)
    for r in run.results:
        cells[(key(r), r.provider)].append(r)
    out = [
        f"## {title}",
        "",
        "| " + " | ".join([title.split(" ")[-1].rstrip("s").capitalize(), *run.providers]) + " |",
    ]
    out.append("|" + "---|" * (len(run.providers) + 1))
    for row in rows:
        out.append("| " + " | ".join([f"`{row}`", *(_cell(cells[(row, p)]) for p in run.providers)]) + " |")
    return [*out, ""]


def _sdk_table(run: RunResult) -> list[str]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"pass": 0, "fail": 0, "skip": 0})
    for r in run.results:
        for c in r.checks:
            if c.id in SDK_ORACLES.values() and (c.status != "skip" or c.message):
                counts[(c.id, r.provider)][c.status] += 1
    out = [
        "## SDK oracles",
        "",
        "pass / fail / skip per provider (skips with a reason; fails include expected ones).",
        "",
        "| SDK | " + " | ".join(run.providers) + " |",
        "|" + "---|" * (len(run.providers) + 1),
    ]
    for label, check_id in SDK_ORACLES.items():
        cells = []
        for p in run.providers:
            found = counts.get((check_id, p))
            cells.append(f"{found['pass']} / {found['fail']} / {found['skip']}" if found else "")
        out.append(f"| {label} (`{check_id}`) | " + " | ".join(cells) + " |")
    return [*out, ""]


def render(run: RunResult) -> str:
    counts = run.counts()
    families = sorted({r.family for r in run.results if r.family})
    methods = [m for m in METHODS if any(r.method == m for r in run.results)]
    untested = [m for m in METHODS if m not in methods]
    lines = [
        "# wirecheck conformance matrix",
        "",
        f"{len(run.results)} results, {run.case_count} cases, providers: {', '.join(run.providers)}. "
        + ", ".join(f"{v}: {counts.get(v, 0)}" for v in Verdict),
        "",
        "Cells: ✅ all passed · ⚠️ the rest are expected failures (baseline) · ❌ failures · n/a not offered.",
        "",
        "| Level | Results | Passed | Failed | Notes (failures above the profile) |",
        "|---|---|---|---|---|",
        *(
            f"| {level} | {sum(c[str(v)] for v in Verdict)} | {c['pass']} | {c['fail']} | {c['notes']} |"
            for level, c in run.level_counts().items()
        ),
        "",
    ]
    lines += _table("Features by family", families, run, lambda r: r.family)
    lines += _table("Features by method", methods, run, lambda r: r.method)
    variants = list(dict.fromkeys(r.variant for r in run.results))
    if variants != ["plain"]:
        lines += _table("Results by wire variant", variants, run, lambda r: r.variant)
        failing = [r.name for r in run.results if r.verdict.fails_run]
        if failing:
            lines += ["Failing (case[provider]{variant}): " + ", ".join(f"`{n}`" for n in failing), ""]
    if untested:
        lines += ["Methods no case of this run covers: " + ", ".join(f"`{m}`" for m in untested), ""]
    lines += _sdk_table(run)
    return scrub("\n".join(lines), run.secrets)


def write(run: RunResult, path: str | Path) -> None:
    Path(path).write_text(render(run), encoding="utf-8")
