"""The run loop: apply each event to its household, ask the engine which alerts fire, re-evaluate
the household with the pack, and write what changed.

An output record is written for every alert that fires, and for every event after which the
household's programs changed even when no rule fired (``eligibility_changed``: newly eligible =
主动发现, no longer eligible = a 渐退期 starts). Each record carries the household's visiting
tier (``high`` = 高风险和重点, ``normal`` = 一般) after the event.

Nothing on input stops the run: a malformed, unknown-household, out-of-order, duplicate or
inapplicable event is reported with its line number and skipped, and the household's state is
only written once everything about the event has been computed.

Re-evaluating a household with the reference evaluator after each event was most of the run's
time, so by default events are taken a window at a time (:meth:`Monitor._window`): the
households they leave are judged together by the vectorized backend, which also gives what the
records show about a program that changed (its conditions, its amount). The reference evaluator
only runs for the few changes the backend's columns cannot tell (an undetermined program's
missing facts, an exclusion). The records are exactly those of ``window=1``, one event at a time
(tests/test_monitor_window.py, tests/test_monitor_judgement.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import itertools
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from minzheng_rules.model._errors import HouseholdError, MinzhengError, suggest
from minzheng_rules.model._household import Household
from minzheng_rules.model._results import Status
from minzheng_rules.model._values import shown_amount
from minzheng_rules.monitor import _events as E
from minzheng_rules.monitor._alerts import AlertSet
from minzheng_rules.monitor._binding import (
    Binding,
    changed_facts,
    event_context,
    period_key,
    reasons,
)
from minzheng_rules.monitor._engines import make_engine
from minzheng_rules.monitor._events import EventError, read_events
from minzheng_rules.monitor._state import (
    EventOrder,
    EventRefused,
    HouseholdState,
    add_months,
    apply_event,
    dated,
)
from minzheng_rules.packs._pack import Pack
from minzheng_rules.packs._schema import HIGH_TIER_MONTHS, PHASE_OUT_MONTHS

if TYPE_CHECKING:
    from minzheng_rules.monitor._vectorized import Vectorized

MAX_REPORTED_ERRORS = 100
WINDOW = 20_000
_MIN_WINDOW = 64
BUILTIN_ALERTS = {
    "eligibility_changed": {"zh": "救助资格变化（主动发现/渐退）", "en": "Programs changed"},
    "phase_out_ended": {"zh": "渐退期结束", "en": "Gradual exit (渐退期) ended"},
}


_PACK_FAILURES = ("not_evaluable", "internal")
UNEVALUABLE_LIMIT = 100  # events the pack failed on, none applied: the run stops


class PackCannotEvaluate(MinzhengError):
    """The pack failed on every event so far: watching on would skip every event."""


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
        window: int = WINDOW,
        horizon: dt.date | None = None,
    ) -> None:
        self.pack = pack
        self.horizon = horizon  # events dated after it are refused (a typo'd year)
        self._vectorized: Vectorized | None = None
        self.unbatched_reason: str | None = None  # why events are judged one at a time
        if window > 1:
            self._vectorized, self.unbatched_reason = _vectorized(pack)
        if self._vectorized is None:
            window = 1
        self.window = window  # events judged together (1: one at a time, the reference way)
        self._size = window
        self.reference_evaluations = 0  # events in windows whose changes the backend left
        self.fallbacks = 0  # events a window could not judge, processed one at a time
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

    # -- checkpoints -----------------------------------------------------------------------
    _SNAPSHOT = ("counts", "alert_counts", "error_counts", "newly", "gone", "errors", "horizon")

    def snapshot(self) -> dict[str, Any]:
        """What a checkpoint keeps (see :mod:`minzheng_rules.monitor._checkpoint`): every
        household's state and the run's counts; caches and the engine are made again."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self._SNAPSHOT}
        out["states"] = self.states
        out["pack"] = self.pack.id
        return out

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Go on from a :meth:`snapshot` (the register it was taken over is not read again)."""
        if snapshot.get("pack") != self.pack.id:
            raise MinzhengError(
                f"the checkpoint was taken with pack '{snapshot.get('pack')}', not "
                f"'{self.pack.id}'; cannot resume"
            )
        for name in self._SNAPSHOT:
            setattr(self, name, snapshot[name])
        self.states = snapshot["states"]
        self.duplicates = []

    def registered(self) -> Iterator[Household]:
        """The households under watch as the events left them, in register order."""
        for state in self.states.values():
            yield state.household

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
        if (
            err.kind in _PACK_FAILURES
            and not self.counts["applied"]
            and sum(self.error_counts[k] for k in _PACK_FAILURES) >= UNEVALUABLE_LIMIT
        ):
            raise PackCannotEvaluate(
                f"the pack '{self.pack.id}' could not evaluate any of the first "
                f"{UNEVALUABLE_LIMIT} events (line {err.line}: {err.message})"
            )
        return []

    def process(self, line: int, event: Any) -> list[dict[str, Any]]:
        """The records an event produces; an event that cannot apply is reported and skipped."""
        self.counts["events"] += 1
        if isinstance(event, EventError):
            return self._error(event)
        if self.horizon is not None and event.date > self.horizon:
            return self._error(self._beyond(line, event))
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
        except Exception as err:  # a bug must not stop the watch over every other household
            return self._error(self._refusal(line, event, err))

    def _apply(self, line: int, event: Any, state: HouseholdState) -> list[dict[str, Any]]:
        p = self._prepare(line, event, state, state)
        if p.first:
            assert p.before is not None  # only an unchanged tick leaves it unread
            previous = self._eligible(p.binding.evaluate(p.before))
        else:
            assert state.eligible is not None  # not the first event: judged before
            previous = state.eligible
        if p.unchanged:
            return self._commit(p, previous, previous, None)
        assert p.after is not None  # only an unchanged event leaves it unread
        evaluation = p.binding.evaluate(p.after)
        now = self._eligible(evaluation)
        changes = _reference_changes(evaluation.programs, previous, now)
        return self._commit(p, previous, now, changes)

    def _prepare(self, line: int, event: Any, state: HouseholdState, view: Any) -> _Pending:
        """Everything about an event that needs no evaluation of the household: the household
        after it, the alerts it fires, and whether its programs must be judged again. ``view``
        is the household as the events before this one left it (``state`` itself, or in a
        window a :class:`_Shadow` of the events not yet committed); nothing is changed."""
        binding, high_months, phase_months = self._binding(event.date)
        if (
            event.__class__ is E.Tick  # leaves the household as it was
            and event.type in self.alertset.silent_when_unchanged
            and view.eligible is not None
            and self._unchanged(event, view.period_key, binding, view)
        ):  # nothing to fire and nothing to judge: the household need not even be read
            return _Pending(
                line, event, state, None, None, binding, high_months, phase_months,
                None, [], False, True,
            )  # fmt: skip
        before = view.household
        if isinstance(event, E.Assessment):
            self._check_needs(event)
        after = apply_event(before, event)
        if after is before and event.type in self.alertset.silent_when_unchanged:
            ctx, fired = None, []  # no rule can fire (see cannot_fire_unchanged): none asked
        else:
            ctx = event_context(
                binding, event, before, after, self.alertset.extras_by_event[event.type]
            )
            fired = self.engine.fire(event, ctx, binding)
        first = view.eligible is None
        key = binding.period_key if first else view.period_key
        unchanged = self._unchanged(event, key, binding, view)
        return _Pending(
            line, event, state, before, after, binding, high_months, phase_months,
            ctx, fired, first, unchanged,
        )  # fmt: skip

    def _commit(
        self,
        p: _Pending,
        previous: frozenset[str],
        now: frozenset[str],
        changes: dict[str, dict[str, Any]] | None,
    ) -> list[dict[str, Any]]:
        """Write what an event did to its household's state, and the records it produces;
        ``changes`` holds the records' entry for each program that changed (see
        :func:`_program_change`)."""
        event, state, fired = p.event, p.state, p.fired
        binding, phase_months = p.binding, p.phase_months
        if now == previous:  # most events: no program changed (skip the set arithmetic)
            newly = gone = _NONE
        else:
            newly = sorted(now - previous)
            gone = sorted(previous - now)
            self.newly.update(newly)
            self.gone.update(gone)
        # everything is computed: from here on the household's state changes
        ended = _NONE
        if state.phase_out is not None or gone:
            phase_out = state.phase_out or {}
            ended = sorted(
                pid for pid, until in phase_out.items() if until is not None and until < event.date
            )
            for pid in ended:
                del phase_out[pid]
            for pid in newly:
                phase_out.pop(pid, None)
            for pid in gone:
                phase_out[pid] = (
                    add_months(event.date, phase_months) if phase_months is not None else None
                )
            state.phase_out = phase_out or None
        if fired and any(a.tier == "high" for a in fired):
            state.tier_until = (
                add_months(event.date, p.high_months) if p.high_months is not None else dt.date.max
            )
        state.accept(event, p.before, p.after)
        state.eligible, state.period_key = now, binding.period_key
        self.counts["applied"] += 1
        if not fired and not newly and not gone and not ended:
            return []
        tier = _tier(state, event.date)
        phase_out = state.phase_out or {}
        base = {
            "event": event.id,
            "line": p.line,
            "household": event.household,
            "date": event.date.isoformat(),
            "type": event.type,
        }
        shared: dict[str, str | list[str] | dict[str, str | None]] = {
            "tier": tier,
            "newly_eligible": list(newly),
            "no_longer_eligible": list(gone),
        }
        if gone:
            shared["phase_out_until"] = {
                pid: (d.isoformat() if d is not None else None)
                for pid in gone
                for d in [phase_out.get(pid)]
            }
        program_reasons = (
            [changes[pid] for pid in (*newly, *gone)]  # type: ignore[index]
            if newly or gone
            else _NONE
        )
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
                    "reasons": [reasons(binding, a, p.ctx), *program_reasons],
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
                        {"program": pid, "phase_out_ended_before": event.date.isoformat()}
                        for pid in ended
                    ],
                }
            )
        self.counts["records"] += len(records)
        return records

    def _unchanged(self, event: Any, key: tuple | None, binding: Binding, state: Any) -> bool:
        """True when the event cannot change any program's result: it changes no fact a program
        reads, the date gives the same parameters and programs, and no age moved."""
        if self.always_evaluate or key != binding.period_key:
            return False
        changed = changed_facts(event)
        if changed is None or not changed.isdisjoint(self.alertset.programs_read):
            return False
        moved = state.last_date is not None and state.last_date != event.date
        return not (moved and state.dated)

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
        """Process every line; ``write`` gets each record, then the summary.

        With ``window`` > 1 events are taken a window at a time and the households' programs
        judged together (see :meth:`_window`); the records are those of one event at a time."""
        return self.run_events(read_events(lines), write, on_error)

    def run_events(
        self,
        events: Iterable[tuple[int, Any]],
        write: Callable[[dict[str, Any]], None],
        on_error: Callable[[dict[str, Any]], None] | None = None,
        committed: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """As :meth:`run`, for events already parsed (``(line number, event or EventError)``)."""
        self.feed(events, write, on_error, committed)
        summary = self.summary()
        write(summary)
        return summary

    def feed(
        self,
        events: Iterable[tuple[int, Any]],
        write: Callable[[dict[str, Any]], None],
        on_error: Callable[[dict[str, Any]], None] | None = None,
        committed: Callable[[int], None] | None = None,
    ) -> None:
        """Process every event (no summary). ``committed`` is called with a line number once
        every event up to it is applied and its records written (after each event, or each
        window): where a checkpoint can be taken."""
        events = iter(events)
        if self.window <= 1:
            for line, event in events:
                self._one(line, event, write, on_error)
                if committed is not None:
                    committed(line)
        else:
            with _collector_paused():
                waiting: list[tuple[int, Any]] = []
                while True:
                    if len(waiting) < self._size:
                        waiting.extend(itertools.islice(events, self._size - len(waiting)))
                    if not waiting:
                        break
                    done = self._window(waiting[: self._size], write, on_error)
                    last = waiting[done - 1][0]
                    del waiting[:done]
                    gc.collect(1)  # whatever cycles the window made (none seen so far)
                    if committed is not None:
                        committed(last)

    def _one(
        self,
        line: int,
        event: Any,
        write: Callable[[dict[str, Any]], None],
        on_error: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        before = self.counts["skipped"]
        for record in self.process(line, event):
            write(record)
        if on_error is not None and self.counts["skipped"] != before:
            on_error(self.last_error(line, event))

    def _window(
        self,
        items: list[tuple[int, Any]],
        write: Callable[[dict[str, Any]], None],
        on_error: Callable[[dict[str, Any]], None] | None,
    ) -> int:
        """Process the first events of ``items``; returns how many.

        Phase 1 goes through the events in order without changing any state: checks, the
        household after each event (kept in a :class:`_Shadow` per household), the alerts,
        and which (household, date) snapshots need their programs judged. Phase 2 judges them
        all with the vectorized backend, grouped by period; then the eligible sets are chained
        in event order, and the records' entries for the programs that changed are read from the
        backend's columns, or from the reference evaluator when they cannot tell (see
        :meth:`_changes`). Phase 3 commits the events in order exactly as :meth:`process` would.
        The first event whose judgement fails (a row the backend refused, an evaluation error)
        ends the window: the events before it are committed, it is processed alone (so its error
        is reported as before), and the events after it, which assumed it applied, come again in
        the next window.

        The caller pauses the cyclic garbage collector (see :func:`_collector_paused`)."""
        shadows: dict[str, _Shadow] = {}
        work: list[Any] = []  # per item: EventError or _Pending
        groups: dict[tuple, dict[tuple[int, dt.date], Household]] = {}  # per period
        vectorized = self._vectorized
        assert vectorized is not None  # a window > 1 has it (see __init__)
        unusable = vectorized.unusable
        for line, event in items:
            item = self._phase1(line, event, shadows, unusable)
            work.append(item)
            if item.__class__ is _Pending and item.sets is None:
                if item.unchanged and not item.first:
                    continue
                group = groups.setdefault(item.binding.period_key, {})
                on = item.event.date
                if item.first:
                    assert item.before is not None  # only an unchanged tick leaves it unread
                    group.setdefault((id(item.before), on), item.before)
                if not item.unchanged:
                    assert item.after is not None  # only an unchanged event leaves it unread
                    group.setdefault((id(item.after), on), item.after)
        stop = len(work)
        judged: dict[tuple, tuple[dict[tuple[int, dt.date], int], Any]] = {}
        for key, group in groups.items():
            rows = [(h, on) for (_, on), h in group.items()]
            try:
                judgement = vectorized.judge(key, rows)
            except vectorized.Unusable:
                judgement = None
            judged[key] = ({snapshot: row for row, snapshot in enumerate(group)}, judgement)
        # chain the eligible sets in event order; the first failure stops the window
        current: dict[str, frozenset[str] | None] = {}
        finals: list[tuple[frozenset[str], frozenset[str], Any]] = []
        for i, p in enumerate(work):
            if p.__class__ is not _Pending:
                finals.append(None)  # type: ignore[arg-type]
                continue
            hid = p.event.household
            on = p.event.date
            rows, judgement = judged.get(p.binding.period_key, _UNJUDGED)
            # a period the backend cannot judge was judged in phase 1, by the reference (the
            # period is in ``judged`` with no judgement when the backend refused it all)
            reference = p.sets if judgement is None and not rows else None
            if p.first:
                if judgement is not None:
                    previous = judgement.sets[rows[(id(p.before), on)]]
                else:
                    previous = None if reference is None else reference[0]
            else:
                previous = current.get(hid, p.state.eligible)
            changes = None
            if p.unchanged:
                now = previous
            elif judgement is not None:
                row = rows[(id(p.after), on)]
                now = judgement.sets[row]
                if previous is not None and now is not None and now != previous:
                    changes = self._changes(p, judgement, row, previous, now)
                    if changes is None:
                        stop = i
                        break
            elif reference is not None:
                now = self._eligible(reference[1])
                if previous is not None and now != previous:
                    changes = _reference_changes(reference[1].programs, previous, now)
            else:
                now = None
            if previous is None or now is None:
                stop = i
                break
            current[hid] = now
            finals.append((previous, now, changes))
        for i in range(stop):
            p = work[i]
            skipped = self.counts["skipped"]
            self.counts["events"] += 1
            failed = False
            if p.__class__ is _Pending:
                try:
                    records = self._commit(p, *finals[i])
                except Exception as err:  # as process() does; the state may be half written
                    self._error(self._refusal(p.line, p.event, err))
                    failed = True
                else:
                    for record in records:
                        write(record)
            else:
                self._error(p)
            if on_error is not None and self.counts["skipped"] != skipped:
                on_error(self.last_error(*items[i]))
            if failed:  # the events after it assumed it was applied whole: they come again
                self._size = self.window
                return i + 1
        if stop == len(work):
            self._size = min(self.window, 2 * self._size)
            return stop
        self.fallbacks += 1
        self._one(*items[stop], write, on_error)
        # failures close together: smaller windows, so fewer events are prepared twice
        self._size = max(_MIN_WINDOW, min(self.window, 2 * (stop + 1)))
        return stop + 1

    def _changes(
        self,
        p: _Pending,
        judgement: Any,
        row: int,
        previous: frozenset[str],
        now: frozenset[str],
    ) -> dict[str, dict[str, Any]] | None:
        """The records' entry for each program an event changed: from the plan's columns when
        they tell it, else from the reference evaluator, run on those programs alone (with what
        they depend on: ``evaluate_programs``). None when the reference fails or disagrees."""
        changes: dict[str, dict[str, Any]] = {}
        rest: list[str] = []
        for pid in now ^ previous:
            entry = judgement.change(row, pid)
            if entry is None:
                rest.append(pid)
            else:
                changes[pid] = entry
        if not rest:
            return changes
        self.reference_evaluations += 1
        assert p.after is not None  # a changed event's household is always read
        try:
            outcomes = p.binding.bound.evaluate_programs(
                p.after, rest, None if p.ctx is None else (p.ctx.hh, p.ctx.members)
            )
        except Exception:
            return None
        if any((outcomes[q].status is Status.eligible) != (q in now) for q in rest):
            return None  # the backends disagree: trust neither
        for pid in rest:
            changes[pid] = _program_change(outcomes, pid)
        return changes

    def _phase1(
        self, line: int, event: Any, shadows: dict[str, _Shadow], unusable: set[tuple]
    ) -> Any:
        """An event's :class:`_Pending`, or the :class:`EventError` it is refused with."""
        if isinstance(event, EventError):
            return event
        if self.horizon is not None and event.date > self.horizon:
            return self._beyond(line, event)
        state = self.states.get(event.household)
        if state is None:
            return EventError(
                line,
                f"household '{event.household}' is not on the register",
                "unknown_household",
                event.id,
                event.household,
            )
        shadow = shadows.get(event.household)
        view: HouseholdState | _Shadow = state if shadow is None else shadow
        problem = view.order_problem(event)
        if problem is not None:
            return EventError(line, problem[1], problem[0], event.id, event.household)
        try:
            p = self._prepare(line, event, state, view)
            if p.binding.period_key in unusable:  # judged now, by the reference evaluator
                eligible_before = evaluation_after = None
                if p.first:
                    assert p.before is not None  # only an unchanged tick leaves it unread
                    eligible_before = self._eligible(p.binding.evaluate(p.before))
                if not p.unchanged:
                    assert p.after is not None  # only an unchanged event leaves it unread
                    evaluation_after = p.binding.evaluate(p.after)
                p.sets = (eligible_before, evaluation_after)
        except Exception as err:
            return self._refusal(line, event, err)
        if shadow is None:
            shadow = shadows[event.household] = _Shadow(state, p.before)
        shadow.advance(event, p.after, p.binding.period_key)
        return p

    def _beyond(self, line: int, event: Any) -> EventError:
        return EventError(
            line,
            f"event '{event.id}' is dated {event.date}, after the horizon {self.horizon} "
            "(a mistyped year? see --horizon-days)",
            "beyond_horizon",
            event.id,
            event.household,
        )

    def _refusal(self, line: int, event: Any, err: Exception) -> EventError:
        if isinstance(err, EventRefused):
            kind, message = "invalid", str(err)
        elif isinstance(err, HouseholdError):  # one line: the fields and their problems
            kind = "not_evaluable"
            message = "; ".join(f"{field}: {problem}" for field, problem in err.problems)
        elif isinstance(err, MinzhengError):
            kind, message = "not_evaluable", str(err)
        else:
            kind, message = "internal", f"{type(err).__name__}: {err}"
        return EventError(line, message, kind, event.id, event.household)

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


class _Pending:
    """An event prepared in a window (see :meth:`Monitor._prepare`), waiting for its programs'
    judgement; ``sets`` holds the reference's when its period cannot be judged vectorized.
    ``ctx`` is the alert rules' context after the event (None when no rule was asked): the
    reasons of the alerts that fired read it, and the re-check of changed programs reuses its
    facts and variables."""

    __slots__ = (
        "after",
        "before",
        "binding",
        "ctx",
        "event",
        "fired",
        "first",
        "high_months",
        "line",
        "phase_months",
        "sets",
        "state",
        "unchanged",
    )

    def __init__(
        self,
        line: int,
        event: Any,
        state: HouseholdState,
        before: Household | None,
        after: Household | None,
        binding: Binding,
        high_months: int | None,
        phase_months: int | None,
        ctx: Any,
        fired: list[Any],
        first: bool,
        unchanged: bool,
    ) -> None:
        self.line, self.event, self.state = line, event, state
        self.before, self.after, self.binding = before, after, binding
        self.high_months, self.phase_months = high_months, phase_months
        self.ctx, self.fired, self.first, self.unchanged = ctx, fired, first, unchanged
        self.sets: tuple[frozenset[str] | None, Any] | None = None


class _Shadow(EventOrder):
    """A household as the uncommitted events of a window leave it: what the checks of the next
    event read (:meth:`HouseholdState.order_problem`, ``_unchanged``), nothing else."""

    __slots__ = (
        "_household",
        "_state",
        "dated",
        "eligible",
        "ids_on_last_date",
        "last_date",
        "period_key",
    )

    def __init__(self, state: HouseholdState, household: Household | None) -> None:
        self._state = state
        self._household = household  # ``state.household``, when already decoded
        self.dated = state.dated
        self.last_date = state.last_date
        self.ids_on_last_date = state.ids_on_last_date
        self.eligible: object = state.eligible
        self.period_key = state.period_key

    @property
    def household(self) -> Household:
        if self._household is None:
            self._household = self._state.household
        return self._household

    def advance(self, event: Any, after: Household | None, period_key: tuple) -> None:
        """As :meth:`HouseholdState.accept` and the eligible set's bookkeeping would (``after``
        None: a tick that left the household as it was, not decoded)."""
        if after is not None:
            self._household = after
            self.dated = dated(after)
        if event.date != self.last_date:
            self.last_date = event.date
            self.ids_on_last_date = (event.id,)
        else:
            self.ids_on_last_date = (*self.ids_on_last_date, event.id)
        self.eligible = _JUDGED
        self.period_key = period_key


_JUDGED = object()  # a shadow's eligible set: known once its window is judged
_UNJUDGED: tuple[dict, None] = ({}, None)  # a period judged in phase 1 (see Monitor._window)
_NONE: list[str] = []  # no program changed / ended (never appended to)


def freeze_loaded() -> None:
    """Keep what is loaded so far (the pack, the register's states) out of the cyclic garbage
    collector's walks for the rest of the process (:func:`gc.freeze`).

    For the processes that run a monitor: between windows the collector otherwise walks every
    household's state again and again (measured: about 5% of a 200,000-household run). It is
    called by the command line and the sharded workers, not by :class:`Monitor` itself, because
    it changes the whole process."""
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while windows are read and judged.

    A window keeps tens of thousands of events, households and contexts alive, which the
    collector would otherwise walk again and again: the reference evaluations took 2.5 times as
    long, and reading the next window's events (with the collector on) about 4 µs an event more.
    The monitor's objects form no reference cycles (a run's final collection finds none), so
    nothing waits for the collector: everything is freed when its last reference goes. The
    run loop still collects the young generations after each window (~2 ms), so a cycle made
    in a window cannot pile up."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _vectorized(pack: Pack) -> tuple[Vectorized | None, str | None]:
    """The vectorized judge for windows, or None and why: it needs the ``batch`` extra (Polars,
    NumPy, PyArrow); without it every event is judged on its own by the reference evaluator."""
    try:
        from minzheng_rules.monitor._vectorized import Vectorized
    except ImportError as err:
        return None, f"events judged one at a time: the batch extra is not installed ({err})"
    return Vectorized(pack), None


def _tier(state: HouseholdState, on: dt.date) -> str:
    """The visiting tier on a date: high (高风险和重点) while a high alert's period runs."""
    return "high" if state.tier_until is not None and on <= state.tier_until else "normal"


def _reference_changes(
    outcomes: dict[str, Any], previous: frozenset[str], now: frozenset[str]
) -> dict[str, dict[str, Any]]:
    """The records' entry of each program that changed, from the reference's outcomes."""
    return {pid: _program_change(outcomes, pid) for pid in now ^ previous}


def _program_change(outcomes: dict[str, Any], pid: str) -> dict[str, Any]:
    """A program that changed: its status now, and how each of its conditions came out."""
    o = outcomes[pid]
    out: dict[str, Any] = {
        "program": pid,
        "label": {"zh": o.label_zh, "en": o.label_en},
        "now": o.status.value,
        "conditions": {r.id: r.passed for r in o.reasons},
    }
    if o.status is Status.eligible:
        out["amount"] = str(shown_amount(o.amount)) if o.unit.startswith("CNY") else str(o.amount)
    if o.missing:
        out["missing"] = o.missing
    return out
