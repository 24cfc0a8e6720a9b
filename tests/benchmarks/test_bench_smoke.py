"""The benchmarks run (tiny repetitions, loopback only). No timing is asserted: speed is `nox -s bench`'s."""

from __future__ import annotations

import pytest

from benchmarks import _timing, inputs, passthrough, sse_decoder, translation


def test_translation_inputs_and_our_outputs_are_checked() -> None:
    assert {len(s) for s in inputs.STREAMS.values()} == {36}
    assert len(inputs.OPENAI_REQUEST["messages"]) == 10
    translation.check_ours()


def test_translation_runs_every_direction() -> None:
    goals, extra = translation.run(rounds=1, target=0.0005)
    assert len(goals) == 18
    assert {(r["client"], r["upstream"]) for r in extra["translation"]["rows"]} == set(translation.DIRECTIONS)


def test_translation_stages_split_every_request_and_response_cell() -> None:
    rows = translation.stages(rounds=1, target=0.0005)
    assert len(rows) == 12
    for row in rows:
        assert row["validate"] > 0 and row["out_of_ir"] > 0 and row["total"] > 0
        parts = row["validate"] + row["into_ir"] + row["out_of_ir"] + row["dispatch"]
        assert parts == pytest.approx(row["total"])


def test_sse_decoder_bench_runs() -> None:
    goals, extra = sse_decoder.run(rounds=1, size_mb=0.05)
    assert goals[0].section == "sse" and extra["sse"]["events"] > 0


def test_passthrough_bench_runs() -> None:
    goals, extra = passthrough.run(rounds=1, batch=2, stream_mb=1)
    assert len(goals) == 2
    assert extra["passthrough"]["stream"]["bytes"] >= 1_000_000


def test_mock_server_bench_runs() -> None:
    from benchmarks import mock_server

    rows = mock_server.measure(0.2, 1, [1], use_wrk=False)
    assert [(kind, n) for kind, n, *_ in rows] == [("json", 1), ("sse", 1)]


@pytest.mark.parametrize("samples", [[1.0], [3.0, 1.0, 2.0, 4.0]])
def test_stats_and_goals(samples: list[float]) -> None:
    st = _timing.stats(samples)
    assert st.q1 <= st.median <= st.q3
    assert _timing.Goal("x", "y", 2.0, 1.5).met is True
    assert _timing.Goal("x", "y", 2.0, 1.5, higher=False).met is False
    assert _timing.Goal("x", "y", None, 1.5).met is None
