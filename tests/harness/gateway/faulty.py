"""A tiny gateway for the gateway-mode tests: an OpenAI front door (``POST /v1/chat/completions``) that
forwards to an OpenAI upstream, on trio + h11 (server) and httpx (client), in four variants:

- ``faithful``: the request with its model alias resolved (``faulty/<model>`` → ``<model>``) and the
  upstream key, the reply's bytes forwarded as they arrive;
- ``drop_usage``: drops the usage-only chunk (``choices: []``) of a stream;
- ``coalesce``: buffers the whole stream and sends it at once at the end;
- ``tool_index``: rewrites streamed tool-call indices (``index + 1``: they no longer start at 0);
- ``header_routed``: faithful, but reads its upstream from the request (``x-upstream-url``, which must come
  with ``x-upstream-dialect: openai``) instead of ``--upstream``: a gateway that routes by headers;
- ``keepalive``: faithful, but keeps its client connection open after a reply and resets it when a second
  request comes on it (a gateway that drops idle connections), counting those requests (``reused``);

and three that break the wire itself (the run must survive them and report):

- ``reset_upstream``: sends the request upstream by hand, reads the first bytes of the answer, then
  resets the upstream connection (RST), and answers its client 502;
- ``garbage``: sends garbage bytes to the upstream, then garbage bytes to its client, and closes;
- ``half_close``: sends the request upstream and half-closes that connection, then half-closes its
  client connection without an answer.

``GET /health`` answers 200. Run in-process (``serve``) or as a script (``python faulty.py --port P
--upstream URL --upstream-key K --key K [--variant V] [--die-after N]``; ``--die-after N`` makes the
process exit when its N-th chat request arrives: a gateway that dies mid-run).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass

import h11
import httpx
import trio

try:
    from tests.harness.gateway.http11 import (
        connection,
        read_request,
        reset,
        send,
        serve_loopback,
        whole_reply,
    )
except ImportError:  # run as a script (faulty.yaml's command): its own directory is on sys.path
    from http11 import connection, read_request, reset, send, serve_loopback, whole_reply  # type: ignore[no-redef]

VARIANTS = ("faithful", "drop_usage", "coalesce", "tool_index", "keepalive", "header_routed")
BROKEN_WIRE = ("reset_upstream", "garbage", "half_close")
PREFIX = "faulty/"


class _Counter:
    requests = 0
    reused = 0  # requests that came on a connection that had carried one before (keepalive variant)


def _events(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete SSE events (with their blank-line ends) of ``buffer``, and the rest."""
    out = []
    while b"\n\n" in buffer:
        event, buffer = buffer.split(b"\n\n", 1)
        out.append(event + b"\n\n")
    return out, buffer


def _rewrite(variant: str, event: bytes) -> bytes | None:
    """One SSE event as the variant forwards it (None: dropped)."""
    text = event.decode("utf-8", "replace")
    data = "".join(line[5:].strip() for line in text.splitlines() if line.startswith("data:"))
    try:
        chunk = json.loads(data)
    except ValueError:
        return event
    if not isinstance(chunk, dict):
        return event
    if variant == "drop_usage" and chunk.get("choices") == [] and chunk.get("usage") is not None:
        return None
    if variant == "tool_index":
        changed = False
        for choice in chunk.get("choices") or ():
            for call in (choice.get("delta") or {}).get("tool_calls") or ():
                if isinstance(call.get("index"), int):
                    call["index"] += 1
                    changed = True
        if changed:
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"
    return event


async def _upstream_by_hand(upstream: str, upstream_key: str, body: bytes) -> trio.SocketStream:
    """A connection to the upstream with a chat request written on it, byte by byte ours."""
    url = httpx.URL(upstream.rstrip("/") + "/chat/completions")
    connection = await trio.open_tcp_stream(url.host, url.port or 80)
    head = (
        f"POST {url.raw_path.decode()} HTTP/1.1\r\nhost: {url.host}:{url.port}\r\n"
        f"authorization: Bearer {upstream_key}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    await connection.send_all(head.encode() + body)
    return connection


async def _break_wire(
    variant: str, stream: trio.SocketStream, upstream: str, upstream_key: str, body: bytes
) -> None:
    """What the broken-wire variants do with one chat request (see the module docstring)."""
    with trio.fail_after(10):
        if variant == "reset_upstream":
            connection = await _upstream_by_hand(upstream, upstream_key, body)
            await connection.receive_some(65536)
            reset(connection)
            await connection.aclose()
            payload = b'{"error": {"message": "upstream reset", "type": "api_error"}}'
            await stream.send_all(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n".encode()
                + payload
            )
        elif variant == "garbage":
            connection = await trio.open_tcp_stream(httpx.URL(upstream).host, httpx.URL(upstream).port or 80)
            await connection.send_all(b"\x16\x03\x01\x00\xff garbage \x00\r\n\r\n")
            with trio.move_on_after(2):
                await connection.receive_some(65536)
            await connection.aclose()
            await stream.send_all(b"HTTP/1.1 2\x00\xff0 OK\r\n\x01\x02: \xff\r\n\r\n\x00garbage")
        else:  # half_close
            connection = await _upstream_by_hand(upstream, upstream_key, body)
            await connection.send_eof()
            with trio.move_on_after(2):
                while await connection.receive_some(65536):
                    pass
            await connection.aclose()
            await stream.send_eof()
            with trio.move_on_after(5):  # until the client closes its side
                while await stream.receive_some(65536):
                    pass


@dataclass(frozen=True)
class _Settings:
    """How the gateway behaves, and where it forwards to."""

    client: httpx.AsyncClient
    variant: str
    upstream: str
    upstream_key: str
    key: str
    die_after: int | None


async def _handle(stream: trio.SocketStream, settings: _Settings) -> None:
    variant = settings.variant
    conn = h11.Connection(h11.SERVER)
    async with connection(stream):
        for served in range(1 << 30):
            got = await read_request(conn, stream)
            if got is None:
                return
            if served:  # only the keepalive variant reads a second request: it drops the connection
                _Counter.reused += 1
                reset(stream)
                return
            await _one(conn, stream, got, settings)
            if variant != "keepalive" or conn.our_state is not h11.DONE:
                return
            conn.start_next_cycle()


async def _one(
    conn: h11.Connection, stream: trio.SocketStream, got: tuple[h11.Request, bytes], settings: _Settings
) -> None:
    """One request on the connection."""
    client, variant, upstream = settings.client, settings.variant, settings.upstream
    upstream_key, key, die_after = settings.upstream_key, settings.key, settings.die_after
    close = [("connection", "close")] if variant != "keepalive" else []
    head, body = got
    target = head.target.decode()
    headers = {k.decode().lower(): v.decode() for k, v in head.headers}

    async def reply(status: int, payload: bytes, content_type: str = "application/json") -> None:
        await whole_reply(conn, stream, status, payload, content_type, close)

    if head.method == b"GET" and target == "/health":
        await reply(200, b'{"ok": true}')
        return
    if head.method != b"POST" or target != "/v1/chat/completions":
        await reply(404, b'{"error": {"message": "not found", "type": "invalid_request_error"}}')
        return
    if headers.get("authorization") != f"Bearer {key}":
        await reply(401, b'{"error": {"message": "bad key", "type": "invalid_request_error"}}')
        return
    _Counter.requests += 1
    if die_after is not None and _Counter.requests >= die_after:
        os._exit(17)
    if variant == "header_routed":
        upstream = headers.get("x-upstream-url", "")
        if not upstream or headers.get("x-upstream-dialect") != "openai":
            await reply(400, b'{"error": {"message": "no x-upstream-url", "type": "invalid_request_error"}}')
            return
    if variant in BROKEN_WIRE:
        await _break_wire(variant, stream, upstream, upstream_key, body)
        return
    request = json.loads(body)
    model = request.get("model", "")
    request["model"] = model[len(PREFIX) :] if model.startswith(PREFIX) else model
    streaming = request.get("stream") is True
    upstream_request = client.build_request(
        "POST",
        upstream.rstrip("/") + "/chat/completions",
        content=json.dumps(request).encode(),
        headers={"authorization": f"Bearer {upstream_key}", "content-type": "application/json"},
    )
    response = await client.send(upstream_request, stream=True)
    try:
        content_type = response.headers.get("content-type", "application/json")
        if not streaming or response.status_code != 200:
            await reply(response.status_code, await response.aread(), content_type)
            return
        await send(conn, stream, h11.Response(status_code=200, headers=[
            ("content-type", content_type), ("transfer-encoding", "chunked"), *close,
        ]))  # fmt: skip
        if variant == "coalesce":
            await send(conn, stream, h11.Data(data=await response.aread()))
        elif variant == "faithful":
            async for piece in response.aiter_raw():
                await send(conn, stream, h11.Data(data=piece))
        else:
            buffer = b""
            async for piece in response.aiter_raw():
                events, buffer = _events(buffer + piece)
                out = b"".join(e for e in (_rewrite(variant, event) for event in events) if e is not None)
                if out:
                    await send(conn, stream, h11.Data(data=out))
            if buffer:
                await send(conn, stream, h11.Data(data=buffer))
        await send(conn, stream, h11.EndOfMessage())
    finally:
        await response.aclose()


async def serve(
    variant: str,
    upstream: str,
    upstream_key: str,
    key: str,
    port: int = 0,
    die_after: int | None = None,
    *,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; ``task_status.started`` gets the gateway's URL."""
    if variant not in VARIANTS + BROKEN_WIRE:
        raise ValueError(f"variant must be one of {VARIANTS + BROKEN_WIRE}, not {variant!r}")

    async def handler(stream: trio.SocketStream, client: httpx.AsyncClient) -> None:
        await _handle(stream, _Settings(client, variant, upstream, upstream_key, key, die_after))

    await serve_loopback(handler, port, task_status)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--upstream-key", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--variant", default="faithful", choices=VARIANTS + BROKEN_WIRE)
    parser.add_argument("--die-after", type=int)
    args = parser.parse_args()
    trio.run(
        lambda: serve(args.variant, args.upstream, args.upstream_key, args.key, args.port, args.die_after)
    )


if __name__ == "__main__":
    main()
