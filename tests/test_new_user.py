"""Issue 19 tried as a new user at a city's civil-affairs office would, from the docs alone: a
register pandas wrote, an Excel export with Chinese headers and codes, a GBK CSV, PostgreSQL.
Each test here failed before the fix it guards (see the branch ``newuser``)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from minzheng_rules.cli.main import app

runner = CliRunner()
ON = "2024-06-01"


def _batch(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, ["batch", *args, "--pack", "huzhou", "--date", ON])
    return r.exit_code, r.output


def _rejects(out: Path) -> dict[str, list[str]]:
    lines = out.with_name(out.name + ".rejects.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["household_id"]: r["reasons"] for r in map(json.loads, lines)}


def _csv_register(folder: Path, households: str, members: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "households.csv").write_bytes(households.encode(encoding))
    (folder / "members.csv").write_bytes(members.encode(encoding))
    return folder


@pytest.mark.parametrize("suffix", ["parquet", "csv", "xlsx", "jsonl"])
def test_a_register_whose_every_household_is_refused_still_writes_its_output(tmp_path, suffix):
    """Every household refused: an empty results file and the rejects, not an Arrow schema
    mismatch (the empty table written at the end had text lists, the chunk's coded ones)."""
    folder = _csv_register(
        tmp_path / "reg",
        "household_id,assets_financial\nh1,abc\n",
        "household_id,member_id,age\nh1,a,30\n",
    )
    out = tmp_path / f"out.{suffix}"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    assert "1 households read 读取 = 0 evaluated 已评估 + 1 rejected 拒绝" in output
    assert out.is_file()
    if suffix == "parquet":
        assert pl.read_parquet(out).height == 0
    assert list(_rejects(out)) == ["h1"]


def test_a_member_with_neither_age_nor_birth_date_is_named_with_the_field(tmp_path):
    """The member's label and its problem read as one path and a sentence
    (``members[z].age: give 'age' or 'birth_date'``), not ``members[z].give …``."""
    folder = _csv_register(
        tmp_path / "reg",
        "household_id\nh1\n",
        "household_id,member_id,age,disability_type\nh1,z,,physical\n",
    )
    out = tmp_path / "out.parquet"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    assert _rejects(out)["h1"] == [
        "members[z].age: give 'age' or 'birth_date'",
        "members[z].disability_grade: 'disability_type' needs a 'disability_grade'",
    ]
