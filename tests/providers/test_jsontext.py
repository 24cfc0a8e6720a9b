"""providers/convert/jsontext.py: the compact JSON text of the converters is exactly what
``json.JSONEncoder`` with the same options writes, and refuses what it refuses."""

from __future__ import annotations

import json
import math

import pytest

from providers.convert import jsontext

VALUES = [
    {"city": "Paris", "unit": "c"},
    {"nested": {"list": [1, 2.5, -0.0, 1e100, True, False, None], "empty": {}}, "": []},
    {"non_ascii": "17 °C — ☂", "escapes": 'quote " backslash \\ newline \n tab \t nul \x00'},
    [1, "two", {"three": 3}],
    "a bare string with ünïcode",
    12345678901234567890123,
    None,
]


@pytest.mark.parametrize("allow_nan", [True, False])
@pytest.mark.parametrize("value", VALUES)
def test_the_text_is_json_encoders_text(value: object, allow_nan: bool) -> None:
    reference = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan)
    assert jsontext.encoder(allow_nan=allow_nan)(value) == reference.encode(value)


def test_nan_and_infinity_are_written_only_when_allowed() -> None:
    value = {"x": [math.nan, math.inf, -math.inf]}
    assert jsontext.encoder(allow_nan=True)(value) == '{"x":[NaN,Infinity,-Infinity]}'
    with pytest.raises(ValueError):
        jsontext.encoder(allow_nan=False)(value)


def test_a_value_that_is_not_json_raises_type_error() -> None:
    with pytest.raises(TypeError):
        jsontext.encoder(allow_nan=False)({"x": object()})


TEXTS = [
    *(json.dumps(value) for value in VALUES),
    *(json.dumps(value, indent=2, ensure_ascii=False) for value in VALUES),
    ' \t\n {"a": [1, 2.5, null, true]} \r\n',
    "NaN",
    "[Infinity, -Infinity]",
    "1e400",
    '{"lone": "\\ud800"}',
]
BROKEN = ["", "   ", "{", '{"a": 1} x', '{"a": 1}{}', "nul", "[1,]", "\ufeff{}", '{"a" 1}', "]"]


@pytest.mark.parametrize("text", TEXTS)
def test_decode_gives_json_loads_value(text: str) -> None:
    decoded, reference = jsontext.decode(text), json.loads(text)
    assert json.dumps(decoded) == json.dumps(reference) and type(decoded) is type(reference)


@pytest.mark.parametrize("text", BROKEN)
def test_decode_refuses_what_json_loads_refuses_at_the_same_place(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as reference:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as caught:
        jsontext.decode(text)
    assert caught.value.pos == reference.value.pos
    if not text.startswith("\ufeff"):  # json.loads names a BOM; the converters say only "not valid JSON"
        assert caught.value.msg == reference.value.msg
