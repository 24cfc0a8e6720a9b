"""Verdicts: what one check says, what one (case, provider) comes to, and what a run comes to.

The rules (docs/design.md#verdicts: "never a false green"):

- a check says ``pass``, ``fail`` or ``skip`` (it did not apply: no expectation for it, or a fact it
  needs is missing); a skip is never a pass;
- a (case, provider) is **pass** only when every check that applied passed and at least one applied;
- **fail**: a check of the provider failed;
- **expected-failure**: it failed and a baseline entry (or the case's ``xfail``) says it would; a listed
  case that passes is turned into a **fail** ("stale baseline entry: remove it");
- **not-applicable**: the provider does not offer the method (it inherits the contract's
  not-implemented default), or its upstream dialect is not one the case scripts;
- **error**: the harness itself broke (a scenario it cannot build, an exception in a check); reported
  apart, fails the run, never counted against the provider;
- **mock-infidelity**: a frame the scripted upstream sent breaks the upstream's wire schema; reported
  apart, fails the run, never a provider pass or fail (our script is wrong, so nothing can be judged).

The exit status is 0 only when no verdict is fail, error or mock-infidelity.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CaseResult", "CheckResult", "RunResult", "Verdict"]


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    EXPECTED_FAILURE = "expected-failure"
    NOT_APPLICABLE = "not-applicable"
    ERROR = "error"
    MOCK_INFIDELITY = "mock-infidelity"

    @property
    def fails_run(self) -> bool:
        return self in (Verdict.FAIL, Verdict.ERROR, Verdict.MOCK_INFIDELITY)


#: Report order.
ORDER: tuple[Verdict, ...] = (
    Verdict.PASS,
    Verdict.FAIL,
    Verdict.EXPECTED_FAILURE,
    Verdict.NOT_APPLICABLE,
    Verdict.ERROR,
    Verdict.MOCK_INFIDELITY,
)


@dataclass(slots=True)
class CheckResult:
    """One named check on one (case, provider): ``status`` is pass / fail / skip; ``message`` is one
    line; ``diff`` holds the readable details (expected vs got, one difference a line). ``level`` says
    what requires the check (``harness.levels``); ``counted`` is false when that level is above the run's
    profile: the result is then a note, reported but never a failure nor what makes a case pass."""

    id: str
    family: str
    status: str
    message: str = ""
    diff: list[str] = field(default_factory=list)
    level: str = "spec"
    counted: bool = True

    @property
    def failed(self) -> bool:
        """A failure that counts under the run's profile."""
        return self.status == "fail" and self.counted

    @property
    def noted(self) -> bool:
        """A failure above the run's profile: reported as a note, not a failure."""
        return self.status == "fail" and not self.counted

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "family": self.family,
            "status": self.status,
            "level": self.level,
        }
        if not self.counted:
            out["counted"] = False
        if self.message:
            out["message"] = self.message
        if self.diff:
            out["diff"] = self.diff
        return out


@dataclass(slots=True)
class CaseResult:
    """The verdict of one case for one provider, with the checks behind it."""

    case_id: str
    provider: str
    verdict: Verdict
    method: str = ""
    family: str = ""
    title: str = ""
    clause: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    message: str = ""
    duration: float = 0.0
    first_item: float | None = None
    baseline: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    level: str = ""  # the case's own requirement level (harness.levels)
    profile: str = ""  # the widest level that could fail this result
    variant: str = "plain"  # the wire variant the mock sent (mocks.variants)

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if c.failed]

    @property
    def notes(self) -> list[CheckResult]:
        """Failed checks above the profile: reported, not failures."""
        return [c for c in self.checks if c.noted]

    @property
    def name(self) -> str:
        """``case[provider]``, then ``{variant}`` unless the mock sent its plain bytes."""
        tail = "" if self.variant == "plain" else f"{{{self.variant}}}"
        return f"{self.case_id}[{self.provider}]{tail}"

    def summary(self) -> str:
        """One line: why this verdict."""
        if self.message:
            return self.message
        failed = self.failed_checks
        if failed:
            return "; ".join(f"{c.id}: {c.message}" for c in failed)
        return ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "case": self.case_id,
            "provider": self.provider,
            "variant": self.variant,
            "verdict": str(self.verdict),
            "method": self.method,
            "family": self.family,
            "title": self.title,
            "clause": self.clause,
            "level": self.level,
            "profile": self.profile,
            "source": self.source,
            "duration_ms": round(self.duration * 1000, 3),
            "checks": [c.to_json() for c in self.checks],
        }
        if self.first_item is not None:
            out["first_item_ms"] = round(self.first_item * 1000, 3)
        if self.message:
            out["message"] = self.message
        if self.baseline is not None:
            out["baseline"] = self.baseline
        if self.details:
            out["details"] = self.details
        return out


@dataclass(slots=True)
class RunResult:
    """Every verdict of a run, in (case, provider) order."""

    results: list[CaseResult]
    providers: list[str]
    duration: float = 0.0
    case_count: int = 0
    #: Values that must never appear in a report (the run's API key); reports scrub them.
    secrets: list[str] = field(default_factory=list, repr=False)

    def counts(self) -> Counter[Verdict]:
        return Counter(r.verdict for r in self.results)

    def by_verdict(self, verdict: Verdict) -> list[CaseResult]:
        return [r for r in self.results if r.verdict is verdict]

    @property
    def ok(self) -> bool:
        return not any(r.verdict.fails_run for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def get(self, case_id: str, provider: str, variant: str | None = None) -> CaseResult | None:
        """The result of (case, provider) under ``variant`` (``None``: the first, whatever its variant)."""
        return next(
            (
                r
                for r in self.results
                if r.case_id == case_id and r.provider == provider and variant in (None, r.variant)
            ),
            None,
        )

    def level_counts(self) -> dict[str, dict[str, int]]:
        """Per requirement level: the results of cases at that level by verdict, and the check failures
        at that level counted as failures and as notes (above the profile)."""
        out: dict[str, dict[str, int]] = {}
        for level in ("spec", "contract", "reference"):
            verdicts = Counter(str(r.verdict) for r in self.results if r.level == level)
            checks = [c for r in self.results for c in r.checks if c.level == level and c.status == "fail"]
            out[level] = {
                **{str(v): verdicts.get(str(v), 0) for v in ORDER},
                "failed checks": sum(1 for c in checks if c.counted),
                "notes": sum(1 for c in checks if not c.counted),
            }
        return out

    def to_json(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "ok": self.ok,
            "duration_ms": round(self.duration * 1000, 3),
            "providers": self.providers,
            "cases": self.case_count,
            "counts": {str(v): counts.get(v, 0) for v in ORDER},
            "levels": self.level_counts(),
            "results": [r.to_json() for r in self.results],
        }
