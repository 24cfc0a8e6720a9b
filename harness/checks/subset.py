"""JSON subsets with matchers: how a scenario's expectation is compared with what was observed.

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
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MATCHERS", "differences", "is_matcher", "show"]

MATCHERS = frozenset({"$any", "$absent", "$type", "$regex", "$len", "$prefix", "$contains", "$not"})
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
