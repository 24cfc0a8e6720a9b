"""The script: rules that match requests and say what to reply, loaded from plain dicts, YAML or JSON.

Shape (every key optional unless said otherwise)::

    seed: 7                      # seeds generated replies and random faults
    fallback: generate           # unmatched requests: "generate" (default when there are no rules)
                                 # or "not_found" (default otherwise: 404 in the dialect's shape)
    auth: {required: true, keys: [sk-test]}   # keys: the accepted keys; omitted: any non-empty key
    variant: crlf                # a legal wire variant of generated and `answer` replies (mocks.variants)
    rules:
      - name: weather            # default "rules[i]"
        match:
          method: POST
          path: /v1beta/models/{model}:generateContent   # {name}: one segment; *: any in a segment; **: any
          dialect: gemini        # openai | anthropic | gemini | azure
          headers: {anthropic-version: "2023-06-01"}      # subset, names case-insensitive; null = absent
          query: {alt: sse}      # subset; null = absent
          json: {model: gpt-4o, stream: true}             # subset of the body; lists match item by item
        times: 2                 # used up after 2 answers
        nth: 3                   # only the 3rd request that meets `match`
        reply:                   # one of json / events / body / body_b64 / answer; none: generated reply
          status: 200
          headers: {x-extra: "1"}
          content_type: application/json
          delay_ms: 0            # before the response head
          event_delay_ms: 0      # before each event that has no delay_ms of its own
          chunks: [5, 3]         # cut the body bytes: sizes, the last one repeating (0 = the rest);
                                 # or {every: 7}
          done: true             # OpenAI/Azure scripted events: append `data: [DONE]`
          json: {...}
          events: [{data: {...} | "text", event: name, raw: "bytes as text", raw_b64: ..., delay_ms: 10}]
          body: "raw text"
          answer: {text: "...", thinking: "...", tool_calls: [{name, arguments}], finish: stop, usage: {...}}
        fault: {drop: {after_events: 3}}          # see below; several keys combine
        random: {probability: 0.3, faults: [{error: {status: 500}}, {drop: {after_bytes: 10}}]}

Faults (``mocks.faults``): ``error: {status, message, type, code, retry_after, headers}``,
``auth: {missing: false}``, ``stream_error: {after_events, status, message, type}``,
``malformed_sse: {after_events, text}``, ``malformed_json: {}``, ``drop: {after_events | after_bytes}``
(empty: no response at all), ``stall: {ms, after_events}``, ``drip: {bytes_per_second, piece}``.

``match.json`` takes the matchers of scenario expectations (``mocks/matching.py``: ``{$regex: "^gpt-"}``,
``{$type: string}``, ``{$not: ...}``, ...), checked at load like every other field: numbers finite and
within range (delays and durations), header names tokens and values without CR/LF, path patterns compiled.

First matching rule wins. Errors are ``ScriptError``s (the ``mocks.config.ConfigError`` shape) naming the
file, the line (read from a file), the field and what was expected.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mocks import faults as f
from mocks.config import ConfigError, check_header, finite_number, line_of, load_document, pointer_of
from mocks.framing import Event
from mocks.matching import differences, is_matcher, matcher_problem
from mocks.variants import VARIANTS

__all__ = ["AuthPolicy", "Match", "ReplySpec", "Rule", "Script", "ScriptError", "load_script", "parse_script"]

DIALECTS = ("openai", "anthropic", "gemini", "azure")


#: The longest delay or stall a script may ask for, in milliseconds (a day: anything longer is a typo).
MAX_MS = 86_400_000


class ScriptError(ConfigError):
    """A script that cannot be used: where (``source``, ``field`` and, read from a file, ``line``), what
    was ``expected``, what it ``got`` (a ``ConfigError``)."""

    def __init__(self, source: str, field: str, expected: str, got: Any, line: int = 0) -> None:
        super().__init__(source, line, field, expected, got)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- the model ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    required: bool = True
    keys: frozenset[str] | None = None  # None: any non-empty key

    def accepts(self, key: str | None) -> Literal["ok", "missing", "wrong"]:
        if not key:
            return "missing" if self.required else "ok"
        return "ok" if self.keys is None or key in self.keys else "wrong"


_ANY = object()  # "no condition on the body"


@dataclass(frozen=True, slots=True)
class Match:
    """The conditions a request must meet; ``reasons`` lists the ones it fails."""

    method: str | None = None
    path: str | None = None
    path_re: re.Pattern[str] | None = None
    dialect: str | None = None
    headers: Mapping[str, str | None] = field(default_factory=dict)
    query: Mapping[str, str | None] = field(default_factory=dict)
    json: Any = _ANY

    def reasons(
        self,
        method: str,
        path: str,
        dialect: str | None,
        headers: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Any,
    ) -> list[str]:
        out: list[str] = []
        if self.method and self.method != method:
            out.append(f"method: expected {self.method}, got {method}")
        if self.path_re is not None and not self.path_re.fullmatch(path):
            out.append(f"path: expected {self.path}, got {path}")
        if self.dialect and self.dialect != dialect:
            out.append(f"dialect: expected {self.dialect}, got {dialect}")
        for name, want in self.headers.items():
            got = headers.get(name)
            if got != want:
                out.append(f"headers.{name}: expected {_show(want)}, got {_show(got)}")
        for name, want in self.query.items():
            values = query.get(name)
            got = values[0] if values else None
            if got != want:
                out.append(f"query.{name}: expected {_show(want)}, got {_show(got)}")
        if self.json is not _ANY:
            out.extend(_subset_reasons(self.json, body, "json"))
        return out


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and want == got
    return want == got


def _subset_reasons(want: Any, got: Any, where: str) -> list[str]:
    """How ``got`` fails to contain ``want``: objects by key subset, lists item by item (same length),
    ``null`` for "null or absent", a matcher (``mocks.matching``) as it says, everything else by equality
    (``true`` is not ``1``)."""
    if is_matcher(want):
        return differences(want, got, where)
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {_show(got)}"]
        out: list[str] = []
        for key, sub in want.items():
            if key not in got:
                if is_matcher(sub):
                    out.extend(differences({key: sub}, {}, where))
                elif sub is not None:
                    out.append(f"{where}.{key}: missing (expected {_show(sub)})")
            else:
                out.extend(_subset_reasons(sub, got[key], f"{where}.{key}"))
        return out
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: expected a list of {len(want)}, got {_show(got)}"]
        return [
            r
            for i, (w, g) in enumerate(zip(want, got, strict=True))
            for r in _subset_reasons(w, g, f"{where}[{i}]")
        ]
    return [] if _same(want, got) else [f"{where}: expected {_show(want)}, got {_show(got)}"]


@dataclass(frozen=True, slots=True)
class ReplySpec:
    """What a rule answers. ``kind`` is ``generate`` (the endpoint's default reply), ``answer`` (a
    semantic answer each dialect renders, streamed or not), ``json``, ``events`` or ``body``."""

    kind: Literal["generate", "answer", "json", "events", "body"] = "generate"
    value: Any = None
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0
    event_delay: float = 0.0
    chunks: tuple[int, ...] = ()
    done: bool = True


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    index: int
    match: Match = field(default_factory=Match)
    reply: ReplySpec = field(default_factory=ReplySpec)
    faults: tuple[f.Fault, ...] = ()
    random: f.RandomFaults | None = None
    times: int | None = None
    nth: int | None = None


@dataclass(frozen=True, slots=True)
class Script:
    rules: tuple[Rule, ...] = ()
    seed: int = 0
    fallback: Literal["generate", "not_found"] = "generate"
    auth: AuthPolicy = field(default_factory=AuthPolicy)
    source: str = "<script>"
    variant: str = "plain"  # a name in mocks.variants.VARIANTS


# --- loading and validation ----------------------------------------------------------------------------------


def load_script(path: str | Path) -> Script:
    """Read a script from a ``.yaml``/``.yml`` or ``.json`` file (``mocks.config.load_document``: UTF-8,
    size and alias limits, finite numbers); a ``ScriptError`` names the file, line and field."""
    path = Path(path)
    source = str(path)
    try:
        data, lines = load_document(path, source=source, what="script file")
    except ScriptError:
        raise
    except ConfigError as exc:
        raise ScriptError(exc.source, exc.field, exc.expected, exc.got, exc.line) from None
    return parse_script(data if data is not None else {}, source=source, lines=lines)


def parse_script(
    data: Any, *, source: str = "<script>", lines: Mapping[tuple[str | int, ...], int] | None = None
) -> Script:
    """Validate a script given as plain data (a mapping, or just the list of rules); ``lines`` (from
    ``mocks.config.load_document``) give errors their line."""
    r = _Reader(source, lines or {}, listed=isinstance(data, list))
    if isinstance(data, list):
        data = {"rules": data}
    top = r.mapping(data, "<script>", {"seed", "fallback", "auth", "rules", "variant"})
    rules = tuple(r.rule(item, i) for i, item in enumerate(r.list(top.get("rules", []), "rules")))
    seed = r.integer(top.get("seed", 0), "seed")
    fallback = top.get("fallback", "not_found" if rules else "generate")
    if fallback not in ("generate", "not_found"):
        raise ScriptError(source, "fallback", "'generate' or 'not_found'", fallback)
    variant = top.get("variant", "plain")
    if variant not in VARIANTS:
        raise ScriptError(source, "variant", "one of " + ", ".join(VARIANTS), variant)
    return Script(rules, seed, fallback, r.auth(top.get("auth", {})), source, variant)


_FAULT_FIELDS: dict[str, tuple[type, set[str], set[str]]] = {
    # key: (class, allowed fields, required fields)
    "error": (f.ErrorFault, {"status", "message", "type", "code", "retry_after", "headers"}, {"status"}),
    "auth": (f.AuthFault, {"missing"}, set()),
    "stream_error": (f.StreamErrorFault, {"after_events", "status", "message", "type"}, set()),
    "malformed_sse": (f.MalformedSSEFault, {"after_events", "text"}, set()),
    "malformed_json": (f.MalformedJSONFault, set(), set()),
    "drop": (f.DropFault, {"after_events", "after_bytes"}, set()),
    "stall": (f.StallFault, {"ms", "after_events"}, {"ms"}),
    "drip": (f.DripFault, {"bytes_per_second", "piece"}, {"bytes_per_second"}),
}


class _Reader:
    """Typed reads of script fields that fail with a ``ScriptError`` naming the field."""

    def __init__(self, source: str, lines: Mapping[tuple[str | int, ...], int], listed: bool = False) -> None:
        self.source = source
        self.lines = lines
        self.listed = listed  # the file is just the list of rules

    def fail(self, where: str, expected: str, got: Any) -> ScriptError:
        pointer = pointer_of(where)
        if self.listed and pointer[:1] == ("rules",):
            pointer = pointer[1:]
        return ScriptError(self.source, where, expected, got, line_of(self.lines, pointer))

    def mapping(self, value: Any, where: str, allowed: set[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "a mapping", value)
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    raise self.fail(
                        f"{where}.{key}" if where != "<script>" else key,
                        "one of " + ", ".join(sorted(allowed)),
                        key,
                    )
        return value

    def list(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "a list", value)
        return value

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "a string", value)
        return value

    def integer(self, value: Any, where: str, minimum: int = 0, maximum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(where, f"an integer >= {minimum}", value)
        if maximum is not None and value > maximum:
            raise self.fail(where, f"an integer from {minimum} to {maximum}", value)
        return value

    def number(self, value: Any, where: str, minimum: float = 0.0, maximum: float = float("inf")) -> float:
        """A finite number in ``minimum..maximum`` (NaN and infinities are refused: a delay of NaN
        crashes the server's sleep, one of infinity never ends)."""
        if not finite_number(value, minimum, maximum):
            bound = f" and <= {maximum:.15g}" if maximum != float("inf") else ""
            raise self.fail(where, f"a number >= {minimum:g}{bound} (finite)", value)
        return float(value)

    def ms(self, value: Any, where: str) -> float:
        """A duration in milliseconds (``0..MAX_MS``), in seconds."""
        return self.number(value, where, 0, MAX_MS) / 1000

    def headers(
        self, value: Any, where: str, *, nullable: bool = False, lower: bool = False
    ) -> dict[str, Any]:
        """Header names and values: names are tokens, values have no CR, LF or NUL (a match on such a
        header could never meet a real request; a reply with one would split its head)."""
        out = self.str_map(value, where, nullable=nullable, lower=lower)
        for name, item in self.mapping(value, where).items():
            problem = check_header(name, item)
            if problem is not None:
                raise self.fail(f"{where}.{name}", *problem)
        return out

    def str_map(
        self, value: Any, where: str, *, nullable: bool = False, lower: bool = False
    ) -> dict[str, Any]:
        out = {}
        for key, item in self.mapping(value, where).items():
            if not (isinstance(item, str) or (nullable and item is None)):
                raise self.fail(f"{where}.{key}", "a string" + (" or null" if nullable else ""), item)
            out[key.lower() if lower else key] = item
        return out

    # -- parts of a script --

    def auth(self, value: Any) -> AuthPolicy:
        m = self.mapping(value, "auth", {"required", "keys"})
        required = m.get("required", True)
        if not isinstance(required, bool):
            raise self.fail("auth.required", "true or false", required)
        keys = None
        if "keys" in m:
            keys = frozenset(
                self.string(k, f"auth.keys[{i}]") for i, k in enumerate(self.list(m["keys"], "auth.keys"))
            )
        return AuthPolicy(required, keys)

    def rule(self, value: Any, index: int) -> Rule:
        where = f"rules[{index}]"
        m = self.mapping(value, where, {"name", "match", "reply", "fault", "random", "times", "nth"})
        name = self.string(m.get("name", where), f"{where}.name")
        times = self.integer(m["times"], f"{where}.times", 1) if "times" in m else None
        nth = self.integer(m["nth"], f"{where}.nth", 1) if "nth" in m else None
        return Rule(
            name=name,
            index=index,
            match=self.match(m.get("match", {}), f"{where}.match"),
            reply=self.reply(m.get("reply", {}), f"{where}.reply"),
            faults=self.faults(m["fault"], f"{where}.fault") if "fault" in m else (),
            random=self.random(m["random"], f"{where}.random") if "random" in m else None,
            times=times,
            nth=nth,
        )

    def match(self, value: Any, where: str) -> Match:
        m = self.mapping(value, where, {"method", "path", "dialect", "headers", "query", "json"})
        method = self.string(m["method"], f"{where}.method").upper() if "method" in m else None
        path = self.string(m["path"], f"{where}.path") if "path" in m else None
        if path is not None and not path.startswith("/"):
            raise self.fail(f"{where}.path", "a path starting with '/'", path)
        dialect = m.get("dialect")
        if dialect is not None and dialect not in DIALECTS:
            raise self.fail(f"{where}.dialect", "one of " + ", ".join(DIALECTS), dialect)
        path_re = None
        if path:
            try:
                path_re = compile_path(path)
            except ValueError as exc:
                raise self.fail(f"{where}.path", f"a path pattern ({exc})", path) from None
        if "json" in m:
            problem = matcher_problem(m["json"])
            if problem is not None:
                pointer, expected, got = problem
                field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in pointer)
                raise self.fail(f"{where}.json{field}", expected, got)
        if method is not None and not re.fullmatch(r"[A-Z]+", method):
            raise self.fail(f"{where}.method", "an HTTP method (letters only)", m["method"])
        return Match(
            method=method,
            path=path,
            path_re=path_re,
            dialect=dialect,
            headers=self.headers(m.get("headers", {}), f"{where}.headers", nullable=True, lower=True),
            query=self.str_map(m.get("query", {}), f"{where}.query", nullable=True),
            json=m.get("json", _ANY),
        )

    def reply(self, value: Any, where: str) -> ReplySpec:
        kinds = ("json", "events", "body", "body_b64", "answer")
        allowed = {
            "status",
            "headers",
            "content_type",
            "delay_ms",
            "event_delay_ms",
            "chunks",
            "done",
            *kinds,
        }
        m = self.mapping(value, where, allowed)
        given = [k for k in kinds if k in m]
        if len(given) > 1:
            raise self.fail(where, "at most one of " + ", ".join(kinds), given)
        kind = given[0] if given else "generate"
        raw = m.get(kind)
        if kind == "events":
            raw = self.events(
                raw,
                f"{where}.events",
                self.ms(m.get("event_delay_ms", 0), f"{where}.event_delay_ms"),
            )
        elif kind == "body":
            raw = self.string(raw, f"{where}.body").encode("utf-8")
        elif kind == "body_b64":
            raw, kind = self.b64(raw, f"{where}.body_b64"), "body"
        elif kind == "answer":
            raw = self.answer(raw, f"{where}.answer")
        status = m.get("status")
        if status is not None and (
            isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
        ):
            raise self.fail(f"{where}.status", "an HTTP status 100-599", status)
        done = m.get("done", True)
        if not isinstance(done, bool):
            raise self.fail(f"{where}.done", "true or false", done)
        return ReplySpec(
            kind=kind,
            value=raw,
            status=status,
            headers=self.headers(m.get("headers", {}), f"{where}.headers"),
            content_type=self.string(m["content_type"], f"{where}.content_type")
            if "content_type" in m
            else None,
            delay=self.ms(m.get("delay_ms", 0), f"{where}.delay_ms"),
            event_delay=self.ms(m.get("event_delay_ms", 0), f"{where}.event_delay_ms"),
            chunks=self.chunks(m["chunks"], f"{where}.chunks") if "chunks" in m else (),
            done=done,
        )

    def b64(self, value: Any, where: str) -> bytes:
        try:
            return base64.b64decode(self.string(value, where), validate=True)
        except ValueError:
            raise self.fail(where, "base64 text", value) from None

    def events(self, value: Any, where: str, default_delay: float) -> tuple[Event, ...]:
        out = []
        for i, item in enumerate(self.list(value, where)):
            at = f"{where}[{i}]"
            m = self.mapping(item, at, {"data", "event", "raw", "raw_b64", "delay_ms"})
            sources = [k for k in ("data", "raw", "raw_b64") if k in m]
            if len(sources) != 1:
                raise self.fail(at, "exactly one of data, raw, raw_b64", sorted(m))
            data = m.get("data")
            if "data" in m and not isinstance(data, dict | list | str):
                raise self.fail(f"{at}.data", "an object, a list or a string", data)
            raw = None
            if "raw" in m:
                raw = self.string(m["raw"], f"{at}.raw").encode("utf-8")
            elif "raw_b64" in m:
                raw = self.b64(m["raw_b64"], f"{at}.raw_b64")
            name = self.string(m["event"], f"{at}.event") if "event" in m else None
            if name is not None and ("\n" in name or "\r" in name):
                raise self.fail(f"{at}.event", "a name without CR or LF", name)
            delay = self.ms(m["delay_ms"], f"{at}.delay_ms") if "delay_ms" in m else default_delay
            out.append(Event(data=data, raw=raw, name=name, delay=delay, scripted=True))
        return tuple(out)

    def answer(self, value: Any, where: str) -> dict[str, Any]:
        m = self.mapping(value, where, {"text", "thinking", "signature", "tool_calls", "finish", "usage"})
        for key in ("text", "thinking", "signature", "finish"):
            if key in m and m[key] is not None:
                self.string(m[key], f"{where}.{key}")
        for i, call in enumerate(self.list(m.get("tool_calls", []), f"{where}.tool_calls")):
            c = self.mapping(call, f"{where}.tool_calls[{i}]", {"name", "arguments", "id"})
            if "name" not in c:
                raise self.fail(f"{where}.tool_calls[{i}].name", "a tool name", None)
            self.string(c["name"], f"{where}.tool_calls[{i}].name")
            self.mapping(c.get("arguments", {}), f"{where}.tool_calls[{i}].arguments")
        usage = self.mapping(
            m.get("usage", {}), f"{where}.usage", {"prompt", "completion", "cached", "reasoning"}
        )
        for key, count in usage.items():
            self.integer(count, f"{where}.usage.{key}")
        return m

    def chunks(self, value: Any, where: str) -> tuple[int, ...]:
        if isinstance(value, dict):
            m = self.mapping(value, where, {"every"})
            return (self.integer(m.get("every"), f"{where}.every", 1),)
        sizes = tuple(self.integer(n, f"{where}[{i}]") for i, n in enumerate(self.list(value, where)))
        if not sizes or not any(sizes):
            raise self.fail(where, "a non-empty list of byte sizes with one above 0, or {every: N}", value)
        return sizes

    def faults(self, value: Any, where: str) -> tuple[f.Fault, ...]:
        m = self.mapping(value, where, set(_FAULT_FIELDS))
        return tuple(self.fault(key, item, f"{where}.{key}") for key, item in m.items())

    def fault(self, key: str, value: Any, where: str) -> f.Fault:
        cls, allowed, required = _FAULT_FIELDS[key]
        m = self.mapping({} if value is None or value is True else value, where, allowed)
        for name in sorted(required - set(m)):
            raise self.fail(f"{where}.{name}", "a value (required)", None)
        args: dict[str, Any] = {}
        for name, item in m.items():
            at = f"{where}.{name}"
            if name in ("after_events", "after_bytes"):
                args[name] = self.integer(item, at)
            elif name == "status":
                args[name] = self.integer(item, at, 100, 599)
            elif name == "retry_after":
                args[name] = self.number(item, at, 0, MAX_MS / 1000)
            elif name == "bytes_per_second":
                args[name] = self.number(item, at)
            elif name == "ms":
                args["seconds"] = self.ms(item, at)
            elif name == "piece":
                args[name] = self.integer(item, at, 1)
            elif name == "missing":
                if not isinstance(item, bool):
                    raise self.fail(at, "true or false", item)
                args[name] = item
            elif name == "headers":
                args[name] = self.headers(item, at)
            elif name == "text":
                args[name] = self.string(item, at).encode("utf-8")
            else:
                args[name] = self.string(item, at)
        if key == "drip" and args["bytes_per_second"] <= 0:
            raise self.fail(f"{where}.bytes_per_second", "a number > 0", args["bytes_per_second"])
        if key == "drop" and len(args) > 1:
            raise self.fail(where, "at most one of after_events, after_bytes", sorted(m))
        return cls(**args)

    def random(self, value: Any, where: str) -> f.RandomFaults:
        m = self.mapping(value, where, {"probability", "faults"})
        p = self.number(m.get("probability", 1.0), f"{where}.probability")
        if p > 1:
            raise self.fail(f"{where}.probability", "a number between 0 and 1", p)
        choices = tuple(
            self.faults(item, f"{where}.faults[{i}]")
            for i, item in enumerate(self.list(m.get("faults", []), f"{where}.faults"))
        )
        if not choices:
            raise self.fail(f"{where}.faults", "a non-empty list of fault mappings", m.get("faults"))
        return f.RandomFaults(p, choices)


_PATH_TOKEN = re.compile(r"\{(\w+)\}|\*\*|\*")


def compile_path(pattern: str) -> re.Pattern[str]:
    """``/v1beta/models/{model}:generateContent`` → a regex: ``{name}`` is one segment without ``/`` or
    ``:``, ``*`` anything inside a segment, ``**`` anything at all; the rest is literal. Raises
    ``ValueError`` for a name that is not an identifier or is used twice."""
    out = []
    pos = 0
    names: set[str] = set()
    for m in _PATH_TOKEN.finditer(pattern):
        out.append(re.escape(pattern[pos : m.start()]))
        if m.group(1):
            name = m.group(1)
            if not name.isidentifier():
                raise ValueError(
                    f"{{{name}}}: a name must be an identifier (letters, digits, _; not first a digit)"
                )
            if name in names:
                raise ValueError(f"{{{name}}} appears twice: each name once")
            names.add(name)
            out.append(f"(?P<{name}>[^/:]+)")
        else:
            out.append(".*" if m.group(0) == "**" else "[^/]*")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out))
