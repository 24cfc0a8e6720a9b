"""``python -m benchmarks``: every benchmark, a table of goals (met or not) and ``reports/bench.json``.

    python -m benchmarks [--only translation sse passthrough suite mock abuse] [--quick] [--json reports/bench.json]

Sections: translation (ours vs LiteLLM, 6 directions x request/response/stream event), sse (our decoder vs
openai's and httpx-sse's), passthrough (raw forwarding overhead vs bare httpx; 200 MB stream in constant
memory), suite (``wirecheck run`` wall time), mock (``wirecheck serve`` vs a bare trio+h11 server and the
third-party mocks aimock and llmock when installed, under wrk when installed), abuse (``wirecheck serve``'s
real clients' latency and its peak RSS under slowloris sockets and 8 x 60 MB bodies, vs no abuse).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchmarks._timing import Goal, machine, print_goals, write_json

SECTIONS = ("translation", "sse", "passthrough", "suite", "mock", "abuse")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="tiny repetitions: proves the scripts run")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", type=Path, default=Path("reports/bench.json"))
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    goals: list[Goal] = []
    extra: dict[str, Any] = {"machine_start": machine()}  # the load when the run began, beside the end's
    for section in args.only:
        if section == "translation":
            from benchmarks import translation

            g, e = translation.run(rounds=rounds, target=0.002 if args.quick else 0.02)
        elif section == "sse":
            from benchmarks import sse_decoder

            g, e = sse_decoder.run(rounds=rounds, size_mb=0.1 if args.quick else 1.0)
        elif section == "passthrough":
            from benchmarks import passthrough

            g, e = passthrough.run(
                rounds=rounds, batch=5 if args.quick else 50, stream_mb=5 if args.quick else 200
            )
        elif section == "suite":
            from benchmarks import suite

            g, e = suite.run(["stream.bytes"] if args.quick else None)
        elif section == "abuse":
            from benchmarks import abuse

            g, e = abuse.run(
                seconds=1 if args.quick else 8,
                rounds=1 if args.quick else 2,
                scale=0.02 if args.quick else 1.0,
            )
        else:
            from benchmarks import mock_server

            g, e = mock_server.run(
                seconds=1 if args.quick else 6,
                rounds=1 if args.quick else 3,
                connections=(1,) if args.quick else (1, 10, 50),
            )
        goals += g
        extra.update(e)
    m = machine()
    print(f"{m['date']}  nproc={m['nproc']}  {m['cpu']}  python {m['python']}  load {m['loadavg']:.2f}")
    if "translation" in extra:
        print("timed:", extra["translation"]["timed"])
    print_goals(goals)
    write_json(args.json, goals, extra)
    print(f"wrote {args.json}; the README's speed table: python -m benchmarks.readme --json {args.json}")


if __name__ == "__main__":
    main()
