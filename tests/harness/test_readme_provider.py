"""The README's "Testing your own provider" section works as written: its provider class passes the family
it was written for, fails where it really falls short, and its baseline excuses exactly that failure."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from harness.baseline import Baseline
from harness.runner import run
from harness.scenario import load_paths
from harness.verdicts import Verdict

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### Testing your own provider", 1)[1].split("\n### ", 1)[0]
PROVIDER = "my_provider:MyProvider"


def _block(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", SECTION, re.S)
    assert found, f"no {language} block in the README section"
    return found.group(1)


@pytest.fixture(scope="module")
def readme_provider(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("readme")
    (folder / "my_provider.py").write_text(_block("python"), encoding="utf-8")
    sys.path.insert(0, str(folder))
    yield PROVIDER
    sys.path.remove(str(folder))
    sys.modules.pop("my_provider", None)


def _cases(prefix: str):
    return [c for c in load_paths([ROOT / "scenarios"]) if c.id.startswith(prefix)]


def test_the_readme_provider_passes_the_family_it_was_written_for(readme_provider: str) -> None:
    cases = _cases("openai.chat.")
    result = run(cases, [readme_provider], sdk=False)
    assert len(result.results) == len(cases) >= 5
    assert result.ok, [(r.case_id, r.verdict) for r in result.results if r.verdict is not Verdict.PASS]


def test_the_readme_baseline_excuses_the_one_failure_it_names(readme_provider: str, tmp_path: Path) -> None:
    cases = _cases("translate_to_openai.gemini_stream.truncated.")
    (failing,) = run(cases, [readme_provider], sdk=False).results
    assert failing.verdict is Verdict.FAIL  # a real shortfall of the minimal class, not a made-up one
    path = tmp_path / "my-baseline.yaml"
    path.write_text(_block("yaml"), encoding="utf-8")
    (excused,) = run(cases, [readme_provider], baseline=Baseline.load(path), sdk=False).results
    assert excused.verdict is Verdict.EXPECTED_FAILURE
