"""providers/convert/leftovers.py: the one leftovers mechanism of the three converters. Each function is
checked for what it keeps, in which spelling and in which position, and that it keeps nothing when
nothing is left (the round-trip properties of the converters are in test_dialect_protocol.py)."""

from __future__ import annotations

from providers.convert import leftovers
from providers.types import anthropic as anthropic_wire
from providers.types import gemini as gemini_wire


def test_unconsumed_keeps_unmapped_and_unknown_fields_in_wire_order():
    block = anthropic_wire.ToolUseBlock.parse(
        {"type": "tool_use", "id": "t1", "name": "f", "input": {}, "x_new": [1], "cache_control": None}
    )
    consumed = frozenset({"type", "id", "name", "input"})
    assert leftovers.unconsumed(block, consumed) == {"cache_control": None, "x_new": [1]}
    everything = consumed | {"cache_control"}
    assert leftovers.unconsumed(block, everything) == {"x_new": [1]}  # unknown fields are never consumed


def test_unconsumed_keeps_explicit_nulls_of_consumed_fields_only_when_asked():
    thinking = anthropic_wire.ThinkingBlock.parse({"type": "thinking", "thinking": "hm", "signature": None})
    consumed = frozenset({"type", "thinking", "signature"})
    assert leftovers.unconsumed(thinking, consumed) == {}
    assert leftovers.unconsumed(thinking, consumed, keep_nulls=True) == {"signature": None}


def test_keep_spells_camel_case_unless_the_client_wrote_snake_case():
    part = gemini_wire.Part.parse({"text": "hi", "thought_signature": "c2ln", "videoMetadata": {"fps": 1}})
    entry = leftovers.keep(leftovers.camel, part, frozenset({"text"}))
    assert entry[leftovers.REST] == {"thought_signature": "c2ln", "videoMetadata": {"fps": 1}}
    snake = gemini_wire.Part.parse({"text": "hi", "thought_signature": "c2ln"})
    entry = leftovers.keep(leftovers.camel, snake, frozenset({"text", "thought_signature"}))
    assert entry == {leftovers.SNAKE: ["thought_signature"]}
    plain = gemini_wire.Part.parse({"text": "hi"})
    assert leftovers.keep(leftovers.camel, plain, frozenset({"text"})) == {}


def test_put_writes_the_clients_spelling_and_never_both():
    out = {"thoughtSignature": "old", "other": 1}
    leftovers.put(out, ["thought_signature"], "thought_signature", "new")
    assert out == {"other": 1, "thought_signature": "new"}
    leftovers.put(out, (), "thought_signature", "newer")
    assert out == {"other": 1, "thoughtSignature": "newer"}


def test_absent_fields_are_recorded_and_read_back():
    entry: dict = {}
    assert not leftovers.is_absent(entry, "id") and not leftovers.is_absent(None, "id")
    leftovers.mark_absent(entry, "id")
    leftovers.mark_absent(entry, "name", "args")
    assert entry == {leftovers.ABSENT: ["id", "name", "args"]}
    assert leftovers.is_absent(entry, "args") and not leftovers.is_absent(entry, "type")


def test_rest_goes_first_or_after_and_the_built_fields_win():
    entry = {leftovers.REST: {"x_first": 1, "type": "kept"}}
    first = leftovers.rest_first(entry)
    first["type"], first["id"] = "built", "a"
    assert list(first.items()) == [("x_first", 1), ("type", "built"), ("id", "a")]
    assert entry[leftovers.REST] == {"x_first": 1, "type": "kept"}  # a copy: the IR is not changed
    after = leftovers.rest_after({"type": "built", "id": "a"}, leftovers.rest(entry))
    assert list(after.items()) == [("type", "built"), ("id", "a"), ("x_first", 1)]
    assert leftovers.rest_first(None) == {} and leftovers.rest(None) == {}
    assert leftovers.rest_and_spelling({leftovers.REST: {"a": 1}, leftovers.SNAKE: ["b"]}) == (
        {"a": 1},
        ["b"],
    )


def test_take_rest_keeps_what_a_popping_converter_left():
    entry: dict = {}
    leftovers.take_rest({}, entry)
    assert entry == {}
    leftovers.take_rest({"x_unknown": None}, entry)
    assert entry == {leftovers.REST: {"x_unknown": None}}


def test_an_empty_entry_is_stored_only_for_a_native_object():
    assert leftovers.vendor("gemini", {}) == {}
    assert leftovers.vendor("gemini", {}, native=True) == {"gemini": {}}
    owner: dict = {}
    leftovers.attach(owner, "openai", {})
    assert owner == {}
    leftovers.attach(owner, "openai", {"empty": True})
    assert leftovers.entry(owner, "openai") == {"empty": True} and leftovers.entry(owner, "gemini") is None
    assert leftovers.entry_of(owner, "gemini") == {}


def test_insert_at_puts_kept_items_back_at_their_positions():
    assert leftovers.insert_at(["b", "d"], [[0, "a"], [2, "c"], [4, "e"]]) == ["a", "b", "c", "d", "e"]


def test_unconsumed_keeps_several_fields_in_declared_order_whatever_the_wire_order():
    block = anthropic_wire.ToolResultBlock.parse(
        {"cache_control": None, "is_error": True, "tool_use_id": "t1", "type": "tool_result", "x_new": 1}
    )
    kept = leftovers.unconsumed(block, frozenset({"type", "tool_use_id"}))
    assert list(kept) == ["is_error", "cache_control", "x_new"]


def test_keep_given_is_keep_of_the_names_that_are_not_null():
    names = frozenset({"text", "thought", "thought_signature"})
    bodies = [
        {"text": "hi"},  # nothing left: the fast path
        {"text": "hi", "thought": None},  # an explicit null of a name is kept
        {"thoughtSignature": "c2ln", "text": "hi", "videoMetadata": {"fps": 1}, "x_new": [1]},
        {"mediaResolution": "LOW", "text": "hi", "videoMetadata": {"fps": 1}},  # kept in declared order
        {"text": "hi", "thought_signature": "c2ln"},  # snake_case spelling of a consumed field
        {"text": "hi", "part_metadata": {"a": 1}},  # snake_case spelling of a kept field
    ]
    for body in bodies:
        part = gemini_wire.Part.parse(body)
        consumed = {name for name in names if getattr(part, name) is not None}
        expected = leftovers.keep(leftovers.camel, part, consumed)
        got = leftovers.keep_given(leftovers.camel, part, names)
        assert got == expected and list(got.get(leftovers.REST, {})) == list(expected.get(leftovers.REST, {}))
    assert leftovers.keep_given(leftovers.camel, gemini_wire.Part.parse({"text": "hi"}), names) == {}
    into = {"split": [1]}
    part = gemini_wire.Part.parse({"text": "hi", "thought": None})
    assert leftovers.keep_given(leftovers.camel, part, names, into) is into
    assert into == {"split": [1], leftovers.REST: {"thought": None}}
