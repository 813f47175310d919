"""Evaluate a whole register chunk by chunk: resumable, atomic, with a rejects file and counts
that reconcile (households read = evaluated + rejected).

The output is written once, as the chunks come: each chunk's table is appended to ``OUT``'s
writer, whose file sits in ``<OUT>.parts/`` under a temporary name until the end. For resuming,
each chunk's answers are also kept as ``part-<n>.arrow`` (the compact evaluation frame with
dictionary-coded tags and needs, Arrow IPC with LZ4: cheap to write, unlike a second Parquet
file to decode and re-encode at the end)
and a line in ``manifest.json`` records the chunk done with its counts. An interrupted run
started again with the same input, pack and date replays the kept parts into a new writer and
evaluates only the rest. At the end the output and ``OUT.rejects.jsonl`` are renamed into place
(again via temporary names) and the parts folder is removed.

Output columns: ``household_id``, ``<program>_status`` (eligible / ineligible / undetermined),
``<program>_amount`` (exact decimal: Parquet DECIMAL(18, scale) stored as INT64, which Arrow
and Polars read as ``decimal128``; text in CSV and JSON Lines), ``tags`` and ``needs`` (lists of
text; JSON text in CSV).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa
import pyarrow.compute
import pyarrow.ipc

from minzheng_rules.backends.vectorized._programs import StatusCode
from minzheng_rules.io._formats import (
    EXCEL_ROWS,
    OUTPUT_FORMATS,
    TableWriter,
    decimal64_array,
    decimal_array,
    money_text,
)
from minzheng_rules.io._names import form_of
from minzheng_rules.io._readers import Chunk, Source
from minzheng_rules.io._validate import InputError
from minzheng_rules.model._columns import HOUSEHOLD_ID

if TYPE_CHECKING:
    from minzheng_rules.backends.vectorized._engine import Result

STATUS = {
    StatusCode.ELIGIBLE: "eligible",
    StatusCode.UNDETERMINED: "undetermined",
    StatusCode.INELIGIBLE: "ineligible",
}
# made by Polars, not pa.array: pa.array imports pandas when it is installed (its array-like
# check), a third of a second of start-up
_STATUS_WORDS = (
    pl.Series([STATUS[code] for code in sorted(StatusCode)]).to_arrow().cast(pa.string())
)
MANIFEST_VERSION = 4  # 2: parts are Arrow IPC evaluation frames; 3: undetermined counts;
# 4: tags and needs in parts as dictionary-coded id lists (older parts would not match)


@dataclass
class ProgramTotals:
    unit: str
    eligible: int = 0
    amount: Decimal = Decimal(0)
    undetermined: int = 0  # households whose answer needs facts the register lacks


@dataclass
class Summary:
    """What a batch did: counts that reconcile and, per program, how many households are
    eligible and what they are paid in total (in the program's unit, e.g. 元 per month), and how
    many could not be decided for missing facts."""

    households: int = 0
    evaluated: int = 0
    rejected: int = 0
    rejected_members: int = 0
    fallback: int = 0
    programs: dict[str, ProgramTotals] = field(default_factory=dict)
    seconds: float = 0.0
    output: str = ""
    rejects: str = ""
    mode: str = ""
    stale: dict[str, list[Any]] = field(default_factory=dict)
    """Per program: the money amounts it relied on that are over two years old on the date
    (the same for every household evaluated; see ``Pack.stale_values``)."""

    @property
    def reconciles(self) -> bool:
        return self.households == self.evaluated + self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {
            "households": self.households,
            "evaluated": self.evaluated,
            "rejected": self.rejected,
            "rejected_members": self.rejected_members,
            "decided_by_reference": self.fallback,
            "reconciles": self.reconciles,
            "programs": {
                p: {
                    "unit": t.unit,
                    "eligible": t.eligible,
                    "amount": str(t.amount),
                    "undetermined": t.undetermined,
                }
                for p, t in self.programs.items()
            },
            "seconds": round(self.seconds, 3),
            "output": self.output,
            "rejects": self.rejects,
            "mode": self.mode,
            "stale": {pid: [v.to_dict() for v in vs] for pid, vs in self.stale.items()},
        }


def pack_fingerprint(pack: Any) -> str:
    """A hash of the pack's files, so a resumed run refuses a pack that changed meanwhile."""
    digest = hashlib.sha256()
    files = {o.file for o in pack.definition.origins.values() if getattr(o, "file", None)}
    for name in sorted(files):
        p = Path(name)
        if p.is_file():
            digest.update(p.name.encode())
            digest.update(p.read_bytes())
    return digest.hexdigest()[:16]


LISTS = ("tags", "needs")


def list_arrays(frame: pl.DataFrame) -> dict[str, pa.Array]:
    """``tags`` and ``needs`` as Arrow lists of dictionary-coded ids, the engine's
    ``Result.lists`` form, for a frame whose rows the reference evaluator replaced: every chunk
    gives the output the same types."""
    out = {}
    for name in LISTS:
        a = _combined(frame.get_column(name).to_arrow().cast(pa.list_(pa.string())))
        values = a.values.dictionary_encode()
        mask = a.is_null() if a.null_count else None
        out[name] = pa.ListArray.from_arrays(a.offsets, values, mask=mask)
    return out


def _combined(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def result_table(
    frame: pl.DataFrame,
    programs: list[Any],
    fmt: str,
    dictionary: bool = False,
    lists: dict[str, pa.Array] | None = None,
    decimal64: bool = False,
) -> pa.Table:
    """The evaluation frame as the output table: statuses as words, amounts as exact
    decimals (Parquet) or decimal text, tags and needs as lists (JSON text in CSV).

    ``dictionary``: statuses as Arrow dictionary arrays over the three words (the Int8 codes
    themselves, nothing to look up or hash); for a Parquet writer that does not store the
    Arrow schema, so the file reads back as plain text columns, as without it.
    ``lists``: the frame's lists as Arrow lists when already made (:func:`list_arrays`, or the
    engine's dictionary-coded ``Result.lists``; not used for CSV).
    ``decimal64``: Parquet amounts as ``decimal64`` over the integers (no copy), for a writer
    storing them as INT64 decimals (``TableWriter(integer_decimals=True)``); they read back as
    ``decimal128(18, s)`` all the same."""
    arrays: list[Any] = [frame.get_column(HOUSEHOLD_ID).to_arrow().cast(pa.string())]
    names = [HOUSEHOLD_ID]
    for p in programs:
        # the Int8 codes index the three words (an Arrow take, no per-row mapping)
        codes = frame.get_column(f"{p.program}_status").to_arrow()
        amount = frame.get_column(f"{p.program}_amount")
        arrays.append(
            pa.DictionaryArray.from_arrays(codes, _STATUS_WORDS)
            if dictionary
            else pa.compute.take(_STATUS_WORDS, codes)
        )
        if fmt != "parquet":
            arrays.append(money_text(amount, p.scale).to_arrow().cast(pa.string()))
        else:
            arrays.append((decimal64_array if decimal64 else decimal_array)(amount, p.scale))
        names += [f"{p.program}_status", f"{p.program}_amount"]
    for name in LISTS:
        if fmt != "csv" and lists is not None:
            # dictionary-coded ids (``Result.lists``) only to our Parquet writer, which stores
            # them as text; text lists to any other
            given = lists[name]
            arrays.append(given if dictionary else given.cast(pa.list_(pa.string())))
            names.append(name)
            continue
        col = frame.get_column(name)
        if fmt == "csv":  # JSON text as json.dumps writes it, built on the whole column
            quoted = col.list.eval(
                pl.element()
                .str.replace_all("\\", "\\\\", literal=True)
                .str.replace_all('"', '\\"', literal=True)
            )
            col = pl.select(
                pl.when(quoted.list.len() == 0)
                .then(pl.lit("[]"))
                .otherwise(pl.lit('["') + quoted.list.join('", "') + pl.lit('"]'))
            ).to_series()
        arrays.append(col.to_arrow().cast(pa.string() if fmt == "csv" else pa.list_(pa.string())))
        names.append(name)
    return pa.Table.from_arrays(
        [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays], names=names
    )


class Batch:
    """One run of a register through a compiled pack."""

    def __init__(
        self,
        source: Source,
        out: Path,
        pack: Any,
        on: dt.date,
        fmt: str | None = None,
        chunk_size: int = 250_000,
        restart: bool = False,
        evaluator: Any = None,
        publish: Callable[[Path, Path], Any] | None = None,
    ) -> None:
        """``publish``: called with the output and rejects files once they are in place (and
        before the parts are removed, so a failed publish is retried by a resumed run)."""
        self.publish = publish
        self.source = source
        self.out = Path(out)
        self.fmt = output_format(self.out, fmt)
        if self.fmt not in OUTPUT_FORMATS:
            raise InputError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
        for p in getattr(source, "paths", ()):
            if self.out.exists() and p.exists() and os.path.samefile(p, self.out):
                raise InputError(f"{self.out}: the output would overwrite the input register")
        if self.fmt == "xlsx" and self.out.suffix.lower() != ".xlsx":  # (.xls, .ods, …)
            raise InputError(
                f"{self.out}: results are written as an Excel 2007+ workbook; name it "
                f"{self.out.with_suffix('.xlsx').name}"
            )
        if self.fmt == "xlsx" and (total := source.total() or 0) > EXCEL_ROWS:
            # told now, not when the worksheet overflows after the evaluation
            raise InputError(
                f"{self.out}: the register holds {total:,} households and a worksheet "
                f"{EXCEL_ROWS:,} rows; write .parquet or .csv"
            )
        # the table as written: Excel takes the Parquet form (exact decimals, lists) at the end
        self.table_fmt = "parquet" if self.fmt == "xlsx" else self.fmt
        self.pack = pack
        self.on = on
        self.chunk_size = chunk_size
        self.parts = self.out.with_name(self.out.name + ".parts")
        self.manifest_path = self.parts / "manifest.json"
        if evaluator is None:
            from minzheng_rules.backends.vectorized._engine import ReferencePack, VectorizedPack
            from minzheng_rules.backends.vectorized._numeric import VectorizeError
            from minzheng_rules.model._errors import EvaluationError

            try:
                evaluator = VectorizedPack(pack, on)
            except (VectorizeError, EvaluationError) as err:  # validated, yet no exact plan:
                evaluator = ReferencePack(pack, on, str(err))  # every row by the reference
        self.vp = evaluator
        self.identity = {
            "version": MANIFEST_VERSION,
            "input": source.fingerprint(),
            "pack": pack.id,
            "pack_files": pack_fingerprint(pack),
            "date": on.isoformat(),
            "chunk_size": chunk_size,
            "format": self.fmt,
        }
        self.manifest = self._load_manifest(restart)

    def _load_manifest(self, restart: bool) -> dict[str, Any]:
        if restart and self.parts.exists():
            shutil.rmtree(self.parts)
        if self.manifest_path.exists():
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if data.get("identity", {}).get("version") != MANIFEST_VERSION:
                raise InputError(
                    f"{self.parts} holds an unfinished run written by another version of "
                    "minzheng, whose parts this one cannot read; rerun with --restart to discard it"
                )
            if data.get("identity") != self.identity:
                raise InputError(
                    f"{self.parts} holds an unfinished run with another "
                    f"{_differences(data['identity'], self.identity)}; rerun with --restart to "
                    "discard it"
                )
            return data
        self.parts.mkdir(parents=True, exist_ok=True)
        data = {"identity": self.identity, "chunks": {}}
        self._save(data)
        return data

    def _save(self, data: dict[str, Any]) -> None:
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.manifest_path)

    @property
    def done(self) -> int:
        return len(self.manifest["chunks"])

    def run(
        self, progress: Callable[[int], None] | None = None, ahead: Prefetch | None = None
    ) -> Summary:
        """Evaluate every chunk; ``ahead``: this run's chunks, already being read
        (:func:`read_ahead`, with this batch's source and chunk size)."""
        started = time.perf_counter()
        # the output is written once, as chunks come; its temporary file lives in the parts
        # folder so that a crash leaves nothing beside OUT and --restart clears it
        self._writer = TableWriter(self.out, self.fmt, store_schema=False, integer_decimals=True)
        self._writer.tmp = self.parts / f"output.{self.fmt}.tmp"
        self._pending: Future[None] | None = None
        with ThreadPoolExecutor(max_workers=1) as self._output:
            try:
                chunks = ahead or Prefetch(self.source.chunks(self.chunk_size, self.parts))
                for chunk in chunks:
                    key = str(chunk.index)
                    if key in self.manifest["chunks"]:
                        self._replay(chunk.index)
                    else:
                        self._chunk(chunk)
                    if progress:
                        progress(chunk.read)
                self._written()
                summary = self._finish()
            except BaseException:
                with contextlib.suppress(Exception):  # the first error is the one to report
                    self._written()
                self._writer.abort()
                raise
        summary.seconds = time.perf_counter() - started
        summary.mode = getattr(self.source, "mode", "") or ""
        return summary

    def _part(self, index: int) -> Path:
        return self.parts / f"part-{index:06d}.arrow"

    def _behind(self, job: Callable[..., None], *args: Any) -> None:
        """``job`` run on the writer thread while this thread evaluates the next chunk (Arrow's
        encoders release the interpreter lock). One job in flight at a time: order kept,
        memory bounded, an error raised at the next chunk. Measured, full 湖州 pack, 1 M
        households: 5.9 -> 5.6 s wall on the quiet machine, CPU the same; on the busy one
        (load 4-6) no wall time off and up to 0.3 CPU-s more."""
        self._written()
        self._pending = self._output.submit(job, *args)

    def _written(self) -> None:
        """Wait for the job in flight (raising its error, if any)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _table(self, frame: pl.DataFrame, lists: dict[str, pa.Array] | None = None) -> pa.Table:
        """The output table of an evaluation frame, in the forms this run's writer takes."""
        own = self.fmt == "parquet"  # our Parquet writer: no Arrow schema, INT64 decimals
        return result_table(
            frame, self.vp.programs, self.table_fmt, dictionary=own, lists=lists, decimal64=own
        )

    def _replay(self, index: int) -> None:
        """A chunk done by an earlier run: its kept answers go to the output again, the lists
        in the form kept (so the output is the one the uninterrupted run writes)."""
        with pa.memory_map(str(self._part(index))) as source:
            table = pa.ipc.open_file(source).read_all()
        lists = {n: _combined(table.column(n)) for n in LISTS}
        rest = table.drop_columns(list(LISTS))
        if self.table_fmt == "csv":  # CSV writes the lists as JSON text, from the frame
            for n, a in lists.items():
                rest = rest.append_column(n, a.cast(pa.list_(pa.string())))
        frame = pl.from_arrow(rest)
        assert isinstance(frame, pl.DataFrame)
        self._behind(self._writer.write, self._table(frame, lists))

    @staticmethod
    def _keep(frame: pl.DataFrame, lists: dict[str, pa.Array], part: Path) -> None:
        """The evaluation frame as the part file, written by Arrow with the lists as made for
        the output (dictionary-coded ids from the engine, no text per row to compress), last."""
        names = [n for n in frame.columns if n not in lists]
        arrays = [frame.get_column(n).to_arrow() for n in names] + list(lists.values())
        table = pa.Table.from_arrays(arrays, names=names + list(lists))
        tmp = part.with_suffix(".tmp")
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        with (
            pa.OSFile(str(tmp), "wb") as sink,
            pa.ipc.new_file(sink, table.schema, options=options) as w,
        ):
            w.write_table(table)
        os.replace(tmp, part)

    def _chunk(self, chunk: Chunk) -> None:
        """Evaluate a chunk; its answers are kept and written on the writer thread."""
        # the lists as text in the frame only for CSV, which writes them as JSON text
        result = self.vp.evaluate(chunk.households, chunk.members, text=self.table_fmt == "csv")
        rejects = [r.to_dict() for r in chunk.rejects]
        ids = chunk.households.get_column(HOUSEHOLD_ID)
        for row, hid, reason in result.rejected:
            rejects.append(
                {
                    "source": "evaluation",
                    "row": row,
                    "household_id": hid or ids[row],
                    "reasons": [reason],
                }
            )
        frame = result.frame
        lists = result.lists if result.lists is not None else list_arrays(frame)
        done = self._counts(chunk, result, len(rejects))
        table = self._table(frame, lists)
        self._behind(self._store, chunk.index, frame, lists, table, rejects, done)

    def _store(
        self,
        index: int,
        frame: pl.DataFrame,
        lists: dict[str, pa.Array],
        table: pa.Table,
        rejects: list[dict[str, Any]],
        done: dict[str, Any],
    ) -> None:
        """A chunk's answers kept (part and rejects files), the chunk recorded as done in the
        manifest once they are, and its table appended to the output (a resumed run rewrites
        the output from the parts)."""
        self._keep(frame, lists, self._part(index))
        rpath = self.parts / f"rejects-{index:06d}.jsonl"
        tmp = rpath.with_suffix(".tmp")
        # backslashreplace: a text no UTF-8 can hold never stops the rejects file
        with open(tmp, "w", encoding="utf-8", errors="backslashreplace") as f:
            for r in rejects:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        os.replace(tmp, rpath)
        self.manifest["chunks"][str(index)] = done
        self._save(self.manifest)
        self._writer.write(table)

    def _counts(self, chunk: Chunk, result: Result, rejected: int) -> dict[str, Any]:
        """The chunk's manifest entry: its counts and, per program, eligible households,
        their total amount and the undetermined ones."""
        frame = result.frame
        totals = {}
        sums = (
            {}
            if not self.vp.programs
            else frame.select(
                e
                for p in self.vp.programs
                for e in (
                    (pl.col(f"{p.program}_status") == StatusCode.ELIGIBLE)
                    .sum()
                    .alias(f"n{p.program}"),
                    pl.col(f"{p.program}_amount")
                    .filter(pl.col(f"{p.program}_status") == StatusCode.ELIGIBLE)
                    .sum()
                    .alias(f"a{p.program}"),
                    (pl.col(f"{p.program}_status") == StatusCode.UNDETERMINED)
                    .sum()
                    .alias(f"u{p.program}"),
                )
            ).row(0, named=True)
        )
        for p in self.vp.programs:
            count, amount = sums[f"n{p.program}"], sums[f"a{p.program}"]
            unknown = int(sums[f"u{p.program}"] or 0)
            totals[p.program] = [int(count or 0), int(amount or 0), p.scale, p.unit, unknown]
        household_rejects = rejected - chunk.member_rejects
        return {
            "read": chunk.read,
            "evaluated": frame.height,
            "rejected": household_rejects,
            "rejected_members": chunk.member_rejects,
            "fallback": result.fallback,
            "programs": totals,
        }

    def _finish(self) -> Summary:
        s = Summary()
        keys = sorted(self.manifest["chunks"], key=int)
        for k in keys:
            c = self.manifest["chunks"][k]
            s.households += c["read"]
            s.evaluated += c["evaluated"]
            s.rejected += c["rejected"]
            s.rejected_members += c["rejected_members"]
            s.fallback += c["fallback"]
            for pid, (count, amount, scale, unit, unknown) in c["programs"].items():
                t = s.programs.setdefault(pid, ProgramTotals(unit))
                t.eligible += count
                t.undetermined += unknown
                t.amount += Decimal(amount).scaleb(-scale)
        for p in self.vp.programs:
            s.programs.setdefault(p.program, ProgramTotals(p.unit))
        s.stale = dict(self.vp.bound.stale)
        w = self._writer
        if not w.opened:  # (a chunk of refused households only wrote its own empty table)
            w.write(self._table(self.vp.empty_frame()))
        w.close()
        rejects = self.out.with_name(self.out.name + ".rejects.jsonl")
        tmp = rejects.with_name(f".{rejects.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for k in keys:
                f.write((self.parts / f"rejects-{int(k):06d}.jsonl").read_text(encoding="utf-8"))
        os.replace(tmp, rejects)
        if self.publish is not None:
            self.publish(self.out, rejects)
        s.output, s.rejects = str(self.out), str(rejects)
        summary = self.out.with_name(self.out.name + ".summary.json")
        tmp = summary.with_name(f".{summary.name}.tmp")
        tmp.write_text(json.dumps(s.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, summary)
        shutil.rmtree(self.parts, ignore_errors=True)
        return s


def _differences(then: dict[str, Any], now: dict[str, Any]) -> str:
    """What differs between an unfinished run and this one, in words: ``date (2024-06-01
    then, 2024-07-01 now)``, ``input (its files changed)``."""
    words = {"pack_files": "pack (its files changed)", "input": "input (its files changed)"}
    out = []
    for key, value in now.items():
        if then.get(key) != value:
            out.append(
                words.get(key) or f"{key.replace('_', ' ')} ({then.get(key)} then, {value} now)"
            )
    return ", ".join(out) or "identity"


class Prefetch:
    """A source's chunks, read and validated one ahead on another thread while this one
    evaluates (Polars, Arrow and NumPy release the interpreter lock, so the two overlap on the
    machine's cores). The first chunk is asked for as soon as this is made: ``minzheng batch``
    makes it before the pack is loaded and compiled, which then overlap the register's read.

    Iterated once. Leaving the loop (its end, an error, ``close``) waits for the chunk in
    flight, so nothing reads the register or its work folder after the run."""

    _DONE = object()

    def __init__(self, chunks: Iterator[Chunk]) -> None:
        self._chunks = chunks
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._next: Future[Any] = self._pool.submit(next, chunks, self._DONE)

    def __iter__(self) -> Iterator[Chunk]:
        try:
            while True:
                item = self._next.result()
                if item is self._DONE:
                    return
                self._next = self._pool.submit(next, self._chunks, self._DONE)
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading ahead (waiting for the chunk in flight)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def read_ahead(source: Source, chunk_size: int) -> Prefetch | None:
    """The register's chunks for :meth:`Batch.run`, their reading started now; ``None`` for a
    register read in pieces, whose hash buckets belong in the run's parts folder (made by
    :class:`Batch`, cleared by ``--restart``), so reading waits for the batch there."""
    if not source.in_memory():
        return None
    return Prefetch(source.chunks(chunk_size))


def output_format(path: Path, fmt: str | None = None) -> str:
    """The results' format: ``fmt`` when given, else told by the name (an Excel name writes
    .xlsx); Parquet otherwise."""
    if fmt:
        return fmt
    form = form_of(path)
    return "xlsx" if form == "excel" else form or "parquet"
