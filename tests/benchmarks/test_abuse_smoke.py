"""The abuse bench runs (a tiny scale, loopback only). No latency or memory is asserted: that is `nox -s bench`'s."""

from __future__ import annotations

from benchmarks import abuse


def test_abuse_bench_runs_both_servers_and_the_attack() -> None:
    figures = abuse.measure(seconds=0.5, rounds=1, scale=0.005, clients=1, bodies=1)
    reference, abused = figures["servers"]["reference"], figures["servers"]["abused"]
    assert reference["requests"] > 0 and abused["requests"] > 0
    assert reference["peak_rss"] > 0 and abused["rss_after"] > 0
    (attack,) = figures["attack"]
    assert attack.get("opened", 0) >= 1  # the slowloris sockets connected
    assert attack.get("answered 413", 0) >= 1  # a body over the (scaled) cap was refused
    assert [g.section for g in abuse.goals_of(figures)] == ["abuse"] * 6
