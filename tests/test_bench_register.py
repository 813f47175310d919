"""The hand-written NumPy contender of benchmarks/bench_register.py answers what ``minzheng
batch`` answers on the register the benchmark writes (shuffled members, decimal money), to the
fen; otherwise its speed ratio would compare different work."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from minzheng_rules import load_pack
from minzheng_rules.io._batch import Batch
from minzheng_rules.io._readers import open_register

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.handwritten_numpy import evaluate  # noqa: E402
from benchmarks.register import write_register  # noqa: E402

PROGRAMS = ["dibao", "dibao_edge", "tekun"]


def _answers(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "household_id",
        *[pl.col(f"{p}_status") for p in PROGRAMS],
        *[(pl.col(f"{p}_amount").cast(pl.Float64) * 100).round().cast(pl.Int64) for p in PROGRAMS],
    ).sort("household_id")


def test_the_numpy_baseline_agrees_with_minzheng_batch(tmp_path):
    reg = tmp_path / "reg"
    write_register(reg, 3000, seed=7)
    members = pq.read_table(reg / "members.parquet")
    # the register is shaped as the benchmark promises: members not grouped by household
    ids = members["household_id"].to_pylist()
    assert any(a > b for a, b in itertools.pairwise(ids))
    out = tmp_path / "mz.parquet"
    summary = Batch(
        open_register(reg),
        out,
        load_pack(REPO / "benchmarks" / "packs" / "huzhou_core"),
        dt.date(2024, 6, 1),
    ).run()
    assert summary.evaluated == 3000 and summary.rejected == 0
    got = _answers(pl.read_parquet(out))
    want = _answers(
        pl.from_arrow(
            evaluate(pq.read_table(reg / "households.parquet"), members)  # type: ignore[arg-type]
        )
    )
    assert got.equals(want)
    # and the register exercises every program both ways
    for p in PROGRAMS:
        assert set(got[f"{p}_status"]) == {"eligible", "ineligible"}, p


def test_the_floors_under_the_full_pack_are_measured_part_by_part(tmp_path, capsys):
    """The full-pack figure comes with its floors (imports, the reader alone, the writer
    alone), each from a child that really did that part: the reader's child read every
    household, the writer's wrote a file that reads back as the batch's output."""
    from benchmarks import bench_register

    parts = bench_register.full_pack(tmp_path, 300, "2", "goal", floors=True)
    assert parts is not None and parts["reader"].stderr.split()[0] == "300"
    printed = capsys.readouterr().out
    for part in ("imports", "reader", "writer"):
        assert any(line.split()[:1] == [part] for line in printed.splitlines()), printed
    again = pl.read_parquet(tmp_path / "again.parquet")
    assert again.equals(pl.read_parquet(tmp_path / "full300.parquet"))
