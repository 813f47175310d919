"""The run loop: apply each event to its household, ask the engine which alerts fire, re-evaluate
the household with the pack, and write what changed (the records: see
:mod:`minzheng_rules.monitor._records`).

Nothing on input stops the run: a malformed, unknown-household, out-of-order, duplicate or
inapplicable event is reported with its line number and skipped
(:mod:`minzheng_rules.monitor._checks`), and the household's state is only written once
everything about the event has been computed (:meth:`Monitor.prepare`, then
:meth:`Monitor.commit`).

By default events are taken a window at a time (:mod:`minzheng_rules.monitor._window`): the
households they leave are judged together by the vectorized backend. The records are exactly
those of ``window=1``, one event at a time, where each household is judged by the reference
evaluator.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypedDict

from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._household import Household
from minzheng_rules.model._results import Evaluation, Status
from minzheng_rules.monitor import _events as E
from minzheng_rules.monitor._alerts import AlertSet
from minzheng_rules.monitor._binding import (
    Binding,
    changed_facts,
    event_context,
    period_key,
    reasons,
)
from minzheng_rules.monitor._checks import check_needs, refusal, refused
from minzheng_rules.monitor._engines import make_engine
from minzheng_rules.monitor._events import AnyEvent, EventError, read_events
from minzheng_rules.monitor._pending import Pending
from minzheng_rules.monitor._records import (
    BUILTIN_ALERTS,
    EventResult,
    JSONObject,
    Label,
    PhaseOutEnded,
    ProgramChange,
    Reason,
    Record,
    Tier,
    reference_changes,
    render,
)
from minzheng_rules.monitor._state import HouseholdState, add_months, apply_event
from minzheng_rules.monitor._window import Item, Shadow, Windows, collector_paused
from minzheng_rules.packs._pack import Pack
from minzheng_rules.packs._schema import HIGH_TIER_MONTHS, PHASE_OUT_MONTHS

if TYPE_CHECKING:
    from minzheng_rules.monitor._vectorized import Vectorized

MAX_REPORTED_ERRORS = 100
WINDOW = 20_000

_PACK_FAILURES = ("not_evaluable", "internal")
UNEVALUABLE_LIMIT = 100  # events the pack failed on, none applied: the run stops


class PackCannotEvaluate(MinzhengError):
    """The pack failed on every event so far: watching on would skip every event."""


class Snapshot(TypedDict):
    """A monitor's part of a checkpoint (a plain dict when pickled: the keys in this order)."""

    counts: Counter[str]
    alert_counts: Counter[str]
    error_counts: Counter[str]
    newly: Counter[str]
    gone: Counter[str]
    errors: list[JSONObject]
    horizon: dt.date | None
    states: dict[str, HouseholdState]
    pack: str


_OnDate = tuple[Binding, int | None, int | None]  # the binding, high tier and 渐退期 months


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
        self._windows = (
            None if self._vectorized is None else Windows(self, self._vectorized, window)
        )
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
        self._bindings: OrderedDict[dt.date, _OnDate] = OrderedDict()
        self._max_bindings = bindings
        self._sets: dict[frozenset[str], frozenset[str]] = {}
        self._periods: dict[tuple, Binding] = {}
        self._need_labels: set[str] = set(pack.relief.labels)
        self.counts: Counter[str] = Counter()
        self.alert_counts: Counter[str] = Counter()
        self.error_counts: Counter[str] = Counter()
        self.newly: Counter[str] = Counter()
        self.gone: Counter[str] = Counter()
        self.errors: list[JSONObject] = []

    # -- checkpoints -----------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """What a checkpoint keeps (``minzheng monitor --checkpoint``): every
        household's state and the run's counts; caches and the engine are made again."""
        return {
            "counts": self.counts,
            "alert_counts": self.alert_counts,
            "error_counts": self.error_counts,
            "newly": self.newly,
            "gone": self.gone,
            "errors": self.errors,
            "horizon": self.horizon,
            "states": self.states,
            "pack": self.pack.id,
        }

    def restore(self, snapshot: Snapshot) -> None:
        """Go on from a :meth:`snapshot` (the register it was taken over is not read again)."""
        if snapshot.get("pack") != self.pack.id:
            raise MinzhengError(
                f"the checkpoint was taken with pack '{snapshot.get('pack')}', not "
                f"'{self.pack.id}'; cannot resume"
            )
        self.counts = snapshot["counts"]
        self.alert_counts = snapshot["alert_counts"]
        self.error_counts = snapshot["error_counts"]
        self.newly = snapshot["newly"]
        self.gone = snapshot["gone"]
        self.errors = snapshot["errors"]
        self.horizon = snapshot["horizon"]
        self.states = snapshot["states"]
        self.duplicates = []

    def registered(self) -> Iterator[Household]:
        """The households under watch as the events left them, in register order."""
        for state in self.states.values():
            yield state.household

    # -- per date --------------------------------------------------------------------------
    def _binding(self, on: dt.date) -> _OnDate:
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

    def eligible(self, evaluation: Evaluation) -> frozenset[str]:
        """The programs an evaluation finds the household eligible for."""
        s = frozenset(pid for pid, o in evaluation.programs.items() if o.status is Status.eligible)
        return self._sets.setdefault(s, s)  # many households share a set: keep one copy

    # -- per event -------------------------------------------------------------------------
    def report(self, err: EventError) -> None:
        """Count and keep a skipped event's report; stop the run when the pack has failed on
        every event so far (:class:`PackCannotEvaluate`)."""
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

    def process(self, line: int, event: AnyEvent | EventError) -> list[Record]:
        """The records an event produces; an event that cannot apply is reported and skipped."""
        self.counts["events"] += 1
        if isinstance(event, EventError):
            self.report(event)
            return []
        state = self.states.get(event.household)
        error = refused(line, event, state, self.horizon)
        if error is not None:
            self.report(error)
            return []
        assert state is not None  # refused() refuses an unknown household
        try:
            return self._apply(line, event, state)
        except Exception as err:  # a bug must not stop the watch over every other household
            self.report(refusal(line, event, err))
            return []

    def _apply(self, line: int, event: AnyEvent, state: HouseholdState) -> list[Record]:
        p = self.prepare(line, event, state, state)
        if p.first:
            assert p.before is not None  # only an unchanged tick leaves it unread
            previous = self.eligible(p.binding.evaluate(p.before))
        else:
            assert state.eligible is not None  # not the first event: judged before
            previous = state.eligible
        if p.unchanged:
            return self.commit(p, previous, previous, None)
        assert p.after is not None  # only an unchanged event leaves it unread
        evaluation = p.binding.evaluate(p.after)
        now = self.eligible(evaluation)
        changes = reference_changes(evaluation.programs, previous, now)
        return self.commit(p, previous, now, changes)

    def prepare(
        self, line: int, event: AnyEvent, state: HouseholdState, view: HouseholdState | Shadow
    ) -> Pending:
        """Everything about an event that needs no evaluation of the household: the household
        after it, the alerts it fires, and whether its programs must be judged again. ``view``
        is the household as the events before this one left it (``state`` itself, or in a
        window a shadow of it with the events not yet
        committed); nothing is changed."""
        binding, high_months, phase_months = self._binding(event.date)
        if (
            event.__class__ is E.Tick  # leaves the household as it was
            and event.type in self.alertset.silent_when_unchanged
            and view.eligible is not None
            and self._unchanged(event, view.period_key, binding, view)
        ):  # nothing to fire and nothing to judge: the household need not even be read
            return Pending(
                line=line,
                event=event,
                state=state,
                binding=binding,
                high_months=high_months,
                phase_months=phase_months,
                before=None,
                after=None,
                ctx=None,
                fired=[],
                first=False,
                unchanged=True,
            )
        before = view.household
        if isinstance(event, E.Assessment):
            check_needs(event, self._need_labels)
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
        return Pending(
            line=line,
            event=event,
            state=state,
            binding=binding,
            high_months=high_months,
            phase_months=phase_months,
            before=before,
            after=after,
            ctx=ctx,
            fired=fired,
            first=first,
            unchanged=self._unchanged(event, key, binding, view),
        )

    def commit(
        self,
        p: Pending,
        previous: frozenset[str],
        now: frozenset[str],
        changes: dict[str, ProgramChange] | None,
    ) -> list[Record]:
        """Write what an event did to its household's state, and make the records it produces;
        ``changes`` holds the records' entry for each program that changed."""
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
        until = None
        if gone:
            phase_out = state.phase_out or {}
            until = {pid: phase_out.get(pid) for pid in gone}
        result = EventResult(
            event=event.id,
            line=p.line,
            household=event.household,
            date=event.date,
            type=event.type,
            tier=_tier(state, event.date),
            newly_eligible=newly,
            no_longer_eligible=gone,
            phase_out_until=until,
        )
        program_reasons: list[Reason] = _NO_REASONS
        if newly or gone:
            assert changes is not None  # a program changed: its entry was made
            program_reasons = [changes[pid] for pid in (*newly, *gone)]
        records = []
        for a in fired:
            self.alert_counts[a.id] += 1
            label = Label(a.spec.label.zh, a.spec.label.en)
            assert p.ctx is not None  # an alert fired: its rules were asked
            why = reasons(binding, a, p.ctx)
            records.append(Record(result, a.id, label, a.tier, [why, *program_reasons]))
        if not fired and (newly or gone):
            self.alert_counts["eligibility_changed"] += 1
            label = BUILTIN_ALERTS["eligibility_changed"]
            records.append(Record(result, "eligibility_changed", label, None, program_reasons))
        if ended:
            self.alert_counts["phase_out_ended"] += 1
            label = BUILTIN_ALERTS["phase_out_ended"]
            why_ended: list[Reason] = [PhaseOutEnded(pid, event.date) for pid in ended]
            records.append(Record(result, "phase_out_ended", label, None, why_ended))
        self.counts["records"] += len(records)
        return records

    def _unchanged(
        self,
        event: AnyEvent,
        key: tuple | None,
        binding: Binding,
        view: HouseholdState | Shadow,
    ) -> bool:
        """True when the event cannot change any program's result: it changes no fact a program
        reads, the date gives the same parameters and programs, and no age moved."""
        if self.always_evaluate or key != binding.period_key:
            return False
        changed = changed_facts(event)
        if changed is None or not changed.isdisjoint(self.alertset.programs_read):
            return False
        moved = view.last_date is not None and view.last_date != event.date
        return not (moved and view.dated)

    # -- whole runs ------------------------------------------------------------------------
    def run(
        self,
        lines: Iterable[str | bytes],
        write: Callable[[JSONObject], None],
        on_error: Callable[[JSONObject], None] | None = None,
    ) -> JSONObject:
        """Process every line; ``write`` gets each record (rendered: see
        :func:`~minzheng_rules.monitor.render`), then the summary.

        With ``window`` > 1 events are taken a window at a time and the households' programs
        judged together; the records are those of one event at a time."""
        return self.run_events(read_events(lines), write, on_error)

    def run_events(
        self,
        events: Iterable[Item],
        write: Callable[[JSONObject], None],
        on_error: Callable[[JSONObject], None] | None = None,
        committed: Callable[[int], None] | None = None,
    ) -> JSONObject:
        """As :meth:`run`, for events already parsed (``(line number, event or EventError)``)."""
        self.feed(events, write, on_error, committed)
        summary = self.summary()
        write(summary)
        return summary

    def feed(
        self,
        events: Iterable[Item],
        write: Callable[[JSONObject], None],
        on_error: Callable[[JSONObject], None] | None = None,
        committed: Callable[[int], None] | None = None,
    ) -> None:
        """Process every event (no summary). ``committed`` is called with a line number once
        every event up to it is applied and its records written (after each event, or each
        window): where a checkpoint can be taken."""
        events = iter(events)
        windows = self._windows
        if windows is None:
            for line, event in events:
                self.one(line, event, write, on_error)
                if committed is not None:
                    committed(line)
        else:
            with collector_paused():
                waiting: list[Item] = []
                while True:
                    if len(waiting) < windows.size:
                        waiting.extend(itertools.islice(events, windows.size - len(waiting)))
                    if not waiting:
                        break
                    done = windows.run(waiting[: windows.size], write, on_error)
                    last = waiting[done - 1][0]
                    del waiting[:done]
                    gc.collect(1)  # whatever cycles the window made (none seen so far)
                    if committed is not None:
                        committed(last)

    def one(
        self,
        line: int,
        event: AnyEvent | EventError,
        write: Callable[[JSONObject], None],
        on_error: Callable[[JSONObject], None] | None,
    ) -> None:
        """Process one event on its own, writing its records and its report if skipped."""
        before = self.counts["skipped"]
        for record in self.process(line, event):
            write(render(record))
        if on_error is not None and self.counts["skipped"] != before:
            on_error(self.last_error(line, event))

    def last_error(self, line: int, event: AnyEvent | EventError) -> JSONObject:
        if self.errors and self.errors[-1]["line"] == line:
            return self.errors[-1]
        if isinstance(event, EventError):
            return event.to_dict()
        return {"line": line, "message": "skipped"}

    def summary(self) -> JSONObject:
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


def freeze_loaded() -> None:
    """Keep what is loaded so far (the pack, the register's states) out of the cyclic garbage
    collector's walks for the rest of the process (:func:`gc.freeze`).

    For the processes that run a monitor: between windows the collector otherwise walks every
    household's state again and again (measured: about 5% of a 200,000-household run). It is
    called by the command line and the sharded workers, not by :class:`Monitor` itself, because
    it changes the whole process."""
    gc.collect()
    gc.freeze()


def _vectorized(pack: Pack) -> tuple[Vectorized | None, str | None]:
    """The vectorized judge for windows, or None and why: it needs the ``batch`` extra (Polars,
    NumPy, PyArrow); without it every event is judged on its own by the reference evaluator."""
    try:
        from minzheng_rules.monitor._vectorized import Vectorized
    except ImportError as err:
        return None, f"events judged one at a time: the batch extra is not installed ({err})"
    return Vectorized(pack), None


def _tier(state: HouseholdState, on: dt.date) -> Tier:
    """The visiting tier on a date: high (高风险和重点) while a high alert's period runs."""
    return "high" if state.tier_until is not None and on <= state.tier_until else "normal"


_NONE: list[str] = []  # no program changed / ended (never appended to)
_NO_REASONS: list[Reason] = []
