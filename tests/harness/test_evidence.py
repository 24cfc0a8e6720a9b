"""``wirecheck run -v``: a failure shows what its checks compared (the upstream request the mock captured,
the result, the stream items) with the places the diffs name marked; what is kept stays small."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness import evidence
from harness.cli import main
from harness.runner import run
from harness.scenario import load_yaml, parse
from harness.verdicts import Verdict

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BROKEN = "tests.harness.broken.providers"


@pytest.fixture(autouse=True)
def importable_broken_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(
        str(ROOT)
    )  # the specs import tests.harness.broken as a user's module would be


def verbose_run(
    capsys: pytest.CaptureFixture[str], provider: str, scenarios: str, case: str, *flags: str
) -> str:
    args = [
        "run",
        "--provider",
        f"{BROKEN}:{provider}",
        "--scenarios",
        str(SCENARIOS / scenarios),
        "-k",
        case,
    ]
    assert main([*args, *flags]) == 1
    return capsys.readouterr().out


def test_v_shows_the_captured_upstream_request_with_the_differing_header_marked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = verbose_run(capsys, "WrongVersionHeader", "upstream.yaml", "upstream.chat.request.001", "-v")
    lines = out.splitlines()
    failure = (
        '  ✗ upstream.request: upstream[0].headers.anthropic-version: expected "2023-06-01", got "2023-01-01"'
    )
    assert any(line.startswith(failure) for line in lines)  # followed by the check's level
    assert "  compared (the case's own call):" in lines
    assert "    upstream request 1 (captured by the mock): POST /v1/messages" in lines
    marked = [line for line in lines if line.endswith(evidence.MARK)]
    assert marked == ['          "anthropic-version": "2023-01-01",  <-- differs']
    assert '"content": "hi"' in [line.strip() for line in lines]  # the request body the mock captured
    assert '          "x-api-key": "<redacted:45 chars>",' in lines  # the credential never shows
    # Without -v the same failure shows its diff only.
    quiet = verbose_run(capsys, "WrongVersionHeader", "upstream.yaml", "upstream.chat.request.001")
    assert "compared (" not in quiet and evidence.MARK not in quiet


def test_v_marks_a_missing_key_of_the_result_and_the_stream_items_a_check_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = verbose_run(capsys, "DropsUsage", "openai_chat.yaml", "openai.chat.text.001", "-v").splitlines()
    at = out.index("    result:")
    assert out[at + 1] == "      {  <-- differs: .usage"  # usage is what is missing
    assert '        "object": "chat.completion",' in out[at:]

    out = verbose_run(
        capsys, "RepeatsToolCallId", "openai_stream.yaml", "openai.stream.tool_call.001", "-v"
    ).splitlines()
    stream = out[out.index("    stream: 7 items") :]
    assert [line[:9] for line in stream[1:4]] == ["      [0]", "      [1]", "    ! [2]"]
    assert stream[3].endswith(evidence.MARK)
    assert stream[4].startswith('          .choices[0].delta.tool_calls[0].function.name = "get_weather"')
    assert [line[:9] for line in stream if "[5]" in line[:9] or "[6]" in line[:9]] == [
        "      [5]",
        "      [6]",
    ]


@pytest.mark.parametrize(
    ("check_id", "line", "places"),
    [
        ("fields.result", 'result.choices[0].finish_reason: expected "stop", got "length"',
         [("result", ("choices", 0, "finish_reason"))]),
        ("fields.result", "result.usage: missing (expected {})", [("result", ("usage",))]),
        ("fields.stream.items", "items[3].delta.text: expected 1, got 2", [("items", (3, "delta", "text"))]),
        ("upstream.request", 'upstream[1].headers.anthropic-version: expected "a"', [("upstream", (1, "headers", "anthropic-version"))]),
        ("upstream.request", "upstream: expected 2 items, got 1: [...]", [("upstream", ())]),
        ("equivalence.raw", "chat_completion_raw bytes vs chat_completion JSON: $.usage: in the raw bytes (1) but not in the typed result",
         [("result", ("usage",))]),
        ("equivalence.raw", "x_raw events vs x items: $[2].choices[0].delta: typed 1, raw 2", [("items", (2, "choices", 0, "delta"))]),
        ("equivalence.raw", "x_raw events vs x items: $: typed has 7 items, raw 6", [("items", ())]),
        ("stream.schema", "item 3 (openai.chat.chunk): choices.0.delta: 'x' is not valid", [("items", (3, "choices", 0, "delta"))]),
        ("fields.schema", "result (openai.chat.response): $: 'id' is a required property", [("result", ())]),
        ("stream.grammar.openai.tool_id_once", "chunk 4: tool call 0 repeats its id 'c'", [("items", (4,))]),
        ("stream.grammar.anthropic.blocks", "event 7: stop for block 1, but the open block is 2", [("items", (7,))]),
        ("fields.text", 'text: expected "a", got "b"', []),
        ("fields.count", "expected 3 stream items, got 4", []),
    ],
)  # fmt: skip
def test_paths_reads_where_each_kind_of_diff_line_points(check_id: str, line: str, places: list) -> None:
    assert evidence.paths(check_id, line) == places


LONG = textwrap.dedent(
    """\
    cases:
      - id: evidence.long.001
        title: a long stream whose text is not what the case expects
        clause: {spec: contract, ref: r}
        method: chat_completion_stream
        providers: [openai]
        request: {model: gpt-4o, stream: true, messages: [{role: user, content: hi}]}
        upstream: {reply: {answer: {text: "%s", usage: {prompt: 3, completion: 1}}}}
        expect: {text: "something else", stream: {items: {$prefix: [{object: chat.completion.chunk}]}}}
      - id: evidence.long.002
        title: a passing case keeps nothing
        clause: {spec: contract, ref: r}
        method: chat_completion
        providers: [openai]
        request: {model: gpt-4o, messages: [{role: user, content: hi}]}
        upstream: {reply: {answer: {text: "hi", usage: {prompt: 3, completion: 1}}}}
        expect: {text: "hi"}
    """
)


def test_what_a_result_keeps_is_bounded_and_only_for_failures() -> None:
    text = " ".join(f"w{n}" for n in range(300))
    cases = list(parse(*load_yaml(LONG % text, "long.yaml"), "long.yaml").cases)
    result = run(cases, ["openai"], sdk=False)
    failed, passed = result.results
    assert (failed.verdict, passed.verdict) == (Verdict.FAIL, Verdict.PASS)
    assert passed.details == {}
    stream = failed.details["compared"]["stream"]
    assert stream["count"] > evidence.HEAD_ITEMS + evidence.TAIL_ITEMS
    kept = [index for index, _ in stream["items"]]
    assert kept == [
        *range(evidence.HEAD_ITEMS),
        *range(stream["count"] - evidence.TAIL_ITEMS, stream["count"]),
    ]
    shown = "\n".join(evidence.render(failed.details["compared"], failed.failed_checks))
    assert f"… {stream['count'] - evidence.HEAD_ITEMS - evidence.TAIL_ITEMS} items not kept" in shown
    (request,) = failed.details["compared"]["upstream"]
    assert request["json"]["messages"] == [{"role": "user", "content": "hi"}]


def test_long_strings_and_lists_are_cut() -> None:
    value = {"text": "x" * 1000, "list": list(range(100))}
    cut = evidence._bounded(value)
    assert cut["text"] == "x" * evidence.MAX_TEXT + f"…(+{1000 - evidence.MAX_TEXT} chars)"
    assert cut["list"] == [*range(evidence.MAX_LIST), f"…(+{100 - evidence.MAX_LIST} items)"]
