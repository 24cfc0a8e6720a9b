"""The ``wirecheck`` command line: a thin face over library calls.

``wirecheck run [--provider NAME|module:Class ...] [--scenarios DIR_OR_FILE ...] [-k SUBSTRING]
[--baseline FILE] [--json F] [--junit F] [--matrix F] [--upstream DIALECT] [--concurrency N]
[--provider-loop trio|asyncio|auto] [--variants NAMES|default|all] [--shard K/N]``: run the conformance scenarios (``harness.runner.run``) and report;
exit 0 only when no verdict is fail, error or mock-infidelity, 1 otherwise, 2 on bad input. Providers
written for asyncio (``harness.provider_loop``) run on one asyncio loop in a thread
(``harness.asyncio_bridge``), closed after the results print; the program then ends within
``EXIT_GRACE`` seconds whatever their libraries left running.

``wirecheck run --gateway ADAPTER.yaml`` / ``--gateway-url URL --gateway-adapter ADAPTER.yaml``: the same
suite through a real gateway's front doors (``harness.gateway.cli``).

``wirecheck run --shard K/N ... --json SHARD.json`` runs only shard K of N of the selected cases (split by
case id, ``harness.selection.Shard``); ``wirecheck report merge SHARD.json... [--json F] [--junit F]
[--matrix F]`` joins the shards' reports into the whole run's (``harness.report.merge``), prints its summary
and exits with its verdict (0 / 1), or 2, with one line naming the file, on reports that are not one run.

``wirecheck list [--scenarios ...] [-k SUBSTRING]``: the cases with their ids and spec clauses.

Every command's flags are checked before it starts (``harness.flags.check_flags``: durations, counts,
ports, URLs, report folders, ``--provider`` modules); bad input is one line on stderr, exit 2.

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

Ctrl-C, SIGTERM and SIGHUP stop any command with one line on stderr (``wirecheck: interrupted``) and exit
status 128 + the signal (130 for Ctrl-C), never a traceback; a run stopped so still writes the reports of
the cases it finished (``main``).

Default scenarios: ``$WIRECHECK_SCENARIOS``, else ``scenarios/`` of the checkout the ``harness`` package
is in (``harness.scenario.default_scenarios_dir``); default baseline: ``baselines/reference.yaml`` beside
it, when the default scenarios run against reference providers only (other runs name theirs).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Light imports only: ``main`` starts the SDK oracle process of a ``run`` before the heavy ones (the mocks,
# the cassettes, the runner) load, inside the functions that need them.
from harness.flags import JSON_PATH, check_flags, number_or_text, whole_or_text
from harness.gateway import cli as gateway_cli
from harness.provider_loop import PROVIDER_LOOPS
from harness.selection import BadInput, Shard, select_cases

if TYPE_CHECKING:
    from harness.asyncio_bridge import AsyncioBridge
    from mocks.server import Limits

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
        from harness.cassettes.format import is_cassette

        cassettes = path.is_dir() or is_cassette(path)
    for path in args.ignore or ():
        if not JSON_PATH.fullmatch(path):
            raise BadInput(
                f"--ignore {path!r}: expected a JSON path such as metadata.user_id or messages[*].cache_control"
            )
    for name in args.ignore_query or ():
        if not name or any(c in name for c in "&=#?\r\n"):
            raise BadInput(f"--ignore-query {name!r}: expected a query parameter name such as api-version")
    replay_flags = (
        args.speed is not None or args.ignore or args.ignore_query or args.ignore_path_version or args.repeat
    )
    if replay_flags and not cassettes:
        raise BadInput(f"{'/'.join(_REPLAY_FLAGS)} apply to cassettes only, not to a script")
    return port, speed, cassettes


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
    from mocks.server import Limits

    return Limits(
        connections=args.max_connections,
        head=args.head_timeout,
        body=args.body_timeout,
        body_bytes=args.max_body,
    )


def _serve(args: argparse.Namespace) -> int:
    from harness.cassettes.cli import serve_cassettes
    from harness.cassettes.format import CassetteError
    from mocks.script import ScriptError
    from mocks.server import Limits, ServeError, run_server

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
    with _collecting_less():  # the SDK oracle process was started by ``main`` (``_oracles_first``)
        return _run_in_process(args)


#: The cyclic garbage collector's thresholds during a run (``_collecting_less``); Python's are (700, 10, 10).
RUN_GC_THRESHOLDS = (10_000, 20, 20)


@contextlib.contextmanager
def _collecting_less() -> Iterator[None]:
    """During the block (a whole ``wirecheck run``: imports, loading, calls): a pass of the cyclic garbage
    collector starts only after ``RUN_GC_THRESHOLDS[0]`` new objects instead of 700, and everything alive
    at its start is left out of the passes (``gc.freeze``; the run freezes again once its cases are
    loaded). A run makes few cycles and many short-lived objects: it spent about 6 % of its CPU in the
    collector, now about 2 %. Restored when the block ends (``main`` may be called in a process that
    goes on)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _run_in_process(args: argparse.Namespace) -> int:
    from harness.asyncio_bridge import AsyncioBridge
    from harness.baseline import Baseline
    from harness.report import terminal
    from harness.report.files import write_reports
    from harness.runner import RunnerError, resolve_providers, run
    from harness.scenario import ScenarioError
    from mocks.variants import resolve_names

    try:
        shard = Shard.parse(args.shard) if args.shard is not None else None
        whole, every = _cases(args)
        selected = shard.keep(whole) if shard is not None else whole
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
    if not whole:
        print(f"wirecheck run: no case matches -k {' '.join(args.k)}", file=sys.stderr)
        return 2
    if shard is not None:
        print(f"wirecheck run: shard {shard}: {len(selected)} of {len(whole)} cases", file=sys.stderr)
    for put in providers:
        if not put.reference:
            print(f"wirecheck run: {put.name} runs on {put.loop} ({put.loop_reason})", file=sys.stderr)
    total = sum(1 for c in selected for p in providers if p.applies(c)) * len(variants)
    progress = terminal.Progress(total)
    bridge = AsyncioBridge()  # its loop starts only if an asyncio provider runs
    code = 1
    gc.freeze()  # the loaded cases live as long as the run: no collector pass needs to visit them
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
        record = None
        if shard is not None:
            from harness.report.merge import record as shard_record

            record = shard_record(
                shard, whole, every, result, variants=variants, profile=args.profile, baseline=baseline
            )
        written = write_reports(
            result,
            json=args.json,
            junit_xml=args.junit,
            matrix_md=args.matrix,
            summary_text=text,
            shard=record,
        )
        code = code if written else max(code, 1)
    except KeyboardInterrupt:
        progress.close()  # the line main prints starts a line of its own
        raise
    finally:
        _close_bridge(bridge, code, program=args.program)
    return code


def _close_bridge(bridge: AsyncioBridge, code: int, *, program: bool) -> None:
    """After the results print: stop the asyncio loop (bounded), and when this is the program, make sure
    the process ends soon whatever the asyncio providers' libraries left running."""
    from harness.asyncio_bridge import CLOSE_TIMEOUT, guard_exit

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
        output.parent.mkdir(parents=True, exist_ok=True)
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
    from harness.cassettes.cli import add_commands as add_cassette_commands
    from mocks.server import Limits
    from mocks.variants import VARIANTS

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
    run.add_argument(
        "--concurrency",
        type=whole_or_text,
        default=8,
        help="cases run at once, from 1 (default: %(default)s)",
    )
    run.add_argument(
        "--deadline",
        type=number_or_text,
        default=10.0,
        help="seconds per call, above 0 (default: %(default)s)",
    )
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
        "--shard",
        metavar="K/N",
        help="run only shard K of N (1 <= K <= N) of the selected cases, split by a hash of the case id "
        "(every case in exactly one shard, with all its providers and variants); join the shards' --json "
        "reports with `wirecheck report merge`",
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
        "--port", type=whole_or_text, default=0, help="port to bind, 0..65535 (default: 0, any free port)"
    )
    serve.add_argument(
        "--capture-limit",
        type=whole_or_text,
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
        type=whole_or_text,
        default=defaults.connections,
        metavar="N",
        help="connections open at once (default: %(default)s, at most the open-file limit less 64); at the "
        "cap a new one closes the connection that has waited longest for a request head, else it waits",
    )
    limits.add_argument(
        "--head-timeout",
        type=number_or_text,
        default=defaults.head,
        metavar="SECONDS",
        help="a request head must be complete this long after the connection opened, or after its first "
        "byte on a kept-alive connection (default: %(default)g; then 408 and close)",
    )
    limits.add_argument(
        "--body-timeout",
        type=number_or_text,
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
    _report_commands(commands)
    add_cassette_commands(commands)
    return parser


def _report_commands(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="work with the JSON reports of runs")
    actions = report.add_subparsers(dest="action", required=True, metavar="ACTION")
    merging = actions.add_parser(
        "merge",
        help="join the JSON reports of a run's shards (wirecheck run --shard K/N --json F) into one",
        description="Join the JSON reports of every shard of one run (wirecheck run --shard K/N --json F) "
        "into the report of the whole run, print its summary and write the reports asked for.",
        epilog="Exit status: 0 when the merged run has no fail, error or mock-infidelity verdict, 1 when it "
        "has; 2 (one line on stderr naming the file) on reports that are not the shards of one run: "
        "another split, selection, providers, profile, variants or baseline, a shard twice or missing, a "
        "case in two shards.",
    )
    merging.add_argument("reports", nargs="+", metavar="SHARD.json", help="every shard's JSON report")
    merging.add_argument("--json", metavar="FILE", help="write the merged run as JSON")
    merging.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    merging.add_argument("--matrix", metavar="FILE", help="write the markdown provider × feature matrix")
    merging.set_defaults(run=_merge)


def _merge(args: argparse.Namespace) -> int:
    from harness.report import terminal
    from harness.report.files import write_reports
    from harness.report.merge import MergeError, merge

    try:
        merged = merge(args.reports)
    except MergeError as exc:
        print(f"wirecheck report merge: {exc}", file=sys.stderr)
        return 2
    text = terminal.summary(merged.run) + f"\nmerged {merged.shards} shards: {', '.join(merged.sources)}"
    print(text)
    written = write_reports(
        merged.run,
        json=args.json,
        junit_xml=args.junit,
        matrix_md=args.matrix,
        summary_text=text,
        command="wirecheck report merge",
    )
    return merged.run.exit_code if written else max(merged.run.exit_code, 1)


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


#: Exit status and the one line printed for each way the program is stopped from outside.
STOPPED = {
    signal.SIGINT: (130, "interrupted"),
    signal.SIGTERM: (143, "terminated"),
    signal.SIGHUP: (129, "hung up"),
}


def main(argv: list[str] | None = None) -> int:
    """The command. ``argv=None`` (the process's own command line) means this is the program, whose exit
    ``wirecheck run`` may guard (``harness.asyncio_bridge.guard_exit``); a caller that passes ``argv``
    goes on running, so its process is never ended for it.

    Ctrl-C (SIGINT), SIGTERM and SIGHUP stop any command the same way: as a ``KeyboardInterrupt`` raised
    where the command is (so its cleanup runs: a gateway's process tree is ended, temporary folders are
    removed, reports already written stay), then one line on stderr (``wirecheck: interrupted``) and
    exit status 128 + the signal's number (130 for Ctrl-C). No traceback.

    The program's own objects are frozen (``gc.freeze``) when the command ends: the process ends next, and
    the collector's last full pass over a run's heap delayed that by ~0.3 s."""
    try:
        return _command(argv)
    finally:
        if argv is None:
            gc.freeze()


def _command(argv: list[str] | None) -> int:
    with _oracles_first(sys.argv[1:] if argv is None else argv):
        args = build_parser().parse_args(argv)
        if (problem := check_flags(args)) is not None:  # harness/flags.py: one line, exit 2
            return problem.report()
        args.program = argv is None
        received: list[int] = []
        with _stop_signals(received):
            try:
                return args.run(args)
            except (KeyboardInterrupt, BaseExceptionGroup) as exc:
                # trio raises it from a nursery inside a group, with what the cancellation caused beside it
                if isinstance(exc, BaseExceptionGroup) and exc.subgroup(KeyboardInterrupt) is None:
                    raise
                code, word = STOPPED[received[-1] if received else signal.SIGINT]
                with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: the line all the same
                    _write_finished(args, exc, word)
                print(f"wirecheck: {word}", file=sys.stderr)
                return code


def judges_with_sdk_oracles(words: list[str]) -> bool:
    """Whether the command line ``words`` (without the program) is a ``wirecheck run`` whose SDK oracles
    judge in this process's oracle process: not ``--no-sdk``, not through a gateway (``--gateway*``), not
    ``--help``. Read before the flags are parsed, so it errs towards yes (an abbreviated ``--no-sdk``)."""
    if not words or words[0] != "run":
        return False
    return not any(w in ("--no-sdk", "-h", "--help") or w.startswith("--gateway") for w in words[1:])


def _oracles_first(words: list[str]) -> contextlib.AbstractContextManager[None]:
    """For a ``wirecheck run`` that judges with the SDK oracles (``judges_with_sdk_oracles``): its oracle
    process (``harness.oracles.sdk_process``) starts first thing, before the command's own imports, so the
    SDKs it imports (its ~2 s start, on another core) are ready sooner; the run itself uses that process
    (``harness.runner.oracles_ahead``), and it stops when the block ends. Anything else starts nothing."""
    from harness.oracles import sdk_process

    return sdk_process.ahead(judges_with_sdk_oracles(words))


def _write_finished(args: argparse.Namespace, exc: BaseException, word: str) -> None:
    """The reports of the cases a run finished before it was stopped (``harness.runner.RunInterrupted``),
    written where the run writes them (``--json``, ``--junit``, ``--matrix``, ``--summary``)."""
    from harness.report import terminal
    from harness.report.files import write_reports
    from harness.runner import RunInterrupted

    if isinstance(exc, BaseExceptionGroup):
        found = exc.subgroup(RunInterrupted)
        while isinstance(found, BaseExceptionGroup):
            found = found.exceptions[0]
        exc = found if found is not None else exc
    if not isinstance(exc, RunInterrupted):
        return
    paths = {name: getattr(args, name, None) for name in ("json", "junit", "matrix", "summary")}
    if not any(paths.values()):
        return
    text = terminal.summary(exc.result, verbose=getattr(args, "verbose", False))
    text += f"\nthe run was {word}: the cases it had not finished are not in these reports"
    write_reports(
        exc.result, json=paths["json"], junit_xml=paths["junit"], matrix_md=paths["matrix"],
        summary=paths["summary"], summary_text=text,
    )  # fmt: skip


@contextlib.contextmanager
def _stop_signals(received: list[int]) -> Iterator[None]:
    """While the command runs: SIGTERM and SIGHUP (where not ignored) raise ``KeyboardInterrupt`` as Ctrl-C
    does, by way of the SIGINT handler in place (trio's, which delivers it where it is safe, or Python's
    own); ``received`` collects the signals that came. Only in the main thread; the handlers are put back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        received.append(signum)
        interrupt = signal.getsignal(signal.SIGINT)
        if callable(interrupt):
            interrupt(signal.SIGINT, frame)
        else:  # SIGINT ignored or default: stop all the same
            raise KeyboardInterrupt

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
