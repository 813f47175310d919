"""Printable outputs built from an evaluation (the household's 幸福清单)."""
