"""The README's speed table is made from one bench report, between its markers, and nowhere else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import readme
from benchmarks._timing import Goal, machine


def _report() -> dict:
    start, end = machine(), machine()
    start["loadavg"], end["loadavg"] = 0.25, 1.5
    goals = [
        Goal("translation", "openai→gemini request", 4.5, 3.0, detail="ours 12 µs | LiteLLM 54 µs"),
        Goal("suite", "wall time", 12.0, 10.0, higher=False, unit=" s"),
        Goal("mock-server", "ahead of aimock (worst point)", None, 1.0, detail="aimock: not installed"),
        Goal("translation", "gemini→anthropic request", 2.9968, 3.0),
    ]
    return {
        "machine_start": start,
        "machine": end,
        "goals": [g.to_json() for g in goals],
        "translation": {"litellm": "1.108.7"},
        "mock_server": [{"generator": "python", "servers": {"aimock": {"version": "1.43.0"}, "bare": {}}}],
    }


def test_the_table_names_the_run_and_gives_every_goal_with_its_verdict() -> None:
    table = readme.render(_report())
    assert "load 0.25 at the start, 1.50 at the end" in table
    assert "LiteLLM 1.108.7" in table and "aimock 1.43.0" in table and "mock load generator: python" in table
    assert "1 of 4 goals met" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows == [
        "| translation | openai→gemini request | 4.50x | ≥ 3x | yes | ours 12 µs \\| LiteLLM 54 µs |",
        "| suite | wall time | 12.00 s | < 10 s | **no** |  |",
        "| mock-server | ahead of aimock (worst point) | n/a | ≥ 1x | not measured | aimock: not installed |",
        "| translation | gemini→anthropic request | 2.997x | ≥ 3x | **no** |  |",  # never "3.00x, no"
    ]


def test_update_rewrites_only_what_lies_between_the_markers(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text(f"# Title\n\nbefore\n{readme.BEGIN}\nold table\n{readme.END}\nafter\n", encoding="utf-8")
    assert readme.update(path, _report()) is True
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\nbefore\n{readme.BEGIN}\nFrom `nox -s bench`")
    assert text.endswith(f"| **no** |  |\n{readme.END}\nafter\n")
    assert "old table" not in text
    assert readme.update(path, _report()) is False  # the same report: nothing to change


def test_check_exits_1_when_the_table_is_not_the_reports(tmp_path: Path) -> None:
    report, path = tmp_path / "bench.json", tmp_path / "README.md"
    report.write_text(json.dumps(_report()), encoding="utf-8")
    path.write_text(f"{readme.BEGIN}\nstale\n{readme.END}\n", encoding="utf-8")
    args = ["--json", str(report), "--readme", str(path)]
    assert readme.main([*args, "--check"]) == 1
    assert readme.main(args) == 0
    assert readme.main([*args, "--check"]) == 0


@pytest.mark.parametrize(
    "text",
    [
        "no markers at all\n",
        f"{readme.END}\n{readme.BEGIN}\n",
        f"{readme.BEGIN}\n{readme.BEGIN}\n{readme.END}\n",
    ],
)
def test_a_readme_without_one_pair_of_markers_is_refused_naming_it(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report, path = tmp_path / "bench.json", tmp_path / "README.md"
    report.write_text(json.dumps(_report()), encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    assert readme.main(["--json", str(report), "--readme", str(path)]) == 2
    assert path.read_text(encoding="utf-8") == text
    err = capsys.readouterr().err
    assert str(path) in err and readme.BEGIN in err


def test_a_report_that_is_not_a_bench_report_is_refused(tmp_path: Path, capsys) -> None:
    report, path = tmp_path / "bench.json", tmp_path / "README.md"
    report.write_text(json.dumps({"goals": "nope"}), encoding="utf-8")
    path.write_text(f"{readme.BEGIN}\n{readme.END}\n", encoding="utf-8")
    assert readme.main(["--json", str(report), "--readme", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(report) in err and "expected a bench report" in err
