"""The run loop: apply each event to its household, ask the engine which alerts fire, re-evaluate
the household with the pack, and write what changed.

An output record is written for every alert that fires, and for every event after which the
household's programs changed even when no rule fired (``eligibility_changed``: newly eligible =
主动发现, no longer eligible = a 渐退期 starts). Each record carries the household's visiting
tier (``high`` = 高风险和重点, ``normal`` = 一般) after the event.

Nothing on input stops the run: a malformed, unknown-household, out-of-order, duplicate or
inapplicable event is reported with its line number and skipped, and the household's state is
only written once everything about the event has been computed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from minzheng_rules.errors import MinzhengError, suggest
from minzheng_rules.expr.runtime import money
from minzheng_rules.household import Household
from minzheng_rules.monitor import events as E
from minzheng_rules.monitor.alerts import AlertSet
from minzheng_rules.monitor.binding import Binding, event_context, period_key, reasons
from minzheng_rules.monitor.engines import make_engine
from minzheng_rules.monitor.events import EventError, read_events
from minzheng_rules.monitor.state import EventRefused, HouseholdState, add_months, apply_event
from minzheng_rules.packs.pack import Pack
from minzheng_rules.results import Status

HIGH_TIER_MONTHS = "monitor.high_tier_months"
PHASE_OUT_MONTHS = "monitor.phase_out_months"
MAX_REPORTED_ERRORS = 100
BUILTIN_ALERTS = {
    "eligibility_changed": {"zh": "救助资格变化（主动发现/渐退）", "en": "Programs changed"},
    "phase_out_ended": {"zh": "渐退期结束", "en": "Gradual exit (渐退期) ended"},
}


class Monitor:
    """Households under watch, one pack, one engine."""

    def __init__(
        self,
        pack: Pack,
        households: Iterable[Household],
        engine: str = "python",
        shards: int = 64,
        bindings: int = 64,
        always_evaluate: bool = False,
        compact: bool = True,
    ) -> None:
        self.pack = pack
        self.always_evaluate = always_evaluate
        self.alertset = AlertSet.from_pack(pack)
        self.engine = make_engine(engine, self.alertset, shards)
        self.states: dict[str, HouseholdState] = {}
        self.duplicates: list[str] = []  # household ids given twice (the first one is kept)
        for h in households:
            if h.id in self.states:
                self.duplicates.append(h.id)
            else:
                self.states[h.id] = HouseholdState(h, compact)
        self._bindings: OrderedDict[dt.date, tuple[Binding, int | None, int | None]] = OrderedDict()
        self._max_bindings = bindings
        self._sets: dict[frozenset[str], frozenset[str]] = {}
        self._periods: dict[tuple, Binding] = {}
        labels = getattr(getattr(pack, "relief", None), "labels", None)
        self._need_labels: set[str] = set(labels or ())
        self.counts: Counter[str] = Counter()
        self.alert_counts: Counter[str] = Counter()
        self.error_counts: Counter[str] = Counter()
        self.newly: Counter[str] = Counter()
        self.gone: Counter[str] = Counter()
        self.errors: list[dict[str, Any]] = []

    # -- per date --------------------------------------------------------------------------
    def _binding(self, on: dt.date) -> tuple[Binding, int | None, int | None]:
        hit = self._bindings.get(on)
        if hit is not None:
            self._bindings.move_to_end(on)
            return hit
        key = period_key(self.alertset, on)
        like = self._periods.get(key)
        binding = Binding(self.alertset, on, like)
        if like is None:
            if len(self._periods) >= self._max_bindings:
                self._periods.clear()
            self._periods[key] = binding
        hit = (binding, self._months(HIGH_TIER_MONTHS, on), self._months(PHASE_OUT_MONTHS, on))
        self._bindings[on] = hit
        if len(self._bindings) > self._max_bindings:
            self._bindings.popitem(last=False)
        return hit

    def _months(self, name: str, on: dt.date) -> int | None:
        """A monitoring period in months from the pack, or None when the pack has none."""
        if name not in self.pack.parameters:
            return None
        return int(self.pack.parameter(name, on).value)

    def _eligible(self, evaluation: Any) -> frozenset[str]:
        s = frozenset(pid for pid, o in evaluation.programs.items() if o.status is Status.eligible)
        return self._sets.setdefault(s, s)  # many households share a set: keep one copy

    # -- per event -------------------------------------------------------------------------
    def _error(self, err: EventError) -> list[dict[str, Any]]:
        self.counts["skipped"] += 1
        self.error_counts[err.kind] += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(err.to_dict())
        return []

    def process(self, line: int, event: Any) -> list[dict[str, Any]]:
        """The records an event produces; an event that cannot apply is reported and skipped."""
        self.counts["events"] += 1
        if isinstance(event, EventError):
            return self._error(event)
        state = self.states.get(event.household)
        if state is None:
            return self._error(
                EventError(
                    line,
                    f"household '{event.household}' is not on the register",
                    "unknown_household",
                    event.id,
                    event.household,
                )
            )
        problem = state.order_problem(event)
        if problem is not None:
            return self._error(EventError(line, problem[1], problem[0], event.id, event.household))
        try:
            return self._apply(line, event, state)
        except EventRefused as err:
            kind, message = "invalid", str(err)
        except MinzhengError as err:
            kind, message = "not_evaluable", str(err)
        except Exception as err:  # a bug must not stop the watch over every other household
            kind, message = "internal", f"{type(err).__name__}: {err}"
        return self._error(EventError(line, message, kind, event.id, event.household))

    def _apply(self, line: int, event: Any, state: HouseholdState) -> list[dict[str, Any]]:
        binding, high_months, phase_months = self._binding(event.date)
        before = state.household
        if isinstance(event, E.Assessment):
            self._check_needs(event)
        after = apply_event(before, event)
        ctx = event_context(
            binding, event, before, after, self.alertset.extras_by_event[event.type]
        )
        fired = self.engine.fire(event, ctx, binding)
        previous, key = state.eligible, state.period_key
        if previous is None:
            previous, key = self._eligible(binding.evaluate(before)), binding.period_key
        evaluation = None
        if self._unchanged(event, before, key, binding, state):
            now = previous
        else:
            evaluation = binding.evaluate(after)
            now = self._eligible(evaluation)
        newly = sorted(now - previous)
        gone = sorted(previous - now)
        # everything is computed: from here on the household's state changes
        phase_out = state.phase_out or {}
        ended = sorted(
            p for p, until in phase_out.items() if until is not None and until < event.date
        )
        for p in ended:
            del phase_out[p]
        for p in newly:
            phase_out.pop(p, None)
        for p in gone:
            phase_out[p] = (
                add_months(event.date, phase_months) if phase_months is not None else None
            )
        state.phase_out = phase_out or None
        if any(a.tier == "high" for a in fired):
            state.tier_until = (
                add_months(event.date, high_months) if high_months is not None else dt.date.max
            )
        tier = _tier(state, event.date)
        state.accept(event, before, after)
        state.eligible, state.period_key = now, binding.period_key
        self.counts["applied"] += 1
        self.newly.update(newly)
        self.gone.update(gone)
        if not fired and not newly and not gone and not ended:
            return []
        base = {
            "event": event.id,
            "line": line,
            "household": event.household,
            "date": event.date.isoformat(),
            "type": event.type,
        }
        shared = {
            "tier": tier,
            "newly_eligible": newly,
            "no_longer_eligible": gone,
        }
        if gone:
            shared["phase_out_until"] = {
                p: (d.isoformat() if d is not None else None)
                for p in gone
                for d in [phase_out.get(p)]
            }
        program_reasons = [_program_change(evaluation, p) for p in (*newly, *gone)]
        assert evaluation is not None or not program_reasons
        records = []
        for a in fired:
            self.alert_counts[a.id] += 1
            records.append(
                {
                    **base,
                    "alert": a.id,
                    "label": {"zh": a.spec.label.zh, "en": a.spec.label.en},
                    "alert_tier": a.tier,
                    **shared,
                    "reasons": [reasons(binding, a, ctx), *program_reasons],
                }
            )
        if not fired and (newly or gone):
            self.alert_counts["eligibility_changed"] += 1
            records.append(
                {
                    **base,
                    "alert": "eligibility_changed",
                    "label": BUILTIN_ALERTS["eligibility_changed"],
                    "alert_tier": None,
                    **shared,
                    "reasons": program_reasons,
                }
            )
        if ended:
            self.alert_counts["phase_out_ended"] += 1
            records.append(
                {
                    **base,
                    "alert": "phase_out_ended",
                    "label": BUILTIN_ALERTS["phase_out_ended"],
                    "alert_tier": None,
                    **shared,
                    "reasons": [
                        {"program": p, "phase_out_ended_before": event.date.isoformat()}
                        for p in ended
                    ],
                }
            )
        self.counts["records"] += len(records)
        return records

    def _unchanged(
        self, event: Any, before: Household, key: tuple | None, binding: Binding, state: Any
    ) -> bool:
        """True when the event cannot change any program's result: it changes no fact a program
        reads, the date gives the same parameters and programs, and no age moved."""
        if self.always_evaluate or key != binding.period_key:
            return False
        changed = changed_facts(event)
        if changed is None or not changed.isdisjoint(self.alertset.programs_read):
            return False
        moved = state.last_date is not None and state.last_date != event.date
        return not (moved and any(m.birth_date is not None for m in before.members))

    def _check_needs(self, event: Any) -> None:
        for lid in event.needs:
            if lid not in self._need_labels:
                hint = suggest(lid, self._need_labels)
                what = (
                    f"unknown need label '{lid}'"
                    if self._need_labels
                    else f"need label '{lid}': this pack has no needs model"
                )
                raise EventRefused(what + (f" (did you mean '{hint}'?)" if hint else ""))

    # -- whole runs ------------------------------------------------------------------------
    def run(
        self,
        lines: Iterable[str | bytes],
        write: Callable[[dict[str, Any]], None],
        on_error: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Process every line; ``write`` gets each record, then the summary."""
        for line, event in read_events(lines):
            before = self.counts["skipped"]
            for record in self.process(line, event):
                write(record)
            if on_error is not None and self.counts["skipped"] != before:
                on_error(self.last_error(line, event))
        summary = self.summary()
        write(summary)
        return summary

    def last_error(self, line: int, event: Any) -> dict[str, Any]:
        if self.errors and self.errors[-1]["line"] == line:
            return self.errors[-1]
        if isinstance(event, EventError):
            return event.to_dict()
        return {"line": line, "message": "skipped"}

    def summary(self) -> dict[str, Any]:
        """Counts for the whole run; tiers are each household's on the day of its last event."""
        tiers: Counter[str] = Counter(
            _tier(s, s.last_date) for s in self.states.values() if s.last_date is not None
        )
        return {
            "summary": {
                "pack": self.pack.id,
                "engine": self.engine.name,
                "households": len(self.states),
                "households_with_events": sum(tiers.values()),
                "events": self.counts["events"],
                "applied": self.counts["applied"],
                "skipped": self.counts["skipped"],
                "skipped_by_kind": dict(sorted(self.error_counts.items())),
                "records": self.counts["records"],
                "alerts": dict(sorted(self.alert_counts.items())),
                "tiers": {"high": tiers["high"], "normal": tiers["normal"]},
                "newly_eligible": dict(sorted(self.newly.items())),
                "no_longer_eligible": dict(sorted(self.gone.items())),
                "errors": self.errors,
            }
        }

    def close(self) -> None:
        self.engine.close()


def _tier(state: HouseholdState, on: dt.date) -> str:
    """The visiting tier on a date: high (高风险和重点) while a high alert's period runs."""
    return "high" if state.tier_until is not None and on <= state.tier_until else "normal"


def _program_change(evaluation: Any, pid: str) -> dict[str, Any]:
    """A program that changed: its status now, and how each of its conditions came out."""
    o = evaluation.programs[pid]
    out: dict[str, Any] = {
        "program": pid,
        "label": {"zh": o.label_zh, "en": o.label_en},
        "now": o.status.value,
        "conditions": {r.id: r.passed for r in o.reasons},
    }
    if o.status is Status.eligible:
        out["amount"] = str(money(o.amount)) if o.unit.startswith("CNY") else str(o.amount)
    if o.missing:
        out["missing"] = o.missing
    return out


def changed_facts(event: Any) -> frozenset[str] | None:
    """The fact names an event changes (None: possibly any, e.g. a member joins or leaves)."""
    match event:
        case E.Tick() | E.Assessment():
            return frozenset()
        case E.IncomeChange():
            return frozenset({"monthly_income"})
        case E.MedicalExpense():
            return frozenset({"expenses.medical_12m"})
        case E.DisabilityAssessed():
            return frozenset({"disability_grade", "disability_type"})
        case E.MemberChanged():
            return frozenset("age" if k == "birth_date" else k for k in event.changes)
    return None
