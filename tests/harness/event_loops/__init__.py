"""Providers written for one event loop, used as ``module:Class`` specs exactly as a user's would be:
``asyncio_providers`` (asyncio-only code) and ``trio_providers`` (trio-only code)."""
