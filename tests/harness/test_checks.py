"""Checks one by one, on hand-made facts: each passes on a good stream and fails on a broken one."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks import CHECKS, run_checks
from harness.checks.facts import Facts, Outcome, Sent
from harness.checks.subset import differences
from harness.runner import decide
from harness.scenario import Case, Clause
from harness.verdicts import CheckResult, Verdict
from mocks.capture import CaptureLog
from providers.errors import ProviderError
from providers.sse import anthropic_event, openai_event

FAMILIES = {"fields", "upstream", "stream", "equivalence", "error", "timing", "sdk", "mock"}


def case(method: str, request: Any = None, expect: dict[str, Any] | None = None, **kw: Any) -> Case:
    return Case(
        id="t.case.001",
        title="t",
        clause=Clause("contract", "r"),
        method=method,
        source="t.yaml",
        line=1,
        family="t",
        request=request if request is not None else {},
        expect=expect or {},
        **kw,
    )


def facts(method: str, items: list[Any] | None = None, *, result: Any = None, expect=None, request=None,
          dialect: str = "openai", **outcome: Any) -> Facts:  # fmt: skip
    main = Outcome(method, items=list(items or []), result=result, **outcome)
    return Facts(case(method, request, expect), "p", dialect, main, sdk=False)


def check(check_id: str, f: Facts) -> CheckResult:
    return CHECKS[check_id].run(f)


# --- subsets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("want", "got", "ok"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ({"a": 1}, {"a": 1.0}, True),
        ({"a": True}, {"a": 1}, False),
        ([1, 2], [1, 2, 3], False),
        ({"$prefix": [1, 2]}, [1, 2, 3], True),
        ({"$contains": [{"t": "b"}]}, [{"t": "a"}, {"t": "b", "x": 1}], True),
        ({"$contains": [{"t": "c"}]}, [{"t": "a"}], False),
        ({"a": {"$absent": True}}, {"b": 1}, True),
        ({"a": {"$absent": True}}, {"a": None}, False),
        ({"a": {"$any": True}}, {"a": None}, True),
        ({"a": {"$any": True}}, {}, False),
        ({"$type": "string"}, "x", True),
        ({"$type": "number"}, 3, True),
        ({"$type": "integer"}, 3.5, False),
        ({"$regex": "^msg_"}, "msg_1", True),
        ({"$regex": "^msg_"}, 7, False),
        ({"$len": 2}, [1, 2], True),
        ({"$not": {"$contains": [1]}}, [2, 3], True),
        ({"$not": {"$contains": [1]}}, [1], False),
    ],
)
def test_subset_matchers(want: Any, got: Any, ok: bool) -> None:
    assert (differences(want, got) == []) is ok


def test_differences_are_readable() -> None:
    assert differences(
        {"choices": [{"finish_reason": "stop"}]}, {"choices": [{"finish_reason": "length"}]}
    ) == ['$.choices[0].finish_reason: expected "stop", got "length"']


def test_every_family_has_checks() -> None:
    assert {c.family for c in CHECKS.values()} == FAMILIES
    assert all(c.doc for c in CHECKS.values())


# --- OpenAI stream grammar ---------------------------------------------------------------------------


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **kw: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": choices,
        **kw,
    }


def tool(index: int, args: str, id: str | None = None, name: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if id:
        call["id"], call["type"] = id, "function"
        call["function"]["name"] = name
    return {"tool_calls": [call]}


GOOD_OPENAI = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "Hi"}),
    chunk(tool(0, "", "call_1", "f")),
    chunk(tool(0, '{"a":1}')),
    chunk(tool(1, "{}", "call_2", "g")),
    chunk({}, "tool_calls"),
    chunk(None, usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
]
USAGE_REQUEST = {"stream_options": {"include_usage": True}}


def test_a_good_openai_stream_passes_every_grammar_check() -> None:
    f = facts("chat_completion_stream", GOOD_OPENAI, request=USAGE_REQUEST)
    ids = [
        c for c in CHECKS if c.startswith("stream.grammar.openai.") and c != "stream.grammar.openai.done_last"
    ]
    assert {i: check(i, f).status for i in ids} == dict.fromkeys(ids, "pass")
    assert check("stream.schema", f).status == "pass"
    _response, why = f.main.accumulated
    assert why is None and f.main.semantic["tool_calls"][0] == {
        "id": "call_1",
        "name": "f",
        "arguments": {"a": 1},
    }


@pytest.mark.parametrize(
    ("check_id", "broken"),
    [
        ("stream.grammar.openai.one_id", [*GOOD_OPENAI[:2], {**GOOD_OPENAI[2], "id": "c2"}, *GOOD_OPENAI[3:]]),
        ("stream.grammar.openai.role_first", GOOD_OPENAI[1:]),
        ("stream.grammar.openai.tool_index", [*GOOD_OPENAI[:2], chunk(tool(1, "{}", "call_1", "f")), *GOOD_OPENAI[5:]]),
        ("stream.grammar.openai.tool_id_once", [*GOOD_OPENAI[:3], chunk(tool(0, "{}", "call_1", "f")), *GOOD_OPENAI[4:]]),
        ("stream.grammar.openai.one_finish", [*GOOD_OPENAI[:6], chunk({}, "stop"), GOOD_OPENAI[6]]),
        ("stream.grammar.openai.usage_last", [*GOOD_OPENAI[:5], GOOD_OPENAI[6], GOOD_OPENAI[5]]),
        ("stream.schema", [*GOOD_OPENAI[:1], {**GOOD_OPENAI[1], "object": "chunk"}, *GOOD_OPENAI[2:]]),
    ],
)  # fmt: skip
def test_each_openai_grammar_rule_fires(check_id: str, broken: list[dict[str, Any]]) -> None:
    result = check(check_id, facts("chat_completion_stream", broken, request=USAGE_REQUEST))
    assert result.status == "fail" and result.message


def test_usage_chunk_without_asking_fails_and_raw_done_is_checked() -> None:
    assert check("stream.grammar.openai.usage_last", facts("chat_completion_stream", GOOD_OPENAI)).failed
    body = b"".join(openai_event(c) for c in GOOD_OPENAI)
    raw = facts("chat_completion_stream_raw", [body + b"data: [DONE]\n\n"], request=USAGE_REQUEST)
    assert check("stream.grammar.openai.done_last", raw).status == "pass"
    assert check("stream.grammar.openai.done_last", facts("chat_completion_stream_raw", [body])).failed
    twice = facts("chat_completion_stream_raw", [body + b"data: [DONE]\n\n" * 2])
    assert check("stream.grammar.openai.done_last", twice).failed


# --- Anthropic stream grammar ---------------------------------------------------------------------------

START = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [],
         "model": "m", "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}}  # fmt: skip
GOOD_ANTHROPIC = [
    START,
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"a":1}'}},
    {"type": "content_block_stop", "index": 1},
    {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {"output_tokens": 5}},
    {"type": "message_stop"},
]  # fmt: skip


def _renumber(events: list[dict[str, Any]], mapping: dict[int, int]) -> list[dict[str, Any]]:
    return [{**e, "index": mapping[e["index"]]} if "index" in e else e for e in events]


def test_a_good_anthropic_stream_passes_and_raw_event_names_are_checked() -> None:
    f = facts("anthropic_messages_stream", GOOD_ANTHROPIC, dialect="anthropic")
    ids = [
        c
        for c in CHECKS
        if c.startswith("stream.grammar.anthropic.") and c != "stream.grammar.anthropic.event_names"
    ]
    assert {i: check(i, f).status for i in ids} == dict.fromkeys(ids, "pass")
    assert check("stream.schema", f).status == "pass"
    body = b"".join(anthropic_event(e) for e in GOOD_ANTHROPIC)
    assert (
        check("stream.grammar.anthropic.event_names", facts("anthropic_messages_stream_raw", [body])).status
        == "pass"
    )
    unnamed = body.replace(b"event: content_block_delta\n", b"")
    assert check(
        "stream.grammar.anthropic.event_names", facts("anthropic_messages_stream_raw", [unnamed])
    ).failed


@pytest.mark.parametrize(
    ("check_id", "broken"),
    [
        ("stream.grammar.anthropic.message_start", GOOD_ANTHROPIC[1:]),
        ("stream.grammar.anthropic.block_indices", _renumber(GOOD_ANTHROPIC, {0: 0, 1: 2})),
        ("stream.grammar.anthropic.block_indices", _renumber(GOOD_ANTHROPIC, {0: 1, 1: 2})),
        ("stream.grammar.anthropic.blocks", [*GOOD_ANTHROPIC[:4], *GOOD_ANTHROPIC[5:]]),  # never stopped
        ("stream.grammar.anthropic.blocks", [*GOOD_ANTHROPIC[:6],
            {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "x"}}, *GOOD_ANTHROPIC[6:]]),
        ("stream.grammar.anthropic.message_end", GOOD_ANTHROPIC[:-1]),
        ("stream.grammar.anthropic.message_end", [*GOOD_ANTHROPIC[:8], GOOD_ANTHROPIC[9]]),
    ],
)  # fmt: skip
def test_each_anthropic_grammar_rule_fires(check_id: str, broken: list[dict[str, Any]]) -> None:
    assert check(check_id, facts("anthropic_messages_stream", broken, dialect="anthropic")).failed


# --- Gemini stream grammar ---------------------------------------------------------------------------------


def item(text: str, finish: str | None = None, total: int = 5) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": total}}


def test_gemini_grammar() -> None:
    good = [item("Hel", total=4), item("lo", "STOP", total=5)]
    f = facts("gemini_generate_content_stream", good, dialect="gemini")
    ids = [
        c for c in CHECKS if c.startswith("stream.grammar.gemini.") and c != "stream.grammar.gemini.no_done"
    ]
    assert {i: check(i, f).status for i in ids} == dict.fromkeys(ids, "pass")
    early = facts(
        "gemini_generate_content_stream", [item("Hel", "STOP"), item("lo", "STOP")], dialect="gemini"
    )
    assert check("stream.grammar.gemini.finish_last", early).failed
    shrinking = facts("gemini_generate_content_stream", [item("Hel", total=9), item("lo", "STOP", total=5)])
    assert check("stream.grammar.gemini.usage_monotonic", shrinking).failed
    assert check(
        "stream.grammar.gemini.full_items", facts("gemini_generate_content_stream", [{"x": 1}])
    ).failed
    raw = (
        b"data: "
        + b'{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}'
        + b"\n\ndata: [DONE]\n\n"
    )
    assert check("stream.grammar.gemini.no_done", facts("gemini_generate_content_stream_raw", [raw])).failed


# --- errors, equivalence, verdicts --------------------------------------------------------------------------


def test_error_checks() -> None:
    error = ProviderError.upstream(429, "slow down", error_type="rate_limit_error", retry_after=2.0)
    expect = {"error": {"kind": "upstream", "status": 429, "error_type": "rate_limit_error", "retry_after": 2,
                        "raised": "call", "message": "slow"}}  # fmt: skip
    f = facts("chat_completion", expect=expect, error=error, raised="call")
    ids = [
        "error.expected",
        "error.kind",
        "error.status",
        "error.type",
        "error.retry_after",
        "error.message",
        "error.raised",
    ]
    assert {i: check(i, f).status for i in ids} == dict.fromkeys(ids, "pass")
    wrong = facts(
        "chat_completion", expect=expect, error=ProviderError.transport("disconnect", "x"), raised="iterator"
    )
    assert {i for i in ids if check(i, wrong).failed} == {
        "error.kind", "error.status", "error.type", "error.retry_after", "error.message", "error.raised"
    }  # fmt: skip
    assert check("error.expected", facts("chat_completion", expect=expect, result=object())).failed
    assert check("error.provider_error", facts("chat_completion", error=KeyError("x"))).failed


def test_equivalence_stream_compares_the_twin_s_semantics() -> None:
    f = facts("chat_completion_stream", GOOD_OPENAI, request=USAGE_REQUEST)
    twin_json = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0,
        "message": {"role": "assistant", "content": "Hi", "tool_calls": [
            {"id": "x", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}},
            {"id": "y", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
        "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}  # fmt: skip
    from providers.types.openai import ChatCompletionResponse

    f.siblings["stream"] = Outcome(
        "chat_completion", "stream", result=ChatCompletionResponse.parse(twin_json)
    )
    assert check("equivalence.stream", f).status == "pass"
    twin_json["choices"][0]["message"]["content"] = "Hello"
    f.siblings["stream"] = Outcome(
        "chat_completion", "stream", result=ChatCompletionResponse.parse(twin_json)
    )
    result = check("equivalence.stream", f)
    assert result.failed and result.message.startswith("text:")


def test_equivalence_raw_tolerates_minted_ids_but_nothing_else() -> None:
    from providers.types.anthropic import MessagesResponse

    body = {"id": "msg_aaaa", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "Hi"}],
            "model": "m", "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
    f = facts("anthropic_messages", result=MessagesResponse.parse(body), dialect="anthropic")
    import json

    f.siblings["raw"] = Outcome(
        "anthropic_messages_raw", "raw", result=json.dumps({**body, "id": "msg_bbbb"}).encode()
    )
    assert check("equivalence.raw", f).status == "pass"
    f.siblings["raw"] = Outcome(
        "anthropic_messages_raw", "raw", result=json.dumps({**body, "extra": 1}).encode()
    )
    assert check("equivalence.raw", f).failed


def test_upstream_checks_read_the_captures() -> None:
    log = CaptureLog()
    request = log.record(
        "POST", "/v1/messages", {}, [("x-api-key", "sk-secret"), ("anthropic-version", "2023-06-01")], b"{}"
    )
    request.json = {"model": "m"}
    expect = {"upstream": {"anthropic": {"path": "/v1/messages", "headers": {"Anthropic-Version": "2023-06-01"},
                                         "json": {"model": "m"}}}, "attempts": 1}  # fmt: skip
    f = facts("anthropic_messages", expect=expect, dialect="anthropic", captured=[request])
    assert check("upstream.request", f).status == "pass"
    assert check("upstream.auth", f).status == "pass"
    assert check("upstream.attempts", f).status == "pass"
    bare = log.record("POST", "/v1/messages", {}, [("anthropic-version", "2023-06-01")], b"{}")
    assert check("upstream.auth", facts("anthropic_messages", dialect="anthropic", captured=[bare])).failed
    streamed = Sent(200, [("content-type", "text/event-stream")], b"data: {}\n\n", None)
    again = facts("anthropic_messages_stream", dialect="anthropic", captured=[request, request],
                  sent=[streamed, streamed])  # fmt: skip
    assert check("upstream.retry.after_stream", again).failed


def test_upstream_attempts_shows_a_dropped_connection_as_dropped_not_200() -> None:
    log = CaptureLog()
    first, second = (log.record("POST", "/v1/messages", {}, [], b"{}") for _ in range(2))
    first.status, second.status = 200, 200  # as the engine sets them before the server walks the reply
    first.dropped_at(0, head_sent=False)  # a `drop: {}` fault: closed before any response
    sent = [Sent(200, [], b"", first, complete=False), Sent(200, [], b"{}", second)]
    f = facts("anthropic_messages", expect={"attempts": 1}, dialect="anthropic", captured=[first, second],
              sent=sent)  # fmt: skip
    result = check("upstream.attempts", f)
    assert result.failed and "(replies: dropped, 200)" in result.message


def test_verdict_rules() -> None:
    ok = CheckResult("fields.text", "fields", "pass")
    bad = CheckResult("fields.text", "fields", "fail", "x")
    skip = CheckResult("timing.first_item", "timing", "skip")
    mock = CheckResult("mock.fidelity", "mock", "fail", "bad frame")
    assert decide([ok, skip])[0] is Verdict.PASS
    assert decide([ok, bad])[0] is Verdict.FAIL
    assert decide([bad, mock])[0] is Verdict.MOCK_INFIDELITY
    assert decide([skip])[0] is Verdict.ERROR  # nothing checked is never a pass


def test_run_checks_on_a_failed_call_reports_it_once() -> None:
    f = facts("chat_completion", expect={"text": "hi"}, error=ProviderError.decode("bad"), raised="call")
    failed = {c.id: c.message for c in run_checks(f) if c.failed}
    assert set(failed) == {"fields.succeeds"}  # the field checks skip: nothing to compare
    assert "the call failed" in failed["fields.succeeds"]


def test_every_choice_needs_a_role_in_some_delta_and_a_later_null_role_is_fine() -> None:
    """openai-node throws "missing role for choice N" for a choice no delta gave a role (docs/wire.md#openai-streaming)."""
    later_null = [chunk({"role": "assistant", "content": "H"}), chunk({"role": None, "content": "i"}, "stop")]
    rule = "stream.grammar.openai.role_every_choice"
    assert check(rule, facts("chat_completion_stream", later_null)).status == "pass"
    second = {"index": 1, "delta": {"content": "x"}, "finish_reason": "stop"}
    two = [*later_null[:1], {**later_null[1], "choices": [*later_null[1]["choices"], second]}]
    result = check(rule, facts("chat_completion_stream", two))
    assert result.status == "fail"
    assert (
        result.message
        == "choice 1 (first in chunk 1): no delta carries a role (openai-node: missing role for choice 1)"
    )
    nulls = [chunk({"role": None, "content": "H"}), chunk({"role": None}, "stop")]
    assert check(rule, facts("chat_completion_stream", nulls)).diff == [
        "choice 0 (first in chunk 0): no delta carries a role (openai-node: missing role for choice 0)"
    ]
