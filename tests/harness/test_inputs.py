"""Every input is validated at load, in every format, and a bad one is one message naming the file, the
line (where there is one) and the field: the safe loader (mocks/config.py), scenarios, mock scripts,
cassettes (wirecheck and VCR), gateway adapters, baselines and command-line flags."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.baseline import Baseline, BaselineError
from harness.cassettes import format as fmt
from harness.cassettes.vcr import read_vcr
from harness.cli import main
from harness.config import ConfigError, load_document, parse_document
from harness.gateway.adapter import AdapterError, load_adapter
from harness.scenario import ScenarioError, load_file
from mocks.matching import differences
from mocks.script import ScriptError, load_script, parse_script

ROOT = Path(__file__).resolve().parents[2]

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)

CASE = """\
cases:
  - id: demo.case.001
    title: A demo
    clause: {spec: openai, ref: "Chat Completions: create"}
    method: chat_completion
    request: {model: gpt-4o, messages: [{role: user, content: hi}]}
"""


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _error_names(error: ConfigError, path: Path, line: int, field: str) -> None:
    """The error is the one shape: file, line and field in the message and the attributes."""
    assert error.source == str(path)
    assert error.line == line, str(error)
    assert error.field == field, str(error)
    assert str(error).startswith(f"{path}:{line}: {field}: "), str(error)


# --- the loader --------------------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.yaml", BOMB)
    assert len(path.read_bytes()) < 400
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            load_document(path)
        except ConfigError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=30)  # a guard against the expansion, not a speed goal (benchmarks/ has those)
    assert not worker.is_alive(), "the alias bomb was expanded"
    [error] = outcome
    assert "alias bomb" in str(error)
    assert isinstance(error, ConfigError) and error.field == "<yaml>" and error.line > 0


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "loop.yaml", "a: &a [1, *a]\n")
    with pytest.raises(ConfigError, match="recursive alias"):
        load_document(path)


def test_a_few_aliases_of_a_legitimate_file_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.yaml", "r: &r a reason\nentries: [*r, *r, *r]\n")
    data, lines = load_document(path)
    assert data == {"r": "a reason", "entries": ["a reason"] * 3}
    assert lines[("entries",)] == 2


def test_merge_keys_still_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.yaml", "base: &base {a: 1, b: 2}\nmore: {<<: *base, c: 3}\n")
    data, _ = load_document(path)
    assert data["more"] == {"a": 1, "b": 2, "c": 3}


# Text without control characters and line separators (NEL, LS, PS), which PyYAML's dumper and reader do
# not give back the same: a YAML limitation, not the loader's.
_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"))
_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_TEXT.filter(bool).map(lambda t: t[:8]), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(data=_JSON)
def test_any_json_data_round_trips_with_a_line_for_every_field(data: object) -> None:
    text = yaml.safe_dump({"top": data}, allow_unicode=True)
    loaded, lines = parse_document(text, "round.yaml")
    assert loaded == {"top": data}
    stack: list[tuple[object, tuple[str | int, ...]]] = [(loaded["top"], ("top",))]
    while stack:
        value, pointer = stack.pop()
        assert lines.get(pointer, 0) >= 1, pointer
        if isinstance(value, dict):
            stack.extend((v, (*pointer, k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*pointer, i)) for i, v in enumerate(value))
    as_json, _ = parse_document(json.dumps({"top": data}), "round.json", kind="json")
    assert as_json == {"top": data}


def test_bytes_that_are_not_utf8_are_named_with_their_offset_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "latin.yaml", b"a: 1\nb: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_document(path)
    _error_names(info.value, path, 2, "<file>")
    assert "byte 0xe9 at offset 11" in str(info.value)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.yaml", "a: " + "x" * 100 + "\n")
    with pytest.raises(ConfigError, match="at most 50 bytes"):
        load_document(path, max_bytes=50)


@pytest.mark.parametrize("text", ["a: {b: .nan}\n", "a: {b: .inf}\n", "a: {b: -.inf}\n"])
def test_numbers_that_are_not_finite_are_refused_in_yaml(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "n.yaml", text)
    with pytest.raises(ConfigError, match="expected a finite number") as info:
        load_document(path)
    _error_names(info.value, path, 1, "a.b")


def test_numbers_that_are_not_finite_are_refused_in_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "n.json", '{\n  "a": [1,\n    NaN]\n}\n')
    with pytest.raises(ConfigError, match="expected a finite number") as info:
        load_document(path)
    _error_names(info.value, path, 3, "a[1]")


# --- scenarios -------------------------------------------------------------------------------------------


def test_a_scenario_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.yaml", CASE.encode() + b"# \xff\n")
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    _error_names(info.value, path, 7, "<file>")


def test_a_scenario_alias_bomb_is_a_scenario_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.yaml", BOMB)
    with pytest.raises(ScenarioError, match="alias bomb"):
        load_file(path)


@pytest.mark.parametrize(
    ("expect", "field", "message"),
    [
        ("result: {id: {$regexx: '^x'}}", "cases[0].expect.result.id.$regexx", "did you mean $regex?"),
        ("result: {id: {$not: {$regexx: '^x'}}}", "cases[0].expect.result.id.$not.$regexx", "a matcher among"),
        ("result: {id: {$regex: '['}}", "cases[0].expect.result.id.$regex", "a regular expression that compiles"),
        ("result: {id: {$type: strng}}", "cases[0].expect.result.id.$type", "a JSON type"),
        ("result: {choices: {$len: -1}}", "cases[0].expect.result.choices.$len", "a length"),
        ("result: {choices: {$contains: [{$anyy: true}]}}", "cases[0].expect.result.choices.$contains[0].$anyy",
         "a matcher among"),
    ],
)  # fmt: skip
def test_scenario_matchers_are_checked_at_load(tmp_path: Path, expect: str, field: str, message: str) -> None:
    path = _write(tmp_path, "s.yaml", CASE + f"    expect:\n      {expect}\n")
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    _error_names(info.value, path, 8, field)
    assert message in info.value.expected


@pytest.mark.parametrize(
    ("expect", "field", "message"),
    [
        ("error: {message: 'rate (limit'}", "cases[0].expect.error.message", "a regular expression that compiles"),
        ("waits: [0.5, -1]", "cases[0].expect.waits[1]", "a number >= 0"),
        ("usage: {input: -3}", "cases[0].expect.usage.input", "a number >= 0"),
        ("error: {retry_after: -2}", "cases[0].expect.error.retry_after", "a number >= 0"),
    ],
)  # fmt: skip
def test_scenario_expected_numbers_and_patterns_are_checked(
    tmp_path: Path, expect: str, field: str, message: str
) -> None:
    path = _write(tmp_path, "s.yaml", CASE + f"    expect:\n      {expect}\n")
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    _error_names(info.value, path, 8, field)
    assert message in info.value.expected


def test_json_schema_dollar_keys_are_data_not_matchers(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.yaml", CASE + "    expect:\n      result: {schema: {$ref: '#/x'}}\n")
    assert load_file(path).cases[0].expect["result"] == {"schema": {"$ref": "#/x"}}


def test_a_scenario_delay_that_is_not_finite_names_the_field(tmp_path: Path) -> None:
    text = CASE + "    upstream:\n      reply: {delay_ms: .nan}\n"
    path = _write(tmp_path, "s.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    _error_names(info.value, path, 8, "cases[0].upstream.reply.delay_ms")


def test_a_scenario_upstream_header_with_crlf_names_the_field(tmp_path: Path) -> None:
    text = CASE + '    upstream:\n      reply: {headers: {x-a: "1\\r\\nx-b: 2"}}\n'
    path = _write(tmp_path, "s.yaml", text)
    with pytest.raises(ScenarioError, match="without CR, LF") as info:
        load_file(path)
    assert info.value.field == "cases[0].upstream.reply.headers.x-a" and info.value.line == 8


# --- mock scripts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "field"),
    [
        ("{delay_ms: .nan}", "rules[0].reply.delay_ms"),
        ("{delay_ms: .inf}", "rules[0].reply.delay_ms"),
        ("{event_delay_ms: -.inf}", "rules[0].reply.event_delay_ms"),
    ],
)
def test_script_delays_must_be_finite(tmp_path: Path, reply: str, field: str) -> None:
    path = _write(tmp_path, "s.yaml", f"rules:\n  - reply: {reply}\n")
    with pytest.raises(ScriptError, match="expected a finite number") as info:
        load_script(path)
    _error_names(info.value, path, 2, field)


def test_script_delays_out_of_range_name_the_field_and_line() -> None:
    with pytest.raises(ScriptError, match=r"a number >= 0 and <= 86400000 \(finite\)") as info:
        parse_script({"rules": [{"fault": {"stall": {"ms": 1e12}}}]}, source="inline")
    assert info.value.field == "rules[0].fault.stall.ms"
    with pytest.raises(ScriptError, match="finite"):
        parse_script({"rules": [{"reply": {"events": [{"data": "x", "delay_ms": float("nan")}]}}]})


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        ('{match: {path: "/v1/{1bad}"}}', "rules[0].match.path", "must be an identifier"),
        ('{match: {path: "/v1/{model}/{model}"}}', "rules[0].match.path", "appears twice"),
        ('{match: {headers: {x-a: "b\\r\\nc"}}}', "rules[0].match.headers.x-a", "without CR, LF"),
        ('{match: {headers: {"bad name": "x"}}}', "rules[0].match.headers.bad name", "a header name"),
        ('{reply: {headers: {x-a: "b\\nc"}}}', "rules[0].reply.headers.x-a", "without CR, LF"),
        ('{fault: {error: {status: 500, headers: {x-a: "b\\rc"}}}}', "rules[0].fault.error.headers.x-a",
         "without CR, LF"),
        ("{fault: {error: {status: 99999}}}", "rules[0].fault.error.status", "an integer from 100 to 599"),
        ("{fault: {stream_error: {status: 42}}}", "rules[0].fault.stream_error.status", "an integer >= 100"),
        ("{fault: {drip: {bytes_per_second: .inf}}}", "rules[0].fault.drip.bytes_per_second", "finite"),
        ("{random: {probability: .nan, faults: [{drop: {}}]}}", "rules[0].random.probability", "finite"),
        ("{match: {json: {model: {$regexx: gpt}}}}", "rules[0].match.json.model.$regexx", "did you mean $regex?"),
        ('{match: {json: {model: {$regex: "["}}}}', "rules[0].match.json.model.$regex", "compiles"),
    ],
)  # fmt: skip
def test_script_fields_are_checked_at_load(tmp_path: Path, rule: str, field: str, message: str) -> None:
    path = _write(tmp_path, "s.yaml", f"seed: 1\nrules:\n  - {rule}\n")
    with pytest.raises(ScriptError) as info:
        load_script(path)
    _error_names(info.value, path, 3, field)
    assert message in info.value.expected


def test_a_script_given_as_a_list_gets_lines_too(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.json", '[\n  {"name": "a"},\n  {"times": 0}\n]\n')
    with pytest.raises(ScriptError) as info:
        load_script(path)
    _error_names(info.value, path, 3, "rules[1].times")


def test_script_match_json_understands_the_matchers() -> None:
    script = parse_script(
        {"rules": [{"match": {"json": {"model": {"$regex": "^gpt-"}, "x": {"$absent": True}}}}]}
    )
    match = script.rules[0].match
    assert match.reasons("POST", "/v1/x", None, {}, {}, {"model": "gpt-4o"}) == []
    assert match.reasons("POST", "/v1/x", None, {}, {}, {"model": "claude"}) == [
        'json.model: expected a string matching /^gpt-/, got "claude"'
    ]
    assert match.reasons("POST", "/v1/x", None, {}, {}, {"model": "gpt-4o", "x": 1}) == [
        "json.x: expected absent, got 1"
    ]
    # the same language as the scenarios'
    assert differences({"model": {"$regex": "^gpt-"}}, {"model": "claude"})


def test_script_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        parse_script({"rules": [{"times": "twice"}]})


# --- cassettes ------------------------------------------------------------------------------------------


CASSETTE = """\
wirecheck_cassette: 1
interactions:
  - source: synthetic
    request: {method: POST, path: /v1/chat/completions}
    response:
      status: 200
      chunks:
        - {t_ms: %s, text: "data: [DONE]\\n\\n"}
"""


def test_a_cassette_chunk_time_must_be_finite(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", CASSETTE % ".inf")
    with pytest.raises(fmt.CassetteError, match="expected a finite number") as info:
        fmt.load(path)
    _error_names(info.value, path, 8, "interactions[0].response.chunks[0].t_ms")
    assert isinstance(info.value, ConfigError)


def test_a_cassette_error_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", CASSETTE % "-1")
    with pytest.raises(fmt.CassetteError) as info:
        fmt.load(path)
    _error_names(info.value, path, 8, "interactions[0].response.chunks[0].t_ms")


def test_a_cassette_header_value_with_crlf_is_refused(tmp_path: Path) -> None:
    text = (CASSETTE % "0").replace(
        "      status: 200\n", '      status: 200\n      headers: {x-a: "1\\r\\nx-b: 2"}\n'
    )
    path = _write(tmp_path, "c.yaml", text)
    with pytest.raises(fmt.CassetteError, match="without CR, LF") as info:
        fmt.load(path)
    _error_names(info.value, path, 7, "interactions[0].response.headers.x-a")


def test_a_cassette_alias_bomb_and_bad_bytes_are_cassette_errors(tmp_path: Path) -> None:
    with pytest.raises(fmt.CassetteError, match="alias bomb"):
        fmt.load(_write(tmp_path, "bomb.yaml", "wirecheck_cassette: 1\n" + BOMB))
    path = _write(tmp_path, "bytes.yaml", b"wirecheck_cassette: 1\n\xc3(\n")
    with pytest.raises(fmt.CassetteError) as info:
        fmt.load(path)
    _error_names(info.value, path, 2, "<file>")


def test_a_vcr_file_is_read_through_the_safe_loader(tmp_path: Path) -> None:
    with pytest.raises(fmt.CassetteError, match="alias bomb"):
        read_vcr(_write(tmp_path, "bomb.yaml", BOMB))
    path = _write(
        tmp_path, "v.yaml", "interactions:\n  - request: {method: GET}\n    response: {status: {code: 200}}\n"
    )
    with pytest.raises(fmt.CassetteError) as info:
        read_vcr(path)
    _error_names(info.value, path, 2, "interactions[0].request.uri")


# --- gateway adapters --------------------------------------------------------------------------------------

ADAPTER = """\
name: demo
command: [demo, --port, "{{port}}"]
readiness: {path: /health}
front_doors:
  openai: {headers: {%s: "Bearer {{master_key}}"}}
models:
  openai: "{{model}}"
"""


def test_an_adapter_header_name_must_be_a_token(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", ADAPTER % '"x auth"')
    with pytest.raises(AdapterError, match="a header name") as info:
        load_adapter(path)
    _error_names(info.value, path, 5, "front_doors.openai.headers.x auth")


def test_an_adapter_number_must_be_finite_and_its_port_in_range(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", ADAPTER % "authorization" + "deadline_s: .inf\n")
    with pytest.raises(AdapterError, match="finite") as info:
        load_adapter(path)
    _error_names(info.value, path, 8, "deadline_s")
    path = _write(tmp_path, "b.yaml", ADAPTER % "authorization" + "port: 99999\n")
    with pytest.raises(AdapterError) as info:
        load_adapter(path)
    _error_names(info.value, path, 8, "port")


def test_an_adapter_not_applicable_check_must_be_known(tmp_path: Path) -> None:
    text = (
        ADAPTER % "authorization" + "not_applicable:\n  - {case: a.b.001, checks: [fields.txt], reason: r}\n"
    )
    path = _write(tmp_path, "a.yaml", text)
    with pytest.raises(AdapterError, match="a check id") as info:
        load_adapter(path)
    _error_names(info.value, path, 9, "not_applicable[0].checks[0]")


def test_an_adapter_alias_bomb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="alias bomb"):
        load_adapter(_write(tmp_path, "a.yaml", BOMB))


# --- baselines -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ("{case: a.b.001, provider: antropic, reason: r}", "entries[0].provider", "did you mean anthropic?"),
        ("{case: a.b.001, provider: Gemini, reason: r}", "entries[0].provider", "a provider a run names"),
        ("{case: a.b.001, provider: litellm/claude, reason: r}", "entries[0].provider", "GATEWAY/DIALECT"),
        ("{case: a.b.001, provider: openai, check: fields.txt, reason: r}", "entries[0].check",
         "did you mean fields.text?"),
    ],
)  # fmt: skip
def test_baseline_providers_and_checks_must_be_known(
    tmp_path: Path, entry: str, field: str, message: str
) -> None:
    path = _write(tmp_path, "b.yaml", f"entries:\n  - {entry}\n")
    with pytest.raises(BaselineError) as info:
        Baseline.load(path)
    _error_names(info.value, path, 2, field)
    assert message in info.value.expected


def test_baseline_providers_a_run_can_name_load(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "b.yaml",
        "entries:\n"
        "  - {case: a.b.001, provider: google, reason: r}\n"
        "  - {case: a.b.001, provider: 'my_pkg.mod:Provider', check: timing.transparency, reason: r}\n"
        "  - {case: a.b.001, provider: litellm/gemini, check: stream.schema, reason: r}\n",
    )
    assert [e.provider for e in Baseline.load(path).entries] == [
        "google",
        "my_pkg.mod:Provider",
        "litellm/gemini",
    ]


def test_a_baseline_alias_bomb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="alias bomb"):
        Baseline.load(_write(tmp_path, "b.yaml", BOMB))


# --- command-line flags ------------------------------------------------------------------------------------


def _one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["run", "--deadline", "-1"], ["wirecheck run: --deadline -1.0: expected a finite number of seconds above 0"]),
        (["run", "--deadline", "nan"], ["--deadline nan"]),
        (["run", "--deadline", "inf"], ["--deadline inf"]),
        (["run", "--deadline", "soon"], ["--deadline 'soon'"]),
        (["run", "--concurrency", "0"], ["--concurrency 0: expected a whole number >= 1"]),
        (["run", "--concurrency", "many"], ["--concurrency 'many'"]),
        (["run", "--gateway", "x.yaml", "--mock-port", "99999"], ["--mock-port 99999: outside 0..65535"]),
        (["serve", "--port", "99999"], ["wirecheck serve: --port 99999: outside 0..65535"]),
        (["serve", "--capture-limit", "-1"], ["--capture-limit -1"]),
        (["record", "--upstream", "http://127.0.0.1:9", "--out", "x.yaml", "--port", "99999"],
         ["wirecheck record: --port 99999: outside 0..65535"]),
        (["record", "--upstream", "api.openai.com", "--out", "x.yaml"], ["--upstream 'api.openai.com'"]),
        (["cassette", "show", "x.yaml", "--max-age-days", "-3"], ["wirecheck cassette show: --max-age-days -3.0"]),
        (["serve", str(ROOT / "cassettes"), "--ignore", "messages[[0]"], ["wirecheck serve: --ignore 'messages[[0]': expected a JSON path"]),
        (["serve", str(ROOT / "cassettes"), "--ignore-query", "a=b"], ["--ignore-query 'a=b'"]),
        (["run", "--gateway-url", "localhost:4000", "--gateway-adapter", "a.yaml"],
         ["--gateway-url 'localhost:4000': expected an http:// or https:// URL"]),
        (["run", "--gateway", "a.yaml", "--mock-url", "http://127.0.0.1:99999"], ["--mock-url"]),
        (["record", "--upstream", "https://api.openai.com:http", "--out", "x.yaml"], ["--upstream"]),
    ],
)  # fmt: skip
def test_bad_flags_are_one_line_naming_the_flag(
    argv: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _one_line_exit_2(argv, capsys, *needles)


def test_report_folders_are_created_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path, "bad.yaml", "cases: nope\n")  # the run stops at loading, after the flags
    report = tmp_path / "missing" / "dir" / "r.json"
    junit = tmp_path / "other" / "j.xml"
    _one_line_exit_2(
        ["run", "--scenarios", str(bad), "--json", str(report), "--junit", str(junit)],
        capsys,
        "bad.yaml:1: cases",
    )
    assert report.parent.is_dir() and junit.parent.is_dir()


def test_a_report_that_cannot_be_written_fails_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = _write(tmp_path, "file", "not a folder")
    err = _one_line_exit_2(
        ["run", "--json", str(blocker / "r.json")], capsys, f"--json {blocker / 'r.json'}: cannot create"
    )
    assert err.startswith("wirecheck run: ")
    assert blocker.read_text() == "not a folder"  # refused before the run: the file in the way is untouched
    err = _one_line_exit_2(["run", "--matrix", str(tmp_path)], capsys, "--matrix", "got a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # and nothing was written beside it


def test_a_provider_module_that_raises_on_import_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "raising_provider_mod.py", "raise RuntimeError('no API key in the environment')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _one_line_exit_2(
        ["run", "--provider", "raising_provider_mod:Provider"],
        capsys,
        "--provider raising_provider_mod:Provider: importing raising_provider_mod raised RuntimeError: "
        "no API key in the environment",
    )


def test_list_names_the_file_of_an_alias_bomb_and_of_bad_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # scenario files are named relative to the working directory
    _write(tmp_path, "bomb.yaml", BOMB)
    _one_line_exit_2(["list", "--scenarios", "bomb.yaml"], capsys, "wirecheck list: bomb.yaml:", "alias bomb")
    _write(tmp_path, "latin.yaml", b"cases: caf\xe9\n")
    _one_line_exit_2(
        ["list", "--scenarios", "latin.yaml"], capsys, "latin.yaml:1: <file>: expected UTF-8 text"
    )


def test_run_names_a_bad_matcher_and_a_bad_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "s.yaml", CASE + "    expect:\n      result: {id: {$not: {$regexx: x}}}\n")
    _one_line_exit_2(
        ["run", "--scenarios", "s.yaml"], capsys, "s.yaml:8: cases[0].expect.result.id.$not.$regexx"
    )
    _write(tmp_path, "good.yaml", CASE)
    _write(tmp_path, "b.yaml", "entries:\n  - {case: demo.case.001, provider: opnai, reason: r}\n")
    _one_line_exit_2(
        ["run", "--scenarios", "good.yaml", "--baseline", "b.yaml"], capsys, "b.yaml:2: entries[0].provider"
    )


def test_serve_names_a_script_with_a_nan_delay(tmp_path: Path) -> None:
    script = _write(tmp_path, "s.yaml", "rules:\n  - reply: {delay_ms: .nan}\n")
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "serve", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == f"wirecheck serve: {script}:2: rules[0].reply.delay_ms: expected a finite number, got <nan>\n"
    )


def test_cassette_export_of_a_bad_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path, "c.yaml", CASSETTE % ".nan")
    _one_line_exit_2(
        ["cassette", "export", str(bad)],
        capsys,
        f"wirecheck cassette export: {bad}:8: interactions[0].response",
    )
    _one_line_exit_2(
        ["cassette", "export", str(tmp_path / "none.yaml")], capsys, "expected a readable cassette file"
    )


def test_gateway_mode_names_a_busy_mock_port(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        adapter = ROOT / "tests" / "harness" / "gateway" / "faulty.yaml"
        err = _one_line_exit_2(
            ["run", "--gateway", str(adapter), "--mock-port", str(port), "-k", "openai.chat.text.001"],
            capsys,
            f"--mock-port {port}: cannot listen on 127.0.0.1:{port}",
        )
        assert err.startswith("wirecheck run: ")  # named before any gateway was started


def test_cassette_show_of_a_bad_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path, "c.yaml", "wirecheck_cassette: 1\n" + BOMB)
    _one_line_exit_2(["cassette", "show", str(bad)], capsys, f"wirecheck cassette show: {bad}:", "alias bomb")


def test_baseline_drafts_into_a_new_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _write(tmp_path, "r.json", '{"results": []}')
    target = tmp_path / "new" / "folder" / "b.yaml"
    assert main(["baseline", "--from", str(report), "-o", str(target)]) == 0, capsys.readouterr().err
    assert target.is_file()
