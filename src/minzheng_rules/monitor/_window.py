"""Events taken a window at a time: the households they leave are judged together by the
vectorized backend.

Re-evaluating a household with the reference evaluator after each event was most of a run's
time. Here a window of events is prepared in order without changing any state, the household
snapshots they leave are judged in one columnar evaluation per period, and the events are then
committed in order exactly as one event at a time would be
(:meth:`minzheng_rules.monitor._runner.Monitor.process`): the records are those of ``window=1``
(tests/test_monitor_window.py, tests/test_monitor_judgement.py). The reference evaluator only
runs for the few changes the backend's columns cannot tell (an undetermined program's missing
facts, an exclusion).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from minzheng_rules.model._household import Household
from minzheng_rules.model._results import Status
from minzheng_rules.monitor._checks import refusal, refused
from minzheng_rules.monitor._events import AnyEvent, EventError
from minzheng_rules.monitor._pending import Pending
from minzheng_rules.monitor._records import (
    JSONObject,
    ProgramChange,
    program_change,
    reference_changes,
    render,
)
from minzheng_rules.monitor._state import EventOrder, HouseholdState, dated

if TYPE_CHECKING:
    from minzheng_rules.monitor._runner import Monitor
    from minzheng_rules.monitor._vectorized import Judgement, Vectorized

MIN_WINDOW = 64
Item = tuple[int, AnyEvent | EventError]
"""An event as read: its line number, and the event or why it could not be read."""
_Snapshot = tuple[int, dt.date]  # a household snapshot to judge: id() of the household, date
_Changes = dict[str, ProgramChange]
_Final = tuple[frozenset[str], frozenset[str], _Changes | None]  # previous, now, changes


class Windows:
    """The window-at-a-time way through a monitor's events (see the module). Its monitor does
    the per-event work (:meth:`~minzheng_rules.monitor._runner.Monitor.prepare`,
    :meth:`~minzheng_rules.monitor._runner.Monitor.commit`) and keeps the counts."""

    def __init__(self, monitor: Monitor, vectorized: Vectorized, window: int) -> None:
        self.monitor = monitor
        self.vectorized = vectorized
        self.window = window
        self.size = window  # the next window's size: smaller after failures close together

    def run(
        self,
        items: list[Item],
        write: Callable[[JSONObject], None],
        on_error: Callable[[JSONObject], None] | None,
    ) -> int:
        """Process the first events of ``items``; returns how many.

        Phase 1 goes through the events in order without changing any state: checks, the
        household after each event (kept in a :class:`Shadow` per household), the alerts,
        and which (household, date) snapshots need their programs judged. Phase 2 judges them
        all with the vectorized backend, grouped by period; then the eligible sets are chained
        in event order, and the records' entries for the programs that changed are read from the
        backend's columns, or from the reference evaluator when they cannot tell (see
        :meth:`_changes`). Phase 3 commits the events in order exactly as
        :meth:`Monitor.process` would. The first event whose judgement fails (a row the backend
        refused, an evaluation error) ends the window: the events before it are committed, it is
        processed alone (so its error is reported as before), and the events after it, which
        assumed it applied, come again in the next window.

        The caller pauses the cyclic garbage collector (see :func:`collector_paused`)."""
        m = self.monitor
        shadows: dict[str, Shadow] = {}
        work: list[Pending | EventError] = []
        groups: dict[tuple, dict[_Snapshot, Household]] = {}  # per period
        vectorized = self.vectorized
        unusable = vectorized.unusable
        for line, event in items:
            item = self._phase1(line, event, shadows, unusable)
            work.append(item)
            if isinstance(item, Pending) and item.sets is None:
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
        judged: dict[tuple, tuple[dict[_Snapshot, int], Judgement | None]] = {}
        for key, group in groups.items():
            rows = [(h, on) for (_, on), h in group.items()]
            judgement: Judgement | None
            try:
                judgement = vectorized.judge(key, rows)
            except vectorized.Unusable:
                judgement = None
            judged[key] = ({snapshot: row for row, snapshot in enumerate(group)}, judgement)
        # chain the eligible sets in event order; the first failure stops the window
        current: dict[str, frozenset[str] | None] = {}
        finals: list[_Final | None] = []
        for i, p in enumerate(work):
            if not isinstance(p, Pending):
                finals.append(None)
                continue
            hid = p.event.household
            on = p.event.date
            row_of, judgement = judged.get(p.binding.period_key, _UNJUDGED)
            # a period the backend cannot judge was judged in phase 1, by the reference (the
            # period is in ``judged`` with no judgement when the backend refused it all)
            reference = p.sets if judgement is None and not row_of else None
            previous: frozenset[str] | None
            if p.first:
                if judgement is not None:
                    previous = judgement.sets[row_of[(id(p.before), on)]]
                else:
                    previous = None if reference is None else reference[0]
            else:
                previous = current.get(hid, p.state.eligible)
            changes = None
            now: frozenset[str] | None
            if p.unchanged:
                now = previous
            elif judgement is not None:
                row = row_of[(id(p.after), on)]
                now = judgement.sets[row]
                if previous is not None and now is not None and now != previous:
                    changes = self._changes(p, judgement, row, previous, now)
                    if changes is None:
                        stop = i
                        break
            elif reference is not None:
                assert reference[1] is not None  # judged after a changed event in phase 1
                now = m.eligible(reference[1])
                if previous is not None and now != previous:
                    changes = reference_changes(reference[1].programs, previous, now)
            else:
                now = None
            if previous is None or now is None:
                stop = i
                break
            current[hid] = now
            finals.append((previous, now, changes))
        for i in range(stop):
            p = work[i]
            skipped = m.counts["skipped"]
            m.counts["events"] += 1
            failed = False
            if isinstance(p, Pending):
                final = finals[i]
                assert final is not None
                try:
                    records = m.commit(p, *final)
                except Exception as err:  # as process() does; the state may be half written
                    m.report(refusal(p.line, p.event, err))
                    failed = True
                else:
                    for record in records:
                        write(render(record))
            else:
                m.report(p)
            if on_error is not None and m.counts["skipped"] != skipped:
                on_error(m.last_error(*items[i]))
            if failed:  # the events after it assumed it was applied whole: they come again
                self.size = self.window
                return i + 1
        if stop == len(work):
            self.size = min(self.window, 2 * self.size)
            return stop
        m.fallbacks += 1
        m.one(*items[stop], write, on_error)
        # failures close together: smaller windows, so fewer events are prepared twice
        self.size = max(MIN_WINDOW, min(self.window, 2 * (stop + 1)))
        return stop + 1

    def _phase1(
        self,
        line: int,
        event: AnyEvent | EventError,
        shadows: dict[str, Shadow],
        unusable: set[tuple],
    ) -> Pending | EventError:
        """An event's :class:`Pending`, or the :class:`EventError` it is refused with."""
        if isinstance(event, EventError):
            return event
        m = self.monitor
        state = m.states.get(event.household)
        shadow = shadows.get(event.household) if state is not None else None
        view: HouseholdState | Shadow | None = state if shadow is None else shadow
        error = refused(line, event, view, m.horizon)
        if error is not None:
            return error
        assert state is not None and view is not None  # refused() refuses an unknown one
        try:
            p = m.prepare(line, event, state, view)
            if p.binding.period_key in unusable:  # judged now, by the reference evaluator
                eligible_before = evaluation_after = None
                if p.first:
                    assert p.before is not None  # only an unchanged tick leaves it unread
                    eligible_before = m.eligible(p.binding.evaluate(p.before))
                if not p.unchanged:
                    assert p.after is not None  # only an unchanged event leaves it unread
                    evaluation_after = p.binding.evaluate(p.after)
                p.sets = (eligible_before, evaluation_after)
        except Exception as err:
            return refusal(line, event, err)
        if shadow is None:
            shadow = shadows[event.household] = Shadow(state, p.before)
        shadow.advance(event, p.after, p.binding.period_key)
        return p

    def _changes(
        self,
        p: Pending,
        judgement: Judgement,
        row: int,
        previous: frozenset[str],
        now: frozenset[str],
    ) -> _Changes | None:
        """The records' entry for each program an event changed: from the plan's columns when
        they tell it, else from the reference evaluator, run on those programs alone (with what
        they depend on: ``evaluate_programs``). None when the reference fails or disagrees."""
        changes: _Changes = {}
        rest: list[str] = []
        for pid in now ^ previous:
            entry = judgement.change(row, pid)
            if entry is None:
                rest.append(pid)
            else:
                changes[pid] = entry
        if not rest:
            return changes
        self.monitor.reference_evaluations += 1
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
            changes[pid] = program_change(outcomes, pid)
        return changes


class Shadow(EventOrder):
    """A household as the uncommitted events of a window leave it: what the checks of the next
    event read (:meth:`HouseholdState.order_problem`, the monitor's ``unchanged``), nothing
    else."""

    __slots__ = (
        "_household",
        "_state",
        "dated",
        "eligible",
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

    def advance(self, event: AnyEvent, after: Household | None, period_key: tuple) -> None:
        """As :meth:`HouseholdState.accept` and the eligible set's bookkeeping would (``after``
        None: a tick that left the household as it was, not decoded)."""
        if after is not None:
            self._household = after
            self.dated = dated(after)
        self.note_order(event)
        self.eligible = _JUDGED
        self.period_key = period_key


_JUDGED = object()  # a shadow's eligible set: known once its window is judged
_UNJUDGED: tuple[dict[_Snapshot, int], None] = ({}, None)  # a period judged in phase 1


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
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
