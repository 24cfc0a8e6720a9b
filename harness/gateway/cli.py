"""``wirecheck run --gateway ...``: the gateway-mode options of ``wirecheck run`` and what they run.

``wirecheck run --gateway ADAPTER.yaml``: start the gateway the adapter describes (its upstreams pointed at
wirecheck's in-process mock) and run the suite through its front doors.
``wirecheck run --gateway-url URL --gateway-adapter ADAPTER.yaml``: attach to a gateway that is already
running; its upstreams must point at the mock: either a separate ``wirecheck serve`` (``--mock-url`` its
URL: scripts and captures go over its control endpoints) or the in-process mock on a fixed port
(``--mock-port``, with the gateway configured for ``http://127.0.0.1:PORT`` before the run).

Baseline: ``--baseline``, else the adapter's ``baseline``; reports as usual (``--json``, ``--junit``,
``--matrix``), plus ``--gateway-doc FILE``: the deviations page (harness/gateway/docs.py). Exit status:
0 only when no verdict is fail, error or mock-infidelity; 1 on failures or when the gateway died mid-run;
2 on bad input or when the gateway could not be started.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["add_arguments", "run", "wanted"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("gateway mode (harness/gateway)")
    group.add_argument(
        "--gateway", metavar="ADAPTER.yaml", help="start this gateway and run the suite through it"
    )
    group.add_argument("--gateway-url", metavar="URL", help="attach to the gateway running at URL")
    group.add_argument(
        "--gateway-adapter", metavar="ADAPTER.yaml", help="the adapter of --gateway-url's gateway"
    )
    group.add_argument(
        "--gateway-key", metavar="KEY", help="the key clients send to the gateway (default: the adapter's)"
    )
    group.add_argument(
        "--gateway-log",
        metavar="FILE",
        help="keep the started gateway's stdout/stderr in FILE (by default it goes to the run's temporary folder, removed at the end)",
    )
    group.add_argument("--gateway-doc", metavar="FILE", help="write the markdown deviations page of the run")
    group.add_argument("--summary", metavar="FILE", help="also write the terminal summary to FILE")
    group.add_argument(
        "--mock-port", type=int, default=0, metavar="N", help="port of the in-process mock (default: any)"
    )
    group.add_argument(
        "--mock-url", metavar="URL", help="use the separate `wirecheck serve` at URL as the mock"
    )
    group.add_argument(
        "--no-transparency", action="store_true", help="skip the streaming-transparency probes"
    )


def _port_problem(port: int) -> str | None:
    """Why the in-process mock cannot listen on 127.0.0.1:``port`` (``None`` for 0, any free port)."""
    import socket

    if not port:
        return None
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            return f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}"
    return None


def _first(group: BaseExceptionGroup) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def wanted(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "gateway", None) or getattr(args, "gateway_url", None))


def _fail(message: str, code: int = 2) -> int:
    print(f"wirecheck run: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from harness.baseline import Baseline
    from harness.gateway.adapter import load_adapter
    from harness.gateway.process import (
        AttachLauncher,
        GatewayError,
        GatewayStartError,
        ProcessLauncher,
        RunningGateway,
    )
    from harness.gateway.run import all_cases, gateway_providers, run_gateway
    from harness.report import terminal
    from harness.report.files import write_reports
    from harness.scenario import ScenarioError
    from harness.selection import BadInput, Shard, select_cases
    from mocks.variants import resolve_names

    if args.gateway and args.gateway_url:
        return _fail("give --gateway (start it) or --gateway-url (attach), not both")
    if args.gateway_url and not args.gateway_adapter:
        return _fail("--gateway-url needs --gateway-adapter ADAPTER.yaml (its front doors and model routes)")
    if args.provider or args.upstream:
        return _fail("--provider / --upstream do not apply in gateway mode (the adapter names the upstreams)")
    busy = _port_problem(args.mock_port)
    if busy is not None:
        return _fail(f"--mock-port {args.mock_port}: {busy}")
    try:
        adapter = load_adapter(args.gateway or args.gateway_adapter)
        shard = Shard.parse(args.shard) if getattr(args, "shard", None) is not None else None
        whole, every = select_cases(args.scenarios, args.k)
        selected = shard.keep(whole) if shard is not None else whole
        try:
            variants = resolve_names(args.variants)
        except ValueError as exc:
            raise BadInput(f"--variants: {exc}") from None
        baseline = None
        path = Path(args.baseline) if args.baseline else adapter.baseline
        if path is not None and not args.no_baseline:
            baseline = Baseline.load(path)
    except (BadInput, ScenarioError) as exc:
        return _fail(str(exc))
    if not whole:
        return _fail(f"no case matches -k {' '.join(args.k or [])}")
    if args.gateway:
        launcher = ProcessLauncher(adapter, log_path=args.gateway_log, master_key=args.gateway_key)
    else:
        launcher = AttachLauncher(adapter, args.gateway_url, master_key=args.gateway_key)

    cases = all_cases(selected, adapter, not args.no_transparency)
    puts = gateway_providers(adapter, "http://counting.invalid")
    total = sum(1 for c in cases for p in puts if p.applies(c)) * len(variants)
    progress = terminal.Progress(total)

    def ready(gateway: RunningGateway, upstreams: Mapping[str, str]) -> None:
        routes = ", ".join(f"{d} → {upstreams[d]}" for d in adapter.dialects)
        log = f"; log {gateway.log_path}" if gateway.log_path else ""
        print(f"gateway {adapter.name} ready at {gateway.url} (upstreams: {routes}){log}", file=sys.stderr)

    error: GatewayError | None = None
    try:
        result = run_gateway(
            selected,
            adapter,
            launcher,
            baseline=baseline,
            known_cases={c.id for c in every},
            deadline=args.deadline,
            sdk=not args.no_sdk,
            transparency=not args.no_transparency,
            mock_port=args.mock_port,
            mock_url=args.mock_url,
            progress=progress,
            on_ready=ready,
            profile=args.profile,
            variants=variants,
        )
    except GatewayStartError as exc:
        progress.close()
        return _fail(str(exc), 2)
    except BaseExceptionGroup as group:  # the mock could not listen after all (taken since the check)
        from mocks.server import ServeError

        found, rest = group.split(ServeError)
        if found is None or rest is not None:
            raise
        progress.close()
        return _fail(f"--mock-port {args.mock_port}: {_first(found)}", 2)
    except GatewayError as exc:  # died, or the run stopped: report what was collected
        progress.close()
        if exc.result is None:
            return _fail(str(exc), 1)
        error, result = exc, exc.result
    except KeyboardInterrupt:
        progress.close()  # the line main prints starts a line of its own
        raise
    progress.close()
    version = f" {adapter.version}" if adapter.version else ""
    text = (
        terminal.summary(result, verbose=args.verbose)
        + f"\ngateway: {adapter.name}{version} ({adapter.source})"
    )
    if baseline is not None:
        text += f"\nbaseline: {baseline.source} ({len(baseline.entries)} entries)"
    if error is not None:
        text += f"\nthe run stopped early: {error}"
    print(text)
    record = None
    if shard is not None:  # every shard runs the transparency probes; the merge keeps one shard's
        from harness.report.merge import record as shard_record

        record = shard_record(
            shard, whole, every, result, variants=variants, profile=args.profile, baseline=baseline
        )
    written = write_reports(
        result,
        shard=record,
        json=args.json,
        junit_xml=args.junit,
        matrix_md=args.matrix,
        summary=args.summary,
        summary_text=text,
    )
    if args.gateway_doc:
        from harness.gateway import docs

        Path(args.gateway_doc).parent.mkdir(parents=True, exist_ok=True)
        docs.write(result, adapter, baseline, args.gateway_doc)
        print(f"wrote {args.gateway_doc}")
    if error is not None:
        print(f"wirecheck run: {error}", file=sys.stderr)
        return 1
    return result.exit_code if written else 1
