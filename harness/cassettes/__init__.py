"""Cassettes: recorded upstream traffic, byte- and timing-exact, searchable, replayable through the mock engine.

One concept per module:

- ``format``: the versioned cassette model (``wirecheck_cassette: 1``), load/save, validation;
- ``index``: the derived semantic index of an interaction (dialect, kind, model, finish, tools, usage...);
- ``drift``: a cassette checked against the current wire schemas, its derived index and its age;
- ``scrub``: secret scrubbing before anything is written, and ``scan``, the leak check;
- ``replay``: cassettes → a mocks ``Script`` (strict matching, once mode, unused-interaction failure);
- ``record``: the recording proxy (``wirecheck record``);
- ``vcr`` / ``har``: import from VCR.py / pytest-recording YAML, HAR 1.2 import and export;
- ``starter``: regenerates the synthetic starter set in ``cassettes/``;
- ``cli``: the ``record`` and ``cassette`` commands.

The format is documented in ``cassettes/README.md``.
"""

from harness.cassettes.format import (
    FORMAT_VERSION,
    Cassette,
    CassetteError,
    Chunk,
    Interaction,
    Request,
    Response,
    load,
    load_folder,
    save,
)
from harness.cassettes.replay import Replay, ReplayError, replaying
from harness.cassettes.scrub import Finding, scan

__all__ = [
    "FORMAT_VERSION",
    "Cassette",
    "CassetteError",
    "Chunk",
    "Finding",
    "Interaction",
    "Replay",
    "ReplayError",
    "Request",
    "Response",
    "load",
    "load_folder",
    "replaying",
    "save",
    "scan",
]
