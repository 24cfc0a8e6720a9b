"""The official SDKs driven as oracles, outside the checks that judge what they say (``harness/checks/sdk.py``,
``harness/checks/sdk_js.py``): this package imports nothing of ``harness.checks``, so a process that only
drives SDKs loads only them.

- ``harness/oracles/python_sdk.py``: the Python SDKs (openai, anthropic, google-genai) over a stream's bytes;
- ``harness/oracles/sdk_process.py``: the same in a child process of their own, for a run with many streams;
- ``harness/oracles/node.py``: one persistent Node worker (JSON lines, timeouts, restarts) for the JS SDKs;
- ``harness/oracles/js/worker.mjs``: the Node side, which feeds stream bytes to each JS SDK's helper;
- ``harness/oracles/js/package.json`` and ``package-lock.json``: the exact SDK and Node versions, installed
  by ``nox -s js-oracles`` into ``.js-oracles/`` (outside the package; ``$WIRECHECK_JS_ORACLES`` names
  another folder).
"""
