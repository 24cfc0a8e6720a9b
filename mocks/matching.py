"""JSON subsets with matchers: the one matcher language of scenario expectations and mock-script rules.

A scenario's expectations (``harness/checks``) compare what was observed with ``differences``; a mock
script's ``match.json`` (``mocks/script.py``) accepts the same matchers. Both validate their patterns at
load with ``matcher_problem``, so an unknown matcher name (``$regexx``) or a pattern that does not compile
is an error naming the file, line and field, never a literal key that quietly matches (or, under ``$not``,
quietly does not).

``differences(want, got)`` lists, one readable line each, how ``got`` fails to contain ``want``:

- an object matches when every key of ``want`` matches the same key of ``got`` (extra keys are fine);
- a list matches item by item and must have the same length;
- anything else matches by JSON equality, where ``true`` is not ``1`` and ``1`` equals ``1.0``;
- a one-key object whose key starts with ``$`` is a matcher:

  ``{"$any": true}``        any value, as long as it is there
  ``{"$absent": true}``     the key is not there (only meaningful as an object member)
  ``{"$type": "string"}``   a JSON type: string, number, integer, boolean, object, array, null
  ``{"$regex": "^msg_"}``   a string in which the pattern is found (``re.search``)
  ``{"$len": 3}``           a string, list or object of that length
  ``{"$prefix": [...]}``    a list whose first items match these, item by item
  ``{"$contains": [...]}``  a list with, for each of these, some item matching it (any order)
  ``{"$not": x}``           anything that does not match ``x``

A one-key object whose key is one of JSON Schema's own ``$`` keywords (``$ref``, ``$defs``, ``$schema``,
...) is literal data (tool parameter schemas hold them); any other one-key ``$`` object must be a matcher.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

__all__ = ["JSON_TYPES", "MATCHERS", "differences", "is_matcher", "matcher_problem", "show"]

MATCHERS = frozenset({"$any", "$absent", "$type", "$regex", "$len", "$prefix", "$contains", "$not"})
#: ``$`` keys that are data, not matchers: JSON Schema's keywords.
LITERAL_KEYS = frozenset(
    {"$ref", "$defs", "$schema", "$id", "$anchor", "$comment", "$dynamicRef", "$dynamicAnchor", "$vocabulary"}
)
JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
_MISSING = object()


def show(value: Any, limit: int = 120) -> str:
    """A compact JSON rendering for diffs."""
    if value is _MISSING:
        return "<missing>"
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_matcher(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in MATCHERS


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _equal(want: Any, got: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and want == got
    if isinstance(want, int | float) and isinstance(got, int | float):
        return want == got
    return type(want) is type(got) and want == got


def differences(want: Any, got: Any, where: str = "$") -> list[str]:
    """How ``got`` fails to contain ``want`` (empty: it does)."""
    if is_matcher(want):
        return _matcher(next(iter(want)), next(iter(want.values())), got, where)
    if got is _MISSING:
        return [f"{where}: missing (expected {show(want)})"]
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {show(got)}"]
        out: list[str] = []
        for key, sub in want.items():
            out.extend(differences(sub, got.get(key, _MISSING), f"{where}.{key}"))
        return out
    if isinstance(want, list):
        if not isinstance(got, list):
            return [f"{where}: expected a list, got {show(got)}"]
        if len(got) != len(want):
            head = [f"{where}: expected {len(want)} items, got {len(got)}: {show(got)}"]
            return head + [
                d
                for i, (w, g) in enumerate(zip(want, got, strict=False))
                for d in differences(w, g, f"{where}[{i}]")
            ]
        return [
            d
            for i, (w, g) in enumerate(zip(want, got, strict=True))
            for d in differences(w, g, f"{where}[{i}]")
        ]
    if not _equal(want, got):
        return [f"{where}: expected {show(want)}, got {show(got)}"]
    return []


def _matcher(name: str, arg: Any, got: Any, where: str) -> list[str]:
    if name == "$absent":
        if arg and got is not _MISSING:
            return [f"{where}: expected absent, got {show(got)}"]
        if not arg and got is _MISSING:
            return [f"{where}: missing"]
        return []
    if got is _MISSING:
        return [f"{where}: missing (expected {name} {show(arg)})"]
    if name == "$any":
        return []
    if name == "$type":
        kinds = arg if isinstance(arg, list) else [arg]
        kind = _json_type(got)
        ok = kind in kinds or (kind == "integer" and "number" in kinds)
        return [] if ok else [f"{where}: expected type {'/'.join(kinds)}, got {kind} {show(got)}"]
    if name == "$regex":
        if not isinstance(got, str) or re.search(arg, got) is None:
            return [f"{where}: expected a string matching /{arg}/, got {show(got)}"]
        return []
    if name == "$len":
        if not isinstance(got, str | list | dict) or len(got) != arg:
            size = len(got) if isinstance(got, str | list | dict) else "no"
            return [f"{where}: expected length {arg}, got {size} ({show(got)})"]
        return []
    if name == "$prefix":
        if not isinstance(got, list):
            return [f"{where}: expected a list, got {show(got)}"]
        if len(got) < len(arg):
            return [f"{where}: expected at least {len(arg)} items, got {len(got)}: {show(got)}"]
        return [d for i, w in enumerate(arg) for d in differences(w, got[i], f"{where}[{i}]")]
    if name == "$contains":
        if not isinstance(got, list):
            return [f"{where}: expected a list, got {show(got)}"]
        return [
            f"{where}: no item matches {show(w)}"
            for w in arg
            if not any(not differences(w, item) for item in got)
        ]
    if name == "$not":
        return (
            [f"{where}: expected anything but {show(arg)}, got {show(got)}"]
            if not differences(arg, got)
            else []
        )
    raise ValueError(f"unknown matcher {name}")


def matcher_problem(
    want: Any, at: tuple[str | int, ...] = ()
) -> tuple[tuple[str | int, ...], str, Any] | None:
    """Why ``want`` is not a valid pattern, as (pointer of the offending value below ``at``, what was
    expected, what was found), or ``None``: every one-key ``$`` object a known matcher with a valid
    argument (``$regex`` compiles, ``$type`` names JSON types, ``$len`` a count, ...), checked all the way
    down, matcher arguments included."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(want, at)]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, list):
            stack.extend((item, (*pointer, i)) for i, item in enumerate(value))
            continue
        if not isinstance(value, dict):
            continue
        if len(value) == 1:
            name, arg = next(iter(value.items()))
            if isinstance(name, str) and name.startswith("$") and name not in LITERAL_KEYS:
                if name not in MATCHERS:
                    close = difflib.get_close_matches(name, sorted(MATCHERS), n=1)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    return (*pointer, name), "a matcher among " + ", ".join(sorted(MATCHERS)) + hint, name
                problem = _argument_problem(name, arg)
                if problem is not None:
                    return (*pointer, name), problem, arg
                if name == "$not":
                    stack.append((arg, (*pointer, name)))
                elif name in ("$prefix", "$contains"):
                    stack.extend((item, (*pointer, name, i)) for i, item in enumerate(arg))
                continue
        stack.extend((item, (*pointer, key)) for key, item in value.items())
    return None


def _argument_problem(name: str, arg: Any) -> str | None:
    """What ``name``'s argument should be, when ``arg`` is not that."""
    if name in ("$any", "$absent"):
        return None if isinstance(arg, bool) else "true or false"
    if name == "$type":
        kinds = arg if isinstance(arg, list) else [arg]
        ok = bool(kinds) and all(isinstance(k, str) and k in JSON_TYPES for k in kinds)
        return None if ok else "a JSON type (or a list of them) among " + ", ".join(JSON_TYPES)
    if name == "$regex":
        if not isinstance(arg, str):
            return "a regular expression (a string)"
        try:
            re.compile(arg)
        except re.error as exc:
            return f"a regular expression that compiles ({exc})"
        return None
    if name == "$len":
        ok = isinstance(arg, int) and not isinstance(arg, bool) and arg >= 0
        return None if ok else "a length (an integer >= 0)"
    if name in ("$prefix", "$contains"):
        return None if isinstance(arg, list) else "a list of patterns"
    return None
