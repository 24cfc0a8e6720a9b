"""providers.registry: registry names, ``module:Class`` specs, and a clear error for every bad spec."""

from __future__ import annotations

import sys
import types

import pytest

from providers.anthropic import AnthropicProvider
from providers.azure import AzureOpenAIProvider
from providers.base import Provider
from providers.google import GoogleProvider
from providers.openai import OpenAIProvider
from providers.registry import PROVIDERS, ProviderSpecError, load_provider, provider_class


class _Complete(OpenAIProvider):
    """A user's provider: a subclass of ours."""


class _Partial(Provider):
    async def chat_completion(self, request):  # the other four required methods are missing
        raise NotImplementedError


class _Outer:
    Inner = _Complete


@pytest.fixture
def user_module():
    module = types.ModuleType("wirecheck_user_providers")
    module.Complete = _Complete
    module.Partial = _Partial
    module.Outer = _Outer
    module.not_a_class = 42
    module.NotAProvider = dict
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def test_registry_names():
    want = {
        "openai": OpenAIProvider,
        "anthropic": AnthropicProvider,
        "google": GoogleProvider,
        "gemini": GoogleProvider,
        "azure": AzureOpenAIProvider,
    }
    assert want == PROVIDERS
    assert {cls.name for cls in PROVIDERS.values()} == {"openai", "anthropic", "google", "azure"}
    assert provider_class("Gemini") is GoogleProvider
    assert provider_class(" openai ") is OpenAIProvider


def test_module_class_specs(user_module):
    assert provider_class("providers.openai:OpenAIProvider") is OpenAIProvider
    assert provider_class(f"{user_module}:Complete") is _Complete
    assert provider_class(f"{user_module}:Outer.Inner") is _Complete


def test_load_provider_builds_the_instance():
    provider = load_provider("anthropic", api_key="k", base_url="http://127.0.0.1:1")
    assert isinstance(provider, AnthropicProvider)
    assert provider.transport.base_url == "http://127.0.0.1:1"
    azure = load_provider("azure", api_key="k", endpoint="https://r.openai.azure.com", deployments={"a": "b"})
    assert azure.deployments == {"a": "b"}


def message_of(spec: str) -> str:
    with pytest.raises(ProviderSpecError) as caught:
        provider_class(spec)
    assert isinstance(caught.value, LookupError) and isinstance(caught.value, ValueError)
    return str(caught.value)


def test_an_unknown_name_lists_the_known_ones():
    message = message_of("mistral")
    assert "'mistral'" in message
    for name in PROVIDERS:
        assert repr(name) in message
    assert "module:Class" in message


def test_an_unimportable_module_says_why():
    message = message_of("no_such_module_xyz:Thing")
    assert "'no_such_module_xyz'" in message and "ModuleNotFoundError" in message


def test_a_missing_attribute_names_it_and_what_the_module_has(user_module):
    message = message_of(f"{user_module}:Missing")
    assert "'Missing'" in message and "Complete" in message and "Partial" in message


@pytest.mark.parametrize(
    ("attr", "found"), [("not_a_class", "a int"), ("NotAProvider", "class builtins.dict")]
)
def test_something_that_is_not_a_provider_class(user_module, attr, found):
    message = message_of(f"{user_module}:{attr}")
    assert f"found {found}" in message and "providers.base.Provider" in message


def test_abstract_methods_left_are_named(user_module):
    message = message_of(f"{user_module}:Partial")
    for name in (
        "anthropic_messages",
        "anthropic_messages_stream",
        "chat_completion_stream",
        "gemini_generate_content_stream",
    ):
        assert name in message
    assert "chat_completion," not in message.replace("chat_completion_stream", "")


@pytest.mark.parametrize("spec", ["", "   ", ":Class", "module:"])
def test_malformed_specs(spec):
    assert "provider spec" in message_of(spec)
