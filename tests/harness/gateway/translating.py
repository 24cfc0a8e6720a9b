"""A small translating gateway for the tests (tests only), built on ``providers.translate``: an OpenAI front
door (``POST /v1/chat/completions``) and an Anthropic one (``POST /v1/messages``), each routing to an
upstream of another dialect chosen by the model alias's prefix (``ROUTES``): OpenAI clients → Anthropic,
Anthropic clients → OpenAI or Gemini. Requests, replies, upstream errors and streams are translated; the
upstream's SSE is read with ``providers.sse.SSEDecoder`` (every legal line end).

Without a defect it is correct. ``defect`` makes it break one thing, each a few lines, each something real
gateways have shipped (``DEFECTS``):

- ``crlf_only``: its SSE parser splits events only on ``\\n\\n``, so CRLF or CR line ends are never parsed;
- ``copies_optional``: the Anthropic reply's required ``id`` / ``model`` are copied from Gemini's optional
  ``responseId`` / ``modelVersion``, without a fallback;
- ``drops_max_tokens``: drops ``max_tokens`` when translating to Anthropic (which requires it);
- ``role_null``: writes ``delta.role: null`` on every OpenAI chunk it emits;
- ``no_done``: never sends ``data: [DONE]``;
- ``retries_after_stream``: sends the upstream request again when a 200 stream it had started forwarding
  broke (a cut or an in-stream error);
- ``swallows_stream_error``: turns an upstream in-stream error into a clean end (``finish_reason: stop`` +
  ``[DONE]``, or ``message_delta`` + ``message_stop``).

``GET /health`` answers 200. Run in-process with ``serve``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import h11
import httpx
import trio

from providers import translate
from providers.errors import ProviderError
from providers.sse import SSEDecoder, anthropic_event, is_done, openai_event
from tests.harness.gateway.http11 import connection, read_request, send, serve_loopback, whole_reply

DEFECTS = (
    "crlf_only",
    "copies_optional",
    "drops_max_tokens",
    "role_null",
    "no_done",
    "retries_after_stream",
    "swallows_stream_error",
)
#: front door path → the client dialect.
DOORS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}
#: model alias prefix → (the upstream dialect, the front doors that reach it).
ROUTES = {"to-anthropic/": ("anthropic", ("openai",)), "to-openai/": ("openai", ("anthropic",)),
          "to-gemini/": ("gemini", ("anthropic",))}  # fmt: skip
#: The error ``type`` each client dialect gives a status.
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 429: "rate_limit_error", 529: "overloaded_error"}  # fmt: skip
_CLOSE = [("connection", "close")]


@dataclass(frozen=True)
class Settings:
    """Where the gateway forwards to, its keys, and its defect (``None``: correct)."""

    upstreams: Mapping[str, str]
    upstream_key: str
    key: str
    defect: str | None


def error_body(client: str, status: int, message: str, kind: str | None = None) -> dict[str, Any]:
    """An error in the ``client`` dialect's shape; ``kind``: its type (default: the status's)."""
    kind = kind or _ERROR_TYPES.get(status, "api_error")
    if client == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _upstream_message(body: bytes) -> str:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")[:300]
    return str(error.get("message", "")) if isinstance(error, dict) else str(error)


def _upstream_call(
    upstream: str, settings: Settings, model: str, streaming: bool
) -> tuple[str, dict[str, str]]:
    """The URL and headers of the upstream request."""
    base = settings.upstreams[upstream].rstrip("/")
    key = settings.upstream_key
    if upstream == "anthropic":
        return base + "/v1/messages", {"x-api-key": key, "anthropic-version": "2023-06-01"}
    if upstream == "gemini":
        method = "streamGenerateContent?alt=sse" if streaming else "generateContent"
        return f"{base}/v1beta/models/{model}:{method}", {"x-goog-api-key": key}
    return base + "/chat/completions", {"authorization": f"Bearer {key}"}


def _events(pieces: bytes, buffer: bytes, defect: str | None, decoder: SSEDecoder) -> tuple[list[str], bytes]:
    """The ``data`` of the SSE events ``pieces`` complete (the ``crlf_only`` defect: split on ``\\n\\n``
    only, by hand), and the bytes left over."""
    if defect != "crlf_only":
        return [e.data for e in decoder.feed(pieces) if not is_done(e)], b""
    out, buffer = [], buffer + pieces
    while b"\n\n" in buffer:
        block, buffer = buffer.split(b"\n\n", 1)
        data = "".join(line[5:].strip() for line in block.decode().split("\n") if line.startswith("data:"))
        if data and not data.startswith("[DONE]"):
            out.append(data)
    return out, buffer


class Client:
    """What the gateway writes to its client's stream: events in the client dialect's framing."""

    def __init__(self, conn: h11.Connection, stream: trio.SocketStream, dialect: str, defect: str | None):
        self.conn, self.stream, self.dialect, self.defect = conn, stream, dialect, defect
        self.head: dict[str, Any] = {}  # the last OpenAI chunk's id, object, created and model

    async def write(self, events: list[dict[str, Any]]) -> None:
        out = b""
        for event in events:
            if self.dialect == "anthropic":
                out += anthropic_event(event)
                continue
            self.head = {k: event[k] for k in ("id", "object", "created", "model") if k in event}
            if self.defect == "role_null":  # (the translator's output is read-only: copies)
                choices = event.get("choices") or []
                event = {
                    **event,
                    "choices": [{**c, "delta": {**c.get("delta", {}), "role": None}} for c in choices],
                }
            out += openai_event(event)
        if out:
            await send(self.conn, self.stream, h11.Data(data=out))

    async def error(self, exc: ProviderError) -> None:
        """An in-stream error: Anthropic's ``error`` event, OpenAI's ``data: {"error": ...}``."""
        body = error_body(self.dialect, exc.status or 500, exc.message, exc.error_type)
        if self.dialect == "openai":
            body["error"]["code"] = exc.status  # the status, as OpenAI-compatible streams carry it
        framed = anthropic_event(body) if self.dialect == "anthropic" else openai_event(body)
        await send(self.conn, self.stream, h11.Data(data=framed))

    async def clean_end(self) -> None:
        """The end of a stream that went well (what ``swallows_stream_error`` writes after an error)."""
        if self.dialect == "anthropic":
            await self.write([
                {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                 "usage": {"output_tokens": 0}},
                {"type": "message_stop"},
            ])  # fmt: skip
        else:
            await self.write([{**self.head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}])
            await self.done()

    async def done(self) -> None:
        if self.dialect == "openai" and self.defect != "no_done":
            await send(self.conn, self.stream, h11.Data(data=b"data: [DONE]\n\n"))


def _is_error(upstream: str, event: Any) -> bool:
    return isinstance(event, dict) and (
        event.get("type") == "error" if upstream == "anthropic" else "error" in event
    )


async def _relay(
    response: httpx.Response,
    upstream: str,
    client: Client,
    body: Mapping[str, Any],
    model: str,
    again: Callable[[], Awaitable[None]],
) -> str | None:
    """Forward an upstream 200 stream to the client, translated; the reason it broke (``cut``, ``error``),
    or ``None``. ``again``: the upstream request sent once more (the ``retries_after_stream`` defect calls
    it when the stream broke, before the client hears of it)."""
    options: dict[str, Any] = {}
    if client.dialect == "openai":
        options["include_usage"] = bool((body.get("stream_options") or {}).get("include_usage"))
    else:
        options["model"] = model
    translator = translate.Stream(upstream, client.dialect, **options)
    decoder, buffer = SSEDecoder(errors="replace"), b""
    defect = client.defect
    try:
        async for piece in response.aiter_raw():
            datas, buffer = _events(piece, buffer, defect, decoder)
            for data in datas:
                event = json.loads(data)
                if _is_error(upstream, event) and defect == "swallows_stream_error":
                    await client.clean_end()
                    return None
                events = translator.feed(event)
                if defect == "copies_optional" and upstream == "gemini":
                    for e in events:
                        if e.get("type") == "message_start":
                            copied = {"id": event.get("responseId"), "model": event.get("modelVersion")}
                            e["message"] = {**e["message"], **copied}
                await client.write(events)
        await client.write(translator.close())
    except (ProviderError, httpx.HTTPError) as exc:  # a cut, or an in-stream error
        if defect == "retries_after_stream":
            await again()
        if not isinstance(exc, ProviderError) or exc.kind == "transport":
            return "cut"
        await client.error(exc)
        return "error"
    await client.done()
    return None


async def _one(
    conn: h11.Connection,
    stream: trio.SocketStream,
    head: h11.Request,
    raw: bytes,
    settings: Settings,
    http: httpx.AsyncClient,
) -> None:
    """Answer one request (a stream whose upstream was cut is cut too: no end of the chunked body)."""
    target = head.target.decode()
    headers = {k.decode().lower(): v.decode() for k, v in head.headers}
    client = DOORS.get(target.split("?")[0]) if head.method == b"POST" else None

    async def answer(status: int, payload: Any, extra: list[tuple[str, str]] | None = None) -> None:
        await whole_reply(
            conn, stream, status, json.dumps(payload).encode(), headers=[*_CLOSE, *(extra or [])]
        )

    if head.method == b"GET" and target == "/health":
        return await answer(200, {"ok": True})
    if client is None:
        return await answer(404, error_body("openai", 404, f"no route for {target}"))
    given = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
    if given != settings.key:
        return await answer(401, error_body(client, 401, "bad key"))
    try:
        body = json.loads(raw)
        alias = str(body.get("model", ""))
        prefix = next((p for p in ROUTES if alias.startswith(p) and client in ROUTES[p][1]), None)
        if prefix is None:
            return await answer(404, error_body(client, 404, f"no route for model {alias!r} at this door"))
        upstream, model = ROUTES[prefix][0], alias[len(prefix) :]
        out = translate.request(client, upstream, {**body, "model": model})
    except (ValueError, ProviderError) as exc:
        return await answer(400, error_body(client, 400, f"bad request: {exc}"))
    streaming = body.get("stream") is True
    if streaming and upstream == "openai":
        out["stream_options"] = {"include_usage": True}
    if settings.defect == "drops_max_tokens" and upstream == "anthropic":
        out.pop("max_tokens", None)
    url, upstream_headers = _upstream_call(upstream, settings, model, streaming)
    request = http.build_request("POST", url, json=out, headers=upstream_headers)
    response = await http.send(request, stream=True)
    try:
        if response.status_code != 200:
            message = _upstream_message(await response.aread())
            extra = (
                [("retry-after", response.headers["retry-after"])]
                if "retry-after" in response.headers
                else []
            )
            return await answer(
                response.status_code, error_body(client, response.status_code, message), extra
            )
        if not streaming:
            reply = json.loads(await response.aread())
            translated = translate.response(upstream, client, reply)
            if settings.defect == "copies_optional" and upstream == "gemini":
                translated["id"], translated["model"] = reply.get("responseId"), reply.get("modelVersion")
            return await answer(200, translated)
        content_type = "text/event-stream; charset=utf-8"
        await send(conn, stream, h11.Response(status_code=200, headers=[
            ("content-type", content_type), ("transfer-encoding", "chunked"), *_CLOSE,
        ]))  # fmt: skip

        async def again() -> None:
            await (
                await http.send(http.build_request("POST", url, json=out, headers=upstream_headers))
            ).aclose()

        broke = await _relay(
            response, upstream, Client(conn, stream, client, settings.defect), body, model, again
        )
        if broke != "cut":
            await send(conn, stream, h11.EndOfMessage())
    finally:
        await response.aclose()


async def _handle(stream: trio.SocketStream, http: httpx.AsyncClient, settings: Settings) -> None:
    """One client connection, one request. What breaks on the way (an upstream cut, a reply that is not
    JSON) becomes a 502 while no response was started, else a cut client connection."""
    conn = h11.Connection(h11.SERVER)
    async with connection(stream):
        with trio.fail_after(30):
            got = await read_request(conn, stream)
            if got is not None:
                try:
                    await _one(conn, stream, got[0], got[1], settings, http)
                except (ValueError, ProviderError, httpx.HTTPError) as exc:
                    if conn.our_state is h11.SEND_RESPONSE:
                        payload = json.dumps(error_body("openai", 502, f"bad upstream reply: {exc}")).encode()
                        await whole_reply(conn, stream, 502, payload, headers=_CLOSE)


async def serve(
    upstreams: Mapping[str, str],
    upstream_key: str,
    key: str,
    defect: str | None = None,
    port: int = 0,
    *,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; ``task_status.started`` gets the gateway's URL. ``upstreams``: each upstream
    dialect's base URL (as the run's launcher hands them: OpenAI's ends with ``/v1``)."""
    if defect is not None and defect not in DEFECTS:
        raise ValueError(f"defect must be one of {DEFECTS}, not {defect!r}")
    settings = Settings(upstreams, upstream_key, key, defect)

    async def handler(stream: trio.SocketStream, http: httpx.AsyncClient) -> None:
        await _handle(stream, http, settings)

    await serve_loopback(handler, port, task_status)
