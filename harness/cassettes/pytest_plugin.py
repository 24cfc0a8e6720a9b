"""pytest: replay (or record) a cassette for one test, from sync, asyncio and trio tests alike.

Registered as the ``pytest11`` entry point ``wirecheck-cassettes`` (or ``-p harness.cassettes.pytest_plugin``)::

    @pytest.mark.wirecheck_cassette("cassettes/openai-chat.yaml", speed=0)
    def test_chat(wirecheck_replay):
        client = openai.OpenAI(base_url=wirecheck_replay.url("openai"), api_key="sk-test")
        ...

The marker ``wirecheck_cassette(path, *, record_mode="none", upstream=None, speed=1.0, ignore=(),
ignore_query=(), ignore_path_version=False, repeat=False)`` takes the arguments of
``harness.cassettes.session.CassetteSession``; a relative ``path`` is relative to pytest's rootdir. The
fixture ``wirecheck_replay`` is that session: ``.url()``, ``.url("openai")``, ``.urls``, ``.replay``. The
server runs in a background thread with its own trio loop, so the test may be synchronous, asyncio or trio.
A test with the marker gets the session even when it does not ask for the fixture.

Never a silent green: right after the test body, an interaction never used, a request no interaction
matched or one the mock turned away fails the test, listing each (a test that failed already keeps its own
failure). Teardown stops the servers (each wait bounded) and writes what the record mode recorded. A bad
marker (unknown argument, missing cassette in mode ``none``, no upstream to record from) fails the test with
one line saying so.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cassettes.format import CassetteError
from harness.cassettes.session import CassetteSession, SessionError
from mocks.server import ServeError

__all__ = ["MARKER", "session_for", "wirecheck_replay"]

MARKER = "wirecheck_cassette"
_SESSION = pytest.StashKey[CassetteSession]()
_ARGUMENTS = frozenset(
    name
    for name, parameter in inspect.signature(CassetteSession).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("host", "settle_timeout")
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path, *, record_mode='none', upstream=None, speed=1.0, ignore=(), ignore_query=(), "
        "ignore_path_version=False, repeat=False): serve a cassette for this test (fixture wirecheck_replay); "
        "unused interactions and unmatched requests fail it",
    )


def session_for(marker: pytest.Mark, rootdir: Path) -> CassetteSession:
    """The session a ``wirecheck_cassette`` marker asks for; ``SessionError`` for a bad marker."""
    if len(marker.args) != 1 or not isinstance(marker.args[0], str | Path):
        raise SessionError(f"@pytest.mark.{MARKER}: expected one cassette path, got {marker.args!r}")
    unknown = sorted(set(marker.kwargs) - _ARGUMENTS)
    if unknown:
        raise SessionError(
            f"@pytest.mark.{MARKER}: unknown argument {unknown[0]!r} (expected {', '.join(sorted(_ARGUMENTS))})"
        )
    path = Path(marker.args[0])
    return CassetteSession(path if path.is_absolute() else rootdir / path, **marker.kwargs)


@pytest.fixture
def wirecheck_replay(request: pytest.FixtureRequest) -> Iterator[CassetteSession]:
    """The cassette of the test's ``wirecheck_cassette`` marker, served for this test (module doc)."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        pytest.fail(f"the wirecheck_replay fixture needs @pytest.mark.{MARKER}(PATH, ...)", pytrace=False)
    try:
        session = session_for(marker, Path(request.config.rootpath))
    except (SessionError, CassetteError, ServeError) as exc:
        pytest.fail(f"{MARKER}: {exc}", pytrace=False)
    request.node.stash[_SESSION] = session
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(autouse=True)
def _wirecheck_cassette_marker(request: pytest.FixtureRequest) -> None:
    """A test with the marker gets its session (and its checks) even without asking for the fixture."""
    if request.node.get_closest_marker(MARKER) is not None and "wirecheck_replay" not in request.fixturenames:
        request.getfixturevalue("wirecheck_replay")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """After a test body that passed: fail it when its replay did not go as recorded."""
    result = yield
    session = item.stash.get(_SESSION, None)
    if session is not None:
        problems = session.problems()
        if problems:
            pytest.fail(
                f"{session.path}: replay did not go as recorded:\n  " + "\n  ".join(problems), pytrace=False
            )
    return result
