"""Media wire helpers: base64 embeddings and multipart bodies."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.errors import ProviderError
from providers.types.media import (
    AudioSpeechRequest,
    Embedding,
    EmbeddingRequest,
    EmbeddingResponse,
    ImageRequest,
    ImageResponse,
    MultipartField,
    TranscriptionResponse,
    decode_base64,
    decode_multipart,
    encode_base64,
    encode_multipart,
)
from tests.strategies.common import (
    assert_strict_equal,
    json_objects,
    numbers,
    optional_fields,
    short_text,
    with_unknown,
)

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


# --- parse∘serialize is the identity on generated JSON for every media wire type -------------------


maybe = st.none() | short_text
embedding_inputs = st.one_of(
    short_text, st.lists(short_text, min_size=1, max_size=3), st.lists(st.integers(0, 50000), min_size=1, max_size=4),
    st.lists(st.lists(st.integers(0, 50000), min_size=1, max_size=3), min_size=1, max_size=2),
)  # fmt: skip
embedding_requests = with_unknown(
    optional_fields(
        {"model": "text-embedding-3-small"},
        {"input": embedding_inputs, "encoding_format": st.sampled_from(["float", "base64"]) | st.none(),
         "dimensions": st.integers(1, 3072) | st.none(), "user": maybe},
    ).filter(lambda d: "input" in d)
)  # fmt: skip
embeddings = st.builds(
    lambda i, v, b64: {"object": "embedding", "index": i, "embedding": encode_base64(v) if b64 else v},
    st.integers(0, 5), st.lists(float32s, max_size=4), st.booleans(),
)  # fmt: skip
embedding_responses = with_unknown(
    optional_fields(
        {"object": "list", "model": "m"},
        {"data": st.lists(with_unknown(embeddings), max_size=3),
         "usage": st.fixed_dictionaries({"prompt_tokens": st.integers(0, 99), "total_tokens": st.integers(0, 99)})},
    ).filter(lambda d: "data" in d)
)  # fmt: skip
image_requests = with_unknown(
    optional_fields(
        {"prompt": "a cat"},
        {"model": maybe, "n": st.integers(1, 4) | st.none(), "size": st.sampled_from(["1024x1024", "auto"]),
         "quality": maybe, "style": maybe, "response_format": st.sampled_from(["url", "b64_json"]),
         "output_format": maybe, "background": maybe, "user": maybe},
    )
)  # fmt: skip
image_responses = with_unknown(
    optional_fields(
        {"created": 1700000000},
        {"data": st.lists(with_unknown(optional_fields({}, {"b64_json": maybe, "url": maybe,
                                                             "revised_prompt": maybe})), max_size=2),
         "usage": json_objects},
    )
)  # fmt: skip
speech_requests = with_unknown(
    optional_fields(
        {"model": "tts-1", "input": "hello", "voice": "alloy"},
        {"instructions": maybe, "response_format": st.sampled_from(["mp3", "wav", "pcm"]) | st.none(),
         "speed": numbers | st.none(), "stream_format": st.sampled_from(["audio", "sse"])},
    )
)  # fmt: skip
transcriptions = with_unknown(
    optional_fields(
        {"text": "hello"},
        {"usage": json_objects, "language": maybe, "duration": numbers | st.none(),
         "segments": st.lists(json_objects, max_size=2), "words": st.lists(json_objects, max_size=2)},
    )
)  # fmt: skip


@pytest.mark.parametrize(
    ("model", "strategy"),
    [(EmbeddingRequest, embedding_requests), (EmbeddingResponse, embedding_responses), (ImageRequest, image_requests),
     (ImageResponse, image_responses), (AudioSpeechRequest, speech_requests), (TranscriptionResponse, transcriptions)],
    ids=lambda v: getattr(v, "__name__", ""),
)  # fmt: skip
def test_media_models_are_lossless_on_generated_json(model, strategy):
    @settings(max_examples=100, deadline=None)
    @given(strategy)
    def check(body):
        assert_strict_equal(model.parse(body).to_json(), body)

    check()


def test_a_wrong_type_in_a_media_body_is_a_decode_error_naming_the_field():
    with pytest.raises(ProviderError, match="dimensions"):
        EmbeddingRequest.parse({"model": "m", "input": "x", "dimensions": "64"})
