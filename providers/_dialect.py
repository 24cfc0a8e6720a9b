"""What the concrete providers share: per-dialect error reading, SSE → typed item streams, raw SSE
forwarding with truncation detection, and the HTTP plumbing of a provider (docs/contract.md#errors).

One place for each rule, so the four providers cannot drift apart:

- **HTTP error bodies** (docs/wire.md#openai-errors, docs/wire.md#anthropic-errors,
  docs/wire.md#gemini-errors) are read by one ``ErrorParser`` per dialect, handed to the ``Transport``,
  which raises ``ProviderError(kind="upstream")`` with status, the dialect's error type,
  message, ``retry_after`` and the raw body.
- **In-stream errors** (an error sent inside an HTTP 200 stream) become the same ``ProviderError`` raised
  from the stream's iterator, with ``details["in_stream"] = True``. Anthropic's ``event: error`` has no
  status, so it is taken from the error type (the converter's table ``convert.anthropic.ERROR_STATUS``,
  the one place it lives: ``overloaded_error`` → 529, ``rate_limit_error`` → 429, ...); OpenAI's
  ``data: {"error": …}`` gets an integer ``code`` when the server put one there (vLLM does), else the
  status of its type (``OPENAI_ERROR_STATUS``); Gemini's ``{"error": {"code": …}}`` carries its status.
- **Typed streams** decode SSE events into wire models and end at the dialect's terminal marker
  (OpenAI ``data: [DONE]``, Anthropic ``message_stop``; Gemini has none, so its stream ends at EOF and is
  complete only if some item carried a ``finishReason`` or a ``promptFeedback.blockReason``). A stream that
  ends before that is never a silently short answer: the iterator raises ``transport``/``disconnect``.
- **Raw streams** forward the upstream's bytes exactly as they arrive; a lenient SSE decoder watches them on
  the side, and if the upstream closed without its terminal marker (or an in-band error) the iterator
  raises ``transport``/``disconnect`` after the last byte was handed over.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, ClassVar, Protocol, Self

import httpx

from providers.base import Provider
from providers.convert.anthropic import ERROR_STATUS as ANTHROPIC_ERROR_STATUS
from providers.errors import ProviderError
from providers.sse import SSEDecoder, SSEEvent, is_done
from providers.streams import Stream
from providers.transport import ErrorParser, RetryPolicy, Timeouts, Transport

# --- error statuses of in-stream errors (one table per dialect) ---------------------------------------

#: OpenAI error ``type`` or ``code`` → HTTP status (docs/wire.md#openai-errors; OpenAI's 429 bodies use the
#: types ``tokens``/``requests``/``insufficient_quota`` and the code ``rate_limit_exceeded``).
OPENAI_ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "context_length_exceeded": 400,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "model_not_found": 404,
    "conflict_error": 409,
    "unprocessable_entity_error": 422,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "tokens": 429,
    "requests": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "service_unavailable": 503,
}

#: Status of an in-stream error whose type no table knows: the upstream failed after saying 200.
UNKNOWN_IN_STREAM_STATUS = 500


def in_stream_error(status: int, message: str, error_type: str | None, raw: bytes) -> ProviderError:
    """The error an upstream sent inside an HTTP 200 stream, raised from the stream's iterator."""
    error = ProviderError.upstream(status, message, error_type=error_type, body=raw)
    error.details["in_stream"] = True
    return error


# --- HTTP error bodies (ErrorParser per dialect) ------------------------------------------------------


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _text(body: bytes, status: int) -> str:
    return body[:500].decode("utf-8", "replace").strip() or f"HTTP {status}"


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def openai_error_parser(status: int, body: bytes) -> tuple[str | None, str]:
    """``{"error": {"message", "type", "param", "code"}}``; the error type is ``type``, or ``code`` when
    ``type`` is null (Azure's content filter: ``type: null, code: "content_filter"``). Also reads what
    compatible servers send: ``{"error": "text"}`` and vLLM's flat ``{"object": "error", "message", "type"}``."""
    data = _load(body)
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            kind = error.get("type") or error.get("code")
            return _str_or_none(kind), str(error.get("message") or f"HTTP {status}")
        if isinstance(error, str):
            return None, error
        if isinstance(data.get("message"), str):
            return _str_or_none(data.get("type") or data.get("code")), data["message"]
    return None, _text(body, status)


def anthropic_error_parser(status: int, body: bytes) -> tuple[str | None, str]:
    """``{"type": "error", "error": {"type", "message"}, "request_id"}``."""
    data = _load(body)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        return _str_or_none(error.get("type")), str(error.get("message") or f"HTTP {status}")
    return None, _text(body, status)


def gemini_error_parser(status: int, body: bytes) -> tuple[str | None, str, float | None]:
    """``{"error": {"code", "message", "status", "details"}}``; the error type is the google.rpc code name
    (``RESOURCE_EXHAUSTED``), and a ``google.rpc.RetryInfo`` detail's ``retryDelay`` ("36s") is the wait
    Gemini asks for on 429, since it sends no Retry-After header (docs/wire.md#gemini-errors). Also the
    streamed-array form ``[{"error": {…}}]``."""
    data = _load(body)
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        message = str(error.get("message") or f"HTTP {status}")
        return _str_or_none(error.get("status")), message, _retry_delay(error.get("details"))
    return None, _text(body, status), None


def _retry_delay(details: Any) -> float | None:
    """Seconds of the first ``google.rpc.RetryInfo`` detail (a protobuf Duration in JSON: ``"1.5s"``)."""
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = detail.get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    return max(0.0, float(delay[:-1]))
                except ValueError:
                    return None
    return None


# --- SSE → typed items ------------------------------------------------------------------------------


class EventReader(Protocol):
    """Turns one dialect's SSE events into wire items; raises for in-stream errors."""

    #: The terminal marker was seen: stop reading (OpenAI, Anthropic).
    stop: bool
    #: The stream is complete if it ends now.
    complete: bool
    #: What the dialect's terminal marker is, for the truncation error.
    terminal: ClassVar[str]

    def read(self, event: SSEEvent) -> list[Any]: ...


# Keys, not values: in JSON only a key is followed by a colon, and quotes inside strings are escaped.
_ERROR_KEY = re.compile(r'"error"\s*:\s*[{"]')


def _maybe_error(data: str) -> dict[str, Any] | None:
    """The parsed object when ``data`` is an error object (a truthy top-level ``error`` key), else None.
    The key test keeps ordinary items on the fast path (parsed once, by the wire model)."""
    if _ERROR_KEY.search(data) is None:
        return None
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and obj.get("error") else None


class OpenAIEvents:
    """``data: {chunk}`` items until ``data: [DONE]``; ``data: {"error": …}`` raises (the openai SDK raises
    ``APIError`` there too); ``event:`` names are ignored as the SDK ignores them."""

    terminal = "data: [DONE]"

    def __init__(self, item_type: type) -> None:
        self.item_type = item_type
        self.stop = self.complete = False

    def read(self, event: SSEEvent) -> list[Any]:
        if is_done(event):
            self.stop = self.complete = True
            return []
        data = event.data
        if not data.strip():
            return []
        error = _maybe_error(data)
        if error is not None:
            raise openai_stream_error(error, data)
        return [self.item_type.parse(data.encode())]


def openai_stream_error(obj: dict[str, Any], data: str) -> ProviderError:
    error = obj["error"]
    if not isinstance(error, dict):
        return in_stream_error(UNKNOWN_IN_STREAM_STATUS, str(error), None, data.encode())
    code, kind = error.get("code"), error.get("type")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        status = code
    else:
        status = OPENAI_ERROR_STATUS.get(
            str(kind), OPENAI_ERROR_STATUS.get(str(code), UNKNOWN_IN_STREAM_STATUS)
        )
    message = error.get("message") if isinstance(error.get("message"), str) else "error in stream"
    return in_stream_error(status, message, _str_or_none(kind or code), data.encode())


class AnthropicEvents:
    """Every event the upstream sent (``ping`` included, so typed and raw agree) until ``message_stop``;
    ``error`` raises with the status of its error type."""

    terminal = "event: message_stop"

    def __init__(self, parse: Callable[[bytes], Any]) -> None:
        self.parse = parse
        self.stop = self.complete = False

    def read(self, event: SSEEvent) -> list[Any]:
        data = event.data
        if not data.strip():
            return []
        item = self.parse(data.encode())
        kind = item.type
        if kind == "error":
            error = item.error
            status = ANTHROPIC_ERROR_STATUS.get(error.type, UNKNOWN_IN_STREAM_STATUS)
            raise in_stream_error(status, error.message, error.type, data.encode())
        if kind == "message_stop":
            self.stop = self.complete = True
        return [item]


class GeminiEvents:
    """Every ``data:`` item, each a full ``GenerateContentResponse``, until the upstream closes. Gemini sends
    no terminal marker: the stream is complete once an item carried a ``finishReason`` (or the prompt was
    blocked: ``promptFeedback.blockReason``, docs/wire.md#gemini-response). An ``{"error": …}`` item
    raises."""

    terminal = "a candidate with finishReason"

    def __init__(self, parse: Callable[[bytes], Any]) -> None:
        self.parse = parse
        self.stop = self.complete = False

    def read(self, event: SSEEvent) -> list[Any]:
        data = event.data
        if not data.strip():
            return []
        item = self.parse(data.encode())
        error = getattr(item, "error", None)
        if error is not None and getattr(item, "candidates", None) is None:
            raise gemini_stream_error(error, data)
        if not self.complete and _gemini_finished(item):
            self.complete = True
        return [item]


def _gemini_finished(item: Any) -> bool:
    if any(c.finish_reason for c in item.candidates or ()):
        return True
    return bool(item.prompt_feedback is not None and item.prompt_feedback.block_reason)


def gemini_stream_error(error: Any, data: str) -> ProviderError:
    """``{"error": {"code", "message", "status"}}`` sent as a stream item (the ``ErrorDetail`` model)."""
    code = error.code
    status = code if isinstance(code, int) and 400 <= code <= 599 else UNKNOWN_IN_STREAM_STATUS
    return in_stream_error(status, error.message or "error in stream", error.status, data.encode())


def sse_items(body: Stream[bytes], reader: EventReader) -> Stream[Any]:
    """The typed item stream of an SSE body. Closing it closes the body (and the connection)."""

    async def run() -> AsyncIterator[Any]:
        decoder = SSEDecoder()
        events = 0
        head = b""
        async for chunk in body:
            if not events and len(head) < 512:
                head += chunk[:512]
            for event in decoder.feed(chunk):
                events += 1
                for item in reader.read(event):
                    yield item
                if reader.stop:
                    return
        for event in decoder.close():
            events += 1
            for item in reader.read(event):
                yield item
            if reader.stop:
                return
        if not reader.complete:
            raise _truncated(reader.terminal, events, head)

    return Stream(run(), on_close=body.aclose)


def _truncated(terminal: str, events: int, head: bytes) -> ProviderError:
    if events == 0 and head.strip():
        return ProviderError.decode("the upstream answered 200 but its body is not an SSE stream", raw=head)
    return ProviderError.transport(
        "disconnect", f"stream ended after {events} events without {terminal} (truncated)"
    )


# --- raw SSE: bytes as they arrive, truncation still reported ----------------------------------------


_ANTHROPIC_END = re.compile(r'"type"\s*:\s*"(?:message_stop|error)"')
_GEMINI_END = re.compile(r'"(?:finishReason|finish_reason|blockReason|block_reason)"\s*:\s*"')


def _openai_terminal(event: SSEEvent) -> bool:
    return is_done(event) or _ERROR_KEY.search(event.data) is not None


def _anthropic_terminal(event: SSEEvent) -> bool:
    if event.event is not None:
        return event.event in ("message_stop", "error")
    return _ANTHROPIC_END.search(event.data) is not None


def _gemini_terminal(event: SSEEvent) -> bool:
    data = event.data
    return _GEMINI_END.search(data) is not None or _ERROR_KEY.search(data) is not None


#: Per dialect: does this event end the stream properly (its terminal marker, or an in-band error the
#: client will see)? Cheap tests on the event text: the raw path never parses JSON.
RAW_TERMINALS: dict[str, tuple[Callable[[SSEEvent], bool], str]] = {
    "openai": (_openai_terminal, OpenAIEvents.terminal),
    "anthropic": (_anthropic_terminal, AnthropicEvents.terminal),
    "gemini": (_gemini_terminal, GeminiEvents.terminal),
}


def raw_sse(body: Stream[bytes], dialect: str) -> Stream[bytes]:
    """``body``'s bytes, unchanged and as they arrive; raises ``transport``/``disconnect`` after the last
    byte if the upstream closed without the dialect's terminal marker."""
    is_terminal, terminal = RAW_TERMINALS[dialect]

    async def run() -> AsyncIterator[bytes]:
        decoder = SSEDecoder(errors="replace")
        seen = False
        events = 0
        head = b""
        async for chunk in body:
            if not seen:
                if not events and len(head) < 512:
                    head += chunk[:512]
                for event in decoder.feed(chunk):
                    events += 1
                    seen = seen or is_terminal(event)
            yield chunk
        if not seen:
            for event in decoder.close():
                events += 1
                seen = seen or is_terminal(event)
        if not seen:
            raise _truncated(terminal, events, head)

    return Stream(run(), on_close=body.aclose)


# --- JSON helpers -------------------------------------------------------------------------------------

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dump(obj: Any) -> bytes:
    """Compact JSON bytes, UTF-8 kept (what ``Wire.to_bytes`` writes)."""
    return _dumps(obj).encode("utf-8")


def body_for(request: Any, *, stream: bool, stream_options: bool = False) -> bytes:
    """The request's JSON with its ``stream`` flag set for the method called: a streaming method sends
    ``"stream": true``; a non-streaming one sends the body as given unless it asked to stream, in which
    case ``stream`` becomes false (and OpenAI's ``stream_options``, refused without streaming, is dropped
    when ``stream_options`` says the dialect has it)."""
    current = getattr(request, "stream", None)
    if (current is True) == stream:
        return request.to_bytes()
    body = request.to_json()
    body["stream"] = stream
    if not stream and stream_options:
        body.pop("stream_options", None)
    return dump(body)


def retarget(raw_body: bytes, model: str | None, method: str) -> tuple[bytes, str | None]:
    """A caller's raw JSON body aimed at ``model``: the bytes unchanged when ``model`` is empty or already
    the body's, else the body with only its ``model`` field rewritten. Returns the bytes and the model the
    request is for. A body that is not a JSON object is the caller's fault (``invalid_request``)."""
    try:
        obj = json.loads(raw_body)
    except ValueError as exc:
        raise ProviderError.invalid_request(f"{method}: request body is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProviderError.invalid_request(
            f"{method}: request body is a JSON {type(obj).__name__}, not an object"
        )
    current = obj.get("model")
    if not model or model == current:
        return raw_body, current if isinstance(current, str) else None
    obj["model"] = model
    return dump(obj), model


def merge_headers(*parts: Mapping[str, str] | None) -> dict[str, str]:
    """Headers merged left to right with case-insensitive names (later wins), names lower-cased."""
    out: dict[str, str] = {}
    for part in parts:
        for key, value in (part or {}).items():
            out[key.lower()] = value
    return out


JSON_HEADERS = {"content-type": "application/json"}


# --- the HTTP provider base ---------------------------------------------------------------------------


class HTTPProvider(Provider):
    """A provider talking to one upstream over ``Transport``: owns the transport (closed by ``aclose()``
    or ``async with``) and the request helpers the concrete providers share. Not registered itself."""

    #: Dialect of the upstream's own wire format: ``"openai"``, ``"anthropic"`` or ``"gemini"``.
    dialect: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        error_parser: ErrorParser,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        extra = {"sleep": sleep} if sleep is not None else {}
        self.transport = Transport(
            base_url,
            headers=headers,
            params=params,
            timeouts=timeouts,
            retry=retry,
            error_parser=error_parser,
            client=client,
            **extra,
        )

    async def aclose(self) -> None:
        """Release the HTTP client (when the provider created it)."""
        await self.transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # Every call below is a POST; ``idempotent`` is False only for a consumed (passthrough) body.

    async def post(
        self,
        path: str,
        content: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return await self.transport.request(
            "POST", path, content=content, headers=headers or JSON_HEADERS, params=params, idempotent=True
        )

    async def post_model(self, path: str, content: bytes, model_type: type, **kwargs: Any) -> Any:
        """POST and validate the JSON reply into ``model_type`` (a decode error names the field)."""
        return model_type.parse((await self.post(path, content, **kwargs)).content)

    async def open_stream(
        self,
        path: str,
        content: bytes | AsyncIterator[bytes],
        *,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Stream[bytes]:
        return await self.transport.stream(
            "POST", path, content=content, headers=JSON_HEADERS, params=params, idempotent=idempotent
        )

    async def open_sse(
        self, path: str, content: bytes, reader: EventReader, *, params: Mapping[str, str] | None = None
    ) -> Stream[Any]:
        return sse_items(await self.open_stream(path, content, params=params), reader)

    async def open_raw_sse(
        self,
        path: str,
        content: bytes | AsyncIterator[bytes],
        *,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Stream[bytes]:
        body = await self.open_stream(path, content, params=params, idempotent=idempotent)
        return raw_sse(body, self.dialect)
