"""The shared 湖州 低保 / 低边 / 特困 rules (``benchmarks/packs/huzhou_core``, written out in
``benchmarks/handwritten.py``) as an OpenFisca tax-benefit system, the way a country package
writes them: a person and a household entity, input variables, and monthly formulas.

Money is OpenFisca's ``float`` (float32) in 元; the benchmark rounds its answers to the fen
before comparing them with ``minzheng batch``. Runs only in its own environment
(``requirements.txt`` beside this file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import DateUnit
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

MONTH, ETERNITY = DateUnit.MONTH, DateUnit.ETERNITY

Person = build_entity(
    key="person", plural="persons", label="成员 Member", doc="A household member.", is_person=True
)
Household = build_entity(
    key="household",
    plural="households",
    label="家庭 Household",
    doc="An applying household.",
    roles=[{"key": "member", "plural": "members", "label": "Member"}],
)


class DisabilityType(Enum):
    none = "none"
    physical = "physical"
    visual = "visual"
    hearing = "hearing"
    speech = "speech"
    intellectual = "intellectual"
    mental = "mental"
    multiple = "multiple"


class SelfCare(Enum):
    full = "full"
    partial = "partial"
    none = "none"


def _input(name: str, value_type: type, entity=Person, **extra) -> type[Variable]:
    attrs = {"value_type": value_type, "entity": entity, "definition_period": MONTH, **extra}
    return type(name, (Variable,), attrs)


INPUTS = [
    _input("age", int),
    _input("monthly_income", float),
    _input("disability_grade", int),
    _input(
        "disability_type",
        Enum,
        possible_values=DisabilityType,
        default_value=DisabilityType.none,
    ),
    _input("major_illness", bool),
    _input("has_capable_obligor", bool),
    _input("self_care", Enum, possible_values=SelfCare, default_value=SelfCare.full),
    _input("incarcerated", bool),
    _input("missing", bool),
    _input("at_school", bool),
    _input("institutional", bool),
    _input("assets_financial", float, entity=Household),
]


class living(Variable):
    """Living in the household: not in prison, missing or in an institution."""

    value_type, entity, definition_period = bool, Person, MONTH

    def formula(person, period):
        return (
            ~person("incarcerated", period)
            * ~person("missing", period)
            * ~person("institutional", period)
        )


class countable(Variable):
    """Counted for 低保: living in the household and not supported as 特困 on her own."""

    value_type, entity, definition_period = bool, Person, MONTH

    def formula(person, period):
        return person("living", period) * ~person("tekun_member", period)


class members_living(Variable):
    value_type, entity, definition_period = int, Household, MONTH

    def formula(household, period):
        return household.sum(household.members("living", period))


class unable_to_work(Variable):
    value_type, entity, definition_period = bool, Person, MONTH

    def formula(person, period):
        age, grade = person("age", period), person("disability_grade", period)
        kind = person("disability_type", period)
        mental = (kind == DisabilityType.intellectual) + (kind == DisabilityType.mental)
        return (
            (age >= 60)
            + (age < 16)
            + mental * (grade >= 1) * (grade <= 3)
            + ((kind == DisabilityType.physical) + (kind == DisabilityType.multiple))
            * (grade >= 1)
            * (grade <= 2)
            + (kind == DisabilityType.visual) * (grade == 1)
            + (age < 18) * person("at_school", period)
        )


class severe_and_poor(Variable):
    """单人户施保: a countable member severely disabled or gravely ill, earning under the line."""

    value_type, entity, definition_period = bool, Person, MONTH

    def formula(person, period, parameters):
        p = parameters(period).huzhou
        grade, kind = person("disability_grade", period), person("disability_type", period)
        mental = (kind == DisabilityType.intellectual) + (kind == DisabilityType.mental)
        severe = (
            (grade >= 1) * (grade <= 2) + mental * (grade == 3) + person("major_illness", period)
        )
        return (
            person("countable", period)
            * severe
            * (person("monthly_income", period) < p.dibao_standard)
        )


class members_counted(Variable):
    value_type, entity, definition_period = int, Household, MONTH

    def formula(household, period):
        return household.sum(household.members("countable", period))


class household_income(Variable):
    value_type, entity, definition_period = float, Household, MONTH

    def formula(household, period):
        m = household.members
        return household.sum(m("monthly_income", period) * m("countable", period))


class per_head(Variable):
    value_type, entity, definition_period = float, Household, MONTH

    def formula(household, period):
        n = np.maximum(household("members_counted", period), 1)
        return household("household_income", period) / n


class assets_ok(Variable):
    value_type, entity, definition_period = bool, Household, MONTH

    def formula(household, period, parameters):
        p = parameters(period).huzhou
        n = np.maximum(household("members_living", period), 1)
        return household("assets_financial", period) <= p.dibao_standard * p.asset_months * n


class whole_household(Variable):
    value_type, entity, definition_period = bool, Household, MONTH

    def formula(household, period, parameters):
        return household("per_head", period) < parameters(period).huzhou.dibao_standard


class below_edge(Variable):
    value_type, entity, definition_period = bool, Household, MONTH

    def formula(household, period, parameters):
        p = parameters(period).huzhou
        return household("per_head", period) < p.dibao_standard * p.edge_factor


class single_covered(Variable):
    value_type, entity, definition_period = int, Household, MONTH

    def formula(household, period):
        covered = household.sum(household.members("severe_and_poor", period))
        return np.where(
            ~household("whole_household", period) * household("below_edge", period), covered, 0
        )


class able_adults(Variable):
    value_type, entity, definition_period = int, Household, MONTH

    def formula(household, period):
        m = household.members
        able = m("living", period) * ~m("unable_to_work", period) * (m("age", period) >= 18)
        return household.sum(able)


class tekun_member(Variable):
    value_type, entity, definition_period = bool, Person, MONTH

    def formula(person, period, parameters):
        p = parameters(period).huzhou
        h = person.household
        return (
            person("unable_to_work", period)
            * (person("monthly_income", period) < p.dibao_standard)
            * h("assets_ok", period)
            * (h("able_adults", period) == 0)
            * ~person("has_capable_obligor", period)
        )


class tekun_member_amount(Variable):
    value_type, entity, definition_period = float, Person, MONTH

    def formula(person, period, parameters):
        p = parameters(period).huzhou
        share = p.tekun_care_share[person("self_care", period)]
        care = np.round(p.tekun_basic * share)
        return person("tekun_member", period) * (p.tekun_basic + care)


class tekun_eligible(Variable):
    value_type, entity, definition_period = bool, Household, MONTH

    def formula(household, period):
        return household.any(household.members("tekun_member", period))


class tekun(Variable):
    value_type, entity, definition_period = float, Household, MONTH

    def formula(household, period):
        return household.sum(household.members("tekun_member_amount", period))


class dibao_eligible(Variable):
    value_type, entity, definition_period = bool, Household, MONTH

    def formula(household, period):
        return (
            (household("members_counted", period) > 0)
            * (household("whole_household", period) + (household("single_covered", period) > 0))
            * household("assets_ok", period)
        )


class dibao(Variable):
    value_type, entity, definition_period = float, Household, MONTH

    def formula(household, period, parameters):
        standard = parameters(period).huzhou.dibao_standard
        m = household.members
        whole = np.maximum(
            standard * household("members_counted", period) - household("household_income", period),
            0,
        )
        severe_income = household.sum(m("monthly_income", period) * m("severe_and_poor", period))
        single = np.maximum(standard * household("single_covered", period) - severe_income, 0)
        amount = np.where(household("whole_household", period), whole, single)
        return household("dibao_eligible", period) * amount


class dibao_edge_eligible(Variable):
    value_type, entity, definition_period = bool, Household, MONTH

    def formula(household, period):
        return (
            ~household("whole_household", period)
            * household("below_edge", period)
            * household("assets_ok", period)
        )


class SharedRules(TaxBenefitSystem):
    def __init__(self) -> None:
        super().__init__([Person, Household])
        self.load_parameters(str(Path(__file__).parent / "parameters"))
        for v in [*INPUTS, *FORMULAS]:
            self.add_variable(v)


FORMULAS = [
    living,
    members_living,
    countable,
    unable_to_work,
    severe_and_poor,
    members_counted,
    household_income,
    per_head,
    assets_ok,
    whole_household,
    below_edge,
    single_covered,
    able_adults,
    tekun_member,
    tekun_member_amount,
    tekun_eligible,
    tekun,
    dibao_eligible,
    dibao,
    dibao_edge_eligible,
]
