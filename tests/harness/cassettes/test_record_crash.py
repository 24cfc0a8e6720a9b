"""Crash-safe recording: every interaction is on disk (fsynced) as soon as it completes, an unsafe one is left
out (named, never quoted) while the rest are kept. The recorder runs in its own process (``wirecheck record``)
for the kill tests; everything is loopback only and every wait is bounded."""

from __future__ import annotations

import functools
import io
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio

from harness.cassettes import format as fmt
from harness.cassettes import record as record_module
from harness.cassettes.journal import JOURNAL_LINE
from harness.cassettes.record import InteractionsLeftOut, run_recorder, serve_recorder
from harness.cassettes.scrub import scan
from harness.cassettes.session import CassetteSession
from mocks.server import BackgroundServer, serve

from .corpus import http_client

KEY = "sk-proj-" + "Rk7Tq2Wm9Xc4Vb1Nz8Ls5Pd3Hf6Jg0Ka2Qe4Ru7Ty9Ui1Op3As"
PASSWORD = "correct-horse-battery-staple-42"
UPSTREAM = {
    "auth": {"required": False},
    "rules": [
        {
            "match": {"path": "/v1/chat/completions"},
            "reply": {"answer": {"text": "ok"}},
        },
        {
            "match": {"path": "/v1/slow"},
            "reply": {"events": [{"data": {"n": i}, "delay_ms": 0 if i == 0 else 20_000} for i in range(2)]},
        },
    ],
}
_RECORD = (
    "import argparse, sys\n"
    "from harness.cassettes.cli import add_commands\n"
    "parser = argparse.ArgumentParser(prog='wirecheck')\n"
    "add_commands(parser.add_subparsers(dest='command', required=True))\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.run(args))\n"
)


def _chat(content: str, **extra) -> dict:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": content}], **extra}


def _wait_for(predicate, timeout: float = 10.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def _holds(path: Path, count: int) -> bool:
    return path.exists() and f"# wirecheck: interaction {count} complete\n" in path.read_text()


@pytest.fixture
def upstream() -> Iterator[BackgroundServer]:
    with BackgroundServer(UPSTREAM) as server:
        yield server


@pytest.fixture
def recorder_process(
    tmp_path: Path, upstream: BackgroundServer
) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """``wirecheck record`` in its own process, in front of ``upstream``: (process, its URL, the cassette)."""
    out = tmp_path / "journal.yaml"
    process = subprocess.Popen(
        [sys.executable, "-c", _RECORD, "record", "--upstream", upstream.url, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()  # the process prints it once listening (or dies: EOF)
        assert banner.startswith("recording http://127.0.0.1:"), banner + process.stderr.read()
        yield process, banner.split()[1], out
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_sigkill_loses_nothing_that_completed(recorder_process) -> None:
    process, url, out = recorder_process
    assert fmt.load(out).interactions == []  # the header is on disk before the first request
    with httpx.Client(base_url=url, timeout=10) as client:
        for n in range(5):
            reply = client.post(
                "/v1/chat/completions",
                json=_chat(f"question {n}"),
                headers={"authorization": f"Bearer {KEY}"},
            )
            assert reply.status_code == 200
        _wait_for(lambda: _holds(out, 5), what="the fifth append")
        # a sixth exchange in flight (its stream's second event is 20 s away) when the kill comes
        with client.stream("POST", "/v1/slow", json={"stream": True}) as slow:
            first = next(slow.iter_raw())
            assert first.startswith(b"data: {")
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    cassette = fmt.load(out)  # no torn tail: the in-flight exchange was never appended
    assert not cassette.truncated
    assert [it.request.json["messages"][0]["content"] for it in cassette.interactions] == [
        f"question {n}" for n in range(5)
    ]
    assert all(it.response.status == 200 and it.index for it in cassette.interactions)
    assert KEY not in out.read_text() and scan(out) == []


def test_a_secret_in_one_exchange_loses_neither_it_nor_the_others(recorder_process) -> None:
    """The measured loss: five good exchanges, then one whose body holds a password, then SIGTERM. The
    password is scrubbed, all six are on disk, and nothing is left out (the left-out path itself is proven
    in process, below, with the scrubber switched off)."""
    process, url, out = recorder_process
    with httpx.Client(base_url=url, timeout=10) as client:
        for n in range(5):
            assert client.post("/v1/chat/completions", json=_chat(f"question {n}")).status_code == 200
        body = _chat("question 5", metadata={"password": PASSWORD})
        assert client.post("/v1/chat/completions", json=body).status_code == 200
    _wait_for(lambda: _holds(out, 6), what="the sixth append")
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "wrote 6 interactions" in stdout
    assert "left out" not in stderr
    cassette = fmt.load(out)
    assert [it.request.json["messages"][0]["content"] for it in cassette.interactions] == [
        f"question {n}" for n in range(6)
    ]
    assert cassette.interactions[5].request.json["metadata"]["password"] != PASSWORD
    assert PASSWORD not in out.read_text() and scan(out) == []


def test_a_cassette_that_cannot_be_created_is_exit_2(tmp_path: Path, upstream: BackgroundServer) -> None:
    err, out = io.StringIO(), io.StringIO()
    assert run_recorder(upstream.url, tmp_path, stdout=out, stderr=err) == 2  # a folder, not a file
    assert err.getvalue().startswith("wirecheck record: [Errno") and str(tmp_path) in err.getvalue()
    assert out.getvalue() == ""


@pytest.mark.anyio
async def test_each_exchange_is_on_disk_when_it_completes_and_an_unsafe_one_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: the file loads after every exchange; with scrubbing switched off, a key is left out
    (so this guard does not depend on what the scrubber can or cannot scrub)."""
    out = tmp_path / "live.yaml"
    err = io.StringIO()
    shared: list[fmt.Interaction] = []
    async with trio.open_nursery() as nursery:
        mock = await nursery.start(serve, UPSTREAM)
        recorder = await nursery.start(functools.partial(serve_recorder, mock.url, out, into=shared, err=err))
        assert fmt.load(out).interactions == []
        async with http_client(base_url=recorder.url, timeout=10) as client:
            for n in range(2):
                assert (await client.post("/v1/chat/completions", json=_chat(f"q{n}"))).status_code == 200
                with trio.fail_after(5):
                    while recorder.exchanges < n + 1:
                        await trio.sleep(0.005)
                assert len(fmt.load(out).interactions) == n + 1
            monkeypatch.setattr(record_module, "scrub", lambda it: it)
            reply = await client.post("/v1/chat/completions", json=_chat(f"my key is {KEY}"))
            assert reply.status_code == 200
            await client.get(f"/v1/keys/{KEY}")  # a key in the path: the line must not print the path
            with trio.fail_after(5):
                while recorder.exchanges < 4:
                    await trio.sleep(0.005)
        nursery.cancel_scope.cancel()
    assert shared is recorder.interactions and len(shared) == 2
    assert [left.number for left in recorder.left_out] == [3, 4]
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("wirecheck record: exchange #3 (POST /v1/chat/completions) left out")
    assert lines[1].startswith(
        "wirecheck record: exchange #4 (GET <path withheld: it holds a finding>) left out, still "
        "secret-looking: OpenAI project key (sk-proj-) at request.path"
    )
    assert KEY not in err.getvalue() and KEY[:12] not in err.getvalue()
    assert len(fmt.load(out).interactions) == 2 and KEY not in out.read_text()


def test_a_session_appends_as_it_records_and_reports_what_it_left_out(
    tmp_path: Path, upstream: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With scrubbing switched off for the second exchange, its password is found and it is left out."""
    path = tmp_path / "session.yaml"
    scrubbing = record_module.scrub
    monkeypatch.setattr(
        record_module, "scrub", lambda it: it if b"second" in (it.request.body or b"") else scrubbing(it)
    )
    session = CassetteSession(path, record_mode="once", upstream=upstream.url, speed=0)
    try:
        assert not path.exists()  # nothing recorded yet: no cassette (so `once` records next time too)
        reply = httpx.post(session.url() + "/v1/chat/completions", json=_chat("first"), timeout=10)
        assert reply.status_code == 200
        _wait_for(lambda: _holds(path, 1), what="the append")  # before close()
        body = _chat("second", metadata={"password": PASSWORD})
        assert httpx.post(session.url() + "/v1/chat/completions", json=body, timeout=10).status_code == 200
    finally:
        with pytest.raises(InteractionsLeftOut, match=r"exchange #2 \(POST /v1/chat/completions\) left out"):
            session.close()
    assert [it.request.json["messages"][0]["content"] for it in fmt.load(path).interactions] == ["first"]

    # new_episodes appends to it, and the file it leaves is a journal
    with CassetteSession(path, record_mode="new_episodes", upstream=upstream.url, speed=0) as session:
        httpx.post(session.url() + "/v1/chat/completions", json=_chat("first"), timeout=10)
        httpx.post(session.url() + "/v1/chat/completions", json=_chat("third"), timeout=10)
    assert path.read_text().startswith(JOURNAL_LINE)
    assert [it.request.json["messages"][0]["content"] for it in fmt.load(path).interactions] == [
        "first",
        "third",
    ]
