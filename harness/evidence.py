"""What a failure shows of what was compared (``wirecheck run -v``): the stream items, the result body and
the requests the mock upstream captured, with the JSON paths the failing checks name marked.

``collect(facts, checks)`` runs once per result that did not pass (the runner keeps it in
``CaseResult.details["compared"]``, so the JSON report has it too) and keeps it small whatever the run's
size: the main call only; at most ``MAX_REQUESTS`` requests; the first ``HEAD_ITEMS`` and last
``TAIL_ITEMS`` stream items plus every item a failing check names; strings cut to ``MAX_TEXT``
characters, lists to ``MAX_LIST`` items. Shape::

    {"upstream": [{"method", "path", "headers", "query", "json"}, ...],   # checks.upstream.request_json
     "result": <the result's JSON>,                                       # non-streaming calls
     "stream": {"count": N, "items": [[index, <item JSON>], ...]}}        # streaming calls

``paths(check_id, line)`` reads which shown JSON a diff line is about and where: ``(root, path)`` with
root ``upstream``, ``result`` or ``items``. It knows the diff styles of the checks: subsets
(``result.choices[0].finish_reason: ...``, ``items[3].delta``, ``upstream[0].json.model``), the raw ≡
typed comparison (``... bytes vs ... JSON: $.usage: ...``), schema problems (``item 3 (schema):
choices.0.delta: ...``, ``result (schema): ...``) and the stream grammar (``chunk 4: ...``, ``event 2:
...``, ``item 1 ...``).

``render(compared, checks)`` is the text: each request and the result pretty-printed, every line holding a
named place ending in ``  <-- differs`` (with the rest of the path when the place is missing from the
JSON, e.g. ``  <-- differs: .usage``); the stream one compact item a line, a named item starting with
``!`` and followed by the value at each named place inside it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from harness.checks.facts import Facts
from harness.checks.upstream import request_json
from harness.verdicts import CheckResult

__all__ = ["collect", "paths", "render"]

MAX_REQUESTS = 3
HEAD_ITEMS = 20
TAIL_ITEMS = 5
MAX_TEXT = 200
MAX_LIST = 40
#: A pretty-printed block longer than this shows only its first lines and the lines around marks.
MAX_LINES = 60
MARK = "  <-- differs"
#: Differing places listed under one marked stream item.
MAX_PLACES = 5

Path = tuple[str | int, ...]


# --- reading the paths a diff line names ---------------------------------------------------------------------

_STEP = re.compile(r"\[(\d+)\]|\.([^\s.\[\]:]+)")
_SUBSET = re.compile(r"^(result|items|upstream)((?:\[\d+\]|\.[^\s.\[\]:]+)*)(?=[:\s]|$)")
_RAW = re.compile(r"^\S+ (bytes|events) vs \S+ (?:JSON|items): \$((?:\[\d+\]|\.[^\s.\[\]:]+)*)(?=[:\s]|$)")
_SCHEMA = re.compile(r"^(?:item (\d+)|result) \([^)]*\): (\S+?):")
_GRAMMAR = re.compile(r"\b(?:chunk|event|item) (\d+)\b")


def _steps(text: str) -> Path:
    return tuple(int(i) if i else key for i, key in _STEP.findall(text))


def paths(check_id: str, line: str) -> list[tuple[str, Path]]:
    """The (root, path) places of the shown JSON that a check's diff ``line`` is about (none when it
    names no shown place, e.g. the accumulated text)."""
    found = _SUBSET.match(line)
    if found:
        return [(found.group(1), _steps(found.group(2)))]
    found = _RAW.match(line)
    if found:
        return [("result" if found.group(1) == "bytes" else "items", _steps(found.group(2)))]
    found = _SCHEMA.match(line)
    if found:
        inner = (
            ()
            if found.group(2) == "$"
            else tuple(int(p) if p.isdigit() else p for p in found.group(2).split("."))
        )
        if found.group(1) is None:
            return [("result", inner)]
        return [("items", (int(found.group(1)), *inner))]
    if check_id.startswith("stream."):
        found = _GRAMMAR.search(line)
        if found:
            return [("items", (int(found.group(1)),))]
    return []


def _named(checks: Iterable[CheckResult]) -> list[tuple[str, Path]]:
    return [
        place for c in checks if c.failed for line in c.diff or [c.message] for place in paths(c.id, line)
    ]


# --- collecting, bounded -------------------------------------------------------------------------------------


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else f"{value[:MAX_TEXT]}…(+{len(value) - MAX_TEXT} chars)"
    if isinstance(value, dict):
        return {str(k): _bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        kept = [_bounded(v) for v in value[:MAX_LIST]]
        return [*kept, f"…(+{len(value) - MAX_LIST} items)"] if len(value) > MAX_LIST else kept
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def collect(facts: Facts, checks: Iterable[CheckResult]) -> dict[str, Any]:
    """The bounded evidence of the main call (see the module docstring)."""
    o = facts.main
    out: dict[str, Any] = {}
    if o.captured:
        out["upstream"] = [_bounded(request_json(r)) for r in o.captured[:MAX_REQUESTS]]
    if o.streamed:
        items = o.item_json
        named = {p[0] for root, p in _named(checks) if root == "items" and p and isinstance(p[0], int)}
        keep = sorted(
            i
            for i in {
                *range(min(HEAD_ITEMS, len(items))),
                *range(max(0, len(items) - TAIL_ITEMS), len(items)),
                *named,
            }
            if 0 <= i < len(items)
        )
        out["stream"] = {"count": len(items), "items": [[i, _bounded(items[i])] for i in keep]}
    elif o.result is not None:
        out["result"] = _bounded(o.result_json)
    return out


# --- rendering with marks ------------------------------------------------------------------------------------


def _compact(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pretty(value: Any, path: Path = (), key: str | None = None, indent: int = 0) -> list[tuple[str, Path]]:
    """``value`` as indented JSON lines, each with the path of the value that starts on it."""
    pad = "  " * indent
    label = f"{json.dumps(key, ensure_ascii=False)}: " if key is not None else ""
    if isinstance(value, dict) and value:
        lines = [(f"{pad}{label}{{", path)]
        for i, (k, v) in enumerate(value.items()):
            inner = _pretty(v, (*path, k), k, indent + 1)
            if i < len(value) - 1:
                inner[-1] = (inner[-1][0] + ",", inner[-1][1])
            lines += inner
        return [*lines, (f"{pad}}}", path)]
    if isinstance(value, list) and value:
        lines = [(f"{pad}{label}[", path)]
        for i, v in enumerate(value):
            inner = _pretty(v, (*path, i), None, indent + 1)
            if i < len(value) - 1:
                inner[-1] = (inner[-1][0] + ",", inner[-1][1])
            lines += inner
        return [*lines, (f"{pad}]", path)]
    return [(f"{pad}{label}{json.dumps(value, ensure_ascii=False, default=str)}", path)]


def _resolve(value: Any, path: Path) -> tuple[Path, Path]:
    """How far ``path`` reaches into ``value``: (the part that exists, the rest)."""
    for n, step in enumerate(path):
        in_object = isinstance(value, dict) and isinstance(step, str) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        if not (in_object or in_list):
            return path[:n], path[n:]
        value = value[step]
    return path, ()


def _dotted(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _values(item: Any, places: list[Path]) -> list[str]:
    """One line per differing place inside a compact item: its value, or where it goes missing."""
    out = []
    for place in sorted(set(places), key=_dotted)[:MAX_PLACES]:
        if not place:
            continue
        there, rest = _resolve(item, place)
        if rest:
            out.append(f"{_dotted(place)}: missing (the item has {_dotted(there) or 'the item'} only)")
        else:
            value: Any = item
            for step in place:
                value = value[step]
            out.append(f"{_dotted(place)} = {_compact(value, 120)}")
    if len(set(places) - {()}) > MAX_PLACES:
        out.append(f"… {len(set(places) - {()}) - MAX_PLACES} more places")
    return out


def _marked_block(value: Any, marks: list[Path], indent: str) -> list[str]:
    """``value`` pretty-printed with the lines of ``marks`` marked; a long block keeps its first lines
    and the lines around each mark."""
    rests: dict[Path, list[str]] = {}
    for mark in marks:
        there, rest = _resolve(value, mark)
        rests.setdefault(there, []).append(_dotted(rest))
    lines, out, marked = _pretty(value), [], set()
    seen: set[Path] = set()
    for n, (text, path) in enumerate(lines):
        if path in rests and path not in seen:  # a container's opening line, not its closing one
            seen.add(path)
            tails = sorted({r for r in rests[path] if r})
            text += MARK + (": " + ", ".join(tails) if tails else "")
            marked.add(n)
        out.append(indent + text)
    if len(out) <= MAX_LINES:
        return out
    keep = set(range(10)) | {n + d for n in marked for d in range(-3, 4)}
    shown, last = [], -1
    for n in sorted(k for k in keep if 0 <= k < len(out)):
        if n > last + 1:
            shown.append(f"{indent}  … {n - last - 1} lines")
        shown.append(out[n])
        last = n
    if last < len(out) - 1:
        shown.append(f"{indent}  … {len(out) - last - 1} lines")
    return shown


def render(compared: dict[str, Any], checks: Iterable[CheckResult], indent: str = "    ") -> list[str]:
    """The evidence as text lines, the places the failing ``checks`` name marked."""
    marks: dict[str, list[Path]] = {"upstream": [], "result": [], "items": []}
    for root, path in _named(checks):
        marks[root].append(path)
    out: list[str] = []
    for i, request in enumerate(compared.get("upstream") or ()):
        mine = [p[1:] for p in marks["upstream"] if p and p[0] == i] + [
            () for p in marks["upstream"] if not p
        ]
        out.append(
            f"{indent}upstream request {i + 1} (captured by the mock): {request.get('method')} {request.get('path')}"
        )
        out += _marked_block(request, mine, indent + "  ")
    if "result" in compared:
        out.append(f"{indent}result:")
        out += _marked_block(compared["result"], marks["result"], indent + "  ")
    stream = compared.get("stream")
    if stream is not None:
        named: dict[int, list[Path]] = {}
        whole = False
        for path in marks["items"]:
            if path and isinstance(path[0], int):
                named.setdefault(path[0], []).append(path[1:])
            else:
                whole = True
        out.append(f"{indent}stream: {stream['count']} items" + (MARK if whole else ""))
        last = -1
        for index, item in stream["items"]:
            if index > last + 1:
                out.append(f"{indent}  … {index - last - 1} items not kept")
            if index not in named:
                out.append(f"{indent}  [{index}] {_compact(item)}")
            else:
                out.append(f"{indent}! [{index}] {_compact(item)}{MARK}")
                out += [f"{indent}      {line}" for line in _values(item, named[index])]
            last = index
        if last < stream["count"] - 1:
            out.append(f"{indent}  … {stream['count'] - last - 1} items not kept")
    return out
