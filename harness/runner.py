"""The conformance runner: every case × every applicable provider, against one in-process mock upstream.

The flow of one case (docs/design.md#case-flow):

1. **Isolation.** One standalone mock server (``mocks.server.serve`` on 127.0.0.1:0) runs in the
   runner's own trio nursery for the whole run. Its upstream is a ``PathIsolation`` (an ``Isolation``:
   ``run_one`` takes any, gateway mode passes its lane) that routes by a path prefix:
   each method call gets a fresh token and its own ``MockUpstream`` loaded with the case's script, and
   the provider is aimed at ``http://127.0.0.1:PORT/c/<token>`` (plus the dialect's base path, ``/v1``
   for OpenAI). The prefix is stripped before the per-call upstream sees the request, so captures,
   rule counters (``times``/``nth``) and replies never mix between concurrent cases. No change to the
   mocks package was needed: the hub and the per-call upstream subclass ``MockUpstream.handle``, the
   latter to keep every ``Reply`` it produced (the bytes the provider was sent, for mock fidelity).
2. **Provider.** Reference providers by name (``openai``, ``anthropic``, ``google``, ``azure``), built
   with an API key the run invents, a ``sleep`` that records retry waits instead of sleeping (so the
   suite is fast and ``expect.waits`` can check retry-after) and one ``httpx.AsyncClient`` shared by
   the whole run (a new client costs ~50 ms: its SSL context). A user's ``module:Class`` is built with
   ``base_url=`` and ``api_key=`` (and ``sleep=`` / ``client=`` if its constructor names them) and must say which
   upstream it speaks: a class attribute ``upstream_dialect`` or ``--upstream``. A provider written for
   asyncio (``harness.provider_loop`` decides) is built and called on one asyncio loop in its own thread
   through ``harness.asyncio_bridge``, with an asyncio ``sleep`` and never the trio-bound ``client``.
3. **Calls.** The case's method, under ``trio.fail_after(deadline)`` (a hang is a failed case, never a
   hung run), then its twins for the equivalence checks (``harness.checks.equivalence``). A method the
   provider does not offer (it inherits the contract's not-implemented default) is not-applicable.
4. **Facts → checks → verdict** (``harness.checks``, ``harness.verdicts``), checks in a worker thread
   (the SDK oracles are synchronous), then the baseline (``harness.baseline``).

Scheduling (``schedule``, ``run_async``): at most ``concurrency`` cases have calls in flight; a case's checks
run after its slot is freed, so a case waiting for an SDK oracle never holds the next case's calls. Jobs
start longest scripted wait first (it costs no CPU, so it overlaps the rest), then those without an oracle
stream, then those with one; reports keep the suite's order. A run with ``ORACLE_PROCESS_STREAMS`` oracle
streams or more judges them in one SDK oracle process (``harness.oracles.sdk_process``) started when the
run starts, which imports the SDKs on another core meanwhile; a smaller run imports them here in a thread.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import inspect
import json
import re
import secrets
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import trio

from harness import evidence
from harness.asyncio_bridge import AsyncioBridge
from harness.baseline import Baseline
from harness.checks import CheckCrashed, run_checks
from harness.checks.facts import STREAM_METHODS, Facts, Outcome, Sent
from harness.levels import Level, default_profile
from harness.provider_loop import choose_loop
from harness.scenario import REFERENCE_PROVIDERS, Case
from harness.verdicts import CaseResult, CheckResult, RunResult, Verdict
from mocks.dialects import DIALECTS
from mocks.engine import MockUpstream, Request
from mocks.reply import Frame, Reply
from mocks.server import serve
from mocks.variants import DEFAULT as DEFAULT_VARIANTS
from mocks.variants import VARIANTS
from providers import contract
from providers.base import NOT_IMPLEMENTED_DEFAULTS, TRANSLATING_DEFAULTS, Provider
from providers.registry import PROVIDERS, provider_class
from providers.transport import Timeouts

__all__ = [
    "REFERENCE_DIALECTS",
    "ProviderUnderTest",
    "RunInterrupted",
    "RunnerError",
    "oracles_ahead",
    "resolve_providers",
    "run",
    "run_async",
]

#: The upstream dialect (mocks dialect name) of each reference provider.
REFERENCE_DIALECTS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gemini",
    "azure": "azure",
}

#: Streaming method → its non-streaming twin (equivalence.stream; ``providers.contract``).
STREAM_TWIN: dict[str, str] = {m.name: m.stream_twin for m in contract.METHODS if m.stream_twin}
#: Typed method ↔ raw method, both ways (equivalence.raw; ``providers.contract``).
RAW_TWIN: dict[str, str] = {m.name: m.raw_twin for m in contract.METHODS if m.raw_twin}


class RunnerError(ValueError):
    """Bad input to the runner (an unknown provider, a user provider without an upstream dialect)."""


class HarnessError(Exception):
    """The harness could not build a call (e.g. a scenario request the wire model rejects)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a stop signal, ``harness.cli.main``) during a run: ``result`` holds the cases that had
    finished, so their reports can still be written; the cases cut short are left out."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("the run was interrupted")
        self.result = result


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is a ``KeyboardInterrupt``, alone or in a (trio nursery's) exception group."""
    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(KeyboardInterrupt) is not None
    return isinstance(exc, KeyboardInterrupt)


# --- providers under test ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProviderUnderTest:
    """A provider spec resolved: its display ``name`` (the spec as given), class, upstream dialect, and the
    event loop it runs on (``"trio"`` or ``"asyncio"``, ``harness.provider_loop``) with the reason."""

    name: str
    cls: type[Provider]
    upstream_dialect: str
    reference: bool
    loop: str = "trio"
    loop_reason: str = "reference providers run on trio"

    def applies(self, case: Case) -> bool:
        """Reference providers: the case lists them (or lists none). A user's provider: the case applies
        to some reference provider with the same upstream dialect."""
        if self.reference:
            return case.applies_to(self.name)
        names = case.providers or REFERENCE_PROVIDERS
        return any(REFERENCE_DIALECTS.get(n) == self.upstream_dialect for n in names)

    def inherited_defaults(self) -> frozenset[str]:
        """The translating defaults (``providers.base.TRANSLATING_DEFAULTS``) this provider inherits."""
        return frozenset(
            m for m in TRANSLATING_DEFAULTS if getattr(self.cls, m, None) is getattr(Provider, m)
        )

    def offers(self, method: str) -> bool:
        """False when the method is the contract's not-implemented default (not overridden)."""
        if method not in NOT_IMPLEMENTED_DEFAULTS:
            return True
        return getattr(self.cls, method, None) is not getattr(Provider, method)


def resolve_providers(
    specs: Sequence[str] | None, upstream: str | None = None, provider_loop: str = "auto"
) -> list[ProviderUnderTest]:
    """Providers from specs (default: every reference provider); ``provider_loop`` (``trio``, ``asyncio``,
    ``auto``) says where ``module:Class`` providers run. Raises ``RunnerError``."""
    out = []
    for spec in specs or REFERENCE_PROVIDERS:
        name = spec.strip()
        key = name.lower()
        if ":" not in name and key in PROVIDERS:
            key = "google" if key == "gemini" else key
            out.append(ProviderUnderTest(key, PROVIDERS[key], REFERENCE_DIALECTS[key], True))
            continue
        try:
            cls = provider_class(name)
        except LookupError as exc:
            raise RunnerError(str(exc)) from None
        dialect = upstream or getattr(cls, "upstream_dialect", None)
        if dialect not in DIALECTS:
            raise RunnerError(
                f"provider {name!r}: expected its upstream dialect ({', '.join(DIALECTS)}) as the class "
                f"attribute `upstream_dialect` or via --upstream, got {dialect!r}"
            )
        try:
            loop, reason = choose_loop(cls, provider_loop)
        except ValueError as exc:
            raise RunnerError(f"provider {name!r}: {exc}") from None
        out.append(ProviderUnderTest(name, cls, dialect, False, loop, reason))
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise RunnerError(f"providers given twice: {names}")
    return out


# --- isolation: one server, one upstream per call ----------------------------------------------------------

_PREFIX = re.compile(r"^/c/([0-9a-f]+)(/.*)?$")


class CallUpstream(MockUpstream):
    """A per-call upstream that also keeps every reply it produced (what the provider was sent)."""

    def __init__(self, script: Any) -> None:
        super().__init__(script)
        self.sent: list[Sent] = []

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        self.sent.append(
            Sent(
                status=reply.status,
                headers=list(reply.headers),
                body=reply.body if reply.send_head else b"",
                capture=reply.capture,
                complete=reply.send_head and reply.end == "complete",
            )
        )
        return reply


class CallCapture(Protocol):
    """What a registered call's upstream gives back: the requests it captured, the replies it sent."""

    @property
    def requests(self) -> list[Any]: ...

    sent: list[Any]


class Isolation(Protocol):
    """How each method call gets an upstream of its own. ``register`` loads a call's script and returns its
    token and the upstream that captures the call; ``url_for`` is the base URL a provider of ``dialect``
    is aimed at for that call; ``release`` ends the call; ``take_strays`` returns (and forgets) the
    requests that reached the mock while no call could claim them."""

    def register(self, script: Any) -> tuple[str, CallCapture]: ...

    def release(self, token: str) -> None: ...

    def url_for(self, token: str, dialect: str) -> str: ...

    def take_strays(self) -> list[dict[str, Any]]: ...


class PathIsolation(MockUpstream):
    """The in-process runner's isolation: one mock server (this upstream) routes ``/c/<token>/...`` to the
    upstream registered under ``token``, the prefix stripped. ``url`` is the server's base URL, set once
    it listens."""

    def __init__(self, url: str = "") -> None:
        super().__init__(None)
        self.url = url
        self.calls: dict[str, CallUpstream] = {}

    def register(self, script: Any) -> tuple[str, CallUpstream]:
        token = secrets.token_hex(8)
        upstream = CallUpstream(script)
        self.calls[token] = upstream
        return token, upstream

    def release(self, token: str) -> None:
        self.calls.pop(token, None)

    def url_for(self, token: str, dialect: str) -> str:
        return f"{self.url}/c/{token}{DIALECTS[dialect].base_path}"

    def take_strays(self) -> list[dict[str, Any]]:
        return []

    def handle(self, request: Request) -> Reply:
        m = _PREFIX.match(request.target)
        upstream = self.calls.get(m.group(1)) if m else None
        if upstream is None:
            body = json.dumps({"error": f"wirecheck hub: no case at {request.target}"}).encode()
            return Reply(404, [("content-type", "application/json")], [Frame(body)], len(body))
        inner = Request(request.method, m.group(2) or "/", request.headers, request.body)
        return upstream.handle(inner)


# --- building calls ------------------------------------------------------------------------------------------


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _model(case: Case, request: Any) -> str:
    if case.model:
        return case.model
    return request.get("model", "") if isinstance(request, dict) else ""


def _fields(request: Any) -> list[Any]:
    from providers.types.media import MultipartField

    out = []
    for item in (request or {}).get("fields", []):
        if "data_b64" in item:
            data = base64.b64decode(item["data_b64"])
        else:
            data = str(item.get("value", item.get("text", ""))).encode()
        out.append(MultipartField(item["name"], data, item.get("filename"), item.get("content_type")))
    return out


def _body_stream(body: bytes) -> Any:
    from providers.streams import Stream

    async def pieces() -> Any:
        half = len(body) // 2
        for piece in (body[:half], body[half:]):
            if piece:
                yield piece

    return Stream(pieces())


def _request_argument(method: contract.Method, case: Case, request: Any) -> Any:
    """The typed request: the wire model the method takes, parsed; the IR from the case's OpenAI chat JSON."""
    from providers.convert import openai as openai_convert
    from providers.types import ir

    if method.request is ir.Request:
        return openai_convert.request_to_ir(request)
    return method.request.parse(request)


def _model_argument(method: contract.Method, case: Case, request: Any) -> str:
    """The case's ``model:``, else (for a JSON body) the request's ``model``."""
    if "fields" in method.arguments:
        return case.model or ""
    return _model(case, request)


#: How the runner builds each argument of a contract method (``providers.contract.Method.arguments``).
_ARGUMENTS: dict[str, Callable[[contract.Method, Case, Any], Any]] = {
    "model": _model_argument,
    "request": _request_argument,
    "raw_body": lambda method, case, request: _compact(request),
    "body": lambda method, case, request: _body_stream(_compact(request)),
    "fields": lambda method, case, request: _fields(request),
}


async def build_args(method: str, case: Case, request: Any) -> tuple[Any, ...]:
    """The positional arguments of ``method`` for this case's request (raises ``HarnessError``)."""
    from providers.errors import ProviderError

    try:
        row = contract.BY_NAME[method]
        return tuple(_ARGUMENTS[name](row, case, request) for name in row.arguments)
    except ProviderError as exc:
        raise HarnessError(f"case {case.id}: its request is not a valid {method} request: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise HarnessError(f"case {case.id}: cannot build the {method} arguments: {exc}") from None


def twin_request(case: Case, method: str) -> Any:
    """The case's request as twin ``method`` takes it: a raw streaming twin whose wire asks for the stream
    in the body (``providers.contract.Method.stream_switch``) carries ``"stream": true`` (it is forwarded
    unparsed); non-streaming ones carry no streaming switches."""
    request = case.request
    if not isinstance(request, dict):
        return request
    request = dict(request)
    row = contract.BY_NAME[method]
    if row.streams and row.raw and row.stream_twin and row.stream_switch == "body":
        request["stream"] = True
    if not row.streams:
        request.pop("stream", None)
        request.pop("stream_options", None)
    return request


def replay_script(sent: Sent) -> dict[str, Any]:
    """A script that answers with exactly the bytes of an earlier reply."""
    reply: dict[str, Any] = {"status": sent.status, "body_b64": base64.b64encode(sent.body).decode("ascii")}
    if sent.content_type:
        reply["content_type"] = sent.content_type
    return {"rules": [{"name": "replay", "reply": reply}], "fallback": "not_found"}


def _twins(case: Case, dialect: str | None) -> list[tuple[str, str]]:
    setting = case.expect.get("equivalence", "auto")
    if setting is False:
        return []
    if setting == "auto":
        if "error" in case.expect or case.scripts_fault(dialect):
            return []
        roles = ["stream", "raw"]
    else:
        roles = list(setting)
    out = []
    if "stream" in roles and case.method in STREAM_TWIN:
        out.append(("stream", STREAM_TWIN[case.method]))
    if "raw" in roles and case.method in RAW_TWIN:
        out.append(("raw", RAW_TWIN[case.method]))
    return out


# --- wire variants --------------------------------------------------------------------------------------------

#: Methods whose upstream reply is a chat answer (what a JSON-shaping variant rewrites).
CHAT_METHODS: frozenset[str] = frozenset(STREAM_TWIN) | frozenset(STREAM_TWIN.values()) | frozenset(RAW_TWIN)
_LITERAL_REPLIES = ("json", "events", "body", "body_b64")
_BYTE_FAULTS = ("drip", "malformed_json")


def variant_not_applicable(case: Case, dialect: str, variant: str) -> str | None:
    """Why ``variant`` (``mocks.variants``) cannot apply to ``case`` on upstream ``dialect``, or ``None``.
    A variant changes only replies the mock renders itself; a case that scripts literal bytes, or faults
    and cuts placed at byte offsets, meant those exact bytes, so it is not run under a variant rather than
    judged on bytes it never scripted."""
    v = VARIANTS[variant]
    if v.plain:
        return None
    for rule in case.script_for(dialect)["rules"]:
        reply = rule.get("reply") or {}
        literal = next((k for k in _LITERAL_REPLIES if k in reply), None)
        if literal is not None:
            return f"the upstream is scripted as literal `{literal}`: variant {variant} would not change it"
        if "chunks" in reply:
            return f"the upstream scripts its byte chunks: variant {variant} would move them"
        faults = [rule.get("fault") or {}, *((rule.get("random") or {}).get("faults") or [])]
        for fault in faults:
            named = next((k for k in _BYTE_FAULTS if k in fault), None)
            if named is None and "after_bytes" in (fault.get("drop") or {}):
                named = "drop.after_bytes"
            if named is not None:
                return f"the upstream scripts a byte-placed fault ({named}): variant {variant} would move it"
    if v.framing and case.method not in STREAM_METHODS:
        return f"the reply is one JSON body: variant {variant} varies only how a stream is framed"
    if v.shape is not None and case.method not in CHAT_METHODS:
        return f"variant {variant} shapes chat replies only, not a {case.method} reply"
    return None


def _script(case: Case, dialect: str, variant: str) -> dict[str, Any]:
    script = case.script_for(dialect)
    return script if variant == "plain" else {**script, "variant": variant}


# --- the run --------------------------------------------------------------------------------------------------


@dataclass
class Context:
    """What every call of a run shares: the ``isolation`` that gives each call its upstream, the key
    providers are built with, the per-call ``deadline``, whether the SDK oracles run, the shared httpx
    ``client``, the asyncio ``bridge`` and the ``profile``."""

    isolation: Isolation
    api_key: str
    deadline: float
    sdk: bool
    client: Any = None  # one httpx.AsyncClient shared by the trio providers that take ``client=``
    bridge: AsyncioBridge | None = None  # where asyncio providers run
    profile: Level | None = None  # None: each provider's default (harness.levels.default_profile)

    def profile_for(self, put: ProviderUnderTest) -> Level:
        return self.profile or default_profile(reference=put.reference)


async def _build_provider(
    put: ProviderUnderTest, ctx: Context, token: str, waits: list[float]
) -> tuple[Any, bool]:
    """The provider instance aimed at the call's upstream, and whether its retry waits are recorded. An
    asyncio provider is constructed on the bridge's loop (within the deadline) and comes back as a
    ``BridgedProvider``; its ``sleep`` yields to asyncio, and it never gets the trio-bound ``client``."""
    on_asyncio = put.loop == "asyncio"
    pause = asyncio.sleep if on_asyncio else trio.sleep

    async def record_wait(seconds: float) -> None:
        waits.append(seconds)
        await pause(0)

    url = ctx.isolation.url_for(token, put.upstream_dialect)
    kwargs: dict[str, Any] = {"api_key": ctx.api_key}
    if put.reference and put.name == "azure":
        kwargs["endpoint"] = url
    else:
        kwargs["base_url"] = url
    params = _named_parameters(put.cls)
    recorded = "sleep" in params
    if recorded:
        kwargs["sleep"] = record_wait
    if "client" in params and ctx.client is not None and not on_asyncio:
        kwargs["client"] = ctx.client  # building an httpx client costs ~50 ms (its SSL context)
    if takes_total(put):
        kwargs["timeouts"] = Timeouts(total=ctx.deadline)
    try:
        if not on_asyncio:
            return put.cls(**kwargs), recorded
        assert ctx.bridge is not None, "run_async makes the bridge when a provider runs on asyncio"
        with trio.fail_after(ctx.deadline):
            return await ctx.bridge.build(put.cls, kwargs), recorded
    except trio.TooSlowError:
        raise HarnessError(f"cannot construct provider {put.name}: took over {ctx.deadline:g}s") from None
    except Exception as exc:
        raise HarnessError(f"cannot construct provider {put.name}: {type(exc).__name__}: {exc}") from exc


#: Seconds the runner's own deadline waits past a provider's ``Timeouts.total`` (the same case deadline),
#: so a provider that keeps it reports its own timeout error first.
TOTAL_GRACE = 1.0


def takes_total(put: ProviderUnderTest) -> bool:
    """Whether the provider's constructor takes ``timeouts=`` as a ``providers.transport.Timeouts`` (by its
    annotation; trio providers only): the runner then sets ``total`` to the case deadline. Constructors that
    do not name it, or name something else so, are built as before."""
    return put.loop != "asyncio" and _takes_timeouts(put.cls)


@functools.cache
def _takes_timeouts(cls: type) -> bool:
    """``takes_total`` for a class (read once per class: ``inspect.signature`` is slow enough to show in
    a whole suite's profile)."""
    try:
        parameter = inspect.signature(cls).parameters.get("timeouts")
    except (TypeError, ValueError):
        return False
    return parameter is not None and "Timeouts" in str(parameter.annotation)


@functools.cache
def _named_parameters(cls: type) -> frozenset[str]:
    """The keyword parameters a constructor names (read once per class). ``sleep=`` and ``client=`` go
    only to a constructor that names them: one that takes ``**kwargs`` did not ask for the injected clock,
    and passing it would switch on the retry-wait checks for a provider that never saw the clock."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(p.name for p in parameters if p.kind in named)


async def _close(provider: Any) -> None:
    closer = getattr(provider, "aclose", None)
    if closer is None:
        return
    with trio.move_on_after(2) as scope:
        scope.shield = True
        with contextlib.suppress(Exception):
            await closer()


async def _call(
    ctx: Context, put: ProviderUnderTest, case: Case, method: str, request: Any, script: Any, role: str
) -> Outcome:
    outcome = Outcome(method, role)
    expects_not_implemented = (case.expect.get("error") or {}).get("kind") == "not_implemented"
    if not put.offers(method) and not (role == "main" and expects_not_implemented):
        # A case that states the method must be refused is run: the refusal is what it checks.
        outcome.not_applicable = f"{put.name} does not offer {method} (contract default: not implemented)"
        return outcome
    token, upstream = ctx.isolation.register(script)
    provider = None
    try:
        provider, outcome.waits_known = await _build_provider(put, ctx, token, outcome.waits)
        args = await build_args(method, case, request)
        start = trio.current_time()
        try:
            with trio.fail_after(ctx.deadline + (TOTAL_GRACE if takes_total(put) else 0.0)):
                await _invoke(provider, method, args, outcome, start)
        except trio.TooSlowError:
            outcome.deadline_exceeded = True
            outcome.error = TimeoutError(f"deadline of {ctx.deadline:g}s exceeded")
        outcome.duration = trio.current_time() - start
    finally:
        if provider is not None:
            await _close(provider)
        outcome.captured = upstream.requests
        outcome.sent = list(upstream.sent)
        ctx.isolation.release(token)
    return outcome


async def _invoke(provider: Any, method: str, args: tuple[Any, ...], outcome: Outcome, start: float) -> None:
    try:
        value = getattr(provider, method)(*args)
        if inspect.isawaitable(value):
            value = await value
    except Exception as exc:
        outcome.error, outcome.raised = exc, "call"
        return
    if method not in STREAM_METHODS:
        outcome.result = value
        return
    outcome.result = value
    if not hasattr(value, "__aiter__"):
        outcome.error = TypeError(f"{method} returned {type(value).__name__}, not an async stream")
        outcome.raised = "call"
        return
    try:
        async for item in value:
            if not outcome.items:
                outcome.first_item_wall = time.time()
            outcome.items.append(item)
            outcome.item_times.append(trio.current_time() - start)
    except Exception as exc:
        outcome.error, outcome.raised = exc, "iterator"
    finally:
        closer = getattr(value, "aclose", None)
        if closer is not None:
            with trio.CancelScope(shield=True), contextlib.suppress(Exception):
                await closer()


async def run_one(
    ctx: Context,
    put: ProviderUnderTest,
    case: Case,
    variant: str = "plain",
    *,
    calls_done: Callable[[], None] | None = None,
) -> CaseResult:
    """One case for one provider, the mock sending wire ``variant``: calls, facts, checks, verdict (before
    the baseline). A variant that cannot apply to the case gives not-applicable with the reason.
    ``calls_done`` is called once the calls are over, before the checks run (the runner then lets the
    next case's calls start)."""
    started = time.perf_counter()
    result = CaseResult(
        case_id=case.id,
        provider=put.name,
        verdict=Verdict.ERROR,
        method=case.method,
        family=case.family,
        title=case.title,
        clause=case.clause.to_json(),
        source=f"{case.source}:{case.line}",
        level=str(case.level),
        profile=str(ctx.profile_for(put)),
        variant=variant,
    )
    try:
        dialect = put.upstream_dialect
        blocked = variant_not_applicable(case, dialect, variant)
        if blocked is not None:
            result.verdict, result.message = Verdict.NOT_APPLICABLE, blocked
            return result
        main = await _call(ctx, put, case, case.method, case.request, _script(case, dialect, variant), "main")
        facts = Facts(
            case,
            put.name,
            dialect,
            main,
            reference=put.reference,
            sdk=ctx.sdk,
            profile=ctx.profile_for(put),
            inherited=put.inherited_defaults(),
        )
        if main.not_applicable is not None:
            result.verdict, result.message = Verdict.NOT_APPLICABLE, main.not_applicable
            return result
        for role, twin in _twins(case, dialect):
            script = _script(case, dialect, variant)
            if role == "raw" and len(main.sent) == 1 and main.sent[0].complete and main.sent[0].status == 200:
                script = replay_script(main.sent[0])
            facts.siblings[role] = await _call(ctx, put, case, twin, twin_request(case, twin), script, role)
        if calls_done is not None:
            calls_done()
        checks = await _judge(facts)
        result.checks = checks
        result.first_item = main.first_item
        result.verdict, result.message = decide(checks)
        if result.verdict is Verdict.NOT_APPLICABLE and not case.level.fails_under(facts.profile):
            result.message = (
                f"the case is at level {case.level}, above the {facts.profile} profile: its checks are notes"
            )
        if result.verdict is not Verdict.PASS:
            result.details = _details(facts, checks)
    except (HarnessError, CheckCrashed) as exc:
        result.verdict, result.message = Verdict.ERROR, f"harness error: {exc}"
        result.details = {"traceback": getattr(exc, "trace", "") or traceback.format_exc()}
    except Exception as exc:
        result.verdict, result.message = Verdict.ERROR, f"harness error: {type(exc).__name__}: {exc}"
        result.details = {"traceback": traceback.format_exc()}
    finally:
        result.duration = time.perf_counter() - started
    return result


#: Seconds the checks of one case may take (they take milliseconds; an SDK oracle stuck in its SDK would
#: otherwise hold the run forever).
CHECKS_DEADLINE = 60.0


async def _judge(facts: Facts) -> list[CheckResult]:
    """Every check on ``facts``, in a worker thread (the SDK oracles are synchronous), under
    ``CHECKS_DEADLINE``: checks still running then are abandoned and the case is a harness error naming
    the check that did not return."""
    running: list[str] = []
    with trio.move_on_after(CHECKS_DEADLINE):
        return await trio.to_thread.run_sync(
            lambda: run_checks(facts, running=running), abandon_on_cancel=True
        )
    where = f"check {running[-1]}" if running else "the checks"
    raise HarnessError(f"{where} did not return within {CHECKS_DEADLINE:g} s: abandoned")


#: A run with at least this many oracle streams judges them in the SDK oracle process
#: (``harness.oracles.sdk_process``): the child's start and imports (~3 s of CPU on another core) pay off.
#: A smaller run, or one in a process that built the SDK clients already, judges them in its own process.
ORACLE_PROCESS_STREAMS = 24


def oracle_stream(case: Case) -> bool:
    """Whether the case's main call is a stream the SDK oracles may judge (a static estimate: the stream
    method of any dialect, the case not saying ``expect.sdk: false``)."""
    return case.method in STREAM_METHODS and case.expect.get("sdk") is not False


def scripted_wait(script: Any) -> float:
    """Seconds the mock is scripted to wait on a call (``delay_ms``, stalls' ``ms``, and
    ``event_delay_ms`` counted for ten events): a static estimate of a case's wall time that is not CPU."""
    if isinstance(script, list):
        return sum(scripted_wait(item) for item in script)
    if not isinstance(script, dict):
        return 0.0
    total = 0.0
    for key, value in script.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            if key in ("delay_ms", "ms"):
                total += value / 1000
            elif key == "event_delay_ms":
                total += 10 * value / 1000
        else:
            total += scripted_wait(value)
    return total


def schedule(jobs: Sequence[tuple[Case, ProviderUnderTest, str]]) -> list[int]:
    """The order in which the jobs start (indices into ``jobs``): the longest scripted waits first
    (longest-processing-time first: waiting costs no CPU, so they overlap the rest), then the jobs
    without an oracle stream, then those with one (by then the oracles' SDKs are imported); the
    suite's order otherwise. Results are reported in the suite's order whatever the schedule."""
    waits: dict[tuple[str, str], float] = {}

    def key(i: int) -> tuple[float, bool]:
        case, put, _ = jobs[i]
        found = (case.id, put.upstream_dialect)
        if found not in waits:
            waits[found] = scripted_wait(case.script_for(put.upstream_dialect))
        return (-waits[found], oracle_stream(case))

    return sorted(range(len(jobs)), key=key)


@contextlib.asynccontextmanager
async def _oracle_process(streams: int) -> AsyncIterator[bool]:
    """The run's SDK oracle process (``harness.oracles.sdk_process``), started first thing when the run has
    ``ORACLE_PROCESS_STREAMS`` oracle ``streams`` or more (or any, when ``oracles_ahead`` started it
    already) and this process has not built the SDK clients yet, and stopped when the run ends; yields
    whether it serves. Otherwise a run with oracle streams imports the SDKs here, in a worker thread
    (``_warm_sdks``), overlapping the first calls; one without imports nothing."""
    from harness.oracles import python_sdk, sdk_process

    ahead = sdk_process.serving()  # started by ``oracles_ahead``: already paid for
    if not streams or (streams < ORACLE_PROCESS_STREAMS and not ahead) or python_sdk.ready_here():
        yield False
        return
    sdk_process.start()
    try:
        yield sdk_process.serving()
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(sdk_process.stop)


def oracles_ahead(wanted: bool = True) -> contextlib.AbstractContextManager[None]:
    """For a caller about to load cases and then run them (``wirecheck run``): the SDK oracle process starts
    now, so that it imports the SDKs while the cases load; a run inside the block uses it (``run_async``)
    and it is stopped when the block ends (``harness.oracles.sdk_process.ahead``). ``wanted=False`` (the
    run has no SDK oracles) starts nothing."""
    from harness.oracles import sdk_process

    return sdk_process.ahead(wanted)


async def _warm_sdks() -> None:
    from harness.oracles import python_sdk

    with contextlib.suppress(Exception):
        await trio.to_thread.run_sync(python_sdk.warm, abandon_on_cancel=True)


async def _stop_js_oracles() -> None:
    """Stop the run's JS oracle worker (harness/checks/sdk_js.py), if one was started."""
    from harness.checks import sdk_js

    await trio.to_thread.run_sync(sdk_js.stop)


def decide(checks: list[CheckResult]) -> tuple[Verdict, str]:
    """The verdict of a set of check results (see harness.verdicts). Only the checks whose level counts
    under the run's profile decide; when every check that applied is above the profile, the case is
    not applicable at this profile (its notes are still reported)."""
    infidelity = [c for c in checks if c.failed and c.family == "mock"]
    if infidelity:
        return Verdict.MOCK_INFIDELITY, f"the scripted upstream is not faithful: {infidelity[0].message}"
    if any(c.failed for c in checks):
        return Verdict.FAIL, ""
    if not any(c.status == "pass" and c.counted and c.family != "mock" for c in checks):  # the mock's own
        judged = [c for c in checks if c.status != "skip" and c.family != "mock"]  # fidelity proves nothing
        if judged:
            return Verdict.NOT_APPLICABLE, "every check that applied is above the profile: they are notes"
        return Verdict.ERROR, "no check applied to this case: it checks nothing (a scenario bug)"
    return Verdict.PASS, ""


def _details(facts: Facts, checks: list[CheckResult]) -> dict[str, Any]:
    """What a failure report shows besides the checks: the upstream exchange of every call (credentials
    redacted), and what the main call's checks compared (``harness.evidence``, bounded)."""
    out: dict[str, Any] = {"compared": evidence.collect(facts, checks)}
    for o in facts.outcomes():
        entry: dict[str, Any] = {
            "requests": [
                {
                    k: v
                    for k, v in r.to_json().items()
                    if k in ("method", "path", "query", "headers", "status", "faults")
                }
                for r in o.captured
            ],
        }
        if o.error is not None:
            error = o.error
            entry["error"] = error.to_json() if hasattr(error, "to_json") else {"message": str(error)}
            entry["raised"] = o.raised
        if o.streamed:
            entry["items"] = len(o.items)
        out[f"{o.role}:{o.method}"] = entry
    return out


def not_applicable_result(case: Case, put: ProviderUnderTest, why: str) -> CaseResult:
    return CaseResult(
        case_id=case.id,
        provider=put.name,
        verdict=Verdict.NOT_APPLICABLE,
        method=case.method,
        family=case.family,
        title=case.title,
        clause=case.clause.to_json(),
        source=f"{case.source}:{case.line}",
        message=why,
        level=str(case.level),
    )


@contextlib.asynccontextmanager
async def _asyncio_bridge(
    providers: Sequence[ProviderUnderTest], given: AsyncioBridge | None
) -> AsyncIterator[AsyncioBridge | None]:
    """The bridge asyncio providers run on: the one given (its owner closes it), else a new one when some
    provider runs on asyncio, closed when the run ends (within ``AsyncioBridge.close``'s timeout)."""
    if given is not None or not any(p.loop == "asyncio" for p in providers):
        yield given
        return
    bridge = AsyncioBridge()
    try:
        yield bridge
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(bridge.close)


async def run_async(
    cases: Sequence[Case],
    providers: Sequence[ProviderUnderTest],
    *,
    baseline: Baseline | None = None,
    known_cases: Iterable[str] | None = None,
    concurrency: int = 8,
    deadline: float = 10.0,
    sdk: bool = True,
    api_key: str | None = None,
    progress: Callable[[CaseResult], None] | None = None,
    apply_baseline: bool = True,
    profile: Level | str | None = None,
    asyncio_bridge: AsyncioBridge | None = None,
    variants: Sequence[str] = DEFAULT_VARIANTS,
) -> RunResult:
    """Run inside an existing trio run (see ``run``)."""
    started = time.perf_counter()
    isolation = PathIsolation()
    api_key = api_key or "sk-wirecheck-" + secrets.token_hex(16)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise RunnerError(f"unknown wire variants {unknown}: expected some of {', '.join(VARIANTS)}")
    jobs = [
        (case, put, variant)
        for case in cases
        for put in providers
        if put.applies(case)
        for variant in variants
    ]
    results: list[CaseResult | None] = [None] * len(jobs)
    streams = sum(1 for case, _, _ in jobs if oracle_stream(case)) if sdk else 0  # judged by SDK oracles
    # Jobs start in ``schedule`` order: a slot is taken here before each starts (trio may run tasks
    # started together in either order, so a limiter taken inside the jobs would not keep it).
    slots = trio.Semaphore(max(1, concurrency))

    import httpx

    interrupted = False
    async with (
        _oracle_process(streams) as oracle_process,
        _asyncio_bridge(providers, asyncio_bridge) as bridge,
        httpx.AsyncClient(follow_redirects=False) as client,
        trio.open_nursery() as nursery,
    ):
        hosted = await nursery.start(serve, isolation, "127.0.0.1", 0)
        isolation.url = hosted.url
        ctx = Context(isolation, api_key, deadline, sdk, client, bridge, Level(profile) if profile else None)
        if streams and not oracle_process:
            nursery.start_soon(_warm_sdks)

        names = [p.name for p in providers]

        async def job(i: int, case: Case, put: ProviderUnderTest, variant: str) -> None:
            held = [True]

            def free() -> None:  # the slot bounds the calls in flight; the checks run in threads after
                if held.pop() if held else False:
                    slots.release()

            try:
                results[i] = shown = await run_one(ctx, put, case, variant, calls_done=free)
            finally:
                free()
            if progress is not None:
                if apply_baseline and (baseline is not None or case.xfail):  # show the verdict it will get
                    shown = (baseline or Baseline.empty()).apply([shown], {case.id}, names, [case])[0]
                progress(shown)

        try:
            async with trio.open_nursery() as jobs_nursery:
                for i in schedule(jobs):
                    await slots.acquire()
                    jobs_nursery.start_soon(job, i, *jobs[i])
        except BaseException as exc:  # Ctrl-C: the cases that finished are still reported
            if not is_interrupt(exc) or not any(results):
                raise
            interrupted = True
        finally:
            with trio.CancelScope(shield=True):
                await _stop_js_oracles()
        nursery.cancel_scope.cancel()

    done = [r for r in results if r is not None]
    if apply_baseline:
        ran = {c.id for c in cases}
        known = set(known_cases) if known_cases is not None else ran
        done = (baseline or Baseline.empty()).apply(
            done, known, [p.name for p in providers], cases, whole_suite=known <= ran and not interrupted
        )
    result = RunResult(
        done,
        [p.name for p in providers],
        duration=time.perf_counter() - started,
        case_count=len(cases),
        secrets=[api_key],
    )
    if interrupted:
        raise RunInterrupted(result)
    return result


def run(
    scenarios: Sequence[Case],
    providers: Sequence[str | ProviderUnderTest] | None = None,
    *,
    baseline: Baseline | None = None,
    concurrency: int = 8,
    deadline: float = 10.0,
    upstream: str | None = None,
    known_cases: Iterable[str] | None = None,
    sdk: bool = True,
    api_key: str | None = None,
    progress: Callable[[CaseResult], None] | None = None,
    apply_baseline: bool = True,
    profile: Level | str | None = None,
    provider_loop: str = "auto",
    asyncio_bridge: AsyncioBridge | None = None,
    variants: Sequence[str] = DEFAULT_VARIANTS,
) -> RunResult:
    """Run every case × applicable provider (default: the reference providers) under trio and return the
    verdicts, the ``baseline`` applied. ``known_cases`` are the ids of the whole suite (for baseline
    entries naming unknown cases; default: the given cases). ``profile`` is the widest requirement level
    that can fail (``harness.levels``); default: ``reference`` for the reference providers, ``contract``
    for a user's provider. ``provider_loop`` applies to providers given as specs
    (``harness.provider_loop``). Asyncio providers run on ``asyncio_bridge``, which its owner closes;
    without one the run makes its own and closes it before returning. Each (case, provider) runs once per
    wire variant in ``variants`` (``mocks.variants``; default: the plain bytes only)."""
    if providers is None:
        puts = resolve_providers(None, upstream)
    else:
        puts = [
            p if isinstance(p, ProviderUnderTest) else resolve_providers([p], upstream, provider_loop)[0]
            for p in providers
        ]
    return trio.run(
        lambda: run_async(
            scenarios,
            puts,
            baseline=baseline,
            known_cases=known_cases,
            concurrency=concurrency,
            deadline=deadline,
            sdk=sdk,
            api_key=api_key,
            progress=progress,
            apply_baseline=apply_baseline,
            profile=profile,
            asyncio_bridge=asyncio_bridge,
            variants=variants,
        )
    )


__all__ += [
    "CallCapture",
    "CallUpstream",
    "Context",
    "HarnessError",
    "Isolation",
    "PathIsolation",
    "build_args",
    "decide",
    "not_applicable_result",
    "replay_script",
    "run_one",
    "twin_request",
    "variant_not_applicable",
]
