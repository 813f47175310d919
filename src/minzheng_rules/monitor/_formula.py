"""An alert rule rewritten for a rule network: negations pushed down to atoms (negation normal
form), each atom a single test on one value the monitor computes exactly in Python.

Why this shape: a rules engine compares numbers as binary floats and knows nothing of members or
unknown facts. So every *value* an atom tests is computed here with the expression language's
own semantics (exact decimals, aggregations, ``Unknown``), and the engine evaluates the tests and
the and/or structure. An unknown value is left out of the message; every test on a missing field
is false, which gives exactly Kleene's rule "fires only when the condition is true": in negation
normal form a formula is monotone in its atoms, so mapping unknown atoms to false keeps true
exactly where the three-valued result is true.

Atoms:

* ``num``   ``sign(left - right)`` against 0 with the comparison (exact for any decimals);
* ``text``  a choice value against a text literal (``==`` / ``!=``);
* ``same``  0 when two non-numeric values are equal, else 1;
* ``in``    a value against a literal list;
* ``bool``  a condition computed whole (a name, an aggregation, an if-else), true or false.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minzheng_rules.backends.reference._compiler import Fn, compile_expression
from minzheng_rules.expr._checker import Checked
from minzheng_rules.expr._nodes import BoolOp, Compare, Const, In, Node, Unary
from minzheng_rules.model._types import Kind
from minzheng_rules.model._values import Unknown

_FLIP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


@dataclass(frozen=True)
class Atom:
    kind: str  # num | text | same | in | bool
    op: str  # comparison (num, text, same); "in"/"not in"; "true"/"false" (bool)
    nodes: tuple[Node, ...]  # the operand nodes whose values the atom tests
    literal: Any = None  # text for `text`, the options for `in`


@dataclass(frozen=True)
class And:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Formula, ...]


Formula = Atom | And | Or | bool


def normal_form(checked: Checked) -> Formula:
    """The checked boolean expression in negation normal form."""
    return _Normaliser(checked).nnf(checked.node, False)


class _Normaliser:
    def __init__(self, checked: Checked) -> None:
        self.types = checked.types

    def nnf(self, node: Node, negate: bool) -> Formula:
        match node:
            case Const(value=bool() as v):
                return v != negate
            case Unary(op="not", operand=o):
                return self.nnf(o, not negate)
            case BoolOp(op=op, values=vals):
                parts = tuple(self.nnf(v, negate) for v in vals)
                conj = (op == "and") != negate
                return _simplify(And(parts) if conj else Or(parts))
            case Compare(ops=ops, operands=operands):
                atoms = tuple(
                    self._compare(op, operands[i], operands[i + 1], negate)
                    for i, op in enumerate(ops)
                )
                if len(atoms) == 1:
                    return atoms[0]
                return _simplify(Or(atoms) if negate else And(atoms))
            case In(operand=o, options=opts, negated=neg):
                return Atom("in", "not in" if neg != negate else "in", (o,), tuple(opts))
        return Atom("bool", "false" if negate else "true", (node,))

    def _compare(self, op: str, a: Node, b: Node, negate: bool) -> Atom:
        if negate:
            op = _FLIP[op]
        a_text = isinstance(a, Const) and isinstance(a.value, str)
        b_text = isinstance(b, Const) and isinstance(b.value, str)
        if a_text or b_text:
            lit, other = (a, b) if a_text else (b, a)
            return Atom("text", op, (other,), lit.value)  # type: ignore[union-attr]
        ta, tb = self.types.get(id(a)), self.types.get(id(b))
        numeric = (ta is not None and (ta.numeric or ta.kind is Kind.date)) and (
            tb is not None and (tb.numeric or tb.kind is Kind.date)
        )
        return Atom("num" if numeric else "same", op, (a, b))


def _simplify(f: And | Or) -> Formula:
    """Drop constant parts and flatten nested and/or of the same kind."""
    is_and = isinstance(f, And)
    out: list[Formula] = []
    for p in f.parts:
        if isinstance(p, bool):
            if p != is_and:  # False in an and, True in an or: decides the whole
                return p
            continue
        if isinstance(p, And if is_and else Or):
            out.extend(p.parts)  # type: ignore[union-attr]
        else:
            out.append(p)
    if not out:
        return is_and
    if len(out) == 1:
        return out[0]
    return And(tuple(out)) if is_and else Or(tuple(out))


def atoms(f: Formula) -> list[Atom]:
    """The atoms of a formula, left to right."""
    if isinstance(f, Atom):
        return [f]
    if isinstance(f, bool):
        return []
    return [a for p in f.parts for a in atoms(p)]


def atom_value(atom: Atom, fns: tuple[Fn, ...], ctx: Any) -> Any:
    """The one value the rule network tests for this atom; ``Unknown`` when it cannot be known."""
    if atom.kind in ("num", "same"):
        a, b = fns[0](ctx, None), fns[1](ctx, None)
        if a.__class__ is Unknown or b.__class__ is Unknown:
            return Unknown(frozenset())
        if atom.kind == "same":
            return 0 if a == b else 1
        return (a > b) - (a < b)
    v = fns[0](ctx, None)
    if isinstance(v, bool | str) or v.__class__ is Unknown:
        return v
    return int(v) if v == int(v) else float(v)  # a count tested against whole-number options


def compile_atom(checked: Checked, atom: Atom, params: dict[str, Any]) -> tuple[Fn, ...]:
    """Closures computing the atom's operands with the reference backend."""
    return tuple(
        compile_expression(
            Checked(
                n,
                checked.types.get(id(n), checked.type),
                checked.entity,
                checked.symbols,
                checked.types,
            ),
            params,
        )
        for n in atom.nodes
    )


def holds(f: Formula, values: dict[Atom, Any]) -> bool:
    """Evaluate the normal form the way the rule network does (missing/unknown tests fail).

    Used by tests to check the rewrite on its own, without the engine."""
    if isinstance(f, bool):
        return f
    if isinstance(f, And):
        return all(holds(p, values) for p in f.parts)
    if isinstance(f, Or):
        return any(holds(p, values) for p in f.parts)
    v = values[f]
    if v.__class__ is Unknown:
        return False
    if f.kind == "bool":
        return v is (f.op == "true")
    if f.kind == "in":
        return (v in f.literal) == (f.op == "in")
    target = f.literal if f.kind == "text" else 0
    return {
        "<": v < target if f.kind == "num" else False,
        "<=": v <= target if f.kind == "num" else False,
        ">": v > target if f.kind == "num" else False,
        ">=": v >= target if f.kind == "num" else False,
        "==": v == target,
        "!=": v != target,
    }[f.op]
