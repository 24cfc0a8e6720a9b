"""Configuration input for the harness: ``mocks/config.py`` re-exported (one error shape, ``ConfigError``,
and one safe YAML/JSON loader, ``load_document``). It lives in ``mocks`` because mock scripts are read
with it and ``mocks`` never imports ``harness``; harness code imports it from here."""

from mocks.config import (
    MAX_ALIAS_NODES,
    MAX_BYTES,
    ConfigError,
    Pointer,
    check_header,
    decode,
    dotted,
    finite_number,
    line_of,
    load_document,
    parse_document,
    pointer_of,
    show,
)

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_BYTES",
    "ConfigError",
    "Pointer",
    "check_header",
    "decode",
    "dotted",
    "finite_number",
    "line_of",
    "load_document",
    "parse_document",
    "pointer_of",
    "show",
]
