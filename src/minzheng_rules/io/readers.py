"""Reading registers in bounded chunks: JSON Lines of canonical households, or a households
table and a members table (Parquet or CSV) keyed by ``household_id``.

Columnar input is streamed in step when each household's members are together and in the
households' order (what exports and ``minzheng synth`` write): a first pass over the id columns
checks that, then both files are read side by side. Otherwise both tables are first split into
buckets by a hash of ``household_id`` (temporary Parquet files), and each bucket is joined on
its own, so memory stays bounded either way; output then comes bucket by bucket.

Every chunk comes back clean (see :mod:`.schema`) with the rows refused and why.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from minzheng_rules.errors import HouseholdError, MinzhengError
from minzheng_rules.household import parse_household
from minzheng_rules.io.convert import households_to_frames
from minzheng_rules.io.schema import HOUSEHOLD_COLUMNS, HOUSEHOLD_ID, MEMBER_COLUMNS
from minzheng_rules.io.validate import InputError, Reject, assemble, clean

HH = "_hh"
ROW = "__row"
_PARQUET_BATCH = 131_072


@dataclass
class Chunk:
    """One chunk: clean frames ready to evaluate, and what was refused."""

    index: int
    households: pl.DataFrame
    members: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    read: int = 0  # household rows read (evaluable + refused)
    member_rejects: int = 0  # member rows refused on their own (no such household)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("parquet", "pq"):
        return "parquet"
    if suffix in ("csv", "txt"):
        return "csv"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    raise InputError(f"{path}: cannot tell the format from the name (use .parquet, .csv or .jsonl)")


def open_register(path: str | Path, members: str | Path | None = None) -> Source:
    """A register from a JSON Lines file, a folder holding ``households.*`` and ``members.*``,
    or a households table (with ``members`` or a ``members.*`` file beside it)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        found = [x for x in sorted(p.iterdir()) if x.stem == "households" and x.is_file()]
        if not found:
            raise InputError(f"{p}: no households.parquet, households.csv or households.jsonl here")
        p = found[0]
    fmt = _format_of(p)
    if fmt == "jsonl":
        return JsonLinesSource(p)
    if members is None:
        siblings = [x for x in p.parent.glob(f"members.{p.suffix.lstrip('.')}")]
        if not siblings:
            raise InputError(f"{p}: give the members table (--members), e.g. members{p.suffix}")
        members = siblings[0]
    m = Path(members)
    if not m.exists():
        raise InputError(f"{m}: no such file")
    return ColumnarSource(p, m, fmt)


class Source:
    """A register that can be read in chunks."""

    paths: tuple[Path, ...] = ()

    def total(self) -> int | None:
        return None

    def chunks(self, size: int, workdir: Path | None = None) -> Iterator[Chunk]:
        raise NotImplementedError

    def fingerprint(self) -> dict[str, Any]:
        return {
            str(p): {"size": p.stat().st_size, "mtime_ns": p.stat().st_mtime_ns} for p in self.paths
        }


# -- JSON Lines ---------------------------------------------------------------------------------
class JsonLinesSource(Source):
    """Canonical households, one JSON object per line (validated by the pydantic models)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.paths = (path,)
        self.mode = "jsonl"

    def total(self) -> int | None:
        with open(self.path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))

    def chunks(self, size: int, workdir: Path | None = None) -> Iterator[Chunk]:
        index = 0
        batch: list[tuple[int, str]] = []
        with open(self.path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                batch.append((number, line))
                if len(batch) == size:
                    yield self._chunk(index, batch)
                    index, batch = index + 1, []
        if batch:
            yield self._chunk(index, batch)

    def _chunk(self, index: int, lines: list[tuple[int, str]]) -> Chunk:
        good = []
        rejects = []
        source = self.path.name
        for number, line in lines:
            try:
                data = json.loads(line)
            except json.JSONDecodeError as e:
                rejects.append(Reject(source, number, None, [f"line: not valid JSON ({e.msg})"]))
                continue
            hid = data.get("id") if isinstance(data, dict) else None
            try:
                good.append(parse_household(data))
            except HouseholdError as e:
                reasons = [f"{where}: {what}" for where, what in e.problems]
                rejects.append(
                    Reject(source, number, hid if isinstance(hid, str) else None, reasons)
                )
        h, m = households_to_frames(good)
        return Chunk(index, h, m, rejects, read=len(lines))


# -- columnar -----------------------------------------------------------------------------------
def _batches(path: Path, fmt: str, columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
    """Record batches of a Parquet or CSV file as frames (CSV cells all text)."""
    if fmt == "parquet":
        # Polars' own reader, a slice at a time: several times faster than Arrow record
        # batches converted to Polars (no large_string → view conversion), still bounded
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(path).metadata.num_rows
        scan = pl.scan_parquet(path)
        if columns is not None:
            scan = scan.select(columns)
        for start in range(0, rows, _PARQUET_BATCH):
            yield scan.slice(start, _PARQUET_BATCH).collect()
        return
    import pyarrow.csv as pacsv

    with open(path, "rb") as fh:
        header = fh.readline().decode("utf-8-sig").strip()
    names = next(iter(__import__("csv").reader([header])), [])
    types = {n: pa.string() for n in names}
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 22),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            include_columns=columns,
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=False,
        ),
    )
    for b in reader:
        yield pl.from_arrow(pa.Table.from_batches([b]))  # type: ignore[misc]


class _Rechunk:
    """Frames from batches, cut to exact sizes; numbers rows from 1 in ``__row``."""

    def __init__(self, batches: Iterator[pl.DataFrame]) -> None:
        self.batches = batches
        self.buffer: pl.DataFrame | None = None
        self.next_row = 1
        self.done = False

    def _fill(self, rows: int) -> None:
        while not self.done and (self.buffer is None or self.buffer.height < rows):
            try:
                b = next(self.batches)
            except StopIteration:
                self.done = True
                break
            b = b.with_columns(
                pl.Series(ROW, np.arange(self.next_row, self.next_row + b.height, dtype=np.int64))
            )
            self.next_row += b.height
            self.buffer = (
                b if self.buffer is None else pl.concat([self.buffer, b], how="vertical_relaxed")
            )

    def take(self, rows: int) -> pl.DataFrame | None:
        self._fill(rows)
        if self.buffer is None or self.buffer.height == 0:
            return None
        out, self.buffer = self.buffer.head(rows), self.buffer.slice(rows)
        return out

    def take_runs(self, runs: int, key: str) -> pl.DataFrame:
        """Rows up to the start of the ``runs + 1``-th run of equal ``key`` values (the buffer
        is filled by an estimate of the rows needed, so the runs are counted about once)."""
        want = runs + 1
        while True:
            self._fill(want)
            found = 0
            if self.buffer is not None and self.buffer.height:
                starts = _run_starts(self.buffer.get_column(key))
                found = len(starts)
                if found > runs:
                    cut = int(starts[runs])
                    out, self.buffer = self.buffer.head(cut), self.buffer.slice(cut)
                    return out
            if self.done:
                out = self.buffer if self.buffer is not None else None
                self.buffer = None
                return out if out is not None else pl.DataFrame()
            have = self.buffer.height if self.buffer is not None else 0
            per_run = have / max(found, 1)
            want = have + max(65_536, int((runs + 1 - found) * per_run * 1.1) + 1)


def _changes(ids: pl.Series) -> np.ndarray:
    """Per row, whether it starts a run of equal ids."""
    n = ids.len()
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = (ids.slice(1) != ids.slice(0, n - 1)).fill_null(True).to_numpy()
    return change


def _run_starts(ids: pl.Series) -> np.ndarray:
    """Where each run of equal ids starts."""
    return np.flatnonzero(_changes(ids))


def _runs(ids: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal ids starts, and each row's run number."""
    change = _changes(ids)
    return np.flatnonzero(change), np.cumsum(change) - 1


class ColumnarSource(Source):
    """A households table and a members table, Parquet or CSV."""

    def __init__(self, households: Path, members: Path, fmt: str) -> None:
        self.households = households
        self.members = members
        self.fmt = fmt
        if _format_of(members) != fmt:
            raise InputError(f"{members}: the members table must be {fmt} like the households")
        self.paths = (households, members)
        self.mode: str | None = None

    def total(self) -> int | None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(self.households).metadata.num_rows
        with open(self.households, "rb") as f:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))
        return max(lines - 1, 0)

    def aligned(self, size: int = 262_144) -> bool:
        """True when every household's members are together, in the households' order, and
        every household has one (checked on the id columns alone)."""
        hs = _Rechunk(_batches(self.households, self.fmt, [HOUSEHOLD_ID]))
        ms = _Rechunk(_batches(self.members, self.fmt, [HOUSEHOLD_ID]))
        while True:
            h = hs.take(size)
            if h is None:
                return ms.take(1) is None
            m = ms.take_runs(h.height, HOUSEHOLD_ID)
            if not _same_runs(h, m):
                return False

    def chunks(self, size: int, workdir: Path | None = None) -> Iterator[Chunk]:
        self._check_headers()
        if self.mode is None:
            self.mode = "aligned" if self.aligned() else "partitioned"
        if self.mode == "aligned":
            yield from self._aligned_chunks(size)
        else:
            yield from self._partitioned_chunks(size, workdir)

    def _check_headers(self) -> None:
        from minzheng_rules.io.validate import check_columns

        for path, columns in ((self.households, HOUSEHOLD_COLUMNS), (self.members, MEMBER_COLUMNS)):
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                names = pq.ParquetFile(path).schema_arrow.names
            else:
                import csv

                with open(path, encoding="utf-8-sig") as f:
                    names = next(csv.reader(f), [])
            check_columns(names, columns, path.name)

    def _aligned_chunks(self, size: int) -> Iterator[Chunk]:
        hs = _Rechunk(_batches(self.households, self.fmt))
        ms = _Rechunk(_batches(self.members, self.fmt))
        index = 0
        while True:
            h = hs.take(size)
            if h is None:
                return
            m = ms.take_runs(h.height, HOUSEHOLD_ID)
            if not _same_runs(h, m):
                raise InputError(
                    f"{self.members.name}: members are not in the households' order "
                    "(the file changed while it was read?)"
                )
            _, run = _runs(m.get_column(HOUSEHOLD_ID))
            yield self._validate(index, h, m, run)
            index += 1

    def _validate(
        self, index: int, h: pl.DataFrame, m: pl.DataFrame, hh_index: np.ndarray
    ) -> Chunk:
        hc = clean(h.drop(ROW), HOUSEHOLD_COLUMNS, self.households.name)
        mc = clean(m.drop(ROW), MEMBER_COLUMNS, self.members.name)
        h_rows = h.get_column(ROW).to_numpy()
        m_rows = m.get_column(ROW).to_numpy() if m.height else np.zeros(0, dtype=np.int64)
        good_h, good_m, rejects = assemble(
            hc, mc, hh_index, self.households.name, self.members.name, h_rows, m_rows
        )
        return Chunk(index, good_h, good_m, rejects, read=h.height)

    # -- partitioned: hash buckets in a temporary folder -------------------------------------------
    def _partitioned_chunks(self, size: int, workdir: Path | None) -> Iterator[Chunk]:
        total = self.total() or 0
        buckets = max(1, -(-total // size))
        root = Path(tempfile.mkdtemp(prefix="buckets-", dir=workdir))
        try:
            for name, path in (("h", self.households), ("m", self.members)):
                writers: dict[int, Any] = {}
                import pyarrow.parquet as pq

                rows = _Rechunk(_batches(path, self.fmt))
                while (b := rows.take(262_144)) is not None:
                    b = b.with_columns(_bucket(b.get_column(HOUSEHOLD_ID), buckets).alias("__b"))
                    for (k,), part in b.partition_by("__b", as_dict=True).items():
                        table = part.drop("__b").to_arrow()
                        if k not in writers:
                            writers[k] = pq.ParquetWriter(root / f"{name}{k}.parquet", table.schema)
                        writers[k].write_table(table.cast(writers[k].schema))
                for w in writers.values():
                    w.close()
            for k in range(buckets):
                hp, mp = root / f"h{k}.parquet", root / f"m{k}.parquet"
                h = pl.read_parquet(hp) if hp.exists() else None
                m = pl.read_parquet(mp) if mp.exists() else None
                yield self._bucket_chunk(k, h, m)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _bucket_chunk(self, index: int, h: pl.DataFrame | None, m: pl.DataFrame | None) -> Chunk:
        if h is None:
            h = pl.DataFrame(
                {HOUSEHOLD_ID: [], ROW: []}, schema={HOUSEHOLD_ID: pl.String, ROW: pl.Int64}
            )
        h = h.sort(ROW)
        rejects: list[Reject] = []
        dup = h.get_column(HOUSEHOLD_ID).is_duplicated().to_numpy()
        for i in np.flatnonzero(dup):
            rejects.append(
                Reject(
                    self.households.name,
                    int(h[ROW][int(i)]),
                    h[HOUSEHOLD_ID][int(i)],
                    [f"household_id: appears more than once in {self.households.name}"],
                )
            )
        nulls = h.get_column(HOUSEHOLD_ID).is_null().to_numpy()
        keep = ~dup & ~nulls
        for i in np.flatnonzero(nulls):
            rejects.append(
                Reject(
                    self.households.name,
                    int(h[ROW][int(i)]),
                    None,
                    ["household_id: Field required"],
                )
            )
        h = h.filter(pl.Series(keep))
        member_rejects = 0
        if m is None or m.height == 0:
            m = pl.DataFrame(schema={HOUSEHOLD_ID: pl.String, ROW: pl.Int64})
        index_of = h.select(HOUSEHOLD_ID).with_row_index("__i")
        m = m.join(index_of, on=HOUSEHOLD_ID, how="left")
        orphans = m.filter(pl.col("__i").is_null())
        for rec in orphans.select(ROW, HOUSEHOLD_ID).iter_rows():
            member_rejects += 1
            rejects.append(
                Reject(
                    self.members.name,
                    int(rec[0]),
                    rec[1],
                    [f"household_id: no such household in {self.households.name}"],
                )
            )
        m = m.filter(pl.col("__i").is_not_null()).sort(["__i", ROW])
        hh_index = m.get_column("__i").to_numpy().astype(np.int64)
        chunk = self._validate(index, h, m.drop("__i"), hh_index)
        chunk.rejects = rejects + chunk.rejects
        chunk.read = int(keep.size)
        chunk.member_rejects = member_rejects
        return chunk


def _same_runs(h: pl.DataFrame, m: pl.DataFrame) -> bool:
    if m.height == 0:
        return h.height == 0
    starts = _run_starts(m.get_column(HOUSEHOLD_ID))
    if len(starts) != h.height:
        return False
    run_ids = m.get_column(HOUSEHOLD_ID).gather(starts)
    return bool((run_ids == h.get_column(HOUSEHOLD_ID)).fill_null(False).all())


def _bucket(ids: pl.Series, buckets: int) -> pl.Series:
    """A bucket number per id, the same for the same text whatever file it is in."""
    return (ids.fill_null("").hash(seed=20240601) % buckets).cast(pl.Int64)


__all__ = [
    "Chunk",
    "ColumnarSource",
    "InputError",
    "JsonLinesSource",
    "MinzhengError",
    "Source",
    "open_register",
]
