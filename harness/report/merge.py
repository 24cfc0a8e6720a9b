"""``wirecheck report merge SHARD.json...``: the JSON reports of a run split with ``--shard K/N`` joined
into the report of the whole run, as if it had run on one machine.

A shard's report (``wirecheck run --shard K/N --json FILE``) carries a ``shard`` block (``record``): which
shard it is, the cases the run selected before the split (in order), its providers, profile, wire variants
and baseline, and what the baseline's pattern entries saw in it. ``merge`` refuses, with a ``MergeError``
whose message names the file, reports that do not make one run: one that is not a shard's report, shards of
another split or selection, other providers / profile / variants / baseline, the same shard twice, a case
with results in two shards or in a shard that does not own it, or a missing shard.

The merged run keeps the verdict rules of an unsharded one (``harness.verdicts``): every result keeps its
verdict (a not-applicable result is no pass, an expected failure that passed is the fail its shard made
it), baseline entries naming unknown cases fail once (each shard reports them; the merge keeps the copy of
the shard that owns that id, as it keeps the gateway's transparency probes, which every shard runs), and a
baseline pattern entry that excused no failure in any shard, though it matched results, is stale and fails
the merged run, as it fails a whole-suite run (a single shard cannot judge that: it sees only its part).
Results come in the unsharded run's order (selected case, provider, variant; baseline entries last); the
merged duration is the longest shard's (the wall time of shards run side by side).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.baseline import Baseline
from harness.scenario import Case, dotted, schema_problem
from harness.selection import Shard, shard_of
from harness.verdicts import CaseResult, CheckResult, RunResult, Verdict

__all__ = ["MergeError", "Merged", "merge", "record", "result_from_json"]

#: The keys of a shard block that must be equal in every shard of one run, with what each means.
_SAME = {
    "count": "shard count",
    "selected": "case selection (--scenarios / -k)",
    "whole_suite": "case selection (--scenarios / -k)",
    "providers": "providers",
    "profile": "profile",
    "variants": "wire variants",
    "baseline": "baseline",
}


class MergeError(Exception):
    """Reports that cannot be merged; the message is one line naming the file and why."""


def record(
    shard: Shard,
    selected: Sequence[Case],
    every: Sequence[Case],
    run: RunResult,
    *,
    variants: Sequence[str],
    profile: str | None,
    baseline: Baseline | None,
) -> dict[str, Any]:
    """The ``shard`` block of shard ``shard``'s JSON report: ``selected`` are the cases the run selected
    before the split, ``every`` the whole suite, ``run`` this shard's result (its baseline applied),
    ``profile`` as given on the command line (``None``: the default), ``baseline`` the one applied."""
    return {
        "index": shard.index,
        "count": shard.count,
        "selected": [c.id for c in selected],
        "whole_suite": {c.id for c in every} <= {c.id for c in selected},
        "providers": list(run.providers),
        "profile": profile,
        "variants": list(variants),
        "baseline": baseline.source if baseline is not None else None,
        "patterns": _patterns(run, baseline),
    }


def _patterns(run: RunResult, baseline: Baseline | None) -> list[dict[str, Any]]:
    """Per pattern entry of the run's providers: whether it matched results of this shard, whether it
    excused a failure here, and the failure a whole-suite run reports when it is stale (from
    ``Baseline.apply`` itself, so the merged report says exactly what an unsharded run says)."""
    if baseline is None:
        return []
    results = [r for r in run.results if r.family != "baseline"]
    out = []
    for entry in baseline.entries:
        if not entry.pattern or entry.provider not in run.providers:
            continue
        covered = [r for r in results if entry.covers(r)]
        used = any(
            r.verdict is Verdict.EXPECTED_FAILURE and entry.check in {c.id for c in r.failed_checks}
            for r in covered
        )
        item: dict[str, Any] = {"entry": entry.to_json(), "matched": bool(covered), "used": used}
        if covered:
            probe = replace(covered[0], verdict=Verdict.PASS)
            alone = Baseline((entry,), baseline.source)
            judged = alone.apply([probe], {probe.case_id}, [entry.provider], whole_suite=True)
            item["stale"] = judged[-1].to_json()
        out.append(item)
    return out


def result_from_json(data: dict[str, Any]) -> CaseResult:
    """A result of a JSON report (``CaseResult.to_json``) as the typed result again."""
    return CaseResult(
        case_id=data["case"],
        provider=data["provider"],
        verdict=Verdict(data["verdict"]),
        method=data.get("method", ""),
        family=data.get("family", ""),
        title=data.get("title", ""),
        clause=data.get("clause") or {},
        source=data.get("source", ""),
        checks=[
            CheckResult(
                id=c["id"],
                family=c.get("family", ""),
                status=c["status"],
                message=c.get("message", ""),
                diff=list(c.get("diff", [])),
                level=c.get("level", "spec"),
                counted=c.get("counted", True),
            )
            for c in data["checks"]
        ],
        message=data.get("message", ""),
        duration=data.get("duration_ms", 0.0) / 1000,
        first_item=data["first_item_ms"] / 1000 if "first_item_ms" in data else None,
        baseline=data.get("baseline"),
        details=data.get("details") or {},
        level=data.get("level", ""),
        profile=data.get("profile", ""),
        variant=data.get("variant", "plain"),
    )


@dataclass(frozen=True, slots=True)
class Merged:
    """The merged run and the shard count it came from."""

    run: RunResult
    shards: int
    sources: tuple[str, ...]


def _read(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MergeError(f"{path}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise MergeError(f"{path}: not UTF-8 text (expected a JSON report of wirecheck run)") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        where = f"line {getattr(exc, 'lineno', 0)}: {getattr(exc, 'msg', exc)}"
        raise MergeError(f"{path}: not JSON ({where})") from None
    problem = schema_problem("report", data)
    if problem is not None:
        pointer, expected, got = problem
        raise MergeError(
            f"{path}: not a wirecheck JSON report: {dotted(pointer)}: expected {expected}, got {got!r}"
        )
    block = data.get("shard")
    if block is None:
        raise MergeError(
            f"{path}: not a shard's report (write them with wirecheck run --shard K/N --json FILE)"
        )
    try:
        shard = Shard(int(block["index"]), int(block["count"]))
        if not 1 <= shard.index <= shard.count:
            raise ValueError
        absent = [key for key in _SAME if key not in block]
        if (
            absent
            or not isinstance(block["selected"], list)
            or not all(isinstance(c, str) for c in block["selected"])
        ):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise MergeError(f"{path}: its shard block is malformed (written by another wirecheck?)") from None
    return data


def merge(paths: Sequence[str]) -> Merged:
    """The run the shards' reports at ``paths`` make together; ``MergeError`` when they do not make one."""
    if not paths:
        raise MergeError("no reports given: pass every shard's JSON report")
    twice = next((path for i, path in enumerate(paths) if path in paths[:i]), None)
    if twice is not None:
        raise MergeError(f"{twice}: given twice")
    reports = {path: _read(path) for path in paths}
    first, head = paths[0], reports[paths[0]]["shard"]
    by_index: dict[int, str] = {}
    for path, data in reports.items():
        block = data["shard"]
        for key, meaning in _SAME.items():
            if block[key] != head[key]:
                raise MergeError(
                    f"{path}: from another run than {first}: different {meaning} "
                    f"({_show(block[key])} vs {_show(head[key])})"
                )
        index = block["index"]
        if index in by_index:
            raise MergeError(f"{path}: shard {index}/{block['count']} again (also {by_index[index]})")
        by_index[index] = path
    count = head["count"]
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in by_index]
    if missing:
        raise MergeError(f"shard {', '.join(missing)} missing: pass the reports of all {count} shards")

    selected = head["selected"]
    order = {case: i for i, case in enumerate(selected)}
    holder: dict[str, str] = {}  # selected case -> the file with its results
    results: list[CaseResult] = []
    extras = 0
    for path, data in reports.items():
        index = data["shard"]["index"]
        for item in data["results"]:
            case = item["case"]
            owner = shard_of(case, count)
            if case in order:
                if holder.setdefault(case, path) != path:
                    raise MergeError(f"{path}: case {case} has results in two shards ({holder[case]} too)")
                if owner != index:
                    raise MergeError(
                        f"{path}: case {case} belongs to shard {owner}/{count}, not {index}/{count}: "
                        "reports of another split"
                    )
            elif owner != index:
                continue  # a run-level result every shard reports: kept from the shard owning its id
            results.append(result_from_json(item))
        own = sum(1 for case in selected if shard_of(case, count) == index)
        extras = max(extras, data.get("cases", own) - own)

    results += _stale_patterns(reports.values(), head["whole_suite"])
    providers = list(head["providers"])
    variants = list(head["variants"])

    def position(r: CaseResult) -> tuple[int, int, int, int]:
        return (
            1 if r.family == "baseline" else 0,
            order.get(r.case_id, len(order)),
            providers.index(r.provider) if r.provider in providers else len(providers),
            variants.index(r.variant) if r.variant in variants else len(variants),
        )

    results.sort(key=position)
    duration = max(data.get("duration_ms", 0.0) for data in reports.values()) / 1000
    run = RunResult(results, providers, duration=duration, case_count=len(selected) + extras)
    return Merged(run, count, tuple(paths))


def _stale_patterns(reports: Iterable[dict[str, Any]], whole_suite: bool) -> list[CaseResult]:
    """The failures of pattern entries that matched results in some shard and excused a failure in none
    (judged, as by an unsharded run, only when the selection was the whole suite)."""
    if not whole_suite:
        return []
    seen: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for data in reports:
        for item in data["shard"].get("patterns", []):
            key = json.dumps(item["entry"], sort_keys=True)
            if item.get("used"):
                used.add(key)
            if item.get("matched") and "stale" in item:
                seen.setdefault(key, item["stale"])
    return [result_from_json(stale) for key, stale in seen.items() if key not in used]


def _show(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
