"""The append-only cassette file (``harness.cassettes.journal``): header and appends always load, a tail torn
by a kill loads the complete interactions with a warning naming the file, ordinary cassettes are never cut,
and an entry with findings is never written."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from harness.cassettes import format as fmt
from harness.cassettes.cli import add_commands
from harness.cassettes.journal import JOURNAL_LINE, Journal, TornTailWarning, prepare, recover

PASSWORD = "correct-horse-battery-staple-42"


def _chat(content: str, **extra) -> dict:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": content}], **extra}


def _interaction(n: int, place: str = "Oslo") -> fmt.Interaction:
    body = json.dumps(_chat(f"question {n} about {place}"), ensure_ascii=False).encode()
    return fmt.Interaction(
        fmt.Request("POST", "/v1/chat/completions", body=body),
        fmt.Response(
            200, {"content-type": ["text/event-stream"]}, chunks=[fmt.Chunk(1.5, b"data: [DONE]\n\n")]
        ),
        recorded_at="2026-01-01T00:00:00Z",
    )


def _journal(path: Path, count: int) -> Journal:
    journal = Journal(path, fmt.Cassette(name="torn", meta={"upstream": "http://127.0.0.1:1"}))
    journal.open()
    for n in range(count):
        journal.write(prepare(_interaction(n)))
    journal.close()
    return journal


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda item: item[: len(item) // 2], id="mid-item"),
        pytest.param(lambda item: item.split("\n", 1)[0] + "\n", id="first-line-only-still-valid-yaml"),
        pytest.param(lambda item: item + "# wirecheck: interaction 4 comp", id="mid-complete-line"),
        pytest.param(lambda item: item.encode()[: item.encode().index("ø".encode()) + 1], id="mid-character"),
    ],
)
def test_a_torn_tail_loads_the_complete_interactions_with_a_warning(tmp_path: Path, cut) -> None:
    path = tmp_path / "torn.yaml"
    _journal(path, 3)
    whole = fmt.load(path)
    assert len(whole.interactions) == 3 and not whole.truncated
    torn = cut(prepare(_interaction(3, "Tromsø")).text)
    with path.open("ab") as handle:  # what a kill in the middle of the fourth write leaves
        handle.write(torn if isinstance(torn, bytes) else torn.encode())
    with pytest.warns(TornTailWarning, match=rf"{path}: the last append was torn .* the 3 complete"):
        cassette = fmt.load(path)
    assert cassette.truncated
    assert cassette.interactions == whole.interactions
    assert fmt.is_cassette(path)
    # `wirecheck cassette scan` of it still works (and finds nothing: nothing secret was written)
    parser = argparse.ArgumentParser(prog="wirecheck")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cassette", "scan", str(path)])
    assert args.run(args) == 0


def test_recover_cuts_only_journals_and_only_real_tails(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    _journal(path, 0)
    text = path.read_text()
    assert text.startswith(JOURNAL_LINE) and text.endswith("interactions:\n")
    assert recover(text) == (text, None)
    assert fmt.load(path).interactions == []  # `interactions:` (null) is an empty journal
    assert recover(text + "- source: rec") == (text, "- source: rec")
    assert recover(text + "\n\n") == (text + "\n\n", None)
    # a broken character before the last complete line is no tear: still "not UTF-8"
    broken = tmp_path / "broken.yaml"
    _journal(broken, 2)
    raw = broken.read_bytes()
    broken.write_bytes(raw.replace(b"Oslo", b"Osl\xc3", 1) + b"- sou")
    with pytest.raises(fmt.CassetteError, match=r"broken\.yaml:17: <file>: expected UTF-8 text"):
        fmt.load(broken)
    # an ordinary cassette is never cut: a broken one is still an error naming the file
    plain = tmp_path / "plain.yaml"
    fmt.save(fmt.Cassette(interactions=[_interaction(0)]), plain)
    plain.write_text(plain.read_text() + "- source: [")
    assert recover(plain.read_text())[1] is None
    with pytest.raises(fmt.CassetteError, match=r"plain\.yaml"):
        fmt.load(plain)


def test_a_json_journal_is_rewritten_whole_and_always_loads(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal = Journal(path, fmt.Cassette(name="j"))
    journal.open()
    assert json.loads(path.read_text())["interactions"] == []
    for n in range(2):
        journal.write(prepare(_interaction(n), ".json"))
        assert len(json.loads(path.read_text())["interactions"]) == n + 1
    journal.close()
    assert [it.request.body for it in fmt.load(path).interactions] == [
        _interaction(n).request.body for n in range(2)
    ]
    with pytest.raises(ValueError, match="closed"):
        journal.write(prepare(_interaction(2), ".json"))
    ordinary = tmp_path / "ordinary.json"
    ordinary.write_text("{}")
    assert path.stat().st_mode & 0o777 == ordinary.stat().st_mode & 0o777  # not private as mkstemp's
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_a_journal_never_writes_an_entry_with_findings(tmp_path: Path) -> None:
    it = _interaction(0)
    it.request.body = json.dumps(_chat("x", metadata={"password": PASSWORD})).encode()
    entry = prepare(it)
    assert [f.kind for f in entry.findings] == ["secret-named field 'password'"]
    journal = Journal(tmp_path / "j.yaml")
    with pytest.raises(ValueError, match="never written"):
        journal.write(entry)
    assert not (tmp_path / "j.yaml").exists()
