"""The pytest face of the runner: one test item per scenario case × provider, in a user's own suite.

Enable it with ``-p harness.pytest_plugin`` (or the ``pytest11`` entry point ``wirecheck``), then point
it at scenarios; it stays inert (collects nothing) until told where they are::

    pytest --wirecheck-scenarios scenarios/ --wirecheck-provider mypkg.gateway:MyProvider \
           --wirecheck-upstream openai --wirecheck-baseline baselines/mine.yaml --wirecheck-provider-loop auto

or in the ini file::

    [pytest]
    wirecheck_scenarios = scenarios
    wirecheck_providers = mypkg.gateway:MyProvider
    wirecheck_baseline = baselines/mine.yaml
    wirecheck_provider_loop = asyncio

Items are named ``<case id>[<provider>]`` (``-k`` selects them), carry the marker
``wirecheck(case, provider)`` and live under their scenario file. The selected items run as one
``harness.runner`` run, the first time one of them executes (under pytest-xdist, ``-n N``: each worker runs
the items of a scenario file as one run, the first time it executes one of them, so ``--dist loadfile``
runs every file once; with ``--dist load`` a file split between workers runs in each of them, with the
same verdicts); each item then reports its own verdict:
pass passes, not-applicable skips, fail / error / mock-infidelity fail with the readable diff. A baseline
entry (or the case's ``xfail:``) for the whole case marks the item ``xfail(strict=True)``, so a stale
entry fails as XPASS(strict); an entry naming one check xfails the item only while exactly the listed
checks fail. ``wirecheck_provider_loop`` (``trio``, ``asyncio``, ``auto``, the default) says where
``module:Class`` providers run, as ``wirecheck run --provider-loop`` does (``harness.provider_loop``);
the asyncio loop of the run is closed when the run ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.provider_loop import PROVIDER_LOOPS
from harness.report.terminal import failure_text
from harness.verdicts import CaseResult, Verdict

__all__ = ["WirecheckFailure", "WirecheckItem"]

_STATE = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wirecheck", "wirecheck conformance scenarios")
    group.addoption(
        "--wirecheck-scenarios",
        action="append",
        metavar="DIR_OR_FILE",
        help="scenario files or folders to run as tests (repeatable)",
    )
    group.addoption(
        "--wirecheck-provider",
        action="append",
        metavar="NAME|module:Class",
        help="provider under test (repeatable; default: the reference providers)",
    )
    group.addoption("--wirecheck-baseline", metavar="FILE", help="expected-failure baseline")
    group.addoption(
        "--wirecheck-upstream",
        metavar="DIALECT",
        help="upstream dialect of module:Class providers without `upstream_dialect`",
    )
    group.addoption("--wirecheck-no-sdk", action="store_true", help="skip the official-SDK oracle checks")
    group.addoption(
        "--wirecheck-provider-loop",
        choices=PROVIDER_LOOPS,
        help="event loop of module:Class providers: trio, asyncio or auto (default: auto)",
    )
    parser.addini(
        "wirecheck_scenarios", "scenario files or folders (one per line)", type="linelist", default=[]
    )
    parser.addini("wirecheck_providers", "providers under test (one per line)", type="linelist", default=[])
    parser.addini("wirecheck_baseline", "expected-failure baseline file", default="")
    parser.addini("wirecheck_provider_loop", "event loop of module:Class providers", default="auto")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "wirecheck(case, provider): a wirecheck conformance case run against one provider"
    )


def _settings(config: pytest.Config) -> dict[str, Any] | None:
    scenarios = config.getoption("--wirecheck-scenarios") or config.getini("wirecheck_scenarios")
    if not scenarios:
        return None
    root = Path(config.rootpath)
    from_ini = not config.getoption("--wirecheck-scenarios")
    paths = [root / p if from_ini and not Path(p).is_absolute() else Path(p) for p in scenarios]
    baseline = config.getoption("--wirecheck-baseline") or config.getini("wirecheck_baseline") or None
    if baseline and not config.getoption("--wirecheck-baseline"):
        baseline = str(root / baseline)
    loop = config.getoption("--wirecheck-provider-loop") or config.getini("wirecheck_provider_loop") or "auto"
    if loop not in PROVIDER_LOOPS:
        raise pytest.UsageError(
            f"wirecheck_provider_loop = {loop!r}: expected one of {', '.join(PROVIDER_LOOPS)}"
        )
    return {
        "paths": paths,
        "providers": config.getoption("--wirecheck-provider") or config.getini("wirecheck_providers") or None,
        "baseline": baseline,
        "upstream": config.getoption("--wirecheck-upstream"),
        "sdk": not config.getoption("--wirecheck-no-sdk"),
        "provider_loop": loop,
    }


class _ScenarioFile(pytest.File):
    """A scenario YAML file as a pytest collector of case × provider items."""

    def collect(self) -> list[pytest.Item]:
        state = self.config.stash[_STATE]
        out: list[pytest.Item] = []
        for case in state["cases_by_file"].get(str(self.path), []):
            for put in state["providers"]:
                if not put.applies(case):
                    continue
                item = WirecheckItem.from_parent(self, name=f"{case.id}[{put.name}]", case=case, put=put)
                out.append(item)
        return out


class WirecheckItem(pytest.Item):
    def __init__(self, *, case: Any, put: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.put = put
        self.add_marker(pytest.mark.wirecheck(case.id, put.name))
        self.entries = [
            e
            for e in self.config.stash[_STATE]["baseline"].entries
            if e.provider == put.name and e.matches(case.id)
        ]
        whole = [e for e in self.entries if e.check is None]
        if whole or case.xfail:
            reason = case.xfail or whole[0].reason
            self.add_marker(pytest.mark.xfail(strict=True, reason=f"wirecheck baseline: {reason}"))

    def runtest(self) -> None:
        result = _results(self)[(self.case.id, self.put.name)]
        self.result = result
        if result.verdict is Verdict.NOT_APPLICABLE:
            pytest.skip(result.message)
        if result.verdict is Verdict.PASS:
            return
        listed = {e.check for e in self.entries if e.check}
        failed = {c.id for c in result.failed_checks}
        if result.verdict is Verdict.FAIL and listed and failed <= listed and not self.case.xfail:
            pytest.xfail(f"wirecheck baseline: {self.entries[0].reason}")
        raise WirecheckFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, WirecheckFailure):
            return failure_text(excinfo.value.result)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, self.case.line - 1, f"wirecheck {self.case.id} [{self.put.name}]"


class WirecheckFailure(Exception):
    """A case that did not pass (fail, error or mock-infidelity)."""

    def __init__(self, result: CaseResult) -> None:
        self.result = result
        super().__init__(result.summary())


def _results(item: WirecheckItem) -> dict[tuple[str, str], CaseResult]:
    """The verdicts of ``item``'s batch, run once, the first time one of its items executes: every
    selected wirecheck item of the session, or on a pytest-xdist worker (which collects every item but
    runs only those it is sent) the selected items of ``item``'s scenario file."""
    config = item.session.config
    state = config.stash[_STATE]
    worker = hasattr(config, "workerinput")  # set by pytest-xdist on its workers
    scope = item.parent.nodeid if worker and item.parent is not None else ""
    batches: dict[str, dict[tuple[str, str], CaseResult]] = state["results"]
    if scope not in batches:
        from harness.runner import run

        items = [
            i
            for i in item.session.items
            if isinstance(i, WirecheckItem)
            and (not scope or (i.parent is not None and i.parent.nodeid == scope))
        ]
        cases = list({id(i.case): i.case for i in items}.values())
        providers = list({i.put.name: i.put for i in items}.values())
        wanted = {(i.case.id, i.put.name) for i in items}
        outcome = run(cases, providers, apply_baseline=False, sdk=state["sdk"])
        batches[scope] = {
            (r.case_id, r.provider): r for r in outcome.results if (r.case_id, r.provider) in wanted
        }
    return batches[scope]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    settings = _settings(config)
    if settings is None:
        return
    from harness.baseline import Baseline
    from harness.runner import RunnerError, resolve_providers
    from harness.scenario import ScenarioError, load_paths, scenario_files

    try:
        cases = load_paths(settings["paths"])
        providers = resolve_providers(settings["providers"], settings["upstream"], settings["provider_loop"])
        baseline = Baseline.load(settings["baseline"]) if settings["baseline"] else Baseline.empty()
    except (ScenarioError, RunnerError) as exc:
        raise pytest.UsageError(f"wirecheck: {exc}") from None
    by_file: dict[str, list[Any]] = {}
    for case in cases:
        by_file.setdefault(str(Path(case.source).resolve()), []).append(case)
    config.stash[_STATE] = {
        "cases_by_file": by_file,
        "providers": providers,
        "baseline": baseline,
        "sdk": settings["sdk"],
        "results": {},  # batch ("": the session's; a scenario file's node id under xdist) -> verdicts
    }
    for path in scenario_files(settings["paths"]):
        path = Path(path).resolve()
        try:
            nodeid = path.relative_to(config.rootpath).as_posix()
        except ValueError:
            nodeid = path.as_posix()
        collector = _ScenarioFile.from_parent(session, path=path, nodeid=nodeid)
        items.extend(collector.collect())
