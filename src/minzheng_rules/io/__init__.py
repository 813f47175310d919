"""Registers in and out: readers (JSON Lines, Parquet, CSV, Excel, PostgreSQL), column mapping,
vectorized validation, writers, and resumable batch runs (``minzheng batch``). Imported on first
use (Polars, PyArrow). Public: the names below; the modules are the implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minzheng_rules._lazy import exports

if TYPE_CHECKING:
    from minzheng_rules.io._batch import Batch, Summary
    from minzheng_rules.io._formats import write_register
    from minzheng_rules.io._households import read_households
    from minzheng_rules.io._mapping import load_mapping
    from minzheng_rules.io._readers import open_register
    from minzheng_rules.io._validate import InputError

__all__ = [
    "Batch",
    "InputError",
    "Summary",
    "load_mapping",
    "open_register",
    "read_households",
    "write_register",
]
__getattr__, __dir__ = exports(
    __name__,
    {
        "Batch": "_batch",
        "Summary": "_batch",
        "write_register": "_formats",
        "read_households": "_households",
        "load_mapping": "_mapping",
        "open_register": "_readers",
        "InputError": "_validate",
    },
)
