"""The vectorized backend gives the reference evaluator's answers on every household: status,
amount to the fen, tags and needs; on generated households for every shipped pack and date,
and on 10,000 synthetic households per pack."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minzheng_rules import available_packs, load_pack
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.backends.vectorized._engine import VectorizedPack
from minzheng_rules.model._convert import frames_to_dicts, households_to_frames
from minzheng_rules.model._errors import EvaluationError, HouseholdError
from minzheng_rules.model._household import parse_household
from minzheng_rules.model._results import Status
from minzheng_rules.model._values import money
from minzheng_rules.synth._registers import generate
from minzheng_rules.testing.strategies import evaluable_dates, households

CODES = {Status.eligible: 2, Status.undetermined: 1, Status.ineligible: 0}


@cache
def pack(name: str):
    return load_pack(name)


@cache
def compiled(name: str, on: dt.date) -> VectorizedPack:
    return VectorizedPack(pack(name), on)


def evaluable() -> list[str]:
    return [n for n in sorted(available_packs()) if evaluable_dates(load_pack(n))]


PACKS = evaluable()


def expected_amount(outcome, scale: int, unit: str) -> int:
    amount = outcome.amount if outcome.status is Status.eligible else Decimal(0)
    if unit.startswith("CNY"):
        amount = money(amount)
    return int(amount.scaleb(scale))


def assert_agrees(name: str, on: dt.date, hs: list) -> dict[str, int]:
    """Evaluate ``hs`` at once and one by one with the reference; return eligible counts."""
    hs = [h.model_copy(update={"id": f"h{i}"}) for i, h in enumerate(hs)]
    vp = compiled(name, on)
    h, m = households_to_frames(hs)
    result = vp.evaluate(h, m)
    assert_lists_without_text(vp, h, m, result)
    rejected = {row: reason for row, _, reason in result.rejected}
    rows = iter(result.frame.to_dicts())
    eligible = {p.program: 0 for p in vp.programs}
    for i, household in enumerate(hs):
        try:
            ev = evaluate(pack(name), household, on)
        except (EvaluationError, HouseholdError) as e:
            assert i in rejected, f"the reference refused household {i} ({e}); vectorized did not"
            continue
        assert i not in rejected, f"vectorized refused household {i}: {rejected.get(i)}"
        row = next(rows)
        assert row["household_id"] == household.id
        for p in vp.programs:
            o = ev.programs[p.program]
            got = (row[f"{p.program}_status"], row[f"{p.program}_amount"])
            want = (CODES[o.status], expected_amount(o, p.scale, p.unit))
            assert got == want, (
                f"{name} {on} {p.program} household {i}: {got} != {want}\n{household}"
            )
            eligible[p.program] += o.status is Status.eligible
        assert row["tags"] == list(ev.tags), (row["tags"], ev.tags)
        assert row["needs"] == list(ev.needs), (row["needs"], ev.needs)
    return eligible


def assert_lists_without_text(vp, h, m, result) -> None:
    """``evaluate(text=False)`` leaves the text lists out of the frame only when its coded
    lists hold them (checked here against the frame the reference is checked against)."""
    bare = vp.evaluate(h, m, text=False)
    if bare.lists is None:  # rows the reference answered: the lists stay in the frame
        assert bare.frame.equals(result.frame)
        return
    assert bare.frame.equals(result.frame.drop("tags", "needs"))
    for column in ("tags", "needs"):
        words = bare.lists[column].cast(pa.list_(pa.string())).to_pylist()
        assert words == result.frame.get_column(column).to_list()


def test_shipped_packs_include_a_city():
    assert "huzhou" in PACKS


@pytest.mark.parametrize("name", PACKS)
@settings(max_examples=20)
@given(data=st.data())
def test_generated_households_agree_with_the_reference(name, data):
    days = evaluable_dates(pack(name))
    on = data.draw(st.sampled_from(days), label="date")
    known = data.draw(st.booleans(), label="known")
    hs = data.draw(
        st.lists(households(pack(name), on, known=known, max_members=7), min_size=1, max_size=12)
    )
    assert_agrees(name, on, hs)


@pytest.mark.parametrize("name", PACKS)
def test_ten_thousand_synthetic_households_agree(name):
    on = evaluable_dates(pack(name))[0]
    h, m = next(generate(pack(name), on, 10_000, seed=11, chunk=10_000))
    dicts = frames_to_dicts(h, m, list(range(h.height)))
    eligible = assert_agrees(name, on, [parse_household(d) for d in dicts])
    # the register is shaped so that the rules are exercised, not just passed through
    assert sum(1 for count in eligible.values() if count > 0) >= len(eligible) // 2
    assert eligible.get("dibao", 1) > 0


def test_assessed_needs_name_labels_across_the_64_bit_masks():
    """湖州's 131 need labels are read from three 64-bit masks: a label at each mask's first
    and last bit, named twice, and no label at all give the reference's needs, and every
    label named is among them (an assessed need holds whatever the rules say)."""
    on = dt.date(2024, 6, 1)
    labels = list(pack("huzhou").relief.labels)
    assert len(labels) > 128
    named = [[], [labels[0]], [labels[63], labels[64]], [labels[127], labels[128], labels[0]]]
    named += [[labels[-1], labels[-1]], [labels[5], labels[70], labels[130]]]
    hs = [
        parse_household(
            {
                "id": f"h{i}",
                "assessed_needs": needs,
                "members": [{"id": "a", "age": 40, "monthly_income": "3000"}],
            }
        )
        for i, needs in enumerate(named)
    ]
    assert_agrees("huzhou", on, hs)
    result = compiled("huzhou", on).evaluate(*households_to_frames(hs))
    for needs, got in zip(named, result.frame.get_column("needs").to_list(), strict=True):
        assert set(needs) <= set(got)


@pytest.mark.parametrize(
    "column, value, named",
    [("self_care", "sometimes", "self_care"), ("hukou", 5, "hukou")],
)
def test_frames_not_as_the_readers_clean_them_get_a_clear_error(column, value, named):
    """A text outside its choices (compared as codes), or a column of another type: one
    error naming the column and how to pass clean frames, not Polars' own."""
    import polars as pl

    on = dt.date(2024, 6, 1)
    h, m = next(generate(pack("huzhou"), on, 50, seed=3, chunk=50))
    vp = VectorizedPack(pack("huzhou"), on)
    if column in m.columns:
        m = m.with_columns(pl.lit(value).alias(column))
    else:
        h = h.with_columns(pl.lit(value).alias(column))
    with pytest.raises(EvaluationError) as caught:
        vp.evaluate(h, m)
    message = str(caught.value)
    assert named in message and "open_register" in message
    assert "\n" not in message
