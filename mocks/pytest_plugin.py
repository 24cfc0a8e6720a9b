"""pytest fixtures serving a ``MockUpstream`` on 127.0.0.1:

- ``mock_upstream``: in-process, on pytest-httpserver (Werkzeug, one thread per request);
- ``mock_upstream_server``: the standalone trio + h11 server (``mocks.server``) in a background thread.

Both give the same face (``mocks.engine.HostedUpstream``): ``.url``, ``.urls[dialect]``,
``.script(rules)``, ``.requests``, ``.unmatched``.

How the Werkzeug adapter keeps the reply's timing and faults (pytest-httpserver has no API for either):

- A generator response body is written and flushed piece by piece: Werkzeug's ``write`` calls
  ``wfile.flush()`` after each item, as its own chunk when no Content-Length is set. So each frame is one
  ``yield``, delayed by a wait in the generator.
- The waits watch the client's socket (``environ["werkzeug.socket"]``, a ``select`` with a peek): when the
  client closes, the wait ends and the capture records the frame at which it left.
- A connection drop is ``socket.shutdown(SHUT_RDWR)`` on that same socket in the middle of the body.
  Werkzeug's following write (the chunked terminator) then fails with ``BrokenPipeError``, which it treats
  as a dropped connection, so nothing else reaches the client and nothing is logged as an error.
- Werkzeug closes every connection after one response (no keep-alive); use the standalone server to test
  connection reuse.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response
from werkzeug.serving import WSGIRequestHandler

from mocks.engine import HostedUpstream, MockUpstream, Request, as_script
from mocks.reply import Reply
from mocks.server import BackgroundServer

__all__ = ["InProcessServer", "mock_upstream", "mock_upstream_server"]

_POLL = 0.05  # seconds between checks while waiting


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log line per request (captures record every request)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _HTTPServer(HTTPServer):
    """pytest-httpserver's server with a short shutdown poll (the default 0.5 s would slow every test)."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=_POLL)


class InProcessServer(HostedUpstream):
    """A ``MockUpstream`` served by pytest-httpserver on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, script: Any = None) -> None:
        upstream = script if isinstance(script, MockUpstream) else MockUpstream(as_script(script))
        self._closing = threading.Event()
        self._http = _HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self._http.expect_request(re.compile(".*")).respond_with_handler(self._respond)
        self._http.start()
        assert self._http.server is not None
        self._http.server.RequestHandlerClass = _QuietHandler
        self._http.server.socket.listen(1024)  # Werkzeug listens with a backlog of 128: allow bigger bursts
        super().__init__(upstream, f"http://127.0.0.1:{self._http.port}")

    def close(self) -> None:
        self._closing.set()
        if self._http.is_running():
            server = self._http.server
            self._http.stop()
            if server is not None:
                server.server_close()

    def __enter__(self) -> InProcessServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- Werkzeug side --

    def _respond(self, request: WerkzeugRequest) -> Response:
        environ = request.environ
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        reply = self.upstream.handle(
            Request(request.method, target, list(request.headers.items()), request.get_data())
        )
        sock: socket.socket = environ["werkzeug.socket"]
        if reply.head_delay and not self._wait(sock, reply.head_delay):
            if reply.capture is not None:
                reply.capture.client_gone(0)
            _shutdown(sock)
        elif not reply.send_head:
            if reply.capture is not None:
                reply.capture.dropped_at(0, head_sent=False)
            _shutdown(sock)
        headers = list(reply.headers)
        if reply.content_length is not None:
            headers.append(("Content-Length", str(reply.content_length)))
        return Response(
            self._body(reply, sock), status=reply.status, headers=headers, direct_passthrough=True
        )

    def _body(self, reply: Reply, sock: socket.socket) -> Iterator[bytes]:
        capture = reply.capture
        last = len(reply.frames) - 1
        index = 0
        try:
            for index, frame in enumerate(reply.frames):
                if frame.delay and not self._wait(sock, frame.delay):
                    if capture is not None:
                        capture.client_gone(index)
                    _shutdown(sock)
                    return
                if capture is not None:
                    if index == last and reply.end == "complete":
                        capture.finished()
                    capture.frame_sent()
                    if index == last and reply.end == "drop":
                        capture.dropped_at(index + 1, head_sent=True)
                if frame.data:
                    yield frame.data
            if reply.end == "drop":
                if capture is not None and last < 0:
                    capture.dropped_at(0, head_sent=True)
                _shutdown(sock)
            elif last < 0 and capture is not None:
                capture.finished()
        except GeneratorExit:  # Werkzeug could not write: the client is gone
            if capture is not None:
                capture.client_gone(index)
            raise

    def _wait(self, sock: socket.socket, seconds: float) -> bool:
        """Sleep ``seconds``; False as soon as the client closes its side or the server shuts down."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._closing.is_set():
                return False
            try:
                readable, _, _ = select.select([sock], [], [], min(left, _POLL))
                if readable and not sock.recv(1, socket.MSG_PEEK):
                    return False
            except (OSError, ValueError):
                return False
            if readable:  # bytes from the client (not read by anyone): do not spin on them
                time.sleep(min(left, _POLL))
        return True


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the client
        sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def mock_upstream() -> Iterator[InProcessServer]:
    """An in-process mock upstream (pytest-httpserver) with an empty script: every known route gets a
    generated reply until ``.script(...)`` loads rules."""
    with InProcessServer() as server:
        yield server


@pytest.fixture
def mock_upstream_server() -> Iterator[BackgroundServer]:
    """The standalone trio + h11 mock server, in a background thread, with an empty script."""
    with BackgroundServer() as server:
        yield server
