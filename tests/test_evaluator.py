"""The reference evaluator: amounts, undetermined answers, exclusions, decision tables."""

import datetime as dt
from decimal import Decimal

import pytest

from minzheng_rules import EvaluationError, Status, evaluate, load_pack

from packs_for_tests import PROGRAMS, files

JUNE_2024 = dt.date(2024, 6, 1)


def test_issue_2_examples(huzhou, three_people):
    r = evaluate(huzhou, three_people, on=JUNE_2024)
    assert r.programs["dibao"].status is Status.eligible
    assert r.programs["dibao"].amount == Decimal("1435.00")
    assert evaluate(huzhou, three_people, on=dt.date(2021, 6, 1)).programs[
        "dibao"
    ].amount == Decimal("751.00")


def test_explain_shows_the_standard_and_its_source(huzhou, three_people):
    r = evaluate(huzhou, three_people, on=JUNE_2024, explain=True)
    means = next(c for c in r.programs["dibao"].reasons if c.id == "means_test")
    used = {u.name: u for u in means.parameters}
    assert used["dibao.standard"].value == "1145"
    assert used["dibao.standard"].source["seed"] == "001_1b52696736c8d6eb.txt"
    assert "1145元/月" in used["dibao.standard"].source["quote"]
    assert r.programs["dibao"].amount_explanation["values"]["countable_income"] == "2000"


def test_json_shape(huzhou, three_people):
    d = evaluate(huzhou, three_people, on=JUNE_2024).to_dict()
    assert set(d) == {
        "pack",
        "date",
        "household",
        "programs",
        "tags",
        "needs",
        "assistance",
        "undetermined",
        "stale",
    }
    assert d["programs"]["dibao"]["amount"] == "1435.00"
    assert d["programs"]["dibao"]["unit"] == "CNY/month"
    assert d["programs"]["dibao_edge"]["amount"] == "0.00"
    assert set(d["programs"]["tekun"]["members"]) == {"a", "b", "c"}


def test_missing_income_makes_dibao_undetermined_and_names_the_fact(huzhou, three_people):
    del three_people["members"][1]["monthly_income"]
    r = evaluate(huzhou, three_people, on=JUNE_2024)
    assert r.programs["dibao"].status is Status.undetermined
    assert r.programs["dibao"].missing == ["members[b].monthly_income"]
    assert r.programs["dibao"].amount == 0


def test_known_facts_decide_even_when_others_are_missing(huzhou, three_people):
    """Kleene logic: income far above the line decides 'ineligible' without the savings."""
    three_people["members"][0]["monthly_income"] = 9000
    del three_people["assets"]["financial"]
    r = evaluate(huzhou, three_people, on=JUNE_2024)
    assert r.programs["dibao"].status is Status.ineligible


def test_tekun_for_an_old_person_alone_and_care_tier(huzhou):
    hh = {
        "id": "old",
        "members": [
            {
                "id": "g",
                "age": 82,
                "monthly_income": 300,
                "has_capable_obligor": False,
                "self_care": "partial",
            }
        ],
        "assets": {"financial": 1000},
    }
    r = evaluate(huzhou, hh, on=JUNE_2024)
    assert r.programs["tekun"].status is Status.eligible
    assert r.programs["tekun"].amount == Decimal("2535.00")  # 1950 + 30 % of 1950
    # supported on her own: she is not in the dibao count, so no one is left to assess
    dibao = r.programs["dibao"]
    assert dibao.status is Status.ineligible and dibao.excluded_by is None
    assert [(c.id, c.passed) for c in dibao.reasons] == [("has_countable_members", False)]


def test_undetermined_tekun_makes_the_excluded_dibao_undetermined(huzhou):
    hh = {
        "id": "old",
        "members": [{"id": "g", "age": 82, "monthly_income": 300, "self_care": "full"}],
        "assets": {"financial": 1000},
    }
    r = evaluate(huzhou, hh, on=JUNE_2024)
    assert r.programs["tekun"].status is Status.undetermined
    assert r.programs["tekun"].missing == ["members[g].has_capable_obligor"]
    assert r.programs["dibao"].status is Status.undetermined


TABLE = """
tables:
  band:
    label: {zh: 年龄段, en: Age band}
    entity: member
    type: money
    hit_policy: HIT
    rows:
      - {when: age >= 80, then: 100}
      - {when: age >= 90, then: 200}
    default: 0
"""


@pytest.mark.parametrize(
    ("policy", "age", "expected"),
    [
        ("first", 95, "100"),
        ("collect_sum", 95, "300"),
        ("unique", 85, "100"),
        ("first", 50, "0"),
    ],
)
def test_decision_table_hit_policies(write_pack, policy, age, expected):
    programs = PROGRAMS.replace("amount: p.bonus", "amount: band")
    pack = load_pack(
        write_pack(
            files(
                **{
                    "tables.yaml": TABLE.replace("HIT", policy),
                    "programs.yaml": programs.replace("when: age >= 80", "when: age >= 0"),
                }
            )
        )
    )
    r = evaluate(
        pack, {"id": "h", "members": [{"id": "a", "age": age, "monthly_income": 0}]}, on=JUNE_2024
    )
    assert r.programs["elder"].members["a"].amount == Decimal(expected)


def test_unique_table_hit_twice_is_an_error(write_pack):
    programs = PROGRAMS.replace("amount: p.bonus", "amount: band")
    pack = load_pack(
        write_pack(
            files(**{"tables.yaml": TABLE.replace("HIT", "unique"), "programs.yaml": programs})
        )
    )
    with pytest.raises(EvaluationError, match="matched 2 rows"):
        evaluate(
            pack,
            {"id": "h", "members": [{"id": "a", "age": 95, "monthly_income": 0}]},
            on=JUNE_2024,
        )


def test_exclusion_keeping_the_higher_amount_per_member(write_pack):
    extra = (
        PROGRAMS
        + """
  elder_plus:
    label: {zh: 高额, en: Higher}
    entity: member
    conditions:
      - {id: very_old, label: {zh: 年满90, en: Aged 90+}, when: age >= 90}
    amount: p.bonus * 2
    citations:
      - confidence: modelled
        source: {reasoning: test}

exclusions:
  - id: one_of_them
    label: {zh: 二选一, en: One of them}
    programs: [elder, elder_plus]
    keep: highest_amount
    citations:
      - confidence: modelled
        source: {reasoning: test}
"""
    )
    pack = load_pack(write_pack(files(**{"programs.yaml": extra})))
    hh = {
        "id": "h",
        "members": [
            {"id": "a", "age": 95, "monthly_income": 0},
            {"id": "b", "age": 85, "monthly_income": 0},
        ],
    }
    r = evaluate(pack, hh, on=JUNE_2024)
    assert r.programs["elder_plus"].members["a"].status is Status.eligible
    assert r.programs["elder"].members["a"].status is Status.ineligible
    assert r.programs["elder"].members["b"].status is Status.eligible
    assert r.programs["elder"].amount == Decimal("50") and r.programs[
        "elder_plus"
    ].amount == Decimal("100")


def test_results_do_not_depend_on_member_order(huzhou, three_people):
    a = evaluate(huzhou, three_people, on=JUNE_2024).to_dict()
    three_people["members"].reverse()
    b = evaluate(huzhou, three_people, on=JUNE_2024).to_dict()
    for pid in a["programs"]:
        assert a["programs"][pid]["amount"] == b["programs"][pid]["amount"]
        assert a["programs"][pid]["status"] == b["programs"][pid]["status"]
