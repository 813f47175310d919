"""A small self-contained pack with alerts, shared by the monitor tests (tests/test_monitor*).

``write_monitor_pack(folder)`` writes it; the tests at the end check it loads and that every one
of its alerts compiles, so the other monitor tests start from a known-good pack."""

import textwrap
from pathlib import Path

MONITOR_PACK = {
    "pack.yaml": """
pack:
  id: monitorpack
  label: {zh: 监测测试, en: Monitoring test}
  level: city
""",
    "parameters.yaml": """
parameters:
  dibao.standard:
    label: {zh: 低保标准, en: Dibao standard}
    unit: CNY/person/month
    history:
      - {since: 2020-01-01, value: 1000, confidence: modelled, source: {reasoning: test}}
      - {since: 2024-07-01, value: 1100, confidence: modelled, source: {reasoning: test}}
  edge.multiplier:
    label: {zh: 低边倍数, en: Edge multiple}
    unit: ratio
    type: number
    history:
      - {since: 2020-01-01, value: 1.5, confidence: modelled, source: {reasoning: test}}
  adult_age:
    label: {zh: 成年, en: Adult age}
    unit: years
    type: count
    history:
      - {since: 2000-01-01, value: 18, confidence: modelled, source: {reasoning: test}}
  monitor.income_drop_share:
    label: {zh: 收入骤降比例, en: Income drop share}
    unit: ratio
    type: number
    history:
      - {since: 2000-01-01, value: 0.3, confidence: modelled, source: {reasoning: test}}
  monitor.medical_share:
    label: {zh: 医疗支出占收入比例, en: Medical spending share of income}
    unit: ratio
    type: number
    history:
      - {since: 2000-01-01, value: 0.5, confidence: modelled, source: {reasoning: test}}
  monitor.elderly_age:
    label: {zh: 高龄, en: Elderly age}
    unit: years
    type: count
    history:
      - {since: 2000-01-01, value: 80, confidence: modelled, source: {reasoning: test}}
  monitor.high_tier_months:
    label: {zh: 高风险期, en: High tier months}
    unit: months
    type: count
    history:
      - {since: 2000-01-01, value: 3, confidence: modelled, source: {reasoning: test}}
  monitor.phase_out_months:
    label: {zh: 渐退期, en: Phase-out months}
    unit: months
    type: count
    history:
      - {since: 2000-01-01, value: 6, confidence: modelled, source: {reasoning: test}}
""",
    "variables.yaml": """
variables:
  income:
    label: {zh: 收入, en: Income}
    type: money
    formula: sum(m.monthly_income for m in members)
  per_head:
    label: {zh: 人均, en: Per head}
    type: money
    formula: income / size
  minors_lacking_care:
    label: {zh: 缺少照料的未成年人, en: Minors lacking parental care}
    type: count
    formula: >-
      count(m for m in members if m.age < p.adult_age
      and (m.father_status != 'present' or m.mother_status != 'present'))
  elderly_alone:
    label: {zh: 独居高龄老人, en: Elderly living alone}
    type: count
    formula: count(m for m in members if m.age >= p.monitor.elderly_age and (m.lives_alone or size == 1))
""",
    "programs.yaml": """
programs:
  dibao:
    label: {zh: 低保, en: Dibao}
    conditions:
      - id: means
        label: {zh: 收入低, en: Low income}
        when: per_head < p.dibao.standard
      - id: assets
        label: {zh: 资产, en: Assets}
        when: assets.financial <= 50000
    amount: max(p.dibao.standard * size - income, 0)
    citations: [{confidence: modelled, source: {reasoning: test}}]
  edge:
    label: {zh: 低边, en: Edge}
    conditions:
      - id: not_dibao
        label: {zh: 非低保, en: Not dibao}
        when: not (per_head < p.dibao.standard)
      - id: below_line
        label: {zh: 低于低边线, en: Below the edge line}
        when: per_head < p.dibao.standard * p.edge.multiplier
    citations: [{confidence: modelled, source: {reasoning: test}}]
  elder:
    label: {zh: 高龄, en: Elder}
    entity: member
    conditions:
      - id: old
        label: {zh: 年满80, en: Aged 80+}
        when: age >= 80
    citations: [{confidence: modelled, source: {reasoning: test}}]
""",
    "alerts.yaml": """
alerts:
  income_drop:
    label: {zh: 收入骤降, en: Income dropped sharply}
    event: [income_change, member_died]
    when: income < previous.income * (1 - p.monitor.income_drop_share)
    citations: [{confidence: modelled, source: {reasoning: test}}]
  member_income_drop:
    label: {zh: 成员收入骤降, en: A member's income dropped}
    event: income_change
    when: >-
      event.monthly_income < previous.member.monthly_income * (1 - p.monitor.income_drop_share)
      and not (member.relation in ('child', 'grandchild'))
    citations: [{confidence: modelled, source: {reasoning: test}}]
  medical_burden:
    label: {zh: 医疗负担重, en: Heavy medical spending}
    event: medical_expense
    tier: high
    when: >-
      expenses.medical_12m > income * 12 * p.monitor.medical_share
      and not (previous.expenses.medical_12m > previous.income * 12 * p.monitor.medical_share)
    citations: [{confidence: modelled, source: {reasoning: test}}]
  elderly_alone:
    label: {zh: 高龄独居, en: Elderly person living alone}
    event: [tick, member_died, member_changed]
    tier: high
    when: elderly_alone > previous.elderly_alone
    citations: [{confidence: modelled, source: {reasoning: test}}]
  parent_died:
    label: {zh: 未成年人父母去世, en: A parent of minors died}
    event: member_died
    tier: high
    when: >-
      member.relation == 'head' or 'spouse' == member.relation
      and count(m for m in members if m.relation == 'child' and m.age < p.adult_age) > 0
    citations: [{confidence: modelled, source: {reasoning: test}}]
  child_care_changed:
    label: {zh: 儿童监护变化, en: A child's parental care changed}
    event: [member_changed, member_died]
    tier: high
    when: minors_lacking_care > previous.minors_lacking_care
    citations: [{confidence: modelled, source: {reasoning: test}}]
  severe_disability:
    label: {zh: 新认定重度残疾, en: Newly assessed severe disability}
    event: disability_assessed
    when: >-
      event.grade <= 2 and event.disability_type != 'hearing'
      and not (previous.member.disability_grade in (1, 2))
    citations: [{confidence: modelled, source: {reasoning: test}}]
  working_age_poor:
    label: {zh: 劳动年龄低收入, en: Working-age household fell below the line}
    event: [income_change, tick]
    when: >-
      1000 <= previous.per_head and per_head < p.dibao.standard
      and any(m.age >= 18 and m.employed == False for m in members)
      and assets.financial <= 50000
    citations: [{confidence: modelled, source: {reasoning: test}}]
""",
}


def write_monitor_pack(folder: Path) -> Path:
    """Write the pack into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in MONITOR_PACK.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def test_the_monitor_test_pack_loads_with_every_alert(tmp_path):
    from minzheng_rules import load_pack
    from minzheng_rules.monitor import AlertSet

    pack = load_pack(write_monitor_pack(tmp_path / "monitorpack"))
    alerts = AlertSet.from_pack(pack)
    assert [a.id for a in alerts.alerts] == list(pack.definition.alerts)
    assert {a.id for a in alerts.by_event["income_change"]} == {
        "income_drop",
        "member_income_drop",
        "working_age_poor",
    }


def test_validate_checks_alert_rules(tmp_path):
    """`minzheng validate` refuses a pack whose alert misspells a name, naming file and line."""
    from typer.testing import CliRunner

    from minzheng_rules.cli.main import app

    good = write_monitor_pack(tmp_path / "good")
    r = CliRunner().invoke(app, ["validate", str(good)])
    assert r.exit_code == 0, r.output
    assert "8 alert rules" in r.stdout
    broken = write_monitor_pack(tmp_path / "broken")
    alerts = broken / "alerts.yaml"
    alerts.write_text(
        alerts.read_text(encoding="utf-8").replace(
            "when: income < previous.income", "when: income < previous.incme"
        ),
        encoding="utf-8",
    )
    r = CliRunner().invoke(app, ["validate", str(broken)])
    assert r.exit_code == 1
    assert "alerts.yaml:6" in r.stderr and "did you mean 'previous.income'" in r.stderr
