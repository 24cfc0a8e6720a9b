"""The cassette commands of ``wirecheck``: ``record``, ``cassette scan|import|export|show``, and the
cassette side of ``serve``.

``add_commands(subparsers)`` registers ``record`` and ``cassette`` on the ``wirecheck`` parser
(``harness/cli.py``); ``serve_cassettes`` is what ``wirecheck serve CASSETTE_OR_FOLDER`` runs. Each is a
thin face over a library call of this package:

- ``wirecheck serve CASSETTE_OR_FOLDER [--speed S] [--ignore JSON_PATH] [--ignore-query NAME]
  [--ignore-path-version] [--repeat]``: the cassettes' interactions (``replay.Replay``) on the mock server
  (``mocks.server.run_server``) until Ctrl-C or SIGTERM; requests no interaction matched are reported on
  stderr as they come; at the end every unused interaction and unmatched request is listed on stderr and
  the exit status is 1 if there was any (0 otherwise);

- ``wirecheck record --upstream URL --out FILE [--host H] [--port 0] [--name N]``: the recording proxy
  (``record.run_recorder``) until Ctrl-C, each exchange appended to FILE as it completes; exit 1 when an
  exchange was left out as still secret-looking (named on stderr; the file holds the others);
- ``wirecheck cassette scan PATH...``: ``scrub.scan``; exit 1 listing ``file:line`` findings (a file that
  cannot be read or parsed is one: it is not proven clean; a journal's torn tail is searched as text), 0 when clean;
- ``wirecheck cassette import SOURCE... --out DIR [--from vcr|har]``: VCR.py YAML files/folders or HAR files
  to cassettes, one line per file with its outcome (imported, out of scope and why, failed); exit 1 if a
  file failed;
- ``wirecheck cassette export CASSETTE --to har|vcr [--out FILE]``;
- ``wirecheck cassette show PATH... [--where key=value]... [--json] [--check [--max-age-days N]]``: the
  index of every interaction; ``--check`` also reports drift (``drift.drift``: a stale index, bodies the
  current wire schemas reject, old recordings) and then exits 1.

Bad input (a file that cannot be read or is malformed, a flag out of range: ``harness.cli.check_flags``)
is one line on stderr naming the file (line and field) or the flag, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from harness.flags import number_or_text, whole_or_text

__all__ = ["add_commands", "serve_cassettes"]


def serve_cassettes(
    source: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    speed: float = 1.0,
    ignore: Sequence[str] = (),
    ignore_query: Sequence[str] = (),
    ignore_path_version: bool = False,
    once: bool = True,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """``wirecheck serve`` of a cassette file or a folder of cassettes (module doc). Returns the exit status;
    ``CassetteError`` for a cassette that cannot be used (or a folder without any), ``ServeError`` when the
    host or port cannot be listened on."""
    from harness.cassettes.format import CassetteError
    from harness.cassettes.replay import Replay
    from mocks.engine import MockUpstream
    from mocks.server import run_server

    replay = Replay(
        source,
        speed=speed,
        ignore=ignore,
        ignore_query=ignore_query,
        ignore_path_version=ignore_path_version,
        once=once,
    )
    if not replay.cassettes:
        raise CassetteError(
            str(source), "<folder>", "no cassettes in it (files with `wirecheck_cassette: 1`)"
        )
    upstream = MockUpstream()  # every capture kept: the account at the end counts them all
    replay.install(upstream)
    run_server(upstream, host, port, out=out, err=err)
    problems = replay.problems()
    served = len(replay.interactions) - len(replay.unused())
    print(f"served {served} of {len(replay.interactions)} interactions", file=out, flush=True)
    for problem in problems:
        print(f"wirecheck serve: {problem}", file=err, flush=True)
    return 1 if problems else 0


def _record(args: argparse.Namespace) -> int:
    """``wirecheck record``: 0; 1 when an exchange was left out (still secret-looking after scrubbing; each
    named on stderr, the file holds the others); 2 when the address or the file cannot be used."""
    from harness.cassettes.record import run_recorder

    return run_recorder(args.upstream, args.out, args.host, args.port, name=args.name, stderr=sys.stderr)


def _scan(args: argparse.Namespace) -> int:
    from harness.cassettes.scrub import SCANNED_SUFFIXES, scan

    findings = []
    files = 0
    for target in args.paths:
        path = Path(target)
        if not path.exists():
            print(f"wirecheck cassette scan: {path}: no such file or folder", file=sys.stderr)
            return 2
        files += (
            1 if path.is_file() else sum(1 for p in path.rglob("*") if p.suffix.lower() in SCANNED_SUFFIXES)
        )
        findings.extend(scan(path))
    for finding in findings:
        print(finding)
    if findings:
        unreadable = sum(1 for f in findings if f.unreadable)
        secrets = len(findings) - unreadable
        print(
            f"{secrets} possible secrets and {unreadable} unreadable files (not proven clean) in {files} files",
            file=sys.stderr,
        )
        return 1
    print(f"clean: {files} files scanned, no secrets found")
    return 0


def _import(args: argparse.Namespace) -> int:
    from harness.cassettes import format as fmt
    from harness.cassettes.har import read_har
    from harness.cassettes.vcr import import_file

    out = Path(args.out)
    failed = 0
    for source in args.sources:
        root = Path(source)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            kind = args.kind or ("har" if path.suffix.lower() == ".har" else "vcr")
            if kind == "vcr" and path.suffix.lower() not in (".yaml", ".yml"):
                continue
            target = out / (path.relative_to(root) if root.is_dir() else Path(path.name)).with_suffix(".yaml")
            if kind == "har":
                try:
                    cassette = read_har(path)
                except fmt.CassetteError as exc:
                    print(f"{path}: failed: {exc}")
                    failed += 1
                    continue
                if _save(fmt, cassette, target, path):
                    print(f"{path}: imported: {len(cassette.interactions)} interactions -> {target}")
                else:
                    failed += 1
                continue
            result = import_file(path)
            if result.cassette is None:
                failed += 1
                print(result.summary())
                continue
            if _save(fmt, result.cassette, target, path):
                print(f"{result.summary()} -> {target}")
            else:
                failed += 1
    return 1 if failed else 0


def _save(fmt: Any, cassette: Any, target: Path, path: Path) -> bool:
    """Save an imported cassette; a target that cannot be written is that file's failure (one line)."""
    try:
        fmt.save(cassette, target)
    except (OSError, fmt.CassetteError) as exc:
        print(f"{path}: failed: cannot write {target}: {getattr(exc, 'strerror', None) or exc}")
        return False
    return True


def _export(args: argparse.Namespace) -> int:
    from harness.cassettes import format as fmt
    from harness.cassettes.har import export_har
    from harness.cassettes.vcr import export_vcr

    try:
        cassette = fmt.load(args.cassette)
    except fmt.CassetteError as exc:
        print(f"wirecheck cassette export: {exc}", file=sys.stderr)
        return 2
    if args.to == "har":
        text = json.dumps(export_har(cassette), ensure_ascii=False, indent=2) + "\n"
        suffix = ".har"
    else:
        import yaml

        text = yaml.safe_dump(export_vcr(cassette), sort_keys=False, allow_unicode=True)
        suffix = ".yaml"
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    target = (
        Path(args.out)
        if args.out
        else Path(args.cassette).with_suffix(suffix if args.to == "har" else ".vcr.yaml")
    )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"wirecheck cassette export: {target}: cannot write it: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}")
    return 0


def _matches(index: dict[str, Any], where: list[tuple[str, str]]) -> bool:
    for key, want in where:
        got = index.get(key)
        if isinstance(got, list):
            if want not in got:
                return False
        elif isinstance(got, dict) or str(got).lower() != want.lower():
            return False
    return True


def _show(args: argparse.Namespace) -> int:
    from harness.cassettes import format as fmt
    from harness.cassettes.drift import drift
    from harness.cassettes.index import derive

    where = []
    for item in args.where or []:
        key, eq, value = item.partition("=")
        if not eq:
            print(f"wirecheck cassette show: --where {item!r}: expected key=value", file=sys.stderr)
            return 2
        where.append((key, value))
    cassettes: list[fmt.Cassette] = []
    try:
        for target in args.paths:
            path = Path(target)
            cassettes.extend(fmt.load_folder(path) if path.is_dir() else [fmt.load(path)])
    except fmt.CassetteError as exc:
        print(f"wirecheck cassette show: {exc}", file=sys.stderr)
        return 2
    drifted = 0
    rows = []
    for cassette in cassettes:
        if args.check:
            for problem in drift(cassette, max_age_days=args.max_age_days):
                drifted += 1
                print(f"{cassette.path}: {problem}", file=sys.stderr)
        for i, it in enumerate(cassette.interactions):
            index = it.index if it.index is not None else derive(it)
            if _matches(index, where):
                rows.append({"id": f"{cassette.id}#{i}", "file": str(cassette.path), **index})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            usage = row.get("usage") or {}
            bits = [
                row["id"],
                f"{row.get('dialect') or '-'}/{row['kind']}",
                row.get("model") or "-",
                "stream" if row.get("stream") else "json",
                str(row.get("status")),
                row.get("finish") or row.get("error") or "-",
                ",".join(row.get("tools") or []) or "-",
                f"{usage.get('input', '-')}/{usage.get('output', '-')}" if usage else "-",
                repr(row.get("preview", "")),
            ]
            print("  ".join(bits))
        print(f"{len(rows)} interactions in {len(cassettes)} cassettes", file=sys.stderr)
    return 1 if drifted else 0


def add_commands(subparsers: Any) -> None:
    """Add ``record`` and ``cassette`` (with ``scan``, ``import``, ``export``, ``show``) to ``subparsers``
    (the result of ``parser.add_subparsers()``); each sets ``run`` to its handler."""
    record = subparsers.add_parser(
        "record",
        help="record an upstream through a loopback proxy into a cassette",
        description="Forward requests to --upstream, stream the answers back as they arrive, and append "
        "every exchange (secrets scrubbed, chunks and timing exact) to --out as soon as it completes; "
        "stop with Ctrl-C.",
    )
    record.add_argument(
        "--upstream", required=True, help="base URL to forward to, e.g. https://api.openai.com"
    )
    record.add_argument("--out", required=True, help="the cassette to write (.yaml or .json)")
    record.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    record.add_argument(
        "--port", type=whole_or_text, default=0, help="port to bind, 0..65535 (default: 0, any free port)"
    )
    record.add_argument("--name", default=None, help="the cassette's name (default: the file name)")
    record.set_defaults(run=_record)

    cassette = subparsers.add_parser(
        "cassette", help="scan, import, export and show cassettes", description="Work with cassette files."
    )
    commands = cassette.add_subparsers(dest="cassette_command", required=True, metavar="COMMAND")

    scan = commands.add_parser(
        "scan",
        help="prove files hold no secrets (exit 1 with file:line findings)",
        description="Scan cassettes (and any YAML/JSON/HAR file) for API keys, tokens and credentials.",
    )
    scan.add_argument("paths", nargs="+", help="files or folders (searched recursively)")
    scan.set_defaults(run=_scan)

    imp = commands.add_parser(
        "import",
        help="import VCR.py / pytest-recording YAML or HAR files as cassettes",
        description="Convert VCR.py YAML (files or folders, recursively) or HAR 1.2 files to cassettes.",
    )
    imp.add_argument("sources", nargs="+", help="files or folders")
    imp.add_argument("--out", required=True, help="folder for the cassettes (the source layout is kept)")
    imp.add_argument("--from", dest="kind", choices=("vcr", "har"), default=None, help="default: by suffix")
    imp.set_defaults(run=_import)

    exp = commands.add_parser(
        "export", help="export a cassette to HAR 1.2 or VCR.py YAML", description="Export one cassette."
    )
    exp.add_argument("cassette", help="the cassette file")
    exp.add_argument("--to", choices=("har", "vcr"), default="har", help="default: %(default)s")
    exp.add_argument("--out", default=None, help="output file ('-': stdout; default: beside the cassette)")
    exp.set_defaults(run=_export)

    show = commands.add_parser(
        "show",
        help="list the index of every interaction (search with --where)",
        description="Print one line per interaction: id, dialect/kind, model, stream, status, finish, tools, "
        "usage in/out, text preview.",
    )
    show.add_argument("paths", nargs="+", help="cassette files or folders")
    show.add_argument(
        "--where", action="append", metavar="KEY=VALUE", help="keep interactions whose index matches"
    )
    show.add_argument("--json", action="store_true", help="print JSON rows")
    show.add_argument(
        "--check",
        action="store_true",
        help="exit 1 on drift: a stale index, bodies the current wire schemas reject, or (with "
        "--max-age-days) an old recording",
    )
    show.add_argument(
        "--max-age-days", type=number_or_text, default=None, help="with --check: the oldest recording allowed"
    )
    show.set_defaults(run=_show)
