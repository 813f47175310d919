"""``BoundPack.evaluate_programs``: some programs' outcomes, exactly as a whole evaluation
gives them (the monitor asks it for the programs an event changed)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minzheng_rules import load_pack
from minzheng_rules.backends.reference import bind
from minzheng_rules.backends.reference._compiler import EvalContext
from minzheng_rules.model._errors import EvaluationError
from minzheng_rules.model._facts import lazy_facts
from minzheng_rules.packs._deps import DepNode
from minzheng_rules.testing.strategies import households

ON = dt.date(2024, 6, 1)
PACKS = ("huzhou", "zhenjiang", "yiwu", "pinghu")


@pytest.fixture(scope="module", params=PACKS)
def bound(request):
    return bind(load_pack(request.param), ON)


def _same(bound, household, wanted: list[str], facts=None) -> None:
    whole = bound.evaluate(household).programs
    some = bound.evaluate_programs(household, wanted, facts)
    assert sorted(some) == sorted(set(wanted))
    for pid in wanted:
        assert some[pid].to_dict() == whole[pid].to_dict(), pid


def _program_free(bound) -> list[str]:
    """The household variables and tables that read no program's result (alert rules can
    only read those: programs are not run for them)."""
    pack = bound.pack
    return sorted(
        name
        for name in bound.household_fns
        if not any(n.is_program for n in pack.requirements([DepNode.variable(name)]))
    )


def _facts_in_use(bound, household, names: list[str]):
    """Lazy facts with some household variables already computed, as the monitor's alert
    context hands them over."""
    hh, members = lazy_facts(household, ON, bound.program_ids)
    ctx = EvalContext(bound, hh, members)
    for name in names:
        try:
            hh[name] = bound.household_fns[name](ctx, None)
        except EvaluationError:  # a variable the pack cannot compute for this household
            continue
    return hh, members


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_program_alone_and_random_sets_equal_the_whole_evaluation(bound, data):
    household = data.draw(households(bound.pack, ON))
    active = [p.id for p in bound.programs]
    for pid in active:
        _same(bound, household, [pid])
    chosen = data.draw(st.lists(st.sampled_from(active), min_size=1, max_size=4))
    _same(bound, household, chosen)
    # the same with facts already in use: the variables computed there are taken as they are
    names = data.draw(st.lists(st.sampled_from(_program_free(bound)), max_size=12))
    _same(bound, household, chosen, _facts_in_use(bound, household, names))


def test_a_program_runs_with_what_it_reads_and_its_exclusions():
    bound = bind(load_pack("zhenjiang"), ON)
    closure = bound.bound.program_closure(frozenset({"dibao"}))
    assert "dibao" in closure
    groups = bound.pack.exclusion_groups()
    assert groups.get("dibao", set()) & {p.id for p in bound.programs} <= closure
    # a program alone in the pack's graph runs alone
    alone = [
        p.id for p in bound.programs if bound.bound.program_closure(frozenset({p.id})) == {p.id}
    ]
    assert alone, "some program should need no other"


def test_a_program_not_in_force_is_refused():
    bound = bind(load_pack("zhenjiang"), ON)
    with pytest.raises(KeyError, match="not in force"):
        bound.evaluate_programs(None, ["no_such_program"])  # type: ignore[arg-type]
