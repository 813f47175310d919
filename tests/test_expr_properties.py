"""Properties of the expression language, over generated expressions.

* printing then parsing gives back the same tree;
* an expression that passes the checker never fails on types while it runs: the only runtime
  error left is a division by zero, reported as EvaluationError.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from minzheng_rules.backends.reference._compiler import EvalContext, compile_expression
from minzheng_rules.expr import _nodes as N
from minzheng_rules.expr._checker import ExpressionTypeError, Scope, check
from minzheng_rules.expr._parser import parse
from minzheng_rules.expr._printer import to_source
from minzheng_rules.model import _types as T
from minzheng_rules.model._errors import EvaluationError
from minzheng_rules.model._facts import HOUSEHOLD_FACTS, MEMBER_FACTS, household_facts, member_facts
from minzheng_rules.model._household import Household
from minzheng_rules.model._values import Unknown

HOUSEHOLD_NAMES = ["size", "assets.financial", "emergency", "housing.unsafe", "eval_date"]
MEMBER_NAMES = ["m.age", "m.monthly_income", "m.major_illness", "m.disability_grade"]
PARAMS = ["p.standard", "p.ratio", "p.flag"]

consts = st.one_of(
    st.booleans().map(N.Const),
    st.integers(0, 5000).map(N.Const),
    st.decimals(min_value=0, max_value=10000, places=2).map(N.Const),
)
names = st.sampled_from(HOUSEHOLD_NAMES + PARAMS).map(N.Name)


def extend(children):
    member_leaf = st.sampled_from(MEMBER_NAMES).map(N.Name)
    return st.one_of(
        st.builds(N.Unary, st.just("not"), children),
        st.builds(N.Unary, st.just("-"), names),
        st.builds(N.Binary, st.sampled_from("+-*/"), children, children),
        st.builds(
            lambda op, a, b: N.Compare((op,), (a, b)),
            st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
            children,
            children,
        ),
        st.builds(
            lambda op, xs: N.BoolOp(op, tuple(xs)),
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=3),
        ),
        st.builds(N.IfElse, children, children, children),
        st.builds(
            lambda f, xs: N.Call(f, tuple(xs)),
            st.sampled_from(["min", "max"]),
            st.lists(children, min_size=2, max_size=3),
        ),
        st.builds(lambda x: N.Call("round", (x, N.Const(2), N.Const("half_up"))), children),
        st.builds(
            lambda el, w: N.Aggregate("sum", "m", el, w),
            member_leaf,
            st.none() | st.just(N.Name("m.major_illness")),
        ),
        st.builds(
            lambda w: N.Aggregate("count", "m", None, w),
            st.just(N.Compare((">=",), (N.Name("m.age"), N.Const(60)))),
        ),
        st.builds(lambda el: N.Aggregate("any", "m", el, None), st.just(N.Name("m.major_illness"))),
    )


expressions = st.recursive(consts | names, extend, max_leaves=12)


@given(expressions)
def test_printing_then_parsing_gives_the_same_tree(node):
    assert parse(to_source(node)) == node


SCOPE = Scope(
    household=dict(HOUSEHOLD_FACTS),
    member=dict(MEMBER_FACTS),
    params={"standard": T.MONEY, "ratio": T.NUMBER, "flag": T.BOOL},
    programs={},
)
PARAM_VALUES = {"standard": Decimal("1145"), "ratio": Decimal("1.5"), "flag": True}

households = st.builds(
    lambda incomes, fin: Household(
        id="h",
        members=[
            {"id": f"m{i}", "age": 20 + 15 * i, "monthly_income": inc, "major_illness": i == 0}
            for i, inc in enumerate(incomes)
        ],
        assets={"financial": fin},
    ),
    st.lists(
        st.none() | st.decimals(min_value=0, max_value=9000, places=2), min_size=1, max_size=4
    ),
    st.none() | st.decimals(min_value=0, max_value=90000, places=2),
)


class _Bound:
    def __init__(self) -> None:
        self.household_fns: dict = {}
        self.member_fns: dict = {}


@given(expressions, households)
def test_checked_expressions_never_fail_on_types_at_run_time(node, household):
    try:
        checked = check(node, SCOPE)
    except ExpressionTypeError:
        return
    fn = compile_expression(checked, PARAM_VALUES)
    on = dt.date(2024, 6, 1)
    ctx = EvalContext(_Bound(), household_facts(household, on), member_facts(household, on))
    try:
        value = fn(ctx, None)
    except EvaluationError as err:
        assert "division by zero" in str(err)
        return
    expected = {
        T.Kind.bool: bool,
        T.Kind.date: dt.date,
    }.get(checked.type.kind, (int, Decimal))
    assert isinstance(value, (Unknown, expected))
