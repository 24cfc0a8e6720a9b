"""Translation speed, each direction client→upstream among OpenAI, Anthropic and Gemini, beside LiteLLM.

For a gateway whose client speaks dialect C and whose upstream speaks U, three cells are timed, each
through ``providers.translate`` (wire JSON in, wire JSON out; the input is validated, the output is built
as JSON and not validated again: the test suite proves it valid):
- request (C → U): ours = ``translate.request(C, U, dict)``: validate C's body, C → IR → U's body;
- response (U → C): ours = ``translate.response(U, C, dict)``;
- stream, per event (U → C): ours = ``translate.Stream(U, C).feed(event dict)`` for each event (each is
  validated), then ``close()``; the whole 36-event stream is timed and divided by 36.
LiteLLM's side: see ``benchmarks/litellm_side.py`` (its transform from the same dict to its output).

Before any timing, our outputs are checked: same-dialect round trips give the input JSON back exactly, and
every translation keeps the essentials (system prompt, every turn's text, tool calls with their parsed
arguments, tool results, tool names; reply text, tool calls, stop kind, token counts; the accumulated
stream the same as the accumulated reply).

``--stages`` also splits our time of each request and response cell into its stages: validating the input
(the source dialect's wire model), the rest of the way into the IR, the way out of the IR, and the
dispatch between them (what a cell below its goal is bound by).

    python -m benchmarks.translation [--rounds 15] [--quick] [--stages]
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from benchmarks import inputs
from benchmarks._timing import Goal, calibrate, fmt_time, print_goals, round_robin
from providers import translate
from providers.types import anthropic as anthropic_wire
from providers.types import gemini as gemini_wire
from providers.types import openai as openai_wire
from providers.types._base import Wire

DIALECTS = ("openai", "anthropic", "gemini")
DIRECTIONS = [(c, u) for c in DIALECTS for u in DIALECTS if c != u]
GEMINI_MODEL = "gemini-2.5-flash"
GOAL = 3.0


def translate_request(client: str, upstream: str, d: dict[str, Any]) -> dict[str, Any]:
    return translate.request(client, upstream, d, model=GEMINI_MODEL)


def translate_response(upstream: str, client: str, d: dict[str, Any]) -> dict[str, Any]:
    return translate.response(upstream, client, d)


def translate_stream(upstream: str, client: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stream = translate.Stream(upstream, client)
    out: list[dict[str, Any]] = []
    for e in events:
        out.extend(stream.feed(e))
    out.extend(stream.close())
    return out


# -- essentials, to check what we time ----------------------------------------------------------------


def _maybe_json(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in value):
        value = "".join(p["text"] for p in value)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def request_essentials(dialect: str, d: dict[str, Any]) -> dict[str, Any]:
    """System text, turns as (role, texts, calls, results), tool names: what no translation may lose."""
    turns: list[tuple[str, tuple, tuple, tuple]] = []
    system = ""

    def add(role: str, texts: list[str], calls: list, results: list) -> None:
        if turns and turns[-1][0] == role == "user" and results:  # tool results then user text merge
            _, t0, c0, res0 = turns[-1]
            turns[-1] = (role, t0 + tuple(texts), c0, res0 + tuple(results))
        else:
            turns.append((role, tuple(texts), tuple(calls), tuple(results)))

    if dialect == "openai":
        tools = [t["function"]["name"] for t in d.get("tools", [])]
        for m in d["messages"]:
            content = m.get("content")
            texts = [content] if isinstance(content, str) else [p["text"] for p in content or []]
            if m["role"] == "system":
                system = "".join(texts)
            elif m["role"] == "tool":
                add("user", [], [], [_maybe_json(m["content"])])
            else:
                calls = [
                    (c["function"]["name"], _maybe_json(c["function"]["arguments"]))
                    for c in m.get("tool_calls", [])
                ]
                add(m["role"], texts, calls, [])
    elif dialect == "anthropic":
        tools = [t["name"] for t in d.get("tools", [])]
        s = d.get("system", "")
        system = s if isinstance(s, str) else "".join(b["text"] for b in s)
        for m in d["messages"]:
            c = m["content"]
            blocks = [{"type": "text", "text": c}] if isinstance(c, str) else c
            texts = [b["text"] for b in blocks if b["type"] == "text"]
            calls = [(b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
            results = [_maybe_json(b["content"]) for b in blocks if b["type"] == "tool_result"]
            add(m["role"], texts, calls, results)
    else:
        tools = [f["name"] for t in d.get("tools", []) for f in t.get("functionDeclarations", [])]
        system = "".join(p["text"] for p in d.get("systemInstruction", {}).get("parts", []))
        for m in d["contents"]:
            parts = m["parts"]
            texts = [p["text"] for p in parts if "text" in p]
            calls = [
                (p["functionCall"]["name"], p["functionCall"]["args"]) for p in parts if "functionCall" in p
            ]
            results = [p["functionResponse"]["response"] for p in parts if "functionResponse" in p]
            add("assistant" if m["role"] == "model" else "user", texts, calls, results)
    return {"system": system, "turns": turns, "tools": tools}


def response_essentials(dialect: str, d: dict[str, Any]) -> dict[str, Any]:
    if dialect == "openai":
        m = d["choices"][0]["message"]
        calls = [
            (c["function"]["name"], json.loads(c["function"]["arguments"])) for c in m.get("tool_calls") or []
        ]
        u = d["usage"]
        return {
            "text": m.get("content") or "",
            "calls": calls,
            "tokens": (u["prompt_tokens"], u["completion_tokens"]),
        }
    if dialect == "anthropic":
        text = "".join(b["text"] for b in d["content"] if b["type"] == "text")
        calls = [(b["name"], b["input"]) for b in d["content"] if b["type"] == "tool_use"]
        u = d["usage"]
        return {"text": text, "calls": calls, "tokens": (u["input_tokens"], u["output_tokens"])}
    parts = [p for c in d["candidates"][:1] for p in c["content"].get("parts", [])]
    text = "".join(p["text"] for p in parts if "text" in p)
    calls = [(p["functionCall"]["name"], p["functionCall"]["args"]) for p in parts if "functionCall" in p]
    u = d["usageMetadata"]
    return {"text": text, "calls": calls, "tokens": (u["promptTokenCount"], u["candidatesTokenCount"])}


def stream_essentials(dialect: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The reply a client accumulates from ``events`` (same shape as :func:`response_essentials`)."""
    text: list[str] = []
    calls: dict[int, list] = {}
    tokens = [0, 0]
    if dialect == "openai":
        for e in events:
            for ch in e.get("choices", []):
                delta = ch["delta"]
                text.append(delta.get("content") or "")
                for c in delta.get("tool_calls") or []:
                    slot = calls.setdefault(c["index"], ["", ""])
                    fn = c.get("function") or {}
                    slot[0] += fn.get("name") or ""
                    slot[1] += fn.get("arguments") or ""
            if e.get("usage"):
                tokens = [e["usage"]["prompt_tokens"], e["usage"]["completion_tokens"]]
    elif dialect == "anthropic":
        for e in events:
            if e["type"] == "message_start":
                tokens[0] = e["message"]["usage"]["input_tokens"]
            elif e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use":
                calls[e["index"]] = [e["content_block"]["name"], ""]
            elif e["type"] == "content_block_delta":
                delta = e["delta"]
                if delta["type"] == "text_delta":
                    text.append(delta["text"])
                elif delta["type"] == "input_json_delta":
                    calls[e["index"]][1] += delta["partial_json"]
            elif e["type"] == "message_delta":
                tokens[1] = e["usage"]["output_tokens"]
                tokens[0] = e["usage"].get("input_tokens", tokens[0])
    else:
        for e in events:
            for p in e["candidates"][0]["content"].get("parts", []):
                if "text" in p:
                    text.append(p["text"])
                if "functionCall" in p:
                    calls[len(calls)] = [p["functionCall"]["name"], json.dumps(p["functionCall"]["args"])]
            if "usageMetadata" in e:
                tokens = [e["usageMetadata"]["promptTokenCount"], e["usageMetadata"]["candidatesTokenCount"]]
    return {
        "text": "".join(text),
        "calls": [(name, json.loads(args)) for name, args in calls.values()],
        "tokens": tuple(tokens),
    }


def check_ours() -> None:
    """Raise AssertionError unless our converters are lossless on the bench inputs."""
    for d in DIALECTS:
        req = inputs.REQUESTS[d]
        assert translate_request(d, d, req) == req, f"{d} request round trip"
        resp = inputs.RESPONSES[d]
        assert translate_response(d, d, resp) == resp, f"{d} response round trip"
    for client, upstream in DIRECTIONS:
        got = translate_request(client, upstream, inputs.REQUESTS[client])
        assert request_essentials(upstream, got) == request_essentials(client, inputs.REQUESTS[client]), (
            f"{client}→{upstream} request"
        )
        got = translate_response(upstream, client, inputs.RESPONSES[upstream])
        assert response_essentials(client, got) == response_essentials(
            upstream, inputs.RESPONSES[upstream]
        ), f"{upstream}→{client} response"
        events = translate_stream(upstream, client, inputs.STREAMS[upstream])
        assert stream_essentials(client, events) == stream_essentials(upstream, inputs.STREAMS[upstream]), (
            f"{upstream}→{client} stream"
        )


TIMED = (
    "ours: providers.translate, wire JSON dict in (validated) → IR → wire JSON dict out (built, not validated"
    " again): request(C, U, dict), response(U, C, dict), Stream(U, C).feed(event dict) per event, whole"
    " 36-event stream / 36. LiteLLM: its transform from the same dict (fresh copy; copy cost subtracted) to"
    " its output dict/object (pydantic outputs not dumped); Anthropic↔Gemini chain LiteLLM's two hops through"
    " its OpenAI form (it has no direct function)."
)


def run(rounds: int = 15, target: float = 0.02) -> tuple[list[Goal], dict[str, Any]]:
    from benchmarks import litellm_side

    check_ours()
    version = litellm_side.available()
    cells = litellm_side.build() if version else {}
    goals: list[Goal] = []
    rows: list[dict[str, Any]] = []
    n_events = {d: len(inputs.STREAMS[d]) for d in DIALECTS}
    for client, upstream in DIRECTIONS:
        for kind in ("request", "response", "stream"):
            if kind == "request":
                data: Any = inputs.REQUESTS[client]
                translate: Callable[..., Any] = translate_request
                args: tuple[str, str] = (client, upstream)
                units = 1.0
            elif kind == "response":
                data = inputs.RESPONSES[upstream]
                translate, args, units = translate_response, (upstream, client), 1.0
            else:
                data = inputs.STREAMS[upstream]
                translate, args, units = translate_stream, (upstream, client), float(n_events[upstream])

            def ours(f: Callable[..., Any] = translate, a: tuple[str, str] = args, x: Any = data) -> Any:
                return f(*a, x)

            contenders: dict[str, Callable[[], Any]] = {"ours": ours}
            fn = cells.get((client, upstream, kind))
            if fn is not None:
                copy = litellm_side.fresh(data)
                fn(copy())  # it must run on this input before its time means anything
                contenders["litellm"] = lambda f=fn, cp=copy: f(cp())
                contenders["copy"] = copy
            st = round_robin(contenders, rounds=rounds, target=target, units=units)
            row: dict[str, Any] = {
                "client": client,
                "upstream": upstream,
                "kind": kind,
                "ours": st["ours"].to_json(),
            }
            name = f"{client}→{upstream} {kind}" + (" (per event)" if kind == "stream" else "")
            if "litellm" in st:
                net = st["litellm"].median - st["copy"].median
                row["litellm"] = st["litellm"].to_json()
                row["copy"] = st["copy"].to_json()
                row["litellm_net_median"] = net
                ratio = net / st["ours"].median
                composed = (client, upstream) in litellm_side.COMPOSED
                detail = (
                    f"ours {fmt_time(st['ours'].median)} (±{st['ours'].spread * 50:.0f}%), LiteLLM "
                    f"{fmt_time(net)} (±{st['litellm'].spread * 50:.0f}%)" + (" [2 hops]" if composed else "")
                )
            else:
                ratio = None
                detail = f"ours {fmt_time(st['ours'].median)}; LiteLLM not installed"
            rows.append(row)
            goals.append(Goal("translation", name, ratio, GOAL, detail=detail, figures=row))
    return goals, {"translation": {"timed": TIMED, "litellm": version, "rows": rows}}


#: The wire models that validate each dialect's request and reply bodies.
WIRE: dict[str, dict[str, type[Wire]]] = {
    "openai": {"request": openai_wire.ChatCompletionRequest, "response": openai_wire.ChatCompletionResponse},
    "anthropic": {"request": anthropic_wire.MessagesRequest, "response": anthropic_wire.MessagesResponse},
    "gemini": {
        "request": gemini_wire.GenerateContentRequest,
        "response": gemini_wire.GenerateContentResponse,
    },
}

#: The dialects whose readers validate a dict body with ``Wire.check`` (they read the dict, not the model).
CHECKED = frozenset({"openai"})


def cpu_best(contenders: dict[str, Callable[[], Any]], *, rounds: int, target: float) -> dict[str, float]:
    """Seconds of this thread's CPU time per call of each contender, the best of ``rounds`` interleaved
    batches of about ``target`` seconds: on a shared machine, time given to other processes is not counted
    and the best batch is the one least disturbed (the garbage collector runs as in the cells)."""
    batch = {name: calibrate(fn, target) for name, fn in contenders.items()}
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, fn in contenders.items():
            n = batch[name]
            gc.collect()
            t0 = time.thread_time()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.thread_time() - t0) / n)
    return best


def stages(rounds: int = 15, target: float = 0.02) -> list[dict[str, Any]]:
    """Our time of each request and response cell, and its stages (seconds per body, :func:`cpu_best`):
    ``validate`` (the source's wire model from the dict, or its check for a :data:`CHECKED` reader),
    ``into_ir`` (the source converter from the dict, less ``validate``), ``out_of_ir`` (the target converter from that IR) and ``dispatch`` (the rest of
    ``total``: the translate call around them)."""
    rows = []
    for client, upstream in DIRECTIONS:
        for kind in ("request", "response"):
            source, target_name = (client, upstream) if kind == "request" else (upstream, client)
            body = inputs.REQUESTS[client] if kind == "request" else inputs.RESPONSES[upstream]
            reader, writer = translate.dialect(source), translate.dialect(target_name)
            model = WIRE[source][kind]
            if kind == "request":
                read: Callable[[], Any] = functools.partial(reader.request_to_ir, body, model=GEMINI_MODEL)
                write: Callable[[], Any] = functools.partial(writer.request_from_ir, read())
                total: Callable[[], Any] = functools.partial(translate_request, client, upstream, body)
            else:
                read = functools.partial(reader.response_to_ir, body)
                write = functools.partial(writer.response_from_ir, read())
                total = functools.partial(translate_response, upstream, client, body)
            # a reader that keeps the dict validates without building the model (Wire.check), as it does
            validate = functools.partial(model.check if source in CHECKED else model.parse, body)
            contenders = {"total": total, "validate": validate, "read": read, "write": write}
            best = cpu_best(contenders, rounds=rounds, target=target)
            t, v, r, w = (best[name] for name in ("total", "validate", "read", "write"))
            rows.append(
                {"client": client, "upstream": upstream, "kind": kind, "total": t, "validate": v,
                 "into_ir": r - v, "out_of_ir": w, "dispatch": t - r - w}
            )  # fmt: skip
    return rows


def print_stages(rows: list[dict[str, Any]]) -> None:
    print("our stages, best CPU time (validate + into IR + out of IR + dispatch = total):")
    for row in rows:
        name = f"{row['client']}→{row['upstream']} {row['kind']}"
        parts = " + ".join(fmt_time(row[key]) for key in ("validate", "into_ir", "out_of_ir", "dispatch"))
        print(f"  {name:32s} {parts} = {fmt_time(row['total'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 rounds of tiny batches (smoke)")
    parser.add_argument("--stages", action="store_true", help="also split our time into its stages")
    args = parser.parse_args()
    rounds, target = (3, 0.002) if args.quick else (args.rounds, 0.02)
    goals, _ = run(rounds=rounds, target=target)
    print(TIMED)
    print_goals(goals)
    if args.stages:
        print_stages(stages(rounds=rounds, target=target))


if __name__ == "__main__":
    main()
