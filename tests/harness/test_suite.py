"""The shipped suite itself: what `wirecheck run` does on a fresh checkout must pass, and the suite must
cover what the scenario issue asks for (at least 150 cases, all 22 methods, every check family)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.baseline import Baseline
from harness.runner import run
from harness.scenario import load_paths
from harness.verdicts import RunResult, Verdict
from providers.base import METHODS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def suite() -> RunResult:
    cases = load_paths([ROOT / "scenarios"])
    return run(cases, baseline=Baseline.load(ROOT / "baselines" / "reference.yaml"))


def test_every_shipped_case_passes_or_is_in_the_baseline_for_every_reference_provider(
    suite: RunResult,
) -> None:
    bad = [f"{r.name}: {r.verdict}: {r.summary()}" for r in suite.results if r.verdict.fails_run]
    assert bad == []
    assert suite.exit_code == 0
    providers = {r.provider for r in suite.results}
    assert providers == {"openai", "anthropic", "google", "azure"}


def test_the_suite_is_large_and_covers_all_22_methods(suite: RunResult) -> None:
    cases = load_paths([ROOT / "scenarios"])
    assert len(cases) >= 150
    assert len({c.id for c in cases}) == len(cases)
    assert {c.method for c in cases} == set(METHODS)
    passed = [r for r in suite.results if r.verdict is Verdict.PASS]
    assert len(passed) >= 400  # most cases run against several providers
