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


RELIEF = """
tags:
  xue_wu_you:
    label: {zh: 学无忧, en: Schooling without worry}
    definition: {zh: 低保家庭有在读高中生, en: A dibao household with a senior-school student}
    when: programs.dibao.eligible and any(m.student == 'senior' for m in members)
    confidence: seed
    source: {seed: 001_1b52696736c8d6eb.txt, quote: 学无忧、业无忧、居无忧}
  bing_you_zhu:
    label: {zh: 病有助, en: Help when ill}
    definition: {zh: 自付医疗费高, en: High out-of-pocket medical costs}
    when: expenses.medical_12m > 10000
    confidence: modelled
    source: {reasoning: test}

needs:
  confidence: modelled
  source: {reasoning: test taxonomy}
  categories:
    - id: education
      label: {zh: 教育, en: Education}
      subitems:
        - id: school_costs
          label: {zh: 学费, en: School costs}
          labels:
            - id: senior_student_in_dibao
              label: {zh: 低保家庭高中生, en: Senior-school student in a dibao household}
              definition: {zh: 同上, en: As it says}
              when: programs.dibao.eligible and any(m.student == 'senior' for m in members)
    - id: health
      label: {zh: 健康, en: Health}
      subitems:
        - id: medical
          label: {zh: 医疗, en: Medical}
          labels:
            - id: high_medical_costs
              label: {zh: 医疗费用高, en: High medical costs}
              definition: {zh: 自付超过一万, en: "Out of pocket over 10,000"}
              when: expenses.medical_12m > 10000
            - id: needs_companion
              label: {zh: 需要陪护, en: Needs a companion}
              definition: {zh: 入户评估, en: Assessed on a visit}
              assessed: true

assistance:
  dibao_cash:
    label: {zh: 低保金, en: Dibao payment}
    kind: program
    program: dibao
    answers: [senior_student_in_dibao]
  tuition_fund:
    label: {zh: 助学金, en: Tuition fund}
    kind: charity
    answers: [senior_student_in_dibao]
  companion_service:
    label: {zh: 陪护服务, en: Companion service}
    kind: service
    answers: [needs_companion, high_medical_costs]
    when: size >= 1
"""
