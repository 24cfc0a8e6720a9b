"""Throughput of providers.sse.SSEDecoder against openai's and httpx-sse's SSE decoders.

Builds ~1 MB of realistic stream bytes (OpenAI chat chunks with content and tool-call deltas and the
``obfuscation`` pad, Anthropic events with ``event:`` lines and the whitespace padding the real API puts
inside its JSON), feeds it in 16 KiB pieces to each decoder, round-robin for several rounds, and prints the
median MB/s of each and our ratio to the fastest other one.

    python benchmarks/sse_decoder.py [--rounds 15] [--size-mb 1] [--piece 16384]

httpx-sse is optional: it is measured when importable.
"""

from __future__ import annotations

import argparse
import codecs
import random
import statistics
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from providers.sse import SSEDecoder, anthropic_event, dumps, openai_event

_VOCABULARY = (
    "the of and to in is that it for on with as was be by this are at from or an have not which we "
    "function argument stream token delta gateway weather Paris temperature café naïve 東京 天気 😀 ✓"
)
WORDS = _VOCABULARY.split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _pad(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(1, 12)))


def openai_stream(rng: random.Random) -> bytes:
    head = {
        "id": "chatcmpl-" + _pad(rng) * 2,
        "object": "chat.completion.chunk",
        "created": 1774962789,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_b6f445fc1c",
    }
    out = [openai_event({**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})]
    if rng.random() < 0.5:
        for _ in range(rng.randint(5, 40)):
            delta = {"content": _text(rng, rng.randint(1, 4))}
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
            out.append(openai_event({**head, "choices": [choice], "obfuscation": _pad(rng)}))
        finish = "stop"
    else:
        for i in range(rng.randint(1, 3)):
            call = {"index": i, "id": "call_" + _pad(rng), "type": "function"}
            call["function"] = {"name": "get_weather", "arguments": ""}
            choice = {"index": 0, "delta": {"tool_calls": [call]}, "logprobs": None, "finish_reason": None}
            out.append(openai_event({**head, "choices": [choice], "obfuscation": _pad(rng)}))
            for frag in ('{"', "city", '":"', "Par", "is", '","', "unit", '":"', "c", '"}'):
                call = {"index": i, "function": {"arguments": frag}}
                choice = {
                    "index": 0,
                    "delta": {"tool_calls": [call]},
                    "logprobs": None,
                    "finish_reason": None,
                }
                out.append(openai_event({**head, "choices": [choice], "obfuscation": _pad(rng)}))
        finish = "tool_calls"
    choice = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish}
    out.append(openai_event({**head, "choices": [choice], "obfuscation": _pad(rng)}))
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def _anthropic(obj: dict, rng: random.Random) -> bytes:
    # The real API pads some payloads with spaces before the closing brace.
    if rng.random() < 0.5:
        return anthropic_event(obj)
    body = dumps(obj)
    body = body[:-1] + " " * rng.randint(1, 12) + "}"
    return f"event: {obj['type']}\ndata: {body}\n\n".encode()


def anthropic_stream(rng: random.Random) -> bytes:
    msg = {
        "id": "msg_01" + _pad(rng) * 2,
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 1128, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }
    out = [_anthropic({"type": "message_start", "message": msg}, rng)]
    block = {"type": "text", "text": ""}
    out.append(_anthropic({"type": "content_block_start", "index": 0, "content_block": block}, rng))
    out.append(b'event: ping\ndata: {"type": "ping"}\n\n')
    for _ in range(rng.randint(5, 40)):
        delta = {"type": "text_delta", "text": _text(rng, rng.randint(1, 6))}
        out.append(_anthropic({"type": "content_block_delta", "index": 0, "delta": delta}, rng))
    out.append(_anthropic({"type": "content_block_stop", "index": 0}, rng))
    tool = {"type": "tool_use", "id": "toolu_" + _pad(rng), "name": "get_weather", "input": {}}
    out.append(_anthropic({"type": "content_block_start", "index": 1, "content_block": tool}, rng))
    for frag in ("", '{"city": ', '"Par', 'is"}'):
        delta = {"type": "input_json_delta", "partial_json": frag}
        out.append(_anthropic({"type": "content_block_delta", "index": 1, "delta": delta}, rng))
    out.append(_anthropic({"type": "content_block_stop", "index": 1}, rng))
    delta = {"stop_reason": "tool_use", "stop_sequence": None}
    out.append(_anthropic({"type": "message_delta", "delta": delta, "usage": {"output_tokens": 87}}, rng))
    out.append(_anthropic({"type": "message_stop"}, rng))
    return b"".join(out)


def build_corpus(size: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    parts: list[bytes] = []
    total = 0
    while total < size:
        part = openai_stream(rng) if rng.random() < 0.5 else anthropic_stream(rng)
        parts.append(part)
        total += len(part)
    return b"".join(parts)


def split(body: bytes, piece: int) -> list[bytes]:
    return [body[i : i + piece] for i in range(0, len(body), piece)]


# -- the contenders: each returns the list of (event, data) it decoded --------------------------------


def run_ours(pieces: list[bytes]) -> list[tuple[str | None, str]]:
    dec = SSEDecoder()
    events = []
    for p in pieces:
        events += dec.feed(p)
    events += dec.close()
    return [(e.event, e.data) for e in events]


def run_openai(pieces: list[bytes]) -> list[tuple[str | None, str]]:
    from openai._streaming import SSEDecoder as OpenAIDecoder

    return [(e.event, e.data) for e in OpenAIDecoder().iter_bytes(iter(pieces))]


def make_httpx_sse() -> Callable[[list[bytes]], list[tuple[str | None, str]]] | None:
    try:
        from httpx_sse._decoders import SSEDecoder as HxDecoder
        from httpx_sse._decoders import SSELineDecoder as HxLineDecoder
    except ImportError:
        return None

    def run_httpx_sse(pieces: list[bytes]) -> list[tuple[str | None, str]]:
        # What EventSource.iter_sse does over response.iter_text(): incremental UTF-8, lines, events.
        text_decoder = codecs.getincrementaldecoder("utf-8")()
        lines = HxLineDecoder()
        dec = HxDecoder()
        out = []

        def take(line: str) -> None:
            sse = dec.decode(line.rstrip("\n"))
            if sse is not None:
                # httpx-sse reports a nameless event as "message"; the corpus never names one so.
                out.append((None if sse.event == "message" else sse.event, sse.data))

        for p in pieces:
            text = text_decoder.decode(p)
            if text:
                for line in lines.decode(text):
                    take(line)
        for line in lines.flush():
            take(line)
        return out

    return run_httpx_sse


def run(rounds: int = 15, size_mb: float = 1.0, piece: int = 16 * 1024) -> tuple[list, dict]:
    """The framework entry (``python -m benchmarks``): goal = ours ≥ 1.5x the fastest other decoder."""
    from benchmarks._timing import Goal, round_robin

    body = build_corpus(int(size_mb * 1_000_000))
    pieces = split(body, piece)
    contenders: dict[str, Callable[[list[bytes]], list[tuple[str | None, str]]]] = {"wirecheck": run_ours}
    try:
        import openai  # noqa: F401

        contenders["openai"] = run_openai
    except ImportError:
        pass
    hx = make_httpx_sse()
    if hx is not None:
        contenders["httpx-sse"] = hx
    reference = run_ours(pieces)
    for name, fn in contenders.items():
        if fn(pieces) != reference:
            raise AssertionError(f"{name} decoded differently from ours")
    st = round_robin({n: (lambda f=f: f(pieces)) for n, f in contenders.items()}, rounds=rounds, target=0.0)
    mb = len(body) / 1e6
    speeds = {n: mb / s.median for n, s in st.items()}
    others = {n: v for n, v in speeds.items() if n != "wirecheck"}
    best = max(others, key=others.__getitem__) if others else None
    ratio = speeds["wirecheck"] / others[best] if best else None
    detail = ", ".join(f"{n} {v:.0f} MB/s (±{st[n].spread * 50:.0f}%)" for n, v in speeds.items())
    detail += f"; {mb:.2f} MB, {len(reference)} events, {len(pieces)} pieces of {piece} B"
    goal = Goal("sse", f"SSE decoder vs fastest other ({best})", ratio, 1.5, detail=detail)
    figures = {
        "mb": mb,
        "events": len(reference),
        "speeds_mb_s": speeds,
        "stats": {n: s.to_json() for n, s in st.items()},
    }
    goal.figures = figures
    return [goal], {"sse": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--piece", type=int, default=16 * 1024)
    args = parser.parse_args()

    body = build_corpus(int(args.size_mb * 1_000_000))
    pieces = split(body, args.piece)
    contenders: dict[str, Callable[[list[bytes]], list[tuple[str | None, str]]]] = {
        "wirecheck": run_ours,
        "openai": run_openai,
    }
    hx = make_httpx_sse()
    if hx is not None:
        contenders["httpx-sse"] = hx

    # They must agree before their speed means anything.
    reference = run_ours(pieces)
    for name, fn in contenders.items():
        got = fn(pieces)
        if got != reference:
            raise SystemExit(f"{name} decoded {len(got)} events, ours {len(reference)}: they differ")

    mb = len(body) / 1e6
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            fn(pieces)
            times[name].append(time.perf_counter() - t0)

    print(
        f"{mb:.2f} MB, {len(reference)} events, {len(pieces)} pieces of {args.piece} B, "
        f"{args.rounds} rounds, Python {sys.version.split()[0]}"
    )
    speeds = {name: mb / statistics.median(ts) for name, ts in times.items()}
    for name, speed in speeds.items():
        print(f"  {name:10s} {speed:8.1f} MB/s  (median {statistics.median(times[name]) * 1e3:.2f} ms)")
    others = {n: s for n, s in speeds.items() if n != "wirecheck"}
    best = max(others, key=others.__getitem__)
    print(f"  ratio wirecheck / {best} (fastest other): {speeds['wirecheck'] / others[best]:.2f}x")


if __name__ == "__main__":
    main()
