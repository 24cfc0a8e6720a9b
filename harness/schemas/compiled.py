"""A JSON Schema (draft 2020-12) compiled into one Python predicate: is an instance valid or not.

``harness.schemas.problems`` judges thousands of wire objects per run; nearly all are valid, and
jsonschema's general machinery (and the errors it builds for each failing ``anyOf`` branch on the way to
a valid one) made that about a tenth of a run's CPU. ``predicate(schema)`` returns ``valid(instance) ->
bool``, the same answer as ``Draft202012Validator(schema).is_valid(instance)`` (format checking off), for
the keywords these schemas use; a schema with any other keyword, or a ``$ref`` that is not a pointer into
the document itself, raises ``Unsupported`` when compiled, and the caller keeps jsonschema. Only the answer
comes from here: why an instance is invalid is still jsonschema's to say. Where the two could ever
disagree, this side must be the stricter one (a false "invalid" costs only the jsonschema pass).

Semantics kept from jsonschema: ``integer`` accepts a float with no fraction, booleans are neither
integers nor numbers, ``const`` / ``enum`` / ``uniqueItems`` tell ``true`` from ``1``, numeric keywords
ignore non-numbers, ``pattern`` is ``re.search``, lengths count code points, annotations are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Unsupported", "predicate", "predicate_or_none"]

Valid = Callable[[Any], bool]

#: Keywords with no say on validity (``format`` is an annotation: format checking is off).
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "format", "examples",
     "default", "deprecated", "readOnly", "writeOnly"}
)  # fmt: skip


class Unsupported(Exception):
    """The schema uses something ``predicate`` does not compile; ``str()`` names it."""


def _is_type(name: str, value: Any) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if name == "number":
        return isinstance(value, int | float)
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    raise Unsupported(f"type {name!r}")


def _equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema has it: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if one is two:
        return True
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict | list) or isinstance(two, dict | list):
        return False
    return bool(one == two)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def predicate(schema: Any) -> Valid:
    """``valid(instance) -> bool`` for the whole document ``schema``; raises ``Unsupported``."""
    compiled: dict[str, Valid] = {}  # by JSON pointer: each ``$ref`` target once, recursion allowed

    def resolve(ref: str) -> Valid:
        if not ref.startswith("#"):
            raise Unsupported(f"$ref {ref!r}")
        if ref not in compiled:
            node: Any = schema
            for part in filter(None, ref[1:].split("/")):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, dict) or part not in node:
                    raise Unsupported(f"$ref {ref!r}")
                node = node[part]
            compiled[ref] = _always  # a placeholder while the target compiles (a recursive reference)
            target = build(node)
            compiled[ref] = target
        found = compiled[ref]
        return found if found is not _always else (lambda value: compiled[ref](value))

    def build(node: Any) -> Valid:
        if node is True or node == {}:
            return _always
        if node is False:
            return _never
        if not isinstance(node, dict):
            raise Unsupported(f"schema {node!r}")
        if "$id" in node and node is not schema:
            raise Unsupported("$id below the root (another base for references)")
        checks: list[Valid] = []
        for key, value in node.items():
            if key in _ANNOTATIONS or key in ("then", "else"):
                continue
            checks.append(keyword(key, value, node))
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def keyword(key: str, value: Any, node: dict[str, Any]) -> Valid:
        if key == "type":
            names = [value] if isinstance(value, str) else list(value)
            for name in names:
                _is_type(name, None)  # an unknown type name is Unsupported now, not at the first instance
            if len(names) == 1:
                name = names[0]
                return lambda v: _is_type(name, v)
            return lambda v: any(_is_type(n, v) for n in names)
        if key == "$ref":
            return resolve(value)
        if key == "const":
            return lambda v: _equal(v, value)
        if key == "enum":
            return lambda v: any(_equal(v, option) for option in value)
        if key == "properties":
            inner = {name: build(sub) for name, sub in value.items()}
            return lambda v: (
                not isinstance(v, dict) or all(check(v[name]) for name, check in inner.items() if name in v)
            )
        if key == "required":
            return lambda v: not isinstance(v, dict) or all(name in v for name in value)
        if key == "additionalProperties":
            if "patternProperties" in node:
                raise Unsupported("additionalProperties beside patternProperties")
            known = frozenset(node.get("properties", ()))
            extra = build(value)
            return lambda v: not isinstance(v, dict) or all(extra(v[k]) for k in v if k not in known)
        if key == "items":
            if "prefixItems" in node:
                raise Unsupported("items beside prefixItems")
            each = build(value)
            return lambda v: not isinstance(v, list) or all(each(item) for item in v)
        if key in ("anyOf", "allOf", "oneOf"):
            branches = [build(sub) for sub in value]
            if key == "anyOf":
                return lambda v: any(branch(v) for branch in branches)
            if key == "allOf":
                return lambda v: all(branch(v) for branch in branches)
            return lambda v: sum(1 for branch in branches if branch(v)) == 1
        if key == "not":
            negated = build(value)
            return lambda v: not negated(v)
        if key == "if":
            condition = build(value)
            then = build(node.get("then", True))
            otherwise = build(node.get("else", True))
            return lambda v: then(v) if condition(v) else otherwise(v)
        if key == "minimum":
            return lambda v: not _number(v) or v >= value
        if key == "maximum":
            return lambda v: not _number(v) or v <= value
        if key == "exclusiveMinimum":
            return lambda v: not _number(v) or v > value
        if key == "exclusiveMaximum":
            return lambda v: not _number(v) or v < value
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= value
        if key == "maxLength":
            return lambda v: not isinstance(v, str) or len(v) <= value
        if key == "pattern":
            search = re.compile(value).search
            return lambda v: not isinstance(v, str) or search(v) is not None
        if key == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= value
        if key == "maxItems":
            return lambda v: not isinstance(v, list) or len(v) <= value
        if key == "minProperties":
            return lambda v: not isinstance(v, dict) or len(v) >= value
        if key == "maxProperties":
            return lambda v: not isinstance(v, dict) or len(v) <= value
        if key == "uniqueItems":
            if not value:
                return _always
            return lambda v: (
                not isinstance(v, list)
                or all(not _equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))
            )
        if key == "propertyNames":
            names = build(value)
            return lambda v: not isinstance(v, dict) or all(names(k) for k in v)
        raise Unsupported(f"keyword {key!r}")

    return build(schema)


def predicate_or_none(schema: Any) -> Valid | None:
    """``predicate(schema)``, or None when the schema uses what it does not compile (the caller keeps
    jsonschema's own verdict then)."""
    try:
        return predicate(schema)
    except Unsupported:
        return None


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False
