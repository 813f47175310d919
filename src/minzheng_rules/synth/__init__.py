"""Synthetic data, no real person's: registers shaped by a pack (columnar, for batch runs and
benchmarks: :func:`generate`, :func:`shape_of`) and canonical households with event streams (for
the monitor's tests and benchmarks: :func:`canonical_register`, :func:`event_stream`).
Deterministic for a seed. Imported on first use, so the event streams work without Polars and
NumPy. Public: the names below; the modules are the implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minzheng_rules._lazy import exports

if TYPE_CHECKING:
    from minzheng_rules.synth._events import canonical_register, event_stream
    from minzheng_rules.synth._registers import generate, shape_of

__all__ = ["canonical_register", "event_stream", "generate", "shape_of"]
__getattr__, __dir__ = exports(
    __name__,
    {
        "canonical_register": "_events",
        "event_stream": "_events",
        "generate": "_registers",
        "shape_of": "_registers",
    },
)
