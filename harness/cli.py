"""The ``wirecheck`` command line: a thin face over library calls.

``wirecheck run [--provider NAME|module:Class ...] [--scenarios DIR_OR_FILE ...] [-k SUBSTRING]
[--baseline FILE] [--json F] [--junit F] [--matrix F] [--upstream DIALECT] [--concurrency N]
[--provider-loop trio|asyncio|auto] [--variants NAMES|default|all]``: run the conformance scenarios (``harness.runner.run``) and report;
exit 0 only when no verdict is fail, error or mock-infidelity, 1 otherwise, 2 on bad input. Providers
written for asyncio (``harness.provider_loop``) run on one asyncio loop in a thread
(``harness.asyncio_bridge``), closed after the results print; the program then ends within
``EXIT_GRACE`` seconds whatever their libraries left running.

``wirecheck run --gateway ADAPTER.yaml`` / ``--gateway-url URL --gateway-adapter ADAPTER.yaml``: the same
suite through a real gateway's front doors (``harness.gateway.cli``).

``wirecheck list [--scenarios ...] [-k SUBSTRING]``: the cases with their ids and spec clauses.

``wirecheck baseline --from REPORT.json -o FILE [--force]``: draft a baseline from a JSON report, one
entry per failing (case, provider, check) with an empty reason for a person to fill
(``harness.baseline_draft``); exit 2 on a report it cannot read or an existing FILE without --force.

``wirecheck serve [SCRIPT_OR_CASSETTE] [--host 127.0.0.1] [--port 0] [--capture-limit N] [--max-connections N]
[--head-timeout S] [--body-timeout S] [--max-body BYTES]``: serve mock upstreams (``mocks.server.run_server``,
its limits ``mocks.server.Limits``) until Ctrl-C or SIGTERM: a script's rules, generated replies on every
route when there is no argument, or the recorded interactions of a cassette (a file with the
``wirecheck_cassette`` key) or a folder of cassettes (``harness.cassettes.cli.serve_cassettes``, with
``--speed``, ``--ignore``, ``--ignore-query``, ``--ignore-path-version``, ``--repeat``). Exit 0; 1 when a
replay left interactions unused or requests unmatched; 2, with one line on stderr, on bad input (a file
that cannot be read or is malformed, a port outside 0..65535 or in use, a host that cannot be listened on).

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
from harness.cassettes.cli import serve_cassettes
from harness.cassettes.format import CassetteError, is_cassette
from harness.gateway import cli as gateway_cli
from harness.provider_loop import PROVIDER_LOOPS
from harness.selection import BadInput, select_cases
from mocks.script import ScriptError
from mocks.server import Limits, ServeError, run_server
from mocks.variants import VARIANTS, resolve_names

DIALECT_CHOICES = ("openai", "anthropic", "gemini", "azure")
_REPLAY_FLAGS = ("--speed", "--ignore", "--ignore-query", "--ignore-path-version", "--repeat")


def _serve_input(args: argparse.Namespace) -> tuple[int, float, bool]:
    """(port, speed, whether the source is cassettes), or ``BadInput`` naming the flag or file."""
    port = args.port
    if not isinstance(port, int):
        raise BadInput(f"--port {port!r}: expected a whole number in 0..65535")
    if not 0 <= port <= 65535:
        raise BadInput(f"--port {port}: outside 0..65535")
    try:
        speed = float(args.speed) if args.speed is not None else 1.0
    except ValueError:
        raise BadInput(f"--speed {args.speed!r}: expected a number >= 0 (0: no waits)") from None
    if not 0 <= speed < float("inf"):
        raise BadInput(f"--speed {args.speed}: expected a number >= 0 (0: no waits)")
    if args.script is None:
        cassettes = False
    else:
        path = Path(args.script)
        if not path.exists():
            raise BadInput(f"{path}: no such file or folder")
        if path.is_file():
            try:
                path.read_bytes().decode("utf-8")
            except OSError as exc:
                raise BadInput(f"{path}: cannot read: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise BadInput(
                    f"{path}: not UTF-8 text (expected a YAML or JSON script or cassette)"
                ) from None
        cassettes = path.is_dir() or is_cassette(path)
    replay_flags = (
        args.speed is not None or args.ignore or args.ignore_query or args.ignore_path_version or args.repeat
    )
    if replay_flags and not cassettes:
        raise BadInput(f"{'/'.join(_REPLAY_FLAGS)} apply to cassettes only, not to a script")
    return port, speed, cassettes


def _whole(text: str) -> int | str:
    """An argparse type: the whole number, or the text as given for the command to report in one line."""
    try:
        return int(text)
    except ValueError:
        return text


def _count(text: str) -> int:
    """An argparse type: a whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, not {text!r}")
    return value


def _seconds(text: str) -> float:
    """An argparse type: seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds above 0, not {text!r}")
    return value


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gib": 1 << 30,
}


def _size(text: str) -> int:
    """An argparse type: bytes, as a whole number with an optional binary unit (``16MiB``, ``512k``)."""
    digits = text.strip().rstrip("BbIiKkMmGg")
    unit = text.strip()[len(digits) :].lower()
    if not digits.isdigit() or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"expected bytes such as 33554432, 32MiB or 512KiB, not {text!r}")
    return int(digits) * _UNITS[unit]


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(
        connections=args.max_connections,
        head=args.head_timeout,
        body=args.body_timeout,
        body_bytes=args.max_body,
    )


def _serve(args: argparse.Namespace) -> int:
    try:
        port, speed, cassettes = _serve_input(args)
        if cassettes:
            if _limits(args) != Limits():
                raise BadInput(
                    "--max-connections, --head-timeout, --body-timeout and --max-body apply to a script"
                )
            return serve_cassettes(
                args.script,
                args.host,
                port,
                speed=speed,
                ignore=args.ignore or (),
                ignore_query=args.ignore_query or (),
                ignore_path_version=args.ignore_path_version,
                once=not args.repeat,
            )
        return run_server(
            args.script, args.host, port, capture_limit=args.capture_limit or None, limits=_limits(args)
        )
    except (BadInput, ScriptError, CassetteError, ServeError) as exc:
        print(f"wirecheck serve: {exc}", file=sys.stderr)
        return 2


def _cases(args: argparse.Namespace) -> tuple[list, list]:
    """(selected cases, every case of the suite)."""
    return select_cases(args.scenarios, args.k)


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
    from harness.report import terminal
    from harness.report.files import write_reports
    from harness.runner import RunnerError, resolve_providers, run
    from harness.scenario import ScenarioError

    try:
        selected, every = _cases(args)
        providers = resolve_providers(args.provider, args.upstream, args.provider_loop)
        try:
            variants = resolve_names(args.variants)
        except ValueError as exc:
            raise BadInput(f"--variants: {exc}") from None
        baseline = None
        path = Path(args.baseline) if args.baseline else None
        if path is None and not args.scenarios:
            path = _default_baseline([p.name for p in providers])
        if path is not None and not args.no_baseline:
            baseline = Baseline.load(path)
    except (BadInput, RunnerError, ScenarioError) as exc:
        print(f"wirecheck run: {exc}", file=sys.stderr)
        return 2
    if not selected:
        print(f"wirecheck run: no case matches -k {' '.join(args.k)}", file=sys.stderr)
        return 2
    for put in providers:
        if not put.reference:
            print(f"wirecheck run: {put.name} runs on {put.loop} ({put.loop_reason})", file=sys.stderr)
    total = sum(1 for c in selected for p in providers if p.applies(c)) * len(variants)
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
            profile=args.profile,
            asyncio_bridge=bridge,
            variants=variants,
        )
        progress.close()
        text = terminal.summary(result, verbose=args.verbose)
        if baseline is not None:
            text += f"\nbaseline: {baseline.source} ({len(baseline.entries)} entries)"
        print(text)
        code = result.exit_code
        written = write_reports(
            result, json=args.json, junit_xml=args.junit, matrix_md=args.matrix, summary_text=text
        )
        code = code if written else max(code, 1)
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
    except BadInput as exc:
        print(f"wirecheck list: {exc}", file=sys.stderr)
        return 2
    for case in selected:
        providers = ",".join(case.providers) if case.providers else "all"
        print(f"{case.id}  [{case.method}; {providers}; {case.level}]  {case.clause}")
        print(f"    {case.title}  ({case.source}:{case.line})")
        for pattern, level in case.levels.items():
            print(f"    {pattern}: {level}")
    print(f"{len(selected)} cases")
    if args.levels:
        print(levels_table(selected))
    return 0


def levels_table(cases: list) -> str:
    """How many cases there are at each requirement level, and how many per-check overrides."""
    from harness.levels import LEVELS

    lines = ["cases per level (harness/levels.py; a profile fails only the levels up to its own):"]
    for level in LEVELS:
        mine = [c for c in cases if c.level is level]
        overrides = sum(1 for c in cases for given in c.levels.values() if given == level)
        lines.append(f"  {level:<10} {len(mine):>4} cases, {overrides:>3} single expectations set to {level}")
    return "\n".join(lines)


def _baseline(args: argparse.Namespace) -> int:
    from harness import baseline_draft
    from harness.baseline import BaselineError

    output = Path(args.output)
    if output.exists() and not args.force:
        print(f"wirecheck baseline: {output} exists: pass --force to overwrite it", file=sys.stderr)
        return 2
    try:
        draft = baseline_draft.read(args.report)
    except BaselineError as exc:
        print(f"wirecheck baseline: {exc}", file=sys.stderr)
        return 2
    try:
        output.write_text(draft.render(str(output)), encoding="utf-8")
    except OSError as exc:
        print(f"wirecheck baseline: {output}: cannot write it: {exc.strerror}", file=sys.stderr)
        return 2
    if draft.entries:
        results = len({(case, provider) for case, provider, _ in draft.entries})
        print(
            f"wrote {output}: {len(draft.entries)} entries for {results} failing results of {draft.report}; "
            "fill in every reason (the loader refuses an empty one)"
        )
    else:
        print(f"wrote {output}: no failing check in {draft.report}, so an empty entries list")
    for note in draft.notes():
        print(f"  {note}")
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
    run.add_argument(
        "--variants",
        metavar="NAMES|default|all",
        help="legal wire variants the mock upstream sends, comma-separated; each case × provider runs once "
        f"per variant, named case[provider]{{variant}} ({', '.join(VARIANTS)}; mocks/variants.py; "
        "default: plain only)",
    )
    run.add_argument("--concurrency", type=int, default=8, help="cases run at once (default: %(default)s)")
    run.add_argument("--deadline", type=float, default=10.0, help="seconds per call (default: %(default)s)")
    run.add_argument("--no-sdk", action="store_true", help="skip the official-SDK oracle checks")
    run.add_argument(
        "--profile",
        choices=("spec", "contract", "reference"),
        help="the widest requirement level that can fail (harness/levels.py): spec = the vendors' specs and "
        "SDKs, contract = also the Provider contract, reference = also the reference providers' own "
        "choices; results above it are notes (default: reference for the reference providers, contract "
        "for --provider module:Class, spec in gateway mode)",
    )
    run.add_argument(
        "--provider-loop",
        choices=PROVIDER_LOOPS,
        default="auto",
        help="event loop of module:Class providers: trio, asyncio (one asyncio loop in a thread), or auto: "
        "a class attribute event_loop, else asyncio when the class's module refers to an asyncio-bound "
        "library (asyncio, aiohttp, litellm, ...) and not to trio (default: %(default)s)",
    )
    run.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show what each failure compared (the upstream request the mock captured, the result, the "
        "stream items; differing places marked) and list the not-applicable results",
    )
    gateway_cli.add_arguments(run)
    run.set_defaults(run=_run)

    drafting = commands.add_parser(
        "baseline",
        help="draft an expected-failure baseline from a JSON report",
        description="Write a baseline with one entry per failing (case, provider, check) of a report "
        "written by `wirecheck run --json`, each with an empty reason: fill every reason in before using "
        "it (the loader refuses an empty one).",
    )
    drafting.add_argument(
        "--from",
        dest="report",
        required=True,
        metavar="REPORT.json",
        help="the report of `wirecheck run --json`",
    )
    drafting.add_argument("-o", "--output", required=True, metavar="FILE", help="the baseline file to write")
    drafting.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    drafting.set_defaults(run=_baseline)

    listing = commands.add_parser("list", help="list the scenario cases with their ids and spec clauses")
    _scenario_args(listing)
    listing.add_argument("--levels", action="store_true", help="also print how many cases each level has")
    listing.set_defaults(run=_list)

    serve = commands.add_parser(
        "serve",
        help="serve OpenAI / Anthropic / Gemini / Azure mock upstreams: scripted, generated or recorded",
        description="Serve mock upstreams until Ctrl-C or SIGTERM and print one base URL per dialect: the "
        "rules of a script file (YAML or JSON), generated replies on every route when no file is given, or "
        "the recorded interactions of a cassette (a file with `wirecheck_cassette: 1`) or of every cassette "
        "in a folder, byte- and timing-exact. Requests no rule or interaction answered are reported on "
        "stderr as they come.",
        epilog="Exit status: 0; 1 when a cassette replay ends with interactions never used or requests no "
        "interaction matched (each listed on stderr); 2 on bad input (one line on stderr: a file that "
        "cannot be read or is malformed, a port outside 0..65535 or already in use, a host that cannot "
        "be listened on).",
    )
    serve.add_argument(
        "script",
        nargs="?",
        default=None,
        metavar="SCRIPT_OR_CASSETTE",
        help="a script file, a cassette file or a folder of cassettes (none: generated replies everywhere)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument(
        "--port", type=_whole, default=0, help="port to bind, 0..65535 (default: 0, any free port)"
    )
    serve.add_argument(
        "--capture-limit",
        type=int,
        default=10_000,
        help="captured requests kept for /__wirecheck/requests (default: %(default)s; 0: all; a cassette "
        "replay keeps all)",
    )
    limits = serve.add_argument_group(
        "limits", "what one client may take (with a script; a cassette replay keeps the defaults)"
    )
    defaults = Limits()
    limits.add_argument(
        "--max-connections",
        type=_count,
        default=defaults.connections,
        metavar="N",
        help="connections open at once (default: %(default)s, at most the open-file limit less 64); at the "
        "cap a new one closes the connection that has waited longest for a request head, else it waits",
    )
    limits.add_argument(
        "--head-timeout",
        type=_seconds,
        default=defaults.head,
        metavar="SECONDS",
        help="a request head must be complete this long after the connection opened, or after its first "
        "byte on a kept-alive connection (default: %(default)g; then 408 and close)",
    )
    limits.add_argument(
        "--body-timeout",
        type=_seconds,
        default=defaults.body,
        metavar="SECONDS",
        help="a request body must be complete this long after its head (default: %(default)g; then 408, "
        "captured as such, and close)",
    )
    limits.add_argument(
        "--max-body",
        type=_size,
        default=defaults.body_bytes,
        metavar="BYTES",
        help="larger request bodies are answered 413 and captured as their first 16 KiB (at most BYTES), length and "
        "SHA-256, never held whole (default: 32MiB; units KiB, MiB, GiB)",
    )
    replay = serve.add_argument_group("replaying cassettes")
    replay.add_argument(
        "--speed",
        default=None,
        help="recorded timing divided by this (default: 1, as recorded; 2: twice as fast; 0: no waits)",
    )
    replay.add_argument(
        "--ignore",
        action="append",
        metavar="JSON_PATH",
        help="leave this body path out of matching, e.g. metadata.user_id or messages[*].cache_control "
        "(repeatable; adds to the cassette's own `match`)",
    )
    replay.add_argument(
        "--ignore-query",
        action="append",
        metavar="NAME",
        help="leave this query parameter out of matching, e.g. beta or api-version (repeatable)",
    )
    replay.add_argument(
        "--ignore-path-version",
        action="store_true",
        help="let a version segment of the path (/v1/, /v1beta/) match any other",
    )
    replay.add_argument(
        "--repeat",
        action="store_true",
        help="let each interaction answer any number of times (default: once)",
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
