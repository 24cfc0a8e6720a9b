"""Hand-written hypothesis strategies for wire JSON (hypothesis-jsonschema is broken on current hypothesis)."""
