"""Shared test configuration: async tests run under trio (anyio's pytest plugin), loopback only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The workplace's shared/ folder (specs, real traffic), beside the repository or $WIRECHECK_SHARED."""
    path = Path(os.environ.get("WIRECHECK_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared folder not found at {path} (set WIRECHECK_SHARED)")
        pytest.skip(f"shared folder not found at {path}: real-traffic and spec tests need it")
    return path
