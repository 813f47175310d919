"""Registers in a PostgreSQL database: read from two tables or two queries, results written back
to a table, through ADBC (``adbc-driver-postgresql``, Arrow batches both ways).

Reading takes a snapshot: each query's rows, ordered by the household id, are streamed into a
temporary Parquet file, and the register is then read like any columnar one (the same
validation, rejects, chunking and resume; a reject's row is its position in that ordered
query). ``numeric`` columns arrive as their exact text.

Writing is one transaction: the results table and ``<table>_rejects`` are replaced together
(``DROP``, ``CREATE``, the rows, ``COMMIT``), so a reader of the database sees the old results
or the new ones, never half.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import pyarrow as pa

from minzheng_rules.io._validate import InputError

SCHEMES = ("postgresql://", "postgres://")
# letters of any script (a city's tables may be named 家庭), digits, _ and $; schema.table
_NAME = re.compile(r"^[^\W\d][\w$]*(\.[^\W\d][\w$]*)?$")


def is_database(text: str | Path) -> bool:
    return str(text).startswith(SCHEMES)


def redact(dsn: str) -> str:
    """The DSN without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", dsn)


def _quoted(name: str) -> str:
    """A table name (``schema.table``) quoted for SQL; anything else is refused."""
    if not _NAME.match(name):
        raise InputError(
            f"'{name}': a table name is letters, digits and _, not starting with a digit "
            "(schema.table)"
        )
    return ".".join(f'"{part}"' for part in name.split("."))


def check_table_name(name: str) -> None:
    """Refuse a table name before a run, not after it (``--out-table``)."""
    _quoted(name)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(dsn: str) -> Any:
    try:
        import adbc_driver_postgresql.dbapi as pg
    except ImportError as e:
        raise InputError(
            f"PostgreSQL needs the batch extra (pip install 'minzheng-rules[batch]'): {e}"
        ) from None
    try:
        return pg.connect(dsn)
    except Exception as e:
        raise InputError(f"{redact(dsn)}: cannot connect ({_first_line(e)})") from None


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _plain(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Extension columns (``numeric`` comes as an opaque type over its text) as their storage."""
    arrays, changed = [], False
    for column in batch.columns:
        if isinstance(column.type, pa.ExtensionType) or isinstance(column, pa.ExtensionArray):
            arrays.append(column.storage)
            changed = True
        else:
            arrays.append(column)
    if not changed:
        return batch
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def snapshot(dsn: str, query: str, order_by: str, target: Path, label: str) -> int:
    """Stream ``query``'s rows, ordered by ``order_by``, into a Parquet file; the row count."""
    import pyarrow.parquet as pq

    rows = 0
    with _connect(dsn) as conn:
        cur = conn.cursor()
        try:
            sql = f"SELECT {_columns(cur, query)} FROM ({query}) AS register "
            cur.execute(sql + f"ORDER BY {_ident(order_by)}")
            reader = cur.fetch_record_batch()
            writer = None
            for batch in reader:
                batch = _plain(batch)
                if writer is None:
                    writer = pq.ParquetWriter(target, batch.schema)
                writer.write_batch(batch)
                rows += batch.num_rows
            if writer is None:
                schema = pa.schema([(f.name, _plain_type(f.type)) for f in reader.schema])
                writer = pq.ParquetWriter(target, schema)
            writer.close()
        except InputError:
            raise
        except Exception as e:
            raise InputError(f"{label}: the query failed ({_first_line(e)})") from None
        finally:
            cur.close()
    return rows


# columns cast by the database before they are read: ``money`` comes through ADBC as an int64
# of its smallest unit (fen), 1,200.00 元 as 120000, which a money field reads as 元 (the
# database's cast is exact and knows the currency's places); ``uuid`` as 16 bytes, which no
# field reads (ids as uuid are usual): as their text; ``char(n)`` padded with spaces to n,
# which PostgreSQL itself ignores ('1001    ' matched no member's '1001'): as text, unpadded;
# ``timestamptz`` in UTC, where a birth date entered as 2006-06-02 in 浙江 is 2006-06-01 16:00:
# as the database shows it, in its own time zone
_CASTS = {
    b"money": "{}::numeric",
    b"uuid": "{}::text",
    b"bpchar": "{}::text",
    b"timestamptz": "{} AT TIME ZONE current_setting('TimeZone')",
}


def _columns(cur: Any, query: str) -> str:
    """The select list of the snapshot: ``*``, or, when the query has columns of a type in
    ``_CASTS``, each column by name with those cast."""
    cur.execute(f"SELECT * FROM ({query}) AS register LIMIT 0")
    schema = cur.fetch_arrow_table().schema
    kinds = [(f.metadata or {}).get(b"POSTGRESQL:type") for f in schema]
    if not any(kind in _CASTS for kind in kinds):
        return "*"
    return ", ".join(
        f"{_CASTS[kind].format(_ident(f.name))} AS {_ident(f.name)}"
        if kind in _CASTS
        else _ident(f.name)
        for f, kind in zip(schema, kinds, strict=True)
    )


def _plain_type(t: pa.DataType) -> pa.DataType:
    return t.storage_type if isinstance(t, pa.ExtensionType) else t


def open_database(
    dsn: str,
    table: str | None,
    members_table: str | None,
    query: str | None,
    members_query: str | None,
    mapping: Any = None,
) -> Any:
    """A columnar source over a snapshot of the households and members in the database."""
    from minzheng_rules.io._readers import ColumnarSource, TableFile

    if (table is None) == (query is None):
        raise InputError("a database register needs --table or --query (one of them)")
    if (members_table is None) == (members_query is None):
        raise InputError("a database register needs --members-table or --members-query")
    hq = f"SELECT * FROM {_quoted(table)}" if table else str(query)
    mq = f"SELECT * FROM {_quoted(members_table)}" if members_table else str(members_query)
    hlabel = table or "households query"
    mlabel = members_table or "members query"
    hmap = mapping.households if mapping else None
    mmap = mapping.members if mapping else None
    hid = (hmap and _source_of(hmap, "household_id")) or "household_id"
    mid = (mmap and _source_of(mmap, "household_id")) or "household_id"
    folder = Path(tempfile.mkdtemp(prefix="minzheng-db-"))
    try:
        snapshot(dsn, hq, hid, folder / "households.parquet", hlabel)
        snapshot(dsn, mq, mid, folder / "members.parquet", mlabel)
        h = TableFile(folder / "households.parquet", "parquet", "households", hmap)
        m = TableFile(folder / "members.parquet", "parquet", "members", mmap)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    h.label, m.label = hlabel, mlabel
    h.warnings = [w.replace("households.parquet", hlabel) for w in h.warnings]
    m.warnings = [w.replace("members.parquet", mlabel) for w in m.warnings]
    source = ColumnarSource(h, m)
    source.snapshot = True
    weakref.finalize(source, shutil.rmtree, folder, True)
    return source


def _source_of(table_mapping: Any, field: str) -> str | None:
    for name, rule in table_mapping.columns.items():
        if rule.field == field:
            return name
    return None


def _columns_sql(schema: pa.Schema) -> str | None:
    """The results table's columns in SQL, amounts as ``numeric(18,2)`` (ADBC's own
    ``CREATE`` makes them ``numeric`` with no scale: 1435 and 0.3, not 1435.00 and 0.30);
    None when a column is of a type not listed (ADBC then makes the table)."""
    parts = []
    for f in schema:
        t = f.type
        if pa.types.is_decimal(t):
            sql = f"numeric({t.precision},{t.scale})"
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            sql = "text"
        elif pa.types.is_list(t) and pa.types.is_string(t.value_type):
            sql = "text[]"
        elif pa.types.is_int64(t):
            sql = "bigint"
        elif pa.types.is_boolean(t):
            sql = "boolean"
        else:
            return None
        parts.append(f"{_ident(f.name)} {sql}")
    return ", ".join(parts)


def publish(dsn: str, table: str, results: Path, rejects: Path) -> int:
    """Replace ``table`` and ``<table>_rejects`` with the run's results and rejects, in one
    transaction (nothing is changed if any step fails). The rows written."""
    import pyarrow.parquet as pq

    target = _quoted(table)
    rejects_table = _quoted(f"{table}_rejects")
    lines = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines() if x]
    refused = pa.table(
        {
            "source": pa.array([r["source"] for r in lines], pa.string()),
            "row": pa.array([r["row"] for r in lines], pa.int64()),
            "household_id": pa.array([r["household_id"] for r in lines], pa.string()),
            "reasons": pa.array([r["reasons"] for r in lines], pa.list_(pa.string())),
        }
    )
    written = 0
    with _connect(dsn) as conn:
        cur = conn.cursor()
        try:
            cur.execute(f"DROP TABLE IF EXISTS {target}")
            cur.execute(f"DROP TABLE IF EXISTS {rejects_table}")
            parquet = pq.ParquetFile(results)
            schema, _, name = table.rpartition(".")
            where = {"db_schema_name": schema} if schema else {}
            columns = _columns_sql(parquet.schema_arrow)
            first = columns is None  # else the table made with its money columns' scale
            if columns is not None:
                cur.execute(f"CREATE TABLE {target} ({columns})")
            for batch in parquet.iter_batches(batch_size=131_072):
                cur.adbc_ingest(name, batch, mode="create" if first else "append", **where)
                first = False
                written += batch.num_rows
            if first:  # no rows: the table with its columns all the same
                empty = parquet.schema_arrow.empty_table()
                cur.adbc_ingest(name, empty, mode="create", **where)
            cur.adbc_ingest(f"{name}_rejects", refused, mode="create", **where)
            conn.commit()
        except Exception as e:
            conn.rollback()
            raise InputError(f"{table}: writing the results failed ({_first_line(e)})") from None
        finally:
            cur.close()
    return written


__all__ = ["check_table_name", "is_database", "open_database", "publish", "redact"]
