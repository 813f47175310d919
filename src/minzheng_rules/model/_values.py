"""Values while rules run: exact numbers, and :class:`Unknown` for facts nobody supplied.

Unknown follows Kleene's three-valued logic: ``False and unknown`` is False, ``True and
unknown`` is unknown, and any arithmetic on unknown is unknown. It carries the names of the
missing facts so an undetermined program can say what to ask for.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

ROUNDING = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}

FEN = Decimal("0.01")


class Unknown:
    """A value that cannot be known because the facts named in ``missing`` were not given."""

    __slots__ = ("missing",)

    def __init__(self, missing: frozenset[str]) -> None:
        self.missing = missing

    def __repr__(self) -> str:
        return f"Unknown({', '.join(sorted(self.missing))})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.missing == self.missing

    def __hash__(self) -> int:
        return hash(self.missing)


def merge(*values: object) -> Unknown:
    """One Unknown naming every missing fact among ``values``."""
    missing: frozenset[str] = frozenset()
    for v in values:
        if v.__class__ is Unknown:
            missing |= v.missing  # type: ignore[union-attr]
    return Unknown(missing)


def quantize(value: Decimal | int, digits: int, mode: str) -> Decimal:
    """Round to ``digits`` decimal places (negative: tens, hundreds) with a named mode."""
    exp = Decimal(1).scaleb(-digits)
    try:
        return Decimal(value).quantize(exp, rounding=ROUNDING[mode])
    except decimal.InvalidOperation:  # more digits than the context's 28: a runaway amount
        raise _too_large(value) from None


def _too_large(value: Decimal | int) -> Exception:
    from minzheng_rules.model._errors import EvaluationError

    return EvaluationError(f"a value of about {Decimal(value):.3E} is too large to compute exactly")


def money(value: Decimal | int) -> Decimal:
    """A money amount to the fen (half up), the form results are reported in."""
    try:
        return Decimal(value).quantize(FEN, rounding=decimal.ROUND_HALF_UP)
    except decimal.InvalidOperation:
        raise _too_large(value) from None


def shown_amount(value: Decimal | int) -> Decimal:
    """A program's money amount as every output shows it: to the fen, or to the finer digits
    its declared rounding gave it (``rounding: {digits: 3, mode: floor}`` shows 0.666, not
    0.67; the amount was rounded by that rule already, so nothing is rounded again)."""
    d = Decimal(value)
    exponent = d.as_tuple().exponent
    if d.is_finite() and isinstance(exponent, int) and exponent < -2:
        return d
    return money(d)
