"""The recording proxy: ``wirecheck record --upstream URL --out FILE``.

A loopback HTTP/1.1 server (h11 over trio sockets, like ``mocks.server``) that forwards each request to the
upstream with httpx and streams the response back chunk by chunk *as it arrives*, while it records every
chunk's bytes and the time it arrived (milliseconds from the moment the request was sent upstream). The
cassette is written when the recorder stops (Ctrl-C, or the end of ``serve_recorder``'s nursery).

Secrets never reach the disk: each interaction is scrubbed (``harness.cassettes.scrub``) the moment it is
complete, in memory, and only scrubbed interactions are kept; before writing, the cassette text is scanned
(``scan_text``) and a cassette that still holds anything key-shaped is not written (the findings are
reported instead).

What the recorder changes on the way: it asks the upstream for ``Accept-Encoding: identity`` so the
recorded chunks are the bytes as sent (a compressed answer, if the upstream insists, is forwarded as is and
recorded decoded, with a note); it drops the hop-by-hop headers (``HOP_BY_HOP``: ``connection``,
``keep-alive``, ``transfer-encoding``, ``te``, ``trailer``, ``upgrade``, ``proxy-connection``,
``proxy-authenticate``) and ``host`` in both directions; the request headers it records are the client's,
less those and ``content-length``.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import signal
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import h11
import httpx
import trio

from harness.cassettes import index as ix
from harness.cassettes.format import Cassette, Chunk, Interaction, Request, Response, dump_text, save, to_data
from harness.cassettes.scrub import Finding, scan_text, scrub
from mocks.server import HOP_BY_HOP, ServeError, listen

__all__ = ["Recorder", "RecordingRefused", "run_recorder", "serve_recorder", "write_scanned"]

_MAX_HEAD = 1 << 20
_RECEIVE = 65536


class RecordingRefused(RuntimeError):
    """The cassette still held something secret-looking after scrubbing, so it was not written."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__(
            "cassette not written: it still holds secret-looking values:\n  "
            + "\n  ".join(map(str, findings))
        )


def write_scanned(cassette: Cassette, path: str | Path) -> Path:
    """Save ``cassette`` to ``path`` after scanning its text: ``RecordingRefused`` (and nothing written)
    when anything secret-looking is in it."""
    findings = scan_text(dump_text(to_data(cassette)), str(path))
    if findings:
        raise RecordingRefused(findings)
    return save(cassette, path)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Recorder:
    """What a running recorder has: the ``url`` clients use, the ``upstream`` it forwards to, and the
    interactions recorded so far (already scrubbed)."""

    upstream: str
    out: Path | None = None
    name: str | None = None
    url: str = ""
    interactions: list[Interaction] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    source: str = "recorded"

    def cassette(self) -> Cassette:
        return Cassette(
            interactions=list(self.interactions),
            name=self.name,
            meta={"upstream": self.upstream, "recorder": "wirecheck record"},
        )

    def save(self, path: str | Path | None = None) -> Path:
        """Write the cassette (scanned first: ``RecordingRefused`` when a secret survived scrubbing)."""
        target = Path(path) if path is not None else self.out
        if target is None:
            raise ValueError("no output path")
        return write_scanned(self.cassette(), target)

    def add(self, it: Interaction) -> None:
        scrub(it)
        it.index = ix.derive(it)
        self.interactions.append(it)


async def serve_recorder(
    upstream: str,
    out: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    name: str | None = None,
    client: httpx.AsyncClient | None = None,
    save_on_exit: bool = True,
    into: list[Interaction] | None = None,
    task_status: trio.TaskStatus[Recorder] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the recording proxy until cancelled; ``task_status.started`` gets the ``Recorder``. On the way
    out (cancellation, Ctrl-C) the cassette is written to ``out`` when ``save_on_exit``. ``into``: the
    list to file interactions in (several recorders can share one, in the order exchanges end).
    ``mocks.server.ServeError`` when ``host``:``port`` cannot be listened on."""
    recorder = Recorder(upstream.rstrip("/"), Path(out) if out is not None else None, name)
    if into is not None:
        recorder.interactions = into
    own_client = client is None
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=30.0), follow_redirects=False)
    try:
        listeners, recorder.url = await listen(host, port)
    except BaseException:
        if own_client:
            await http.aclose()
        raise
    try:
        task_status.started(recorder)

        async def handler(stream: trio.SocketStream) -> None:
            await _Proxy(recorder, http, stream).run()

        await trio.serve_listeners(handler, listeners)
    finally:
        if own_client:
            with trio.CancelScope(shield=True):
                await http.aclose()
        if save_on_exit and recorder.out is not None:
            recorder.save()


class _Proxy:
    """One client connection: requests in, forwarded, responses streamed back and recorded."""

    def __init__(self, recorder: Recorder, http: httpx.AsyncClient, stream: trio.SocketStream) -> None:
        self.recorder = recorder
        self.http = http
        self.stream = stream
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)

    async def run(self) -> None:
        try:
            while True:
                request = await self._read()
                if request is None:
                    return
                await self._forward(*request)
                if self.conn.our_state is h11.MUST_CLOSE:
                    return
                self.conn.start_next_cycle()
        except (
            h11.RemoteProtocolError,
            h11.LocalProtocolError,
            trio.BrokenResourceError,
            trio.ClosedResourceError,
        ):
            return
        finally:
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self.stream.aclose()

    async def _event(self) -> Any:
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.conn.receive_data(await self.stream.receive_some(_RECEIVE))

    async def _read(self) -> tuple[h11.Request, bytes] | None:
        head = await self._event()
        if not isinstance(head, h11.Request):
            return None
        body = bytearray()
        while True:
            event = await self._event()
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return head, bytes(body)
            else:
                return None

    async def _send(self, event: Any) -> None:
        data = self.conn.send(event)
        if data:
            await self.stream.send_all(data)

    async def _forward(self, head: h11.Request, body: bytes) -> None:
        target = head.target.decode("latin-1")
        path, _, query_text = target.partition("?")
        pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in head.headers]
        recorded_headers: dict[str, list[str]] = {}
        for k, v in pairs:
            if k not in HOP_BY_HOP and k != "content-length":
                recorded_headers.setdefault(k, []).append(v)
        forward = [
            (k, v) for k, v in pairs if k not in HOP_BY_HOP and k not in ("content-length", "accept-encoding")
        ]
        forward.append(("accept-encoding", "identity"))
        query: dict[str, list[str]] = {}
        for k, v in parse_qsl(query_text, keep_blank_values=True):
            query.setdefault(k, []).append(v)
        request = Request(head.method.decode("ascii").upper(), path, query, recorded_headers, body)
        url = self.recorder.upstream + target
        t0 = self.recorder.clock()

        def ms() -> float:
            return (self.recorder.clock() - t0) * 1000.0

        upstream_request = self.http.build_request(request.method, url, headers=forward, content=body)
        try:
            response = await self.http.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            message = f"wirecheck record: upstream {self.recorder.upstream} failed: {exc!r}\n".encode()
            await self._send(h11.Response(status_code=502, headers=[("content-length", str(len(message)))]))
            await self._send(h11.Data(data=message))
            await self._send(h11.EndOfMessage())
            return
        head_ms = ms()
        out_headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        content_type = response.headers.get("content-type", "")
        encoding = response.headers.get("content-encoding", "").lower()
        asked = request.json.get("stream") is True if isinstance(request.json, dict) else False
        streamed = "text/event-stream" in content_type or ix.classify(request.method, path).stream or asked
        chunks: list[Chunk] = []
        complete = False  # the upstream's whole body was read
        decoder = _decoder(encoding)
        try:
            await self._send(h11.Response(status_code=response.status_code, headers=out_headers))
            with contextlib.suppress(httpx.HTTPError):
                async for piece in response.aiter_raw():
                    chunks.append(Chunk(ms(), decoder(piece)))
                    await self._send(h11.Data(data=piece))
                complete = True
            if complete:
                await self._send(h11.EndOfMessage())
        finally:
            # recorded first (even when the client or a Ctrl-C cut the exchange short), then closed
            self._record(request, response, url, head_ms, chunks, streamed, complete, encoding)
            with trio.CancelScope(shield=True):
                await response.aclose()
        if not complete:
            raise trio.BrokenResourceError("upstream closed mid-body")

    def _record(
        self,
        request: Request,
        response: httpx.Response,
        url: str,
        head_ms: float,
        chunks: list[Chunk],
        streamed: bool,
        complete: bool,
        encoding: str,
    ) -> None:
        notes = []
        if encoding and encoding != "identity":
            notes.append(f"the upstream sent {encoding} despite accept-encoding: identity; recorded decoded")
        headers: dict[str, list[str]] = {}
        for k, v in response.headers.multi_items():
            headers.setdefault(k.lower(), []).append(v)
        kept = [c for c in chunks if c.data]
        resp = Response(
            status=response.status_code,
            headers=headers,
            body=b"".join(c.data for c in kept),
            chunks=kept if streamed else None,
            t_ms=head_ms,
            complete=complete,
        )
        parts = urlsplit(url)
        self.recorder.add(
            Interaction(
                request=request,
                response=resp,
                source=self.recorder.source,
                recorded_at=_now(),
                host=f"{parts.scheme}://{parts.netloc}",
                notes=notes,
            )
        )


def _decoder(encoding: str) -> Callable[[bytes], bytes]:
    """An incremental decoder for a (rare, unrequested) compressed answer; identity otherwise."""
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
    if encoding == "deflate":
        return zlib.decompressobj().decompress
    return lambda data: data


def run_recorder(
    upstream: str,
    out: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    name: str | None = None,
    stdout: TextIO = sys.stdout,
) -> int:
    """``wirecheck record``: serve until Ctrl-C (or SIGTERM), then write the cassette. Returns the exit
    status. The signal is received as a message and cancels the recorder cleanly (no ``KeyboardInterrupt``
    in the middle of filing an exchange), so every exchange completed before it is in the file."""
    state: dict[str, Recorder] = {}

    async def main() -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                recorder: Recorder = await nursery.start(
                    functools.partial(serve_recorder, upstream, out, host, port, name=name)
                )
                state["recorder"] = recorder
                print(
                    f"recording {recorder.url} -> {upstream} (Ctrl-C to stop and write {out})",
                    file=stdout,
                    flush=True,
                )
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    break

    refused: list[BaseException] = []
    unbound: list[BaseException] = []
    try:
        trio.run(main)
    except* KeyboardInterrupt:
        pass
    except* RecordingRefused as group:
        refused.extend(group.exceptions)
    except* ServeError as group:
        unbound.extend(group.exceptions)
    if unbound:
        print(f"wirecheck record: {unbound[0]}", file=sys.stderr)
        return 2
    if refused:
        for exc in refused:
            print(f"wirecheck record: {exc}", file=sys.stderr)
        return 1
    recorder = state.get("recorder")
    count = len(recorder.interactions) if recorder else 0
    print(f"wrote {count} interactions to {out}", file=stdout, flush=True)
    return 0
