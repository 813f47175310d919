"""Compile checked expressions (the IR of :mod:`minzheng_rules.expr._nodes`) to columns.

The same checked pack the reference evaluator runs is compiled here, node by node, into Polars
expressions over the households frame (``h``) or the members frame (``m``):

* unknown is null; ``and``/``or``/``not`` are Polars' Kleene logic, which is the reference's;
* numbers are exact (see :mod:`.numeric`);
* an aggregation over members is a ``group_by`` column, with the reference's rules for members
  whose filter is unknown;
* variables and tables become columns, computed once, as the reference memoises them.

Rows the reference might answer differently (a zero divisor reached, a ``unique`` table with two
hits, an exact tie on a rounded quotient, a count past the fast range, a variable read before
and after an exclusion changed a program it reads) raise a *flag*; flagged households are
evaluated by the reference evaluator instead. A construct that cannot be compiled exactly raises
:class:`VectorizeError` naming it, never a silent difference.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from minzheng_rules.backends.vectorized import _facts as F
from minzheng_rules.backends.vectorized import _numeric as N
from minzheng_rules.backends.vectorized._numeric import Num, VectorizeError
from minzheng_rules.backends.vectorized._plan import Plan
from minzheng_rules.expr._checker import Checked, Symbol
from minzheng_rules.expr._fold import COMPARISONS, fold, is_constant
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
from minzheng_rules.expr._printer import to_source
from minzheng_rules.model._columns import MAX_MEMBERS
from minzheng_rules.model._errors import EvaluationError

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then


@dataclass(frozen=True)
class Bool:
    expr: pl.Expr
    const: bool | None = None


@dataclass(frozen=True)
class Text:
    expr: pl.Expr
    const: str | None = None
    choices: tuple[str, ...] = ()  # a closed set holding every value of the column ``expr``


@dataclass(frozen=True)
class Date:
    expr: pl.Expr
    const: dt.date | None = None


Val = Num | Bool | Text | Date

NULL_BOOL = pl.lit(None, dtype=pl.Boolean)
NULL_TEXT = pl.lit(None, dtype=pl.String)
CODE_COMPARES = 5  # a text column compared fewer times (an ``in`` counts 3) keeps its strings


@dataclass(frozen=True)
class Ctx:
    """Where an expression is being compiled: its frame, the rows that reach it, the loop
    variable bound to the member row (inside an aggregation) and the names' meanings."""

    level: str
    checked: Checked
    reach: pl.Expr | None = None
    loop: str | None = None

    def reached(self, cond: pl.Expr) -> Ctx:
        return replace(self, reach=cond if self.reach is None else self.reach & cond)


def const_val(value: Any) -> Val:
    if isinstance(value, bool):
        return Bool(pl.lit(value), value)
    if isinstance(value, int | Decimal):
        return N.constant(value)
    if isinstance(value, str):
        return Text(pl.lit(value), value)
    if isinstance(value, dt.date):
        return Date(pl.lit(value), value)
    raise VectorizeError(f"no column form for the value {value!r}")


def _is_col(expr: pl.Expr) -> str | None:
    return expr.meta.output_name() if expr.meta.is_column() else None


class Compiler:
    """Compiles expressions of one pack bound to one date into a :class:`Plan`.

    ``programs`` supplies the values of ``programs.<id>.*`` at the point of compilation (see
    :mod:`.programs`); ``needs`` the ``needs.<label>`` values once they exist.
    """

    def __init__(self, pack: Any, on: dt.date, values: dict[str, Any], plan: Plan) -> None:
        self.pack = pack
        self.on = on
        self.values = values
        self.plan = plan
        self.programs: Any = None  # set by the program compiler
        self.needs: dict[str, Bool] | None = None
        self._facts: dict[tuple[str, str], Val] = {}
        self._enums: dict[tuple[str, str], pl.Expr] = {}
        self._compares: Counter[tuple[str, str]] = Counter()  # comparisons of each one's codes
        self._vars: dict[tuple[str, tuple], tuple[str, Val]] = {}
        self.var_versions: dict[str, list[tuple[str, Val]]] = {}
        self.where = ""  # what is being compiled, for error messages

    # -- entry points ------------------------------------------------------------------------
    def compile(self, checked: Checked, level: str, reach: pl.Expr | None = None) -> Val:
        return self.node(checked.node, Ctx(level, checked, reach))

    def flag(self, level: str, expr: pl.Expr) -> None:
        """Rows of ``level`` that the reference evaluator must decide."""
        self.plan.flags.append((level, self.plan.column(level, expr.fill_null(False))))

    def take(self, v: Num, level: str) -> Num:
        for f in v.flags:
            self.flag(level, f)
        return replace(v, flags=()) if v.flags else v

    def fail(self, message: str, node: Node | None = None) -> VectorizeError:
        text = f"{self.where}: {message}" if self.where else message
        if node is not None:
            text += f" (in '{to_source(node)}')"
        return VectorizeError(text)

    # -- materialising -------------------------------------------------------------------------
    def materialize(self, v: Val, level: str) -> Val:
        """``v`` as plain columns of ``level`` (so other frames and later waves can read it)."""
        if v.const is not None:
            return v

        def col(e: pl.Expr) -> pl.Expr:
            return e if _is_col(e) is not None else pl.col(self.plan.column(level, e))

        if isinstance(v, Num):
            v = self.take(v, level)
            return replace(
                v,
                num=col(v.num),
                den=col(v.den) if v.den is not None else None,
                inexact=col(v.inexact) if v.inexact is not None else None,
            )
        return replace(v, expr=col(v.expr))

    def shared(self, v: Num, level: str) -> Num:
        """``v`` as columns before an operation that reads its parts many times (a division,
        a rounding): an expression inlined there is copied into every use, and the copies
        nest (湖州's amounts reached 14,000-character expressions, a third of a chunk's
        time); only for values whose flags the caller takes at once anyway."""
        out = self.materialize(v, level)
        assert isinstance(out, Num)
        return out

    def at(self, v: Val, level: str, ctx: Ctx) -> Val:
        """A materialised value of ``level`` as seen from ``ctx`` (copied to members if needed)."""
        if ctx.level == level or v.const is not None:
            return v
        if level == "m":
            raise self.fail("a member value read for the whole household")

        def b(e: pl.Expr) -> pl.Expr:
            name = _is_col(e)
            if name is None:
                name = self.plan.column("h", e)
            return pl.col(self.plan.broadcast(name))

        if isinstance(v, Num):
            return replace(
                v,
                num=b(v.num),
                den=None if v.den is None else b(v.den),
                inexact=None if v.inexact is None else b(v.inexact),
            )
        return replace(v, expr=b(v.expr))

    # -- nodes ---------------------------------------------------------------------------------
    def node(self, node: Node, ctx: Ctx) -> Val:
        if not isinstance(node, Const) and is_constant(node, ctx.checked):
            try:
                value = fold(node, ctx.checked, self.values)
            except (EvaluationError, ArithmeticError):
                pass  # fails only where reached: compile it and let the flags decide
            else:
                return const_val(value)
        match node:
            case Const(value=v):
                return const_val(v)
            case Name():
                return self._name(ctx.checked.symbols[id(node)], ctx, node)
            case Unary(op="not", operand=o):
                return Bool(~self._bool(o, ctx).expr)
            case Unary(op="-", operand=o):
                return N.neg(self._num(o, ctx))
            case Binary(op=op, left=a, right=b):
                return self._binary(op, self._num(a, ctx), self._num(b, ctx), ctx, node)
            case Compare(ops=ops, operands=operands):
                vals = [self.node(o, ctx) for o in operands]
                out = None
                for op, lhs, rhs in zip(ops, vals, vals[1:], strict=False):
                    e = self._compare(op, lhs, rhs, ctx, node)
                    out = e if out is None else out & e
                assert out is not None
                return Bool(out)
            case In(operand=o, options=opts, negated=negated):
                return self._in(self.node(o, ctx), opts, negated, ctx, node)
            case BoolOp(op=op, values=vals):
                return self._boolop(op, vals, ctx)
            case IfElse(cond=c, then=t, orelse=e):
                return self._ifelse(c, t, e, ctx, node)
            case Call(func=fn, args=args):
                return self._call(fn, args, ctx, node)
            case Aggregate():
                return self._aggregate(node, ctx)
        raise self.fail(f"cannot compile {type(node).__name__}", node)

    def _num(self, node: Node, ctx: Ctx) -> Num:
        v = self.node(node, ctx)
        if not isinstance(v, Num):
            raise self.fail("expected a number", node)
        return v

    def _bool(self, node: Node, ctx: Ctx) -> Bool:
        v = self.node(node, ctx)
        if not isinstance(v, Bool):
            raise self.fail("expected a condition", node)
        return v

    # -- names ---------------------------------------------------------------------------------
    def _name(self, s: Symbol, ctx: Ctx, node: Node) -> Val:
        if s.kind == "param":
            return const_val(self.values[s.name])
        if s.kind == "program":
            if s.per_member:
                self._check_member_ref(s, ctx, node)
                return self.programs.member_value(s.name, s.field)
            return self.at(self.programs.household_value(s.name, s.field), "h", ctx)
        if s.kind == "household":
            return self.at(self.household(s.name, node), "h", ctx)
        self._check_member_ref(s, ctx, node)
        return self.member(s.name, node)

    def _check_member_ref(self, s: Symbol, ctx: Ctx, node: Node) -> None:
        if s.loop_var is None and ctx.loop is not None:
            raise self.fail(
                "an aggregation over members reads the member it is computed for "
                "(a member-by-member pairing), which the vectorized backend does not evaluate",
                node,
            )
        if s.loop_var is not None and s.loop_var != ctx.loop:
            raise self.fail(
                f"a nested aggregation reads the outer loop variable '{s.loop_var}' "
                "(a member-by-member pairing), which the vectorized backend does not evaluate",
                node,
            )
        if ctx.level != "m":
            raise self.fail("a member fact read outside a member context", node)

    def household(self, name: str, node: Node | None = None) -> Val:
        if name.startswith("needs."):
            if self.needs is None or name[6:] not in self.needs:
                raise self.fail(f"'{name}' is read before the needs are decided", node)
            return self.needs[name[6:]]
        if name in self.pack.variables or name in self.pack.tables:
            return self.variable(name)
        fact = F.HOUSEHOLD.get(name) or F.receiving_fact(name)
        if fact is None:
            raise self.fail(f"the household fact '{name}' has no column form", node)
        return self._fact(fact)

    def member(self, name: str, node: Node | None = None) -> Val:
        if name in self.pack.variables or name in self.pack.tables:
            return self.variable(name)
        fact = F.MEMBER.get(name)
        if fact is None:
            raise self.fail(f"the member fact '{name}' has no column form", node)
        return self._fact(fact)

    def _fact(self, fact: F.Fact) -> Val:
        key = (fact.level, fact.name)
        if key not in self._facts:
            expr = fact.expr(self.on)
            if fact.kind == "date":
                v: Val = Date(expr, self.on)
            else:
                col = pl.col(self.plan.column(fact.level, expr))
                if fact.kind in ("money", "count"):
                    scale = 2 if fact.kind == "money" else 0
                    v = Num(col, scale, fact.nmax, nonneg=fact.nonneg)
                elif fact.kind == "bool":
                    v = Bool(col)
                else:
                    v = Text(col, choices=fact.choices)
            if fact.out_of_range is not None:
                self.flag(fact.level, fact.out_of_range())
            self._facts[key] = v
        return self._facts[key]

    def variable(self, name: str) -> Val:
        """A variable or table as columns, once per state of the programs it reads."""
        snapshot = self.programs.snapshot(name) if self.programs is not None else ()
        key = (name, snapshot)
        if key not in self._vars:
            where, self.where = self.where, f"variable '{name}'"
            try:
                if name in self.pack.variables:
                    e = self.pack.variables[name]
                    level = "h" if e.checked.entity == "household" else "m"
                    v = self.compile(e.checked, level)
                else:
                    t = self.pack.tables[name]
                    level = "h" if t.spec.entity == "household" else "m"
                    self.where = f"table '{name}'"
                    v = self._table(name, t, level)
                v = self.materialize(v, level)
            finally:
                self.where = where
            self._vars[key] = (level, v)
            self.var_versions.setdefault(name, []).append((level, v))
        return self._vars[key][1]

    # -- operators -----------------------------------------------------------------------------
    def _binary(self, op: str, a: Num, b: Num, ctx: Ctx, node: Node) -> Num:
        if op == "+":
            return N.add(a, b)
        if op == "-":
            return N.add(a, b, sub=True)
        if op == "*":
            return N.mul(a, b)
        if b.const is not None and b.const == 0:
            known = a.num.is_not_null()
            self.flag(ctx.level, known if ctx.reach is None else known & ctx.reach)
            return N.null_num(a)
        a, b = self.shared(a, ctx.level), self.shared(b, ctx.level)
        return self.take(N.div(a, b, ctx.reach), ctx.level)

    def _compare(self, op: str, a: Val, b: Val, ctx: Ctx, node: Node) -> pl.Expr:
        if isinstance(a, Num) and isinstance(b, Num):
            expr, flags = N.compare(a, b, op, ctx.reach)
            for f in flags:
                self.flag(ctx.level, f)
            return expr
        if isinstance(a, Date) and isinstance(b, Date) and a.const and b.const:
            return pl.lit(COMPARISONS[op](a.const, b.const))
        if type(a) is not type(b) or (op not in ("==", "!=") and not isinstance(a, Date)):
            raise self.fail(f"cannot compare with '{op}'", node)
        assert not isinstance(a, Num) and not isinstance(b, Num)  # same kind, Num handled above
        if isinstance(a, Text) and isinstance(b, Text) and (a.const is None) != (b.const is None):
            a, b = self.coded(a, ctx.level), self.coded(b, ctx.level)  # a column and a constant
        return COMPARISONS[op](a.expr, b.expr)

    def coded(self, v: Text, level: str, weight: int = 1) -> Text:
        """A text column of a closed set of values as a Polars ``Enum`` column (cast once): its
        comparisons with a constant compare small integer codes, not every row's string (湖州's
        member rules compare ``self_care``, ``student``, ``care`` ... about 100 times). The
        same answers: a constant outside the choices matches no row, a null stays null."""
        name = _is_col(v.expr)
        if not v.choices or name is None or self._level_of(name) != level:  # a constant too
            return v
        key = (level, name)
        if key not in self._enums:
            enum = v.expr.cast(pl.Enum(list(v.choices)))
            self._enums[key] = pl.col(self.plan.column(level, enum))
        self._compares[key] += weight
        return replace(v, expr=self._enums[key])

    def _level_of(self, name: str) -> str | None:
        """The frame a column is in: a plan column's, or the one input table that has it."""
        return self.plan.level_of(name) or F.COLUMN_LEVEL.get(name)

    def _in(self, v: Val, opts: tuple, negated: bool, ctx: Ctx, node: Node) -> Bool:
        if isinstance(v, Text):
            v = self.coded(v, ctx.level, weight=3)
            inside = v.expr.is_in(pl.Series(list(opts), dtype=pl.String).implode())
            out = pl.when(v.expr.is_null()).then(NULL_BOOL).otherwise(inside)
        elif isinstance(v, Num):
            out = None
            for o in opts:
                e, _ = N.compare(v, N.constant(o), "==", None)
                out = e if out is None else out | e
        else:
            raise self.fail("'in' on a value that is neither a choice nor a count", node)
        assert out is not None
        return Bool(~out if negated else out)

    def _boolop(self, op: str, values: tuple[Node, ...], ctx: Ctx) -> Bool:
        acc: pl.Expr | None = None
        sub = ctx
        for v in values:
            b = self._bool(v, sub)
            acc = b.expr if acc is None else (acc & b.expr if op == "and" else acc | b.expr)
            go_on = acc.fill_null(True) if op == "and" else ~acc.fill_null(False)
            sub = ctx.reached(go_on)
        assert acc is not None
        return Bool(acc)

    def _ifelse(self, c: Node, t: Node, e: Node, ctx: Ctx, node: Node) -> Val:
        cond = self._bool(c, ctx)
        yes = self.node(t, ctx.reached(cond.expr.fill_null(False)))
        no = self.node(e, ctx.reached((~cond.expr).fill_null(False)))
        return self.select([(cond.expr.is_null(), None), (cond.expr, yes)], no, node)

    def select(self, branches: list[tuple[pl.Expr, Val | None]], default: Val, node=None) -> Val:
        """The first branch whose condition holds (``None``: unknown), else ``default``."""
        if isinstance(default, Num):
            like = default
            nums = [(c, v if v is not None else N.null_num(like)) for c, v in branches]
            if not all(isinstance(v, Num) for _, v in nums):
                raise self.fail("branches of different kinds", node)
            return N.choose(nums, default)  # type: ignore[arg-type]
        null = NULL_BOOL if isinstance(default, Bool) else NULL_TEXT
        if isinstance(default, Date):
            raise self.fail("a choice between dates", node)
        c0, v0 = branches[0]
        out: Then | ChainedThen = pl.when(c0).then(
            v0.expr if v0 is not None else null  # type: ignore[union-attr]
        )
        for c, v in branches[1:]:
            out = out.when(c).then(v.expr if v is not None else null)  # type: ignore[union-attr]
        return type(default)(out.otherwise(default.expr))

    def _call(self, fn: str, args: tuple[Node, ...], ctx: Ctx, node: Node) -> Val:
        if fn == "round":
            x = self.shared(self._num(args[0], ctx), ctx.level)
            digits, mode = args[1].value, args[2].value  # type: ignore[union-attr]
            return self.take(N.quantize(x, digits, mode, ctx.reach), ctx.level)  # type: ignore[arg-type]
        if fn == "abs":
            x = self._num(args[0], ctx)
            return replace(
                x, num=pl.when(x.num < 0).then(-x.num).otherwise(x.num), nonneg=True, const=None
            )
        vals = [self._num(a, ctx) for a in args]
        if fn == "clamp":
            x, lo, hi = vals
            return self.minmax([self.minmax([x, lo], "max"), hi], "min")
        if fn in ("min", "max"):
            return self.minmax(vals, fn)
        raise self.fail(f"the function {fn}() has no column form", node)

    def minmax(self, vals: list[Num], pick: str) -> Num:
        """Python's min/max over values (the first wins a tie); unknown if any is unknown."""
        nonneg = any(v.nonneg for v in vals) if pick == "max" else all(v.nonneg for v in vals)
        vs = N.unify(vals)
        cur = vs[0]
        for v in vs[1:]:
            left, right, _, _ = N.on_common_scale(v, cur)
            better = left < right if pick == "min" else left > right
            cur = replace(
                cur,
                num=pl.when(better).then(v.num).otherwise(cur.num),
                den=pl.when(better).then(v.den).otherwise(cur.den) if cur.den is not None else None,
                err=max(cur.err, v.err),
                inexact=N._mask_or(cur.inexact, v.inexact),
            )
        unknown = pl.any_horizontal([v.num.is_null() for v in vs])
        return replace(
            cur,
            num=pl.when(unknown).then(None).otherwise(cur.num),
            nonneg=nonneg,
            const=None,
            flags=tuple(f for v in vals for f in v.flags),
        )

    # -- aggregations over members ---------------------------------------------------------------
    def _aggregate(self, node: Aggregate, ctx: Ctx) -> Val:
        """``func(element for var in members if where)`` with the reference's rules: a member
        whose filter is unknown makes ``count``/``sum``/``min``/``max`` unknown, and ``any``/
        ``all`` unknown unless a chosen member already decides them."""
        inner = Ctx("m", ctx.checked, None, node.var)
        w = self._bool(node.where, inner) if node.where is not None else None
        chosen = w.expr.fill_null(False) if w is not None else pl.lit(True)
        filter_unknown = w.expr.is_null() if w is not None else None

        def any_of(expr: pl.Expr) -> pl.Expr:
            return pl.col(self.plan.reduce("any", self.plan.column("m", expr.fill_null(False))))

        def unknown_if(*parts: pl.Expr | None) -> pl.Expr | None:
            present = [p for p in parts if p is not None]
            return any_of(pl.any_horizontal(present)) if present else None

        def or_null(unknown: pl.Expr | None, value: pl.Expr) -> pl.Expr:
            return value if unknown is None else pl.when(unknown).then(None).otherwise(value)

        func = node.func
        if func == "count":
            if w is None:
                count: pl.Expr = pl.col("size")
            else:
                count = pl.col(self.plan.reduce("sum", self.plan.column("m", chosen)))
            expr = or_null(unknown_if(filter_unknown), count.cast(pl.Int64))
            return self.at(Num(expr, 0, MAX_MEMBERS, nonneg=True), "h", ctx)
        assert node.element is not None
        el = self.node(node.element, inner.reached(chosen))
        if func in ("any", "all"):
            if not isinstance(el, Bool):
                raise self.fail(f"{func}() over something that is not a condition", node)
            decisive = func == "any"
            hit = any_of(chosen & (el.expr if decisive else ~el.expr).fill_null(False))
            unknown = unknown_if(filter_unknown, chosen & el.expr.is_null())
            out: Then | ChainedThen = pl.when(hit).then(pl.lit(decisive))
            if unknown is not None:
                out = out.when(unknown).then(NULL_BOOL)
            return self.at(Bool(out.otherwise(pl.lit(not decisive))), "h", ctx)
        if not isinstance(el, Num):
            raise self.fail(f"{func}() over something that is not a number", node)
        if el.den is not None:
            raise self.fail(
                f"{func}() over a quotient (a division per member) has no exact column form; "
                "aggregate the parts and divide after",
                node,
            )
        unknown = unknown_if(filter_unknown, chosen & el.num.is_null())
        if func == "sum":
            bound = el.nmax * MAX_MEMBERS
            zero = N.lit_int(0, bound)
            picked = pl.when(chosen).then(N.widen(el.num, bound)).otherwise(zero).fill_null(zero)
            total = pl.col(self.plan.reduce("sum", self.plan.column("m", picked)))
            v = Num(or_null(unknown, total), el.scale, bound, nonneg=el.nonneg)
            return self.at(v, "h", ctx)
        if func in ("min", "max"):
            picked = pl.when(chosen).then(el.num).otherwise(None)
            best = pl.col(self.plan.reduce(func, self.plan.column("m", picked)))
            v = Num(or_null(unknown, best.fill_null(0)), el.scale, el.nmax, nonneg=el.nonneg)
            return self.at(v, "h", ctx)
        raise self.fail(f"the aggregation {func}() has no column form", node)

    # -- decision tables -----------------------------------------------------------------------
    def _table(self, name: str, t: Any, level: str) -> Val:
        policy = t.spec.hit_policy.value
        if policy == "first":
            return self._table_first(t, level)
        whens = [self._bool_of(w, level, None) for w, _ in t.rows]
        hits = pl.sum_horizontal([w.expr.fill_null(False).cast(pl.Int32) for w in whens])
        unknown = pl.any_horizontal([w.expr.is_null() for w in whens])
        known = ~unknown
        default = self.compile(t.default.checked, level, known & (hits == 0))
        if policy == "unique":
            self.flag(level, known & (hits > 1))
            branches: list[tuple[pl.Expr, Val | None]] = [
                (unknown, None),
                (hits == 0, default),
                (hits > 1, None),
            ]
            for (_, th), wv in zip(t.rows, whens, strict=True):
                value = self.compile(th.checked, level, known & (hits == 1) & wv.expr)
                branches.append((wv.expr, value))
            return self.select(branches, default)
        if policy == "collect_sum":
            total: Num | None = None
            for (_, th), wv in zip(t.rows, whens, strict=True):
                reach = known & wv.expr.fill_null(False)
                value = self.compile(th.checked, level, reach)
                if not isinstance(value, Num):
                    raise self.fail("a collect_sum table with a value that is not a number")
                part = N.choose([(wv.expr.fill_null(False), value)], N.constant(0))
                total = part if total is None else N.add(total, part)
            assert total is not None
            return self.select([(unknown, None), (hits == 0, default)], total)
        raise self.fail(f"the hit policy '{policy}' has no column form")

    def _table_first(self, t: Any, level: str) -> Val:
        branches: list[tuple[pl.Expr, Val | None]] = []
        none_true: pl.Expr | None = None  # no earlier row held (each was false or unknown)
        all_false: pl.Expr | None = None  # every earlier row was false
        for w, th in t.rows:
            wv = self._bool_of(w, level, none_true)
            yes = wv.expr.fill_null(False)
            reach = yes if all_false is None else all_false & yes
            value = self.compile(th.checked, level, reach)
            branches += [(wv.expr.is_null(), None), (wv.expr, value)]
            not_true = ~yes
            none_true = not_true if none_true is None else none_true & not_true
            is_false = (~wv.expr).fill_null(False)
            all_false = is_false if all_false is None else all_false & is_false
        default = self.compile(t.default.checked, level, all_false)
        return self.select(branches, default)

    def _bool_of(self, e: Any, level: str, reach: pl.Expr | None) -> Bool:
        v = self.compile(e.checked, level, reach)
        if not isinstance(v, Bool):
            raise self.fail("a table row condition that is not a condition")
        return v

    # -- agreement of a variable's versions -------------------------------------------------------
    def settle_codes(self) -> None:
        """A text column compared only a few times keeps its strings: the cast to codes costs
        about four comparisons of strings (714,000 members: 7 ms against 1.6; an ``in`` about
        three), so its Enum column becomes a plain copy (a comparison with a constant answers
        the same on both)."""
        for key, code in self._enums.items():
            if self._compares[key] < CODE_COMPARES:
                self.plan.redefine(code.meta.output_name(), pl.col(key[1]))

    def flag_disagreements(self) -> None:
        """A variable compiled for several states of the programs it reads has one value per
        household in the reference (the first read's): rows where the versions differ go to it."""
        for versions in self.var_versions.values():
            if len(versions) < 2:
                continue
            (level, first), *rest = versions
            for _, other in rest:
                self.flag(level, ~same(first, other))


def same(a: Val, b: Val) -> pl.Expr:
    """Rows where two values are equal, unknown counting as equal to unknown."""
    if isinstance(a, Num) and isinstance(b, Num):
        left, right, _, _ = N.on_common_scale(a, b)
        both_null = a.num.is_null() & b.num.is_null()
        return both_null | (left == right).fill_null(False)
    return a.expr.eq_missing(b.expr)  # type: ignore[union-attr]
