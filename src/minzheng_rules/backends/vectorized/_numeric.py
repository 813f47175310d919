"""Exact numbers over columns: scaled integers, and fractions where a rule divides.

A numeric value is ``num / den / 10**scale`` with ``num`` an Int64 (Int128 when its bound needs
it) column, ``den`` a positive column or absent (1). Null is *unknown*. Nothing here is a binary
float.

Why fractions: the reference evaluator divides Decimals with 28 significant digits, so its
``income / n`` is the exact quotient rounded at the 28th digit. Every value also carries, known
when the pack is compiled, a bound on ``|num|`` and ``den`` and a bound ``err`` on how far the
reference's rounded value can be from the exact fraction. A comparison or a rounding then agrees
with the reference whenever the two sides differ at all: two different fractions with
denominators below ``D`` at scale ``s`` differ by at least ``1 / (D * 10**s)``, which the compiler
checks is larger than the accumulated ``err`` (else it refuses the pack, naming the expression).
The one case left is an exact tie on a value whose division did not terminate in that row; those
rows are flagged and handed to the reference evaluator (see ``fallback``).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

INT64_MAX = 2**63 - 1
INT128_MAX = 2**127 - 1
EXACT_LIMIT = 10**28  # the reference's Decimal precision: 28 significant digits
ULP = Fraction(1, 10**27)  # relative size of one rounding at 28 digits (generous)

HALF_MODES = ("half_up", "half_even", "half_down")


class VectorizeError(ValueError):
    """A construct the vectorized backend cannot evaluate exactly; raised when compiling."""


def dtype_for(bound: int) -> pl.DataType:
    """The integer type holding every value up to ``bound`` in magnitude."""
    if bound <= INT64_MAX:
        return pl.Int64()
    if bound <= INT128_MAX:
        return pl.Int128()
    raise VectorizeError(f"a value may reach {bound:.3e}, beyond 128-bit integers")


def lit_int(value: int, bound: int | None = None) -> pl.Expr:
    return pl.lit(value, dtype=dtype_for(max(abs(value), bound or 0)))


def widen(expr: pl.Expr, bound: int) -> pl.Expr:
    """``expr`` cast so that arithmetic up to ``bound`` cannot overflow."""
    return expr.cast(pl.Int128) if bound > INT64_MAX else expr


def narrow(expr: pl.Expr, bound: int) -> pl.Expr:
    return expr.cast(dtype_for(bound))


@dataclass(frozen=True)
class Num:
    """A numeric column (or constant): value = num / den / 10**scale."""

    num: pl.Expr
    scale: int
    nmax: int
    den: pl.Expr | None = None
    dmax: int = 1
    err: Fraction = Fraction(0)
    inexact: pl.Expr | None = None  # rows where the reference's value may differ from exact
    nonneg: bool = False
    const: Decimal | int | None = None
    flags: tuple[pl.Expr, ...] = field(default=())

    @property
    def bound(self) -> Fraction:
        """A bound on the magnitude of the value itself."""
        return Fraction(self.nmax, 10**self.scale)

    @property
    def exact(self) -> bool:
        return self.err == 0


def constant(value: Decimal | int) -> Num:
    """A constant with exactly the reference's value."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return Num(lit_int(value), 0, abs(value), nonneg=value >= 0, const=value)
    exp = value.as_tuple().exponent
    if not isinstance(exp, int):
        raise VectorizeError(f"the number {value} is not finite")
    scale = max(0, -exp)
    n = int(value.scaleb(scale, context=decimal.Context(prec=100)))
    return Num(lit_int(n), scale, abs(n), nonneg=value >= 0, const=value)


def _mask_or(*masks: pl.Expr | None) -> pl.Expr | None:
    out = None
    for m in masks:
        if m is not None:
            out = m if out is None else (out | m)
    return out


def _den_or_one(x: Num) -> pl.Expr:
    return x.den if x.den is not None else pl.lit(1, dtype=pl.Int64)


def _rounding_err(exact_inputs: bool, bound: Fraction) -> Fraction:
    """The reference rounds a result at 28 digits; exact inputs within range never round."""
    return Fraction(0) if exact_inputs else bound * ULP


def scaled(x: Num, k: int) -> tuple[pl.Expr, int]:
    """``x.num * 10**k`` and its bound."""
    if k == 0:
        return x.num, x.nmax
    bound = x.nmax * 10**k
    return widen(x.num, bound) * lit_int(10**k, bound), bound


def _times(a: pl.Expr, amax: int, b: pl.Expr, bmax: int) -> tuple[pl.Expr, int]:
    bound = amax * bmax
    return widen(a, bound) * widen(b, bound), bound


def on_common_scale(a: Num, b: Num) -> tuple[pl.Expr, pl.Expr, int, int]:
    """Integers ``L``, ``R`` with ``a - b`` of the sign of ``L - R`` (cross-multiplied), and
    their bound, and the common scale."""
    s = max(a.scale, b.scale)
    la, lmax = scaled(a, s - a.scale)
    rb, rmax = scaled(b, s - b.scale)
    if b.den is not None:
        la, lmax = _times(la, lmax, b.den, b.dmax)
    if a.den is not None:
        rb, rmax = _times(rb, rmax, a.den, a.dmax)
    bound = max(lmax, rmax)
    return widen(la, bound), widen(rb, bound), bound, s


def gap(a: Num, b: Num) -> Fraction:
    """The least nonzero distance between values shaped like ``a`` and ``b``."""
    return Fraction(1, a.dmax * b.dmax * 10 ** max(a.scale, b.scale))


def add(a: Num, b: Num, sub: bool = False) -> Num:
    la, rb, bound, s = on_common_scale(a, b)
    total = bound * 2
    num = widen(la, total) - widen(rb, total) if sub else widen(la, total) + widen(rb, total)
    den, dmax = _den_product(a, b)
    exact = a.exact and b.exact
    err = a.err + b.err + _rounding_err(exact, Fraction(total, 10**s))
    _check_exact_range(exact, total)
    return Num(
        num,
        s,
        total,
        den,
        dmax,
        err,
        _mask_or(a.inexact, b.inexact),
        nonneg=(not sub) and a.nonneg and b.nonneg,
        flags=a.flags + b.flags,
    )


def _den_product(a: Num, b: Num) -> tuple[pl.Expr | None, int]:
    if a.den is None and b.den is None:
        return None, 1
    if a.den is None:
        return b.den, b.dmax
    if b.den is None:
        return a.den, a.dmax
    d, dmax = _times(a.den, a.dmax, b.den, b.dmax)
    return d, dmax


def _check_exact_range(exact: bool, bound: int) -> None:
    if exact and bound >= EXACT_LIMIT:
        raise VectorizeError(
            "a value may need more than 28 digits, where the reference evaluator rounds"
        )


def neg(a: Num) -> Num:
    return replace(a, num=-a.num, nonneg=a.nonneg and a.nmax == 0, const=None)


def mul(a: Num, b: Num) -> Num:
    num, nmax = _times(a.num, a.nmax, b.num, b.nmax)
    den, dmax = _den_product(a, b)
    exact = a.exact and b.exact
    _check_exact_range(exact, nmax)
    err = a.bound * b.err + b.bound * a.err + a.err * b.err
    err += _rounding_err(exact, a.bound * b.bound)
    return Num(
        num,
        a.scale + b.scale,
        nmax,
        den,
        dmax,
        err,
        _mask_or(a.inexact, b.inexact),
        nonneg=a.nonneg and b.nonneg,
        flags=a.flags + b.flags,
    )


def div(a: Num, b: Num, reach: pl.Expr | None) -> Num:
    """``a / b`` as a fraction. A zero divisor gives unknown and a flag where reached (the
    reference raises there, so those rows go to it)."""
    # value_a / value_b = (na * db * 10**sb) / (da * nb * 10**sa)
    k = max(0, b.scale - a.scale)
    scale = max(0, a.scale - b.scale)
    num, nmax = scaled(a, k)
    if b.den is not None:
        num, nmax = _times(num, nmax, b.den, b.dmax)
    den, dmax = b.num, b.nmax
    if a.den is not None:
        den, dmax = _times(den, dmax, a.den, a.dmax)
    if dmax == 0:
        raise VectorizeError("division by a value that is always zero")
    zero = b.num == 0
    if not b.nonneg:
        negative = den < 0
        num = pl.when(negative).then(-num).otherwise(num)
        den = den.abs()
    known = a.num.is_not_null() & b.num.is_not_null()
    flag = known & zero
    if reach is not None:
        flag = flag & reach
    num = pl.when(zero).then(None).otherwise(num)
    den = pl.when(zero).then(None).otherwise(den)
    # the smallest nonzero divisor and the largest quotient
    bmin = Fraction(1, b.dmax * 10**b.scale)
    qmax = a.bound / bmin
    if b.err >= bmin:
        raise VectorizeError("a divisor is too imprecise to divide by exactly")
    err = (a.err * b.bound + a.bound * b.err) / (bmin * (bmin - b.err)) if b.err else a.err / bmin
    err += qmax * ULP
    mask = _mask_or(a.inexact, b.inexact, _nonterminating(num, den, nmax, dmax))
    return Num(
        num,
        scale,
        nmax,
        den,
        dmax,
        err,
        mask,
        nonneg=a.nonneg and b.nonneg,
        flags=(*a.flags, *b.flags, flag.fill_null(False)),
    )


def _nonterminating(num: pl.Expr, den: pl.Expr, nmax: int, dmax: int) -> pl.Expr:
    """Rows where ``num / den`` is not a decimal of at most 28 digits (so the reference
    rounded it): it terminates iff ``num * 10**k`` is a multiple of ``den`` for
    ``k = floor(log2(dmax))`` (every 2**a * 5**b up to dmax divides 10**k)."""
    k = max(dmax.bit_length() - 1, 0)
    if nmax * 10**k >= EXACT_LIMIT:
        return pl.lit(True)
    if nmax <= INT64_MAX and dmax * 10**k <= INT64_MAX:
        return (num % den) * lit_int(10**k) % den != 0
    d = den.cast(pl.Int128)
    r = num.cast(pl.Int128) % d
    # r * 10**k mod d, a step of at most 10**18 at a time so nothing overflows 128 bits
    left = k
    while left > 0:
        step = min(left, 18)
        r = (r * pl.lit(10**step, dtype=pl.Int128)) % d
        left -= step
    return r != 0


def divround(n: pl.Expr, d: pl.Expr | None, mode: str, bound: int) -> tuple[pl.Expr, pl.Expr]:
    """``n / d`` rounded to an integer with a Decimal rounding mode; also the rows that sit
    exactly on a rounding boundary (a tie for half modes, a whole number for directed ones)."""
    if d is None:
        return n, pl.lit(False)
    q = n // d  # floor
    r = n - q * d  # 0 <= r < d
    twice = widen(r, 2 * bound) * 2
    d2 = widen(d, 2 * bound)
    up = q + 1
    neg_ = n < 0
    if mode == "floor":
        out = q
    elif mode == "ceiling":
        out = pl.when(r > 0).then(up).otherwise(q)
    elif mode == "down":
        out = pl.when(neg_ & (r > 0)).then(up).otherwise(q)
    elif mode == "up":
        out = pl.when(~neg_ & (r > 0)).then(up).otherwise(q)
    else:
        if mode == "half_up":
            tie = pl.when(neg_).then(q).otherwise(up)
        elif mode == "half_down":
            tie = pl.when(neg_).then(up).otherwise(q)
        elif mode == "half_even":
            tie = pl.when(q % 2 == 0).then(q).otherwise(up)
        else:
            raise VectorizeError(f"unknown rounding mode '{mode}'")
        out = pl.when(twice > d2).then(up).when(twice < d2).then(q).otherwise(tie)
    boundary = (twice == d2) if mode in HALF_MODES else (r == 0)
    return out, boundary


def quantize(x: Num, digits: int, mode: str, reach: pl.Expr | None) -> Num:
    """``round(x, digits, mode)`` exactly as Decimal.quantize does, as an exact value."""
    if x.const is not None:
        from minzheng_rules.model._values import quantize as quantize_const

        return constant(quantize_const(x.const, digits, mode))
    if x.den is None and digits >= x.scale:
        return x  # already on the grid
    # value * 10**digits = N / D
    n, nmax = scaled(x, max(0, digits - x.scale))
    dscale = 10 ** max(0, x.scale - digits)
    if x.den is None:
        d, dmax = lit_int(dscale), dscale
    elif dscale == 1:
        d, dmax = x.den, x.dmax
    else:
        d, dmax = _times(x.den, x.dmax, lit_int(dscale), dscale)
    if x.err and x.err * 10**digits * 2 * dmax >= 1:
        raise VectorizeError("a rounded value is too imprecise to round exactly")
    bound = max(nmax, dmax)
    q, boundary = divround(widen(n, 2 * bound), widen(d, 2 * bound), mode, bound)
    qmax = nmax // dscale + 1
    flags = x.flags
    if x.inexact is not None:
        tie = boundary & x.inexact
        if reach is not None:
            tie = tie & reach
        flags = (*flags, tie.fill_null(False))
    out_scale = max(digits, 0)
    if digits < 0:
        q, qmax = _times(q, qmax, lit_int(10**-digits), 10**-digits)
    return Num(narrow(q, qmax), out_scale, qmax, nonneg=x.nonneg, flags=flags)


def to_scale(x: Num, scale: int, mode: str = "half_up") -> Num:
    """An exact value on a given scale (rounding with ``mode`` when it has more digits)."""
    if x.den is None and x.scale == scale:
        return x
    if x.den is None and x.scale < scale:
        n, nmax = scaled(x, scale - x.scale)
        return replace(x, num=n, nmax=nmax, scale=scale, const=None)
    return quantize(x, scale, mode, None)


def compare(a: Num, b: Num, op: str, reach: pl.Expr | None) -> tuple[pl.Expr, tuple[pl.Expr, ...]]:
    """``a op b`` (null when either is unknown) and the flags it raises."""
    left, right, _, _ = on_common_scale(a, b)
    result = {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
        "==": left == right,
        "!=": left != right,
    }[op]
    flags = a.flags + b.flags
    if a.err + b.err > 0:
        if a.err + b.err >= gap(a, b):
            raise VectorizeError("a comparison is too imprecise to decide exactly")
        mask = _mask_or(a.inexact, b.inexact)
        tie = left == right
        if mask is not None:
            tie = tie & mask
        if reach is not None:
            tie = tie & reach
        flags = (*flags, tie.fill_null(False))
    return result, flags


def unify(values: list[Num]) -> list[Num]:
    """The values on one scale, all with a denominator if any has one, so a choice between
    them (if/else, min, max, a table) is one column."""
    s = max(v.scale for v in values)
    with_den = any(v.den is not None for v in values)
    out = []
    for v in values:
        n, nmax = scaled(v, s - v.scale)
        den = v.den
        if with_den and den is None:
            den = pl.lit(1, dtype=pl.Int64)
        out.append(replace(v, num=n, nmax=nmax, scale=s, den=den, const=None))
    bound = max(v.nmax for v in out)
    dbound = max(v.dmax for v in out)
    return [
        replace(
            v,
            num=widen(v.num, bound),
            nmax=bound,
            den=widen(v.den, dbound) if v.den is not None else None,
            dmax=dbound,
        )
        for v in out
    ]


def choose(branches: list[tuple[pl.Expr, Num]], default: Num) -> Num:
    """``when c1 then v1 when c2 then v2 ... else default`` (conditions decided in order)."""
    vals = unify([v for _, v in branches] + [default])
    *picked, dflt = vals
    num_chain: Then | ChainedThen = pl.when(branches[0][0]).then(picked[0].num)
    den_chain: Then | ChainedThen | None = None
    if dflt.den is not None:
        den_chain = pl.when(branches[0][0]).then(picked[0].den)
    for (c, _), v in zip(branches[1:], picked[1:], strict=True):
        num_chain = num_chain.when(c).then(v.num)
        if den_chain is not None:
            den_chain = den_chain.when(c).then(v.den)
    return Num(
        num_chain.otherwise(dflt.num),
        dflt.scale,
        dflt.nmax,
        den_chain.otherwise(dflt.den) if den_chain is not None else None,
        dflt.dmax,
        max(v.err for v in vals),
        _mask_or(*(v.inexact for v in vals)),
        nonneg=all(v.nonneg for v in vals),
        flags=tuple(f for v in vals for f in v.flags),
    )


def null_num(like: Num) -> Num:
    return replace(like, num=pl.lit(None, dtype=dtype_for(like.nmax)), den=None, const=None)


def as_decimal(num: int, scale: int) -> Decimal:
    with decimal.localcontext(decimal.Context(prec=60)):
        return Decimal(num).scaleb(-scale)
