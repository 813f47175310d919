"""``minzheng synth`` and ``minzheng batch`` end to end: the output's schema and exact amounts,
the same answers in every format, rejects with reasons and counts that reconcile, no output
file after a crash, and a resumed run that finishes what an interrupted one started."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from minzheng_rules import load_pack
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.cli.main import app
from minzheng_rules.io import _batch as B
from minzheng_rules.io._readers import open_register
from minzheng_rules.model._household import parse_household
from minzheng_rules.model._results import Status
from minzheng_rules.model._values import money

runner = CliRunner()


class Crash(Exception):
    """Stands for a crash or Ctrl-C in the middle of a run."""


ON = "2024-06-01"


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reg")
    r = runner.invoke(
        app,
        [
            "synth",
            "-n",
            "2500",
            "--pack",
            "huzhou",
            "--out",
            str(folder),
            "--seed",
            "5",
            "--date",
            ON,
        ],
    )
    assert r.exit_code == 0, r.output
    return folder


def test_batch_writes_exact_answers_and_a_summary(register, tmp_path):
    out = tmp_path / "out.parquet"
    r = runner.invoke(
        app,
        [
            "batch",
            str(register),
            str(out),
            "--pack",
            "huzhou",
            "--date",
            ON,
            "--chunk-size",
            "1000",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "2,500 households read" in r.output and "最低生活保障" in r.output
    schema = pq.read_schema(out)
    assert str(schema.field("dibao_amount").type) == "decimal128(18, 2)"
    assert str(schema.field("dibao_status").type) == "string"
    assert str(schema.field("tags").type) == "list<element: string>"
    assert str(schema.field("needs").type) == "list<element: string>"
    # amounts stored as the format's INT64 decimals (cheaper to write), read back as above
    column = pq.ParquetFile(out).schema.column(schema.get_field_index("dibao_amount"))
    assert (
        column.physical_type == "INT64"
        and str(column.logical_type) == "Decimal(precision=18, scale=2)"
    )
    summary = json.loads(out.with_name("out.parquet.summary.json").read_text())
    assert summary["reconciles"] and summary["households"] == 2500
    table = pq.read_table(out).to_pylist()
    assert len(table) == 2500
    # spot-check against the reference evaluator
    from minzheng_rules.model._convert import frames_to_dicts

    pack = load_pack("huzhou")
    (chunk,) = list(open_register(register).chunks(2500))
    rows = list(range(0, 2500, 25))
    for i, d in zip(rows, frames_to_dicts(chunk.households, chunk.members, rows), strict=True):
        ev = evaluate(pack, parse_household(d), dt.date.fromisoformat(ON))
        for pid, o in ev.programs.items():
            assert table[i][f"{pid}_status"] == o.status.value
            if o.unit.startswith("CNY"):
                want = money(o.amount) if o.status is Status.eligible else Decimal("0.00")
                assert table[i][f"{pid}_amount"] == want
        assert table[i]["needs"] == ev.needs
    eligible = sum(1 for row in table if row["dibao_status"] == "eligible")
    assert summary["programs"]["dibao"]["eligible"] == eligible
    total = sum((row["dibao_amount"] for row in table), Decimal(0))
    assert Decimal(summary["programs"]["dibao"]["amount"]) == total
    for pid in ("dibao", "tekun", "medical_relief"):
        unknown = sum(1 for row in table if row[f"{pid}_status"] == "undetermined")
        assert summary["programs"][pid]["undetermined"] == unknown
    assert any(p["undetermined"] for p in summary["programs"].values())


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_output_format_holds_the_same_answers(register, tmp_path, fmt):
    a, b = tmp_path / "a.parquet", tmp_path / f"b.{fmt}"
    for out in (a, b):
        r = runner.invoke(app, ["batch", str(register), str(out), "--pack", "huzhou", "--date", ON])
        assert r.exit_code == 0, r.output
    want = pl.read_parquet(a).with_columns(pl.col(pl.Decimal).cast(pl.String))
    if fmt == "csv":
        got = pl.read_csv(b, infer_schema=False).with_columns(
            pl.col("tags", "needs").str.json_decode(pl.List(pl.String))
        )
    else:
        got = pl.read_ndjson(b, infer_schema_length=None)
    got = got.select(want.columns).cast(want.schema)
    assert got.equals(want)


def test_refused_rows_go_to_the_rejects_file(tmp_path, route):
    (tmp_path / "households.csv").write_text(
        "household_id,assets_financial\nok,100\nbad,-1\nlonely,5\n", encoding="utf-8"
    )
    (tmp_path / "members.csv").write_text(
        "household_id,member_id,age,monthly_income\nok,a,40,900\nbad,a,30,0\n", encoding="utf-8"
    )
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["batch", str(tmp_path), str(out), "--pack", "huzhou", "--date", ON])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in out.with_name("out.csv.rejects.jsonl").read_text().splitlines()]
    assert {x["household_id"] for x in lines} == {"bad", "lonely"}
    assert all(x["reasons"] for x in lines)
    summary = json.loads(out.with_name("out.csv.summary.json").read_text())
    assert (summary["households"], summary["evaluated"], summary["rejected"]) == (3, 1, 2)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_an_interrupted_run_leaves_no_output_and_resumes(
    register, tmp_path, monkeypatch, route, fmt
):
    out = tmp_path / f"r.{fmt}"
    pack = load_pack("huzhou")
    on = dt.date.fromisoformat(ON)
    calls = []
    crashes = [True]
    original = B.Batch._chunk

    def failing(self, chunk):
        calls.append(chunk.index)
        if chunk.index == 2 and crashes:
            crashes.pop()
            raise Crash
        return original(self, chunk)

    monkeypatch.setattr(B.Batch, "_chunk", failing)
    with pytest.raises(Crash):
        B.Batch(open_register(register), out, pack, on, chunk_size=600).run()
    assert not out.exists()
    assert (tmp_path / f"r.{fmt}.parts" / "manifest.json").exists()
    calls.clear()
    summary = B.Batch(open_register(register), out, pack, on, chunk_size=600).run()
    assert calls == [2, 3, 4]  # chunks 0 and 1 were kept from the first run
    assert summary.reconciles and summary.households == 2500
    assert not (tmp_path / f"r.{fmt}.parts").exists()
    monkeypatch.setattr(B.Batch, "_chunk", original)
    fresh = tmp_path / f"fresh.{fmt}"
    B.Batch(open_register(register), fresh, pack, on, chunk_size=600).run()
    if fmt == "parquet":  # the same columns, types and values as the uninterrupted run's
        assert pq.read_table(out).equals(pq.read_table(fresh))
        assert pl.read_parquet(out).equals(pl.read_parquet(fresh))
    else:  # the same text
        assert out.read_bytes() == fresh.read_bytes()
    rejects = f"{out.name}.rejects.jsonl", f"{fresh.name}.rejects.jsonl"
    assert (tmp_path / rejects[0]).read_bytes() == (tmp_path / rejects[1]).read_bytes()


def test_a_failed_write_on_the_writer_thread_stops_the_run_and_resumes(register, tmp_path):
    """Chunks are kept and written on another thread: a failure there (a full disk, say) still
    stops the run with that error, leaves no output, and the chunks kept before it resume."""
    out = tmp_path / "w.parquet"
    pack, on = load_pack("huzhou"), dt.date.fromisoformat(ON)
    original = B.Batch._store

    def failing(self, index, *args):
        if index == 1:
            raise OSError("No space left on device")
        return original(self, index, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(B.Batch, "_store", failing)
        with pytest.raises(OSError, match="No space"):
            B.Batch(open_register(register), out, pack, on, chunk_size=600).run()
    assert not out.exists()
    manifest = json.loads((tmp_path / "w.parquet.parts" / "manifest.json").read_text())
    assert list(manifest["chunks"]) == ["0"]
    resumed = B.Batch(open_register(register), out, pack, on, chunk_size=600)
    assert resumed.done == 1
    assert resumed.run().reconciles
    fresh = tmp_path / "fresh.parquet"
    B.Batch(open_register(register), fresh, pack, on, chunk_size=600).run()
    assert pq.read_table(out).equals(pq.read_table(fresh))


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_chunks_answered_partly_by_the_reference_write_the_same_output(register, tmp_path, fmt):
    """A household born after the date is the reference evaluator's to refuse: its chunk's
    answers are the engine's merged with the reference's; the output is the same however the
    register is cut into chunks (types included: the writer takes every chunk's table)."""
    folder = tmp_path / "reg"
    folder.mkdir()
    households = pl.read_parquet(register / "households.parquet")
    households.write_parquet(folder / "households.parquet")
    members = pl.read_parquet(register / "members.parquet")
    late = households.get_column("household_id")[700]  # in the second chunk of 600
    born = pl.when(pl.col("household_id") == late).then(dt.date(2030, 1, 1))
    members.with_columns(born.otherwise(pl.col("birth_date")).alias("birth_date")).write_parquet(
        folder / "members.parquet"
    )
    pack, on = load_pack("huzhou"), dt.date.fromisoformat(ON)
    outs = [tmp_path / f"{size}.{fmt}" for size in (600, 2500)]
    for out, size in zip(outs, (600, 2500), strict=True):
        summary = B.Batch(open_register(folder), out, pack, on, chunk_size=size).run()
        assert summary.reconciles and (summary.evaluated, summary.rejected) == (2499, 1)
        assert summary.fallback > 0
        rejects = out.with_name(out.name + ".rejects.jsonl").read_text(encoding="utf-8")
        assert json.loads(rejects)["household_id"] == late
    if fmt == "parquet":
        assert str(pq.read_schema(outs[0]).field("needs").type) == "list<element: string>"
        assert pq.read_table(outs[0]).equals(pq.read_table(outs[1]))
    else:
        assert outs[0].read_bytes() == outs[1].read_bytes()


def _interrupted(register: Path, out: Path, monkeypatch) -> None:
    """A 湖州 run on 2024-06-01 that crashes at its first chunk: its parts are left behind."""

    def boom(self, chunk):
        raise Crash

    monkeypatch.setattr(B.Batch, "_chunk", boom)
    with pytest.raises(Crash):
        B.Batch(open_register(register), out, load_pack("huzhou"), dt.date(2024, 6, 1)).run()
    monkeypatch.undo()


def test_parts_from_an_older_version_are_not_resumed(register, tmp_path, monkeypatch):
    """Parts written by an older minzheng (another manifest version: e.g. tags and needs as
    text, not coded ids) are refused with the way out, not replayed into a mismatched table."""
    out = tmp_path / "x.parquet"
    _interrupted(register, out, monkeypatch)
    manifest = out.with_name(out.name + ".parts") / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["identity"]["version"] = B.MANIFEST_VERSION - 1
    manifest.write_text(json.dumps(data), encoding="utf-8")
    args = ["batch", str(register), str(out), "--pack", "huzhou", "--date", "2024-06-01"]
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and "another version" in r.output and "--restart" in r.output
    r = runner.invoke(app, [*args, "--restart"])
    assert r.exit_code == 0, r.output
    assert pq.read_table(out).num_rows == pl.read_parquet(register / "households.parquet").height


def test_a_run_with_other_settings_does_not_resume_silently(register, tmp_path, monkeypatch):
    out = tmp_path / "x.parquet"
    _interrupted(register, out, monkeypatch)
    r = runner.invoke(
        app, ["batch", str(register), str(out), "--pack", "huzhou", "--date", "2023-06-01"]
    )
    assert r.exit_code == 2 and "--restart" in r.output
    r = runner.invoke(
        app,
        ["batch", str(register), str(out), "--pack", "huzhou", "--date", "2023-06-01", "--restart"],
    )
    assert r.exit_code == 0, r.output


class _Watched:
    """A register whose chunks say when they are asked for (the read-ahead's contract)."""

    def __init__(self, chunks: list) -> None:
        import threading

        self.asked = threading.Event()
        self._chunks = chunks

    def in_memory(self) -> bool:
        return True

    def chunks(self, size, workdir=None):
        self.asked.set()
        yield from self._chunks


def test_the_read_ahead_reads_before_it_is_iterated_and_gives_every_chunk():
    source = _Watched(["first", "second"])
    ahead = B.read_ahead(source, 10)  # type: ignore[arg-type]
    assert ahead is not None
    assert source.asked.wait(5), "the first chunk was not asked for until iterated"
    assert list(ahead) == ["first", "second"]


def test_a_register_read_in_pieces_is_not_read_ahead(register, monkeypatch):
    """A big register's hash buckets go in the run's parts folder, which the batch makes (and
    --restart clears) first: no read before it."""
    import sys

    monkeypatch.setattr(sys.modules[open_register.__module__], "IN_MEMORY_BYTES", -1)
    assert B.read_ahead(open_register(register), 1000) is None


@pytest.mark.parametrize("problem", ["pack", "output"])
def test_a_batch_refused_after_its_read_began_ends_with_one_line(register, tmp_path, problem):
    """The register is read while the pack loads; an unknown pack, or an output that would
    overwrite the input, still ends the command with its one-line error and no output."""
    out = tmp_path / "out.parquet"
    if problem == "output":
        out = register / "households.parquet"
    pack = "no-such-pack" if problem == "pack" else "huzhou"
    r = runner.invoke(app, ["batch", str(register), str(out), "--pack", pack, "--date", ON])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    if problem == "pack":
        assert "no-such-pack" in r.output and not out.exists()
    else:
        assert "would overwrite the input register" in r.output
