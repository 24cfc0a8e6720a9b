"""Cassettes: recorded upstream traffic, byte- and timing-exact, searchable, replayable through the mock engine.

One concept per module:

- ``format``: the versioned cassette model (``wirecheck_cassette: 1``, its relaxed-matching ``match``),
  load/save, validation;
- ``index``: the derived semantic index of an interaction (dialect, kind, model, finish, tools, usage...);
- ``drift``: a cassette checked against the current wire schemas, its derived index and its age;
- ``scrub``: secret scrubbing before anything is written, and ``scan``, the leak check;
- ``replay``: cassettes → a mocks ``Script`` (strict or relaxed matching, once mode, unused-interaction
  failure), and ``replaying`` in a trio nursery;
- ``record``: the recording proxy (``wirecheck record``);
- ``journal``: the append-only cassette file the recorder writes (each interaction fsynced as it completes);
- ``session``: a cassette served from a background thread under a record mode (none, once,
  new_episodes), for code of any style;
- ``pytest_plugin``: the ``wirecheck_cassette`` marker and ``wirecheck_replay`` fixture over ``session``;
- ``vcr`` / ``har``: import from VCR.py / pytest-recording YAML, HAR 1.2 import and export;
- ``starter``: regenerates the synthetic starter set in ``cassettes/``;
- ``cli``: the ``record`` and ``cassette`` commands, and ``wirecheck serve`` of cassettes.

The format is documented in ``cassettes/README.md``.
"""

from harness.cassettes.format import (
    FORMAT_VERSION,
    Cassette,
    CassetteError,
    Chunk,
    Interaction,
    MatchPolicy,
    Request,
    Response,
    load,
    load_folder,
    save,
)
from harness.cassettes.replay import Replay, ReplayError, replaying
from harness.cassettes.scrub import Finding, scan
from harness.cassettes.session import CassetteSession

__all__ = [
    "FORMAT_VERSION",
    "Cassette",
    "CassetteError",
    "CassetteSession",
    "Chunk",
    "Finding",
    "Interaction",
    "MatchPolicy",
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
