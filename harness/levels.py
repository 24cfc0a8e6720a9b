"""Requirement levels: what requires an expectation, and which levels a run lets fail.

Every expectation, and so every check result, says what requires it:

- ``spec``: the vendor's API reference or wire schema requires it, or the official SDKs rely on it;
- ``contract``: the Provider contract documents it (docs/contract.md: defaults, raw ≡ typed,
  stream ≡ non-stream, what the compat flags mean, passthrough never retried, the error kinds);
- ``reference``: wirecheck's own choice where both leave it open (which of several legal forms the
  reference sends, its retry count and timing, its id formats, its own translation's losses).

The levels nest: whatever the spec requires, the contract requires too, and the reference providers
keep both. A **profile** names the widest level that can fail: ``--profile spec`` fails a provider only
for spec-level expectations, ``contract`` for spec and contract, ``reference`` for all three. A check
result above the profile is a **note**: reported, never a failure, and never what makes a case pass; a
case whose own level is above the profile is not applicable under it (its results are all notes).
The default profile is ``contract`` for a user's ``--provider``, ``spec`` in gateway mode, and
``reference`` for the bundled reference providers (which keep every check they ever had).

Where a level comes from, first match wins:

1. a check of ``INHERITED`` on a call that went through a translating default the provider inherits
   (``providers.base.TRANSLATING_DEFAULTS``) is reference: the default is wirecheck's own trip;
2. the case's ``levels:`` map, check id (or glob) → level, for one expectation of the case;
3. the check's own level (``INTRINSIC``), for the checks no case expectation drives: the stream
   grammars, schemas and SDK oracles are spec; the equivalences and the retry limits are contract;
   the exact upstream form is reference;
4. the case's ``level:``, else its clause: a clause of the contract is contract, one of a vendor's
   spec (openai, anthropic, gemini, azure, sse, http) is spec.

Then a **situation** of the call can only raise that level, never lower it (``SITUATIONS``): an
expectation that a vendor's spec requires of that vendor's own client is only the Provider contract's
once the call crosses dialects or a stream has already started.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping
from enum import StrEnum

__all__ = [
    "INHERITED",
    "INTRINSIC",
    "LEVELS",
    "SITUATIONS",
    "Level",
    "case_level",
    "check_level",
    "default_profile",
]


class Level(StrEnum):
    SPEC = "spec"
    CONTRACT = "contract"
    REFERENCE = "reference"

    @property
    def rank(self) -> int:
        return LEVELS.index(self)

    def fails_under(self, profile: Level) -> bool:
        """Whether a failure at this level fails a run under ``profile``."""
        return self.rank <= profile.rank


#: The levels, narrowest first (each includes the ones before it).
LEVELS: tuple[Level, ...] = (Level.SPEC, Level.CONTRACT, Level.REFERENCE)

#: The level of each check that no case expectation drives (ids or globs; first match wins). The checks
#: not listed here take the case's level: they judge what the case states.
INTRINSIC: tuple[tuple[str, Level], ...] = (
    ("stream.schema", Level.SPEC),
    ("stream.grammar.*", Level.SPEC),
    ("sdk.*", Level.SPEC),
    ("fields.schema", Level.SPEC),
    ("upstream.auth", Level.SPEC),
    ("upstream.vendor_rules", Level.SPEC),
    ("mock.*", Level.SPEC),  # our own mock's fidelity: judged whatever the profile
    ("equivalence.*", Level.CONTRACT),
    ("upstream.retry.*", Level.CONTRACT),
    ("error.provider_error", Level.CONTRACT),
    ("upstream.request.form", Level.REFERENCE),
)

#: Checks that judge what a translating default produced (``providers.base.TRANSLATING_DEFAULTS``), each
#: with the calls it judges: ``main`` (the case's main call) or ``any`` (any call of the case). When such a
#: call went through a default the provider inherits, the upstream request, the exact result body and the
#: byte-for-byte raw ≡ typed comparison come out of wirecheck's own trip (with its documented losses,
#: docs/translation.md), so they are the reference's concern. What the provider's own methods contribute
#: (the text, tool calls, stop reason and usage, judged by meaning, also stream ≡ non-stream) keeps its
#: level. ``harness.checks.facts.Facts.inherits_default`` reads this table; no other place states the rule.
INHERITED: dict[str, str] = {"upstream.request": "main", "fields.result": "main", "equivalence.raw": "any"}

#: Situations of a call, each with the checks that in it judge only what the Provider contract requires
#: (their level is raised to at least ``contract``):
#:
#: - ``translated``: the client's dialect is not the upstream's. How one vendor's error status and type
#:   reach another vendor's client is the contract's rule (a ``ProviderError`` keeps the upstream's own,
#:   docs/contract.md#errors-upstream); no vendor's spec speaks of another vendor's errors, and a gateway's
#:   front door may answer in its own vocabulary.
#: - ``stream_started``: the upstream fails after its stream began (an in-stream error, a drop or a stall
#:   after some events). That such a call is not sent again is the contract's retry rule
#:   (docs/contract.md#retries); the vendors' specs do not forbid a client's retry.
SITUATIONS: dict[str, tuple[str, ...]] = {
    "translated": ("error.status", "error.type"),
    "stream_started": ("upstream.attempts",),
}

#: Clause ``spec`` values that name the Provider contract or the reference's own choices; any other
#: value names a vendor's or a standard's spec.
_CLAUSE_LEVELS: dict[str, Level] = {"contract": Level.CONTRACT, "reference": Level.REFERENCE}


def case_level(explicit: str | None, clause_spec: str) -> Level:
    """A case's own level: its ``level:``, else what its clause names."""
    if explicit:
        return Level(explicit)
    return _CLAUSE_LEVELS.get(clause_spec, Level.SPEC)


def check_level(
    check_id: str,
    case: Level,
    overrides: Mapping[str, str] | None = None,
    inherited: bool = False,
    situations: Collection[str] = (),
) -> Level:
    """The level of check ``check_id`` on a case of level ``case`` with its ``levels:`` map; ``inherited``:
    a call that check ``check_id`` judges went through a translating default the provider inherits (it
    lowers only the checks of ``INHERITED``);
    ``situations``: names from ``SITUATIONS`` that hold for the call."""
    level = _stated_level(check_id, case, overrides, inherited)
    for situation in situations:
        if check_id in SITUATIONS[situation] and level.rank < Level.CONTRACT.rank:
            level = Level.CONTRACT
    return level


def _stated_level(check_id: str, case: Level, overrides: Mapping[str, str] | None, inherited: bool) -> Level:
    if inherited and check_id in INHERITED:
        return Level.REFERENCE
    for pattern, level in (overrides or {}).items():
        if fnmatch.fnmatchcase(check_id, pattern):
            return Level(level)
    for pattern, level in INTRINSIC:
        if fnmatch.fnmatchcase(check_id, pattern):
            return level
    return case


def default_profile(*, reference: bool, gateway: bool = False) -> Level:
    """The profile a run uses when none is given (see the module docstring)."""
    if gateway:
        return Level.SPEC
    return Level.REFERENCE if reference else Level.CONTRACT
