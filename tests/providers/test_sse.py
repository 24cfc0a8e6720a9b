"""providers.sse: the incremental SSE decoder (WHATWG event stream interpretation) and the encoders.

Properties run on generated streams split at generated points; openai's own SSEDecoder is the independent
oracle; real recorded bodies from the external corpus (tests/corpus.py) check the dialects.
"""

from __future__ import annotations

import gzip
import itertools
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai._streaming import ServerSentEvent
from openai._streaming import SSEDecoder as OpenAISSEDecoder

from providers.errors import ProviderError
from providers.sse import (
    OPENAI_DONE,
    SSEDecoder,
    SSEEvent,
    anthropic_event,
    decode_all,
    dumps,
    encode,
    gemini_dumps,
    gemini_event,
    is_done,
    openai_event,
)
from tests.corpus import require_real_traffic

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def feed_pieces(pieces: list[bytes], **kwargs: Any) -> tuple[list[SSEEvent], SSEDecoder]:
    decoder = SSEDecoder(**kwargs)
    events: list[SSEEvent] = []
    for piece in pieces:
        events += decoder.feed(piece)
    events += decoder.close()
    return events, decoder


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


# -- strategies --------------------------------------------------------------------------------------

# Field values: no line ends; plenty of non-ASCII, emoji, colons, spaces and the odd NUL.
_tricky = st.sampled_from([" ", ":", ": ", "é", "東京", "😀", "🧑‍💻", "\x00", "\t", "[DONE]", "{}", "data:"])
_any_char = st.characters(codec="utf-8", exclude_characters="\r\n")
values = st.lists(st.one_of(_tricky, st.text(_any_char, max_size=6)), max_size=4).map("".join)
# retry values on which int() and "only ASCII digits" agree (openai's decoder uses int()).
retry_values = st.one_of(
    st.text("0123456789", min_size=1, max_size=6),
    st.text("0123456789", max_size=3).flatmap(
        lambda d: st.text("abcms", min_size=1, max_size=3).map(d.__add__)
    ),
)
space = st.sampled_from(["", " "])


def _field(name: str, value_strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda sp, v: f"{name}:{sp}{v}", space, value_strategy)


lines = st.one_of(
    st.just(""),
    st.just(""),
    _field("data", values),
    _field("data", values),
    _field("event", values),
    _field("id", values),
    _field("retry", retry_values),
    values.map(lambda v: ":" + v),  # comment
    st.builds(
        lambda n, v: f"{n}:{v}", st.sampled_from(["foo", "Data", "dat", "data ", "ids", "retry2"]), values
    ),
    st.sampled_from(["data", "event", "id", "retry", "x"]),  # a field name with no colon
)
line_ends = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def streams(draw: st.DrawFn, *, bom: bool = False) -> bytes:
    """Random lines with random line ends (CR before an LF-ended blank line fuses into CRLF: fine, every
    decoder sees the same bytes); the last line end and a leading BOM are optional."""
    body = "".join(line + draw(line_ends) for line in draw(st.lists(lines, max_size=25)))
    if body and draw(st.booleans()):
        body = body.rstrip("\r\n") if draw(st.booleans()) else body
    raw = body.encode("utf-8")
    if bom and draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw
    return raw


@st.composite
def pieces_of(draw: st.DrawFn, body: bytes) -> list[bytes]:
    """Any split of ``body``: all 1-byte pieces, or cuts at drawn points (empty pieces included)."""
    if draw(st.integers(0, 4)) == 0:
        return bytewise(body)
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=12)))
    bounds = [0, *cuts, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


split_streams = streams(bom=True).flatmap(lambda b: st.tuples(st.just(b), pieces_of(b)))


# -- properties --------------------------------------------------------------------------------------


@PROPERTY
@given(split_streams)
def test_any_split_gives_the_same_events(case: tuple[bytes, list[bytes]]) -> None:
    body, pieces = case
    assert b"".join(pieces) == body
    whole, whole_decoder = feed_pieces([body])
    split, split_decoder = feed_pieces(pieces)
    assert split == whole
    assert split_decoder.comments == whole_decoder.comments
    assert split_decoder.last_event_id == whole_decoder.last_event_id
    assert split_decoder.retry == whole_decoder.retry


def _openai_oracle(pieces: list[bytes]) -> list[tuple[str | None, str, str | None, int | None]]:
    """openai's decoder, made to follow WHATWG on one point: it also dispatches a blank line that ends a
    block with no data line (after any event:, id: or retry:), which WHATWG does not."""

    class Oracle(OpenAISSEDecoder):
        def decode(self, line: str) -> ServerSentEvent | None:
            had_data = bool(self._data)
            sse = super().decode(line)
            return sse if had_data else None

    # openai's decoder drops an unterminated last event; ours dispatches it at close() (see the module
    # doc). A final CRLF CRLF terminates the last line and the block without changing anything else.
    events = Oracle().iter_bytes(iter([*pieces, b"\r\n\r\n"]))
    return [(e.event, e.data, e.id, e.retry) for e in events]


@PROPERTY
@given(streams().flatmap(lambda b: st.tuples(st.just(b), pieces_of(b))))
def test_matches_openai_decoder(case: tuple[bytes, list[bytes]]) -> None:
    _body, pieces = case
    ours, _ = feed_pieces(pieces)
    # openai reports an empty event name as None (it does `event or None`); ours keeps "" apart from None.
    assert [(e.event or None, e.data, e.id, e.retry) for e in ours] == _openai_oracle(pieces)


_events = st.lists(
    st.tuples(
        st.lists(values, min_size=1, max_size=3).map("\n".join),
        st.none() | values,
        st.none() | values.map(lambda v: v.replace("\x00", "")),
        st.none() | st.integers(0, 10**9),
    ),
    max_size=8,
)


@PROPERTY
@given(_events, st.data())
def test_encode_then_decode_round_trips(events: list[tuple], data: st.DataObject) -> None:
    body = b"".join(encode(d, event=ev, id=i, retry=r) for d, ev, i, r in events)
    expected, last_id = [], None
    for d, ev, i, r in events:
        last_id = i if i is not None else last_id  # the id persists over later events
        expected.append(SSEEvent(d, ev, last_id, r))
    assert decode_all(body) == expected
    assert feed_pieces(data.draw(pieces_of(body)))[0] == expected


@PROPERTY
@given(st.lists(st.dictionaries(values, st.one_of(st.none(), st.integers(), values), max_size=3), max_size=5))
def test_dialect_encoders_round_trip(objs: list[dict[str, Any]]) -> None:
    typed = [{**o, "type": f"t{i}"} for i, o in enumerate(objs)]
    assert [json.loads(e.data) for e in decode_all(b"".join(map(openai_event, objs)))] == objs
    assert [json.loads(e.data) for e in decode_all(b"".join(map(gemini_event, objs)))] == objs
    got = decode_all(b"".join(map(anthropic_event, typed)))
    assert [(e.event, json.loads(e.data)) for e in got] == [(o["type"], o) for o in typed]


# -- edges, one by one -------------------------------------------------------------------------------


def test_data_with_and_without_the_space() -> None:
    assert decode_all(b"data:x\n\ndata: x\n\ndata:  x\n\n") == [SSEEvent("x"), SSEEvent("x"), SSEEvent(" x")]


def test_data_lines_join_with_lf() -> None:
    assert decode_all(b"data: a\ndata:\ndata: b\n\n") == [SSEEvent("a\n\nb")]


def test_a_field_with_no_colon_has_an_empty_value() -> None:
    assert decode_all(b"data\n\n") == [SSEEvent("")]
    assert decode_all(b"event\ndata: x\n\n") == [SSEEvent("x", event="")]


def test_event_name_is_none_without_an_event_line_and_empty_when_given_empty() -> None:
    got = decode_all(b"data: 1\n\nevent: ping\ndata: 2\n\nevent:\ndata: 3\n\nevent: message\ndata: 4\n\n")
    assert [e.event for e in got] == [None, "ping", "", "message"]


def test_id_persists_and_an_id_with_nul_is_ignored() -> None:
    body = b"id: 1\ndata: a\n\ndata: b\n\nid: 2\x00x\ndata: c\n\nid\ndata: d\n\n"
    assert [e.id for e in decode_all(body)] == ["1", "1", "1", ""]


def test_retry_is_taken_only_when_all_ascii_digits() -> None:
    body = "".join(
        f"retry: {v}\ndata: {i}\n\n"
        for i, v in enumerate(["5", "007", "5s", "-1", "+5", " 5", "٣", "", "1.5"])
    ).encode()
    decoder = SSEDecoder()
    got = decoder.feed(body) + decoder.close()
    assert [e.retry for e in got] == [5, 7, None, None, None, None, None, None, None]
    assert decoder.retry == 7  # the stream's reconnection time: the last valid value


def test_unknown_fields_are_ignored_and_comments_counted() -> None:
    decoder = SSEDecoder()
    got = decoder.feed(b": hello\nfoo: bar\nData: no\n:\ndata: x\n\n: bye\n")
    assert got == [SSEEvent("x")]
    assert decoder.comments == 3


def test_event_without_data_is_not_dispatched_but_resets_the_name() -> None:
    assert decode_all(b"event: a\nretry: 5\n\ndata: x\n\n") == [SSEEvent("x")]
    assert decode_all(b"event: a\n\n\n\n") == []


def test_bom_is_stripped_once_at_the_start_even_when_split() -> None:
    assert decode_all(b"\xef\xbb\xbfdata: x\n\n") == [SSEEvent("x")]
    assert feed_pieces([b"\xef", b"\xbb", b"\xbfdata: x\n\n"])[0] == [SSEEvent("x")]
    # A second BOM is part of the line: the field name becomes "\ufeffdata", which is unknown.
    assert decode_all(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n") == []
    assert decode_all(b"data: \xef\xbb\xbfx\n\n") == [SSEEvent("\ufeffx")]


def test_cr_at_chunk_end_then_lf_in_the_next_chunk_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    # Were the LF taken as a second line end, the blank line would dispatch "a" alone.
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\r") == [SSEEvent("a\nb")]
    assert decoder.feed(b"\ndata: c\r\r") == [SSEEvent("c")]


def test_lone_cr_and_mixed_line_ends() -> None:
    assert decode_all(b"data: a\rdata: b\r\rdata: c\r\n\r\ndata: d\n\n") == [
        SSEEvent("a\nb"),
        SSEEvent("c"),
        SSEEvent("d"),
    ]


@pytest.mark.parametrize(
    "body", [b"data: x", b"data: x\n", b"data: x\r", b"data: x\r\n", b"event: e\ndata: x"]
)
def test_unterminated_last_event_is_dispatched_at_close(body: bytes) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(body) == []
    expected = SSEEvent("x", event="e" if body.startswith(b"event") else None)
    assert decoder.close() == [expected]
    assert decoder.close() == []


def test_close_without_pending_data_gives_nothing() -> None:
    assert decode_all(b"") == []
    assert decode_all(b"data: x\n\n: trailing comment") == [SSEEvent("x")]
    assert decode_all(b"event: e") == []


def test_multibyte_character_split_across_chunks() -> None:
    body = "data: 😀é東\n\n".encode()
    assert feed_pieces(bytewise(body))[0] == [SSEEvent("😀é東")]


def test_invalid_utf8_raises_decode_error_with_the_line() -> None:
    with pytest.raises(ProviderError) as info:
        decode_all(b"data: ok\n\nevent: e\ndata: \xff\xfe bad\ndata: z\n\n")
    assert info.value.kind == "decode"
    assert info.value.raw == b"data: \xff\xfe bad"


def test_invalid_utf8_in_a_split_or_unterminated_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: \xe2\x82") == []  # could still become a valid euro sign
    with pytest.raises(ProviderError) as info:
        decoder.feed(b"\n\n")  # ...but the line ended
    assert (info.value.kind, info.value.raw) == ("decode", b"data: \xe2\x82")
    decoder = SSEDecoder()
    decoder.feed(b"data: ok\n\ndata: \xc3")
    with pytest.raises(ProviderError) as info:
        decoder.close()
    assert info.value.raw == b"data: \xc3"


def test_errors_replace_is_lenient() -> None:
    assert decode_all(b"data: a\xffb\n\n", errors="replace") == [SSEEvent("a\ufffdb")]
    with pytest.raises(ValueError):
        SSEDecoder(errors="ignore")  # type: ignore[arg-type]


def test_done_is_just_data_and_is_done_detects_it() -> None:
    got = decode_all(b'data: {"a":1}\n\ndata: [DONE]\n\ndata: after\n\n')
    assert [e.data for e in got] == ['{"a":1}', "[DONE]", "after"]
    assert [is_done(e) for e in got] == [False, True, False]
    assert is_done(decode_all(OPENAI_DONE)[0])
    assert is_done(SSEEvent("[DONE]", event="done"))  # the Assistants API names it
    assert not is_done(SSEEvent('"[DONE]"'))


def test_decoder_can_be_reused_after_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 7\ndata: a") == []
    assert decoder.close() == [SSEEvent("a", id="7")]
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [SSEEvent("b", id="7")]


def test_long_line_over_many_chunks() -> None:
    value = "x" * 100_000 + "é"
    body = f"event: big\ndata: {value}\n\n".encode()
    pieces = [body[i : i + 997] for i in range(0, len(body), 997)]
    assert feed_pieces(pieces)[0] == [SSEEvent(value, event="big")]


# -- encoders ----------------------------------------------------------------------------------------


def test_encode_exact_bytes() -> None:
    assert encode("hi") == b"data: hi\n\n"
    assert encode("a\nb\r\nc\rd", event="e", id="1", retry=30) == (
        b"event: e\nid: 1\nretry: 30\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
    )
    assert encode("") == b"data: \n\n"
    assert encode("é😀") == "data: é😀\n\n".encode()


@pytest.mark.parametrize(
    "kwargs",
    [{"event": "a\nb"}, {"id": "a\rb"}, {"id": "a\x00b"}, {"retry": -1}, {"retry": True}, {"retry": 1.5}],
)
def test_encode_refuses_what_cannot_be_framed(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        encode("x", **kwargs)


def test_dialect_encoders_exact_bytes() -> None:
    obj = {"id": "c1", "choices": [{"delta": {"content": "é 😀 <b>"}}], "n": None}
    assert dumps(obj) == '{"id":"c1","choices":[{"delta":{"content":"é 😀 <b>"}}],"n":null}'
    assert openai_event(obj) == ("data: " + dumps(obj) + "\n\n").encode()
    assert OPENAI_DONE == b"data: [DONE]\n\n"
    assert (
        anthropic_event({"type": "message_stop"}) == b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    assert gemini_event({"candidates": [{"content": {"parts": [{"text": "<é>"}]}, "index": 0}]}) == (
        'data: {"candidates": [{"content": {"parts": [{"text": "\\u003cé\\u003e"}]},"index": 0}]}\r\n\r\n'.encode()
    )


def test_anthropic_event_needs_a_type_and_dumps_refuses_nan() -> None:
    with pytest.raises(ValueError):
        anthropic_event({"index": 0})
    with pytest.raises(ValueError):
        dumps({"x": float("nan")})


# -- real recorded traffic ---------------------------------------------------------------------------


def _real_sse_bodies(*folders: str) -> list[tuple[str, str, bytes]]:
    """(cassette name, request URI, body) of every text/event-stream response in the cassettes of those
    folders under real-traffic/ of the external corpus."""
    root = require_real_traffic()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found = []
    for folder in folders:
        for path in sorted((root / folder).glob("*.yaml")):
            for interaction in yaml.load(path.read_text(encoding="utf-8"), Loader=loader)["interactions"]:
                response = interaction["response"]
                headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
                if "text/event-stream" not in str(headers.get("content-type")):
                    continue
                body = response["body"]["string"]
                body = body.encode("utf-8") if isinstance(body, str) else body
                if "gzip" in str(headers.get("content-encoding")):
                    body = gzip.decompress(body)
                found.append((path.name, interaction["request"]["uri"], body))
    assert found, f"no SSE bodies under {folders}"
    return found


def _check_real(body: bytes) -> list[SSEEvent]:
    events = decode_all(body)
    assert events
    assert feed_pieces([body[i : i + 7] for i in range(0, len(body), 7)])[0] == events
    assert [(e.event, e.data, e.id, e.retry) for e in events] == _openai_oracle([body])
    return events


def test_real_openai_bodies() -> None:
    for name, uri, body in _real_sse_bodies("openai", "openllmetry/openai"):
        events = _check_real(body)
        for event in events:
            if not is_done(event):
                assert isinstance(json.loads(event.data), dict), name
        if uri.split("?")[0].endswith("/chat/completions"):
            # Data-only events, ended by [DONE]; our encoders reproduce the recorded bytes exactly.
            assert all(e.event is None for e in events), name
            assert is_done(events[-1]) and not any(map(is_done, events[:-1])), name
            again = b"".join(OPENAI_DONE if is_done(e) else openai_event(json.loads(e.data)) for e in events)
            assert again == body, name


def test_real_anthropic_bodies() -> None:
    for name, _uri, body in _real_sse_bodies("anthropic", "openllmetry/anthropic"):
        events = _check_real(body)
        assert events[0].event == "message_start" and events[-1].event == "message_stop", name
        for event in events:
            assert event.event == json.loads(event.data)["type"], name
            # The recorded bytes differ from ours only by the padding the API puts inside its JSON.
            assert json.loads(anthropic_event(json.loads(event.data)).split(b"data: ", 1)[1]) == json.loads(
                event.data
            )


def test_real_gemini_bodies_reencode_byte_for_byte() -> None:
    for name, _uri, body in _real_sse_bodies("google"):
        events = _check_real(body)
        assert all(e.event is None for e in events), name
        assert body.endswith(b"\r\n\r\n"), name  # Gemini frames with CRLF and sends no [DONE]
        assert b"".join(gemini_event(json.loads(e.data)) for e in events) == body, name
        assert gemini_dumps(json.loads(events[0].data)) == events[0].data
