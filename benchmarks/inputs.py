"""Realistic inputs of the translation benchmark, in each dialect.

- A request: a 10-message chat (system prompt first) with 2 tools, an assistant tool call and its result.
  Written in OpenAI form; the Anthropic and Gemini forms are what the converters give for it (built once,
  outside any timing, and checked for the same essentials).
- A reply per dialect: text + one tool use + usage, written literally.
- A 36-event stream per dialect: text deltas, one tool call in fragments, finish and usage.
"""

from __future__ import annotations

import json
from typing import Any

from providers.convert import anthropic as anthropic_convert
from providers.convert import gemini as gemini_convert
from providers.convert import openai as openai_convert

MODEL = "gpt-4o"

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["c", "f"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search_flights",
            "description": "Search flights between two airports on a date.",
            "parameters": {
                "type": "object",
                "properties": {
                    "origin": {"type": "string"},
                    "destination": {"type": "string"},
                    "date": {"type": "string", "format": "date"},
                    "passengers": {"type": "integer", "minimum": 1},
                },
                "required": ["origin", "destination", "date"],
            },
        },
    },
]

OPENAI_REQUEST: dict[str, Any] = {
    "model": MODEL,
    "messages": [
        {"role": "system", "content": "You are a concise travel assistant. Use tools when they help."},
        {"role": "user", "content": "I'm planning a trip to Paris next week."},
        {"role": "assistant", "content": "Great choice! Which dates, and where are you flying from?"},
        {"role": "user", "content": "From Berlin, leaving on the 14th. How's the weather there?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_weather_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "c"}'},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_weather_1",
            "content": '{"temperature": 17, "conditions": "light rain", "humidity": 81}',
        },
        {"role": "assistant", "content": "Paris is 17 °C with light rain right now; pack an umbrella."},
        {"role": "user", "content": "Thanks. Can you find flights for two people?"},
        {"role": "assistant", "content": "Sure — on the 14th from Berlin (BER) to Paris (CDG or ORY)?"},
        {"role": "user", "content": "Yes, CDG please, morning if possible."},
    ],
    "tools": TOOLS,
    "tool_choice": "auto",
    "max_tokens": 1024,
    "temperature": 0.7,
}

OPENAI_RESPONSE: dict[str, Any] = {
    "id": "chatcmpl-bench0001",
    "object": "chat.completion",
    "created": 1774962789,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Let me look up morning flights from BER to CDG on the 14th for two passengers.",
                "tool_calls": [
                    {
                        "id": "call_flights_1",
                        "type": "function",
                        "function": {
                            "name": "search_flights",
                            "arguments": '{"origin": "BER", "destination": "CDG", "date": "2026-12-14", "passengers": 2}',
                        },
                    }
                ],
                "refusal": None,
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 412, "completion_tokens": 58, "total_tokens": 470},
    "system_fingerprint": "fp_b6f445fc1c",
}

ANTHROPIC_RESPONSE: dict[str, Any] = {
    "id": "msg_01BenchXyZ",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {
            "type": "text",
            "text": "Let me look up morning flights from BER to CDG on the 14th for two passengers.",
        },
        {
            "type": "tool_use",
            "id": "toolu_01Flights",
            "name": "search_flights",
            "input": {"origin": "BER", "destination": "CDG", "date": "2026-12-14", "passengers": 2},
        },
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 412,
        "output_tokens": 58,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    },
}

GEMINI_RESPONSE: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {
                        "text": "Let me look up morning flights from BER to CDG on the 14th for two passengers."
                    },
                    {
                        "functionCall": {
                            "name": "search_flights",
                            "args": {
                                "origin": "BER",
                                "destination": "CDG",
                                "date": "2026-12-14",
                                "passengers": 2,
                            },
                        }
                    },
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {"promptTokenCount": 412, "candidatesTokenCount": 58, "totalTokenCount": 470},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "bench-resp-0001",
}

RESPONSES = {"openai": OPENAI_RESPONSE, "anthropic": ANTHROPIC_RESPONSE, "gemini": GEMINI_RESPONSE}

_WORDS = [
    "Here",
    "are",
    "the",
    "morning",
    "options",
    "I",
    "found",
    "from",
    "Berlin",
    "to",
    "Paris",
    "Charles",
    "de",
    "Gaulle",
    "on",
    "the",
    "14th",
    "for",
    "two",
    "people:",
    "an",
    "early",
    "direct",
    "flight",
    "and",
    "a",
    "later",
    "one",
    "with",
    "a",
    "short",
    "connection.",
    "Let",
    "me",
    "check",
    "prices",
    "now.",
]
TEXT_DELTAS = [" ".join(_WORDS[i : i + 2]) + " " for i in range(0, len(_WORDS), 2)]  # 18 fragments
ARG_FRAGMENTS = [
    '{"origin": ',
    '"BER", ',
    '"destination": ',
    '"CDG", ',
    '"date": "2026-12-14", ',
    '"passengers": 2}',
]


def openai_stream() -> list[dict[str, Any]]:
    """36 chunks: role, 25 text, tool start, 6 argument fragments, finish, usage."""
    head = {
        "id": "chatcmpl-bench0002",
        "object": "chat.completion.chunk",
        "created": 1774962789,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_b6f445fc1c",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    texts = TEXT_DELTAS + TEXT_DELTAS[:7]
    out = [chunk({"role": "assistant", "content": "", "refusal": None})]
    out += [chunk({"content": t}) for t in texts]
    call = {"index": 0, "id": "call_flights_2", "type": "function"}
    out.append(chunk({"tool_calls": [{**call, "function": {"name": "search_flights", "arguments": ""}}]}))
    out += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}) for f in ARG_FRAGMENTS[:-1]]
    out.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": ARG_FRAGMENTS[-1]}}]}))
    out.append(chunk({}, "tool_calls"))
    out.append(
        {**head, "choices": [], "usage": {"prompt_tokens": 412, "completion_tokens": 58, "total_tokens": 470}}
    )
    assert len(out) == 36, len(out)
    return out


def anthropic_stream() -> list[dict[str, Any]]:
    """36 events: message_start, text block (26 deltas), tool block (6 fragments), message_delta/stop."""
    msg = {
        "id": "msg_01BenchStream",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 412,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    texts = TEXT_DELTAS + TEXT_DELTAS[:4]
    out: list[dict[str, Any]] = [{"type": "message_start", "message": msg}]
    out.append({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    out += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}} for t in texts
    ]
    out.append({"type": "content_block_stop", "index": 0})
    tool = {"type": "tool_use", "id": "toolu_01Flights2", "name": "search_flights", "input": {}}
    out.append({"type": "content_block_start", "index": 1, "content_block": tool})
    out += [
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": f}}
        for f in ARG_FRAGMENTS
    ]
    out.append({"type": "content_block_stop", "index": 1})
    out.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 58},
        }
    )
    out.append({"type": "message_stop"})
    assert len(out) == 36, len(out)
    return out


def gemini_stream() -> list[dict[str, Any]]:
    """36 items: 35 text parts (cumulative usage on each), then a functionCall with finishReason."""
    texts = (TEXT_DELTAS * 2)[:35]
    out = []
    for i, t in enumerate(texts):
        out.append(
            {
                "candidates": [{"content": {"role": "model", "parts": [{"text": t}]}, "index": 0}],
                "usageMetadata": {
                    "promptTokenCount": 412,
                    "candidatesTokenCount": i + 1,
                    "totalTokenCount": 413 + i,
                },
                "modelVersion": "gemini-2.5-flash",
                "responseId": "bench-resp-0002",
            }
        )
    args = json.loads("".join(ARG_FRAGMENTS))
    out.append(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"functionCall": {"name": "search_flights", "args": args}}],
                    },
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {"promptTokenCount": 412, "candidatesTokenCount": 58, "totalTokenCount": 470},
            "modelVersion": "gemini-2.5-flash",
            "responseId": "bench-resp-0002",
        }
    )
    return out


STREAMS = {"openai": openai_stream(), "anthropic": anthropic_stream(), "gemini": gemini_stream()}


def _requests() -> dict[str, dict[str, Any]]:
    r = openai_convert.request_to_ir(OPENAI_REQUEST)
    anthropic = anthropic_convert.request_from_ir(r).to_json()
    r = openai_convert.request_to_ir(OPENAI_REQUEST)
    gemini = gemini_convert.request_from_ir(r).to_json()
    return {"openai": OPENAI_REQUEST, "anthropic": anthropic, "gemini": gemini}


REQUESTS = _requests()
REQUESTS["anthropic"]["model"] = "claude-sonnet-4-5"
