"""The facts of a canonical household as the expression language sees them.

This is the one place where model fields become rule names, so the reference backend, the
vectorized backend and the docs all agree on what ``assets.financial`` or ``m.age`` mean.
An optional fact that was not given becomes :class:`Unknown`; one with a documented default
(``disability_grade`` 0 = no certificate) takes it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from operator import itemgetter
from typing import Any

from minzheng_rules.model import _types as T
from minzheng_rules.model._household import (
    Care,
    DisabilityType,
    Household,
    Member,
    ParentStatus,
    Relation,
    Schooling,
    SelfCare,
)
from minzheng_rules.model._values import Unknown


def _values(e: type) -> tuple[str, ...]:
    return tuple(m.value for m in e)  # type: ignore[attr-defined]


HOUSEHOLD_FACTS: dict[str, T.Type] = {
    "size": T.COUNT,
    "assets.financial": T.MONEY,
    "assets.vehicles": T.COUNT,
    "assets.properties": T.COUNT,
    "expenses.medical_12m": T.MONEY,
    "expenses.education_12m": T.MONEY,
    "housing.unsafe": T.BOOL,
    "emergency": T.BOOL,
    "eval_date": T.DATE,
    "hukou": T.enum(),  # an open code: the county-level division code, e.g. '330503' (南浔区)
}

MEMBER_FACTS: dict[str, T.Type] = {
    "relation": T.enum(*_values(Relation)),
    "age": T.COUNT,
    "monthly_income": T.MONEY,
    "disability_grade": T.COUNT,
    "disability_type": T.enum("none", *_values(DisabilityType)),
    "self_care": T.enum(*_values(SelfCare)),
    "major_illness": T.BOOL,
    "chronic_illness": T.BOOL,
    "student": T.enum(*_values(Schooling)),
    "employed": T.BOOL,
    "father_status": T.enum(*_values(ParentStatus)),
    "mother_status": T.enum(*_values(ParentStatus)),
    "care": T.enum(*_values(Care)),
    "has_capable_obligor": T.BOOL,
    "lives_alone": T.BOOL,
    "incarcerated": T.BOOL,
    "missing": T.BOOL,
}

FACT_DESCRIPTIONS: dict[str, str] = {
    "size": "number of members listed",
    "disability_grade": "1 (most severe) to 4; 0 when the member has no disability certificate",
    "disability_type": "'none' when the member has no disability certificate",
    "eval_date": "the evaluation date",
    "hukou": "county-level division code of the household registration (户籍), e.g. '330503'",
}


def receiving_facts(program_ids: list[str]) -> dict[str, T.Type]:
    """``receiving.<program>`` (bool) and ``receiving_amount.<program>`` (money) for a pack's
    programs: what the household gets now, as recorded on the register."""
    out: dict[str, T.Type] = {}
    for pid in program_ids:
        out[f"receiving.{pid}"] = T.BOOL
        out[f"receiving_amount.{pid}"] = T.MONEY
    return out


def receiving_values(h: Household, program_ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pid in program_ids:
        amount = h.receiving.get(pid)
        out[f"receiving.{pid}"] = amount is not None
        out[f"receiving_amount.{pid}"] = amount if amount is not None else ZERO
    return out


def _known(value: Any, missing: str) -> Any:
    return Unknown(frozenset({missing})) if value is None else value


def household_facts(h: Household, on: dt.date) -> dict[str, Any]:
    """The household-level facts of ``h`` on a date."""
    return {
        "size": len(h.members),
        "assets.financial": _known(h.assets.financial, "assets.financial"),
        "assets.vehicles": h.assets.vehicles,
        "assets.properties": h.assets.properties,
        "expenses.medical_12m": h.expenses.medical_12m,
        "expenses.education_12m": h.expenses.education_12m,
        "housing.unsafe": h.housing.unsafe,
        "emergency": h.emergency,
        "eval_date": on,
        "hukou": _known(h.hukou, "hukou"),
    }


_PLAIN_MEMBER_FIELDS = (
    "relation",
    "major_illness",
    "chronic_illness",
    "father_status",
    "mother_status",
    "care",
    "lives_alone",
    "incarcerated",
    "missing",
)
_OPTIONAL_MEMBER_FIELDS = (
    "monthly_income",
    "self_care",
    "student",
    "employed",
    "has_capable_obligor",
)


def member_fact_defaults() -> tuple[dict[str, Any], list[str]]:
    """How a member's plain fields read when left out (their documented defaults), and the
    fields that are unknown until given: for evaluators outside Python (the explorer's
    calculator), so they follow this module rather than a copy of it."""
    fields = Member.model_fields
    plain = {name: fields[name].default for name in _PLAIN_MEMBER_FIELDS}
    return {k: (v.value if hasattr(v, "value") else v) for k, v in plain.items()}, list(
        _OPTIONAL_MEMBER_FIELDS
    )


def member_facts(h: Household, on: dt.date) -> list[dict[str, Any]]:
    """One dict of facts per member, in the household's order."""
    out = []
    for m in h.members:
        values = m.__dict__
        facts = {name: values[name] for name in _PLAIN_MEMBER_FIELDS}
        for name in _OPTIONAL_MEMBER_FIELDS:
            v = values[name]
            facts[name] = Unknown(frozenset({f"members[{m.id}].{name}"})) if v is None else v
        facts["age"] = m.age if m.birth_date is None else m.age_on(on)
        facts["disability_grade"] = m.disability_grade or 0
        facts["disability_type"] = m.disability_type or "none"
        out.append(facts)
    return out


ZERO = Decimal(0)


RECEIVING_PREFIXES = ("receiving.", "receiving_amount.")
_MISSING = object()
_PLAIN = frozenset(_PLAIN_MEMBER_FIELDS)
_OPTIONAL = frozenset(_OPTIONAL_MEMBER_FIELDS)


class LazyHouseholdFacts(dict):
    """A household's facts (:func:`household_facts`, :func:`receiving_values`), computed when an
    expression first reads one.

    Alert rules, and the few programs the monitor re-checks, read a handful of the facts (often
    none of the 30 ``receiving.*`` names), so filling them all in for every evaluation cost more
    than the rules themselves. Names that are not facts (variables, ``previous.*``) raise
    ``KeyError`` like a plain dict. ``get`` does not compute: the compiled closures use it for
    variables, which the evaluation stores (``compiler.household_value``)."""

    __slots__ = ("_h", "_on", "_programs")
    _h: Household
    _on: dt.date
    _programs: list[str]

    def __missing__(self, name: str) -> Any:
        if name in HOUSEHOLD_FACTS:
            self.update(household_facts(self._h, self._on))
        elif name.startswith(RECEIVING_PREFIXES):
            self.update(receiving_values(self._h, self._programs))
        else:
            raise KeyError(name)
        v = self.get(name, _MISSING)  # (``get`` does not call ``__missing__``)
        if v is _MISSING:  # e.g. ``receiving.<not a program>``
            raise KeyError(name)
        return v


class LazyMemberFacts(dict):
    """One member's facts, computed when an expression first reads one (see
    :class:`LazyHouseholdFacts`); the values are those of :func:`member_facts` (a test checks)."""

    __slots__ = ("_m", "_on")
    _m: Member
    _on: dt.date

    def __missing__(self, name: str) -> Any:
        m = self._m
        if name in _PLAIN:
            v = m.__dict__[name]
        elif name in _OPTIONAL:
            v = m.__dict__[name]
            if v is None:
                v = Unknown(frozenset({f"members[{m.id}].{name}"}))
        elif name == "age":
            v = m.age if m.birth_date is None else m.age_on(self._on)
        elif name == "disability_grade":
            v = m.disability_grade or 0
        elif name == "disability_type":
            v = m.disability_type or "none"
        else:
            raise KeyError(name)
        self[name] = v
        return v


def lazy_facts(
    h: Household, on: dt.date, program_ids: list[str], plain: bool = False
) -> tuple[LazyHouseholdFacts, list[dict[str, Any]]]:
    """The household's and each member's facts on a date, computed on first read; with
    ``plain`` the members' plain fields are copied in at once (cheaper when most are read)."""
    hh = LazyHouseholdFacts()
    hh._h, hh._on, hh._programs = h, on, program_ids
    members: list[dict[str, Any]] = []
    for m in h.members:
        md = LazyMemberFacts(
            zip(_PLAIN_MEMBER_FIELDS, _plain_values(m.__dict__), strict=True) if plain else ()
        )
        md._m, md._on = m, on
        members.append(md)
    return hh, members


_plain_values = itemgetter(*_PLAIN_MEMBER_FIELDS)
