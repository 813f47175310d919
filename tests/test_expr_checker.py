"""Names resolve and types check when a pack loads; errors name the bad name and a suggestion."""

import pytest

from minzheng_rules.expr._checker import ExpressionTypeError, Scope, check
from minzheng_rules.expr._parser import parse
from minzheng_rules.model import _types as T
from minzheng_rules.model._facts import HOUSEHOLD_FACTS, MEMBER_FACTS


@pytest.fixture
def scope() -> Scope:
    return Scope(
        household={**HOUSEHOLD_FACTS, "per_capita_income": T.MONEY, "countable_members": T.COUNT},
        member={**MEMBER_FACTS, "countable": T.BOOL},
        params={"dibao.standard": T.MONEY, "edge.multiplier": T.NUMBER},
        programs={"dibao": "household", "tekun": "member"},
    )


def check_text(text, scope, entity="household", expect=None):
    return check(parse(text), scope, entity, expect)


def test_types_of_well_formed_expressions(scope):
    assert check_text("per_capita_income < p.dibao.standard", scope).type == T.BOOL
    assert check_text("p.dibao.standard * countable_members", scope).type == T.MONEY
    assert check_text("p.dibao.standard * p.edge.multiplier", scope).type == T.MONEY
    assert check_text("per_capita_income / p.dibao.standard", scope).type == T.NUMBER
    assert check_text("count(m for m in members if m.age >= 60)", scope).type == T.COUNT
    assert check_text("sum(m.monthly_income for m in members)", scope).type == T.MONEY
    assert check_text("max(p.dibao.standard - per_capita_income, 0)", scope).type == T.MONEY
    assert check_text("programs.dibao.amount + 1", scope).type == T.MONEY
    assert check_text("age >= 60 and programs.tekun.eligible", scope, "member").type == T.BOOL


@pytest.mark.parametrize(
    ("text", "name", "suggestion"),
    [
        ("per_capita_incme < 1", "per_capita_incme", "per_capita_income"),
        ("p.dibao.standrd > 0", "p.dibao.standrd", "p.dibao.standard"),
        ("programs.dibaoo.eligible", "programs.dibaoo.eligible", "programs.dibao"),
        ("any(m.studnt == 'senior' for m in members)", "m.studnt", "m.student"),
        ("any(m.student == 'senoir' for m in members)", "senoir", "senior"),
    ],
)
def test_misspelt_names_get_a_suggestion(scope, text, name, suggestion):
    with pytest.raises(ExpressionTypeError) as info:
        check_text(text, scope)
    assert info.value.name == name
    assert info.value.suggestion == suggestion


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("p.dibao.standard + countable_members", "cannot compute money + count"),
        ("p.dibao.standard * p.dibao.standard", "cannot compute money * money"),
        ("per_capita_income < countable_members", "cannot compare money with count"),
        ("emergency + 1", "needs numbers"),
        ("not per_capita_income", "'not' needs bool"),
        ("age > 60", "fact of each member"),
        ("round(per_capita_income, 2, 'sideways')", "mode must be one of"),
        ("per_capita_income if emergency else emergency", "branches"),
        ("housing.unsafe > False", "does not order"),
        ("'a' == 'b'", "two text literals"),
        ("programs.tekun.eligible", None),
    ],
)
def test_type_errors_are_caught_at_load(scope, text, fragment):
    if fragment is None:
        # a per-member program read at household level is the household's aggregate: fine
        assert check_text(text, scope).type == T.BOOL
        return
    with pytest.raises(ExpressionTypeError) as info:
        check_text(text, scope)
    assert fragment in info.value.message


def test_expected_type_is_enforced(scope):
    with pytest.raises(ExpressionTypeError, match="money is required"):
        check_text("countable_members > 1", scope, expect=T.MONEY)
    assert check_text("0", scope, expect=T.MONEY).type == T.MONEY
