"""Shared test configuration: async tests run under trio (anyio's pytest plugin), loopback only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import require_real_traffic, require_specs


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


@pytest.fixture(scope="session")
def real_traffic() -> Path:
    """``real-traffic/`` of the external corpus (``tests/corpus.py``); skips with its one reason when absent."""
    return require_real_traffic()


@pytest.fixture(scope="session")
def specs() -> Path:
    """``specs/`` of the external corpus (``tests/corpus.py``); skips with its one reason when absent."""
    return require_specs()
