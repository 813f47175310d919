"""The expression language's intermediate form: small frozen nodes, shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

Literal = bool | int | Decimal | str


@dataclass(frozen=True, slots=True)
class Const:
    value: Literal


@dataclass(frozen=True, slots=True)
class Name:
    """A dotted name as written: ``size``, ``assets.financial``, ``p.dibao.standard``, ``m.age``."""

    path: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" | "-"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "+" | "-" | "*" | "/"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare:
    """A chain such as ``a < b <= c``: ``ops[i]`` sits between operands ``i`` and ``i + 1``."""

    ops: tuple[str, ...]  # "<" "<=" ">" ">=" "==" "!="
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class In:
    operand: Node
    options: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class IfElse:
    cond: Node
    then: Node
    orelse: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A call to one of the built-in functions (never to anything else)."""

    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``func(<element> for <var> in members if <where>)``; ``element`` is None for ``count``."""

    func: str  # count | sum | any | all | min | max
    var: str
    element: Node | None
    where: Node | None


Node = Const | Name | Unary | Binary | Compare | In | BoolOp | IfElse | Call | Aggregate


def walk(node: Node):
    """Every node in the tree, parents first."""
    yield node
    match node:
        case Unary(operand=o):
            yield from walk(o)
        case Binary(left=a, right=b):
            yield from walk(a)
            yield from walk(b)
        case Compare(operands=ops) | BoolOp(values=ops) | Call(args=ops):
            for o in ops:
                yield from walk(o)
        case In(operand=o):
            yield from walk(o)
        case IfElse(cond=c, then=t, orelse=e):
            yield from walk(c)
            yield from walk(t)
            yield from walk(e)
        case Aggregate(element=el, where=w):
            if el is not None:
                yield from walk(el)
            if w is not None:
                yield from walk(w)
