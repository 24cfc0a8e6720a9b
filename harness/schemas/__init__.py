"""JSON Schemas (draft 2020-12) of the upstream wire objects, and a small loader.

One file per wire object: ``<dialect>.<object>.json`` next to this module, shipped as package data.
Each schema is hand-written from the official spec it names in its ``description`` (OpenAI's
OpenAPI file, Anthropic's OpenAPI file, the Gemini v1beta protos as summarised in docs/wire.md#gemini).

They are strict where the spec is (required fields, JSON types, closed enums such as roles,
``object``/``type`` tags and stop/finish reasons) and open where the APIs keep growing: unknown
properties are allowed everywhere, and unknown content-block / part types are accepted as long as
they are objects with a string ``type``. Stream events are the exception: their set is closed.

Public API: :data:`NAMES`, :func:`load`, :func:`validator`, :func:`problems`.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from harness.schemas.compiled import predicate_or_none

__all__ = ["NAMES", "load", "problems", "validator"]

NAMES: tuple[str, ...] = (
    "openai.chat.request",
    "openai.chat.response",
    "openai.chat.chunk",
    "openai.error",
    "openai.embeddings.request",
    "openai.embeddings.response",
    "openai.images.request",
    "openai.images.response",
    "openai.audio.speech.request",
    "openai.audio.transcription.response",
    "anthropic.messages.request",
    "anthropic.messages.response",
    "anthropic.stream.event",
    "anthropic.error",
    "gemini.request",
    "gemini.response",
    "gemini.error",
    "gemini.embed.request",
    "gemini.embed.response",
)


@functools.cache
def _raw(name: str) -> dict[str, Any]:
    if name not in NAMES:
        raise KeyError(f"unknown wire schema {name!r}; known: {', '.join(NAMES)}")
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def load(name: str) -> dict[str, Any]:
    """The schema document ``name`` (without ``.json``), as a fresh dict the caller may modify."""
    return copy.deepcopy(_raw(name))


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A cached validator for ``name``. Format checking is off (``format`` is an annotation only)."""
    return Draft202012Validator(_raw(name))


def _path(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "$"


def _leaf(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf failures, the most relevant nested error (best_match descends into context)."""
    if not error.context:
        return error
    return best_match([error]) or error


def _message(error: ValidationError) -> str:
    """The error message; for an anyOf/oneOf none of whose branches fits better than the others, the
    branches' own complaints about this same location are appended, e.g. which fields would do."""
    local = sorted({e.message for e in error.context or () if not e.relative_path})
    if not local:
        return error.message
    shown = "; ".join(local[:_MAX_BRANCHES]) + ("; ..." if len(local) > _MAX_BRANCHES else "")
    return f"{error.message} ({shown})"


_MAX_BRANCHES = 4


@functools.cache
def _valid(name: str) -> Callable[[Any], bool] | None:
    """The schema compiled into a predicate (``harness.schemas.compiled``), or None when it cannot be."""
    return predicate_or_none(_raw(name))


def problems(name: str, instance: Any) -> list[str]:
    """Why ``instance`` does not match schema ``name``: sorted ``"path.to.field: message"`` strings.

    An empty list means the instance is valid. ``$`` stands for the document root. A valid instance is
    told by the compiled predicate (``harness.schemas.compiled``); jsonschema says what is wrong.
    """
    valid = _valid(name)
    if valid is not None and valid(instance):
        return []
    found = set()
    for error in validator(name).iter_errors(instance):
        leaf = _leaf(error)
        found.add(f"{_path(leaf)}: {_message(leaf)}")
    return sorted(found)
