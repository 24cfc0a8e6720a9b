"""The expected-failure baseline: known failures, listed with a reason (and an issue link), that do not
fail the run while they keep failing (as the Connect conformance suite's ``--known-failing`` and MCP's
conformance baseline do; "never a false green", docs/design.md#verdicts).

File format (``baselines/*.yaml``, schema ``harness/schemas/baseline.json``)::

    entries:
      - case: anthropic.stream.tool_use.001
        provider: google                  # registry name, or module:Class as given to --provider
        check: stream.grammar.anthropic.block_indices   # optional: only this check is expected to fail
        variant: crlf                     # optional: only under this wire variant (absent: any variant)
        reason: "..."                     # why the failure is expected; never empty
        issue: https://github.com/...     # optional

Rules, per (case, provider) the run produced:

- it failed and an entry without ``check`` lists it → expected-failure;
- it failed, entries with ``check`` list it, and every failing check is listed → expected-failure; a
  failing check nobody listed still fails;
- it passed (or a listed check passed) → fail: "stale baseline entry: remove it";
- not-applicable, error and mock-infidelity verdicts are left as they are.

Loading refuses (a ``BaselineError``, the ``harness.config.ConfigError`` shape: file, line, field) an entry
whose ``provider`` no run can produce (a reference provider, ``module:Class``, or a gateway's
``NAME/DIALECT``) or whose ``check`` is not a registered check id: a typo there would excuse nothing and
say nothing.

An entry naming a case the suite does not have fails the run. An entry for a provider that is not part
of the run, or for a case filtered out of it, is left alone. A case's own ``xfail:`` works as an entry
for every provider.

``case`` may be a glob over case ids (``*``: anything within one dotted segment, ``**``: anything at
all), for one deviation a provider shows in many cases; it must then name a ``check``. A pattern entry
is stale when, among the results of the run it matches, it excused no failure; it is unknown when it
matches no case of the suite.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import ConfigError, load_document
from harness.scenario import REFERENCE_PROVIDERS, Case, ScenarioError, dotted, schema_problem
from harness.verdicts import CaseResult, Verdict
from mocks.variants import VARIANTS

__all__ = ["Baseline", "BaselineError", "Entry"]

BaselineError = ScenarioError  # same shape: file, line, field, expected, got


@dataclass(frozen=True, slots=True)
class Entry:
    case: str
    provider: str
    reason: str
    check: str | None = None
    issue: str | None = None
    variant: str | None = None  # None: every wire variant
    source: str = ""
    line: int = 0

    @property
    def pattern(self) -> bool:
        return "*" in self.case

    def covers(self, result: CaseResult) -> bool:
        """Whether this entry speaks of ``result``: its provider, its case and, if named, its variant."""
        return (
            self.provider == result.provider
            and self.variant in (None, result.variant)
            and self.matches(result.case_id)
        )

    def matches(self, case_id: str) -> bool:
        if not self.pattern:
            return case_id == self.case
        return _glob(self.case).fullmatch(case_id) is not None

    def to_json(self) -> dict[str, Any]:
        out = {"case": self.case, "provider": self.provider, "reason": self.reason}
        if self.check:
            out["check"] = self.check
        if self.issue:
            out["issue"] = self.issue
        if self.variant:
            out["variant"] = self.variant
        if self.source:
            out["source"] = f"{self.source}:{self.line}"
        return out


@dataclass(frozen=True, slots=True)
class Baseline:
    entries: tuple[Entry, ...] = ()
    source: str = ""

    @classmethod
    def empty(cls) -> Baseline:
        return cls()

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        """Read and validate a baseline file; raises ``BaselineError`` naming file, line and field."""
        path = Path(path)
        source = str(path)
        try:
            data, lines = load_document(path, source=source, kind="yaml", what="baseline file")
        except ConfigError as exc:
            raise BaselineError(exc.source, exc.line, exc.field, exc.expected, exc.got) from None
        if data is None:
            data = {"entries": []}
        _require_reasons(data, lines, source)
        problem = schema_problem("baseline", data, lines)
        if problem is not None:
            pointer, expected, got = problem
            line = _line(lines, pointer)
            raise BaselineError(source, line, dotted(pointer), expected, got)
        for i, e in enumerate(data["entries"]):
            if "*" in e["case"] and "check" not in e:
                raise BaselineError(
                    source, lines.get(("entries", i, "case"), 0), f"entries[{i}].check",
                    "a check id (a case pattern must name the check it excuses)", "<nothing>",
                )  # fmt: skip
        for i, e in enumerate(data["entries"]):
            problem = _provider_problem(e["provider"])
            if problem is not None:
                raise BaselineError(
                    source, _line(lines, ("entries", i, "provider")), f"entries[{i}].provider", problem,
                    e["provider"],
                )  # fmt: skip
            if "check" in e and e["check"] not in known_checks():
                close = difflib.get_close_matches(e["check"], sorted(known_checks()), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise BaselineError(
                    source, _line(lines, ("entries", i, "check")), f"entries[{i}].check",
                    f"a check id of harness/checks{hint}", e["check"],
                )  # fmt: skip
        for i, e in enumerate(data["entries"]):
            if "variant" in e and e["variant"] not in VARIANTS:
                raise BaselineError(
                    source, lines.get(("entries", i, "variant"), 0), f"entries[{i}].variant",
                    "one of " + ", ".join(VARIANTS), e["variant"],
                )  # fmt: skip
        entries = tuple(
            Entry(
                case=e["case"],
                provider=e["provider"],
                reason=e["reason"],
                check=e.get("check"),
                issue=e.get("issue"),
                variant=e.get("variant"),
                source=source,
                line=lines.get(("entries", i), 0),
            )
            for i, e in enumerate(data["entries"])
        )
        return cls(entries, source)

    def apply(
        self,
        results: list[CaseResult],
        known_cases: set[str],
        providers: Sequence[str],
        cases: Iterable[Case] = (),
        *,
        whole_suite: bool = True,
    ) -> list[CaseResult]:
        """The results with the baseline (and the cases' ``xfail``) applied, plus a failing result per
        entry that names an unknown case. Pattern entries are judged stale only on a ``whole_suite`` run
        (a run narrowed with ``-k`` cannot tell)."""
        entries = list(self.entries)
        for case in cases:
            if case.xfail:
                entries.extend(
                    Entry(case.id, p, case.xfail, source=case.source, line=case.line) for p in providers
                )
        by_pair: dict[tuple[str, str], list[Entry]] = {}
        patterns = [e for e in entries if e.pattern]
        for e in entries:
            if not e.pattern:
                by_pair.setdefault((e.case, e.provider), []).append(e)
        used: set[int] = set()
        matched: set[int] = set()
        out = []
        for r in results:
            mine = [e for e in patterns if e.covers(r)]
            matched.update(id(e) for e in mine)
            exact = [e for e in by_pair.get((r.case_id, r.provider), []) if e.covers(r)]
            applied, excused = _apply_one(r, exact, mine)
            used.update(id(e) for e in excused)
            out.append(applied)
        for e in self.entries:
            if e.provider not in providers:
                continue
            known = any(e.matches(c) for c in known_cases) if e.pattern else e.case in known_cases
            if not known:
                out.append(
                    _entry_failure(e, f"baseline entry names an unknown case {e.case!r}: fix or remove it")
                )
            elif e.pattern and whole_suite and id(e) in matched and id(e) not in used:
                out.append(
                    _entry_failure(
                        e,
                        f"stale baseline entry: remove it: pattern {e.case!r} / check {e.check} excused no failure",
                    )
                )
        return out


#: Upstream dialects a gateway provider is named after (``NAME/DIALECT``, harness/gateway/run.py).
_GATEWAY_DIALECTS = ("openai", "anthropic", "gemini", "azure")
_MODULE_CLASS = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_GATEWAY_NAME = re.compile(r"[^/\s]+/([^/\s]+)")


def _provider_problem(provider: str) -> str | None:
    """What ``provider`` should have been, when no run can produce a result under that name."""
    if provider in REFERENCE_PROVIDERS or _MODULE_CLASS.fullmatch(provider):
        return None
    gateway = _GATEWAY_NAME.fullmatch(provider)
    if gateway and gateway.group(1) in _GATEWAY_DIALECTS:
        return None
    close = difflib.get_close_matches(provider, REFERENCE_PROVIDERS, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"a provider a run names: {', '.join(REFERENCE_PROVIDERS)}, module:Class as given to --provider, "
        f"or GATEWAY/DIALECT with a dialect among {', '.join(_GATEWAY_DIALECTS)}{hint}"
    )


@functools.cache
def known_checks() -> frozenset[str]:
    """Every check id a result can carry: the registered checks and the gateway's transparency check."""
    from harness.checks import CHECKS
    from harness.gateway.transparency import CHECK_ID

    return frozenset(CHECKS) | {CHECK_ID}


def _require_reasons(data: Any, lines: dict[Any, int], source: str) -> None:
    """Every entry states why its failure is expected: an empty or blank ``reason`` (what ``wirecheck
    baseline`` drafts) is refused before anything else is checked."""
    entries = data.get("entries") if isinstance(data, dict) else None
    for i, e in enumerate(entries if isinstance(entries, list) else ()):
        if isinstance(e, dict) and isinstance(e.get("reason"), str) and not e["reason"].strip():
            raise BaselineError(
                source, _line(lines, ("entries", i, "reason")), f"entries[{i}].reason",
                "a reason (reason must say why this failure is expected)", e["reason"],
            )  # fmt: skip


def _entry_failure(e: Entry, message: str) -> CaseResult:
    return CaseResult(
        case_id=e.case,
        provider=e.provider,
        verdict=Verdict.FAIL,
        family="baseline",
        source=f"{e.source}:{e.line}",
        message=f"{message} ({e.source}:{e.line})",
        baseline=e.to_json(),
    )


@functools.cache
def _glob(pattern: str) -> re.Pattern[str]:
    out = []
    for token in re.split(r"(\*\*|\*)", pattern):
        if token == "**":
            out.append(".*")
        elif token == "*":
            out.append("[^.]*")
        else:
            out.append(re.escape(token))
    return re.compile("".join(out))


def _line(lines: dict[Any, int], pointer: tuple[Any, ...]) -> int:
    while pointer and pointer not in lines:
        pointer = pointer[:-1]
    return lines.get(pointer, 0)


def _apply_one(
    result: CaseResult, exact: list[Entry], patterns: list[Entry]
) -> tuple[CaseResult, list[Entry]]:
    """The result with its entries applied, and the pattern entries that excused a failure of it."""
    if not (exact or patterns) or result.verdict not in (Verdict.PASS, Verdict.FAIL):
        return result, []
    if result.verdict is Verdict.PASS:
        if not exact:
            return result, []
        return dataclasses.replace(
            result,
            verdict=Verdict.FAIL,
            message=f"stale baseline entry: remove it ({_where(exact)}): the case now passes",
            baseline=exact[0].to_json(),
        ), []
    failed = {c.id for c in result.failed_checks}
    passed = {c.id for c in result.checks if c.status == "pass"}
    stale = sorted({e.check for e in exact if e.check is not None} & passed)
    if stale:
        return dataclasses.replace(
            result,
            verdict=Verdict.FAIL,
            message=f"stale baseline entry: remove it ({_where(exact)}): check {', '.join(stale)} now passes",
            baseline=exact[0].to_json(),
        ), []
    entries = exact + patterns
    whole = [e for e in exact if e.check is None]
    listed = {e.check for e in entries if e.check is not None}
    excusing = [e for e in patterns if e.check in failed]
    if whole or failed <= listed:
        entry = whole[0] if whole else next(e for e in entries if e.check in failed)
        return dataclasses.replace(
            result,
            verdict=Verdict.EXPECTED_FAILURE,
            message=f"expected failure: {entry.reason}",
            baseline=entry.to_json(),
        ), excusing
    unlisted = sorted(failed - listed)
    return dataclasses.replace(
        result,
        message=f"failing checks not in the baseline ({_where(entries)}): {', '.join(unlisted)}",
        baseline=entries[0].to_json(),
    ), []


def _where(entries: list[Entry]) -> str:
    return ", ".join(f"{e.source}:{e.line}" for e in entries)
