"""Wire models for embeddings, images, audio speech and transcription (docs/wire.md#openai-embeddings
through docs/wire.md#openai-transcriptions), and the multipart field the transcription method takes.

Embeddings come back as float arrays or, when ``encoding_format`` is ``"base64"`` (the openai SDK's default),
as base64 of little-endian float32: ``Embedding.vector()`` reads both, ``encode_base64`` writes the second.
"""

from __future__ import annotations

import base64
import os
import re
import struct
from dataclasses import dataclass

from providers.errors import ProviderError
from providers.types._base import JSON, Number, Wire

# --- embeddings ------------------------------------------------------------------------------------


class EmbeddingRequest(Wire):
    """POST /v1/embeddings body: ``input`` is a string, strings, tokens, or token lists."""

    model: str
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: str | None = None
    dimensions: int | None = None
    user: str | None = None


class Embedding(Wire):
    object: str = "embedding"
    index: int
    embedding: list[Number] | str

    def vector(self) -> list[float]:
        """The floats, whether the wire carried them as a list or as base64 float32."""
        if isinstance(self.embedding, str):
            return decode_base64(self.embedding)
        return [float(x) for x in self.embedding]


class EmbeddingUsage(Wire):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(Wire):
    object: str = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage | None = None


def encode_base64(vector: list[float]) -> str:
    """Floats as the API's base64 of little-endian float32."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def decode_base64(text: str) -> list[float]:
    raw = base64.b64decode(text, validate=True)
    if len(raw) % 4:
        raise ProviderError.decode(f"base64 embedding is {len(raw)} bytes, not a multiple of 4", raw=raw[:64])
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


# --- images ----------------------------------------------------------------------------------------


class ImageRequest(Wire):
    """POST /v1/images/generations body."""

    prompt: str
    model: str | None = None
    n: int | None = None
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    response_format: str | None = None
    output_format: str | None = None
    background: str | None = None
    user: str | None = None


class ImageData(Wire):
    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None


class ImageResponse(Wire):
    created: int
    data: list[ImageData] | None = None
    usage: dict[str, JSON] | None = None


# --- audio -----------------------------------------------------------------------------------------


class AudioSpeechRequest(Wire):
    """POST /v1/audio/speech body; the reply is raw audio bytes."""

    model: str
    input: str
    voice: str | dict[str, JSON]
    instructions: str | None = None
    response_format: str | None = None
    speed: Number | None = None
    stream_format: str | None = None


#: The audio Content-Type each speech ``response_format`` comes back with (docs/wire.md#openai-speech).
SPEECH_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


class TranscriptionResponse(Wire):
    """The ``json`` / ``verbose_json`` reply of /v1/audio/transcriptions."""

    text: str
    usage: dict[str, JSON] | None = None
    language: str | None = None
    duration: Number | None = None
    segments: list[dict[str, JSON]] | None = None
    words: list[dict[str, JSON]] | None = None


# --- multipart -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MultipartField:
    """One form field of a multipart/form-data body: a value, or a file when ``filename`` is set."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def encode_multipart(fields: list[MultipartField], boundary: str | None = None) -> tuple[bytes, str]:
    """The body and Content-Type header of a multipart/form-data request (RFC 7578)."""
    boundary = boundary or "wirecheck-" + os.urandom(8).hex()
    out = bytearray()
    for field in fields:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{_quote(field.name)}"'
        if field.filename is not None:
            disposition += f'; filename="{_quote(field.filename)}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if field.content_type:
            out += f"Content-Type: {field.content_type}\r\n".encode()
        out += b"\r\n" + field.data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def decode_multipart(body: bytes, content_type: str) -> list[MultipartField]:
    """Parse a multipart/form-data body; raises a decode error naming what is malformed."""
    params = dict(_header_params(content_type))
    boundary = params.get("boundary")
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        raise ProviderError.decode(
            f"not a multipart/form-data content type with a boundary: {content_type!r}"
        )
    delimiter = b"--" + boundary.encode()
    pieces = body.split(delimiter)
    if len(pieces) < 2 or not pieces[-1].startswith(b"--"):
        raise ProviderError.decode("multipart body has no closing boundary", raw=body[-128:])
    fields = []
    for piece in pieces[1:-1]:
        piece = piece.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, sep, data = piece.partition(b"\r\n\r\n")
        if not sep:
            raise ProviderError.decode("multipart part has no header/body separator", raw=piece[:128])
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = dict(_header_params(headers.get("content-disposition", "")))
        if "name" not in disposition:
            raise ProviderError.decode("multipart part has no Content-Disposition name", raw=head[:128])
        fields.append(
            MultipartField(
                disposition["name"], data, disposition.get("filename"), headers.get("content-type")
            )
        )
    return fields


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "%0D").replace("\n", "%0A")


_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _header_params(value: str) -> list[tuple[str, str]]:
    """``key=value`` parameters of a header such as Content-Disposition (quotes honoured and unescaped)."""
    out = []
    for key, raw in _PARAM.findall(value):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        out.append((key.lower(), raw))
    return out
