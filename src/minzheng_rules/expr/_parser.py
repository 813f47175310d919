"""Parse expression text into nodes through a whitelist.

Python's own parser reads the text (it never runs it); every syntax node is then checked
against a short list of allowed forms. Anything else (attribute calls, subscripts, lambdas,
dunder or private names, imports, comprehensions over anything but ``members``) is refused.
"""

from __future__ import annotations

import ast
from decimal import Decimal

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

MAX_SOURCE_CHARS = 2000
MAX_NODES = 400
MAX_DEPTH = 40

SCALAR_FUNCTIONS = frozenset({"min", "max", "clamp", "round", "abs", "date"})
AGGREGATES = frozenset({"count", "sum", "any", "all", "min", "max"})
ROUNDING_MODES = ("half_up", "half_even", "half_down", "up", "down", "ceiling", "floor")

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


class ExpressionSyntaxError(ValueError):
    """Refused text; ``offset`` is the (line, column) inside the expression, both from 1."""

    def __init__(self, message: str, line: int = 1, column: int = 1, name: str | None = None):
        self.message = message
        self.line = line
        self.column = column
        self.name = name
        super().__init__(message)


def _fail(node: ast.AST, message: str, name: str | None = None) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(
        message, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, name
    )


def parse(text: str) -> Node:
    """Parse one expression; raises :class:`ExpressionSyntaxError` naming what was refused."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_SOURCE_CHARS:
        raise ExpressionSyntaxError(f"expression longer than {MAX_SOURCE_CHARS} characters")
    source = text.strip()
    if "\n" in source:
        source = f"({source})"  # let YAML block scalars span lines
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        raise ExpressionSyntaxError(
            f"syntax error: {err.msg}", err.lineno or 1, err.offset or 1
        ) from None
    except (RecursionError, MemoryError):
        raise ExpressionSyntaxError("expression nested too deeply") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionSyntaxError(f"expression has {count} parts; the limit is {MAX_NODES}")
    return _Converter(source).convert(tree.body, 0)


class _Converter:
    def __init__(self, source: str) -> None:
        self.source = source

    def convert(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise _fail(node, f"expression nested deeper than {MAX_DEPTH}")
        d = depth + 1
        match node:
            case ast.Constant(value=bool() as v):
                return Const(v)
            case ast.Constant(value=int() as v):
                return Const(v)
            case ast.Constant(value=float()):
                segment = ast.get_source_segment(self.source, node) or repr(node.value)
                return Const(Decimal(segment.replace("_", "")))
            case ast.Constant(value=str() as v):
                return Const(v)
            case ast.Name(id=ident):
                _check_identifier(node, ident)
                return Name(ident)
            case ast.Attribute():
                return Name(self._dotted(node))
            case ast.UnaryOp(op=ast.Not(), operand=o):
                return Unary("not", self.convert(o, d))
            case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=int() | float()) as c):
                inner = self.convert(c, d)
                assert isinstance(inner, Const)
                return Const(-inner.value)  # type: ignore[operator]
            case ast.UnaryOp(op=ast.USub(), operand=o):
                return Unary("-", self.convert(o, d))
            case ast.BinOp(op=op, left=a, right=b) if type(op) in _BINOPS:
                return Binary(_BINOPS[type(op)], self.convert(a, d), self.convert(b, d))
            case ast.BoolOp(op=op, values=vals):
                return BoolOp(
                    "and" if isinstance(op, ast.And) else "or",
                    tuple(self.convert(v, d) for v in vals),
                )
            case ast.Compare(left=left, ops=[ast.In() | ast.NotIn() as op], comparators=[opts]):
                return In(
                    self.convert(left, d), self._options(opts), negated=isinstance(op, ast.NotIn)
                )
            case ast.Compare(left=left, ops=ops, comparators=rest):
                names = []
                for cmp in ops:
                    if type(cmp) not in _CMPOPS:
                        raise _fail(node, f"comparison '{type(cmp).__name__}' is not allowed")
                    names.append(_CMPOPS[type(cmp)])
                operands = (self.convert(left, d), *(self.convert(c, d) for c in rest))
                return Compare(tuple(names), operands)
            case ast.IfExp(test=c, body=t, orelse=e):
                return IfElse(self.convert(c, d), self.convert(t, d), self.convert(e, d))
            case ast.Call(func=ast.Name(id=fn), args=[ast.GeneratorExp() as gen], keywords=[]):
                return self._aggregate(fn, gen, node, d)
            case ast.Call(func=ast.Name(id=fn), args=args, keywords=[]):
                _check_identifier(node, fn)
                if fn == "count" and len(args) == 1 and _is_members(args[0]):
                    return Aggregate("count", "m", None, None)
                if fn not in SCALAR_FUNCTIONS:
                    allowed = ", ".join(sorted(SCALAR_FUNCTIONS | AGGREGATES))
                    raise _fail(node, f"unknown function '{fn}'; allowed: {allowed}", fn)
                return Call(fn, tuple(self.convert(a, d) for a in args))
            case ast.Call(func=ast.Attribute()):
                raise _fail(node, "method calls are not allowed; only built-in functions")
            case ast.Call(keywords=kws) if kws:
                raise _fail(node, "keyword arguments are not allowed")
            case _:
                raise _fail(node, f"'{type(node).__name__}' is not allowed in an expression")

    def _dotted(self, node: ast.AST) -> str:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            _check_identifier(node, node.attr)
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            raise _fail(node, "attributes are only allowed on names, like p.dibao.standard")
        _check_identifier(node, node.id)
        parts.append(node.id)
        return ".".join(reversed(parts))

    def _options(self, node: ast.AST) -> tuple:
        if not isinstance(node, ast.Tuple | ast.List | ast.Set):
            raise _fail(node, "'in' takes a literal list, like student in ('senior', 'vocational')")
        values = []
        for elt in node.elts:
            if not isinstance(elt, ast.Constant) or not isinstance(elt.value, str | int):
                raise _fail(elt, "'in' options must be text or whole-number literals")
            values.append(elt.value)
        return tuple(values)

    def _aggregate(self, fn: str, gen: ast.GeneratorExp, call: ast.AST, d: int) -> Aggregate:
        if fn not in AGGREGATES:
            raise _fail(call, f"'{fn}' cannot aggregate; use one of {sorted(AGGREGATES)}", fn)
        if len(gen.generators) != 1:
            raise _fail(gen, "an aggregation has exactly one 'for'")
        comp = gen.generators[0]
        if not isinstance(comp.target, ast.Name) or not _is_members(comp.iter) or comp.is_async:
            raise _fail(gen, "aggregations iterate members only: f(x for m in members if ...)")
        var = comp.target.id
        _check_identifier(comp.target, var)
        if len(comp.ifs) > 1:
            raise _fail(gen, "an aggregation has at most one 'if'; join conditions with 'and'")
        where = self.convert(comp.ifs[0], d) if comp.ifs else None
        element = self.convert(gen.elt, d)
        if fn == "count":
            if element != Name(var):
                raise _fail(gen, f"count takes 'count({var} for {var} in members if ...)'")
            return Aggregate("count", var, None, where)
        return Aggregate(fn, var, element, where)


def _is_members(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "members"


def _check_identifier(node: ast.AST, ident: str) -> None:
    if ident.startswith("_"):
        raise _fail(
            node, f"name '{ident}' is not allowed (names starting with '_' are refused)", ident
        )
