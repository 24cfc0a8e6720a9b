"""Pure conversions between the wire models and the IR, streams included (no I/O)."""
