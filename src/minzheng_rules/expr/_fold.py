"""Constant folding: the value of an expression that reads only literals and parameters.

Once a pack is bound to a date its parameters are fixed, so such an expression has one value.
Every layer that needs it asks here: a derived parameter's value (``packs``), and each backend
folding constant parts of a rule before it runs. The semantics are the reference backend's
(exact ``Decimal`` arithmetic, rounding by :func:`~minzheng_rules.model._values.quantize`),
written once.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from minzheng_rules.expr._checker import Checked
from minzheng_rules.expr._nodes import (
    Aggregate,
    Binary,
    BoolOp,
    Call,
    Compare,
    Const,
    IfElse,
    In,
    Name,
    Node,
    Unary,
    walk,
)
from minzheng_rules.expr._printer import to_source
from minzheng_rules.model._errors import EvaluationError
from minzheng_rules.model._values import quantize

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {  # (also on Polars expressions)
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def divide(a: Any, b: Any) -> Decimal:
    """``a / b`` as rules divide: an exact ``Decimal`` quotient; a zero divisor raises."""
    if b == 0:
        raise ZeroDivisionError
    return Decimal(a) / b


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": divide,
}


def is_constant(node: Node, checked: Checked) -> bool:
    """True when ``node`` reads no household, member or program value (only literals and
    parameters, which are fixed once the pack is bound to a date)."""
    for n in walk(node):
        if isinstance(n, Aggregate):
            return False
        if isinstance(n, Name) and checked.symbols[id(n)].kind != "param":
            return False
    return True


def fold(node: Node, checked: Checked, params: Mapping[str, Any]) -> Any:
    """The value of a constant ``node`` (see :func:`is_constant`) of ``checked``, with the
    parameters' values. A division by zero it reaches raises :class:`EvaluationError`."""
    return _Folder(checked, params).value(node)


class _Folder:
    def __init__(self, checked: Checked, params: Mapping[str, Any]) -> None:
        self.symbols = checked.symbols
        self.params = params

    def value(self, node: Node) -> Any:
        match node:
            case Const(value=v):
                return v
            case Name():
                symbol = self.symbols[id(node)]
                if symbol.kind != "param":
                    raise TypeError(f"'{to_source(node)}' is not constant")
                return self.params[symbol.name]
            case Unary(op="not", operand=o):
                return not self.value(o)
            case Unary(op="-", operand=o):
                return -self.value(o)
            case Binary(op=op, left=a, right=b):
                left, right = self.value(a), self.value(b)
                try:
                    return ARITHMETIC[op](left, right)
                except ZeroDivisionError:
                    raise EvaluationError(f"division by zero in '{to_source(node)}'") from None
            case Compare(ops=ops, operands=operands):
                values = [self.value(o) for o in operands]
                return all(
                    COMPARISONS[op](a, b) for op, a, b in zip(ops, values, values[1:], strict=False)
                )
            case In(operand=o, options=opts, negated=negated):
                return (self.value(o) in frozenset(opts)) != negated
            case BoolOp(op=op, values=terms):
                stop = op == "or"  # the value that decides the whole: True for or, False for and
                for term in terms:
                    if self.value(term) is stop:
                        return stop
                return not stop
            case IfElse(cond=cond, then=then, orelse=orelse):
                return self.value(then) if self.value(cond) else self.value(orelse)
            case Call(func=fn, args=args):
                return self._call(fn, args)
        raise TypeError(f"'{to_source(node)}' is not constant")

    def _call(self, fn: str, args: tuple[Node, ...]) -> Any:
        if fn == "date":
            text = args[0]
            assert isinstance(text, Const) and isinstance(text.value, str)  # (the checker's rule)
            return dt.date.fromisoformat(text.value)
        if fn == "round":
            digits, mode = args[1], args[2]
            assert isinstance(digits, Const) and isinstance(mode, Const)  # (the checker's rule)
            return quantize(self.value(args[0]), int(digits.value), str(mode.value))
        values = [self.value(a) for a in args]
        if fn == "abs":
            return abs(values[0])
        if fn == "clamp":
            x, lo, hi = values
            return min(max(x, lo), hi)
        return min(values) if fn == "min" else max(values)
