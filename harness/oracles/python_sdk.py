"""The official Python SDKs driven over a stream's bytes: what each one assembles from them, as plain data.

The checks of family ``sdk`` (``harness/checks/sdk.py``) judge what ``answer`` returns; the oracle process
(``harness.oracles.sdk_process``) computes it in a child of its own. This module imports nothing of
``harness.checks`` (its facts, scenarios and mocks): the child pays only for the SDKs.

For the OpenAI, Anthropic or Gemini dialect, the bytes are fed to the official SDK's stream helper through
an in-process mock transport, in strict validation mode:

- ``openai``: openai ``chat.completions.stream()`` (``beta.chat.completions.stream()`` before 1.92);
- ``anthropic``: anthropic ``messages.stream()``;
- ``gemini``: google-genai's sync ``generate_content_stream``.

The mock transport is the installed SDK's own flavour of httpx: ``httpx2.MockTransport`` when its
distribution requires httpx2 (anthropic >= 1, openai >= 3, google-genai >= 3), else ``httpx``'s.

``answer(dialect, body)`` is ``("assembled", theirs)`` (``{"text", "tool_calls": [{"id", "name",
"arguments"}], "stop"}``, see ``harness.checks.oracle.assembled``), ``("raised", "<type>: <message>")``
when the SDK threw while reading the stream, or ``("skip", reason)`` when the oracle cannot drive the
installed SDK, the reason **naming the SDK and its version**: a version older than ``SDKS[...].oldest``
(the oldest version each oracle was measured to work with), a client that cannot be built the oracle's
way, a TypeError / AttributeError raised by this module's own calls into the SDK (an API the version
lacks), or a client that stayed busy for ``LOCK_TIMEOUT`` seconds (an earlier call stuck in the SDK): that
dialect is then given up for the rest of the process (``give_up``).

SDK calls are synchronous. Each SDK has one client for the process (building one costs tens of
milliseconds), used by one call at a time under a lock that a context manager always releases.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata
import importlib.util
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.convert.tables import stop_from

__all__ = [
    "LOCK_TIMEOUT",
    "SDKS",
    "Sdk",
    "Unusable",
    "answer",
    "available",
    "give_up",
    "given_up",
    "one_line",
    "ready_here",
    "release",
    "transport",
    "version",
    "warm",
]


class Unusable(Exception):
    """The oracle cannot drive the dialect's installed SDK; ``str()`` is the skip reason (one line)."""


@dataclass(frozen=True, slots=True)
class Sdk:
    """One official SDK: its distribution ``name`` (as pip knows it), the ``module`` to import, and the
    ``oldest`` version its oracle works with (measured; pyproject's ``dev`` extra says the same)."""

    name: str
    module: str
    oldest: str


#: The SDK of each dialect the oracles consult. The oldest versions were measured by running the whole
#: shipped suite with the SDK oracles in a scratch venv and comparing every sdk.* verdict with the newest
#: SDKs' (openai 3.63, anthropic 2.17, google-genai 3.6.1): equal at these, at openai 1.92 / 2.54 / 3.0,
#: anthropic 0.125 / 1.0 and google-genai 2.34 / 3.0. One below: openai 1.44 (LengthFinishReasonError has no
#: ``completion``; before 1.40 no stream helper at all), anthropic 0.50 (strict validation rejects the
#: ``refusal`` stop reason; 0.27 also thinking and citation blocks), google-genai 1.45 (HttpOptions has no
#: ``httpx_client``, so no transport can be handed in).
SDKS: dict[str, Sdk] = {
    "openai": Sdk("openai", "openai", "1.45.0"),
    "anthropic": Sdk("anthropic", "anthropic", "0.51.0"),
    "gemini": Sdk("google-genai", "google.genai", "1.46.0"),
}
#: Seconds a call waits for its dialect's SDK client before giving that dialect up.
LOCK_TIMEOUT = 30.0


@functools.cache
def version(dialect: str) -> str | None:
    """The installed version of the dialect's SDK, or None."""
    try:
        return importlib.metadata.version(SDKS[dialect].name)
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.cache
def transport(dialect: str) -> str:
    """The httpx flavour the installed SDK is built on: ``httpx2`` when its distribution requires it (an
    extra's requirement does not count), else ``httpx``."""
    try:
        requires = importlib.metadata.requires(SDKS[dialect].name) or []
    except importlib.metadata.PackageNotFoundError:
        return "httpx"
    names = {
        re.split(r"[\s<>=!~\[(]", spec.split(";", 1)[0], maxsplit=1)[0].lower()
        for spec in requires
        if "extra" not in spec.partition(";")[2]
    }
    return "httpx2" if "httpx2" in names else "httpx"


@functools.cache
def available(dialect: str) -> bool:
    """The dialect's SDK and the httpx flavour it is built on are importable (looked up once per
    process: every oracle check asks, and finding a module spec walks ``sys.path``)."""
    try:
        modules = (SDKS[dialect].module, transport(dialect))
        return version(dialect) is not None and all(importlib.util.find_spec(m) is not None for m in modules)
    except (ImportError, ValueError):
        return False


def release(text: str) -> tuple[int, ...]:
    """A version's release numbers, comparable (``1.45`` is ``1.45.0``; a pre-release counts as its
    release); ``()`` when there are none."""
    found = re.match(r"\d+(?:\.\d+)*", text)
    numbers = [int(n) for n in found.group().split(".")] if found else []
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def _label(dialect: str) -> str:
    return f"{SDKS[dialect].name} {version(dialect)}"


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(exc: BaseException) -> str:
    return one_line(f"{type(exc).__name__}: {exc}")


def _incompatible(dialect: str, detail: str = "") -> str:
    """The skip reason for an SDK version the oracle cannot drive."""
    sdk = SDKS[dialect]
    detail = f" ({detail})" if detail else ""
    needs = f"the oracle needs {sdk.name}>={sdk.oldest}"
    if release(version(dialect) or "") >= release(sdk.oldest):
        needs += ", and was not made for this newer version"
    return f"{_label(dialect)}: stream helper API differs{detail}; {needs}"


# --- one client per dialect, one call at a time ----------------------------------------------------------------

_clients: dict[str, Any] = {}
_locks = {dialect: threading.Lock() for dialect in SDKS}
_bodies: dict[str, bytes] = {}
#: Dialects whose client stayed busy past LOCK_TIMEOUT: the skip reason, for the rest of the process.
_stuck: dict[str, str] = {}


@contextlib.contextmanager
def _session(dialect: str, body: bytes) -> Iterator[Any]:
    """The dialect's SDK client (built once per process: building one costs tens of milliseconds), whose
    transport answers every request with ``body``, held by this thread alone until the block ends,
    however it ends. Raises ``Unusable`` for an SDK version the oracle cannot drive and when the client
    stays busy past ``LOCK_TIMEOUT``."""
    if release(version(dialect) or "") < release(SDKS[dialect].oldest):
        raise Unusable(_incompatible(dialect))
    if dialect in _stuck:
        raise Unusable(_stuck[dialect])
    lock = _locks[dialect]
    if not lock.acquire(timeout=LOCK_TIMEOUT):
        raise Unusable(give_up(dialect))
    try:
        if dialect not in _clients:
            try:
                _clients[dialect] = _new_client(dialect)
            except Exception as exc:
                raise Unusable(_incompatible(dialect, f"building its client: {_one_line(exc)}")) from exc
        _bodies[dialect] = body
        yield _clients[dialect]
    finally:
        lock.release()


def give_up(dialect: str) -> str:
    """Give the dialect's oracle up for the rest of the process (its SDK stayed busy past
    ``LOCK_TIMEOUT``: here, or in the oracle process) and return the skip reason, the same every time."""
    return _stuck.setdefault(
        dialect,
        f"{_label(dialect)}: its client stayed busy for {LOCK_TIMEOUT:g} s (an earlier oracle is "
        "stuck in the SDK); this oracle is given up for the rest of the run",
    )


def given_up(dialect: str) -> bool:
    """The dialect's oracle was given up (``give_up``)."""
    return dialect in _stuck


def _new_client(dialect: str) -> Any:
    http = importlib.import_module(transport(dialect))

    def answer(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=_bodies[dialect])

    client = http.Client(transport=http.MockTransport(answer))
    if dialect == "openai":
        import openai

        return openai.OpenAI(
            api_key="sk-oracle",
            base_url="http://oracle.invalid/v1",
            http_client=client,
            _strict_response_validation=True,
            max_retries=0,
        )
    if dialect == "anthropic":
        import anthropic

        return anthropic.Anthropic(
            api_key="sk-oracle",
            base_url="http://oracle.invalid",
            http_client=client,
            _strict_response_validation=True,
            max_retries=0,
        )
    from google import genai
    from google.genai import types

    options: dict[str, Any] = {"base_url": "http://oracle.invalid", "httpx_client": client}
    if "httpx_async_client" in getattr(types.HttpOptions, "model_fields", {}):
        # Without one the client builds its own async client on a real transport, which the oracle never
        # uses: ~0.35 s of imports (httpcore) and an SSL context in the oracle process.
        options["httpx_async_client"] = http.AsyncClient(transport=http.MockTransport(answer))
    return genai.Client(api_key="oracle", http_options=types.HttpOptions(**options))


def warm() -> None:
    """Import the installed SDKs and build their clients here (about two seconds together): the runner
    calls this in a worker thread at the start of a run that judges its oracles in this process, and the
    oracle process (``harness.oracles.sdk_process``) before it says it is ready."""
    for dialect in SDKS:
        if available(dialect):
            with contextlib.suppress(Unusable), _session(dialect, b""):
                pass


def ready_here() -> bool:
    """Every installed SDK's client is built in this process already (judging here costs no imports)."""
    return all(dialect in _clients for dialect in SDKS if available(dialect))


_HERE = Path(__file__).resolve()


def _in_glue(exc: BaseException) -> bool:
    """A TypeError / AttributeError raised in this module's own code (a call, an argument or an attribute
    the installed SDK does not have), not inside the SDK while it reads the stream."""
    if not isinstance(exc, TypeError | AttributeError):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve() == _HERE


def answer(dialect: str, body: bytes) -> tuple[str, Any]:
    """What the dialect's SDK makes of the stream ``body``, as plain data (picklable, so that the oracle
    process, ``harness.oracles.sdk_process``, can send it back): ``("assembled", theirs)`` (see
    ``harness.checks.oracle.assembled``), ``("raised", "<exception type>: <message>")`` when the SDK
    threw while reading it, or ``("skip", reason)`` when the oracle cannot drive the installed SDK."""
    try:
        with _session(dialect, body) as client:
            return "assembled", _READERS[dialect](client)
    except Unusable as unusable:
        return "skip", str(unusable)
    except Exception as exc:
        if _in_glue(exc):
            return "skip", _incompatible(dialect, _one_line(exc))
        return "raised", f"{type(exc).__name__}: {exc}"


def _read_openai(client: Any) -> dict[str, Any]:
    import openai

    helper = getattr(client.chat.completions, "stream", None) or client.beta.chat.completions.stream
    finished = tuple(
        getattr(openai, name)
        for name in ("LengthFinishReasonError", "ContentFilterFinishReasonError")
        if hasattr(openai, name)
    )
    with helper(model="m", messages=[{"role": "user", "content": "hi"}]) as stream:
        for _ in stream:
            pass
        try:
            completion = stream.get_final_completion()
        except finished as exc:
            completion = exc.completion
    if not completion.choices:
        return {"text": "", "tool_calls": [], "stop": None}
    choice = completion.choices[0]
    message = choice.message
    return {
        "text": message.content or "",
        "tool_calls": [
            {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
            for c in message.tool_calls or ()
        ],
        "stop": stop_from("openai", choice.finish_reason).reason if choice.finish_reason else None,
    }


def _read_anthropic(client: Any) -> dict[str, Any]:
    request = {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    with client.messages.stream(**request) as stream:
        message = stream.get_final_message()
    return {
        "text": "".join(b.text for b in message.content if b.type == "text"),
        "tool_calls": [
            {"id": b.id, "name": b.name, "arguments": b.input}
            for b in message.content
            if b.type == "tool_use"
        ],
        "stop": stop_from("anthropic", message.stop_reason).reason if message.stop_reason else None,
    }


def _read_gemini(client: Any) -> dict[str, Any]:
    chunks = list(client.models.generate_content_stream(model="gemini-x", contents="hi"))
    text, calls = [], []
    for chunk in chunks:
        for candidate in (chunk.candidates or ())[:1]:
            for part in (candidate.content.parts if candidate.content else None) or ():
                if part.function_call is not None:
                    call = part.function_call
                    calls.append(
                        {"id": getattr(call, "id", None), "name": call.name, "arguments": call.args or {}}
                    )
                elif part.text is not None and not getattr(part, "thought", None):
                    text.append(part.text)
    return {"text": "".join(text), "tool_calls": calls, "stop": None}


#: How each dialect's oracle reads the stream with the SDK client (``answer`` picks by dialect).
_READERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "openai": _read_openai,
    "anthropic": _read_anthropic,
    "gemini": _read_gemini,
}
