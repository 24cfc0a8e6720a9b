"""The contract's table (providers/contract.py) against what it describes: ``Provider``'s methods, their
signatures, defaults and docstrings, docs/contract.md, and the scenario schema's method enum."""

from __future__ import annotations

import inspect
import json
import re
import typing
from pathlib import Path

import pytest
import trio

from providers import contract
from providers.base import METHODS, Provider
from providers.contract import BY_NAME, Default, Method
from providers.errors import ProviderError
from providers.streams import Stream

ROOT = Path(__file__).resolve().parents[2]
ROWS = [pytest.param(method, id=method.name) for method in contract.METHODS]


def hints(name: str) -> dict[str, typing.Any]:
    return typing.get_type_hints(getattr(Provider, name), include_extras=True)


def test_the_table_names_every_provider_method_once_in_the_contracts_order() -> None:
    public = {
        name
        for name, value in vars(Provider).items()
        if callable(value) and not name.startswith("_") and name != "name"
    }
    assert METHODS == tuple(BY_NAME) == tuple(m.name for m in contract.METHODS)
    assert len(METHODS) == 22 and set(METHODS) == public
    table = re.findall(r"^\| (\d+) \| \[`(\w+)`\]", (ROOT / "docs" / "contract.md").read_text(), re.M)
    assert [name for _, name in table] == list(METHODS)


@pytest.mark.parametrize("method", ROWS)
def test_a_row_states_its_methods_signature(method: Method) -> None:
    parameters = list(inspect.signature(getattr(Provider, method.name)).parameters)
    assert tuple(parameters[1:]) == method.arguments
    found = hints(method.name)
    assert found["return"] == method.result
    requests = [found[name] for name in method.arguments if name != "model"]
    assert requests == ([method.request] if method.request is not None else [])
    assert method.takes_model == (method.arguments[:1] == ("model",))
    if method.takes_model:
        assert found["model"] is str


@pytest.mark.parametrize("method", ROWS)
def test_streams_raw_and_model_agree_with_the_types(method: Method) -> None:
    assert method.streams == (typing.get_origin(method.result) is Stream)
    assert method.raw == (method.request in (bytes, Stream[bytes]))
    if method.raw:
        assert method.result == (Stream[bytes] if method.streams else bytes)
    assert (method.model == "path") == (method.takes_model and method.dialect == "gemini")
    assert (method.stream_switch != "") == (method.streams and method.dialect != "ir")
    assert method.stream_switch in ("", "body", "path")
    if method.stream_switch:
        assert (method.stream_switch == "path") == (method.dialect == "gemini")
    assert method.dialect in ("openai", "anthropic", "gemini", "ir")
    assert method.output in (method.dialect, "embeddings", "media", "bool")


@pytest.mark.parametrize("method", ROWS)
def test_twins_are_mutual_and_differ_only_in_what_they_name(method: Method) -> None:
    if method.stream_twin is not None:
        twin = BY_NAME[method.stream_twin]
        assert method.streams and not twin.streams
        assert (twin.dialect, twin.raw, twin.arguments, twin.request) == (
            method.dialect,
            method.raw,
            method.arguments,
            method.request,
        )
    if method.raw_twin is not None:
        twin = BY_NAME[method.raw_twin]
        assert twin.raw_twin == method.name
        assert twin.raw != method.raw and twin.streams == method.streams and twin.dialect == method.dialect
        if twin.stream_twin is not None:  # the twins of twins close the square
            assert BY_NAME[twin.stream_twin].raw_twin == method.stream_twin


def test_the_table_names_no_method_it_does_not_have() -> None:
    for method in contract.METHODS:
        for other in (method.stream_twin, method.raw_twin):
            assert other is None or other in BY_NAME


class Stub(Provider):
    """Each required method raises a marker naming itself, so a default shows where it went."""

    async def chat_completion(self, request):
        raise LookupError("chat_completion")

    async def chat_completion_stream(self, request):
        raise LookupError("chat_completion_stream")

    async def anthropic_messages(self, request):
        raise LookupError("anthropic_messages")

    async def anthropic_messages_stream(self, request):
        raise LookupError("anthropic_messages_stream")

    async def gemini_generate_content_stream(self, model, request):
        raise LookupError("gemini_generate_content_stream")


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
#: Arguments for each translating default, and the required method docs/contract.md says it ends in.
TRANSLATING_CALLS = {
    "gemini_generate_content": (
        lambda: ("g", contract.BY_NAME["gemini_generate_content"].request.parse(GEMINI)),
        "anthropic_messages",
    ),
    "chat_completion_raw": (lambda: ("m", json.dumps(CHAT).encode()), "chat_completion"),
    "anthropic_messages_raw": (lambda: (json.dumps(MESSAGES).encode(),), "chat_completion"),
    "gemini_generate_content_raw": (lambda: ("g", json.dumps(GEMINI).encode()), "anthropic_messages"),
}


@pytest.mark.parametrize("method", ROWS)
def test_each_default_does_what_its_row_says(method: Method) -> None:
    stub = Stub()
    if method.default is Default.REQUIRED:
        assert method.name in Provider.__abstractmethods__
        return
    assert method.name not in Provider.__abstractmethods__
    if method.default is Default.FALSE:
        assert getattr(stub, method.name)() is False
        return

    async def call() -> BaseException | None:
        if method.default is Default.TRANSLATES:
            args = TRANSLATING_CALLS[method.name][0]()
        else:
            args = (None,) * len(method.arguments)
        try:
            await getattr(stub, method.name)(*args)
        except (ProviderError, LookupError) as exc:
            return exc
        return None

    raised = trio.run(call)
    if method.default is Default.NOT_IMPLEMENTED:
        assert isinstance(raised, ProviderError) and raised.kind == "not_implemented"
        assert raised.method == method.name
    else:  # a translation ends in the required method it names
        assert isinstance(raised, LookupError), raised
        assert raised.args[0] == TRANSLATING_CALLS[method.name][1]


def test_the_derived_sets_of_providers_base_follow_the_table() -> None:
    from providers import base

    assert Provider.__abstractmethods__ == base.REQUIRED
    assert len(base.NOT_IMPLEMENTED_DEFAULTS) == 10  # docs/contract.md#overview: "Ten provided methods"
    assert {
        "gemini_generate_content",
        "chat_completion_raw",
        "anthropic_messages_raw",
        "gemini_generate_content_raw",
    } == base.TRANSLATING_DEFAULTS


def test_levels_are_harness_levels_and_spec_means_a_vendor_http_call() -> None:
    from harness.levels import Level

    for method in contract.METHODS:
        assert Level(method.level) in (Level.SPEC, Level.CONTRACT)
        assert (method.level == "spec") == (method.dialect != "ir" and method.output != "bool")


def test_the_raw_stream_method_of_each_dialect() -> None:
    assert contract.raw_stream_method("openai") == "chat_completion_stream_raw"
    assert contract.raw_stream_method("gemini") == "gemini_generate_content_stream_raw"
    assert contract.raw_stream_method("anthropic") == BY_NAME["anthropic_messages_stream"].raw_twin
    with pytest.raises(KeyError):
        contract.raw_stream_method("ir")


def test_the_scenario_schemas_method_enum_is_the_table() -> None:
    schema = json.loads((ROOT / "harness" / "schemas" / "scenario.json").read_text())
    assert schema["$defs"]["method"]["enum"] == list(METHODS)


# --- docstrings -------------------------------------------------------------------------------------------

ANCHORS = set(re.findall(r'<a id="([\w-]+)"></a>', (ROOT / "docs" / "contract.md").read_text()))


@pytest.mark.parametrize("method", ROWS)
def test_each_method_states_its_contract_with_anchors_that_exist(method: Method) -> None:
    doc = inspect.getdoc(getattr(Provider, method.name)) or ""
    assert method.anchor in doc
    for anchor in re.findall(r"docs/contract\.md#([\w-]+)", doc):
        assert anchor in ANCHORS, anchor
    for section in ("Returns:", "Raises:", "Retries", "Default"):
        assert section in doc, section
    named = set(re.findall(r"``(\w+)``", doc.split("Raises:")[1].split("Retries")[0]))
    if method.default is Default.FALSE:
        assert "Nothing" in doc
        return
    assert {"upstream", "transport"} <= named
    if method.default is Default.NOT_IMPLEMENTED:
        assert "not_implemented" in named
    if method.streams:
        assert "iterator" in doc and "in_stream" in doc and "disconnect" in doc
    if method.raw:
        assert "invalid_request" in named
    if method.name == "chat_completion_stream_passthrough":
        assert "Retries: never" in doc
    elif method.streams:
        assert "never once the stream exists" in doc


def test_outside_the_table_only_the_implementations_name_a_method() -> None:
    """The table is the one description: outside tests, ``anthropic_messages_stream_raw`` is spelled only by
    the table, the base class that defines it and the provider that implements it."""
    spelled = {
        str(path.relative_to(ROOT))
        for folder in ("providers", "harness", "mocks", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        if "anthropic_messages_stream_raw" in path.read_text()
    }
    assert spelled == {"providers/contract.py", "providers/base.py", "providers/anthropic.py"}
