"""The Provider contract (CONTRACT.md) and its reference implementation.

Nothing here imports ``mocks`` or ``harness``: the arrows of the house point down (DESIGN.md).
"""
