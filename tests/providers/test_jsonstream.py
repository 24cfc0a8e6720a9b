"""providers.jsonstream: Gemini's streamed JSON array (``:streamGenerateContent`` without ``alt=sse``)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.errors import ProviderError
from providers.jsonstream import JSONArrayDecoder, encode_array_stream

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode_pieces(pieces: list[bytes]) -> list[Any]:
    decoder = JSONArrayDecoder()
    out: list[Any] = []
    for piece in pieces:
        out += decoder.feed(piece)
    out += decoder.close()
    return out


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


# Strings full of what a naive brace counter trips on: brackets, braces, quotes, backslashes, escapes.
_nasty = st.sampled_from(
    ["{", "}", "[", "]", '"', "\\", '\\"', "\\\\", ",", ":", "\r\n", "\u2028", "é", "😀", "<>"]
)
strings = st.lists(st.one_of(_nasty, st.text(max_size=4)), max_size=6).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    strings,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(strings, inner, max_size=3)),
    max_leaves=8,
)
elements = st.one_of(st.dictionaries(strings, json_values, max_size=3), json_values)


@st.composite
def pieces_of(draw: st.DrawFn, body: bytes) -> list[bytes]:
    if draw(st.integers(0, 4)) == 0:
        return bytewise(body)
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=12)))
    bounds = [0, *cuts, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def framed(draw: st.DrawFn) -> tuple[list[Any], bytes]:
    """A JSON array of elements, either framed as the API does or with arbitrary JSON whitespace."""
    items = draw(st.lists(elements, max_size=6))
    if draw(st.booleans()):
        return items, b"".join(encode_array_stream(items))
    ws = st.sampled_from(["", " ", "\r\n", "\n  ", "\t"])
    body = draw(ws) + "[" + draw(ws)
    for i, item in enumerate(items):
        indent = draw(st.sampled_from([None, 2]))
        body += ("," + draw(ws) if i else "") + json.dumps(
            item, indent=indent, ensure_ascii=draw(st.booleans())
        )
        body += draw(ws)
    return items, (body + "]" + draw(ws)).encode("utf-8")


@PROPERTY
@given(framed().flatmap(lambda case: st.tuples(st.just(case), pieces_of(case[1]))))
def test_any_split_yields_the_elements(case: tuple[tuple[list[Any], bytes], list[bytes]]) -> None:
    (items, body), pieces = case
    assert b"".join(pieces) == body
    assert decode_pieces([body]) == items
    assert decode_pieces(pieces) == items


@PROPERTY
@given(st.lists(elements, min_size=1, max_size=5), st.data())
def test_elements_arrive_as_soon_as_they_are_complete(items: list[Any], data: st.DataObject) -> None:
    chunks = encode_array_stream(items)
    decoder = JSONArrayDecoder()
    for i, chunk in enumerate(chunks[:-1]):
        # Each API chunk completes exactly one element (a scalar's end is only known at the next byte).
        late = [items[i - 1]] if i and _is_scalar(items[i - 1]) else []  # ended by this chunk's ","
        ready = [] if _is_scalar(items[i]) else [items[i]]
        assert decoder.feed(chunk) == late + ready
    tail = decoder.feed(chunks[-1])
    assert tail == ([items[-1]] if _is_scalar(items[-1]) else [])
    assert decoder.done
    assert decoder.close() == []


def _is_scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float) or value is None


def test_api_framing_exact_bytes() -> None:
    items = [{"candidates": [{"content": {"parts": [{"text": "a<b"}]}}]}, {"usageMetadata": {"x": 1}}]
    # docs/wire.md#gemini-streaming: pretty-printed elements, "\n,\r\n" between them, "\n]" at the end.
    assert encode_array_stream(items) == [
        b'[{\n  "candidates": [\n    {\n      "content": {\n        "parts": [\n          {\n'
        b'            "text": "a\\u003cb"\n          }\n        ]\n      }\n    }\n  ]\n}',
        b'\n,\r\n{\n  "usageMetadata": {\n    "x": 1\n  }\n}',
        b"\n]",
    ]
    assert encode_array_stream([]) == [b"[", b"]"]
    assert decode_pieces(encode_array_stream([])) == []


def test_brackets_and_escaped_quotes_inside_strings() -> None:
    items = [{"t": 'a}b]c{d[e"f\\'}, {"k{": ["]", "\\", '"}"']}, {"u": "\u005c\\u0022}"}]
    body = b"".join(encode_array_stream(items))
    for size in (1, 2, 3, 5):
        assert decode_pieces([body[i : i + size] for i in range(0, len(body), size)]) == items
    # A backslash right before a piece boundary, then the escaped quote in the next piece.
    assert decode_pieces([b'[{"a": "x\\', b'"}"}]']) == [{"a": 'x"}'}]
    assert decode_pieces([b'["a\\\\', b'", "}"]']) == ["a\\", "}"]


def test_scalars_and_whitespace() -> None:
    assert decode_pieces([b' \r\n[ 1 ,"a" ,\ttrue,null , -2.5e3,[],{} ] \n']) == [
        1,
        "a",
        True,
        None,
        -2500.0,
        [],
        {},
    ]
    assert decode_pieces([b"[12", b"34", b"]"]) == [1234]


def test_error_elements_are_yielded_like_any_other() -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    assert decode_pieces(
        [b'[{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}]']
    ) == [error]
    chunk = {"candidates": [{"content": {"parts": [{"text": "Hi"}], "role": "model"}}]}
    decoder = JSONArrayDecoder()
    assert decoder.feed(b"".join(encode_array_stream([chunk, error])[:2])) == [chunk, error]
    assert decoder.feed(b"]") == []


@pytest.mark.parametrize(
    ("body", "raw"),
    [
        (b"", b""),
        (b"  ", b""),
        (b"[", b""),
        (b'[{"a": 1}', b""),
        (b'[{"a": 1},', b""),
        (b'[{"a": "}]', b'{"a": "}]'),
        (b'[{"a": [1, 2}', b'{"a": [1, 2}'),
        (b"[12", b"12"),
    ],
)
def test_unterminated_raises_decode_error_at_close(body: bytes, raw: bytes) -> None:
    decoder = JSONArrayDecoder()
    decoder.feed(body)
    with pytest.raises(ProviderError) as info:
        decoder.close()
    assert info.value.kind == "decode"
    assert info.value.raw == raw
    assert "unterminated" in info.value.message


@pytest.mark.parametrize(
    ("body", "raw_has"),
    [
        (b'{"a": 1}', b"{"),  # not an array
        (b"[1,,2]", b",,"),
        (b"[1,]", b",]"),
        (b"[1 2]", b"1 2"),
        (b'[{"a": 1}]x', b"]x"),
        (b'[{"a": 1}{"b": 2}]', b"}{"),
        (b'[{"a": }]', b'{"a": }'),
        (b'[{"a": 1]]', b'{"a": 1]'),
        (b'[{"a": "\xff"}]', b'{"a": "\xff"}'),
        (b"[nul]", b"nul"),
    ],
)
def test_malformed_raises_decode_error_with_the_bytes(body: bytes, raw_has: bytes) -> None:
    with pytest.raises(ProviderError) as info:
        decode_pieces(bytewise(body))
    assert info.value.kind == "decode"
    assert info.value.raw is not None and raw_has in info.value.raw


def test_buffer_does_not_keep_consumed_elements() -> None:
    decoder = JSONArrayDecoder()
    big = {"text": "x" * 10_000}
    decoder.feed(b"[")
    for _ in range(50):
        assert decoder.feed(json.dumps(big).encode() + b",\r\n") == [big]
    assert len(decoder._buf) < 100
    assert decoder.feed(b"1]") == [1]
