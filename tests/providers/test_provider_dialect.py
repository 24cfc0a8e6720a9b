"""providers._dialect, the pieces the providers share: error-body parsers per dialect (real bodies and
what compatible servers send), the raw streams' terminal tests, and the raw-body helpers."""

from __future__ import annotations

import json

import pytest

from providers._dialect import (
    RAW_TERMINALS,
    anthropic_error_parser,
    body_for,
    gemini_error_parser,
    merge_headers,
    openai_error_parser,
    retarget,
)
from providers.errors import ProviderError
from providers.sse import SSEEvent
from providers.types.anthropic import MessagesRequest
from providers.types.openai import ChatCompletionRequest
from tests.fixtures.providers import ANTHROPIC_ERRORS, GEMINI_ERRORS, OPENAI_ERRORS


def _b(obj) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("parser", "table"),
    [
        (openai_error_parser, OPENAI_ERRORS),
        (anthropic_error_parser, ANTHROPIC_ERRORS),
        (gemini_error_parser, GEMINI_ERRORS),
    ],
)
def test_each_parser_reads_its_dialects_real_bodies(parser, table):
    for status, (_, body, error_type, message) in table.items():
        assert parser(status, _b(body))[:2] == (error_type, message)


@pytest.mark.parametrize(
    ("body", "want"),
    [
        (
            {"error": {"message": "filtered", "type": None, "param": "prompt", "code": "content_filter"}},
            ("content_filter", "filtered"),
        ),
        ({"error": "model 'llama9' not found"}, (None, "model 'llama9' not found")),  # Ollama
        (
            {"object": "error", "message": "bad n", "type": "BadRequestError", "param": None, "code": 400},
            ("BadRequestError", "bad n"),
        ),  # vLLM
        ({"detail": "Not Found"}, (None, '{"detail": "Not Found"}')),
    ],
)
def test_openai_parser_reads_compatible_servers(body, want):
    assert openai_error_parser(400, _b(body)) == want


@pytest.mark.parametrize("parser", [openai_error_parser, anthropic_error_parser, gemini_error_parser])
def test_a_non_json_error_body_is_kept_as_text(parser):
    assert parser(502, b"<html>Bad Gateway</html>")[:2] == (None, "<html>Bad Gateway</html>")
    assert parser(503, b"")[:2] == (None, "HTTP 503")


def test_gemini_parser_reads_the_streamed_array_form():
    body = [{"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}]
    assert gemini_error_parser(429, _b(body)) == ("RESOURCE_EXHAUSTED", "Resource exhausted", None)


@pytest.mark.parametrize(("delay", "seconds"), [("36s", 36.0), ("1.5s", 1.5), ("0s", 0.0), ("soon", None)])
def test_gemini_parser_reads_the_retry_delay_gemini_sends_instead_of_a_header(delay, seconds):
    body = {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
    ]}}  # fmt: skip
    assert gemini_error_parser(429, _b(body)) == ("RESOURCE_EXHAUSTED", "quota", seconds)


@pytest.mark.parametrize(
    ("dialect", "event", "terminal"),
    [
        ("openai", SSEEvent(data="[DONE]"), True),
        ("openai", SSEEvent(data='{"error":{"message":"x"}}'), True),
        ("openai", SSEEvent(data='{"choices":[{"delta":{"content":"error"}}]}'), False),
        ("openai", SSEEvent(data='{"choices":[{"delta":{"content":"say \\"error\\": {"}}]}'), False),
        ("anthropic", SSEEvent(data='{"type":"message_stop"}', event="message_stop"), True),
        ("anthropic", SSEEvent(data='{"type":"error","error":{}}', event="error"), True),
        ("anthropic", SSEEvent(data='{"type":"message_stop"}'), True),
        (
            "anthropic",
            SSEEvent(
                data='{"type":"content_block_delta","delta":{"type":"text_delta","text":"message_stop"}}',
                event="content_block_delta",
            ),
            False,
        ),
        ("anthropic", SSEEvent(data='{"type":"ping"}', event="ping"), False),
        ("gemini", SSEEvent(data='{"candidates": [{"finishReason": "STOP"}]}'), True),
        ("gemini", SSEEvent(data='{"promptFeedback": {"blockReason": "SAFETY"}}'), True),
        ("gemini", SSEEvent(data='{"error": {"code": 500}}'), True),
        (
            "gemini",
            SSEEvent(data='{"candidates": [{"content": {"parts": [{"text": "finishReason"}]}}]}'),
            False,
        ),
        ("gemini", SSEEvent(data='{"candidates": [{"content": {"parts": [{"text": "error"}]}}]}'), False),
    ],
)
def test_raw_terminal_tests_look_at_keys_not_at_text(dialect, event, terminal):
    assert RAW_TERMINALS[dialect][0](event) is terminal


def test_retarget_keeps_the_bytes_unless_the_model_differs():
    raw = b'{ "model" : "a", "x": 1.0 }'
    assert retarget(raw, "a", "m") == (raw, "a")
    assert retarget(raw, "", "m") == (raw, "a")
    body, model = retarget(raw, "b", "m")
    assert model == "b" and json.loads(body) == {"model": "b", "x": 1.0} and b"1.0" in body
    assert retarget(b"{}", "", "m") == (b"{}", None)
    with pytest.raises(ProviderError) as caught:
        retarget(b"nope", "a", "chat_completion_raw")
    assert caught.value.kind == "invalid_request" and "chat_completion_raw" in caught.value.message


def test_body_for_sets_the_stream_flag_for_the_method():
    plain = ChatCompletionRequest.parse({"model": "m", "messages": []})
    streaming = ChatCompletionRequest.parse(
        {"model": "m", "stream": True, "stream_options": {"include_usage": True}, "messages": []}
    )
    assert json.loads(body_for(plain, stream=False)) == {"model": "m", "messages": []}
    assert json.loads(body_for(plain, stream=True)) == {"model": "m", "messages": [], "stream": True}
    assert json.loads(body_for(streaming, stream=True)) == streaming.to_json()
    assert json.loads(body_for(streaming, stream=False, stream_options=True)) == {
        "model": "m", "stream": False, "messages": [],
    }  # fmt: skip
    anthropic = MessagesRequest.parse({"model": "m", "max_tokens": 1, "messages": [], "stream": True})
    assert json.loads(body_for(anthropic, stream=False))["stream"] is False


def test_merge_headers_is_case_insensitive_and_later_wins():
    assert merge_headers({"Authorization": "a", "X-A": "1"}, None, {"authorization": "b"}) == {
        "authorization": "b", "x-a": "1",
    }  # fmt: skip
