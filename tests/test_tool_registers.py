"""Registers as other tools write them (pandas, pyarrow, DuckDB and database exports), run
through ``minzheng batch``: each household's answer is checked against a hand computation, so
a register read wrong shows as a wrong amount, not only as a changed count. Each test here
failed before the fix it guards (branch ``traps_tools``).

The household is the README's: 湖州, 2024-06-01, 低保 standard 1,145 元 a person a month;
three members (45, 43, 12) with incomes 1,200 + 800 + 0 and financial assets 5,000:
3 × 1145 − 2000 = 1435.00. Household 1002: one member of 70 with 300 元, judged
undetermined (the register lacks facts 特困 and others need), amount 0.00."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from test_new_user import _batch, _csv_register, _rejects

README = [("1001", "eligible", "1435.00"), ("1002", "undetermined", "0.00")]
HOUSEHOLDS = "household_id,assets_financial\n1001,5000\n1002,0\n"
MEMBERS = (
    "household_id,member_id,relation,age,monthly_income\n"
    "1001,a,head,45,1200\n1001,b,spouse,43,800\n1001,c,child,12,0\n1002,x,head,70,300\n"
)


def _answers(out: Path) -> list[tuple[str, str, str]]:
    results = pl.read_csv(out, infer_schema=False)
    return results.select("household_id", "dibao_status", "dibao_amount").rows()


def _run(folder: Path, tmp_path: Path, evaluated: int = 2) -> Path:
    """The register in ``folder`` (households 1001 and 1002) through ``minzheng batch``,
    ``evaluated`` of them evaluated and the other refused: the results file."""
    out = tmp_path / "o.csv"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    refused = 2 - evaluated
    assert (
        f"2 households read 读取 = {evaluated} evaluated 已评估 + {refused} rejected 拒绝" in output
    )
    return out


def _readme_in_postgresql(
    pg_schema: tuple,
    tmp_path: Path,
    households: dict[str, str],
    members: dict[str, str],
    ids: tuple[str, str] = ("1001", "1002"),
) -> list[tuple[str, str, str]]:
    """The README's two households (``ids``) as PostgreSQL tables whose columns have the types
    given (``households``: household_id and the money columns, in order; ``members``: the
    types of household_id, relation and monthly_income), read whole by ``minzheng batch``:
    the households' answers."""
    dsn, schema, conn, cur = pg_schema
    money = {"assets_financial": (5000, 0), "expenses_medical_12m": (0, 0)}
    cur.execute(f"CREATE TABLE {schema}.h ({', '.join(f'{c} {t}' for c, t in households.items())})")
    for k, hid in enumerate(ids):
        values = [f"'{hid}'", *(str(money[c][k]) for c in households if c != "household_id")]
        cur.execute(f"INSERT INTO {schema}.h VALUES ({', '.join(values)})")
    cur.execute(
        f"CREATE TABLE {schema}.m (household_id {members['household_id']}, member_id text, "
        f"relation {members['relation']}, age integer, monthly_income {members['monthly_income']})"
    )
    one, two = ids
    cur.execute(
        f"INSERT INTO {schema}.m VALUES ('{one}', 'a', 'head', 45, 1200), "
        f"('{one}', 'b', 'spouse', 43, 800), ('{one}', 'c', 'child', 12, 0), "
        f"('{two}', 'x', 'head', 70, 300)"
    )
    conn.commit()
    out = tmp_path / "o.csv"
    code, output = _batch(dsn, str(out), "--table", f"{schema}.h", "--members-table", f"{schema}.m")
    assert code == 0, output
    assert "2 households read 读取 = 2 evaluated 已评估 + 0 rejected 拒绝" in output
    return _answers(out)


def _parquet_register(folder: Path, households: pa.Table, members: pa.Table) -> Path:
    folder.mkdir()
    pq.write_table(households, folder / "households.parquet")
    pq.write_table(members, folder / "members.parquet")
    return folder


def test_integer_money_narrower_than_64_bits_as_databases_export_it(tmp_path):
    """Money as ``int32`` (PostgreSQL ``integer``, DuckDB ``INTEGER``, a pandas int32 column)
    or unsigned (DuckDB ``UINTEGER``, ``UBIGINT`` ids) ended in an OverflowError traceback:
    the 12-digit limit was compared in the column's own type."""
    households = pa.table(
        {
            "household_id": pa.array([1001, 1002], pa.uint64()),
            "assets_financial": pa.array([5000, 0], pa.int32()),
        }
    )
    members = pa.table(
        {
            "household_id": pa.array([1001, 1001, 1001, 1002], pa.uint64()),
            "member_id": ["a", "b", "c", "x"],
            "relation": ["head", "spouse", "child", "head"],
            "age": pa.array([45, 43, 12, 70], pa.uint8()),
            "monthly_income": pa.array([1200, 800, 0, 300], pa.uint32()),
        }
    )
    folder = _parquet_register(tmp_path / "reg", households, members)
    assert _answers(_run(folder, tmp_path)) == README


def test_household_ids_pandas_wrote_as_floats_in_a_csv(tmp_path, route):
    """pandas writes an id column with a gap (NaN) as floats, and its CSV says ``1001.0``: the
    same Parquet column was already read as 1001, the CSV's text matched no household. A whole
    column of them refused every household; one such row (frames concatenated upstream) left
    1001 evaluated with two of its three members, 1090.00 instead of 1435.00, nothing on its
    row. ``1001.0`` is the number 1001 and is read so."""
    floats = MEMBERS.replace("\n1001,", "\n1001.0,").replace("\n1002,", "\n1002.0,")
    folder = _csv_register(tmp_path / "all", HOUSEHOLDS, floats)
    out = tmp_path / "all.csv"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    assert "2 households read 读取 = 2 evaluated 已评估 + 0 rejected 拒绝" in output
    assert _answers(out) == README
    one = MEMBERS.replace("\n1001,b,", "\n1001.0,b,")
    folder = _csv_register(tmp_path / "one", HOUSEHOLDS, one)
    out = tmp_path / "one.csv"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    assert "2 households read 读取 = 2 evaluated 已评估 + 0 rejected 拒绝" in output
    assert _answers(out) == README
    assert not out.with_name(out.name + ".rejects.jsonl").read_text(encoding="utf-8")


def test_dates_a_database_exported_as_text_at_midnight(tmp_path):
    """A ``date`` or ``timestamp`` column exported as text (DuckDB's and PostgreSQL's CSV,
    pandas' of a datetime column) reads ``1979-01-01 00:00:00``: every such row was refused.
    Midnight is the date, in its own zone when an offset is given, as pandas writes a
    datetime with a zone (the README's household: ages 45, 43 and 12 on 2024-06-01); a time of
    day other than midnight (a date converted to UTC) still refuses its row, quoting the cell."""
    members = (
        "household_id,member_id,relation,birth_date,monthly_income\n"
        "1001,a,head,1979-01-01 00:00:00,1200\n"
        "1001,b,spouse,1981/01/01 00:00:00.000,800\n"
        "1001,c,child,2012-01-01 00:00:00+08:00,0\n"
        "1002,x,head,1953-12-31 16:00:00+00:00,300\n"
    )
    folder = _csv_register(tmp_path / "reg", HOUSEHOLDS, members)
    out = _run(folder, tmp_path, evaluated=1)
    assert _answers(out) == README[:1]
    assert _rejects(out)["1002"] == [
        "members[x].birth_date: Input should be a valid date (YYYY-MM-DD) "
        "(got '1953-12-31 16:00:00+00:00')"
    ]


def test_birth_dates_stored_with_a_time_zone_are_not_read_a_day_early(tmp_path):
    """A ``timestamptz`` birth date (PostgreSQL, DuckDB; pandas ``datetime64[ns, UTC]``):
    2006-06-02 in 浙江 is 2006-06-01 16:00 UTC, and its date was read as 2006-06-01, so a
    child of 17 was taken as 18 on 2024-06-01, with nothing said. A time at midnight in its
    own zone is its date (the README's household with its birth dates in Asia/Shanghai: ages
    45, 43, 12, 1435.00); any other time (the date depends on the zone) refuses its row with
    the fix."""
    import pandas as pd

    born = pd.to_datetime(["1979-01-01", "1981-01-01", "2012-01-01", "2006-06-02"])
    households = pa.table({"household_id": ["1001", "1002"], "assets_financial": ["5000", "0"]})
    for zone in ("Asia/Shanghai", "UTC"):
        members = pa.table(
            {
                "household_id": ["1001", "1001", "1001", "1002"],
                "member_id": ["a", "b", "c", "x"],
                "relation": ["head", "spouse", "child", "head"],
                "birth_date": pa.array(born.tz_localize("Asia/Shanghai").tz_convert(zone)),
                "monthly_income": ["1200", "800", "0", "300"],
            }
        )
        folder = _parquet_register(tmp_path / zone.replace("/", "_"), households, members)
        out = tmp_path / f"{zone.replace('/', '_')}.csv"
        code, output = _batch(str(folder), str(out))
        assert code == 0, output
        if zone == "Asia/Shanghai":
            assert _answers(out)[0] == README[0]
            continue
        assert "2 households read 读取 = 0 evaluated 已评估 + 2 rejected 拒绝" in output
        assert _rejects(out)["1002"] == [
            "members[x].birth_date: a time of day in time zone UTC (got '2006-06-01 16:00:00'), "
            "whose date depends on the zone: store the date alone (date, YYYY-MM-DD)"
        ]


def test_postgresql_money_columns_are_read_in_yuan_not_fen(tmp_path, pg_schema):
    """PostgreSQL's ``money`` type reaches Arrow as an int64 of fen (ADBC): 1,200.00 元 came as
    120000 and was read as 120,000 元, so the README's household was ineligible with 0.00 and
    nothing said. A ``money`` column is now read as the database's own ``numeric`` of it.
    (An ``integer`` column of 元 beside it, ``expenses_medical_12m`` here, was a traceback.)"""
    households = {"household_id": "text", "assets_financial": "money"}
    households["expenses_medical_12m"] = "integer"
    members = {"household_id": "text", "relation": "text", "monthly_income": "money"}
    assert _readme_in_postgresql(pg_schema, tmp_path, households, members) == README


def test_ids_pandas_kept_as_floats_of_18_digits_refuse_the_file_with_the_fix(tmp_path):
    """身份证号 as household and member ids, in a float column (pandas makes one of a column
    with a gap): a float keeps about 15 digits, so 330503197901010011 is 330503197901009984 in
    the file. Its household was evaluated under the id '3.3050319790101005e+17', a row no one
    can join back to the city's records. The file is refused, naming the column and the fix."""
    import numpy as np
    import pandas as pd

    folder = tmp_path / "reg"
    folder.mkdir()
    ids = [330503197901010011.0, 330503197901010029.0, np.nan]
    pd.DataFrame({"household_id": ids, "assets_financial": ["5000", "0", "0"]}).to_parquet(
        folder / "households.parquet"
    )
    members = pd.DataFrame(
        {
            "household_id": [ids[0], ids[0], ids[0], ids[1]],
            "member_id": ["a", "b", "c", "x"],
            "age": [45, 43, 12, 70],
        }
    )
    members.to_parquet(folder / "members.parquet")
    code, output = _batch(str(folder), str(tmp_path / "o.csv"))
    assert code == 2, output
    assert output.strip().splitlines()[-1] == (
        "error: households.parquet: column 'household_id' holds ids as binary floats of 16 or "
        "more digits (330503197901009984), which keep only about 15: an 18-digit 身份证号 is "
        "already another number; write the ids as text"
    )
    members["member_id"] = [330503197901010011.0, 330503198101010022.0, np.nan, 1.0]
    members["household_id"] = ["1001", "1001", "1001", "1002"]
    members.to_parquet(folder / "members.parquet")
    pd.DataFrame({"household_id": ["1001", "1002"]}).to_parquet(folder / "households.parquet")
    code, output = _batch(str(folder), str(tmp_path / "o2.csv"))
    assert code == 2, output
    assert output.strip().splitlines()[-1] == (
        "error: members.parquet: column 'member_id' holds ids as binary floats of 16 or more "
        "digits (330503197901009984), which keep only about 15: an 18-digit 身份证号 is "
        "already another number; write the ids as text"
    )


def test_money_pandas_computed_in_floats_and_wrote_to_csv(tmp_path):
    """pandas sums money in binary floats and its CSV writes each float's shortest repr: a
    spouse's wage 700.1 + allowance 100.2 is ``800.3000000000001``. The same frame in Parquet
    reads 800.30 (a float within a few units in the last place of a fen); from the CSV the
    household was refused, 'more than 2 decimal places'. Now a text of many decimals is judged
    as the float it is: 1001 gets 3 × 1145 − (1200 + 800.30) = 1434.70; 300.004 (not a float
    near a fen) still refuses 1002."""
    import pandas as pd

    members = pd.DataFrame(
        {
            "household_id": ["1001", "1001", "1001", "1002"],
            "member_id": ["a", "b", "c", "x"],
            "relation": ["head", "spouse", "child", "head"],
            "age": [45, 43, 12, 70],
            "monthly_income": [1200.0, 700.1 + 100.2, 0.0, 300.004],
        }
    )
    folder = _csv_register(tmp_path / "reg", HOUSEHOLDS, members.to_csv(index=False))
    assert "800.3000000000001" in (folder / "members.csv").read_text(encoding="utf-8")
    out = _run(folder, tmp_path, evaluated=1)
    assert _answers(out) == [("1001", "eligible", "1434.70")]
    assert _rejects(out)["1002"] == ["members[x].monthly_income: more than 2 decimal places"]


def test_postgresql_uuid_household_ids_are_read_as_their_text(tmp_path, pg_schema):
    """Households keyed by ``uuid`` (a usual key in a city's own database): ADBC gives 16
    bytes, and the whole register was refused ('has type Binary, not text'). They are read as
    their text; the README's household, 1435.00."""
    one, two = "6f1c2a3e-0000-4000-8000-000000001001", "6f1c2a3e-0000-4000-8000-000000001002"
    households = {"household_id": "uuid", "assets_financial": "numeric"}
    members = {"household_id": "uuid", "relation": "text", "monthly_income": "numeric"}
    answers = _readme_in_postgresql(pg_schema, tmp_path, households, members, (one, two))
    assert answers == [(one, "eligible", "1435.00"), (two, "undetermined", "0.00")]


def test_yes_no_flags_pandas_wrote_as_floats_in_a_csv(tmp_path):
    """A 0/1 flag column with a gap is floats in pandas, and its CSV says ``1.0``/``0.0``: the
    same column in Parquet is read as yes/no, from the CSV every such row was refused ('unable
    to interpret input'). 1001: the README's household with ``employed`` given, 1435.00."""
    import numpy as np
    import pandas as pd

    members = pd.DataFrame(
        {
            "household_id": ["1001", "1001", "1001", "1002"],
            "member_id": ["a", "b", "c", "x"],
            "relation": ["head", "spouse", "child", "head"],
            "age": [45, 43, 12, 70],
            "monthly_income": [1200, 800, 0, 300],
            "employed": [1, 1, 0, np.nan],
        }
    )
    folder = _csv_register(tmp_path / "reg", HOUSEHOLDS, members.to_csv(index=False))
    assert "1001,b,spouse,43,800,1.0\n" in (folder / "members.csv").read_text(encoding="utf-8")
    assert _answers(_run(folder, tmp_path)) == README


def test_columns_pandas_keeps_as_categories(tmp_path):
    """``df.astype("category")`` (pandas' way to save memory on repeated values) is a
    dictionary column in Parquet, read as Categorical: money, yes/no and dates held so
    refused the whole file ('has type Categorical, not money'). They are read as their text:
    the README's household, 1435.00."""
    import pandas as pd

    folder = tmp_path / "reg"
    folder.mkdir()
    pd.DataFrame({"household_id": ["1001", "1002"], "assets_financial": ["5000", "0"]}).astype(
        "category"
    ).to_parquet(folder / "households.parquet")
    pd.DataFrame(
        {
            "household_id": ["1001", "1001", "1001", "1002"],
            "member_id": ["a", "b", "c", "x"],
            "relation": ["head", "spouse", "child", "head"],
            "birth_date": ["1979-01-01", "1981-01-01", "2012-01-01", "1954-01-01"],
            "monthly_income": ["1200", "800", "0", "300"],
            "employed": ["true", "true", "false", "false"],
        }
    ).astype("category").to_parquet(folder / "members.parquet")
    assert _answers(_run(folder, tmp_path)) == README


def test_postgresql_char_columns_are_read_without_their_padding(tmp_path, pg_schema):
    """``char(n)`` pads its text with spaces to n, which PostgreSQL ignores ('1001' =
    '1001    ') but ADBC passes on: households keyed by ``char(8)`` matched no member keyed by
    ``varchar``, and a ``char(8)`` relation 'head    ' was no relation: the whole register
    was refused. Read as PostgreSQL reads them: the README's household, 1435.00."""
    households = {"household_id": "char(8)", "assets_financial": "numeric"}
    members = {"household_id": "varchar(20)", "relation": "char(8)", "monthly_income": "numeric"}
    assert _readme_in_postgresql(pg_schema, tmp_path, households, members) == README


def test_dates_a_database_keeps_as_numbers(tmp_path):
    """Birth dates as an integer ``yyyymmdd`` column (how many office databases keep dates,
    exported as int64, or as floats by pandas with a gap): the whole file was refused ('has
    type Int64, not a date'), while the same digits as text were read. Read as that text:
    the README's household, 1435.00; a number that is no date (1954) refuses its row."""
    members = pa.table(
        {
            "household_id": ["1001", "1001", "1001", "1002"],
            "member_id": ["a", "b", "c", "x"],
            "relation": ["head", "spouse", "child", "head"],
            "birth_date": pa.array([19790101, 19810101, 20120101, 1954], pa.int64()),
            "monthly_income": ["1200", "800", "0", "300"],
        }
    )
    households = pa.table({"household_id": ["1001", "1002"], "assets_financial": ["5000", "0"]})
    folder = _parquet_register(tmp_path / "reg", households, members)
    out = _run(folder, tmp_path, evaluated=1)
    assert _answers(out) == README[:1]
    assert _rejects(out)["1002"] == [
        "members[x].birth_date: Input should be a valid date (YYYY-MM-DD) (got '1954')"
    ]


def test_a_table_written_as_a_folder_of_parts_is_one_line_with_the_fix(tmp_path):
    """Spark and DuckDB write a table as a folder of part files (``households.parquet/
    part-0.parquet``): the error said there was no households.parquet at all."""
    folder = tmp_path / "reg"
    for table in ("households", "members"):
        (folder / f"{table}.parquet").mkdir(parents=True)
    pq.write_table(
        pa.table({"household_id": ["1001"]}), folder / "households.parquet" / "part-0.parquet"
    )
    code, output = _batch(str(folder), str(tmp_path / "o.csv"))
    assert code == 2
    assert output.strip() == (
        f"error: {folder / 'households.parquet'}: a folder of parts (as Spark and DuckDB write "
        "a table): join the parts into one file per table, households.parquet and "
        "members.parquet, in a folder of their own"
    )


def test_uuid_ids_in_parquet_are_read_as_their_text(tmp_path):
    """DuckDB, Spark and pyarrow write a ``uuid`` to Parquet as 16 bytes, read as binary: a
    register keyed by uuid was refused whole ('has type Binary, not text'). Read as the uuid's
    text, in either table beside the other's text: the README's household, 1435.00."""
    import uuid

    one, two = uuid.UUID(int=1001), uuid.UUID(int=1002)
    households = pa.table(
        {
            "household_id": pa.array([one.bytes, two.bytes], pa.uuid()),
            "assets_financial": ["5000", "0"],
        }
    )
    members = pa.table(
        {
            "household_id": [str(one)] * 3 + [str(two)],
            "member_id": pa.array([uuid.UUID(int=i).bytes for i in range(4)], pa.uuid()),
            "relation": ["head", "spouse", "child", "head"],
            "age": [45, 43, 12, 70],
            "monthly_income": ["1200", "800", "0", "300"],
        }
    )
    folder = _parquet_register(tmp_path / "reg", households, members)
    out = tmp_path / "o.csv"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    assert "2 households read 读取 = 2 evaluated 已评估 + 0 rejected 拒绝" in output
    assert _answers(out) == [(str(one), "eligible", "1435.00"), (str(two), "undetermined", "0.00")]


def test_a_negative_zero_pandas_wrote_is_zero(tmp_path):
    """A net income pandas computed and rounded (``(earned - deducted).round(2)`` of a tiny
    negative difference) is ``-0.0``, and its CSV says so: the same float in Parquet reads 0,
    from the CSV the row was refused ('greater than or equal to 0'). The README's child's
    income as ``-0.0``: 1435.00; ``-0.01`` still refuses its row."""
    import pandas as pd

    income = (pd.Series([1200.0, 800.0, 0.1 + 0.2, 300.0]) - [0, 0, 0.3 + 1e-9, 300.01]).round(2)
    members = pd.DataFrame(
        {
            "household_id": ["1001", "1001", "1001", "1002"],
            "member_id": ["a", "b", "c", "x"],
            "relation": ["head", "spouse", "child", "head"],
            "age": [45, 43, 12, 70],
            "monthly_income": income,
        }
    )
    folder = _csv_register(tmp_path / "reg", HOUSEHOLDS, members.to_csv(index=False))
    assert "1001,c,child,12,-0.0\n" in (folder / "members.csv").read_text(encoding="utf-8")
    out = tmp_path / "o.csv"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    assert _answers(out) == README[:1]
    assert _rejects(out)["1002"] == [
        "members[x].monthly_income: Input should be greater than or equal to 0"
    ]


def test_postgresql_timestamptz_birth_dates_are_read_as_the_database_shows_them(
    tmp_path, pg_schema
):
    """A ``timestamptz`` birth date on a server in Asia/Shanghai: 2006-06-02 is shown as
    ``2006-06-02 00:00:00+08`` but ADBC gives it in UTC, 2006-06-01 16:00, whose date was a
    day early (a child of 17 taken as 18 on 2024-06-01, silently; since refused as a time of
    day). Read in the database's own time zone, it is its date: the README's household
    (born 1979-01-01, 1981-01-01, 2012-01-01: 1435.00) is judged, and 1002's 17-year-old's
    birth date is 2006-06-02 (checked in the members snapshot's own reading)."""
    dsn, schema, conn, cur = pg_schema
    dsn += "?options=-c%20TimeZone%3DAsia/Shanghai"  # (a server set up in 浙江)
    cur.execute(f"CREATE TABLE {schema}.h (household_id text, assets_financial numeric)")
    cur.execute(f"INSERT INTO {schema}.h VALUES ('1001', 5000), ('1002', 0)")
    cur.execute(
        f"CREATE TABLE {schema}.m (household_id text, member_id text, relation text, "
        "birth_date timestamptz, monthly_income numeric)"
    )
    conn.commit()
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(dsn) as local:  # entered in the server's zone
        c = local.cursor()
        c.execute(
            f"INSERT INTO {schema}.m VALUES ('1001', 'a', 'head', '1979-01-01', 1200), "
            "('1001', 'b', 'spouse', '1981-01-01', 800), "
            "('1001', 'c', 'child', '2012-01-01', 0), ('1002', 'x', 'head', '2006-06-02', 300)"
        )
        local.commit()
        c.close()
    out = tmp_path / "o.csv"
    code, output = _batch(dsn, str(out), "--table", f"{schema}.h", "--members-table", f"{schema}.m")
    assert code == 0, output
    assert "2 households read 读取 = 2 evaluated 已评估 + 0 rejected 拒绝" in output
    assert _answers(out)[0] == README[0]
    from minzheng_rules.io._database import open_database

    source = open_database(dsn, f"{schema}.h", f"{schema}.m", None, None)
    births = dict(source.mtable.read_all().select("member_id", "birth_date").iter_rows())
    assert births["x"].date().isoformat() == "2006-06-02"


def test_a_trailing_comma_on_every_line_is_named_in_the_warning(tmp_path):
    """An export that ends every line with a comma has a last column with no name: it is left
    out, and the warning said 'columns not used: ' followed by nothing. The README's
    household is read whole: 1435.00."""
    folder = _csv_register(
        tmp_path / "reg", HOUSEHOLDS.replace("\n", ",\n"), MEMBERS.replace("\n", ",\n")
    )
    out = tmp_path / "o.csv"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    assert "members.csv: columns not used (neither mapped nor ignored): (a column with no " in (
        " ".join(output.split())
    )
    assert _answers(out) == README
