"""docs/translation.md is generated from the converters' own tables; it must match them exactly."""

from __future__ import annotations

from pathlib import Path

from harness.translation_doc import lossy_rows, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "translation.md"


def test_committed_translation_doc_is_up_to_date():
    assert DOC.read_text() == render(), "regenerate: python -m harness.translation_doc > docs/translation.md"


def test_every_dialect_declares_what_it_loses_in_both_directions():
    rows = lossy_rows()
    for dialect in ("openai", "anthropic", "gemini"):
        assert any(r.source == dialect for r in rows), f"{dialect}: nothing listed as lost on the way out"
        assert any(r.target in (dialect, "*") and r.source != dialect for r in rows) or any(
            r.source == "*" and r.target == dialect for r in rows
        ), f"{dialect}: nothing listed as inexpressible on the way in"
    for row in rows:
        assert row.field and row.reason, row
