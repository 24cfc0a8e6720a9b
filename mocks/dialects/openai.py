"""OpenAI (docs/wire.md#openai): chat completions (JSON and data-only SSE ending with ``[DONE]``), embeddings
(floats or base64 float32), images, speech, transcriptions (multipart), models; error bodies and headers.

Streams follow the real API: a role-first chunk, content deltas of a few words, tool-call fragments by
``index`` with ``id``/``type``/``name`` only on the first fragment of each call, a finish chunk with an
empty delta, then (``stream_options.include_usage``) a usage-only chunk with ``"choices": []``, then
``data: [DONE]``; every chunk carries an ``obfuscation`` pad unless ``include_obfuscation`` is false.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
from typing import Any, ClassVar

from mocks.dialects.common import (
    Call,
    Dialect,
    json_fragments,
    route,
    seconds_text,
    status_entry,
    text_pieces,
    tokens_before,
)
from mocks.dialects.rules import EMPTY, refusal
from mocks.faults import ErrorFault, StreamErrorFault
from mocks.framing import Body, Event, SSEFramer
from mocks.generate import (
    Answer,
    Ask,
    Tool,
    ToolCall,
    audio_bytes,
    embedding,
    estimate_tokens,
    png_bytes,
    random_key,
    rng_for,
    transcript,
)
from providers.errors import ProviderError
from providers.sse import OPENAI_DONE, dumps, openai_event
from providers.types.media import SPEECH_CONTENT_TYPES, decode_multipart, encode_base64

# status: (type, code, message) — the bodies the SDK turns into its error classes by status.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model does not exist or you do not have access to it.",
    ),
    409: ("invalid_request_error", None, "Conflict."),
    422: ("invalid_request_error", None, "Unprocessable entity."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}

_EMBEDDING_DIMS = {
    "text-embedding-3-large": 3072,
    "text-embedding-3-small": 1536,
    "text-embedding-ada-002": 1536,
}
_MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "o3-mini",
    "text-embedding-3-small",
    "gpt-image-1",
    "tts-1",
    "whisper-1",
)
_CREATED = 1_760_000_000
_FRAMER = SSEFramer(openai_event)


def _duration(seconds: float) -> str:
    """OpenAI's reset durations: ``12ms``, ``1s``, ``6m0s``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _ratelimit(remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-limit-tokens": "30000000",
        "x-ratelimit-remaining-requests": str(remaining),
        "x-ratelimit-remaining-tokens": str(remaining * 3000),
        "x-ratelimit-reset-requests": _duration(reset),
        "x-ratelimit-reset-tokens": _duration(reset),
    }


_RATELIMIT_OK = _ratelimit(remaining=9999, reset=0.006)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


class OpenAI(Dialect):
    name = "openai"
    base_path = "/v1"
    routes = (
        route("POST", r"/v1/chat/completions", "chat"),
        route("POST", r"/v1/embeddings", "embeddings"),
        route("POST", r"/v1/images/generations", "images"),
        route("POST", r"/v1/audio/speech", "speech"),
        route("POST", r"/v1/audio/transcriptions", "transcriptions"),
        route("GET", r"/v1/models", "models"),
        route("GET", r"/v1/models/(?P<model>[^/]+)", "model"),
    )
    chat_endpoints = frozenset({"chat"})
    obfuscate: ClassVar[bool] = True

    # -- protocol --

    def credential(self, call: Call) -> str | None:
        scheme, _, key = call.headers.get("authorization", "").partition(" ")
        return key.strip() if scheme.lower() == "bearer" else None

    def json_endpoints(self) -> frozenset[str]:
        return super().json_endpoints() - {"transcriptions"}

    def validate(self, call: Call) -> ErrorFault | None:
        """The API's 400 for a body that breaks its rules (mocks/dialects/rules.py), naming the field."""
        refused = refusal(self.name, call.endpoint, call.data)
        if refused is None:
            return None
        name = refused.field
        if refused.problem == EMPTY and isinstance(call.data.get(name), list):
            message = (
                f"Invalid '{name}': empty array. Expected an array with minimum length 1, but got an empty "
                "array instead."
            )
            return ErrorFault(400, message=message, code="empty_array")
        return ErrorFault(
            400, message=f"Missing required parameter: '{name}'.", code="missing_required_parameter"
        )

    def headers(self, call: Call) -> dict[str, str]:
        return {
            "x-request-id": "req_" + secrets.token_hex(16),
            "openai-version": "2020-10-01",
            "openai-organization": "wirecheck-mock",
            "openai-processing-ms": "1",
            **_RATELIMIT_OK,
        }

    # -- errors --

    def error_object(self, status: int, message: str, type_: str | None, code: str | None) -> dict[str, Any]:
        return {"error": {"message": message, "type": type_, "param": None, "code": code}}

    def error(self, call: Call, fault: ErrorFault) -> Body:
        type_, code, message = status_entry(_ERRORS, fault.status)
        obj = self.error_object(
            fault.status, fault.message or message, fault.type or type_, fault.code or code
        )
        body = self.json_body(obj, fault.status)
        if fault.retry_after is not None:
            body.headers["retry-after"] = seconds_text(fault.retry_after)
        if fault.status == 429:
            body.headers.update(_ratelimit(remaining=0, reset=fault.retry_after or 1.0))
        body.headers.update(fault.headers)
        return body

    def auth_error(self, call: Call, missing: bool) -> Body:
        if missing:
            message = (
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return self.error(call, ErrorFault(401, message=message, code=""))
        return self.error(call, ErrorFault(401, message="Incorrect API key provided."))

    def not_found(self, call: Call, detail: str) -> Body:
        return self.error(call, ErrorFault(404, message=detail, code="unknown_url"))

    def stream_error(self, call: Call, fault: StreamErrorFault) -> Event:
        type_, code, message = status_entry(_ERRORS, fault.status)
        return Event(
            data=self.error_object(fault.status, fault.message or message, fault.type or type_, code)
        )

    # -- replies --

    def framer(self, call: Call) -> SSEFramer:
        return _FRAMER

    def trailer(self, call: Call) -> list[Event]:
        return [Event(raw=OPENAI_DONE)]

    def ask(self, call: Call) -> Ask:
        data = call.data
        messages = data.get("messages") or [{}]
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        tools = tuple(
            Tool(t["function"].get("name", ""), t["function"].get("parameters") or {})
            for t in data.get("tools") or []
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        )
        choice, forced = "auto", None
        tc = data.get("tool_choice")
        if tc == "none":
            choice = "none"
        elif tc == "required":
            choice = "any"
        elif isinstance(tc, dict) and isinstance(tc.get("function"), dict):
            choice, forced = "tool", tc["function"].get("name")
        elif isinstance(tc, dict) and (tc.get("allowed_tools") or {}).get("mode") == "required":
            choice = "any"
        effort = data.get("reasoning_effort")
        return Ask(
            last_user_text=_text_of(last.get("content")) if last.get("role") == "user" else "",
            tools=tools,
            tool_choice=choice,
            forced_tool=forced,
            reasoning=bool(effort and effort != "none"),
            max_tokens=data.get("max_completion_tokens") or data.get("max_tokens"),
            prompt_tokens=estimate_tokens(call.prompt_bytes),
            cached_tokens=tokens_before(call.body, b'"prompt_cache_breakpoint"'),
        )

    def _usage(self, answer: Answer) -> dict[str, Any]:
        u = answer.usage
        return {
            "prompt_tokens": u.prompt,
            "completion_tokens": u.completion,
            "total_tokens": u.total,
            "prompt_tokens_details": {"cached_tokens": u.cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": u.reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def _tool_call_id(self, tool_call: ToolCall) -> str:
        return tool_call.id or "call_" + tool_call.key

    def choice_extra(self) -> dict[str, Any]:
        """Fields added to every choice (Azure's content filter results)."""
        return {}

    def response_extra(self) -> dict[str, Any]:
        """Fields added to a whole non-streamed response (Azure's prompt filter results)."""
        return {}

    def stream_prelude(self, call: Call) -> list[dict[str, Any]]:
        """Chunks sent before the first real one (Azure's prompt-filter chunk)."""
        return []

    def render(self, call: Call, answer: Answer) -> Body:
        rng = answer.rng("openai")
        model = str(call.data.get("model") or call.params.get("deployment") or "gpt-4o-mini")
        head = {
            "id": "chatcmpl-" + random_key(rng, 29),
            "object": "chat.completion",
            "created": _CREATED + answer.seed % 10_000_000,
            "model": model,
        }
        if call.data.get("stream") is True:
            return self._render_stream(call, answer, head, rng)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer.text,
            "refusal": None,
            "annotations": [],
        }
        if answer.tool_calls:
            message["tool_calls"] = [
                {
                    "id": self._tool_call_id(tc),
                    "type": "function",
                    "function": {"name": tc.name, "arguments": dumps(tc.arguments)},
                }
                for tc in answer.tool_calls
            ]
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": answer.finish,  # the generator's finish vocabulary is OpenAI's
            **self.choice_extra(),
        }
        obj = {
            **head,
            "choices": [choice],
            "usage": self._usage(answer),
            "service_tier": "default",
            "system_fingerprint": "fp_" + random_key(rng, 10).lower(),
            **self.response_extra(),
        }
        return self.json_body(obj)

    def _render_stream(self, call: Call, answer: Answer, head: dict[str, Any], rng: random.Random) -> Body:
        options = call.data.get("stream_options") or {}
        include_usage = options.get("include_usage") is True
        obfuscate = self.obfuscate and options.get("include_obfuscation") is not False
        base = {**head, "object": "chat.completion.chunk", "service_tier": "default"}
        base["system_fingerprint"] = "fp_" + random_key(rng, 10).lower()
        extra = self.choice_extra()

        def chunk(
            delta: dict[str, Any], reason: str | None = None, choices: list[Any] | None = None
        ) -> dict[str, Any]:
            c = {
                **base,
                "choices": choices
                if choices is not None
                else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason, **extra}],
            }
            if include_usage:
                c["usage"] = None
            if obfuscate:
                c["obfuscation"] = random_key(rng, rng.randint(1, 15))
            return c

        chunks = list(self.stream_prelude(call))
        chunks.append(
            chunk({"role": "assistant", "content": "" if answer.text is not None else None, "refusal": None})
        )
        for piece in text_pieces(answer.text, rng) if answer.text else []:
            chunks.append(chunk({"content": piece}))
        for i, tc in enumerate(answer.tool_calls):
            first = {
                "index": i,
                "id": self._tool_call_id(tc),
                "type": "function",
                "function": {"name": tc.name, "arguments": ""},
            }
            chunks.append(chunk({"tool_calls": [first]}))
            for fragment in json_fragments(dumps(tc.arguments), rng):
                chunks.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]}))
        chunks.append(chunk({}, answer.finish))
        if include_usage:
            last = chunk({}, choices=[])
            last["usage"] = self._usage(answer)
            chunks.append(last)
        return self.stream_events(call, [*chunks, *self.trailer(call)])

    # -- other endpoints --

    def _model(self, call: Call, default: str) -> str:
        return str(call.data.get("model") or call.params.get("deployment") or default)

    def endpoint_embeddings(self, call: Call) -> Body:
        data = call.data
        model = self._model(call, "text-embedding-3-small")
        raw = data.get("input")
        items = (
            [raw]
            if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int))
            else raw
        )
        dims = data.get("dimensions") or _EMBEDDING_DIMS.get(model, 1536)
        as_base64 = data.get("encoding_format") == "base64"
        out = []
        for i, item in enumerate(items):
            vector = embedding(f"{model}:{json.dumps(item)}", int(dims))
            out.append(
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": encode_base64(vector) if as_base64 else vector,
                }
            )
        tokens = sum(len(x) if isinstance(x, list) else estimate_tokens(str(x)) for x in items)
        return self.json_body(
            {
                "object": "list",
                "data": out,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    def endpoint_images(self, call: Call) -> Body:
        data = call.data
        model = self._model(call, "gpt-image-1")
        rng = call.rng(self.name)
        as_url = data.get("response_format") == "url" and not model.startswith("gpt-image")
        images = []
        for _ in range(int(data.get("n") or 1)):
            b64 = base64.b64encode(png_bytes(rng)).decode("ascii")
            images.append({"url": "data:image/png;base64," + b64} if as_url else {"b64_json": b64})
        prompt_tokens = estimate_tokens(str(data.get("prompt", "")))
        obj: dict[str, Any] = {"created": _CREATED + rng.randrange(10_000_000), "data": images}
        if model.startswith("gpt-image"):
            obj.update(
                background="opaque",
                output_format=data.get("output_format") or "png",
                quality=data.get("quality") or "low",
                size=data.get("size") or "1024x1024",
                usage={
                    "input_tokens": prompt_tokens,
                    "input_tokens_details": {"image_tokens": 0, "text_tokens": prompt_tokens},
                    "output_tokens": 272 * len(images),
                    "total_tokens": prompt_tokens + 272 * len(images),
                },
            )
        return self.json_body(obj)

    def endpoint_speech(self, call: Call) -> Body:
        data = call.data
        fmt = data.get("response_format") or "mp3"
        if fmt not in SPEECH_CONTENT_TYPES:
            return self.error(call, ErrorFault(400, message=f"Invalid value for 'response_format': {fmt!r}."))
        audio = audio_bytes(fmt, str(data.get("input", "")))
        if data.get("stream_format") == "sse":
            pieces = [audio[i : i + 4096] for i in range(0, len(audio), 4096)]
            tokens = estimate_tokens(str(data.get("input", "")))
            events = [{"type": "speech.audio.delta", "audio": base64.b64encode(p).decode()} for p in pieces]
            events.append(
                {
                    "type": "speech.audio.done",
                    "usage": {
                        "input_tokens": tokens,
                        "output_tokens": len(pieces),
                        "total_tokens": tokens + len(pieces),
                    },
                }
            )
            return self.stream_events(call, events)
        return Body(payload=audio, content_type=SPEECH_CONTENT_TYPES[fmt])

    def endpoint_transcriptions(self, call: Call) -> Body:
        try:
            fields = {f.name: f for f in decode_multipart(call.body, call.headers.get("content-type", ""))}
        except ProviderError as exc:
            return self.error(call, ErrorFault(400, message=f"Could not parse multipart form: {exc.message}"))
        for name in ("file", "model"):
            if name not in fields:
                return self.error(call, ErrorFault(400, message=f"Missing required parameter: '{name}'."))
        audio = fields["file"].data
        text = transcript(rng_for("transcript", audio))
        fmt = fields["response_format"].text if "response_format" in fields else "json"
        seconds = max(1.0, round(len(audio) / 48_000, 2))
        tokens = estimate_tokens(text)
        if "stream" in fields and fields["stream"].text == "true":
            rng = call.rng(self.name)
            events: list[dict[str, Any]] = [
                {"type": "transcript.text.delta", "delta": p} for p in text_pieces(text, rng)
            ]
            events.append(
                {
                    "type": "transcript.text.done",
                    "text": text,
                    "usage": self._transcription_usage(seconds, tokens),
                }
            )
            return self.stream_events(call, events)
        if fmt == "text":
            return Body(payload=text.encode() + b"\n", content_type="text/plain; charset=utf-8")
        if fmt in ("srt", "vtt"):
            stamp = f"00:00:00,000 --> 00:00:0{min(9, int(seconds)):d},000"
            cue = "1\n" + stamp + "\n" + text + "\n"
            if fmt == "vtt":
                cue = "WEBVTT\n\n" + cue.replace(",", ".", 2)
            return Body(payload=cue.encode(), content_type="text/plain; charset=utf-8")
        if fmt == "verbose_json":
            segment = {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": seconds,
                "text": text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": -0.2,
                "compression_ratio": 1.0,
                "no_speech_prob": 0.01,
            }
            obj = {
                "task": "transcribe",
                "language": "english",
                "duration": seconds,
                "text": text,
                "segments": [segment],
                "usage": {"type": "duration", "seconds": int(seconds + 0.999)},
            }
            return self.json_body(obj)
        return self.json_body({"text": text, "usage": self._transcription_usage(seconds, tokens)})

    @staticmethod
    def _transcription_usage(seconds: float, tokens: int) -> dict[str, Any]:
        audio_tokens = int(seconds * 10)
        return {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
            "output_tokens": tokens,
            "total_tokens": audio_tokens + tokens,
        }

    def _model_info(self, model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": _CREATED, "owned_by": "system"}

    def endpoint_models(self, call: Call) -> Body:
        return self.json_body({"object": "list", "data": [self._model_info(m) for m in _MODELS]})

    def endpoint_model(self, call: Call) -> Body:
        return self.json_body(self._model_info(call.params["model"]))
