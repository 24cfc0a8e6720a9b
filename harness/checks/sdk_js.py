"""Family ``sdk``, JS half: the official JS SDKs as oracles over the same bytes the Python ones get.

- ``sdk.js.openai``: openai-node's ``chat.completions.stream()`` → ``finalChatCompletion()``;
- ``sdk.js.anthropic``: ``@anthropic-ai/sdk``'s ``messages.stream()`` → ``finalMessage()``;
- ``sdk.js.gemini``: ``@google/genai``'s ``models.generateContentStream()``, every chunk read.

Each SDK gets the stream through a custom ``fetch`` that answers with a ``Response`` over the bytes (no
network), in one persistent Node worker per run (``harness/oracles/node.py``, started at the first JS
check, stopped by the runner when the run ends). The streams judged, the bytes and the verdicts are the
Python oracles' (``harness/checks/oracle.py``): the SDK throws → fail "sdk-raises: <sdk> <message>"; it
assembles other text, tool calls or stop reason → fail "sdk-assembles-differently".

Skips, each with its reason (never a failure of the provider):

- the install is missing: ``NOT_INSTALLED``, the same reason for every check. The install is the folder
  ``$WIRECHECK_JS_ORACLES``, else ``.js-oracles/`` in the checkout, where ``nox -s js-oracles`` ran
  ``npm ci`` over ``harness/oracles/js/package-lock.json`` (the SDKs and Node 22 they need);
- the worker did not answer within ``REQUEST_TIMEOUT`` seconds (it is killed and the next check starts a
  new one), exited while judging this stream (restarted for the next), or could not start (given up for
  the rest of the run): the reason names the SDK and what happened;
- the worker's SDK lacks the API it drives.
"""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path
from typing import Any

from harness.checks import Skip, check, oracle
from harness.checks.facts import Facts
from harness.oracles.node import NodeWorker, WorkerUnavailable
from providers.convert.tables import stop_from

__all__ = ["INSTALL_ENV", "NOT_INSTALLED", "REQUEST_TIMEOUT", "WORKER_SCRIPT", "install", "stop"]

INSTALL_ENV = "WIRECHECK_JS_ORACLES"
#: The one skip reason of every JS oracle when the install is missing.
NOT_INSTALLED = "JS SDK oracles not installed: run nox -s js-oracles"
#: Seconds a JS oracle waits for the worker's answer to one stream.
REQUEST_TIMEOUT = 15.0
#: The Node side (harness/oracles/js/worker.mjs).
WORKER_SCRIPT = Path(__file__).resolve().parents[1] / "oracles" / "js" / "worker.mjs"
_DEFAULT = Path(__file__).resolve().parents[2] / ".js-oracles"
_PACKAGES = {"openai": "openai", "anthropic": "@anthropic-ai/sdk", "gemini": "@google/genai"}

_worker: NodeWorker | None = None
_worker_lock = threading.Lock()


def install() -> tuple[Path, Path] | None:
    """``(node binary, install folder)`` of the JS oracles' install, or None when it is missing."""
    folder = Path(os.environ.get(INSTALL_ENV) or _DEFAULT)
    node = folder / "node_modules" / ".bin" / "node"
    modules = [folder / "node_modules" / name / "package.json" for name in _PACKAGES.values()]
    if not (os.access(node, os.X_OK) and all(m.is_file() for m in modules)):
        return None
    return node, folder


def _running() -> NodeWorker:
    global _worker
    with _worker_lock:
        if _worker is None:
            found = install()
            if found is None:
                raise Skip(NOT_INSTALLED)
            node, folder = found
            _worker = NodeWorker([str(node), str(WORKER_SCRIPT), str(folder)])
        return _worker


def stop() -> None:
    """Stop this run's worker, if one was started (the runner calls this when a run ends)."""
    global _worker
    with _worker_lock:
        worker, _worker = _worker, None
    if worker is not None:
        worker.stop()


def _label(worker: NodeWorker, dialect: str) -> str:
    versions = (worker.ready or {}).get("versions") or {}
    return str(versions.get(dialect) or _PACKAGES[dialect])


def _consult(dialect: str, f: Facts, *, with_ids: bool) -> list[str] | None:
    o = oracle.target(f, dialect)
    if o is None:
        return None
    worker = _running()
    request = {"sdk": dialect, "body": base64.b64encode(oracle.client_bytes(o)).decode("ascii")}
    try:
        answer = worker.ask(request, REQUEST_TIMEOUT)
    except WorkerUnavailable as exc:
        raise Skip(f"{_label(worker, dialect)} (JS): {exc}") from exc
    label = _label(worker, dialect)
    if "skip" in answer:
        raise Skip(f"{label} (JS): {answer['skip']}")
    if "raised" in answer:
        return oracle.raised(o, f"{label} (JS)", str(answer["raised"]))
    theirs: dict[str, Any] = dict(answer.get("assembled") or {})
    stop = theirs.get("stop")
    theirs["stop"] = stop_from(dialect, stop).reason if stop and dialect != "gemini" else None
    return oracle.assembled(o, theirs, with_ids=with_ids)


@check("sdk.js.openai")
def openai_js_oracle(f: Facts) -> list[str] | None:
    """openai-node's ``chat.completions.stream()`` assembles the stream as we do."""
    return _consult("openai", f, with_ids=True)


@check("sdk.js.anthropic")
def anthropic_js_oracle(f: Facts) -> list[str] | None:
    """``@anthropic-ai/sdk``'s ``messages.stream()`` assembles the stream as we do."""
    return _consult("anthropic", f, with_ids=True)


@check("sdk.js.gemini")
def gemini_js_oracle(f: Facts) -> list[str] | None:
    """``@google/genai``'s ``generateContentStream`` reads every chunk and assembles the stream as we do."""
    return _consult("gemini", f, with_ids=False)
