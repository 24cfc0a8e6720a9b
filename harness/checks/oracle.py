"""What every SDK oracle concludes, whatever the SDK's language: which streams it judges, the bytes it
feeds the SDK, and the verdict on what the SDK did with them.

The Python oracles (``harness/checks/sdk.py``) and the JS ones (``harness/checks/sdk_js.py``) differ only
in how they drive their SDK; both hand the result here:

- ``target(f, dialect)``: the main outcome when an oracle of ``dialect`` judges it: a stream of that
  output dialect that succeeded, or that only ended without its terminal marker
  (``harness.checks.stream.judged_stream``), with the run's SDK oracles on and the case not saying
  ``expect.sdk: false``; else None (not applicable);
- ``client_bytes(o)``: what a client of the provider reads (a raw stream's bytes; a typed stream's items
  in the dialect's SSE framing);
- ``raised(o, sdk, message)``: the SDK threw → ``sdk-raises: <sdk> <message>``, unless the stream ends
  with an in-band error (then throwing is right: no problem);
- ``assembled(o, theirs, with_ids)``: the SDK returned an answer ``theirs`` = ``{"text", "tool_calls":
  [{"id", "name", "arguments"}], "stop"}`` (stop an IR stop reason or None when the SDK does not say):
  ``sdk-misses-the-error`` for a stream that ends with an error, else ``sdk-assembles-differently`` for
  each of text, tool calls (name and parsed arguments; the ids too when ``with_ids``) and stop reason that
  differ from the stream's own accumulation.
"""

from __future__ import annotations

import json
from typing import Any

from harness.checks.facts import Facts, Outcome
from harness.checks.subset import show
from harness.oracles.python_sdk import one_line
from providers.sse import anthropic_event, gemini_event, openai_event

__all__ = ["arguments", "assembled", "client_bytes", "one_line", "raised", "target"]


def target(f: Facts, dialect: str) -> Outcome | None:
    """The outcome an oracle of ``dialect`` judges, or None (see the module docstring)."""
    from harness.checks.stream import judged_stream

    if not f.sdk or f.expect.get("sdk") is False:
        return None
    return judged_stream(f, dialect)


def client_bytes(o: Outcome) -> bytes:
    """What a client of the provider reads: a raw stream's bytes, or typed items in the dialect's SSE."""
    if o.raw:
        return o.raw_bytes or b""
    if o.output == "openai":
        return b"".join(openai_event(item) for item in o.item_json) + b"data: [DONE]\n\n"
    if o.output == "anthropic":
        return b"".join(anthropic_event(item) for item in o.item_json)
    return b"".join(gemini_event(item) for item in o.item_json)


def _ends_in_error(o: Outcome) -> bool:
    from harness.checks.stream import ends_in_error

    return ends_in_error(o)


def raised(o: Outcome, sdk: str, message: str) -> list[str]:
    """The verdict when ``sdk`` threw ``message`` while reading the stream."""
    if _ends_in_error(o):
        return []  # the stream carried an error: raising it is what a client should see
    return [f"sdk-raises: {sdk} {one_line(message)}"]


def arguments(value: Any) -> Any:
    """Tool-call arguments as the SDK holds them (an object, or JSON text), parsed for comparison."""
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {"$invalid_json": value}


def assembled(o: Outcome, theirs: dict[str, Any], *, with_ids: bool) -> list[str]:
    """The verdict when the SDK assembled ``theirs`` from the stream."""
    if _ends_in_error(o):
        return ["sdk-misses-the-error: the stream ends with an error item, the SDK assembled a message"]
    ours = o.semantic
    if ours is None:
        return []  # our own accumulation failed: fields / stream checks report it
    out = []
    if theirs["text"] != ours["text"]:
        out.append(
            f"sdk-assembles-differently: text {show(theirs['text'])}, stream accumulates to {show(ours['text'])}"
        )

    def key(call: dict[str, Any], args: Any) -> tuple[Any, ...]:
        return (call["id"], call["name"], args) if with_ids else (call["name"], args)

    mine = [key(c, c["arguments"]) for c in ours["tool_calls"]]
    sdk = [key(c, arguments(c["arguments"])) for c in theirs["tool_calls"]]
    if mine != sdk:
        out.append(f"sdk-assembles-differently: tool calls {show(sdk)}, stream accumulates to {show(mine)}")
    if theirs.get("stop") is not None and ours["stop"] is not None and theirs["stop"] != ours["stop"]:
        out.append(f"sdk-assembles-differently: stop {theirs['stop']}, stream accumulates to {ours['stop']}")
    return out
