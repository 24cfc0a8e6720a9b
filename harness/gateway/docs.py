"""The deviations page of a gateway run (``--gateway-doc FILE``, ``docs/gateways/<name>.md``): what the
gateway did differently from the specs, case by case with the spec clause, then the generated matrix.

Rows come from the run's verdicts: every expected failure (its baseline entry says what the gateway did)
and every failure nobody listed yet (its first failing check says it), grouped by case and reason across
the upstream dialects they happened on. A run with wire variants (``--variants``) adds a column naming the
variants each deviation appeared under. Then the SDK oracles: per official SDK (Python and JS,
``matrix.SDK_ORACLES``) and upstream, how many streams each judged, passed and failed, and why it skipped
(the JS oracles say so once when they are not installed). Generated, scrubbed of the run's secrets: do not
edit by hand.

A clause that cites a document of the repository (``docs/contract.md#errors``, a path from the repository
root) is linked relative to the page, so the link works where the page is read.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.baseline import Baseline
from harness.gateway.adapter import Adapter
from harness.report import matrix, scrub
from harness.verdicts import CaseResult, RunResult, Verdict

__all__ = ["render", "sdk_table", "write"]

#: The repository's root, for pages written inside it.
REPO = Path(__file__).resolve().parents[2]
#: The folder of a gateway page, from the repository root, when ``render`` is not told (docs/gateways/).
PAGE_DIR = "docs/gateways"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _link(url: str, page_dir: str) -> str:
    """``url`` as a link from a page in ``page_dir``: a web address unchanged, a repository document (a path
    from the repository root, maybe with an anchor) relative to the page's folder."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", url):
        return url
    path, hash_, anchor = url.partition("#")
    return posixpath.relpath(path, page_dir) + hash_ + anchor


def _clause(clause: dict[str, Any], page_dir: str = PAGE_DIR) -> str:
    if not clause:
        return ""
    ref = f"{clause.get('spec')}: {clause.get('ref')}"
    return f"[{_cell(ref)}]({_link(clause['url'], page_dir)})" if clause.get("url") else _cell(ref)


def deviation_text(r: CaseResult, entry: Mapping[str, Any] | None = None) -> str:
    """What the gateway did: the reason of the baseline ``entry`` that excuses ``r`` (default: the one the
    result names), or its first failing check when nothing excuses it."""
    entry = entry if entry is not None else r.baseline
    if r.verdict is Verdict.EXPECTED_FAILURE and entry:
        return entry.get("reason", "")
    failed = r.failed_checks
    return f"(not in the baseline) {failed[0].id}: {failed[0].message}" if failed else r.message


def _excusing(r: CaseResult, baseline: Baseline | None) -> list[Mapping[str, Any]]:
    """Every baseline entry that excuses one of ``r``'s failing checks (an expected failure can have several,
    each its own deviation), else the entry the result names."""
    named = [r.baseline] if r.baseline else [{}]
    if baseline is None or r.verdict is not Verdict.EXPECTED_FAILURE:
        return named
    failed = {c.id for c in r.failed_checks}
    found = [e.to_json() for e in baseline.entries if e.covers(r) and (e.check is None or e.check in failed)]
    return found or named


def _upstream(r: CaseResult) -> str:
    return r.provider.split("/", 1)[-1]


def _variants(rs: list[CaseResult], run_variants: list[str]) -> str:
    """The variants a deviation appeared under: ``all`` when every variant of the run showed it."""
    seen = [v for v in run_variants if any(r.variant == v for r in rs)]
    return "all" if seen == run_variants else ", ".join(seen)


def sdk_table(run: RunResult) -> list[str]:
    """Per official SDK oracle and upstream: ``pass / fail / skip`` counts of its check, then the reasons it
    skipped (a skip without a reason is a stream the oracle does not apply to, and is not counted)."""
    upstreams = list(dict.fromkeys(_upstream(r) for r in run.results))
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"pass": 0, "fail": 0, "skip": 0})
    why: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in run.results:
        for c in r.checks:
            if c.id not in matrix.SDK_ORACLES.values() or (c.status == "skip" and not c.message):
                continue
            status = c.status if c.status in ("pass", "fail", "skip") else "fail"
            counts[(c.id, _upstream(r))][status] += 1
            if status == "skip":
                why[c.id][c.message] += 1
    lines = [
        "## SDK oracles",
        "",
        "The official SDKs' stream helpers as oracles, per upstream: `pass / fail / skip` (fails include the "
        "expected ones; a skip is an oracle that applied but could not judge, with its reason).",
        "",
        "| SDK | " + " | ".join(upstreams) + " | Skipped because |",
        "|" + "---|" * (len(upstreams) + 2),
    ]
    for label, check_id in matrix.SDK_ORACLES.items():
        cells = []
        for u in upstreams:
            found = counts.get((check_id, u))
            cells.append(f"{found['pass']} / {found['fail']} / {found['skip']}" if found else "")
        reasons = "; ".join(
            f"{_cell(m)} ({n})" for m, n in sorted(why[check_id].items(), key=lambda kv: -kv[1])
        )
        lines.append(f"| {label} (`{check_id}`) | " + " | ".join(cells) + f" | {reasons} |")
    return [*lines, ""]


def render(
    run: RunResult, adapter: Adapter, baseline: Baseline | None = None, page_dir: str = PAGE_DIR
) -> str:
    """The page's Markdown; ``page_dir`` is its folder from the repository root (for relative links)."""
    counts = run.counts()
    version = f" {adapter.version}" if adapter.version else ""
    lines = [
        f"# {adapter.name}{version}: conformance deviations",
        "",
        f"Generated by `wirecheck run --gateway {adapter.source} --gateway-doc ...` "
        f"(`nox -s gateway -- {adapter.source}`); "
        "do not edit by hand.",
        "",
        f"{adapter.description or adapter.name}. The suite ran once per upstream dialect the gateway routes to "
        f"({', '.join(adapter.dialects)}), through its {', '.join(adapter.front_doors)} front doors, against "
        "wirecheck's mock upstreams on 127.0.0.1 (harness/gateway/run.py). "
        f"{run.case_count} cases, {len(run.results)} results in {run.duration:.0f} s: "
        + ", ".join(f"{v} {counts.get(v, 0)}" for v in Verdict)
        + ".",
        "",
    ]
    if baseline is not None:
        lines += [f"Baseline: `{baseline.source}` ({len(baseline.entries)} entries).", ""]

    deviating = [
        r
        for r in run.results
        if r.verdict in (Verdict.EXPECTED_FAILURE, Verdict.FAIL) and r.family != "baseline"
    ]
    groups: dict[tuple[str, str], list[CaseResult]] = defaultdict(list)
    excused: dict[tuple[str, str], set[str]] = defaultdict(set)  # the checks each row's entries name
    for r in deviating:
        for entry in _excusing(r, baseline):
            # A deviation a pattern entry excuses across the suite is one row, not one per case.
            pattern = entry.get("case", "")
            key = pattern if r.verdict is Verdict.EXPECTED_FAILURE and "*" in pattern else r.case_id
            row = (key, deviation_text(r, entry))
            if r not in groups[row]:
                groups[row].append(r)
            if r.verdict is Verdict.EXPECTED_FAILURE and entry.get("check"):
                excused[row].add(entry["check"])
    run_variants = list(dict.fromkeys(r.variant for r in run.results))
    with_variants = run_variants != ["plain"]
    lines += [
        "## Deviations",
        "",
        f"{len(groups)} deviations ({len(deviating)} results). Each is a case id, the upstream dialects it was seen "
        "with, "
        + (f"the wire variants it appeared under (of {', '.join(run_variants)}), " if with_variants else "")
        + "what the gateway did, the spec clause it breaks and the checks that caught it.",
        "",
        "| Case | Upstreams | "
        + ("Variants | " if with_variants else "")
        + "What the gateway did | Spec clause | Checks |",
        "|---|---|" + ("---|" if with_variants else "") + "---|---|---|",
    ]
    for (case_id, what), rs in sorted(groups.items()):
        upstreams = ", ".join(sorted({_upstream(r) for r in rs}))
        variants = f" {_variants(rs, run_variants)} |" if with_variants else ""
        if "*" in case_id:
            check = ", ".join(
                sorted(excused.get((case_id, what)) or {(rs[0].baseline or {}).get("check", "")})
            )
            cases = len({r.case_id for r in rs})
            lines.append(
                f"| `{case_id}` ({cases} cases) | {upstreams} |{variants} {_cell(what)} "
                f"| (in the reason) | `{check}` |"
            )
            continue
        checks = sorted(excused.get((case_id, what)) or {c.id for r in rs for c in r.failed_checks})
        lines.append(
            f"| `{case_id}` | {upstreams} |{variants} {_cell(what)} | "
            f"{_clause(rs[0].clause, page_dir)} | {', '.join(f'`{c}`' for c in checks)} |"
        )
    lines.append("")
    lines += sdk_table(run)

    declared = [r for r in run.results if r.verdict is Verdict.NOT_APPLICABLE]
    reasons: dict[str, set[str]] = defaultdict(set)
    for r in declared:
        reasons[r.message].add(r.case_id)
    if reasons:
        lines += [
            "## Not applicable",
            "",
            "| Reason | Cases |",
            "|---|---|",
        ]
        for reason, ids in sorted(reasons.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            shown = ", ".join(f"`{i}`" for i in sorted(ids)[:12]) + (
                f" and {len(ids) - 12} more" if len(ids) > 12 else ""
            )
            lines.append(f"| {_cell(reason)} | {shown} |")
        lines.append("")

    waived: dict[str, set[str]] = defaultdict(set)
    for r in run.results:
        for c in r.checks:
            if c.status == "skip" and c.message.startswith("not applicable to"):
                reason = c.message.split(": ", 1)[-1]
                waived[reason].add(f"`{r.case_id}` ({c.id})")
    if waived:
        lines += [
            "## Waived checks",
            "",
            "Checks whose expectation pins a choice the specs leave open (the adapter's `not_applicable` with "
            "`checks`); the cases' other checks ran.",
            "",
            "| Reason | Case (check) |",
            "|---|---|",
        ]
        for reason, items in sorted(waived.items()):
            lines.append(f"| {_cell(reason)} | {', '.join(sorted(items))} |")
        lines.append("")

    transparency = [r for r in run.results if r.family == "gateway.transparency"]
    if transparency:
        lines += [
            "## Streaming transparency",
            "",
            "| Front door probe | Upstream | Verdict | Figures |",
            "|---|---|---|---|",
        ]
        for r in transparency:
            check = next((c for c in r.checks if c.id == "timing.transparency"), None)
            lines.append(
                f"| `{r.case_id}` | {_upstream(r)} | {r.verdict} | {_cell(check.message if check else '')} |"
            )
        lines.append("")

    table = matrix.render(run).splitlines()
    lines += ["## Matrix", ""] + [("#" + line if line.startswith("#") else line) for line in table[1:]]
    return scrub("\n".join(lines).rstrip() + "\n", run.secrets)


def write(run: RunResult, adapter: Adapter, baseline: Baseline | None, path: str | Path) -> None:
    """Write the page to ``path``; its links to repository documents are relative to ``path`` when it lies in
    the repository, else as from docs/gateways/."""
    folder = Path(path).resolve().parent
    page_dir = folder.relative_to(REPO).as_posix() if folder.is_relative_to(REPO) else PAGE_DIR
    Path(path).write_text(render(run, adapter, baseline, page_dir), encoding="utf-8")
