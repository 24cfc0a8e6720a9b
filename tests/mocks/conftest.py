"""Fixtures for the mock-upstream tests: every SDK test runs against both servers.

The plugin's fixtures are imported rather than listed in ``pytest_plugins``: pytest only honours that
variable in the rootdir's conftest. Once the ``pytest11`` entry point is in pyproject.toml, the import
becomes unnecessary (and harmless).
"""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from mocks.engine import HostedUpstream
from mocks.pytest_plugin import mock_upstream, mock_upstream_server  # noqa: F401  (fixtures)

TOOL_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
    "required": ["city", "unit"],
    "additionalProperties": False,
}
OPENAI_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "strict": True, "parameters": TOOL_SCHEMA},
}
ANTHROPIC_TOOL = {"name": "get_weather", "description": "Weather of a city", "input_schema": TOOL_SCHEMA}
ANTHROPIC_MODEL = "claude-sonnet-4-6"


@pytest.fixture(params=["in_process", "standalone"])
def upstream(request: pytest.FixtureRequest) -> HostedUpstream:
    """The in-process (pytest-httpserver) and the standalone (trio + h11) server, in turn."""
    name = "mock_upstream" if request.param == "in_process" else "mock_upstream_server"
    return request.getfixturevalue(name)


@pytest.fixture
def openai_client(upstream: HostedUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=upstream.urls["openai"], api_key="sk-test", max_retries=0, timeout=5)


@pytest.fixture
def anthropic_client(upstream: HostedUpstream) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=upstream.urls["anthropic"], api_key="sk-ant-test", max_retries=0, timeout=5
    )


@pytest.fixture
def gemini_client(upstream: HostedUpstream) -> Callable[..., genai.Client]:
    """google-genai clients for an API version (``v1`` is 3.x's default, ``v1beta`` the older one)."""

    def make(api_version: str = "v1beta", timeout_ms: int = 5000) -> genai.Client:
        options = genai_types.HttpOptions(base_url=upstream.url, api_version=api_version, timeout=timeout_ms)
        return genai.Client(api_key="g-test", http_options=options)

    return make
