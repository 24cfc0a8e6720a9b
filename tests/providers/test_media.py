"""Media wire helpers: base64 embeddings and multipart bodies."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.errors import ProviderError
from providers.types.media import (
    Embedding,
    EmbeddingResponse,
    MultipartField,
    decode_base64,
    decode_multipart,
    encode_base64,
    encode_multipart,
)
from tests.strategies.common import assert_strict_equal

float32s = st.floats(width=32, allow_nan=False, allow_infinity=False)


@given(st.lists(float32s, max_size=16))
def test_base64_embedding_round_trip(vector):
    assert decode_base64(encode_base64(vector)) == vector


def test_base64_is_little_endian_float32_as_the_openai_sdk_reads_it():
    text = encode_base64([1.0, -2.5])
    import base64

    assert base64.b64decode(text) == struct.pack("<2f", 1.0, -2.5)
    assert Embedding.parse({"object": "embedding", "index": 0, "embedding": text}).vector() == [1.0, -2.5]


def test_float_and_base64_embeddings_read_the_same_and_round_trip_losslessly():
    body = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.5, 1, -0.25]},
            {"object": "embedding", "index": 1, "embedding": encode_base64([0.5, 1.0, -0.25])},
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
        "x_vendor": None,
    }
    parsed = EmbeddingResponse.parse(body)
    assert_strict_equal(parsed.to_json(), body)
    assert parsed.data[0].vector() == parsed.data[1].vector() == [0.5, 1.0, -0.25]


def test_truncated_base64_embedding_is_a_decode_error():
    with pytest.raises(ProviderError, match="multiple of 4"):
        decode_base64("AAAAAAA=")  # 5 bytes


field_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"), min_size=1, max_size=10
)
fields = st.builds(
    MultipartField,
    name=field_names,
    data=st.binary(max_size=64),
    filename=st.none() | field_names,
    content_type=st.none() | st.sampled_from(["audio/wav", "text/plain", "application/octet-stream"]),
)


@given(st.lists(fields, max_size=4))
def test_multipart_round_trip_keeps_every_field_byte_for_byte(items):
    body, content_type = encode_multipart(items)
    assert decode_multipart(body, content_type) == items


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n',
            "multipart/form-data; boundary=b",
            "no closing boundary",
        ),
        (b"--b\r\nno separator\r\n--b--\r\n", "multipart/form-data; boundary=b", "separator"),
        (b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b", "name"),
        (b"", "application/json", "boundary"),
    ],
    ids=["unclosed", "no-separator", "no-name", "not-multipart"],
)
def test_malformed_multipart_is_a_decode_error(body, content_type, message):
    with pytest.raises(ProviderError, match=message):
        decode_multipart(body, content_type)
