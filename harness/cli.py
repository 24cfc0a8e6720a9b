"""The ``wirecheck`` command line: a thin face over library calls.

``wirecheck run [--provider NAME|module:Class ...] [--scenarios DIR_OR_FILE ...] [-k SUBSTRING]
[--baseline FILE] [--json F] [--junit F] [--matrix F] [--upstream DIALECT] [--concurrency N]
[--provider-loop trio|asyncio|auto]``: run the conformance scenarios (``harness.runner.run``) and report;
exit 0 only when no verdict is fail, error or mock-infidelity, 1 otherwise, 2 on bad input. Providers
written for asyncio (``harness.provider_loop``) run on one asyncio loop in a thread
(``harness.asyncio_bridge``), closed after the results print; the program then ends within
``EXIT_GRACE`` seconds whatever their libraries left running.

``wirecheck run --gateway ADAPTER.yaml`` / ``--gateway-url URL --gateway-adapter ADAPTER.yaml``: the same
suite through a real gateway's front doors (``harness.gateway.cli``).

``wirecheck list [--scenarios ...] [-k SUBSTRING]``: the cases with their ids and spec clauses.

``wirecheck serve SCRIPT [--host 127.0.0.1] [--port 0] [--capture-limit N]``: serve a script's mock
upstreams (``mocks.server.run_server``) until Ctrl-C.

``wirecheck record --upstream URL --out FILE`` and ``wirecheck cassette scan|import|export|show``: the
cassette commands (``harness.cassettes.cli``).

Default scenarios: ``$WIRECHECK_SCENARIOS``, else ``scenarios/`` of the checkout the ``harness`` package
is in (``harness.scenario.default_scenarios_dir``); default baseline: ``baselines/reference.yaml`` beside
it, when the default scenarios run against reference providers only (other runs name theirs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.asyncio_bridge import CLOSE_TIMEOUT, AsyncioBridge, guard_exit
from harness.cassettes.cli import add_commands as add_cassette_commands
from harness.gateway import cli as gateway_cli
from harness.provider_loop import PROVIDER_LOOPS
from mocks.script import ScriptError
from mocks.server import run_server

DIALECT_CHOICES = ("openai", "anthropic", "gemini", "azure")


def _serve(args: argparse.Namespace) -> int:
    try:
        return run_server(args.script, args.host, args.port, capture_limit=args.capture_limit or None)
    except ScriptError as exc:
        print(f"wirecheck serve: {exc}", file=sys.stderr)
        return 2


class _BadInput(Exception):
    pass


def _cases(args: argparse.Namespace) -> tuple[list, list]:
    """(selected cases, every case of the suite)."""
    from harness.scenario import ScenarioError, default_scenarios_dir, load_paths

    paths = args.scenarios
    if not paths:
        found = default_scenarios_dir()
        if found is None:
            raise _BadInput(
                "no scenarios given and no scenarios/ folder found beside the harness package: "
                "pass --scenarios DIR_OR_FILE or set WIRECHECK_SCENARIOS"
            )
        paths = [found]
    try:
        every = load_paths(paths)
    except ScenarioError as exc:
        raise _BadInput(str(exc)) from None
    selected = [c for c in every if not args.k or any(k in c.id for k in args.k)]
    return selected, every


def _default_baseline(providers: list[str]) -> Path | None:
    from harness.scenario import REFERENCE_PROVIDERS, default_scenarios_dir

    if not all(p in REFERENCE_PROVIDERS for p in providers):
        return None
    scenarios = default_scenarios_dir()
    candidate = scenarios.parent / "baselines" / "reference.yaml" if scenarios else None
    return candidate if candidate is not None and candidate.is_file() else None


def _run(args: argparse.Namespace) -> int:
    if gateway_cli.wanted(args):  # --gateway / --gateway-url: harness/gateway/cli.py
        return gateway_cli.run(args)
    from harness.baseline import Baseline
    from harness.report import jsonfile, junit, matrix, terminal
    from harness.runner import RunnerError, resolve_providers, run
    from harness.scenario import ScenarioError

    try:
        selected, every = _cases(args)
        providers = resolve_providers(args.provider, args.upstream, args.provider_loop)
        baseline = None
        path = Path(args.baseline) if args.baseline else None
        if path is None and not args.scenarios:
            path = _default_baseline([p.name for p in providers])
        if path is not None and not args.no_baseline:
            baseline = Baseline.load(path)
    except (_BadInput, RunnerError, ScenarioError) as exc:
        print(f"wirecheck run: {exc}", file=sys.stderr)
        return 2
    if not selected:
        print(f"wirecheck run: no case matches -k {' '.join(args.k)}", file=sys.stderr)
        return 2
    for put in providers:
        if not put.reference:
            print(f"wirecheck run: {put.name} runs on {put.loop} ({put.loop_reason})", file=sys.stderr)
    total = sum(1 for c in selected for p in providers if p.applies(c))
    progress = terminal.Progress(total)
    bridge = AsyncioBridge()  # its loop starts only if an asyncio provider runs
    code = 1
    try:
        result = run(
            selected,
            providers,
            baseline=baseline,
            known_cases={c.id for c in every},
            concurrency=args.concurrency,
            deadline=args.deadline,
            sdk=not args.no_sdk,
            progress=progress,
            asyncio_bridge=bridge,
        )
        progress.close()
        print(terminal.summary(result, verbose=args.verbose))
        if baseline is not None:
            print(f"baseline: {baseline.source} ({len(baseline.entries)} entries)")
        for flag, module in ((args.json, jsonfile), (args.junit, junit), (args.matrix, matrix)):
            if flag:
                module.write(result, flag)
                print(f"wrote {flag}")
        code = result.exit_code
    finally:
        _close_bridge(bridge, code, program=args.program)
    return code


def _close_bridge(bridge: AsyncioBridge, code: int, *, program: bool) -> None:
    """After the results print: stop the asyncio loop (bounded), and when this is the program, make sure
    the process ends soon whatever the asyncio providers' libraries left running."""
    if not bridge.started:
        return
    if not bridge.close():
        print(
            f"wirecheck run: the asyncio loop did not stop within {CLOSE_TIMEOUT:g}s (a provider task "
            "blocks it or ignores cancellation); leaving its daemon thread behind",
            file=sys.stderr,
        )
    if program:
        guard_exit(code)


def _list(args: argparse.Namespace) -> int:
    try:
        selected, _ = _cases(args)
    except _BadInput as exc:
        print(f"wirecheck list: {exc}", file=sys.stderr)
        return 2
    for case in selected:
        providers = ",".join(case.providers) if case.providers else "all"
        print(f"{case.id}  [{case.method}; {providers}]  {case.clause}")
        print(f"    {case.title}  ({case.source}:{case.line})")
    print(f"{len(selected)} cases")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wirecheck", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the conformance scenarios against providers",
        description="Run every scenario case against every applicable provider, behind scripted mock "
        "upstreams, and report verdicts. Exit 0 only when nothing failed.",
    )
    run.add_argument(
        "--provider",
        action="append",
        metavar="NAME|module:Class",
        help="provider under test (repeatable; default: openai, anthropic, google, azure)",
    )
    _scenario_args(run)
    run.add_argument(
        "--baseline",
        metavar="FILE",
        help="expected-failure baseline (default: baselines/reference.yaml when the shipped scenarios run "
        "against reference providers)",
    )
    run.add_argument("--no-baseline", action="store_true", help="ignore any baseline")
    run.add_argument("--json", metavar="FILE", help="write every verdict as JSON")
    run.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    run.add_argument("--matrix", metavar="FILE", help="write the markdown provider × feature matrix")
    run.add_argument(
        "--upstream",
        choices=DIALECT_CHOICES,
        help="upstream dialect of module:Class providers that do not declare `upstream_dialect`",
    )
    run.add_argument("--concurrency", type=int, default=8, help="cases run at once (default: %(default)s)")
    run.add_argument("--deadline", type=float, default=10.0, help="seconds per call (default: %(default)s)")
    run.add_argument("--no-sdk", action="store_true", help="skip the official-SDK oracle checks")
    run.add_argument(
        "--provider-loop",
        choices=PROVIDER_LOOPS,
        default="auto",
        help="event loop of module:Class providers: trio, asyncio (one asyncio loop in a thread), or auto: "
        "a class attribute event_loop, else asyncio when the class's module refers to an asyncio-bound "
        "library (asyncio, aiohttp, litellm, ...) and not to trio (default: %(default)s)",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="also list not-applicable results")
    gateway_cli.add_arguments(run)
    run.set_defaults(run=_run)

    listing = commands.add_parser("list", help="list the scenario cases with their ids and spec clauses")
    _scenario_args(listing)
    listing.set_defaults(run=_list)

    serve = commands.add_parser(
        "serve",
        help="serve scripted OpenAI / Anthropic / Gemini / Azure mock upstreams",
        description="Serve the mock upstreams of a script file (YAML or JSON) until Ctrl-C; "
        "prints one base URL per dialect.",
    )
    serve.add_argument("script", help="the script file (.yaml, .yml or .json)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=int, default=0, help="port to bind (default: 0, any free port)")
    serve.add_argument(
        "--capture-limit",
        type=int,
        default=10_000,
        help="captured requests kept for /__wirecheck/requests (default: %(default)s; 0: all)",
    )
    serve.set_defaults(run=_serve)
    add_cassette_commands(commands)
    return parser


def _scenario_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenarios",
        action="append",
        metavar="DIR_OR_FILE",
        help="scenario files or folders (repeatable; default: the shipped scenarios/)",
    )
    parser.add_argument(
        "-k", action="append", metavar="SUBSTRING", help="only cases whose id contains it (repeatable)"
    )


def main(argv: list[str] | None = None) -> int:
    """The command. ``argv=None`` (the process's own command line) means this is the program, whose exit
    ``wirecheck run`` may guard (``harness.asyncio_bridge.guard_exit``); a caller that passes ``argv``
    goes on running, so its process is never ended for it."""
    args = build_parser().parse_args(argv)
    args.program = argv is None
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
