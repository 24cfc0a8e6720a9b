"""The server plumbing of the tests' tiny gateways (faulty.py, translating.py) on trio + h11: read one
request, send h11 events, answer with a whole body, reset a connection, and serve a handler on a loopback
port with an httpx client for the upstream calls."""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import h11
import httpx
import trio

__all__ = ["connection", "read_request", "reset", "send", "serve_loopback", "whole_reply"]


async def read_request(conn: h11.Connection, stream: trio.SocketStream) -> tuple[h11.Request, bytes] | None:
    """The next request on ``conn`` and its whole body, or ``None`` when the client closed or broke it."""
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


async def send(conn: h11.Connection, stream: trio.SocketStream, event: Any) -> None:
    """Send one h11 event's bytes (if it has any)."""
    data = conn.send(event)
    if data:
        await stream.send_all(data)


async def whole_reply(
    conn: h11.Connection,
    stream: trio.SocketStream,
    status: int,
    payload: bytes,
    content_type: str = "application/json",
    headers: Sequence[tuple[str, str]] = (),
) -> None:
    """A whole response: ``status``, ``payload`` with its length, and ``headers``."""
    await send(conn, stream, h11.Response(status_code=status, headers=[
        ("content-type", content_type), ("content-length", str(len(payload))), *headers,
    ]))  # fmt: skip
    await send(conn, stream, h11.Data(data=payload))
    await send(conn, stream, h11.EndOfMessage())


@contextlib.asynccontextmanager
async def connection(stream: trio.SocketStream) -> AsyncIterator[None]:
    """The body of a connection handler: a connection the peer broke, or a timeout, ends it quietly, and
    the stream is closed at the end."""
    try:
        yield
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError, httpx.HTTPError, OSError):
        pass
    except trio.TooSlowError:
        pass
    finally:
        await stream.aclose()


def reset(stream: trio.SocketStream) -> None:
    """Make the coming close a reset (RST) instead of a FIN."""
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def serve_loopback(
    handler: Callable[[trio.SocketStream, httpx.AsyncClient], Awaitable[None]],
    port: int,
    task_status: trio.TaskStatus[str],
) -> None:
    """Serve ``handler(stream, client)`` on 127.0.0.1:``port`` (0: any) until cancelled;
    ``task_status.started`` gets the URL. ``client`` (30 s timeouts) is for the upstream calls."""
    listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
    bound = listeners[0].socket.getsockname()[1]
    async with httpx.AsyncClient(timeout=30.0) as client:
        task_status.started(f"http://127.0.0.1:{bound}")

        async def serve_one(stream: trio.SocketStream) -> None:
            await handler(stream, client)

        await trio.serve_listeners(serve_one, listeners)
