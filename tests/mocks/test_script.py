"""Scripts: loading from dicts and files, errors that name file / field / expected, and rule matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mocks.engine import MockUpstream, Request
from mocks.faults import DropFault, ErrorFault, StallFault
from mocks.script import ScriptError, compile_path, load_script, parse_script

AUTH = [("authorization", "Bearer k"), ("content-type", "application/json")]


def post(upstream: MockUpstream, path: str, body: dict, headers: list[tuple[str, str]] = AUTH) -> int:
    return upstream.handle(Request("POST", path, headers, json.dumps(body).encode())).status


@pytest.mark.parametrize(
    ("script", "field", "expected"),
    [
        ({"rulez": []}, "rulez", "one of auth, fallback, rules, seed"),
        ({"rules": {}}, "rules", "a list"),
        ({"rules": [{"match": {"path": "v1/x"}}]}, "rules[0].match.path", "a path starting with '/'"),
        (
            {"rules": [{"match": {"dialect": "bedrock"}}]},
            "rules[0].match.dialect",
            "one of openai, anthropic, gemini, azure",
        ),
        ({"rules": [{}, {"times": 0}]}, "rules[1].times", "an integer >= 1"),
        (
            {"rules": [{"reply": {"json": {}, "body": "x"}}]},
            "rules[0].reply",
            "at most one of json, events, body",
        ),
        ({"rules": [{"reply": {"status": 700}}]}, "rules[0].reply.status", "an HTTP status 100-599"),
        (
            {"rules": [{"reply": {"events": [{"delay_ms": 5}]}}]},
            "rules[0].reply.events[0]",
            "exactly one of data, raw",
        ),
        ({"rules": [{"reply": {"chunks": [0]}}]}, "rules[0].reply.chunks", "a non-empty list of byte sizes"),
        ({"rules": [{"fault": {"explode": {}}}]}, "rules[0].fault.explode", "one of auth, drip, drop"),
        ({"rules": [{"fault": {"error": {}}}]}, "rules[0].fault.error.status", "a value (required)"),
        ({"rules": [{"fault": {"stall": {"ms": -1}}}]}, "rules[0].fault.stall.ms", "a number >= 0"),
        (
            {"rules": [{"fault": {"drop": {"after_events": 1, "after_bytes": 2}}}]},
            "rules[0].fault.drop",
            "at most one",
        ),
        (
            {"rules": [{"random": {"probability": 2, "faults": [{}]}}]},
            "rules[0].random.probability",
            "a number between 0 and 1",
        ),
        ({"auth": {"keys": "k"}}, "auth.keys", "a list"),
        ({"fallback": "maybe"}, "fallback", "'generate' or 'not_found'"),
    ],
)
def test_errors_name_the_field_and_what_was_expected(script: dict, field: str, expected: str) -> None:
    with pytest.raises(ScriptError) as info:
        parse_script(script, source="inline.yaml")
    assert info.value.source == "inline.yaml"
    assert info.value.field == field
    assert info.value.expected.startswith(expected)
    assert str(info.value).startswith(f"inline.yaml: {field}: expected ")


def test_yaml_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - reply:\n      delay_ms: soon\n")
    with pytest.raises(
        ScriptError, match=r"bad\.yaml:3: rules\[0\]\.reply\.delay_ms: expected a number >= 0 .*, got 'soon'"
    ):
        load_script(path)
    path.write_text("rules: [\n")
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert info.value.expected == "valid YAML" and info.value.field == "<yaml>" and info.value.line == 2
    missing = tmp_path / "missing.json"
    with pytest.raises(ScriptError, match=r"missing\.json: <file>: expected a readable script file"):
        load_script(missing)


def test_yaml_and_json_files_load(tmp_path: Path) -> None:
    text = """
seed: 3
rules:
  - name: slow then drop
    match: {method: post, path: "/{version}/models/{model}:streamGenerateContent", query: {alt: sse}}
    fault: {stall: {ms: 50, after_events: 1}, drop: {after_events: 2}}
  - match: {path: /v1/chat/completions}
    fault: {error: {status: 429, retry_after: 1.5}}
"""
    (tmp_path / "s.yaml").write_text(text)
    script = load_script(tmp_path / "s.yaml")
    assert script.seed == 3 and script.fallback == "not_found"
    first, second = script.rules
    assert first.name == "slow then drop" and first.match.method == "POST"
    assert first.faults == (StallFault(0.05, 1), DropFault(after_events=2))
    assert second.name == "rules[1]" and second.faults == (ErrorFault(429, retry_after=1.5),)
    (tmp_path / "s.json").write_text(json.dumps({"rules": [{"reply": {"json": {"ok": True}}}]}))
    assert load_script(tmp_path / "s.json").rules[0].reply.value == {"ok": True}


def test_path_patterns() -> None:
    pattern = compile_path("/{version}/models/{model}:generateContent")
    match = pattern.fullmatch("/v1beta/models/gemini-2.5-flash:generateContent")
    assert match and match["model"] == "gemini-2.5-flash"
    assert not pattern.fullmatch("/v1beta/models/a/b:generateContent")
    assert compile_path("/openai/**").fullmatch("/openai/deployments/x/chat/completions")
    assert not compile_path("/v1/*").fullmatch("/v1/a/b")


def test_first_matching_rule_wins_and_times_use_it_up() -> None:
    upstream = MockUpstream(
        {
            "fallback": "generate",
            "rules": [
                {"match": {"json": {"model": "a"}}, "times": 2, "reply": {"status": 201, "json": {}}},
                {"match": {"json": {"model": "a"}}, "reply": {"status": 202, "json": {}}},
            ],
        }
    )
    body = {"model": "a", "messages": [{"role": "user", "content": "x"}]}
    assert [post(upstream, "/v1/chat/completions", body) for _ in range(4)] == [201, 201, 202, 202]
    assert post(upstream, "/v1/chat/completions", {**body, "model": "b"}) == 200  # the generated fallback
    assert [r.rule for r in upstream.requests] == ["rules[0]", "rules[0]", "rules[1]", "rules[1]", None]


def test_nth_answers_only_its_call() -> None:
    upstream = MockUpstream(
        {"fallback": "generate", "rules": [{"nth": 2, "fault": {"error": {"status": 500}}}]}
    )
    body = {"model": "a", "messages": [{"role": "user", "content": "x"}]}
    assert [post(upstream, "/v1/chat/completions", body) for _ in range(3)] == [200, 500, 200]


def test_subset_matching_of_headers_query_and_body() -> None:
    upstream = MockUpstream(
        {
            "rules": [
                {
                    "match": {
                        "headers": {"X-Tenant": "blue", "x-absent": None},
                        "query": {"alt": "sse"},
                        "json": {
                            "contents": [{"parts": [{"text": "hi"}]}],
                            "cachedContent": None,
                            "stream": False,
                        },
                    },
                    "reply": {"json": {"hit": True}},
                }
            ]
        }
    )
    path = "/v1beta/models/m:streamGenerateContent?alt=sse"
    headers = [("x-goog-api-key", "k"), ("x-tenant", "blue")]
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "stream": False}
    assert post(upstream, path, body, headers) == 200
    assert post(upstream, path, {**body, "stream": 0}, headers) == 404  # false is not 0
    (near,) = upstream.unmatched
    assert near.reasons == ("json.stream: expected False, got 0",)


def test_unknown_route_without_rule_is_404_in_the_guessed_dialect() -> None:
    upstream = MockUpstream()
    reply = upstream.handle(Request("POST", "/v1/messages/batches", [("x-api-key", "k")], b"{}"))
    assert reply.status == 404
    assert json.loads(reply.body)["type"] == "error"
    assert upstream.unmatched[0].nearest is None
