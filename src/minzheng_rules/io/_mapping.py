"""A city's own column names and codes → the canonical columns (``minzheng batch --columns``).

A register exported from a city's system keeps its own headers (户编号, 身份证号, 月收入) and
codes (与户主关系 ``01``, 是/否). A mapping file says, per table, which column is which field
and how its codes read, so the export is used as it is::

    households:
      sheet: 家庭                # Excel only: the sheet (default: 'households')
      columns:
        户编号: household_id
        家庭存款: assets_financial
      ignore: [户主姓名, 联系电话]  # read and left out on purpose
    members:
      columns:
        户编号: household_id
        身份证号: member_id
        月收入(分): {field: monthly_income, unit: fen}
        与户主关系: {field: relation, values: {"01": head, "10": spouse, "20": child}}
        是否在业: {field: employed, values: {是: true, 否: false}}
      ignore: [姓名, 性别]
    encoding: gbk                # CSV files' text encoding (default: UTF-8, or detected)

A column already named as a canonical field needs no entry. Any other column that is neither
mapped nor ignored is listed in a warning (never dropped silently). Codes not in ``values`` are
kept as they are, so a code the mapping forgot refuses its row with the field's own reason.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any, get_args

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from minzheng_rules.io._validate import (
    UNITS,
    InputError,
    exact_float_ids,
    numbers_as_text,
    uuids_as_text,
    whole_numbers_as_ids,
)
from minzheng_rules.model._columns import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
from minzheng_rules.model._errors import suggest

TABLES = {"households": HOUSEHOLD_COLUMNS, "members": MEMBER_COLUMNS}
# the unit a header names, as office sheets write it: 月收入（元）, 月收入(分), 家庭金融资产（万元）
_HEADER_UNIT = re.compile(r"[（(【\[]\s*(万元|元|分)\s*[）)】\]]|(万元)$")
_UNIT_OF = {"元": "yuan", "分": "fen"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _code(value: Any) -> str:
    """A code or value as the text a cell holds (YAML reads 是 as text, true as a bool)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _digits(code: str) -> bool:
    return code.isascii() and code.isdigit()


class ColumnRule(_Strict):
    """One source column: the field it fills, its money unit and its codes."""

    field: str
    unit: str = "yuan"
    values: dict[str, str] = Field(default_factory=dict)

    @field_validator("values", mode="before")
    @classmethod
    def _texts(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {_code(k): _code(x) for k, x in v.items()}
        return v

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if v not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        return v


class TableMapping(_Strict):
    sheet: str | None = None
    header_row: int = Field(default=1, ge=1)  # Excel: the header's row, under a title
    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    ignore: list[str] = Field(default_factory=list)

    @field_validator("columns", mode="before")
    @classmethod
    def _short(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): ({"field": x} if isinstance(x, str) else x) for k, x in v.items()}
        return v


class Mapping(_Strict):
    households: TableMapping = TableMapping()
    members: TableMapping = TableMapping()
    encoding: str | None = None

    def table(self, name: str) -> TableMapping:
        return self.households if name == "households" else self.members


def _text(raw: bytes) -> str:
    """A mapping file's text: UTF-8 (with or without a BOM), else GB18030, what Windows'
    Notepad saves as "ANSI" on a Chinese system (the CSV files are read the same way)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _first_problem(e: ValidationError) -> str:
    """The first problem pydantic found, as a path and a sentence: a misspelt key with the
    key it may be (``colums``: did you mean ``columns``?), no "Value error, " prefix."""
    first = e.errors()[0]
    loc = [str(x) for x in first["loc"]]
    where = ".".join(loc)
    if first["type"] == "extra_forbidden":
        model: type[BaseModel] = Mapping
        for part in loc[:-1]:  # the model the key sits in
            field = model.model_fields.get(part)
            annotation = field.annotation if field else None
            inner = get_args(annotation)  # dict[str, ColumnRule]: the rule's keys
            annotation = inner[-1] if inner else annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
        hint = suggest(loc[-1], set(model.model_fields))
        known = ", ".join(model.model_fields)
        return f"{where}: unknown key" + (
            f" (did you mean '{hint}'?)" if hint else f" (the keys are {known})"
        )
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; a bad one is a one-line error naming the file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such mapping file")
    try:
        data = yaml.safe_load(_text(p.read_bytes()))
        m = Mapping.model_validate(data or {})
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 (nor GBK) text; save it as UTF-8") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        tab = "; indent with spaces, not tabs" if "'\\t'" in problem else ""
        raise InputError(f"{where}: not a readable YAML file ({problem}{tab})") from None
    except ValidationError as e:
        raise InputError(f"{p}: {_first_problem(e)}") from None
    for name, columns in TABLES.items():
        known = {c.name for c in columns}
        seen: dict[str, str] = {}
        for source, rule in m.table(name).columns.items():
            if rule.field not in known:
                hint = suggest(rule.field, known)
                raise InputError(
                    f"{p}: {name}.columns.{source}: no field '{rule.field}'"
                    + (
                        f" (did you mean '{hint}'?)"
                        if hint
                        else f" (a column the rules do not read goes under {name}: ignore:)"
                    )
                )
            _same_unit(p, name, source, rule)
            _same_period(p, name, source, rule)
            if rule.field in seen:
                raise InputError(
                    f"{p}: {name}: '{seen[rule.field]}' and '{source}' both map to '{rule.field}'"
                )
            seen[rule.field] = source
    return m


def _same_unit(p: Path, table: str, source: str, rule: ColumnRule) -> None:
    """A money column whose header names another unit than it is read in is refused: a column
    of 万元 read as 元 is 10,000 times too small, one of 分 read as 元 100 times too large, and
    every answer on it wrong with nothing to show for it."""
    said = _HEADER_UNIT.search(source)
    kinds = {c.name: c.kind for c in TABLES[table]}
    if said is None or kinds.get(rule.field) != "money":
        return
    unit = said.group(1) or said.group(2)
    if _UNIT_OF.get(unit) == rule.unit:
        return
    where = f"{p}: {table}.columns.{source}"
    if unit == "万元":
        fix = "give the amounts in 元 (× 10000) in a column of 元 and map that one"
    elif unit == "分":
        fix = f"map it with unit: fen ({source}: {{field: {rule.field}, unit: fen}})"
    else:
        fix = "leave out 'unit: fen'"
    raise InputError(
        f"{where}: the header says {unit}, but the column is read in "
        f"{'元' if rule.unit == 'yuan' else '分'}: {fix}"
    )


def _header_key(name: str) -> str:
    """A column's name as compared with a mapping's: full-width forms as ASCII, no spaces."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def _same_period(p: Path, table: str, source: str, rule: ColumnRule) -> None:
    """A column whose header names another period than its field's is refused: a year's
    income (年收入) read as a month's is 12 times it, a month's expenses (月医疗支出) read as
    twelve months' a twelfth. Told from the header: 年 without 月 is a year (2024年6月收入
    is a month's), 月 without 年 or 12 is a month (近12个月医疗支出 is twelve months')."""
    year = "年" in source and "月" not in source
    month = "月" in source and not any(t in source for t in ("年", "12", "十二"))
    where = f"{p}: {table}.columns.{source}"
    if rule.field == "monthly_income" and year:
        raise InputError(
            f"{where}: the header says a year's amount (年), and '{rule.field}' is a month's: "
            "give a month's income (the year's ÷ 12) in a column of its own and map that one"
        )
    if rule.field.endswith("_12m") and month:
        raise InputError(
            f"{where}: the header says a month's amount (月), and '{rule.field}' is the last "
            "twelve months' total: give that total in a column of its own and map that one"
        )


class Applied:
    """A mapping bound to one table's header: which source column feeds which field, what is
    left out, and the money units, ready to apply to each batch on whole columns."""

    def __init__(self, mapping: TableMapping | None, table: str, header: list[str], source: str):
        columns = TABLES[table]
        known = {c.name for c in columns}
        self.renames: dict[str, str] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.units: dict[str, str] = {}
        self.unused: list[str] = []
        rules = mapping.columns if mapping else {}
        ignore = set(mapping.ignore) if mapping else set()
        # a header as typed in a sheet: 月收入 with a space after it, a line break in the
        # cell (月收入⏎（元）), full-width brackets where the mapping has (元)
        loose_rules = {_header_key(k): r for k, r in rules.items()}
        loose_ignore = {_header_key(k) for k in ignore}
        taken: dict[str, str] = {}
        for name in header:
            rule = rules.get(name)
            if rule is None and name not in ignore and name not in known:
                rule = loose_rules.get(_header_key(name))
                if rule is None and _header_key(name) in loose_ignore:
                    ignore.add(name)
            field = rule.field if rule else (name if name in known else None)
            if field is None or name in ignore:
                if name not in ignore and not name.startswith("__"):
                    self.unused.append(name)
                continue
            if field in taken:
                raise InputError(
                    f"{source}: columns '{taken[field]}' and '{name}' both give '{field}'"
                )
            taken[field] = name
            self.renames[name] = field
            if rule and rule.values:
                self.codes[field] = rule.values
            if rule and rule.unit != "yuan":
                self.units[field] = rule.unit
        # mapped columns the header does not have: their fields are not given (every
        # income unknown), said in a warning beside the columns not used
        self.absent = [k for k, r in rules.items() if r.field not in taken]
        self.mapped = mapping is not None
        self.source = source
        self.sources = {v: k for k, v in self.renames.items()}
        self.rules = rules
        self.header = header
        self.table = table

    def require(self, columns: tuple[Any, ...], where: str, sheet: bool = False) -> None:
        """A required field no column gives: one line naming the column the mapping expected,
        what the header holds, and, when the header is not text of its encoding (U+FFFD), the
        encoding to give. ``where``: the header's place (``line 1`` in a CSV file); ``sheet``:
        an Excel sheet, whose header may sit under a title row."""
        for c in columns:
            if not c.required or c.name in self.renames.values():
                continue
            expected = [k for k, r in self.rules.items() if r.field == c.name]
            named = [h for h in self.header if not h.startswith("__")]  # (__UNNAMED__1)
            shown = ", ".join(named[:8]) + (", …" if len(named) > 8 else "")
            if expected:
                what = f"no column '{expected[0]}' (mapped to '{c.name}')"
            else:
                what = f"no column gives '{c.name}'; map one in the --columns file"
            hint = ""
            if sheet and expected:
                hint = f"; a header under a title row: give its row ({self.table}: header_row: 2)"
            if any("\ufffd" in h for h in self.header):
                hint = "; the header is not text of the file's encoding: give it, e.g. "
                hint += "--encoding gbk"
            raise InputError(f"{self.source}, {where}: {what} (the header has: {shown}){hint}")

    def source_name(self, field: str) -> str:
        """The header a canonical field is read from."""
        return self.sources.get(field, field)

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A raw batch with canonical names and codes (columns not used are left out)."""
        keep = [c for c in frame.columns if c in self.renames or c.startswith("__")]
        frame = frame.select(keep).rename({k: self.renames[k] for k in keep if k in self.renames})
        id_type = frame.schema.get("household_id", pl.Null)
        if id_type.is_numeric():
            # ids as text whatever each table holds (bigint beside text was a traceback)
            ids = frame.get_column("household_id")
            exact_float_ids(ids, self.source, self.source_name("household_id"))
            frame = frame.with_columns(numbers_as_text(ids))
        elif id_type == pl.Binary:  # a uuid in Parquet
            frame = frame.with_columns(uuids_as_text(frame.get_column("household_id")))
        elif id_type == pl.String:  # (1001.0 in a CSV pandas wrote is 1001, as in its Parquet)
            frame = frame.with_columns(whole_numbers_as_ids(frame.get_column("household_id")))
        if not self.codes:
            return frame
        changes = []
        for field, values in self.codes.items():
            if field not in frame.columns:
                continue
            col = frame.get_column(field)
            if col.dtype.is_numeric():
                # a spreadsheet keeps the code "01" as the number 1: digit codes match by
                # their number too (a code written as it is in the mapping wins)
                values = {str(int(k)): v for k, v in values.items() if _digits(k)} | values
            text = numbers_as_text(col).str.strip_chars()  # a spreadsheet's 1.0 is the code "1"
            changes.append(text.replace(values).alias(field))
        return frame.with_columns(changes)


__all__ = ["Applied", "Mapping", "TableMapping", "load_mapping"]
