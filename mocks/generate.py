"""Default replies for requests no rule scripts: deterministic, plausible, self-consistent.

Every value is drawn from a ``random.Random`` seeded by a hash of the request (dialect, endpoint, model and
body without its streaming switches; see ``Call.rng``) and the script's ``seed``, so the same request always
gets the same answer, streamed or not, and a test that fails replays.

What a dialect asks is reduced to an ``Ask``; what the model "says" is an ``Answer`` that each dialect renders
in its own wire shape, streamed or not. The rules:

- Text: a few plausible sentences that mention words of the last user message. ``max_tokens`` is honoured:
  the text is cut to fit and the finish reason becomes ``length``.
- Tool calls (the documented trigger): when tools are declared, every tool whose *name appears in the last
  user text* is called, in order of appearance (so naming two tools gives parallel calls); a forcing
  ``tool_choice`` (OpenAI ``required`` / named, Anthropic ``any`` / ``tool``, Gemini mode ``ANY``) calls
  the named tool or else the first one. A turn whose last message is a tool result is answered with text.
  Arguments are sampled from the tool's JSON Schema (every property, so strict tools validate).
- Thinking: a thinking text and signature when the request enables it (Anthropic ``thinking``, Gemini
  ``includeThoughts``); OpenAI's ``reasoning_effort`` only adds ``reasoning_tokens``.
- Usage: prompt tokens are estimated from the request size (4 bytes a token); completion tokens from what
  was generated; totals add up; ``cached`` counts the request bytes before the last cache marker.
- Media: embeddings of the requested dimensions (float32-exact, unit length), a valid 1x1 PNG, short valid
  audio (WAV, PCM, MP3, FLAC; AAC and Opus as a minimal header-bearing frame), a transcript.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import string
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Answer",
    "Ask",
    "Tool",
    "ToolCall",
    "Usage",
    "answer_for",
    "audio_bytes",
    "embedding",
    "estimate_tokens",
    "png_bytes",
    "random_key",
    "rng_for",
    "sample_from_schema",
    "scripted_answer",
    "transcript",
]

_NOUNS = ("forecast", "result", "reply", "request", "summary", "plan", "value", "update", "answer", "outlook")
_ADJECTIVES = ("clear", "mild", "short", "steady", "simple", "useful", "reliable", "quick", "calm", "bright")
_TIMES = ("today", "this week", "for now", "in the morning", "by tonight", "over the weekend")
_TEMPLATES = (
    "The {noun} looks {adj} {time}.",
    "Here is a {adj} answer about {topic}.",
    "In short, the {noun} is {adj} and the {noun2} is {adj2}.",
    "You asked about {topic}, so I kept the {noun} {adj}.",
    "A {adj} {noun} should help with {topic}.",
    "Overall, expect a {adj} {noun} {time}.",
)
_CITIES = ("Paris", "Boston", "Tokyo", "Lima", "Oslo", "Nairobi", "Madrid", "Toronto")
_OPENERS = ("Sure.", "Here is the answer.", "Certainly.", "Of course.", "Good question.")


def rng_for(*parts: bytes | str) -> random.Random:
    """A generator seeded by a SHA-256 of ``parts`` (stable across runs and processes)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return random.Random(int.from_bytes(digest.digest()[:16], "big"))


def estimate_tokens(text: str | bytes) -> int:
    """Tokens as the usual estimate: one per 4 bytes of UTF-8, at least 1 for non-empty input."""
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    return math.ceil(size / 4)


# --- what was asked and what is answered -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tool:
    """A declared function tool: its name and the JSON Schema of its arguments."""

    name: str
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Ask:
    """The dialect-neutral gist of a generation request, as far as the generator needs it."""

    last_user_text: str = ""  # empty when the last turn carries tool results
    tools: tuple[Tool, ...] = ()
    tool_choice: Literal["auto", "none", "any", "tool"] = "auto"
    forced_tool: str | None = None  # the name when tool_choice is "tool"
    thinking: bool = False
    reasoning: bool = False  # OpenAI reasoning_effort: hidden reasoning tokens only
    max_tokens: int | None = None
    prompt_tokens: int = 1
    cached_tokens: int = 0


@dataclass(slots=True)
class ToolCall:
    """One tool call; ``key`` is a random-looking suffix each dialect turns into its own id format."""

    name: str
    arguments: dict[str, Any]
    key: str
    id: str | None = None  # a scripted id, used verbatim


@dataclass(slots=True)
class Usage:
    prompt: int
    completion: int
    cached: int = 0  # part of ``prompt`` read from cache
    reasoning: int = 0  # part of ``completion`` spent thinking

    @property
    def total(self) -> int:
        return self.prompt + self.completion


@dataclass(slots=True)
class Answer:
    """What the simulated model says; dialects render it as JSON or as their stream events."""

    text: str | None
    usage: Usage
    tool_calls: list[ToolCall] = field(default_factory=list)
    thinking: str | None = None
    signature: str | None = None
    finish: str = "stop"  # stop | length | tool_calls | content_filter, or a dialect's own literal value
    seed: int = 0  # for dialect-side random details (ids, padding) that must stay deterministic

    def rng(self, salt: str) -> random.Random:
        return random.Random(f"{self.seed}:{salt}")


# --- generation ----------------------------------------------------------------------------------------


_ALNUM = string.ascii_letters + string.digits
_SYSTEM = random.SystemRandom()


def random_key(rng: random.Random | None, n: int = 24) -> str:
    """``n`` alphanumerics from ``rng`` (deterministic) or from the system's entropy (``rng`` None: ids
    that must differ per request)."""
    return "".join((rng or _SYSTEM).choices(_ALNUM, k=n))


def _sentences(rng: random.Random, topic: list[str], count: int) -> str:
    """``count`` plausible sentences after an opener, mentioning ``topic`` words of the user's message."""
    out = [rng.choice(_OPENERS)]
    for _ in range(count):
        out.append(
            rng.choice(_TEMPLATES).format(
                noun=rng.choice(_NOUNS),
                noun2=rng.choice(_NOUNS),
                adj=rng.choice(_ADJECTIVES),
                adj2=rng.choice(_ADJECTIVES),
                time=rng.choice(_TIMES),
                topic=rng.choice(topic) if topic else "your question",
            )
        )
    return " ".join(out)


_COMMON = frozenset(
    ("about", "call", "from", "hello", "please", "that", "there", "this", "what", "with", "your")
)


def _topic(text: str) -> list[str]:
    """Words of the user's message worth echoing."""
    words = (w.strip(".,;:!?\"'()") for w in text.split())
    return [w for w in words if len(w) > 3 and w.lower() not in _COMMON][:12]


def _fit(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut ``text`` at a word boundary so it fits ``max_tokens``; returns (text, was_cut)."""
    if max_tokens is None or estimate_tokens(text) <= max_tokens:
        return text, False
    words = text.split(" ")
    while len(words) > 1 and estimate_tokens(" ".join(words)) > max_tokens:
        words.pop()
    return " ".join(words), True


def _called_tools(ask: Ask) -> list[Tool]:
    if not ask.tools or ask.tool_choice == "none":
        return []
    if ask.tool_choice == "tool":
        named = [t for t in ask.tools if t.name == ask.forced_tool]
        return named or [ask.tools[0]]
    text = ask.last_user_text
    mentioned = sorted(
        (text.find(t.name), i, t) for i, t in enumerate(ask.tools) if t.name and t.name in text
    )
    called = [t for _, _, t in mentioned]
    if not called and ask.tool_choice == "any":
        called = [ask.tools[0]]
    return called


def _signature(seed: int, thinking: str) -> str:
    digest = hashlib.sha512(f"{seed}:{thinking}".encode()).digest()
    return base64.b64encode(b"\x12\x08" + digest * 3).decode("ascii")


def answer_for(ask: Ask, rng: random.Random) -> Answer:
    """The generated answer to ``ask`` (see the module doc for the rules)."""
    seed = rng.getrandbits(64)
    thinking = None
    if ask.thinking:
        thinking = "Let me think about this. " + _sentences(
            rng, _topic(ask.last_user_text), rng.randint(2, 4)
        )
    calls = [
        ToolCall(tool.name, sample_from_schema(tool.schema, rng), random_key(rng))
        for tool in _called_tools(ask)
    ]
    text: str | None
    finish = "stop"
    if calls:
        text = None
        finish = "tool_calls"
    else:
        text, cut = _fit(_sentences(rng, _topic(ask.last_user_text), rng.randint(1, 4)), ask.max_tokens)
        if cut:
            finish = "length"
    reasoning = estimate_tokens(thinking) if thinking else (rng.randint(16, 64) if ask.reasoning else 0)
    answer = Answer(
        text=text, usage=Usage(0, 0), tool_calls=calls, thinking=thinking, finish=finish, seed=seed
    )
    if thinking:
        answer.signature = _signature(seed, thinking)
    answer.usage = _usage(ask, answer, reasoning)
    return answer


def _usage(ask: Ask, answer: Answer, reasoning: int) -> Usage:
    completion = reasoning
    if answer.text:
        completion += estimate_tokens(answer.text)
    for call in answer.tool_calls:
        completion += estimate_tokens(call.name) + estimate_tokens(repr(call.arguments))
    return Usage(
        prompt=ask.prompt_tokens,
        completion=max(completion, 1),
        cached=min(ask.cached_tokens, ask.prompt_tokens),
        reasoning=reasoning,
    )


def scripted_answer(spec: dict[str, Any], ask: Ask, rng: random.Random) -> Answer:
    """An ``answer:`` written in a script (``text``, ``thinking``, ``signature``, ``tool_calls``
    [{name, arguments, id?}], ``finish``, ``usage`` {prompt, completion, cached, reasoning}); what is left
    out is filled in as the generator would (a thinking signature, consistent usage, the finish reason)."""
    seed = rng.getrandbits(64)
    calls = [
        ToolCall(c["name"], dict(c.get("arguments") or {}), random_key(rng), c.get("id"))
        for c in spec.get("tool_calls", [])
    ]
    thinking = spec.get("thinking")
    answer = Answer(
        text=spec.get("text"),
        usage=Usage(0, 0),
        tool_calls=calls,
        thinking=thinking,
        signature=spec.get("signature") or (_signature(seed, thinking) if thinking else None),
        finish=spec.get("finish") or ("tool_calls" if calls else "stop"),
        seed=seed,
    )
    usage = _usage(ask, answer, estimate_tokens(thinking) if thinking else 0)
    for name, value in (spec.get("usage") or {}).items():
        setattr(usage, name, value)
    answer.usage = usage
    return answer


# --- tool arguments ------------------------------------------------------------------------------------


def sample_from_schema(schema: dict[str, Any], rng: random.Random, name: str = "", depth: int = 0) -> Any:
    """A value valid for a JSON Schema (or Gemini's OpenAPI subset, upper-case types): every object
    property is filled in, enums and consts are honoured, numbers respect minimum/maximum."""
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return sample_from_schema(schema[key][0], rng, name, depth)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    kind = str(kind).lower()
    if kind == "object":
        if depth > 6:
            return {}
        props = schema.get("properties") or {}
        return {key: sample_from_schema(sub, rng, key, depth + 1) for key, sub in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1) if depth <= 6 else 0
        return [sample_from_schema(schema.get("items") or {}, rng, name, depth + 1) for _ in range(count)]
    if kind == "integer":
        low = int(schema.get("minimum", 1))
        return rng.randint(low, max(low, int(schema.get("maximum", low + 99))))
    if kind == "number":
        low = float(schema.get("minimum", 0))
        return round(rng.uniform(low, max(low, float(schema.get("maximum", low + 100)))), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    lowered = name.lower()
    if any(hint in lowered for hint in ("city", "location", "place", "capital")):
        return rng.choice(_CITIES)
    if schema.get("format") == "date":
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return rng.choice(_NOUNS)


# --- embeddings ------------------------------------------------------------------------------------------


def embedding(key: str, dimensions: int) -> list[float]:
    """A unit vector of ``dimensions`` floats determined by ``key``; every value is exactly a float32, so
    the base64 (float32) and the JSON-float encodings of it decode to the same numbers."""
    rng = rng_for("embedding", key)
    raw = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    scaled = [x / norm for x in raw]
    return list(struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f", *scaled)))


# --- images and audio ------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(rng: random.Random) -> bytes:
    """A valid 1x1 RGB PNG of a colour drawn from ``rng``."""
    pixel = bytes([0, rng.randrange(256), rng.randrange(256), rng.randrange(256)])  # filter byte + RGB
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(pixel))
        + _png_chunk(b"IEND", b"")
    )


_SAMPLE_RATE = 24_000  # OpenAI's speech output rate


def _silence(samples: int) -> bytes:
    return b"\x00\x00" * samples


def _wav(pcm: bytes) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, _SAMPLE_RATE, _SAMPLE_RATE * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(pcm))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(pcm))
        + pcm
    )


def _mp3_frame() -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo, no CRC: 417-byte frame; zero side info and
    # main data decode as silence.
    return b"\xff\xfb\x90\x64" + bytes(413)


def _flac(samples: int) -> bytes:
    # fLaC + one STREAMINFO block (the last metadata block), stream with no audio frames: 16-bit mono.
    info = struct.pack(">HH", 4096, 4096) + (0).to_bytes(3, "big") * 2
    packed = (
        (_SAMPLE_RATE << 44) | (0 << 41) | (15 << 36) | samples
    )  # rate, channels-1, bits-1, total samples
    info += packed.to_bytes(8, "big") + bytes(16)
    return b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info


def _adts_frame() -> bytes:
    # AAC-LC ADTS header (24 kHz, mono) around an empty raw data block.
    payload = b"\x00\x00"
    length = 7 + len(payload)
    header = bytearray(b"\xff\xf1\x00\x00\x00\x1f\xfc")
    header[2] = (1 << 6) | (6 << 2)  # profile LC, sampling index 6 = 24 kHz
    header[3] = (1 << 6) | (length >> 11)  # channel config 1
    header[4] = (length >> 3) & 0xFF
    header[5] = ((length & 7) << 5) | 0x1F
    return bytes(header) + payload


def _ogg_opus_head() -> bytes:
    # One Ogg page (beginning of stream) carrying an OpusHead packet.
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, _SAMPLE_RATE, 0, 0)
    page = b"OggS\x00\x02" + bytes(8) + struct.pack("<II", 1, 0) + bytes(4) + bytes([1, len(head)]) + head
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def audio_bytes(fmt: str, text: str) -> bytes:
    """Short audio for speech ``response_format`` ``fmt``; its length grows with ``text``."""
    samples = min(_SAMPLE_RATE, 240 * max(1, len(text)))
    if fmt == "wav":
        return _wav(_silence(samples))
    if fmt == "pcm":
        return _silence(samples)
    if fmt == "flac":
        return _flac(samples)
    if fmt == "aac":
        return _adts_frame() * max(1, samples // 1024)
    if fmt == "opus":
        return _ogg_opus_head()
    return _mp3_frame() * max(1, samples // 1152)


def transcript(rng: random.Random) -> str:
    """A short plausible transcript."""
    return _sentences(rng, [], rng.randint(1, 3))
