"""Synthetic data, no real person's: registers shaped by a pack (:mod:`.registers`, columnar,
for batch runs and benchmarks) and canonical households with event streams (:mod:`.events`, for
the monitor's tests and benchmarks). Deterministic for a seed."""
