"""``BoundPack.evaluate_programs``: some programs' outcomes, exactly as a whole evaluation
gives them (the monitor asks it for the programs an event changed)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minzheng_rules import load_pack
from minzheng_rules.testing.strategies import households

ON = dt.date(2024, 6, 1)
PACKS = ("huzhou", "zhenjiang", "yiwu", "pinghu")


@pytest.fixture(scope="module", params=PACKS)
def bound(request):
    return load_pack(request.param).bind(ON)


def _same(bound, household, wanted: list[str]) -> None:
    whole = bound.evaluate(household).programs
    some = bound.evaluate_programs(household, wanted)
    assert sorted(some) == sorted(set(wanted))
    for pid in wanted:
        assert some[pid].to_dict() == whole[pid].to_dict(), pid


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_program_alone_and_random_sets_equal_the_whole_evaluation(bound, data):
    household = data.draw(households(bound.pack, ON))
    active = [p.id for p in bound.programs]
    for pid in active:
        _same(bound, household, [pid])
    chosen = data.draw(st.lists(st.sampled_from(active), min_size=1, max_size=4))
    _same(bound, household, chosen)


def test_a_program_runs_with_what_it_reads_and_its_exclusions():
    bound = load_pack("zhenjiang").bind(ON)
    closure = bound._program_closure(frozenset({"dibao"}))
    assert "dibao" in closure
    groups = bound.pack.exclusion_groups()
    assert groups.get("dibao", set()) & {p.id for p in bound.programs} <= closure
    # a program alone in the pack's graph runs alone
    alone = [p.id for p in bound.programs if bound._program_closure(frozenset({p.id})) == {p.id}]
    assert alone, "some program should need no other"


def test_a_program_not_in_force_is_refused():
    bound = load_pack("zhenjiang").bind(ON)
    with pytest.raises(KeyError, match="not in force"):
        bound.evaluate_programs(None, ["no_such_program"])  # type: ignore[arg-type]
