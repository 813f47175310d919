"""Hypothesis strategies for canonical households, shaped by a pack.

Every household drawn is valid by construction (it passes :class:`Household` validation) and
shrinks toward a small, readable one: one member, the head, no income, default facts. Drawn with
a pack and a date, incomes, assets and ages cluster where the pack's rules turn: a household's
income at ``n × dibao.standard`` give or take a few fen, ages at 15/16/17, 59/60/61, 79/80/81...
taken from the pack's parameters (units ``years`` and ``CNY/...``) and from the numbers its
expressions compare facts with.

    from hypothesis import given
    from minzheng_rules.testing.strategies import households

    @given(households(pack, on=dt.date(2024, 6, 1)))
    def test_something(household): ...
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from typing import Any

from hypothesis import strategies as st

from minzheng_rules.expr._nodes import Compare, Const, In, Name, walk
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._household import (
    Care,
    DisabilityType,
    Household,
    Member,
    ParentStatus,
    Relation,
    Schooling,
)
from minzheng_rules.packs._pack import Pack

FEN = Decimal("0.01")
MAX_MONEY = Decimal("999999")
_OLDEST = 130
_MONTHLY_UNITS = {"CNY/person/month", "CNY/month"}


@dataclass(frozen=True)
class Thresholds:
    """The values a pack's rules turn on, on one date: where generated facts should cluster."""

    income: tuple[Decimal, ...] = ()  # per person per month, 元
    assets: tuple[Decimal, ...] = ()  # financial assets per countable member, 元
    expenses: tuple[Decimal, ...] = ()  # out-of-pocket spending over 12 months, 元
    ages: tuple[int, ...] = ()
    codes: tuple[str, ...] = ()  # hukou codes the rules name

    def near_ages(self) -> list[int]:
        """Each threshold age and the years either side of it."""
        return sorted({a + d for a in self.ages for d in (-1, 0, 1) if 0 <= a + d <= _OLDEST})


GENERIC = Thresholds(
    income=(Decimal(1000),),
    assets=(Decimal(20000),),
    expenses=(Decimal(10000),),
    ages=(16, 18, 60, 80, 90, 100),
)


def _role(names: set[str]) -> str:
    """What a comparison is about, from the facts and variables it names."""
    if any(n.startswith("assets.") or "asset" in n for n in names):
        return "assets"
    if any(n.startswith("expenses.") or "expense" in n or "medical" in n for n in names):
        return "expenses"
    if any("income" in n for n in names):
        return "income"
    return "other"


def pack_thresholds(pack: Pack, on: dt.date) -> Thresholds:
    """Thresholds found in a pack's parameters in force on ``on`` and in its expressions.

    A parameter counts when a condition compares something with it: its pool (income per
    person per month, assets, expenses) follows what it is compared with; a derived line's
    inputs count as income lines when they are monthly money (``dibao_edge.line`` →
    ``dibao.standard``). Amounts paid are never compared, so they are left out."""
    pools: dict[str, set[Decimal]] = {"income": set(), "assets": set(), "expenses": set()}
    ages: set[int] = set()
    codes: set[str] = set()
    literals, compared = _comparisons(pack)
    for name, roles in compared.items():
        spec = pack.parameters.get(name)
        if spec is None:
            continue
        try:
            value = pack.parameter(name, on).value
        except MinzhengError:
            continue
        if isinstance(value, bool) or value <= 0:
            continue
        unit = spec.unit.value
        if unit == "years":
            ages.add(int(value))
        elif spec.type == "money" and value <= MAX_MONEY:
            for role in roles:
                if role in ("assets", "expenses"):
                    pools[role].add(Decimal(value))
                elif unit in _MONTHLY_UNITS:
                    pools["income"].add(Decimal(value))
    for fact, literal in literals:
        if isinstance(literal, str):
            if fact == "hukou":
                codes.add(literal)
        elif isinstance(literal, bool):
            continue
        elif fact == "age":
            ages.add(int(literal))
        elif 0 < literal <= MAX_MONEY and (role := _role({fact})) in pools:
            pools[role].add(Decimal(literal))
    return Thresholds(
        income=tuple(sorted(pools["income"])) or GENERIC.income,
        assets=tuple(sorted(pools["assets"])) or GENERIC.assets,
        expenses=tuple(sorted(pools["expenses"])) or GENERIC.expenses,
        ages=tuple(sorted(a for a in ages if 0 < a <= _OLDEST)) or GENERIC.ages,
        codes=tuple(sorted(codes)),
    )


def _comparisons(pack: Pack) -> tuple[list[tuple[str, Any]], dict[str, set[str]]]:
    """What the pack's conditions compare: (fact name, literal) for each comparison of a plain
    fact with a constant, and each parameter inside a comparison with what it is compared
    with (see :func:`_role`); a derived parameter's inputs are marked ``derived``."""
    exprs = [*pack.variables.values()]
    for t in pack.tables.values():
        exprs += [when for when, _ in t.rows]
    for p in pack.programs.values():
        exprs += [e for _, e in p.conditions]
    literals: list[tuple[str, Any]] = []
    compared: dict[str, set[str]] = {}
    for e in exprs:
        symbols = e.checked.symbols
        for node in walk(e.checked.node):
            if isinstance(node, Compare):
                named = [symbols[id(n)] for o in node.operands for n in walk(o) if id(n) in symbols]
                role = _role({s.name for s in named if s.kind != "param"})
                for sym in named:
                    if sym.kind == "param":
                        compared.setdefault(sym.name, set()).add(role)
                pairs = zip(node.operands, node.operands[1:], strict=False)
                for a, b in pairs:
                    for x, y in ((a, b), (b, a)):
                        if isinstance(x, Name) and isinstance(y, Const) and id(x) in symbols:
                            literals.append((symbols[id(x)].name, y.value))
            elif isinstance(node, In) and isinstance(node.operand, Name):
                operand = symbols.get(id(node.operand))
                if operand is not None:
                    literals += [(operand.name, v) for v in node.options]
    todo = list(compared)
    while todo:  # a derived parameter's inputs are compared too
        derived = pack.derived.get(todo.pop())
        if derived is not None:
            for name in derived.checked.references("param"):
                if name not in compared:
                    todo.append(name)
                compared.setdefault(name, set()).add("derived")
    return literals, compared


def evaluable_dates(pack: Pack) -> list[dt.date]:
    """The dates a parameter changes on where the pack can run (every value in force),
    latest first so that examples shrink toward the rules in force now."""
    out = []
    for day in reversed(pack.parameter_dates()):
        if day.year < 1900:  # an override "on every date" starts at date.min
            continue
        try:
            pack.plan(day)
        except MinzhengError:
            continue
        out.append(day)
    return out


def dates(pack: Pack) -> st.SearchStrategy[dt.date]:
    """One of the dates the pack can be evaluated on (see :func:`evaluable_dates`)."""
    days = evaluable_dates(pack)
    if not days:
        raise MinzhengError(f"pack '{pack.id}' has no date on which every parameter has a value")
    return st.sampled_from(days)


# -- money and ages ------------------------------------------------------------------------


def _fen(n: int) -> Decimal:
    return (Decimal(n) * FEN).quantize(FEN)


def near(values: tuple[Decimal, ...], times: int = 1) -> st.SearchStrategy[Decimal]:
    """``k × v`` (k up to ``times``) give or take a few fen, or a few hundred 元."""
    if not values:
        return st.just(Decimal(0))

    @st.composite
    def draw_near(draw: Any) -> Decimal:
        v = draw(st.sampled_from(values))
        k = draw(st.integers(1, max(1, times)))
        delta = draw(st.one_of(st.integers(-3, 3), st.integers(-50_000, 50_000)))
        return max(Decimal(0), (v * k + _fen(delta)).quantize(FEN))

    return draw_near()


def money(values: tuple[Decimal, ...], times: int = 1) -> st.SearchStrategy[Decimal]:
    """Zero first (shrinks there), then near a threshold, then anything up to twice the top."""
    top = int(max(values, default=Decimal(1000)) * 2 * max(1, times) * 100)
    return st.one_of(st.just(Decimal(0)), near(values, times), st.integers(0, top).map(_fen))


def _birth_date(on: dt.date, age: int, offset: int) -> dt.date:
    """The birth date giving ``age`` on ``on``, moved by ``offset`` days (a birthday edge)."""
    year = on.year - age
    day = on.day if not (on.month == 2 and on.day == 29) else 28
    born = dt.date(year, on.month, day) + dt.timedelta(days=offset)
    return min(born, on)  # never after the date (age 0 and a day later is no one yet)


def _rare() -> st.SearchStrategy[bool]:
    """True about one time in eight; shrinks to False."""
    return st.integers(0, 7).map(lambda x: x == 7)


# -- members and households ----------------------------------------------------------------

_OTHER_RELATIONS = [r.value for r in Relation if r is not Relation.head]
_CARE_LEVELS = ["full", "partial", "none"]


def used_facts(pack: Pack) -> frozenset[str]:
    """The household and member facts a pack's rules read: the only ones worth drawing."""
    exprs = [*pack.variables.values(), *pack.derived.values()]
    for t in pack.tables.values():
        exprs += [e for row in t.rows for e in row] + [t.default]
    for p in pack.programs.values():
        exprs += list(p.expressions())
    names = {
        s.name
        for e in exprs
        for s in e.checked.symbols.values()
        if s.kind in ("household", "member")
    }
    return frozenset(names)


def _group(used: Any, fields: dict[str, list[Any]]) -> tuple[list[str], Any]:
    """The used ones of ``fields`` drawn as one choice (fewer draws; each field shrinks to its
    first value), or no strategy when none is used."""
    names = [n for n in fields if used(n)]
    if not names:
        return names, None
    return names, st.sampled_from(list(product(*(fields[n] for n in names))))


class _Shapes:
    """The strategies for one pack and date, built once: Hypothesis strategies are cheap to
    draw from but not to create, so draws reuse these. Facts the pack never reads are not
    drawn at all, which keeps generation fast and the shrunk examples short."""

    def __init__(
        self,
        th: Thresholds,
        on: dt.date | None,
        known: bool,
        sizes: tuple[int, int],
        program_ids: tuple[str, ...],
        uses: frozenset[str] | None = None,
    ) -> None:
        self.th, self.on, self.known = th, on, known
        self.used = (lambda name: True) if uses is None else uses.__contains__
        used = self.used
        max_members = sizes[1]
        self.age = st.one_of(st.integers(0, 100), st.sampled_from(th.near_ages()))
        self.income = money(th.income)
        self.assets = {n: money(th.assets, times=n) for n in range(1, max_members + 1)}
        self.expense = money(th.expenses)
        self.relation = st.sampled_from(_OTHER_RELATIONS)
        flags: list[bool | None] = [False, True] if known else [False, True, None]
        levels: list[str | None] = [*_CARE_LEVELS] if known else [*_CARE_LEVELS, None]
        self.abilities = _group(
            used, {"self_care": levels, "employed": flags, "has_capable_obligor": flags}
        )
        self.situation = _group(
            used,
            {
                # unknown first (the model's default), so that a household shrinks to it
                "student": ([] if known else [None]) + [s.value for s in Schooling],
                "care": [c.value for c in Care],
            },
        )
        self.holdings = _group(used, {"assets.vehicles": [0, 1, 2], "assets.properties": [1, 0, 2]})
        self.rare_facts = [
            n
            for n in (
                "disability_grade",
                "disability_type",
                "major_illness",
                "chronic_illness",
                "father_status",
                "mother_status",
                "lives_alone",
                "incarcerated",
                "missing",
            )
            if used(n)
        ]
        self.rare = _rare()
        self.offset = st.integers(-1, 1)
        self.grade = st.integers(1, 4)
        self.disability = st.sampled_from([t.value for t in DisabilityType])
        self.parent = st.sampled_from([s.value for s in ParentStatus])
        self.threshold = st.sampled_from(th.income)
        self.few_fen = st.integers(-3, 3)
        self.aim = st.integers(0, 3).map(bool)  # three times in four; shrinks to False
        self.codes = st.sampled_from(th.codes) if th.codes and used("hukou") else None
        reads_receiving = uses is None or any(n.startswith("receiving") for n in uses)
        self.receiving = (
            st.dictionaries(st.sampled_from(program_ids), self.income, max_size=2)
            if program_ids and reads_receiving
            else None
        )

        @st.composite
        def one(draw: Any) -> dict[str, Any]:
            return self.member(draw)

        # a list, so that shrinking deletes whole members
        self.people = st.lists(one(), min_size=sizes[0], max_size=sizes[1])

    def member(self, draw: Any) -> dict[str, Any]:
        """One member's fields (id and head are set by the household), drawn so that they
        shrink to defaults."""
        used = self.used
        m: dict[str, Any] = {"relation": draw(self.relation) if used("relation") else "other"}
        age = draw(self.age) if used("age") else 40
        on = self.on
        if used("age") and on is not None and age <= on.year - 1 and draw(self.rare):
            m["birth_date"] = _birth_date(on, age, draw(self.offset))
        else:
            m["age"] = age
        if used("monthly_income"):
            income = draw(self.income)
            if self.known or draw(st.booleans()):
                m["monthly_income"] = income
        for names, strategy in (self.abilities, self.situation):
            if strategy is not None:
                m.update(zip(names, draw(strategy), strict=True))
        if self.rare_facts and draw(self.rare):  # the less common facts, drawn together
            wanted = set(self.rare_facts)
            if wanted & {"disability_grade", "disability_type"} and draw(st.booleans()):
                m["disability_grade"] = draw(self.grade)
                m["disability_type"] = draw(self.disability)
            for name in ("major_illness", "chronic_illness", "lives_alone"):
                if name in wanted:
                    m[name] = draw(st.booleans())
            for name in ("father_status", "mother_status"):
                if name in wanted:
                    m[name] = draw(self.parent)
            for name in ("incarcerated", "missing"):
                if name in wanted:
                    m[name] = draw(self.rare)
        return {k: v for k, v in m.items() if v is not None}

    def household(self, draw: Any) -> dict[str, Any]:
        used = self.used
        people = draw(self.people)
        n = len(people)
        for i, person in enumerate(people):
            person["id"] = _member_id(i)
            if i == 0:
                person["relation"] = "head"
        countable = [
            p
            for p in people
            if "monthly_income" in p and not p.get("incarcerated") and not p.get("missing")
        ]
        if countable and draw(self.aim):
            # aim the household's income at (countable members) × a threshold, give or take fen
            target = draw(self.threshold) * len(countable) + _fen(draw(self.few_fen))
            rest = sum((p["monthly_income"] for p in countable[:-1]), Decimal(0))
            if target - rest >= 0:
                countable[-1]["monthly_income"] = (target - rest).quantize(FEN)
        h: dict[str, Any] = {"id": "h1", "members": people}
        assets: dict[str, Any] = {}
        if used("assets.financial"):
            financial = draw(self.assets[n])
            if self.known or draw(st.booleans()):
                assets["financial"] = financial
        names, holdings = self.holdings
        if holdings is not None:
            for name, value in zip(names, draw(holdings), strict=True):
                assets[name.removeprefix("assets.")] = value
        h["assets"] = assets
        h["expenses"] = {
            name: draw(self.expense)
            for name in ("medical_12m", "education_12m")
            if used(f"expenses.{name}")
        }
        if (used("housing.unsafe") or used("emergency")) and draw(self.rare):
            h["housing"] = {"unsafe": draw(st.booleans())}
            h["emergency"] = draw(st.booleans())
        if self.codes is not None and (self.known or draw(st.booleans())):
            h["hukou"] = draw(self.codes)
        if self.receiving is not None and draw(self.rare):
            h["receiving"] = draw(self.receiving)
        return h


def _member_id(index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < len(letters) else f"m{index}"


def _thresholds(pack: Pack | None, on: dt.date | None) -> Thresholds:
    return pack_thresholds(pack, on) if pack is not None and on is not None else GENERIC


def members(
    pack: Pack | None = None, on: dt.date | None = None, *, known: bool = True
) -> st.SearchStrategy[Member]:
    """One member, shaped by ``pack`` on ``on`` when given. ``known=False`` leaves some facts
    out (unknown), which makes the programs that need them undetermined."""
    uses = used_facts(pack) if pack is not None else None
    shapes = _Shapes(_thresholds(pack, on), on, known, (1, 1), (), uses)

    @st.composite
    def member(draw: Any) -> Member:
        return Member.model_validate({"id": "a", **shapes.member(draw)})

    return member()


def households(
    pack: Pack | None = None,
    on: dt.date | None = None,
    *,
    known: bool = True,
    min_members: int = 1,
    max_members: int = 6,
    thresholds: Thresholds | None = None,
    every_fact: bool = False,
) -> st.SearchStrategy[Household]:
    """Canonical households, valid by construction, shrinking to one member with no income.

    With ``pack`` and ``on`` the facts cluster at the pack's thresholds on that date, and
    only the facts its rules read are drawn (``every_fact=True`` draws all of them, e.g. for
    tags or needs); ``known=False`` leaves some facts unknown; ``thresholds`` replaces the
    ones found."""
    if not 1 <= min_members <= max_members <= 30:
        raise ValueError("need 1 <= min_members <= max_members <= 30")
    th = thresholds or _thresholds(pack, on)
    program_ids = tuple(sorted(pack.programs)) if pack is not None else ()
    uses = used_facts(pack) if pack is not None and not every_fact else None
    shapes = _Shapes(th, on, known, (min_members, max_members), program_ids, uses)

    @st.composite
    def household(draw: Any) -> Household:
        return Household.model_validate(shapes.household(draw))

    return household()


def dated_households(
    pack: Pack, *, known: bool = True, max_members: int = 6
) -> st.SearchStrategy[tuple[dt.date, Household]]:
    """(date, household) pairs over the dates the pack can run on, shaped by each date."""
    days = evaluable_dates(pack)
    if not days:
        raise MinzhengError(f"pack '{pack.id}' has no date on which every parameter has a value")
    shaped = {d: households(pack, d, known=known, max_members=max_members) for d in days}
    return st.sampled_from(days).flatmap(lambda d: st.tuples(st.just(d), shaped[d]))


def readable(household: Household) -> dict[str, Any]:
    """The household without its default values: what a person needs to read."""
    return household.model_dump(mode="json", exclude_defaults=True)


__all__ = [
    "GENERIC",
    "Thresholds",
    "dated_households",
    "dates",
    "evaluable_dates",
    "households",
    "members",
    "money",
    "near",
    "pack_thresholds",
    "readable",
    "used_facts",
]
