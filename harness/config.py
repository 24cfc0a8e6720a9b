"""Configuration input for the harness: ``mocks/config.py`` re-exported (one error shape, ``ConfigError``,
and one safe YAML/JSON loader, ``load_document``). It lives in ``mocks`` because mock scripts are read
with it and ``mocks`` never imports ``harness``; harness code imports it from here."""

from mocks.config import *  # noqa: F403 (the same names, re-exported)
from mocks.config import __all__ as __all__
