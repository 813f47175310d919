"""What the monitor remembers about each household, and how an event changes its facts.

Applying an event returns a new frozen :class:`Household` (or raises :class:`EventRefused`), so a
refused event leaves the household exactly as it was and never touches any other household.

Households under watch are stored compactly (see :func:`encode`): 200,000 pydantic households
would take 1.5 to 2 GB, their compact form about 70 MB, and it is turned back into a
:class:`Household` several times faster than validating JSON because the values were validated
when they first came in and are not validated again.
"""

from __future__ import annotations

import calendar
import datetime as dt
import marshal
from decimal import Decimal
from enum import StrEnum
from operator import itemgetter
from typing import Any

from pydantic import BaseModel, ValidationError

from minzheng_rules.model._errors import HouseholdError
from minzheng_rules.model._household import (
    Assets,
    Expenses,
    Household,
    Housing,
    Member,
    describe,
    parse_household,
)
from minzheng_rules.monitor import _events as E


class EventRefused(ValueError):
    """The event is well formed but cannot apply to this household (unknown member, ...)."""


class EventOrder:
    """The date and ids of a household's last events: whether an event may come now. Shared by
    :class:`HouseholdState` and the monitor's view of a household inside a window."""

    __slots__ = ("ids_on_last_date", "last_date")
    last_date: dt.date | None
    ids_on_last_date: tuple[str, ...]

    def order_problem(self, event: E.AnyEvent) -> tuple[str, str] | None:
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

    def note_order(self, event: E.AnyEvent) -> None:
        """The event came: later ones are checked against its date and id."""
        if event.date != self.last_date:
            self.last_date = event.date
            self.ids_on_last_date = (event.id,)
        else:
            self.ids_on_last_date = (*self.ids_on_last_date, event.id)


class HouseholdState(EventOrder):
    """One household under watch.

    With ``compact`` (the default for large registers) the household is kept as ~0.35 KB of
    bytes (:func:`encode`) instead of 7-11 KB of pydantic objects, and rebuilt when an event needs
    it, so 200,000 households fit in under 100 MB."""

    __slots__ = (
        "_household",
        "dated",
        "eligible",
        "period_key",
        "phase_out",
        "tier_until",
    )

    def __init__(self, household: Household, compact: bool = False) -> None:
        self._household: Household | bytes = _stored(household, compact)
        self.dated = dated(household)  # a member's age comes from a birth date (moves daily)
        self.last_date: dt.date | None = None
        self.ids_on_last_date: tuple[str, ...] = ()
        self.eligible: frozenset[str] | None = None  # programs eligible after the last event
        self.period_key: tuple | None = None  # the parameters and programs they were judged by
        self.tier_until: dt.date | None = None  # in the high visiting tier up to this day
        self.phase_out: dict[str, dt.date | None] | None = None  # program -> end of 渐退期

    @property
    def household(self) -> Household:
        h = self._household
        return decode(h) if h.__class__ is bytes else h  # type: ignore[arg-type,return-value]

    def accept(self, event: E.AnyEvent, before: Household | None, after: Household | None) -> None:
        """Record the event as applied: the household after it, and its date and id (both None:
        a tick that left the household as it was, not decoded)."""
        if after is not before:
            assert after is not None  # a changed household is always read
            self._household = _stored(after, self._household.__class__ is bytes)
            self.dated = dated(after)
        self.note_order(event)


def dated(h: Household) -> bool:
    """True when a member's age comes from a birth date (so it moves with the date)."""
    return any(m.birth_date is not None for m in h.members)


def _stored(h: Household, compact: bool) -> Household | bytes:
    if not compact:
        return h
    try:
        return encode(h)
    except ValueError:  # a value marshal cannot hold (not from validation): keep the model
        return h


# -- the compact form --------------------------------------------------------------------------
#
# A household is one marshal'd tuple of plain values (str, int, bool, None, tuples): decimals as
# their exact text (``str`` round-trips a Decimal exactly, exponent included), dates as ordinals,
# enum members as their values. Measured with tracemalloc on a 200,000-household synthetic
# register: ~0.34 KB a household (the compact JSON it replaces ~0.43 KB, the pydantic objects
# 7-11 KB); nested tuples of the validated values were faster still to rebuild but took ~1.7 KB
# and left 1.4 million objects for the garbage collector to walk (a full collection 0.76 s,
# against 0.01 s with bytes). Rebuilding from this form costs about half of validating the
# compact JSON, and writing it about a third to a half of ``model_dump_json``.
#
# Models are rebuilt with ``_built``, which does what pydantic's ``model_construct`` does for
# these models (no validation, no private or extra fields) without its per-field Python work:
# every value was validated when it first came in (register or event).

_new = object.__new__
_MEMBER_FIELDS: tuple[str, ...] = tuple(Member.model_fields)
_member_values = itemgetter(*_MEMBER_FIELDS)
_MEMBER_ENUMS = tuple(
    i
    for i, name in enumerate(_MEMBER_FIELDS)
    if isinstance(Member.model_fields[name].default, StrEnum)
    or name in ("disability_type", "self_care")
)
_MEMBER_INCOME = _MEMBER_FIELDS.index("monthly_income")
_MEMBER_BIRTH = _MEMBER_FIELDS.index("birth_date")
_ALL_MEMBER = frozenset(_MEMBER_FIELDS)
_ALL_HOUSEHOLD = frozenset(Household.model_fields)
_ASSET_FIELDS = frozenset(Assets.model_fields)
_EXPENSE_FIELDS = frozenset(Expenses.model_fields)
_MAX_MEMBERS: int = next(
    (c.max_length for c in Household.model_fields["members"].metadata if hasattr(c, "max_length")),
    0,  # no limit found: every member_added is validated whole
)
_ASSETS_DEFAULT: Assets = Household.model_fields["assets"].default
_EXPENSES_DEFAULT: Expenses = Household.model_fields["expenses"].default
_HOUSING_DEFAULT: Housing = Household.model_fields["housing"].default

# The codec names the fields of these models; a field added to one must be added to it too
# (tests/test_monitor_hotpath.py round-trips households with every field set).
assert tuple(Household.model_fields) == (
    "id",
    "members",
    "assets",
    "expenses",
    "housing",
    "hukou",
    "assessed_needs",
    "emergency",
    "receiving",
), "monitor.state: update encode/decode for the new Household fields"
assert tuple(Assets.model_fields) == ("financial", "vehicles", "properties")
assert tuple(Expenses.model_fields) == ("medical_12m", "education_12m")
assert tuple(Housing.model_fields) == ("unsafe",)
assert len(_MEMBER_FIELDS) == 19, "monitor.state: update the member codec for the new fields"


# Every field of a decoded model was set, so its models share one fields-set each (a set of 19
# names costs more to build and free than the rest of a member); the models are frozen, so
# nothing adds to it, and ``_updated`` makes a new one.
_MEMBER_SET = set(_ALL_MEMBER)
_HOUSEHOLD_SET = set(_ALL_HOUSEHOLD)
_ASSET_SET = set(_ASSET_FIELDS)
_EXPENSE_SET = set(_EXPENSE_FIELDS)

# BaseModel's four slots, set through their descriptors as model_construct does (with
# object.__setattr__), minus the attribute lookups
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _built(cls: type[BaseModel], values: dict[str, Any], fields_set: set[str]) -> Any:
    """A model from already-validated values, like ``cls.model_construct`` but without
    re-applying defaults: ``values`` holds every field."""
    m = _new(cls)
    _set_dict(m, values)
    _set_fields_set(m, fields_set)
    _set_extra(m, None)
    _set_private(m, None)
    return m


def _updated(model: Any, update: dict[str, Any]) -> Any:
    """``model.model_copy(update=update)`` (no validation), without its generic copying."""
    return _built(
        model.__class__,
        {**model.__dict__, **update},
        model.__pydantic_fields_set__ | update.keys(),
    )


def _encode_member(m: Member) -> tuple[Any, ...]:
    t = list(_member_values(m.__dict__))
    for i in _MEMBER_ENUMS:
        v = t[i]
        if v is not None and v.__class__ is not str:  # a default is the enum member itself
            t[i] = v.value
    v = t[_MEMBER_INCOME]
    if v is not None:
        t[_MEMBER_INCOME] = str(v)
    v = t[_MEMBER_BIRTH]
    if v is not None:
        t[_MEMBER_BIRTH] = v.toordinal()
    return tuple(t)


def _decode_member(t: tuple[Any, ...]) -> Member:
    d = dict(zip(_MEMBER_FIELDS, t))  # noqa: B905 (always 19 values: encode wrote them)
    v = t[_MEMBER_INCOME]
    if v is not None:
        d["monthly_income"] = Decimal(v)
    v = t[_MEMBER_BIRTH]
    if v is not None:
        d["birth_date"] = dt.date.fromordinal(v)
    m = _new(Member)  # _built, inlined: this runs for every member of every event's household
    _set_dict(m, d)
    _set_fields_set(m, _MEMBER_SET)
    _set_extra(m, None)
    _set_private(m, None)
    return m


def encode(h: Household) -> bytes:
    """The compact form of a validated household (see :func:`decode`)."""
    d = h.__dict__
    a, x, housing = d["assets"], d["expenses"], d["housing"]
    assets = (
        None
        if a is _ASSETS_DEFAULT
        else (None if a.financial is None else str(a.financial), a.vehicles, a.properties)
    )
    expenses = None if x is _EXPENSES_DEFAULT else (str(x.medical_12m), str(x.education_12m))
    return marshal.dumps(
        (
            d["id"],
            tuple(map(_encode_member, d["members"])),
            assets,
            expenses,
            None if housing is _HOUSING_DEFAULT else housing.unsafe,
            d["hukou"],
            tuple(d["assessed_needs"]),
            d["emergency"],
            tuple([(k, str(v)) for k, v in d["receiving"].items()]),
        )
    )


def decode(data: bytes) -> Household:
    """The household :func:`encode` stored, equal to it field by field."""
    hid, members, assets, expenses, unsafe, hukou, needs, emergency, receiving = marshal.loads(data)
    if assets is None:
        a = _ASSETS_DEFAULT
    else:
        financial, vehicles, properties = assets
        a = _built(
            Assets,
            {
                "financial": None if financial is None else Decimal(financial),
                "vehicles": vehicles,
                "properties": properties,
            },
            _ASSET_SET,
        )
    if expenses is None:
        x = _EXPENSES_DEFAULT
    else:
        x = _built(
            Expenses,
            {"medical_12m": Decimal(expenses[0]), "education_12m": Decimal(expenses[1])},
            _EXPENSE_SET,
        )
    return _built(
        Household,
        {
            "id": hid,
            "members": list(map(_decode_member, members)),
            "assets": a,
            "expenses": x,
            "housing": (
                _HOUSING_DEFAULT
                if unsafe is None
                else _built(Housing, {"unsafe": unsafe}, {"unsafe"})
            ),
            "hukou": hukou,
            "assessed_needs": list(needs),
            "emergency": emergency,
            "receiving": {k: Decimal(v) for k, v in receiving},
        },
        _HOUSEHOLD_SET,
    )


def _member_index(h: Household, member_id: str) -> int:
    for i, m in enumerate(h.members):
        if m.id == member_id:
            return i
    known = ", ".join(m.id for m in h.members)
    raise EventRefused(f"household '{h.id}' has no member '{member_id}' (members: {known})")


def _replace_member(h: Household, i: int, member: Member) -> Household:
    members = list(h.members)
    members[i] = member
    return _updated(h, {"members": members})


def _validated_member(m: Member, changes: dict[str, Any]) -> Member:
    if "id" in changes and changes["id"] != m.id:
        raise EventRefused("a member's id cannot change")
    data = {k: v for k, v in m.__dict__.items() if v is not None}  # model_dump(exclude_none)
    data.update(changes)
    try:
        return Member.model_validate(data)
    except ValidationError as err:
        loc, msg = describe(err.errors()[0])
        where = ".".join(str(p) for p in loc) or "member"
        raise EventRefused(f"member '{m.id}': {where}: {msg}") from None


def _revalidated(data: dict[str, Any]) -> Household:
    try:
        return parse_household(data)
    except HouseholdError as err:
        raise EventRefused(str(err)) from None


def apply_event(h: Household, event: E.AnyEvent) -> Household:
    """The household after ``event``; raises :class:`EventRefused` when it cannot apply."""
    match event:
        case E.IncomeChange():
            i = _member_index(h, event.member)
            m = _updated(h.members[i], {"monthly_income": event.monthly_income})
            return _replace_member(h, i, m)
        case E.MedicalExpense():
            _member_index(h, event.member)
            total = h.expenses.medical_12m + event.amount
            if total >= 10**12:
                raise EventRefused("12-month medical total would exceed 10^12 元")
            return _updated(h, {"expenses": _updated(h.expenses, {"medical_12m": total})})
        case E.MemberDied():
            i = _member_index(h, event.member)
            if len(h.members) == 1:
                raise EventRefused(
                    f"'{event.member}' is the only member of household '{h.id}'; "
                    "a household with no members leaves the register (not a monitoring event)"
                )
            return _updated(h, {"members": [*h.members[:i], *h.members[i + 1 :]]})
        case E.MemberAdded():
            if any(m.id == event.member.id for m in h.members):
                raise EventRefused(f"household '{h.id}' already has a member '{event.member.id}'")
            if len(h.members) < _MAX_MEMBERS:
                # the member was validated with the event and its id is new: the household
                # stays valid (the only other check is the number of members)
                return _updated(h, {"members": [*h.members, event.member]})
            data = h.model_dump(exclude_none=True)
            data["members"].append(event.member.model_dump(exclude_none=True))
            return _revalidated(data)  # beyond the limit: refused with validation's message
        case E.DisabilityAssessed():
            i = _member_index(h, event.member)
            # both values were validated with the event, and a graded type keeps the member
            # valid: no need to validate the member again
            changes = {"disability_grade": event.grade, "disability_type": event.disability_type}
            return _replace_member(h, i, _updated(h.members[i], changes))
        case E.Assessment():
            return _updated(h, {"assessed_needs": sorted(set(event.needs))})
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
