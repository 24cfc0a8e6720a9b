"""Gateway mode: the conformance suite run against a real gateway over HTTP, with the mock upstream behind
it, so both sides of the gateway are checked at once.

Topology::

    GatewayProvider ──front door (OpenAI / Anthropic / Gemini)──▶ gateway ──upstream dialect──▶ mock
         (the client)                                            (under test)              (capture)

1. The mock server starts as in the reference run (``mocks.server.serve`` on 127.0.0.1, port 0 or
   ``mock_port``), or a separate ``wirecheck serve`` process is used (``mock_url``).
2. The gateway starts (``ProcessLauncher``) with each upstream dialect's base URL pointing at the mock,
   or an already running one is attached to (``AttachLauncher``); see harness/gateway/process.py.
3. Each case runs once per upstream dialect the adapter routes to (one ``GatewayProvider`` class each):
   the case's model becomes that dialect's alias (``route_case``), the method calls the gateway's front
   door of its own dialect, and every check family judges what the client received and what the mock
   captured the gateway sending upstream (translated body, headers, auth, model name).

**Isolation.** The gateway is configured once, so the reference runner's per-call path prefix
(``/c/<token>/...``) cannot reach it: its upstream URLs are the mock's plain dialect URLs. The hub gets a
*lane* instead: every request that does not carry a ``/c/`` prefix goes to the upstream of the one call in
flight. Cases therefore run strictly one at a time (each case's main call, then its twins, each with its
own script and capture), and between calls the lane is closed: a request that reaches the mock while no
call is in flight (a late retry, a background request) is answered 503 and recorded as a *stray*, listed
with the case it followed. Correctness first: a model-alias-per-case scheme would allow concurrency, but
depends on the gateway forwarding wildcards and would change the upstream model every case checks.
With ``mock_url`` the lane is the remote mock itself: per call its script is replaced
(``POST /__wirecheck/script``, which also clears its captures) and the captures are read back
(``GET /__wirecheck/requests``); replies' bytes are not available there, so the ``mock`` fidelity check
is skipped in that mode.

**Spelling.** Gemini's proto3 JSON accepts every field in lowerCamelCase and in the proto's snake_case;
the lane records a Gemini request's field names in lowerCamelCase (``gemini_camel``: the caller's data in
``args``, ``response`` and schemas untouched), so expectations compare what the request means.

**Applicability.** Besides the runner's own rules (the case lists a reference provider of the same
upstream dialect), a case is not-applicable, with the reason in the report, when its method has no
front door on the gateway (``complete``/``complete_stream`` and ``is_*_compat`` describe a Provider
implementation, not HTTP behaviour), when it expects the client-side refusals ``not_implemented`` or
``invalid_request`` (a gateway never sees those requests), when the door probe found its front door
absent (``harness.gateway.doors``), when its door does not reach the upstream (a route's ``doors``), when
the adapter's ``capabilities`` exclude its method group, or when the adapter's ``not_applicable`` lists it.

**Connections.** The run's client keeps no connection alive: every request goes on a fresh one, so a
connection the gateway dropped can never fail the next case.

**Death.** A gateway that exits during the run cancels the case in flight and ends the run with
``GatewayDied`` naming the gateway, its exit status, the case and its log's last lines. Any error that
stops the run is raised as a ``GatewayError`` whose ``result`` holds every result collected so far plus an
error result for the case in flight, so the reports are still written. Ctrl-C (or SIGTERM, see
``harness.cli.main``) stops the gateway and raises ``harness.runner.RunInterrupted`` with the cases that
finished, whose reports ``main`` still writes.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import trio

from harness.baseline import Baseline
from harness.checks.meaning import GEMINI_CALLER_DATA
from harness.gateway.adapter import Adapter, ModelRoute
from harness.gateway.doors import absent_reason, probe_doors
from harness.gateway.process import GatewayDied, GatewayError, Launcher, RunningGateway
from harness.gateway.provider import METHOD_DOOR, GatewayProvider
from harness.gateway.transparency import probe_cases, registered
from harness.levels import Level, default_profile
from harness.runner import (
    CallUpstream,
    Context,
    PathIsolation,
    RunInterrupted,
    RunnerError,
    decide,
    is_interrupt,
    not_applicable_result,
    run_one,
)
from harness.runner import ProviderUnderTest as Put
from harness.scenario import Case
from harness.verdicts import CaseResult, RunResult, Verdict
from mocks.capture import CapturedRequest
from mocks.dialects import DIALECTS
from mocks.engine import CONTROL_PREFIX, Request
from mocks.reply import Frame, Reply
from mocks.server import serve
from mocks.variants import DEFAULT as DEFAULT_VARIANTS
from mocks.variants import VARIANTS
from providers.convert.leftovers import camel

__all__ = [
    "GatewayHub",
    "RemoteLane",
    "gateway_error",
    "gateway_providers",
    "not_applicable_reason",
    "route_case",
    "run_gateway",
    "run_gateway_async",
    "waive",
]

_PREFIX = re.compile(r"^/c/[0-9a-f]+(/.*)?$")


# --- isolation: the lane ------------------------------------------------------------------------------------


#: Gemini request fields that proto3 JSON also accepts in the proto's snake_case spelling (the API reads
#: both; LiteLLM writes snake_case), and the fields whose values are the caller's data, never renamed.
_GEMINI_FIELDS = frozenset(
    {
        "system_instruction", "generation_config", "safety_settings", "tool_config", "cached_content",
        "function_declarations", "function_call", "function_response", "function_calling_config",
        "allowed_function_names", "max_output_tokens", "stop_sequences", "candidate_count", "top_p", "top_k",
        "presence_penalty", "frequency_penalty", "response_mime_type", "response_schema",
        "response_json_schema", "response_modalities", "response_logprobs", "thinking_config",
        "thinking_budget", "include_thoughts", "thinking_level", "inline_data", "file_data", "mime_type",
        "file_uri", "thought_signature", "parameters_json_schema", "code_execution", "google_search",
        "executable_code", "code_execution_result", "video_metadata", "media_resolution", "speech_config",
        "seed_value", "labels_map",
    }
)  # fmt: skip


def gemini_camel(value: Any) -> Any:
    """A Gemini request with proto field names in lowerCamelCase (the caller's data left as it is)."""
    if isinstance(value, list):
        return [gemini_camel(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in _GEMINI_FIELDS:
            key = camel(key)
        out[key] = item if key in GEMINI_CALLER_DATA else gemini_camel(item)
    return out


class LaneUpstream(CallUpstream):
    """The per-call upstream of the lane: Gemini requests are captured with camelCase field names."""

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        capture = reply.capture
        if capture is not None and capture.dialect == "gemini" and isinstance(capture.json, dict):
            capture.json = gemini_camel(capture.json)
        return reply


class GatewayHub(PathIsolation):
    """The runner's path isolation plus a lane: requests without a ``/c/<token>`` prefix go to the upstream
    of the call in flight (the last one registered and not yet released). ``url_for`` is the mock's plain
    dialect URL (the gateway was configured with it; a gateway provider ignores it)."""

    def __init__(self, url: str = "") -> None:
        super().__init__(url)
        self.lane_token: str | None = None
        self.strays: list[dict[str, Any]] = []

    def register(self, script: Any) -> tuple[str, Any]:
        token = secrets.token_hex(8)
        upstream = LaneUpstream(script)
        self.calls[token] = upstream
        self.lane_token = token
        return token, upstream

    def release(self, token: str) -> None:
        super().release(token)
        if token == self.lane_token:
            self.lane_token = None

    def url_for(self, token: str, dialect: str) -> str:
        return self.url + DIALECTS[dialect].base_path

    def take_strays(self) -> list[dict[str, Any]]:
        out, self.strays = self.strays, []
        return out

    def handle(self, request: Request) -> Reply:
        if _PREFIX.match(request.target):
            return super().handle(request)
        upstream = self.calls.get(self.lane_token) if self.lane_token else None
        if upstream is None or request.target.startswith(CONTROL_PREFIX):
            self.strays.append({"method": request.method, "path": request.target, "at": time.time()})
            body = json.dumps(
                {"error": {"message": f"wirecheck: no case in flight for {request.method} {request.target}"}}
            ).encode()
            return Reply(503, [("content-type", "application/json")], [Frame(body)], len(body))
        return upstream.handle(request)


class RemoteUpstream:
    """The per-call upstream of a remote mock: its captures are read back when asked for."""

    def __init__(self, lane: RemoteLane) -> None:
        self.lane = lane
        self.sent: list[Any] = []  # reply bytes are not available from a remote mock

    @property
    def requests(self) -> list[CapturedRequest]:
        return self.lane.fetch()


class RemoteLane:
    """Isolation through a separate ``wirecheck serve`` at ``url``: one call at a time, its script loaded
    and its captures read over the control endpoints (blocking calls, one short request each: the run is
    sequential and the mock is another process)."""

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.client = httpx.Client(timeout=10.0)
        self.strays: list[dict[str, Any]] = []

    def register(self, script: Any) -> tuple[str, RemoteUpstream]:
        response = self.client.post(self.url + CONTROL_PREFIX + "script", json=script)
        if response.status_code != 200:
            raise GatewayError(
                f"the mock at {self.url} refused the script ({response.status_code}): {response.text[:300]} "
                "(is it a `wirecheck serve` of this version?)"
            )
        return secrets.token_hex(8), RemoteUpstream(self)

    def release(self, token: str) -> None:
        pass

    def url_for(self, token: str, dialect: str) -> str:
        return self.url + DIALECTS[dialect].base_path

    def take_strays(self) -> list[dict[str, Any]]:
        return []

    def fetch(self) -> list[CapturedRequest]:
        data = self.client.get(self.url + CONTROL_PREFIX + "requests").json()
        return [CapturedRequest.from_json(r) for r in data.get("requests", [])]

    def close(self) -> None:
        self.client.close()


# --- cases through the gateway ---------------------------------------------------------------------------------


def route_case(case: Case, route: ModelRoute) -> Case:
    """The case as a client of the gateway sends it for ``route``'s upstream: its model (the request's
    ``model``, the path ``model``, a ``model`` form field) replaced by the alias (of the route's default
    model when the case names another vendor's). Expectations follow: a ``model`` the response is
    expected to echo may also be the alias the client asked for or the model sent upstream, and when the
    gateway sends another model upstream than the case's, the expected upstream model (and a path naming
    it) is that one."""
    request = case.request
    originals: set[str] = set()
    if isinstance(request, dict):
        request = dict(request)
        if isinstance(request.get("model"), str):
            originals.add(request["model"])
            request["model"] = route.client_model(request["model"])
        if isinstance(request.get("fields"), list):
            fields = []
            for item in request["fields"]:
                if (
                    isinstance(item, dict)
                    and item.get("name") == "model"
                    and isinstance(item.get("value"), str)
                ):
                    originals.add(item["value"])
                    item = {**item, "value": route.client_model(item["value"])}
                fields.append(item)
            request["fields"] = fields
    model = case.model
    if model:
        originals.add(model)
        model = route.client_model(model)
    expect = dict(case.expect)
    error = expect.get("error")
    if isinstance(error, dict):
        expect["error"] = gateway_error(error)
    for key in ("result", "stream"):
        if key in expect:
            expect[key] = _echo_alias(expect[key], originals, route)
    if "upstream" in expect and any(route.upstream_model(m) != m for m in originals):
        expect["upstream"] = _upstream_model(expect["upstream"], originals, route)
    return dataclasses.replace(case, request=request, model=model, expect=expect)


#: Parts of an expected error that describe the client library rather than the wire (see ``gateway_error``).
_CLIENT_SIDE = ("raised", "items_before")
_BROKEN_WIRE = ("transport", "decode")


def gateway_error(want: Mapping[str, Any]) -> dict[str, Any]:
    """An expected error as a client of a gateway can see it. A broken upstream wire (an expected
    ``transport`` or ``decode`` error: a dropped connection, malformed JSON or SSE) reaches the client as
    whatever error the gateway reports (an HTTP error, an in-band error event, or its own connection cut):
    the client must get an error, of a kind, status and reason the gateway chooses. Where an error
    surfaces (``raised``: call or iterator, ``items_before``) depends on how much the gateway holds back
    before its first byte, which the transparency probes measure. Everything else (an upstream HTTP
    error's status, type, retry-after, message) is the gateway's to carry through."""
    out = {k: v for k, v in want.items() if k not in _CLIENT_SIDE}
    if out.get("kind") in _BROKEN_WIRE:
        out = {
            k: v for k, v in out.items() if k not in ("kind", "reason", "status", "error_type", "retry_after")
        }
    return out


def _echo_alias(want: Any, originals: set[str], route: ModelRoute) -> Any:
    if isinstance(want, dict):
        out = {}
        for key, value in want.items():
            if key in ("model", "modelVersion") and isinstance(value, str) and value in originals:
                names = sorted({value, route.client_model(value), route.upstream_model(value)})
                out[key] = {"$regex": "^(?:" + "|".join(re.escape(n) for n in names) + ")$"}
            else:
                out[key] = _echo_alias(value, originals, route)
        return out
    if isinstance(want, list):
        return [_echo_alias(v, originals, route) for v in want]
    return want


def _upstream_model(want: Any, originals: set[str], route: ModelRoute) -> Any:
    if isinstance(want, list):
        return [_upstream_model(w, originals, route) for w in want]
    if not isinstance(want, dict):
        return want
    out = {}
    for key, value in want.items():
        if key == "json" and isinstance(value, dict) and value.get("model") in originals:
            value = {**value, "model": route.upstream_model(value["model"])}
        elif key == "path" and isinstance(value, str):
            for name in originals:
                value = value.replace(f"/{name}:", f"/{route.upstream_model(name)}:").replace(
                    f"/{name}/", f"/{route.upstream_model(name)}/"
                )
        elif key == "path" and isinstance(value, dict) and isinstance(value.get("$regex"), str):
            pattern = value["$regex"]
            for name in originals:
                pattern = pattern.replace(name, re.escape(route.upstream_model(name)))
            value = {"$regex": pattern}
        elif isinstance(value, dict) and key in DIALECTS:
            value = _upstream_model(value, originals, route)
        out[key] = value
    return out


def not_applicable_reason(
    case: Case, put: Put, adapter: Adapter, absent: Mapping[str, str] | None = None
) -> str | None:
    """Why ``case`` does not apply to the gateway's ``put`` (see the module docstring), or None.
    ``absent``: the front doors the door probe found missing, with its evidence."""
    door = METHOD_DOOR.get(case.method)
    if door is None:
        return f"{case.method} has no HTTP front door: it describes a Provider implementation, not a gateway"
    if door not in adapter.front_doors:
        return f"gateway {adapter.name} has no {door} front door (for {case.method})"
    missing = absent_reason(adapter, door, absent or {})
    if missing is not None:
        return missing
    if not adapter.models[put.upstream_dialect].reached_by(door):
        return (
            f"gateway {adapter.name}'s {door} front door does not reach its {put.upstream_dialect} upstream"
        )
    capability = adapter.lacks(case.method, door)
    if capability is not None:
        return f"gateway {adapter.name} has no {capability} ({case.method}; the adapter's capabilities)"
    kind = (case.expect.get("error") or {}).get("kind")
    if kind == "not_implemented":
        return "expects the Provider contract's not_implemented refusal, which has no HTTP equivalent"
    if kind == "invalid_request":
        return "expects the client library to refuse the request before sending it: the gateway never sees it"
    entry = adapter.not_applicable_for(case.id, put.upstream_dialect)
    if entry is not None:
        return f"{entry.reason} ({adapter.source}:{entry.line})"
    return None


def gateway_providers(adapter: Adapter, url: str, values: Mapping[str, str] | None = None) -> list[Put]:
    """One provider under test per upstream dialect the adapter routes to: ``<name>/<dialect>``;
    ``values``: the run's template values (for request headers)."""
    out = []
    for dialect in adapter.dialects:
        name = f"{adapter.name}/{dialect}"
        cls = GatewayProvider.bind(name, url, adapter.front_doors, dialect, adapter.models[dialect], values)
        out.append(Put(name, cls, dialect, False))
    return out


# --- the run ----------------------------------------------------------------------------------------------------


def _unwrap(group: BaseExceptionGroup) -> BaseException:
    """The one GatewayError in a trio exception group (else the group itself)."""
    found = group.subgroup(lambda e: isinstance(e, GatewayError))
    while isinstance(found, BaseExceptionGroup) and len(found.exceptions) == 1:
        found = found.exceptions[0]
    return found if isinstance(found, GatewayError) else group


async def run_gateway_async(
    cases: Sequence[Case],
    adapter: Adapter,
    launcher: Launcher,
    *,
    baseline: Baseline | None = None,
    known_cases: Iterable[str] | None = None,
    deadline: float = 20.0,
    sdk: bool = True,
    transparency: bool = True,
    mock_port: int = 0,
    mock_url: str | None = None,
    progress: Callable[[CaseResult], None] | None = None,
    on_ready: Callable[[RunningGateway, Mapping[str, str]], None] | None = None,
    apply_baseline: bool = True,
    profile: Level | str | None = None,
    variants: Sequence[str] = DEFAULT_VARIANTS,
) -> RunResult:
    """Run ``cases`` (plus the transparency probes) against the gateway ``launcher`` starts or finds.
    ``profile``: the widest requirement level that can fail (default ``spec``: a gateway is held to the
    vendors' specs, not to the Provider contract of wirecheck's own clients). ``variants``: each case runs
    once per wire variant of the mock's replies (``mocks.variants``), its result named
    ``case[provider]{variant}``, as in the in-process runner."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise RunnerError(f"unknown wire variants {unknown}: expected some of {', '.join(VARIANTS)}")
    try:
        with registered():
            return await _run(
                cases, adapter, launcher, baseline=baseline, known_cases=known_cases, deadline=deadline, sdk=sdk,
                transparency=transparency, mock_port=mock_port, mock_url=mock_url, progress=progress,
                on_ready=on_ready, apply_baseline=apply_baseline, variants=tuple(variants),
                profile=Level(profile) if profile else default_profile(reference=False, gateway=True),
            )  # fmt: skip
    except BaseExceptionGroup as group:
        raise _unwrap(group) from None


def all_cases(cases: Sequence[Case], adapter: Adapter, transparency: bool = True) -> list[Case]:
    """The cases of a gateway run: the given ones, then the transparency probes of its front doors."""
    out = list(cases)
    t = adapter.transparency
    if transparency and t.enabled:
        out += probe_cases(
            adapter.front_doors,
            interval_ms=t.interval_ms,
            text=t.text,
            tolerance=t.tolerance,
            max_first_byte_ms=t.max_first_byte_ms,
            source=adapter.source,
        )
    return out


async def _run(
    cases: Sequence[Case],
    adapter: Adapter,
    launcher: Launcher,
    *,
    baseline: Baseline | None,
    known_cases: Iterable[str] | None,
    deadline: float,
    sdk: bool,
    transparency: bool,
    mock_port: int,
    mock_url: str | None,
    progress: Callable[[CaseResult], None] | None,
    on_ready: Callable[[RunningGateway, Mapping[str, str]], None] | None,
    apply_baseline: bool,
    profile: Level,
    variants: Sequence[str],
) -> RunResult:
    import httpx

    started = time.perf_counter()
    upstream_key = "sk-wirecheck-upstream-" + secrets.token_hex(12)
    every = all_cases(cases, adapter, transparency)
    deadline = adapter.deadline or deadline
    results: list[CaseResult] = []
    secrets_used = [upstream_key]
    names: list[str] = []

    in_flight: list[tuple[Case, Put]] = []  # the case being run, while it runs
    stopped: BaseException | None = None
    interrupted = False  # Ctrl-C: the gateway is stopped, the cases that finished are still reported
    # Fresh connections for every request (no keep-alive): a connection the gateway dropped while it sat
    # in the pool would fail the next case with a reset and no upstream request. Measured on loopback
    # against the mock: 2.3 ms a request without keep-alive, 1.2 ms with it; a new httpx client per case
    # would cost 30 ms (its SSL context).
    limits = httpx.Limits(max_keepalive_connections=0)
    try:
        async with (
            httpx.AsyncClient(follow_redirects=False, limits=limits) as client,
            trio.open_nursery() as nursery,
        ):
            lane: GatewayHub | RemoteLane
            if mock_url:
                lane = RemoteLane(mock_url)
                base = mock_url.rstrip("/")
            else:
                lane = GatewayHub()
                hosted = await nursery.start(serve, lane, "127.0.0.1", mock_port)
                base = lane.url = hosted.url
            upstreams = {d: base + DIALECTS[d].base_path for d in DIALECTS}
            try:
                gateway = await launcher.start(nursery, upstreams, upstream_key, client)
            except BaseException:
                if isinstance(lane, RemoteLane):
                    lane.close()
                raise
            try:
                if gateway.master_key:
                    secrets_used.append(gateway.master_key)
                if on_ready is not None:
                    on_ready(gateway, upstreams)
                puts = gateway_providers(adapter, gateway.url, gateway.values)
                absent = await probe_doors(adapter, gateway, lane, client) if adapter.door_probe else {}
                names[:] = [p.name for p in puts]
                ctx = Context(lane, gateway.master_key or "", deadline, sdk, client, profile=profile)

                def shown(result: CaseResult, case: Case) -> None:
                    if progress is None:
                        return
                    if apply_baseline and (baseline is not None or case.xfail):
                        result = (baseline or Baseline.empty()).apply([result], {case.id}, names, [case])[0]
                    progress(result)

                await _cases(
                    every,
                    puts,
                    variants,
                    adapter,
                    absent,
                    ctx,
                    gateway,
                    lane,
                    client,
                    results,
                    in_flight,
                    shown,
                )
            except Exception as exc:  # the gateway died, or the run broke: report what was collected
                stopped = exc
            finally:
                await gateway.stop()
                if isinstance(lane, RemoteLane):
                    lane.close()
                nursery.cancel_scope.cancel()
    except BaseException as exc:
        if is_interrupt(exc) and results:
            interrupted = True
        elif (  # a task of the run (the mock server, the watcher) failed, and something finished
            isinstance(exc, BaseExceptionGroup)
            and exc.subgroup(lambda e: not isinstance(e, Exception)) is None
            and results
        ):
            stopped = _unwrap(exc)
        else:
            raise

    ran = {c.id for c in every}
    if interrupted:
        ran = {r.case_id for r in results}
    if stopped is not None:
        if in_flight:
            case, put = in_flight[-1]
            results.append(_stopped_result(case, put, stopped))
        ran = {r.case_id for r in results}
    if apply_baseline:
        known = (set(known_cases) | ran) if known_cases is not None else ran
        whole = known <= ran and stopped is None and not interrupted
        results = (baseline or Baseline.empty()).apply(results, known, names, every, whole_suite=whole)
    run = RunResult(
        results,
        names,
        duration=time.perf_counter() - started,
        case_count=len(every),
        secrets=secrets_used,
    )
    if interrupted:
        raise RunInterrupted(run)
    if stopped is not None:
        error = (
            stopped
            if isinstance(stopped, GatewayError)
            else GatewayError(f"the run stopped: {type(stopped).__name__}: {stopped}")
        )
        error.result = run
        raise error from (None if error is stopped else stopped)
    return run


async def _cases(
    every: Sequence[Case],
    puts: Sequence[Put],
    variants: Sequence[str],
    adapter: Adapter,
    absent: Mapping[str, str],
    ctx: Context,
    gateway: RunningGateway,
    lane: GatewayHub | RemoteLane,
    client: Any,
    results: list[CaseResult],
    in_flight: list[tuple[Case, Put]],
    shown: Callable[[CaseResult, Case], None],
) -> None:
    """Every case through the gateway, one at a time, once per wire variant, each result appended to
    ``results`` as it comes (``in_flight`` names the case being run, for the report when the run stops on
    it)."""

    async def one_variant(case: Case, put: Put, variant: str) -> CaseResult:
        """One case under one wire variant, with the strays that followed it."""
        why = not_applicable_reason(case, put, adapter, absent)
        if why is not None:
            result = not_applicable_result(case, put, why)
            result.variant = variant
        else:
            in_flight.append((case, put))
            route = adapter.models[put.upstream_dialect]
            bound = dataclasses.replace(put, cls=put.cls.for_model(route.upstream_model(_model_of(case))))
            result = await _one(ctx, gateway, bound, route_case(case, route), variant)
            waive(result, adapter, put.upstream_dialect)
            # something went wrong: a gateway that no longer answers is dead (the case failed on that)
            if result.verdict is not Verdict.PASS and not await gateway.still_alive(client):
                raise gateway.died_error(during=f"case {case.id} [{put.name}]{{{variant}}}")
            in_flight.clear()
        strays = lane.take_strays()
        if strays:
            result.details["strays"] = strays
            if not result.message:
                result.message = f"{len(strays)} stray upstream request(s) after the call (see details)"
        return result

    for case in every:
        for put in puts:
            if not put.applies(case):
                continue
            for variant in variants:
                result = await one_variant(case, put, variant)
                results.append(result)
                shown(result, case)


def _model_of(case: Case) -> str:
    """The case's model (its ``model``, else its request's)."""
    if case.model:
        return case.model
    request = case.request
    return (
        request.get("model", "")
        if isinstance(request, dict) and isinstance(request.get("model"), str)
        else ""
    )


def _stopped_result(case: Case, put: Put, error: BaseException) -> CaseResult:
    """The error result of the case the run stopped on, naming why."""
    result = not_applicable_result(case, put, "")
    result.verdict = Verdict.ERROR
    result.message = f"the run stopped during this case: {error}"
    result.details = {"traceback": "".join(traceback.format_exception(error))}
    return result


def waive(result: CaseResult, adapter: Adapter, dialect: str) -> None:
    """Checks the adapter says do not apply to this case become skips (with the reason), and the
    verdict is decided again from the others."""
    waived = adapter.waived_checks(result.case_id, dialect)
    if not waived or result.verdict not in (Verdict.PASS, Verdict.FAIL):
        return
    for check in result.checks:
        entry = waived.get(check.id)
        if entry is not None and check.status != "skip":
            check.status = "skip"
            check.message = (
                f"not applicable to {adapter.name}: {entry.reason} ({adapter.source}:{entry.line})"
            )
            check.diff = []
    verdict, message = decide(result.checks)
    if verdict is Verdict.ERROR:  # every check that applied was waived
        verdict, message = Verdict.NOT_APPLICABLE, "every check of the case is waived for this gateway"
    result.verdict, result.message = verdict, message
    if verdict is Verdict.PASS:
        result.details = {}


async def _one(ctx: Context, gateway: RunningGateway, put: Put, case: Case, variant: str) -> CaseResult:
    """One case through the gateway under wire ``variant``; the gateway dying cancels it into
    ``GatewayDied``."""
    if gateway.died.is_set():
        raise gateway.died_error(during=f"case {case.id} [{put.name}]")
    with trio.CancelScope() as scope:
        gateway.on_death.append(scope.cancel)
        try:
            result = await run_one(ctx, put, case, variant)
        finally:
            gateway.on_death.remove(scope.cancel)
    if scope.cancelled_caught or gateway.died.is_set():
        raise gateway.died_error(during=f"case {case.id} [{put.name}]")
    return result


def run_gateway(cases: Sequence[Case], adapter: Adapter, launcher: Launcher, **kwargs: Any) -> RunResult:
    """``run_gateway_async`` under ``trio.run``. Raises ``GatewayError`` (start failure, death)."""
    return trio.run(lambda: run_gateway_async(cases, adapter, launcher, **kwargs))


__all__ += ["GatewayDied", "GatewayError", "all_cases"]
