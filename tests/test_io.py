"""Register readers and writers: the columnar schema follows the pydantic models, vectorized
validation accepts and refuses exactly what pydantic does, money survives every format to the
fen, and unordered input (members not beside their household) gives the same answers."""

from __future__ import annotations

import datetime as dt
import json
import sys
import typing
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from minzheng_rules import load_pack
from minzheng_rules.backends.vectorized._engine import VectorizedPack
from minzheng_rules.io._formats import money_text, write_register
from minzheng_rules.io._readers import open_register
from minzheng_rules.io._validate import InputError, assemble, clean
from minzheng_rules.model._columns import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
from minzheng_rules.model._errors import HouseholdError
from minzheng_rules.model._household import Household, Member, parse_household
from minzheng_rules.synth._registers import generate

ON = dt.date(2024, 6, 1)


def _fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    out = set()
    hints = typing.get_type_hints(model)
    for name in model.model_fields:
        t = hints[name]
        if isinstance(t, type) and issubclass(t, BaseModel):
            out |= _fields(t, f"{prefix}{name}_")
        elif typing.get_origin(t) is list and typing.get_args(t) == (Member,):
            continue
        else:
            out.add(prefix + name)
    return out


def test_the_columns_are_the_models_fields():
    household = {c.name for c in HOUSEHOLD_COLUMNS}
    member = {c.name for c in MEMBER_COLUMNS}
    assert household == (_fields(Household) - {"id"}) | {"household_id"}
    assert member == (_fields(Member) - {"id"}) | {"member_id", "household_id"}


# -- validation agrees with pydantic ----------------------------------------------------------

MONEY_TEXT = st.one_of(
    st.decimals(min_value=0, max_value=10**12, places=2).map(str),
    st.sampled_from(["1.005", "-3", "abc", "12.3", "0", "1000000000000", "7.10", "2.500"]),
)
MEMBER_VALUES = {
    "age": st.one_of(st.integers(-2, 135).map(str), st.just("x")),
    "birth_date": st.one_of(
        st.dates(dt.date(1900, 1, 1), dt.date(2030, 1, 1)).map(str), st.just("2024-02-30")
    ),
    "monthly_income": MONEY_TEXT,
    "disability_grade": st.integers(0, 5).map(str),
    "disability_type": st.sampled_from(["physical", "mental", "blind"]),
    "self_care": st.sampled_from(["full", "partial", "none", "some"]),
    "employed": st.sampled_from(["true", "false", "maybe"]),
    "relation": st.sampled_from(["head", "child", "cousin"]),
    "student": st.sampled_from(["none", "senior", "phd"]),
}
HOUSEHOLD_VALUES = {
    "assets_financial": MONEY_TEXT,
    "assets_vehicles": st.integers(-1, 3).map(str),
    "expenses_medical_12m": MONEY_TEXT,
    "hukou": st.sampled_from(["330503", "x"]),
    "emergency": st.sampled_from(["true", "false", "2"]),
}


@st.composite
def raw_household(draw):
    h = {"household_id": draw(st.sampled_from(["h1", "h" * 70]))}
    for k, s in HOUSEHOLD_VALUES.items():
        if draw(st.booleans()):
            h[k] = draw(s)
    members = []
    for i in range(draw(st.integers(0, 4))):
        m = {
            "household_id": h["household_id"],
            "member_id": draw(st.sampled_from([f"m{i}", "dup"])),
        }
        for k, s in MEMBER_VALUES.items():
            if draw(st.integers(0, 2)) == 0:
                m[k] = draw(s)
        members.append(m)
    return h, members


def _pydantic_accepts(h: dict, members: list[dict]) -> bool:
    data: dict = {"id": h["household_id"], "members": []}
    for k, v in h.items():
        if k == "household_id":
            continue
        section, _, field = k.partition("_")
        if section in ("assets", "expenses", "housing"):
            data.setdefault(section, {})[field] = v
        else:
            data[k] = v
    for m in members:
        d = {("id" if k == "member_id" else k): v for k, v in m.items() if k != "household_id"}
        data["members"].append(d)
    try:
        parse_household(data)
        return True
    except HouseholdError:
        return False


@settings(max_examples=150)
@given(raw_household())
def test_validation_accepts_and_refuses_what_pydantic_does(case):
    h, members = case
    hraw = pl.DataFrame([h], schema={k: pl.String for k in h})
    mcols = {"household_id", "member_id", *MEMBER_VALUES}
    mraw = pl.DataFrame(
        [{k: m.get(k) for k in mcols} for m in members], schema={k: pl.String for k in mcols}
    )
    hc = clean(hraw, HOUSEHOLD_COLUMNS, "households.csv")
    mc = clean(mraw, MEMBER_COLUMNS, "members.csv")
    import numpy as np

    good_h, _, rejects = assemble(
        hc,
        mc,
        np.zeros(len(members), dtype=np.int64),
        "households.csv",
        "members.csv",
        np.array([1]),
        np.arange(len(members)),
    )
    accepted = good_h.height == 1
    assert accepted == _pydantic_accepts(h, members), (rejects, h, members)
    if not accepted:
        assert rejects[0].reasons and all(isinstance(r, str) and r for r in rejects[0].reasons)


def test_id_length_counts_characters_not_bytes():
    """Lengths are screened by bytes (cheaper) and decided by characters: an id of 64 Chinese
    characters (192 bytes) is taken, 65 characters or an empty id are refused, as by the
    models."""
    ids = ["户" * 64, "户" * 65, "", "a" * 64, "a" * 65, "户" * 22]
    hc = clean(pl.DataFrame({"household_id": ids}), HOUSEHOLD_COLUMNS, "households.parquet")
    too_long = "household_id: String should have at most 64 characters"
    empty = "household_id: String should have at least 1 character"
    assert hc.get_column("__errors").to_list() == [None, too_long, empty, None, too_long, None]
    for hid, error in zip(ids, hc.get_column("__errors").to_list(), strict=True):
        accepted = _pydantic_accepts({"household_id": hid}, [{"member_id": "m", "age": 30}])
        assert accepted == (error is None), hid


# -- formats ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def huzhou():
    return load_pack("huzhou")


@pytest.fixture(scope="module")
def register(huzhou):
    return list(generate(huzhou, ON, 3000, seed=4, chunk=1000))


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_every_format_reads_back_what_was_written(tmp_path, register, fmt):
    write_register(tmp_path, iter(register), fmt)
    source = open_register(tmp_path)
    chunks = list(source.chunks(700))
    assert sum(c.read for c in chunks) == 3000
    assert all(not c.rejects for c in chunks)
    h = pl.concat([c.households for c in chunks])
    m = pl.concat([c.members.drop("_hh") for c in chunks])
    want_h = pl.concat([x for x, _ in register])
    want_m = pl.concat([y.drop("_hh") for _, y in register])
    assert h.equals(want_h.select(h.columns))
    assert m.equals(want_m.select(m.columns))


def test_money_is_exact_in_parquet(tmp_path, register):
    import pyarrow.parquet as pq

    write_register(tmp_path, iter(register[:1]), "parquet")
    schema = pq.read_schema(tmp_path / "members.parquet")
    assert str(schema.field("monthly_income").type) == "decimal128(14, 2)"
    table = pq.read_table(tmp_path / "members.parquet", columns=["monthly_income"])
    first = next(v for v in table.column(0).to_pylist() if v is not None)
    fen = register[0][1].get_column("monthly_income").drop_nulls()[0]
    assert first == Decimal(fen).scaleb(-2)


def test_members_out_of_order_give_the_same_answers(tmp_path, register, huzhou, route):
    ordered, shuffled = tmp_path / "a", tmp_path / "b"
    write_register(ordered, iter(register), "parquet")
    shuffled.mkdir()
    pl.read_parquet(ordered / "households.parquet").write_parquet(shuffled / "households.parquet")
    pl.read_parquet(ordered / "members.parquet").sample(
        fraction=1.0, shuffle=True, seed=1
    ).write_parquet(shuffled / "members.parquet")
    vp = VectorizedPack(huzhou, ON)

    def answers(folder):
        src = open_register(folder)
        frames = [vp.evaluate(c.households, c.members).frame for c in src.chunks(1000, tmp_path)]
        return src.mode, pl.concat(frames).sort("household_id")

    mode_a, a = answers(ordered)
    mode_b, b = answers(shuffled)
    assert (mode_a, mode_b) == ("aligned", route)
    assert a.equals(b)


def test_bad_rows_are_refused_with_reasons_and_counted(tmp_path, route):
    (tmp_path / "households.csv").write_text(
        "household_id,assets_financial,hukou\n"
        "h1,100.50,330503\n"
        "h2,1.005,\n"  # too many decimals
        "h3,7,\n"  # no members
        "h1,5,\n"  # the same id twice
        "h4,0,\n",
        encoding="utf-8",
    )
    (tmp_path / "members.csv").write_text(
        "household_id,member_id,age,monthly_income\n"
        "h4,a,,10\n"  # neither age nor birth date
        "h1,a,30,1000\n"
        "h2,a,40,0\n"
        "hx,a,1,0\n",  # no such household
        encoding="utf-8",
    )
    src = open_register(tmp_path)
    chunks = list(src.chunks(10, tmp_path))
    assert src.mode == route
    rejects = [r for c in chunks for r in c.rejects]
    by_id = {}
    for r in rejects:
        by_id.setdefault(r.household_id, []).extend(r.reasons)
    assert any("more than 2 decimal places" in x for x in by_id["h2"])
    assert any("at least 1 item" in x for x in by_id["h3"])
    assert any("more than once" in x for x in by_id["h1"])
    assert any("give 'age' or 'birth_date'" in x for x in by_id["h4"])
    assert any("no such household" in x for x in by_id["hx"])
    read = sum(c.read for c in chunks)
    evaluable = sum(c.households.height for c in chunks)
    household_rejects = sum(len(c.rejects) - c.member_rejects for c in chunks)
    assert read == 5 and evaluable == 0 and read == evaluable + household_rejects


def test_each_of_a_members_problems_names_the_member(tmp_path, route):
    """A member with two bad cells: both reasons say which member (not the first alone)."""
    (tmp_path / "households.csv").write_text(
        "household_id,assets_financial\nh1,0\nh2,0\n", encoding="utf-8"
    )
    (tmp_path / "members.csv").write_text(  # h2's member first: not in the households' order
        "household_id,member_id,age,care\nh2,c,40,family\nh1,a,30,family\nh1,b,-4,nowhere\n",
        encoding="utf-8",
    )
    src = open_register(tmp_path)
    (reject,) = [r for c in src.chunks(10, tmp_path) for r in c.rejects]
    assert src.mode == route
    assert len(reject.reasons) == 2, reject.reasons
    assert reject.reasons[0].startswith("members[b].age: ")
    assert reject.reasons[1].startswith("members[b].care: ")


def test_whole_file_problems_are_errors(tmp_path):
    pl.DataFrame({"household_id": ["h"], "asets_financial": ["1"]}).write_csv(
        tmp_path / "households.csv"
    )
    pl.DataFrame({"household_id": ["h"], "member_id": ["a"], "age": ["3"]}).write_csv(
        tmp_path / "members.csv"
    )
    with pytest.raises(InputError, match="did you mean 'assets_financial'"):
        list(open_register(tmp_path).chunks(10))


def test_jsonl_lines_that_fail_are_refused_with_their_line(tmp_path):
    good = {"id": "a", "members": [{"id": "x", "age": 3}]}
    lines = [json.dumps(good), "{not json", json.dumps({"id": "b", "members": [{"id": "x"}]})]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (chunk,) = open_register(tmp_path / "r.jsonl").chunks(10)
    assert chunk.read == 3 and chunk.households.height == 1
    assert [(r.row, r.household_id) for r in chunk.rejects] == [(2, None), (3, "b")]


def test_a_member_id_twice_in_a_household_is_refused_but_not_across_households(tmp_path, route):
    (tmp_path / "households.csv").write_text("household_id\nh1\nh2\nh3\nh4\n", encoding="utf-8")
    (tmp_path / "members.csv").write_text(
        "household_id,member_id,age\n"
        "h1,a,30\nh1,b,31\nh1,a,32\n"  # a twice, not next to each other
        "h2,a,40\nh2,b,41\n"  # the same ids as h1: fine
        "h3,c,50\nh3,c,51\n"  # twice, side by side
        "h4,a,60\n",
        encoding="utf-8",
    )
    src = open_register(tmp_path)
    chunks = list(src.chunks(10, tmp_path))
    assert src.mode == "aligned"
    twice = {
        r.household_id
        for c in chunks
        for r in c.rejects
        if any("appears twice" in x for x in r.reasons)
    }
    assert twice == {"h1", "h3"}
    assert sorted(x for c in chunks for x in c.households.get_column("household_id")) == [
        "h2",
        "h4",
    ]


def _read_whole(folder, size, tmp_path):
    """Everything a register's chunks hold, in an order that does not depend on the route:
    rejects, households, members with their household's id, rows read, members refused."""
    src = open_register(folder)
    chunks = list(src.chunks(size, tmp_path))
    rejects = sorted(
        (r.source, r.row, r.household_id or "", tuple(r.reasons)) for c in chunks for r in c.rejects
    )
    households = pl.concat([c.households for c in chunks]).sort("household_id")
    members = pl.concat(
        [
            c.members.with_columns(
                c.households.get_column("household_id")
                .gather(c.members.get_column("_hh"))
                .alias("of")
            ).drop("_hh")
            for c in chunks
        ]
    )
    assert (members.get_column("of") == members.get_column("household_id")).all()
    members = members.sort("household_id", maintain_order=True)  # members in file order
    read = sum(c.read for c in chunks)
    member_rejects = sum(c.member_rejects for c in chunks)
    return src.mode, rejects, households, members, read, member_rejects


@pytest.mark.parametrize("size", [2, 100])
def test_the_in_memory_join_refuses_and_keeps_what_the_buckets_on_disk_do(
    tmp_path, size, monkeypatch
):
    folder = tmp_path / "reg"
    folder.mkdir()
    pl.DataFrame(
        {
            "household_id": ["h1", "h2", None, "h3", "h2", "h4", "h5", "h6"],
            "assets_financial": ["10", "1", "2", "3", "4", "1.005", "0", "7"],
        }
    ).write_parquet(folder / "households.parquet")
    pl.DataFrame(
        {
            "household_id": ["h5", "h1", "hx", "h2", None, "h5", "h4", "h6", "h5", "h6", "h1"],
            "member_id": ["c", "a", "a", "a", "a", "a", "a", "a", "b", "b", "b"],
            "age": [5, 40, 1, 2, 3, 60, 30, 20, 7, 21, 41],
        }
    ).write_parquet(folder / "members.parquet")
    joined = _read_whole(folder, size, tmp_path)
    monkeypatch.setattr(sys.modules[open_register.__module__], "IN_MEMORY_BYTES", -1)
    on_disk = _read_whole(folder, size, tmp_path)
    assert (joined[0], on_disk[0]) == ("joined", "partitioned")
    assert joined[1] == on_disk[1]
    assert joined[2].equals(on_disk[2]) and joined[3].equals(on_disk[3])
    assert joined[4:] == on_disk[4:] == (8, 3)
    _, rejects, households, members, _, _ = joined
    why = {(r[0], r[1]): r[3] for r in rejects}
    assert why[("households.parquet", 2)] == (
        "household_id: appears more than once in households.parquet",
    )
    assert why[("households.parquet", 5)] == why[("households.parquet", 2)]
    assert why[("households.parquet", 3)] == ("household_id: Field required",)
    assert why[("households.parquet", 4)] == (
        "members: List should have at least 1 item "
        "(no row of members.parquet has household_id 'h3')",
    )
    assert why[("households.parquet", 6)] == ("assets_financial: more than 2 decimal places",)
    assert why[("members.parquet", 3)] == ("household_id: no such household in households.parquet",)
    assert why[("members.parquet", 4)] == (
        "household_id: its household appears more than once in households.parquet",
    )
    assert why[("members.parquet", 5)] == ("household_id: no such household in households.parquet",)
    assert len(rejects) == 8
    assert households.get_column("household_id").to_list() == ["h1", "h5", "h6"]
    # each household's members in their file's order: h5's c (row 1), a (row 6), b (row 9)
    assert members.get_column("member_id").to_list() == ["a", "b", "c", "a", "b", "a", "b"]
    assert members.get_column("age").to_list() == [40, 41, 5, 60, 7, 20, 21]


def test_money_text_by_hand() -> None:
    """Amounts in fen (or 1/10**scale) as decimal text, checked against hand-written answers:
    sign, leading zero, padded fraction, nulls kept, the extremes of Int64."""
    fen = pl.Series([0, 1, -1, 5, -5, 10, -100, 123456, -123450, None], dtype=pl.Int64)
    assert money_text(fen).to_list() == [
        "0.00", "0.01", "-0.01", "0.05", "-0.05", "0.10", "-1.00", "1234.56", "-1234.50", None,
    ]  # fmt: skip
    assert money_text(pl.Series([7, -7], dtype=pl.Int64), 3).to_list() == ["0.007", "-0.007"]
    assert money_text(pl.Series([7, -7], dtype=pl.Int64), 0).to_list() == ["7", "-7"]
    extremes = pl.Series([2**63 - 1, -(2**63)], dtype=pl.Int64)
    assert money_text(extremes).to_list() == ["92233720368547758.07", "-92233720368547758.08"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1) | st.none(), max_size=20), st.integers(1, 6))
def test_money_text_is_the_exact_decimal(values: list[int | None], scale: int) -> None:
    """The text is what Python's Decimal writes for value / 10**scale (fixed point)."""
    got = money_text(pl.Series(values, dtype=pl.Int64), scale).to_list()
    want = [None if v is None else f"{Decimal(v).scaleb(-scale):f}" for v in values]
    assert got == want


def test_a_parquet_tables_size_in_memory_is_measured_not_guessed_from_its_types(tmp_path):
    """Whether a register is read whole depends on this size: text of every length counts as
    Polars holds it (long text out of line, short text inside its 16-byte views), and a sample
    of rows is scaled to them all."""
    from minzheng_rules.io._readers import TableFile

    rows = 100_000  # more than the rows sampled
    frame = pl.DataFrame(
        {
            "household_id": [f"330502{i:012d}" for i in range(rows)],  # 18 bytes: out of line
            "member_id": ["某某街道某某社区居民委员会第一网格" * 3] * rows,  # 153 bytes, one value
            "relation": ["self", "spouse"] * (rows // 2),  # short: inside the view
            "monthly_income": [1.5] * rows,
        }
    )
    frame.write_parquet(tmp_path / "m.parquet")
    whole = pl.read_parquet(tmp_path / "m.parquet").estimated_size()
    measured = TableFile(tmp_path / "m.parquet", "parquet", "members").memory_bytes()
    # the sample's size scaled, against the whole table read and measured (a width per type,
    # 24 bytes a text cell, gave less than half)
    assert abs(measured - whole) <= 0.05 * whole, (measured, whole)
