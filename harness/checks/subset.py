"""JSON subsets with matchers, as the checks use them: the language itself is ``mocks/matching.py``,
shared with the mock scripts' ``match.json`` (``mocks`` cannot import ``harness``, so it lives there)."""

from mocks.matching import (
    JSON_TYPES,
    LITERAL_KEYS,
    MATCHERS,
    differences,
    is_matcher,
    matcher_problem,
    show,
)

__all__ = ["JSON_TYPES", "LITERAL_KEYS", "MATCHERS", "differences", "is_matcher", "matcher_problem", "show"]
