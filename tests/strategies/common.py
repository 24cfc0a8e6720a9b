"""Building blocks shared by the per-dialect wire strategies, and a type-strict JSON equality."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Text that exercises escaping and UTF-8: quotes, backslashes, newlines, non-ASCII, astral emoji.
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)
short_text = st.text(alphabet='abcxyz _-0123456789"\\\nü中🙂', max_size=12)
_lower = "abcdefghijklmnopqrstuvwxyz"
# Plain text strategies, not from_regex: several times faster to draw.
ident = st.builds(str.__add__, st.sampled_from(_lower), st.text(alphabet=_lower + "0123456789_", max_size=11))
numbers = st.one_of(st.integers(-(2**31), 2**31), st.floats(allow_nan=False, allow_infinity=False, width=64))

json_scalars = st.one_of(st.none(), st.booleans(), numbers, short_text)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ident, inner, max_size=3)),
    max_leaves=8,
)
json_objects = st.dictionaries(ident, json_values, max_size=4)

#: Field names no wire model knows: prefixed so they can never collide with a real field.
unknown_keys = st.text(alphabet=_lower, min_size=1, max_size=8).map("x_".__add__)


@st.composite
def with_unknown(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """``base`` plus zero to two unknown fields holding any JSON (null included)."""
    obj = dict(draw(base))
    for key in draw(st.lists(unknown_keys, max_size=2, unique=True)):
        obj[key] = draw(json_values)
    return obj


@st.composite
def optional_fields(
    draw: st.DrawFn, required: dict[str, Any], optional: dict[str, st.SearchStrategy]
) -> dict:
    """An object with the ``required`` values and a drawn subset of ``optional`` fields (absent stays absent)."""
    obj = dict(required)
    for key, strategy in optional.items():
        if draw(st.booleans()):
            obj[key] = draw(strategy)
    return obj


def strict_equal(a: Any, b: Any) -> bool:
    """JSON equality that tells ``1`` from ``1.0`` and ``True`` from ``1`` (Python's ``==`` does not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def assert_strict_equal(got: Any, want: Any, path: str = "$") -> None:
    """Like :func:`strict_equal`, but fails naming the first differing path."""
    if type(got) is not type(want):
        raise AssertionError(f"{path}: got {type(got).__name__} {got!r}, want {type(want).__name__} {want!r}")
    if isinstance(want, dict):
        if got.keys() != want.keys():
            raise AssertionError(
                f"{path}: keys differ: extra {got.keys() - want.keys()}, missing {want.keys() - got.keys()}"
            )
        for key in want:
            assert_strict_equal(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        if len(got) != len(want):
            raise AssertionError(f"{path}: length {len(got)} != {len(want)}")
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_strict_equal(g, w, f"{path}[{i}]")
    elif got != want:
        raise AssertionError(f"{path}: got {got!r}, want {want!r}")
