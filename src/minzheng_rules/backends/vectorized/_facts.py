"""The facts of clean columnar households as columns, generated from the fact table
(:data:`minzheng_rules.model._facts.FACTS`): same names, same defaults, null where the reference
has Unknown.

A fact read from a field is its column; its default is the column's own (the clean frames carry
the model's defaults, see ``io/validate.py`` and ``model/convert.py``) or, when the fact has one
of its own (``disability_grade`` 0), a ``fill_null``. Bounds come from the column spec. A derived
fact (``size``, ``eval_date``, ``age``) is written here; one the table has and this module does
not fails when a pack that reads it is compiled, naming the fact, rather than being guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from minzheng_rules.model import _types as T
from minzheng_rules.model._columns import HOUSEHOLD_COLUMNS, MAX_MEMBERS, MEMBER_COLUMNS, by_name
from minzheng_rules.model._facts import FACTS, FactSpec

FAST_INT = 10**12  # counts above this (never seen in a register) go to the reference evaluator

_H = by_name(HOUSEHOLD_COLUMNS)
_M = by_name(MEMBER_COLUMNS)
COLUMN_LEVEL = {
    name: level
    for level, t in (("h", _H), ("m", _M))
    for name in t
    if name not in (_H.keys() & _M.keys())
}


@dataclass(frozen=True)
class Fact:
    """How one fact is read: its kind, its column expression and a bound on its size."""

    name: str
    level: str  # h | m
    kind: str  # money | count | bool | text | date
    expr: Callable[[dt.date], pl.Expr]
    nmax: int = 0
    nonneg: bool = True
    out_of_range: Callable[[], pl.Expr] | None = None  # rows beyond ``nmax``
    choices: tuple[str, ...] = ()  # text: every value the clean column can hold (a closed set)

    @property
    def column(self) -> str:
        return f"f:{self.name}"


_KIND = {
    T.Kind.money: "money",
    T.Kind.count: "count",
    T.Kind.bool: "bool",
    T.Kind.enum: "text",
    T.Kind.date: "date",
}


def _money_bound(column: str, table: dict) -> int:
    c = table[column]
    return 10 ** (c.whole_digits + c.places) - 1


def _read(spec: FactSpec) -> Fact:
    """A fact read from its column."""
    level = "h" if spec.entity == "household" else "m"
    table = _H if level == "h" else _M
    assert spec.column is not None
    column, c = spec.column, table[spec.column]
    kind = _KIND[spec.type.kind]
    fill: Any = None
    if spec.own_default:  # the clean column is null when not given
        fill = spec.default
        if isinstance(fill, Decimal):
            fill = int(fill.scaleb(2)) if kind == "money" else int(fill)

    def expr(on: dt.date) -> pl.Expr:
        e = pl.col(column)
        return e.fill_null(fill) if fill is not None else e

    if kind == "money":
        return Fact(spec.name, level, kind, expr, _money_bound(column, table))
    if kind == "count":
        bound = c.le if c.le is not None else FAST_INT
        oor = None if c.le is not None else (lambda: pl.col(column).fill_null(0) > FAST_INT)
        return Fact(spec.name, level, kind, expr, bound, (c.ge or 0) >= 0, oor)
    # an enum column's values were checked against its choices (the fact's type adds a default
    # outside them); an open code (``hukou``) has none
    choices = spec.type.values if kind == "text" and c.kind == "enum" else ()
    return Fact(spec.name, level, kind, expr, choices=choices)


def _age(on: dt.date) -> pl.Expr:
    b = pl.col("birth_date")
    before = (b.dt.month() > on.month) | ((b.dt.month() == on.month) & (b.dt.day() > on.day))
    from_birth = (
        pl.lit(on.year, dtype=pl.Int64) - b.dt.year().cast(pl.Int64) - before.cast(pl.Int64)
    )
    return pl.when(b.is_null()).then(pl.col("age")).otherwise(from_birth)


# the derived facts' column forms (``size`` is a column the engine adds from the member counts)
_DERIVED: dict[str, Fact] = {
    f.name: f
    for f in (
        Fact("size", "h", "count", lambda on: pl.col("size"), MAX_MEMBERS),
        Fact("eval_date", "h", "date", lambda on: pl.lit(on)),
        Fact("age", "m", "count", _age, 10_000, nonneg=False),
    )
}


def _facts(entity: str) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    for spec in FACTS:
        if spec.entity != entity:
            continue
        if spec.derive is None:
            out[spec.name] = _read(spec)
        elif spec.name in _DERIVED:
            out[spec.name] = _DERIVED[spec.name]
    return out


def household_facts() -> dict[str, Fact]:
    return _facts("household")


def receiving_fact(name: str) -> Fact | None:
    """``receiving.<program>`` and ``receiving_amount.<program>``."""
    kind, _, pid = name.partition(".")
    if kind not in ("receiving", "receiving_amount") or not pid:
        return None
    entries = pl.col("receiving").list.eval(
        pl.element().filter(pl.element().struct.field("program") == pid).struct.field("fen")
    )
    if kind == "receiving":
        return Fact(name, "h", "bool", lambda on: entries.list.len() > 0)
    bound = 10 ** (_H["receiving"].whole_digits + _H["receiving"].places) - 1
    return Fact(name, "h", "money", lambda on: entries.list.first().fill_null(0), bound)


def member_facts() -> dict[str, Fact]:
    return _facts("member")


HOUSEHOLD = household_facts()
MEMBER = member_facts()
