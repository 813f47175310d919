"""The household strategies: valid by construction, shaped by a pack, shrinking to small ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import find, given, settings

from minzheng_rules import load_pack
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._household import Household, Member
from minzheng_rules.testing.strategies import (
    dates,
    evaluable_dates,
    households,
    members,
    pack_thresholds,
    readable,
    used_facts,
)

from packs_for_tests import files

ON = dt.date(2024, 1, 1)
SEARCH = settings(database=None, derandomize=True, max_examples=300)


def sample(strategy, n: int = 300) -> list:
    """What a strategy generates in ``n`` deterministic examples (no shrinking)."""
    seen = []

    @settings(database=None, derandomize=True, max_examples=n)
    @given(strategy)
    def collect(x):
        seen.append(x)

    collect()
    return seen


def counted_income(h: Household) -> tuple[Decimal, int]:
    counted = [m for m in h.members if not m.incarcerated and not m.missing]
    return sum((m.monthly_income or Decimal(0) for m in counted), Decimal(0)), len(counted)


@given(households(load_pack("huzhou"), ON, max_members=5))
def test_households_are_valid_and_well_formed(h):
    assert isinstance(h, Household)
    assert 1 <= len(h.members) <= 5
    assert [m.id for m in h.members] == ["a", "b", "c", "d", "e"][: len(h.members)]
    assert h.members[0].relation == "head"
    assert all(m.relation != "head" for m in h.members[1:])
    # known facts by default: nothing the programs need is left unknown
    assert h.assets.financial is not None
    assert all(m.monthly_income is not None and m.self_care is not None for m in h.members)
    # a round trip through the model keeps it the same (valid by construction)
    assert Household.model_validate(h.model_dump()) == h


@given(members())
def test_members_without_a_pack(m):
    assert isinstance(m, Member)
    assert m.age is not None or m.birth_date is not None


def test_thresholds_come_from_the_pack_in_force(huzhou):
    for on in (dt.date(2023, 1, 1), ON):
        th = pack_thresholds(huzhou, on)
        standard = huzhou.parameter("dibao.standard", on).value
        edge = huzhou.parameter("dibao_edge.line", on).value
        limit = huzhou.parameter("dibao.asset_limit_per_person", on).value
        assert standard in th.income and edge in th.income
        assert limit in th.assets
        for age in ("work_age_min", "work_age_max", "adult_age"):
            assert huzhou.parameter(age, on).value in th.ages
        # an amount paid is not a line a fact crosses
        longevity = huzhou.parameter("longevity.amount_80", on).value
        assert longevity not in th.income


def test_incomes_cluster_a_fen_either_side_of_n_times_the_standard(huzhou):
    standard = huzhou.parameter("dibao.standard", ON).value
    offsets = set()
    for h in sample(households(huzhou, ON, max_members=4)):
        total, n = counted_income(h)
        if n >= 2 and abs(total - standard * n) <= Decimal("0.03"):
            offsets.add(total - standard * n)
    assert {Decimal("-0.01"), Decimal("0.01")} <= offsets or len(offsets) >= 4


def test_ages_and_birthdays_at_thresholds(huzhou):
    generated = sample(households(huzhou, ON))
    ages = {m.age for h in generated for m in h.members}
    assert {59, 60, 61, 79, 80, 81} <= ages
    birthdays = [m for h in generated for m in h.members if m.birth_date is not None]
    assert birthdays, "some members are given a birth date near their birthday"
    day = dt.timedelta(days=1)
    for m in birthdays:  # a birthday falls on the day before, the day, or the day after
        assert m.age_on(ON - 2 * day) != m.age_on(ON + day)


def test_shrinks_to_a_small_readable_household(huzhou):
    two = find(households(huzhou, ON), lambda h: len(h.members) >= 2, settings=SEARCH)
    assert len(two.members) == 2
    text = readable(two)
    assert text["members"][0] == {
        "id": "a",
        "relation": "head",
        "age": 0,
        "monthly_income": "0",
        "self_care": "full",
        "has_capable_obligor": False,
        "student": "none",  # known facts are drawn; schooling has no default (unknown)
    }
    assert "expenses" not in text and "housing" not in text


def test_only_the_facts_the_pack_reads_are_drawn(huzhou, write_pack):
    tiny = load_pack(write_pack(files()))
    assert {"age", "monthly_income"} <= used_facts(tiny)
    for h in sample(households(tiny, ON), 50):
        assert {k for m in readable(h)["members"] for k in m} <= {
            "id",
            "relation",
            "age",
            "birth_date",
            "monthly_income",
        }
    assert any(
        "employed" in m
        for h in sample(households(huzhou, ON, every_fact=True), 50)
        for m in readable(h)["members"]
    )


def test_unknown_facts_when_asked(huzhou):
    found = find(
        households(huzhou, ON, known=False),
        lambda h: any(m.monthly_income is None for m in h.members),
        settings=SEARCH,
    )
    assert any(m.monthly_income is None for m in found.members)


def test_dates_are_the_ones_the_pack_can_run_on(huzhou):
    days = evaluable_dates(huzhou)
    assert days == sorted(days, reverse=True) and ON in days
    for day in days:
        huzhou.plan(day)  # every parameter has a value
    national = load_pack("national")  # its standards are set by city packs
    assert evaluable_dates(national) == []
    with pytest.raises(MinzhengError, match="no date"):
        dates(national)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        households(min_members=3, max_members=2)
