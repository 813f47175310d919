"""Canonical households ↔ clean columnar frames (money in fen, defaults applied, null = unknown).

Used for JSON Lines input (validated by pydantic, then turned into columns), for tests, and the
other way for the few rows the vectorized backend hands to the reference evaluator.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any

import polars as pl

from minzheng_rules.household import Household
from minzheng_rules.io.schema import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_ID,
    MEMBER_COLUMNS,
    Column,
    clean_schema,
)

HH = "_hh"


def _fen(value: Decimal) -> int:
    return int(value.scaleb(2))


def _clean(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "money":
        return _fen(value)
    if column.kind == "money_map":
        return [{"program": k, "fen": _fen(v)} for k, v in value.items()]
    if column.kind == "text_list":
        return list(value)
    if isinstance(value, StrEnum):
        return value.value
    return value


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        obj = getattr(obj, p)
    return obj


def households_to_frames(households: Iterable[Household]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Clean households and members frames (members carry ``_hh``, their household's row)."""
    hcols: dict[str, list[Any]] = {c.name: [] for c in HOUSEHOLD_COLUMNS}
    mcols: dict[str, list[Any]] = {c.name: [] for c in MEMBER_COLUMNS}
    index: list[int] = []
    member_columns = [c for c in MEMBER_COLUMNS if c.name != HOUSEHOLD_ID]
    for i, h in enumerate(households):
        for c in HOUSEHOLD_COLUMNS:
            hcols[c.name].append(_clean(c, _get(h, c.path)))
        for m in h.members:
            index.append(i)
            mcols[HOUSEHOLD_ID].append(h.id)
            for c in member_columns:
                mcols[c.name].append(_clean(c, _get(m, c.path)))
    hf = pl.DataFrame(hcols, schema=clean_schema(HOUSEHOLD_COLUMNS))
    mf = pl.DataFrame(mcols, schema=clean_schema(MEMBER_COLUMNS))
    mf = mf.with_columns(pl.Series(HH, index, dtype=pl.UInt32))
    return hf, mf


def _raw(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "money":
        return Decimal(value).scaleb(-2)
    if column.kind == "money_map":
        return {e["program"]: Decimal(e["fen"]).scaleb(-2) for e in value}
    return value


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for p in path[:-1]:
        target = target.setdefault(p, {})
    target[path[-1]] = value


def frames_to_dicts(h: pl.DataFrame, m: pl.DataFrame, rows: list[int]) -> list[dict[str, Any]]:
    """The canonical household dicts of rows ``rows`` of clean frames ``h`` / ``m``."""
    wanted = pl.Series(rows, dtype=pl.UInt32)
    hsel = h.with_row_index("__row").filter(pl.col("__row").is_in(wanted.implode()))
    msel = m.filter(pl.col(HH).is_in(wanted.implode()))
    members: dict[int, list[dict[str, Any]]] = {}
    member_columns = [c for c in MEMBER_COLUMNS if c.name != HOUSEHOLD_ID]
    for rec in msel.iter_rows(named=True):
        d: dict[str, Any] = {}
        for c in member_columns:
            v = _raw(c, rec[c.name])
            if v is not None:
                _put(d, c.path, v)
        members.setdefault(rec[HH], []).append(d)
    out: dict[int, dict[str, Any]] = {}
    for rec in hsel.iter_rows(named=True):
        d = {}
        for c in HOUSEHOLD_COLUMNS:
            v = _raw(c, rec[c.name])
            if v is not None:
                _put(d, c.path, v)
        d["members"] = members.get(rec["__row"], [])
        out[rec["__row"]] = d
    return [out[r] for r in rows]
