"""Registers past one machine: the vectorized backend inside Spark, one partition at a time.

    from minzheng_rules.spark import evaluate_spark
    results, rejects = evaluate_spark(households_df, members_df, "huzhou", dt.date(2024, 6, 1))

Each household row travels with its members (nested with ``collect_list``), and every
partition is evaluated by ``mapInArrow`` with the same compiled pack and the same validation as
``minzheng batch``, so the output has the same columns and the same answers. Rows refused by
validation or by the reference evaluator come back in ``rejects`` with their reasons.

The pack is named (a built-in or registered name, or a folder every executor can read), not
shipped as an object: each Python worker compiles it once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from minzheng_rules.model._columns import HOUSEHOLD_COLUMNS, HOUSEHOLD_ID, MEMBER_COLUMNS

REJECT = "_reject"
MEMBERS = "_members"


def _require_spark() -> Any:
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Spark needs the 'spark' extra: pip install 'minzheng-rules[spark]' (and Java 17+)"
        ) from e
    return SparkSession


@cache
def _compiled(pack_ref: str, on: str) -> Any:
    from minzheng_rules.backends.vectorized._engine import VectorizedPack
    from minzheng_rules.packs._pack import load_pack

    return VectorizedPack(load_pack(pack_ref), dt.date.fromisoformat(on))


def _pack_ref(pack: Any) -> str:
    if isinstance(pack, str):
        return pack
    from minzheng_rules.packs._discovery import available_packs

    known = available_packs()
    if pack.id in known and Path(known[pack.id]).resolve() == Path(pack.folder).resolve():
        return pack.id
    return str(Path(pack.folder).resolve())


def output_schema(pack_ref: str, on: dt.date) -> pa.Schema:
    """The Arrow schema of the results (and of ``minzheng batch``'s Parquet output), with the
    ``_reject`` column Spark uses to carry refused rows."""
    vp = _compiled(pack_ref, on.isoformat())
    fields = [pa.field(HOUSEHOLD_ID, pa.string())]
    for p in vp.programs:
        fields += [
            pa.field(f"{p.program}_status", pa.string()),
            pa.field(f"{p.program}_amount", pa.decimal128(18, p.scale)),
        ]
    fields += [
        pa.field("tags", pa.list_(pa.string())),
        pa.field("needs", pa.list_(pa.string())),
        pa.field(REJECT, pa.string()),
    ]
    return pa.schema(fields)


def _evaluate_nested(batch: pa.RecordBatch, pack_ref: str, on: str) -> pa.RecordBatch:
    """Households with a nested ``_members`` list → result rows (and refused rows)."""
    from minzheng_rules.io._batch import result_table
    from minzheng_rules.io._validate import assemble, clean

    vp = _compiled(pack_ref, on)
    schema = output_schema(pack_ref, dt.date.fromisoformat(on))
    table = pa.Table.from_batches([batch])
    nested = table.column(MEMBERS).combine_chunks()
    lens = pc_lengths(nested)
    members = (
        pl.from_arrow(
            pa.Table.from_arrays(
                [nested.flatten().field(i) for i in range(nested.type.value_type.num_fields)],
                names=[f.name for f in nested.type.value_type],
            )
        )
        if len(nested)
        else pl.DataFrame()
    )
    households = pl.from_arrow(table.drop_columns([MEMBERS]))
    assert isinstance(households, pl.DataFrame)
    hh_index = np.repeat(np.arange(len(lens)), lens)
    if isinstance(members, pl.DataFrame) and members.height:
        parent = households.get_column(HOUSEHOLD_ID).gather(hh_index)
        members = members.with_columns(parent.alias(HOUSEHOLD_ID))
    else:
        members = pl.DataFrame(schema={HOUSEHOLD_ID: pl.String, "member_id": pl.String})
    hc = clean(households, HOUSEHOLD_COLUMNS, "households")
    mc = clean(members, MEMBER_COLUMNS, "members")
    rows = np.arange(1, households.height + 1)
    good_h, good_m, rejects = assemble(hc, mc, hh_index, "households", "members", rows, rows)
    result = vp.evaluate(good_h, good_m)
    out = result_table(result.frame, vp.programs, "parquet")
    out = out.append_column(REJECT, pa.nulls(out.num_rows, pa.string()))
    refused = [(r.household_id, r.reasons) for r in rejects] + [
        (hid, [reason]) for _, hid, reason in result.rejected
    ]
    if refused:
        extra = {f.name: pa.nulls(len(refused), f.type) for f in schema}
        extra[HOUSEHOLD_ID] = pa.array([h for h, _ in refused], pa.string())
        extra[REJECT] = pa.array(
            [json.dumps(r, ensure_ascii=False) for _, r in refused], pa.string()
        )
        out = pa.concat_tables([out.cast(schema), pa.table(extra, schema=schema)])
    return (
        out.cast(schema).combine_chunks().to_batches()[0]
        if out.num_rows
        else pa.RecordBatch.from_pylist([], schema=schema)
    )


def pc_lengths(nested: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    return (
        pc.fill_null(pc.list_value_length(nested), 0)
        .to_numpy(zero_copy_only=False)
        .astype(np.int64)
    )


def evaluate_spark(households: Any, members: Any, pack: Any, on: dt.date) -> tuple[Any, Any]:
    """(results, rejects) Spark DataFrames for a households and a members DataFrame in the
    columnar form (as ``minzheng_rules.io`` reads it)."""
    from pyspark.sql import functions as F

    ref = _pack_ref(pack)
    schema = output_schema(ref, on)
    counts = households.groupBy(HOUSEHOLD_ID).count()
    twice = counts.filter(F.col("count") > 1).select(HOUSEHOLD_ID)
    once = households.join(twice, on=HOUSEHOLD_ID, how="left_anti")
    member_cols = [c for c in members.columns if c != HOUSEHOLD_ID]
    nested = members.groupBy(HOUSEHOLD_ID).agg(
        F.collect_list(F.struct(*member_cols)).alias(MEMBERS)
    )
    joined = once.join(nested, on=HOUSEHOLD_ID, how="left")
    iso = on.isoformat()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            if b.num_rows:
                yield _evaluate_nested(b, ref, iso)

    from pyspark.sql.pandas.types import from_arrow_schema

    out = joined.mapInArrow(run, from_arrow_schema(schema))
    results = out.filter(F.col(REJECT).isNull()).drop(REJECT)
    refused = out.filter(F.col(REJECT).isNotNull()).select(
        HOUSEHOLD_ID, F.col(REJECT).alias("reasons"), F.lit("household").alias("kind")
    )
    duplicates = households.join(twice, on=HOUSEHOLD_ID, how="left_semi").select(
        HOUSEHOLD_ID,
        F.lit('["household_id: appears more than once"]').alias("reasons"),
        F.lit("household").alias("kind"),
    )
    orphans = members.join(
        households.select(HOUSEHOLD_ID), on=HOUSEHOLD_ID, how="left_anti"
    ).select(
        HOUSEHOLD_ID,
        F.lit('["household_id: no such household"]').alias("reasons"),
        F.lit("member").alias("kind"),
    )
    return results, refused.unionByName(duplicates).unionByName(orphans)


def spark_session(master: str | None = None) -> Any:
    import os
    import sys

    SparkSession = _require_spark()
    # workers run this interpreter (the one with minzheng_rules installed) unless told otherwise
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("minzheng-batch").master(master or "local[*]")
    builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000")
    builder = builder.config("spark.ui.enabled", "false")
    return builder.getOrCreate()


def read_register(spark: Any, source: Any) -> tuple[Any, Any]:
    """Spark DataFrames for a columnar register (CSV cells read as text)."""
    fmt = getattr(source, "fmt", None)
    if fmt == "parquet":
        return spark.read.parquet(str(source.households)), spark.read.parquet(str(source.members))
    if fmt == "csv":
        opts = {"header": "true", "inferSchema": "false"}
        return (
            spark.read.options(**opts).csv(str(source.households)),
            spark.read.options(**opts).csv(str(source.members)),
        )
    from minzheng_rules.io._validate import InputError

    raise InputError("the Spark engine reads the columnar form (Parquet or CSV)")


def run_spark_batch(
    source: Any, output: Path, pack: Any, on: dt.date, fmt: str | None, master: str | None
) -> Any:
    """``minzheng batch --engine spark``: evaluate in Spark, then write ``output``, its rejects
    file and summary exactly as the local engine does."""
    import shutil
    import time

    from minzheng_rules.backends.vectorized._programs import StatusCode
    from minzheng_rules.io._batch import STATUS, ProgramTotals, Summary, output_format
    from minzheng_rules.io._formats import TableWriter

    started = time.perf_counter()
    spark = spark_session(master)
    households, members = read_register(spark, source)
    results, rejects = evaluate_spark(households, members, pack, on)
    output = Path(output)
    fmt = output_format(output, fmt)
    staging = output.with_name(output.name + ".spark")
    shutil.rmtree(staging, ignore_errors=True)
    results.write.parquet(str(staging / "results"))
    rejects.write.json(str(staging / "rejects"))
    vp = _compiled(_pack_ref(pack), on.isoformat())
    s = Summary(mode="spark")
    for p in vp.programs:
        s.programs[p.program] = ProgramTotals(p.unit)
    s.stale = dict(vp.bound.stale)
    w = TableWriter(output, fmt)
    import pyarrow.parquet as pq

    try:
        for part in sorted((staging / "results").glob("*.parquet")):
            table = pq.read_table(part)
            s.evaluated += table.num_rows
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            for p in vp.programs:
                eligible = frame.filter(
                    pl.col(f"{p.program}_status") == STATUS[StatusCode.ELIGIBLE]
                )
                t = s.programs[p.program]
                t.eligible += eligible.height
                t.undetermined += frame.filter(
                    pl.col(f"{p.program}_status") == STATUS[StatusCode.UNDETERMINED]
                ).height
                amount = eligible.get_column(f"{p.program}_amount").sum()
                if amount is not None:
                    t.amount += int(amount)  # (an Int64 column: its sum is an int)
            if fmt != "parquet":
                from minzheng_rules.io._formats import money_text

                cols = []
                for name in table.column_names:
                    col = frame.get_column(name)
                    if isinstance(col.dtype, pl.Decimal):
                        scale = col.dtype.scale or 0
                        col = money_text((col * 10**scale).cast(pl.Int64), scale)
                    elif fmt == "csv" and isinstance(col.dtype, pl.List):
                        col = col.map_elements(
                            lambda x: json.dumps(list(x)), return_dtype=pl.String
                        )
                    cols.append(col.alias(name))
                table = pl.DataFrame(cols).to_arrow()
            w.write(table)
    except BaseException:
        w.abort()
        raise
    w.close()
    rejects_path = output.with_name(output.name + ".rejects.jsonl")
    tmp = rejects_path.with_name(f".{rejects_path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for part in sorted((staging / "rejects").glob("*.json")):
            for line in part.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if row.get("kind") == "member":
                    s.rejected_members += 1
                else:
                    s.rejected += 1
                entry = {
                    "source": f"spark ({row.get('kind')})",
                    "household_id": row.get(HOUSEHOLD_ID),
                    "reasons": json.loads(row["reasons"]),
                }
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    import os

    os.replace(tmp, rejects_path)
    s.households = source.total() or (s.evaluated + s.rejected)
    s.output, s.rejects = str(output), str(rejects_path)
    s.seconds = time.perf_counter() - started
    summary = output.with_name(output.name + ".summary.json")
    summary.write_text(json.dumps(s.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    shutil.rmtree(staging, ignore_errors=True)
    return s
