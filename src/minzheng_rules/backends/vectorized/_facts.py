"""The facts of clean columnar households as columns: the vectorized twin of
:mod:`minzheng_rules.model._facts` (same names, same defaults, null where the reference has
Unknown).

A fact the reference knows but this module does not fails when a pack that reads it is compiled,
naming the fact, rather than being guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from minzheng_rules.model._columns import HOUSEHOLD_COLUMNS, MAX_MEMBERS, MEMBER_COLUMNS, by_name

FAST_INT = 10**12  # counts above this (never seen in a register) go to the reference evaluator

_H = by_name(HOUSEHOLD_COLUMNS)
_M = by_name(MEMBER_COLUMNS)


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

    @property
    def column(self) -> str:
        return f"f:{self.name}"


def _money_bound(column: str, table: dict) -> int:
    c = table[column]
    return 10 ** (c.whole_digits + c.places) - 1


def _plain(name: str, level: str, kind: str, column: str, fill=None, nmax: int = 0) -> Fact:
    def expr(on: dt.date) -> pl.Expr:
        e = pl.col(column)
        return e.fill_null(fill) if fill is not None else e

    return Fact(name, level, kind, expr, nmax)


def _count(name: str, level: str, column: str, fill=None) -> Fact:
    table = _H if level == "h" else _M
    c = table[column]
    bound = c.le if c.le is not None else FAST_INT
    oor = None if c.le is not None else (lambda: pl.col(column).fill_null(0) > FAST_INT)
    e = _plain(name, level, "count", column, fill, bound)
    return Fact(name, level, "count", e.expr, bound, (c.ge or 0) >= 0, oor)


def _age(on: dt.date) -> pl.Expr:
    b = pl.col("birth_date")
    before = (b.dt.month() > on.month) | ((b.dt.month() == on.month) & (b.dt.day() > on.day))
    from_birth = (
        pl.lit(on.year, dtype=pl.Int64) - b.dt.year().cast(pl.Int64) - before.cast(pl.Int64)
    )
    return pl.when(b.is_null()).then(pl.col("age")).otherwise(from_birth)


def household_facts() -> dict[str, Fact]:
    facts = [
        Fact("size", "h", "count", lambda on: pl.col("size"), MAX_MEMBERS),
        Fact(
            "assets.financial",
            "h",
            "money",
            lambda on: pl.col("assets_financial"),
            _money_bound("assets_financial", _H),
        ),
        _count("assets.vehicles", "h", "assets_vehicles"),
        _count("assets.properties", "h", "assets_properties"),
        _plain(
            "expenses.medical_12m",
            "h",
            "money",
            "expenses_medical_12m",
            0,
            _money_bound("expenses_medical_12m", _H),
        ),
        _plain(
            "expenses.education_12m",
            "h",
            "money",
            "expenses_education_12m",
            0,
            _money_bound("expenses_education_12m", _H),
        ),
        _plain("housing.unsafe", "h", "bool", "housing_unsafe", False),
        _plain("emergency", "h", "bool", "emergency", False),
        Fact("eval_date", "h", "date", lambda on: pl.lit(on)),
        _plain("hukou", "h", "text", "hukou"),
    ]
    return {f.name: f for f in facts}


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
    facts = [
        _plain("relation", "m", "text", "relation", "other"),
        Fact("age", "m", "count", _age, 10_000, nonneg=False),
        Fact(
            "monthly_income",
            "m",
            "money",
            lambda on: pl.col("monthly_income"),
            _money_bound("monthly_income", _M),
        ),
        _count("disability_grade", "m", "disability_grade", 0),
        _plain("disability_type", "m", "text", "disability_type", "none"),
        _plain("self_care", "m", "text", "self_care"),
        _plain("major_illness", "m", "bool", "major_illness", False),
        _plain("chronic_illness", "m", "bool", "chronic_illness", False),
        _plain("student", "m", "text", "student"),
        _plain("employed", "m", "bool", "employed"),
        _plain("father_status", "m", "text", "father_status", "present"),
        _plain("mother_status", "m", "text", "mother_status", "present"),
        _plain("care", "m", "text", "care", "family"),
        _plain("has_capable_obligor", "m", "bool", "has_capable_obligor"),
        _plain("lives_alone", "m", "bool", "lives_alone", False),
        _plain("incarcerated", "m", "bool", "incarcerated", False),
        _plain("missing", "m", "bool", "missing", False),
    ]
    return {f.name: f for f in facts}


HOUSEHOLD = household_facts()
MEMBER = member_facts()
