"""The lossless base of every wire model.

A wire model must give back exactly the JSON it was given: unknown fields are kept (in order, after the
known ones), an absent field stays absent, an explicit ``null`` stays ``null``, an integer stays an integer
where a float would also do, and an enum value we have never seen (a new finish reason) is kept as a plain
string. pydantic v2 does all of that with ``extra="allow"``, ``exclude_unset`` dumps and strict typing;
the choice is argued in the README's design notes.

Conventions every wire module follows:
- numbers that may be fractional are typed ``Number`` (``int | float``), so ``1`` does not come back as ``1.0``;
- enum-like fields are ``str``; the known values live in tables next to the converters;
- tagged unions are ``open_union(...)``: a tag we do not know validates into the variant's fallback model
  (which keeps every field), never a rejection;
- a Python-reserved or BaseModel-shadowing name gets a trailing underscore and an alias (``schema_``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Self, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Tag,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import SchemaValidator

from providers.errors import ProviderError

Number = int | float
JSON = Any  # any JSON value, kept exactly as given

_OTHER = "__other__"


class Wire(BaseModel):
    """Base of every wire model: strict on the fields it knows, faithful to the ones it does not."""

    model_config = ConfigDict(
        extra="allow",
        strict=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        protected_namespaces=(),
        ser_json_inf_nan="strings",
    )

    @classmethod
    def parse(cls, data: Mapping[str, Any] | bytes | str) -> Self:
        """Validate wire JSON (a dict, or the raw bytes/text) into this model.

        Raises ProviderError(kind="decode") naming the model, the field path and what was wrong.
        """
        try:
            if isinstance(data, (bytes, str)):  # a tuple: the faster check (this runs for every body)
                return cls.model_validate_json(data)
            # model_validate's own validator, without its wrapper (a third of a small model's parse)
            return cls.__pydantic_validator__.validate_python(data)
        except ValidationError as exc:
            raise decode_error(cls.__name__, exc, data) from None

    @classmethod
    def check(cls, data: Mapping[str, Any]) -> None:
        """Validate a wire JSON dict as :meth:`parse` does, without building the model (for a caller that
        keeps the dict): accepts exactly what :meth:`parse` accepts and raises what it raises."""
        checker = cls.__dict__.get("_checker")
        if checker is None:
            checker = _dict_validator(cls)
            type.__setattr__(cls, "_checker", checker)
        try:
            checker.validate_python(data)
        except ValidationError:
            cls.parse(data)  # the model's own verdict and error (the checker is stricter on model instances)

    def to_json(self) -> dict[str, Any]:
        """The wire JSON object: exactly the fields that were given or set, unknown ones included."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)

    def to_bytes(self) -> bytes:
        """Compact JSON bytes of :meth:`to_json` (no spaces, UTF-8, non-ASCII kept)."""
        return self.model_dump_json(exclude_unset=True, by_alias=True).encode()

    @property
    def extra(self) -> dict[str, Any]:
        """The fields this model does not know, as they were given."""
        return self.__pydantic_extra__ or {}


class CamelWire(Wire):
    """A wire model whose JSON names are camelCase but whose clients may also spell them snake_case.

    Gemini servers accept ``functionDeclarations`` and ``function_declarations`` alike. The model reads
    both, and remembers which keys came in snake_case so that serializing gives back the same spelling.
    """

    model_config = ConfigDict(alias_generator=to_camel)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_snake_case(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        spellings = cls._spellings()
        snake = spellings.keys() & data.keys() if isinstance(data, dict) and spellings else ()
        for name in snake:
            if spellings[name] in data:
                raise ValueError(f"field given twice, as {spellings[name]!r} and as {name!r}")
        model = handler(data)
        if snake:
            object.__setattr__(model, "_snake_keys", frozenset(snake))
        return model

    @classmethod
    def parse(cls, data: Mapping[str, Any] | bytes | str) -> Self:
        """As :meth:`Wire.parse`, first trying a validator without the per-object snake_case bookkeeping.

        That bookkeeping is a Python call per nested object (half the cost of a parse). The fast validator
        accepts only camelCase names and no unknown field, so whatever it accepts holds no snake_case key
        to remember; anything else (a snake_case key, an unknown field, an error) goes the full way."""
        fast = cls.__dict__.get("_fast_validator")
        if fast is None:
            fast = _camel_only_validator(cls)
            type.__setattr__(cls, "_fast_validator", fast)
        try:
            if isinstance(data, (bytes, str)):  # a tuple: the faster check
                return fast.validate_json(data)
            return fast.validate_python(data)
        except ValidationError:
            return super().parse(data)

    @classmethod
    def _spellings(cls) -> dict[str, str]:
        """snake_case name -> camelCase alias, for the fields whose two spellings differ (per class, once)."""
        found = cls.__dict__.get("_spellings_cache")
        if found is None:
            found = {name: f.alias for name, f in cls.model_fields.items() if f.alias and f.alias != name}
            type.__setattr__(cls, "_spellings_cache", found)
        return found

    @model_serializer(mode="wrap")
    def _restore_snake_case(self, handler: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        out = handler(self)
        snake = self.__dict__.get("_snake_keys")  # getattr would fall into pydantic's slow __getattr__
        if not snake:
            return out
        fields = type(self).model_fields
        renames = {fields[name].alias: name for name in snake}
        return {renames.get(key, key): value for key, value in out.items()}


def _camel_only_validator(cls: type[CamelWire]) -> SchemaValidator:
    """``cls``'s validator with every CamelWire object strict about names: camelCase only, no unknown
    field, and no ``_remember_snake_case`` wrapper (see :meth:`CamelWire.parse`)."""
    remember = CamelWire._remember_snake_case.__func__

    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(item) for item in node]
        if not isinstance(node, dict):
            return node
        if node.get("type") == "function-wrap":
            wrapped = node.get("function")
            func = wrapped.get("function") if isinstance(wrapped, dict) else None  # not a serializer
            if getattr(func, "__func__", None) is remember:
                inner = strip(node["schema"])
                if "ref" in node:
                    inner["ref"] = node["ref"]
                return inner
        out = {key: strip(value) for key, value in node.items()}
        if out.get("type") == "model" and issubclass(out["cls"], CamelWire):
            out["config"] = {
                **out.get("config", {}),
                "extra_fields_behavior": "forbid",
                "validate_by_name": False,
            }
            out["schema"] = {**out["schema"], "extra_behavior": "forbid"}
        return out

    config: Any = cls.model_config  # the model's own config, which pydantic_core reads as its CoreConfig
    return SchemaValidator(strip(cls.__pydantic_core_schema__), config)


def _dict_validator(cls: type[Wire]) -> SchemaValidator:
    """``cls``'s validator giving plain data instead of models: each model node whose config is the root's
    (and has no custom init, root or post-init) is replaced by its fields' schema, which checks the same
    fields the same way but builds no instance (about half a small model tree's validation). A node
    otherwise (a CamelWire, whose snake_case wrapper wants a model; another config) is kept as it is. The
    one difference: a model instance nested in a dict is refused, which :meth:`Wire.check` then asks
    :meth:`Wire.parse` about."""
    root = cls.__pydantic_core_schema__
    config: Any = dict(cls.model_config)

    def untitled(node_config: Any) -> dict[str, Any]:
        return {key: value for key, value in (node_config or {}).items() if key != "title"}

    def own(node: Any) -> Any:
        """The config of ``cls``'s own model node (the root, or a definition when the root has refs)."""
        if isinstance(node, list):
            return next((found for found in map(own, node) if found is not None), None)
        if not isinstance(node, dict):
            return None
        if node.get("type") == "model" and node.get("cls") is cls:
            return untitled(node.get("config"))
        return next((found for found in map(own, node.values()) if found is not None), None)

    reference = own(root)

    def same(node_config: Any) -> bool:
        return reference is not None and untitled(node_config) == reference

    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: strip(value) for key, value in node.items()}
        if (
            out.get("type") == "model"
            and not issubclass(out["cls"], CamelWire)
            and not out["cls"].__pydantic_decorators__.model_validators  # they are handed the model
            and same(out.get("config"))
            and not out.get("custom_init")
            and not out.get("root_model")
            and out.get("post_init") is None
            and out["schema"].get("type") == "model-fields"
        ):
            fields = out["schema"]
            if "ref" in out:
                fields["ref"] = out["ref"]
            return fields
        return out

    return SchemaValidator(strip(root), config)


def open_union(tag: str, variants: Mapping[str, type[BaseModel]], fallback: type[BaseModel]) -> Any:
    """A union discriminated by the JSON field ``tag``; unknown tags validate into ``fallback``.

    Built on pydantic's callable discriminator, so a new block type from upstream is kept whole rather
    than failing the decode of the message around it (a bug crabllm ships,
    docs/contract.md#crabllm-strict-decoding).
    """

    def pick(value: Any) -> str:
        found = value.get(tag) if isinstance(value, dict) else getattr(value, tag, None)
        return found if found in variants else _OTHER

    members = tuple(Annotated[model, Tag(name)] for name, model in variants.items())
    members += (Annotated[fallback, Tag(_OTHER)],)
    return Annotated[Union[members], Discriminator(pick)]  # noqa: UP007 - a runtime tuple of members


def decode_error(model: str, exc: ValidationError, data: Any) -> ProviderError:
    """Turn a pydantic error into our decode error: model, field path, expected, got."""
    first = exc.errors(include_url=False)[0]
    path = ".".join(str(p) for p in first["loc"]) or "(root)"
    got = first.get("input")
    detail = f"{model}: field {path}: {first['msg']}"
    if got is not None and not isinstance(got, dict | list):
        detail += f" (got {json.dumps(got, default=str)[:80]})"
    if len(exc.errors()) > 1:
        detail += f" (+{len(exc.errors()) - 1} more)"
    if isinstance(data, bytes):
        raw = data
    elif isinstance(data, str):
        raw = data.encode()
    else:
        raw = json.dumps(data, default=str).encode() if data is not None else b""
    return ProviderError.decode(detail, raw=raw[:2048])
