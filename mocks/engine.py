"""The engine: ``MockUpstream.handle(request) -> Reply``, the logic both servers share.

For each request, in order:

1. capture it (credentials redacted) and find its route: dialect, endpoint, path parameters;
2. on a known route, let the dialect turn it away as the real upstream would (missing or wrong key,
   unknown ``anthropic-version``, Azure without ``api-version``, unreadable JSON);
3. find the first rule that matches and is not used up (``times``) or waiting for its turn (``nth``); when
   none does, either generate a reply (``fallback: generate``) or answer 404 in the dialect's shape and
   record a near miss;
4. build the body: a replacing fault (error, auth) or the rule's reply; generated and ``answer`` replies
   first pass the dialect's request validation (scripted ``json``/``events``/``body`` replies do not: the
   script is in charge), then take the script's wire ``variant`` (``mocks.variants``; literal replies
   and fault bodies keep their bytes);
5. shape it: delivery faults, chunking, delays (``mocks.faults.shape``); a reply with none of them, nor
   a wire variant's write regrouping, is marked ``together`` (a server may send it in one write).

Steps 4 and 5 are remembered per rule and request (``_Rendered``) when they are a pure function of them:
no faults, and a body the script or a dialect's generator made (those draw every value from generators
seeded by the request). Capture, matching, counters and the per-request headers still run every time.

Servers stay thin: they turn bytes into a ``Request``, call ``handle`` and walk the ``Reply``.

Control paths (not captured, for tools that drive a standalone server from another process):
``GET /__wirecheck/requests`` and ``GET /__wirecheck/unmatched`` return the captures as JSON,
``POST /__wirecheck/reset`` forgets them and restarts the rule counters, ``POST /__wirecheck/script``
(a JSON script as the body) replaces the script and forgets the captures (a gateway run attached to a
separate ``wirecheck serve`` swaps the script per case this way).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from mocks.capture import CapturedRequest, CaptureLog, NearMiss
from mocks.dialects import DIALECTS, Call, Dialect, guess, resolve
from mocks.faults import AuthFault, ErrorFault, Fault, Shaped, describe, shape
from mocks.framing import Body
from mocks.generate import scripted_answer
from mocks.reply import Frame, Reply
from mocks.script import DIALECTS as DIALECT_NAMES
from mocks.script import ReplySpec, Rule, Script, ScriptError, load_script, parse_script
from mocks.variants import VARIANTS

__all__ = ["HostedUpstream", "MockUpstream", "Request", "as_script"]


@dataclass(frozen=True, slots=True)
class Request:
    """A request as a server read it: ``target`` is the raw path and query."""

    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes = b""


def as_script(script: Script | Mapping[str, Any] | list[Any] | str | Path | None) -> Script:
    """A ``Script`` from a script, plain data, or the path of a YAML/JSON file."""
    if script is None:
        return Script()
    if isinstance(script, Script):
        return script
    if isinstance(script, str | Path):
        return load_script(script)
    return parse_script(script)


def _parse_json(body: bytes, content_type: str | None) -> tuple[Any, str | None]:
    if not body:
        return None, None
    if "json" not in (content_type or "") and body.lstrip()[:1] not in (b"{", b"["):
        return None, None
    try:
        return json.loads(body), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, str(exc)


def _distance(reasons: list[str]) -> int:
    """How far a rule is from matching: a wrong method, path or dialect is a different endpoint and weighs
    more than any number of header, query or body differences."""
    return sum(100 if r.startswith(("method:", "path:", "dialect:")) else 1 for r in reasons)


CONTROL_PREFIX = "/__wirecheck/"
_NO_RULE_SPEC = ReplySpec()  # what a request no rule answers gets (read only, so one serves them all)


@dataclass(frozen=True, slots=True)
class _Rendered:
    """A reply body as rendered and shaped for one rule and request, kept to be sent again: generating
    and encoding a small reply costs more than everything else the engine does for a request."""

    status: int
    content_type: str
    headers: dict[str, str]
    shaped: Shaped
    together: bool  # ``Reply.together``: nothing in the script times or groups the writes
    memo: dict[str, bytes]  # ``Reply.memo``: what a server derives from the frames, kept with them


_RENDERED_ENTRIES = 256  # distinct (rule, request) pairs remembered per loaded script
_RENDERED_BYTES = 64 << 10  # larger replies are rendered each time: memory over speed


def _request_key(rule: Rule | None, call: Call) -> tuple[Any, ...]:
    """Everything a rendered reply can depend on besides the script: the rule, the request line and
    headers, and a digest of the body (the key must not keep large bodies alive)."""
    digest = hashlib.blake2b(call.body, digest_size=16).digest()
    query = tuple((k, tuple(v)) for k, v in call.query.items())
    return (rule.index if rule else -1, call.method, call.path, query, tuple(call.headers.items()), digest)


def _shape(body: Body, faults: tuple[Fault, ...], spec: ReplySpec, call: Call, dialect: Dialect) -> _Rendered:
    shaped = shape(
        body,
        faults,
        chunks=spec.chunks,
        head_delay=spec.delay,
        error_event=lambda fault: dialect.stream_error(call, fault),
    )
    together = (
        not faults
        and not spec.chunks
        and body.regroup is None
        and shaped.head_delay == 0
        and shaped.send_head
        and shaped.end == "complete"
        and all(f.delay == 0 for f in shaped.frames)
    )
    return _Rendered(body.status, body.content_type, body.headers, shaped, together, {})


class MockUpstream:
    """A scripted upstream: load a script, hand it requests, read what it captured (``capture_limit``
    keeps only the latest captures)."""

    def __init__(
        self,
        script: Script | Mapping[str, Any] | list[Any] | str | Path | None = None,
        *,
        capture_limit: int | None = None,
    ) -> None:
        self.log = CaptureLog(capture_limit)
        self._lock = threading.Lock()
        self.load(script)

    def load(self, script: Script | Mapping[str, Any] | list[Any] | str | Path | None) -> None:
        """Replace the script (rule counters restart; captures are kept)."""
        parsed = as_script(script)
        # One tuple, swapped in one assignment: a request in flight keeps the script it started with and
        # that script's counters. Per rule: requests that met its match, requests it answered; then the
        # rendered replies of this script.
        rendered: dict[tuple[Any, ...], _Rendered] = {}
        self._state = (parsed, [0] * len(parsed.rules), [0] * len(parsed.rules), rendered)

    @property
    def script(self) -> Script:
        return self._state[0]

    @property
    def requests(self) -> list[CapturedRequest]:
        return self.log.requests

    @property
    def unmatched(self) -> list[NearMiss]:
        return self.log.unmatched

    def handle(self, request: Request) -> Reply:
        script, seen, used, rendered = self._state
        method = request.method.upper()
        path, _, query_text = request.target.partition("?")
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path.removeprefix(CONTROL_PREFIX), request.body)
        query = parse_qs(query_text, keep_blank_values=True) if query_text else {}
        pairs = [(k.lower(), v) for k, v in request.headers]
        headers: dict[str, str] = {}
        for k, v in pairs:
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        capture = self.log.record(method, path, query, pairs, request.body)
        found = resolve(method, path, headers)
        dialect, endpoint, params = found if found else (guess(path, headers), None, {})
        data, json_error = _parse_json(request.body, headers.get("content-type"))
        capture.json = data
        capture.dialect = dialect.name if found else None
        capture.endpoint = endpoint
        call = Call(
            method, path, query, headers, request.body, data, json_error, endpoint, params, script.seed
        )
        call.variant = script.variant

        spec, faults, rule = _NO_RULE_SPEC, (), None
        body: Body | None = None
        rejected = dialect.check(call, script.auth) if found else None
        if rejected is not None:
            capture.rejected, body = rejected
        else:
            rule, call_number = self._match(script, seen, used, call, capture.dialect)
            if rule is not None:
                capture.rule = rule.name
                spec = rule.reply
                faults = rule.faults + (
                    rule.random.pick(script.seed, rule.name, call_number) if rule.random else ()
                )
                body = self._replace(call, dialect, faults)
            elif not found or script.fallback == "not_found":
                near = self._near_miss(script, seen, used, call, capture)
                self.log.miss(near)
                body = dialect.not_found(call, f"wirecheck mock: {near}")

        if body is None and not faults:
            done = self._render_once(rendered, rule, call, dialect, spec, found is not None, capture)
        else:
            if body is None:
                body, _ = self._render(call, dialect, spec, found is not None, capture)
            done = _shape(body, faults, spec, call, dialect)
        shaped = done.shaped
        capture.status = done.status
        capture.faults = [describe(f) for f in faults] + shaped.ignored if faults or shaped.ignored else []
        out_headers = {**dialect.headers(call), "content-type": done.content_type, **done.headers}
        return Reply(
            status=done.status,
            headers=list(out_headers.items()),
            frames=list(shaped.frames),
            content_length=shaped.content_length,
            head_delay=shaped.head_delay,
            send_head=shaped.send_head,
            end=shaped.end,
            capture=capture,
            together=done.together,
            memo=done.memo,
        )

    def _control(self, method: str, name: str, body: bytes = b"") -> Reply:
        if (method, name) == ("POST", "script"):
            try:
                script = parse_script(json.loads(body or b"{}"), source="POST /__wirecheck/script")
            except ScriptError as exc:
                status, obj = 400, {"error": str(exc)}
            except ValueError as exc:
                status, obj = 400, {"error": f"POST /__wirecheck/script: the body is not JSON: {exc}"}
            else:
                self.log.clear()
                self.load(script)
                status, obj = 200, {"script": True, "rules": len(script.rules)}
            payload = json.dumps(obj).encode()
            return Reply(status, [("content-type", "application/json")], [Frame(payload)], len(payload))
        if (method, name) == ("GET", "requests"):
            status, obj = 200, {"requests": [r.to_json() for r in self.requests]}
        elif (method, name) == ("GET", "unmatched"):
            status, obj = 200, {"unmatched": [n.to_json() for n in self.unmatched]}
        elif (method, name) == ("POST", "reset"):
            self.log.clear()
            self.load(self.script)
            status, obj = 200, {"reset": True}
        else:
            status, obj = 404, {"error": f"no control endpoint {method} {CONTROL_PREFIX}{name}"}
        payload = json.dumps(obj).encode()
        return Reply(status, [("content-type", "application/json")], [Frame(payload)], len(payload))

    # -- rules --

    def _match(
        self, script: Script, seen: list[int], used: list[int], call: Call, dialect: str | None
    ) -> tuple[Rule | None, int]:
        with self._lock:
            for rule in script.rules:
                if rule.match.reasons(call.method, call.path, dialect, call.headers, call.query, call.json):
                    continue
                i = rule.index
                seen[i] += 1
                if rule.nth is not None and seen[i] != rule.nth:
                    continue
                if rule.times is not None and used[i] >= rule.times:
                    continue
                used[i] += 1
                return rule, used[i]
        return None, 0

    def _near_miss(
        self, script: Script, seen: list[int], used: list[int], call: Call, capture: CapturedRequest
    ) -> NearMiss:
        if not script.rules:
            return NearMiss(capture, None, ())
        with self._lock:
            seen, used = list(seen), list(used)
        best: tuple[Rule, list[str]] | None = None
        for rule in script.rules:
            reasons = rule.match.reasons(
                call.method, call.path, capture.dialect, call.headers, call.query, call.json
            )
            if not reasons:
                if rule.times is not None and used[rule.index] >= rule.times:
                    reasons.append(f"times: used up ({used[rule.index]} of {rule.times})")
                if rule.nth is not None:
                    reasons.append(f"nth: answers call {rule.nth} only, this was call {seen[rule.index]}")
            if best is None or _distance(reasons) < _distance(best[1]):
                best = (rule, reasons)
        assert best is not None
        return NearMiss(capture, best[0].name, tuple(best[1]))

    # -- bodies --

    def _replace(self, call: Call, dialect: Dialect, faults: tuple[Fault, ...]) -> Body | None:
        """The reply of a replacing fault (error or auth), if the rule declares one."""
        for fault in faults:
            if isinstance(fault, ErrorFault):
                return dialect.error(call, fault)
            if isinstance(fault, AuthFault):
                return dialect.auth_error(call, fault.missing)
        return None

    def _render_once(
        self,
        rendered: dict[tuple[Any, ...], _Rendered],
        rule: Rule | None,
        call: Call,
        dialect: Dialect,
        spec: ReplySpec,
        routed: bool,
        capture: CapturedRequest,
    ) -> _Rendered:
        """The rendered and shaped reply of ``rule`` (no faults) to ``call``, from ``rendered`` when this
        request was answered before. A dialect's error body is not kept: it may carry a fresh request id."""
        key = _request_key(rule, call)
        done = rendered.get(key)
        if done is not None:
            call.event_delay = spec.event_delay
            return done
        body, pure = self._render(call, dialect, spec, routed, capture)
        done = _shape(body, (), spec, call, dialect)
        if pure and sum(len(f.data) for f in done.shaped.frames) <= _RENDERED_BYTES:
            with self._lock:
                rendered[key] = done
                if len(rendered) > _RENDERED_ENTRIES:
                    del rendered[next(iter(rendered))]
        return done

    def _render(
        self, call: Call, dialect: Dialect, spec: ReplySpec, routed: bool, capture: CapturedRequest
    ) -> tuple[Body, bool]:
        """The body of ``spec`` for ``call``, and whether it is a pure function of them (see ``_Rendered``)."""
        call.event_delay = spec.event_delay
        pure = True
        if spec.kind in ("generate", "answer"):
            body = self._generated(call, dialect, spec, routed, capture)
            pure = body.status < 400 and capture.rejected is None
            variant = VARIANTS[call.variant]
            if pure and not variant.plain:
                body = variant.apply(body, dialect.name, call.endpoint in dialect.chat_endpoints)
        elif spec.kind == "json":
            body = dialect.json_body(spec.value)
        elif spec.kind == "events":
            events = list(spec.value) + (dialect.trailer(call) if spec.done else [])
            body = Body(
                content_type=dialect.stream_content_type(call), events=events, framer=dialect.framer(call)
            )
        else:
            body = Body(payload=spec.value, content_type="application/octet-stream")
        if spec.status is not None:
            body.status = spec.status
        if spec.content_type is not None:
            body.content_type = spec.content_type
        body.headers.update(spec.headers)
        return body, pure

    def _generated(
        self, call: Call, dialect: Dialect, spec: ReplySpec, routed: bool, capture: CapturedRequest
    ) -> Body:
        if not routed:
            return dialect.not_found(
                call, f"wirecheck mock: no generated reply for {call.method} {call.path}"
            )
        invalid = dialect.validate(call)
        if invalid is not None:
            capture.rejected = "validation"
            return dialect.error(call, invalid)
        if spec.kind == "generate":
            return dialect.generated(call)
        if call.endpoint not in dialect.chat_endpoints:
            message = f"wirecheck mock script error: an `answer` reply needs a chat endpoint, not {call.path}"
            return dialect.error(call, ErrorFault(500, message=message))
        answer = scripted_answer(spec.value, dialect.ask(call), call.rng(dialect.name, "answer"))
        return dialect.render(call, answer)


class HostedUpstream:
    """A ``MockUpstream`` reachable at ``url``: what both server adapters hand to their users."""

    def __init__(self, upstream: MockUpstream, url: str) -> None:
        self.upstream = upstream
        self.url = url

    @property
    def urls(self) -> dict[str, str]:
        """The base URL an SDK of each dialect takes (OpenAI's ends with ``/v1``)."""
        return {name: self.url + DIALECTS[name].base_path for name in DIALECT_NAMES}

    def script(self, script: Script | Mapping[str, Any] | list[Any] | str | Path | None) -> None:
        self.upstream.load(script)

    @property
    def requests(self) -> list[CapturedRequest]:
        return self.upstream.requests

    @property
    def unmatched(self) -> list[NearMiss]:
        return self.upstream.unmatched
