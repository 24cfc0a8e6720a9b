"""Body decoding for the scrubber and the scanner: content codings (gzip, deflate, br) and multipart parts.

- ``codings(headers, data)``: the content codings applied to a body, from its ``content-encoding`` header,
  or sniffed from its first bytes (a gzip or zlib stream) when there is no header;
- ``decode(data, codings)`` undoes them (``Undecodable`` when it cannot: corrupt bytes, an unknown
  coding, or ``br`` without a ``brotli`` module); ``encode(clean, codings, like=data)`` applies them again,
  the same way (raw or zlib-wrapped deflate as ``like`` was). The re-encoded bytes are a faithful body
  (they decode to the scrubbed content) but not the original compressor's output byte for byte;
- ``multipart(data, content_type)``: the parts of a ``multipart/*`` body, with their offsets into ``data``,
  headers, field name and file name.
"""

from __future__ import annotations

import gzip
import importlib
import itertools
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

__all__ = ["Part", "Undecodable", "codings", "decode", "encode", "multipart"]


def _brotli() -> ModuleType | None:
    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None


class Undecodable(ValueError):
    """The bytes cannot be decoded with the given codings."""


def _header(headers: Mapping[str, Sequence[str]], name: str) -> str:
    for key, values in headers.items():
        if key.lower() == name:
            return ", ".join(values)
    return ""


def _zlib_wrapped(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0


def codings(headers: Mapping[str, Sequence[str]], data: bytes = b"") -> list[str]:
    """The codings in the order they were applied (``content-encoding``), else sniffed from ``data``."""
    named = [c.strip().lower() for c in _header(headers, "content-encoding").split(",")]
    named = [c for c in named if c and c != "identity"]
    if named:
        return named
    if data[:2] == b"\x1f\x8b":
        return ["gzip"]
    if _zlib_wrapped(data):
        return ["deflate"]
    return []


def _decode_one(data: bytes, coding: str) -> bytes:
    try:
        if coding in ("gzip", "x-gzip"):
            return gzip.decompress(data)
        if coding == "deflate":
            if _zlib_wrapped(data):
                inflater = zlib.decompressobj()
            else:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = inflater.decompress(data)
            if not inflater.eof or inflater.unused_data:
                raise Undecodable("deflate: not one complete stream")
            return out
        if coding == "br":
            brotli = _brotli()
            if brotli is None:
                raise Undecodable("br: no brotli module")
            return brotli.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise Undecodable(f"{coding}: {exc}") from None
    except Exception as exc:  # brotli.error is not a public exception class
        if coding == "br":
            raise Undecodable(f"br: {exc}") from None
        raise
    raise Undecodable(f"unknown content coding {coding!r}")


def decode(data: bytes, applied: Sequence[str]) -> bytes:
    """``data`` with the codings (in the order they were applied) undone."""
    for coding in reversed(applied):
        data = _decode_one(data, coding)
    return data


def _encode_one(data: bytes, coding: str, like: bytes) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.compress(data, mtime=0)
    if coding == "deflate":
        if _zlib_wrapped(like):
            return zlib.compress(data)
        deflater = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return deflater.compress(data) + deflater.flush()
    if coding == "br":
        brotli = _brotli()
        if brotli is None:
            raise Undecodable("br: no brotli module")
        return brotli.compress(data)
    raise Undecodable(f"unknown content coding {coding!r}")


def encode(data: bytes, applied: Sequence[str], like: bytes) -> bytes:
    """``data`` encoded with the codings again, in the same order and flavour as ``like`` was."""
    layers = [like]
    for coding in reversed(applied[1:]):
        layers.append(_decode_one(layers[-1], coding))
    for coding, original in zip(applied, reversed(layers), strict=True):
        data = _encode_one(data, coding, original)
    return data


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a multipart body: ``data[start:end]`` is its content."""

    start: int
    end: int
    headers: dict[str, list[str]]
    name: str | None
    filename: str | None


_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_DISPOSITION = re.compile(r'\b(name|filename)="([^"]*)"', re.IGNORECASE)


def multipart(data: bytes, content_type: str) -> list[Part]:
    """The parts of a multipart body (none when ``content_type`` is not multipart or has no boundary)."""
    if not content_type.lower().startswith("multipart/"):
        return []
    m = _BOUNDARY.search(content_type)
    if m is None:
        return []
    delimiter = b"--" + (m.group(1) or m.group(2)).encode("latin-1")
    starts = [
        at
        for at in (x.start() for x in re.finditer(re.escape(delimiter), data))
        if at == 0 or data[at - 1 : at] == b"\n"
    ]
    parts = []
    for begin, following in itertools.pairwise(starts):
        line_end = data.find(b"\n", begin)
        if line_end < 0 or line_end >= following:
            continue
        head_end = data.find(b"\r\n\r\n", line_end + 1, following)
        gap = 4
        if head_end < 0:
            head_end = data.find(b"\n\n", line_end + 1, following)
            gap = 2
        if head_end < 0:
            continue
        end = following - 1
        if data[end - 1 : end] == b"\r":
            end -= 1
        headers: dict[str, list[str]] = {}
        for line in data[line_end + 1 : head_end].decode("latin-1").splitlines():
            name, colon, value = line.partition(":")
            if colon:
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        disposition = dict(
            (k.lower(), v) for k, v in _DISPOSITION.findall(" ".join(headers.get("content-disposition", [])))
        )
        parts.append(
            Part(
                head_end + gap,
                max(end, head_end + gap),
                headers,
                disposition.get("name"),
                disposition.get("filename"),
            )
        )
    return parts
