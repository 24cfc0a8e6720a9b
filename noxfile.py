"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s conformance``, ``nox -s gateway-litellm``.

Each session installs the project into its own virtualenv, so a fresh machine needs nothing but nox.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox
from nox.command import CommandFailed

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


@nox.session(name="gateway-litellm", python=PYTHON)
def gateway_litellm(session: nox.Session) -> None:
    """The suite through a real LiteLLM proxy (harness/gateway, gateways/litellm.yaml): LiteLLM is installed in
    this session's virtualenv only and started offline on 127.0.0.1 with every upstream pointed at
    wirecheck's mocks. Reports in reports/gateway-litellm.* (terminal summary, JSON, JUnit, matrix, the
    gateway's log), the deviations page in docs/gateways/litellm.md. Exits 0 only when every failure is in
    gateways/litellm-baseline.yaml (an entry that starts passing fails the run). Extra arguments go to
    `wirecheck run` (e.g. -k openai.stream)."""
    session.install("-e", ".[dev]", "litellm[proxy]==1.108.*")
    reports = Path("reports")
    reports.mkdir(exist_ok=True)
    session.run(
        "wirecheck", "run", "--gateway", "gateways/litellm.yaml",
        "--summary", str(reports / "gateway-litellm.txt"),
        "--json", str(reports / "gateway-litellm.json"),
        "--junit", str(reports / "gateway-litellm.xml"),
        "--matrix", str(reports / "gateway-litellm.md"),
        "--gateway-log", str(reports / "gateway-litellm.log"),
        "--gateway-doc", "docs/gateways/litellm.md",
        *session.posargs,
    )  # fmt: skip


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed goals (benchmarks/), each a ratio to a reference timed in the same run: translation vs
    LiteLLM, SSE decoding vs openai and httpx-sse, raw passthrough vs bare httpx (and a 200 MB stream in
    constant memory), the suite's wall time, `wirecheck serve` vs a bare trio+h11 server (under wrk when
    installed) and vs the third-party mocks aimock (npm, when npm is there) and llmock (PyPI). A table on
    stdout, reports/bench.json. LiteLLM, llmock and aimock are installed in this session's venv only, never
    as project dependencies. Extra arguments go to `python -m benchmarks` (e.g. --only sse, --quick)."""
    session.install("-e", ".[dev]", "litellm==1.108.*", "httpx-sse", "llmock==0.2.2")
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    node = Path(session.virtualenv.location) / "node"
    if shutil.which("npm"):
        try:
            session.run(
                "npm", "install", "--prefix", str(node), "--no-audit", "--no-fund", "@copilotkit/aimock@1.43.0",
                external=True,
            )  # fmt: skip
            env["WIRECHECK_AIMOCK"] = str(node / "node_modules" / "@copilotkit" / "aimock")
        except CommandFailed:
            session.warn("npm install of @copilotkit/aimock failed: aimock is reported as not installed")
    else:
        session.warn("no npm: the bench reports aimock as not installed")
    reports = Path("reports")
    reports.mkdir(exist_ok=True)
    session.run(
        "python", "-m", "benchmarks", "--json", str(reports / "bench.json"), *session.posargs, env=env,
    )  # fmt: skip
