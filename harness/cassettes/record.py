"""The recording proxy: ``wirecheck record --upstream URL --out FILE``.

A loopback HTTP/1.1 server (h11 over trio sockets, like ``mocks.server``) that forwards each request to the
upstream with httpx and streams the response back chunk by chunk *as it arrives*, while it records every
chunk's bytes and the time it arrived (milliseconds from the moment the request was sent upstream).

Nothing recorded is lost, and secrets never reach the disk. The cassette is a journal
(``harness.cassettes.journal``): its header is written when the recorder starts, and each interaction, the
moment it is complete, is scrubbed (``harness.cassettes.scrub.scrub``), rendered, its text scanned
(``scan_text``), then appended and fsynced. An interaction the scan still finds something in is left out:
one stderr line names it (exchange number, method, path) and why (the kind of finding and where, never the
value), and the rest are kept; ``wirecheck record`` then exits 1. A recorder killed (even SIGKILL) loses at
most the exchanges in flight; a torn last append loads with a warning (``format.load``).

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
from harness.cassettes.journal import Journal, prepare
from harness.cassettes.scrub import Finding, scan_text, scrub
from mocks.server import HOP_BY_HOP, ServeError, listen

__all__ = [
    "InteractionsLeftOut",
    "LeftOut",
    "Recorder",
    "RecordingRefused",
    "run_recorder",
    "serve_recorder",
    "write_scanned",
]

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


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An exchange the recorder left out because its scrubbed text still looked secret: its ``number``
    (1-based, in the order this recorder's exchanges ended), ``method``, ``path`` and the ``findings``."""

    number: int
    method: str
    path: str
    findings: tuple[Finding, ...]

    def __str__(self) -> str:
        """One line naming the exchange and what was found where, never the value: a path with a finding
        in it is withheld."""
        wheres = [f.where.removeprefix("[0].") for f in self.findings]
        path = "<path withheld: it holds a finding>" if "request.path" in wheres else self.path
        why = "; ".join(f"{f.kind} at {where}" for f, where in zip(self.findings, wheres, strict=True))
        return f"exchange #{self.number} ({self.method} {path}) left out, still secret-looking: {why}"


class InteractionsLeftOut(RuntimeError):
    """Some exchanges were left out of a recording (``left_out``); everything else was written."""

    def __init__(self, left_out: list[LeftOut]) -> None:
        self.left_out = left_out
        super().__init__("\n  ".join(["recorded, but not everything:", *map(str, left_out)]))


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
    """What a running recorder has: the ``url`` clients use, the ``upstream`` it forwards to, the
    interactions recorded so far (scrubbed and scanned: only safe ones), the ``journal`` each is appended to
    as it completes (``None``: kept in memory only) and the exchanges ``left_out`` (each reported on
    ``err``, default ``sys.stderr``, as it happens)."""

    upstream: str
    out: Path | None = None
    name: str | None = None
    url: str = ""
    interactions: list[Interaction] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    source: str = "recorded"
    journal: Journal | None = None
    left_out: list[LeftOut] = field(default_factory=list)
    err: TextIO | None = None
    exchanges: int = 0  # exchanges filed so far, kept or left out

    def cassette(self) -> Cassette:
        return Cassette(
            interactions=list(self.interactions),
            name=self.name,
            meta={"upstream": self.upstream, "recorder": "wirecheck record"},
        )

    def save(self, path: str | Path | None = None) -> Path:
        """Write the whole cassette at once (scanned first: ``RecordingRefused`` when a secret survived
        scrubbing). The journal, when there is one, is written already: this is for a copy elsewhere."""
        target = Path(path) if path is not None else self.out
        if target is None:
            raise ValueError("no output path")
        return write_scanned(self.cassette(), target)

    def add(self, it: Interaction) -> LeftOut | None:
        """File a completed exchange: scrub it, derive its index, scan its rendered text; then keep it (in
        ``interactions`` and, appended and fsynced, in the journal) or, when the scan finds anything, leave
        it out with one line on ``err``. Returns the ``LeftOut``, or ``None`` when it was kept."""
        scrub(it)
        it.index = ix.derive(it)
        self.exchanges += 1
        suffix = self.journal.path.suffix if self.journal is not None else ".yaml"
        entry = prepare(it, suffix, f"exchange #{self.exchanges}")
        if entry.findings:
            left = LeftOut(self.exchanges, it.request.method, it.request.path, tuple(entry.findings))
            self.left_out.append(left)
            print(f"wirecheck record: {left}", file=self.err or sys.stderr, flush=True)
            return left
        if self.journal is not None:
            self.journal.write(entry)
        self.interactions.append(it)
        return None


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
    journal: Journal | None = None,
    err: TextIO | None = None,
    task_status: trio.TaskStatus[Recorder] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the recording proxy until cancelled; ``task_status.started`` gets the ``Recorder``.

    ``out``: the cassette file (replaced), a journal started (header written) before the recorder takes
    requests, each interaction appended to it as it completes; ``journal``: a journal to append to instead (several
    recorders may share one; it is opened on its first append and not closed here). ``save_on_exit`` is
    kept for callers of the former write-at-exit recorder and changes nothing (everything is written as it
    completes). ``into``: the list to file interactions in (several recorders can share one, in the order
    exchanges end). ``err``: where left-out exchanges are reported (default stderr).
    ``mocks.server.ServeError`` when ``host``:``port`` cannot be listened on."""
    del save_on_exit
    recorder = Recorder(upstream.rstrip("/"), Path(out) if out is not None else None, name, err=err)
    if into is not None:
        recorder.interactions = into
    own_journal = journal is None and recorder.out is not None
    if own_journal:
        assert recorder.out is not None
        journal = Journal(recorder.out, recorder.cassette())
    recorder.journal = journal
    own_client = client is None
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=30.0), follow_redirects=False)
    try:
        listeners, recorder.url = await listen(host, port)
    except BaseException:
        if own_client:
            await http.aclose()
        raise
    if own_journal:
        assert journal is not None
        try:
            journal.open()
        except BaseException:
            with trio.CancelScope(shield=True):
                for listener in listeners:
                    await listener.aclose()
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
        if own_journal:
            assert journal is not None
            journal.close()


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
    stderr: TextIO | None = None,
) -> int:
    """``wirecheck record``: start the cassette at ``out`` (its header), then serve until Ctrl-C (or
    SIGTERM), appending each interaction as it completes. Returns the exit status: 0, or 1 when an exchange
    was left out (each named on stderr as it happened; the file holds all the others), 2 when the address
    cannot be listened on or the file cannot be written. The signal is received as a message and cancels the recorder cleanly (no
    ``KeyboardInterrupt`` in the middle of filing an exchange); even a SIGKILL loses only the exchanges in
    flight, since the others are on disk already."""
    state: dict[str, Recorder] = {}
    err = stderr if stderr is not None else sys.stderr

    async def main() -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                recorder: Recorder = await nursery.start(
                    functools.partial(serve_recorder, upstream, out, host, port, name=name, err=err)
                )
                state["recorder"] = recorder
                print(
                    f"recording {recorder.url} -> {upstream} (appending to {out}; Ctrl-C to stop)",
                    file=stdout,
                    flush=True,
                )
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    break

    unbound: list[BaseException] = []
    try:
        trio.run(main)
    except* KeyboardInterrupt:
        pass
    except* (ServeError, OSError) as group:  # the address, or the cassette file (cannot be created)
        unbound.extend(group.exceptions)
    if unbound:
        print(f"wirecheck record: {unbound[0]}", file=err)
        return 2
    recorder = state.get("recorder")
    count = len(recorder.interactions) if recorder else 0
    print(f"wrote {count} interactions to {out}", file=stdout, flush=True)
    if recorder is not None and recorder.left_out:
        print(
            f"wirecheck record: {len(recorder.left_out)} exchanges left out of {out} (named above); "
            f"the {count} others are in it",
            file=err,
            flush=True,
        )
        return 1
    return 0
