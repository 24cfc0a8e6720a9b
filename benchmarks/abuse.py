"""The standalone mock server under abuse: real clients beside slowloris sockets and huge request bodies.

Two ``wirecheck serve`` processes with their default limits (``mocks.server.Limits``), each started with
an open-file soft limit of 1024 (a common default, so descriptors can run out as they did in issue 16):
the **reference** only ever sees the real clients; the **abused** one also sees, in a separate process
(so the attackers' event loop never delays the real clients' own), ``slowloris`` connections that send a
request head one header line per second and reconnect whenever they are closed, and ``bodies`` uploaders
that each send a ``body_mb`` MB request body again and again (8 x 60 MB at ``--scale 1``: over the 32 MiB
body cap, so each is answered 413 and only hashed).

In each round the real clients (``clients`` concurrent loops, a fresh connection per request: new
connections are what a connection cap can keep out) send small chat requests for ``seconds`` to the
reference, then to the abused server while the attack runs (the order rotates per round). Reported:
the real clients' latency p50 / p99 under abuse as a ratio to the reference's, their failures, and the
abused server's peak RSS (``VmHWM``) and RSS once the attack is over, each as a ratio to the reference's.

    python -m benchmarks.abuse [--seconds 8] [--rounds 2] [--scale 1.0]

Not a test: numbers depend on the machine (``tests/benchmarks`` only proves it runs, at a tiny scale).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._timing import Goal, peak_rss_bytes, print_goals, rss_bytes  # noqa: E402

SERVER_NOFILE = 1024
BODY_CAP = 32 << 20  # the server's default --max-body
CHAT = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}).encode()
REQUEST = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-bench\r\n"
    b"Content-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(CHAT)
) + CHAT
WAIT = 10.0  # seconds a real request may take before it counts as failed


# --- the servers ---------------------------------------------------------------------------------------------


def _limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def start_server(extra: list[str]) -> tuple[subprocess.Popen[str], int]:
    """``wirecheck serve`` (generated replies everywhere) with ``extra`` flags; the process and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=_limit_files,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "openai: http://127.0.0.1:PORT/v1"
    if not line:
        process.kill()
        raise RuntimeError(f"wirecheck serve did not start: {process.communicate(timeout=10)[1][-500:]}")
    return process, int(line.rsplit(":", 1)[1].split("/")[0])


def stop_server(process: subprocess.Popen[str]) -> str:
    """Stop the server (SIGTERM, then a kill) and return its stderr."""
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate(timeout=10)
    return err


# --- the real clients ----------------------------------------------------------------------------------------


async def _one(port: int) -> float:
    """One chat request on a fresh connection; its latency in seconds (raises on any failure)."""
    started = time.perf_counter()
    with trio.fail_after(WAIT):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(REQUEST)
            data = b""
            while chunk := await stream.receive_some(65536):
                data += chunk
    if not data.startswith(b"HTTP/1.1 200 "):
        raise RuntimeError(f"answered {data[:40]!r}")
    return time.perf_counter() - started


async def real_clients(port: int, clients: int, seconds: float) -> tuple[list[float], int]:
    """``clients`` loops of requests for ``seconds``: the latencies and the number of failures."""
    latencies: list[float] = []
    failures = 0
    deadline = trio.current_time() + seconds

    async def loop() -> None:
        nonlocal failures
        while trio.current_time() < deadline:
            try:
                latencies.append(await _one(port))
            except (OSError, RuntimeError, trio.TooSlowError, trio.BrokenResourceError):
                failures += 1

    async with trio.open_nursery() as nursery:
        for _ in range(clients):
            nursery.start_soon(loop)
    return latencies, failures


# --- the attack (its own process) ----------------------------------------------------------------------------


async def _slowloris(port: int, counts: dict[str, int]) -> None:
    """A connection that sends a request head one header line per second, reopened whenever it is closed."""
    while True:
        try:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
        except OSError:
            counts["refused"] += 1
            await trio.sleep(0.1)
            continue
        counts["opened"] += 1
        try:
            async with stream:
                await stream.send_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                while True:
                    with trio.move_on_after(1.0):
                        if not await stream.receive_some(65536):  # closed (or a 408 then closed)
                            break
                        continue
                    await stream.send_all(b"X-Slow: 1\r\n")
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        counts["closed"] += 1
        await trio.sleep(0.1)


async def _uploader(port: int, body_bytes: int, counts: dict[str, int]) -> None:
    """Upload a ``body_bytes`` body again and again, from one shared buffer (the attacker holds no copy);
    counts the MiB sent and the answers."""
    piece = memoryview(bytes(1 << 20))
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-bench\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % body_bytes
    )
    while True:
        try:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(head)
                left = body_bytes
                while left:
                    n = min(left, len(piece))
                    await stream.send_all(piece[:n])
                    left -= n
                    counts["body MiB sent"] += 1
                answer = await stream.receive_some(65536)
                counts["answered " + answer[9:12].decode("ascii", "replace")] += 1
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            counts["upload failed"] += 1
            await trio.sleep(0.1)


def attack(port: int, slowloris: int, bodies: int, body_bytes: int) -> None:
    """Run the attack until SIGTERM; print its counts as JSON on stdout at the end."""
    from collections import Counter

    counts: Counter[str] = Counter()

    async def main() -> None:
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                for _ in range(bodies):  # first: their heads must not wait behind the slowloris crowd
                    nursery.start_soon(_uploader, port, body_bytes, counts)
                await trio.sleep(0.2)
                for _ in range(slowloris):
                    nursery.start_soon(_slowloris, port, counts)
                print("attacking", flush=True)
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    break

    trio.run(main)
    print(json.dumps(dict(counts)), flush=True)


def _start_attack(port: int, slowloris: int, bodies: int, body_bytes: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "benchmarks.abuse", "--attack", str(port)]
    command += ["--slowloris", str(slowloris), "--bodies", str(bodies), "--body-bytes", str(body_bytes)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    process.stdout.readline()  # "attacking"
    return process


def _stop_attack(process: subprocess.Popen[str]) -> dict[str, int]:
    process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return {"killed": 1}
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


# --- the measurement -------------------------------------------------------------------------------------------


def _quantile(samples: list[float], q: int) -> float | None:
    if len(samples) < 2:
        return samples[0] if samples else None
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def measure(
    seconds: float = 8.0,
    rounds: int = 2,
    scale: float = 1.0,
    clients: int = 4,
    slowloris: int = 2000,
    bodies: int = 8,
    body_mb: float = 60.0,
) -> dict[str, Any]:
    """Figures of the reference and the abused server (see the module doc). ``scale`` multiplies the
    slowloris count, the body size and the server's body cap (so a scaled body stays over the cap)."""
    slowloris = max(1, round(slowloris * scale))
    body_bytes = max(1, int(body_mb * 1e6 * scale))
    extra = [] if scale == 1.0 else ["--max-body", str(max(1, int(BODY_CAP * scale)))]
    servers = {name: start_server(extra) for name in ("reference", "abused")}
    latencies: dict[str, list[float]] = {name: [] for name in servers}
    failures = dict.fromkeys(servers, 0)
    attacks: list[dict[str, int]] = []
    try:
        for r in range(rounds):
            order = ["reference", "abused"] if r % 2 == 0 else ["abused", "reference"]
            for name in order:
                port = servers[name][1]
                attacker = _start_attack(port, slowloris, bodies, body_bytes) if name == "abused" else None
                try:
                    got, failed = trio.run(real_clients, port, clients, seconds)
                finally:
                    if attacker is not None:
                        attacks.append(_stop_attack(attacker))
                latencies[name] += got
                failures[name] += failed
        time.sleep(1.0)  # the attack's connections are gone; what the server still holds stays
        memory = {
            name: {"peak_rss": peak_rss_bytes(process.pid), "rss_after": rss_bytes(process.pid)}
            for name, (process, _) in servers.items()
        }
    finally:
        logs = {name: stop_server(process) for name, (process, _) in servers.items()}
    return {
        "seconds": seconds,
        "rounds": rounds,
        "scale": scale,
        "clients": clients,
        "slowloris": slowloris,
        "bodies": bodies,
        "body_bytes": body_bytes,
        "servers": {
            name: {
                "requests": len(latencies[name]),
                "failures": failures[name],
                "p50": _quantile(latencies[name], 50),
                "p99": _quantile(latencies[name], 99),
                **memory[name],
                "log_lines": len(logs[name].splitlines()),
                "log_head": logs[name].splitlines()[:5],
            }
            for name in servers
        },
        "attack": attacks,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def goals_of(figures: dict[str, Any]) -> list[Goal]:
    """Under abuse, vs the reference: p50 < 2x, p99 < 5x, peak RSS < 1.5x, RSS after < 1.25x, no real
    request failed, and the abused server's stderr stayed short (< 50 lines)."""
    ref, bad = figures["servers"]["reference"], figures["servers"]["abused"]
    attack = f"{figures['slowloris']} slowloris + {figures['bodies']} x {figures['body_bytes'] / 1e6:.0f} MB"
    mb = 1 << 20
    return [
        Goal(
            "abuse",
            f"real clients p50 under {attack} vs none",
            _ratio(bad["p50"], ref["p50"]),
            2.0,
            higher=False,
            detail=f"p50 {_ms(bad['p50'])} vs {_ms(ref['p50'])}; {bad['requests']} vs {ref['requests']} requests",
        ),
        Goal(
            "abuse",
            "real clients p99 under abuse vs none",
            _ratio(bad["p99"], ref["p99"]),
            5.0,
            higher=False,
            detail=f"p99 {_ms(bad['p99'])} vs {_ms(ref['p99'])}",
        ),
        Goal(
            "abuse",
            "real requests failed under abuse",
            float(bad["failures"]),
            1.0,
            higher=False,
            unit="",
            detail=f"reference: {ref['failures']} failed",
        ),
        Goal(
            "abuse",
            "server peak RSS (VmHWM) under abuse vs none",
            _ratio(bad["peak_rss"], ref["peak_rss"]),
            1.5,
            higher=False,
            detail=f"{bad['peak_rss'] / mb:.0f} MB vs {ref['peak_rss'] / mb:.0f} MB",
        ),
        Goal(
            "abuse",
            "server RSS after the abuse vs none",
            _ratio(bad["rss_after"], ref["rss_after"]),
            1.25,
            higher=False,
            detail=f"{bad['rss_after'] / mb:.0f} MB vs {ref['rss_after'] / mb:.0f} MB",
        ),
        Goal(
            "abuse",
            "server stderr lines under abuse",
            float(bad["log_lines"]),
            50.0,
            higher=False,
            unit="",
            detail="; ".join(bad["log_head"][:2]),
        ),
    ]


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.1f} ms"


def run(seconds: float = 8.0, rounds: int = 2, scale: float = 1.0) -> tuple[list[Goal], dict[str, Any]]:
    """The framework entry (``python -m benchmarks --only abuse``)."""
    figures = measure(seconds, rounds, scale)
    return goals_of(figures), {"abuse": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="slowloris count, body size and cap times this"
    )
    parser.add_argument("--attack", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--slowloris", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--bodies", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--body-bytes", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack is not None:
        with contextlib.suppress(KeyboardInterrupt):
            attack(args.attack, args.slowloris, args.bodies, args.body_bytes)
        return
    goals, extra = run(args.seconds, args.rounds, args.scale)
    print_goals(goals)
    print(json.dumps(extra["abuse"]["attack"]))


if __name__ == "__main__":
    main()
