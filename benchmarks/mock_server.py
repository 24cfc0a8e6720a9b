"""Throughput of the standalone mock server (``mocks.server``) against a bare trio + h11 server.

Starts two server processes: the mock (``run_server`` on a script with a small JSON chat reply and
a 50-event SSE chat reply) and a bare trio + h11 server that answers the very same bytes in the same
writes (same headers, same body, the SSE body as the same 51 chunks, all in one write as the mock sends
an unpaced reply) with no routing, matching, generation or capture.
This process is the load generator: N keep-alive connections (raw sockets under trio, one request in
flight per connection, minimal response parsing) send requests for a fixed time, alternating between
the two servers. It prints requests/s for each server, the mock/bare ratio, and the CPU time each server
process spent per request (read from ``/proc``): the load generator is Python too and shares the
machine, so at high rates it can be the bottleneck, and CPU per request is the figure it cannot blur.

Beside them, the third-party mock servers of ``benchmarks/third_party.py`` (aimock, llmock), scripted to
answer the same requests, checked once per kind (status 200, parsed) and loaded in the same rounds; one
that is missing or answers anything else is reported as such, with no rate. With ``--before DIR``, the
mock of another checkout (say the main branch's worktree) is loaded in the same rounds too, as
``before``: a change's effect measured in one run, as ratios. For SSE the table also gives events per
second (requests/s times the ``data:`` events each server's reply carries: ours 51, aimock's and
llmock's 53), the figure that compares servers whose streams differ in length.

    python benchmarks/mock_server.py [--seconds 3] [--rounds 3] [--connections 1 10 50] [--tools aimock]
                                     [--before ../main]

Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h11
import trio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import third_party  # noqa: E402
from benchmarks._h11 import read_request  # noqa: E402
from mocks.engine import MockUpstream, Request  # noqa: E402

HEADERS = [("Host", "127.0.0.1"), ("Authorization", "Bearer sk-bench"), ("Content-Type", "application/json")]
MESSAGES = [{"role": "user", "content": "hello"}]
BODIES = {
    "json": json.dumps({"model": "gpt-4o", "messages": MESSAGES}).encode(),
    "sse": json.dumps({"model": "gpt-4o", "messages": MESSAGES, "stream": True}).encode(),
}
SCRIPT = {
    "rules": [
        {
            "name": "sse",
            "match": {"path": "/v1/chat/completions", "json": {"stream": True}},
            "reply": {
                "events": [
                    {"data": {"i": i, "choices": [{"delta": {"content": f" word{i}"}}]}} for i in range(50)
                ]
            },
        },
        {
            "name": "json",
            "match": {"path": "/v1/chat/completions"},
            "reply": {"answer": {"text": "A small answer."}},
        },
    ]
}


def _request_bytes(kind: str) -> bytes:
    body = BODIES[kind]
    head = "POST /v1/chat/completions HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in HEADERS)
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


# --- the bare server: same bytes, nothing else ------------------------------------------------------------


def _canned_replies() -> dict[str, tuple[int, list[tuple[str, str]], list[bytes], int | None]]:
    upstream = MockUpstream(SCRIPT)
    out = {}
    for kind, body in BODIES.items():
        reply = upstream.handle(Request("POST", "/v1/chat/completions", HEADERS, body))
        out[kind] = (reply.status, reply.headers, [f.data for f in reply.frames], reply.content_length)
    return out


async def _bare_connection(stream: trio.SocketStream, canned: dict) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            body = await read_request(conn, stream)
            if body is None:
                return
            status, headers, frames, length = canned["sse" if b'"stream": true' in body else "json"]
            if length is not None:
                headers = [*headers, ("content-length", str(length))]
            out = [conn.send(h11.Response(status_code=status, headers=headers))]
            out += [conn.send(h11.Data(data=frame)) for frame in frames]
            out.append(conn.send(h11.EndOfMessage()))
            await stream.send_all(b"".join(out))  # one write, as the mock sends an unpaced reply
            conn.start_next_cycle()
    except (trio.BrokenResourceError, h11.ProtocolError):
        pass
    finally:
        await stream.aclose()


async def _serve_bare() -> None:
    canned = _canned_replies()
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    print(f"bare: http://127.0.0.1:{listeners[0].socket.getsockname()[1]}", flush=True)
    await trio.serve_listeners(lambda s: _bare_connection(s, canned), listeners)


# --- the load generator --------------------------------------------------------------------------------------


async def _worker(port: int, request: bytes, deadline: float, done: list[int]) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        while trio.current_time() < deadline:
            await stream.send_all(request)
            buffer = b""
            length = None
            end = -1
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    raise RuntimeError("server closed the connection")
                buffer += data
                if end < 0:
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    if not buffer.startswith(b"HTTP/1.1 2"):
                        raise RuntimeError(f"answered {buffer[:12].decode(errors='replace')}")
                    head = buffer[:end].lower()
                    marker = head.find(b"content-length: ")
                    if marker >= 0:
                        length = int(head[marker + 16 :].split(b"\r\n", 1)[0])
                if length is not None:
                    if len(buffer) >= end + 4 + length:
                        break
                elif buffer.endswith(b"\r\n0\r\n\r\n"):
                    break
            done[0] += 1


async def _load(port: int, kind: str, connections: int, seconds: float) -> float:
    request = _request_bytes(kind)
    done = [0]
    deadline = trio.current_time() + seconds
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(connections):
            nursery.start_soon(_worker, port, request, deadline, done)
    return done[0] / (time.perf_counter() - started)


def _start(args: list[str]) -> tuple[subprocess.Popen[str], int]:
    return _start_command([sys.executable, *args])


def _start_command(command: list[str], cwd: Path = ROOT) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=cwd)
    line = process.stdout.readline()  # "<name>: http://127.0.0.1:PORT[/v1]"
    port = int(line.split(":")[-1].split("/")[0])
    return process, port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- wrk, when installed: a C load generator pinned to its own core ------------------------------------------


def _wrk_script(kind: str, tmp: Path) -> Path:
    body = BODIES[kind].decode()
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in HEADERS if k != "Host"]
    path = tmp / f"{kind}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def _load_wrk(port: int, kind: str, connections: int, seconds: float, tmp: Path) -> float:
    command = [
        *_pin(1),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(seconds, 1):g}s",
        "-s",
        str(_wrk_script(kind, tmp)),
    ]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}/v1/chat/completions"], capture_output=True, text=True
    )
    for line in out.stdout.splitlines():
        if "Non-2xx or 3xx responses:" in line:  # wrk counts them in Requests/sec: not throughput
            raise RuntimeError(f"wrk: {line.split(':')[1].strip()} non-2xx answers")
    for line in out.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError(f"wrk failed: {out.stdout} {out.stderr}")


# --- the --workers experiment: N mock processes on one port (SO_REUSEPORT) ---------------------------------


async def _serve_worker(port: int, script: str) -> None:
    """One mock process listening on ``port`` beside others (SO_REUSEPORT: the kernel spreads connections)."""
    import functools
    import socket

    from mocks.server import serve

    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    await sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    async with trio.open_nursery() as nursery:
        await nursery.start(functools.partial(serve, script, listeners=[trio.SocketListener(sock)]))
        print(f"worker: http://127.0.0.1:{port}", flush=True)


def workers_experiment(counts: list[int], connections: list[int], seconds: float, rounds: int) -> None:
    """Requests/s and CPU µs/request of the mock run as N processes sharing one port, under wrk (on CPU 1),
    each N pinned to CPU 0 (as the bench pins every server) and unpinned. Captures and rule counters are
    per process here (nothing merges them): a measurement, not a way to serve a script."""
    import socket

    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        script = tmp / "bench.json"
        script.write_text(json.dumps(SCRIPT))
        for kind in ("json", "sse"):
            for n in connections:
                results: dict[str, list[tuple[float, float]]] = {}
                for _ in range(rounds):
                    for count in counts:
                        for pinned in (True, False):
                            with socket.socket() as probe:
                                probe.bind(("127.0.0.1", 0))
                                port = probe.getsockname()[1]
                            command = [*(_pin(0) if pinned else []), sys.executable, __file__]
                            command += ["--serve-worker", str(port), str(script)]
                            processes = [_start_command(command)[0] for _ in range(count)]
                            try:
                                before = sum(_cpu_seconds(p.pid) for p in processes)
                                rate = _load_wrk(port, kind, n, seconds, tmp)
                                spent = sum(_cpu_seconds(p.pid) for p in processes) - before
                            finally:
                                for process in processes:
                                    process.terminate()
                                    process.wait()
                            label = f"{count} on {'CPU 0' if pinned else 'any CPU'}"
                            results.setdefault(label, []).append((rate, 1e6 * spent / (rate * seconds)))
                cells = [
                    f"{label}: {statistics.median(r for r, _ in v):.0f} req/s "
                    f"{statistics.median(c for _, c in v):.0f} µs"
                    for label, v in results.items()
                ]
                print(f"{kind} @ {n} (load {os.getloadavg()[0]:.1f}): " + "; ".join(cells), flush=True)


def measure(
    seconds: float,
    rounds: int,
    connections: list[int],
    use_wrk: bool | None = None,
    tools: tuple[str, ...] = third_party.TOOLS,
    before: Path | None = None,
) -> list[tuple]:
    """Rows (kind, connections, mock req/s, bare req/s, mock CPU µs/req, bare CPU µs/req, generator, servers):
    ``servers`` maps every server (mock, bare, ``before`` when given: the mock of that checkout, then
    ``tools``) to its rps, eps (events/s, SSE only), cpu_us, reply bytes, version and error; a server that
    is out or failed has rps None and the reason in error."""
    if use_wrk is None:
        use_wrk = shutil.which("wrk") is not None
    generator = "wrk" if use_wrk else "python"
    rows = []
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        script = tmp / "bench.json"
        script.write_text(json.dumps(SCRIPT))
        commands = {
            "mock": [
                *_pin(0),
                sys.executable,
                "-c",
                f"from mocks.server import run_server; run_server({str(script)!r})",
            ],
            "bare": [*_pin(0), sys.executable, __file__, "--serve-bare"],
        }
        servers = {name: _start_command(command) for name, command in commands.items()}
        if before is not None:
            code = f"from mocks.server import run_server; run_server({str(script)!r})"
            command = [*_pin(0), sys.executable, "-c", code]  # -c: the checkout's own modules come first
            servers["before"] = _start_command(command, cwd=before)
        others = {name: third_party.start(name, tmp, _pin(0)) for name in tools}
        try:
            started = {
                name: third_party.Tool(name, process=p, port=port) for name, (p, port) in servers.items()
            }
            ours = {name: started[name] for name in ("mock", "bare")}
            for tool in [*started.values(), *others.values()]:
                third_party.check(tool, HEADERS, BODIES)
            for tool in started.values():
                if tool.error:
                    raise RuntimeError(f"{tool.name}: {tool.error}")
            everyone = {**started, **others}
            for kind in ("json", "sse"):
                for n in connections:

                    def load(port: int, span: float, kind: str = kind, n: int = n) -> float:
                        if use_wrk and span >= 1:
                            return _load_wrk(port, kind, n, span, tmp)
                        return trio.run(_load, port, kind, n, span)

                    span = max(seconds / rounds, 1) if use_wrk else seconds / rounds
                    rates: dict[str, list[float]] = {name: [] for name in everyone}
                    cpu: dict[str, float] = dict.fromkeys(everyone, 0.0)
                    for tool in everyone.values():
                        third_party.rate(tool, lambda port: load(port, 0.3))  # warm-up
                    names = list(everyone)
                    for r in range(rounds):
                        for name in names[r % len(names) :] + names[: r % len(names)]:
                            tool = everyone[name]
                            if tool.error:
                                continue
                            before = _cpu_seconds(tool.process.pid)
                            rate = third_party.rate(tool, lambda port, span=span: load(port, span))
                            if rate is not None:
                                cpu[name] += _cpu_seconds(tool.process.pid) - before
                                rates[name].append(rate)
                    for tool in started.values():
                        if tool.error:
                            raise RuntimeError(f"{tool.name}: {tool.error}")
                    figures = {}
                    for name, tool in everyone.items():
                        good = rates[name] and not tool.error
                        events = tool.replies.get(kind, {}).get("events")
                        figures[name] = {
                            "rps": statistics.median(rates[name]) if good else None,
                            "eps": statistics.median(rates[name]) * events if good and events else None,
                            "cpu_us": 1e6 * cpu[name] / max(sum(rates[name]) * span, 1) if good else None,
                            "bytes": tool.replies.get(kind, {}).get("bytes"),
                            "events": events,
                            "version": tool.version,
                            "error": tool.error,
                        }
                    ours_figures = [figures[name][key] for key in ("rps", "cpu_us") for name in ours]
                    rows.append((kind, n, *ours_figures, generator, figures))
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait()
            for tool in others.values():
                third_party.stop(tool)
    return rows


def run(
    seconds: float = 6.0,
    rounds: int = 3,
    connections: tuple[int, ...] = (1, 10, 50),
    before: Path | None = None,
) -> tuple[list, dict]:
    """The framework entry: mock req/s ≥ 50 % of the bare server's at every point, and ahead of each
    third-party mock at its worst point, in requests/s and (SSE) in events/s (no figure when a point is
    missing: out, or an error answer). ``before``: see ``measure``."""
    from benchmarks._timing import Goal

    rows = measure(seconds, rounds, list(connections), before=before)
    goals = []
    for kind, n, mock, bare, mock_cost, bare_cost, generator, _ in rows:
        goals.append(
            Goal(
                "mock-server",
                f"wirecheck serve {kind} @ {n} conns vs bare trio+h11",
                mock / bare,
                0.5,
                detail=f"mock {mock:.0f} req/s, bare {bare:.0f} req/s ({generator}); server CPU/req: mock "
                f"{mock_cost:.0f} µs, bare {bare_cost:.0f} µs",
                figures={
                    "mock_rps": mock,
                    "bare_rps": bare,
                    "mock_cpu_us": mock_cost,
                    "bare_cpu_us": bare_cost,
                },
            )
        )
    for name in third_party.TOOLS:
        points = {f"{row[0]}@{row[1]}": (row[2], row[7][name]) for row in rows}
        ratios = {p: mock / f["rps"] for p, (mock, f) in points.items() if f["rps"]}
        last = rows[-1][7][name]
        detail = (
            [f"mock/{name} req/s: " + ", ".join(f"{p} {r:.2f}x" for p, r in ratios.items())] if ratios else []
        )
        if last["error"]:
            detail.append(f"{name}: {last['error']}")
        goals.append(
            Goal(
                "mock-server",
                f"wirecheck serve ahead of {name} {last['version'] or ''}".strip() + " (worst point)",
                min(ratios.values()) if ratios and len(ratios) == len(points) else None,
                1.0,
                detail="; ".join(detail),
                figures={"ratios": ratios, "version": last["version"], "error": last["error"]},
            )
        )
        streams = {
            f"sse@{row[1]}": (row[7]["mock"]["eps"], row[7][name]["eps"]) for row in rows if row[0] == "sse"
        }
        event_ratios = {p: ours / theirs for p, (ours, theirs) in streams.items() if ours and theirs}
        if streams:
            goals.append(
                Goal(
                    "mock-server",
                    f"wirecheck serve SSE events/s ahead of {name} (worst point)",
                    min(event_ratios.values()) if len(event_ratios) == len(streams) else None,
                    1.0,
                    detail=", ".join(f"{p} {r:.2f}x" for p, r in event_ratios.items()),
                    figures={"ratios": event_ratios},
                )
            )
    keys = ("kind", "connections", "mock_rps", "bare_rps", "mock_cpu_us", "bare_cpu_us", "generator")
    keys += ("servers",)
    return goals, {
        "mock_server": [dict(zip(keys, row, strict=True)) for row in rows],
        "third_party_differences": third_party.DIFFERENCES,
    }


def _fmt(value: float | None, width: int) -> str:
    return f"{'-' if value is None else f'{value:.0f}':>{width}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="load time per server and point")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds the time is split into")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    parser.add_argument(
        "--tools",
        nargs="*",
        choices=third_party.TOOLS,
        default=list(third_party.TOOLS),
        help="third-party mocks",
    )
    parser.add_argument("--before", type=Path, help="also load the mock of this checkout, as 'before'")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        help="instead: the SO_REUSEPORT experiment with these process counts (needs wrk)",
    )
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        trio.run(_serve_bare)
        return
    if args.serve_worker:
        trio.run(_serve_worker, int(args.serve_worker[0]), args.serve_worker[1])
        return
    if args.workers:
        workers_experiment(args.workers, args.connections, max(args.seconds / args.rounds, 1), args.rounds)
        return

    rows = measure(
        args.seconds,
        args.rounds,
        args.connections,
        use_wrk=False if args.python_load else None,
        tools=tuple(args.tools),
        before=args.before,
    )

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; ",
        end="",
    )
    print(
        f"{args.seconds:g} s per server and point in {args.rounds} interleaved rounds; keep-alive connections; "
        f"load by {rows[0][6] if rows else '?'}"
    )
    names = list(rows[0][7]) if rows else []
    others = names[2:]
    print(
        f"{'reply':<6}{'conns':>6}"
        + "".join(f"{name + ' req/s':>14}" for name in names)
        + f"{'mock/bare':>10}"
        + "".join(f"{'mock/' + name:>13}" for name in others)
    )
    for kind, n, mock, bare, *_, figures in rows:
        ratios = [mock / figures[name]["rps"] if figures[name]["rps"] else None for name in others]
        print(
            f"{kind:<6}{n:>6}"
            + "".join(_fmt(figures[name]["rps"], 14) for name in names)
            + f"{mock / bare:>10.2f}"
            + "".join(f"{'-' if r is None else f'{r:.2f}':>13}" for r in ratios)
        )
    print("SSE events/s (events per reply)")
    for kind, n, *_, figures in rows:
        if kind == "sse":
            cells = [f"{_fmt(f['eps'], 8)} ({f['events'] or '-'})" for f in figures.values()]
            ratios = [figures["mock"]["eps"] / f["eps"] if f["eps"] else None for f in figures.values()]
            shown = "".join(f"{'-' if r is None else f'{r:.2f}':>8}" for r in ratios[1:])
            print(f"{kind:<6}{n:>6}" + "".join(f"{c:>18}" for c in cells) + "   mock/each:" + shown)
    print("server CPU µs/request (reply bytes)")
    for kind, n, *_, figures in rows:
        cells = [f"{_fmt(f['cpu_us'], 8)} ({f['bytes'] or '-'})" for f in figures.values()]
        print(f"{kind:<6}{n:>6}" + "".join(f"{c:>18}" for c in cells))
    for name in (n for n in others if n in third_party.DIFFERENCES):
        figures = rows[-1][7][name] if rows else {}
        state = figures.get("error") or "ok"
        print(f"{name} {figures.get('version', '')}: {state}; differences: {third_party.DIFFERENCES[name]}")


if __name__ == "__main__":
    main()
