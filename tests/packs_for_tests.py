"""A minimal valid pack, as YAML text, that tests copy and break on purpose."""

PACK = """
pack:
  id: testpack
  label: {zh: 测试, en: Test}
  level: city
"""

PARAMETERS = """
parameters:
  dibao.standard:
    label: {zh: 低保标准, en: Dibao standard}
    unit: CNY/person/month
    type: money
    history:
      - since: 2020-01-01
        value: 900
        confidence: modelled
        source: {reasoning: test value}
      - since: 2024-01-01
        value: 1000
        confidence: modelled
        source: {reasoning: test value}
  bonus:
    label: {zh: 奖励, en: Bonus}
    unit: CNY/month
    type: money
    history:
      - since: 2020-01-01
        value: 50
        confidence: modelled
        source: {reasoning: test value}
"""

VARIABLES = """
variables:
  income:
    label: {zh: 收入, en: Income}
    type: money
    formula: sum(m.monthly_income for m in members)
  per_head:
    label: {zh: 人均收入, en: Income per head}
    type: money
    formula: income / size
"""

PROGRAMS = """
programs:
  dibao:
    label: {zh: 低保, en: Dibao}
    conditions:
      - id: means
        label: {zh: 收入低, en: Low income}
        when: per_head < p.dibao.standard
    amount: p.dibao.standard * size - income
    citations:
      - confidence: modelled
        source: {reasoning: test}
  elder:
    label: {zh: 老人, en: Elder}
    entity: member
    conditions:
      - id: old
        label: {zh: 年满80, en: Aged 80+}
        when: age >= 80
    amount: p.bonus
    citations:
      - confidence: modelled
        source: {reasoning: test}
"""


def files(**overrides: str) -> dict[str, str]:
    base = {
        "pack.yaml": PACK,
        "parameters.yaml": PARAMETERS,
        "variables.yaml": VARIABLES,
        "programs.yaml": PROGRAMS,
    }
    base.update(overrides)
    return base
