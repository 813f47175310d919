"""The expression language's types. Money is kept apart from plain numbers so a rule that adds
元 to a head count, or compares an income with an age, is refused when the pack loads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    money = "money"
    number = "number"
    count = "count"  # type: ignore[assignment]  # (shadows str.count, by design)
    bool = "bool"
    date = "date"
    enum = "enum"
    literal = "literal"  # a numeric literal: takes the numeric type it meets


@dataclass(frozen=True, slots=True)
class Type:
    kind: Kind
    values: tuple[str, ...] = ()  # the allowed values of an enum

    def __str__(self) -> str:
        if self.kind is Kind.enum:
            return f"enum({', '.join(self.values)})"
        return str(self.kind)

    @property
    def numeric(self) -> bool:
        return self.kind in _NUMERIC


_NUMERIC = frozenset({Kind.money, Kind.number, Kind.count, Kind.literal})

MONEY = Type(Kind.money)
NUMBER = Type(Kind.number)
COUNT = Type(Kind.count)
BOOL = Type(Kind.bool)
DATE = Type(Kind.date)
LITERAL = Type(Kind.literal)

DECLARABLE = {"money": MONEY, "number": NUMBER, "count": COUNT, "bool": BOOL, "date": DATE}


def enum(*values: str) -> Type:
    return Type(Kind.enum, tuple(values))


def unify_numeric(a: Type, b: Type) -> Type | None:
    """The common type of two numeric operands in + - min max comparisons, or None."""
    if a.kind is Kind.literal:
        return b
    if b.kind is Kind.literal:
        return a
    if a == b:
        return a
    if Kind.money in (a.kind, b.kind):
        return None
    return NUMBER  # count with number


def multiply(a: Type, b: Type) -> Type | None:
    if a.kind is Kind.money and b.kind is Kind.money:
        return None
    if Kind.money in (a.kind, b.kind):
        return MONEY
    if a.kind is Kind.literal and b.kind is Kind.literal:
        return LITERAL
    if (a == COUNT and b in (COUNT, LITERAL)) or (b == COUNT and a == LITERAL):
        return COUNT
    return NUMBER


def divide(a: Type, b: Type) -> Type | None:
    if a.kind is Kind.money:
        return NUMBER if b.kind is Kind.money else MONEY
    if b.kind is Kind.money:
        return None
    if a.kind is Kind.literal and b.kind is Kind.literal:
        return LITERAL
    return NUMBER


def concrete(t: Type) -> Type:
    """A literal that never met another operand is a plain number."""
    return NUMBER if t.kind is Kind.literal else t
