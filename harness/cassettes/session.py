"""A cassette in use under a record mode, served from a background thread: ``CassetteSession``.

Synchronous on the outside, so that code of any style uses it alike: plain functions, asyncio and trio
tests (the pytest face is ``harness.cassettes.pytest_plugin``). Inside, the one mock server
(``mocks.server``) runs the one replay engine (``harness.cassettes.replay.Replay``) in a thread with its own
trio loop; when the mode records, the recording proxy (``harness.cassettes.record``) runs in a thread of
its own per upstream, and the mock server forwards every request no interaction answered to it
(``mocks.server``'s ``on_unanswered``). So what is recorded is scrubbed, scanned and appended to the cassette
(a journal, ``harness.cassettes.journal``) as each exchange completes, exactly as ``wirecheck record`` does
it: no key reaches the disk, and a crash loses only the exchanges in flight.

Record modes, as in VCR.py:

- ``none``: replay only. The cassette must exist; a request it does not hold gets the dialect's 404 and is
  a failure (``problems()``).
- ``once``: the cassette exists: as ``none``. It does not: every request goes through the recording proxy
  to the upstream, and the cassette is created at the first recorded interaction, each appended as it
  completes.
- ``new_episodes``: replay what the cassette holds; every other request goes through the recording proxy
  to the upstream, and each new interaction is appended to the file as it completes (at the first one the
  file is rewritten from the model as a journal: comments in it are not kept). The cassette is created
  when it does not exist.

Upstreams (only needed when recording): ``upstream="https://api.openai.com"`` for every request, or per
dialect ``{"openai": ..., "anthropic": ..., "gemini": ..., "azure": ..., "*": default}`` (the dialect of
the route the request took, else the one its path suggests); when not given, the environment:
``WIRECHECK_UPSTREAM`` and ``WIRECHECK_UPSTREAM_<DIALECT>`` (``WIRECHECK_UPSTREAM_OPENAI``...).

Every wait is bounded: the servers start within ``start_timeout`` and stop within ``stop_timeout`` seconds
(``mocks.server.TrioThread``), and ``close()`` waits at most ``settle_timeout`` seconds for forwarded
exchanges still in flight before it stops the recorders.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.cassettes import format as fmt
from harness.cassettes.journal import Journal
from harness.cassettes.record import InteractionsLeftOut, serve_recorder
from harness.cassettes.replay import Replay, ReplayError
from mocks.dialects import guess
from mocks.engine import MockUpstream
from mocks.script import DIALECTS
from mocks.server import BackgroundServer, TrioThread, Unanswered

__all__ = ["RECORD_MODES", "UPSTREAM_ENV", "CassetteSession", "SessionError"]

RECORD_MODES = ("none", "once", "new_episodes")
UPSTREAM_ENV = "WIRECHECK_UPSTREAM"
_DEFAULT = "*"  # the upstream of requests whose dialect has none of its own
_POLL = 0.01


class SessionError(ValueError):
    """A cassette session that cannot start as asked: one line naming the argument or file."""


def upstreams(given: str | Mapping[str, str] | None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Dialect (or ``*``) -> upstream base URL, from ``given`` or else the environment (module doc)."""
    env = os.environ if env is None else env
    if given is None:
        found = {_DEFAULT: env[UPSTREAM_ENV]} if env.get(UPSTREAM_ENV) else {}
        for dialect in DIALECTS:
            value = env.get(f"{UPSTREAM_ENV}_{dialect.upper()}")
            if value:
                found[dialect] = value
        where = f"${UPSTREAM_ENV}"
    elif isinstance(given, str):
        found, where = {_DEFAULT: given}, "upstream"
    elif isinstance(given, Mapping):
        found, where = dict(given), "upstream"
    else:
        raise SessionError(f"upstream: expected a URL or a mapping of dialect to URL, got {given!r}")
    for key, url in found.items():
        if key != _DEFAULT and key not in DIALECTS:
            raise SessionError(
                f"{where}: unknown dialect {key!r} (expected one of {', '.join(DIALECTS)} or *)"
            )
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise SessionError(f"{where}[{key}]: expected an http:// or https:// base URL, got {url!r}")
    return {k: v.rstrip("/") for k, v in found.items()}


class CassetteSession:
    """A cassette (or, in mode ``none``, a folder of them) served on 127.0.0.1 under ``record_mode``.

    ``url()`` is the base URL, ``url("openai")`` (or ``urls["openai"]``) a dialect's as its SDK takes it;
    ``problems()`` lists what went other than recorded (unused interactions, unmatched requests, requests
    turned away) and ``check()`` raises ``ReplayError`` for them; ``close()`` stops the servers and writes
    what was recorded (returns the path written, or ``None``). As a context manager: ``close()`` then
    ``check()`` on a clean exit. ``speed``, ``ignore``, ``ignore_query`` and ``ignore_path_version`` as for
    ``Replay``; ``repeat=True`` lets each interaction answer any number of times (default: once each)."""

    def __init__(
        self,
        path: str | Path,
        *,
        record_mode: str = "none",
        upstream: str | Mapping[str, str] | None = None,
        speed: float = 1.0,
        ignore: Sequence[str] = (),
        ignore_query: Sequence[str] = (),
        ignore_path_version: bool = False,
        repeat: bool = False,
        host: str = "127.0.0.1",
        settle_timeout: float = 5.0,
    ) -> None:
        if record_mode not in RECORD_MODES:
            raise SessionError(f"record_mode: expected one of {', '.join(RECORD_MODES)}, got {record_mode!r}")
        if not isinstance(speed, int | float) or isinstance(speed, bool) or speed < 0:
            raise SessionError(f"speed: expected a number >= 0, got {speed!r}")
        self.path = Path(path)
        self.record_mode = record_mode
        self.settle_timeout = settle_timeout
        exists = self.path.exists()
        if not exists and record_mode == "none":
            raise SessionError(
                f"{self.path}: no such cassette (record_mode 'none' only replays; 'once' records it)"
            )
        if self.path.is_dir() and record_mode == "new_episodes":
            raise SessionError(
                f"{self.path}: record_mode {record_mode!r} needs a cassette file, not a folder"
            )
        self.recording = record_mode == "new_episodes" or (record_mode == "once" and not exists)
        self.targets = upstreams(upstream) if self.recording else {}
        if self.recording and not self.targets:
            raise SessionError(
                f"record_mode {record_mode!r} records {self.path} but no upstream is given: pass "
                f"upstream=URL (or a mapping per dialect) or set ${UPSTREAM_ENV}"
            )
        self.cassettes = (
            fmt.load_folder(self.path) if self.path.is_dir() else [fmt.load(self.path)] if exists else []
        )
        self.replay = Replay(
            self.cassettes,
            speed=speed,
            ignore=ignore,
            ignore_query=ignore_query,
            ignore_path_version=ignore_path_version,
            once=not repeat,
        )
        upstream_engine = MockUpstream()
        self.replay.install(upstream_engine)
        self.recorded: list[fmt.Interaction] = []
        self._recorders: list[TrioThread] = []
        self._via: dict[str, str] = {}  # dialect or * -> the URL of the recorder in front of its upstream
        self._closed = False
        self.written: Path | None = None
        self.journal = Journal(
            self.path,
            self.cassettes[0]
            if self.cassettes
            else fmt.Cassette(
                meta={
                    "upstream": next(iter(self.targets.values())) if len(self.targets) == 1 else self.targets,
                    "recorder": f"wirecheck record_mode {self.record_mode}",
                }
            ),
        )  # opened at the first recorded interaction
        try:
            by_url: dict[str, str] = {}
            for key, url in self.targets.items():
                if url not in by_url:
                    start = functools.partial(
                        serve_recorder, url, None, host, 0, into=self.recorded, journal=self.journal
                    )
                    thread = TrioThread(start, name=f"wirecheck-recorder {url}")
                    self._recorders.append(thread)
                    by_url[url] = thread.value.url
                self._via[key] = by_url[url]
            self.server = BackgroundServer(
                upstream_engine, host, 0, on_unanswered=self._route if self.recording else None
            )
        except BaseException:
            self._stop_recorders()
            raise

    # -- serving --

    def _route(self, unanswered: Unanswered) -> str | None:
        """The recorder a request no interaction answered goes to (by its dialect), or None."""
        capture = unanswered.capture
        dialect = capture.dialect or guess(capture.path, dict(capture.headers)).name
        return self._via.get(dialect) or self._via.get(_DEFAULT)

    @property
    def urls(self) -> dict[str, str]:
        """The base URL of each dialect, as its SDK takes it (OpenAI's ends with ``/v1``)."""
        return self.server.urls

    def url(self, dialect: str | None = None) -> str:
        """The server's base URL, or with ``dialect`` that dialect's (``openai``, ``anthropic``, ...)."""
        if dialect is None:
            return self.server.url
        if dialect not in self.server.urls:
            raise KeyError(f"no dialect {dialect!r}: expected one of {', '.join(self.server.urls)}")
        return self.server.urls[dialect]

    # -- the account --

    def problems(self) -> list[str]:
        """What went other than recorded: unused interactions, unmatched requests, requests turned away."""
        return self.replay.problems()

    def check(self) -> None:
        """Raise ``ReplayError`` naming the cassette when ``problems()`` has anything."""
        problems = self.problems()
        if problems:
            raise ReplayError(f"{self.path}: replay did not go as recorded:\n  " + "\n  ".join(problems))

    # -- stopping --

    def _settle(self) -> None:
        """Wait (at most ``settle_timeout`` s) until every forwarded exchange has ended at the front."""
        deadline = time.monotonic() + self.settle_timeout
        while time.monotonic() < deadline:
            if all(c.completed or c.disconnected for c in self.replay.forwarded()):
                return
            time.sleep(_POLL)

    def _stop_recorders(self) -> None:
        errors = []
        for thread in self._recorders:
            try:
                thread.close()
            except Exception as exc:  # every recorder is stopped; the first failure is raised
                errors.append(exc)
        self._recorders = []
        if errors:
            raise errors[0]

    def close(self) -> Path | None:
        """Stop the servers (each within its timeout); what was recorded is in the file already (the new
        cassette in ``once``, appended in ``new_episodes``). Returns the path written, or None when nothing
        was recorded. ``InteractionsLeftOut`` when an exchange still held something secret-looking: it was
        left out (the others are written)."""
        if self._closed:
            return self.written
        self._closed = True
        left_out = []
        try:
            if self.recording:
                self._settle()
            self.server.close()
        finally:
            left_out = [item for thread in self._recorders for item in thread.value.left_out]
            self._stop_recorders()
            self.journal.close()
        if self.journal.written:
            self.written = self.path
        if left_out:
            raise InteractionsLeftOut(left_out)
        return self.written

    def __enter__(self) -> CassetteSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: Any) -> None:
        self.close()
        if kind is None:
            self.check()
