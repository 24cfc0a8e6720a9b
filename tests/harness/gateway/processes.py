"""What the process tests read of Linux processes: a process's parent, and waiting for a condition with a
timeout (tests/harness/gateway/test_process_tree.py and test_supervisor.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def parent_of(pid: int) -> int:
    """The parent pid of ``pid`` from /proc (the field after the command name, which may hold spaces)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return int(text[text.rfind(")") + 2 :].split()[1])


def wait_for(what: str, condition: Callable[[], object], timeout: float) -> None:
    """Poll ``condition`` every 50 ms; ``AssertionError`` naming ``what`` when ``timeout`` seconds pass."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"not within {timeout:g}s: {what}")
        time.sleep(0.05)
