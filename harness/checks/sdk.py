"""Family ``sdk``: the official SDKs as oracles over what a provider streamed.

For a successful stream in the OpenAI, Anthropic or Gemini dialect, the bytes a client would receive
(a raw stream's own bytes; a typed stream's items written in the dialect's SSE framing) are fed to the
official SDK's stream helper through an in-process mock transport, in strict validation mode:

- ``sdk.openai``: openai ``chat.completions.stream()`` (``httpx.MockTransport``);
- ``sdk.anthropic``: anthropic ``messages.stream()`` (``httpx2.MockTransport``);
- ``sdk.gemini``: google-genai's sync ``generate_content_stream`` (``httpx2.MockTransport``).

The check fails when the SDK raises ("sdk-raises") or assembles a different answer than the stream's
own accumulation: other text, other tool calls (name, arguments; OpenAI also the call ids, which the
SDK concatenates when a stream repeats them), another stop reason ("sdk-assembles-differently"). It
A stream that ends with an in-band error is the other way round: the SDK must raise an API error for it
("sdk-misses-the-error" otherwise). The check is skipped when the SDK is not installed or the case says ``expect.sdk: false``. SDK calls are
synchronous; the runner runs checks in worker threads, and each SDK has one client, used under a lock.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from typing import Any

from harness.checks import check
from harness.checks.facts import Facts, Outcome
from harness.checks.subset import show
from providers.convert.tables import stop_from
from providers.sse import anthropic_event, gemini_event, openai_event

_MODULES = {
    "openai": ("openai", "httpx"),
    "anthropic": ("anthropic", "httpx2"),
    "gemini": ("google.genai", "httpx2"),
}


def available(dialect: str) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in _MODULES[dialect])
    except (ImportError, ValueError):
        return False


def _target(f: Facts, dialect: str) -> Outcome | None:
    o = f.main
    if not f.sdk or f.expect.get("sdk") is False:
        return None
    if not o.streamed or o.output != dialect or not o.ok or not available(dialect):
        return None
    return o


_clients: dict[str, Any] = {}
_locks = {dialect: threading.Lock() for dialect in _MODULES}
_bodies: dict[str, bytes] = {}


class _Session:
    """One SDK client per dialect for the whole process (building one costs tens of milliseconds),
    used by one check at a time: the lock is held while the SDK reads ``body``."""

    def __init__(self, dialect: str, body: bytes) -> None:
        self.dialect = dialect
        self.body = body

    def __enter__(self) -> Any:
        _locks[self.dialect].acquire()
        _bodies[self.dialect] = self.body
        if self.dialect not in _clients:
            _clients[self.dialect] = _new_client(self.dialect)
        return _clients[self.dialect]

    def __exit__(self, *exc: object) -> None:
        _locks[self.dialect].release()


def _new_client(dialect: str) -> Any:
    def answer(module: Any) -> Any:
        return module.MockTransport(
            lambda request: module.Response(
                200, headers={"content-type": "text/event-stream"}, content=_bodies[dialect]
            )
        )

    if dialect == "openai":
        import httpx
        import openai

        return openai.OpenAI(
            api_key="sk-oracle",
            base_url="http://oracle.invalid/v1",
            http_client=httpx.Client(transport=answer(httpx)),
            _strict_response_validation=True,
            max_retries=0,
        )
    import httpx2

    if dialect == "anthropic":
        import anthropic

        return anthropic.Anthropic(
            api_key="sk-oracle",
            base_url="http://oracle.invalid",
            http_client=httpx2.Client(transport=answer(httpx2)),
            _strict_response_validation=True,
            max_retries=0,
        )
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        base_url="http://oracle.invalid", httpx_client=httpx2.Client(transport=answer(httpx2))
    )
    return genai.Client(api_key="oracle", http_options=options)


def warm() -> None:
    """Import the installed SDKs (about two seconds together): the runner calls this in a worker thread
    at the start of a run, so the imports overlap with the first calls instead of following them."""
    for dialect in _MODULES:
        if available(dialect):
            with _Session(dialect, b""):
                pass


def client_bytes(o: Outcome) -> bytes:
    """What a client of the provider reads: a raw stream's bytes, or typed items in the dialect's SSE."""
    if o.raw:
        return o.raw_bytes or b""
    if o.output == "openai":
        return b"".join(openai_event(item) for item in o.item_json) + b"data: [DONE]\n\n"
    if o.output == "anthropic":
        return b"".join(anthropic_event(item) for item in o.item_json)
    return b"".join(gemini_event(item) for item in o.item_json)


def _expects_error(o: Outcome) -> bool:
    from harness.checks.stream import ends_in_error

    return ends_in_error(o)


def _raised(o: Outcome, sdk: str, exc: Exception) -> list[str]:
    if _expects_error(o):
        return []  # the stream carried an error: raising it is what a client should see
    return [f"sdk-raises: {sdk} {type(exc).__name__}: {exc}"]


def _missed(o: Outcome) -> list[str] | None:
    if _expects_error(o):
        return ["sdk-misses-the-error: the stream ends with an error item, the SDK assembled a message"]
    return None


def _compare(ours: dict[str, Any] | None, theirs: dict[str, Any], with_ids: bool) -> list[str]:
    if ours is None:
        return []  # our own accumulation failed: fields / stream checks report it
    out = []
    if theirs["text"] != ours["text"]:
        out.append(
            f"sdk-assembles-differently: text {show(theirs['text'])}, stream accumulates to {show(ours['text'])}"
        )
    key = (
        (lambda c: (c["id"], c["name"], c["arguments"]))
        if with_ids
        else (lambda c: (c["name"], c["arguments"]))
    )
    mine = [key(c) for c in ours["tool_calls"]]
    sdk = [key(c) for c in theirs["tool_calls"]]
    if mine != sdk:
        out.append(f"sdk-assembles-differently: tool calls {show(sdk)}, stream accumulates to {show(mine)}")
    if theirs.get("stop") is not None and ours["stop"] is not None and theirs["stop"] != ours["stop"]:
        out.append(f"sdk-assembles-differently: stop {theirs['stop']}, stream accumulates to {ours['stop']}")
    return out


def _args(text: Any) -> Any:
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {"$invalid_json": text}


@check("sdk.openai")
def openai_oracle(f: Facts) -> list[str] | None:
    """The openai SDK's ``chat.completions.stream()`` (strict) assembles the stream as we do."""
    o = _target(f, "openai")
    if o is None:
        return None
    import openai

    try:
        with (
            _Session("openai", client_bytes(o)) as client,
            client.chat.completions.stream(model="m", messages=[{"role": "user", "content": "hi"}]) as stream,
        ):
            for _ in stream:
                pass
            try:
                completion = stream.get_final_completion()
            except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
                completion = exc.completion
    except Exception as exc:
        return _raised(o, "openai", exc)
    if (missed := _missed(o)) is not None:
        return missed
    choice = completion.choices[0]
    message = choice.message
    theirs = {
        "text": message.content or "",
        "tool_calls": [
            {"id": c.id, "name": c.function.name, "arguments": _args(c.function.arguments)}
            for c in message.tool_calls or ()
        ],
        "stop": stop_from("openai", choice.finish_reason).reason if choice.finish_reason else None,
    }
    return _compare(o.semantic, theirs, with_ids=True)


@check("sdk.anthropic")
def anthropic_oracle(f: Facts) -> list[str] | None:
    """The anthropic SDK's ``messages.stream()`` (strict) assembles the stream as we do."""
    o = _target(f, "anthropic")
    if o is None:
        return None
    try:
        with (
            _Session("anthropic", client_bytes(o)) as client,
            client.messages.stream(
                model="m", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
            ) as stream,
        ):
            message = stream.get_final_message()
    except Exception as exc:
        return _raised(o, "anthropic", exc)
    if (missed := _missed(o)) is not None:
        return missed
    theirs = {
        "text": "".join(b.text for b in message.content if b.type == "text"),
        "tool_calls": [
            {"id": b.id, "name": b.name, "arguments": b.input}
            for b in message.content
            if b.type == "tool_use"
        ],
        "stop": stop_from("anthropic", message.stop_reason).reason if message.stop_reason else None,
    }
    return _compare(o.semantic, theirs, with_ids=True)


@check("sdk.gemini")
def gemini_oracle(f: Facts) -> list[str] | None:
    """google-genai's ``generate_content_stream`` reads every item and assembles the stream as we do."""
    o = _target(f, "gemini")
    if o is None:
        return None
    try:
        with _Session("gemini", client_bytes(o)) as client:
            chunks = list(client.models.generate_content_stream(model="gemini-x", contents="hi"))
    except Exception as exc:
        return _raised(o, "google-genai", exc)
    if (missed := _missed(o)) is not None:
        return missed
    text, calls = [], []
    for chunk in chunks:
        for candidate in (chunk.candidates or ())[:1]:
            for part in (candidate.content.parts if candidate.content else None) or ():
                if part.function_call is not None:
                    calls.append(
                        {
                            "id": part.function_call.id,
                            "name": part.function_call.name,
                            "arguments": part.function_call.args or {},
                        }
                    )
                elif part.text is not None and not part.thought:
                    text.append(part.text)
    theirs = {"text": "".join(text), "tool_calls": calls, "stop": None}
    return _compare(o.semantic, theirs, with_ids=False)
