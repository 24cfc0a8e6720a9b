"""Shared timing for the benchmarks: round-robin repetitions, median and IQR, goals as ratios, JSON out.

The machines these run on are noisy (2 shared cores), so no figure is an absolute goal: every contender
of a comparison is timed in the same process, interleaved round by round (the order rotates each round),
and a goal is a ratio of medians. The spread (IQR / median) is reported beside each median.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Stats:
    """Seconds per unit of work over ``n`` repetitions."""

    median: float
    q1: float
    q3: float
    n: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def spread(self) -> float:
        """IQR relative to the median (0.05 = ±2.5 %)."""
        return self.iqr / self.median if self.median else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "iqr": self.iqr, "spread": round(self.spread, 4)}


def stats(samples: list[float]) -> Stats:
    if len(samples) == 1:
        return Stats(samples[0], samples[0], samples[0], 1)
    q = statistics.quantiles(samples, n=4, method="inclusive")
    return Stats(statistics.median(samples), q[0], q[2], len(samples))


def calibrate(fn: Callable[[], Any], target: float = 0.02) -> int:
    """How many calls of ``fn`` take about ``target`` seconds (at least 1)."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= target or n >= 1 << 20:
            return max(1, int(n * target / max(elapsed, 1e-9)))
        n *= 4


def round_robin(
    contenders: dict[str, Callable[[], Any]],
    *,
    rounds: int = 15,
    target: float = 0.02,
    units: float = 1.0,
) -> dict[str, Stats]:
    """Time each contender ``rounds`` times, interleaved (the order rotates every round).

    Each sample is one batch of calls lasting about ``target`` seconds (calibrated per contender); the
    figure is seconds per call divided by ``units`` (e.g. the number of stream events one call handles).
    The garbage collector runs between batches, not inside them.
    """
    batch = {name: calibrate(fn, target) for name, fn in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn, n = contenders[name], batch[name]
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n / units)
    return {name: stats(s) for name, s in samples.items()}


@dataclass
class Goal:
    """One measured goal: ``value`` (a ratio, usually) against ``threshold``; ``higher`` is better or not."""

    section: str
    name: str
    value: float | None
    threshold: float
    higher: bool = True
    unit: str = "x"
    detail: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.threshold if self.higher else self.value < self.threshold

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "loadavg": os.getloadavg()[0],
    }


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def print_goals(goals: list[Goal]) -> None:
    print(f"{'section':<12}{'goal':<58}{'value':>10}{'target':>10}  met")
    for g in goals:
        value = "n/a" if g.value is None else f"{g.value:.2f}{g.unit}"
        target = ("≥ " if g.higher else "< ") + f"{g.threshold:g}{g.unit}"
        met = {True: "yes", False: "NO", None: "-"}[g.met]
        print(f"{g.section:<12}{g.name:<58}{value:>10}{target:>10}  {met}")
        if g.detail:
            print(f"{'':<14}{g.detail}")


def write_json(path: Path, goals: list[Goal], extra: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": machine(), "goals": [g.to_json() for g in goals], **extra}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")


def rss_bytes(pid: int | str = "self") -> int:
    """Current resident set size, from ``/proc/<pid>/statm`` (no psutil)."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes(pid: int | str = "self") -> int:
    """Peak resident set size (``VmHWM`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ≥ 4.0: write 5 to ``clear_refs``); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False
