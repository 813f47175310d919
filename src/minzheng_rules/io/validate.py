"""Vectorized validation of raw columnar households: the rules of the pydantic models, on
whole columns, with a reason per refused row.

A raw table is what a Parquet or CSV file holds (any of the types listed below per column); the
result is a *clean* frame (see :mod:`.schema`). A household is refused when one of its fields or
one of its members' fields breaks a rule, when it has no member or more than the maximum, or when
two of its members share an id. Binary floats are refused for money and counts (a whole file
error: the values would not be exact).

Accepted types: text (CSV) for every kind; integers for counts and whole-yuan money; Arrow
decimals for money; booleans; dates; lists of text for ``assessed_needs``; a list of
``{program, amount}`` structs (or JSON text) for ``receiving``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from minzheng_rules.errors import MinzhengError, suggest
from minzheng_rules.io.schema import (
    HOUSEHOLD_ID,
    MAX_MEMBERS,
    MEMBER_ID,
    MIN_MEMBERS,
    Column,
    clean_schema,
)

HH = "_hh"
ERR = "__errors"


class InputError(MinzhengError):
    """A whole input file is unusable (unknown or missing column, a float money column)."""


@dataclass
class Reject:
    """A refused row: where it came from and why."""

    source: str
    row: int
    household_id: str | None
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "row": self.row,
            "household_id": self.household_id,
            "reasons": self.reasons,
        }


def check_columns(names: list[str], columns: tuple[Column, ...], source: str) -> None:
    """Unknown columns and missing required ones are errors for the whole file."""
    known = {c.name for c in columns}
    for n in names:
        if n not in known and not n.startswith("__"):
            hint = suggest(n, known)
            raise InputError(
                f"{source}: unknown column '{n}'" + (f" (did you mean '{hint}'?)" if hint else "")
            )
    for c in columns:
        if c.required and c.name not in names:
            raise InputError(f"{source}: missing required column '{c.name}'")


_INT = r"^\s*[+-]?\d+\s*$"
_MONEY = r"^\s*\+?(\d+)(?:\.(\d+))?\s*$"
_TRUE = ("true", "1", "yes", "t", "y", "on")
_FALSE = ("false", "0", "no", "f", "n", "off")


def _fen_from_decimal(arr: pa.Array, places: int) -> tuple[np.ndarray, np.ndarray]:
    """Fen of an Arrow decimal array exactly, and the rows with more than ``places`` decimals
    or too large for 64 bits."""
    arr = pa.concat_arrays([arr]) if arr.offset else arr
    scale = arr.type.scale
    raw = np.frombuffer(arr.buffers()[1], dtype=np.int64)[: 2 * len(arr)].reshape(-1, 2)
    low, high = raw[:, 0], raw[:, 1]
    overflow = high != (low >> 63)
    if scale <= 2:
        factor = 10 ** (2 - scale)
        big = np.abs(low) > (2**62) // factor
        return low * factor, overflow | big
    unit = 10 ** (scale - 2)
    rest = low % unit
    return low // unit, overflow | (rest != 0)


def _money(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    """Fen (Int64) and an error message per row."""
    name = c.name
    dtype = col.dtype
    limit = 10 ** (c.whole_digits + 2)
    if dtype == pl.Null:
        return _nulls(len(col), pl.Int64, name), _no_errors(len(col))
    if dtype.is_float():
        raise InputError(
            f"{source}: column '{name}' holds binary floats; write money as decimal or text"
        )
    if dtype.is_integer():
        fen = col.cast(pl.Int64) * 100
        bad = pl.Series(np.zeros(len(col), dtype=np.bool_))
    elif isinstance(dtype, pl.Decimal):
        arrow = col.to_arrow()
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        if not pa.types.is_decimal128(arrow.type):  # any decimal128 has the 16-byte layout
            arrow = arrow.cast(pa.decimal128(38, arrow.type.scale))
        values, bad_np = _fen_from_decimal(arrow, 2)
        fen = pl.Series(name, values, dtype=pl.Int64)
        if col.null_count():
            fen = pl.select(pl.when(col.is_null()).then(None).otherwise(fen)).to_series()
            bad_np = bad_np & col.is_not_null().to_numpy()
        if not bad_np.any():  # the usual case: skip building a column of no messages
            return _money_limits(fen, _no_errors(len(col)), c, limit)
        err = pl.select(
            pl.when(pl.Series(bad_np))
            .then(pl.lit(f"{name}: more than 2 decimal places"))
            .otherwise(None)
        ).to_series()
        return _money_limits(fen, err, c, limit)
    elif dtype == pl.String:
        text = col.str.strip_chars()
        parts = text.str.extract_groups(_MONEY)
        whole = parts.struct.field("1")
        frac = parts.struct.field("2").fill_null("")
        ok = whole.is_not_null()
        frac_extra = frac.str.slice(2)
        extra_nonzero = frac_extra.str.contains(r"[1-9]").fill_null(False)
        cents = frac.str.slice(0, 2).str.pad_end(2, "0")
        too_long = whole.str.strip_chars_start("0").str.len_chars() > c.whole_digits
        fen_text = pl.select(
            pl.when(ok & ~extra_nonzero & ~too_long.fill_null(False))
            .then(whole + cents)
            .otherwise(None)
        ).to_series()
        fen = fen_text.cast(pl.Int64, strict=False)
        negative = text.str.starts_with("-").fill_null(False)
        err = pl.select(
            pl.when(col.is_null())
            .then(None)
            .when(negative)
            .then(pl.lit(f"{name}: Input should be greater than or equal to 0"))
            .when(~ok)
            .then(pl.lit(f"{name}: not a decimal number"))
            .when(extra_nonzero)
            .then(pl.lit(f"{name}: more than 2 decimal places"))
            .when(too_long.fill_null(False))
            .then(pl.lit(f"{name}: more than {c.whole_digits} digits before the point"))
            .otherwise(None)
        ).to_series()
        return fen.alias(name), err
    else:
        raise InputError(f"{source}: column '{name}' has type {dtype}, not money")
    err = pl.select(pl.when(bad).then(pl.lit(f"{name}: not exact")).otherwise(None)).to_series()
    return _money_limits(fen, err, c, limit)


def _money_limits(
    fen: pl.Series, err: pl.Series, c: Column, limit: int
) -> tuple[pl.Series, pl.Series]:
    if err.null_count() == err.len() and not ((fen < 0) | (fen >= limit)).any():
        return fen.alias(c.name), err  # nothing to say: no column of messages to build
    e = pl.select(
        pl.when(err.is_not_null())
        .then(err)
        .when(fen < 0)
        .then(pl.lit(f"{c.name}: Input should be greater than or equal to 0"))
        .when(fen >= limit)
        .then(pl.lit(f"{c.name}: more than {c.whole_digits} digits before the point"))
        .otherwise(None)
    ).to_series()
    return fen.alias(c.name), e


def _nulls(n: int, dtype: pl.DataType | type[pl.DataType], name: str = "") -> pl.Series:
    """``n`` nulls, made without a Python list (a list of a million Nones costs a second)."""
    return pl.Series(name, dtype=dtype).extend_constant(None, n)


def _no_errors(n: int) -> pl.Series:
    return _nulls(n, pl.String)


def _int(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    dtype = col.dtype
    if dtype == pl.Null:
        v = _nulls(len(col), pl.Int64, c.name)
        err = _no_errors(len(col))
    elif dtype.is_integer():
        v, err = col.cast(pl.Int64), _no_errors(len(col))
    elif dtype == pl.String:
        ok = col.str.contains(_INT).fill_null(True)
        v = col.str.strip_chars().cast(pl.Int64, strict=False)
        err = pl.select(
            pl.when(~ok | (col.is_not_null() & v.is_null()))
            .then(pl.lit(f"{c.name}: Input should be a valid integer"))
            .otherwise(None)
        ).to_series()
    else:
        raise InputError(f"{source}: column '{c.name}' has type {dtype}, not a whole number")
    checks = pl.when(err.is_not_null()).then(err)
    if c.ge is not None:
        checks = checks.when(v < c.ge).then(
            pl.lit(f"{c.name}: Input should be greater than or equal to {c.ge}")
        )
    if c.le is not None:
        checks = checks.when(v > c.le).then(
            pl.lit(f"{c.name}: Input should be less than or equal to {c.le}")
        )
    return v.alias(c.name), pl.select(checks.otherwise(None)).to_series()


def _bool(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    dtype = col.dtype
    if dtype == pl.Boolean:
        return col.alias(c.name), _no_errors(len(col))
    if dtype == pl.Null:
        return _nulls(len(col), pl.Boolean, c.name), _no_errors(len(col))
    if dtype.is_integer():
        v = pl.select(pl.when(col == 1).then(True).when(col == 0).then(False)).to_series()
    elif dtype == pl.String:
        low = col.str.strip_chars().str.to_lowercase()
        v = pl.select(
            pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
        ).to_series()
    else:
        raise InputError(f"{source}: column '{c.name}' has type {dtype}, not true/false")
    err = pl.select(
        pl.when(col.is_not_null() & v.is_null())
        .then(pl.lit(f"{c.name}: Input should be a valid boolean"))
        .otherwise(None)
    ).to_series()
    return v.alias(c.name), err


def _text(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    if col.dtype not in (pl.String, pl.Null, pl.Categorical) and not isinstance(col.dtype, pl.Enum):
        if col.dtype.is_integer() and c.kind == "text":
            col = col.cast(pl.String)  # an id written as a number
        else:
            raise InputError(f"{source}: column '{c.name}' has type {col.dtype}, not text")
    v = col.cast(pl.String)
    checks = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    if c.kind == "enum":
        checks = checks.when(v.is_not_null() & ~v.is_in(list(c.values))).then(
            pl.lit(f"{c.name}: Input should be " + ", ".join(f"'{x}'" for x in c.values))
        )
    if c.min_length is not None:
        checks = checks.when(v.str.len_chars() < c.min_length).then(
            pl.lit(f"{c.name}: String should have at least {c.min_length} character")
        )
    if c.max_length is not None:
        checks = checks.when(v.str.len_chars() > c.max_length).then(
            pl.lit(f"{c.name}: String should have at most {c.max_length} characters")
        )
    return v.alias(c.name), pl.select(checks.otherwise(None)).to_series()


def _date(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    if col.dtype == pl.Date:
        return col.alias(c.name), _no_errors(len(col))
    if col.dtype == pl.Null:
        return _nulls(len(col), pl.Date, c.name), _no_errors(len(col))
    if col.dtype == pl.String:
        v = col.str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        err = pl.select(
            pl.when(col.is_not_null() & v.is_null())
            .then(pl.lit(f"{c.name}: Input should be a valid date (YYYY-MM-DD)"))
            .otherwise(None)
        ).to_series()
        return v.alias(c.name), err
    raise InputError(f"{source}: column '{c.name}' has type {col.dtype}, not a date")


def _json_cells(col: pl.Series, parse) -> tuple[list[Any], list[str | None]]:
    values: list[Any] = []
    errors: list[str | None] = []
    for text in col.to_list():
        if text is None or str(text).strip() == "":
            values.append(None)
            errors.append(None)
            continue
        try:
            values.append(parse(json.loads(text)))
            errors.append(None)
        except (ValueError, TypeError, KeyError) as e:
            values.append(None)
            errors.append(str(e))
    return values, errors


def _text_list(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    n = len(col)
    if col.dtype == pl.Null:
        return pl.Series(c.name, [[]] * n, dtype=pl.List(pl.String)), _no_errors(n)
    if isinstance(col.dtype, pl.List):
        v = col.cast(pl.List(pl.String)).fill_null(pl.lit([], dtype=pl.List(pl.String)))
        return v.alias(c.name), _no_errors(n)
    if col.dtype == pl.String:

        def parse(x: Any) -> list[str]:
            if not isinstance(x, list) or not all(isinstance(i, str) for i in x):
                raise ValueError("a JSON array of text")
            return x

        values, errors = _json_cells(col, parse)
        v = pl.Series(
            c.name, [x if x is not None else [] for x in values], dtype=pl.List(pl.String)
        )
        err = pl.Series([f"{c.name}: {e}" if e else None for e in errors], dtype=pl.String)
        return v, err
    raise InputError(f"{source}: column '{c.name}' has type {col.dtype}, not a list of text")


def _money_map(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    n = len(col)
    dtype = clean_schema((c,))[c.name]
    if col.dtype == pl.Null:
        return pl.Series(c.name, [[]] * n, dtype=dtype), _no_errors(n)
    if isinstance(col.dtype, pl.List) and isinstance(col.dtype.inner, pl.Struct):
        lens = col.list.len().fill_null(0).to_numpy()
        row = pl.Series(np.repeat(np.arange(n), lens))
        la = col.to_arrow()
        la = pa.concat_arrays([la.combine_chunks() if isinstance(la, pa.ChunkedArray) else la])
        flat = pl.from_arrow(la.flatten())  # type: ignore[assignment]
        programs = flat.struct.field("program").cast(pl.String)
        fen, err = _money(
            flat.struct.field("amount"), Column("amount", ("amount",), "money", ge=0), source
        )
        entries = pl.DataFrame({"row": row, "program": programs, "fen": fen, "err": err})
        entries = entries.filter(pl.col("program").is_not_null() | pl.col("fen").is_not_null())
        grouped = entries.group_by("row", maintain_order=True).agg(
            pl.struct("program", "fen").alias("v"), pl.col("err").drop_nulls().first()
        )
        full = pl.DataFrame({"row": np.arange(n)}).join(grouped, on="row", how="left")
        v = full.get_column("v").fill_null(pl.lit([], dtype=dtype)).cast(dtype).alias(c.name)
        e = full.get_column("err")
        e = pl.select(pl.when(e.is_not_null()).then(pl.lit(f"{c.name}.") + e)).to_series()
        return v, e
    if col.dtype == pl.String:

        def parse(x: Any) -> list[dict[str, Any]]:
            if not isinstance(x, dict):
                raise ValueError("a JSON object of program → amount")
            out = []
            for k, amount in x.items():
                fen, err = _money(
                    pl.Series([str(amount)]), Column("amount", ("amount",), "money"), source
                )
                if err[0] is not None:
                    raise ValueError(f"{k}: {err[0]}")
                out.append({"program": k, "fen": fen[0]})
            return out

        values, errors = _json_cells(col, parse)
        v = pl.Series(c.name, [x if x is not None else [] for x in values], dtype=dtype)
        err = pl.Series([f"{c.name}: {e}" if e else None for e in errors], dtype=pl.String)
        return v, err
    raise InputError(f"{source}: column '{c.name}' has type {col.dtype}, not program amounts")


_CONVERT = {
    "money": _money,
    "int": _int,
    "bool": _bool,
    "text": _text,
    "enum": _text,
    "date": _date,
    "text_list": _text_list,
    "money_map": _money_map,
}


def clean(raw: pl.DataFrame, columns: tuple[Column, ...], source: str) -> pl.DataFrame:
    """Every column converted, defaults applied, and ``__errors``: the row's problems joined
    with '; ' (null when none)."""
    check_columns(raw.columns, columns, source)
    n = raw.height
    out: list[pl.Series] = []
    errors: list[pl.Series] = []
    for c in columns:
        col = raw.get_column(c.name) if c.name in raw.columns else _nulls(n, pl.Null)
        value, err = _CONVERT[c.kind](col, c, source)
        if c.required:
            err = pl.select(
                pl.when(value.is_null()).then(pl.lit(f"{c.name}: Field required")).otherwise(err)
            ).to_series()
        elif c.default is not None and c.kind not in ("text_list", "money_map"):
            default = int(c.default.scaleb(2)) if c.kind == "money" else c.default
            value = value.fill_null(default)
        out.append(value.alias(c.name))
        if err.null_count() < err.len():  # most columns have no problem at all: skip them
            errors.append(err)
    frame = pl.DataFrame(out).cast(clean_schema(columns))
    if not errors:
        return frame.with_columns(_no_errors(n).alias(ERR))
    joined = pl.concat_str(
        [e.alias(f"e{i}") for i, e in enumerate(errors)], separator="; ", ignore_nulls=True
    )
    joined = pl.select(pl.when(joined == "").then(None).otherwise(joined)).to_series()
    return frame.with_columns(joined.alias(ERR))


def member_rules(m: pl.DataFrame) -> pl.Series:
    """The member models' own checks (age or birth date; a type needs a grade)."""
    problems = pl.concat_str(
        [
            pl.when(pl.col("age").is_null() & pl.col("birth_date").is_null()).then(
                pl.lit("give 'age' or 'birth_date'")
            ),
            pl.when(
                pl.col("disability_type").is_not_null() & pl.col("disability_grade").is_null()
            ).then(pl.lit("'disability_type' needs a 'disability_grade'")),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    return m.select(pl.when(problems == "").then(None).otherwise(problems)).to_series()


def _shared_ids(ids: pl.Series, hh: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per household, whether two of its members share an id (two nulls count as shared).
    Members of a household are contiguous, so each member is compared with the ones before it
    in its household: on 64-bit hashes first, then exactly where the hashes agree (no hash of
    a (household, id) struct over the whole column)."""
    out = np.zeros(len(counts), dtype=np.bool_)
    if len(hh) == 0:
        return out
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(hh)) - starts[hh]
    hashes = ids.hash(seed=20240601).to_numpy()
    for d in range(1, int(counts.max())):
        rows = np.flatnonzero(pos >= d)
        rows = rows[hashes[rows] == hashes[rows - d]]
        if len(rows):
            same = ids.gather(rows).eq_missing(ids.gather(rows - d)).to_numpy()
            out[hh[rows[same]]] = True
    return out


def assemble(
    h: pl.DataFrame,
    m: pl.DataFrame,
    hh_index: np.ndarray,
    source_h: str,
    source_m: str,
    h_rows: np.ndarray,
    m_rows: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame, list[Reject]]:
    """Join clean households ``h`` and their clean members ``m`` (``hh_index``: each member's
    household row, ascending), refuse what breaks a household-level rule, and return the
    evaluable frames (members re-indexed) and the rejects. ``h_rows``/``m_rows`` are the rows'
    numbers in their files, for the rejects file."""
    n = h.height
    m = m.with_columns(pl.Series(HH, hh_index, dtype=pl.UInt32))
    rules = member_rules(m)
    m_err = pl.concat_str([m.get_column(ERR), rules], separator="; ", ignore_nulls=True)
    m_err = pl.select(pl.when(m_err == "").then(None).otherwise(m_err)).to_series()
    mid = m.get_column(MEMBER_ID).fill_null("?")
    labelled = pl.select(
        pl.when(m_err.is_not_null()).then(pl.lit("members[") + mid + pl.lit("].") + m_err)
    ).to_series()
    hh = np.asarray(hh_index, dtype=np.int64)
    count = np.bincount(hh, minlength=n)
    dup = _shared_ids(m.get_column(MEMBER_ID), hh, count)
    problems = pl.DataFrame({HH: m.get_column(HH), "e": labelled}).filter(pl.col("e").is_not_null())
    per_member = problems.group_by(HH).agg(pl.col("e").str.join("; "))
    member_problems = _nulls(n, pl.String).scatter(
        per_member.get_column(HH).cast(pl.Int64), per_member.get_column("e")
    )
    reasons = (
        pl.DataFrame(
            {
                "h": h.get_column(ERR),
                "m": member_problems,
                "few": count < MIN_MEMBERS,
                "many": count > MAX_MEMBERS,
                "dup": dup,
            }
        )
        .select(
            pl.concat_str(
                [
                    pl.col("h"),
                    pl.when(pl.col("m") != "").then(pl.col("m")),
                    pl.when(pl.col("few")).then(
                        pl.lit(f"members: List should have at least {MIN_MEMBERS} item")
                    ),
                    pl.when(pl.col("many")).then(
                        pl.lit(f"members: List should have at most {MAX_MEMBERS} items")
                    ),
                    pl.when(pl.col("dup")).then(pl.lit("members: a member id appears twice")),
                ],
                separator="; ",
                ignore_nulls=True,
            )
        )
        .to_series()
    )
    bad = (reasons != "").fill_null(False).to_numpy()
    rejects: list[Reject] = []
    ids = h.get_column(HOUSEHOLD_ID)
    for i in np.flatnonzero(bad):
        rejects.append(Reject(source_h, int(h_rows[i]), ids[int(i)], reasons[int(i)].split("; ")))
    if not bad.any():
        return h.drop(ERR), m.drop(ERR), rejects
    keep = ~bad
    new_index = np.cumsum(keep) - 1
    mkeep = keep[hh_index]
    h2 = h.filter(pl.Series(keep)).drop(ERR)
    m2 = (
        m.filter(pl.Series(mkeep))
        .drop(ERR)
        .with_columns(pl.Series(HH, new_index[hh_index[mkeep]], dtype=pl.UInt32))
    )
    del source_m, m_rows
    return h2, m2, rejects


__all__ = ["ERR", "InputError", "Reject", "assemble", "check_columns", "clean", "member_rules"]
