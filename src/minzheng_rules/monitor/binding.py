"""A pack and its alerts compiled for one date, and the facts an event gives its rules.

:class:`Binding` holds the reference backend's pack bound to the date (for re-evaluation) plus
closures for the alert rules and the variables they read. :func:`event_context` builds the
evaluation context after an event, with the monitor-supplied names (``previous.*``, ``event.*``,
``member.*``) filled in, so both engines read exactly the same values.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from minzheng_rules.backends.reference.compiler import EvalContext, Fn, compile_expression
from minzheng_rules.expr.runtime import Unknown
from minzheng_rules.facts import household_facts, member_facts, receiving_values
from minzheng_rules.household import Household
from minzheng_rules.monitor.alerts import AlertSet, CompiledAlert, base_name
from minzheng_rules.packs.pack import ParameterValue

_MISSING = object()


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

    def __init__(self, alertset: AlertSet, on: dt.date, like: Binding | None = None) -> None:
        if like is not None:
            self.__dict__.update(like.__dict__)
            self.date = on
            self.bound = copy.copy(like.bound)  # its closures do not depend on the date
            self.bound.date = on
            return
        pack = alertset.pack
        self.alertset = alertset
        self.date = on
        self.period_key = period_key(alertset, on)
        self.bound = pack.bind(on)  # the reference backend, for re-evaluating households
        self.program_ids = list(pack.programs)
        self.parameters: dict[str, ParameterValue] = {
            n: pack.parameter(n, on) for n in sorted(alertset.params)
        }
        self.values: dict[str, Any] = {n: pv.value for n, pv in self.parameters.items()}
        self.household_fns: dict[str, Fn] = dict(self.bound.household_fns)
        self.member_fns: dict[str, Fn] = dict(self.bound.member_fns)
        tables = None
        for name in sorted(alertset.household_vars | alertset.member_vars):
            target = self.member_fns if _entity(pack, name) == "member" else self.household_fns
            if name in target:
                continue
            if name in pack.variables:
                target[name] = compile_expression(pack.variables[name].checked, self.values)
            else:
                if tables is None:  # the reference backend's table semantics, our parameters
                    tables = copy.copy(self.bound)
                    tables._values = {**self.bound._values, **self.values}
                target[name] = tables._table(name, pack.tables[name])
        self.engine_cache: dict[str, Any] = {}  # what an engine compiles once per period
        self.predicates: dict[int, Fn] = {
            a.index: compile_expression(a.expr.checked, self.values) for a in alertset.alerts
        }

    def parameter(self, name: str) -> ParameterValue:
        return self.parameters[name]

    def evaluate(self, household: Household) -> Any:
        return self.bound.evaluate(household)


def _entity(pack: Any, name: str) -> str:
    if name in pack.variables:
        return pack.variables[name].checked.entity
    return pack.tables[name].spec.entity


def context(binding: Binding, h: Household) -> EvalContext:
    """A fresh evaluation context for ``h`` on the binding's date."""
    on = binding.date
    hh = household_facts(h, on)
    hh.update(receiving_values(h, binding.program_ids))
    return EvalContext(binding, hh, member_facts(h, on))


def household_value(ctx: EvalContext, name: str) -> Any:
    """A household fact or variable, computed once per context."""
    v = ctx.hh.get(name, _MISSING)
    if v is _MISSING:
        v = ctx.hh[name] = ctx.bound.household_fns[name](ctx, None)
    return v


def member_value(ctx: EvalContext, md: dict[str, Any], name: str) -> Any:
    v = md.get(name, _MISSING)
    if v is _MISSING:
        v = md[name] = ctx.bound.member_fns[name](ctx, md)
    return v


def _member_dict(ctx: EvalContext, h: Household, member_id: str) -> dict[str, Any] | None:
    for m, md in zip(h.members, ctx.members, strict=True):
        if m.id == member_id:
            return md
    return None


def event_context(
    binding: Binding, event: Any, before: Household, after: Household, extras: frozenset[str]
) -> EvalContext:
    """The context after ``event`` with the ``extras`` names alerts read filled in."""
    ctx = context(binding, after)
    if not extras:
        return ctx
    prev = context(binding, before)
    member_id = getattr(event, "member", None)
    if member_id is not None and not isinstance(member_id, str):
        member_id = member_id.id  # member_added carries the whole member
    md_after = md_before = None
    ctx_member = ctx
    if member_id is not None:
        md_after = _member_dict(ctx, after, member_id)
        md_before = _member_dict(prev, before, member_id)
        if md_after is None:  # member_died: the member as they were
            md_after, ctx_member = md_before, prev
    for name in extras:
        kind, base = base_name(name)
        value: Any
        if kind == "previous":
            value = household_value(prev, base)
        elif kind == "event":
            value = getattr(event, base)
        elif kind == "member":
            value = (
                member_value(ctx_member, md_after, base)
                if md_after is not None
                else Unknown(frozenset({name}))
            )
        else:  # previous_member
            value = (
                member_value(prev, md_before, base)
                if md_before is not None
                else Unknown(frozenset({name}))
            )
        ctx.hh[name] = value
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


def reasons(binding: Binding, alert: CompiledAlert, ctx: EvalContext) -> dict[str, Any]:
    """Why an alert fired: its rule, every name it read with its value, the parameters cited."""
    values: dict[str, Any] = {}
    missing: set[str] = set()
    params: dict[str, Any] = {}
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
            v = household_value(ctx, sym.name)
            if v.__class__ is Unknown:
                missing |= v.missing
            values[sym.name] = show(v)
    out: dict[str, Any] = {
        "alert": alert.id,
        "label": {"zh": alert.spec.label.zh, "en": alert.spec.label.en},
        "when": alert.expr.source.strip(),
        "values": dict(sorted(values.items())),
        "parameters": dict(sorted(params.items())),
    }
    if missing:
        out["missing"] = sorted(missing)
    return out
