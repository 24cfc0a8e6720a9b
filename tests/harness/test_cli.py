"""The thin faces: ``wirecheck run`` / ``list`` / ``serve`` and the pytest plugin."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import cli
from harness.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BASELINE = ROOT / "baselines" / "reference.yaml"


def test_run_writes_reports_and_exits_0_when_everything_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "--scenarios", str(SCENARIOS / "openai_chat.yaml"), "--scenarios", str(SCENARIOS / "compat.yaml"),
         "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml"), "--matrix", str(tmp_path / "r.md"),
         "--no-sdk"]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.out
    assert "pass: " in out.out and out.out.rstrip().splitlines()[-1].startswith("wrote ")
    assert "OK" in out.out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["ok"] and {r["provider"] for r in data["results"]} == {
        "openai",
        "anthropic",
        "google",
        "azure",
    }
    assert ET.parse(tmp_path / "r.xml").getroot().tag == "testsuites"
    assert (tmp_path / "r.md").read_text().startswith("# wirecheck conformance matrix")
    assert out.err.strip(".\n") == ""  # progress dots on stderr (not a TTY here)


def test_run_exits_1_on_failures_and_k_selects_cases(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "run",
        "--scenarios",
        str(SCENARIOS / "openai_stream.yaml"),
        "-k",
        "stream.text",
        "--provider",
        "azure",
    ]
    assert main([*args, "--no-baseline"]) == 1
    out = capsys.readouterr().out
    assert "openai.stream.text.001[azure]  (fail)" in out and "1 results" in out
    assert main([*args, "--baseline", str(BASELINE)]) == 0
    assert "EXPECTED FAILURES (baseline): 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("words", "judges"),
    [
        (["run"], True),
        (["run", "-k", "openai", "--json", "r.json"], True),
        (["run", "--no-sdk"], False),
        (["run", "--gateway", "adapter.yaml"], False),
        (["run", "--gateway-url=http://127.0.0.1:1", "--gateway-adapter", "a.yaml"], False),
        (["run", "--help"], False),
        (["list"], False),
        ([], False),
    ],
)
def test_which_command_lines_judge_with_the_sdk_oracles(words: list[str], judges: bool) -> None:
    assert cli.judges_with_sdk_oracles(words) is judges


def test_a_run_starts_its_oracle_process_before_its_own_imports_and_stops_it_at_the_end(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.oracles import sdk_process

    events: list[str] = []
    monkeypatch.setattr(sdk_process, "start", lambda: events.append("start"))
    monkeypatch.setattr(sdk_process, "stop", lambda: events.append("stop"))
    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: events.append("parser") or parser())
    assert main(["run", "--scenarios", str(SCENARIOS / "compat.yaml"), "-k", "compat.openai"]) == 0
    capsys.readouterr()
    assert events[:2] == ["start", "parser"]  # first thing, before the imports building the parser brings
    assert events.count("start") == events.count("stop") and events[-1] == "stop"
    events.clear()
    assert (
        main(["run", "--scenarios", str(SCENARIOS / "compat.yaml"), "-k", "compat.openai", "--no-sdk"]) == 0
    )
    capsys.readouterr()
    assert events == ["parser"]


def test_the_program_leaves_its_heap_to_the_end_of_the_process_not_to_the_collector(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as the program (``argv=None``), the command freezes what is alive when it ends: the process
    ends next, without a last full collector pass. A caller that passes ``argv`` goes on: nothing frozen."""
    listing = ["list", "--scenarios", str(SCENARIOS / "compat.yaml")]
    assert main(listing) == 0
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(sys, "argv", ["wirecheck", *listing])
    try:
        assert main() == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    capsys.readouterr()


def test_a_run_collects_garbage_less_and_leaves_the_collector_as_it_found_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """During the run (``cli._collecting_less``) what was alive before is frozen and the first threshold
    raised; afterwards the process's own settings are back, also when the run raises."""
    before = gc.get_threshold()
    seen: list[tuple[tuple[int, ...], int]] = []

    def spy(*_: object, **__: object) -> None:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        raise KeyboardInterrupt

    monkeypatch.setattr("harness.runner.run", spy)
    assert main(["run", "--scenarios", str(SCENARIOS / "compat.yaml"), "--no-sdk"]) == 130  # interrupted
    capsys.readouterr()
    ((during, frozen),) = seen
    assert during == cli.RUN_GC_THRESHOLDS != before
    assert frozen > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "mistral"], "wirecheck run: provider spec 'mistral': no provider of that name"),
        (["--provider", "providers.openai:Nope"], "has no attribute 'Nope'"),
        (["--provider", "providers.openai:OpenAIProvider"], "expected its upstream dialect"),
        (
            ["--scenarios", "/no/such/dir"],
            "wirecheck run: /no/such/dir: <file>: expected a scenario file or directory",
        ),
        (["--baseline", "/no/such/baseline.yaml"], "expected a readable baseline file"),
        (["-k", "no.such.case"], "no case matches -k no.such.case"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--scenarios", str(SCENARIOS / "compat.yaml"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_malformed_scenario_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "cases:\n  - id: bad.case.001\n    title: t\n    clause: {spec: openai, ref: r}\n"
        "    method: chat_completion\n    request: {}\n    expect:\n      stop: finished\n"
    )
    assert main(["run", "--scenarios", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"wirecheck run: {bad}:8: cases[0].expect.stop: expected one of end_turn")
    assert err.endswith("got 'finished'")


def test_list_shows_ids_and_clauses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--scenarios", str(SCENARIOS / "compat.yaml")]) == 0
    out = capsys.readouterr().out
    assert "compat.openai.001  [is_openai_compat; openai,azure; reference]  contract: 13-15." in out
    assert "compat.openai.002  [is_openai_compat; anthropic,google; contract]  contract: 13-15." in out
    assert out.rstrip().endswith("5 cases")


def test_list_levels_counts_the_cases_per_level(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--levels", "--scenarios", str(SCENARIOS / "compat.yaml")]) == 0
    out = capsys.readouterr().out
    assert "  spec          0 cases," in out
    assert "  contract      2 cases," in out
    assert "  reference     3 cases," in out


def test_serve_is_still_there() -> None:
    args = build_parser().parse_args(["serve", "script.yaml", "--port", "0"])
    assert args.script == "script.yaml" and args.port == 0


def test_the_console_script_runs_from_elsewhere(tmp_path: Path) -> None:
    """`python -m harness.cli` from another folder finds the shipped scenarios beside the package."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("WIRECHECK_SCENARIOS", None)
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "list", "-k", "compat.gemini"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "compat.gemini.001" in done.stdout


PLUGIN_CASES = """\
cases:
  - id: plugin.case.001
    title: says hello
    clause: {spec: contract, ref: r}
    method: chat_completion
    providers: [openai, anthropic]
    request: {model: gpt-4o, messages: [{role: user, content: hi}]}
    upstream: {reply: {answer: {text: "Hello.", usage: {prompt: 3, completion: 1}}}}
    expect: {text: "Hello."}
  - id: plugin.case.002
    title: expects what is not said
    clause: {spec: contract, ref: r}
    method: chat_completion
    providers: [openai, anthropic]
    request: {model: gpt-4o, messages: [{role: user, content: hi}]}
    upstream: {reply: {answer: {text: "Hello.", usage: {prompt: 3, completion: 1}}}}
    expect: {text: "Bye."}
"""


def _entry_point_installed() -> bool:
    from importlib.metadata import entry_points

    return any(ep.value == "harness.pytest_plugin" for ep in entry_points(group="pytest11"))


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in ``cwd`` with the plugin (loaded by ``-p`` unless the pytest11 entry point already is)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    plugin = [] if _entry_point_installed() else ["-p", "harness.pytest_plugin"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-q", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_pytest_plugin_makes_one_item_per_case_and_provider(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(PLUGIN_CASES)
    (tmp_path / "baseline.yaml").write_text(
        "entries:\n"
        "  - {case: plugin.case.002, provider: openai, reason: says hello}\n"
        "  - {case: plugin.case.002, provider: anthropic, check: fields.text, reason: says hello too}\n"
    )
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nwirecheck_scenarios = cases.yaml\nwirecheck_providers =\n    openai\n    anthropic\n"
        "wirecheck_baseline = baseline.yaml\n"
    )
    done = _pytest(tmp_path, "-rxXs", "--wirecheck-no-sdk")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "XFAIL cases.yaml::plugin.case.002[openai] - wirecheck baseline: says hello" in out
    assert "XFAIL cases.yaml::plugin.case.002[anthropic] - wirecheck baseline: says hello too" in out
    assert "2 passed, 2 xfailed" in out

    # -k selects items; a stale entry fails as XPASS(strict); an unlisted failure shows the diff.
    (tmp_path / "baseline.yaml").write_text(
        "entries:\n  - {case: plugin.case.001, provider: openai, reason: stale}\n"
    )
    done = _pytest(tmp_path, "--wirecheck-no-sdk", "-k", "openai")
    out = done.stdout
    assert done.returncode == 1
    assert "[XPASS(strict)] wirecheck baseline: stale" in out
    assert '✗ fields.text: text: expected "Bye.", got "Hello."' in out
    assert "2 failed, 2 deselected" in out


def test_the_plugin_is_inert_without_scenarios(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    done = _pytest(tmp_path)
    assert done.returncode == 0 and "1 passed" in done.stdout
