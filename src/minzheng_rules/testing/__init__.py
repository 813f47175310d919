"""Tools for testing packs: golden cases (and, later, generated households and invariants)."""
