"""The cassette format, version 1: the model, loading, saving and validation.

A cassette is one YAML (or JSON) file holding recorded HTTP interactions byte for byte, with the timing of
every streamed chunk, and a derived semantic ``index`` per interaction (``harness.cassettes.index``) so a
folder of them can be searched. The format is documented in ``cassettes/README.md`` and its JSON Schema is
``harness/schemas/cassette.json``; loading validates against that schema and reports the file and the field.

Bodies are kept as bytes in memory. On disk a body (and a stream chunk) is written in the first form that
gives the same bytes back:

- ``{json: <value>, style: <writer>}`` when the bytes are JSON *and* one of the known JSON writers
  (``JSON_STYLES``: compact, Python's default, 2-space indent, Google's, each optionally with a final
  newline) reproduces them exactly; ``style`` is omitted for ``compact``;
- ``{text: "..."}`` when the bytes are UTF-8;
- ``{b64: "..."}`` otherwise.

A stream is ``chunks: [{t_ms, text | b64}]``: the bytes exactly as they arrived, one entry per network read,
``t_ms`` being milliseconds from the start of the request. ``save`` checks that the written file loads back
to the same bytes, and falls back to ``b64`` for any string YAML would not give back unchanged.

Header names are lower-cased (HTTP header names are case-insensitive); a header sent several times holds a
list. Query parameters are a mapping of name to a string (or a list when repeated).

A cassette may declare what replay leaves out when it compares a request with a recorded one, for the parts
of a request known to vary (``MatchPolicy``, the optional top-level ``match`` key): ``ignore`` (JSON paths of
the body), ``ignore_query`` (query parameter names) and ``ignore_path_version`` (``/v1/`` and ``/v1beta/``
alike).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from harness.config import (
    MAX_BYTES,
    ConfigError,
    Pointer,
    check_header,
    line_of,
    parse_document,
    pointer_of,
    show,
)
from harness.config import decode as config_decode

__all__ = [
    "FORMAT_VERSION",
    "JSON_STYLES",
    "SOURCES",
    "Cassette",
    "CassetteError",
    "Chunk",
    "Interaction",
    "MatchPolicy",
    "Request",
    "Response",
    "decode_body",
    "dump_text",
    "encode_body",
    "is_cassette",
    "load",
    "load_folder",
    "parse",
    "save",
    "to_data",
]

FORMAT_VERSION = 1
VERSION_KEY = "wirecheck_cassette"
SOURCES = ("recorded", "imported-vcr", "imported-har", "synthetic")
Source = Literal["recorded", "imported-vcr", "imported-har", "synthetic"]
SUFFIXES = (".yaml", ".yml", ".json")


class CassetteError(ConfigError):
    """A cassette that cannot be used: ``source`` (the file), ``field`` (e.g. ``interactions[2].response.status``),
    ``line`` (1-based, 0 if unknown) and what is wrong (``message``); a ``harness.config.ConfigError``
    rendered ``FILE:LINE: FIELD: MESSAGE``."""

    def __init__(self, source: str, field: str, message: str, line: int = 0) -> None:
        self.message = message
        super().__init__(source, line, field, message, "<see message>")

    def render(self) -> str:
        return f"{self.where}: {self.field}: {self.message}"

    @classmethod
    def from_config(cls, exc: ConfigError) -> CassetteError:
        """The loader's ``ConfigError`` (bad bytes, bad YAML, an alias bomb...) as a ``CassetteError``."""
        if isinstance(exc, CassetteError):
            return exc
        return cls(exc.source, exc.field, f"expected {exc.expected}, got {show(exc.got)}", exc.line)


# --- the model ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Chunk:
    """Bytes that arrived together, ``t_ms`` milliseconds after the request started."""

    t_ms: float
    data: bytes


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is empty or not JSON."""
        return _json_or_none(self.body)


class Response:
    """``body`` for a plain reply, ``chunks`` for a stream (then ``body`` is always their concatenation);
    ``t_ms`` is when the response head arrived; ``complete`` is False when the upstream closed before
    the end of the body."""

    __slots__ = ("_body", "chunks", "complete", "headers", "status", "t_ms")

    def __init__(
        self,
        status: int,
        headers: dict[str, list[str]] | None = None,
        body: bytes = b"",
        chunks: list[Chunk] | None = None,
        t_ms: float | None = None,
        complete: bool = True,
    ) -> None:
        self.status = status
        self.headers = headers if headers is not None else {}
        self._body = body
        self.chunks = chunks
        self.t_ms = t_ms
        self.complete = complete

    @property
    def body(self) -> bytes:
        if self.chunks is not None:
            return b"".join(c.data for c in self.chunks)
        return self._body

    @body.setter
    def body(self, value: bytes) -> None:
        if self.chunks is not None:
            raise AttributeError("a streamed response's body is its chunks: set chunks instead")
        self._body = value

    def _key(self) -> tuple[Any, ...]:
        return (self.status, self.headers, self.body, self.chunks, self.t_ms, self.complete)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Response) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        kind = f"{len(self.chunks)} chunks" if self.chunks is not None else f"{len(self._body)} bytes"
        return f"Response(status={self.status}, {kind}, t_ms={self.t_ms}, complete={self.complete})"

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def streamed(self) -> bool:
        return self.chunks is not None

    @property
    def json(self) -> Any:
        return _json_or_none(self.body) if not self.streamed else None


@dataclass(slots=True)
class Interaction:
    request: Request
    response: Response
    source: str = "recorded"
    recorded_at: str | None = None
    host: str | None = None  # scheme://host[:port] of the upstream that answered
    notes: list[str] = field(default_factory=list)
    index: dict[str, Any] | None = None  # derived: harness.cassettes.index.derive


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """What replay leaves out when it compares a request with a recorded one (``harness.cassettes.replay``):
    ``ignore``, JSON paths of the body (``metadata.user_id``, ``messages[*].cache_control``; ``*`` is one
    key or index); ``ignore_query``, query parameter names (``beta``, ``api-version``);
    ``ignore_path_version``, a version segment of the path (``v1``, ``v1beta``, ``v2alpha``) matches any
    other. Declared per cassette (the ``match`` key) or per call; the two add up."""

    ignore: tuple[str, ...] = ()
    ignore_query: tuple[str, ...] = ()
    ignore_path_version: bool = False

    def __bool__(self) -> bool:
        return bool(self.ignore or self.ignore_query or self.ignore_path_version)

    def __or__(self, other: MatchPolicy) -> MatchPolicy:
        """Everything either leaves out."""
        return MatchPolicy(
            tuple(dict.fromkeys(self.ignore + other.ignore)),
            tuple(dict.fromkeys(self.ignore_query + other.ignore_query)),
            self.ignore_path_version or other.ignore_path_version,
        )

    def to_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ignore:
            out["ignore"] = list(self.ignore)
        if self.ignore_query:
            out["ignore_query"] = list(self.ignore_query)
        if self.ignore_path_version:
            out["ignore_path_version"] = True
        return out

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> MatchPolicy:
        """From the ``match`` mapping (validated by the JSON Schema first)."""
        return cls(
            tuple(data.get("ignore", ())),
            tuple(data.get("ignore_query", ())),
            bool(data.get("ignore_path_version", False)),
        )


@dataclass(slots=True)
class Cassette:
    interactions: list[Interaction] = field(default_factory=list)
    name: str | None = None
    description: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    match: MatchPolicy = field(default_factory=MatchPolicy)
    #: loaded from a recording journal whose last append was torn (``harness.cassettes.journal``)
    truncated: bool = False

    @property
    def id(self) -> str:
        """The name, else the file name without its suffix."""
        if self.name:
            return self.name
        return self.path.stem if self.path is not None else "cassette"


def _json_or_none(data: bytes) -> Any:
    if data.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


# --- bodies ---------------------------------------------------------------------------------------------


def _gemini(value: Any) -> str:
    from providers.sse import gemini_dumps

    return gemini_dumps(value)


#: JSON writers a body may be re-created with (name -> writer); a "+nl" suffix adds a final newline.
JSON_STYLES: dict[str, Callable[[Any], str]] = {
    "compact": lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")),
    "python": lambda v: json.dumps(v),
    "python-utf8": lambda v: json.dumps(v, ensure_ascii=False),
    "indent2": lambda v: json.dumps(v, ensure_ascii=False, indent=2),
    "indent2-ascii": lambda v: json.dumps(v, indent=2),
    "gemini": _gemini,
}


def _write_json(value: Any, style: str) -> str:
    base, plus, suffix = style.partition("+")
    writer = JSON_STYLES.get(base)
    if writer is None or (plus and suffix != "nl"):
        raise KeyError(style)
    return writer(value) + ("\n" if plus else "")


def encode_body(data: bytes, *, allow_json: bool = True) -> dict[str, Any]:
    """The on-disk form of ``data``: ``{json, style}``, ``{text}`` or ``{b64}`` (see the module doc)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(data).decode("ascii")}
    if allow_json and text[:1] in ("{", "["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict | list):
            nl = text.endswith("\n")
            for name in JSON_STYLES:
                style = name + "+nl" if nl else name
                try:
                    if _write_json(value, style) == text:
                        return {"json": value} if style == "compact" else {"json": value, "style": style}
                except (ValueError, TypeError):
                    break
    return {"text": text}


def decode_body(obj: Mapping[str, Any], where: str = "body", source: str = "<cassette>") -> bytes:
    """The bytes of an on-disk body form."""
    if "json" in obj:
        style = obj.get("style", "compact")
        try:
            return _write_json(obj["json"], style).encode("utf-8")
        except KeyError:
            raise CassetteError(source, f"{where}.style", f"unknown JSON style {style!r}") from None
        except (ValueError, TypeError) as exc:
            raise CassetteError(source, f"{where}.json", f"cannot be written as JSON: {exc}") from None
    if "text" in obj:
        return obj["text"].encode("utf-8")
    if "b64" in obj:
        try:
            return base64.b64decode(obj["b64"], validate=True)
        except ValueError:
            raise CassetteError(source, f"{where}.b64", "not valid base64") from None
    raise CassetteError(source, where, "expected one of json, text, b64")


# --- to and from plain data -------------------------------------------------------------------------------


def _multi(values: Mapping[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else list(v) for k, v in values.items()}


def _lists(values: Mapping[str, Any], lower: bool) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in values.items():
        key = k.lower() if lower else k
        out.setdefault(key, []).extend([str(x) for x in v] if isinstance(v, list) else [str(v)])
    return out


def _ms(value: float) -> float | int:
    """Milliseconds rounded to microseconds; whole numbers written without ``.0``."""
    value = round(float(value), 3)
    return int(value) if value.is_integer() else value


def interaction_data(it: Interaction, *, text_only: bool = False) -> dict[str, Any]:
    req, resp = it.request, it.response
    request: dict[str, Any] = {"method": req.method, "path": req.path}
    if req.query:
        request["query"] = _multi(req.query)
    if req.headers:
        request["headers"] = _multi(req.headers)
    if req.body:
        request["body"] = encode_body(req.body, allow_json=not text_only)
    response: dict[str, Any] = {"status": resp.status}
    if resp.headers:
        response["headers"] = _multi(resp.headers)
    if resp.t_ms is not None:
        response["t_ms"] = _ms(resp.t_ms)
    if resp.chunks is not None:
        response["chunks"] = [
            {"t_ms": _ms(c.t_ms), **encode_body(c.data, allow_json=False)} for c in resp.chunks
        ]
    elif resp.body:
        response["body"] = encode_body(resp.body, allow_json=not text_only)
    if not resp.complete:
        response["complete"] = False
    out: dict[str, Any] = {"source": it.source}
    if it.recorded_at is not None:
        out["recorded_at"] = it.recorded_at
    if it.host is not None:
        out["host"] = it.host
    out["request"] = request
    out["response"] = response
    if it.notes:
        out["notes"] = list(it.notes)
    if it.index is not None:
        out["index"] = copy.deepcopy(it.index)
    return out


def to_data(cassette: Cassette) -> dict[str, Any]:
    """The cassette as plain JSON-able data (what ``save`` writes)."""
    out: dict[str, Any] = {VERSION_KEY: FORMAT_VERSION}
    if cassette.name:
        out["name"] = cassette.name
    if cassette.description:
        out["description"] = cassette.description
    if cassette.meta:
        out["meta"] = copy.deepcopy(cassette.meta)
    if cassette.match:
        out["match"] = cassette.match.to_data()
    out["interactions"] = [interaction_data(it) for it in cassette.interactions]
    return out


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    text = resources.files("harness.schemas").joinpath("cassette.json").read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text))


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<cassette>"


def problems(data: Any) -> list[tuple[str, str]]:
    """(field, message) for everything the JSON Schema rejects, most relevant first."""
    from jsonschema.exceptions import best_match, relevance

    errors = sorted(_validator().iter_errors(data), key=relevance)
    out = []
    for error in errors:
        leaf = best_match([error]) if error.context else error
        out.append((_path(leaf.absolute_path), leaf.message))
    return out


def parse(
    data: Any,
    source: str = "<cassette>",
    path: Path | None = None,
    *,
    validate: bool = True,
    lines: Mapping[Pointer, int] | None = None,
) -> Cassette:
    """A ``Cassette`` from plain data, validated against the JSON Schema (a ``CassetteError`` names the
    field, and its line when ``lines`` come from ``harness.config.load_document``). ``validate=False`` is
    for data this module has just written."""
    try:
        return _parse(data, source, path, validate)
    except CassetteError as exc:
        if exc.line or not lines:
            raise
        raise CassetteError(
            exc.source, exc.field, exc.message, line_of(lines, pointer_of(exc.field))
        ) from None


def _parse(data: Any, source: str, path: Path | None, validate: bool) -> Cassette:
    if isinstance(data, dict) and data.get(VERSION_KEY) not in (None, FORMAT_VERSION):
        raise CassetteError(
            source,
            VERSION_KEY,
            f"this wirecheck reads version {FORMAT_VERSION}, the file is version {data[VERSION_KEY]!r}",
        )
    found = problems(data) if validate else []
    if found:
        where, message = found[0]
        if where.startswith("match.ignore[") and "does not match" in message:
            got = data["match"]["ignore"][int(where.removeprefix("match.ignore[").rstrip("]"))]
            message = (
                f"expected a JSON path such as metadata.user_id or messages[*].cache_control, got {got!r}"
            )
        raise CassetteError(source, where, message)
    interactions = []
    for i, item in enumerate(data["interactions"]):
        at = f"interactions[{i}]"
        req, resp = item["request"], item["response"]
        _check_headers(req.get("headers", {}), f"{at}.request.headers", source)
        _check_headers(resp.get("headers", {}), f"{at}.response.headers", source)
        request = Request(
            method=req["method"].upper(),
            path=req["path"],
            query=_lists(req.get("query", {}), lower=False),
            headers=_lists(req.get("headers", {}), lower=True),
            body=decode_body(req["body"], f"{at}.request.body", source) if "body" in req else b"",
        )
        chunks = None
        if "chunks" in resp:
            chunks = [
                Chunk(float(c["t_ms"]), decode_body(c, f"{at}.response.chunks[{k}]", source))
                for k, c in enumerate(resp["chunks"])
            ]
        response = Response(
            status=resp["status"],
            headers=_lists(resp.get("headers", {}), lower=True),
            body=decode_body(resp["body"], f"{at}.response.body", source) if "body" in resp else b"",
            chunks=chunks,
            t_ms=float(resp["t_ms"]) if "t_ms" in resp else None,
            complete=resp.get("complete", True),
        )
        interactions.append(
            Interaction(
                request=request,
                response=response,
                source=item["source"],
                recorded_at=item.get("recorded_at"),
                host=item.get("host"),
                notes=list(item.get("notes", [])),
                index=item.get("index"),
            )
        )
    return Cassette(
        interactions=interactions,
        name=data.get("name"),
        description=data.get("description"),
        meta=dict(data.get("meta", {})),
        path=path,
        match=MatchPolicy.from_data(data.get("match", {})),
    )


def _check_headers(headers: Mapping[str, Any], where: str, source: str) -> None:
    """Header values without CR, LF or NUL: replayed, one would split the response head (or never
    match a real request)."""
    for name, values in headers.items():
        for value in values if isinstance(values, list) else [values]:
            problem = check_header(name, value)
            if problem is not None:
                expected, got = problem
                raise CassetteError(source, f"{where}.{name}", f"expected {expected}, got {show(got)}")


def _loader() -> Any:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: str | Path) -> Cassette:
    """Read and validate one cassette file (``.yaml``/``.yml`` or ``.json``). A recording journal whose
    last append was torn (``harness.cassettes.journal.recover``) loads its complete interactions, with
    ``truncated`` set and a ``TornTailWarning`` naming the file."""
    from harness.cassettes.journal import decode, recover, warn_torn

    path = Path(path)
    source = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        problem = ConfigError(source, 0, "<file>", "a readable cassette file", f"<{exc.strerror or exc}>")
        raise CassetteError.from_config(problem) from None
    if len(raw) > MAX_BYTES:
        problem = ConfigError(
            source, 0, "<file>", f"a cassette file of at most {MAX_BYTES} bytes", "<a larger file>"
        )
        raise CassetteError.from_config(problem)
    try:
        text = decode(raw)
    except UnicodeDecodeError:
        try:
            config_decode(raw, source)  # names the offset and line of the first byte that is not UTF-8
        except ConfigError as exc:
            raise CassetteError.from_config(exc) from None
        raise CassetteError(source, "<file>", "not UTF-8 text") from None
    text, torn = recover(text)  # a recording journal: only its complete interactions
    try:
        data, lines = parse_document(text, source, kind="json" if path.suffix.lower() == ".json" else "yaml")
    except ConfigError as exc:
        raise CassetteError.from_config(exc) from None
    if not isinstance(data, dict) or VERSION_KEY not in data:
        raise CassetteError(
            source, VERSION_KEY, f"missing: not a wirecheck cassette (expected `{VERSION_KEY}: 1`)"
        )
    if "interactions" in data and data["interactions"] is None:
        data["interactions"] = []  # a journal with no interaction yet ends with `interactions:`
    cassette = parse(data, source, path, lines=lines)
    if torn is not None:
        cassette.truncated = True
        warn_torn(source, len(cassette.interactions), torn)
    return cassette


def load_folder(folder: str | Path) -> list[Cassette]:
    """Every cassette under ``folder`` (recursively; files with the version key), sorted by path."""
    folder = Path(folder)
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError as exc:
            raise CassetteError(str(path), "<file>", f"cannot read: {exc.strerror}") from None
        if VERSION_KEY in head:
            out.append(load(path))
    return out


def is_cassette(path: str | Path) -> bool:
    """Whether ``path`` is a cassette file: its top level has the ``wirecheck_cassette`` key (a file that
    cannot be read or parsed is not one; ``load`` says why)."""
    from harness.cassettes.journal import decode, recover

    path = Path(path)
    try:
        text, _ = recover(decode(path.read_bytes()))
        data, _ = parse_document(text, str(path), kind="json" if path.suffix.lower() == ".json" else "yaml")
    except (OSError, UnicodeDecodeError, ConfigError):
        return False
    return isinstance(data, dict) and VERSION_KEY in data


# --- writing ----------------------------------------------------------------------------------------------


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe YAML with block-style mappings and no line folding (one chunk per line, easy to grep)."""


def _str(dumper: Any, value: str) -> Any:
    """Strings with line breaks double-quoted (``"data: {...}\\n\\n"`` on one line) rather than folded."""
    style = '"' if "\n" in value or "\r" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_text(data: Any, suffix: str = ".yaml") -> str:
    if suffix.lower() == ".json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1 << 30,
        default_flow_style=False,
    )


def _read(text: str, suffix: str) -> Any:
    return json.loads(text) if suffix.lower() == ".json" else yaml.load(text, Loader=_loader())


def _same_bytes(a: Cassette, b: Cassette) -> list[str]:
    """Where two cassettes' bytes differ (fields), for the save check."""
    out = []
    for i, (x, y) in enumerate(zip(a.interactions, b.interactions, strict=True)):
        if x.request.body != y.request.body:
            out.append(f"interactions[{i}].request.body")
        if x.response.body != y.response.body:
            out.append(f"interactions[{i}].response.body")
        for k, (c, d) in enumerate(zip(x.response.chunks or [], y.response.chunks or [], strict=True)):
            if c.data != d.data or _ms(c.t_ms) != _ms(d.t_ms):
                out.append(f"interactions[{i}].response.chunks[{k}]")
    return out


def save(cassette: Cassette, path: str | Path | None = None) -> Path:
    """Write ``cassette`` (YAML, or JSON for a ``.json`` path) and check it loads back byte for byte.

    Text YAML cannot give back unchanged (rare control characters) is written as ``b64`` instead."""
    path = Path(path) if path is not None else cassette.path
    if path is None:
        raise ValueError("save: no path given and the cassette has none")
    data = to_data(cassette)
    text = dump_text(data, path.suffix)
    back = parse(_read(text, path.suffix), str(path), path, validate=False)
    differ = _same_bytes(cassette, back)
    if differ:
        data = _safer(cassette, data, differ)
        text = dump_text(data, path.suffix)
        back = parse(_read(text, path.suffix), str(path), path, validate=False)
        still = _same_bytes(cassette, back)
        if still:
            raise CassetteError(str(path), still[0], "does not survive a save and load (a bug)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    cassette.path = path
    return path


def _safer(cassette: Cassette, data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """``data`` with the given bodies and chunks written as base64."""
    for where in fields:
        head, _, rest = where.partition("].")
        i = int(head.removeprefix("interactions["))
        it = cassette.interactions[i]
        item = data["interactions"][i]
        if rest == "request.body":
            item["request"]["body"] = {"b64": base64.b64encode(it.request.body).decode()}
        elif rest == "response.body":
            item["response"]["body"] = {"b64": base64.b64encode(it.response.body).decode()}
        else:
            k = int(rest.removeprefix("response.chunks[").rstrip("]"))
            chunk = it.response.chunks[k]  # type: ignore[index]
            item["response"]["chunks"][k] = {
                "t_ms": _ms(chunk.t_ms),
                "b64": base64.b64encode(chunk.data).decode(),
            }
    return data
