"""A tiny gateway for the gateway-mode tests: an OpenAI front door (``POST /v1/chat/completions``) that
forwards to an OpenAI upstream, on trio + h11 (server) and httpx (client), in four variants:

- ``faithful``: the request with its model alias resolved (``faulty/<model>`` → ``<model>``) and the
  upstream key, the reply's bytes forwarded as they arrive;
- ``drop_usage``: drops the usage-only chunk (``choices: []``) of a stream;
- ``coalesce``: buffers the whole stream and sends it at once at the end;
- ``tool_index``: rewrites streamed tool-call indices (``index + 1``: they no longer start at 0).

``GET /health`` answers 200. Run in-process (``serve``) or as a script (``python faulty.py --port P
--upstream URL --upstream-key K --key K [--variant V] [--die-after N]``; ``--die-after N`` makes the
process exit when its N-th chat request arrives: a gateway that dies mid-run).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import h11
import httpx
import trio

VARIANTS = ("faithful", "drop_usage", "coalesce", "tool_index")
PREFIX = "faulty/"


class _Counter:
    requests = 0


async def _read_request(conn: h11.Connection, stream: trio.SocketStream) -> tuple[h11.Request, bytes] | None:
    head = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(65536)
            conn.receive_data(data)
            continue
        if isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return (head, bytes(body)) if head is not None else None
        else:
            return None


async def _send(conn: h11.Connection, stream: trio.SocketStream, event: Any) -> None:
    data = conn.send(event)
    if data:
        await stream.send_all(data)


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


async def _handle(
    stream: trio.SocketStream,
    client: httpx.AsyncClient,
    variant: str,
    upstream: str,
    upstream_key: str,
    key: str,
    die_after: int | None,
) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        got = await _read_request(conn, stream)
        if got is None:
            return
        head, body = got
        target = head.target.decode()
        headers = {k.decode().lower(): v.decode() for k, v in head.headers}

        async def reply(status: int, payload: bytes, content_type: str = "application/json") -> None:
            await _send(conn, stream, h11.Response(status_code=status, headers=[
                ("content-type", content_type), ("content-length", str(len(payload))), ("connection", "close"),
            ]))  # fmt: skip
            await _send(conn, stream, h11.Data(data=payload))
            await _send(conn, stream, h11.EndOfMessage())

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
            await _send(conn, stream, h11.Response(status_code=200, headers=[
                ("content-type", content_type), ("transfer-encoding", "chunked"), ("connection", "close"),
            ]))  # fmt: skip
            if variant == "coalesce":
                await _send(conn, stream, h11.Data(data=await response.aread()))
            elif variant == "faithful":
                async for piece in response.aiter_raw():
                    await _send(conn, stream, h11.Data(data=piece))
            else:
                buffer = b""
                async for piece in response.aiter_raw():
                    events, buffer = _events(buffer + piece)
                    out = b"".join(e for e in (_rewrite(variant, event) for event in events) if e is not None)
                    if out:
                        await _send(conn, stream, h11.Data(data=out))
                if buffer:
                    await _send(conn, stream, h11.Data(data=buffer))
            await _send(conn, stream, h11.EndOfMessage())
        finally:
            await response.aclose()
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError, httpx.HTTPError):
        pass
    finally:
        await stream.aclose()


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
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
    bound = listeners[0].socket.getsockname()[1]
    async with httpx.AsyncClient(timeout=30.0) as client:
        task_status.started(f"http://127.0.0.1:{bound}")

        async def handler(stream: trio.SocketStream) -> None:
            await _handle(stream, client, variant, upstream, upstream_key, key, die_after)

        await trio.serve_listeners(handler, listeners)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--upstream-key", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--variant", default="faithful", choices=VARIANTS)
    parser.add_argument("--die-after", type=int)
    args = parser.parse_args()
    trio.run(
        lambda: serve(args.variant, args.upstream, args.upstream_key, args.key, args.port, args.die_after)
    )


if __name__ == "__main__":
    main()
