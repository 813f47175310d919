"""Evaluate one household against a pack bound to a date, with an optional explanation trace."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from minzheng_rules.backends._base import Answer
from minzheng_rules.backends.reference._compiler import (
    EvalContext,
    Fn,
    compile_expression,
    compile_table,
)
from minzheng_rules.model._errors import HouseholdError
from minzheng_rules.model._facts import household_facts, lazy_facts, member_facts, receiving_values
from minzheng_rules.model._household import Household, parse_household
from minzheng_rules.model._results import (
    ConditionOutcome,
    Evaluation,
    MemberOutcome,
    ParameterUse,
    ProgramOutcome,
    Status,
)
from minzheng_rules.model._values import Unknown, merge, quantize
from minzheng_rules.packs._deps import DepKind, DepNode, names_of
from minzheng_rules.packs._pack import CheckedProgram, Expr, Pack
from minzheng_rules.packs._plan import BoundPlan

ZERO = Decimal(0)


def _status(value: Any) -> Status:
    if value is True:
        return Status.eligible
    if value.__class__ is Unknown:
        return Status.undetermined
    return Status.ineligible


class _Condition:
    """A condition compiled for one date, with its passed and failed outcomes built once:
    untraced evaluations share them (outcomes are frozen), which saves an object per
    condition per household."""

    __slots__ = ("expr", "failed", "fn", "passed", "spec")

    def __init__(self, spec: Any, expr: Expr, fn: Any) -> None:
        self.spec, self.expr, self.fn = spec, expr, fn
        self.passed = self.outcome(True)
        self.failed = self.outcome(False)

    def outcome(
        self, verdict: Any, values: dict[str, str] | None = None, parameters: Any = None
    ) -> ConditionOutcome:
        """A new outcome (traced, or for a verdict that is Unknown)."""
        unknown = verdict is not True and verdict is not False
        spec = self.spec
        return ConditionOutcome(
            spec.id,
            spec.label.zh,
            spec.label.en,
            self.expr.source,
            None if unknown else verdict,
            sorted(verdict.missing) if unknown else [],
            values,
            parameters,
        )


class _Program:
    """A program compiled for one date."""

    def __init__(self, program: CheckedProgram, compile_: Any) -> None:
        self.program = program
        self.id = program.id
        self.per_member = program.entity == "member"
        self.conditions = [_Condition(c, e, compile_(e)) for c, e in program.conditions]
        self.amount = compile_(program.amount) if program.amount is not None else None
        r = program.spec.rounding
        self.digits, self.mode = r.digits, r.mode
        self.unit = str(program.spec.unit.value)
        self.key_eligible = f"programs.{self.id}.eligible"
        self.key_amount = f"programs.{self.id}.amount"


class ReferenceEvaluator:
    """A bound plan compiled to closures: evaluates one household at a time, with a trace.

    Get one with :func:`bind` (cached per pack and date)."""

    def __init__(self, plan: BoundPlan) -> None:
        pack = self.pack = plan.pack
        self.bound = plan
        self.date = plan.date
        self.active = plan.active
        self.parameters = plan.parameters
        self.household_fns: dict[str, Fn] = {}
        self.member_fns: dict[str, Fn] = {}
        for name, e in pack.variables.items():
            if plan.reads(name):
                target = self.household_fns if e.checked.entity == "household" else self.member_fns
                target[name] = self._compile(e)
        for name, t in pack.tables.items():
            if plan.reads(name):
                target = self.household_fns if t.spec.entity == "household" else self.member_fns
                target[name] = compile_table(name, t, plan.values)
        self.programs = [_Program(pack.programs[pid], self._compile) for pid in self.active]
        self.program_ids = list(pack.programs)
        self.inactive = plan.inactive
        relief = pack.relief
        self.tag_fns = [(tid, self._compile(e)) for tid, (_, e) in relief.tags.items()]
        self.need_fns = [
            (lid, self._compile(le.expr) if le.expr is not None else None)
            for lid, le in relief.labels.items()
        ]
        self.item_fns = {
            iid: self._compile(it.expr) if it.expr is not None else None
            for iid, it in relief.items.items()
        }
        self._subsets: dict[frozenset[str], list[_Program]] = {}  # see evaluate_programs

    def _compile(self, e: Expr) -> Fn:
        return compile_expression(e.checked, self.bound.values)

    def answers(self, households: Sequence[Household]) -> list[dict[str, Answer]]:
        """Each household's programs through the backend contract (:mod:`..base`)."""
        return [
            {pid: Answer(o.status, o.amount) for pid, o in self.evaluate(h).programs.items()}
            for h in households
        ]

    def on(self, date: dt.date) -> ReferenceEvaluator:
        """These compiled rules evaluated on another date whose parameters in force are the
        same (the monitor's days of one period): ages and ``eval_date`` move, nothing else."""
        other = copy.copy(self)
        other.date = date
        return other

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(
        self, household: Household | dict[str, Any], *, explain: bool = False
    ) -> Evaluation:
        h = household if isinstance(household, Household) else parse_household(household)
        on = self.date
        ctx, outcomes = self._outcomes(h, self.programs, explain)
        for pid in self.pack.order:
            if pid not in outcomes:
                p = self.pack.programs[pid]
                outcomes[pid] = ProgramOutcome(
                    pid,
                    p.spec.label.zh,
                    p.spec.label.en,
                    Status.ineligible,
                    ZERO,
                    str(p.spec.unit.value),
                    [
                        ConditionOutcome(
                            "in_force",
                            "政策在评估日有效",
                            "in force on the date",
                            f"in_force {p.spec.in_force.model_dump(mode='json')}",
                            False,
                        )
                    ],
                )
        ordered = {pid: outcomes[pid] for pid in self.pack.programs}
        evaluation = Evaluation(self.pack.id, on, h.id, ordered, stale=dict(self.bound.stale))
        self._relief(h, ctx, evaluation)
        return evaluation

    def evaluate_programs(
        self,
        household: Household,
        program_ids: Iterable[str],
        facts: tuple[dict[str, Any], list[dict[str, Any]]] | None = None,
    ) -> dict[str, ProgramOutcome]:
        """The outcomes of some programs in force, exactly as :meth:`evaluate` gives them, for a
        fraction of its work: only they and what they depend on are run (the programs they read
        and those linked to them by exclusions), and no tags, needs or assistance.

        The monitor asks this for the few programs a household's event changed. ``facts`` are
        the household's facts on this date already in use (a context's ``hh`` and ``members``,
        such as the monitor's alert context after the same event): the variables computed there
        are not computed again, and the programs' results are added to them."""
        wanted = frozenset(program_ids)
        programs = self._subsets.get(wanted)
        if programs is None:
            closure = self.bound.program_closure(wanted)
            programs = self._subsets[wanted] = [p for p in self.programs if p.id in closure]
        if facts is None:  # computed as read: nothing reads them afterwards
            facts = lazy_facts(household, self.date, self.program_ids, plain=True)
        _, outcomes = self._outcomes(household, programs, False, facts)
        return {pid: outcomes[pid] for pid in wanted}

    def _outcomes(
        self,
        h: Household,
        programs: list[_Program],
        explain: bool,
        facts: tuple[dict[str, Any], list[dict[str, Any]]] | None = None,
    ) -> tuple[EvalContext, dict[str, ProgramOutcome]]:
        """Run ``programs`` (in the pack's order, closed under what they read) on ``h``, with
        ``facts`` when given (see :meth:`evaluate_programs`), else all of the facts computed
        first (the explanation trace and the relief part ``get`` them afterwards)."""
        on = self.date
        if facts is not None:
            hh, members = facts
            ctx = EvalContext(self, hh, members)
        else:
            hh = household_facts(h, on)
            hh.update(receiving_values(h, self.program_ids))
            ctx = EvalContext(self, hh, member_facts(h, on))
        for pid in self.inactive:  # not in force on this date: read as not eligible
            hh[f"programs.{pid}.eligible"], hh[f"programs.{pid}.amount"] = False, ZERO
            for md in ctx.members:
                md[f"programs.{pid}.eligible"], md[f"programs.{pid}.amount"] = False, ZERO
        member_ids = [m.id for m in h.members]
        outcomes: dict[str, ProgramOutcome] = {}
        for prog in programs:
            outcomes[prog.id] = self._run(prog, ctx, member_ids, explain)
            for exc in self.bound.settle_after.get(prog.id, ()):
                self._exclude(exc, outcomes, ctx)
        return ctx, outcomes

    # -- tags, needs, assistance -----------------------------------------------------------
    def _relief(self, h: Household, ctx: EvalContext, ev: Evaluation) -> None:
        """Tags and needs in the pack's declared order (so member order and the order of
        ``assessed_needs`` never matter), then the items that answer each need."""
        relief = self.pack.relief
        undetermined: dict[str, list[str]] = {}
        assessed = self._assessed(h)
        for lid, fn in self.need_fns:
            v = fn(ctx, None) if fn is not None else None
            if v is True or lid in assessed:
                ev.needs.append(lid)
                ctx.hh[f"needs.{lid}"] = True
            elif v.__class__ is Unknown:
                undetermined.setdefault("needs", []).append(lid)
                ctx.hh[f"needs.{lid}"] = v
            else:
                ctx.hh[f"needs.{lid}"] = False
        for tid, fn in self.tag_fns:
            v = fn(ctx, None)
            if v is True:
                ev.tags.append(tid)
            elif v.__class__ is Unknown:
                undetermined.setdefault("tags", []).append(tid)
        for lid in ev.needs:
            for iid in relief.answered_by.get(lid, ()):
                item = relief.items[iid].spec
                fn = self.item_fns[iid]
                if fn is not None and fn(ctx, None) is not True:
                    continue
                entry = {
                    "need": lid,
                    "item": iid,
                    "kind": item.kind,
                    "label": {"zh": item.label.zh, "en": item.label.en},
                }
                if item.kind == "program":
                    outcome = ev.programs.get(item.program or "")
                    if outcome is None or not outcome.eligible:
                        continue
                    entry["program"] = outcome.id
                    entry["amount"] = outcome.to_dict()["amount"]
                    entry["unit"] = outcome.unit
                ev.assistance.append(entry)
        ev.undetermined = undetermined

    def _assessed(self, h: Household) -> set[str]:
        if not h.assessed_needs:
            return set()
        labels = self.pack.relief.labels
        problems = []
        for i, lid in enumerate(h.assessed_needs):
            if lid not in labels:
                from minzheng_rules.model._errors import suggest

                hint = suggest(lid, labels)
                what = (
                    "this pack has no needs model" if not labels else f"unknown need label '{lid}'"
                )
                problems.append(
                    (f"assessed_needs[{i}]", what + (f" (did you mean '{hint}'?)" if hint else ""))
                )
        if problems:
            raise HouseholdError(problems, f"household {h.id}")
        return set(h.assessed_needs)

    def _conditions(self, prog: _Program, ctx: EvalContext, m: Any, explain: bool):
        """All conditions' verdict (True, False or Unknown) and their reasons. Without
        ``explain`` it stops at the first condition that fails, which decides the answer;
        with it, every condition is evaluated and traced."""
        reasons, verdict = [], True
        for cond in prog.conditions:
            v = cond.fn(ctx, m)
            if v is False:
                verdict = False
            elif v is not True and verdict is not False:
                verdict = v if verdict is True else merge(verdict, v)
            if explain:
                reasons.append(cond.outcome(v, *self._trace(cond.expr, ctx, m)))
                continue
            reasons.append(
                cond.passed if v is True else cond.failed if v is False else cond.outcome(v)
            )
            if verdict is False:
                break
        return verdict, reasons

    def _amount(self, prog: _Program, ctx: EvalContext, m: Any) -> Any:
        if prog.amount is None:
            return ZERO
        v = prog.amount(ctx, m)
        if v.__class__ is Unknown:
            return v
        return quantize(v, prog.digits, prog.mode)

    def _run(
        self, prog: _Program, ctx: EvalContext, member_ids: list[str], explain: bool
    ) -> ProgramOutcome:
        spec = prog.program.spec
        if not prog.per_member:
            verdict, reasons = self._conditions(prog, ctx, None, explain)
            amount: Any = ZERO
            if verdict is True:
                amount = self._amount(prog, ctx, None)
                if amount.__class__ is Unknown:
                    verdict = amount
            missing = sorted(verdict.missing) if verdict.__class__ is Unknown else []
            outcome = ProgramOutcome(
                prog.id,
                spec.label.zh,
                spec.label.en,
                _status(verdict),
                amount if verdict is True else ZERO,
                prog.unit,
                reasons,
                missing,
            )
            if explain and prog.program.amount is not None and verdict is True:
                outcome.amount_explanation = self._amount_explanation(prog, ctx, None)
            ctx.hh[prog.key_eligible] = verdict
            ctx.hh[prog.key_amount] = (
                amount if verdict is True else (verdict if verdict.__class__ is Unknown else ZERO)
            )
            return outcome
        members: dict[str, MemberOutcome] = {}
        for mid, md in zip(member_ids, ctx.members, strict=True):
            verdict, reasons = self._conditions(prog, ctx, md, explain)
            amount = ZERO
            if verdict is True:
                amount = self._amount(prog, ctx, md)
                if amount.__class__ is Unknown:
                    verdict = amount
            status = _status(verdict)
            missing = sorted(verdict.missing) if status is Status.undetermined else []
            members[mid] = MemberOutcome(
                status, amount if verdict is True else ZERO, reasons, missing
            )
            if explain and prog.program.amount is not None and verdict is True:
                members[mid].amount_explanation = self._amount_explanation(prog, ctx, md)
            md[prog.key_eligible] = verdict
            md[prog.key_amount] = (
                amount if verdict is True else (verdict if status is Status.undetermined else ZERO)
            )
        outcome = self._member_total(prog.id, spec.label.zh, spec.label.en, prog.unit, members)
        self._store_household(prog.id, outcome, ctx)
        return outcome

    def _amount_explanation(self, prog: _Program, ctx: EvalContext, m: Any) -> dict[str, Any]:
        """The amount formula with the values it read (for one member of a member program)."""
        assert prog.program.amount is not None
        values, params = self._trace(prog.program.amount, ctx, m)
        return {
            "expression": prog.program.amount.source,
            "values": values,
            "parameters": {
                p.name: {
                    "value": p.value,
                    "confidence": p.confidence,
                    "since": p.since,
                    "since_assumed": p.since_assumed,
                    "citation": p.citation(),
                }
                for p in params
            },
        }

    @staticmethod
    def _member_total(
        pid: str, zh: str, en: str, unit: str, members: dict[str, MemberOutcome]
    ) -> ProgramOutcome:
        statuses = [m.status for m in members.values()]
        if Status.eligible in statuses:
            status = Status.eligible
        elif Status.undetermined in statuses:
            status = Status.undetermined
        else:
            status = Status.ineligible
        total = sum((m.amount for m in members.values() if m.status is Status.eligible), ZERO)
        missing = sorted({x for m in members.values() for x in m.missing})
        return ProgramOutcome(
            pid,
            zh,
            en,
            status,
            total,
            unit,
            [],
            missing if status is not Status.eligible else [],
            members=members,
        )

    @staticmethod
    def _store_household(pid: str, outcome: ProgramOutcome, ctx: EvalContext) -> None:
        if outcome.status is Status.eligible:
            ctx.hh[f"programs.{pid}.eligible"] = True
            ctx.hh[f"programs.{pid}.amount"] = outcome.amount
        elif outcome.status is Status.undetermined:
            u = Unknown(frozenset(outcome.missing))
            ctx.hh[f"programs.{pid}.eligible"] = u
            ctx.hh[f"programs.{pid}.amount"] = u
        else:
            ctx.hh[f"programs.{pid}.eligible"] = False
            ctx.hh[f"programs.{pid}.amount"] = ZERO

    # -- exclusions ------------------------------------------------------------------------
    def _exclude(self, exc: Any, outcomes: dict[str, ProgramOutcome], ctx: EvalContext) -> None:
        present = [p for p in exc.programs if p in outcomes]
        all_member = all(outcomes[p].members is not None for p in present)
        if all_member:
            for mid, md in zip(list(outcomes[present[0]].members or {}), ctx.members, strict=False):
                units = {p: outcomes[p].members[mid] for p in present}  # type: ignore[index]
                for loser, winner in _losers(exc.keep, present, units):
                    self._drop(units[loser], units[winner], exc.id, winner)
                    md[f"programs.{loser}.eligible"] = (
                        False
                        if units[loser].status is Status.ineligible
                        else Unknown(frozenset(units[loser].missing))
                    )
                    md[f"programs.{loser}.amount"] = ZERO
            for p in present:
                o = outcomes[p]
                total = self._member_total(p, o.label_zh, o.label_en, o.unit, o.members or {})
                o.status, o.amount, o.missing = total.status, total.amount, total.missing
                self._store_household(p, o, ctx)
            return
        whole = {p: outcomes[p] for p in present}
        for loser, winner in _losers(exc.keep, present, whole):
            self._drop(whole[loser], whole[winner], exc.id, winner)
            lost = whole[loser]
            if lost.members:
                for mo in lost.members.values():
                    mo.status, mo.amount = lost.status, ZERO
            self._store_household(loser, whole[loser], ctx)

    @staticmethod
    def _drop(loser: Any, winner: Any, exclusion: str, winner_id: str) -> None:
        """The loser is not paid: ineligible when the winner is eligible, undetermined when the
        winner's own answer is."""
        if winner.status is Status.eligible:
            loser.status = Status.ineligible
            loser.missing = []
        else:
            loser.status = Status.undetermined
            loser.missing = sorted(set(loser.missing) | set(winner.missing))
        loser.amount = ZERO
        if isinstance(loser, ProgramOutcome):
            loser.excluded_by = f"{exclusion}: {winner_id}"
        loser.reasons = [
            *loser.reasons,
            ConditionOutcome(
                f"excluded_by_{winner_id}",
                f"不与{winner_id}同时享受",
                f"not paid together with {winner_id}",
                f"exclusion {exclusion}",
                None if loser.status is Status.undetermined else False,
            ),
        ]

    # -- explanation -----------------------------------------------------------------------
    def _trace(
        self, expr: Expr, ctx: EvalContext, m: Any
    ) -> tuple[dict[str, str], list[ParameterUse]]:
        values: dict[str, str] = {}
        params: list[ParameterUse] = []
        seen: set[str] = set()
        for name in sorted(self._indirect_parameters(expr)):
            seen.add(f"param:{name}:None")
            params.append(self._parameter_use(name))
        for sym in expr.checked.symbols.values():
            if sym.loop_var is not None:
                continue
            key = f"{sym.kind}:{sym.name}:{sym.field}"
            if key in seen:
                continue
            seen.add(key)
            if sym.kind == "param":
                params.append(self._parameter_use(sym.name))
                continue
            if sym.kind == "program":
                name = f"programs.{sym.name}.{sym.field}"
                value = (m if sym.per_member else ctx.hh).get(name)
            elif sym.kind == "household":
                name = sym.name
                value = ctx.hh.get(name)
                if value is None and name in self.household_fns:
                    value = ctx.hh[name] = self.household_fns[name](ctx, None)
            else:
                name = sym.name
                value = m.get(name) if m is not None else None
                if value is None and m is not None and name in self.member_fns:
                    value = m[name] = self.member_fns[name](ctx, m)
            values[name] = _show(value)
        return values, params

    def _indirect_parameters(self, expr: Expr) -> set[str]:
        """Parameters an expression reads, directly or through the variables it uses."""
        out = set(expr.checked.references("param"))
        for kind in ("household", "member"):
            for name in expr.checked.references(kind):
                out |= names_of(self.pack.closure(DepNode.variable(name)), DepKind.PARAMETER)
        return {n for n in out if n in self.parameters}

    def _parameter_use(self, name: str) -> ParameterUse:
        pv = self.parameters[name]
        spec = self.pack.parameters[name]
        return ParameterUse(
            name,
            _show(pv.value),
            str(spec.unit.value),
            spec.label.zh,
            spec.label.en,
            pv.confidence.value,
            pv.since.isoformat() if pv.since else None,
            pv.source.model_dump(exclude_none=True),
            pv.formula,
            pv.since_assumed,
            pv.rule_confidence.value if pv.rule_confidence else None,
            {
                i.name: {
                    "value": _show(i.value),
                    "confidence": i.confidence.value,
                    "since": i.since.isoformat() if i.since else None,
                    "since_assumed": i.since_assumed,
                }
                for i in pv.inputs
            }
            if pv.formula
            else None,
        )


def _losers(keep: str, present: list[str], units: dict[str, Any]):
    """(loser, winner) pairs among an exclusion's programs that are eligible or undetermined."""
    live = [p for p in present if units[p].status is not Status.ineligible]
    if len(live) < 2:
        return []
    if keep == "first":
        winner = live[0]
    else:
        winner = max(live, key=lambda p: (units[p].amount, -present.index(p)))
    return [(p, winner) for p in live if p != winner]


def _show(value: Any) -> str:
    if value.__class__ is Unknown:
        return f"unknown ({', '.join(sorted(value.missing))})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        q = value.quantize(Decimal("0.0001")).normalize()
        return f"{q:f}"
    return str(value)


def bind(pack: Pack, on: dt.date) -> ReferenceEvaluator:
    """The reference evaluator of ``pack`` on ``on`` (compiled once per pack and date)."""
    return pack.plan(on).compiled(ReferenceEvaluator)


def evaluate(
    pack: Pack, household: Household | dict[str, Any], on: dt.date, *, explain: bool = False
) -> Evaluation:
    """One household on a date; ``explain`` adds each condition's values and the parameters
    used, with their citations."""
    return bind(pack, on).evaluate(household, explain=explain)
