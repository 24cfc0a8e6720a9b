"""A cassette for one test: the ``wirecheck_cassette`` marker and ``wirecheck_replay`` fixture from sync,
asyncio and trio tests; the record modes none, once and new_episodes through the scrubbing recorder, with a
second in-process mock server on 127.0.0.1 as the "real" upstream; failures that are never a silent green."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest
import sniffio

from harness.cassettes import format as fmt
from harness.cassettes.replay import ReplayError
from harness.cassettes.scrub import scan
from harness.cassettes.session import CassetteSession, SessionError, upstreams
from mocks.server import BackgroundServer

from .corpus import STARTER_DIR
from .test_record import KEY
from .test_record import SCRIPT as UPSTREAM_SCRIPT
from .test_serve import sse_events

pytest_plugins = ["pytester"]

OPENAI_CHAT = STARTER_DIR / "openai-chat.yaml"
RECORDED = fmt.load(OPENAI_CHAT)
QUESTION = [{"role": "user", "content": "Weather in Oslo?"}]


def _sdk_calls(base_url: str, question: list[dict] = QUESTION) -> tuple[str, list[str]]:
    """One plain call and one stream with the official openai SDK (sync); what the SDK parsed."""
    client = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0, timeout=10)
    whole = client.chat.completions.create(model="gpt-4o", messages=question)
    pieces = []
    for chunk in client.chat.completions.create(model="gpt-4o", messages=question, stream=True):
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            pieces.extend(call.function.arguments or "" for call in choice.delta.tool_calls or [])
    client.close()
    return whole.model_dump_json(), pieces


def _starter_replies(base_url: str) -> list[bytes]:
    """Each request of the starter openai-chat cassette sent with httpx (sync); the reply bodies."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        return [
            client.post(
                it.request.path, content=it.request.body, headers={"content-type": "application/json"}
            ).content
            for it in RECORDED.interactions
        ]


# --- the fixture from each test style -------------------------------------------------------------------


@pytest.mark.wirecheck_cassette(str(OPENAI_CHAT), speed=0)
def test_the_fixture_in_a_sync_test(wirecheck_replay: CassetteSession) -> None:
    client = openai.OpenAI(
        base_url=wirecheck_replay.url("openai"), api_key="sk-test", max_retries=0, timeout=10
    )
    plain, stream = RECORDED.interactions
    reply = client.chat.completions.create(**plain.request.json)
    assert reply.model_dump(mode="json", exclude_unset=True) == plain.response.json
    chunks = client.chat.completions.create(**stream.request.json)
    assert [c.model_dump(mode="json", exclude_unset=True) for c in chunks] == sse_events(stream.response.body)
    assert wirecheck_replay.url() + "/v1" == wirecheck_replay.urls["openai"] == wirecheck_replay.url("openai")


async def _async_replies(base_url: str) -> list[bytes]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        return [
            (
                await client.post(
                    it.request.path, content=it.request.body, headers={"content-type": "application/json"}
                )
            ).content
            for it in RECORDED.interactions
        ]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.wirecheck_cassette(str(OPENAI_CHAT), speed=0)
async def test_the_fixture_in_an_asyncio_test(wirecheck_replay: CassetteSession, anyio_backend: str) -> None:
    assert sniffio.current_async_library() == "asyncio"
    assert await _async_replies(wirecheck_replay.url()) == [it.response.body for it in RECORDED.interactions]


@pytest.mark.anyio
@pytest.mark.wirecheck_cassette(str(OPENAI_CHAT), speed=0)
async def test_the_fixture_in_a_trio_test(wirecheck_replay: CassetteSession) -> None:
    assert sniffio.current_async_library() == "trio"
    assert await _async_replies(wirecheck_replay.url()) == [it.response.body for it in RECORDED.interactions]


# --- never a silent green ----------------------------------------------------------------------------------


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder holding the starter openai-chat cassette (the plugin loads through its entry
    point, as in any project that installs wirecheck)."""
    (pytester.path / "cassettes").mkdir()
    (pytester.path / "cassettes" / "chat.yaml").write_bytes(OPENAI_CHAT.read_bytes())
    return pytester


INNER_HEAD = f"""
import httpx, json, pytest
RECORDED = {[(it.request.path, it.request.body.decode()) for it in RECORDED.interactions]!r}

def send(base, which):
    path, body = RECORDED[which]
    return httpx.post(base + path, content=body, headers={{"content-type": "application/json"}}, timeout=10)
"""


def test_a_miss_in_mode_none_and_an_unused_interaction_fail_the_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        INNER_HEAD
        + """
@pytest.mark.wirecheck_cassette("cassettes/chat.yaml", speed=0)
def test_all_used(wirecheck_replay):
    assert send(wirecheck_replay.url(), 0).status_code == 200
    assert send(wirecheck_replay.url(), 1).status_code == 200

@pytest.mark.wirecheck_cassette("cassettes/chat.yaml", record_mode="none", speed=0)
def test_one_unused(wirecheck_replay):
    assert send(wirecheck_replay.url(), 0).status_code == 200

@pytest.mark.wirecheck_cassette("cassettes/chat.yaml", speed=0)
def test_a_miss(wirecheck_replay):
    send(wirecheck_replay.url(), 0)
    send(wirecheck_replay.url(), 1)
    reply = httpx.post(wirecheck_replay.url("openai") + "/chat/completions", json={"model": "other"})
    assert reply.status_code == 404  # the test body passes: only the replay's account fails it

@pytest.mark.wirecheck_cassette("cassettes/chat.yaml", speed=0)
def test_marker_without_the_fixture():
    pass
"""
    )
    result = inner.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*cassettes/chat.yaml: replay did not go as recorded:",
            "*unused interaction openai-chat#1: POST /v1/chat/completions",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*unmatched request: POST /v1/chat/completions: no rule matched; nearest 'openai-chat#0': *"
         "json.model: expected 'gpt-4o', got 'other'*"]
    )  # fmt: skip
    assert (
        "FAILED test_a_miss_in_mode_none_and_an_unused_interaction_fail_the_test.py::test_marker_without_the_fixture"
        in result.stdout.str()
    )


def test_a_bad_marker_is_one_clear_line(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
import pytest

@pytest.mark.wirecheck_cassette("cassettes/nope.yaml")
def test_missing(wirecheck_replay):
    pass

@pytest.mark.wirecheck_cassette("cassettes/chat.yaml", mode="none")
def test_unknown_argument(wirecheck_replay):
    pass

@pytest.mark.wirecheck_cassette("cassettes/chat.yaml", record_mode="all")
def test_unknown_mode(wirecheck_replay):
    pass

@pytest.mark.wirecheck_cassette("cassettes/new.yaml", record_mode="once")
def test_no_upstream_to_record_from(wirecheck_replay):
    pass

def test_fixture_without_marker(wirecheck_replay):
    pass
"""
    )
    result = inner.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=5)
    text = result.stdout.str()
    assert "wirecheck_cassette: " + str(inner.path / "cassettes/nope.yaml") + ": no such cassette" in text
    assert "unknown argument 'mode' (expected ignore, ignore_path_version" in text
    assert "record_mode: expected one of none, once, new_episodes, got 'all'" in text
    assert "records " + str(inner.path / "cassettes/new.yaml") + " but no upstream is given" in text
    assert "the wirecheck_replay fixture needs @pytest.mark.wirecheck_cassette(PATH, ...)" in text
    assert "Traceback" not in text


def test_the_session_as_a_context_manager_raises_on_leaving() -> None:
    first = RECORDED.interactions[0].request
    with (
        pytest.raises(
            ReplayError, match=r"openai-chat.yaml: replay did not go as recorded:\n  unused interaction"
        ),
        CassetteSession(OPENAI_CHAT, speed=0) as session,
    ):
        assert httpx.post(session.url() + first.path, content=first.body).status_code == 200
    with CassetteSession(OPENAI_CHAT, speed=0) as session:
        assert _starter_replies(session.url()) == [it.response.body for it in RECORDED.interactions]


# --- record modes ------------------------------------------------------------------------------------------


@pytest.fixture
def real_upstream():
    """The "real" upstream: a second mock server, in-process on 127.0.0.1, that insists on a key."""
    with BackgroundServer(UPSTREAM_SCRIPT) as server:
        yield server


def test_once_records_everything_scrubbed_then_replays_without_the_upstream(
    tmp_path: Path, real_upstream
) -> None:
    path = tmp_path / "recorded" / "chat.yaml"
    with CassetteSession(path, record_mode="once", upstream=real_upstream.url, speed=0) as session:
        assert session.recording
        live = _sdk_calls(session.url("openai"))
    assert len(real_upstream.requests) == 2
    assert (
        real_upstream.requests[0].header("authorization").startswith("Bearer <redacted")
    )  # the key got there
    text = path.read_text()
    assert KEY not in text and KEY[:12] not in text and "Bearer <scrubbed>" in text
    assert scan(path) == []
    cassette = fmt.load(path)
    assert [it.source for it in cassette.interactions] == ["recorded", "recorded"]
    assert cassette.interactions[1].response.chunks and cassette.meta["upstream"] == real_upstream.url
    assert cassette.interactions[0].host == real_upstream.url

    # the file exists now: once replays only, the upstream is not asked again (nor needed)
    with CassetteSession(path, record_mode="once", speed=0) as session:
        assert not session.recording
        assert _sdk_calls(session.url("openai")) == live
    assert len(real_upstream.requests) == 2
    assert fmt.load(path).interactions == cassette.interactions  # not rewritten


def test_new_episodes_replays_what_matches_and_appends_the_rest(tmp_path: Path, real_upstream) -> None:
    path = tmp_path / "chat.yaml"
    with CassetteSession(path, record_mode="once", upstream=real_upstream.url, speed=0) as session:
        first = _sdk_calls(session.url("openai"))
    assert len(real_upstream.requests) == 2
    other = [{"role": "user", "content": "And in Bergen?"}]
    with CassetteSession(path, record_mode="new_episodes", upstream=real_upstream.url, speed=0) as session:
        assert _sdk_calls(session.url("openai")) == first  # replayed
        second = _sdk_calls(session.url("openai"), other)  # forwarded and recorded
        assert len(session.replay.forwarded()) == 2
    assert len(real_upstream.requests) == 4  # only the new ones reached the upstream
    cassette = fmt.load(path)
    assert [it.request.json["messages"][0]["content"] for it in cassette.interactions] == [
        "Weather in Oslo?",
        "Weather in Oslo?",
        "And in Bergen?",
        "And in Bergen?",
    ]
    assert KEY not in path.read_text() and scan(path) == []
    with CassetteSession(path, speed=0) as session:  # mode none: all four replay
        assert _sdk_calls(session.url("openai")) == first
        assert _sdk_calls(session.url("openai"), other) == second
    assert len(real_upstream.requests) == 4


def test_new_episodes_routes_misses_per_dialect_and_from_the_environment(
    tmp_path: Path, real_upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRECHECK_UPSTREAM_OPENAI", real_upstream.url)
    monkeypatch.delenv("WIRECHECK_UPSTREAM", raising=False)
    assert upstreams(None) == {"openai": real_upstream.url}
    path = tmp_path / "episodes.yaml"
    with (
        pytest.raises(
            ReplayError, match=r"replay did not go as recorded:\n  unmatched request: POST /v1/messages"
        ),
        CassetteSession(path, record_mode="new_episodes", speed=0) as session,
    ):
        _sdk_calls(session.url("openai"))
        # no upstream for anthropic: not forwarded, a near miss that fails the session
        reply = httpx.post(
            session.url() + "/v1/messages", json={"model": "m"}, headers={"anthropic-version": "2023-06-01"}
        )
        assert reply.status_code == 404
    assert len(fmt.load(path).interactions) == 2  # written before the failure
    with pytest.raises(SessionError, match=r"upstream: unknown dialect 'claude'"):
        upstreams({"claude": "http://127.0.0.1:1"})
    with pytest.raises(SessionError, match=r"expected an http:// or https:// base URL, got 'api.openai.com'"):
        upstreams("api.openai.com")


def test_a_marker_in_mode_once_records_on_the_first_run_and_replays_on_the_second(
    inner: pytest.Pytester, real_upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRECHECK_UPSTREAM", real_upstream.url)
    inner.makepyfile(
        f"""
import openai, pytest

@pytest.mark.wirecheck_cassette("cassettes/once.yaml", record_mode="once", speed=0)
def test_chat(wirecheck_replay):
    client = openai.OpenAI(base_url=wirecheck_replay.url("openai"), api_key={KEY!r}, max_retries=0, timeout=10)
    reply = client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "hi"}}])
    assert reply.choices[0].message.content == "Checking the weather."
"""
    )
    inner.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert len(real_upstream.requests) == 1
    written = inner.path / "cassettes" / "once.yaml"
    assert KEY not in written.read_text() and len(fmt.load(written).interactions) == 1
    monkeypatch.delenv("WIRECHECK_UPSTREAM")
    inner.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert len(real_upstream.requests) == 1


# --- relaxed matching --------------------------------------------------------------------------------------


def _gemini_cassette(tmp_path: Path, match: str = "") -> Path:
    it = fmt.load(STARTER_DIR / "gemini-generate.yaml").interactions[0]
    path = fmt.save(fmt.Cassette([it], name="g"), tmp_path / "g.yaml")
    if match:
        text = path.read_text().replace("interactions:\n", f"match: {match}\ninteractions:\n", 1)
        path.write_text(text)
    return path


RELAXED = "/v1/models/gemini-2.5-flash:generateContent?beta=true"


def _probe(path: Path, target: str, **relaxed) -> tuple[int, list[str]]:
    """The status of the recorded request sent to ``target``, and the session's problems."""
    session = CassetteSession(path, speed=0, **relaxed)
    try:
        it = session.replay.cassettes[0].interactions[0]
        headers = {"x-goog-api-key": "g", "content-type": "application/json"}
        status = httpx.post(session.url() + target, content=it.request.body, headers=headers).status_code
        return status, session.problems()
    finally:
        session.close()


def test_relaxed_matching_only_when_declared(tmp_path: Path) -> None:
    """``?beta=true`` and ``/v1/`` for a recorded ``/v1beta/`` match only when the cassette (its ``match``
    key) or the call (arguments) says so; the two add up."""
    strict = _gemini_cassette(tmp_path / "strict")
    status, problems = _probe(strict, RELAXED)
    assert status == 404
    assert "path: expected /v1beta/models/gemini-2.5-flash:generateContent, got /v1/models" in problems[1]
    status, problems = _probe(strict, RELAXED.replace("/v1/", "/v1beta/"))
    assert status == 404 and 'query.beta: expected null, got ["true"]' in problems[1]
    assert _probe(strict, RELAXED.split("?")[0].replace("/v1/", "/v1beta/")) == (200, [])
    assert _probe(strict, RELAXED, ignore_query=["beta"], ignore_path_version=True) == (200, [])

    declared = _gemini_cassette(tmp_path / "declared", "{ignore_query: [beta], ignore_path_version: true}")
    assert fmt.load(declared).match == fmt.MatchPolicy((), ("beta",), True)
    assert _probe(declared, RELAXED) == (200, [])
    half = _gemini_cassette(tmp_path / "half", "{ignore_query: [beta]}")
    assert _probe(half, RELAXED)[0] == 404  # the path version is not declared
    assert _probe(half, RELAXED.replace("/v1/", "/v1beta/")) == (200, [])
    assert _probe(half, RELAXED, ignore_path_version=True) == (200, [])  # declared + per call
