"""Synthetic registers: deterministic, valid canonical households, shaped like a city."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from minzheng_rules import load_pack
from minzheng_rules.household import parse_household
from minzheng_rules.io.convert import frames_to_dicts
from minzheng_rules.synth.registers import AGEING, generate, shape_of

ON = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def pack():
    return load_pack("huzhou")


@pytest.fixture(scope="module")
def register(pack):
    h, m = next(generate(pack, ON, 20_000, seed=9, chunk=20_000))
    return h, m


def test_the_same_seed_gives_the_same_register(pack):
    a = list(generate(pack, ON, 2500, seed=1, chunk=1000))
    b = list(generate(pack, ON, 2500, seed=1, chunk=1000))
    c = list(generate(pack, ON, 2500, seed=2, chunk=1000))
    assert all(x[0].equals(y[0]) and x[1].equals(y[1]) for x, y in zip(a, b, strict=True))
    assert not a[0][1].equals(c[0][1])
    assert [h.height for h, _ in a] == [1000, 1000, 500]
    assert a[2][0].get_column("household_id")[0] == "H000002000"


def test_every_household_is_valid(register):
    h, m = register
    rows = list(range(0, h.height, 7))
    for d in frames_to_dicts(h, m, rows):
        parse_household(d)


def test_the_share_of_elders_follows_the_city(register, pack):
    _, m = register
    age = m.select(
        pl.when(pl.col("age").is_null())
        .then(ON.year - pl.col("birth_date").dt.year())
        .otherwise(pl.col("age"))
    ).to_series()
    share = float((age >= 60).mean())
    assert AGEING["huzhou"][0] - 0.06 < share < AGEING["huzhou"][0] + 0.06


def test_incomes_sit_on_and_around_the_packs_lines(register, pack):
    _, m = register
    shape = shape_of(pack, ON)
    income = m.group_by("_hh").agg(pl.col("monthly_income").sum(), pl.len()).sort("_hh")
    per_head = (income["monthly_income"] / income["len"]).to_numpy()
    lines = np.array([float(x) * 100 for x in shape.lines])
    on_a_line = np.isclose(per_head[:, None], lines[None, :], atol=1.5).any(axis=1)
    assert on_a_line.mean() > 0.02  # some exactly on a line, a fen either side
    assert (per_head < lines.max()).mean() > 0.2


def test_the_register_holds_the_rare_cases(register):
    h, m = register
    orphans = m.filter(
        (pl.col("father_status") == "deceased") & (pl.col("mother_status") == "deceased")
    )
    assert orphans.height > 0
    assert m.get_column("disability_grade").drop_nulls().n_unique() == 4
    assert m.get_column("student").n_unique() >= 6
    assert m.get_column("monthly_income").null_count() > 0
    assert m.get_column("self_care").null_count() > 0
    assert h.get_column("assets_financial").null_count() > 0
    sizes = m.group_by("_hh").len().get_column("len")
    assert sizes.min() == 1 and sizes.max() >= 5
