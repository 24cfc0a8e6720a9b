"""Leftovers: what a converter keeps of a wire object for the round trip back into the same dialect.

Every converter into the IR *consumes* the wire fields its IR object has a slot for. What it does not
consume, the IR object keeps in ``vendor[dialect]``, its *entry*, a plain dict (so the IR stays plain
data) with this one layout in all three dialects:

- ``rest``: the wire fields that were not consumed (unknown fields, fields the IR does not model, an
  explicit ``null`` of a modelled field), as wire JSON, keyed by the client's spelling, in wire order;
- ``absent``: fields the converter out always writes (a default ``type``, a made-up id...) but that the
  wire omitted, so the round trip omits them too;
- ``snake``: consumed fields the client spelled snake_case (Gemini accepts both spellings; the way out
  writes camelCase unless the field is listed here);
- named facts of one converter (which of two fields carried a value, the boundaries of merged parts, the
  positions of items the IR has no slot for...), documented in that converter's module docstring.

An entry that is present but empty still says "this object came from this dialect": that is how a
converter out tells a same-dialect round trip from a translation. Another dialect never reads it.

Position. The way out builds the wire object from the IR and puts the rest back in one of two places:
:func:`rest_first` (the kept fields stay where they stood before the built ones: OpenAI, Gemini) or
:func:`rest_after` (the kept fields follow the built ones: Anthropic). In both, a field built from the IR
wins over a kept field of the same name. Items of a list the IR has no slot for are kept with their index
as ``[index, item]`` pairs and put back with :func:`insert_at`.

The functions are small on purpose: they run for every wire object of every translated body.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Final

from pydantic.alias_generators import to_camel

from providers.types import ir
from providers.types._base import Wire

__all__ = [
    "ABSENT",
    "REST",
    "SNAKE",
    "attach",
    "camel",
    "entry",
    "entry_of",
    "insert_at",
    "is_absent",
    "keep",
    "keep_given",
    "mark_absent",
    "packed",
    "put",
    "rest",
    "rest_after",
    "rest_and_spelling",
    "rest_first",
    "rest_of",
    "take_rest",
    "unconsumed",
    "vendor",
]

Entry = dict[str, Any]

REST: Final = "rest"
ABSENT: Final = "absent"
SNAKE: Final = "snake"


# --- reading an IR object's entry ------------------------------------------------------------------


def entry(owner_vendor: ir.Vendor, dialect: str) -> Entry | None:
    """The entry of ``dialect`` in an IR object's ``vendor``: ``None`` when the object did not come from it."""
    return owner_vendor.get(dialect)


def entry_of(owner_vendor: ir.Vendor, dialect: str) -> Entry:
    """The entry of ``dialect`` in an IR object's ``vendor``, or a new empty dict (a converter out reads it)."""
    return owner_vendor.get(dialect) or {}


def rest_of(owner_vendor: ir.Vendor, dialect: str) -> dict[str, Any]:
    """The kept wire fields of an IR object from ``dialect`` (read-only; empty when there are none)."""
    of = owner_vendor.get(dialect)
    if of:
        kept = of.get(REST)
        if kept is not None:
            return kept
    return {}


def rest(of: Entry | None) -> dict[str, Any]:
    """The kept wire fields of an entry (read-only; empty when there are none)."""
    if not of:
        return {}
    kept = of.get(REST)
    return kept if kept is not None else {}


def is_absent(of: Entry | None, name: str) -> bool:
    """Whether the wire omitted field ``name`` that the converter out would otherwise write."""
    return of is not None and name in of.get(ABSENT, ())


# --- filling an entry (wire -> IR) -----------------------------------------------------------------


def vendor(dialect: str, of: Entry, *, native: bool = False) -> ir.Vendor:
    """The ``vendor`` of a new IR object holding ``of``; an empty entry is stored only when ``native`` (the
    object must be known as this dialect's own even with nothing left over)."""
    return {dialect: of} if of or native else {}


def packed(
    dialect: str, kept: dict[str, Any], absent: list[str] | None = None, native: bool = False
) -> ir.Vendor:
    """The ``vendor`` of a new IR object whose wire object left ``kept`` (its rest) and omitted ``absent``;
    with neither, an empty entry only when ``native`` (as :func:`vendor`)."""
    if kept:
        of: Entry = {REST: kept}
        if absent:
            of[ABSENT] = absent
        return {dialect: of}
    if absent:
        return {dialect: {ABSENT: absent}}
    return {dialect: {}} if native else {}


def attach(owner_vendor: ir.Vendor, dialect: str, of: Entry) -> None:
    """Store a non-empty entry in an existing ``vendor``."""
    if of:
        owner_vendor[dialect] = of


def mark_absent(of: Entry, *names: str) -> None:
    """Record that the wire omitted ``names`` (fields the converter out would write by default)."""
    absent = of.get(ABSENT)
    if absent is None:
        of[ABSENT] = list(names)
    else:
        absent.extend(names)


def take_rest(wire_json: dict[str, Any], of: Entry) -> None:
    """For a converter that consumes by popping from the wire JSON: what is left of it is the rest."""
    if wire_json:
        of[REST] = wire_json


def _as_json(value: Any) -> Any:
    if isinstance(value, Wire):
        return value.to_json()
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


def unconsumed(
    model: Wire,
    consumed: AbstractSet[str],
    *,
    keep_nulls: bool = False,
    spelling: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """For a converter that reads a validated wire model: the fields of ``model`` that were given and not
    ``consumed`` (by Python field name), as wire JSON, in field order, then its unknown fields as they came.

    ``keep_nulls``: a consumed field given as an explicit ``null`` is kept too (the IR cannot tell it from
    an absent one). ``spelling``: the wire name of a field (Gemini's camelCase); a field the client spelled
    snake_case (``model._snake_keys``) keeps that spelling. Without it the field name is the wire name."""
    given = model.__pydantic_fields_set__  # unknown keys are in it too
    extra = model.__pydantic_extra__
    values = model.__dict__
    if given <= consumed and not extra:  # the common case: at most explicit nulls are left
        if not keep_nulls:
            return {}
        for name in given:  # a loop, not a list: most objects have no null to keep
            if values[name] is None:
                break
        else:
            return {}
        nulls = [name for name in given if values[name] is None]
        if len(nulls) > 1:  # the declared order, so the output does not depend on set order
            nulls = [name for name in type(model).__pydantic_fields__ if name in nulls]
        if spelling is not None:
            snake = values.get("_snake_keys") or ()
            nulls = [name if name in snake else spelling(name) for name in nulls]
        return dict.fromkeys(nulls)
    kept: dict[str, Any] = {}
    snake = values.get("_snake_keys") or ()
    declared = type(model).__pydantic_fields__
    # the given fields (fewer than the declared ones), then in declared order only when there are several
    names = [
        name
        for name in given
        if name in declared and (name not in consumed or (keep_nulls and values[name] is None))
    ]
    if len(names) > 1:
        names.sort(key=_positions(type(model)).__getitem__)
    for name in names:
        value = values[name]
        if name not in consumed:
            value = _as_json(value)
        kept[name if spelling is None or name in snake else spelling(name)] = value
    if extra:
        kept.update(extra)
    return kept


_POSITIONS: dict[type, dict[str, int]] = {}


def _positions(model: type[Wire]) -> dict[str, int]:
    """Each declared field of a wire model class and its position (per class, once)."""
    found = _POSITIONS.get(model)
    if found is None:
        found = _POSITIONS[model] = {name: at for at, name in enumerate(model.__pydantic_fields__)}
    return found


def keep(
    spelling: Callable[[str], str] | None, model: Wire, consumed: AbstractSet[str], into: Entry | None = None
) -> Entry:
    """The entry of one wire model (``into``, filled, or a new one): its :func:`unconsumed` fields, spelled
    by ``spelling``, as ``rest`` and, when the client spelled consumed fields snake_case, those as ``snake``.
    ``spelling`` comes first so that a dialect binds it once (``functools.partial``) and each call stays
    positional: this runs for every wire object of a body."""
    into = {} if into is None else into
    values = model.__dict__
    if not model.__pydantic_fields_set__ <= consumed:  # else nothing is left over: the common case
        kept = unconsumed(model, consumed, spelling=spelling)
        if kept:
            into[REST] = kept
    snake = values.get("_snake_keys")
    if snake:
        taken = snake & consumed
        if taken:
            into[SNAKE] = sorted(taken)
    return into


def keep_given(
    spelling: Callable[[str], str] | None, model: Wire, names: AbstractSet[str], into: Entry | None = None
) -> Entry:
    """:func:`keep` of ``model`` where the consumed fields are those of ``names`` that are not ``None`` (an
    explicit ``null`` of one of them is kept), in one pass over the given fields (fewer than the declared
    ones) instead of building the consumed set first."""
    given = model.__pydantic_fields_set__  # unknown keys are in it too
    values = model.__dict__
    if given <= names and "_snake_keys" not in values:  # the common case, checked without a new list
        for name in given:
            if values[name] is None:
                break
        else:
            return {} if into is None else into
    declared = type(model).__pydantic_fields__
    known = []
    for name in given:  # a loop, not a comprehension: usually one or two fields are left
        if (name not in names or values[name] is None) and name in declared:
            known.append(name)
    extra = model.__pydantic_extra__
    snake = values.get("_snake_keys")
    if into is None:
        into = {}
    if known or extra:
        kept: dict[str, Any] = {}
        if len(known) > 1:  # the declared order, so the output does not depend on set order
            known.sort(key=_positions(type(model)).__getitem__)
        for name in known:
            value = values[name]
            if isinstance(value, (Wire, list)):  # a tuple: the faster check
                value = _as_json(value)
            kept[name if spelling is None or (snake and name in snake) else spelling(name)] = value
        if extra:
            kept.update(extra)
        into[REST] = kept
    if snake:
        taken = [name for name in snake if name in names and values[name] is not None]
        if taken:
            into[SNAKE] = sorted(taken)
    return into


_CAMEL: dict[str, str] = {}


def camel(name: str) -> str:
    """The camelCase wire name of a snake_case field name (cached: it runs for every field written)."""
    spelled = _CAMEL.get(name)
    if spelled is None:
        spelled = _CAMEL[name] = to_camel(name)  # the wire models' own alias generator
    return spelled


# --- writing a wire object (IR -> wire) ------------------------------------------------------------


def rest_first(of: Entry | None) -> dict[str, Any]:
    """A new wire object that starts with the kept fields: a field built after them takes the kept one's
    place (so the round trip keeps the wire order) and wins over it."""
    if not of:
        return {}
    kept = of.get(REST)
    return dict(kept) if kept else {}


def rest_and_spelling(of: Entry | None) -> tuple[dict[str, Any], Collection[str]]:
    """:func:`rest_first` and the fields to write snake_case (for :func:`put`)."""
    if not of:
        return {}, ()
    kept = of.get(REST)
    return (dict(kept) if kept else {}), of.get(SNAKE, ())


def rest_after(out: dict[str, Any], of: Mapping[str, Any] | None) -> dict[str, Any]:
    """``out`` with the kept fields ``of`` (a rest dict) added after the built ones; built fields win."""
    if of:
        for key, value in of.items():
            if key not in out:
                out[key] = value
    return out


def put(out: dict[str, Any], snake: Collection[str], name: str, value: Any) -> None:
    """Set field ``name`` (its snake_case Python name) in wire object ``out`` as the client spelled it:
    snake_case when ``name`` is in ``snake``, camelCase otherwise. A kept field of the other spelling is
    dropped, so a value is never written twice."""
    spelled = _CAMEL.get(name) or camel(name)  # the cache read inline: this runs for every field written
    if name in snake:
        out.pop(spelled, None)
        out[name] = value
    else:
        if name != spelled:
            out.pop(name, None)
        out[spelled] = value


def insert_at(items: list[Any], kept: Iterable[list[Any] | tuple[int, Any]]) -> list[Any]:
    """``items`` with each kept ``[index, item]`` put back at its index (in the order they were kept)."""
    for index, item in kept:
        items.insert(index, item)
    return items
