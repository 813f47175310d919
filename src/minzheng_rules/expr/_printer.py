"""Print nodes back to expression text; parsing the printed text gives the same nodes."""

from __future__ import annotations

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
)


def to_source(node: Node) -> str:
    """Canonical text of a node; compound operands are always parenthesised."""
    match node:
        case Const(value=v):
            return repr(v) if isinstance(v, str | bool) else str(v)
        case Name(path=p):
            return p
        case Unary(op="not", operand=o):
            return f"not {_wrap(o)}"
        case Unary(op=op, operand=o):
            return f"{op}{_wrap(o)}"
        case Binary(op=op, left=a, right=b):
            return f"{_wrap(a)} {op} {_wrap(b)}"
        case Compare(ops=ops, operands=operands):
            text = _wrap(operands[0])
            for op, right in zip(ops, operands[1:], strict=True):
                text += f" {op} {_wrap(right)}"
            return text
        case In(operand=o, options=opts, negated=neg):
            return f"{_wrap(o)} {'not in' if neg else 'in'} {opts!r}"
        case BoolOp(op=op, values=vals):
            return f" {op} ".join(_wrap(v) for v in vals)
        case IfElse(cond=c, then=t, orelse=e):
            return f"{_wrap(t)} if {_wrap(c)} else {_wrap(e)}"
        case Call(func=f, args=args):
            return f"{f}({', '.join(to_source(a) for a in args)})"
        case Aggregate(func="count", var="m", element=None, where=None):
            return "count(members)"
        case Aggregate(func=f, var=v, element=el, where=w):
            body = to_source(el) if el is not None else v
            cond = f" if {_wrap(w)}" if w is not None else ""
            return f"{f}({body} for {v} in members{cond})"
    raise TypeError(f"not an expression node: {node!r}")


def _wrap(node: Node) -> str:
    text = to_source(node)
    if isinstance(node, Const | Name | Call | Aggregate) and not (
        isinstance(node, Const) and not isinstance(node.value, str | bool) and node.value < 0
    ):
        return text
    return f"({text})"
