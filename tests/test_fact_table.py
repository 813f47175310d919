"""The fact table (model/facts.py) is the one description of the household's facts: every model
field is a fact or deliberately not one, and the reference evaluator's extractors (eager and
lazy) and the vectorized backend's columns read the same value from a household that gives each
fact and the same default or unknown from one that leaves it out. Expected values are written
here by hand, not taken from either extractor."""

from __future__ import annotations

import datetime as dt
import typing
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from pydantic import BaseModel

from minzheng_rules.backends.vectorized import _facts as V
from minzheng_rules.io._validate import clean
from minzheng_rules.model import _facts as F
from minzheng_rules.model._columns import HH, HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
from minzheng_rules.model._convert import households_to_frames
from minzheng_rules.model._household import Household, Member, parse_household
from minzheng_rules.model._values import Unknown

ON = dt.date(2024, 6, 1)
UNKNOWN = "unknown"  # the expected value of a fact that is not given and has no default

GIVEN = parse_household(
    {
        "id": "g",
        "hukou": "330503",
        "emergency": True,
        "assets": {"financial": "5000.50", "vehicles": 2, "properties": 0},
        "expenses": {"medical_12m": 1200, "education_12m": "800.25"},
        "housing": {"unsafe": True},
        "members": [
            {
                "id": "a",
                "relation": "spouse",
                "birth_date": "1980-07-15",  # 43 on 2024-06-01: the birthday is still to come
                "age": 99,  # ignored: a birth date wins
                "monthly_income": "1500.50",
                "disability_grade": 2,
                "disability_type": "visual",
                "self_care": "partial",
                "major_illness": True,
                "chronic_illness": True,
                "student": "senior",
                "employed": False,
                "father_status": "deceased",
                "mother_status": "missing",
                "care": "kinship",
                "has_capable_obligor": False,
                "lives_alone": True,
                "incarcerated": True,
                "missing": True,
            },
            {"id": "b", "age": 5},
        ],
    }
)
OMITTED = parse_household({"id": "o", "members": [{"id": "a", "age": 30}]})

# fact: (read from GIVEN, read from OMITTED); member facts are member "a"'s
HOUSEHOLD_EXPECTED: dict[str, tuple[Any, Any]] = {
    "size": (2, 1),
    "assets.financial": (Decimal("5000.50"), UNKNOWN),
    "assets.vehicles": (2, 0),
    "assets.properties": (0, 1),
    "expenses.medical_12m": (Decimal(1200), Decimal(0)),
    "expenses.education_12m": (Decimal("800.25"), Decimal(0)),
    "housing.unsafe": (True, False),
    "emergency": (True, False),
    "eval_date": (ON, ON),
    "hukou": ("330503", UNKNOWN),
}
MEMBER_EXPECTED: dict[str, tuple[Any, Any]] = {
    "relation": ("spouse", "other"),
    "age": (43, 30),
    "monthly_income": (Decimal("1500.50"), UNKNOWN),
    "disability_grade": (2, 0),
    "disability_type": ("visual", "none"),
    "self_care": ("partial", UNKNOWN),
    "major_illness": (True, False),
    "chronic_illness": (True, False),
    "student": ("senior", UNKNOWN),
    "employed": (False, UNKNOWN),
    "father_status": ("deceased", "present"),
    "mother_status": ("missing", "present"),
    "care": ("kinship", "family"),
    "has_capable_obligor": (False, UNKNOWN),
    "lives_alone": (True, False),
    "incarcerated": (True, False),
    "missing": (True, False),
}
EXPECTED = {
    **{("household", n): v for n, v in HOUSEHOLD_EXPECTED.items()},
    **{("member", n): v for n, v in MEMBER_EXPECTED.items()},
}
CASES = [
    pytest.param(entity, name, which, id=f"{name}-{which}")
    for entity, name in EXPECTED
    for which in ("given", "omitted")
]


def _model_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field of ``model`` as a dotted path, nested models flattened (not the members)."""
    out = []
    hints = typing.get_type_hints(model)
    for name in model.model_fields:
        t = hints[name]
        if isinstance(t, type) and issubclass(t, BaseModel):
            out += _model_fields(t, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_entry_has_a_hand_written_expectation():
    assert set(EXPECTED) == {(f.entity, f.name) for f in F.FACTS}


def test_every_model_field_is_read_by_a_fact_or_listed_as_not_one():
    for entity, model in (("household", Household), ("member", Member)):
        read = {r for f in F.FACTS if f.entity == entity for r in f.reads}
        listed = {field for e, field in F.NOT_FACTS if e == entity}
        fields = set(_model_fields(model))
        assert fields - read - listed == set(), f"{entity} fields neither facts nor listed"
        assert listed <= fields, "NOT_FACTS names a field the model does not have"
        assert read <= fields, "a fact reads a field the model does not have"
        assert not listed & read, "a field listed as not a fact is read by one"


def test_declared_defaults_are_the_hand_written_ones():
    for f in F.FACTS:
        omitted = EXPECTED[f.entity, f.name][1]
        if f.default is F.ALWAYS:
            assert f.derive is not None, f.name
        elif f.default is F.UNKNOWN:
            assert omitted == UNKNOWN, f.name
        else:
            assert f.default == omitted, f.name


def _missing_name(entity: str, name: str) -> str:
    return name if entity == "household" else f"members[a].{name}"


def _reference_values(entity: str, name: str, h: Household) -> list[Any]:
    """The value as the eager extractors, the lazy ones and the lazy ones with plain fields
    copied in give it."""
    if entity == "household":
        lazy, _ = F.lazy_facts(h, ON, [])
        return [F.household_facts(h, ON)[name], lazy[name]]
    (_, members), (_, plain) = F.lazy_facts(h, ON, []), F.lazy_facts(h, ON, [], plain=True)
    return [F.member_facts(h, ON)[0][name], members[0][name], plain[0][name]]


@pytest.mark.parametrize(("entity", "name", "which"), CASES)
def test_the_reference_reads_the_hand_written_value(entity, name, which):
    h = GIVEN if which == "given" else OMITTED
    want = EXPECTED[entity, name][which == "omitted"]
    for got in _reference_values(entity, name, h):
        if want == UNKNOWN:
            assert got == Unknown(frozenset({_missing_name(entity, name)}))
        else:
            assert got == want and isinstance(got, type(want)), (got, want)


def _column_value(want: Any, kind: str) -> Any:
    """The hand-written value in the vectorized backend's column form (fen, null)."""
    if want == UNKNOWN:
        return None
    return int(want.scaleb(2)) if kind == "money" else want


def _with_size(h: pl.DataFrame, m: pl.DataFrame) -> pl.DataFrame:
    """``size`` as the engine adds it (VectorizedPack.evaluate): members per household."""
    counts = m.group_by(HH).len().sort(HH).get_column("len").cast(pl.Int64)
    return h.with_columns(counts.alias("size"))


def _vectorized_value(entity: str, name: str, h: pl.DataFrame, m: pl.DataFrame) -> Any:
    fact = (V.HOUSEHOLD if entity == "household" else V.MEMBER)[name]
    frame = _with_size(h, m) if entity == "household" else m
    return frame.select(fact.expr(ON).alias("v")).get_column("v")[0]


@pytest.mark.parametrize(("entity", "name", "which"), CASES)
def test_the_vectorized_backend_reads_the_hand_written_value(entity, name, which):
    fact = (V.HOUSEHOLD if entity == "household" else V.MEMBER).get(name)
    assert fact is not None, f"the vectorized backend has no column form of '{name}'"
    want = _column_value(EXPECTED[entity, name][which == "omitted"], fact.kind)
    h, m = households_to_frames([GIVEN if which == "given" else OMITTED])
    assert _vectorized_value(entity, name, h, m) == want


@pytest.mark.parametrize(("entity", "name"), list(EXPECTED))
def test_a_register_that_leaves_a_fact_out_reads_as_the_table_says(entity, name):
    """The register path: columns absent from a register (all but the ids and an age) are
    cleaned with the model's defaults, and the fact's own default or null comes on top."""
    h = clean(pl.DataFrame({"household_id": ["o"]}), HOUSEHOLD_COLUMNS, "households")
    m = clean(
        pl.DataFrame({"household_id": ["o"], "member_id": ["a"], "age": ["30"]}),
        MEMBER_COLUMNS,
        "members",
    ).with_columns(pl.lit(0, dtype=pl.UInt32).alias(HH))
    fact = (V.HOUSEHOLD if entity == "household" else V.MEMBER)[name]
    want = _column_value(EXPECTED[entity, name][1], fact.kind)
    assert _vectorized_value(entity, name, h, m) == want


def test_a_fact_with_its_own_default_needs_a_field_that_has_none():
    with pytest.raises(TypeError, match="already defaults"):
        F._field("member", "relation", ("关系", "relation"), default="head")
    with pytest.raises(TypeError, match="no field 'nickname'"):
        F._field("member", "nickname", ("昵称", "nickname"))


def test_receiving_facts_by_hand_and_a_household_that_receives_nothing_gets_its_own_dict():
    h = parse_household({**OMITTED.model_dump(mode="json"), "receiving": {"dibao": "500.5"}})
    assert F.receiving_values(h, ["dibao", "tekun"]) == {
        "receiving.dibao": True,
        "receiving_amount.dibao": Decimal("500.5"),
        "receiving.tekun": False,
        "receiving_amount.tekun": Decimal(0),
    }
    first = F.receiving_values(OMITTED, ["dibao", "tekun"])
    first["receiving.dibao"] = True  # the evaluator writes into the facts it is given
    assert F.receiving_values(OMITTED, ["dibao", "tekun"])["receiving.dibao"] is False
