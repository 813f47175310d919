"""A register file's form, told by its name: one table for reading, writing and for telling a
columnar register from JSON Lines (no Polars here: the core install reads JSON Lines too)."""

from __future__ import annotations

from pathlib import Path

FORMS = {
    "parquet": "parquet",
    "pq": "parquet",
    "csv": "csv",
    "txt": "csv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "xlsx": "excel",
    "xlsm": "excel",
    "xls": "excel",
    "xlsb": "excel",
    "ods": "excel",
}
COLUMNAR = frozenset({"parquet", "csv", "excel"})


def form_of(path: Path) -> str | None:
    """``parquet``, ``csv``, ``jsonl`` or ``excel`` from the name's suffix; None when unknown."""
    return FORMS.get(path.suffix.lower().lstrip("."))
