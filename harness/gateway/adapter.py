"""Gateway adapters: one YAML file per gateway says how to start it and how to talk to it.

The shape is the JSON Schema ``harness/schemas/gateway.json``; in short (``gateways/litellm.yaml`` is a
full example)::

    name: litellm
    version: "1.108.*"                         # the version this adapter and its baseline are for
    install: "pip install 'litellm[proxy]==1.108.*'"
    command: [litellm, --config, "{{tmp}}/config.yaml", --host, 127.0.0.1, --port, "{{port}}"]
    env: {LITELLM_LOCAL_MODEL_COST_MAP: "True"}
    config:                                    # files written to the run's temporary directory
      - file: config.yaml
        template: |
          model_list:
            - model_name: "wirecheck-openai/*"
              litellm_params: {model: "openai/*", api_base: "{{upstream.openai}}", api_key: "{{upstream_key}}"}
    port: 0                                    # 0: a free port
    master_key: "sk-wirecheck-{{random}}"
    readiness: {path: /health/readiness, timeout_s: 60, expect_status: 200}
    front_doors: {openai: {base_path: /v1}, anthropic: {}, gemini: {api_version: v1beta}}
    models:                                    # per upstream dialect: the alias a client asks for
      openai: {alias: "wirecheck-openai/{{model}}", upstream: "{{model}}"}
    not_applicable: [{case: "errors.http.retry_then_ok.*", reason: "..."}]
    baseline: litellm-baseline.yaml            # relative to this file
    pip: ["litellm[proxy]==1.108.*"]           # what `nox -s gateway -- ADAPTER.yaml` installs

A gateway that routes by request headers says so per front door or per model route (``headers``; both
apply, the route's last), and which doors reach which upstream (``doors``; default: all)::

    front_doors:
      openai: {base_path: /v1, headers: {authorization: "Bearer {{master_key}}"}}
      anthropic: {capabilities: {audio: false}}
    models:
      openai: {alias: "{{model}}", doors: [openai], headers: {x-upstream-url: "{{upstream.url}}"}}
    capabilities: {images: false, embeddings: false}   # global; a door's own capabilities win
    door_probe: true                                    # default

``capabilities`` (``images``, ``audio``, ``embeddings``; default true) make every case of the method group
not applicable without listing ids. The door probe sends one minimal valid request to each front door at
start; a door that answers 404 or 405, or refuses the connection, is absent, and its cases are not
applicable with the probe's status and body as the reason. Config ``file`` names are paths relative to
``{{tmp}}`` (``conf/gateway.yaml``: folders are created).

Templates are ``{{name}}`` placeholders (double braces, so YAML and JSON braces inside config templates
stay literal): ``port``, ``host``, ``url`` (the gateway's base URL), ``tmp`` (the run's temporary
directory), ``master_key``, ``upstream.<dialect>`` (the mock upstream's base URL for that dialect, as the
dialect's SDK takes it: OpenAI's ends with ``/v1``), ``upstream_key`` (the credential the gateway is to
send upstream), ``python`` (this interpreter), ``adapter_dir`` (the adapter file's directory) and
``random`` (16 hex digits, fixed for the run); model aliases know only ``model`` (the case's model).
Request headers (of a front door or a model route) know every placeholder plus the route's
``upstream.url`` (its mock upstream's base URL), ``upstream.dialect`` and ``model`` (the model the gateway
is to send upstream). Every template is rendered once with dummy values at load time, so a placeholder a
field cannot have is an error then, naming the file, line and field.

Errors are ``AdapterError``s (the ``harness.config.ConfigError`` shape) naming the file, the line and the
field. The file is read with ``harness.config.load_document`` (UTF-8, size and alias limits, finite
numbers); request header names must be tokens and their templates free of CR and LF.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import ConfigError, check_header, load_document
from harness.scenario import ScenarioError, dotted, schema_problem

__all__ = [
    "CAPABILITIES",
    "DIALECTS",
    "HEADER_PLACEHOLDERS",
    "Adapter",
    "AdapterError",
    "FrontDoor",
    "ModelRoute",
    "NotApplicable",
    "Transparency",
    "load_adapter",
    "render",
]

AdapterError = ScenarioError  # same shape: file, line, field, expected, got

#: Upstream dialects a gateway may route to (the mock's), and the front-door dialects it may offer.
DIALECTS: tuple[str, ...] = ("openai", "anthropic", "gemini", "azure")
FRONT_DOORS: tuple[str, ...] = ("openai", "anthropic", "gemini")

#: Placeholders every template may use, and the ones only a model route may use.
PLACEHOLDERS = frozenset(
    {"port", "host", "url", "tmp", "master_key", "upstream_key", "python", "random", "adapter_dir"}
    | {f"upstream.{d}" for d in DIALECTS}
)
#: Placeholders a request header (of a front door or a model route) may also use: the route's.
HEADER_PLACEHOLDERS = PLACEHOLDERS | {"upstream.url", "upstream.dialect", "model"}

#: Capability → the contract methods it covers (``capabilities``: false makes their cases not applicable).
CAPABILITIES: dict[str, frozenset[str]] = {
    "images": frozenset({"image_generation"}),
    "audio": frozenset({"audio_speech", "audio_transcription"}),
    "embeddings": frozenset({"embedding"}),
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


class TemplateError(KeyError):
    """A template names a placeholder it has no value for."""


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with every ``{{name}}`` replaced by ``values[name]``; raises ``TemplateError``."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise TemplateError(name)
        return str(values[name])

    return _PLACEHOLDER.sub(one, template)


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


# --- the model --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FrontDoor:
    """A client-facing API of the gateway: ``dialect`` at ``base_path`` below the gateway's URL."""

    dialect: str
    base_path: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: str = "x-api-key"  # anthropic: how the key is sent
    api_version: str = "v1beta"  # gemini
    capabilities: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """How a case's model reaches the mock upstream of ``dialect`` through the gateway: the client asks
    for ``alias`` (a template of ``{{model}}``), the gateway sends ``upstream`` upstream."""

    dialect: str
    alias: str
    upstream: str = "{{model}}"
    native: str | None = None  # a regex: the model names of this upstream's vendor
    default: str | None = None  # the model a case's foreign model name is replaced by
    headers: Mapping[str, str] = field(default_factory=dict)  # on every request routed here (templates)
    doors: tuple[str, ...] = ()  # the front doors that reach this upstream (empty: every one)

    def reached_by(self, door: str) -> bool:
        return not self.doors or door in self.doors

    def effective(self, model: str) -> str:
        """The case's model, or ``default`` when ``native`` says it is another vendor's (a gateway keys
        model-specific behaviour, such as which parameters a model takes, on real model names)."""
        if self.native and self.default and not re.search(self.native, model):
            return self.default
        return model

    def client_model(self, model: str) -> str:
        return render(self.alias, {"model": self.effective(model)})

    def upstream_model(self, model: str) -> str:
        return render(self.upstream, {"model": self.effective(model)})

    @property
    def passthrough(self) -> bool:
        """The gateway sends the case's own model upstream (expectations on it hold unchanged)."""
        return self.upstream.replace(" ", "") == "{{model}}"


@dataclass(frozen=True, slots=True)
class NotApplicable:
    """Cases (a glob over ids) that do not apply to this gateway, for all or some upstream dialects; with
    ``checks``, only those checks of the cases do not apply (their expectation pins a choice the specs
    leave open) and the rest still run."""

    case: str
    reason: str
    upstream: tuple[str, ...] = ()
    line: int = 0
    checks: tuple[str, ...] = ()

    def matches(self, case_id: str, dialect: str) -> bool:
        if self.upstream and dialect not in self.upstream:
            return False
        return glob(self.case).fullmatch(case_id) is not None


@dataclass(frozen=True, slots=True)
class Transparency:
    """The streaming-transparency probe (harness/gateway/transparency.py)."""

    enabled: bool = True
    interval_ms: float = 60.0
    text: str = (
        "One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen."
    )
    tolerance: float = 0.25
    max_first_byte_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Adapter:
    """A validated gateway adapter (see the module docstring)."""

    name: str
    source: str
    command: tuple[str, ...]
    readiness_path: str
    front_doors: Mapping[str, FrontDoor]
    models: Mapping[str, ModelRoute]
    version: str | None = None
    install: str | None = None
    description: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    config: tuple[tuple[str, str], ...] = ()
    port: int = 0
    master_key: str | None = None
    readiness_timeout: float = 60.0
    readiness_status: int = 200
    readiness_headers: Mapping[str, str] = field(default_factory=dict)
    stop_grace: float = 5.0
    not_applicable: tuple[NotApplicable, ...] = ()
    baseline: Path | None = None
    deadline: float | None = None
    transparency: Transparency = Transparency()
    capabilities: Mapping[str, bool] = field(default_factory=dict)
    pip: tuple[str, ...] = ()
    door_probe: bool = True

    @property
    def dialects(self) -> list[str]:
        """The upstream dialects the gateway routes to, in report order."""
        return [d for d in DIALECTS if d in self.models]

    def lacks(self, method: str, door: str) -> str | None:
        """The capability (``images``, ``audio``, ``embeddings``) the adapter says ``method`` needs and
        the gateway, or its ``door``, lacks; None when nothing says so."""
        for name, methods in CAPABILITIES.items():
            if method in methods:
                given = self.front_doors[door].capabilities if door in self.front_doors else {}
                if not given.get(name, self.capabilities.get(name, True)):
                    return name
        return None

    def not_applicable_for(self, case_id: str, dialect: str) -> NotApplicable | None:
        """The entry that makes the whole case not applicable, if any."""
        return next((n for n in self.not_applicable if not n.checks and n.matches(case_id, dialect)), None)

    def waived_checks(self, case_id: str, dialect: str) -> dict[str, NotApplicable]:
        """Check id → the entry that says it does not apply to this case."""
        out: dict[str, NotApplicable] = {}
        for entry in self.not_applicable:
            if entry.checks and entry.matches(case_id, dialect):
                for check_id in entry.checks:
                    out.setdefault(check_id, entry)
        return out


# --- loading ----------------------------------------------------------------------------------------------


def glob(pattern: str) -> re.Pattern[str]:
    """A case-id glob (as in baselines): ``*`` within one dotted segment, ``**`` anything."""
    parts = re.split(r"(\*\*|\*)", pattern)
    return re.compile("".join(".*" if p == "**" else "[^.]*" if p == "*" else re.escape(p) for p in parts))


def line_of(lines: Mapping[Any, int], pointer: Sequence[str | int]) -> int:
    """The line of ``pointer``, or of its nearest ancestor present in the file."""
    at = tuple(pointer)
    while at and at not in lines:
        at = at[:-1]
    return lines.get(at, 0)


def load_adapter(path: str | Path) -> Adapter:
    """Read and validate an adapter file; raises ``AdapterError`` naming file, line and field."""
    path = Path(path)
    source = str(path)
    try:
        data, lines = load_document(path, source=source, kind="yaml", what="gateway adapter file")
    except ConfigError as exc:
        raise AdapterError(exc.source, exc.line, exc.field, exc.expected, exc.got) from None
    return parse_adapter(data, lines, source, base=path.parent)


def parse_adapter(data: Any, lines: Mapping[Any, int], source: str, base: Path | None = None) -> Adapter:
    """Validate plain data (from ``harness.scenario.load_yaml``) into an ``Adapter``."""

    def fail(pointer: Sequence[str | int], expected: str, got: Any) -> AdapterError:
        return AdapterError(source, line_of(lines, pointer), dotted(pointer), expected, got)

    if not isinstance(data, dict):
        raise fail((), "a mapping (a gateway adapter)", data if data is not None else "<empty file>")
    problem = schema_problem("gateway", data, lines)
    if problem is not None:
        raise fail(*problem)

    # Every template is rendered once with dummy values: a placeholder it cannot have is found now, with
    # its file, line and field, not when the first request is sent.
    def check(pointer: tuple[str | int, ...], template: str, allowed: frozenset[str] = PLACEHOLDERS) -> None:
        try:
            render(template, dict.fromkeys(allowed, "x"))
        except TemplateError as exc:
            known = ", ".join(sorted(allowed))
            raise fail(pointer, f"placeholders among {known}", f"{{{{{exc.args[0]}}}}}") from None

    for i, item in enumerate(data["command"]):
        check(("command", i), item)
    for key, value in (data.get("env") or {}).items():
        check(("env", key), value)
    for i, item in enumerate(data.get("config") or ()):
        check(("config", i, "template"), item["template"])
        if ".." in item["file"].split("/"):
            raise fail(("config", i, "file"), "a path inside {{tmp}} (no '..' segment)", item["file"])
    if "master_key" in data:
        check(("master_key",), data["master_key"])
        if "{{master_key}}" in data["master_key"].replace(" ", ""):
            raise fail(("master_key",), "a key that does not name itself", data["master_key"])

    def header(pointer: tuple[str | int, ...], name: Any, value: Any) -> None:
        problem = check_header(name, value)
        if problem is not None:
            raise fail(pointer, *problem)

    for dialect, door in data["front_doors"].items():
        for name, value in (door.get("headers") or {}).items():
            header(("front_doors", dialect, "headers", name), name, value)
            check(("front_doors", dialect, "headers", name), value, HEADER_PLACEHOLDERS)
    for dialect, route in data["models"].items():
        for name, value in ((route.get("headers") or {}) if isinstance(route, dict) else {}).items():
            header(("models", dialect, "headers", name), name, value)
            check(("models", dialect, "headers", name), value, HEADER_PLACEHOLDERS)
        for i, door in enumerate(route.get("doors", ()) if isinstance(route, dict) else ()):
            if door not in data["front_doors"]:
                raise fail(
                    ("models", dialect, "doors", i),
                    f"front doors the adapter has ({', '.join(data['front_doors'])})",
                    door,
                )
    for key, value in (data.get("readiness", {}).get("headers") or {}).items():
        header(("readiness", "headers", key), key, value)
        check(("readiness", "headers", key), value)

    models: dict[str, ModelRoute] = {}
    for dialect, route in data["models"].items():
        spec = {"alias": route} if isinstance(route, str) else route
        at: tuple[str | int, ...] = (
            ("models", dialect) if isinstance(route, str) else ("models", dialect, "alias")
        )
        model_only = frozenset({"model"})
        for name in placeholders(spec["alias"]):
            if name != "model":
                raise fail(at, "only the placeholder {{model}} in a model alias", f"{{{{{name}}}}}")
        upstream = spec.get("upstream")
        if upstream is not None:
            for name in placeholders(upstream):
                if name not in model_only:
                    raise fail(
                        ("models", dialect, "upstream"), "only the placeholder {{model}}", f"{{{{{name}}}}}"
                    )
        elif "model" not in placeholders(spec["alias"]):
            raise fail(
                at,
                "an alias with {{model}}, or `upstream:` naming the model the gateway sends upstream "
                "(a fixed alias hides which model that is)",
                spec["alias"],
            )
        native = spec.get("native")
        if native is not None:
            try:
                re.compile(native)
            except re.error as exc:
                raise fail(("models", dialect, "native"), "a regular expression", f"<{exc}>") from None
            if "default" not in spec:
                raise fail(
                    ("models", dialect, "default"),
                    "the model that replaces a foreign one (with native)",
                    "<nothing>",
                )
        models[dialect] = ModelRoute(
            dialect,
            spec["alias"],
            upstream or "{{model}}",
            native,
            spec.get("default"),
            headers=dict(spec.get("headers") or {}),
            doors=tuple(spec.get("doors", ())),
        )

    doors = {}
    for dialect, door in data["front_doors"].items():
        doors[dialect] = FrontDoor(
            dialect,
            base_path=door.get("base_path", ""),
            headers=dict(door.get("headers") or {}),
            auth=door.get("auth", "x-api-key"),
            api_version=door.get("api_version", "v1beta"),
            capabilities=dict(door.get("capabilities") or {}),
        )

    not_applicable = []
    for i, entry in enumerate(data.get("not_applicable") or ()):
        not_applicable.append(
            NotApplicable(
                entry["case"],
                entry["reason"],
                tuple(entry.get("upstream", ())),
                line_of(lines, ("not_applicable", i)),
                tuple(entry.get("checks", ())),
            )
        )
    from harness.baseline import known_checks

    for i, entry in enumerate(not_applicable):
        for k, check_id in enumerate(entry.checks):
            if check_id not in known_checks():
                raise fail(("not_applicable", i, "checks", k), "a check id of harness/checks", check_id)
        bad = [d for d in entry.upstream if d not in models]
        if bad:
            raise fail(
                ("not_applicable", i, "upstream"),
                f"upstream dialects the adapter routes to ({', '.join(models)})",
                bad[0],
            )

    readiness = data["readiness"]
    baseline = None
    if "baseline" in data:
        baseline = Path(data["baseline"])
        if not baseline.is_absolute() and base is not None:
            baseline = base / baseline
    t = data.get("transparency") or {}
    defaults = Transparency()
    transparency = Transparency(
        enabled=t.get("enabled", True),
        interval_ms=t.get("interval_ms", defaults.interval_ms),
        text=t.get("text", defaults.text),
        tolerance=t.get("tolerance", defaults.tolerance),
        max_first_byte_ms=t.get("max_first_byte_ms"),
    )
    return Adapter(
        name=data["name"],
        source=source,
        command=tuple(data["command"]),
        readiness_path=readiness["path"],
        front_doors=doors,
        models=models,
        version=data.get("version"),
        install=data.get("install"),
        description=data.get("description"),
        env=dict(data.get("env") or {}),
        config=tuple((c["file"], c["template"]) for c in data.get("config") or ()),
        port=data.get("port", 0),
        master_key=data.get("master_key"),
        readiness_timeout=float(readiness.get("timeout_s", 60.0)),
        readiness_status=readiness.get("expect_status", 200),
        readiness_headers=dict(readiness.get("headers") or {}),
        stop_grace=float((data.get("stop") or {}).get("grace_s", 5.0)),
        not_applicable=tuple(not_applicable),
        baseline=baseline,
        deadline=data.get("deadline_s"),
        transparency=transparency,
        capabilities=dict(data.get("capabilities") or {}),
        pip=tuple(data.get("pip", ())),
        door_probe=data.get("door_probe", True),
    )
