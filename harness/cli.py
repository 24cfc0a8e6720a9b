"""The ``wirecheck`` command line: a thin face over library calls.

``wirecheck serve SCRIPT [--host 127.0.0.1] [--port 0] [--capture-limit N]``: serve a script's mock
upstreams (``mocks.server.run_server``) until Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys

from mocks.script import ScriptError
from mocks.server import run_server


def _serve(args: argparse.Namespace) -> int:
    try:
        return run_server(args.script, args.host, args.port, capture_limit=args.capture_limit or None)
    except ScriptError as exc:
        print(f"wirecheck serve: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wirecheck", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
