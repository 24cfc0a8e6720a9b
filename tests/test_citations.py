"""Citations stay inside the repository and resolve.

- Every ``docs/<name>.md#<anchor>`` cited anywhere in the tracked files, and every relative Markdown link
  with an anchor, points at a document that exists and an anchor it defines (an explicit ``<a id="...">``
  or a heading's GitHub slug).
- Outside ``tests/`` (which may read the external corpus of specs and recorded traffic when it is
  present) and ``noxfile.py``, nothing cites the documents that used to live outside the repository.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: ``docs/contract.md#errors``, in any file (prose, YAML, JSON, Python).
DOC_CITATION = re.compile(r"(?<![\w./-])docs/([\w./-]+?\.md)#([\w-]+)")
#: ``[text](wire.md#openai-streaming)`` or ``(#errors)`` inside a Markdown file, relative to that file.
MARKDOWN_LINK = re.compile(r"\]\(([^()\s#]*)#([^()\s]+)\)")
EXPLICIT_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")

#: What used to be cited from outside the repository, and must not be any more.
FORBIDDEN = re.compile(
    r"\.\./shared|shared/(?:specs|real-traffic)|CONTRACT\.md|WIRE\.md|DESIGN\.md|research/"
    r"|anchors-(?:conformance|mocks)|crabllm\.md|CONTRACT §"
)
#: Where the forbidden names may still appear.
EXEMPT_PREFIXES = ("tests/",)
EXEMPT_FILES = frozenset({"noxfile.py"})

TEXT_SUFFIXES = frozenset({".py", ".md", ".yaml", ".yml", ".json", ".toml", ".txt", ".cfg", ".ini", ""})


@cache
def tracked_files() -> tuple[str, ...]:
    """Repository-relative paths of the text files git tracks or would add (every file when git is not
    available)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True,
            capture_output=True,
        ).stdout.decode()
        paths = sorted({p for p in out.split("\0") if p})
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", ".nox", "build", "dist", "__pycache__", ".hypothesis", ".ruff_cache"}
        paths = [
            p.relative_to(REPO).as_posix()
            for p in REPO.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(REPO).parts)
        ]
    return tuple(sorted(p for p in paths if Path(p).suffix in TEXT_SUFFIXES and (REPO / p).is_file()))


def read(path: str) -> str:
    return (REPO / path).read_text(encoding="utf-8", errors="replace")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(doc: str) -> frozenset[str]:
    """The anchors a Markdown file defines: explicit ``<a id>`` anchors and heading slugs."""
    text = read(doc)
    found = set(EXPLICIT_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        match = None if in_code else HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def citations() -> list[tuple[str, int, str, str]]:
    """``(file, line, target doc, anchor)`` for every anchored citation of a document in ``docs/``, and for
    every anchored relative link of a Markdown file."""
    out = []
    for path in tracked_files():
        for number, line in enumerate(read(path).splitlines(), 1):
            for doc, anchor in DOC_CITATION.findall(line):
                out.append((path, number, f"docs/{doc}", anchor))
            if path.endswith(".md"):
                for target, anchor in MARKDOWN_LINK.findall(line):
                    if re.match(r"[a-z]+:", target):
                        continue  # an external URL
                    resolved = (Path(path).parent / target).as_posix() if target else path
                    out.append((path, number, _normalise(resolved), anchor))
    return out


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def test_the_documents_exist_and_define_anchors() -> None:
    for doc in ("docs/contract.md", "docs/wire.md", "docs/design.md"):
        assert (REPO / doc).is_file(), doc
        assert len(EXPLICIT_ANCHOR.findall(read(doc))) >= 5, f"{doc} defines (almost) no explicit anchors"


def test_there_are_citations_to_check() -> None:
    cited = {doc for _, _, doc, _ in citations()}
    assert {"docs/contract.md", "docs/wire.md", "docs/design.md"} <= cited


def test_every_cited_anchor_exists() -> None:
    broken = []
    for path, line, doc, anchor in citations():
        if not (REPO / doc).is_file():
            broken.append(f"{path}:{line}: {doc} does not exist")
        elif anchor not in anchors(doc):
            broken.append(f"{path}:{line}: {doc} has no anchor #{anchor}")
    assert not broken, "broken citations:\n" + "\n".join(broken)


def test_explicit_anchors_are_unique() -> None:
    for doc in ("docs/contract.md", "docs/wire.md", "docs/design.md"):
        ids = EXPLICIT_ANCHOR.findall(read(doc))
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        assert not dupes, f"{doc}: anchors defined twice: {dupes}"


def _checked_files() -> list:
    out = []
    for path in tracked_files():
        if path in EXEMPT_FILES or path.startswith(EXEMPT_PREFIXES):
            continue
        out.append(pytest.param(path, id=path))
    return out


@pytest.mark.parametrize("path", _checked_files())
def test_no_citation_leaves_the_repository(path: str) -> None:
    hits = [
        f"{path}:{number}: {match.group(0)!r} in: {line.strip()[:160]}"
        for number, line in enumerate(read(path).splitlines(), 1)
        for match in FORBIDDEN.finditer(line)
    ]
    assert not hits, "cites a document outside the repository:\n" + "\n".join(hits)
