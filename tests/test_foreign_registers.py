"""Registers written by other tools, read whole: pandas/pyarrow Parquet with only the required
columns, money as float64, members shuffled; integer money that must not wrap; full-width digits;
text lists and program amounts as JSON text. Answers are checked against the reference evaluator
on the same households, built here from the same numbers (never by this project's synth)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from minzheng_rules import load_pack
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.backends.vectorized._engine import VectorizedPack
from minzheng_rules.cli.main import app
from minzheng_rules.io._mapping import load_mapping
from minzheng_rules.io._readers import open_register
from minzheng_rules.io._validate import InputError, clean
from minzheng_rules.model._columns import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
from minzheng_rules.model._household import parse_household
from minzheng_rules.model._results import Status

ON = dt.date(2024, 6, 1)
STATUS = {2: "eligible", 1: "undetermined", 0: "ineligible"}


@pytest.fixture(scope="module")
def huzhou():
    return load_pack("huzhou")


def pandas_register(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households and members as a city's own script would make them: pandas frames, money as
    float64 yuan (from whole fen, as a database's numeric column exported through pandas),
    ages with gaps as float64, members in no particular order."""
    rng = np.random.default_rng(seed)
    ids = [f"330502{i:08d}" for i in range(n)]
    households = pd.DataFrame(
        {
            "household_id": ids,
            "assets_financial": rng.integers(0, 6_000_000, n) / 100,
        }
    )
    sizes = rng.integers(1, 5, n)
    hh = np.repeat(np.arange(n), sizes)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    pos = np.arange(len(hh)) - first[hh]
    income = rng.integers(0, 250_000, len(hh)) / 100
    income[rng.random(len(hh)) < 0.05] = np.nan  # unknown income
    ages = rng.integers(0, 95, len(hh)).astype("float64")
    members = pd.DataFrame(
        {
            "household_id": [ids[i] for i in hh],
            "member_id": [f"p{p}" for p in pos],
            "relation": np.where(pos == 0, "head", "other"),
            "age": ages,
            "monthly_income": income,
        }
    )
    members = members.sample(frac=1.0, random_state=3).reset_index(drop=True)
    return households, members


def canonical(households: pd.DataFrame, members: pd.DataFrame) -> dict[str, dict]:
    """The same households as canonical mappings, money as exact decimals of the fen."""
    out = {
        r.household_id: {
            "id": r.household_id,
            "members": [],
            "assets": {"financial": Decimal(round(r.assets_financial * 100)).scaleb(-2)},
        }
        for r in households.itertuples()
    }
    for r in members.itertuples():
        m = {"id": r.member_id, "relation": r.relation, "age": int(r.age)}
        if not np.isnan(r.monthly_income):
            m["monthly_income"] = Decimal(round(r.monthly_income * 100)).scaleb(-2)
        out[r.household_id]["members"].append(m)
    for d in out.values():
        d["members"].sort(key=lambda m: m["id"])
    return out


def run_vectorized(source, huzhou, workdir):
    vp = VectorizedPack(huzhou, ON)
    frames, rejects, read = [], [], 0
    for c in source.chunks(300, workdir):
        frames.append(vp.evaluate(c.households, c.members).frame)
        rejects += c.rejects
        read += c.read
    return pl.concat(frames), rejects, read


def test_a_pandas_register_with_float_money_and_shuffled_members(tmp_path, huzhou, route):
    households, members = pandas_register(500)
    households.to_parquet(tmp_path / "households.parquet", index=False)
    members.to_parquet(tmp_path / "members.parquet", index=False)
    assert pq.read_schema(tmp_path / "members.parquet").field("monthly_income").type == pa.float64()
    source = open_register(tmp_path)
    frame, rejects, read = run_vectorized(source, huzhou, tmp_path)
    assert source.mode == route
    assert rejects == [] and read == 500 and frame.height == 500
    by_id = {r["household_id"]: r for r in frame.iter_rows(named=True)}
    want = canonical(households, members)
    for hid in list(want)[::5]:
        ev = evaluate(huzhou, parse_household(want[hid]), ON)
        for pid, o in ev.programs.items():
            assert STATUS[by_id[hid][f"{pid}_status"]] == o.status.value, (hid, pid)
            if o.status is Status.eligible and o.unit.startswith("CNY"):
                assert Decimal(by_id[hid][f"{pid}_amount"]).scaleb(-2) == o.amount.quantize(
                    Decimal("0.01")
                )


def test_float_money_off_the_fen_is_a_row_reject_not_a_file_error(tmp_path, huzhou):
    pd.DataFrame({"household_id": ["a", "b", "c"]}).to_parquet(tmp_path / "households.parquet")
    pd.DataFrame(
        {
            "household_id": ["a", "b", "c"],
            "member_id": ["1", "1", "1"],
            "age": [40, 41, 42],
            # 0.1 + 0.2 is 30 fen within a tiny tolerance; 0.005 is half a fen
            "monthly_income": [0.1 + 0.2, 0.005, 1234.56],
        }
    ).to_parquet(tmp_path / "members.parquet")
    source = open_register(tmp_path)
    chunks = list(source.chunks(10, tmp_path))
    (reject,) = [r for c in chunks for r in c.rejects]
    assert reject.household_id == "b" and reject.source == "households.parquet"
    assert "monthly_income: more than 2 decimal places" in reject.reasons[0]
    m = pl.concat([c.members for c in chunks])
    assert sorted(m.get_column("monthly_income").to_list()) == [30, 123456]


def test_integer_money_never_wraps_and_unsigned_ages_are_refused(tmp_path):
    h = pl.DataFrame(
        {
            "household_id": ["ok", "wrap", "big"],
            "assets_financial": pl.Series([5, 2**62, 10**12], dtype=pl.Int64),
        }
    )
    hc = clean(h, HOUSEHOLD_COLUMNS, "households.parquet")
    assert hc.get_column("assets_financial")[0] == 500
    errors = hc.get_column("__errors").to_list()
    assert errors[0] is None
    assert "more than 12 digits before the point" in errors[1]
    assert "more than 12 digits before the point" in errors[2]
    m = pl.DataFrame(
        {
            "household_id": ["a", "a"],
            "member_id": ["1", "2"],
            "age": pl.Series([30, 2**63 + 5], dtype=pl.UInt64),
        }
    )
    mc = clean(m, MEMBER_COLUMNS, "members.parquet")
    assert mc.get_column("age").to_list()[0] == 30
    assert "age: Input should be less than or equal to 130" in mc.get_column("__errors")[1]


def test_fen_columns_when_a_column_says_so():
    h = pl.DataFrame(
        {
            "household_id": ["a", "b", "c"],
            "assets_financial": pl.Series([123456, 2**62, None], dtype=pl.Int64),
        }
    )
    hc = clean(h, HOUSEHOLD_COLUMNS, "h", units={"assets_financial": "fen"})
    assert hc.get_column("assets_financial").to_list()[:1] == [123456]
    assert "more than 12 digits" in hc.get_column("__errors")[1]
    floats = pl.DataFrame({"household_id": ["a", "b"], "assets_financial": [150.0, 150.5]})
    fc = clean(floats, HOUSEHOLD_COLUMNS, "h", units={"assets_financial": "fen"})
    assert fc.get_column("assets_financial")[0] == 150
    assert "not a whole number of fen" in fc.get_column("__errors")[1]


def test_full_width_digits_read_as_the_json_path_reads_them():
    m = pl.DataFrame(
        {
            "household_id": ["a", "a", "a"],
            "member_id": ["1", "2", "3"],
            "age": ["30", "31", "32"],
            "monthly_income": ["１０３８６", "1０.5", "١٠"],
        }
    )
    mc = clean(m, MEMBER_COLUMNS, "members.csv")
    assert mc.get_column("monthly_income").to_list() == [1038600, 1050, 1000]
    for text, fen in zip(["１０３８６", "1０.5", "١٠"], [1038600, 1050, 1000], strict=True):
        member = parse_household(
            {"id": "x", "members": [{"id": "1", "age": 3, "monthly_income": text}]}
        ).members[0]
        assert member.monthly_income == Decimal(fen).scaleb(-2)


def test_lists_and_program_amounts_as_json_text_reject_only_their_row():
    h = pl.DataFrame(
        {
            "household_id": ["a", "b", "c", "d", "e"],
            "assessed_needs": ['["medical", "education"]', "[1, 2]", None, '["x"', ""],
            "receiving": ['{"dibao": 1200.5}', '{"dibao": "-3"}', None, "[1]", '{"a": "2"}'],
        }
    )
    hc = clean(h, HOUSEHOLD_COLUMNS, "households.csv")
    needs = hc.get_column("assessed_needs").to_list()
    assert needs[0] == ["medical", "education"] and needs[2] == [] and needs[4] == []
    receiving = hc.get_column("receiving").to_list()
    assert receiving[0] == [{"program": "dibao", "fen": 120050}]
    assert receiving[4] == [{"program": "a", "fen": 200}]
    errors = hc.get_column("__errors").to_list()
    assert errors[0] is None and errors[2] is None and errors[4] is None
    assert "assessed_needs: a JSON array of text" in errors[1]
    assert "receiving.amount: Input should be greater than or equal to 0" in errors[1]
    assert "assessed_needs: a JSON array of text" in errors[3]
    assert "receiving: a JSON object of program → amount" in errors[3]


def test_missing_optional_columns_cost_no_python_per_row():
    """The old reader built one small frame per row for a missing list column (75 µs a
    household: 15 s here); whole-column work takes well under a second."""
    n = 200_000
    h = pl.DataFrame({"household_id": [f"h{i}" for i in range(n)]})
    started = time.perf_counter()
    hc = clean(h, HOUSEHOLD_COLUMNS, "households.parquet")
    took = time.perf_counter() - started
    assert hc.get_column("assessed_needs").list.len().sum() == 0
    assert hc.get_column("receiving").list.len().sum() == 0
    assert took < 3.0, took


# -- Excel with Chinese headers through a column mapping -------------------------------------------

MAPPING = Path(__file__).resolve().parents[1] / "examples" / "registers" / "mapping-zh.yaml"


def test_an_excel_export_with_chinese_headers_goes_through_batch(tmp_path, huzhou):
    book = tmp_path / "名册.xlsx"
    families = pl.DataFrame(
        {
            "户编号": ["A001", "A002", "A003"],
            "户主姓名": ["张三", "李四", "王五"],
            "家庭金融资产": [1200.5, 0.0, 300000.0],
            "遭遇突发事件": ["否", "否", "是"],
        }
    )
    people = pl.DataFrame(
        {
            "户编号": ["A002", "A001", "A001", "A003", "A002"],
            "身份证号": [
                "330502195001010011",
                "330502198001010012",
                "330502201001010013",
                "330502197001010014",
                "330502195201010015",
            ],
            "姓名": ["甲", "乙", "丙", "丁", "戊"],
            "性别": ["男", "女", "男", "女", "女"],
            "与户主关系": ["户主", "户主", "子女", "户主", "配偶"],
            "年龄": [74, 44, 14, 54, 72],
            "月收入": [300.0, 800.0, None, 9000.0, 0.0],
            "是否在业": ["否", "是", "否", "是", "否"],
            "备注": ["", "", "", "", ""],
        }
    )
    import xlsxwriter

    with xlsxwriter.Workbook(book) as wb:
        families.write_excel(wb, worksheet="家庭")
        people.write_excel(wb, worksheet="成员")
    out = tmp_path / "结果.xlsx"
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "batch",
            str(book),
            str(out),
            "--pack",
            "huzhou",
            "--date",
            ON.isoformat(),
            "--columns",
            str(MAPPING),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "备注" in r.output and "columns not used" in r.output
    assert "3 households read" in r.output
    results = pl.read_excel(out, sheet_name="results")
    assert results.height == 3
    by_id = {row["household_id"]: row for row in results.iter_rows(named=True)}
    canonical = {
        "A001": {
            "id": "A001",
            "assets": {"financial": "1200.50"},
            "members": [
                {
                    "id": "330502198001010012",
                    "relation": "head",
                    "age": 44,
                    "monthly_income": "800",
                    "employed": True,
                },
                {"id": "330502201001010013", "relation": "child", "age": 14, "employed": False},
            ],
        },
        "A002": {
            "id": "A002",
            "assets": {"financial": "0"},
            "members": [
                {
                    "id": "330502195001010011",
                    "relation": "head",
                    "age": 74,
                    "monthly_income": "300",
                    "employed": False,
                },
                {
                    "id": "330502195201010015",
                    "relation": "spouse",
                    "age": 72,
                    "monthly_income": "0",
                    "employed": False,
                },
            ],
        },
        "A003": {
            "id": "A003",
            "emergency": True,
            "assets": {"financial": "300000"},
            "members": [
                {
                    "id": "330502197001010014",
                    "relation": "head",
                    "age": 54,
                    "monthly_income": "9000",
                    "employed": True,
                }
            ],
        },
    }
    for hid, data in canonical.items():
        ev = evaluate(huzhou, parse_household(data), ON)
        for pid, o in ev.programs.items():
            assert by_id[hid][f"{pid}_status"] == o.status.value, (hid, pid)
            if o.status is Status.eligible and o.unit.startswith("CNY"):
                assert Decimal(str(by_id[hid][f"{pid}_amount"])).quantize(
                    Decimal("0.01")
                ) == o.amount.quantize(Decimal("0.01"))
    assert by_id["A003"]["dibao_status"] == "ineligible"  # 9,000 元 a month for one person


def test_a_code_the_mapping_forgot_refuses_its_row_and_unknown_fields_are_errors(tmp_path):
    (tmp_path / "households.csv").write_text("户编号\nA\nB\n", encoding="utf-8")
    (tmp_path / "members.csv").write_text(
        "户编号,身份证号,与户主关系,年龄\nA,1,户主,30\nB,2,表亲,40\n", encoding="utf-8"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "households: {columns: {户编号: household_id}}\n"
        "members:\n  columns:\n    户编号: household_id\n    身份证号: member_id\n"
        "    年龄: age\n    与户主关系: {field: relation, values: {户主: head}}\n",
        encoding="utf-8",
    )
    source = open_register(tmp_path, mapping=load_mapping(mapping))
    chunks = list(source.chunks(10, tmp_path))
    (reject,) = [r for c in chunks for r in c.rejects]
    assert reject.household_id == "B" and "relation: Input should be" in reject.reasons[0]
    mapping.write_text("members: {columns: {年龄: agee}}\n", encoding="utf-8")
    with pytest.raises(InputError, match="no field 'agee' \\(did you mean 'age'\\?\\)"):
        load_mapping(mapping)


# -- damaged files: a bad row is refused alone; a bad file is a one-line error ---------------------


def _chunks(folder, **kw):
    source = open_register(folder, **kw)
    return source, list(source.chunks(10, folder))


def test_a_damaged_csv_refuses_only_its_bad_rows_and_counts_reconcile(tmp_path, route):
    (tmp_path / "households.csv").write_bytes(
        b"household_id,assets_financial\n"
        b"h1,100\n"
        b"h2,5,extra\n"  # a field too many
        b'h3,"7\n'  # a quote never closed
        b"h4,1\n"
        b"h5,2\n"
        b"h6," + b"9" * (4 << 20) + b"\n"  # a 4 MB field
        b"h7,3\n"
    )
    (tmp_path / "members.csv").write_bytes(
        b"household_id,member_id,age,monthly_income\n"
        b"h1,a,30,1000\n"
        b"h4,a,40\n"  # a field short: h4 cannot be judged without it
        b"h4,b,41,0\n"
        b"h5,a,50,\xff\xfe\n"  # not UTF-8 in a UTF-8 file
        b"h3,a,1,0\n"
        b"h2,a,1,0\n"
        b"h6,a,1,0\n"
        b"h7,a,1,\xef\xbc\x91\xef\xbc\x90\n"  # full-width 10
    )
    source, chunks = _chunks(tmp_path)
    rejects = {}
    for c in chunks:
        for r in c.rejects:
            rejects.setdefault((r.source, r.household_id), []).extend(r.reasons)
    evaluated = sorted(x for c in chunks for x in c.households.get_column("household_id"))
    assert evaluated == ["h1", "h7"]
    assert rejects[("households.csv", "h2")] == ["row: 3 fields, expected 2"]
    assert "quote" in rejects[("households.csv", "h3")][0]
    assert "more than 12 digits" in rejects[("households.csv", "h6")][0]
    assert (
        "members.csv row 2 cannot be read (3 fields, expected 4)"
        in rejects[("households.csv", "h4")][0]
    )
    assert "not valid UTF-8" in rejects[("members.csv", "h5")][0]
    read = sum(c.read for c in chunks)
    household_rejects = sum(len(c.rejects) - c.member_rejects for c in chunks)
    assert read == 7 and read == len(evaluated) + household_rejects
    m = pl.concat([c.members for c in chunks])
    assert m.filter(pl.col("household_id") == "h7").get_column("monthly_income").to_list() == [1000]
    assert any("line by line" in w for w in source.warnings)


def test_gbk_csv_is_read_when_declared_or_detected(tmp_path):
    (tmp_path / "households.csv").write_bytes("户编号\n甲一\n".encode("gbk"))
    (tmp_path / "members.csv").write_bytes("户编号,身份证号,年龄\n甲一,张,30\n".encode("gbk"))
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "households: {columns: {户编号: household_id}}\n"
        "members: {columns: {户编号: household_id, 身份证号: member_id, 年龄: age}}\n",
        encoding="utf-8",
    )
    for kw in ({}, {"encoding": "gbk"}):
        source, chunks = _chunks(tmp_path, mapping=load_mapping(mapping), **kw)
        assert [x for c in chunks for x in c.households.get_column("household_id")] == ["甲一"]
        assert [x for c in chunks for x in c.members.get_column("member_id")] == ["张"]
        assert bool(kw) != any("GB18030" in w or "gb18030" in w for w in source.warnings)


@pytest.mark.parametrize(
    ("households", "members", "message"),
    [
        (
            b"household_id,household_id\nh\n",
            b"household_id,member_id,age\nh,a,1\n",
            "appears twice in the header",
        ),
        (b"", b"household_id,member_id,age\nh,a,1\n", "empty file"),
        (None, b"PAR1garbage", "not a Parquet file"),
        (None, b"", "not a Parquet file"),
    ],
)
def test_a_bad_file_is_a_one_line_error(tmp_path, households, members, message):
    if households is None:  # Parquet: a good households file, a broken members file
        pd.DataFrame({"household_id": ["h"]}).to_parquet(tmp_path / "households.parquet")
        good = tmp_path / "ok.parquet"
        pd.DataFrame({"household_id": ["h"], "member_id": ["a"], "age": [1]}).to_parquet(good)
        (tmp_path / "members.parquet").write_bytes(members or good.read_bytes()[:40])
    else:
        (tmp_path / "households.csv").write_bytes(households)
        (tmp_path / "members.csv").write_bytes(members)
    with pytest.raises(InputError, match=message) as e:
        list(open_register(tmp_path).chunks(10, tmp_path))
    assert "\n" not in str(e.value)


def test_a_household_id_twice_is_refused_even_when_the_members_are_in_order(tmp_path, route):
    # members in the households' order (the fast path's shape) but h1 given twice
    (tmp_path / "households.csv").write_text("household_id\nh1\nh2\nh1\n", encoding="utf-8")
    (tmp_path / "members.csv").write_text(
        "household_id,member_id,age\nh1,a,30\nh2,a,40\nh1,b,50\n", encoding="utf-8"
    )
    source, chunks = _chunks(tmp_path)
    assert source.mode == route
    refused = [
        (r.row, r.household_id) for c in chunks for r in c.rejects if r.source == "households.csv"
    ]
    assert sorted(refused) == [(1, "h1"), (3, "h1")]
    assert [x for c in chunks for x in c.households.get_column("household_id")] == ["h2"]


# -- JSON Lines: the same refusals as the columnar form; batch guards its input ----------------------


def _jsonl(tmp_path, lines: list[bytes]):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


GOOD = b'{"id": "%s", "members": [{"id": "a", "age": 40, "monthly_income": "500"}]}'


def test_jsonl_duplicates_surrogates_and_stray_bytes_are_rejects(tmp_path):
    path = _jsonl(
        tmp_path,
        [
            GOOD % b"h1",
            GOOD % b"h2",
            GOOD % b"h1",  # h1 again: both refused, as in Parquet and CSV
            GOOD % b"\\ud800x",  # a lone surrogate in the id
            GOOD % b"h\xff",  # not UTF-8
        ],
    )
    out = tmp_path / "out.parquet"
    r = CliRunner().invoke(
        app, ["batch", str(path), str(out), "--pack", "huzhou", "--date", ON.isoformat()]
    )
    assert r.exit_code == 0, r.output
    assert pl.read_parquet(out).get_column("household_id").to_list() == ["h2"]
    lines = (tmp_path / "out.parquet.rejects.jsonl").read_text(encoding="utf-8").splitlines()
    import json

    refused = [json.loads(x) for x in lines]
    assert [(x["row"], x["household_id"]) for x in refused] == [
        (1, "h1"),
        (3, "h1"),
        (4, None),
        (5, None),
    ]
    assert "appears more than once in s.jsonl (lines 1, 3)" in refused[0]["reasons"][0]
    assert "lone" in refused[2]["reasons"][0] and "UTF-8" in refused[3]["reasons"][0]
    summary = json.loads((tmp_path / "out.parquet.summary.json").read_text())
    assert (summary["households"], summary["evaluated"], summary["rejected"]) == (5, 1, 4)


def test_diff_refuses_a_household_given_twice(tmp_path):
    path = _jsonl(tmp_path, [GOOD % b"h1", GOOD % b"h1"])
    r = CliRunner().invoke(
        app, ["diff", "--pack", "huzhou", "--register", str(path), "--from", ON.isoformat()]
    )
    assert r.exit_code == 2 and "appears more than once" in r.output


def test_batch_will_not_overwrite_its_input(tmp_path):
    path = _jsonl(tmp_path, [GOOD % b"h1"])
    before = path.read_bytes()
    r = CliRunner().invoke(
        app, ["batch", str(path), str(path), "--pack", "huzhou", "--date", ON.isoformat()]
    )
    assert r.exit_code == 2 and "overwrite the input" in r.output
    assert path.read_bytes() == before


def test_resume_notices_an_edit_that_keeps_size_and_time(tmp_path, huzhou):
    import os

    from minzheng_rules.io import _batch as B

    path = _jsonl(tmp_path, [GOOD % b"h1", GOOD % b"h2"])
    out = tmp_path / "r.parquet"

    class Stop(Exception):
        pass

    def stop(self, chunk):
        raise Stop

    original = B.Batch._chunk
    B.Batch._chunk = stop
    try:
        with pytest.raises(Stop):
            B.Batch(open_register(path), out, huzhou, ON, chunk_size=1).run()
    finally:
        B.Batch._chunk = original
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b'"500"', b'"900"'))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time
    with pytest.raises(InputError, match="--restart"):
        B.Batch(open_register(path), out, huzhou, ON, chunk_size=1)


def test_two_workbooks_in_a_folder_and_float_ids_from_a_spreadsheet(tmp_path):
    # a spreadsheet stores numbers as floats: ids typed as numbers come back as 1001.0
    pl.DataFrame({"household_id": [1001.0, 1002.0]}).write_excel(tmp_path / "households.xlsx")
    pl.DataFrame(
        {"household_id": [1002.0, 1001.0], "member_id": [1.0, 1.0], "age": [30.0, 40.5]}
    ).write_excel(tmp_path / "members.xlsx")
    _, chunks = _chunks(tmp_path)
    assert [x for c in chunks for x in c.households.get_column("household_id")] == ["1002"]
    (reject,) = [r for c in chunks for r in c.rejects]
    assert reject.household_id == "1001" and reject.source == "households.xlsx[Sheet1]"
    assert (
        "age: Input should be a valid integer, got a number with a fractional part"
        in (reject.reasons[0])
    )


def test_a_large_negative_integer_is_refused_not_wrapped_into_a_positive_amount():
    h = pl.DataFrame(
        {"household_id": ["a", "b"], "assets_financial": pl.Series([-(2**62), -1], dtype=pl.Int64)}
    )
    hc = clean(h, HOUSEHOLD_COLUMNS, "households.parquet")
    errors = hc.get_column("__errors").to_list()
    assert all("greater than or equal to 0" in e for e in errors)


def test_program_amounts_as_pandas_dicts_and_arrow_maps(tmp_path):
    # pandas writes a column of dicts as a struct, one field per program (None: not received)
    pd.DataFrame(
        {
            "household_id": ["a", "b", "c"],
            "receiving": [{"dibao": 1200.5, "tekun": None}, None, {"dibao": None, "tekun": 0.005}],
        }
    ).to_parquet(tmp_path / "s.parquet")
    hc = clean(pl.read_parquet(tmp_path / "s.parquet"), HOUSEHOLD_COLUMNS, "households.parquet")
    assert hc.get_column("receiving").to_list()[:2] == [[{"program": "dibao", "fen": 120050}], []]
    errors = hc.get_column("__errors").to_list()
    assert (
        errors[:2] == [None, None] and "receiving.amount: more than 2 decimal places" in errors[2]
    )
    maps = pa.table(
        {
            "household_id": ["a", "b"],
            "receiving": pa.array([[("dibao", 1.5)], None], pa.map_(pa.string(), pa.float64())),
        }
    )
    pq.write_table(maps, tmp_path / "m.parquet")
    mc = clean(pl.read_parquet(tmp_path / "m.parquet"), HOUSEHOLD_COLUMNS, "households.parquet")
    assert mc.get_column("receiving").to_list() == [[{"program": "dibao", "fen": 150}], []]


def test_a_csv_pandas_wrote_with_its_index_is_read(tmp_path):
    households, members = pandas_register(20)
    households.to_csv(tmp_path / "households.csv")  # the index as an unnamed first column
    members.to_csv(tmp_path / "members.csv")
    source, chunks = _chunks(tmp_path)
    assert sum(c.households.height for c in chunks) == 20
    assert all(not c.rejects for c in chunks)
    assert any("columns not used" in w and ": " in w for w in source.warnings)
    with pytest.raises(InputError, match="unknown text encoding 'nope'"):
        open_register(tmp_path, encoding="nope")
