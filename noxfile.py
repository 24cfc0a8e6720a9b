"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s conformance``.

Each session installs the project into its own virtualenv, so a fresh machine needs nothing but nox.
"""

from __future__ import annotations

from pathlib import Path

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
    """The scenario suite against every reference provider, with baselines/reference.yaml; reports in
    reports/ (JSON, JUnit, markdown matrix). Extra arguments go to `wirecheck run` (e.g. -k openai.stream,
    --provider mypkg:MyProvider --upstream openai)."""
    session.install("-e", ".[dev]")
    reports = Path("reports")
    reports.mkdir(exist_ok=True)
    session.run(
        "wirecheck", "run",
        "--json", str(reports / "conformance.json"),
        "--junit", str(reports / "conformance.xml"),
        "--matrix", str(reports / "matrix.md"),
        *session.posargs,
    )  # fmt: skip
