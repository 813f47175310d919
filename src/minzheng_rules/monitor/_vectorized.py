"""Which programs many household snapshots are eligible for, through the vectorized backend.

The batched monitor (see :meth:`minzheng_rules.monitor._runner.Monitor.run`) collects, per window
of events, every household snapshot it must judge with the date of its event, and asks this
module for their eligible sets in one columnar evaluation per period instead of one reference
evaluation (~250 µs) per event.

A compiled :class:`VectorizedPack` costs 20–50 ms, and a stream has a date per day, so one is
compiled per *period* (:func:`minzheng_rules.monitor._binding.period_key`: the same parameters and
programs in force, and the same date when a program reads ``eval_date``) and shared by its
dates. The only other thing the date changes is a member's age from a birth date, so that age is
computed here on each snapshot's own date and the birth date left out: the facts are then exactly
those the reference evaluator reads on that date (``age`` when no birth date is known).

The packs are compiled with their household programs' conditions as columns, so that a record
about a program that changed can be written from them (:meth:`Judgement.change`) instead of
asking the reference evaluator again (~48 µs a change).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from minzheng_rules.backends.vectorized._engine import VectorizedPack, condition_column
from minzheng_rules.backends.vectorized._programs import StatusCode
from minzheng_rules.model._convert import HH, households_to_frames
from minzheng_rules.model._household import Household
from minzheng_rules.monitor._records import Label, ProgramChange
from minzheng_rules.packs._pack import Pack


class Unusable(Exception):
    """The vectorized backend cannot judge this period (the reference must, event by event)."""


class Vectorized:
    """Compiled packs per period (a few kept), and the periods they cannot be compiled for."""

    Unusable = Unusable  # so callers need not import this module (it needs the batch extra)

    def __init__(self, pack: Pack, keep: int = 8) -> None:
        self.pack = pack
        self.keep = keep
        self._packs: OrderedDict[tuple, tuple[VectorizedPack, dict[str, _Shown]]] = OrderedDict()
        self.unusable: set[tuple] = set()
        self._sets: dict[int, frozenset[str]] = {}
        self.rows = 0  # snapshots judged, for the benchmark's figures
        self.compiled = 0

    def _pack(self, key: tuple, on: dt.date) -> tuple[VectorizedPack, dict[str, _Shown]]:
        hit = self._packs.get(key)
        if hit is not None:
            self._packs.move_to_end(key)
            return hit
        try:
            vp = VectorizedPack(self.pack, on, conditions=True)
        except Exception as err:  # not in force, a construct it cannot vectorize, ...
            self.unusable.add(key)
            raise Unusable(str(err)) from None
        self.compiled += 1
        hit = self._packs[key] = (vp, _shown(vp))
        if len(self._packs) > self.keep:
            self._packs.popitem(last=False)
        return hit

    def judge(self, key: tuple, rows: list[tuple[Household, dt.date]]) -> Judgement:
        """Each ``(household, date)`` (dates of one period ``key``) judged: its eligible set
        (None for a row the backend refused), and what the records show about its programs.
        Raises :class:`Unusable` when it cannot judge any."""
        vp, shown = self._pack(key, rows[0][1])
        try:
            h, m = households_to_frames([hh for hh, _ in rows])
            m, unborn = _ages_on(m, [on for _, on in rows])
            result = vp.evaluate(h, m)
        except Exception as err:
            self.unusable.add(key)
            raise Unusable(f"{type(err).__name__}: {err}") from None
        self.rows += len(rows)
        refused = {row for row, _, _ in result.rejected}
        frame = result.frame
        if unborn:  # the reference refuses them (a birth date after the date): so do we
            kept = [row not in unborn for row in range(len(rows)) if row not in refused]
            frame = frame.filter(pl.Series(kept, dtype=pl.Boolean))
            refused |= unborn
        programs = [p.program for p in vp.programs]
        bits = np.zeros(frame.height, dtype=np.int64)
        for i, p in enumerate(programs):
            status = frame.get_column(f"{p}_status").fill_null(StatusCode.INELIGIBLE).to_numpy()
            bits |= (status == StatusCode.ELIGIBLE).astype(np.int64) << i
        sets = self._sets
        judged = iter(bits.tolist())
        out: list[frozenset[str] | None] = []
        for row in range(len(rows)):
            if row in refused:
                out.append(None)
                continue
            b = next(judged)
            s = sets.get(b)
            if s is None:
                s = sets[b] = frozenset(p for i, p in enumerate(programs) if b >> i & 1)
            out.append(s)
        return Judgement(shown, frame, out, refused)


class _Shown(NamedTuple):
    """How a program's change shows in a record (see :meth:`Judgement.change`)."""

    label: Label
    amount: str | None  # the amount column, when its unit is money (else the reference formats it)
    scale: int
    computed: bool  # the amount has a formula: a zero may be the reference's "-0.00"
    conditions: tuple[tuple[str, str], ...] | None  # household: (condition id, column) in order
    all_passed: dict[str, bool]  # an eligible program's conditions (a member program lists none)
    listed: bool  # the plan can list its conditions


def _shown(vp: VectorizedPack) -> dict[str, _Shown]:
    """Per active program of a compiled pack, how its change shows. A member program that may be
    excluded by a household program lists the exclusion (the reference alone writes it)."""
    active = set(vp.bound.active)
    by_household: set[str] = set()
    for exc in vp.bound.exclusions:
        present = [p for p in exc.programs if p in active]
        if any(vp.pack.programs[p].entity != "member" for p in present):
            by_household.update(present)
    shown = {}
    for p in vp.programs:
        if p.program not in active:
            continue  # not in force: never eligible; the reference says why
        spec = vp.pack.programs[p.program].spec
        conditions = vp.conditions.get(p.program)
        shown[p.program] = _Shown(
            label=Label(spec.label.zh, spec.label.en),
            amount=f"{p.program}_amount" if p.unit.startswith("CNY") else None,
            scale=p.scale,
            computed=vp.pack.programs[p.program].amount is not None,
            conditions=None
            if conditions is None
            else tuple((cid, condition_column(p.program, cid)) for cid in conditions),
            all_passed=dict.fromkeys(conditions or (), True),
            listed=conditions is not None or p.program not in by_household,
        )
    return shown


class Judgement:
    """One period's snapshots judged: each row's eligible set (``sets``), and the record's
    entry for a program that changed, when the plan's columns can tell it (:meth:`change`)."""

    def __init__(
        self,
        shown: dict[str, _Shown],
        frame: pl.DataFrame,
        sets: list[frozenset[str] | None],
        refused: set[int],
    ) -> None:
        self.sets = sets
        self._shown = shown
        self._frame = frame
        self._columns: dict[str, list[Any]] = {}
        self._position: list[int] | None = None
        if refused:  # the frame leaves refused rows out
            kept = (row for row in range(len(sets)) if row not in refused)
            self._position = [0] * len(sets)
            for i, row in enumerate(kept):
                self._position[row] = i

    def _column(self, name: str) -> list[Any]:
        values = self._columns.get(name)
        if values is None:
            values = self._columns[name] = self._frame.get_column(name).to_list()
        return values

    def change(self, row: int, pid: str) -> ProgramChange | None:
        """The record's entry for program ``pid`` of snapshot ``row`` (as
        :func:`~minzheng_rules.monitor._records.program_change` makes it from the reference's
        outcome), or None when only
        the reference evaluator can tell it: an undetermined status (its missing facts), an
        exclusion, an amount not in money, a computed amount of zero (its sign).

        An eligible household program passed every condition; an ineligible one lists its
        conditions up to the first that failed, as the reference stops there (one that did
        not fail was excluded, or its row answered by the reference, where the plan's columns
        are null: None). A member program's outcome lists no conditions."""
        shown = self._shown.get(pid)
        if shown is None or not shown.listed:
            return None
        i = row if self._position is None else self._position[row]
        status = self._column(f"{pid}_status")[i]
        if status == StatusCode.ELIGIBLE:
            if shown.amount is None:
                return None
            cents = self._column(shown.amount)[i]
            if cents == 0 and shown.computed:
                return None  # 0.00, or -0.00 from a tiny negative amount: the reference's
            return ProgramChange(
                program=pid,
                label=shown.label,
                now="eligible",
                conditions=shown.all_passed,
                amount=str(Decimal(cents).scaleb(-shown.scale)),
            )
        if status != StatusCode.INELIGIBLE:
            return None
        listing: dict[str, bool | None] = {}
        if shown.conditions is not None:
            for cid, column in shown.conditions:
                passed = listing[cid] = self._column(column)[i]
                if passed is False:
                    break
            else:
                return None
        return ProgramChange(program=pid, label=shown.label, now="ineligible", conditions=listing)


def _ages_on(m: pl.DataFrame, dates: list[dt.date]) -> tuple[pl.DataFrame, set[int]]:
    """Members with each one's age on their snapshot's date and no birth date (see the module),
    and the snapshots with a member born after that date (no age: the reference refuses them;
    their age here is 0, never negative)."""
    on = pl.Series("__on", dates, dtype=pl.Date).gather(m.get_column(HH))
    b, o = pl.col("birth_date"), pl.col("__on")
    later = (b.dt.month() > o.dt.month()) | (
        (b.dt.month() == o.dt.month()) & (b.dt.day() > o.dt.day())
    )
    years = o.dt.year().cast(pl.Int64) - b.dt.year().cast(pl.Int64) - later.cast(pl.Int64)
    age_type = m.schema["age"]
    m = m.with_columns(on)
    unborn = m.filter(b > o).get_column(HH).unique().to_list()
    frame = m.with_columns(
        pl.when(b.is_null())
        .then(pl.col("age"))
        .otherwise(years.clip(lower_bound=0))
        .cast(age_type)
        .alias("age"),
        pl.lit(None, dtype=pl.Date).alias("birth_date"),
    ).drop("__on")
    return frame, set(unborn)
