"""The parser accepts the small language and refuses everything else, naming what it refused."""

from decimal import Decimal

import pytest

from minzheng_rules.expr._nodes import Aggregate, Binary, BoolOp, Call, Compare, Const, In, Name
from minzheng_rules.expr._parser import MAX_NODES, ExpressionSyntaxError, parse
from minzheng_rules.expr._printer import to_source


def test_parses_the_design_example():
    node = parse("per_capita_income < p.dibao.standard and assets.financial <= p.limit * size")
    assert isinstance(node, BoolOp) and node.op == "and"
    cmp = node.values[0]
    assert cmp == Compare(("<",), (Name("per_capita_income"), Name("p.dibao.standard")))
    assert node.values[1].operands[1] == Binary("*", Name("p.limit"), Name("size"))


def test_decimals_are_exact():
    assert parse("0.1") == Const(Decimal("0.1"))
    assert parse("-2.5") == Const(Decimal("-2.5"))


def test_aggregations_over_members():
    node = parse("count(m for m in members if m.age >= 60)")
    assert node == Aggregate("count", "m", None, Compare((">=",), (Name("m.age"), Const(60))))
    assert parse("count(members)") == Aggregate("count", "m", None, None)
    s = parse("sum(m.monthly_income for m in members if m.countable)")
    assert s.func == "sum" and s.element == Name("m.monthly_income")


def test_in_with_literal_options():
    assert parse("student in ('senior', 'vocational')") == In(
        Name("student"), ("senior", "vocational")
    )
    assert parse("grade not in (1, 2)").negated


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os')", "not allowed"),
        ("x.__class__", "not allowed"),
        ("_private", "not allowed"),
        ("os.system('ls')", "method calls are not allowed"),
        ("open('f')", "unknown function 'open'"),
        ("eval('1')", "unknown function 'eval'"),
        ("(lambda: 1)()", "not allowed"),
        ("members[0]", "'Subscript' is not allowed"),
        ("[m for m in members]", "'ListComp' is not allowed"),
        ("sum(x for x in range(3))", "iterate members only"),
        ("max(a, key=b)", "keyword arguments"),
        ("a ** 2", "'BinOp' is not allowed"),
        ("a if b", "syntax error"),
        ("a := 1", "syntax error"),
        ("f'{a}'", "'JoinedStr' is not allowed"),
    ],
)
def test_refuses_anything_outside_the_whitelist(text, fragment):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(text)
    assert fragment in info.value.message


def test_limits_on_size_and_depth():
    with pytest.raises(ExpressionSyntaxError, match="longer than"):
        parse("a + " * 600 + "a")
    with pytest.raises(ExpressionSyntaxError, match="parts"):
        parse(" + ".join(["a"] * (MAX_NODES // 2 + 10)))
    with pytest.raises(ExpressionSyntaxError, match="nested"):
        parse("not " * 60 + "a")


def test_multi_line_expressions_from_yaml_block_scalars():
    node = parse("a\nor b")
    assert node == BoolOp("or", (Name("a"), Name("b")))


def test_printer_round_trip_examples():
    for text in [
        "max(p.dibao.standard * countable_members - countable_income, 0)",
        "0 if a else count(m for m in members if m.countable and m.age < 18)",
        "round(x / 3, 2, 'half_up')",
        "-(a + b)",
        "a < b <= c",
        "not (a or b)",
        "date('2024-01-01') <= eval_date",
    ]:
        node = parse(text)
        assert parse(to_source(node)) == node, text
    assert isinstance(parse("round(x, 2, 'half_up')"), Call)
