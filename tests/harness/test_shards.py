"""Splitting a run: ``wirecheck run --shard K/N`` and ``wirecheck report merge``.

The central proof: 3 shards of a small real selection (16 cases × the 4 reference providers × 2 wire
variants, with a baseline that has an expected failure, an unknown case, a stale exact entry and a stale
pattern entry), merged, give the report of the same run unsharded: the same results with the same verdicts
and counts and the same exit status (JSON equal modulo timings, ports and order).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.scenario import load_paths
from harness.selection import BadInput, Shard, shard_of

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [
    ROOT / "scenarios" / f"{name}.yaml"
    for name in ("openai_stream", "anthropic_stream", "gemini", "upstream")
]
GATEWAY = ROOT / "tests" / "harness" / "gateway" / "faulty.yaml"

#: A pattern entry that excuses failures (Azure's prompt-filter chunk, which the strict openai SDK refuses),
#: one that never excuses anything (stale, but only a whole run can tell), an entry naming no case of the
#: suite, and one for a case that passes (stale).
BASELINE = """\
entries:
  - case: "**"
    provider: azure
    check: sdk.openai
    reason: the strict openai SDK refuses Azure's prompt-filter chunk
  - case: "openai.**"
    provider: openai
    check: stream.grammar.openai.done_last
    reason: never fails, so stale
  - case: no.such.case
    provider: anthropic
    reason: names an unknown case
  - case: upstream.chat.request.001
    provider: google
    reason: passes, so stale
"""


@dataclass(frozen=True)
class Runs:
    folder: Path
    whole: Path
    whole_code: int
    shards: list[Path]
    shard_codes: list[int]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("shards")
    (folder / "baseline.yaml").write_text(BASELINE)
    argv = ["run", *(a for s in SCENARIOS for a in ("--scenarios", str(s))),
            "--baseline", str(folder / "baseline.yaml"), "--variants", "plain,crlf"]  # fmt: skip
    whole_code = main([*argv, "--json", str(folder / "whole.json")])
    shards = [folder / f"shard{k}.json" for k in (1, 2, 3)]
    codes = [main([*argv, "--shard", f"{k}/3", "--json", str(path)]) for k, path in enumerate(shards, 1)]
    return Runs(folder, folder / "whole.json", whole_code, shards, codes)


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _comparable(path: Path) -> dict[str, Any]:
    """The report without what differs between any two runs: timings, the mock's port, result order, and
    the shard / merge bookkeeping."""
    data = json.loads(re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", path.read_text()))
    for key in ("duration_ms", "shard"):
        data.pop(key, None)
    for result in data["results"]:
        result.pop("duration_ms", None)
        result.pop("first_item_ms", None)
    data["results"].sort(key=lambda r: json.dumps(r, sort_keys=True))
    return data


def _merge(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["report", "merge", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


# --- the split -------------------------------------------------------------------------------------------


def test_every_case_lands_in_exactly_one_shard_for_any_count() -> None:
    cases = load_paths([ROOT / "scenarios"])
    ids = [c.id for c in cases]
    for count in (1, 2, 3, 5, 8):
        parts = [Shard(k, count).keep(cases) for k in range(1, count + 1)]
        assert sorted(c.id for part in parts for c in part) == sorted(ids)
        for part in parts:  # the given order is kept
            assert [c.id for c in part] == [i for i in ids if i in {c.id for c in part}]
        if count > 1:  # a few hundred cases spread over every shard
            assert all(parts), count


def test_the_split_is_a_pinned_hash_and_adding_a_case_moves_no_other() -> None:
    ids = [c.id for c in load_paths([ROOT / "scenarios"])]
    # sha256("openai.chat.text.001")[:8] as a big-endian number, mod N, plus one: the same everywhere
    assert [shard_of("openai.chat.text.001", n) for n in (1, 2, 5, 7)] == [1, 1, 3, 7]
    before = {i: shard_of(i, 4) for i in ids}
    after = {i: shard_of(i, 4) for i in [*ids, "openai.chat.brand_new.001", "zz.another.new.001"]}
    assert {i: after[i] for i in ids} == before


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "3", "1/0", "-1/3", "1/3/5", ""])
def test_bad_shard_values_are_one_line_and_exit_2(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(BadInput):
        Shard.parse(value)
    assert main(["run", "--scenarios", str(SCENARIOS[0]), f"--shard={value}", "--no-sdk"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("wirecheck run: --shard ")
    # gateway mode shares the flag
    assert main(["run", "--gateway", str(GATEWAY), "--scenarios", str(SCENARIOS[0]), f"--shard={value}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("wirecheck run: --shard ")


def test_run_help_documents_the_shard_flag_and_the_merge(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--shard K/N run only shard K of N" in text and "wirecheck report merge" in text
    with pytest.raises(SystemExit):
        main(["report", "merge", "--help"])
    assert "SHARD.json" in capsys.readouterr().out


# --- shards of a real run ----------------------------------------------------------------------------------


def test_each_case_runs_in_its_own_shard_with_all_its_providers_and_variants(runs: Runs) -> None:
    whole = _load(runs.whole)
    selected = whole_cases = [c.id for c in load_paths(SCENARIOS)]
    pairs: dict[str, set[tuple[str, str]]] = {}
    for r in whole["results"]:
        if r["case"] in whole_cases:
            pairs.setdefault(r["case"], set()).add((r["provider"], r["variant"]))
    seen: dict[str, int] = {}
    for index, path in enumerate(runs.shards, 1):
        data = _load(path)
        assert data["shard"]["index"] == index and data["shard"]["selected"] == selected
        mine: dict[str, set[tuple[str, str]]] = {}
        for r in data["results"]:
            if r["case"] in whole_cases:
                mine.setdefault(r["case"], set()).add((r["provider"], r["variant"]))
        for case, found in mine.items():
            assert case not in seen, f"{case} in shards {seen.get(case)} and {index}"
            seen[case] = index
            assert shard_of(case, 3) == index
            assert found == pairs[case]  # every provider and variant of the case, here and only here
        assert data["cases"] == sum(shard_of(c, 3) == index for c in selected)
    assert set(seen) == set(pairs)
    assert sorted(seen.values()) != [seen[next(iter(seen))]] * len(seen)  # really split


def test_three_shards_merged_equal_one_unsharded_run(
    runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merged = tmp_path / "merged.json"
    code, out, err = _merge(
        capsys, *runs.shards, "--json", merged, "--junit", tmp_path / "m.xml", "--matrix", tmp_path / "m.md"
    )
    assert err == ""
    whole = _load(runs.whole)
    # the run the comparison is about: every kind of verdict the rules speak of
    names = {(r["case"], r["provider"]): r["verdict"] for r in whole["results"] if r["variant"] == "plain"}
    assert names[("openai.**", "openai")] == "fail"  # a stale pattern entry
    assert names[("no.such.case", "anthropic")] == "fail"  # an entry naming an unknown case
    assert names[("upstream.chat.request.001", "google")] == "fail"  # an expected failure that passes
    assert whole["counts"]["expected-failure"] > 0 and whole["counts"]["not-applicable"] > 0
    assert runs.whole_code == 1 and code == runs.whole_code  # the merge exits with the run's verdict
    assert _comparable(merged) == _comparable(runs.whole)
    assert "FAILED (exit 1)" in out and "merged 3 shards" in out
    assert len(ET.parse(tmp_path / "m.xml").getroot().findall(".//testcase")) == len(whole["results"])
    assert f"{len(whole['results'])} results, {whole['cases']} cases" in (tmp_path / "m.md").read_text()


def test_only_the_merge_can_tell_a_stale_pattern_and_it_reports_run_level_failures_once(runs: Runs) -> None:
    shards = [_load(path) for path in runs.shards]
    # no single shard saw the whole suite, so none judged the pattern that never excused a failure ...
    assert all(r["case"] != "openai.**" for data in shards for r in data["results"])
    # ... the one that excused failures was used in a shard, though perhaps not in every one
    assert any(
        p["used"] for data in shards for p in data["shard"]["patterns"] if p["entry"]["provider"] == "azure"
    )
    # every shard reports the entry naming an unknown case; the merged run (and the whole run) once
    assert all(any(r["case"] == "no.such.case" for r in data["results"]) for data in shards)
    assert all(code == 1 for code in runs.shard_codes)
    whole = _load(runs.whole)
    assert sum(r["case"] == "no.such.case" for r in whole["results"]) == 1


def test_an_empty_shard_runs_nothing_and_the_merge_of_a_passing_run_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = "openai.chat.text.001"  # shard 1 of 2 (pinned above)
    argv = ["run", "--scenarios", str(ROOT / "scenarios" / "openai_chat.yaml"), "-k", case, "--no-sdk"]
    assert main([*argv, "--shard", "2/2", "--json", str(tmp_path / "2.json")]) == 0
    assert _load(tmp_path / "2.json")["results"] == []
    assert "shard 2/2: 0 of 1 cases" in capsys.readouterr().err
    assert main([*argv, "--shard", "1/2", "--json", str(tmp_path / "1.json")]) == 0
    code, out, _ = _merge(capsys, tmp_path / "2.json", tmp_path / "1.json", "--json", tmp_path / "m.json")
    assert code == 0 and "\nOK\n" in out
    merged = _load(tmp_path / "m.json")
    assert merged["ok"] and merged["cases"] == 1 and {r["case"] for r in merged["results"]} == {case}
    assert merged["counts"]["pass"] == len(merged["results"]) == 4


# --- refusals ------------------------------------------------------------------------------------------------


def _edited(runs: Runs, tmp_path: Path, index: int, edit: Callable[[dict[str, Any]], object]) -> Path:
    data = _load(runs.shards[index - 1])
    edit(data)
    path = tmp_path / f"edited{index}.json"
    path.write_text(json.dumps(data))
    return path


def _move_result(data: dict[str, Any], runs: Runs) -> None:
    """A result of shard 1 put in this report as well."""
    data["results"].append(_load(runs.shards[0])["results"][0])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d, runs: d["shard"].update(providers=["openai"]),
            "from another run than {first}: different providers",
        ),
        (
            lambda d, runs: d["shard"].update(variants=["plain"]),
            "different wire variants (plain vs plain, crlf)",
        ),
        (lambda d, runs: d["shard"].update(profile="spec"), "different profile (spec vs None)"),
        (lambda d, runs: d["shard"].update(baseline="other.yaml"), "different baseline"),
        (lambda d, runs: d["shard"].update(selected=d["shard"]["selected"][1:]), "different case selection"),
        (lambda d, runs: d["shard"].update(count=4), "different shard count (4 vs 3)"),
        (_move_result, "has results in two shards ({first} too)"),
        (lambda d, runs: d["shard"].update(index=5), "its shard block is malformed"),
        (lambda d, runs: d.pop("shard"), "not a shard's report"),
        (lambda d, runs: d.pop("results"), "not a wirecheck JSON report"),
    ],
)
def test_reports_of_different_runs_are_refused_naming_the_file(
    runs: Runs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[dict[str, Any], Runs], object],
    message: str,
) -> None:
    edited = _edited(runs, tmp_path, 2, lambda d: edit(d, runs))
    code, out, err = _merge(capsys, runs.shards[0], edited, runs.shards[2], "--json", tmp_path / "m.json")
    assert code == 2 and out == "" and not (tmp_path / "m.json").exists()
    assert err.count("\n") == 1 and err.startswith(f"wirecheck report merge: {edited}: ")
    assert message.format(first=runs.shards[0]) in err


def test_a_result_in_a_shard_that_does_not_own_its_case_is_refused(
    runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _load(runs.shards[0])
    moved = next(r for r in first["results"] if r["case"] in first["shard"]["selected"])
    first["results"] = [r for r in first["results"] if r["case"] != moved["case"]]
    (tmp_path / "1.json").write_text(json.dumps(first))
    edited = _edited(runs, tmp_path, 2, lambda d: d["results"].append(moved))
    code, _, err = _merge(capsys, tmp_path / "1.json", edited, runs.shards[2])
    assert code == 2
    assert f"{edited}: case {moved['case']} belongs to shard 1/3, not 2/3" in err


def test_a_missing_or_repeated_shard_is_refused(
    runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _merge(capsys, runs.shards[0], runs.shards[2])
    assert code == 2 and "shard 2/3 missing" in err
    copy = tmp_path / "copy.json"
    shutil.copy(runs.shards[0], copy)
    code, _, err = _merge(capsys, runs.shards[0], copy, runs.shards[1], runs.shards[2])
    assert code == 2 and f"{copy}: shard 1/3 again (also {runs.shards[0]})" in err
    code, _, err = _merge(capsys, runs.shards[0], runs.shards[0], runs.shards[1], runs.shards[2])
    assert code == 2 and f"{runs.shards[0]}: given twice" in err
    code, _, err = _merge(capsys, runs.whole, *runs.shards)
    assert code == 2 and f"{runs.whole}: not a shard's report" in err


def test_unreadable_reports_are_refused_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    code, _, err = _merge(capsys, tmp_path / "bad.json")
    assert code == 2 and f"{tmp_path / 'bad.json'}: not JSON (line 1" in err
    code, _, err = _merge(capsys, tmp_path / "absent.json")
    assert code == 2 and f"{tmp_path / 'absent.json'}: cannot read it" in err


# --- gateway mode ---------------------------------------------------------------------------------------------


def test_gateway_mode_shards_merge_to_the_unsharded_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The faulty gateway of tests/harness/gateway, faithful: its transparency probe runs in every shard and
    the merge keeps it once (from the shard its id belongs to)."""
    argv = ["run", "--gateway", str(GATEWAY), "--scenarios", str(ROOT / "scenarios" / "openai_chat.yaml"),
            "--scenarios", str(SCENARIOS[0]), "--no-sdk"]  # fmt: skip
    assert main([*argv, "--json", str(tmp_path / "whole.json")]) == 0
    for k in (1, 2):
        assert main([*argv, "--shard", f"{k}/2", "--json", str(tmp_path / f"{k}.json")]) == 0
    code, _, err = _merge(capsys, tmp_path / "1.json", tmp_path / "2.json", "--json", tmp_path / "m.json")
    assert code == 0, err

    def verdicts(path: Path) -> list[tuple[str, str, str, str]]:
        data = _load(path)
        return sorted((r["case"], r["provider"], r["variant"], r["verdict"]) for r in data["results"])

    whole, merged = _load(tmp_path / "whole.json"), _load(tmp_path / "m.json")
    assert verdicts(tmp_path / "m.json") == verdicts(tmp_path / "whole.json")
    assert merged["counts"] == whole["counts"] and merged["cases"] == whole["cases"]
    assert sum(r["case"].startswith("gateway.transparency.") for r in merged["results"]) == 1
    assert all(
        any(r["case"].startswith("gateway.transparency.") for r in _load(tmp_path / f"{k}.json")["results"])
        for k in (1, 2)
    )


# --- the pytest plugin under pytest-xdist ----------------------------------------------------------------------


def test_the_pytest_plugin_runs_each_item_once_under_xdist(tmp_path: Path) -> None:
    """``pytest -n 2``: both workers collect the same items in the same order (xdist refuses otherwise),
    each item runs once with its own verdict, and a stale baseline entry still fails as XPASS(strict)."""
    pytest.importorskip("xdist", reason="pytest-xdist is not installed (pip install -e '.[dev]')")
    from harness.runner import resolve_providers

    (tmp_path / "scenarios").mkdir()
    files = [ROOT / "scenarios" / "openai_chat.yaml", SCENARIOS[3]]
    for path in files:
        shutil.copy(path, tmp_path / "scenarios" / path.name)
    providers = resolve_providers(["openai", "anthropic"], None)
    expected = sorted(
        f"scenarios/{path.name}::{case.id}[{put.name}]"
        for path in files
        for case in load_paths([path])
        for put in providers
        if put.applies(case)
    )
    stale = "openai.chat.text.001"
    (tmp_path / "baseline.yaml").write_text(
        f"entries:\n  - {{case: {stale}, provider: openai, reason: stale}}\n"
    )
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nwirecheck_scenarios = scenarios\nwirecheck_providers =\n    openai\n    anthropic\n"
        "wirecheck_baseline = baseline.yaml\n"
    )
    plugin = [] if _plugin_installed() else ["-p", "harness.pytest_plugin"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile", "-rA",
         "--wirecheck-no-sdk", "-q"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    reported = sorted(re.findall(r"^(?:PASSED|FAILED) (\S+)", out, re.MULTILINE))
    assert reported == expected  # every item, once, under the same id
    assert f"FAILED scenarios/openai_chat.yaml::{stale}[openai]" in out and "XPASS(strict)" in out
    assert f"1 failed, {len(expected) - 1} passed" in out


def _plugin_installed() -> bool:
    from importlib.metadata import entry_points

    return any(ep.value == "harness.pytest_plugin" for ep in entry_points(group="pytest11"))
