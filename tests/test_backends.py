"""The backend contract (``backends.base``): each backend is made from a bound plan and answers
every program's status and amount through ``answers``; held to the same answers on generated
households for every shipped pack and date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minzheng_rules import available_packs, load_pack
from minzheng_rules.backends._base import Answer, Backend
from minzheng_rules.backends.reference import bind
from minzheng_rules.backends.vectorized._engine import VectorizedPack
from minzheng_rules.model._household import parse_household
from minzheng_rules.model._results import Status
from minzheng_rules.testing.strategies import evaluable_dates, households

PACKS = [n for n in sorted(available_packs()) if evaluable_dates(load_pack(n))]
HUZHOU_THREE = {
    "id": "h1",
    "members": [
        {"id": "a", "relation": "head", "age": 45, "monthly_income": 1200},
        {"id": "b", "relation": "spouse", "age": 43, "monthly_income": 800},
        {"id": "c", "relation": "child", "age": 12, "monthly_income": 0},
    ],
    "assets": {"financial": 5000},
}


def backends(name: str, on: dt.date) -> list[Backend]:
    pack = load_pack(name)
    return [bind(pack, on), VectorizedPack(pack, on)]


def test_both_backends_implement_the_contract_over_one_plan():
    pack = load_pack("huzhou")
    on = dt.date(2024, 6, 1)
    made = [bind(pack, on), VectorizedPack(pack, on)]
    for backend in made:
        assert isinstance(backend, Backend)
        assert backend.bound is pack.plan(on)  # the one plan, made once per date


def test_a_hand_computed_household_through_the_contract():
    """湖州 2024: 3 × 1145 − (1200 + 800) = 1435 元 of 低保, from either backend."""
    h = parse_household(HUZHOU_THREE)
    for backend in backends("huzhou", dt.date(2024, 6, 1)):
        (answers,) = backend.answers([h])
        assert answers["dibao"] == Answer(Status.eligible, Decimal("1435"))


@pytest.mark.parametrize("name", PACKS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_backends_answer_alike(name, data):
    pack = load_pack(name)
    on = data.draw(st.sampled_from(evaluable_dates(pack)))
    hs = data.draw(st.lists(households(pack, on), min_size=1, max_size=6))
    hs = [h.model_copy(update={"id": f"h{i}"}) for i, h in enumerate(hs)]
    reference, vectorized = backends(name, on)
    assert vectorized.answers(hs) == reference.answers(hs)
