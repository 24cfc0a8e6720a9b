"""Oracles in other languages: the official JS SDKs, driven in a persistent Node worker.

- ``harness/oracles/node.py``: the worker process (JSON lines, timeouts, restarts);
- ``harness/oracles/js/worker.mjs``: the Node side, which feeds stream bytes to each JS SDK's helper;
- ``harness/oracles/js/package.json`` and ``package-lock.json``: the exact SDK and Node versions, installed
  by ``nox -s js-oracles`` into ``.js-oracles/`` (outside the package; ``$WIRECHECK_JS_ORACLES`` names
  another folder). The checks themselves are ``harness/checks/sdk_js.py``.
"""
