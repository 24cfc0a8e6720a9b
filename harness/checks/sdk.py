"""Family ``sdk``: the official SDKs as oracles over what a provider streamed.

For a successful stream in the OpenAI, Anthropic or Gemini dialect, the bytes a client would receive
(a raw stream's own bytes; a typed stream's items written in the dialect's SSE framing) are fed to the
official SDK's stream helper through an in-process mock transport, in strict validation mode:

- ``sdk.openai``: openai ``chat.completions.stream()`` (``beta.chat.completions.stream()`` before 1.92);
- ``sdk.anthropic``: anthropic ``messages.stream()``;
- ``sdk.gemini``: google-genai's sync ``generate_content_stream``.

The mock transport is the installed SDK's own flavour of httpx: ``httpx2.MockTransport`` when its
distribution requires httpx2 (anthropic >= 1, openai >= 3, google-genai >= 3), else ``httpx``'s.

Verdicts:

- the SDK raises while reading the stream (in its own code: its accumulator, its validation) → fail,
  "sdk-raises: <sdk> <exception>": the SDK rejects the stream;
- the SDK assembles a different answer than the stream's own accumulation: other text, other tool calls
  (name, arguments; OpenAI also the call ids, which the SDK concatenates when a stream repeats them),
  another stop reason → fail, "sdk-assembles-differently";
- a stream that ends with an in-band error is the other way round: the SDK must raise for it
  ("sdk-misses-the-error" otherwise);
- skipped, without a reason: the SDK is not installed, the run says ``--no-sdk``, or the case says
  ``expect.sdk: false``;
- skipped **with a reason naming the SDK and its version** when the oracle cannot drive the installed
  SDK, which says nothing about the provider: a version older than ``python_sdk.SDKS[...].oldest`` (the
  oldest version each oracle was measured to work with), a client that cannot be built the oracle's way,
  or a TypeError / AttributeError raised by the oracle's own calls into the SDK (an API the version lacks);
  and when the dialect's client stayed busy for ``python_sdk.LOCK_TIMEOUT`` seconds (an earlier oracle stuck in
  the SDK): that dialect's oracle is given up for the rest of the process.

The SDKs are driven by ``harness.oracles.python_sdk`` (one client per SDK, one call at a time; ``answer``
is the whole of what the SDK does with a stream's bytes, as plain data): a run with many oracle streams
computes it in its SDK oracle process (``harness.oracles.sdk_process``: the run's own process then never
imports the SDKs) and the checks here judge it the same way, with the same reasons; without one (a small
run, or the process is gone) it is computed here.
"""

from __future__ import annotations

from harness.checks import Skip, check, oracle
from harness.checks.facts import Facts, Outcome
from harness.oracles import python_sdk, sdk_process

__all__ = ["anthropic_oracle", "gemini_oracle", "openai_oracle"]


def _target(f: Facts, dialect: str) -> Outcome | None:
    o = oracle.target(f, dialect)
    return o if o is not None and python_sdk.available(dialect) else None


def _consult(dialect: str, o: Outcome, *, with_ids: bool) -> list[str]:
    """Feed the stream to the dialect's SDK, in the run's oracle process when one serves it
    (``harness.oracles.sdk_process``), else here, and judge (``harness.checks.oracle``)."""
    name = python_sdk.SDKS[dialect].name
    try:
        body = oracle.client_bytes(o)
    except Exception as exc:
        return oracle.raised(o, name, f"{type(exc).__name__}: {exc}")
    found = None
    if not python_sdk.given_up(dialect):
        try:
            found = sdk_process.ask(dialect, body, python_sdk.LOCK_TIMEOUT)
        except sdk_process.Busy:
            raise Skip(python_sdk.give_up(dialect)) from None
    kind, value = found if found is not None else python_sdk.answer(dialect, body)
    if kind == "skip":
        raise Skip(value)
    if kind == "raised":
        return oracle.raised(o, name, value)
    return oracle.assembled(o, value, with_ids=with_ids)


@check("sdk.openai")
def openai_oracle(f: Facts) -> list[str] | None:
    """The openai SDK's ``chat.completions.stream()`` (strict) assembles the stream as we do."""
    o = _target(f, "openai")
    return None if o is None else _consult("openai", o, with_ids=True)


@check("sdk.anthropic")
def anthropic_oracle(f: Facts) -> list[str] | None:
    """The anthropic SDK's ``messages.stream()`` (strict) assembles the stream as we do."""
    o = _target(f, "anthropic")
    return None if o is None else _consult("anthropic", o, with_ids=True)


@check("sdk.gemini")
def gemini_oracle(f: Facts) -> list[str] | None:
    """google-genai's ``generate_content_stream`` reads every item and assembles the stream as we do."""
    o = _target(f, "gemini")
    return None if o is None else _consult("gemini", o, with_ids=False)
