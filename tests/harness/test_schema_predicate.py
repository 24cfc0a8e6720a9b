"""The compiled schema predicate (harness/schemas/compiled.py) answers as jsonschema does.

``harness.schemas.problems`` trusts it to say "valid" without jsonschema; so it must never call an instance
valid that jsonschema rejects. Asserted on JSON Schema's corners, on every wire object a run of three
shipped scenario files validates and on thousands of mutations of them, and on arbitrary JSON.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from harness import runner, schemas
from harness.checks import facts
from harness.scenario import load_paths
from harness.schemas.compiled import Unsupported, predicate

ROOT = Path(__file__).resolve().parents[2]


def agree(schema: dict[str, Any], instance: Any) -> bool:
    """The predicate's answer, asserted equal to jsonschema's."""
    expected = Draft202012Validator(schema).is_valid(instance)
    assert predicate(schema)(instance) is expected, instance
    return expected


@pytest.mark.parametrize(
    ("schema", "valid", "invalid"),
    [
        ({"type": "integer"}, [1, 1.0, -3, 10**30], [True, 1.5, "1", None, float("inf")]),
        ({"type": "number"}, [1, 1.5, float("nan")], [False, "1", [1]]),
        ({"type": ["string", "null"]}, ["", None], [0, [], {}]),
        ({"const": True}, [True], [1, 1.0, "true"]),
        ({"const": 1}, [1, 1.0], [True]),
        ({"enum": ["a", 0, [False]]}, ["a", 0, 0.0, [False]], [False, "b", [0], None]),
        ({"required": ["a"], "properties": {"a": {"type": "string"}}}, [{"a": ""}, [], "x"], [{}, {"a": 1}]),
        ({"properties": {"a": True}, "additionalProperties": False}, [{"a": 1}, {}], [{"b": 1}]),
        ({"additionalProperties": {"type": "integer"}}, [{"a": 1}], [{"a": "1"}]),
        ({"items": {"minimum": 0}}, [[0, 5, "x"], []], [[-1], [0, -0.5]]),
        ({"anyOf": [{"type": "string"}, {"minimum": 3}]}, ["x", 3, None], [2]),
        ({"oneOf": [{"minimum": 0}, {"maximum": 10}]}, [-1, 11], [5]),
        ({"not": {"type": "string"}}, [1, None], ["x"]),
        ({"if": {"properties": {"t": {"const": "a"}}}, "then": {"required": ["a"]}, "else": {"required": ["b"]}},
         [{"t": "a", "a": 1}, {"t": "x", "b": 1}], [{"t": "a", "b": 1}, {"t": "x", "a": 1}]),
        ({"minLength": 2, "maxLength": 3, "pattern": "^a"}, ["ab", "aé", 7], ["a", "abcd", "ba"]),
        ({"minItems": 1, "maxItems": 2, "uniqueItems": True}, [[1], [1, True], [[1], [True]]], [[], [1, 1.0], [1, 2, 3]]),
        ({"minProperties": 1, "maxProperties": 1, "propertyNames": {"pattern": "^x"}}, [{"xa": 1}], [{}, {"a": 1}]),
        ({"exclusiveMinimum": 0, "maximum": 1}, [0.5, 1, "x"], [0, 1.01]),
        ({"$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
          "$ref": "#/$defs/node"}, [{"next": {"next": {}}}], [{"next": {"next": 1}}, 1]),
    ],
)  # fmt: skip
def test_each_keyword_answers_as_jsonschema(
    schema: dict[str, Any], valid: list[Any], invalid: list[Any]
) -> None:
    assert all(agree(schema, instance) for instance in valid)
    assert not any(agree(schema, instance) for instance in invalid)


@pytest.mark.parametrize(
    "schema",
    [
        {"patternProperties": {"^x": {}}},
        {"prefixItems": [{}]},
        {"$ref": "https://example.invalid/other.json"},
        {"$ref": "#/$defs/missing"},
        {"properties": {"a": {"$id": "https://example.invalid/a.json"}}},
        {"type": "decimal"},
    ],
)
def test_what_it_does_not_compile_is_unsupported_and_left_to_jsonschema(schema: dict[str, Any]) -> None:
    with pytest.raises(Unsupported):
        predicate(schema)


def test_every_wire_schema_compiles() -> None:
    assert [name for name in schemas.NAMES if schemas._valid(name) is None] == []


@pytest.fixture(scope="module")
def wire_objects() -> list[tuple[str, Any]]:
    """Every (schema, instance) the checks of a run of three shipped scenario files validate."""
    seen: list[tuple[str, Any]] = []
    real = schemas.problems

    def spy(name: str, instance: Any) -> list[str]:
        seen.append((name, copy.deepcopy(instance)))
        return real(name, instance)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schemas, "problems", spy)
        patch.setattr(facts, "_VERDICTS", {})  # every instance reaches ``problems``, whatever ran before
        cases = load_paths(
            [ROOT / "scenarios" / f"{name}.yaml" for name in ("openai_stream", "anthropic_stream", "gemini")]
        )
        runner.run(cases, sdk=False, concurrency=4)
    assert len({name for name, _ in seen}) >= 5
    return seen


_ODD = [None, True, False, 0, 1, -1, 1.5, 10**20, "", "x", "stop", "assistant", [], {}, [1], {"type": "x"}]


def _mutations(instance: Any, rng: random.Random, count: int) -> Iterator[Any]:
    """``count`` copies of ``instance``, each with one value replaced by an odd one or removed."""
    places: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        places.append(path)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            walk(value, [*path, key])

    walk(instance, [])
    for _ in range(count):
        path = rng.choice(places)
        if not path:
            yield rng.choice(_ODD)
            continue
        mutated = copy.deepcopy(instance)
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.6:
            parent[path[-1]] = rng.choice(_ODD)
        else:
            del parent[path[-1]]
        yield mutated


def test_a_run_s_wire_objects_and_their_mutations_get_jsonschema_s_answer(
    wire_objects: list[tuple[str, Any]],
) -> None:
    rng = random.Random(20261207)
    rejected = 0
    for name, instance in wire_objects:
        valid, validator = schemas._valid(name), schemas.validator(name)
        assert valid is not None
        for candidate in [instance, *_mutations(instance, rng, 4)]:
            expected = validator.is_valid(candidate)
            assert valid(candidate) is expected, (name, candidate)
            rejected += not expected
    assert rejected > len(wire_objects)  # the mutations did reach the invalid side


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.sampled_from(_ODD[8:14]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["type", "role", "id", "index", "delta", "content", "x"]), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300)
@given(st.sampled_from(schemas.NAMES), _JSON)
def test_arbitrary_json_gets_jsonschema_s_answer(name: str, instance: Any) -> None:
    valid = schemas._valid(name)
    assert valid is not None
    assert valid(instance) is schemas.validator(name).is_valid(instance)


def _own_documents() -> Iterator[tuple[str, Any]]:
    """wirecheck's own files, as ``harness.scenario.schema_problem`` sees them: every shipped scenario
    file (its defaults merged into its cases, as ``parse`` does), the reference baseline, and a run's JSON
    report."""
    from harness.report.jsonfile import render
    from harness.scenario import _with_defaults, load_yaml

    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        data = load_yaml(path.read_text(encoding="utf-8"), str(path))[0]
        defaults = data.get("defaults") or {}
        yield "scenario", {**data, "cases": [_with_defaults(case, defaults) for case in data["cases"]]}
    baseline = ROOT / "baselines" / "reference.yaml"
    yield "baseline", load_yaml(baseline.read_text(encoding="utf-8"), str(baseline))[0]
    cases = load_paths([ROOT / "scenarios" / "errors.yaml"])
    yield "report", render(runner.run(cases, ["openai"], sdk=False))


def test_wirecheck_s_own_files_and_their_mutations_get_jsonschema_s_answer() -> None:
    from harness.scenario import _schema, _valid

    rng = random.Random(7)
    rejected = checked = 0
    for name, document in _own_documents():
        valid, validator = _valid(name), Draft202012Validator(_schema(name))
        assert valid is not None, name
        assert valid(document), name
        for candidate in _mutations(document, rng, 60):
            expected = validator.is_valid(candidate)
            assert valid(candidate) is expected, (name, candidate)
            rejected += not expected
            checked += 1
    assert checked > 1000 and rejected > 100
