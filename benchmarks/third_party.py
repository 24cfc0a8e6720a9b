"""Third-party LLM mock servers beside ``wirecheck serve`` in ``benchmarks/mock_server.py``.

aimock (npm ``@copilotkit/aimock``) and llmock (PyPI ``llmock``) each run as their own process on a free
loopback port, scripted to answer the benchmark's two requests as closely as each allows to what
``mock_server.SCRIPT`` serves. Both are optional: a tool that is missing, will not start or answers
something that is not the scripted chat completion gets an error string instead of a rate, so the bench
reports it and never counts an error reply as throughput.

    python benchmarks/third_party.py     # start each tool, check its two replies, print what it served

Where aimock lives: ``WIRECHECK_AIMOCK`` = the installed package directory
(``.../node_modules/@copilotkit/aimock``; ``nox -s bench`` installs it and sets this). llmock: importable
by this interpreter.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.gateway.process import free_port

TOOLS = ("aimock", "llmock")
AIMOCK_ENV = "WIRECHECK_AIMOCK"
TEXT = "A small answer."
WORDS = [f" word{i}" for i in range(50)]

# What each tool serves that our SCRIPT does not; printed with the results.
DIFFERENCES = {
    "aimock": "full chat.completion.chunk objects (id, object, created, model, logprobs, finish_reason), "
    "plus a role chunk first and a finish chunk last: 52 data events + [DONE] (ours: 50 + [DONE]); "
    "every reply chunked (no content-length on JSON either); latency 0",
    "llmock": "full chat.completion.chunk objects plus a role chunk and a finish chunk: 52 data events + "
    "[DONE]; the text is split at word boundaries with the space after each word (' word0 ', 'word1 ', "
    "… 'word49'), not before; uvicorn + FastAPI; latency and chunk delay 0, access log off",
}

# Our own launcher: aimock's JSON fixtures cannot tell a streaming request from a plain one, its API can.
_AIMOCK_LAUNCHER = """\
const [dir, port] = process.argv.slice(2);
const { LLMock } = await import(dir + "/dist/index.js");
const mock = new LLMock({ host: "127.0.0.1", port: Number(port), latency: 0, chunkSize: 64, logLevel: "silent" });
const blocks = WORDS.map((text) => ({ type: "text", text }));
mock.on({ predicate: (req) => req.stream === true }, { blocks });
mock.on({}, { content: TEXT });
await mock.start();
"""


@dataclass
class Tool:
    """One third-party mock: its process and port once started, or why it is not measured."""

    name: str
    version: str = ""
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    error: str | None = None
    replies: dict[str, dict] = field(default_factory=dict)


def _aimock(port: int, tmp: Path) -> tuple[list[str], dict[str, str], str]:
    """Command, environment and version; raises LookupError when not installed."""
    location = os.environ.get(AIMOCK_ENV)
    if not location:
        raise LookupError(f"not installed (set {AIMOCK_ENV} to the @copilotkit/aimock package directory)")
    package = Path(location)
    if not (package / "dist" / "index.js").is_file() or not shutil.which("node"):
        raise LookupError(f"not installed (no node, or no dist/index.js under {package})")
    launcher = tmp / "aimock-launch.mjs"
    constants = f"const WORDS = {json.dumps(WORDS)};\nconst TEXT = {json.dumps(TEXT)};\n"
    launcher.write_text(constants + _AIMOCK_LAUNCHER)
    version = json.loads((package / "package.json").read_text()).get("version", "?")
    return ["node", str(launcher), str(package.resolve()), str(port)], dict(os.environ), version


def _llmock(port: int, tmp: Path) -> tuple[list[str], dict[str, str], str]:
    if importlib.util.find_spec("llmock") is None:
        raise LookupError("not installed (pip install llmock)")
    command = [sys.executable, "-c", "from llmock.cli import app; app()", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--tool-mode", "off"]
    command += ["--latency-ms", "0", "--stream-chunk-delay-ms", "0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMOCK_")}  # no chaos from the env
    return command, env, importlib.metadata.version("llmock")


def _script_llmock(port: int) -> None:
    behaviors = [
        {"type": "reply", "text": TEXT, "times": None, "match": {"stream": False}},
        {"type": "reply", "text": "".join(WORDS), "times": None, "match": {"stream": True}},
    ]
    url = f"http://127.0.0.1:{port}/_llmock/scenario"
    httpx.post(url, json={"behaviors": behaviors}, timeout=5, trust_env=False).raise_for_status()


_COMMANDS: dict[str, Callable[[int, Path], tuple[list[str], dict[str, str], str]]] = {
    "aimock": _aimock,
    "llmock": _llmock,
}


def start(name: str, tmp: Path, prefix: list[str], timeout: float = 30.0) -> Tool:
    """Start and script one tool (``prefix`` e.g. pins it to a CPU); never raises, errors go in ``error``."""
    tool = Tool(name)
    tool.port = free_port()
    try:
        command, env, tool.version = _COMMANDS[name](tool.port, tmp)
    except LookupError as exc:
        tool.error = str(exc)
        return tool
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        tool.process = subprocess.Popen([*prefix, *command], stdout=out, stderr=out, env=env)
    deadline = time.monotonic() + timeout
    while tool.error is None:
        try:
            httpx.get(f"http://127.0.0.1:{tool.port}/health", timeout=1, trust_env=False).raise_for_status()
            break
        except httpx.HTTPError:
            if tool.process.poll() is not None:
                tool.error = f"exited with {tool.process.returncode}: {log.read_text()[-300:]}"
            elif time.monotonic() > deadline:
                tool.error = f"not ready after {timeout:g} s: {log.read_text()[-300:]}"
            time.sleep(0.1)
    if tool.error is None and name == "llmock":
        try:
            _script_llmock(tool.port)
        except httpx.HTTPError as exc:
            tool.error = f"could not script it: {exc}"
    return tool


def check_reply(port: int, headers: list[tuple[str, str]], body: bytes, kind: str) -> dict:
    """Send the benchmark's request once; what came back, parsed. Raises ValueError unless it is the
    scripted chat completion (JSON) or the scripted 50-word stream ending in [DONE] (SSE)."""
    sent = [(k, v) for k, v in headers if k.lower() != "host"]
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    reply = httpx.post(url, content=body, headers=sent, timeout=10, trust_env=False)
    if reply.status_code != 200:
        raise ValueError(f"{kind}: status {reply.status_code}: {reply.text[:200]}")
    media = reply.headers.get("content-type", "")
    if kind == "json":
        doc = reply.json()
        if doc.get("object") != "chat.completion" or doc["choices"][0]["message"]["content"] != TEXT:
            raise ValueError(f"json: not the scripted chat completion: {reply.text[:200]}")
        return {"bytes": len(reply.content), "content_type": media}
    if not media.startswith("text/event-stream"):
        raise ValueError(f"sse: content-type {media!r}")
    data = [line[6:] for line in reply.text.split("\n") if line.startswith("data: ")]
    if not data or data[-1] != "[DONE]":
        raise ValueError("sse: the stream does not end with data: [DONE]")
    deltas = [json.loads(d)["choices"][0]["delta"] for d in data[:-1]]
    pieces = [d["content"] for d in deltas if d.get("content")]
    if "".join(pieces) != "".join(WORDS):
        raise ValueError(f"sse: streamed text is not the 50 scripted words: {''.join(pieces)[:100]!r}")
    return {"bytes": len(reply.content), "events": len(data), "content_chunks": len(pieces)}


def check(tool: Tool, headers: list[tuple[str, str]], bodies: dict[str, bytes]) -> None:
    """Check a started tool's reply to each request; a bad reply becomes the tool's error."""
    for kind, body in bodies.items():
        if tool.error is not None:
            return
        try:
            tool.replies[kind] = check_reply(tool.port, headers, body, kind)
        except (ValueError, KeyError, IndexError, TypeError, httpx.HTTPError) as exc:
            tool.error = f"bad reply: {exc}"


def rate(tool: Tool, load: Callable[[int], float]) -> float | None:
    """Requests/s of ``load`` (the benchmark's load generator, given the port), or None with ``error`` set
    when the tool is out or the load failed (a dead process, non-2xx answers, dropped connections)."""
    if tool.error is not None:
        return None
    try:
        return load(tool.port)
    except Exception as exc:  # a trio ExceptionGroup, OSError, wrk's RuntimeError: all mean no figure
        while isinstance(exc, ExceptionGroup):
            exc = exc.exceptions[0]
        dead = tool.process is not None and tool.process.poll() is not None
        tool.error = f"{'process exited; ' if dead else ''}load failed: {exc}"[:300]
        return None


def stop(tool: Tool) -> None:
    if tool.process is not None and tool.process.poll() is None:
        tool.process.terminate()
        try:
            tool.process.wait(10)
        except subprocess.TimeoutExpired:
            tool.process.kill()
            tool.process.wait()


def main() -> None:
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.mock_server import BODIES, HEADERS

    with tempfile.TemporaryDirectory() as tmpname:
        for name in TOOLS:
            tool = start(name, Path(tmpname), [])
            try:
                check(tool, HEADERS, BODIES)
            finally:
                stop(tool)
            label = f"{name} {tool.version}" if tool.version else name
            print(f"{label}: {tool.error or 'ok'} {json.dumps(tool.replies)}")
            print(f"  differences: {DIFFERENCES[name]}")


if __name__ == "__main__":
    main()
