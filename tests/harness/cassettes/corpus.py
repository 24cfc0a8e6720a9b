"""The cassettes the property tests run over: the shipped starter set (``cassettes/``) and every file of the
real recorded traffic of the external corpus (``tests/corpus.py``), imported at collection time so that
tests can be parametrized by cassette and interaction id.

Real traffic is read from the corpus at test time and never copied into the repository. When the corpus is
missing, the real-traffic cases are simply not generated and the tests about real traffic skip with the
corpus's one reason; the starter cassettes keep every property test meaningful.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.cassettes import format as fmt
from harness.cassettes import index as ix
from harness.cassettes.vcr import ImportResult, import_folder
from tests.corpus import real_traffic_dir

REPO = Path(__file__).resolve().parents[3]

# One TLS context for every test client: httpx builds a new one (loading the CA bundle, ~35 ms) per client.
_TLS = ssl.create_default_context()


def http_client(**kwargs) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that does not rebuild a TLS context (the tests only talk to loopback)."""
    return httpx.AsyncClient(verify=_TLS, **kwargs)


STARTER_DIR = REPO / "cassettes"


@functools.cache
def imports() -> tuple[ImportResult, ...]:
    folder = real_traffic_dir()
    return tuple(import_folder(folder)) if folder else ()


@functools.cache
def starter() -> tuple[fmt.Cassette, ...]:
    return tuple(fmt.load_folder(STARTER_DIR))


@functools.cache
def cassettes() -> tuple[tuple[str, fmt.Cassette], ...]:
    """(id, cassette): ``starter/<name>`` and ``real/<folder>/<file stem>``."""
    out = [(f"starter/{c.id}", c) for c in starter()]
    root = real_traffic_dir()
    for result in imports():
        if result.cassette is not None and root is not None:
            rel = result.path.relative_to(root).with_suffix("")
            out.append((f"real/{rel}", result.cassette))
    return tuple(out)


@dataclass(frozen=True)
class Case:
    """One interaction of one cassette."""

    cassette_id: str
    cassette: fmt.Cassette
    number: int

    @property
    def it(self) -> fmt.Interaction:
        return self.cassette.interactions[self.number]

    @property
    def id(self) -> str:
        return f"{self.cassette_id}#{self.number}"

    @property
    def endpoint(self) -> ix.Endpoint:
        return ix.classify(self.it.request.method, self.it.request.path, self.it.host)

    @property
    def covered(self) -> bool:
        return ix.out_of_scope(self.endpoint) is None

    @property
    def synthetic(self) -> bool:
        return self.it.source == "synthetic"


@functools.cache
def cases() -> tuple[Case, ...]:
    return tuple(Case(cid, c, i) for cid, c in cassettes() for i in range(len(c.interactions)))


def params(select=lambda case: True) -> list:
    """``pytest.param(case, id=case.id)`` for the cases ``select`` keeps."""
    return [pytest.param(case, id=case.id) for case in cases() if select(case)]
