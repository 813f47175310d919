"""Synthetic registers: deterministic, valid canonical households, shaped like a city."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from minzheng_rules import load_pack
from minzheng_rules.model._convert import frames_to_dicts
from minzheng_rules.model._household import parse_household
from minzheng_rules.synth._registers import generate, shape_of

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
    assert pack.manifest.synth.ageing.value == Decimal("0.25")  # huzhou/pack.yaml, modelled
    assert 0.25 - 0.06 < share < 0.25 + 0.06


@pytest.mark.parametrize(
    "name, codes",
    [
        # GB/T 2260 county-level codes, declared in each pack's pack.yaml
        ("huzhou", {"330502", "330503", "330521", "330522", "330523"}),
        ("pinghu", {"330482"}),
        ("yiwu", {"330782"}),
        ("zhenjiang", {"321102", "321111", "321112", "321181", "321182", "321183"}),
    ],
)
def test_registrations_are_the_citys_own(name, codes):
    h, _ = next(generate(load_pack(name), ON, 2000, seed=3, chunk=2000))
    found = set(h.get_column("hukou").drop_nulls())
    assert found == codes


def test_a_city_inherits_no_other_citys_codes(tmp_path):
    """A new city extending zhejiang gets none of 湖州's codes: without its own the
    registration is left unknown; with them, only its own. A county inherits its city's."""
    folder = tmp_path / "jiaxing"
    folder.mkdir()
    manifest = "pack: {id: jiaxing, label: {zh: 嘉兴市, en: Jiaxing}, level: city, extends: "
    (folder / "pack.yaml").write_text(manifest + "zhejiang}\n", encoding="utf-8")
    city = load_pack(folder)
    assert city.manifest.synth.hukou is None
    assert city.manifest.synth.ageing.value == Decimal("0.24")  # zhejiang's, modelled
    h, _ = next(generate(city, ON, 500, seed=3, chunk=500))
    assert h.get_column("hukou").null_count() == 500
    (folder / "pack.yaml").write_text(
        manifest + "zhejiang, synth: {hukou: {codes: {'330402': {zh: 南湖区, en: Nanhu}},"
        " confidence: published, source: {document: GB/T 2260}}}}\n",
        encoding="utf-8",
    )
    h, _ = next(generate(load_pack(folder), ON, 500, seed=3, chunk=500))
    assert set(h.get_column("hukou").drop_nulls()) == {"330402"}
    (folder / "pack.yaml").write_text(manifest + "yiwu}\n", encoding="utf-8")
    assert load_pack(folder).manifest.synth.hukou.codes.keys() == {"330782"}


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
