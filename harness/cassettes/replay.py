"""Replay: cassettes become a mocks ``Script``, served by the one mock engine (docs/design.md: "a cassette is
just another source of upstream script").

Each interaction becomes one rule:

- **match**: method, path and query exactly, and the body: JSON bodies must be JSON-equal (objects
  compared without regard to key order, ``true`` is not ``1``, ``1`` is not ``1.0``); nothing is ignored by
  default, not even ``stream_options``. ``ignore`` takes JSON paths to leave out (``metadata.user_id``,
  ``messages[*].cache_control``, ``*`` for one key or index). A recorded value holding ``<scrubbed>`` (a
  secret the recorder took out) matches any value of the same shape, and a scrubbed query parameter is not
  compared. Headers are not compared (clients differ in user agents and SDK telemetry), nor are bodies
  that are not JSON (multipart boundaries are random).
- **relaxed matching** for parts known to vary (``format.MatchPolicy``), declared per cassette (its
  ``match`` key) and per call (``ignore``, ``ignore_query``, ``ignore_path_version``), the two adding up:
  ``ignore_query`` leaves query parameters out (``beta`` as the Anthropic SDK adds it, Azure's
  ``api-version``), ``ignore_path_version`` lets a version segment of the path (``v1``, ``v1beta``,
  ``v2alpha``) stand for any other, so ``/v1beta/models/x:generateContent`` matches a recorded
  ``/v1/models/x:generateContent``.
- **reply**: the recorded status and headers (less the transport ones: ``content-length``,
  ``transfer-encoding``, ``connection``, ``keep-alive``, and ``content-encoding`` since bodies are stored
  decoded) and the exact bytes: a plain body in one piece, a stream chunk by chunk at its recorded timing
  scaled by ``speed`` (2 = twice as fast, 0 = no waits). A recording cut short (``complete: false``) is cut
  the same way (the connection closes without the end of the body). The engine adds its dialect's usual
  reply headers where the recording has none of that name (request ids, rate-limit headers).
  Limitation: a Gemini JSON-array stream (``:streamGenerateContent`` without ``alt=sse``) keeps its bytes
  and chunk boundaries but not its inter-chunk timing (the mock's array framer owns that framing).
- **once**: each interaction answers one request (VCR's "once" mode); a repeat of the same request gets
  the next matching interaction in order, and one more is a near miss ("times: used up"). ``once=False``
  lets an interaction answer any number of times.

After a run, ``unused()`` lists the interactions nothing asked for, and ``check()`` raises
``ReplayError`` when there is any, or any request no interaction matched: a replay that served less than
the cassette recorded is a failure, never a silent green. A request the server forwarded elsewhere (to the
recording proxy, ``mocks.server``'s ``on_unanswered``) is answered, not unmatched.
"""

from __future__ import annotations

import collections
import functools
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import trio

from harness.cassettes.format import Cassette, Interaction, MatchPolicy, load, load_folder
from harness.cassettes.scrub import PLACEHOLDER
from mocks.capture import CapturedRequest, NearMiss
from mocks.dialects import guess, resolve
from mocks.engine import HostedUpstream, MockUpstream
from mocks.faults import DropFault
from mocks.framing import Event
from mocks.script import AuthPolicy, Match, ReplySpec, Rule, Script

__all__ = ["ExactMatch", "Replay", "ReplayError", "ReplaySession", "as_cassettes", "replaying"]

#: Response headers never replayed: they describe the recorded connection or an encoding undone on import.
TRANSPORT_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding", "content-type"}
)


class ReplayError(AssertionError):
    """A replay that did not go as recorded: interactions never served, or requests nothing matched."""


# --- matching -----------------------------------------------------------------------------------------------


@functools.cache
def _ignore_regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    for p in patterns:
        rx = re.escape(p).replace(r"\[\*\]", r"\[\d+\]").replace(r"\*", r"[^.\[]+")
        parts.append(rx)
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


#: A version segment of a path: /v1/, /v1beta/, /v2alpha1/, /v1preview/ (a whole segment).
_PATH_VERSION = re.compile(r"/v[0-9]+(?:(?:alpha|beta|preview)[0-9]*)?(?=/|$)")


def without_version(path: str) -> str:
    """``path`` with every version segment replaced by ``/v*``."""
    return _PATH_VERSION.sub("/v*", path)


def _wildcard(want: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in want.split(PLACEHOLDER)), re.DOTALL)


def json_diff(want: Any, got: Any, where: str, ignore: re.Pattern[str] | None) -> list[str]:
    """Why ``got`` is not JSON-equal to ``want`` (see the module doc), one reason per difference."""
    if ignore is not None and where and ignore.fullmatch(where):
        return []
    at = where or "(root)"
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"json.{at}: expected an object, got {_show(got)}"]
        out = []
        for key in want.keys() | got.keys():
            sub = f"{where}.{key}" if where else str(key)
            if key not in got:
                if ignore is None or not ignore.fullmatch(sub):
                    out.append(f"json.{sub}: missing (expected {_show(want[key])})")
            elif key not in want:
                if ignore is None or not ignore.fullmatch(sub):
                    out.append(f"json.{sub}: not expected (got {_show(got[key])})")
            else:
                out.extend(json_diff(want[key], got[key], sub, ignore))
        return sorted(out)
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"json.{at}: expected a list of {len(want)}, got {_show(got)}"]
        return [
            r
            for i, (w, g) in enumerate(zip(want, got, strict=True))
            for r in json_diff(w, g, f"{where}[{i}]", ignore)
        ]
    if isinstance(want, str) and PLACEHOLDER in want and isinstance(got, str):
        return (
            [] if _wildcard(want).fullmatch(got) else [f"json.{at}: expected {_show(want)}, got {_show(got)}"]
        )
    if type(want) is not type(got) or want != got:
        return [f"json.{at}: expected {_show(want)}, got {_show(got)}"]
    return []


@dataclass(frozen=True, slots=True)
class ExactMatch(Match):
    """A ``mocks.script.Match`` for one recorded request: exact method, path, query and JSON body."""

    exact_query: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    body: Any = None  # the recorded JSON body; None: the body is not compared
    ignore: re.Pattern[str] | None = None
    ignore_query: frozenset[str] = frozenset()
    ignore_path_version: bool = False

    def reasons(
        self,
        method: str,
        path: str,
        dialect: str | None,
        headers: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Any,
    ) -> list[str]:
        out: list[str] = []
        if self.method != method:
            out.append(f"method: expected {self.method}, got {method}")
        if self.path != path and not (
            self.ignore_path_version and without_version(self.path or "") == without_version(path)
        ):
            out.append(f"path: expected {self.path}, got {path}")
        for name in sorted(self.exact_query.keys() | query.keys()):
            if name in self.ignore_query:
                continue
            want = list(self.exact_query.get(name, ()))
            got = list(query.get(name, ()))
            if want != got:
                out.append(f"query.{name}: expected {_show(want or None)}, got {_show(got or None)}")
        if self.body is not None:
            if body is None:
                out.append("json: expected a JSON body, got none (or not JSON)")
            else:
                out.extend(json_diff(self.body, body, "", self.ignore))
        return out


# --- the script ---------------------------------------------------------------------------------------------


def _array_framed(it: Interaction) -> bool:
    """Whether the mock would frame scripted events of this request as Gemini's JSON array (the dialect the
    engine routes the request to, or guesses for it, is Gemini, and the query has no ``alt=sse``)."""
    req = it.request
    headers = {k: vs[0] for k, vs in req.headers.items()}
    found = resolve(req.method, req.path, headers)
    dialect = found[0] if found else guess(req.path, headers)
    return dialect.name == "gemini" and (req.query.get("alt") or [None])[0] != "sse"


def reply_for(it: Interaction, speed: float) -> tuple[ReplySpec, tuple[Any, ...]]:
    """The reply spec (and faults) that send ``it``'s recorded response."""
    resp = it.response
    scale = 0.0 if speed <= 0 else 1.0 / (1000.0 * speed)
    head = (resp.t_ms or 0.0) * scale
    headers = {k: ", ".join(vs) for k, vs in resp.headers.items() if k not in TRANSPORT_HEADERS}
    content_type = resp.header("content-type")
    faults: tuple[Any, ...] = () if resp.complete else (DropFault(after_bytes=len(resp.body)),)
    if resp.chunks is None or _array_framed(it):
        sizes = tuple(len(c.data) for c in resp.chunks or () if c.data)
        spec = ReplySpec(
            kind="body",
            value=resp.body,
            status=resp.status,
            headers=headers,
            content_type=content_type,
            delay=head,
            chunks=sizes if len(sizes) > 1 else (),
        )
        return spec, faults
    events = []
    last = resp.t_ms or 0.0
    for chunk in resp.chunks:
        wait = max(0.0, chunk.t_ms - last) * scale
        last = max(last, chunk.t_ms)
        events.append(Event(raw=chunk.data, delay=wait, scripted=True))
    spec = ReplySpec(
        kind="events",
        value=tuple(events),
        status=resp.status,
        headers=headers,
        content_type=content_type,
        delay=head,
        done=False,
    )
    return spec, faults


def match_for(it: Interaction, policy: MatchPolicy = MatchPolicy()) -> ExactMatch:
    """The match for ``it``'s request, leaving out what ``policy`` says (and scrubbed query parameters)."""
    req = it.request
    scrubbed = {k for k, vs in req.query.items() if any(PLACEHOLDER in v for v in vs)}
    return ExactMatch(
        method=req.method,
        path=req.path,
        exact_query={k: tuple(vs) for k, vs in req.query.items()},
        body=req.json,
        ignore=_ignore_regex(policy.ignore),
        ignore_query=frozenset(scrubbed | set(policy.ignore_query)),
        ignore_path_version=policy.ignore_path_version,
    )


def as_cassettes(sources: Cassette | str | Path | Iterable[Cassette | str | Path]) -> list[Cassette]:
    """Cassettes from cassettes, files and folders (recursively)."""
    if isinstance(sources, Cassette | str | Path):
        sources = [sources]
    out: list[Cassette] = []
    for s in sources:
        if isinstance(s, Cassette):
            out.append(s)
        elif Path(s).is_dir():
            out.extend(load_folder(s))
        else:
            out.append(load(s))
    return out


class Replay:
    """Cassettes as a mocks ``Script`` (``script``), and the account of what was served.

    ``ignore``, ``ignore_query``, ``ignore_path_version``: relaxed matching for every cassette, added to what
    each cassette declares (see the module doc). ``only``: (cassette index, interaction index) pairs to
    keep (default: all). Rule names are ``<cassette id>#<interaction index>``; ``install`` loads the script
    into a ``MockUpstream`` (or a hosted one) and forgets its earlier captures, so that ``unused()`` counts
    this run only."""

    def __init__(
        self,
        cassettes: Cassette | str | Path | Iterable[Cassette | str | Path],
        *,
        speed: float = 1.0,
        ignore: Sequence[str] = (),
        ignore_query: Sequence[str] = (),
        ignore_path_version: bool = False,
        once: bool = True,
        only: Iterable[tuple[int, int]] | None = None,
    ) -> None:
        self.cassettes = as_cassettes(cassettes)
        self.speed = speed
        keep = set(only) if only is not None else None
        given = MatchPolicy(tuple(ignore), tuple(ignore_query), ignore_path_version)
        rules: list[Rule] = []
        self.interactions: dict[str, Interaction] = {}
        names = collections.Counter(c.id for c in self.cassettes)
        for ci, cassette in enumerate(self.cassettes):
            cid = cassette.id if names[cassette.id] == 1 else f"{cassette.id}@{ci}"
            policy = cassette.match | given
            for ii, it in enumerate(cassette.interactions):
                if keep is not None and (ci, ii) not in keep:
                    continue
                name = f"{cid}#{ii}"
                reply, faults = reply_for(it, speed)
                rules.append(
                    Rule(
                        name=name,
                        index=len(rules),
                        match=match_for(it, policy),
                        reply=reply,
                        faults=faults,
                        times=1 if once else None,
                    )
                )
                self.interactions[name] = it
        self.script = Script(
            rules=tuple(rules),
            fallback="not_found",
            auth=AuthPolicy(required=False),
            source="replay of " + ", ".join(c.id for c in self.cassettes),
        )
        self.upstream: MockUpstream | None = None

    def install(self, upstream: MockUpstream | HostedUpstream) -> MockUpstream:
        """Load the script into ``upstream`` (rule counters restart, earlier captures are dropped)."""
        target = upstream.upstream if isinstance(upstream, HostedUpstream) else upstream
        target.log.clear()
        target.load(self.script)
        self.upstream = target
        return target

    def _requests(self) -> list[CapturedRequest]:
        if self.upstream is None:
            raise RuntimeError("Replay.install(upstream) first")
        return self.upstream.requests

    def served(self) -> collections.Counter[str]:
        """How many requests each interaction answered."""
        return collections.Counter(r.rule for r in self._requests() if r.rule in self.interactions)

    def unused(self) -> list[str]:
        """The interactions nothing asked for, in cassette order."""
        served = self.served()
        return [name for name in self.interactions if not served[name]]

    def unmatched(self) -> list[NearMiss]:
        """Requests no interaction matched (and that were not forwarded elsewhere), with the nearest
        interaction and why it missed."""
        if self.upstream is None:
            raise RuntimeError("Replay.install(upstream) first")
        return [near for near in self.upstream.unmatched if near.request.rule is None]

    def rejected(self) -> list[CapturedRequest]:
        """Requests the mock turned away before matching (e.g. an unknown anthropic-version), and did not
        forward elsewhere."""
        return [r for r in self._requests() if r.rejected is not None and r.rule is None]

    def forwarded(self) -> list[CapturedRequest]:
        """Requests no interaction answered that the server forwarded elsewhere (``rule``: where)."""
        return [r for r in self._requests() if r.rule is not None and r.rule not in self.interactions]

    def problems(self) -> list[str]:
        """One line per unused interaction, unmatched request and request turned away, in that order."""
        out = []
        for name in self.unused():
            it = self.interactions[name]
            out.append(f"unused interaction {name}: {it.request.method} {it.request.path}")
        out.extend(f"unmatched request: {near}" for near in self.unmatched())
        out.extend(f"request turned away ({r.rejected}): {r.method} {r.path}" for r in self.rejected())
        return out

    def check(self) -> None:
        """Raise ``ReplayError`` unless every interaction was served and every request matched."""
        problems = self.problems()
        if problems:
            raise ReplayError("replay did not go as recorded:\n  " + "\n  ".join(problems))


@dataclass
class ReplaySession:
    """A replay being served: ``url`` and ``urls`` (per dialect, as ``HostedUpstream``), and the replay."""

    replay: Replay
    hosted: HostedUpstream

    @property
    def url(self) -> str:
        return self.hosted.url

    @property
    def urls(self) -> dict[str, str]:
        return self.hosted.urls


@asynccontextmanager
async def replaying(
    cassettes: Cassette | str | Path | Iterable[Cassette | str | Path],
    *,
    speed: float = 1.0,
    ignore: Sequence[str] = (),
    ignore_query: Sequence[str] = (),
    ignore_path_version: bool = False,
    once: bool = True,
    check: bool = True,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[ReplaySession]:
    """Serve cassettes on the standalone mock server (trio) for the duration of the block; on a clean exit
    ``check()`` runs, so unused interactions fail the block. (From synchronous code, or any test style:
    ``harness.cassettes.session.CassetteSession``.)"""
    from mocks.server import serve

    replay = Replay(
        cassettes,
        speed=speed,
        ignore=ignore,
        ignore_query=ignore_query,
        ignore_path_version=ignore_path_version,
        once=once,
    )
    upstream = MockUpstream()
    replay.install(upstream)
    async with trio.open_nursery() as nursery:
        hosted: HostedUpstream = await nursery.start(partial(serve, upstream, host, port))
        try:
            yield ReplaySession(replay, hosted)
        finally:
            nursery.cancel_scope.cancel()
    if check:
        replay.check()
