"""What the monitor remembers about each household, and how an event changes its facts.

Applying an event returns a new frozen :class:`Household` (or raises :class:`EventRefused`), so a
refused event leaves the household exactly as it was and never touches any other household.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from pydantic import ValidationError

from minzheng_rules.errors import HouseholdError
from minzheng_rules.household import Household, Member, parse_household
from minzheng_rules.monitor import events as E


class EventRefused(ValueError):
    """The event is well formed but cannot apply to this household (unknown member, ...)."""


class HouseholdState:
    """One household under watch.

    With ``compact`` (the default for large registers) the household is kept as its canonical
    JSON (about 0.4 KB instead of about 5 KB of pydantic objects) and validated back when an
    event needs it, so 200,000 households fit in a few hundred MB."""

    __slots__ = (
        "_household",
        "eligible",
        "ids_on_last_date",
        "last_date",
        "period_key",
        "phase_out",
        "tier_until",
    )

    def __init__(self, household: Household, compact: bool = False) -> None:
        self._household: Household | bytes = _stored(household, compact)
        self.last_date: dt.date | None = None
        self.ids_on_last_date: tuple[str, ...] = ()
        self.eligible: frozenset[str] | None = None  # programs eligible after the last event
        self.period_key: tuple | None = None  # the parameters and programs they were judged by
        self.tier_until: dt.date | None = None  # in the high visiting tier up to this day
        self.phase_out: dict[str, dt.date | None] | None = None  # program -> end of 渐退期

    @property
    def household(self) -> Household:
        h = self._household
        return Household.model_validate_json(h) if isinstance(h, bytes) else h

    def order_problem(self, event: Any) -> tuple[str, str] | None:
        """Why the event cannot come now (kind, message), or None."""
        if self.last_date is None:
            return None
        if event.date < self.last_date:
            return (
                "out_of_order",
                f"event '{event.id}' is dated {event.date}, before this household's last "
                f"event on {self.last_date}; events of a household must come in date order",
            )
        if event.date == self.last_date and event.id in self.ids_on_last_date:
            return "duplicate", f"event id '{event.id}' was already applied to this household"
        return None

    def accept(self, event: Any, before: Household, after: Household) -> None:
        """Record the event as applied: the household after it, and its date and id."""
        if after is not before:
            self._household = _stored(after, isinstance(self._household, bytes))
        if event.date != self.last_date:
            self.last_date = event.date
            self.ids_on_last_date = (event.id,)
        else:
            self.ids_on_last_date = (*self.ids_on_last_date, event.id)


def _stored(h: Household, compact: bool) -> Household | bytes:
    return h.model_dump_json(exclude_defaults=True).encode("utf-8") if compact else h


def _member_index(h: Household, member_id: str) -> int:
    for i, m in enumerate(h.members):
        if m.id == member_id:
            return i
    known = ", ".join(m.id for m in h.members)
    raise EventRefused(f"household '{h.id}' has no member '{member_id}' (members: {known})")


def _replace_member(h: Household, i: int, member: Member) -> Household:
    members = list(h.members)
    members[i] = member
    return h.model_copy(update={"members": members})


def _validated_member(m: Member, changes: dict[str, Any]) -> Member:
    if "id" in changes and changes["id"] != m.id:
        raise EventRefused("a member's id cannot change")
    data = {**m.model_dump(exclude_none=True), **changes}
    try:
        return Member.model_validate(data)
    except ValidationError as err:
        e = err.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "member"
        msg = "unknown field" if e["type"] == "extra_forbidden" else e["msg"]
        raise EventRefused(f"member '{m.id}': {where}: {msg}") from None


def _revalidated(data: dict[str, Any]) -> Household:
    try:
        return parse_household(data)
    except HouseholdError as err:
        raise EventRefused(str(err)) from None


def apply_event(h: Household, event: Any) -> Household:
    """The household after ``event``; raises :class:`EventRefused` when it cannot apply."""
    match event:
        case E.IncomeChange():
            i = _member_index(h, event.member)
            m = h.members[i].model_copy(update={"monthly_income": event.monthly_income})
            return _replace_member(h, i, m)
        case E.MedicalExpense():
            _member_index(h, event.member)
            total = h.expenses.medical_12m + event.amount
            if total >= 10**12:
                raise EventRefused("12-month medical total would exceed 10^12 元")
            expenses = h.expenses.model_copy(update={"medical_12m": total})
            return h.model_copy(update={"expenses": expenses})
        case E.MemberDied():
            i = _member_index(h, event.member)
            if len(h.members) == 1:
                raise EventRefused(
                    f"'{event.member}' is the only member of household '{h.id}'; "
                    "a household with no members leaves the register (not a monitoring event)"
                )
            return h.model_copy(update={"members": [*h.members[:i], *h.members[i + 1 :]]})
        case E.MemberAdded():
            if any(m.id == event.member.id for m in h.members):
                raise EventRefused(f"household '{h.id}' already has a member '{event.member.id}'")
            data = h.model_dump(exclude_none=True)
            data["members"].append(event.member.model_dump(exclude_none=True))
            return _revalidated(data)
        case E.DisabilityAssessed():
            i = _member_index(h, event.member)
            changes = {"disability_grade": event.grade, "disability_type": event.disability_type}
            return _replace_member(h, i, _validated_member(h.members[i], changes))
        case E.Assessment():
            return h.model_copy(update={"assessed_needs": sorted(set(event.needs))})
        case E.MemberChanged():
            i = _member_index(h, event.member)
            return _replace_member(h, i, _validated_member(h.members[i], event.changes))
        case E.Tick():
            return h
    raise EventRefused(f"unsupported event type {type(event).__name__}")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
