"""Which cases a command runs: the scenario files or folders it was given (default: the shipped
``scenarios/``) and its ``-k`` substrings, then, with ``--shard K/N``, the part of them shard K of N runs.
Input that cannot be used is a ``BadInput`` whose message is one line naming what is wrong, for the command
to print.

The split is by case id alone: a case belongs to shard ``sha256(id) mod N + 1``, so every case lands in
exactly one shard, all its providers and wire variants with it, and adding or removing a case moves no
other case. Shards are not balanced by duration: with a few hundred cases the hash spreads them evenly
enough, and a run that must be balanced is a scheduler's job, not wirecheck's."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loading cases imports the scenario machinery: only when there are cases to load
    from harness.scenario import Case

__all__ = ["BadInput", "Shard", "select_cases", "shard_of"]


class BadInput(Exception):
    """Command-line input that cannot be used; the message is the one line to print."""


def shard_of(case_id: str, count: int) -> int:
    """The shard (1..``count``) case ``case_id`` belongs to: the first 8 bytes of the SHA-256 of its id, as a
    big-endian number, mod ``count``, plus one. The same on every machine and Python version."""
    digest = hashlib.sha256(case_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (1 <= index <= count)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` as given to ``--shard``; ``BadInput`` (one line) unless both are whole numbers with
        1 <= K <= N."""
        index, slash, count = text.partition("/")
        if not slash or not index.strip().isdigit() or not count.strip().isdigit():
            raise BadInput(f"--shard {text!r}: expected K/N, two whole numbers with 1 <= K <= N (e.g. 2/3)")
        shard = cls(int(index), int(count))
        if not 1 <= shard.index <= shard.count:
            raise BadInput(f"--shard {text}: K must be between 1 and N (1 <= K <= N)")
        return shard

    def owns(self, case_id: str) -> bool:
        """Whether the case with this id runs in this shard."""
        return shard_of(case_id, self.count) == self.index

    def keep(self, cases: Sequence[Case]) -> list[Case]:
        """The cases of this shard, in their given order."""
        return [c for c in cases if self.owns(c.id)]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def select_cases(
    paths: Sequence[str] | None, substrings: Sequence[str] | None
) -> tuple[list[Case], list[Case]]:
    """(the cases whose id contains one of ``substrings``, or all; every case of the suite). ``paths``:
    scenario files or folders (default: ``harness.scenario.default_scenarios_dir``). Raises ``BadInput``.
    A command run with ``--shard`` then keeps ``Shard.keep`` of the selection."""
    from harness.scenario import ScenarioError, default_scenarios_dir, load_paths

    if not paths:
        found = default_scenarios_dir()
        if found is None:
            raise BadInput(
                "no scenarios given and no scenarios/ folder found beside the harness package: "
                "pass --scenarios DIR_OR_FILE or set WIRECHECK_SCENARIOS"
            )
        paths = [str(found)]
    try:
        every = load_paths(paths)
    except ScenarioError as exc:
        raise BadInput(str(exc)) from None
    selected = [c for c in every if not substrings or any(k in c.id for k in substrings)]
    return selected, every
