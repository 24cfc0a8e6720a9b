"""Named checks, grouped in families; each reads the collected ``Facts`` and returns its verdict.

A check is a small function registered with ``@check("stream.grammar.anthropic.block_indices")``. It
returns ``None`` when it does not apply to the facts (no expectation for it, wrong output dialect, the
call failed before there was anything to judge) and otherwise the list of problems it found, one
readable line each: an empty list is a pass. The first problem becomes the check's message, all of
them its diff. A check that applies but cannot judge in this environment (an SDK oracle with an SDK
version it cannot drive) raises ``Skip(reason)``: it is skipped, and the reason is its message.

Families (one module each; every family has a deliberately broken provider in tests/harness/broken/
that makes it fire):

- ``fields``      the result and the accumulated text / thinking / tool calls / stop / usage
                  (harness/checks/fields.py);
- ``upstream``    the request the provider sent upstream, its auth, attempts, retry waits, and no retry
                  once a stream has yielded (upstream.py);
- ``stream``      per output dialect, the stream grammar and the schema of every item (stream.py);
- ``equivalence`` stream ≡ non-stream and raw ≡ typed against sibling calls (equivalence.py);
- ``error``       the ProviderError: kind, status, type, retry-after, reason, where it surfaced (errors.py);
- ``timing``      first-item latency (timing.py);
- ``sdk``         the official SDKs' stream helpers as oracles over the streamed bytes: Python (sdk.py)
                  and JS in a Node worker (sdk_js.py), one shared verdict (oracle.py);
- ``mock``        fidelity of what the scripted upstream sent (mock.py): a failure here is a
                  mock-infidelity verdict, never a provider failure.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

from harness.checks.facts import Facts
from harness.verdicts import CheckResult

__all__ = ["CHECKS", "Check", "Skip", "check", "run_checks"]

CheckFn = Callable[[Facts], "list[str] | None"]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    family: str
    fn: CheckFn
    doc: str

    def run(self, facts: Facts) -> CheckResult:
        """The check's result on ``facts``, with its requirement level and whether it counts under the
        run's profile (``harness.levels``): its level must, and so must the case's own (a case above the
        profile is judged by none of its checks), except the mock's fidelity, which is always judged."""
        level = facts.case.check_level(self.id, facts.inherits_default(self.id), facts.situations)
        counted = self.family == "mock" or (
            level.fails_under(facts.profile) and facts.case.level.fails_under(facts.profile)
        )
        try:
            problems = self.fn(facts)
        except Skip as skip:
            return CheckResult(self.id, self.family, "skip", str(skip), level=level, counted=counted)
        if problems is None:
            return CheckResult(self.id, self.family, "skip", level=level, counted=counted)
        if not problems:
            return CheckResult(self.id, self.family, "pass", level=level, counted=counted)
        return CheckResult(self.id, self.family, "fail", problems[0], list(problems), level, counted)


class Skip(Exception):
    """Raised by a check that applies but cannot judge here; ``str(skip)`` says why (one line). The
    check is reported as skipped with that reason: never a pass, never a failure of the provider."""


#: Every registered check, by id, in registration order.
CHECKS: dict[str, Check] = {}


def check(check_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check ``check_id``; its family is the id's first segment."""

    def register(fn: CheckFn) -> CheckFn:
        if check_id in CHECKS:
            raise ValueError(f"check {check_id} registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        CHECKS[check_id] = Check(check_id, check_id.split(".", 1)[0], fn, doc)
        return fn

    return register


class CheckCrashed(Exception):
    """A check raised: the harness is broken (an ``error`` verdict), never the provider."""

    def __init__(self, check_id: str, exc: BaseException) -> None:
        self.check_id = check_id
        self.trace = "".join(traceback.format_exception(exc))
        super().__init__(f"check {check_id} crashed: {type(exc).__name__}: {exc}")


def run_checks(
    facts: Facts, only: set[str] | None = None, *, running: list[str] | None = None
) -> list[CheckResult]:
    """Run every registered check (or the ``only`` ones) on ``facts``; raises ``CheckCrashed``. Each
    check's id is appended to ``running`` as it starts (so a caller that gives up waiting can say which
    check did not return)."""
    out = []
    for item in CHECKS.values():
        if only is not None and item.id not in only:
            continue
        if running is not None:
            running.append(item.id)
        try:
            out.append(item.run(facts))
        except Exception as exc:
            raise CheckCrashed(item.id, exc) from exc
    return out


# Registration happens on import, in family order.
from harness.checks import (  # noqa: E402
    equivalence,
    errors,
    fields,
    mock,
    sdk,
    sdk_js,
    stream,
    timing,
    upstream,
)

__all__ += ["equivalence", "errors", "fields", "mock", "sdk", "sdk_js", "stream", "timing", "upstream"]
