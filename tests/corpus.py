"""Where the tests find the external corpus: real recorded traffic and the vendors' machine-readable specs.

The corpus is not part of the repository (it is large and not ours to ship). ``$WIRECHECK_CORPUS`` names a
folder holding ``real-traffic/`` and ``specs/``; without it, ``shared/`` beside the checkout is used when it
exists. A test that needs the corpus calls ``require_real_traffic()`` / ``require_specs()`` (or the
``corpus_dir`` fixture) and skips with the one reason ``MISSING`` when it is absent: no test fails because
of where the clone lives, and the project's own data (starter cassettes, schemas, fixtures) keeps every
other test meaningful.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]

#: The one skip reason of every test that needs the external corpus.
MISSING = (
    "external corpus not found: set WIRECHECK_CORPUS to a folder holding real-traffic/ and specs/ "
    "(default: shared/ beside the checkout)"
)

#: Hosts of the recorded traffic that are not a vendor's API, with what they are instead. Every other host the
#: tests judge is one: OpenAI, Azure OpenAI, Anthropic, Gemini and Vertex AI, Cerebras, Gemini's
#: OpenAI-compatible endpoint. A schema must accept what a vendor API sent; what these hosts answer is no
#: vendor's wire format, so a schema may reject it.
NOT_VENDOR_HOSTS = {
    "demo-endpoints.pydantic.workers.dev": (
        "pydantic-ai's demo-endpoints echo server, a test fixture that answers with a description of the "
        "request it got (text/plain, or a JSON that is not a completion) so that pydantic-ai can test its "
        "errors on bodies no real API sends"
    ),
}


def corpus_dir() -> Path | None:
    """The corpus folder, or None when there is none."""
    named = os.environ.get("WIRECHECK_CORPUS")
    path = Path(named) if named else REPOSITORY.parent / "shared"
    return path if path.is_dir() else None


def _part(name: str) -> Path | None:
    root = corpus_dir()
    return root / name if root is not None and (root / name).is_dir() else None


def real_traffic_dir() -> Path | None:
    """``real-traffic/`` of the corpus (VCR cassettes of real API calls), or None."""
    return _part("real-traffic")


def specs_dir() -> Path | None:
    """``specs/`` of the corpus (the vendors' OpenAPI / discovery documents), or None."""
    return _part("specs")


def require_real_traffic() -> Path:
    """``real-traffic/``, or skip the calling test with ``MISSING``."""
    path = real_traffic_dir()
    if path is None:
        pytest.skip(MISSING)
    return path


def require_specs() -> Path:
    """``specs/``, or skip the calling test with ``MISSING``."""
    path = specs_dir()
    if path is None:
        pytest.skip(MISSING)
    return path


def parameters(items, ids, arity: int = 1) -> list:
    """``pytest.param`` per corpus item (a tuple of ``arity`` values, or one value) for ``parametrize``; when
    the corpus is absent, one parameter that skips with ``MISSING`` rather than pytest's "got empty
    parameter set"."""
    if corpus_dir() is None:
        return [pytest.param(*[None] * arity, id="corpus-missing", marks=pytest.mark.skip(reason=MISSING))]
    return [
        pytest.param(*(item if arity > 1 else (item,)), id=name)
        for item, name in zip(items, ids, strict=True)
    ]
