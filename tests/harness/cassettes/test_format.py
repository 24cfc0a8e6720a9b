"""The cassette format: byte-exact save/load (property tests), the body forms, validation errors that name the
file and the field, the version, and the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from harness.cassettes import format as fmt
from tests.strategies.common import json_values

from .corpus import cases, starter

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# bytes that stress text storage: CR, LF, CRLF, lone CR, trailing spaces, tabs, NUL, YAML-special characters,
# non-ASCII, and invalid UTF-8
tricky = st.lists(
    st.sampled_from(
        [
            b"\r",
            b"\n",
            b"\r\n",
            b" ",
            b"  ",
            b"\t",
            b"\x00",
            b"\x85",
            b"\xe2\x80\xa8",
            b"\xef\xbb\xbf",
            b"#",
            b": ",
            b"- ",
            b"'",
            b'"',
            b"\\",
            b"data: ",
            b"{}",
            b"\xff",
            b"\xc3",
            b"\xc3\xa9",
            b"\xf0\x9f\x99\x82",
            b"yes",
            b"~",
            b"null",
            b"0x1F",
            b"1e3",
            b"&a *b",
            b"%YAML",
            b"---",
            b"...",
        ]
    )
    | st.binary(max_size=6),
    max_size=12,
).map(b"".join)


def _cassette(chunks: list[tuple[float, bytes]], request_body: bytes, response_body: bytes) -> fmt.Cassette:
    return fmt.Cassette(
        name="prop",
        interactions=[
            fmt.Interaction(
                request=fmt.Request("POST", "/v1/x", {"q": ["1", "2"]}, {"a": ["b"]}, request_body),
                response=fmt.Response(
                    200, {"content-type": ["text/event-stream"]}, chunks=[fmt.Chunk(t, d) for t, d in chunks]
                ),
                source="synthetic",
            ),
            fmt.Interaction(
                request=fmt.Request("GET", "/y"),
                response=fmt.Response(404, {}, body=response_body),
                source="recorded",
            ),
        ],
    )


@SETTINGS
@given(
    chunks=st.lists(
        st.tuples(st.floats(0, 1e6, allow_nan=False).map(lambda t: round(t, 3)), tricky), max_size=6
    ),
    request_body=tricky,
    response_body=tricky,
    suffix=st.sampled_from([".yaml", ".json"]),
)
def test_save_then_load_gives_back_every_byte(tmp_path_factory, chunks, request_body, response_body, suffix):
    cassette = _cassette(chunks, request_body, response_body)
    path = fmt.save(cassette, tmp_path_factory.mktemp("c") / f"x{suffix}")
    back = fmt.load(path)
    got = back.interactions[0].response.chunks
    assert [(c.t_ms, c.data) for c in got] == [
        (c.t_ms, c.data) for c in cassette.interactions[0].response.chunks
    ]
    assert back.interactions[0].request.body == request_body
    assert back.interactions[1].response.body == response_body
    # and saving what was loaded writes the same file
    again = fmt.save(back, path.with_name("again" + suffix))
    assert again.read_bytes() == path.read_bytes()


@SETTINGS
@given(
    value=json_values.filter(lambda v: isinstance(v, dict | list)),
    style=st.sampled_from(sorted(fmt.JSON_STYLES)),
)
def test_json_bodies_come_back_in_their_own_spelling(tmp_path_factory, value, style):
    data = fmt._write_json(value, style).encode()
    form = fmt.encode_body(data)
    assert fmt.decode_body(form) == data
    cassette = _cassette([], data, data + b"\n")
    back = fmt.load(fmt.save(cassette, tmp_path_factory.mktemp("j") / "x.yaml"))
    assert back.interactions[0].request.body == data
    assert back.interactions[1].response.body == data + b"\n"


def test_body_forms():
    assert fmt.encode_body(b'{"a":1}') == {"json": {"a": 1}}
    assert fmt.encode_body(b'{"a": 1}') == {"json": {"a": 1}, "style": "python"}
    assert fmt.encode_body(b'{\n  "a": 1\n}\n') == {"json": {"a": 1}, "style": "indent2+nl"}
    assert fmt.encode_body(b'{"a":1.0e3}') == {"text": '{"a":1.0e3}'}  # no writer spells 1.0e3: kept as text
    assert fmt.encode_body(b'{"a":1,"a":2}') == {"text": '{"a":1,"a":2}'}  # duplicate keys: text
    assert fmt.encode_body(b"plain") == {"text": "plain"}
    assert fmt.encode_body(b"\xff\x00") == {"b64": "/wA="}
    assert fmt.encode_body(b"x", allow_json=False) == {"text": "x"}


def test_chunks_are_one_line_each_in_yaml(tmp_path):
    cassette = _cassette([(1.5, b'data: {"a":1}\n\n'), (2, b"data: [DONE]\n\n")], b"", b"")
    text = fmt.save(cassette, tmp_path / "c.yaml").read_text()
    assert '      text: "data: {\\"a\\":1}\\n\\n"\n' in text
    assert "    - t_ms: 1.5\n" in text and "    - t_ms: 2\n" in text


def test_shipped_and_real_cassettes_survive_save_and_load(tmp_path):
    seen = 0
    for k, case_cassette in enumerate({id(c.cassette): c.cassette for c in cases()}.values()):
        path = fmt.save(case_cassette, tmp_path / f"{k}.yaml")
        back = fmt.load(path)
        for a, b in zip(case_cassette.interactions, back.interactions, strict=True):
            assert a.request == b.request and a.response == b.response and a.index == b.index
            seen += 1
    assert seen >= len(starter())


# --- validation -------------------------------------------------------------------------------------------


def _doc(**changes) -> dict:
    doc = {
        "wirecheck_cassette": 1,
        "interactions": [
            {
                "source": "recorded",
                "request": {"method": "POST", "path": "/v1/chat/completions", "body": {"json": {"a": 1}}},
                "response": {"status": 200, "chunks": [{"t_ms": 1, "text": "data: x\n\n"}]},
            }
        ],
    }
    for path, value in changes.items():
        target = doc
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return doc


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"interactions__0__response__status": "200"},
            "interactions[0].response.status",
            "is not of type 'integer'",
        ),
        (
            {"interactions__0__response__chunks__0__t_ms": -1},
            "interactions[0].response.chunks[0].t_ms",
            "minimum",
        ),
        ({"interactions__0__request__path": "v1/x"}, "interactions[0].request.path", "does not match"),
        ({"interactions__0__source": "made-up"}, "interactions[0].source", "is not one of"),
        ({"interactions__0__request__body": {"json": {}, "text": "x"}}, "interactions[0].request.body", ""),
        ({"interactions__0__response__body": {"text": "x"}}, "interactions[0].response", ""),
        ({"interactions__0__request__headers": {"Bad Name": "x"}}, "interactions[0].request.headers", ""),
        (
            {"interactions__0__request__method": ...},
            "interactions[0].request",
            "'method' is a required property",
        ),
        ({"extra": 1}, "<cassette>", "Additional properties"),
    ],
    ids=[
        "status-type",
        "negative-time",
        "relative-path",
        "source",
        "two-body-forms",
        "body-and-chunks",
        "header-name",
        "no-method",
        "unknown-top-level",
    ],
)
def test_invalid_cassettes_name_the_file_and_the_field(tmp_path, changes, field, message):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(_doc(**changes)))
    with pytest.raises(fmt.CassetteError) as caught:
        fmt.load(path)
    assert caught.value.source == str(path)
    assert caught.value.field == field, str(caught.value)
    assert message in caught.value.message
    assert caught.value.line > 0, str(caught.value)
    assert str(caught.value).startswith(f"{path}:{caught.value.line}: {field}: ")


def test_bad_base64_and_unknown_style_name_the_field(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_doc(interactions__0__response__chunks=[{"t_ms": 0, "b64": "@@"}])))
    with pytest.raises(fmt.CassetteError, match=r"interactions\[0\]\.response\.chunks\[0\]"):
        fmt.load(path)
    doc = _doc(interactions__0__request__body={"json": {}, "style": "indent2+xx"})
    with pytest.raises(fmt.CassetteError, match=r"request\.body\.style"):
        fmt.parse(doc, "mem")


def test_other_versions_and_other_files_are_refused(tmp_path):
    future = tmp_path / "future.yaml"
    future.write_text(yaml.safe_dump({**_doc(), "wirecheck_cassette": 2}))
    with pytest.raises(fmt.CassetteError, match="reads version 1, the file is version 2"):
        fmt.load(future)
    other = tmp_path / "vcr.yaml"
    other.write_text("interactions: []\nversion: 1\n")
    with pytest.raises(fmt.CassetteError, match="not a wirecheck cassette"):
        fmt.load(other)
    broken = tmp_path / "broken.yaml"
    broken.write_text("wirecheck_cassette: 1\ninteractions: [\n")
    with pytest.raises(fmt.CassetteError, match=r"broken\.yaml:3: <yaml>: expected valid YAML"):
        fmt.load(broken)
    assert fmt.load_folder(tmp_path / "nothing-here") == []


def test_schema_is_valid_and_accepts_what_save_writes(tmp_path):
    schema = json.loads((Path(fmt.__file__).parents[1] / "schemas" / "cassette.json").read_text())
    Draft202012Validator.check_schema(schema)
    for cassette in starter():
        assert fmt.problems(fmt.to_data(cassette)) == []


def _with_match(tmp_path: Path, match: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(f"wirecheck_cassette: 1\nmatch: {match}\ninteractions: []\n")
    return path


@pytest.mark.parametrize(
    ("match", "field", "message"),
    [
        ("{ignore_query: beta}", "match.ignore_query", "'beta' is not of type 'array'"),
        ("{ignore: ['messages[']}", "match.ignore[0]", "expected a JSON path such as metadata.user_id"),
        ("{ignore_path_version: 'yes'}", "match.ignore_path_version", "'yes' is not of type 'boolean'"),
        ("{ignore_paths: [a]}", "match", "'ignore_paths' was unexpected"),
    ],
)
def test_a_malformed_match_names_the_file_and_field(
    tmp_path: Path, match: str, field: str, message: str
) -> None:
    path = _with_match(tmp_path, match)
    with pytest.raises(fmt.CassetteError) as caught:
        fmt.load(path)
    assert (caught.value.source, caught.value.field) == (str(path), field)
    assert message in caught.value.message


def test_match_survives_save_and_har() -> None:
    from harness.cassettes.har import export_har, import_har

    cassette = fmt.Cassette([], name="m", match=fmt.MatchPolicy(("metadata.user_id",), ("beta",), True))
    assert fmt.parse(json.loads(json.dumps(fmt.to_data(cassette)))).match == cassette.match
    assert import_har(export_har(cassette)).match == cassette.match
