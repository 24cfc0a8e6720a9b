"""Scenario files: loading, validation and the ``Case`` model (the scenario DSL).

A scenario file is YAML; one file holds one family of cases. Its shape is the JSON Schema
``harness/schemas/scenario.json`` (draft 2020-12), which is the reference; in short::

    family: anthropic.stream
    defaults: {providers: [openai, anthropic]}      # given to every case that lacks the key (expect: merged)
    cases:
      - id: anthropic.stream.tool_use.001           # stable, dotted, unique across the suite
        title: Streamed tool_use arrives as input_json_delta fragments
        clause: {spec: anthropic, ref: "Streaming: input_json_delta", url: "https://...", text: "..."}
        method: anthropic_messages_stream           # one of providers.base.METHODS
        providers: [openai, anthropic, google, azure]   # reference providers (default: all four)
        model: gemini-2.5-flash                     # path model of gemini_* and raw chat methods
        request: {...}                              # the client request, literal wire JSON
        upstream:                                   # the mock (mocks/script.py): one rule's reply and fault,
          reply: {answer: {text: "Hi", tool_calls: [{name: f, arguments: {a: 1}}], finish: tool_calls,
                           usage: {prompt: 10, completion: 5}}}   # finish/usage in the mocks' vocabulary
          fault: {error: {status: 529}}
          # or `rules: [...]` (a sequence: {times: 1, fault: ...} then a reply); `unfaithful: "why"` when
          # the scripted frames break the wire schema on purpose; or per upstream dialect:
          # {openai: {reply: ...}, anthropic: {...}, gemini: {...}, azure: {...}} (azure falls back to openai)
        expect:                                     # each key enables named checks (harness/checks)
          result: {...}       # JSON subset with matchers ($any, $type, $regex, $absent, $len, $prefix,
                              # $contains, $not: harness.checks.subset)
          stream: {items: ..., types: [...], count: N, done: true}
          text: "..."         # accumulated through the IR, any dialect
          thinking: "..."
          tool_calls: [{name: f, arguments: {a: 1}}]
          stop: tool_use      # IR stop reason
          usage: {input: 10, output: 5}   # IR parts; prompt/completion totals too
          error: {kind: upstream, status: 429, error_type: rate_limit_error, retry_after: 2, raised: call}
          upstream: {method: POST, path: /v1/messages, headers: {...}, query: {...}, json: {...}}
                              # or a list (one per attempt), or per upstream dialect as above
          attempts: 2
          waits: [0.5]
          equivalence: auto   # or [stream, raw], or false
          sdk: true
          timing: {streamed: true, first_item_ms: 500}
        xfail: "reason"       # known to fail everywhere (prefer baselines/*.yaml)
        level: reference      # what requires the expectations (harness/levels.py): spec, contract or
                              # reference; default: contract for a contract clause, else spec
        levels: {upstream.attempts: reference}   # per check id or glob, for one expectation

Errors are ``ScenarioError``s (``harness.config.ConfigError``s) naming the file, the line and the field,
what was expected and what was found: files are read with ``harness.config.load_document`` (UTF-8, size
and alias limits, finite numbers), which keeps the line of every JSON pointer. Expectations' matchers are
checked at load (``mocks.matching.matcher_problem``: known names, ``$regex`` compiled), as is each
upstream behaviour (a mocks script).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from harness.config import ConfigError, Pointer, dotted, line_of, load_document, parse_document
from harness.levels import Level, case_level, check_level
from harness.schemas.compiled import predicate_or_none
from mocks.matching import matcher_problem
from mocks.script import ScriptError, parse_script
from providers import contract

__all__ = [
    "DIALECT_NAMES",
    "MODEL_METHODS",
    "REFERENCE_PROVIDERS",
    "Case",
    "Clause",
    "ScenarioError",
    "ScenarioFile",
    "default_scenarios_dir",
    "load_file",
    "load_paths",
    "load_yaml",
    "schema_problem",
]

#: The reference providers a case applies to by default, in report order.
REFERENCE_PROVIDERS: tuple[str, ...] = ("openai", "anthropic", "google", "azure")
#: Upstream dialects a case may script separately (``azure`` falls back to ``openai``).
DIALECT_NAMES: tuple[str, ...] = ("openai", "anthropic", "gemini", "azure")
#: Methods whose first argument is a model name (``model:`` in the case; ``providers.contract``).
MODEL_METHODS: frozenset[str] = frozenset(m.name for m in contract.METHODS if m.takes_model)
#: Methods that take no request.
_NO_REQUEST = frozenset(m.name for m in contract.METHODS if not m.arguments)
#: Methods that need ``model:`` (the Gemini path model).
_NEED_MODEL = frozenset(m.name for m in contract.METHODS if m.model == "path")


class ScenarioError(ConfigError):
    """A scenario that cannot be used: ``source`` file, ``line`` (1-based, 0 if unknown), ``field`` (a
    dotted path such as ``cases[3].expect.stop``), what was ``expected`` and what was ``got``
    (``harness.config.ConfigError``'s shape, also the baseline's and the gateway adapter's errors)."""


# --- the model ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clause:
    """The spec clause a case checks."""

    spec: str
    ref: str
    url: str | None = None
    text: str | None = None

    def __str__(self) -> str:
        return f"{self.spec}: {self.ref}" + (f" <{self.url}>" if self.url else "")

    def to_json(self) -> dict[str, Any]:
        out = {"spec": self.spec, "ref": self.ref}
        if self.url:
            out["url"] = self.url
        if self.text:
            out["text"] = self.text
        return out


@dataclass(frozen=True, slots=True)
class Case:
    """One conformance case, validated. ``providers`` is ``None`` for "every reference provider"."""

    id: str
    title: str
    clause: Clause
    method: str
    source: str
    line: int
    family: str
    request: Any = None
    model: str | None = None
    providers: tuple[str, ...] | None = None
    upstream: Mapping[str, Any] = field(default_factory=dict)
    expect: Mapping[str, Any] = field(default_factory=dict)
    xfail: str | None = None
    tags: tuple[str, ...] = ()
    level: Level = Level.SPEC
    levels: Mapping[str, str] = field(default_factory=dict)

    def check_level(self, check_id: str, inherited: bool = False, situations: Collection[str] = ()) -> Level:
        """What requires check ``check_id`` on this case (``harness.levels``); ``inherited``: the call it
        judges went through a translating default the provider inherits; ``situations``: those of
        ``harness.levels.SITUATIONS`` that hold for the call. Remembered per distinct question: a run asks it
        for every check of every result, and the answer depends on nothing else."""
        return _check_level(check_id, self.level, tuple(self.levels.items()), inherited, tuple(situations))

    def applies_to(self, provider: str) -> bool:
        """Whether this case runs for reference provider ``provider`` (a user's provider: see the runner)."""
        return self.providers is None or provider in self.providers

    def upstream_for(self, dialect: str | None) -> Mapping[str, Any]:
        """The upstream behaviour for an upstream ``dialect`` (per-dialect form, or the common one)."""
        up = self.upstream
        if up and set(up) <= set(DIALECT_NAMES):
            if dialect in up:
                return up[dialect]
            if dialect == "azure" and "openai" in up:
                return up["openai"]
            return {}
        return up

    def script_for(self, dialect: str | None) -> dict[str, Any]:
        """The mocks script (plain data, ``mocks.script``) of this case for an upstream ``dialect``."""
        return script_data(self.upstream_for(dialect), self.id)

    def scripts_fault(self, dialect: str | None) -> bool:
        """Whether the upstream for ``dialect`` scripts a fault or several rules (a behaviour a sibling
        method cannot be expected to reproduce)."""
        up = self.upstream_for(dialect)
        if "fault" in up or any("fault" in r or "random" in r for r in up.get("rules", ())):
            return True
        reply = up.get("reply") or {}
        return isinstance(reply.get("status"), int) and reply["status"] >= 400

    def fails_after_stream_start(self, dialect: str | None) -> bool:
        """Whether the upstream for ``dialect`` fails after its stream began: an in-stream error, or a
        drop, stall or malformed event after some events or bytes (a fault of the case or of its rules)."""
        up = self.upstream_for(dialect)
        faults = [up.get("fault") or {}, *((r.get("fault") or {}) for r in up.get("rules", ()))]
        return any(_after_start(fault) for fault in faults)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "clause": self.clause.to_json(),
            "method": self.method,
            "family": self.family,
            "source": f"{self.source}:{self.line}",
        }


def _after_start(fault: Mapping[str, Any]) -> bool:
    if "stream_error" in fault:
        return True
    return any(
        isinstance(fault.get(name), Mapping)
        and ("after_events" in fault[name] or "after_bytes" in fault[name])
        for name in ("drop", "stall", "malformed_sse")
    )


def script_data(up: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A mocks script from a case's upstream behaviour: its ``rules`` as given, or one rule made of its
    ``reply`` and ``fault``; no behaviour at all is the mock's generated default reply."""
    if "rules" in up:
        return {"rules": list(up["rules"]), "fallback": "not_found"}
    rule: dict[str, Any] = {"name": name}
    if "reply" in up:
        rule["reply"] = up["reply"]
    if "fault" in up:
        rule["fault"] = up["fault"]
    return {"rules": [rule], "fallback": "not_found"}


@functools.lru_cache(maxsize=1 << 16)
def _check_level(
    check_id: str,
    level: Level,
    overrides: tuple[tuple[str, str], ...],
    inherited: bool,
    situations: tuple[str, ...],
) -> Level:
    """``harness.levels.check_level`` (a pure function of its arguments), remembered (``Case.check_level``);
    ``overrides`` keep their order: the first matching pattern wins."""
    return check_level(check_id, level, dict(overrides), inherited, situations)


@dataclass(frozen=True, slots=True)
class ScenarioFile:
    path: str
    family: str | None
    cases: tuple[Case, ...]


# --- YAML with line numbers ------------------------------------------------------------------------------


def load_yaml(text: str, source: str) -> tuple[Any, dict[Pointer, int]]:
    """Parse YAML ``text`` into plain data plus the 1-based line of every JSON pointer in it (a mapping
    key's pointer gets the key's line), with ``harness.config.parse_document``'s checks (alias limit,
    finite numbers); raises ``ScenarioError``."""
    try:
        return parse_document(text, source)
    except ConfigError as exc:
        raise _as_scenario_error(exc) from None


def _as_scenario_error(exc: ConfigError) -> ScenarioError:
    if isinstance(exc, ScenarioError):
        return exc
    return ScenarioError(exc.source, exc.line, exc.field, exc.expected, exc.got)


_line_of = line_of


# --- schema validation -------------------------------------------------------------------------------------


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("harness.schemas").joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(_schema(name))


@functools.cache
def _valid(name: str) -> Callable[[Any], bool] | None:
    """The schema compiled into a predicate (``harness.schemas.compiled``), or None when it cannot be."""
    return predicate_or_none(_schema(name))


def schema_problem(
    name: str, data: Any, lines: Mapping[Pointer, int] | None = None
) -> tuple[Pointer, str, Any] | None:
    """The most relevant reason ``data`` breaks schema ``name`` (``scenario`` or ``baseline``): the
    pointer of the offending field, what was expected there and what was found; ``None`` when valid (told
    by the compiled predicate, ``harness.schemas.compiled``: jsonschema is asked only what is wrong)."""
    valid = _valid(name)
    if valid is not None and valid(data):
        return None
    errors = list(_validator(name).iter_errors(data))
    if not errors:
        return None
    # The earliest offending place in the document first, then jsonschema's own relevance.
    errors.sort(
        key=lambda e: (
            _line_of(lines or {}, tuple(e.absolute_path)),
            [(0, p) if isinstance(p, int) else (1, str(p)) for p in e.absolute_path],
        )
    )
    first = errors[0]
    same = [
        e for e in errors if list(e.absolute_path)[: len(first.absolute_path)] == list(first.absolute_path)
    ]
    error = best_match(same) or first
    return _describe(error)


def _describe(error: ValidationError) -> tuple[Pointer, str, Any]:
    pointer: Pointer = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "required":
        missing = re.match(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else "?"
        return (*pointer, name), "a value (required)", "<nothing>"
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        key = extra[0] if extra else "?"
        return (*pointer, key), "one of the keys " + ", ".join(allowed), key
    if kind == "enum":
        return pointer, "one of " + ", ".join(map(str, error.validator_value)), error.instance
    if kind == "const":
        return pointer, json.dumps(error.validator_value), error.instance
    if kind == "type":
        want = error.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return pointer, f"a value of type {want}", error.instance
    if kind == "pattern":
        return pointer, f"a string matching {error.validator_value}", error.instance
    if kind in ("oneOf", "anyOf") and error.context:
        # The branch that got furthest into the value explains it best; on a tie, the first branch.
        # (A branch that failed only on the value's type or constant never got into it.)
        inside = [e for e in error.context if e.relative_path or e.validator not in ("type", "const", "enum")]
        if inside:
            deepest = min(inside, key=lambda e: (-len(e.relative_path), e.relative_schema_path[0]))
            return _describe(deepest)
    if kind in ("oneOf", "anyOf"):
        return pointer, _alternatives(error), error.instance
    if kind == "not":
        return pointer, "not " + json.dumps(error.validator_value), error.instance
    return pointer, _expected_from_message(error), error.instance


def _alternatives(error: ValidationError) -> str:
    descriptions = []
    for sub in error.validator_value:
        if isinstance(sub, dict) and "$ref" in sub:
            descriptions.append(sub["$ref"].rsplit("/", 1)[-1])
        elif isinstance(sub, dict) and "const" in sub:
            descriptions.append(json.dumps(sub["const"]))
        elif isinstance(sub, dict) and "type" in sub:
            descriptions.append(f"a {sub['type']}")
        else:
            descriptions.append("an alternative")
    return "one of: " + " | ".join(descriptions)


def _expected_from_message(error: ValidationError) -> str:
    value = error.validator_value
    return {
        "minItems": f"at least {value} items",
        "minLength": f"at least {value} characters",
        "minimum": f"a number >= {value}",
        "minProperties": f"at least {value} keys",
        "uniqueItems": "unique items",
    }.get(str(error.validator), error.message)


# --- loading -------------------------------------------------------------------------------------------------


def load_file(path: str | Path, *, display: str | None = None) -> ScenarioFile:
    """Load and validate one scenario file; ``display`` is the name used in errors (default: the path)."""
    path = Path(path)
    source = display or str(path)
    try:
        data, lines = load_document(path, source=source, kind="yaml", what="scenario file")
    except ConfigError as exc:
        raise _as_scenario_error(exc) from None
    return parse(data, lines, source)


def parse(data: Any, lines: Mapping[Pointer, int], source: str) -> ScenarioFile:
    """Validate plain data (from ``load_yaml``) into a ``ScenarioFile``."""

    def fail(pointer: Sequence[str | int], expected: str, got: Any) -> ScenarioError:
        return ScenarioError(source, _line_of(lines, pointer), dotted(pointer), expected, got)

    if not isinstance(data, dict):
        raise fail((), "a mapping with `cases:`", data if data is not None else "<empty file>")
    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    merged = dict(data)
    if isinstance(data.get("cases"), list):
        merged["cases"] = [_with_defaults(c, defaults) if isinstance(c, dict) else c for c in data["cases"]]
    problem = schema_problem("scenario", merged, lines)
    if problem is not None:
        raise fail(*problem)
    family = data.get("family")
    cases = []
    for i, raw in enumerate(merged["cases"]):
        cases.append(_case(raw, ("cases", i), family, source, lines, fail))
    return ScenarioFile(source, family, tuple(cases))


def _with_defaults(case: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A case's own value replaces the default, except ``expect``, whose keys are merged."""
    out = dict(case)
    for key, value in defaults.items():
        if key not in out:
            out[key] = value
        elif key == "expect" and isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = {**value, **out[key]}
    return out


def _case(raw: dict[str, Any], at: Pointer, family: str | None, source: str, lines, fail) -> Case:
    method = raw["method"]
    if method not in _NO_REQUEST and "request" not in raw:
        raise fail((*at, "request"), f"a request (method {method} takes one)", "<nothing>")
    if method in _NEED_MODEL and "model" not in raw:
        raise fail((*at, "model"), f"the path model ({method} takes one)", "<nothing>")
    upstream = raw.get("upstream") or {}
    _check_upstream(upstream, raw["id"], (*at, "upstream"), fail)
    expect = raw.get("expect") or {}
    problem = matcher_problem(expect, (*at, "expect"))
    if problem is not None:
        raise fail(*problem)
    message = expect.get("error", {}).get("message") if isinstance(expect.get("error"), dict) else None
    if isinstance(message, str):
        try:
            re.compile(message)
        except re.error as exc:
            raise fail(
                (*at, "expect", "error", "message"), f"a regular expression that compiles ({exc})", message
            ) from None
    clause = raw["clause"]
    case_id = raw["id"]
    return Case(
        id=case_id,
        title=raw["title"],
        clause=Clause(clause["spec"], clause["ref"], clause.get("url"), clause.get("text")),
        method=method,
        source=source,
        line=_line_of(lines, at),
        family=family or case_id.rsplit(".", 1)[0],
        request=raw.get("request"),
        model=raw.get("model"),
        providers=tuple(raw["providers"]) if "providers" in raw else None,
        upstream=upstream,
        expect=raw.get("expect") or {},
        xfail=raw.get("xfail"),
        tags=tuple(raw.get("tags", ())),
        level=case_level(raw.get("level"), clause["spec"]),
        levels=raw.get("levels") or {},
    )


def _check_upstream(upstream: Mapping[str, Any], case_id: str, at: Pointer, fail) -> None:
    """Each upstream behaviour must be a valid mocks script: checked now, so a typo is reported with
    its line instead of as a harness error mid-run."""
    per_dialect = bool(upstream) and set(upstream) <= set(DIALECT_NAMES)
    variants = upstream.items() if per_dialect else [(None, upstream)]
    for dialect, up in variants:
        base = (*at, dialect) if dialect else at
        try:
            parse_script(script_data(up, case_id), source="<case>")
        except ScriptError as exc:
            raise fail(_script_pointer(base, exc.field, "rules" in up), exc.expected, exc.got) from None


_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _script_pointer(base: Pointer, script_field: str, given_rules: bool) -> Pointer:
    parts: list[str | int] = [
        int(index) if index else name for name, index in _FIELD_PART.findall(script_field)
    ]
    if parts[:2] == ["rules", 0] and not given_rules:
        parts = parts[2:]  # our one rule is the case's reply/fault
    return (*base, *parts)


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files of ``paths`` (directories searched recursively, sorted)."""
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            out.append(path)
        else:
            raise ScenarioError(str(path), 0, "<file>", "a scenario file or directory", "<not found>")
    return out


def load_paths(paths: Iterable[str | Path]) -> list[Case]:
    """Every case of the scenario files under ``paths``, in file order; ids must be unique."""
    cases: list[Case] = []
    seen: dict[str, Case] = {}
    for path in scenario_files(paths):
        for case in load_file(path, display=_display(path)).cases:
            if case.id in seen:
                first = seen[case.id]
                raise ScenarioError(
                    case.source,
                    case.line,
                    "id",
                    f"an id unique across the suite (also at {first.source}:{first.line})",
                    case.id,
                )
            seen[case.id] = case
            cases.append(case)
    return cases


def _display(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (shorter errors and reports)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def default_scenarios_dir() -> Path | None:
    """The shipped scenarios: ``$WIRECHECK_SCENARIOS``, else ``scenarios/`` at the root of the checkout
    the ``harness`` package lives in (a source checkout or an editable install). ``None`` when neither
    exists (an installed wheel: pass ``--scenarios``)."""
    import os

    env = os.environ.get("WIRECHECK_SCENARIOS")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parent.parent / "scenarios"
    return root if root.is_dir() else None
