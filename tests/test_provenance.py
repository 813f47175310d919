"""How sure a value is, shown honestly: a derived value is as sure as its weakest part, start
dates say whether a source gives them, old money amounts are reported as stale, and the
modelled share counts the values in force on the date asked. Checked on a hand-made pack whose
answers are worked out by hand below."""

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from minzheng_rules import evaluate, load_pack
from minzheng_rules.cli.main import app
from minzheng_rules.docsgen._pages_pack import _current
from minzheng_rules.docsgen._values import dated, value_on
from minzheng_rules.model._errors import PackErrors
from minzheng_rules.packs._pack import years_before

runner = CliRunner()

PACK = """
pack:
  id: provpack
  label: {zh: 出处测试, en: Provenance test}
  level: city
"""

PARAMETERS = """
parameters:
  dibao.standard:
    label: {zh: 低保标准, en: Dibao standard}
    unit: CNY/person/month
    type: money
    history:
      - since: 2019-03-01
        value: 800
        confidence: modelled
        source: {reasoning: test value}
      - since: 2022-07-01
        value: 820
        confidence: seed
        date_source: stated
        source:
          seed: 003_78270e08e56120e4.txt
          quote: 目前全市低保标准已提高至每人每月820元
  edge.multiplier:
    label: {zh: 低边倍数, en: Edge multiple}
    unit: ratio
    type: number
    history:
      - since: 2018-01-01
        value: 1.5
        confidence: published
        source: {document: 浙江省社会救助条例, article: 第十三条}
  edge.line:
    label: {zh: 低边线, en: Edge line}
    unit: CNY/person/month
    type: money
    formula: p.dibao.standard * p.edge.multiplier
    confidence: published
    source: {document: 浙江省社会救助条例, article: 第十三条}
  bonus:
    label: {zh: 奖励, en: Bonus}
    unit: CNY/month
    type: money
    history:
      - since: 2020-01-01
        value: 50
        confidence: modelled
        source: {reasoning: test value}
  age_limit:
    label: {zh: 年龄, en: Age}
    unit: years
    type: count
    history:
      - since: 2000-01-01
        value: 80
        confidence: published
        source: {document: a law}
  later:
    label: {zh: 以后, en: Later}
    unit: CNY/month
    type: money
    history:
      - since: 2030-01-01
        value: 1
        confidence: modelled
        source: {reasoning: not yet in force}
"""

PROGRAMS = """
programs:
  dibao:
    label: {zh: 低保, en: Dibao}
    conditions:
      - id: means
        label: {zh: 收入低, en: Low income}
        when: sum(m.monthly_income for m in members) / size < p.dibao.standard
    amount: p.dibao.standard * size - sum(m.monthly_income for m in members)
    citations:
      - confidence: modelled
        source: {reasoning: test}
  edge:
    label: {zh: 低边, en: Edge}
    conditions:
      - id: means
        label: {zh: 收入低于低边线, en: Below the edge line}
        when: sum(m.monthly_income for m in members) / size < p.edge.line
    citations:
      - confidence: modelled
        source: {reasoning: test}
  elder:
    label: {zh: 老人, en: Elder}
    entity: member
    conditions:
      - id: old
        label: {zh: 高龄, en: Old}
        when: age >= p.age_limit and monthly_income < p.dibao.standard
    amount: p.bonus
    citations:
      - confidence: modelled
        source: {reasoning: test}
"""

HOUSEHOLD = {
    "id": "h1",
    "members": [
        {"id": "a", "relation": "head", "age": 85, "monthly_income": 300},
        {"id": "b", "relation": "spouse", "age": 50, "monthly_income": 900},
    ],
}


@pytest.fixture
def folder(write_pack):
    return write_pack(
        {"pack.yaml": PACK, "parameters.yaml": PARAMETERS, "programs.yaml": PROGRAMS},
        "provpack",
    )


@pytest.fixture
def pack(folder):
    return load_pack(folder)


def _cli(*args):
    r = runner.invoke(app, [*map(str, args)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    return r.output


# -- a derived value is as sure as its weakest part ------------------------------------------
def test_derived_over_a_modelled_input_is_modelled(pack):
    pv = pack.parameter("edge.line", dt.date(2021, 6, 1))
    assert pv.value == 1200  # 800 × 1.5
    assert pv.confidence.value == "modelled"  # the rule is published, the standard modelled
    assert pv.rule_confidence.value == "published"
    assert (pv.since, pv.since_assumed) == (dt.date(2019, 3, 1), True)
    # over a seed standard and a published multiple, a seed is the weakest
    pv = pack.parameter("edge.line", dt.date(2023, 6, 1))
    assert (pv.value, pv.confidence.value) == (1230, "seed")
    assert (pv.since, pv.since_assumed) == (dt.date(2022, 7, 1), False)


def test_propagated_confidence_in_json_explain_show_and_site(pack, folder, tmp_path):
    on = dt.date(2021, 6, 1)
    d = evaluate(pack, HOUSEHOLD, on=on, explain=True).to_dict()
    used = d["programs"]["edge"]["reasons"][0]["parameters"]["edge.line"]
    assert used["confidence"] == "modelled" and used["rule_confidence"] == "published"
    assert used["inputs"]["dibao.standard"] == {
        "value": "800",
        "confidence": "modelled",
        "since": "2019-03-01",
        "since_assumed": True,
    }
    assert used["inputs"]["edge.multiplier"]["confidence"] == "published"

    hh = tmp_path / "h.json"
    hh.write_text(json.dumps(HOUSEHOLD), encoding="utf-8")
    text = _cli("eval", hh, "--pack", folder, "--date", on, "--explain")
    line = next(x for x in text.splitlines() if "p.edge.line =" in x)
    assert "[modelled] derived" in line and "rule published" in line

    shown = _cli("show", folder, "--date", on)
    row = next(x for x in shown.splitlines() if " edge.line " in x)
    assert "modelled (derived; rule published)" in row and "[published]" not in row

    assert value_on(pack, "edge.line", on).modelled
    site_row = next(x for x in _current(pack, on) if "edge.line" in x)
    assert "mz-modelled" in site_row and "mz-published" not in site_row  # one badge: the weakest
    assert "rule and inputs 规则与输入: modelled, published" in site_row


# -- start dates: stated or assumed ---------------------------------------------------------
def test_start_dates_are_assumed_unless_a_source_states_them(pack, folder):
    assert pack.parameter("dibao.standard", dt.date(2021, 1, 1)).since_assumed
    assert not pack.parameter("dibao.standard", dt.date(2023, 1, 1)).since_assumed
    d = evaluate(pack, HOUSEHOLD, on=dt.date(2021, 6, 1), explain=True).to_dict()
    used = d["programs"]["dibao"]["reasons"][0]["parameters"]["dibao.standard"]
    assert (used["since"], used["since_assumed"]) == ("2019-03-01", True)
    row = next(
        x
        for x in _cli("show", folder, "--date", "2021-06-01").splitlines()
        if "dibao.standard" in x
    )
    assert "2019-03-01 (assumed)" in row
    row = next(
        x
        for x in _cli("show", folder, "--date", "2023-06-01").splitlines()
        if "dibao.standard" in x
    )
    assert "2022-07-01" in row and "assumed" not in row
    assert (
        dated(value_on(pack, "dibao.standard", dt.date(2021, 6, 1))) == "2019-03-01 (assumed 推定)"
    )
    assert dated(value_on(pack, "dibao.standard", dt.date(2023, 6, 1))) == "2022-07-01"


def test_a_date_source_other_than_stated_or_assumed_is_refused(write_pack):
    bad = PARAMETERS.replace("date_source: stated", "date_source: roughly")
    folder = write_pack(
        {"pack.yaml": PACK, "parameters.yaml": bad, "programs.yaml": PROGRAMS}, "badpack"
    )
    with pytest.raises(PackErrors) as e:
        load_pack(folder)
    assert "date_source" in str(e.value)


# -- stale values -----------------------------------------------------------------------------
def test_stale_money_amounts_are_reported_per_program(pack):
    # 2024-06-01: the cut-off is 2022-06-01. bonus (2020-01-01) is stale; the standard
    # (2022-07-01) is not; age_limit (2000) is an age, not a money amount, and never reported.
    d = evaluate(pack, HOUSEHOLD, on=dt.date(2024, 6, 1)).to_dict()
    assert d["stale"] == {
        "elder": [
            {
                "parameter": "bonus",
                "value": "50",
                "unit": "CNY/month",
                "since": "2020-01-01",
                "since_assumed": True,
                "confidence": "modelled",
            }
        ]
    }
    # exactly two years is not more than two years; one day later it is, and it reaches the
    # edge line through its derived input; oldest first
    assert set(evaluate(pack, HOUSEHOLD, on=dt.date(2024, 7, 1)).stale) == {"elder"}
    stale = evaluate(pack, HOUSEHOLD, on=dt.date(2024, 7, 2)).stale
    assert set(stale) == {"dibao", "edge", "elder"}
    assert [v.parameter for v in stale["edge"]] == ["dibao.standard"]
    assert [v.parameter for v in stale["elder"]] == ["bonus", "dibao.standard"]
    assert stale["dibao"][0].since_assumed is False


def test_stale_values_in_explain(pack, folder, tmp_path):
    hh = tmp_path / "h.json"
    hh.write_text(json.dumps(HOUSEHOLD), encoding="utf-8")
    text = _cli("eval", hh, "--pack", folder, "--date", "2024-06-01", "--explain")
    assert "stale 可能过时: p.bonus = 50 CNY/month since 2020-01-01 (assumed date" in text


def test_a_what_if_override_is_not_stale(pack):
    changed = pack.with_overrides({"bonus": "60"})
    assert "elder" not in changed.stale_values(dt.date(2024, 6, 1))


def test_two_years_before_a_leap_day():
    assert years_before(dt.date(2024, 2, 29), 2) == dt.date(2022, 2, 28)
    assert years_before(dt.date(2024, 6, 1), 2) == dt.date(2022, 6, 1)


def test_yiwu_2020_standard_is_stale_in_2024_in_the_result_and_the_batch_summary(tmp_path):
    yiwu = load_pack("yiwu")
    on = dt.date(2024, 6, 1)
    result = evaluate(yiwu, HOUSEHOLD | {"assets": {"financial": 0}}, on=on).to_dict()
    assert result["stale"]["dibao"] == [
        {
            "parameter": "dibao.standard",
            "value": "900",
            "unit": "CNY/person/month",
            "since": "2020-01-01",
            "since_assumed": True,
            "confidence": "modelled",
        }
    ]
    register = tmp_path / "reg.jsonl"
    rows = [HOUSEHOLD | {"id": f"h{i}", "assets": {"financial": 0}} for i in range(3)]
    register.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    text = _cli("batch", register, out, "--pack", "yiwu", "--date", on)
    summary = json.loads(out.with_name("out.jsonl.summary.json").read_text(encoding="utf-8"))
    assert summary["stale"] == result["stale"]  # the vectorized run reports what the reference does
    assert "stale 可能过时: dibao.standard = 900 since 2020-01-01" in text


# -- the modelled share counts the values in force on the date -------------------------------
def test_modelled_share_counts_values_in_force(pack, folder):
    # 2021-06-01: dibao.standard 800 modelled, edge.multiplier published, edge.line modelled
    # (its input), bonus modelled, age_limit published; 'later' not yet in force: 3 of 5.
    cov = pack.coverage_on(dt.date(2021, 6, 1))
    assert cov["values"] == {"seed": 0, "published": 2, "modelled": 3}
    assert cov["modelled_share"] == 0.6
    # 2023-06-01: the standard is the seed 820, so the line is seed too: 1 of 5 modelled.
    cov = pack.coverage_on(dt.date(2023, 6, 1))
    assert cov["values"] == {"seed": 2, "published": 2, "modelled": 1}
    assert cov["modelled_share"] == 0.2
    # assumed start dates among the dated values in force: multiplier, bonus, age_limit
    assert cov["assumed_dates"] == 3
    text = _cli("show", folder, "--date", "2023-06-01")
    assert "seed 2, published 2, modelled 1 (modelled share 20.0%" in text
    assert "start dates assumed 3" in text
