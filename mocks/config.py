"""Configuration input: one error shape and one safe YAML/JSON loader, for every file wirecheck reads.

Every file a person writes or hands over (scenarios, mock scripts, baselines, gateway adapters, cassettes)
is read through ``load_document``, and everything wrong with it is a ``ConfigError`` rendered as one line::

    FILE:LINE: FIELD: expected X, got Y

``LINE`` is 1-based and left out when unknown (0); ``FIELD`` is a dotted path (``rules[0].reply.delay_ms``).
The loaders' own errors (``ScenarioError``, ``ScriptError``, ``BaselineError``, ``AdapterError``,
``CassetteError``) are subclasses or aliases of it, so one ``except ConfigError`` catches them all.

``load_document`` reads bytes and refuses, naming the file (and the line where there is one):

- a file larger than ``max_bytes`` (default ``MAX_BYTES``);
- bytes that are not UTF-8 (the offset and line of the first bad byte);
- YAML or JSON that does not parse;
- an alias bomb: YAML aliases that would expand the document by more than ``MAX_ALIAS_NODES`` nodes, or an
  alias inside itself. The expanded size is counted on the composed node graph (each node once, memoised),
  before anything is constructed, so a 360-byte "billion laughs" fails in microseconds;
- a number that is not finite (``.nan``, ``.inf``, JSON ``NaN``/``Infinity``): no field of any wirecheck
  file means it, and JSON cannot carry it.

It returns the data and the line of every JSON pointer in it (a mapping key's pointer gets the key's line).

This module lives in ``mocks`` because the mock server's scripts use it and ``mocks`` must not import
``harness`` (the harness depends on the mocks, never the other way); ``harness/config.py`` re-exports it.
The matcher language both scenarios and scripts use is ``mocks/matching.py``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_BYTES",
    "ConfigError",
    "Pointer",
    "check_header",
    "decode",
    "dotted",
    "finite_number",
    "line_of",
    "load_document",
    "parse_document",
    "pointer_of",
    "show",
]

#: The largest file ``load_document`` reads by default (cassettes of long recorded streams included).
MAX_BYTES = 64 * 1024 * 1024
#: How many nodes YAML aliases may add to a document when expanded (a legitimate file reuses a few
#: scalars or small mappings; an alias bomb adds billions).
MAX_ALIAS_NODES = 100_000

Pointer = tuple[str | int, ...]


class ConfigError(ValueError):
    """Input that cannot be used: ``source`` (the file), ``line`` (1-based, 0 if unknown), ``field`` (a
    dotted path such as ``cases[3].expect.stop``), what was ``expected`` and what was ``got``. ``str()``
    is the one line ``FILE:LINE: FIELD: expected X, got Y``."""

    def __init__(self, source: str, line: int, field: str, expected: str, got: Any) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(self.render())

    @property
    def where(self) -> str:
        """``FILE:LINE``, or ``FILE`` when the line is unknown."""
        return f"{self.source}:{self.line}" if self.line else self.source

    def render(self) -> str:
        return f"{self.where}: {self.field}: expected {self.expected}, got {show(self.got)}"


def show(value: Any) -> str:
    """``value`` as an error message shows it: a string quoted, other data as JSON, a description
    between angle brackets (``"<nothing>"``) as it is; long values cut to 100 characters."""
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        return value
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 100 else text[:97] + "..."


def dotted(pointer: Iterable[str | int]) -> str:
    """``("cases", 3, "expect", "stop")`` → ``cases[3].expect.stop``."""
    out = ""
    for part in pointer:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<file>"


_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def pointer_of(field: str) -> Pointer:
    """The inverse of ``dotted``: ``rules[0].reply`` → ``("rules", 0, "reply")`` (``<...>``: the file)."""
    if field.startswith("<"):
        return ()
    return tuple(int(index) if index else name for name, index in _FIELD_PART.findall(field))


def line_of(lines: Mapping[Pointer, int], pointer: Sequence[str | int]) -> int:
    """The line of ``pointer``, or of its nearest ancestor present in the file (0: unknown)."""
    at = tuple(pointer)
    while at:
        if at in lines:
            return lines[at]
        at = at[:-1]
    return lines.get((), 0)


# --- reading ---------------------------------------------------------------------------------------------


def decode(raw: bytes, source: str) -> str:
    """``raw`` as UTF-8 text (a leading byte-order mark dropped); a ``ConfigError`` names the offset and
    line of the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise ConfigError(
            source, line, "<file>", "UTF-8 text", f"<byte 0x{byte} at offset {exc.start}: not UTF-8>"
        ) from None


def load_document(
    path: str | Path,
    *,
    source: str | None = None,
    kind: str | None = None,
    max_bytes: int = MAX_BYTES,
    what: str = "file",
) -> tuple[Any, dict[Pointer, int]]:
    """Read ``path`` (YAML, or JSON when ``kind="json"`` or the name ends in ``.json``) into plain data
    and the line of every pointer; ``source`` is the name errors use (default: the path), ``what`` says
    what the file should be ("a readable {what}"). Raises ``ConfigError`` (module doc)."""
    path = Path(path)
    source = source or str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(source, 0, "<file>", f"a readable {what}", f"<{exc.strerror or exc}>") from None
    if len(raw) > max_bytes:
        raise ConfigError(source, 0, "<file>", f"a {what} of at most {max_bytes} bytes", "<a larger file>")
    kind = kind or ("json" if path.suffix.lower() == ".json" else "yaml")
    return parse_document(decode(raw, source), source, kind=kind)


def parse_document(text: str, source: str, *, kind: str = "yaml") -> tuple[Any, dict[Pointer, int]]:
    """``text`` (YAML, or JSON with ``kind="json"``) into plain data and the line of every pointer, with
    every check of ``load_document`` but the size and the decoding."""
    if kind == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(source, exc.lineno, "<json>", "valid JSON", f"<{exc.msg}>") from None
        lines = _json_lines(text) if len(text) <= 1_000_000 else {}
    else:
        data, lines = _load_yaml(text, source)
    _require_finite(data, (), source, lines)
    return data, lines


def _json_lines(text: str) -> dict[Pointer, int]:
    """Lines of a JSON document's pointers, through the YAML composer (JSON is nearly YAML); none when
    the YAML reading fails."""
    try:
        loader = _loader_class()(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError:
        return {}
    lines: dict[Pointer, int] = {}
    if node is not None:
        _record_lines(node, (), node.start_mark.line + 1, lines)
    return lines


def _loader_class() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(text: str, source: str) -> tuple[Any, dict[Pointer, int]]:
    loader = _loader_class()(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _limit_aliases(node, source)
        data = loader.construct_document(node) if node is not None else None
    except RecursionError:
        raise ConfigError(source, 0, "<yaml>", "a document nested less deeply", "<too deep>") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, line, "<yaml>", "valid YAML", f"<{problem}>") from None
    finally:
        loader.dispose()
    lines: dict[Pointer, int] = {}
    if node is not None:
        _record_lines(node, (), node.start_mark.line + 1, lines)
    return data, lines


def _limit_aliases(root: yaml.Node, source: str) -> None:
    """Refuse a node graph whose expansion (every alias replaced by a copy of its target) has more than
    ``MAX_ALIAS_NODES`` nodes beyond the composed ones, or that contains itself."""
    sizes: dict[int, int] = {}
    composed: set[int] = set()
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ConfigError(
                source, node.start_mark.line + 1, "<yaml>", "aliases that do not contain themselves",
                "<a recursive alias>",
            )  # fmt: skip
        composed.add(key)
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
        active.discard(key)
        sizes[key] = total
        if total - len(composed) > MAX_ALIAS_NODES:
            raise ConfigError(
                source, node.start_mark.line + 1, "<yaml>",
                f"aliases expanding to at most {MAX_ALIAS_NODES} more nodes",
                f"<{total} nodes from {len(composed)} written: an alias bomb>",
            )  # fmt: skip
        return total

    size(root)


def _record_lines(node: yaml.Node, pointer: Pointer, line: int, out: dict[Pointer, int]) -> None:
    out.setdefault(pointer, line)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                _record_lines(value, (*pointer, key.value), key.start_mark.line + 1, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, (*pointer, i), item.start_mark.line + 1, out)


def _require_finite(data: Any, at: Pointer, source: str, lines: Mapping[Pointer, int]) -> None:
    """No number in ``data`` is NaN or infinite (iteratively: deep documents do not hit recursion)."""
    stack: list[tuple[Any, Pointer]] = [(data, at)]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(
                source, line_of(lines, pointer), dotted(pointer), "a finite number", f"<{value}>"
            )
        if isinstance(value, dict):
            stack.extend((v, (*pointer, k)) for k, v in value.items() if isinstance(k, str | int))
        elif isinstance(value, list):
            stack.extend((v, (*pointer, i)) for i, v in enumerate(value))


# --- shared field checks ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_header(name: Any, value: Any) -> tuple[str, Any] | None:
    """Why ``name: value`` cannot be an HTTP header (``(expected, got)``), or ``None`` when it can: the
    name an RFC 9110 token, the value (a string, or ``None`` where absence is meant) without CR, LF or
    NUL, which would split the header or never match a real request."""
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        return "a header name made of letters, digits and !#$%&'*+-.^_`|~", name
    if isinstance(value, str) and any(c in value for c in "\r\n\0"):
        return "a header value without CR, LF or NUL", value
    return None


def finite_number(value: Any, minimum: float = 0.0, maximum: float = math.inf) -> bool:
    """Whether ``value`` is a real number (not a boolean), finite, in ``minimum..maximum``."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and minimum <= value <= maximum
    )
