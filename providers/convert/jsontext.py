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
from json import encoder as _encoder
from typing import Any

__all__ = ["encoder"]


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
