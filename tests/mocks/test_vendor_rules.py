"""The vendors' request rules (mocks/dialects/rules.py): the mock answers a request that breaks one with
the vendor's own 400 body naming the field, and a request that keeps them is answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.dialects.rules import RULES, refusal
from mocks.engine import HostedUpstream

HI = [{"role": "user", "content": "hi"}]
ANTHROPIC_HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


def _post(upstream: HostedUpstream, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(
        upstream.url + path, json=body, headers={"authorization": "Bearer k", **headers}, timeout=5
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "claude-sonnet-4-6", "messages": HI}, "max_tokens: Field required"),
        (
            {"model": "claude-sonnet-4-6", "max_tokens": 0, "messages": HI},
            "max_tokens: Input should be greater",
        ),
        (
            {"model": "claude-sonnet-4-6", "max_tokens": 1.5, "messages": HI},
            "max_tokens: Input should be a valid",
        ),
        ({"model": "claude-sonnet-4-6", "max_tokens": 10}, "messages: Field required"),
        ({"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": []}, "messages: at least one message"),
    ],
)
def test_anthropic_refuses_as_anthropic_does(
    upstream: HostedUpstream, body: dict[str, Any], message: str
) -> None:
    response = _post(upstream, "/v1/messages", body, **ANTHROPIC_HEADERS)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith(message)


@pytest.mark.parametrize(
    ("path", "body", "code", "field"),
    [
        ("/v1/chat/completions", {"model": "gpt-4o"}, "missing_required_parameter", "messages"),
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": []}, "empty_array", "messages"),
        ("/v1/chat/completions", {"messages": HI}, "missing_required_parameter", "model"),
        ("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", {}, None, "messages"),
    ],
)
def test_openai_and_azure_refuse_naming_the_field(
    upstream: HostedUpstream, path: str, body: dict[str, Any], code: str | None, field: str
) -> None:
    response = _post(upstream, path, body, **{"api-key": "k"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert f"'{field}'" in error["message"]
    if code is not None:
        assert error["code"] == code


def test_azure_routes_by_deployment_and_needs_no_model(upstream: HostedUpstream) -> None:
    path = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    assert _post(upstream, path, {"messages": HI}, **{"api-key": "k"}).status_code == 200


@pytest.mark.parametrize("body", [{}, {"contents": []}])
def test_gemini_refuses_without_contents(upstream: HostedUpstream, body: dict[str, Any]) -> None:
    response = httpx.post(
        upstream.url + "/v1beta/models/gemini-2.5-flash:generateContent",
        json=body,
        headers={"x-goog-api-key": "k"},
        timeout=5,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "contents" in error["message"]


def test_every_rule_cites_a_wire_anchor_and_refusal_names_the_field() -> None:
    anchors = (Path(__file__).resolve().parents[2] / "docs" / "wire.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f'<a id="{rule.anchor}"></a>' in anchors, rule
    found = refusal("anthropic", "messages", {"model": "m", "messages": HI})
    assert found is not None and found.field == "max_tokens" and "max_tokens" in found.describe()
    assert refusal("anthropic", "messages", {"model": "m", "max_tokens": 5, "messages": HI}) is None
    assert refusal("gemini", "generate", {"contents": HI, "generation_config": {}}) is None
