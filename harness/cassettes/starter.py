"""The synthetic starter set in ``cassettes/``: recorded from our own mock server through the recorder.

No real upstream is reachable from here, so the starter cassettes are *synthetic* (``source: synthetic``):
for each one a mocks script plays the upstream (``STARTERS``: OpenAI, Azure, Anthropic, Gemini; chat,
streams with tool calls, thinking, embeddings, images, speech, transcription, errors), and a client sends
the listed requests through ``serve_recorder`` to it. Recording is real (loopback sockets, the proxy, the
scrubber), and two things are then made deterministic so that the files can be regenerated exactly:

- the chunks and their timing are taken from the script's schedule (the frames the mock engine sends and
  their delays), after checking that the recorded bytes are exactly those frames joined: how the kernel
  happened to group the frames into reads does not leak into the files;
- ``recorded_at`` is ``RECORDED_AT``, ``host`` is left out (it was a random loopback port), and the
  headers that the mock randomises per reply (request ids, rate-limit reset times) are fixed in the scripts.

``python -m harness.cassettes.starter [DIR]`` rewrites the set (default ``cassettes/``); a test checks that
the committed files equal what this produces, so they are regenerated, never hand-edited silently.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import trio

from harness.cassettes import index as ix
from harness.cassettes.format import Cassette, Chunk, Interaction, dump_text, save, to_data
from harness.cassettes.record import Recorder, serve_recorder
from mocks.engine import MockUpstream
from mocks.engine import Request as MockRequest
from mocks.server import serve
from providers.types.media import MultipartField, encode_multipart

__all__ = ["RECORDED_AT", "STARTERS", "Call", "Starter", "generate", "main", "render"]

RECORDED_AT = "2026-01-01T00:00:00Z"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "cassettes"

CLIENT_HEADERS = {
    "accept": "application/json",
    "accept-encoding": "identity",
    "user-agent": "wirecheck-starter/1",
}


@dataclass(frozen=True)
class Call:
    """One request of a starter: ``json`` (sent compact) or raw ``body`` with its ``content_type``."""

    method: str
    path: str
    json: Any = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None

    def content(self) -> tuple[bytes, dict[str, str]]:
        import json

        headers = dict(self.headers)
        if self.body is not None:
            headers["content-type"] = self.content_type or "application/octet-stream"
            return self.body, headers
        if self.json is None:
            return b"", headers
        headers["content-type"] = "application/json"
        return json.dumps(self.json, ensure_ascii=False, separators=(",", ":")).encode(), headers

    @property
    def target(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")


@dataclass(frozen=True)
class Starter:
    name: str
    description: str
    script: dict[str, Any]
    calls: tuple[Call, ...]


# --- fixed reply headers (the mock randomises these per reply) --------------------------------------------

OPENAI_FIXED = {"x-request-id": "req_5f3c0a1e9b2d4c6e8a0b1c2d3e4f5a6b"}
AZURE_FIXED = {
    "apim-request-id": "0c4a1f36-2f9a-4b7e-9d55-0e8b2c1d3f40",
    "x-request-id": "0c4a1f36-2f9a-4b7e-9d55-0e8b2c1d3f40",
}
ANTHROPIC_FIXED = {
    "request-id": "req_011CStarterRequest0001",
    "anthropic-organization-id": "00000000-0000-4000-8000-000000000001",
    **{
        f"anthropic-ratelimit-{f}-reset": "2026-01-01T00:00:01Z"
        for f in ("requests", "tokens", "input-tokens", "output-tokens")
    },
}

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
    "required": ["city"],
}
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "Current weather", "parameters": WEATHER_SCHEMA},
    }
]
ANTHROPIC_TOOLS = [{"name": "get_weather", "description": "Current weather", "input_schema": WEATHER_SCHEMA}]
GEMINI_TOOLS = [
    {
        "functionDeclarations": [
            {"name": "get_weather", "description": "Current weather", "parameters": WEATHER_SCHEMA}
        ]
    }
]
QUESTION = "What is the weather in Paris? Answer briefly, then check."
TOOL_ANSWER = {
    "text": "Let me check the current weather in Paris for you.",
    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}],
    "usage": {"prompt": 84, "completion": 31},
}

OPENAI_CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}], "tools": OPENAI_TOOLS}
ANTHROPIC_MESSAGES = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 2048,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "tools": ANTHROPIC_TOOLS,
    "messages": [{"role": "user", "content": QUESTION}],
}
GEMINI_REQUEST = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}], "tools": GEMINI_TOOLS}
ANTHROPIC_HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"authorization": "Bearer sk-test"}


def _transcription_form() -> tuple[bytes, str]:
    audio = b"RIFF" + (36 + 3200).to_bytes(4, "little") + b"WAVEfmt " + bytes(16) + b"data" + bytes(3204)
    fields = [
        MultipartField("file", audio, filename="hello.wav", content_type="audio/wav"),
        MultipartField("model", b"whisper-1"),
        MultipartField("response_format", b"json"),
    ]
    return encode_multipart(fields, boundary="wirecheck-starter-boundary")


_FORM, _FORM_TYPE = _transcription_form()

STARTERS: tuple[Starter, ...] = (
    Starter(
        "openai-chat",
        "OpenAI Chat Completions: the same question answered without and with streaming (text, then a "
        "get_weather tool call; the stream cut into network chunks mid-event, usage chunk requested).",
        {
            "seed": 11,
            "rules": [
                {
                    "match": {"path": "/v1/chat/completions"},
                    "reply": {
                        "answer": TOOL_ANSWER,
                        "event_delay_ms": 18,
                        "delay_ms": 240,
                        "headers": OPENAI_FIXED,
                        "chunks": [150, 250],
                    },
                }
            ],
        },
        (
            Call("POST", "/v1/chat/completions", OPENAI_CHAT, headers=OPENAI_HEADERS),
            Call(
                "POST",
                "/v1/chat/completions",
                {**OPENAI_CHAT, "stream": True, "stream_options": {"include_usage": True}},
                headers=OPENAI_HEADERS,
            ),
        ),
    ),
    Starter(
        "azure-chat",
        "Azure OpenAI chat completions on a deployment (api-version in the query), without and with streaming.",
        {
            "seed": 12,
            "rules": [
                {
                    "match": {"path": "/openai/deployments/gpt-4o-prod/chat/completions"},
                    "reply": {
                        "answer": {
                            "text": "It is 18 °C and sunny in Paris.",
                            "usage": {"prompt": 21, "completion": 12},
                        },
                        "event_delay_ms": 22,
                        "delay_ms": 310,
                        "headers": AZURE_FIXED,
                    },
                }
            ],
        },
        (
            Call(
                "POST",
                "/openai/deployments/gpt-4o-prod/chat/completions",
                {"model": "gpt-4o", "messages": [{"role": "user", "content": "Weather in Paris?"}]},
                query={"api-version": "2024-10-21"},
                headers={"api-key": "azure-test-key"},
            ),
            Call(
                "POST",
                "/openai/deployments/gpt-4o-prod/chat/completions",
                {
                    "model": "gpt-4o",
                    "messages": [{"role": "user", "content": "Weather in Paris?"}],
                    "stream": True,
                },
                query={"api-version": "2024-10-21"},
                headers={"api-key": "azure-test-key"},
            ),
        ),
    ),
    Starter(
        "anthropic-messages",
        "Anthropic Messages with extended thinking and tool use, without and with streaming.",
        {
            "seed": 13,
            "rules": [
                {
                    "match": {"path": "/v1/messages"},
                    "reply": {
                        "answer": {
                            "thinking": "The user wants the weather in Paris. I should call get_weather.",
                            "signature": "EqQBCkYIBxgCKkDwn3Yy0bSg2rJ8m5xTn4Hq7Zc1VtQv0Lr2uJk8Ws9Fe6Dp3Nh1Ab5Cd7Ef9Gh2Ij4Kl6Mn8Op0Qr==",
                            **TOOL_ANSWER,
                        },
                        "event_delay_ms": 15,
                        "delay_ms": 420,
                        "headers": ANTHROPIC_FIXED,
                    },
                }
            ],
        },
        (
            Call("POST", "/v1/messages", ANTHROPIC_MESSAGES, headers=ANTHROPIC_HEADERS),
            Call("POST", "/v1/messages", {**ANTHROPIC_MESSAGES, "stream": True}, headers=ANTHROPIC_HEADERS),
        ),
    ),
    Starter(
        "gemini-generate",
        "Gemini generateContent and streamGenerateContent (alt=sse) answering with text and a function call.",
        {
            "seed": 14,
            "rules": [
                {
                    "match": {"path": "/v1beta/models/{model}:*"},
                    "reply": {"answer": TOOL_ANSWER, "event_delay_ms": 30, "delay_ms": 380},
                }
            ],
        },
        (
            Call(
                "POST",
                "/v1beta/models/gemini-2.5-flash:generateContent",
                GEMINI_REQUEST,
                headers={"x-goog-api-key": "g-test"},
            ),
            Call(
                "POST",
                "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
                GEMINI_REQUEST,
                query={"alt": "sse"},
                headers={"x-goog-api-key": "g-test"},
            ),
        ),
    ),
    Starter(
        "openai-embeddings",
        "OpenAI embeddings with encoding_format base64 (float32 vectors as base64).",
        {
            "seed": 15,
            "rules": [
                {"match": {"path": "/v1/embeddings"}, "reply": {"delay_ms": 90, "headers": OPENAI_FIXED}}
            ],
        },
        (
            Call(
                "POST",
                "/v1/embeddings",
                {
                    "model": "text-embedding-3-small",
                    "input": ["hello", "world"],
                    "encoding_format": "base64",
                    "dimensions": 16,
                },
                headers=OPENAI_HEADERS,
            ),
        ),
    ),
    Starter(
        "openai-images",
        "OpenAI image generation (gpt-image-1, b64_json).",
        {
            "seed": 16,
            "rules": [
                {
                    "match": {"path": "/v1/images/generations"},
                    "reply": {"delay_ms": 900, "headers": OPENAI_FIXED},
                }
            ],
        },
        (
            Call(
                "POST",
                "/v1/images/generations",
                {
                    "model": "gpt-image-1",
                    "prompt": "A watercolor of the Eiffel Tower in the rain",
                    "size": "1024x1024",
                },
                headers=OPENAI_HEADERS,
            ),
        ),
    ),
    Starter(
        "openai-speech",
        "OpenAI text-to-speech: binary audio (stored as base64).",
        {
            "seed": 17,
            "rules": [
                {"match": {"path": "/v1/audio/speech"}, "reply": {"delay_ms": 150, "headers": OPENAI_FIXED}}
            ],
        },
        (
            Call(
                "POST",
                "/v1/audio/speech",
                {"model": "tts-1", "input": "Hi.", "voice": "alloy", "response_format": "wav"},
                headers=OPENAI_HEADERS,
            ),
        ),
    ),
    Starter(
        "openai-transcription",
        "OpenAI transcription: a multipart/form-data upload answered with JSON.",
        {
            "seed": 18,
            "rules": [
                {
                    "match": {"path": "/v1/audio/transcriptions"},
                    "reply": {"delay_ms": 200, "headers": OPENAI_FIXED},
                }
            ],
        },
        (
            Call(
                "POST",
                "/v1/audio/transcriptions",
                body=_FORM,
                content_type=_FORM_TYPE,
                headers=OPENAI_HEADERS,
            ),
        ),
    ),
    Starter(
        "errors",
        "Upstream errors: 429 with retry-after from OpenAI, Anthropic and Gemini, and two mid-stream errors "
        "after HTTP 200 (Anthropic overloaded_error event, OpenAI error chunk).",
        {
            "seed": 19,
            "rules": [
                {
                    "name": "openai-429",
                    "match": {"path": "/v1/chat/completions", "json": {"stream": None}},
                    "fault": {"error": {"status": 429, "retry_after": 7, "headers": OPENAI_FIXED}},
                },
                {
                    "name": "openai-midstream",
                    "match": {"path": "/v1/chat/completions", "json": {"stream": True}},
                    "reply": {
                        "headers": OPENAI_FIXED,
                        "delay_ms": 200,
                        "events": [
                            {
                                "data": {
                                    "id": "chatcmpl-err1",
                                    "object": "chat.completion.chunk",
                                    "created": 1767225600,
                                    "model": "gpt-4o",
                                    "choices": [
                                        {
                                            "index": 0,
                                            "delta": {"role": "assistant", "content": ""},
                                            "finish_reason": None,
                                        }
                                    ],
                                }
                            },
                            {
                                "data": {
                                    "id": "chatcmpl-err1",
                                    "object": "chat.completion.chunk",
                                    "created": 1767225600,
                                    "model": "gpt-4o",
                                    "choices": [
                                        {
                                            "index": 0,
                                            "delta": {"content": "The weather"},
                                            "finish_reason": None,
                                        }
                                    ],
                                },
                                "delay_ms": 40,
                            },
                            {
                                "data": {
                                    "error": {
                                        "message": "The server had an error while processing your request.",
                                        "type": "server_error",
                                        "param": None,
                                        "code": None,
                                    }
                                },
                                "delay_ms": 60,
                            },
                        ],
                        "done": False,
                    },
                },
                {
                    "name": "anthropic-429",
                    "match": {"path": "/v1/messages", "json": {"stream": None}},
                    "reply": {
                        "status": 429,
                        "headers": {**ANTHROPIC_FIXED, "retry-after": "12", "x-should-retry": "true"},
                        "json": {
                            "type": "error",
                            "error": {
                                "type": "rate_limit_error",
                                "message": "Number of request tokens has exceeded your per-minute rate limit.",
                            },
                            "request_id": "req_011CStarterRateLimit01",
                        },
                    },
                },
                {
                    "name": "anthropic-midstream",
                    "match": {"path": "/v1/messages", "json": {"stream": True}},
                    "reply": {
                        "answer": {
                            "text": "Paris is currently mild and cloudy with light wind.",
                            "usage": {"prompt": 20, "completion": 14},
                        },
                        "event_delay_ms": 25,
                        "headers": ANTHROPIC_FIXED,
                    },
                    "fault": {"stream_error": {"after_events": 4, "status": 529}},
                },
                {
                    "name": "gemini-429",
                    "match": {"path": "/v1beta/models/{model}:generateContent"},
                    "fault": {"error": {"status": 429, "retry_after": 36}},
                },
            ],
        },
        (
            Call(
                "POST",
                "/v1/chat/completions",
                {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
                headers=OPENAI_HEADERS,
            ),
            Call(
                "POST",
                "/v1/chat/completions",
                {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True},
                headers=OPENAI_HEADERS,
            ),
            Call(
                "POST",
                "/v1/messages",
                {
                    "model": "claude-sonnet-4-5",
                    "max_tokens": 256,
                    "messages": [{"role": "user", "content": "hi"}],
                },
                headers=ANTHROPIC_HEADERS,
            ),
            Call(
                "POST",
                "/v1/messages",
                {
                    "model": "claude-sonnet-4-5",
                    "max_tokens": 256,
                    "messages": [{"role": "user", "content": "Weather in Paris?"}],
                    "stream": True,
                },
                headers=ANTHROPIC_HEADERS,
            ),
            Call(
                "POST",
                "/v1beta/models/gemini-2.5-flash:generateContent",
                {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
                headers={"x-goog-api-key": "g-test"},
            ),
        ),
    ),
)


# --- recording --------------------------------------------------------------------------------------------


def _without_delays(script: dict[str, Any]) -> dict[str, Any]:
    """The script with its waits taken out (``delay_ms``, ``event_delay_ms``), for a quick recording pass."""
    rules = []
    for rule in script.get("rules", []):
        reply = {k: v for k, v in rule.get("reply", {}).items() if k not in ("delay_ms", "event_delay_ms")}
        if "events" in reply:
            reply["events"] = [{k: v for k, v in e.items() if k != "delay_ms"} for e in reply["events"]]
        rules.append({**rule, "reply": reply})
    return {**script, "rules": rules}


async def record(starter: Starter, *, realtime: bool = False) -> Cassette:
    """Record ``starter`` through the recorder from a mock serving its script; deterministic (module doc).
    ``realtime``: the mock waits as scripted while recording (the files are the same either way, since
    the timing written is the script's schedule)."""
    upstream = MockUpstream(starter.script if realtime else _without_delays(starter.script))
    async with trio.open_nursery() as nursery:
        hosted = await nursery.start(serve, upstream)
        recorder: Recorder = await nursery.start(
            functools.partial(serve_recorder, hosted.url, None, save_on_exit=False)
        )
        async with httpx.AsyncClient(base_url=recorder.url, headers=CLIENT_HEADERS, timeout=30) as client:
            for call in starter.calls:
                content, headers = call.content()
                async with client.stream(
                    call.method, call.target, content=content, headers=headers
                ) as response:
                    async for _ in response.aiter_raw():
                        pass
        nursery.cancel_scope.cancel()
    cassette = recorder.cassette()
    cassette.name = starter.name
    cassette.description = starter.description
    cassette.meta = {
        "upstream": "the wirecheck mock (mocks/), serving the script in harness/cassettes/starter.py",
        "generator": "python -m harness.cassettes.starter",
    }
    for call, it in zip(starter.calls, cassette.interactions, strict=True):
        _normalise(starter, call, it)
    return cassette


def _normalise(starter: Starter, call: Call, it: Interaction) -> None:
    """Timing and chunking from the script's schedule; fixed time and no host (see the module doc)."""
    content, headers = call.content()
    reply = MockUpstream(starter.script).handle(
        MockRequest(call.method, call.target, [*CLIENT_HEADERS.items(), *headers.items()], content)
    )
    sent = b"".join(f.data for f in reply.frames)
    if sent != it.response.body:
        raise AssertionError(
            f"{starter.name}: the recorder did not record the bytes the mock sent for {call.target}"
        )
    head = reply.head_delay * 1000.0
    it.response.t_ms = head
    if it.response.chunks is not None:
        chunks, at = [], head
        for frame in reply.frames:
            at += frame.delay * 1000.0
            if frame.data:
                chunks.append(Chunk(round(at, 3), frame.data))
        it.response.chunks = chunks
    it.source = "synthetic"
    it.recorded_at = RECORDED_AT
    it.host = None
    it.index = ix.derive(it)


def generate() -> list[Cassette]:
    """Every starter cassette, freshly recorded."""

    async def main() -> list[Cassette]:
        return [await record(s) for s in STARTERS]

    return trio.run(main)


def render(cassettes: list[Cassette]) -> dict[str, str]:
    """File name -> file text, as ``write`` would write them."""
    return {f"{c.name}.yaml": dump_text(to_data(c)) for c in cassettes}


def write(folder: Path = DEFAULT_DIR) -> list[Path]:
    return [save(c, folder / f"{c.name}.yaml") for c in generate()]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else DEFAULT_DIR
    for path in write(folder):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
