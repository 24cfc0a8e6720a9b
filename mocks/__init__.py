"""Scripted mock upstreams speaking the OpenAI, Anthropic, Gemini and Azure wire formats.

One engine (``MockUpstream``: script in, request in, timed reply out, everything captured) behind two
servers: in-process on pytest-httpserver (``mocks.pytest_plugin``: fixtures ``mock_upstream`` and
``mock_upstream_server``) and standalone on trio + h11 (``mocks.server``: ``serve`` in a nursery,
``BackgroundServer`` in a thread, ``run_server`` behind ``wirecheck serve``). Scripts are described in
``mocks.script``, faults in ``mocks.faults``, default replies in ``mocks.generate``.
"""

from mocks.engine import HostedUpstream, MockUpstream, Request
from mocks.script import Script, ScriptError, load_script, parse_script
from mocks.server import BackgroundServer, serve

__all__ = [
    "BackgroundServer",
    "HostedUpstream",
    "MockUpstream",
    "Request",
    "Script",
    "ScriptError",
    "load_script",
    "parse_script",
    "serve",
]
