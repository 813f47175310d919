"""Synthetic data, no real person's: registers shaped by a pack (:mod:`.registers`, columnar,
for batch runs and benchmarks) and canonical households with event streams (:mod:`.events`, for
the monitor's tests and benchmarks). Deterministic for a seed.

``generate`` and ``shape_of`` are the registers' entry points; they are imported on first use,
so the event streams work without the ``batch`` extra (Polars, NumPy)."""

from __future__ import annotations

from typing import Any

__all__ = ["generate", "shape_of"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from minzheng_rules.synth import registers

        return getattr(registers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
