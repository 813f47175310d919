"""An event prepared, waiting for its household's programs to be judged.

:meth:`minzheng_rules.monitor._runner.Monitor.prepare` works out everything about an event that
needs no evaluation of the household (the household after it, the alerts it fires, whether its
programs must be judged again); the programs are then judged (by the reference evaluator for one
event, by the vectorized backend for a window) and the event committed
(:meth:`~minzheng_rules.monitor._runner.Monitor.commit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from minzheng_rules.backends.reference._compiler import EvalContext
from minzheng_rules.model._household import Household
from minzheng_rules.model._results import Evaluation
from minzheng_rules.monitor._alerts import CompiledAlert
from minzheng_rules.monitor._binding import Binding
from minzheng_rules.monitor._events import AnyEvent
from minzheng_rules.monitor._state import HouseholdState


@dataclass(slots=True, kw_only=True)
class Pending:
    """An event prepared (see the module). ``before`` and ``after`` are None for a tick that
    leaves the household as it was and asks nothing (``unchanged``): it is not even decoded.
    ``ctx`` is the alert rules' context after the event (None when no rule was asked): the
    reasons of the alerts that fired read it, and the re-check of changed programs reuses its
    facts and variables."""

    line: int
    event: AnyEvent
    state: HouseholdState
    binding: Binding
    high_months: int | None  # how long a high alert keeps the household in the high tier
    phase_months: int | None  # how long a lost program's 渐退期 runs
    before: Household | None
    after: Household | None
    ctx: EvalContext | None
    fired: list[CompiledAlert]
    first: bool  # the household's first event: its programs before it were never judged
    unchanged: bool  # the event cannot change any program's result
    sets: tuple[frozenset[str] | None, Evaluation | None] | None = None
    """In a window, for a period the vectorized backend cannot judge: the reference's eligible
    set before the event (first events only) and its evaluation after it (changed ones only)."""
