"""A pack and its alerts compiled for one date, and the facts an event gives its rules.

:class:`Binding` holds the reference backend's pack bound to the date (for re-evaluation) plus
closures for the alert rules and the variables they read. :func:`event_context` builds the
evaluation context after an event, with the monitor-supplied names (``previous.*``, ``event.*``,
``member.*``) filled in, so both engines read exactly the same values.

Per event, this is most of the monitor's work outside re-evaluation, so contexts compute a fact
only when a rule reads it, and a ``previous.*`` value the event cannot have changed is read
(once) after the event instead of in a second context built for the household before it.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

from minzheng_rules.backends.reference._compiler import (
    EvalContext,
    Fn,
    compile_expression,
    compile_table,
    household_value,
    member_value,
)
from minzheng_rules.backends.reference._evaluator import ReferenceEvaluator, bind
from minzheng_rules.model._facts import (
    HOUSEHOLD_FACTS,
    RECEIVING_PREFIXES,
    facts_reading,
    lazy_facts,
)
from minzheng_rules.model._household import Household
from minzheng_rules.model._results import Evaluation
from minzheng_rules.model._values import Unknown
from minzheng_rules.monitor import _events as E
from minzheng_rules.monitor._alerts import AlertSet, CompiledAlert, base_name
from minzheng_rules.monitor._records import AlertReason, Label
from minzheng_rules.packs._pack import ParameterValue


def period_key(alertset: AlertSet, on: dt.date) -> tuple:
    """What decides every program's result on a date besides the facts: which value of each
    parameter is in force and which programs are (and the date itself when a program reads it).
    Two dates with the same key share compiled rules."""
    pack = alertset.pack
    entries = []
    for spec in pack.parameters.values():
        if spec.history is not None:
            i = -1
            for j, h in enumerate(spec.history):
                if h.since > on:
                    break
                i = j
            entries.append(i)
    active = tuple(pid for pid in pack.order if pack.programs[pid].in_force(on))
    return (active, tuple(entries), on if alertset.programs_read_date else None)


class Binding:
    """Everything the monitor runs on one date. Compiled once per period (see
    :func:`period_key`); another date of the same period reuses the closures of ``like``."""

    bound: ReferenceEvaluator

    def __init__(self, alertset: AlertSet, on: dt.date, like: Binding | None = None) -> None:
        if like is not None:
            self.__dict__.update(like.__dict__)
            self.date = on
            self.bound = like.bound.on(on)  # its closures do not depend on the date
            return
        pack = alertset.pack
        self.alertset = alertset
        self.date = on
        self.period_key = period_key(alertset, on)
        self.bound = bind(pack, on)  # the reference backend, for re-evaluating households
        self.program_ids = list(pack.programs)
        self.parameters: dict[str, ParameterValue] = {
            n: pack.parameter(n, on) for n in sorted(alertset.params)
        }
        self.values: dict[str, Any] = {n: pv.value for n, pv in self.parameters.items()}
        self.household_fns: dict[str, Fn] = dict(self.bound.household_fns)
        self.member_fns: dict[str, Fn] = dict(self.bound.member_fns)
        for name in sorted(alertset.household_vars | alertset.member_vars):
            target = self.member_fns if _entity(pack, name) == "member" else self.household_fns
            if name in target:
                continue
            if name in pack.variables:
                target[name] = compile_expression(pack.variables[name].checked, self.values)
            else:
                values = {**self.bound.bound.values, **self.values}
                target[name] = compile_table(name, pack.tables[name], values)
        self.engine_cache: dict[str, Any] = {}  # what an engine compiles once per period
        self.reason_cache: dict[int, _ReasonParts] = {}  # what reasons() shows of each alert
        self.predicates: dict[int, Fn] = {
            a.index: compile_expression(a.expr.checked, self.values) for a in alertset.alerts
        }

    def parameter(self, name: str) -> ParameterValue:
        return self.parameters[name]

    def evaluate(self, household: Household) -> Evaluation:
        return self.bound.evaluate(household)


def _entity(pack: Any, name: str) -> str:
    if name in pack.variables:
        return pack.variables[name].checked.entity
    return pack.tables[name].spec.entity


def context(binding: Binding, h: Household) -> EvalContext:
    """A fresh evaluation context for ``h`` on the binding's date (facts filled in on demand:
    alert rules read a handful of them)."""
    hh, members = lazy_facts(h, binding.date, binding.program_ids)
    return EvalContext(binding, hh, members)


def _member_dict(ctx: EvalContext, h: Household, member_id: str) -> dict[str, Any] | None:
    for m, md in zip(h.members, ctx.members, strict=True):
        if m.id == member_id:
            return md
    return None


def changed_facts(event: E.AnyEvent) -> frozenset[str] | None:
    """The fact names an event can change (None: possibly any, e.g. a member joins or leaves).

    Applying the event changes only these (see :func:`minzheng_rules.monitor._state.apply_event`),
    so a value that reads none of them is the same before and after it on the same date."""
    match event:
        case E.Tick() | E.Assessment():
            return frozenset()
        case E.IncomeChange():
            return _INCOME
        case E.MedicalExpense():
            return _MEDICAL
        case E.DisabilityAssessed():
            return _DISABILITY
        case E.MemberChanged():
            return frozenset(n for k in event.changes for n in facts_reading("member", k))
    return None


_INCOME = frozenset({"monthly_income"})
_MEDICAL = frozenset({"expenses.medical_12m"})
_DISABILITY = frozenset({"disability_grade", "disability_type"})


def _same_after(alertset: AlertSet, name: str, changed: frozenset[str] | None) -> bool:
    """True when the household fact or variable ``name`` cannot differ before and after an
    event that changes the facts ``changed``."""
    if changed is None:
        return False
    if name in HOUSEHOLD_FACTS or name.startswith(RECEIVING_PREFIXES):
        return name not in changed
    facts = alertset.variable_facts(name) if name in alertset.household_vars else None
    return facts is not None and facts.isdisjoint(changed)


@functools.cache
def _parsed(extras: frozenset[str]) -> tuple[tuple[str, str, str], ...]:
    """``(name, kind, base)`` of each monitor-supplied name (a few sets per pack)."""
    return tuple((name, *base_name(name)) for name in extras)


def event_context(
    binding: Binding,
    event: E.AnyEvent,
    before: Household,
    after: Household,
    extras: frozenset[str],
) -> EvalContext:
    """The context after ``event`` with the ``extras`` names alerts read filled in.

    The context before the event is only built when a value must be read from it: when the
    event leaves the household as it was (``after is before``, e.g. a tick) or changes no fact a
    ``previous.<name>`` reads, the value before is the value after on the same date, and is
    read (and computed once) in the context after."""
    ctx = context(binding, after)
    if not extras:
        return ctx
    alertset = binding.alertset
    changed = frozenset() if after is before else changed_facts(event)
    prev_ctx: EvalContext | None = ctx if after is before else None

    def prev() -> EvalContext:
        nonlocal prev_ctx
        if prev_ctx is None:
            prev_ctx = context(binding, before)
        return prev_ctx

    member_id = getattr(event, "member", None)
    if member_id is not None and not isinstance(member_id, str):
        member_id = member_id.id  # member_added carries the whole member
    values: dict[str, Any] = {}
    for name, kind, base in _parsed(extras):
        value: Any
        if kind == "previous":
            value = household_value(ctx if _same_after(alertset, base, changed) else prev(), base)
        elif kind == "event":
            value = getattr(event, base)
        elif kind == "member":
            md = _member_dict(ctx, after, member_id) if member_id is not None else None
            if md is not None:
                value = member_value(ctx, md, base)
            else:  # member_died: the member as they were
                p = prev()
                md = _member_dict(p, before, member_id) if member_id is not None else None
                value = member_value(p, md, base) if md is not None else Unknown(frozenset({name}))
        else:  # previous_member
            p = prev()
            md = _member_dict(p, before, member_id) if member_id is not None else None
            value = member_value(p, md, base) if md is not None else Unknown(frozenset({name}))
        values[name] = value
    ctx.hh.update(values)  # after reading them all: the context before may be this one
    return ctx


def show(value: Any) -> Any:
    """A value as JSON shows it in reasons: exact decimals as text, unknown as null."""
    if value.__class__ is Unknown:
        return None
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        q = value.quantize(Decimal("0.0001")).normalize()
        return f"{q:f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_ReasonParts = tuple[tuple[str, ...], dict[str, dict[str, Any]]]
"""The household names an alert's reasons show, and its parameters' entries."""


def _reason_parts(binding: Binding, alert: CompiledAlert) -> _ReasonParts:
    """What :func:`reasons` shows that does not depend on the household: the household names
    the rule reads (first-read order) and its parameters' entries, once per period."""
    parts = binding.reason_cache.get(alert.index)
    if parts is None:
        names: dict[str, None] = {}
        params: dict[str, dict[str, Any]] = {}
        for sym in alert.expr.checked.symbols.values():
            if sym.loop_var is not None:
                continue
            if sym.kind == "param":
                pv = binding.parameter(sym.name)
                spec = binding.alertset.pack.parameters[sym.name]
                params[sym.name] = {
                    "value": show(pv.value),
                    "unit": str(spec.unit.value),
                    "label": {"zh": spec.label.zh, "en": spec.label.en},
                    "confidence": pv.confidence.value,
                    "source": pv.source.model_dump(exclude_none=True),
                }
            elif sym.kind == "household":
                names[sym.name] = None
        parts = binding.reason_cache[alert.index] = (tuple(names), dict(sorted(params.items())))
    return parts


def reasons(binding: Binding, alert: CompiledAlert, ctx: EvalContext) -> AlertReason:
    """Why an alert fired: its rule, every name it read with its value, the parameters cited
    (rendered to new dicts each time: see :meth:`AlertReason.to_json`)."""
    names, params = _reason_parts(binding, alert)
    values: dict[str, Any] = {}
    missing: set[str] = set()
    for name in names:
        v = household_value(ctx, name)
        if v.__class__ is Unknown:
            missing |= v.missing
        values[name] = show(v)
    return AlertReason(
        alert=alert.id,
        label=Label(alert.spec.label.zh, alert.spec.label.en),
        when=alert.expr.source.strip(),
        values=dict(sorted(values.items())),
        parameters=params,
        missing=sorted(missing) if missing else (),
    )
