"""Command-line flags checked before a ``wirecheck`` command starts: one line naming the flag, exit 2.

``check_flags(args)`` looks at the parsed flags of any command (by argparse ``dest``, so a command without
a flag is not concerned) and returns the first problem:

- ``--deadline``: a finite number of seconds above 0;
- ``--concurrency`` (from 1) and ``--capture-limit`` (from 0): whole numbers;
- ``--port`` (serve, record) and ``--mock-port`` (gateway mode): whole numbers in 0..65535;
- ``--max-age-days``: a finite number >= 0;
- ``--gateway-url``, ``--mock-url`` and record's ``--upstream``: http(s) URLs;
- report files (``--json``, ``--junit``, ``--matrix``, ``--summary``, ``--gateway-doc``, record's
  ``--out``): not a folder, and their folder created now, so reports are never lost after a long run;
- each ``--provider module:Class``: its module imports (a module that raises while importing is named
  with its exception; a module that is not there is left to the runner's own message).

Numeric flags are parsed with ``whole_or_text`` / ``number_or_text`` so a word given for a number is
reported here in one line too, rather than by argparse with its usage.
"""

from __future__ import annotations

import argparse
import importlib
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

__all__ = ["JSON_PATH", "FlagProblem", "check_flags", "number_or_text", "whole_or_text"]


@dataclass(frozen=True, slots=True)
class FlagProblem:
    """Why a command's flags cannot be used: the command (``run``, ``cassette export``) and one line."""

    command: str
    message: str

    def __str__(self) -> str:
        return f"wirecheck {self.command}: {self.message}"

    def report(self, err: TextIO | None = None) -> int:
        """Print the line on stderr; the exit status (2)."""
        print(self, file=err or sys.stderr)
        return 2


#: A body path of ``--ignore`` (the cassette schema's ``match.ignore`` items): keys and ``[N]``/``[*]``.
JSON_PATH = re.compile(r"(?:[^.\[\]]+|\[(?:\*|[0-9]+)\])(?:\.[^.\[\]]+|\[(?:\*|[0-9]+)\])*")


def whole_or_text(text: str) -> int | str:
    """An argparse type: the whole number, or the text as given for ``check_flags`` to report in one line
    (argparse's own type errors print the usage too)."""
    try:
        return int(text)
    except ValueError:
        return text


def number_or_text(text: str) -> float | str:
    """An argparse type: the number, or the text as given for ``check_flags`` to report in one line."""
    try:
        return float(text)
    except ValueError:
        return text


#: Flags (argparse ``dest``) holding a port, a count from a minimum, or a duration.
_PORT_FLAGS = ("port", "mock_port")
_COUNT_FLAGS = {"concurrency": 1, "capture_limit": 0, "max_connections": 1}
_POSITIVE_SECONDS = ("deadline", "head_timeout", "body_timeout")
_REPORT_FLAGS = ("json", "junit", "matrix", "summary", "gateway_doc")
_URL_FLAGS = ("gateway_url", "mock_url")


def _is_http_url(text: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def check_flags(args: argparse.Namespace) -> FlagProblem | None:
    """The first problem of the parsed flags of ``wirecheck`` (``_problem``), or ``None``."""
    message = _problem(args)
    return None if message is None else FlagProblem(_command(args), message)


def _problem(args: argparse.Namespace) -> str | None:
    """Why the parsed flags cannot be used (one line naming the flag), or ``None``: ports in 0..65535,
    counts whole and not below their minimum, durations finite and above 0, report files writable (their
    folders created now, so a run's reports are never lost at its end), ``--provider module:Class``
    modules importable (an exception on import named with its module)."""
    for dest in _PORT_FLAGS:
        value = getattr(args, dest, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{_flag(dest)} {value!r}: expected a whole number in 0..65535"
        if not 0 <= value <= 65535:
            return f"{_flag(dest)} {value}: outside 0..65535"
    for dest, minimum in _COUNT_FLAGS.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"{_flag(dest)} {value!r}: expected a whole number >= {minimum}"
    for dest in _POSITIVE_SECONDS:
        value = getattr(args, dest, None)
        if value is None:
            continue
        if isinstance(value, str) or not math.isfinite(value) or value <= 0:
            return f"{_flag(dest)} {value!r}: expected a finite number of seconds above 0"
    max_age = getattr(args, "max_age_days", None)
    if max_age is not None and (isinstance(max_age, str) or not math.isfinite(max_age) or max_age < 0):
        return f"--max-age-days {max_age}: expected a finite number of days >= 0"
    for dest in _REPORT_FLAGS:
        problem = _report_problem(dest, getattr(args, dest, None))
        if problem is not None:
            return problem
    for dest in _URL_FLAGS:
        value = getattr(args, dest, None)
        if value is not None and not _is_http_url(value):
            return f"{_flag(dest)} {value!r}: expected an http:// or https:// URL"
    if args.command == "record":
        problem = _record_problem(args)
        if problem is not None:
            return problem
    for spec in getattr(args, "provider", None) or ():
        problem = _provider_import_problem(spec)
        if problem is not None:
            return problem
    return None


def _report_problem(dest: str, value: str | None) -> str | None:
    """Why report file ``value`` cannot be written (its folder is created here), or ``None``."""
    if not value or value == "-":
        return None
    path = Path(value)
    if path.is_dir():
        return f"{_flag(dest)} {value}: expected a file to write, got a folder"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"{_flag(dest)} {value}: cannot create its folder {path.parent}: {exc.strerror or exc}"
    if not path.parent.is_dir():
        return f"{_flag(dest)} {value}: {path.parent} is not a folder"
    return None


def _record_problem(args: argparse.Namespace) -> str | None:
    """``wirecheck record``: an http(s) upstream, and an ``--out`` file whose folder exists (created now:
    the cassette is written when the recording stops, too late to find out)."""
    if not _is_http_url(args.upstream):
        return f"--upstream {args.upstream!r}: expected an http:// or https:// base URL"
    return _report_problem("out", args.out)


def _provider_import_problem(spec: str) -> str | None:
    """Why the module of ``--provider module:Class`` cannot be imported (one line), or ``None``; a
    module that is simply not there is left to the runner, which says which names it knows."""
    module, colon, _ = spec.strip().partition(":")
    if not colon or not module:
        return None
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None  # the module itself is missing: the runner's message covers it
        return f"--provider {spec}: importing {module} raised {_one_line(exc)}"
    except Exception as exc:  # a user's module may raise anything while it imports
        return f"--provider {spec}: importing {module} raised {_one_line(exc)}"
    return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _command(args: argparse.Namespace) -> str:
    sub = getattr(args, "cassette_command", None)
    return f"{args.command} {sub}" if sub else args.command
