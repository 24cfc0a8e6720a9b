"""The request-reading half of a bare trio + h11 server, shared by the benchmarks' reference servers."""

from __future__ import annotations

import h11
import trio


async def read_request(conn: h11.Connection, stream: trio.SocketStream) -> bytes | None:
    """The body of the next request on ``conn``, or None once the client closed the connection."""
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return body
        elif isinstance(event, h11.ConnectionClosed):
            return None
