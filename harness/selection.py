"""Which cases a command runs: the scenario files or folders it was given (default: the shipped
``scenarios/``) and its ``-k`` substrings. Input that cannot be used is a ``BadInput`` whose message is one
line naming what is wrong, for the command to print."""

from __future__ import annotations

from collections.abc import Sequence

from harness.scenario import Case

__all__ = ["BadInput", "select_cases"]


class BadInput(Exception):
    """Command-line input that cannot be used; the message is the one line to print."""


def select_cases(
    paths: Sequence[str] | None, substrings: Sequence[str] | None
) -> tuple[list[Case], list[Case]]:
    """(the cases whose id contains one of ``substrings``, or all; every case of the suite). ``paths``:
    scenario files or folders (default: ``harness.scenario.default_scenarios_dir``). Raises ``BadInput``."""
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
