"""Family ``timing``: when things arrive (optional; scenarios ask for it with ``expect.timing``).

- ``timing.streamed``: the first stream item reaches the caller before the upstream has sent its last
  frame, i.e. the stream is forwarded as it comes, not buffered. Judged on the order of two clocks
  read in the same process (the mock's capture of when it wrote each frame, the runner's of when the
  first item arrived), so a loaded machine slows both and the verdict holds.
- ``timing.first_item``: the first item arrives within ``first_item_ms`` of the call (an absolute
  bound: use it with generous margins).
"""

from __future__ import annotations

from harness.checks import check
from harness.checks.facts import Facts


@check("timing.first_item")
def first_item(f: Facts) -> list[str] | None:
    """The first stream item arrives within ``expect.timing.first_item_ms``."""
    timing = f.expect.get("timing") or {}
    if "first_item_ms" not in timing or not f.main.streamed or f.main.not_applicable is not None:
        return None
    first = f.main.first_item
    if first is None:
        return ["no stream item arrived"]
    limit = timing["first_item_ms"] / 1000
    return [] if first <= limit else [f"first item after {first * 1000:.0f} ms, limit {limit * 1000:.0f} ms"]


@check("timing.streamed")
def streamed(f: Facts) -> list[str] | None:
    """The first stream item arrives before the upstream's last frame was sent (no buffering)."""
    timing = f.expect.get("timing") or {}
    if not timing.get("streamed") or not f.main.streamed or f.main.not_applicable is not None:
        return None
    framed = [r for r in f.main.captured if r.frame_times]
    if not framed:
        return ["the upstream sent no frames"]
    if f.main.first_item_wall is None:
        return ["no stream item arrived"]
    last = framed[-1]
    upstream_done = last.received_at + last.frame_times[-1]
    if f.main.first_item_wall < upstream_done:
        return []
    late = (f.main.first_item_wall - upstream_done) * 1000
    return [f"the first item arrived {late:.0f} ms after the upstream's last frame: the stream was buffered"]
