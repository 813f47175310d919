"""Name resolution and type checking, done once when a pack loads.

Every name is resolved against a :class:`Scope` (household facts and variables, member facts and
variables, parameters, programs). A misspelt name fails with the closest valid one; a type
mismatch fails naming both types. After this pass an expression cannot fail on types while it
runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal as L

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
from minzheng_rules.expr._parser import ROUNDING_MODES
from minzheng_rules.model import _types as T
from minzheng_rules.model._errors import suggest
from minzheng_rules.model._types import Kind, Type

Entity = L["household", "member"]
PROGRAM_FIELDS = {"eligible": T.BOOL, "amount": T.MONEY}


class ExpressionTypeError(ValueError):
    """A name that does not resolve or a type that does not fit."""

    def __init__(self, message: str, name: str | None = None, suggestion: str | None = None):
        self.message = message
        self.name = name
        self.suggestion = suggestion
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Symbol:
    """What a :class:`Name` refers to."""

    kind: L["param", "household", "member", "program"]
    name: str  # parameter path, variable/fact name, or program id
    loop_var: str | None = None  # member names reached through an aggregation's variable
    field: str | None = None  # program field: eligible | amount
    per_member: bool = False  # a program field read for one member rather than the household


@dataclass
class Scope:
    """The names an expression may use."""

    household: dict[str, Type]
    member: dict[str, Type]
    params: dict[str, Type]
    programs: dict[str, Entity]


@dataclass
class Checked:
    """A checked expression: its type, and what each name in it refers to."""

    node: Node
    type: Type
    entity: Entity
    symbols: dict[int, Symbol] = field(default_factory=dict)
    types: dict[int, Type] = field(default_factory=dict)

    def references(self, kind: str) -> set[str]:
        return {s.name for s in self.symbols.values() if s.kind == kind}


def check(
    node: Node, scope: Scope, entity: Entity = "household", expect: Type | None = None
) -> Checked:
    """Type-check ``node`` in the given entity's context; ``expect`` pins the result type."""
    out = Checked(node, T.LITERAL, entity)
    t = _Checker(scope, out).visit(node, entity, ())
    if expect is not None and not _fits(t, expect):
        raise ExpressionTypeError(f"expression is {t}, but {expect} is required here")
    out.type = expect if expect is not None and t.kind is Kind.literal else T.concrete(t)
    return out


def _fits(actual: Type, expected: Type) -> bool:
    if actual == expected:
        return True
    if actual.kind is Kind.literal and expected.numeric:
        return True
    return actual == T.COUNT and expected == T.NUMBER


class _Checker:
    def __init__(self, scope: Scope, out: Checked) -> None:
        self.scope = scope
        self.out = out

    def visit(self, node: Node, entity: Entity, loop_vars: tuple[str, ...]) -> Type:
        t = self._visit(node, entity, loop_vars)
        self.out.types[id(node)] = t
        return t

    def _visit(self, node: Node, entity: Entity, lv: tuple[str, ...]) -> Type:
        match node:
            case Const(value=bool()):
                return T.BOOL
            case Const(value=str() as s):
                raise ExpressionTypeError(
                    f"text '{s}' can only be compared with a choice field, e.g. student == 'senior'"
                )
            case Const():
                return T.LITERAL
            case Name(path=path):
                symbol, t = self._resolve(path, entity, lv)
                self.out.symbols[id(node)] = symbol
                return t
            case Unary(op="not", operand=o):
                self._expect(o, T.BOOL, entity, lv, "'not'")
                return T.BOOL
            case Unary(op="-", operand=o):
                t = self.visit(o, entity, lv)
                if not t.numeric:
                    raise ExpressionTypeError(f"cannot negate a {t}")
                return t
            case Binary(op=op, left=a, right=b):
                ta, tb = self.visit(a, entity, lv), self.visit(b, entity, lv)
                if not (ta.numeric and tb.numeric):
                    raise ExpressionTypeError(f"'{op}' needs numbers, got {ta} {op} {tb}")
                result = (
                    T.unify_numeric(ta, tb)
                    if op in "+-"
                    else T.multiply(ta, tb)
                    if op == "*"
                    else T.divide(ta, tb)
                )
                if result is None:
                    raise ExpressionTypeError(f"cannot compute {ta} {op} {tb}")
                return result
            case Compare(ops=ops, operands=operands):
                self._compare(node, ops, operands, entity, lv)
                return T.BOOL
            case In(operand=o, options=opts):
                t = self.visit(o, entity, lv)
                self._check_options(t, opts)
                return T.BOOL
            case BoolOp(op=op, values=vals):
                for v in vals:
                    self._expect(v, T.BOOL, entity, lv, f"'{op}'")
                return T.BOOL
            case IfElse(cond=c, then=a, orelse=b):
                self._expect(c, T.BOOL, entity, lv, "the condition of 'if'")
                ta, tb = self.visit(a, entity, lv), self.visit(b, entity, lv)
                if ta.numeric and tb.numeric:
                    u = T.unify_numeric(ta, tb)
                    if u is not None:
                        return u
                if ta != tb:
                    raise ExpressionTypeError(f"both branches of 'if' must agree: {ta} vs {tb}")
                return ta
            case Call(func=fn, args=args):
                return self._call(fn, args, entity, lv)
            case Aggregate(func=fn, var=var, element=el, where=w):
                if var in lv or var in self.scope.member or var in self.scope.household:
                    raise ExpressionTypeError(f"loop variable '{var}' hides another name", var)
                inner = (*lv, var)
                if w is not None:
                    self._expect(w, T.BOOL, entity, inner, "the 'if' of an aggregation")
                if fn == "count":
                    return T.COUNT
                assert el is not None
                te = self.visit(el, entity, inner)
                if fn in ("any", "all"):
                    if te != T.BOOL:
                        raise ExpressionTypeError(f"{fn}() needs a condition, got {te}")
                    return T.BOOL
                if not te.numeric:
                    raise ExpressionTypeError(f"{fn}() needs numbers, got {te}")
                return te
        raise ExpressionTypeError(f"unsupported expression: {node!r}")

    def _expect(self, node: Node, t: Type, entity: Entity, lv: tuple[str, ...], what: str) -> None:
        got = self.visit(node, entity, lv)
        if not _fits(got, t):
            raise ExpressionTypeError(f"{what} needs {t}, got {got}")

    def _compare(self, node: Compare, ops, operands, entity, lv) -> None:
        ts: list[Type | None] = []
        for o in operands:
            if isinstance(o, Const) and isinstance(o.value, str):
                ts.append(None)  # checked against its neighbour below
            else:
                ts.append(self.visit(o, entity, lv))
        for i, op in enumerate(ops):
            a, b = ts[i], ts[i + 1]
            if a is None and b is None:
                raise ExpressionTypeError("comparing two text literals")
            if a is None or b is None:
                t = b if a is None else a
                lit = operands[i] if a is None else operands[i + 1]
                assert isinstance(lit, Const) and t is not None
                if t.kind is not Kind.enum or op not in ("==", "!="):
                    raise ExpressionTypeError(f"cannot compare {t} with text '{lit.value}'")
                self._check_options(t, (lit.value,))
                self.out.types[id(lit)] = t
                continue
            if a.numeric and b.numeric:
                if T.unify_numeric(a, b) is None:
                    raise ExpressionTypeError(f"cannot compare {a} with {b}")
            elif a != b:
                raise ExpressionTypeError(f"cannot compare {a} with {b}")
            elif op not in ("==", "!=") and a.kind in (Kind.bool, Kind.enum):
                raise ExpressionTypeError(f"'{op}' does not order {a} values")

    def _check_options(self, t: Type, opts: tuple) -> None:
        if not opts:
            raise ExpressionTypeError("'in' needs at least one option")
        if t.kind is Kind.enum and t.values:
            for o in opts:
                if o not in t.values:
                    hint = suggest(str(o), t.values)
                    raise ExpressionTypeError(
                        f"'{o}' is not one of {', '.join(t.values)}", str(o), hint
                    )
        elif t.kind is Kind.enum:
            if not all(isinstance(o, str) for o in opts):
                raise ExpressionTypeError("options for a code must be text")
        elif t == T.COUNT:
            if not all(isinstance(o, int) and not isinstance(o, bool) for o in opts):
                raise ExpressionTypeError("options for a count must be whole numbers")
        else:
            raise ExpressionTypeError(f"'in' works on choices and counts, not {t}")

    def _call(self, fn: str, args: tuple[Node, ...], entity, lv) -> Type:
        if fn == "date":
            if len(args) != 1 or not (
                isinstance(args[0], Const) and isinstance(args[0].value, str)
            ):
                raise ExpressionTypeError("date() takes one 'YYYY-MM-DD' text")
            import datetime as dt

            try:
                dt.date.fromisoformat(args[0].value)  # type: ignore[arg-type]
            except ValueError:
                raise ExpressionTypeError(f"'{args[0].value}' is not a YYYY-MM-DD date") from None
            return T.DATE
        if fn == "round":
            if len(args) != 3:
                raise ExpressionTypeError("round(x, digits, mode) takes three arguments")
            x, digits, mode = args
            t = self.visit(x, entity, lv)
            if not t.numeric:
                raise ExpressionTypeError(f"round() needs a number, got {t}")
            if not (
                isinstance(digits, Const) and type(digits.value) is int and 0 <= digits.value <= 4
            ) and not (
                isinstance(digits, Const) and type(digits.value) is int and digits.value in (-1, -2)
            ):
                raise ExpressionTypeError("round() digits must be a whole number from -2 to 4")
            if not (isinstance(mode, Const) and mode.value in ROUNDING_MODES):
                hint = suggest(str(getattr(mode, "value", "")), ROUNDING_MODES)
                raise ExpressionTypeError(
                    f"round() mode must be one of {', '.join(ROUNDING_MODES)}", None, hint
                )
            return t
        arity = {"abs": (1, 1), "clamp": (3, 3), "min": (2, 8), "max": (2, 8)}[fn]
        if not arity[0] <= len(args) <= arity[1]:
            raise ExpressionTypeError(
                f"{fn}() takes {arity[0]}–{arity[1]} arguments, got {len(args)}"
            )
        result = T.LITERAL
        for a in args:
            t = self.visit(a, entity, lv)
            u = T.unify_numeric(result, t) if t.numeric else None
            if u is None:
                raise ExpressionTypeError(f"{fn}() arguments must be numbers of one kind, got {t}")
            result = u
        return result

    def _resolve(self, path: str, entity: Entity, lv: tuple[str, ...]) -> tuple[Symbol, Type]:
        s = self.scope
        head, _, rest = path.partition(".")
        if head == "p" and rest:
            if rest in s.params:
                return Symbol("param", rest), s.params[rest]
            raise ExpressionTypeError(
                f"unknown parameter 'p.{rest}'", path, _prefixed("p.", suggest(rest, s.params))
            )
        if head in lv:
            if not rest:
                raise ExpressionTypeError(
                    f"'{head}' is a member; use one of its facts, like {head}.age", head
                )
            return self._member(rest, path, loop_var=head)
        if head == "programs":
            return self._program(rest, path, entity, None)
        if entity == "member" and path in s.member:
            return Symbol("member", path), s.member[path]
        if path in s.household:
            return Symbol("household", path), s.household[path]
        if path in s.member:
            raise ExpressionTypeError(
                f"'{path}' is a fact of each member; aggregate it, e.g. "
                f"any(m.{path} ... for m in members)",
                path,
            )
        visible = set(s.household) | (set(s.member) if entity == "member" else set())
        visible |= {f"m.{n}" for n in s.member} if lv else set()
        raise ExpressionTypeError(f"unknown name '{path}'", path, suggest(path, visible))

    def _member(self, rest: str, path: str, loop_var: str) -> tuple[Symbol, Type]:
        s = self.scope
        if rest.startswith("programs."):
            sym, t = self._program(rest.removeprefix("programs."), path, "member", loop_var)
            return sym, t
        if rest in s.member:
            return Symbol("member", rest, loop_var=loop_var), s.member[rest]
        hint = suggest(rest, s.member)
        raise ExpressionTypeError(
            f"unknown member fact '{path}'", path, f"{loop_var}.{hint}" if hint else None
        )

    def _program(self, rest: str, path: str, entity: Entity, loop_var: str | None):
        s = self.scope
        pid, _, fld = rest.partition(".")
        if pid not in s.programs:
            raise ExpressionTypeError(
                f"unknown program '{pid}'", path, _prefixed("programs.", suggest(pid, s.programs))
            )
        if fld not in PROGRAM_FIELDS:
            raise ExpressionTypeError(
                f"a program offers .eligible or .amount, not '{fld}'",
                path,
                suggest(fld, PROGRAM_FIELDS),
            )
        per_member = loop_var is not None or (entity == "member" and s.programs[pid] == "member")
        if loop_var is not None and s.programs[pid] != "member":
            raise ExpressionTypeError(
                f"program '{pid}' is decided per household, not per member", path
            )
        symbol = Symbol("program", pid, loop_var=loop_var, field=fld, per_member=per_member)
        return symbol, PROGRAM_FIELDS[fld]


def _prefixed(prefix: str, name: str | None) -> str | None:
    return prefix + name if name else None
