"""Scenarios, runner, checks, cassettes tooling, reports, CLI and the pytest plugin."""
