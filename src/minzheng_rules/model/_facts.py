"""The facts of a canonical household as the expression language sees them, in one table.

Each :class:`FactSpec` says what a rule name means: its entity, type, label, where it is read
from a :class:`Household` or :class:`Member` (or how it is derived), its column in the columnar
form, and what it is when not given. Everything else is generated from :data:`FACTS`: the type
tables the checker uses, the eager and lazy extractors of the reference evaluator, the defaults
the calculator exports, the labels in the docs, and the vectorized backend's column expressions
(``backends/vectorized/facts.py``). Adding a plain fact is a field on the household model, one
entry here, and its hand-written expected values in ``tests/test_fact_table.py`` (plus labels in
``docsgen/plain.py`` for new enum choices).

An optional fact that was not given becomes :class:`Unknown`; one with a default takes it: the
model's own default (``relation`` other), or the fact's (``disability_grade`` 0 = no
certificate, where the model keeps ``None`` so that a type needs a grade).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from operator import attrgetter, itemgetter
from typing import Any, Literal

from minzheng_rules.model import _types as T
from minzheng_rules.model._columns import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, Column
from minzheng_rules.model._household import Household, Member
from minzheng_rules.model._values import Unknown

Entity = Literal["household", "member"]


class Absent(Enum):
    """What a fact is when its field was not given, when that is not a value."""

    unknown = "unknown"  # Unknown: a program that needs it is undetermined
    never = "never"  # a derived fact always has a value (``size``, ``eval_date``, ``age``)


UNKNOWN = Absent.unknown
ALWAYS = Absent.never


@dataclass(frozen=True)
class FactSpec:
    """One fact: the rule name, where its value comes from, and what it is when not given."""

    name: str  # as rules read it: ``assets.financial``, ``m.age`` → ``age``
    entity: Entity
    type: T.Type
    label: tuple[str, str]  # 中文, English (docs, plain-words rules)
    default: Any  # the value when not given, or UNKNOWN, or ALWAYS (derived)
    path: tuple[str, ...] = ()  # the attribute path in the model; () for a derived fact
    column: str | None = None  # its column in model/columns.py's tables; None when derived
    derive: Callable[[Any, dt.date], Any] | None = None  # (household or member, date) -> value
    reads: tuple[str, ...] = ()  # the model fields (dotted paths) its value depends on
    description: str = ""  # shown in the docs when the model field has none
    own_default: bool = False  # the default is the fact's: the model field stays None


_MODEL = object()  # "the model's default" (unknown when the model's is None)
_COLUMNS: dict[Entity, dict[tuple[str, ...], Column]] = {
    "household": {c.path: c for c in HOUSEHOLD_COLUMNS},
    "member": {c.path: c for c in MEMBER_COLUMNS},
}
_SIMPLE_TYPES = {"bool": T.BOOL, "int": T.COUNT, "money": T.MONEY, "date": T.DATE}


def _field(
    entity: Entity,
    name: str,
    label: tuple[str, str],
    *,
    default: Any = _MODEL,
    description: str = "",
) -> FactSpec:
    """A fact read from the model field at ``name`` (dotted); type, column and the model's
    default come from the field itself (via its column)."""
    path = tuple(name.split("."))
    column = _COLUMNS[entity].get(path)
    if column is None:
        raise TypeError(f"fact '{name}': the {entity} model has no field '{name}'")
    own = default is not _MODEL
    if own and column.default is not None:
        raise TypeError(f"fact '{name}': the model already defaults it to {column.default!r}")
    if not own:
        default = UNKNOWN if column.default is None else column.default
    if column.kind in _SIMPLE_TYPES:
        type_ = _SIMPLE_TYPES[column.kind]
    elif column.kind == "enum":  # a default outside the model's choices is one more choice
        extra = (default,) if isinstance(default, str) and default not in column.values else ()
        type_ = T.enum(*extra, *column.values)
    elif column.kind == "text":  # an open code (hukou): any text
        type_ = T.enum()
    else:
        raise TypeError(f"fact '{name}': no fact type for a {column.kind} column")
    return FactSpec(
        name,
        entity,
        type_,
        label,
        default,
        path=path,
        column=column.name,
        reads=(name,),
        description=description,
        own_default=own,
    )


def _household(name: str, label: tuple[str, str], **kw: Any) -> FactSpec:
    return _field("household", name, label, **kw)


def _member(name: str, label: tuple[str, str], **kw: Any) -> FactSpec:
    return _field("member", name, label, **kw)


def _age(m: Member, on: dt.date) -> int:
    age = m.age
    if m.birth_date is None and age is not None:  # (the model needs one of them)
        return age
    return m.age_on(on)


FACTS: tuple[FactSpec, ...] = (
    FactSpec(
        "size",
        "household",
        T.COUNT,
        ("登记人数", "number of members listed"),
        ALWAYS,
        derive=lambda h, on: len(h.members),
        reads=("members",),
        description="number of members listed",
    ),
    _household("assets.financial", ("家庭金融资产", "financial assets")),
    _household("assets.vehicles", ("车辆数", "vehicles owned")),
    _household("assets.properties", ("房产数", "dwellings owned")),
    _household(
        "expenses.medical_12m", ("近12个月自付医疗费用", "out-of-pocket medical costs, 12 months")
    ),
    _household(
        "expenses.education_12m",
        ("近12个月自付教育费用", "out-of-pocket education costs, 12 months"),
    ),
    _household("housing.unsafe", ("住房不安全", "unsafe housing")),
    _household("emergency", ("遭遇突发事件", "struck by an emergency")),
    FactSpec(
        "eval_date",
        "household",
        T.DATE,
        ("评估日期", "evaluation date"),
        ALWAYS,
        derive=lambda h, on: on,
        description="the evaluation date",
    ),
    _household(
        "hukou",
        ("户籍地代码", "hukou (county code)"),
        description="county-level division code of the household registration (户籍), "
        "e.g. '330503'",
    ),
    _member("relation", ("与户主关系", "relation to the head")),
    FactSpec(
        "age",
        "member",
        T.COUNT,
        ("年龄", "age"),
        ALWAYS,  # the model needs an age or a birth date
        derive=_age,
        reads=("age", "birth_date"),
    ),
    _member("monthly_income", ("月收入", "monthly income")),
    _member(
        "disability_grade",
        ("残疾等级", "disability grade"),
        default=0,
        description="1 (most severe) to 4; 0 when the member has no disability certificate",
    ),
    _member(
        "disability_type",
        ("残疾类别", "disability type"),
        default="none",
        description="'none' when the member has no disability certificate",
    ),
    _member("self_care", ("生活自理能力", "self-care")),
    _member("major_illness", ("患重大疾病", "major illness")),
    _member("chronic_illness", ("患慢性病", "chronic illness")),
    _member("student", ("就学阶段", "schooling")),
    _member("employed", ("就业", "employed")),
    _member("father_status", ("父亲状况", "father's status")),
    _member("mother_status", ("母亲状况", "mother's status")),
    _member("care", ("抚养方式", "care arrangement")),
    _member("has_capable_obligor", ("有履行能力的法定义务人", "has a capable obligor")),
    _member("lives_alone", ("独居", "lives alone")),
    _member("incarcerated", ("服刑或强制隔离戒毒", "in prison or compulsory rehabilitation")),
    _member("missing", ("下落不明", "missing")),
)

NOT_FACTS: dict[tuple[Entity, str], str] = {
    ("household", "id"): "names the household in results and errors",
    ("household", "assessed_needs"): "read as `needs.<label>` once the needs are decided",
    ("household", "receiving"): "`receiving.<program>` / `receiving_amount.<program>` for each "
    "of a pack's programs (receiving_facts)",
    ("member", "id"): "names the member in answers (`members[<id>].<field>`)",
}
"""Model fields that are deliberately not a fact of the table (a test checks that every field
is read by an entry or listed here)."""


def _check(facts: tuple[FactSpec, ...]) -> None:
    names = [f.name for f in facts]
    twice = {n for n in names if names.count(n) > 1}
    if twice:
        raise TypeError(f"facts named twice: {sorted(twice)}")
    for f in facts:
        if (f.derive is None) == (not f.path):
            raise TypeError(f"fact '{f.name}': give either a model path or a derivation")
        if f.entity == "member" and f.path and f.path != (f.name,):  # (read by name below)
            raise TypeError(f"member fact '{f.name}': read from the member's field of that name")


_check(FACTS)

HOUSEHOLD_TABLE: dict[str, FactSpec] = {f.name: f for f in FACTS if f.entity == "household"}
MEMBER_TABLE: dict[str, FactSpec] = {f.name: f for f in FACTS if f.entity == "member"}

HOUSEHOLD_FACTS: dict[str, T.Type] = {n: f.type for n, f in HOUSEHOLD_TABLE.items()}
MEMBER_FACTS: dict[str, T.Type] = {n: f.type for n, f in MEMBER_TABLE.items()}
FACT_DESCRIPTIONS: dict[str, str] = {f.name: f.description for f in FACTS if f.description}
FACT_LABELS: dict[str, tuple[str, str]] = {f.name: f.label for f in FACTS}


def facts_reading(entity: Entity, field: str) -> tuple[str, ...]:
    """The facts whose value depends on model field ``field`` (``birth_date`` → ``age``)."""
    return _READING[entity].get(field, ())


_READING: dict[Entity, dict[str, tuple[str, ...]]] = {"household": {}, "member": {}}
for _f in FACTS:
    for _r in _f.reads:
        _READING[_f.entity][_r] = (*_READING[_f.entity].get(_r, ()), _f.name)


def receiving_facts(program_ids: list[str]) -> dict[str, T.Type]:
    """``receiving.<program>`` (bool) and ``receiving_amount.<program>`` (money) for a pack's
    programs: what the household gets now, as recorded on the register."""
    out: dict[str, T.Type] = {}
    for pid in program_ids:
        out[f"receiving.{pid}"] = T.BOOL
        out[f"receiving_amount.{pid}"] = T.MONEY
    return out


def receiving_values(h: Household, program_ids: list[str]) -> dict[str, Any]:
    """The ``receiving.*`` facts of ``h`` (see :func:`receiving_facts`)."""
    names, nothing = _receiving_names(tuple(program_ids))
    receiving = h.receiving
    if not receiving:  # most households: a copy of the names made once per pack
        return nothing.copy()
    out: dict[str, Any] = {}
    for pid, flag, amount_name in names:
        amount = receiving.get(pid)
        out[flag] = amount is not None
        out[amount_name] = amount if amount is not None else ZERO
    return out


@functools.lru_cache(maxsize=64)
def _receiving_names(
    program_ids: tuple[str, ...],
) -> tuple[tuple[tuple[str, str, str], ...], dict[str, Any]]:
    """Each program's two fact names, and the facts of a household that receives nothing
    (formatting 2 names per program for every household cost more than the other facts)."""
    names = tuple((pid, f"receiving.{pid}", f"receiving_amount.{pid}") for pid in program_ids)
    nothing: dict[str, Any] = {}
    for _, flag, amount_name in names:
        nothing[flag], nothing[amount_name] = False, ZERO
    return names, nothing


ZERO = Decimal(0)
RECEIVING_PREFIXES = ("receiving.", "receiving_amount.")

# -- the extractors, generated from the table -------------------------------------------------
# A fact read from a field is one of: never None (the model has a default), unknown when None,
# or the fact's own default when None; a derived fact is computed. Written for speed: the
# reference evaluator extracts every household's facts (the generic dict building costs ~0.7 µs
# more than the hand-written extractors these replaced, on a 4-person household; the names of
# the receiving.* facts, now made once per pack, saved more).


def _reads(
    table: dict[str, FactSpec],
) -> tuple[
    tuple[str, ...],
    tuple[tuple[str, Any], ...],
    tuple[tuple[str, Any], ...],
    tuple[tuple[str, Callable[[Any, dt.date], Any]], ...],
]:
    """(read fields' fact names, unknown ones with their missing name, own defaults, derived)."""
    read = tuple(n for n, f in table.items() if f.path)
    unknown = tuple(
        (n, frozenset({".".join(f.path)})) for n, f in table.items() if f.default is UNKNOWN
    )
    own = tuple((n, f.default) for n, f in table.items() if f.own_default)
    derived = tuple((n, f.derive) for n, f in table.items() if f.derive is not None)
    return read, unknown, own, derived


_H_READ, _H_UNKNOWN, _H_OWN, _H_DERIVED = _reads(HOUSEHOLD_TABLE)
_, _M_UNKNOWN, _M_OWN, _M_DERIVED = _reads(MEMBER_TABLE)
_h_values = attrgetter(*(".".join(HOUSEHOLD_TABLE[n].path) for n in _H_READ))
_M_OWN_DEFAULTS = dict(_M_OWN)
_M_DERIVE = dict(_M_DERIVED)

# the member facts read straight from a field that always has a value (the model's default),
# and those read from a field that is None when not given (unknown)
_PLAIN_MEMBER_FIELDS = tuple(
    n for n, f in MEMBER_TABLE.items() if f.path and f.default is not UNKNOWN and not f.own_default
)
_OPTIONAL_MEMBER_FIELDS = tuple(n for n, _ in _M_UNKNOWN)
_plain_values = itemgetter(*_PLAIN_MEMBER_FIELDS)


def household_facts(h: Household, on: dt.date) -> dict[str, Any]:
    """The household-level facts of ``h`` on a date."""
    facts = dict(zip(_H_READ, _h_values(h)))  # noqa: B905 (the same table made both)
    for name, missing in _H_UNKNOWN:
        if facts[name] is None:
            facts[name] = Unknown(missing)
    for name, default in _H_OWN:
        if facts[name] is None:
            facts[name] = default
    for name, derive in _H_DERIVED:
        facts[name] = derive(h, on)
    return facts


def member_facts(h: Household, on: dt.date) -> list[dict[str, Any]]:
    """One dict of facts per member, in the household's order."""
    out = []
    for m in h.members:
        values = m.__dict__
        facts = {name: values[name] for name in _PLAIN_MEMBER_FIELDS}
        for name in _OPTIONAL_MEMBER_FIELDS:
            v = values[name]
            facts[name] = Unknown(frozenset({f"members[{m.id}].{name}"})) if v is None else v
        for name, default in _M_OWN:
            v = values[name]
            facts[name] = default if v is None else v
        for name, derive in _M_DERIVED:
            facts[name] = derive(m, on)
        out.append(facts)
    return out


def member_fact_defaults() -> tuple[dict[str, Any], list[str]]:
    """How a member's plain fields read when left out (the model's defaults), and the fields
    that are unknown until given: for evaluators outside Python (the explorer's calculator), so
    they follow this table rather than a copy of it."""
    defaults = {n: MEMBER_TABLE[n].default for n in _PLAIN_MEMBER_FIELDS}
    return defaults, list(_OPTIONAL_MEMBER_FIELDS)


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
        elif name in _M_OWN_DEFAULTS:
            v = m.__dict__[name]
            if v is None:
                v = _M_OWN_DEFAULTS[name]
        elif name in _M_DERIVE:
            v = _M_DERIVE[name](m, self._on)
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
