"""benchmarks/suite.py's comparison of two ``wirecheck run --json`` reports: what a speed change must leave
equal. No timing is asserted here."""

from __future__ import annotations

import copy
from typing import Any

from benchmarks.suite import same_results


def report() -> dict[str, Any]:
    def result(case: str, ms: float, port: int, root: str) -> dict[str, Any]:
        return {
            "case": case,
            "provider": "openai",
            "variant": "plain",
            "verdict": "pass",
            "source": f"{root}/scenarios/x.yaml:3",
            "duration_ms": ms,
            "first_item_ms": ms / 2,
            "checks": [{"id": "sdk.openai", "status": "pass"}],
            "details": {"host": f"127.0.0.1:{port}"},
        }

    return {
        "ok": True,
        "counts": {"pass": 2},
        "results": [result("a.001", 12.5, 40000, "/work/main"), result("b.001", 3.0, 40000, "/work/main")],
    }


def test_two_runs_that_differ_only_in_timings_port_and_checkout_are_the_same() -> None:
    before, after = report(), report()
    for r in after["results"]:
        r["duration_ms"] *= 3
        r["first_item_ms"] += 1
        r["details"]["host"] = "127.0.0.1:51234"
        r["source"] = r["source"].replace("/work/main", "/home/me/wirecheck")
    assert same_results(before, after) == []


def test_a_changed_verdict_check_or_missing_result_is_reported() -> None:
    before = report()
    after = copy.deepcopy(before)
    after["results"][0]["verdict"] = "fail"
    after["ok"] = False
    after["results"][1]["checks"][0]["status"] = "skip"
    assert same_results(before, after) == [
        "ok: True before, False after",
        "a.001[openai]{plain}: verdict differ",
        "b.001[openai]{plain}: checks differ",
    ]
    del after["results"][1]
    assert same_results(before, after)[-1] == "b.001[openai]{plain}: only before"
