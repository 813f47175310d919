"""Programs, exclusions, tags and needs, compiled in the reference evaluator's order.

The reference evaluates the active programs one by one and applies each exclusion as soon as
all of its programs are decided; a later rule reading ``programs.<id>.eligible`` sees the state
at that moment. This module replays the same sequence once, when the pack is compiled, and
keeps a *version* of each program's columns per change, so every read compiles against the
state the reference would see.

Statuses are Int8 columns: :class:`StatusCode` (2 eligible, 1 undetermined, 0 ineligible).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import polars as pl

from minzheng_rules.backends.vectorized import _numeric as N
from minzheng_rules.backends.vectorized._compiler import Bool, Compiler, Val
from minzheng_rules.backends.vectorized._numeric import Num, VectorizeError
from minzheng_rules.backends.vectorized._plan import Plan
from minzheng_rules.model._columns import MAX_MEMBERS
from minzheng_rules.packs._deps import DepKind, DepNode, names_of
from minzheng_rules.packs._plan import BoundPlan

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then


class StatusCode(IntEnum):
    """A program's status as the Int8 status columns hold it (and the batch output reads it):
    the values are the columns' contents, so they never change."""

    INELIGIBLE = 0
    UNDETERMINED = 1
    ELIGIBLE = 2


def _status_expr(verdict: pl.Expr, amount_known: pl.Expr) -> pl.Expr:
    return (
        pl.when(verdict.is_null())
        .then(StatusCode.UNDETERMINED)
        .when(verdict & ~amount_known)
        .then(StatusCode.UNDETERMINED)
        .when(verdict)
        .then(StatusCode.ELIGIBLE)
        .otherwise(StatusCode.INELIGIBLE)
        .cast(pl.Int8)
    )


@dataclass
class ProgramState:
    """A program's columns now: household status and amount; per member for member programs
    the outcome (for totals) and what later rules read (``md`` in the reference)."""

    pid: str
    per_member: bool
    scale: int
    h_status: pl.Expr
    h_amount: Num
    m_status: pl.Expr | None = None
    m_amount: Num | None = None
    m_eligible: pl.Expr | None = None
    m_stored: Num | None = None
    version: int = 0
    _stored: dict[tuple[int, str], Val] = field(default_factory=dict)


class Programs:
    """Compiles every active program and exclusion of a bound plan into the column plan."""

    def __init__(self, compiler: Compiler, bound: BoundPlan, conditions: bool = False) -> None:
        self.c = compiler
        self.plan: Plan = compiler.plan
        self.pack = bound.pack
        self.bound = bound
        self.active = list(bound.active)
        self.state: dict[str, ProgramState] = {}
        compiler.programs = self
        self._var_programs: dict[str, tuple[str, ...]] = {}
        # household programs' conditions as columns (id, column), in order, when asked for
        self.keep_conditions = conditions
        self.conditions: dict[str, list[tuple[str, str]]] = {}

    # -- what rules read -----------------------------------------------------------------------
    def snapshot(self, name: str) -> tuple:
        progs = self._var_programs.get(name)
        if progs is None:
            closure = self.pack.closure(DepNode.variable(name))
            progs = tuple(sorted(names_of(closure, DepKind.PROGRAM)))
            self._var_programs[name] = progs
        return tuple((p, self.state[p].version if p in self.state else -1) for p in progs)

    def _inactive(self, pid: str, fld: str) -> Val | None:
        if pid in self.active:
            if pid not in self.state:
                raise self.c.fail(f"programs.{pid}.{fld} is read before {pid} is decided")
            return None
        return Bool(pl.lit(False), False) if fld == "eligible" else N.constant(0)

    def household_value(self, pid: str, fld: str) -> Val:
        off = self._inactive(pid, fld)
        if off is not None:
            return off
        st = self.state[pid]
        key = (st.version, fld)
        if key not in st._stored:
            s = st.h_status
            if fld == "eligible":
                v: Val = Bool(
                    pl.when(s == StatusCode.ELIGIBLE)
                    .then(True)
                    .when(s == StatusCode.UNDETERMINED)
                    .then(None)
                    .otherwise(False)
                )
            else:
                a = st.h_amount
                v = replace(
                    a,
                    num=pl.when(s == StatusCode.ELIGIBLE)
                    .then(a.num)
                    .when(s == StatusCode.UNDETERMINED)
                    .then(None)
                    .otherwise(N.lit_int(0, a.nmax)),
                )
            st._stored[key] = self.c.materialize(v, "h")
        return st._stored[key]

    def member_value(self, pid: str, fld: str) -> Val:
        off = self._inactive(pid, fld)
        if off is not None:
            return off
        st = self.state[pid]
        if not st.per_member:
            raise self.c.fail(f"program '{pid}' is decided per household, not per member")
        assert st.m_eligible is not None and st.m_stored is not None
        return Bool(st.m_eligible) if fld == "eligible" else st.m_stored

    # -- the sequence ----------------------------------------------------------------------------
    def run(self) -> None:
        """The bound plan's sequence: each active program in order, then the exclusions it
        settles (:attr:`BoundPlan.settle_after`: linked exclusions together, after the last of
        their programs), as the reference evaluator runs them."""
        decided: set[str] = set()
        for pid in self.active:
            self._program(pid)
            decided.add(pid)
            for exc in self.bound.settle_after.get(pid, ()):
                self._exclude(exc, decided)

    def _program(self, pid: str) -> None:
        prog = self.pack.programs[pid]
        level = "m" if prog.entity == "member" else "h"
        verdict: pl.Expr | None = None
        reach: pl.Expr | None = None
        kept = None
        if self.keep_conditions and level == "h":
            kept = self.conditions.setdefault(pid, [])
        for spec, e in prog.conditions:
            self.c.where = f"program '{pid}' condition '{spec.id}'"
            b = self.c.compile(e.checked, level, reach)
            if not isinstance(b, Bool):
                raise self.c.fail("a condition that is not true or false")
            expr = b.expr
            if kept is not None:  # exact where ``reach`` holds: where the reference evaluates it
                kept.append((spec.id, self.plan.column(level, expr)))
                expr = pl.col(kept[-1][1])
            verdict = expr if verdict is None else verdict & expr
            reach = verdict.fill_null(True)  # the reference stops at the first false condition
        assert verdict is not None
        verdict = pl.col(self.plan.column(level, verdict))
        eligible = verdict.fill_null(False)
        r = prog.spec.rounding
        scale = max(r.digits, 0)
        if prog.amount is not None:
            self.c.where = f"program '{pid}' amount"
            a = self.c.compile(prog.amount.checked, level, eligible)
            if not isinstance(a, Num):
                raise self.c.fail("an amount that is not a number")
            a = self.c.take(N.quantize(self.c.shared(a, level), r.digits, r.mode, eligible), level)
            a = self.c.take(N.to_scale(a, scale), level)
            # a column: the status reads whether it is known, the amount paid reads it (as an
            # expression the rounding was computed in both, in two layers)
            a = self.c.shared(a, level)
        else:
            a = N.constant(0)
            a = N.to_scale(a, scale)
        self.c.where = ""
        status = pl.col(self.plan.column(level, _status_expr(verdict, a.num.is_not_null())))
        paid = self._amount_where(status == StatusCode.ELIGIBLE, a, level)
        if level == "h":
            self.state[pid] = ProgramState(pid, False, scale, status, paid)
            return
        stored = self._stored_amount(status, paid, level)
        # what later rules read: the verdict after an unknown amount made it unknown
        verdict = pl.col(
            self.plan.column(
                "m",
                pl.when(status == StatusCode.ELIGIBLE)
                .then(True)
                .when(status == StatusCode.UNDETERMINED)
                .then(None)
                .otherwise(False),
            )
        )
        st = ProgramState(
            pid,
            True,
            scale,
            status,
            paid,
            m_status=status,
            m_amount=paid,
            m_eligible=verdict,
            m_stored=stored,
        )
        self.state[pid] = st
        self._totals(st)

    def _amount_where(self, cond: pl.Expr, a: Num, level: str) -> Num:
        """``a`` where ``cond`` holds, else 0, as a column."""
        num = pl.when(cond).then(a.num).otherwise(N.lit_int(0, a.nmax))
        v = Num(num, a.scale, a.nmax, nonneg=a.nonneg)
        out = self.c.materialize(v, level)
        assert isinstance(out, Num)
        return out

    def _stored_amount(self, status: pl.Expr, paid: Num, level: str) -> Num:
        num = pl.when(status == StatusCode.UNDETERMINED).then(None).otherwise(paid.num)
        out = self.c.materialize(replace(paid, num=num), level)
        assert isinstance(out, Num)
        return out

    def _totals(self, st: ProgramState) -> None:
        """A member program's household outcome: eligible if any member is, else undetermined
        if any member is; the amount is the members' total."""
        assert st.m_status is not None and st.m_amount is not None
        s = st.m_status

        def anywhere(expr: pl.Expr) -> pl.Expr:
            return pl.col(self.plan.reduce("any", self.plan.column("m", expr)))

        status = (
            pl.when(anywhere(s == StatusCode.ELIGIBLE))
            .then(StatusCode.ELIGIBLE)
            .when(anywhere(s == StatusCode.UNDETERMINED))
            .then(StatusCode.UNDETERMINED)
            .otherwise(StatusCode.INELIGIBLE)
            .cast(pl.Int8)
        )
        bound = st.m_amount.nmax * MAX_MEMBERS
        amount = self.plan.column("m", N.widen(st.m_amount.num, bound))
        st.h_status = pl.col(self.plan.column("h", status))
        st.h_amount = Num(pl.col(self.plan.reduce("sum", amount)), st.scale, bound, nonneg=True)
        st.version += 1

    # -- exclusions ------------------------------------------------------------------------------
    def _exclude(self, exc: Any, decided: set[str]) -> None:
        present = [p for p in exc.programs if p in decided]
        states = [self.state[p] for p in present]
        if all(s.per_member for s in states):
            units = [(s.m_status, s.m_amount) for s in states]
            new, losers = self._drop(units, exc.keep, "m")
            for s, (status, amount), loser in zip(states, new, losers, strict=True):
                assert s.m_eligible is not None and s.m_stored is not None
                s.m_status, s.m_amount = status, amount
                s.m_eligible = pl.col(
                    self.plan.column(
                        "m",
                        pl.when(loser)
                        .then(pl.when(status == StatusCode.INELIGIBLE).then(False).otherwise(None))
                        .otherwise(s.m_eligible),
                    )
                )
                stored = (
                    pl.when(loser).then(N.lit_int(0, s.m_stored.nmax)).otherwise(s.m_stored.num)
                )
                s.m_stored = replace(s.m_stored, num=pl.col(self.plan.column("m", stored)))
                self._totals(s)
            return
        units = [(s.h_status, s.h_amount) for s in states]
        new, losers = self._drop(units, exc.keep, "h")
        for s, (status, amount), loser in zip(states, new, losers, strict=True):
            s.h_status, s.h_amount = status, amount
            s.version += 1
            if s.per_member:
                assert s.m_status is not None and s.m_amount is not None
                lost = pl.col(self.plan.broadcast(_name(loser, self.plan, "h")))
                h_status = pl.col(self.plan.broadcast(_name(status, self.plan, "h")))
                s.m_status = pl.col(
                    self.plan.column("m", pl.when(lost).then(h_status).otherwise(s.m_status))
                )
                zero = N.lit_int(0, s.m_amount.nmax)
                s.m_amount = replace(
                    s.m_amount,
                    num=pl.col(
                        self.plan.column("m", pl.when(lost).then(zero).otherwise(s.m_amount.num))
                    ),
                )

    def _drop(
        self, units: list[tuple[Any, Any]], keep: str, level: str
    ) -> tuple[list[tuple[pl.Expr, Num]], list[pl.Expr]]:
        """The reference's ``_losers`` and ``_drop``: among the units that are not ineligible,
        the winner (the first, or the highest amount with the first on a tie) keeps its answer;
        each other becomes ineligible when the winner is eligible, else undetermined."""
        statuses = [u[0] for u in units]
        live = [s != StatusCode.INELIGIBLE for s in statuses]
        n_live = pl.sum_horizontal([x.cast(pl.Int32) for x in live])
        if keep == "first":
            first: Then | ChainedThen = pl.when(live[0]).then(0)
            for i, x in enumerate(live[1:], 1):
                first = first.when(x).then(i)
            chosen = first.otherwise(-1)
        else:
            amounts = N.unify([u[1] for u in units])
            best = pl.lit(-1)
            best_amount: pl.Expr | None = None
            for i, (x, a) in enumerate(zip(live, amounts, strict=True)):
                take = (
                    x & (best == -1)
                    if best_amount is None
                    else x & ((best == -1) | (a.num > best_amount))
                )
                best = pl.when(take).then(i).otherwise(best)
                best_amount = (
                    a.num
                    if best_amount is None
                    else pl.when(take).then(a.num).otherwise(best_amount)
                )
            chosen = best
        winner = pl.col(self.plan.column(level, chosen))
        status_chain: Then | ChainedThen = pl.when(winner == 0).then(statuses[0])
        for i, s in enumerate(statuses[1:], 1):
            status_chain = status_chain.when(winner == i).then(s)
        winner_status = status_chain.otherwise(StatusCode.INELIGIBLE)
        contested = n_live >= 2
        new: list[tuple[pl.Expr, Num]] = []
        losers: list[pl.Expr] = []
        for i, ((status, amount), x) in enumerate(zip(units, live, strict=True)):
            loser = pl.col(self.plan.column(level, contested & x & (winner != i)))
            dropped = (
                pl.when(winner_status == StatusCode.ELIGIBLE)
                .then(StatusCode.INELIGIBLE)
                .otherwise(StatusCode.UNDETERMINED)
            )
            s = pl.col(
                self.plan.column(
                    level, pl.when(loser).then(dropped).otherwise(status).cast(pl.Int8)
                )
            )
            zero = N.lit_int(0, amount.nmax)
            a = replace(
                amount,
                num=pl.col(
                    self.plan.column(level, pl.when(loser).then(zero).otherwise(amount.num))
                ),
            )
            new.append((s, a))
            losers.append(loser)
        return new, losers


def _name(expr: pl.Expr, plan: Plan, level: str) -> str:
    if expr.meta.is_column():
        return expr.meta.output_name()
    return plan.column(level, expr)


def compile_relief(c: Compiler, pack: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Columns of the tags and need labels that hold, in the pack's declared order (id →
    boolean column); also flags the rows whose assessed needs name a label the pack does not
    have (the reference refuses those)."""
    relief = getattr(pack, "relief", None)
    assessed = pl.col("assessed_needs")
    labels = list(relief.labels) if relief is not None else []
    unknown_label = assessed.list.eval(
        ~pl.element().is_in(pl.Series(labels, dtype=pl.String).implode())
    ).list.any()
    c.flag("h", unknown_label.fill_null(False))
    if relief is None:
        c.needs = {}
        return {}, {}
    needs: dict[str, Bool] = {}
    named = _named(c.plan, assessed, labels)
    for lid, entry in relief.labels.items():
        given = named[lid]
        if entry.expr is not None:
            c.where = f"need label '{lid}'"
            derived = c.compile(entry.expr.checked, "h")
            if not isinstance(derived, Bool):
                raise c.fail("a need label that is not a condition")
            value = pl.when(given).then(True).otherwise(derived.expr)
        else:
            value = given
        v = c.materialize(Bool(value), "h")
        assert isinstance(v, Bool)
        needs[lid] = v
    c.needs = needs
    tags: dict[str, Bool] = {}
    for tid, (_, e) in relief.tags.items():
        c.where = f"tag '{tid}'"
        v = c.compile(e.checked, "h")
        if not isinstance(v, Bool):
            raise c.fail("a tag that is not a condition")
        tags[tid] = v
    for iid, item in relief.items.items():
        if item.expr is None:
            continue
        answers = [needs[lid].expr.fill_null(False) for lid in item.spec.answers if lid in needs]
        if not answers:
            continue
        c.where = f"assistance item '{iid}'"
        c.compile(item.expr.checked, "h", pl.any_horizontal(answers))
    c.where = ""

    def held(values: dict[str, Bool]) -> dict[str, str]:
        return {k: c.plan.column("h", v.expr.fill_null(False)) for k, v in values.items()}

    return held(tags), held(needs)


def _named(plan: Plan, assessed: pl.Expr, labels: list[str]) -> dict[str, pl.Expr]:
    """Whether each household's assessed needs name each label, as one bit of a 64-bit mask
    made once per 64 labels: a pass over the lists per 64 labels, not per label (湖州's 131
    labels over 250,000 households: 0.024 s, where ``list.contains`` per label took 0.066).
    As ``list.contains``: a null list is unknown, an empty one names none."""
    out: dict[str, pl.Expr] = {}
    for start in range(0, len(labels), 64):
        group = labels[start : start + 64]
        bits = [1 << j for j in range(len(group))]
        each = pl.element().replace_strict(group, bits, default=0, return_dtype=pl.UInt64)
        mask = assessed.list.eval(each).list.agg(pl.element().bitwise_or()).fill_null(0)
        word = pl.col(plan.column("h", pl.when(assessed.is_null()).then(None).otherwise(mask)))
        for lid, bit in zip(group, bits, strict=True):
            out[lid] = (word & pl.lit(bit, dtype=pl.UInt64)) != 0
    return out


def outputs_for(programs: Programs, order: list[str]) -> list[tuple[str, Any, Num, int]]:
    """(program, status expr, amount, output scale) for every program of the pack."""
    out = []
    for pid in order:
        prog = programs.pack.programs[pid]
        unit = str(prog.spec.unit.value)
        digits = max(prog.spec.rounding.digits, 0)  # the declared rounding's, kept in outputs
        scale = max(2, digits) if unit.startswith("CNY") else digits
        st = programs.state.get(pid)
        if st is None:
            out.append((pid, pl.lit(StatusCode.INELIGIBLE, dtype=pl.Int8), N.constant(0), scale))
            continue
        amount = N.to_scale(st.h_amount, scale, "half_up")  # money(): to the fen, half up
        if amount.nmax > N.INT64_MAX:
            raise VectorizeError(f"program '{pid}': amounts may exceed 64-bit integers")
        out.append((pid, st.h_status, amount, scale))
    return out
