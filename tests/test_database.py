"""A register in PostgreSQL: read from tables (or queries), results written back to a table in one
transaction, counts that reconcile and bad rows as rejects. Needs a server: ``.ci/run`` starts
one on the loopback and sets ``MINZHENG_TEST_PG`` (a ``postgresql://`` URL). With ``CI`` set the
test fails rather than skips when the server is missing."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from minzheng_rules import load_pack
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.cli.main import app
from minzheng_rules.model._household import parse_household

DSN = os.environ.get("MINZHENG_TEST_PG")
ON = dt.date(2024, 6, 1)


@pytest.fixture
def schema(pg_schema):
    _, name, conn, cur = pg_schema
    return name, conn, cur


HOUSEHOLDS = [
    ("h1", "1200.50", "330503"),
    ("h2", "0", None),
    ("h3", "50000", "330503"),
    ("h2", "10", None),  # the same id twice: both refused
    ("h4", "12.345", None),  # more than 2 decimal places
]
MEMBERS = [
    # household, member, relation, age, income (元; NULL: unknown)
    ("h3", "a", "head", 70, "2500.00"),
    ("h1", "a", "head", 44, "800"),
    ("h1", "b", "child", 12, "0"),
    ("h2", "a", "head", 80, "300"),
    ("h4", "a", "head", 30, "0"),
    ("h3", "b", "spouse", -3, "0"),  # a bad age: h3 refused
    ("hx", "a", "head", 30, "0"),  # no such household
]


def _fill(cur, schema):
    cur.execute(
        f"CREATE TABLE {schema}.households (household_id text, assets_financial numeric(16,3), hukou text)"
    )
    cur.execute(
        f"CREATE TABLE {schema}.members (household_id text, member_id text, relation text, "
        "age integer, monthly_income numeric(14,2))"
    )
    for hid, assets, hukou in HOUSEHOLDS:
        cur.execute(
            f"INSERT INTO {schema}.households VALUES ($1, $2::numeric, $3)", (hid, assets, hukou)
        )
    for row in MEMBERS:
        cur.execute(f"INSERT INTO {schema}.members VALUES ($1, $2, $3, $4, $5::numeric)", row)


def test_a_register_table_round_trip(schema, tmp_path):
    name, conn, cur = schema
    _fill(cur, name)
    conn.commit()
    local = tmp_path / "results.parquet"
    r = CliRunner().invoke(
        app,
        [
            "batch",
            DSN,
            str(local),
            "--table",
            f"{name}.households",
            "--members-table",
            f"{name}.members",
            "--out-table",
            f"{name}.results",
            "--pack",
            "huzhou",
            "--date",
            ON.isoformat(),
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "results.parquet.summary.json").read_text())
    assert (summary["households"], summary["evaluated"], summary["rejected"]) == (5, 1, 4)
    # hx's member has no household; h2's has two
    assert summary["rejected_members"] == 2 and summary["reconciles"]
    cur.execute(f"SELECT household_id, dibao_status, dibao_amount FROM {name}.results")
    rows = cur.fetchall()
    assert [x[0] for x in rows] == ["h1"]
    cur.execute(f"SELECT household_id, reasons FROM {name}.results_rejects ORDER BY household_id")
    refused = cur.fetchall()
    by_id: dict = {}
    for hid, reasons in refused:
        by_id.setdefault(hid, []).extend(reasons)
    assert set(by_id) == {"h2", "h3", "h4", "hx"}
    assert any("more than once" in x for x in by_id["h2"])
    assert any("age: Input should be greater than or equal to 0" in x for x in by_id["h3"])
    assert any("more than 2 decimal places" in x for x in by_id["h4"])
    assert any("no such household" in x for x in by_id["hx"])
    # the evaluated household's answer, from the reference evaluator on the same facts
    pack = load_pack("huzhou")
    ev = evaluate(
        pack,
        parse_household(
            {
                "id": "h1",
                "hukou": "330503",
                "assets": {"financial": "1200.50"},
                "members": [
                    {"id": "a", "relation": "head", "age": 44, "monthly_income": "800"},
                    {"id": "b", "relation": "child", "age": 12, "monthly_income": "0"},
                ],
            }
        ),
        ON,
    )
    dibao = ev.programs["dibao"]
    assert rows[0][1] == dibao.status.value
    want = dibao.amount if dibao.status.value == "eligible" else Decimal(0)
    assert Decimal(str(rows[0][2])) == want.quantize(Decimal("0.01"))


def test_a_query_register_and_a_failed_write_leave_the_old_results(schema, tmp_path):
    name, conn, cur = schema
    _fill(cur, name)
    cur.execute(f"CREATE TABLE {name}.results (kept text)")
    cur.execute(f"INSERT INTO {name}.results VALUES ('old')")
    conn.commit()
    args = [
        "batch",
        DSN,
        str(tmp_path / "r.parquet"),
        "--query",
        f"SELECT * FROM {name}.households WHERE household_id = 'h1'",
        "--members-query",
        f"SELECT * FROM {name}.members WHERE household_id = 'h1'",
        "--out-table",
        f"{name}.results",
        "--pack",
        "huzhou",
        "--date",
        ON.isoformat(),
    ]
    # a results table name the database refuses: nothing changes
    bad = [*args[:-6], "--out-table", "nosuchschema.results", *args[-4:]]
    r = CliRunner().invoke(app, bad)
    assert r.exit_code == 2 and "writing the results failed" in r.output
    cur.execute(f"SELECT kept FROM {name}.results")
    assert cur.fetchall() == [("old",)]
    conn.commit()  # end the read: its lock would hold up the next run's DROP TABLE
    # the same run again, now to a table that can be written: it resumes (the snapshot's
    # contents are the same) and publishes what the failed run evaluated
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "resuming" in r.output
    cur.execute(f"SELECT household_id FROM {name}.results")
    assert cur.fetchall() == [("h1",)]
    cur.execute(f"SELECT count(*) FROM {name}.results_rejects")
    assert cur.fetchall() == [(0,)]
