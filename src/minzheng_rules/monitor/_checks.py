"""Why an event is refused: the checks made before anything about it is computed, and the
report of one that failed while being applied.

Both ways of running a monitor (one event at a time, and a window at a time) ask
:func:`refused` with the household as the events before this one left it, so an event is
refused for the same reason, with the same message, either way.
"""

from __future__ import annotations

import datetime as dt

from minzheng_rules.model._errors import HouseholdError, MinzhengError, suggest
from minzheng_rules.monitor._events import AnyEvent, Assessment, EventError
from minzheng_rules.monitor._state import EventOrder, EventRefused


def refused(
    line: int, event: AnyEvent, view: EventOrder | None, horizon: dt.date | None
) -> EventError | None:
    """Why ``event`` cannot apply, or None: dated after the ``horizon`` (a mistyped year), its
    household not on the register (``view`` None), or out of order or a duplicate for ``view``,
    the household as the events before it left it."""
    if horizon is not None and event.date > horizon:
        return EventError(
            line,
            f"event '{event.id}' is dated {event.date}, after the horizon {horizon} "
            "(a mistyped year? see --horizon-days)",
            "beyond_horizon",
            event.id,
            event.household,
        )
    if view is None:
        return EventError(
            line,
            f"household '{event.household}' is not on the register",
            "unknown_household",
            event.id,
            event.household,
        )
    problem = view.order_problem(event)
    if problem is not None:
        return EventError(line, problem[1], problem[0], event.id, event.household)
    return None


def refusal(line: int, event: AnyEvent, err: Exception) -> EventError:
    """The report of an event that failed while being applied: refused by its own content
    (``invalid``), a household the pack cannot evaluate (``not_evaluable``), or a bug
    (``internal``: the watch over every other household goes on)."""
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


def check_needs(event: Assessment, labels: set[str]) -> None:
    """Refuse an assessment naming a need label the pack's needs model does not have."""
    for lid in event.needs:
        if lid not in labels:
            hint = suggest(lid, labels)
            what = (
                f"unknown need label '{lid}'"
                if labels
                else f"need label '{lid}': this pack has no needs model"
            )
            raise EventRefused(what + (f" (did you mean '{hint}'?)" if hint else ""))
