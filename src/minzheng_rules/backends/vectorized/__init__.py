"""The vectorized backend: a checked pack compiled to Polars columns for whole registers; same
answers as the reference evaluator, to the fen. Imported on first use (it needs Polars)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minzheng_rules._lazy import exports

if TYPE_CHECKING:
    from minzheng_rules.backends.vectorized._engine import VectorizedPack
    from minzheng_rules.backends.vectorized._numeric import VectorizeError

__all__ = ["VectorizeError", "VectorizedPack"]
__getattr__, __dir__ = exports(
    __name__, {"VectorizedPack": "_engine", "VectorizeError": "_numeric"}
)
