"""Typed, lossless wire models (pure data, no I/O)."""
