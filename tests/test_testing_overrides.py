"""Pack.with_overrides: a what-if copy of a pack with some parameters replaced."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from minzheng_rules import load_pack
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.model._errors import PackError

from packs_for_tests import files

ON = dt.date(2024, 6, 1)


def test_an_override_replaces_the_value_on_every_date_and_leaves_the_pack_alone(huzhou):
    before = huzhou.parameter("dibao.standard", ON).value
    what_if = huzhou.with_overrides({"dibao.standard": "1200"})
    for day in (dt.date(2019, 1, 1), ON):
        assert what_if.parameter("dibao.standard", day).value == Decimal(1200)
    assert huzhou.parameter("dibao.standard", ON).value == before
    # derived parameters follow the override; the original keeps its own
    multiplier = huzhou.parameter("dibao_edge.multiplier", ON).value
    assert what_if.parameter("dibao_edge.line", ON).value == 1200 * multiplier
    assert huzhou.parameter("dibao_edge.line", ON).value == before * multiplier
    pv = what_if.parameter("dibao.standard", ON)
    assert pv.confidence.value == "modelled" and "override" in (pv.source.reasoning or "")


def test_an_override_changes_evaluation(huzhou, three_people):
    base = evaluate(huzhou, three_people, ON).programs["dibao"].amount
    raised = evaluate(huzhou.with_overrides({"dibao.standard": 1245}), three_people, ON)
    assert raised.programs["dibao"].amount == base + 3 * 100


def test_an_override_from_a_date_keeps_the_history_before_it(huzhou):
    since = dt.date(2024, 3, 1)
    what_if = huzhou.with_overrides({"dibao.standard": "1300"}, since=since)
    assert what_if.parameter("dibao.standard", since).value == 1300
    day_before = since - dt.timedelta(days=1)
    assert (
        what_if.parameter("dibao.standard", day_before).value
        == huzhou.parameter("dibao.standard", day_before).value
    )


def test_a_derived_parameter_can_be_replaced_on_every_date_only(huzhou):
    assert huzhou.with_overrides({"dibao_edge.line": 2000}).parameter(
        "dibao_edge.line", ON
    ).value == Decimal(2000)
    with pytest.raises(PackError, match="no dated history"):
        huzhou.with_overrides({"dibao_edge.line": 2000}, since=ON)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"dibao.standrd": 1}, "did you mean 'dibao.standard'"),
        ({"dibao.standard": "abc"}, "needs a number"),
        ({"dibao.standard": "nan"}, "needs a number"),
        ({"dibao.standard": True}, "needs a number"),
        ({"adult_age": "18.5"}, "whole number"),
    ],
)
def test_bad_overrides_are_refused_by_name(huzhou, values, message):
    with pytest.raises(PackError, match=message):
        huzhou.with_overrides(values)


def test_a_yes_no_parameter_takes_true_or_false(write_pack):
    flag = """
parameters:
  open:
    label: {zh: 开放, en: Open}
    unit: flag
    type: bool
    history:
      - since: 2020-01-01
        value: false
        confidence: modelled
        source: {reasoning: test}
"""
    pack = load_pack(write_pack(files(**{"flag.yaml": flag})))
    assert pack.with_overrides({"open": "true"}).parameter("open", ON).value is True
    with pytest.raises(PackError, match="true or false"):
        pack.with_overrides({"open": "1"})
