"""``--json FILE``: every verdict of the run with its case id, provider, clause, checks (ids, messages,
diffs) and timings, as one JSON document, scrubbed of secrets. A shard's report (``--shard K/N``) adds the
``shard`` block ``wirecheck report merge`` needs (``harness.report.merge.record``)."""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from harness.report import scrub
from harness.verdicts import RunResult

__all__ = ["indented", "render", "write"]


def render(run: RunResult, shard: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report of ``run``, with the ``shard`` block when one is given."""
    data = run.to_json()
    if shard is not None:
        data["shard"] = shard
    return scrub(data, run.secrets)


def write(run: RunResult, path: str | Path, shard: dict[str, Any] | None = None) -> None:
    Path(path).write_text(indented(render(run, shard)) + "\n", encoding="utf-8")


class _NotPlain(Exception):
    """A value ``indented`` leaves to ``json.dumps``."""


def indented(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, the same text about twice as fast: with an
    indent, ``json`` encodes in Python, one generator per container; a whole run's report (five megabytes)
    took ~0.2 s of the run's wall time. Plain JSON data only (dicts with string keys, lists, tuples, strings,
    numbers, booleans, None); anything else is left to ``json.dumps`` whole."""
    parts: list[str] = []
    add = parts.append

    def scalar(value: Any) -> str:
        if isinstance(value, str):
            return encode_basestring(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int):
            return int.__repr__(value)
        if isinstance(value, float):
            if value != value:
                return "NaN"
            if value in (math.inf, -math.inf):
                return "Infinity" if value > 0 else "-Infinity"
            return float.__repr__(value)
        raise _NotPlain

    def walk(value: Any, depth: int) -> None:
        inner = "\n" + "  " * (depth + 1)
        separator = inner
        if isinstance(value, dict):
            if not value:
                add("{}")
                return
            add("{")
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _NotPlain
                add(separator)
                separator = "," + inner
                add(encode_basestring(key))
                add(": ")
                if isinstance(item, dict | list | tuple):
                    walk(item, depth + 1)
                else:
                    add(scalar(item))
            add("\n" + "  " * depth + "}")
        elif isinstance(value, list | tuple):
            if not value:
                add("[]")
                return
            add("[")
            for item in value:
                add(separator)
                separator = "," + inner
                if isinstance(item, dict | list | tuple):
                    walk(item, depth + 1)
                else:
                    add(scalar(item))
            add("\n" + "  " * depth + "]")
        else:
            add(scalar(value))

    try:
        walk(data, 0)
    except (_NotPlain, RecursionError):
        return json.dumps(data, indent=2, ensure_ascii=False)
    return "".join(parts)
