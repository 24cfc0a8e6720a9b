"""The streaming-transparency check ``timing.transparency`` and the probe cases that exercise it
(detect a gateway that buffers or coalesces SSE).

The mock paces the stream: each event waits ``interval_ms`` (the case's ``event_delay_ms``) before it is
written, and the mock's capture records when each frame went to the socket. The client records when each
network read (a raw stream's byte chunk) or each item (a typed stream; items that arrive within 1 ms are
counted as one read) reached it. Both clocks are read in one process, so the comparison holds on a
loaded machine. The check reports, pass or fail:

- the upstream: events, the pacing interval (the median gap between frames), the span;
- the client: reads, events per read (exact for raw streams: an incremental SSE decoder counts the
  events each read completed), the time the gateway added before the first byte (first client read
  minus first upstream frame);
- the text's hold times: for each piece of answer text the upstream sent, how long it took until the
  client had received that much text (across dialects the text is the same while the events are not:
  this is what makes the measure fair to a translating gateway).

It fails when the gateway buffered the stream (the first byte reached the client after the upstream's
last frame), when it coalesced events (more than ``tolerance`` of the text pieces were held for half an
interval or longer, i.e. until a later event released them), or, when ``max_first_byte_ms`` is given,
when it added more than that before the first byte (before the first text when text hold times are
known: a translating gateway has nothing to send for the upstream's opening events).

Cases ask for it with ``expect.timing.transparency: true`` or ``{tolerance, max_first_byte_ms}``;
``probe_cases`` builds one such case per front door of a gateway adapter (a raw stream, so the read
boundaries are exact).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from harness.checks import CHECKS, Check
from harness.checks.facts import Facts, Outcome
from harness.scenario import Case, Clause
from harness.verdicts import CheckResult
from providers import contract
from providers.sse import SSEDecoder, decode_all, is_done

__all__ = ["CHECK_ID", "Figures", "measure", "probe_cases", "registered"]

CHECK_ID = "timing.transparency"
DEFAULT_TOLERANCE = 0.25
#: Items of a typed stream that arrive closer together than this came in one network read.
SAME_READ_S = 0.001


@dataclass(slots=True)
class Figures:
    """What one streamed call looked like on both sides (times in ms)."""

    upstream_events: int = 0
    interval_ms: float = 0.0
    upstream_span_ms: float = 0.0
    reads: int = 0
    events: int | None = None  # client-side events (None: a typed stream, counted as items)
    max_per_read: int = 0
    first_byte_ms: float | None = None  # client's first read − upstream's first frame
    first_text_ms: float | None = None  # hold of the first text piece (what a translating gateway adds)
    after_last_ms: float | None = None  # client's first read − upstream's last frame
    pieces: int = 0  # upstream frames that carried answer text
    holds_ms: tuple[float, ...] = ()
    text_matched: bool = True

    def held(self, threshold_ms: float) -> list[float]:
        return [h for h in self.holds_ms if h >= threshold_ms]

    def summary(self, threshold_ms: float) -> str:
        first = "n/a" if self.first_byte_ms is None else f"{self.first_byte_ms:+.0f} ms"
        if self.first_text_ms is not None:
            first += f" ({self.first_text_ms:+.0f} ms after its first text)"
        per_read = f"{(self.events or 0) / max(self.reads, 1):.1f}" if self.events is not None else "?"
        parts = [
            f"upstream {self.upstream_events} events every ~{self.interval_ms:.0f} ms over "
            f"{self.upstream_span_ms:.0f} ms",
            f"client {self.reads} reads"
            + (
                f" carrying {self.events} events ({per_read}/read, max {self.max_per_read})"
                if self.events is not None
                else ""
            ),
            f"first byte {first} after the first upstream event",
        ]
        if self.holds_ms:
            held = self.held(threshold_ms)
            parts.append(
                f"text: {len(self.holds_ms)} pieces held median {statistics.median(self.holds_ms):.0f} ms, "
                f"max {max(self.holds_ms):.0f} ms, {len(held)} held ≥ {threshold_ms:.0f} ms"
            )
        elif not self.text_matched:
            parts.append("text hold times n/a (client text differs from the upstream's)")
        return "; ".join(parts)


# --- text of stream items, per dialect -----------------------------------------------------------------


def text_of(dialect: str, item: Any) -> str:
    """The answer text one stream item carries (OpenAI chunk, Anthropic event, Gemini response)."""
    if not isinstance(item, dict):
        return ""
    if dialect in ("openai", "azure"):
        return "".join(
            c.get("delta", {}).get("content") or ""
            for c in item.get("choices") or ()
            if isinstance(c, dict) and isinstance(c.get("delta"), dict) and c.get("index", 0) == 0
        )
    if dialect == "anthropic":
        delta = item.get("delta") if item.get("type") == "content_block_delta" else None
        return (
            delta.get("text") or "" if isinstance(delta, dict) and delta.get("type") == "text_delta" else ""
        )
    if dialect == "gemini":
        out = []
        for candidate in item.get("candidates") or ():
            for part in (candidate.get("content") or {}).get("parts") or ():
                if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought"):
                    out.append(part["text"])
        return "".join(out)
    return ""


def json_value(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


# --- the measurement ------------------------------------------------------------------------------------


def _upstream(o: Outcome) -> tuple[list[float], list[str], str | None]:
    """Wall times of the upstream's frames (of the last streamed reply), the text each frame carried
    (empty when frames and events do not line up one to one), and the upstream dialect."""
    framed = [r for r in o.captured if r.frame_times]
    if not framed:
        return [], [], None
    capture = framed[-1]
    times = [capture.received_at + t for t in capture.frame_times]
    sent = next((s for s in reversed(o.sent) if s.capture is capture), None)
    texts: list[str] = []
    if sent is not None and "event-stream" in sent.content_type:
        # One frame per event (mocks.framing); a client that went away early got only the first ones.
        events = decode_all(sent.body, errors="replace")
        if len(events) == len(times) or (capture.disconnected and len(events) > len(times)):
            texts = [
                "" if is_done(e) else text_of(capture.dialect or "", json_value(e.data))
                for e in events[: len(times)]
            ]
    return times, texts, capture.dialect


def _client(o: Outcome) -> tuple[list[float], list[int] | None, list[str]]:
    """Wall time of each client read, events per read (raw streams), and the text each read carried."""
    if o.first_item_wall is None or not o.item_times:
        return [], None, []
    t0 = o.item_times[0]
    arrivals = [o.first_item_wall + (t - t0) for t in o.item_times]
    dialect = o.output
    if o.raw:
        decoder = SSEDecoder(errors="replace")
        counts, texts = [], []
        for chunk in o.items:
            events = [e for e in decoder.feed(chunk) if e.data.strip() and not is_done(e)]
            counts.append(len(events))
            texts.append("".join(text_of(dialect, json_value(e.data)) for e in events))
        return arrivals, counts, texts
    # A typed stream: items that arrived together came in one read.
    reads: list[float] = []
    texts = []
    for when, item in zip(arrivals, o.item_json, strict=False):
        text = text_of(dialect, item)
        if reads and when - reads[-1] < SAME_READ_S:
            texts[-1] += text
            continue
        reads.append(when)
        texts.append(text)
    return reads, None, texts


def measure(o: Outcome) -> Figures | None:
    """The figures of a streamed call, or None when nothing was streamed from a paced upstream."""
    up_times, up_texts, _ = _upstream(o)
    reads, counts, client_texts = _client(o)
    if not up_times or not reads:
        return None
    gaps = [b - a for a, b in itertools.pairwise(up_times)]
    f = Figures(
        upstream_events=len(up_times),
        interval_ms=statistics.median(gaps) * 1000 if gaps else 0.0,
        upstream_span_ms=(up_times[-1] - up_times[0]) * 1000,
        reads=len(reads),
        first_byte_ms=(reads[0] - up_times[0]) * 1000,
        after_last_ms=(reads[0] - up_times[-1]) * 1000,
    )
    if counts is not None:
        f.events = sum(counts)
        f.max_per_read = max(counts, default=0)
    if up_texts:
        upstream_text = "".join(up_texts)
        client_text = "".join(client_texts)
        if upstream_text and upstream_text == client_text:
            holds, sent_so_far = [], 0
            received = _cumulative(reads, client_texts)
            for when, text in zip(up_times, up_texts, strict=True):
                if not text:
                    continue
                sent_so_far += len(text)
                got = next((t for t, total in received if total >= sent_so_far), None)
                if got is not None:
                    holds.append(max(0.0, (got - when) * 1000))
            f.pieces = len(holds)
            f.holds_ms = tuple(holds)
            f.first_text_ms = holds[0] if holds else None
        else:
            f.text_matched = not upstream_text
    return f


def _cumulative(times: Sequence[float], texts: Sequence[str]) -> list[tuple[float, int]]:
    out, total = [], 0
    for when, text in zip(times, texts, strict=True):
        total += len(text)
        out.append((when, total))
    return out


def _settings(f: Facts) -> dict[str, Any] | None:
    timing = f.expect.get("timing") or {}
    setting = timing.get("transparency")
    if not setting:
        return None
    return setting if isinstance(setting, dict) else {}


def judge(f: Facts) -> tuple[list[str] | None, str]:
    """(problems or None when not applicable, the figures as one line)."""
    settings = _settings(f)
    o = f.main
    if settings is None or not o.streamed or not o.ok:
        return None, ""
    figures = measure(o)
    if figures is None:
        return ["no paced upstream stream, or no stream item reached the client"], ""
    tolerance = float(settings.get("tolerance", DEFAULT_TOLERANCE))
    threshold = figures.interval_ms / 2
    line = figures.summary(threshold)
    problems = []
    if figures.upstream_events > 1 and figures.after_last_ms is not None and figures.after_last_ms >= 0:
        problems.append(
            f"buffered: the first byte reached the client {figures.after_last_ms:.0f} ms after the upstream's "
            f"last event ({line})"
        )
    elif figures.holds_ms:
        held = figures.held(threshold)
        if len(held) > tolerance * len(figures.holds_ms):
            problems.append(
                f"coalesced: {len(held)} of {len(figures.holds_ms)} text pieces reached the client "
                f"≥ {threshold:.0f} ms after the upstream sent them (held until later events; tolerance "
                f"{tolerance:.0%}) ({line})"
            )
    elif figures.interval_ms > 0 and figures.reads <= 1 < figures.upstream_events:
        problems.append(f"coalesced: the whole stream arrived in one read ({line})")
    limit = settings.get("max_first_byte_ms")
    first = figures.first_text_ms if figures.first_text_ms is not None else figures.first_byte_ms
    if limit is not None and first is not None and first > limit:
        problems.append(f"the gateway added {first:.0f} ms before the first byte (limit {limit} ms) ({line})")
    return problems, line


class _TransparencyCheck(Check):
    """A check whose pass carries its figures in the message (the report shows them either way)."""

    def run(self, facts: Facts) -> CheckResult:
        problems, line = judge(facts)
        if problems is None:
            return CheckResult(self.id, self.family, "skip")
        if not problems:
            return CheckResult(self.id, self.family, "pass", line)
        return CheckResult(self.id, self.family, "fail", problems[0], list(problems))


@contextlib.contextmanager
def registered() -> Iterator[None]:
    """The check in the registry (``harness.checks.CHECKS``) for the duration: the gateway runner runs
    with it; the reference suite, whose shipped scenarios do not ask for it, runs without."""
    if CHECK_ID in CHECKS:
        yield
        return
    CHECKS[CHECK_ID] = _TransparencyCheck(
        CHECK_ID,
        "timing",
        lambda f: judge(f)[0],
        "A paced upstream stream reaches the client paced: not buffered, not coalesced.",
    )
    try:
        yield
    finally:
        CHECKS.pop(CHECK_ID, None)


# --- probe cases ----------------------------------------------------------------------------------------

_PROBES: dict[str, tuple[str, dict[str, Any], str | None, Clause]] = {
    "openai": (
        contract.raw_stream_method("openai"),
        {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Count to sixteen."}]},
        None,
        Clause(
            "openai",
            "Chat Completions: stream — partial message deltas are sent as data-only server-sent events "
            "as they become available",
            "https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream",
        ),
    ),
    "anthropic": (
        contract.raw_stream_method("anthropic"),
        {
            "model": "claude-sonnet-4-6",
            "max_tokens": 256,
            "stream": True,
            "messages": [{"role": "user", "content": "Count to sixteen."}],
        },
        None,
        Clause(
            "anthropic",
            "Streaming Messages: incrementally stream the response using server-sent events",
            "https://docs.claude.com/en/docs/build-with-claude/streaming",
        ),
    ),
    "gemini": (
        contract.raw_stream_method("gemini"),
        {"contents": [{"role": "user", "parts": [{"text": "Count to sixteen."}]}]},
        "gemini-2.5-flash",
        Clause(
            "gemini",
            "streamGenerateContent: generates a streamed response (partial results as they are generated)",
            "https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent",
        ),
    ),
}


def probe_cases(
    front_doors: Iterable[str],
    *,
    interval_ms: float = 60.0,
    text: str = "One two three four five six seven eight nine ten eleven twelve.",
    tolerance: float = DEFAULT_TOLERANCE,
    max_first_byte_ms: float | None = None,
    source: str = "<gateway>",
) -> list[Case]:
    """One transparency case per front door: a raw stream whose upstream paces every event by
    ``interval_ms``, with the answer ``text``."""
    setting: dict[str, Any] = {"tolerance": tolerance}
    if max_first_byte_ms is not None:
        setting["max_first_byte_ms"] = max_first_byte_ms
    words = len(text.split())
    out = []
    for door in front_doors:
        if door not in _PROBES:
            continue
        method, request, model, clause = _PROBES[door]
        out.append(
            Case(
                id=f"gateway.transparency.{door}.001",
                title=f"A paced upstream stream reaches the {door} front door paced, neither buffered nor coalesced",
                clause=clause,
                method=method,
                source=source,
                line=0,
                family="gateway.transparency",
                request=request,
                model=model,
                upstream={
                    "reply": {
                        "event_delay_ms": interval_ms,
                        "answer": {"text": text, "usage": {"prompt": 6, "completion": words}},
                    }
                },
                expect={
                    "timing": {"transparency": setting, "streamed": True},
                    "text": text,
                    "equivalence": False,
                },
            )
        )
    return out
