"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s conformance``.

Each session installs the project into its own virtualenv, so a fresh machine needs nothing but nox.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, property and SDK-oracle tests), loopback only."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """The scenario suite against every reference provider (lands with the scenario runner)."""
    session.install("-e", ".[dev]")
    session.skip("the scenario suite and `wirecheck run` land with the scenario issue; nothing to run yet")
