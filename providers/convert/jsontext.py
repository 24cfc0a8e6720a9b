"""Compact JSON text of a JSON value, as the converters write tool arguments and results into the IR.

``encoder(allow_nan=...)`` gives a function with exactly the output of ``json.JSONEncoder(separators=(",",
":"), ensure_ascii=False, allow_nan=...).encode``: no spaces, non-ASCII kept, keys in their order. It runs
for every tool call of a translated body, so it calls the C encoder that ``JSONEncoder`` builds anew on
each ``encode`` (made once here), without the circular-reference bookkeeping: its input is a validated
wire value, parsed from JSON, which cannot hold a cycle. Without the C encoder (another Python), it is
``JSONEncoder.encode`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import decoder as _decoder
from json import encoder as _encoder
from json import scanner as _scanner
from typing import Any

__all__ = ["decode", "encoder"]


def encoder(*, allow_nan: bool) -> Callable[[Any], str]:
    """The compact JSON text of a value (``allow_nan``: write ``NaN``/``Infinity`` or raise ``ValueError``)."""
    slow = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan)
    make = _encoder.c_make_encoder
    if make is None:
        return slow.encode
    # the arguments JSONEncoder.iterencode gives it, but no markers dict (no cycle check)
    fast = make(None, slow.default, _encoder.encode_basestring, None, ":", ",", False, False, allow_nan)

    def encode(value: Any) -> str:
        if isinstance(value, str):  # as JSONEncoder.encode: a bare string is one token
            return _encoder.encode_basestring(value)
        return "".join(fast(value, 0))

    return encode


_scan = _scanner.make_scanner(_decoder.JSONDecoder())  # the scanner json.loads uses, made once
_space = _decoder.WHITESPACE.match


def decode(text: str) -> Any:
    """``json.loads(text)`` of a ``str``: the same value, or the same ``JSONDecodeError``, calling the
    scanner directly (json.loads's type and BOM checks and decode's two calls, per tool call, cost
    about as much as scanning a small object)."""
    start = _space(text, 0).end()
    try:
        value, end = _scan(text, start)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    end = _space(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value
