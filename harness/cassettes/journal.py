"""The append-only cassette file: each interaction reaches the disk (fsynced) the moment it is complete.

``Journal(path, header)`` is what the recorder writes through. ``open()`` writes the header (version,
name, description, meta, match) and the interactions ``header`` already holds, atomically (a temporary file,
fsynced, renamed over ``path``), so the file is a loadable cassette from the start. ``write(entry)`` then
appends one interaction, prepared by ``prepare`` (rendered exactly as ``format.save`` would write it, and
scanned with ``scrub.scan_text``), and fsyncs it. A YAML journal looks like this::

    # wirecheck journal: appended one interaction at a time, each followed by its "complete" line
    wirecheck_cassette: 1
    meta:
      upstream: http://127.0.0.1:8080
    interactions:
    - source: recorded
      ...
    # wirecheck: interaction 1 complete

``interactions`` is the last top-level key, so every sequence item appended after it belongs to it; each
append is one ``write`` of the item and its ``complete`` line, then ``fsync``. A journal without any
interaction yet ends with ``interactions:`` (which YAML reads as null: ``format.load`` reads it as none).

A process killed in the middle of an append leaves a torn tail: ``recover(text)`` cuts a journal's text
after its last ``complete`` line (or after ``interactions:`` when there is none) and returns what it cut.
``format.load`` loads the complete part, sets ``Cassette.truncated`` and warns (``TornTailWarning``, naming
the file); a torn tail is never an error that loses the complete interactions.

A ``.json`` cassette cannot be appended to and stay loadable JSON, so a JSON journal is rewritten whole on
each ``write``, atomically as ``open`` does it (slower for long recordings, never torn).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cassettes import format as fmt
from harness.cassettes.scrub import Finding, scan_text

__all__ = [
    "JOURNAL_LINE",
    "Entry",
    "Journal",
    "TornTailWarning",
    "decode",
    "prepare",
    "recover",
    "warn_torn",
]

#: The first line of every YAML journal: what marks a file as one (and its tail as recoverable).
JOURNAL_LINE = (
    '# wirecheck journal: appended one interaction at a time, each followed by its "complete" line\n'
)
_COMPLETE = "# wirecheck: interaction {number} complete\n"
_COMPLETE_LINE = re.compile(r"^# wirecheck: interaction \d+ complete\n", re.MULTILINE)
_INTERACTIONS_LINE = re.compile(r"^interactions:[ \t]*\n", re.MULTILINE)


class TornTailWarning(UserWarning):
    """A journal whose last append was cut short (the process was killed mid-write): the complete
    interactions load, the torn tail is left out."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One interaction ready to append: its on-disk ``data`` (as ``format.to_data`` writes an interaction,
    with bodies YAML would not give back unchanged as base64), the ``text`` of it as one YAML sequence item,
    and the ``findings`` of scanning that text (an entry with findings must not be written)."""

    data: dict[str, Any]
    text: str
    findings: list[Finding] = field(default_factory=list)


def prepare(it: fmt.Interaction, suffix: str = ".yaml", label: str = "<interaction>") -> Entry:
    """Render ``it`` exactly as ``format.save`` writes it (checked to load back to the same bytes), then
    scan that text (``label`` is the findings' file). ``it`` should already be scrubbed."""
    one = fmt.Cassette(interactions=[it])
    data = fmt.to_data(one)
    text = fmt.dump_text(data, suffix)
    back = fmt.parse(fmt._read(text, suffix), label, validate=False)
    differ = fmt._same_bytes(one, back)
    if differ:
        data = fmt._safer(one, data, differ)
    item = data["interactions"][0]
    item_text = fmt.dump_text([item])  # "- source: ...": YAML whatever the suffix, for the scan and the file
    return Entry(item, item_text, scan_text(item_text, label))


def recover(text: str) -> tuple[str, str | None]:
    """A journal's complete part and its torn tail (``None`` when nothing was torn). Text that is not a
    journal (it does not start with ``JOURNAL_LINE``) is returned whole, with ``None``."""
    if not text.startswith(JOURNAL_LINE):
        return text, None
    ends = [m.end() for m in _COMPLETE_LINE.finditer(text)]
    if not ends:
        header = _INTERACTIONS_LINE.search(text)
        if header is None:
            return text, None  # not even the header: the loader says what is wrong
        ends = [header.end()]
    tail = text[ends[-1] :]
    if not tail.strip():
        return text, None
    return text[: ends[-1]], tail


def decode(raw: bytes) -> str:
    """A cassette file's bytes as text, as ``Path.read_text(encoding="utf-8")`` reads it (UTF-8, universal
    newlines). A journal torn in the middle of a character decodes with that tail's broken bytes replaced
    (``recover`` then cuts the tail); a broken byte anywhere else is the ``UnicodeDecodeError`` it always
    was."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="replace")
        complete, tail = recover(text)
        if tail is None or len(complete.encode("utf-8")) > exc.start:
            raise
    return text.replace("\r\n", "\n").replace("\r", "\n")


def warn_torn(source: str, kept: int, tail: str) -> None:
    """Warn (``TornTailWarning``) that ``source``'s last append was torn and left out."""
    warnings.warn(
        TornTailWarning(
            f"{source}: the last append was torn ({len(tail.encode('utf-8'))} bytes after the last complete "
            f"interaction; the process was probably killed mid-write): left out, the {kept} complete "
            "interactions load"
        ),
        stacklevel=3,
    )


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file beside it, fsynced, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # created as an ordinary file would be (mode 0o666 less the umask), not private as mkstemp makes it
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


class Journal:
    """An append-only cassette at ``path`` (module doc). ``header`` gives the name, description, meta and
    match, and the interactions the file starts with (a cassette loaded from ``path`` to append to it).
    Thread-safe: several recorders (each in its own thread) may write to one journal. ``count`` is the
    number of interactions in the file, ``written`` those ``write`` added."""

    def __init__(self, path: str | Path, header: fmt.Cassette | None = None) -> None:
        self.path = Path(path)
        self.header = header if header is not None else fmt.Cassette()
        self.json = self.path.suffix.lower() == ".json"
        self.count = 0
        self.written = 0
        self._items: list[dict[str, Any]] = []  # JSON journals only: everything, rewritten on each write
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._state = "new"  # then "open", then "closed"

    def open(self) -> None:
        """Write the header and the starting interactions (atomically); appends go after them. Opening an
        open journal does nothing."""
        with self._lock:
            self._open()

    def _open(self) -> None:
        if self._state == "closed":
            raise ValueError(f"{self.path}: the journal is closed")
        if self._state == "open":
            return
        entries = [
            prepare(it, self.path.suffix, str(self.path)) for it in self.header.interactions
        ]  # already on disk before: kept as they are, not scanned again here
        if self.json:
            self._items = [entry.data for entry in entries]
            self._rewrite_json()
        else:
            data = self._head()
            del data["interactions"]
            text = JOURNAL_LINE + fmt.dump_text(data) + "interactions:\n"
            text += "".join(
                entry.text + _COMPLETE.format(number=n) for n, entry in enumerate(entries, start=1)
            )
            _replace(self.path, text)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.count = len(entries)
        self._state = "open"

    def _head(self) -> dict[str, Any]:
        """The header as ``format.to_data`` writes it (with an empty ``interactions``)."""
        header = self.header
        return fmt.to_data(
            fmt.Cassette(
                name=header.name, description=header.description, meta=header.meta, match=header.match
            )
        )

    def _rewrite_json(self) -> None:
        data = self._head()
        data["interactions"] = self._items
        _replace(self.path, fmt.dump_text(data, ".json"))

    def write(self, entry: Entry) -> None:
        """Append ``entry`` (opening the journal first when needed) and fsync it: once this returns, the
        interaction survives a crash. ``ValueError`` for an entry with findings (it must be left out)."""
        if entry.findings:
            raise ValueError("an interaction with secret-looking findings is never written")
        with self._lock:
            self._open()
            if self.json:
                self._items.append(entry.data)
                self._rewrite_json()
            else:
                assert self._fd is not None
                payload = (entry.text + _COMPLETE.format(number=self.count + 1)).encode("utf-8")
                view = memoryview(payload)
                while view:
                    view = view[os.write(self._fd, view) :]
                os.fsync(self._fd)
            self.count += 1
            self.written += 1

    def close(self) -> None:
        """Close the file (everything written is on disk already); a closed journal takes no more."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._state = "closed"
