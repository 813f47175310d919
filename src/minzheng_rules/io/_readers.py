"""Reading registers in bounded chunks: JSON Lines of canonical households, or a households
table and a members table (Parquet or CSV) keyed by ``household_id``.

Columnar input up to ``IN_MEMORY_BYTES`` is read whole: each member's household found by one
hash join on the id (none when the members already come in the households' order), members put
in order by one sort, and chunks cut in the households' order. A bigger register is streamed in
step when each household's members are together and in the households' order (what exports
and ``minzheng synth`` write): a first pass over the id columns checks that, then both files
are read side by side. Otherwise both tables are first split into buckets by a hash of
``household_id`` (temporary Arrow files), and each bucket is joined on its own, so memory
stays bounded either way; output then comes bucket by bucket.

Every chunk comes back clean (see :mod:`.schema`) with the rows refused and why.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from minzheng_rules.io._excel import LONG_NUMBER, read_sheet
from minzheng_rules.io._mapping import Applied, Mapping, TableMapping
from minzheng_rules.io._names import form_of
from minzheng_rules.io._validate import (
    ERR,
    SEP,
    WHOLE_FLOAT_TEXT,
    InputError,
    Reject,
    assemble,
    check_columns,
    clean,
    numbers_as_text,
    one_line,
)
from minzheng_rules.model._columns import (
    HH,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_ID,
    MEMBER_COLUMNS,
    MEMBER_ID,
    clean_schema,
)
from minzheng_rules.model._convert import households_to_frames
from minzheng_rules.model._errors import HouseholdError, MinzhengError
from minzheng_rules.model._household import parse_household

ROW = "__row"
_PARQUET_BATCH = 131_072
# a register whose two tables take up to about this many bytes in memory (see memory_bytes) is
# read whole and its members matched in memory (one hash join, one sort); a bigger one is
# streamed (members in the households' order) or split into hash buckets on disk, so memory
# stays bounded. 384 MiB: 1 M households of ``minzheng synth`` (322 MiB; the full 湖州 pack's
# batch peaked at 1.5 GB resident, 1.25 M at 1.8 GB: about 0.55 GB and three times the tables),
# 2.5 M of the shared rules' columns (a batch of 1 M of those peaked at 1 GB)
IN_MEMORY_BYTES = 384 << 20
_SAMPLE_ROWS = 16_384  # rows read to measure a Parquet table's size in memory


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
    form = form_of(path)
    if form is None:
        raise InputError(
            f"{path}: cannot tell the format from the name (use .parquet, .csv, .xlsx or .jsonl)"
        )
    return form


def open_register(
    path: str | Path,
    members: str | Path | None = None,
    mapping: Mapping | None = None,
    encoding: str | None = None,
) -> Source:
    """A register from a JSON Lines file, a folder holding ``households.*`` and ``members.*``,
    a households table (with ``members`` or a ``members.*`` file beside it), or an Excel
    workbook with a households sheet and a members sheet. ``mapping``: the city's own column
    names and codes (see :mod:`.mapping`); ``encoding``: of CSV files (default: UTF-8, or
    GB18030 when the bytes are not UTF-8)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        found = [x for x in sorted(p.iterdir()) if x.stem == "households" and x.is_file()]
        if not found:
            parts = [x.name for x in sorted(p.iterdir()) if x.stem == "households" and x.is_dir()]
            if parts:  # Spark, DuckDB (PER_THREAD_OUTPUT), pandas' partition_cols
                raise InputError(
                    f"{p / parts[0]}: a folder of parts (as Spark and DuckDB write a table): "
                    "join the parts into one file per table, households.parquet and "
                    "members.parquet, in a folder of their own"
                )
            raise InputError(f"{p}: no households.parquet, .csv, .xlsx or households.jsonl here")
        p = found[0]
    fmt = _format_of(p)
    source = _open(p, fmt, members, mapping, encoding)
    if encoding is not None and fmt != "csv":  # said, not silently dropped
        source.warn(
            f"{p.name}: --encoding {encoding} is for CSV files; a {fmt} file carries its own "
            "(ignored)"
        )
    return source


def _open(
    p: Path, fmt: str, members: str | Path | None, mapping: Mapping | None, encoding: str | None
) -> Source:
    if fmt == "jsonl":
        return JsonLinesSource(p)
    encoding = encoding or (mapping.encoding if mapping else None)
    hmap = mapping.households if mapping else None
    mmap = mapping.members if mapping else None
    sibling = p.with_name(f"members{p.suffix}")
    if fmt == "excel" and members is None and not (sibling.is_file() and sibling != p):
        hsheet = (hmap.sheet if hmap else None) or "households"
        msheet = (mmap.sheet if mmap else None) or "members"
        if hsheet == msheet:  # one row per person (每人一行): the households read off it
            if hmap is None or mmap is None:
                raise InputError(_one_table(f"{p.name}[{hsheet}]"))
            hmap, mmap = _each_ignoring_the_other(hmap, mmap)
        h = TableFile(p, fmt, "households", hmap, sheet=hsheet, per_person=hsheet == msheet)
        m = TableFile(p, fmt, "members", mmap, sheet=msheet)
        return ColumnarSource(h, m)
    if members is None:
        siblings = [x for x in p.parent.glob(f"members.{p.suffix.lstrip('.')}")]
        if not siblings:
            raise InputError(f"{p}: give the members table (--members), e.g. members{p.suffix}")
        members = siblings[0]
    mp = Path(members)
    if not mp.exists():
        raise InputError(f"{mp}: no such file")
    if _format_of(mp) != fmt:
        raise InputError(f"{mp}: the members table must be {fmt} like the households")
    same_sheet = hmap is None or mmap is None or hmap.sheet == mmap.sheet
    if mp.resolve() == p.resolve() and (fmt != "excel" or same_sheet):
        raise InputError(_one_table(p.name))
    h = TableFile(p, fmt, "households", hmap, encoding, hmap.sheet if hmap else None)
    m = TableFile(mp, fmt, "members", mmap, encoding, mmap.sheet if mmap else None)
    return ColumnarSource(h, m)


def _one_table(label: str) -> str:
    """Households and members named as one table where that is not read: said before every
    row is refused as a household given twice."""
    return (
        f"{label}: the households and the members are the same table; a register of one row "
        "per person is read from an Excel sheet named in a mapping (households: sheet: and "
        "members: sheet:), else give a households table (one row each) and a members table"
    )


def _each_ignoring_the_other(
    hmap: TableMapping, mmap: TableMapping
) -> tuple[TableMapping, TableMapping]:
    """Two mappings of one sheet: each leaves out the columns the other reads (a member's
    身份证号 is not a household column left unused, nor the reverse)."""
    hmine, mmine = set(hmap.columns), set(mmap.columns)
    h_more = [c for c in [*mmap.columns, *mmap.ignore] if c not in hmine]
    m_more = [c for c in [*hmap.columns, *hmap.ignore] if c not in mmine]
    return (
        hmap.model_copy(update={"ignore": [*hmap.ignore, *h_more]}),
        mmap.model_copy(update={"ignore": [*mmap.ignore, *m_more]}),
    )


def _one_per_household(frame: pl.DataFrame, mapping: TableMapping | None) -> pl.DataFrame:
    """The households of a sheet of one row per person: of rows that agree on every household
    column, the first, numbered with its row among the sheet's records. Rows of one household
    that disagree (two 家庭金融资产) stay, and the household is refused as given twice: which
    one is right is for the office to say, not a guess."""
    # the household's columns as the mapping reads them (家庭金融资产 with a space after it too)
    mine = list(Applied(mapping, "households", frame.columns, "").renames)
    if ROW not in frame.columns:  # (numbered already when rows were refused)
        frame = frame.with_columns(pl.Series(ROW, np.arange(1, frame.height + 1, dtype=np.int64)))
    return frame.unique(subset=mine, keep="first", maintain_order=True)


def content_hash(paths: tuple[Path, ...]) -> dict[str, str]:
    """A SHA-256 of each file's bytes, read in blocks: a resumed run notices an edit that kept
    the size and the modification time."""
    out = {}
    for p in paths:
        with open(p, "rb") as f:
            out[str(p)] = hashlib.file_digest(f, "sha256").hexdigest()
    return out


class Source:
    """A register that can be read in chunks."""

    paths: tuple[Path, ...] = ()

    def total(self) -> int | None:
        return None

    def chunks(self, size: int, workdir: Path | None = None) -> Iterator[Chunk]:
        raise NotImplementedError

    warnings: list[str] = []  # noqa: RUF012 - read-only default

    def warn(self, message: str) -> None:
        """Something the user should know about the register (printed before the run)."""
        self.warnings = [*self.warnings, message]

    def fingerprint(self) -> dict[str, Any]:
        return content_hash(self.paths)

    def in_memory(self) -> bool:
        """Whether the register is read whole, in native code (so reading it can overlap other
        work), with no work folder."""
        return False


# -- JSON Lines ---------------------------------------------------------------------------------
class JsonLinesSource(Source):
    """Canonical households, one JSON object per line (validated by the pydantic models)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.paths = (path,)
        self.mode = "jsonl"
        self.twice: dict[str, list[int]] = {}

    def total(self) -> int | None:
        with open(self.path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))

    def chunks(self, size: int, workdir: Path | None = None) -> Iterator[Chunk]:
        from minzheng_rules.io._households import duplicate_ids

        self.twice = duplicate_ids(self.path)
        index = 0
        batch: list[tuple[int, bytes]] = []
        with open(self.path, "rb") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                batch.append((number, line))
                if len(batch) == size:
                    yield self._chunk(index, batch)
                    index, batch = index + 1, []
        if batch:
            yield self._chunk(index, batch)

    def _chunk(self, index: int, lines: list[tuple[int, bytes]]) -> Chunk:
        from minzheng_rules.io._households import twice_reason

        good = []
        rejects = []
        source = self.path.name
        for number, raw in lines:
            try:
                data = json.loads(raw)
                if b"\\u" in raw:  # an escaped lone surrogate is not text: refused here
                    json.dumps(data, ensure_ascii=False).encode("utf-8")
            except json.JSONDecodeError as e:
                rejects.append(Reject(source, number, None, [f"line: not valid JSON ({e.msg})"]))
                continue
            except UnicodeError:
                reason = "line: not valid UTF-8 text (a stray byte or a lone \\ud800-\\udfff)"
                rejects.append(Reject(source, number, None, [reason]))
                continue
            except RecursionError:
                rejects.append(Reject(source, number, None, ["line: nested too deeply"]))
                continue
            hid = data.get("id") if isinstance(data, dict) else None
            hid = hid if isinstance(hid, str) else None
            if hid is not None and hid in self.twice:
                reason = f"id: {twice_reason(hid, self.twice[hid], source)}"
                rejects.append(Reject(source, number, hid, [reason]))
                continue
            try:
                good.append(parse_household(data))
            except HouseholdError as e:
                reasons = [f"{where}: {what}" for where, what in e.problems]
                rejects.append(Reject(source, number, hid, reasons))
        h, m = households_to_frames(good)
        return Chunk(index, h, m, rejects, read=len(lines))


# -- columnar -----------------------------------------------------------------------------------
def _detect_encoding(path: Path) -> str | None:
    """None for UTF-8; GB18030 (a superset of GBK, what many Chinese office exports write) when
    the file's first megabyte is not UTF-8 but reads as GB18030."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    cut = head.rfind(b"\n") + 1 if len(head) == 1 << 20 else len(head)
    try:
        head[:cut].decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    try:
        head[:cut].decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return None


_WHY = "__why"  # an Excel row's reason for being refused (see _excel)
# a 身份证号 (居民身份证号码, GB 11643-1999): 17 digits and a check digit or X
_ID_CARD = r"^\d{17}[\dXx]$"


def _index_column(name: str) -> bool:
    """A column with no name (pandas writes its index so: ``,household_id,…`` in CSV,
    ``Unnamed: 0`` once read back): left out with a warning, never an error."""
    return name.strip() == "" or name.startswith("Unnamed: ")


_CSV_FIELD = r'(?:"(?:[^"]|"")*"|[^,"]*)'
_CSV_RECORD = rf"^{_CSV_FIELD}(?:,{_CSV_FIELD})*$"


class TableFile:
    """One table of a register (a Parquet or CSV file, or an Excel sheet) read in batches
    with canonical column names: the mapping's names and codes are applied on whole columns."""

    def __init__(
        self,
        path: Path,
        fmt: str,
        table: str,
        mapping: TableMapping | None = None,
        encoding: str | None = None,
        sheet: str | None = None,
        per_person: bool = False,
    ) -> None:
        """``per_person``: an Excel sheet of one row per person, read as the households (one
        row of each household's columns per household; see ``_one_per_household``)."""
        self.path, self.fmt, self.table, self.sheet = path, fmt, table, sheet
        self.per_person, self._mapping = per_person, mapping
        # a sheet whose header is under a title row (湖州市低保家庭名册): its row, from 1
        self.header_row = mapping.header_row if mapping else 1
        if self.header_row != 1 and fmt != "excel":
            raise InputError(
                f"{path.name}: header_row is for Excel sheets (a CSV's header is line 1)"
            )
        self.label = f"{path.name}[{sheet}]" if fmt == "excel" else path.name
        self.warnings: list[str] = []
        self._frame: pl.DataFrame | None = None
        self._utf8: Path | None = None
        # CSV rows that cannot be parsed: (row, household id if it can be read, reason); when
        # there are any the file is read line by line (see _line_batches)
        self.bad_rows: list[tuple[int, str | None, str]] = []
        # Excel rows refused as they were read (a rounded number, an amount merged over rows)
        self._refused: pl.DataFrame | None = None
        self._checked = fmt != "csv"
        self._line_mode = False
        if fmt == "csv":
            self._setup_encoding(encoding)
        header = self._header()
        columns = HOUSEHOLD_COLUMNS if table == "households" else MEMBER_COLUMNS
        twice = sorted({n for n in header if header.count(n) > 1})
        if twice:
            raise InputError(f"{self.label}: column '{twice[0]}' appears twice in the header")
        self.applied = Applied(mapping, table, header, self.label)
        named = [n for n in header if not _index_column(n)]
        if mapping is None and any(not _index_column(n) for n in self.applied.unused):
            check_columns(named, columns, self.label)  # an unknown name: did you mean …
        where = {"csv": "line 1", "excel": f"row {self.header_row}"}.get(fmt, "header")
        self.applied.require(columns, where, fmt == "excel")
        check_columns(list(self.applied.renames.values()), columns, self.label)
        self._record_refused()
        if self.applied.unused:
            self.warnings.append(
                f"{self.label}: columns not used (neither mapped nor ignored): "
                # (a trailing comma on every line is a column with no name)
                + ", ".join(
                    n if n.strip() else "(a column with no name)" for n in self.applied.unused
                )
            )
        if self.applied.absent:
            self.warnings.append(
                f"{self.label}: mapped columns not in the header, their fields not given: "
                + ", ".join(f"{n} ({self.applied.rules[n].field})" for n in self.applied.absent)
            )
        self.check()

    # -- text encodings ---------------------------------------------------------------------------
    def _setup_encoding(self, encoding: str | None) -> None:
        import codecs

        if encoding is not None:
            try:
                encoding = codecs.lookup(encoding).name
            except LookupError:
                raise InputError(f"unknown text encoding '{encoding}'") from None
        else:
            encoding = _detect_encoding(self.path)
            if encoding:
                self.warnings.append(f"{self.label}: not UTF-8; read as {encoding} (GBK)")
        if encoding in (None, "utf-8", "utf-8-sig"):
            return
        # transcoded once into a temporary UTF-8 copy, in blocks (Arrow's CSV reader and the
        # checks below then read UTF-8); a byte that is not of the encoding becomes U+FFFD
        fd, name = tempfile.mkstemp(prefix="minzheng-utf8-", suffix=".csv")
        self._utf8 = Path(name)
        weakref.finalize(self, self._utf8.unlink, missing_ok=True)
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        with open(self.path, "rb") as src, os.fdopen(fd, "wb") as dst:
            for block in iter(lambda: src.read(1 << 22), b""):
                dst.write(decoder.decode(block).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))

    @property
    def _csv_path(self) -> Path:
        return self._utf8 or self.path

    # -- reading ----------------------------------------------------------------------------------
    def _excel(self) -> pl.DataFrame:
        if self._frame is None:
            try:
                import fastexcel
                import python_calamine  # noqa: F401  (merged cells: see _excel)

                sheets = fastexcel.read_excel(self.path).sheet_names
            except ImportError as e:
                raise InputError(
                    f"{self.path}: reading Excel needs the batch extra "
                    f"(pip install 'minzheng-rules[batch]'): {e}"
                ) from None
            except Exception as e:
                raise InputError(f"{self.path}: not a readable workbook ({one_line(e)})") from None
            if self.sheet is None and sheets:  # a workbook of one table: its first sheet
                self.sheet = sheets[0]
                self.label = f"{self.path.name}[{self.sheet}]"
            if self.sheet is None or self.sheet not in sheets:
                raise InputError(
                    f"{self.path}: no sheet '{self.sheet}' (sheets: {', '.join(sheets)}); "
                    f"name it in the mapping ({self.table}: sheet: …)"
                )
            frame, why = read_sheet(
                self.path, self.sheet, self.header_row, self.label, self._amounts
            )
            empty = frame.select(pl.all_horizontal(pl.all().is_null())).to_series()
            frame = frame.filter(~empty)  # (as Polars drops them)
            # (a sheet of one row per person: refused as the members' rows, whose households
            # are then refused; as households' rows they would count a household twice)
            if why is not None and not self.per_person:
                # numbered as the sheet's records: the refused keep their place in the count
                rows = pl.Series(ROW, np.arange(1, frame.height + 1, dtype=np.int64))
                frame = frame.with_columns(rows, why.filter(~empty).alias(_WHY))
                self._refused = frame.filter(pl.col(_WHY).is_not_null())
                frame = frame.filter(pl.col(_WHY).is_null()).drop(_WHY)
            if self.per_person:
                frame = _one_per_household(frame, self._mapping)
            self._frame = frame
        return self._frame

    def _amounts(self, header: list[str]) -> tuple[str, ...]:
        """Of a members sheet's ``header``, the columns of one amount per member (月收入)."""
        if self.table != "members":
            return ()
        money = {c.name for c in MEMBER_COLUMNS if c.kind == "money"}
        renames = Applied(self._mapping, "members", header, self.label).renames
        return tuple(n for n, field in renames.items() if field in money)

    def _record_refused(self) -> None:
        """The sheet's rows refused as they were read (a rounded number in a text column, an
        amount merged over several rows: see ``_excel``) as rows that cannot be read, each with
        its reason and its household's id (unless that is a rounded cell): its household is
        refused too, as for a CSV row."""
        if self._refused is None:
            return
        source = self.applied.source_name(HOUSEHOLD_ID)
        for row in self._refused.iter_rows(named=True):
            hid = row.get(source)
            known = hid is not None and not re.fullmatch(LONG_NUMBER, str(hid))
            self.bad_rows.append((int(row[ROW]), str(hid) if known else None, row[_WHY]))

    def _header(self) -> list[str]:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            try:
                return list(pq.ParquetFile(self.path).schema_arrow.names)
            except (pa.ArrowException, OSError, ValueError) as e:
                raise InputError(f"{self.path}: not a Parquet file ({one_line(e)})") from None
        if self.fmt == "excel":
            return list(self._excel().columns)
        import csv

        with open(self._csv_path, encoding="utf-8-sig", errors="replace") as f:
            line = f.readline()
        if not line.strip():
            raise InputError(f"{self.label}: empty file (no header line)")
        return next(csv.reader([line.strip("\r\n")]), [])

    def rows(self) -> int:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(self.path).metadata.num_rows
        if self.fmt == "excel":  # (with the rows refused as they were read)
            refused = 0 if self._refused is None else self._refused.height
            return self._excel().height + refused
        with open(self._csv_path, "rb") as f:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))
        return max(lines - 1, 0)

    def memory_bytes(self) -> int:
        """About how many bytes the whole table takes once read: Parquet, its first rows read
        and measured, scaled to the whole (the footer's sizes undercount dictionary-encoded
        text many times over, and a width per type overcounts short text, which Polars keeps
        inline in its 16-byte views); CSV, three times the file (a short cell becomes a
        16-byte view); Excel: nothing more, the sheet is already read."""
        if self.fmt == "parquet":
            rows = self.rows()
            if rows == 0:
                return 0
            try:
                sample = pl.read_parquet(self.path, n_rows=min(rows, _SAMPLE_ROWS))
            except pl.exceptions.PolarsError as e:
                raise InputError(f"{self.path}: cannot read ({one_line(e)})") from None
            return int(sample.estimated_size() * rows / max(sample.height, 1))
        if self.fmt == "excel":
            return 0
        return 3 * self._csv_path.stat().st_size

    def read_all(self) -> pl.DataFrame:
        """The whole table at once, canonical names, rows numbered from 1 in ``__row``
        (Parquet and Excel: one read, not slices)."""
        self.check()
        if self.fmt in ("parquet", "excel"):
            if self.fmt == "excel":
                frame = self._excel()
            else:
                try:
                    frame = pl.read_parquet(self.path)
                except pl.exceptions.PolarsError as e:
                    raise InputError(f"{self.path}: cannot read ({one_line(e)})") from None
            frame = self.applied.apply(frame)
            if ROW in frame.columns:  # numbered by the reader (a sheet of one row per person)
                return frame
            rows = pl.Series(ROW, np.arange(1, frame.height + 1, dtype=np.int64))
            return frame.with_columns(rows)
        rechunk = _Rechunk(self.batches())
        parts = []
        while (b := rechunk.take(1 << 20)) is not None:
            parts.append(b)
        if parts:
            return pl.concat(parts, how="vertical_relaxed")
        empty = pl.DataFrame(schema={n: pl.String for n in self._header()})
        return self.applied.apply(empty).with_columns(pl.Series(ROW, [], dtype=pl.Int64))

    def batches(self, fields: list[str] | None = None) -> Iterator[pl.DataFrame]:
        """The table's rows in batches, canonical names (``fields``: only these)."""
        columns = None if fields is None else [self.applied.source_name(f) for f in fields]
        self.check()
        raw = self._line_batches(columns) if self._line_mode else self._raw_batches(columns)
        for b in raw:
            yield self.applied.apply(b)

    def check(self) -> None:
        """CSV: one pass of Arrow's parser over every cell; a row it cannot take (a wrong number
        of fields, a stray quote, bytes that are not UTF-8, a field too large for a block)
        switches the file to line-by-line reading, where each such row is refused alone."""
        if self._checked:
            return
        self._checked = True
        import pyarrow.csv as pacsv

        invalid = []

        def handler(row: Any) -> str:
            invalid.append(row)
            return "skip"

        try:
            reader = pacsv.open_csv(
                self._csv_path,
                read_options=pacsv.ReadOptions(block_size=1 << 24),
                parse_options=pacsv.ParseOptions(invalid_row_handler=handler),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in self._header()}
                ),
            )
            for _ in reader:
                if invalid:
                    break
        except pa.ArrowException:
            invalid.append(None)
        if invalid:
            self._line_mode = True
            self.warnings.append(
                f"{self.label}: rows that cannot be parsed are refused one by one "
                "(the file is read line by line: slower)"
            )

    def _line_batches(self, columns: list[str] | None) -> Iterator[pl.DataFrame]:
        """A damaged CSV, one physical line a record (as Arrow's reader takes it): lines are
        checked on the whole column (UTF-8, quotes closed, the header's number of fields);
        the good ones are parsed together, each bad one is a refused row with its reason.
        The file is held in memory: this is the path for a damaged export, not the usual one."""
        import io

        import pyarrow.csv as pacsv

        data = self._csv_path.read_bytes()
        try:
            text = data.decode("utf-8")
            broken_utf8 = False
        except UnicodeDecodeError:
            text, broken_utf8 = data.decode("utf-8", errors="replace"), True
        del data
        lines = pl.Series("l", [text.removeprefix("\ufeff")]).str.split("\n").explode()
        del text
        lines = lines.str.strip_suffix("\r")
        header = self._header()
        number = pl.Series(ROW, np.arange(len(lines), dtype=np.int64))  # 0: the header
        fields = lines.str.replace_all(r'"(?:[^"]|"")*"', "").str.count_matches(",") + 1
        shaped = lines.str.contains(_CSV_RECORD)
        reason = pl.select(
            pl.when(lines.str.strip_chars() == "")
            .then(pl.lit(""))  # a blank line: skipped, as Arrow does
            .when(pl.lit(broken_utf8) & lines.str.contains("\ufffd", literal=True))
            .then(pl.lit("not valid UTF-8 (give the file's encoding, e.g. --encoding gbk)"))
            .when(~shaped)
            .then(pl.lit("a quote that is not closed, or a quote inside an unquoted field"))
            .when(fields != len(header))
            .then(pl.format("{} fields, expected {}", fields, pl.lit(len(header))))
        ).to_series()
        frame = pl.DataFrame([number, lines, reason.alias("why")]).slice(1)
        bad = frame.filter(pl.col("why").is_not_null() & (pl.col("why") != ""))
        good = frame.filter(pl.col("why").is_null())
        self._record_bad(bad, header)
        kept = pl.concat([lines.head(1), good.get_column("l")])
        payload = kept.str.join("\n").item().encode("utf-8")
        longest = int(kept.str.len_bytes().max() or 0)  # type: ignore[arg-type]  # (an integer column's max)
        table = pacsv.read_csv(
            io.BytesIO(payload),
            read_options=pacsv.ReadOptions(
                block_size=min(max(1 << 24, 2 * longest + 2), 2**31 - 1)
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in header},
                include_columns=columns,
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=False,
            ),
        )
        out = pl.from_arrow(table)
        assert isinstance(out, pl.DataFrame)
        out = out.with_columns(good.get_column(ROW))
        for start in range(0, out.height, _PARQUET_BATCH):
            yield out.slice(start, _PARQUET_BATCH)

    def _record_bad(self, bad: pl.DataFrame, header: list[str]) -> None:
        """The refused lines with their household id where one can be read (Python's csv
        module on each bad line alone: there are few)."""
        import csv

        if self.bad_rows:
            return  # recorded by an earlier pass over the same file
        source = self.applied.source_name(HOUSEHOLD_ID)
        at = header.index(source) if source in header else None
        for row, line, why in bad.iter_rows():
            hid = None
            if at is not None:
                try:
                    cells = next(csv.reader([line]), [])
                    hid = cells[at] if at < len(cells) and cells[at] else None
                    if hid is not None:  # (as the column's good rows read it: 1001.0 is 1001)
                        hid = re.sub(WHOLE_FLOAT_TEXT, r"\1", hid)
                except csv.Error:
                    hid = None
            self.bad_rows.append((int(row), hid, why))

    def _raw_batches(self, columns: list[str] | None) -> Iterator[pl.DataFrame]:
        if self.fmt == "parquet":
            # Polars' own reader, a slice at a time: several times faster than Arrow record
            # batches converted to Polars (no large_string → view conversion), still bounded
            rows = self.rows()
            scan = pl.scan_parquet(self.path)
            if columns is not None:
                scan = scan.select(columns)
            try:
                for start in range(0, rows, _PARQUET_BATCH):
                    yield scan.slice(start, _PARQUET_BATCH).collect()
            except pl.exceptions.PolarsError as e:
                raise InputError(f"{self.path}: cannot read ({one_line(e)})") from None
            return
        if self.fmt == "excel":
            frame = self._excel()
            if columns is not None:
                frame = frame.select(columns)
            for start in range(0, frame.height, _PARQUET_BATCH):
                yield frame.slice(start, _PARQUET_BATCH)
            return
        import pyarrow.csv as pacsv

        names = self._header()
        types = {n: pa.string() for n in names}
        try:
            reader = pacsv.open_csv(
                self._csv_path,
                read_options=pacsv.ReadOptions(block_size=1 << 24),
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
        except pa.ArrowException as e:
            raise InputError(f"{self.label}: cannot read ({one_line(e)})") from None


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
            if ROW not in b.columns:  # rows numbered by the reader keep their numbers
                b = b.with_columns(
                    pl.Series(
                        ROW, np.arange(self.next_row, self.next_row + b.height, dtype=np.int64)
                    )
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

    def take_runs(self, runs: int, key: str) -> tuple[pl.DataFrame, np.ndarray]:
        """Rows up to the start of the ``runs + 1``-th run of equal ``key`` values, and where
        each of their runs starts (the buffer is filled by an estimate of the rows needed, so
        the runs are counted about once)."""
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
                    return out, starts[:runs]
            if self.done:
                rest = self.buffer
                self.buffer = None
                if rest is None or rest.height == 0:
                    return rest if rest is not None else pl.DataFrame(), np.zeros(0, np.int64)
                return rest, starts
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
    """A households table and a members table: Parquet, CSV or Excel."""

    def __init__(self, households: TableFile, members: TableFile) -> None:
        self.htable, self.mtable = households, members
        self.households, self.members = households.path, members.path
        self.fmt = households.fmt
        self.paths = tuple(dict.fromkeys((households.path, members.path)))
        # how members are matched: "aligned" (in the households' order), "joined" (in memory),
        # "partitioned" (hash buckets on disk); known once the first chunk is read
        self.mode: str | None = None
        self.route: str | None = None  # memory | aligned (streamed) | partitioned
        self.snapshot = False  # a database snapshot in temporary files (see .database)
        # households refused for a member row whose id is theirs but for spaces (_near_misses)
        self._near: dict[str, str] = {}

    def fingerprint(self) -> dict[str, Any]:
        if self.snapshot:  # the files' names change each time; their contents are the input
            return {
                t.label: content_hash((t.path,))[str(t.path)] for t in (self.htable, self.mtable)
            }
        return content_hash(self.paths)

    @property
    def warnings(self) -> list[str]:  # type: ignore[override]
        # (once: two tables read off one sheet warn of the same column)
        return list(dict.fromkeys(self.htable.warnings + self.mtable.warnings))

    def warn(self, message: str) -> None:
        self.htable.warnings.append(message)

    def total(self) -> int | None:
        return self.htable.rows()

    def aligned(self, size: int = 262_144) -> bool:
        """True when every household's members are together, in the households' order, every
        household has one and no household id is given twice (checked on the id columns
        alone; a household given twice is refused, every time, by the partitioned path)."""
        hs = _Rechunk(self.htable.batches([HOUSEHOLD_ID]))
        ms = _Rechunk(self.mtable.batches([HOUSEHOLD_ID]))
        hashes: list[pl.Series] = []
        while True:
            h = hs.take(size)
            if h is None:
                if ms.take(1) is not None:
                    return False
                seen = pl.concat(hashes) if hashes else pl.Series(dtype=pl.UInt64)
                return seen.n_unique() == seen.len()  # equal hashes: decided exactly there
            m, starts = ms.take_runs(h.height, HOUSEHOLD_ID)
            if not _same_runs(h, m, starts):
                return False
            hashes.append(h.get_column(HOUSEHOLD_ID).hash(seed=20240601))

    def in_memory(self) -> bool:
        """Whether both tables are small enough to be read whole (decided from the files
        alone, so a resumed run cuts the same chunks)."""
        return self.htable.memory_bytes() + self.mtable.memory_bytes() <= IN_MEMORY_BYTES

    def chunks(self, size: int, workdir: Path | None = None) -> Iterator[Chunk]:
        if self.route is None:
            self.route = (
                "memory" if self.in_memory() else "aligned" if self.aligned() else "partitioned"
            )
            self.mode = None if self.route == "memory" else self.route
        if self.route == "memory":
            inner = self._joined_chunks(size)
        elif self.route == "aligned":
            inner = self._aligned_chunks(size)
        else:
            inner = self._partitioned_chunks(size, workdir)
        first = True
        for chunk in inner:
            if first:  # rows the parser refused (known by now: both files were read once)
                first = False
                self._add_bad_rows(chunk)
            yield chunk
        if first and (self.htable.bad_rows or self.mtable.bad_rows):
            empty = Chunk(
                0,
                pl.DataFrame(schema=clean_schema(HOUSEHOLD_COLUMNS)),
                pl.DataFrame(schema={**clean_schema(MEMBER_COLUMNS), HH: pl.UInt32}),
            )
            self._add_bad_rows(empty)
            yield empty

    def _add_bad_rows(self, chunk: Chunk) -> None:
        h, m = self.htable, self.mtable
        chunk.rejects[:0] = [Reject(h.label, r, hid, [f"row: {why}"]) for r, hid, why in h.bad_rows]
        chunk.rejects[:0] = [Reject(m.label, r, hid, [f"row: {why}"]) for r, hid, why in m.bad_rows]
        chunk.read += len(h.bad_rows)
        chunk.member_rejects += len(m.bad_rows)

    def _poisoned(self) -> dict[str, str]:
        """Households with a member row the parser refused, or one refused for an id that is
        theirs but for spaces: refused too (evaluated without that member, their answer could
        be wrong)."""
        return self._near | {
            hid: f"members: {self.mtable.label} row {row} cannot be read ({why})"
            for row, hid, why in self.mtable.bad_rows
            if hid is not None
        }

    def _near_misses(self, m: pl.DataFrame, pos: np.ndarray, ids: pl.Series) -> dict[str, str]:
        """Of the member rows matched to no household (``pos`` < 0), those whose household id
        is one of ``ids`` but for spaces around it, letter case, full-width characters or
        leading zeros ('1001 ', a 身份证号 ending in 'x' for 'X', '１００１' typed in full-width
        mode, 1001 for 001001 in a number cell): that household's reason to be refused. Such a
        row is most likely its member, and without it the household's answer would be wrong
        (three members' income shared by two)."""
        lost = m.filter(pl.Series(pos < 0)).select(ROW, HOUSEHOLD_ID)
        lost = lost.with_columns(_loose(lost.get_column(HOUSEHOLD_ID)).alias("key"))
        homes = pl.DataFrame({"home": ids, "key": _loose(ids)})
        near = lost.join(homes, on="key").filter(pl.col("home") != pl.col(HOUSEHOLD_ID))

        def how(given: str, home: str) -> str:
            if given.strip().upper() == home.strip().upper():
                return "spaces or letter case"
            if given.strip().lstrip("0") == home.strip().lstrip("0"):
                return (
                    "leading zeros (a spreadsheet drops them from a number: format the column "
                    "as text (文本))"
                )
            return "full-width characters (１００１ for 1001), spaces or letter case"

        return {
            home: f"members: {self.mtable.label} row {row} has household_id '{given}', which "
            f"differs from this household's only by {how(given, home)}: fix that id (the "
            "household is not evaluated without that member)"
            for row, given, _, home in near.iter_rows()
        }

    def _twins(self, ids: pl.Series, keep: np.ndarray, alone: np.ndarray) -> dict[str, str]:
        """Households whose id is another household's but for spaces, letter case,
        full-width characters or leading zeros ('1001' and '1001 '): the same household given
        twice, refused both (which row is right is for the office to say). In a sheet of one
        row per person, a member's '1001 ' made a household of its own, and 1001 was judged
        without that member. Looked for in Excel and CSV registers, and in others only when a
        household has no member (``alone``; the ids' loose form costs a pass over every id)."""
        if self.fmt not in ("excel", "csv") and not (keep & alone).any():
            return {}
        rows = pl.DataFrame({"id": ids}).filter(pl.Series(keep))
        rows = rows.with_columns(key=_loose(rows.get_column("id")))
        rows = rows.filter(pl.col("key").is_duplicated())  # (exact twins are not kept)
        if rows.is_empty():
            return {}
        twins = rows.join(rows.rename({"id": "twin"}), on="key").filter(
            pl.col("id") != pl.col("twin")
        )
        label = self.htable.label
        return {
            home: f"household_id: {label} also has a household '{twin}', this one but for "
            "spaces, letter case, full-width characters or leading zeros: the household is "
            "given twice (fix the id that is wrong, or delete the row)"
            for home, _, twin in twins.iter_rows()
        }

    def _blank_under(self, m: pl.DataFrame, pos: np.ndarray) -> dict[str, str]:
        """Of the member rows matched to no household, those of a person (a member id) whose
        household id is blank: the household of the rows above them refused too. An office
        leaves 户编号 blank under a household's first row ("as above"); such a row is most
        likely that household's member, and without it the household's answer would be wrong
        (its head alone, judged on one person's income). ``m``: the members in file order.

        Only in a file whose members come household by household: where they do not (a
        shuffled export), the rows above a blank one are anyone's, and refusing their
        household would blame one that may be whole."""
        if MEMBER_ID not in m.columns:
            return {}
        hid = m.get_column(HOUSEHOLD_ID).cast(pl.String)
        blank = hid.is_null() | (hid.str.strip_chars() == "")
        person = numbers_as_text(m.get_column(MEMBER_ID)).str.strip_chars().fill_null("") != ""
        under = pl.Series(pos < 0) & blank & person
        if not under.any():
            return {}
        given = hid.filter(~blank)
        if len(_run_starts(given)) != given.n_unique():  # a household's rows apart: no order
            return {}
        above = pl.select(pl.when(~blank).then(hid).forward_fill()).to_series()
        rows = m.get_column(ROW).filter(under)
        homes = above.filter(under)
        out: dict[str, str] = {}
        for row, home in zip(rows, homes, strict=True):  # (refused rows alone; the first named)
            if home is not None and home not in out:
                out[home] = (
                    f"members: {self.mtable.label} row {row} (a member, under this household's "
                    "rows) has no household_id: give it (a total or a note: delete it); the "
                    "household is not evaluated without that member"
                )
        return out

    def _one_person_twice(self, m: pl.DataFrame, pos: np.ndarray, ids: pl.Series) -> dict[str, str]:
        """Households that share a member whose id is a 身份证号: each refused, naming the
        other. A person is a member of one household; listed in two (a move not yet recorded
        in one of them, a row pasted into the wrong household), each household is judged
        with a person it may not have, and both may be paid for them. Member ids of another
        form (``a``, ``b``: an office's own numbering within a household) say nothing across
        households, so a register whose first members' ids are not 身份证号 is not looked at."""
        if MEMBER_ID not in m.columns:
            return {}
        mid = numbers_as_text(m.get_column(MEMBER_ID))
        if mid.dtype != pl.String or not mid.head(1000).str.contains(_ID_CARD).any():
            return {}
        people = pl.DataFrame({"row": m.get_column(ROW), "mid": mid, "home": pos})
        people = people.filter((pl.col("home") >= 0) & pl.col("mid").str.contains(_ID_CARD))
        people = people.with_columns(pl.col("mid").str.to_uppercase())  # (the check x or X)
        shared = people.filter(pl.col("mid").is_duplicated())
        if shared.is_empty():
            return {}
        apart = (
            shared.group_by("mid", maintain_order=True)
            .agg(pl.col("home").unique(maintain_order=True), pl.col("row"))
            .filter(pl.col("home").list.len() > 1)
        )
        out: dict[str, str] = {}
        label = self.mtable.label
        for person, homes, rows in apart.iter_rows():  # (the people listed twice alone)
            named = [str(ids[h]) for h in homes]
            where = ", ".join(str(r) for r in rows)
            for home in named:
                others = ", ".join(f"'{o}'" for o in named if o != home)
                out.setdefault(
                    home,
                    f"members: member '{person}' (a 身份证号) is in household {others} too "
                    f"({label} rows {where}): a person is a member of one household; fix the "
                    "row that is wrong",
                )
        return out

    def _aligned_chunks(self, size: int) -> Iterator[Chunk]:
        hs = _Rechunk(self.htable.batches())
        ms = _Rechunk(self.mtable.batches())
        index = 0
        while True:
            h = hs.take(size)
            if h is None:
                return
            m, starts = ms.take_runs(h.height, HOUSEHOLD_ID)
            if not _same_runs(h, m, starts):
                raise InputError(
                    f"{self.mtable.label}: members are not in the households' order "
                    "(the file changed while it was read?)"
                )
            starts_at = np.zeros(m.height, dtype=np.int64)
            starts_at[starts] = 1
            run = np.cumsum(starts_at) - 1  # each member's run: its household's row
            yield self._validate(index, h, m, run)
            index += 1

    def _validate(
        self, index: int, h: pl.DataFrame, m: pl.DataFrame, hh_index: np.ndarray
    ) -> Chunk:
        # (the row numbers stay in: clean leaves "__" columns out)
        hc = clean(h, HOUSEHOLD_COLUMNS, self.htable.label, self.htable.applied.units)
        mc = clean(m, MEMBER_COLUMNS, self.mtable.label, self.mtable.applied.units)
        poisoned = self._poisoned()
        if poisoned:
            why = hc.get_column(HOUSEHOLD_ID).replace_strict(
                poisoned, default=None, return_dtype=pl.String
            )
            hc = hc.with_columns(
                pl.concat_str([pl.col(ERR), why], separator=SEP, ignore_nulls=True)
                .replace("", None)
                .alias(ERR)
            )
        h_rows = h.get_column(ROW).to_numpy()
        m_rows = m.get_column(ROW).to_numpy() if ROW in m.columns else np.zeros(0, np.int64)
        key = None
        if self.fmt in ("excel", "csv"):
            # a person typed twice into an office's sheet ('b' and 'b ', a 身份证号 with x and
            # with X) is given twice, not two members with one income each (Parquet and
            # databases compare ids as they are: this pass over every id costs them 2-5 %)
            key = _loose(mc.get_column(MEMBER_ID))
        good_h, good_m, rejects = assemble(
            hc, mc, hh_index, self.htable.label, self.mtable.label, h_rows, m_rows, key
        )
        return Chunk(index, good_h, good_m, rejects, read=h.height)

    # -- in memory: both tables read whole, members matched by one hash join ---------------------
    def _joined_chunks(self, size: int) -> Iterator[Chunk]:
        """Chunks of ``size`` household rows in the file's order, each with its members (in
        their file's order). The same refusals as the partitioned path: a household id given
        twice or missing, and a member whose household is not there."""
        h, m = self.htable.read_all(), self.mtable.read_all()
        yield from self._matched(h, m, size)

    def _matched(
        self, h: pl.DataFrame, m: pl.DataFrame, size: int, bucket: int | None = None
    ) -> Iterator[Chunk]:
        """``h`` in chunks of ``size`` rows, each with its members from ``m`` (both in their
        files' order). ``bucket``: ``h`` and ``m`` are one hash bucket, given as one chunk of
        that index (even an empty one), and the mode is left as it is."""
        n = h.height
        ids, mids = h.get_column(HOUSEHOLD_ID), m.get_column(HOUSEHOLD_ID)
        nulls = ids.is_null().to_numpy()
        hashes = ids.hash(seed=20240601)
        clash = hashes.n_unique() < n  # equal hashes: decided exactly there
        dup = (ids.is_duplicated() & ids.is_not_null()).to_numpy() if clash else np.zeros(n, bool)
        keep = ~dup & ~nulls
        order: np.ndarray | None = None
        if not clash and not nulls.any() and _head_in_step(ids, mids) and _same_runs(h, m):
            self.mode = self.mode if bucket is not None else "aligned"  # no join, no gather
            _, pos = _runs(mids)
        else:
            self.mode = self.mode if bucket is not None else "joined"
            pos = self._household_of(ids, mids, hashes, keep, clash)
            matched = pos >= 0
            if matched.all() and (len(pos) < 2 or bool((pos[1:] >= pos[:-1]).all())):
                pass  # in order already
            else:  # by household, then by row: each household's members in their file's order
                rows = np.flatnonzero(matched)
                if len(pos) < 2**32:  # one sort of (household, row) packed in 64 bits
                    order = _sorted((pos[rows] << 32) | rows) & 0xFFFFFFFF
                else:
                    order = rows[np.argsort(pos[rows], kind="stable")]
        orphans = self._orphans(m, pos, ids.filter(pl.Series(dup)))
        member_count = np.bincount(pos[pos >= 0], minlength=n) if n else np.zeros(0, np.int64)
        self._near.update(self._twins(ids, keep, member_count == 0))
        if bucket is None:  # (split into buckets, a person's two households may be apart)
            self._near.update(self._one_person_twice(m, pos, ids))
        if orphans:
            self._near.update(self._near_misses(m, pos, ids))
            if bucket is None:  # (in a bucket, the rows above are elsewhere)
                self._near.update(self._blank_under(m, pos))
        # the members' row numbers are for orphans alone: not gathered (dropped in place, as
        # _contiguous works, so that the caller's frame lets go of the columns too)
        m.drop_in_place(ROW)
        if order is not None:
            # a matched member's household id is its household's (compared as text): taken
            # from the households in order below, not gathered
            m.drop_in_place(HOUSEHOLD_ID)
            m = _contiguous(m)
        del ids, mids, hashes  # held while the chunks are given out: not needed any more
        offsets = np.concatenate([[0], np.cumsum(member_count)])
        count = -(-n // size)
        if count == 0 and (orphans or bucket is not None):
            count = 1  # no household, yet members to refuse
        for k in range(count):
            a, b = k * size, min(n, (k + 1) * size)
            kept = keep[a:b]
            hk = h.slice(a, b - a)
            rejects = self._id_rejects(hk, dup[a:b], nulls[a:b])
            if not kept.all():
                hk = hk.filter(pl.Series(kept))
            lo, hi = int(offsets[a]), int(offsets[b])
            if order is None:
                mk, pk = m.slice(lo, hi - lo), pos[lo:hi]
            else:
                rows = order[lo:hi]
                mk, pk = m.gather(rows), pos[rows]
            hh_index = (np.cumsum(kept) - 1)[pk - a]
            if order is not None:
                mk = mk.with_columns(hk.get_column(HOUSEHOLD_ID).gather(hh_index))
            chunk = self._validate(k if bucket is None else bucket, hk, mk, hh_index)
            if k == 0:
                rejects += orphans
                chunk.member_rejects = len(orphans)
            chunk.rejects = rejects + chunk.rejects
            chunk.read = b - a
            yield chunk

    def _household_of(
        self, ids: pl.Series, mids: pl.Series, hashes: pl.Series, keep: np.ndarray, clash: bool
    ) -> np.ndarray:
        """Per member, the row of its household among those kept (-1: none): a join on the
        ids' 64-bit hashes, checked against the ids themselves (on the text when two kept
        households' hashes agree)."""
        rows = pl.Series("i", np.flatnonzero(keep), dtype=pl.Int64)
        key_h, key_m = hashes, mids.hash(seed=20240601)
        if not keep.all():
            key_h = hashes.filter(pl.Series(keep))
        by_text = clash and key_h.n_unique() < key_h.len()
        if by_text:
            key_h, key_m = ids.filter(pl.Series(keep)), mids
        index = pl.DataFrame([key_h.alias("k"), rows])
        found = (
            pl.DataFrame([key_m.alias("k")])
            .join(index, on="k", how="left", maintain_order="left")
            .get_column("i")
        )
        if not by_text:  # a hash is not the id: where the household found has another id, none
            found = pl.select(pl.when(ids.gather(found) == mids).then(found)).to_series()
        return found.fill_null(-1).to_numpy()

    def _orphans(self, m: pl.DataFrame, pos: np.ndarray, twice: pl.Series) -> list[Reject]:
        """Member rows whose household is not there (or given twice, or unreadable)."""
        lost = pos < 0
        if not lost.any():
            return []
        unreadable = {hid for _, hid, _ in self.htable.bad_rows}
        twice_ids = set(twice.to_list())
        out = []
        for row, hid in m.filter(pl.Series(lost)).select(ROW, HOUSEHOLD_ID).iter_rows():
            out.append(
                Reject(
                    self.mtable.label,
                    int(row),
                    hid,
                    [self._orphan_reason(hid, twice_ids, unreadable)],
                )
            )
        return out

    def _orphan_reason(self, hid: str | None, twice: set[str], unreadable: set[str | None]) -> str:
        label = self.htable.label
        if hid in twice:
            return f"household_id: its household appears more than once in {label}"
        if hid in unreadable:
            return f"household_id: its household's row in {label} cannot be read"
        if hid is not None and hid != hid.strip():
            return f"household_id: no such household in {label} ('{hid}' has spaces around it)"
        return f"household_id: no such household in {label}"

    def _id_rejects(self, h: pl.DataFrame, dup: np.ndarray, nulls: np.ndarray) -> list[Reject]:
        """Household rows refused for their id: given twice, or not given."""
        label = self.htable.label
        out = []
        if dup.any():
            for row, hid in h.filter(pl.Series(dup)).select(ROW, HOUSEHOLD_ID).iter_rows():
                out.append(
                    Reject(
                        label, int(row), hid, [f"household_id: appears more than once in {label}"]
                    )
                )
        if nulls.any():
            for (row,) in h.filter(pl.Series(nulls)).select(ROW).iter_rows():
                out.append(Reject(label, int(row), None, ["household_id: Field required"]))
        return out

    # -- partitioned: hash buckets in a temporary folder -------------------------------------------
    def _partitioned_chunks(self, size: int, workdir: Path | None) -> Iterator[Chunk]:
        total = self.total() or 0
        buckets = max(1, -(-total // size))
        if buckets == 1:  # one chunk's worth: joined in memory, no buckets on disk
            frames = []
            for table in (self.htable, self.mtable):
                rows = _Rechunk(table.batches())
                parts = []
                while (b := rows.take(262_144)) is not None:
                    parts.append(b)
                frames.append(pl.concat(parts, how="vertical_relaxed") if parts else None)
            yield self._bucket_chunk(0, frames[0], frames[1])
            return
        root = Path(tempfile.mkdtemp(prefix="buckets-", dir=workdir))
        try:
            # Arrow IPC, uncompressed: written and read back at the speed of the disk (Parquet's
            # encoding and compression took most of this path's time)
            for name, table in (("h", self.htable), ("m", self.mtable)):
                writers: dict[int, Any] = {}
                schema: pa.Schema | None = None  # the first batch's: later ones are cast to it
                rows = _Rechunk(table.batches())
                while (b := rows.take(262_144)) is not None:
                    b = b.with_columns(_bucket(b.get_column(HOUSEHOLD_ID), buckets).alias("__b"))
                    for (k,), part in b.partition_by("__b", as_dict=True).items():
                        table = part.drop("__b").to_arrow()
                        schema = schema or table.schema
                        if k not in writers:
                            writers[k] = pa.ipc.new_file(root / f"{name}{k}.arrow", schema)
                        writers[k].write_table(table.cast(schema))
                for w in writers.values():
                    w.close()
            for k in range(buckets):
                hp, mp = root / f"h{k}.arrow", root / f"m{k}.arrow"
                h = pl.read_ipc(hp) if hp.exists() else None
                m = pl.read_ipc(mp) if mp.exists() else None
                yield self._bucket_chunk(k, h, m)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _bucket_chunk(self, index: int, h: pl.DataFrame | None, m: pl.DataFrame | None) -> Chunk:
        """One bucket's households (back in their file's order) and members, as one chunk."""
        if h is None:
            h = pl.DataFrame(
                {HOUSEHOLD_ID: [], ROW: []}, schema={HOUSEHOLD_ID: pl.String, ROW: pl.Int64}
            )
        if m is None or m.height == 0:
            m = pl.DataFrame(schema={HOUSEHOLD_ID: pl.String, ROW: pl.Int64})
        h = h.sort(ROW)
        return next(self._matched(h, m, max(h.height, 1), bucket=index))


def _sorted(keys: np.ndarray) -> np.ndarray:
    """``keys`` sorted by Polars, on every core (2.4 M members' keys: 0.07 s, NumPy's one-core
    sort 0.15 s; the first chunk waits for it)."""
    return pl.Series(keys).sort().to_numpy()


def _contiguous(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with one buffer per column (a gather across a Parquet file's row groups is
    four times slower), a column at a time so that only one is held twice."""
    if max(frame.n_chunks("all"), default=1) <= 1:
        return frame
    columns = []
    for name in list(frame.columns):
        columns.append(frame.drop_in_place(name).rechunk())
    return pl.DataFrame(columns)


def _head_in_step(ids: pl.Series, mids: pl.Series, rows: int = 4096) -> bool:
    """Whether the first members' runs follow the first households (a quick look that tells
    shuffled members at once, before the whole columns are compared)."""
    head = mids.head(rows)
    starts = _run_starts(head)
    if len(starts) > ids.len():
        return False
    return bool((head.gather(starts) == ids.head(len(starts))).fill_null(False).all())


def _same_runs(h: pl.DataFrame, m: pl.DataFrame, starts: np.ndarray | None = None) -> bool:
    """Whether ``m``'s runs of ids (``starts``: where they start, if known) are ``h``'s ids."""
    if m.height == 0:
        return h.height == 0
    if starts is None:
        starts = _run_starts(m.get_column(HOUSEHOLD_ID))
    if len(starts) != h.height:
        return False
    run_ids = m.get_column(HOUSEHOLD_ID).gather(starts)
    return bool((run_ids == h.get_column(HOUSEHOLD_ID)).fill_null(False).all())


def _bucket(ids: pl.Series, buckets: int) -> pl.Series:
    """A bucket number per id, the same for the same text whatever file it is in, and for ids
    of one loose form (``_loose``: so that a member's '1001 ' meets its household '1001', see
    ``ColumnarSource._near_misses``)."""
    text = _loose(ids.fill_null(""))
    return (text.hash(seed=20240601) % buckets).cast(pl.Int64)


# the folds of a loose id, each with the text it changes, in order (full-width spaces become
# spaces before they are stripped)
_FOLDS: tuple[tuple[str, Callable[[pl.Series], pl.Series]], ...] = (
    # １００１ typed in full-width mode
    (r"[\x{3000}\x{FF01}-\x{FF5E}]", lambda s: s.str.normalize("NFKC")),
    (r"^\s|\s$", lambda s: s.str.strip_chars()),
    (r"[\p{Ll}\p{Lt}\p{Mn}]", lambda s: s.str.to_uppercase()),  # a 身份证号's x for X
    (r"^0+\d", lambda s: s.str.replace(r"^0+(\d)", "${1}")),  # a number cell's 1001 for 001001
)


_ANY_FOLD = "|".join(pattern for pattern, _ in _FOLDS)


def _loose(ids: pl.Series) -> pl.Series:
    """Ids without the spaces around them, in capitals, full-width forms (１００１, typed in a
    Chinese input method's full-width mode) as ASCII, without leading zeros (001001, which a
    spreadsheet's number cell holds as 1001): two ids a member row and its household most
    likely share when they differ (see ``ColumnarSource._near_misses``). Each fold is made on
    the ids it changes alone (this keys every row of a register split into buckets, and every
    member of a CSV or Excel one: 0.35 s for 2.9 M ids of synth's form ``m1``, 0.58 when every
    fold was made on every id that any fold changed; 0.06 for ids no fold changes). ``ids`` is
    left as it is."""
    need = ids.str.contains(_ANY_FOLD).fill_null(False)
    if not need.any():
        return ids
    rows = need.arg_true()
    part = ids.clone() if len(rows) == len(ids) else ids.gather(rows)
    for pattern, fold in _FOLDS:
        hit = part.str.contains(pattern).fill_null(False)
        if hit.all():
            part = fold(part)
        elif hit.any():
            at = hit.arg_true()
            part = part.scatter(at, fold(part.gather(at)))  # (part is this function's own)
    return part if len(rows) == len(ids) else ids.clone().scatter(rows, part)


__all__ = [
    "Chunk",
    "ColumnarSource",
    "InputError",
    "JsonLinesSource",
    "MinzhengError",
    "Source",
    "open_register",
]
