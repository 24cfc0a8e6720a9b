"""Deliberately broken providers: one per check family, each proving that its checks can fail
(anthropics-conformance Part A6: "a passing run proves the check doesn't false-positive, but not that it
catches anything"). Each is a reference provider with one bug, declared as ``upstream_dialect``."""
