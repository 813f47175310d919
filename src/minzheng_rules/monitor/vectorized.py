"""Which programs many household snapshots are eligible for, through the vectorized backend.

The batched monitor (see :meth:`minzheng_rules.monitor.runner.Monitor.run`) collects, per window
of events, every household snapshot it must judge with the date of its event, and asks this
module for their eligible sets in one columnar evaluation per period instead of one reference
evaluation (~250 µs) per event.

A compiled :class:`VectorizedPack` costs 20–50 ms, and a stream has a date per day, so one is
compiled per *period* (:func:`minzheng_rules.monitor.binding.period_key`: the same parameters and
programs in force, and the same date when a program reads ``eval_date``) and shared by its
dates. The only other thing the date changes is a member's age from a birth date, so that age is
computed here on each snapshot's own date and the birth date left out: the facts are then exactly
those the reference evaluator reads on that date (``age`` when no birth date is known).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

import numpy as np
import polars as pl

from minzheng_rules.backends.vectorized.engine import VectorizedPack
from minzheng_rules.household import Household
from minzheng_rules.io.convert import HH, households_to_frames


class Unusable(Exception):
    """The vectorized backend cannot judge this period (the reference must, event by event)."""


class Vectorized:
    """Compiled packs per period (a few kept), and the periods they cannot be compiled for."""

    Unusable = Unusable  # so callers need not import this module (it needs the batch extra)

    def __init__(self, pack: Any, keep: int = 8) -> None:
        self.pack = pack
        self.keep = keep
        self._packs: OrderedDict[tuple, VectorizedPack] = OrderedDict()
        self.unusable: set[tuple] = set()
        self._sets: dict[int, frozenset[str]] = {}
        self.rows = 0  # snapshots judged, for the benchmark's figures
        self.compiled = 0

    def _pack(self, key: tuple, on: dt.date) -> VectorizedPack:
        vp = self._packs.get(key)
        if vp is not None:
            self._packs.move_to_end(key)
            return vp
        try:
            vp = VectorizedPack(self.pack, on)
        except Exception as err:  # not in force, a construct it cannot vectorize, ...
            self.unusable.add(key)
            raise Unusable(str(err)) from None
        self.compiled += 1
        self._packs[key] = vp
        if len(self._packs) > self.keep:
            self._packs.popitem(last=False)
        return vp

    def eligible(
        self, key: tuple, rows: list[tuple[Household, dt.date]]
    ) -> list[frozenset[str] | None]:
        """The eligible set of each ``(household, date)`` (dates of one period ``key``); None
        for a row the backend refused. Raises :class:`Unusable` when it cannot judge any."""
        vp = self._pack(key, rows[0][1])
        try:
            h, m = households_to_frames([hh for hh, _ in rows])
            m = _ages_on(m, [on for _, on in rows])
            result = vp.evaluate(h, m)
        except Exception as err:
            self.unusable.add(key)
            raise Unusable(f"{type(err).__name__}: {err}") from None
        self.rows += len(rows)
        refused = {row for row, _, _ in result.rejected}
        frame = result.frame
        programs = [p.program for p in vp.programs]
        bits = np.zeros(frame.height, dtype=np.int64)
        for i, p in enumerate(programs):
            status = frame.get_column(f"{p}_status").fill_null(0).to_numpy()
            bits |= (status == 2).astype(np.int64) << i
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
        return out


def _ages_on(m: pl.DataFrame, dates: list[dt.date]) -> pl.DataFrame:
    """Members with each one's age on their snapshot's date and no birth date (see the module)."""
    on = pl.Series("__on", dates, dtype=pl.Date).gather(m.get_column(HH))
    b, o = pl.col("birth_date"), pl.col("__on")
    later = (b.dt.month() > o.dt.month()) | (
        (b.dt.month() == o.dt.month()) & (b.dt.day() > o.dt.day())
    )
    years = o.dt.year().cast(pl.Int64) - b.dt.year().cast(pl.Int64) - later.cast(pl.Int64)
    age_type = m.schema["age"]
    return (
        m.with_columns(on)
        .with_columns(
            pl.when(b.is_null()).then(pl.col("age")).otherwise(years).cast(age_type).alias("age"),
            pl.lit(None, dtype=pl.Date).alias("birth_date"),
        )
        .drop("__on")
    )
