"""The Provider contract (docs/contract.md) and its reference implementation.

Nothing here imports ``mocks`` or ``harness``: the arrows of the house point down (docs/design.md#layering).
"""
