"""Vectorized validation of raw columnar households: the rules of the pydantic models, on
whole columns, with a reason per refused row.

A raw table is what a Parquet, CSV or Excel file or a database query holds (any of the types
listed below per column); the result is a *clean* frame (see :mod:`.schema`). A household is
refused when one of its fields or one of its members' fields breaks a rule, when it has no member
or more than the maximum, or when two of its members share an id. Every check is on whole
columns: no Python runs per row, whatever the input's types or gaps.

Accepted types: text (CSV) for every kind, with Unicode digits (full-width １０３８６) read as
``Decimal`` reads them in JSON; integers for counts and money (元, or 分 when the column says
so); Arrow decimals for money; binary floats for money (taken as the whole fen they are within a
few units in the last place of; any other float, 0.005, refuses its row) and for counts (whole
ones); booleans; dates and datetimes; lists of text (or a JSON array) for ``assessed_needs``; a
list of ``{program, amount}`` structs, a struct of one field per program (a pandas column of
dicts), an Arrow map or a JSON object for ``receiving``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa
from polars.expr.whenthen import ChainedThen, Then

from minzheng_rules.model._columns import (
    HH,
    HOUSEHOLD_ID,
    MAX_MEMBERS,
    MEMBER_ID,
    MIN_MEMBERS,
    Column,
    clean_schema,
)
from minzheng_rules.model._errors import MinzhengError, suggest
from minzheng_rules.model._household import AGE_OR_BIRTH_DATE, GRADE_FOR_TYPE, repeated_id

ERR = "__errors"
# between a row's reasons while they are columns (split into the reject's list at the end): a
# control character, as reasons quote cells and ids, whose text may hold "; " or anything else
# printable
SEP = "\x1f"


class InputError(MinzhengError):
    """A whole input file is unusable (unknown or missing column, a float money column)."""


def one_line(e: BaseException) -> str:
    """An exception's first line (a library's message can run to a screenful)."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


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
                f"{source}: unknown column '{n}'"
                + (
                    f" (did you mean '{hint}'?)"
                    if hint
                    else "; a register's own names are mapped to the fields with --columns "
                    "mapping.yaml (docs/guide/registers.md)"
                )
            )
    for c in columns:
        if c.required and c.name not in names:
            raise InputError(
                f"{source}: missing required column '{c.name}'; name a column so, or map one "
                "with --columns mapping.yaml"
            )


def choices(values: tuple[str, ...]) -> str:
    """A choice list as the models word it: ``'a', 'b' or 'c'`` (both routes say the same)."""
    quoted = [f"'{v}'" for v in values]
    head = ", ".join(quoted[:-1])
    return f"Input should be {head} or {quoted[-1]}" if head else f"Input should be {quoted[0]}"


_INT = r"^\s*[+-]?\d+(?:\.0+)?\s*$"  # "93.0" is 93, as the models read it
_MONEY = r"^\s*\+?(\d+)(?:\.(\d+))?\s*$"
# 是/否 as Chinese forms and exports write yes and no, with or without a mapping's values
# (1.0 and 0.0: a 0/1 column with a gap, as pandas writes it to CSV)
_TRUE = ("true", "1", "1.0", "yes", "t", "y", "on", "是")
_FALSE = ("false", "0", "0.0", "no", "f", "n", "off", "否")
_I64_MAX = 2**63 - 1
# a binary float is taken as the fen it is nearest to when it lies within this many units in
# the last place of it (0.1 + 0.2 is 30 fen; 0.005 is half a fen away: refused)
_FLOAT_ULPS = 8
UNITS = ("yuan", "fen")  # what a money column's numbers count: 元 (default) or 分


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


def _fen_from_float(
    col: pl.Series, unit: str
) -> tuple[pl.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Fen of binary floats: the nearest whole fen when the float lies within a few units in
    the last place of it (what a writer of decimals as floats gives); per row, whether it is
    not (half a fen away, or not finite), too large, or a 32-bit float too coarse to tell one
    fen from the next. NaN is missing, as pandas writes it."""
    values = col.cast(pl.Float64).to_numpy()  # nulls are NaN here
    n = len(values)
    # a 32-bit float (PostgreSQL real, a float32 column) is judged in its own units in the last
    # place, and only where those are finer than a fen (below 131,072 元): past that it cannot
    # say which fen it was written from (0.0156 元 apart), so its row is refused
    single = col.dtype == pl.Float32
    fen_unit = 0.01 if unit == "yuan" else 1.0
    with np.errstate(invalid="ignore", over="ignore"):
        fen = np.rint(values * 100 if unit == "yuan" else values)
        # most floats are exactly the double nearest their fen (what 1234.56 is): no tolerance
        # to work out for them; the rest (0.1 + 0.2, NaN, 0.005, too large) are looked at alone
        back = fen / 100 if unit == "yuan" else fen
        plain = (back == values) & (np.abs(fen) <= 2**62)
        if single:  # (exactly on a fen or not, a coarse one is refused)
            plain &= np.spacing(np.abs(values).astype(np.float32)) <= fen_unit
    rest = np.flatnonzero(~plain)
    inexact = np.zeros(n, dtype=np.bool_)
    huge = np.zeros(n, dtype=np.bool_)
    coarse_rows = np.zeros(n, dtype=np.bool_)
    ok = plain
    if rest.size:
        v, f = values[rest], fen[rest]
        with np.errstate(invalid="ignore", over="ignore"):
            present = ~np.isnan(v)
            b = f / 100 if unit == "yuan" else f
            if single:
                ulp = np.spacing(np.abs(v).astype(np.float32)).astype(np.float64)
                coarse = ulp > fen_unit
            else:
                ulp, coarse = np.spacing(np.abs(v)), np.zeros(len(v), dtype=np.bool_)
            tol = _FLOAT_ULPS * ulp
            finite = np.isfinite(v)
            coarse_rows[rest] = present & finite & coarse
            inexact[rest] = present & ~coarse & (~finite | (np.abs(v - b) > tol))
            huge[rest] = present & finite & (np.abs(f) > 2**62)
        ok = plain.copy()
        ok[rest] = present & ~inexact[rest] & ~huge[rest] & ~coarse_rows[rest]
        fen = np.where(ok, fen, 0)
    out = pl.Series(col.name, fen.astype(np.int64), dtype=pl.Int64)
    if rest.size:
        out = pl.select(pl.when(pl.Series(ok)).then(out)).to_series()
    return out, inexact, huge, coarse_rows


_DIGITS: tuple[list[str], list[str]] | None = None


def _ascii_digits(text: pl.Series) -> pl.Series:
    """Unicode decimal digits (full-width １０３８６, as Chinese input methods type them) as
    ASCII: ``Decimal`` (the JSON path) reads them, so the columnar path does too."""
    global _DIGITS
    if not text.str.contains(r"[^\x00-\x7f]").any():
        return text
    if _DIGITS is None:
        import sys
        import unicodedata

        found = [
            chr(cp)
            for cp in range(128, sys.maxunicode + 1)
            if unicodedata.category(chr(cp)) == "Nd"
        ]
        _DIGITS = (found, [str(unicodedata.digit(d)) for d in found])
    return text.str.replace_many(_DIGITS[0], _DIGITS[1])


def _money(
    col: pl.Series, c: Column, source: str, unit: str = "yuan"
) -> tuple[pl.Series, pl.Series]:
    """Fen (Int64) and an error message per row (``unit``: what the column's numbers count)."""
    name = c.name
    dtype = col.dtype
    limit = 10 ** (c.whole_digits + 2)
    too_big = f"{name}: more than {c.whole_digits} digits before the point"
    if dtype == pl.Null:
        return _nulls(len(col), pl.Int64, name), _no_errors(len(col))
    if dtype.is_float():
        fen, inexact, huge, coarse = _fen_from_float(col, unit)
        if not inexact.any() and not huge.any() and not coarse.any():
            return _money_limits(fen, _no_errors(len(col)), c, limit)
        what = "more than 2 decimal places" if unit == "yuan" else "not a whole number of fen"
        err = pl.select(
            pl.when(pl.Series(inexact))
            .then(pl.lit(f"{name}: {what} (a binary float not within a tiny tolerance of one)"))
            .when(pl.Series(huge))
            .then(pl.lit(too_big))
            .when(pl.Series(coarse))
            .then(
                pl.lit(f"{name}: a 32-bit float (real) this large cannot tell one fen from the ")
                + pl.lit("next")
                + _got(col)
                + pl.lit(", store money as numeric or text")
            )
        ).to_series()
        return _money_limits(fen, err, c, limit)
    if dtype.is_integer():
        # compare before multiplying: an Int64 of yuan times 100 would wrap around; a narrower
        # integer (int32 from PostgreSQL integer, DuckDB, pandas) widened first: the limit is
        # past its range, and comparing with it was a traceback
        if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32):
            col = col.cast(pl.Int64)
        factor = 100 if unit == "yuan" else 1
        big = (col >= limit // factor).fill_null(False)
        negative = (col < 0).fill_null(False)
        safe = pl.select(pl.when(~big & ~negative).then(col)).to_series().cast(pl.Int64)
        fen = (safe * factor).alias(name)
        if not big.any() and not negative.any():
            return fen, _no_errors(len(col))
        err = pl.select(
            pl.when(negative)
            .then(pl.lit(f"{name}: Input should be greater than or equal to 0"))
            .when(big)
            .then(pl.lit(too_big))
        ).to_series()
        return fen, err
    elif isinstance(dtype, pl.Decimal):
        arrow = col.to_arrow()
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        if not pa.types.is_decimal128(arrow.type):  # any decimal128 has the 16-byte layout
            arrow = arrow.cast(pa.decimal128(38, arrow.type.scale))
        values, bad_np = _fen_from_decimal(arrow, 2)
        if unit == "fen":  # the decimal counts fen: whole ones only
            bad_np = bad_np | (values % 100 != 0)
            values = values // 100
        fen = pl.Series(name, values, dtype=pl.Int64)
        if col.null_count():
            fen = pl.select(pl.when(col.is_null()).then(None).otherwise(fen)).to_series()
            bad_np = bad_np & col.is_not_null().to_numpy()
        if not bad_np.any():  # the usual case: skip building a column of no messages
            return _money_limits(fen, _no_errors(len(col)), c, limit)
        what = "more than 2 decimal places" if unit == "yuan" else "not a whole number of fen"
        err = pl.select(
            pl.when(pl.Series(bad_np)).then(pl.lit(f"{name}: {what}")).otherwise(None)
        ).to_series()
        return _money_limits(fen, err, c, limit)
    elif dtype == pl.String:
        text = _ascii_digits(col.str.strip_chars())
        if text.str.contains_any([",", "元"]).any():  # (Aho-Corasick: cheaper than a regex)
            text = _plain_amount(text, unit)
        if text.str.starts_with("-").any():  # -0.0, as pandas writes a float's negative zero
            text = text.str.replace(r"^-(0+(?:\.0*)?)$", "${1}")
        parts = text.str.extract_groups(_MONEY)
        whole = parts.struct.field("1")
        frac = parts.struct.field("2").fill_null("")
        ok = whole.is_not_null()
        if unit == "fen":
            extra_nonzero = frac.str.contains(r"[1-9]").fill_null(False)
            digits = c.whole_digits + 2
            too_long = whole.str.strip_chars_start("0").str.len_chars() > digits
            fen_text = pl.select(
                pl.when(ok & ~extra_nonzero & ~too_long.fill_null(False)).then(whole)
            ).to_series()
        else:
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
        if extra_nonzero.any():
            # a float's shortest repr, as pandas writes one (700.1 + 100.2 is
            # 800.3000000000001): judged as that float, as the same column in Parquet is
            near, inexact, huge, _ = _fen_from_float(text.cast(pl.Float64, strict=False), unit)
            taken = extra_nonzero & ok & near.is_not_null() & pl.Series(~inexact & ~huge)
            fen = pl.select(pl.when(taken).then(near).otherwise(fen)).to_series()
            extra_nonzero = extra_nonzero & ~taken
        negative = text.str.starts_with("-").fill_null(False)
        what = "more than 2 decimal places" if unit == "yuan" else "not a whole number of fen"
        not_number = (
            ", write 元 as digits (1234.50 or 1,234.50)"
            if unit == "yuan"
            else ", write 分 as whole digits (123450)"
        )
        # the refused cell in its message, built only when there is one (a column of texts)
        unreadable = (
            pl.lit(f"{name}: not a decimal number") + _got(col) + pl.lit(not_number)
            if (~ok & col.is_not_null()).any()
            else pl.lit(None, dtype=pl.String)
        )
        err = pl.select(
            pl.when(col.is_null())
            .then(None)
            .when(negative)
            .then(pl.lit(f"{name}: Input should be greater than or equal to 0"))
            .when(~ok)
            .then(unreadable)
            .when(extra_nonzero)
            .then(pl.lit(f"{name}: {what}"))
            .when(too_long.fill_null(False))
            .then(pl.lit(too_big))
            .otherwise(None)
        ).to_series()
        return fen.alias(name), err
    else:
        raise InputError(f"{source}: column '{name}' has type {dtype}, not money")


_GROUPED = r"^\+?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"  # 1,234.50: digits grouped by thousands


def _plain_amount(text: pl.Series, unit: str) -> pl.Series:
    """Amounts as spreadsheets and office systems show them, as plain digits: grouped by
    thousands (``1,234.50``; a comma is never a decimal point in Chinese use) and, in a 元
    column, a ``元`` suffix (``1234.50元``). Anything else stays as it was and is refused with
    its value (``1.2万``: an amount in 万 would be read 10,000 times too small)."""
    if unit == "yuan":
        yuan = text.str.ends_with("元").fill_null(False)
        bare = text.str.strip_suffix("元").str.strip_chars_end()
        text = pl.select(pl.when(yuan).then(bare).otherwise(text)).to_series()
    grouped = text.str.contains(_GROUPED).fill_null(False)
    plain = text.str.replace_all(",", "", literal=True)
    return pl.select(pl.when(grouped).then(plain).otherwise(text)).to_series()


def _got(value: pl.Series | pl.Expr) -> pl.Expr:
    """`` (got '…')``: the refused cell, cut to 30 characters, so the reader can find it."""
    v = value if isinstance(value, pl.Expr) else pl.lit(value)
    cell = v.cast(pl.String).str.slice(0, 30)
    return pl.lit(" (got '") + cell + pl.lit("')")


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


def _empty_lists(n: int, dtype: pl.DataType, name: str) -> pl.Series:
    """``n`` empty lists, from a zero offsets buffer (no Python list of lists)."""
    inner = pl.Series(dtype=dtype.inner).to_arrow()  # type: ignore[attr-defined]
    zeros = pa.py_buffer(np.zeros(n + 1, dtype=np.int32))  # (pa.array would import pandas)
    offsets = pa.Array.from_buffers(pa.int32(), n + 1, [None, zeros])
    arrow = pa.ListArray.from_arrays(offsets, inner)
    out = pl.from_arrow(arrow)  # (pl.Series(name, arrow) would import pandas to check)
    assert isinstance(out, pl.Series)
    return out.cast(dtype).alias(name)


def _int(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    dtype = col.dtype
    invalid = f"{c.name}: Input should be a valid integer"
    if dtype == pl.Null:
        v = _nulls(len(col), pl.Int64, c.name)
        err = _no_errors(len(col))
    elif dtype.is_integer():
        if dtype == pl.UInt64:  # past Int64: refused by the range checks, not wrapped around
            big = (col > _I64_MAX).fill_null(False)
            v = pl.select(pl.when(~big).then(col)).to_series().cast(pl.Int64)
            too = c.le if c.le is not None else None
            msg = f"{c.name}: Input should be less than or equal to {too}" if too else invalid
            err = pl.select(pl.when(big).then(pl.lit(msg))).to_series()
        else:
            v, err = col.cast(pl.Int64), _no_errors(len(col))
    elif dtype.is_float():
        # pandas writes a whole-number column with a gap as float64 (30.0, NaN)
        x = col.fill_nan(None)
        whole = (x == x.round(0)) & (x.abs() < 2.0**62)
        v = pl.select(pl.when(whole).then(x)).to_series().cast(pl.Int64)
        err = pl.select(
            pl.when(x.is_not_null() & ~whole.fill_null(False)).then(
                pl.lit(f"{invalid}, got a number with a fractional part")
            )
        ).to_series()
    elif dtype == pl.String:
        ok = col.str.contains(_INT).fill_null(True)
        v = col.str.strip_chars().str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
        refused = ~ok | (col.is_not_null() & v.is_null())
        said = pl.lit(f"{invalid}, unable to parse string as an integer")  # the models' words
        why = said + _got(col) if refused.any() else said  # and the cell, if one is refused
        err = pl.select(pl.when(refused).then(why).otherwise(None)).to_series()
    else:
        raise InputError(f"{source}: column '{c.name}' has type {dtype}, not a whole number")
    checks: Then | ChainedThen = pl.when(err.is_not_null()).then(err)
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
    if dtype.is_integer() or dtype.is_float():
        v = pl.select(pl.when(col == 1).then(True).when(col == 0).then(False)).to_series()
    elif dtype == pl.String:
        low = col.str.strip_chars().str.to_lowercase()
        v = pl.select(
            pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
        ).to_series()
    else:
        raise InputError(f"{source}: column '{c.name}' has type {dtype}, not true/false")
    present = col.is_not_null() if not dtype.is_float() else col.fill_nan(None).is_not_null()
    refused = present & v.is_null()
    if not refused.any():
        return v.alias(c.name), _no_errors(len(col))
    why = pl.lit(f"{c.name}: Input should be a valid boolean, unable to interpret input")
    why = why + _got(col)  # the models' words, and the cell
    err = pl.select(pl.when(refused).then(why).otherwise(None)).to_series()
    return v.alias(c.name), err


def exact_float_ids(col: pl.Series, source: str, name: str) -> None:
    """Ids in a binary float column (pandas makes one of a column with a gap) are refused
    whole past 2**53: a float keeps about 15 digits, so an 18-digit 身份证号 is already another
    number (330503197901010029 is 330503197901010048), and the results would be keyed by it."""
    if not col.dtype.is_float():
        return
    big = (col.fill_nan(None).abs() >= 2.0**53).fill_null(False)
    if big.any():
        example = f"{col.filter(big)[0]:.0f}"
        raise InputError(
            f"{source}: column '{name}' holds ids as binary floats of 16 or more digits "
            f"({example}), which keep only about 15: an 18-digit 身份证号 is already another "
            "number; write the ids as text"
        )


def uuids_as_text(col: pl.Series) -> pl.Series:
    """A column of 16-byte values as UUID text (``6f1c2a3e-0000-4000-8000-000000001001``):
    DuckDB, Spark and pyarrow write a ``uuid`` to Parquet as 16 bytes, which Polars reads as
    binary. Any other binary column is left as it is (and refused as not text)."""
    if col.dtype != pl.Binary or not (col.bin.size().drop_nulls() == 16).all():
        return col
    h = col.bin.encode("hex")
    spans = ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))
    parts = [h.str.slice(a, n) for a, n in spans]
    return pl.select(pl.concat_str(parts, separator="-")).to_series().alias(col.name)


def numbers_as_text(col: pl.Series) -> pl.Series:
    """Numbers as the text they stand for: a spreadsheet's numbers are floats, and a whole one
    is an id or a code written as a number (``1001.0`` is ``1001``; NaN is missing)."""
    if not col.dtype.is_float():
        return col.cast(pl.String)
    x = col.fill_nan(None)
    whole = (x == x.round(0)) & (x.abs() < 2.0**53)
    as_int = pl.select(pl.when(whole).then(x)).to_series().cast(pl.Int64).cast(pl.String)
    return pl.select(pl.when(whole).then(as_int).otherwise(x.cast(pl.String))).to_series()


WHOLE_FLOAT_TEXT = r"^([+-]?\d+)\.0$"  # 1001.0: a whole float as pandas writes it


def whole_numbers_as_ids(ids: pl.Series) -> pl.Series:
    """Text ids with ``1001.0`` read as ``1001``: pandas writes an id column with a gap as
    floats, and its CSV says so; the same column in Parquet is read as 1001 (see
    ``numbers_as_text``), and a member row of ``1001.0`` matched no household. Only digits
    followed by ``.0`` change; a look at the last two bytes tells the columns that have none
    (12 ms for 2.4 M ids, a search for the regex three times that)."""
    if not ids.str.ends_with(".0").any():
        return ids
    return ids.str.replace(WHOLE_FLOAT_TEXT, "${1}")


def _text(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    col = uuids_as_text(col)
    if col.dtype not in (pl.String, pl.Null, pl.Categorical) and not isinstance(col.dtype, pl.Enum):
        if col.dtype.is_integer() and c.kind == "text":
            col = col.cast(pl.String)  # an id written as a number
        elif col.dtype.is_float() and c.kind == "text":
            exact_float_ids(col, source, c.name)
            col = numbers_as_text(col)
        else:
            raise InputError(f"{source}: column '{c.name}' has type {col.dtype}, not text")
    v = col.cast(pl.String)
    failing: list[tuple[pl.Series, pl.Expr]] = []  # in the order the models check
    if c.kind == "enum":
        failing.append(
            (
                v.is_not_null() & ~v.is_in(list(c.values)),
                pl.lit(f"{c.name}: {choices(c.values)}") + _got(v),
            )
        )
    if c.min_length is not None or c.max_length is not None:
        length = v.str.len_chars()
        if c.min_length is not None:
            failing.append(
                (
                    length < c.min_length,
                    pl.lit(f"{c.name}: String should have at least {c.min_length} character"),
                )
            )
        if c.max_length is not None:
            failing.append(
                (
                    length > c.max_length,
                    pl.lit(f"{c.name}: String should have at most {c.max_length} characters"),
                )
            )
    failing = [(mask, why) for mask, why in failing if mask.any()]
    if not failing:  # the usual case: no column of messages to build
        return v.alias(c.name), _no_errors(len(v))
    checks: Then | ChainedThen = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for mask, why in failing:
        checks = checks.when(mask).then(why)
    return v.alias(c.name), pl.select(checks.otherwise(None)).to_series()


def _date(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    if col.dtype == pl.Date:
        return col.alias(c.name), _no_errors(len(col))
    if isinstance(col.dtype, pl.Datetime):  # pandas and spreadsheets write dates as datetimes
        return _zoned_date(col, c)
    if col.dtype == pl.Null:
        return _nulls(len(col), pl.Date, c.name), _no_errors(len(col))
    if col.dtype.is_integer() or col.dtype.is_float():
        # a database's date as a number, 19790101 (yyyymmdd): read as that text is
        col = numbers_as_text(col)
    if col.dtype == pl.String:
        text = col.str.strip_chars()
        v = _iso_date(text)
        failed = col.is_not_null() & v.is_null()
        if not failed.any():
            return v.alias(c.name), _no_errors(len(col))
        # a date column exported as text by a database or pandas (1979-01-01 00:00:00), or a
        # date cell among a sheet's text cells, which reads as its datetime at midnight
        text = text.str.replace(_MIDNIGHT, "${1}")
        v = v.fill_null(_iso_date(text))
        v = v.fill_null(_year_first_date(text))
        failed = col.is_not_null() & v.is_null()
        why = pl.lit(f"{c.name}: Input should be a valid date (YYYY-MM-DD)") + _got(col)
        err = pl.select(pl.when(failed).then(why).otherwise(None)).to_series()
        return v.alias(c.name), err
    raise InputError(f"{source}: column '{c.name}' has type {col.dtype}, not a date")


def _iso_date(text: pl.Series) -> pl.Series:
    """``YYYY-MM-DD`` dates (null for any other text). chrono's %Y takes a year of any length:
    '45-3-1' (1945, as an office types it) was the year 45, a member of 1,979; a two-digit
    year is not guessed."""
    v = text.str.to_date("%Y-%m-%d", strict=False)
    return pl.select(pl.when(v.dt.year() >= 1000).then(v)).to_series()


# (with an offset too: midnight in its own zone is that date, as for a datetime with a zone)
_MIDNIGHT = r"^(\d{4}\D\d{1,2}\D\d{1,2})[ T]00:00(?::00(?:\.0+)?)?(?:Z|[+-]\d\d:?\d\d)?$"


def _zoned_date(col: pl.Series, c: Column) -> tuple[pl.Series, pl.Series]:
    """The date of a datetime; for one with a time zone (``timestamptz``, pandas'
    ``datetime64[ns, UTC]``) only at midnight in that zone: 2006-06-02 in 浙江 is stored as
    2006-06-01 16:00 UTC, and its date there is a day early. Such a row is refused."""
    dates = col.dt.date().alias(c.name)
    zone = col.dtype.time_zone  # type: ignore[attr-defined]
    if zone is None:
        return dates, _no_errors(len(col))
    timed = (col.dt.time() != dt.time(0)).fill_null(False)
    if not timed.any():
        return dates, _no_errors(len(col))
    why = (
        pl.lit(f"{c.name}: a time of day in time zone {zone}")
        + _got(col.dt.replace_time_zone(None).dt.to_string("%Y-%m-%d %H:%M:%S"))
        + pl.lit(", whose date depends on the zone: store the date alone (date, YYYY-MM-DD)")
    )
    err = pl.select(pl.when(timed).then(why)).to_series()
    return pl.select(pl.when(~timed).then(dates)).to_series().alias(c.name), err


def _year_first_date(text: pl.Series) -> pl.Series:
    """Dates as Chinese office systems write them, year first and so unambiguous:
    ``1979/01/01``, ``1979/1/1``, ``1979.1.1``, ``1981年1月1日``, ``19790101``; null for any
    other text (a two-digit year ``79/01/01`` is not guessed)."""
    forms = ("%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
    dates = pl.select(pl.coalesce([text.str.to_date(f, strict=False) for f in forms]))
    year_first = text.str.contains(r"^\d{4}(?:\D|\d{4}$)").fill_null(False)
    return pl.select(pl.when(year_first).then(dates.to_series())).to_series()


def _json_decode(text: pl.Series, dtype: pl.DataType) -> tuple[pl.Series, np.ndarray]:
    """JSON text decoded to ``dtype`` on the whole column; where that fails, the column is
    halved until the cells that do not decode are found (a handful of decodes per bad cell,
    none per good one). Returns the values (null where bad) and which cells were bad."""
    n = len(text)
    bad = np.zeros(n, dtype=np.bool_)

    def decode(lo: int, hi: int) -> list[pl.Series]:
        part = text.slice(lo, hi - lo)
        try:
            return [part.str.json_decode(dtype)]
        except pl.exceptions.PolarsError:
            if hi - lo == 1:
                bad[lo] = True
                return [_nulls(1, dtype)]
            mid = (lo + hi) // 2
            return decode(lo, mid) + decode(mid, hi)

    if n == 0:
        return _nulls(0, dtype), bad
    parts = decode(0, n)
    return (parts[0] if len(parts) == 1 else pl.concat(parts)), bad


_KEY = r'"(?:[^"\\]|\\.)*"'
_ARRAY = rf"^\[\s*(?:{_KEY}\s*(?:,\s*{_KEY}\s*)*)?\]$"


def _text_list(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    n = len(col)
    dtype = pl.List(pl.String)
    if col.dtype == pl.Null:
        return _empty_lists(n, dtype, c.name), _no_errors(n)
    if isinstance(col.dtype, pl.List):
        v = col.cast(dtype).fill_null(pl.lit([], dtype=dtype))
        return v.alias(c.name), _no_errors(n)
    if col.dtype == pl.String:
        text = col.str.strip_chars()
        text = pl.select(pl.when(text != "").then(text)).to_series()
        # only a JSON array of text: a number or object inside is refused, as by the models
        shaped = text.str.contains(
            r'^\[\s*(?:"(?:[^"\\]|\\.)*"\s*(?:,\s*"(?:[^"\\]|\\.)*"\s*)*)?\]$'
        )
        wrong = (text.is_not_null() & ~shaped.fill_null(False)).to_numpy()
        ok_text = pl.select(pl.when(pl.Series(~wrong)).then(text)).to_series()
        v, broken = _json_decode(ok_text, dtype)
        wrong |= broken
        v = v.fill_null(pl.lit([], dtype=dtype)).alias(c.name)
        if not wrong.any():
            return v, _no_errors(n)
        err = pl.select(
            pl.when(pl.Series(wrong)).then(pl.lit(f"{c.name}: a JSON array of text"))
        ).to_series()
        return v, err
    raise InputError(f"{source}: column '{c.name}' has type {col.dtype}, not a list of text")


_PAIR = rf'{_KEY}\s*:\s*(?:{_KEY}|[^,\}}\s"]+)'
_OBJECT = rf"^\{{\s*(?:{_PAIR}\s*(?:,\s*{_PAIR}\s*)*)?\}}$"


def _money_entries(
    row: pl.Series, programs: pl.Series, amounts: pl.Series, n: int, c: Column, source: str
) -> tuple[pl.Series, pl.Series]:
    """Per-program amounts (``row``: the household row of each) grouped back into one list of
    ``{program, fen}`` per row, with the first problem of each row."""
    dtype = clean_schema((c,))[c.name]
    fen, err = _money(amounts, Column("amount", ("amount",), "money", ge=0), source)
    entries = pl.DataFrame({"row": row, "program": programs, "fen": fen, "err": err})
    entries = entries.filter(pl.col("program").is_not_null() | pl.col("fen").is_not_null())
    grouped = entries.group_by("row", maintain_order=True).agg(
        pl.struct("program", "fen").alias("v"), pl.col("err").drop_nulls().first()
    )
    full = pl.DataFrame({"row": pl.Series(np.arange(n), dtype=row.dtype)}).join(
        grouped, on="row", how="left"
    )
    v = full.get_column("v").fill_null(pl.lit([], dtype=dtype)).cast(dtype).alias(c.name)
    e = full.get_column("err")
    e = pl.select(pl.when(e.is_not_null()).then(pl.lit(f"{c.name}.") + e)).to_series()
    return v, e


def _money_map(col: pl.Series, c: Column, source: str) -> tuple[pl.Series, pl.Series]:
    n = len(col)
    dtype = clean_schema((c,))[c.name]
    if col.dtype == pl.Null:
        return _empty_lists(n, dtype, c.name), _no_errors(n)
    if type(col.dtype).__name__ == "Map":  # an Arrow map<program, amount>
        key, value = col.dtype.key, col.dtype.value  # type: ignore[attr-defined]
        col = col.cast(pl.List(pl.Struct({"key": key, "value": value}))).list.eval(
            pl.element().struct.rename_fields(["program", "amount"])
        )
    if isinstance(col.dtype, pl.Struct):
        # one field per program, as pandas writes a column of dicts; null: not received
        fields = [f.name for f in col.dtype.fields]
        wide = col.struct.unnest().with_row_index("row")
        long = wide.unpivot(index="row", on=fields, variable_name="program", value_name="a")
        long = long.filter(pl.col("a").is_not_null()).sort("row", maintain_order=True)
        row = long.get_column("row")
        return _money_entries(row, long.get_column("program"), long.get_column("a"), n, c, source)
    if isinstance(col.dtype, pl.List) and isinstance(col.dtype.inner, pl.Struct):
        lens = col.list.len().fill_null(0).to_numpy()
        row = pl.Series(np.repeat(np.arange(n), lens))
        la = col.to_arrow()
        la = pa.concat_arrays([la.combine_chunks() if isinstance(la, pa.ChunkedArray) else la])
        flat = pl.from_arrow(la.flatten())
        assert isinstance(flat, pl.Series)  # (an array in: a Series out)
        programs = flat.struct.field("program").cast(pl.String)
        return _money_entries(row, programs, flat.struct.field("amount"), n, c, source)
    if col.dtype == pl.String:
        # a JSON object of program → amount, taken apart by patterns on the whole column
        text = col.str.strip_chars()
        text = pl.select(pl.when(text != "").then(text)).to_series()
        shaped = text.str.contains(_OBJECT).fill_null(True)
        good = pl.select(pl.when(shaped).then(text)).to_series()
        pairs = pl.DataFrame({"row": np.arange(n), "p": good.str.extract_all(_PAIR)}).explode("p")
        pairs = pairs.filter(pl.col("p").is_not_null())
        kv = pairs.get_column("p").str.extract_groups(rf"^({_KEY})\s*:\s*(.*)$")
        key = kv.struct.field("1").str.json_decode(pl.String)
        amount = kv.struct.field("2").str.strip_chars('"')
        v, e = _money_entries(pairs.get_column("row"), key, amount, n, c, source)
        if shaped.all():
            return v, e
        e = pl.select(
            pl.when(~shaped)
            .then(pl.lit(f"{c.name}: a JSON object of program → amount"))
            .otherwise(e)
        ).to_series()
        return v, e
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


class Check(NamedTuple):
    """A rule on a column: where it is broken and what to say. ``screen``: a cheaper test that
    holds wherever ``broken`` does (the rows it picks are then tested exactly)."""

    broken: pl.Expr
    why: pl.Expr
    screen: pl.Expr | None = None


# a column's checks, in the order the models check: the first broken is the column's problem
Checks = list[Check]
_LISTS = ("text_list", "money_map")


def _direct(dtype: pl.DataType, c: Column) -> tuple[pl.Expr, Checks] | None:
    """The value and checks of a column whose type needs no conversion of its own (text as
    text, integers, booleans, dates: what Parquet exports hold), as expressions evaluated in
    the frame's one query; None for the rest (see ``_CONVERT``)."""
    x = pl.col(c.name)
    checks: Checks = []
    if c.kind in ("text", "enum"):
        textual = dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
        if not (textual or (dtype.is_integer() and c.kind == "text")):
            return None
        v = x.cast(pl.String)
        if c.kind == "enum":
            why = f"{c.name}: {choices(c.values)}"
            # a comparison per value: cheaper than a hash lookup per row, for a handful
            one_of = pl.any_horizontal([v == value for value in c.values])
            # (null where v is: not broken; the message is built for refused rows only)
            checks.append(Check(~one_of, pl.lit(why) + _got(v)))
        # counting bytes is several times cheaper than counting characters: a text has no
        # character when it has no byte, and no more characters than bytes
        if c.min_length is not None:
            why = f"{c.name}: String should have at least {c.min_length} character"
            length = v.str.len_bytes() if c.min_length <= 1 else v.str.len_chars()
            checks.append(Check(length < c.min_length, pl.lit(why)))
        if c.max_length is not None:
            why = f"{c.name}: String should have at most {c.max_length} characters"
            too_long = v.str.len_chars() > c.max_length
            checks.append(Check(too_long, pl.lit(why), v.str.len_bytes() > c.max_length))
        return v, checks
    if c.kind == "int" and dtype.is_integer() and dtype != pl.UInt64:
        v = x.cast(pl.Int64)
        if c.ge is not None:
            why = f"{c.name}: Input should be greater than or equal to {c.ge}"
            checks.append(Check(v < c.ge, pl.lit(why)))
        if c.le is not None:
            why = f"{c.name}: Input should be less than or equal to {c.le}"
            checks.append(Check(v > c.le, pl.lit(why)))
        return v, checks
    if (c.kind, dtype) in (("bool", pl.Boolean), ("date", pl.Date)):
        return x, checks
    if c.kind == "date" and isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        return x.dt.date(), checks  # pandas and spreadsheets write dates as datetimes
    return None


def _default(c: Column) -> Any:
    """The value a null takes (money in fen)."""
    return int(c.default.scaleb(2)) if c.kind == "money" else c.default


def _absent(c: Column, n: int) -> pl.Expr:
    """A column the table does not have (or of nulls only): its default, or nulls."""
    dtype = clean_schema((c,))[c.name]
    if c.kind in _LISTS:
        return pl.lit(_empty_lists(n, dtype, c.name))
    value = pl.repeat(None, n, dtype=dtype)
    if c.default is not None and not c.required:
        value = value.fill_null(_default(c))
    return value


def clean(
    raw: pl.DataFrame,
    columns: tuple[Column, ...],
    source: str,
    units: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Every column converted, defaults applied, and ``__errors``: the row's problems joined
    with ``SEP`` (null when none). ``units``: money columns whose numbers count fen, not 元.

    One query per frame: the values and whether each row breaks a rule; the messages are
    then built for the failing rows alone (most frames have none)."""
    check_columns(raw.columns, columns, source)
    n = raw.height
    units = units or {}
    schema = clean_schema(columns)
    converted: dict[str, pl.Series] = {}  # columns converted on their own, with their errors
    values: list[pl.Expr] = []
    problems: list[Checks] = []
    for i, c in enumerate(columns):
        dtype = raw.schema.get(c.name) or pl.Null()
        checks: Checks = []
        if dtype == pl.Null:
            value = _absent(c, n)
        elif (direct := _direct(dtype, c)) is not None:
            value, checks = direct
        else:
            col = raw.get_column(c.name)
            if isinstance(col.dtype, (pl.Categorical, pl.Enum)):
                col = col.cast(pl.String)  # pandas' category dtype: text whatever it holds
            if c.kind == "money":
                v, err = _money(col, c, source, units.get(c.name, "yuan"))
            else:
                v, err = _CONVERT[c.kind](col, c, source)
            converted[f"__v{i}"] = v
            value = pl.col(f"__v{i}")
            if err.null_count() < err.len():  # most columns have no problem at all
                converted[f"__e{i}"] = err
                checks = [Check(pl.col(f"__e{i}").is_not_null(), pl.col(f"__e{i}"))]
        if c.required:
            checks.insert(0, Check(value.is_null(), pl.lit(f"{c.name}: Field required")))
        elif c.default is not None and dtype != pl.Null and c.kind not in _LISTS:
            value = value.fill_null(_default(c))
        values.append(value.cast(schema[c.name]).alias(c.name))
        if checks:
            problems.append(checks)
    frame = raw.with_columns(**converted) if converted else raw
    failing = [x.broken if x.screen is None else x.screen for xs in problems for x in xs]
    bad = pl.any_horizontal(failing).fill_null(False) if failing else pl.repeat(False, n)
    out = frame.select(*values, bad.alias(ERR))
    rows = np.flatnonzero(out.get_column(ERR).to_numpy())
    reasons = _nulls(n, pl.String)
    if len(rows):
        messages = _messages(frame[rows], problems)
        found = (messages != "").to_numpy()  # a row a screen picked may break no rule
        reasons = reasons.scatter(rows[found], messages.filter(pl.Series(found)))
    return out.with_columns(reasons.alias(ERR))


def _first_broken(checks: Checks) -> Then | ChainedThen:
    """The message of the first of ``checks`` a row breaks (null: none), as the models report
    a field's (or a member's own rules') problems: the first alone."""
    first, *rest = checks
    chain: Then | ChainedThen = pl.when(first.broken).then(first.why)
    for check in rest:
        chain = chain.when(check.broken).then(check.why)
    return chain


def _messages(failing: pl.DataFrame, problems: list[Checks]) -> pl.Series:
    """Each failing row's problems, the first of each column's, joined with ``SEP``."""
    firsts = [_first_broken(checks) for checks in problems]
    return failing.select(pl.concat_str(firsts, separator=SEP, ignore_nulls=True)).to_series()


def _member_model_checks() -> Checks:
    """The member models' own checks, across columns (age or birth date; a type needs a
    grade), in the models' order and with their words (``<field>: <message>``): written once
    for both the whole-column test and the messages."""
    return [
        Check(
            pl.col("age").is_null() & pl.col("birth_date").is_null(),
            pl.lit(": ".join(AGE_OR_BIRTH_DATE)),
        ),
        Check(
            pl.col("disability_type").is_not_null() & pl.col("disability_grade").is_null(),
            pl.lit(": ".join(GRADE_FOR_TYPE)),
        ),
    ]


def member_rules(m: pl.DataFrame) -> pl.Series:
    """Per member, the first of the member models' own checks it breaks (null: none)."""
    return m.select(_first_broken(_member_model_checks()).otherwise(None)).to_series()


def _member_rule_broken() -> pl.Expr:
    """Whether a member breaks one of its models' own checks (see ``member_rules``)."""
    return pl.any_horizontal([c.broken for c in _member_model_checks()])


def _member_problems(
    m: pl.DataFrame,
    hh: np.ndarray,
    counts: np.ndarray,
    bad_members: np.ndarray,
    dup: np.ndarray,
    key: pl.Series,
) -> tuple[pl.Series, pl.Series]:
    """Per household: its refused members' problems joined with ``SEP`` in the members' order,
    and the first member id given twice (null: none). Built from the refused members and the
    members of households with a shared id alone (``key``: the ids as compared).

    Each problem reads ``<label>.<field>: <message>``, labelled as
    :func:`~minzheng_rules.model._household.member_labels` labels them: ``members[<id>]``, or
    ``members[#<n>]`` (position in the household from 1) when the id is missing, empty or
    shared; the member's id is ``id``, as in the JSON form. A member's own checks are reported
    only when its fields are valid, and the first one only, as the models report them."""
    n = len(counts)
    ident = pl.col(MEMBER_ID)
    # ids shared within a household: only where _shared_ids found some (a few households)
    in_dup = np.flatnonzero(dup[hh])
    ids = (
        m.select(HH, MEMBER_ID, key.alias("_key"))
        .gather(in_dup)
        .with_columns(
            seen=pl.int_range(pl.len()).over(HH, "_key"),
            shared=pl.len().over(HH, "_key") > 1,
        )
    )
    shared = np.zeros(len(hh), dtype=np.bool_)
    shared[in_dup[ids.get_column("shared").to_numpy()]] = True
    twice = (
        ids.filter(ident.is_not_null() & (pl.col("seen") >= 1))
        .group_by(HH, maintain_order=True)
        .agg(ident.first())
    )
    starts = np.cumsum(counts) - counts
    bad = m.gather(bad_members)
    label = (
        pl.when(ident.is_not_null() & (ident != "") & ~pl.col("shared"))
        .then(pl.lit("members[") + ident + pl.lit("]."))
        .otherwise(pl.lit("members[#") + pl.col("pos").cast(pl.String) + pl.lit("]."))
    )
    # a member's problems are joined with SEP: each is labelled (the reject splits them)
    own = pl.coalesce(ERR, "rules").str.replace_all(rf"(^|{SEP}){MEMBER_ID}: ", "${1}id: ")
    problems = (
        bad.select(
            HH,
            MEMBER_ID,
            ERR,
            rules=member_rules(bad),
            pos=pl.Series(bad_members - starts[hh[bad_members]] + 1),
            shared=pl.Series(shared[bad_members]),
        )
        .select(HH, (label + own.str.replace_all(SEP, SEP + label, literal=True)).alias("e"))
        .group_by(HH, maintain_order=True)
        .agg(pl.col("e").str.join(SEP))
    )

    def per_household(frame: pl.DataFrame, name: str) -> pl.Series:
        at = frame.get_column(HH).cast(pl.Int64)
        return _nulls(n, pl.String).scatter(at, frame.get_column(name))

    return per_household(problems, "e"), per_household(twice, MEMBER_ID)


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
    later = np.flatnonzero(pos >= 1)  # members with one before them: fewer at each distance
    for d in range(1, int(counts.max())):
        later = later[pos[later] >= d]
        rows = later[hashes[later] == hashes[later - d]]
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
    member_key: pl.Series | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, list[Reject]]:
    """Join clean households ``h`` and their clean members ``m`` (``hh_index``: each member's
    household row, ascending), refuse what breaks a household-level rule, and return the
    evaluable frames (members re-indexed) and the rejects. ``h_rows``/``m_rows`` are the rows'
    numbers in their files, for the rejects file. ``member_key``: the member ids as compared
    for a member given twice (default: as they are)."""
    n = h.height
    m = m.with_columns(pl.Series(HH, hh_index, dtype=pl.UInt32))
    hh = np.asarray(hh_index, dtype=np.int64)
    count = np.bincount(hh, minlength=n)
    key = m.get_column(MEMBER_ID) if member_key is None else member_key
    dup = _shared_ids(key, hh, count)
    # which rows break a rule, on whole columns; the messages are built for those rows alone
    member_bad = m.select(pl.col(ERR).is_not_null() | _member_rule_broken()).to_series()
    bad_members = np.flatnonzero(member_bad.to_numpy())
    few, many = count < MIN_MEMBERS, count > MAX_MEMBERS
    bad = h.get_column(ERR).is_not_null().to_numpy() | few | many | dup
    bad[hh[bad_members]] = True
    at = np.flatnonzero(bad)
    member_problems = twice = _nulls(n, pl.String)
    if len(bad_members) or dup.any():  # (most chunks: neither, and nothing to look at)
        member_problems, twice = _member_problems(m, hh, count, bad_members, dup, key)
    before, after = repeated_id("\0").split("\0")
    reasons = (
        pl.DataFrame(
            {
                "h": h.get_column(ERR).gather(at),
                "m": member_problems.gather(at),
                "few": few[at],
                "id": h.get_column(HOUSEHOLD_ID).gather(at),
                "many": many[at],
                "twice": twice.gather(at),
            }
        )
        .select(
            pl.concat_str(
                [
                    pl.col("h"),
                    # too many members: the models look no further into them, nor here
                    pl.when((pl.col("m") != "") & ~pl.col("many")).then(pl.col("m")),
                    pl.when(pl.col("few")).then(
                        # the id quoted: one a space apart from its members' ('1002 ') shows
                        pl.lit(f"members: List should have at least {MIN_MEMBERS} item (no row")
                        + pl.lit(f" of {source_m} has household_id '")
                        + pl.col("id")
                        + pl.lit("')")
                    ),
                    pl.when(pl.col("many")).then(
                        pl.lit(f"members: List should have at most {MAX_MEMBERS} items")
                    ),
                    pl.lit(f"members: {before}") + pl.col("twice") + pl.lit(after),
                ],
                separator=SEP,
                ignore_nulls=True,
            )
        )
        .to_series()
    )
    # one gather per column, not a Series lookup per refused row (3 µs each)
    rejects = [
        Reject(source_h, int(row), hid, why.split(SEP))
        for row, hid, why in zip(
            h_rows[at],
            h.get_column(HOUSEHOLD_ID).gather(at).to_list(),
            reasons.to_list(),
            strict=True,
        )
    ]
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
