"""The runner gives its case deadline to the providers that take ``timeouts=`` (``Timeouts.total``), so a hang
in one of them is the provider's own ``total_timeout`` error; providers that do not take it are built as
before and a hang in them hits the runner's own deadline."""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Iterator
from typing import Any

import pytest

from harness.runner import ProviderUnderTest, run, takes_total
from harness.scenario import load_yaml, parse
from harness.verdicts import Verdict
from providers.anthropic import AnthropicProvider

HANG = """\
cases:
  - id: demo.hang.001
    title: the upstream stalls mid-stream
    clause: {spec: contract, ref: r}
    method: anthropic_messages_stream
    request: {model: m, max_tokens: 5, messages: [{role: user, content: hi}]}
    upstream: {fault: {stall: {ms: 30000, after_events: 2}}}
    expect: {text: "never"}
"""


def cases() -> list[Any]:
    return list(parse(*load_yaml(textwrap.dedent(HANG), "inline.yaml"), "inline.yaml").cases)


class NoTimeouts(AnthropicProvider):
    """A user's provider whose constructor does not name ``timeouts``."""

    def __init__(self, api_key: str, base_url: str, **kwargs: Any) -> None:
        super().__init__(api_key=api_key, base_url=base_url)


class OtherTimeouts(AnthropicProvider):
    """A user's provider with a ``timeouts`` parameter of its own meaning: it must not get a Timeouts."""

    def __init__(self, api_key: str, base_url: str, timeouts: int = 7) -> None:
        assert isinstance(timeouts, int), timeouts
        super().__init__(api_key=api_key, base_url=base_url)


@pytest.fixture
def user_module() -> Iterator[str]:
    holder = types.ModuleType("wirecheck_test_deadline")
    setattr(holder, "NoTimeouts", NoTimeouts)  # noqa: B010 (a module built at run time, as a user's would be)
    setattr(holder, "OtherTimeouts", OtherTimeouts)  # noqa: B010
    sys.modules[holder.__name__] = holder
    yield holder.__name__
    del sys.modules[holder.__name__]


def test_a_reference_provider_gets_the_case_deadline_as_its_total_and_reports_its_own_timeout() -> None:
    result = run(cases(), ["anthropic"], deadline=0.5, sdk=False)
    (only,) = result.results
    assert only.verdict is Verdict.FAIL
    assert "total_timeout" in only.summary() and "0.5s" in only.summary(), only.summary()
    assert result.duration < 5


@pytest.mark.parametrize("name", ["NoTimeouts", "OtherTimeouts"])
def test_a_provider_that_does_not_take_a_timeouts_keeps_working_and_hits_the_runners_deadline(
    user_module: str, name: str
) -> None:
    result = run(cases(), [f"{user_module}:{name}"], upstream="anthropic", deadline=0.5, sdk=False)
    (only,) = result.results
    assert only.verdict is Verdict.FAIL
    assert "deadline exceeded after" in only.summary() and "total_timeout" not in only.summary()


def test_only_a_timeouts_parameter_of_the_transports_type_is_given_the_total() -> None:
    def put(cls: type) -> ProviderUnderTest:
        return ProviderUnderTest(cls.__name__, cls, "anthropic", reference=False)

    assert takes_total(put(AnthropicProvider))
    assert not takes_total(put(NoTimeouts)) and not takes_total(put(OtherTimeouts))
