"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s conformance``, ``nox -s bench``.

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


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed goals (benchmarks/), each a ratio to a reference timed in the same run: translation vs
    LiteLLM, SSE decoding vs openai and httpx-sse, raw passthrough vs bare httpx (and a 200 MB stream in
    constant memory), the suite's wall time, `wirecheck serve` vs a bare trio+h11 server (under wrk when
    installed). A table on stdout, reports/bench.json. LiteLLM is installed in this session's venv only,
    never as a project dependency. Extra arguments go to `python -m benchmarks` (e.g. --only sse, --quick)."""
    session.install("-e", ".[dev]", "litellm==1.108.*", "httpx-sse")
    reports = Path("reports")
    reports.mkdir(exist_ok=True)
    session.run(
        "python", "-m", "benchmarks", "--json", str(reports / "bench.json"), *session.posargs,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )  # fmt: skip
