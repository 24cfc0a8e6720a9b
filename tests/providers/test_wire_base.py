"""The lossless wire base: decode errors that name the model, field and offending bytes; open unions
that keep unknown variants; camelCase models that give back the spelling they were sent."""

from __future__ import annotations

import pytest
from pydantic import ConfigDict, model_validator

from providers.errors import ProviderError
from providers.types._base import CamelWire, Number, Wire, open_union
from tests.strategies.common import assert_strict_equal


class Leaf(Wire):
    type: str = "leaf"
    size: Number


class Other(Wire):
    type: str


class Tree(Wire):
    name: str
    items: list[open_union("type", {"leaf": Leaf}, Other)] | None = None


@pytest.mark.parametrize(
    "data",
    [b'{"name":"t","items":[{"type":"leaf","size":"big"}]}', '{"name":"t","items":[{"type":"leaf","size":"big"}]}',
     {"name": "t", "items": [{"type": "leaf", "size": "big"}]}],
    ids=["bytes", "text", "dict"],
)  # fmt: skip
def test_decode_error_names_model_field_and_value_and_keeps_the_offending_bytes(data):
    with pytest.raises(ProviderError) as caught:
        Tree.parse(data)
    error = caught.value
    assert error.kind == "decode"
    assert "Tree: field items.0.leaf.size" in error.message and '"big"' in error.message
    assert error.raw is not None and b'"size"' in error.raw and not error.raw.startswith(b'"{')


def test_unknown_variant_is_kept_whole_and_known_ones_are_typed():
    body = {"name": "t", "items": [{"type": "leaf", "size": 1}, {"type": "twig", "size": None, "x": [1.0]}]}
    tree = Tree.parse(body)
    assert isinstance(tree.items[0], Leaf) and isinstance(tree.items[1], Other)
    assert_strict_equal(tree.to_json(), body)


def test_numbers_keep_their_json_type():
    assert_strict_equal(Leaf.parse({"size": 1}).to_json(), {"size": 1})
    assert_strict_equal(Leaf.parse({"size": 1.0}).to_json(), {"size": 1.0})
    with pytest.raises(ProviderError, match="size"):
        Leaf.parse({"size": True})


class Config(CamelWire):
    max_output_tokens: int | None = None
    stop_sequences: list[str] | None = None


@pytest.mark.parametrize(
    "body",
    [{"maxOutputTokens": 5, "stopSequences": ["x"]}, {"max_output_tokens": 5, "stop_sequences": ["x"]},
     {"maxOutputTokens": 5, "stop_sequences": ["x"], "x_new": None}],
    ids=["camel", "snake", "mixed"],
)  # fmt: skip
def test_camel_models_read_both_spellings_and_write_back_the_one_they_got(body):
    config = Config.parse(body)
    assert (config.max_output_tokens, config.stop_sequences) == (5, ["x"])
    assert_strict_equal(config.to_json(), body)


class Strict(Wire):
    """A model whose config is not its parent's: :meth:`Wire.check` keeps its node as a model."""

    model_config = ConfigDict(extra="forbid")
    size: int


class Holder(Wire):
    tree: Tree
    strict: Strict | None = None


_CHECKED = [
    {"tree": {"name": "t"}},
    {"tree": {"name": "t", "items": [{"type": "leaf", "size": 1}, {"type": "new", "x": 1}]}, "more": [1]},
    {"tree": {"name": "t", "items": [{"type": "leaf", "size": 1.5}]}, "strict": {"size": 2}},
    {"tree": {"name": "t", "items": [{"type": "leaf", "size": "big"}]}},
    {"tree": {"name": 1}},
    {"tree": {}},
    {"tree": {"name": "t"}, "strict": {"size": 2, "unknown": 1}},
    {"tree": {"name": "t"}, "strict": {"size": "2"}},
    {"tree": [], "strict": None},
    {"tree": {"name": "t", "items": [{"size": 1}]}},
    {"tree": {"name": "t", "items": [{"type": "leaf"}]}},
    {"strict": {"size": 1}},
]


@pytest.mark.parametrize("data", _CHECKED, ids=range(len(_CHECKED)))
def test_check_accepts_and_refuses_what_parse_does_with_the_same_error(data):
    try:
        Holder.parse(data)
    except ProviderError as error:
        with pytest.raises(ProviderError) as caught:
            Holder.check(data)
        assert caught.value.message == error.message
    else:
        assert Holder.check(data) is None


def test_check_builds_no_model_and_still_accepts_a_nested_model_instance():
    from providers.types._base import _dict_validator

    checked = _dict_validator(Holder).validate_python({"tree": {"name": "t"}, "strict": {"size": 1}})
    assert not isinstance(checked, Wire) and type(checked) is tuple  # the fields, not a Holder
    assert isinstance(checked[0]["strict"], Strict)  # another config: kept as a model node
    Holder.check({"tree": Tree(name="t")})  # refused by the checker, accepted by parse: accepted


class Checked(Wire):
    """A model with a model validator: it is handed the model, so :meth:`Wire.check` keeps its node."""

    low: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> Checked:
        if self.low > self.high:
            raise ValueError("low above high")
        return self


class HoldsChecked(Wire):
    range: Checked


@pytest.mark.parametrize("data", [{"range": {"low": 1, "high": 2}}, {"range": {"low": 3, "high": 2}}])
def test_check_keeps_a_model_with_a_model_validator_and_refuses_what_it_refuses(data):
    try:
        HoldsChecked.parse(data)
    except ProviderError as error:
        with pytest.raises(ProviderError) as caught:
            HoldsChecked.check(data)
        assert caught.value.message == error.message and "low above high" in error.message
    else:
        assert HoldsChecked.check(data) is None
