"""Spark in local mode gives the single-machine answers (same columns, same values), and its
``minzheng batch --engine spark`` writes the same files. Skipped with the reason when pyspark or
Java is missing; with CI set it fails instead, since CI installs both."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess

import polars as pl
import pytest
from typer.testing import CliRunner

from minzheng_rules.cli.main import app


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'minzheng-rules[spark]')"
    java = shutil.which("java")
    if java is None or subprocess.run([java, "-version"], capture_output=True).returncode != 0:
        return "no Java runtime (apt-get install openjdk-17-jre-headless)"
    return None


REASON = _missing()
if REASON and os.environ.get("CI"):
    pytest.fail(f"CI must run the Spark test: {REASON}", pytrace=False)
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

runner = CliRunner()
ON = "2024-06-01"


def test_spark_local_mode_matches_the_single_machine_batch(tmp_path):
    reg = tmp_path / "reg"
    r = runner.invoke(
        app,
        ["synth", "-n", "400", "--pack", "huzhou", "--out", str(reg), "--seed", "2", "--date", ON],
    )
    assert r.exit_code == 0, r.output
    members = pl.read_parquet(reg / "members.parquet")
    orphan = members.head(1).with_columns(pl.lit("nobody").alias("household_id"))
    pl.concat([members, orphan]).write_parquet(reg / "members.parquet")
    local, spark = tmp_path / "local.parquet", tmp_path / "spark.parquet"
    r = runner.invoke(app, ["batch", str(reg), str(local), "--pack", "huzhou", "--date", ON])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["batch", str(reg), str(spark), "--pack", "huzhou", "--date", ON, "--engine", "spark"]
    )
    assert r.exit_code == 0, r.output
    a = pl.read_parquet(local).sort("household_id")
    b = pl.read_parquet(spark).sort("household_id")
    assert a.schema == b.schema
    assert a.height == 400
    if not a.equals(b):
        diff = a.join(b, on="household_id", suffix="_spark").filter(
            pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_spark")) for c in a.columns[1:]])
        )
        raise AssertionError(f"{diff.height} rows differ:\n{diff.head(3).to_dicts()}")
    rejects = [
        json.loads(x)
        for x in spark.with_name("spark.parquet.rejects.jsonl").read_text().splitlines()
    ]
    assert [x["household_id"] for x in rejects] == ["nobody"]
    summary_local = json.loads(local.with_name("local.parquet.summary.json").read_text())
    assert summary_local["rejected_members"] == 1
