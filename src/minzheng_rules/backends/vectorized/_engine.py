"""A pack bound to a date and compiled for whole registers; evaluates clean columnar chunks.

    vp = VectorizedPack(load_pack("huzhou"), dt.date(2024, 6, 1))
    result = vp.evaluate(households_frame, members_frame)
    result.frame     # household_id, <program>_status (Int8), <program>_amount (Int64), tags, needs
    result.rejected   # [(row, household_id, reason)] rows the reference evaluator refused

``VectorizedPack(pack, on, conditions=True)`` also gives each household program's conditions,
``<program>.<condition>`` (Boolean, null when unknown), exact up to the first one that fails, as
far as the reference evaluator evaluates them; null on the rows the reference answered.

Households the compiled plan flags (see :mod:`.compiler`) are evaluated by the reference
evaluator, one by one, and their answers replace the plan's.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import BaseModel

from minzheng_rules.backends._base import Answer
from minzheng_rules.backends.reference import ReferenceEvaluator, bind
from minzheng_rules.backends.vectorized import _numeric as N
from minzheng_rules.backends.vectorized._compiler import Compiler
from minzheng_rules.backends.vectorized._plan import HH, Plan, run
from minzheng_rules.backends.vectorized._programs import (
    Programs,
    StatusCode,
    compile_relief,
    outputs_for,
)
from minzheng_rules.model._columns import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_ID,
    MEMBER_COLUMNS,
    clean_schema,
)
from minzheng_rules.model._convert import frames_to_dicts, households_to_frames
from minzheng_rules.model._errors import EvaluationError, HouseholdError
from minzheng_rules.model._household import Household, parse_household
from minzheng_rules.model._results import Status
from minzheng_rules.packs import _cache as cache

FLAG = "__flag"
_CODES = {
    Status.eligible: StatusCode.ELIGIBLE,
    Status.undetermined: StatusCode.UNDETERMINED,
    Status.ineligible: StatusCode.INELIGIBLE,
}


@dataclass(frozen=True)
class ProgramColumns:
    program: str
    status: str  # Int8: a StatusCode (2 eligible, 1 undetermined, 0 ineligible)
    amount: str  # Int64: the amount times 10**scale
    scale: int
    unit: str


@dataclass
class Result:
    """One chunk's answers: a frame in input order (rejected rows left out), the rows the
    reference refused, and how many rows it decided."""

    frame: pl.DataFrame
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    fallback: int = 0
    lists: dict[str, pa.Array] | None = None
    """``tags`` and ``needs`` as the frame holds them, as Arrow lists of dictionary-coded ids
    (no text per row: cheaper for a writer to take); None when rows were replaced."""


class _ReferenceRows(abc.ABC):
    """What both packs share: the schema of the answers and the reference evaluator's answers
    for the rows it must decide."""

    programs: list[ProgramColumns]
    conditions: dict[str, dict[str, str]]

    @property
    @abc.abstractmethod
    def reference(self) -> ReferenceEvaluator:
        """The reference evaluator bound to the pack and date."""

    def empty_frame(self) -> pl.DataFrame:
        """The evaluation frame with no rows: its columns and types (what a run of no household
        writes)."""
        schema: dict[str, pl.DataType] = {HOUSEHOLD_ID: pl.String()}
        for p in self.programs:
            schema[f"{p.program}_status"] = pl.Int8()
            schema[f"{p.program}_amount"] = pl.Int64()
        schema["tags"] = pl.List(pl.String())
        schema["needs"] = pl.List(pl.String())
        for pid, columns in self.conditions.items():
            for cid in columns:
                schema[condition_column(pid, cid)] = pl.Boolean()
        return pl.DataFrame(schema=schema)

    def _fallback(
        self, frame: pl.DataFrame, h: pl.DataFrame, m: pl.DataFrame, rows: list[int]
    ) -> Result:
        """Rows the plan flagged, answered by the reference evaluator."""
        rejected: list[tuple[int, str, str]] = []
        patched: dict[str, list[Any]] = {c: [] for c in frame.columns}
        done: list[int] = []
        for row, data in zip(rows, frame_dicts(h, m, rows), strict=True):
            try:
                ev = self.reference.evaluate(parse_household(data))
            except (EvaluationError, HouseholdError) as e:
                rejected.append((row, str(data.get("id")), str(e)))
                continue
            done.append(row)
            patched[HOUSEHOLD_ID].append(ev.household)
            for p in self.programs:
                o = ev.programs[p.program]
                patched[f"{p.program}_status"].append(_CODES[o.status])
                amount = o.amount if o.status is Status.eligible else Decimal(0)
                patched[f"{p.program}_amount"].append(_scaled(amount, p.scale))
            patched["tags"].append(list(ev.tags))
            patched["needs"].append(list(ev.needs))
            for pid, columns in self.conditions.items():
                for cid in columns:  # the reference's reasons are its own
                    patched[condition_column(pid, cid)].append(None)
        keep = np.ones(frame.height, dtype=bool)
        keep[rows] = False
        index = pl.Series("__row", np.arange(frame.height))
        base = frame.with_columns(index).filter(pl.Series(keep))
        fixed = pl.DataFrame(patched, schema=frame.schema).with_columns(
            pl.Series("__row", done, dtype=index.dtype)
        )
        merged = pl.concat([base, fixed]).sort("__row").drop("__row")
        return Result(merged, rejected, len(rows))


class VectorizedPack(_ReferenceRows):
    """A pack compiled for one date; raises ``VectorizeError`` naming any construct it cannot
    evaluate exactly, and ``ParameterNotInForceError`` like the reference does."""

    def __init__(self, pack: Any, on: dt.date, conditions: bool = False) -> None:
        self.pack = pack
        self.date = on
        self.bound = pack.plan(on)
        # the compiled plan comes from the on-disk cache when this pack's content, the date and
        # the engine are the same as when it was stored (see minzheng_rules.packs._cache)
        key = plan_key(pack, on, conditions) if cache.enabled() else ""
        state = cache.get("plan", key) if key else None
        if state is None:
            state = self._compile(conditions)
            if key:
                cache.put("plan", key, state)
        self.plan: Plan = state["plan"]
        self.conditions: dict[str, dict[str, str]] = state["conditions"]
        self.programs: list[ProgramColumns] = state["programs"]
        self.tag_columns: dict[str, str] = state["tag_columns"]
        self.need_columns: dict[str, str] = state["need_columns"]
        self.flag_column: str = state["flag_column"]

    @functools.cached_property
    def reference(self) -> ReferenceEvaluator:
        """The reference evaluator, for the rows the plan flags (compiled when first needed)."""
        return bind(self.pack, self.date)

    def _compile(self, conditions: bool) -> dict[str, Any]:
        pack, on = self.pack, self.date
        values = dict(self.bound.values)
        plan = Plan()
        c = Compiler(pack, on, values, plan)
        compiled = Programs(c, self.bound, conditions)
        compiled.run()
        # per household program: condition id -> plan column, in the conditions' order
        kept_conditions: dict[str, dict[str, str]] = {
            pid: dict(kept) for pid, kept in compiled.conditions.items()
        }
        tags, needs = compile_relief(c, pack)
        c.flag_disagreements()
        programs: list[ProgramColumns] = []
        outputs = []
        for pid, status, amount, scale in outputs_for(compiled, list(pack.programs)):
            s = plan.column("h", status)
            a = plan.column("h", N.narrow(amount.num, amount.nmax).cast(pl.Int64))
            unit = str(pack.programs[pid].spec.unit.value)
            programs.append(ProgramColumns(pid, s, a, scale, unit))
            outputs += [s, a]
        # a birth date after the evaluation date: the reference refuses the household (it would
        # be a negative age here)
        unborn = pl.col("birth_date").fill_null(on) > pl.lit(on, dtype=pl.Date)
        plan.flags.append(("m", plan.column("m", unborn)))
        h_flags = [pl.col(n) for lvl, n in plan.flags if lvl == "h"]
        m_flags = [pl.col(n) for lvl, n in plan.flags if lvl == "m"]
        parts = list(h_flags)
        if m_flags:
            member_flag = plan.column("m", pl.any_horizontal(m_flags))
            parts.append(pl.col(plan.reduce("any", member_flag)))
        flag = pl.any_horizontal(parts) if parts else pl.lit(False)
        flag_column = plan.column("h", flag)
        c.settle_codes()
        kept = [column for columns in kept_conditions.values() for column in columns.values()]
        plan.outputs = [*outputs, *tags.values(), *needs.values(), *kept, flag_column]
        plan.prune()
        return {
            "plan": plan,
            "conditions": kept_conditions,
            "programs": programs,
            "tag_columns": tags,
            "need_columns": needs,
            "flag_column": flag_column,
        }

    # -- evaluation ---------------------------------------------------------------------------
    def answers(self, households: Sequence[Household]) -> list[dict[str, Answer]]:
        """Each household's programs through the backend contract (:mod:`..base`): the
        households as frames, evaluated at once; a row refused raises like the reference."""
        result = self.evaluate(*households_to_frames(households))
        if result.rejected:
            _, hid, reason = result.rejected[0]
            raise EvaluationError(f"household '{hid}': {reason}")
        codes = {StatusCode.ELIGIBLE: Status.eligible, StatusCode.UNDETERMINED: Status.undetermined}
        columns = {
            p.program: (
                result.frame.get_column(f"{p.program}_status").to_list(),
                result.frame.get_column(f"{p.program}_amount").to_list(),
                p.scale,
            )
            for p in self.programs
        }
        return [
            {
                pid: Answer(
                    codes.get(status[row], Status.ineligible), Decimal(amount[row]).scaleb(-scale)
                )
                for pid, (status, amount, scale) in columns.items()
            }
            for row in range(result.frame.height)
        ]

    def evaluate(
        self, households: pl.DataFrame, members: pl.DataFrame, text: bool = True
    ) -> Result:
        """Evaluate clean frames (the columnar form ``minzheng_rules.io`` reads); members sorted by
        ``_hh`` and every household with at least one member.

        ``text=False``: when no row needed the reference evaluator, the frame leaves out
        ``tags`` and ``needs``, which are in ``Result.lists`` (for a writer that takes those:
        making the text per row was a third of a CPU-second per million households)."""
        if households.height == 0:
            return Result(self.empty_frame())
        counts = np.bincount(members.get_column(HH).to_numpy(), minlength=households.height)
        h = households.with_columns(pl.Series("size", counts, dtype=pl.Int64))
        try:
            out = run(self.plan, h, members)
        except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError) as e:
            raise EvaluationError(_unclean(e, households, members)) from None
        lists = {"tags": id_codes(out, self.tag_columns), "needs": id_codes(out, self.need_columns)}
        frame = out.select(
            pl.col(HOUSEHOLD_ID),
            *[
                e
                for p in self.programs
                for e in (
                    pl.col(p.status).alias(f"{p.program}_status"),
                    pl.col(p.amount).alias(f"{p.program}_amount"),
                )
            ],
            *[
                pl.col(column).alias(condition_column(pid, cid))
                for pid, columns in self.conditions.items()
                for cid, column in columns.items()
            ],
        )
        flagged = np.flatnonzero(out.get_column(self.flag_column).to_numpy())
        if len(flagged) == 0 and not text:
            return Result(frame, lists=lists)
        texts = [text_lists(name, coded) for name, coded in lists.items()]
        order = self.empty_frame().columns  # the schema's order
        frame = frame.with_columns(texts).select(order)
        if len(flagged) == 0:
            return Result(frame, lists=lists)
        return self._fallback(frame, households, members, flagged.tolist())


def _unclean(error: Exception, households: pl.DataFrame, members: pl.DataFrame) -> str:
    """What is wrong with frames the readers did not clean, in one line: the columns of
    another type than the canonical one, else Polars' first line (it names the column of a
    text outside its choices, which are compared as codes)."""
    wrong = [
        f"{name} is {frame.schema[name]}, not {dtype}"
        for frame, columns in ((households, HOUSEHOLD_COLUMNS), (members, MEMBER_COLUMNS))
        for name, dtype in clean_schema(columns).items()
        if name in frame.columns and frame.schema[name] != dtype
    ]
    said = str(error).strip()
    what = "; ".join(wrong) if wrong else (said.splitlines()[0] if said else type(error).__name__)
    return (
        f"the households or members frame does not hold what the pack reads ({what}): pass "
        "frames as minzheng_rules.io reads them (open_register(...).chunks), with the canonical "
        "types and choices"
    )


def plan_key(pack: Any, on: dt.date, conditions: bool) -> str:
    """The cache key of a pack's plan: its whole merged definition (parameters set in memory
    included), the date and the options, under the engine version."""
    digest = hashlib.sha256()
    definition = pack.definition
    for f in dataclasses.fields(definition):
        digest.update(f.name.encode())
        digest.update(_canonical(getattr(definition, f.name)))
    return cache.key("plan", digest.digest(), on.isoformat(), str(bool(conditions)))


def _canonical(value: Any) -> bytes:
    """Bytes that are equal exactly when the (pydantic / plain) values are."""
    if isinstance(value, BaseModel):
        return value.__class__.__name__.encode() + value.model_dump_json().encode()
    if isinstance(value, dict):
        items = b",".join(_canonical(k) + b":" + _canonical(v) for k, v in value.items())
        return b"{" + items + b"}"
    if isinstance(value, (list, tuple)):
        return b"[" + b",".join(_canonical(v) for v in value) + b"]"
    if isinstance(value, (set, frozenset)):
        # sorted: a set's order (and repr) changes with each process's string hashing, which
        # made every run miss the cache
        return b"{" + b",".join(sorted(_canonical(v) for v in value)) + b"}"
    return repr(value).encode()


def condition_column(program: str, condition: str) -> str:
    """The output column of a household program's condition (``conditions=True``)."""
    return f"{program}.{condition}"


def id_codes(frame: pl.DataFrame, columns: dict[str, str]) -> pa.ListArray:
    """Per row, the ids whose boolean column holds, in ``columns``' order, as an Arrow list of
    dictionary-coded ids, built as offsets and codes with NumPy: per id, the rows where it holds
    are written to the next free slot of those rows (a pass per id over one column, no rows ×
    ids matrix)."""
    n = frame.height
    offsets = np.zeros(n + 1, dtype=np.int32)
    hits = []
    if columns:
        flags = frame.select(pl.col(c).fill_null(False) for c in columns.values())
        hits = [np.flatnonzero(s.to_numpy()) for s in flags.get_columns()]
    counts = np.zeros(n, dtype=np.int32)
    for rows in hits:
        counts[rows] += 1
    np.cumsum(counts, out=offsets[1:])
    which = np.empty(int(offsets[-1]), dtype=np.int32)
    free = offsets[:-1].copy()
    for j, rows in enumerate(hits):  # ids in declared order: each row's ids come out in order
        slots = free[rows]
        which[slots] = j
        free[rows] = slots + 1
    values = pa.DictionaryArray.from_arrays(_arrow(which), _words(list(columns)))
    return pa.ListArray.from_arrays(_arrow(offsets), values)


def text_lists(name: str, coded: pa.ListArray) -> pl.Series:
    """:func:`id_codes`' lists as a Polars list-of-text column."""
    text = pa.ListArray.from_arrays(coded.offsets, coded.values.cast(pa.string()))
    return pl.Series(name, text, dtype=pl.List(pl.String))


def _arrow(a: np.ndarray) -> pa.Array:
    """A contiguous NumPy array of a fixed-width type as an Arrow array over its memory.
    (``pa.array`` would do, but it imports pandas when pandas is installed: start-up time.)"""
    a = np.ascontiguousarray(a)
    return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), len(a), [None, pa.py_buffer(a)])


def _words(words: list[str]) -> pa.Array:
    """Text as an Arrow ``string`` array, made by Polars (see :func:`_arrow`)."""
    return pl.Series(words, dtype=pl.String).to_arrow().cast(pa.string())


def frame_dicts(h: pl.DataFrame, m: pl.DataFrame, rows: list[int]) -> list[dict[str, Any]]:
    return frames_to_dicts(h, m, rows)


def _scaled(amount: Decimal, scale: int) -> int:
    """The reference's amount as the integer the plan writes (money(): half up at the fen)."""
    from minzheng_rules.model._values import quantize

    return int(quantize(amount, scale, "half_up").scaleb(scale))


class ReferencePack(_ReferenceRows):
    """Every household by the reference evaluator, with :class:`VectorizedPack`'s interface:
    for a pack that validates but has no exact plan (``VectorizeError``: a value that may pass
    128-bit integers, a nested aggregation reading the outer member), so ``batch`` still runs
    it, row by row (``reason`` says why), instead of stopping."""

    def __init__(self, pack: Any, on: dt.date, reason: str) -> None:
        self.pack = pack
        self.date = on
        self.reason = reason
        self.bound = pack.plan(on)
        self._reference = bind(pack, on)
        self.conditions: dict[str, dict[str, str]] = {}
        self.programs: list[ProgramColumns] = []
        for pid in pack.programs:
            spec = pack.programs[pid].spec
            unit = str(spec.unit.value)
            digits = max(spec.rounding.digits, 0)
            scale = max(2, digits) if unit.startswith("CNY") else digits
            self.programs.append(ProgramColumns(pid, f"{pid}_status", f"{pid}_amount", scale, unit))

    @property
    def reference(self) -> ReferenceEvaluator:
        return self._reference

    def evaluate(
        self, households: pl.DataFrame, members: pl.DataFrame, text: bool = True
    ) -> Result:
        """Every row by the reference evaluator (``text``: the lists are always in the frame)."""
        empty = self.empty_frame()
        n = households.height
        if n == 0:
            return Result(empty)
        blank = pl.DataFrame(
            [pl.Series(name, [None] * n, dtype=dtype) for name, dtype in empty.schema.items()]
        )
        return self._fallback(blank, households, members, list(range(n)))
