"""A compiled pack as a graph of columns, run in rounds over two frames.

The households frame ``H`` has one row per household; the members frame ``M`` one row per
member, sorted by ``_hh`` (the household's row in ``H``). Each column is defined once:

* ``h`` / ``m``: an expression over its own frame;
* ``reduce``: a member column summed (``sum``), or-ed (``any``), or its ``min``/``max``, per
  household, landing in ``H`` (NumPy ``reduceat`` over the sorted members when it can);
* ``bcast``: a household column copied to each member.

Columns are placed in rounds: a round is one lazy query over ``M`` (its columns in layers of
``with_columns`` by dependency depth; Polars runs a layer's expressions in parallel), the
reductions, one lazy query over ``H``, and the copies to members; a new round starts only
where a household value copied to members is read. A column is dropped after the last step
that reads it, which keeps memory flat whatever the pack's size.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from minzheng_rules.model._columns import HH


@dataclass
class ColDef:
    name: str
    kind: str  # h | m | reduce | bcast
    expr: pl.Expr | None
    source: str | None = None  # bcast: the household column; reduce: the member column
    op: str = ""  # reduce: sum | any | min | max
    deps: tuple[str, ...] = ()


@dataclass
class Plan:
    """Column definitions in the order they were made, and the columns to keep at the end."""

    defs: list[ColDef] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    flags: list[tuple[str, str]] = field(default_factory=list)  # (level, column)
    _count: int = 0
    _bcast: dict[str, str] = field(default_factory=dict)
    _by_name: dict[str, ColDef] = field(default_factory=dict)
    _rounds: dict[frozenset[str], list[Round]] = field(default_factory=dict, repr=False)

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _add(self, d: ColDef) -> str:
        self._rounds.clear()
        self.defs.append(d)
        self._by_name[d.name] = d
        return d.name

    def column(self, level: str, expr: pl.Expr) -> str:
        """A column of ``level`` ('h' or 'm') computed by ``expr`` over that frame (an
        expression that is already a plain column is that column)."""
        if expr.meta.is_column():
            return expr.meta.output_name()
        name = self._name("h" if level == "h" else "m")
        return self._add(ColDef(name, level, expr, deps=_roots(expr)))

    def reduce(self, op: str, mname: str) -> str:
        """A household column reducing member column ``mname`` with ``op`` (sum, any, min,
        max; min and max skip nulls and are null for a household with none)."""
        key = f"{op}:{mname}"
        if key not in self._bcast:
            name = self._name("h")
            self._bcast[key] = self._add(ColDef(name, "reduce", None, mname, op=op, deps=(mname,)))
        return self._bcast[key]

    def broadcast(self, hname: str) -> str:
        """The member copy of household column ``hname`` (made once)."""
        if hname not in self._bcast:
            name = self._name("m")
            self._bcast[hname] = self._add(ColDef(name, "bcast", None, hname, deps=(hname,)))
        return self._bcast[hname]

    def redefine(self, name: str, expr: pl.Expr) -> None:
        """Compute column ``name`` another way, from the same columns."""
        d = self._by_name[name]
        if _roots(expr) != d.deps:
            raise ValueError(f"column {name} would read {_roots(expr)}, not {d.deps}")
        d.expr = expr
        self._rounds.clear()

    def prune(self) -> int:
        """Drop the columns that no output reads, directly or through other columns (a
        program's status no rule reads, a value only a dropped column reads: 湖州 has dozens);
        returns how many."""
        live = set(self.outputs)
        for d in reversed(self.defs):  # a column's inputs are defined before it
            if d.name in live:
                live.update(d.deps)
        dropped = len(self.defs)
        self.defs = [d for d in self.defs if d.name in live]
        self._by_name = {d.name: d for d in self.defs}
        self._bcast = {k: v for k, v in self._bcast.items() if v in live}
        self._rounds.clear()
        return dropped - len(self.defs)

    def level_of(self, name: str) -> str | None:
        d = self._by_name.get(name)
        if d is None:
            return None
        return "h" if d.kind in ("h", "reduce") else "m"

    def rounds_for(self, inputs: set[str]) -> list[Round]:
        """:meth:`rounds`, worked out once per set of input columns (湖州: 10 ms a chunk)."""
        key = frozenset(inputs)
        if key not in self._rounds:
            self._rounds[key] = self.rounds(inputs)
        return self._rounds[key]

    def rounds(self, inputs: set[str]) -> list[Round]:
        """Each column placed in the first round where what it reads exists (a household column
        copied to members is read one round later; a reduction is ready for the households in
        the round its member column is made), in layers within its round's query, and each
        column dropped after its last reader."""
        stage: dict[str, int] = dict.fromkeys(inputs, 0)
        layer: dict[str, int] = {}  # a computed column's layer in its round's query
        last: dict[str, tuple[int, int]] = {}  # column -> (round, step) of its last reader
        out: list[Round] = []
        for d in self.defs:
            missing = [x for x in d.deps if x not in stage]
            if missing:
                raise KeyError(f"column {d.name} reads {missing[0]}, which is not defined before")
            if d.kind == "bcast":
                k = stage[d.deps[0]] + 1
                at = (k - 1, _BCAST)  # copied at the end of the round that made its source
            else:
                k = max((stage[x] for x in d.deps), default=0)
                at = (k, {"m": _M, "reduce": _REDUCE, "h": _H}[d.kind])
            stage[d.name] = k
            while len(out) <= at[0] or len(out) <= k:
                out.append(Round())
            for x in d.deps:
                last[x] = max(last.get(x, at), at)
            if d.kind == "bcast":
                out[k - 1].bcasts.append(d)
            elif d.kind == "reduce":
                out[k].reduces.append(d)
            else:
                n = 1 + max((layer[x] for x in d.deps if x in layer and stage[x] == k), default=-1)
                layer[d.name] = n
                layers = out[k].m if d.kind == "m" else out[k].h
                while len(layers) <= n:
                    layers.append([])
                layers[n].append(d)
        for name, (r, step) in last.items():
            {_M: out[r].m_dead, _REDUCE: out[r].m_reduced}.get(step, out[r].h_dead).add(name)
        return out


_M, _REDUCE, _H, _BCAST = range(4)  # the steps of a round, in order


@dataclass
class Round:
    """One round of :func:`run`: member columns (in layers), their reductions, household columns
    (in layers), the copies to members the next round reads, and the columns no later step
    reads (dropped after the member query, the reductions, the round)."""

    m: list[list[ColDef]] = field(default_factory=list)
    reduces: list[ColDef] = field(default_factory=list)
    h: list[list[ColDef]] = field(default_factory=list)
    bcasts: list[ColDef] = field(default_factory=list)
    m_dead: set[str] = field(default_factory=set)
    m_reduced: set[str] = field(default_factory=set)
    h_dead: set[str] = field(default_factory=set)


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.process_time()

    def __call__(self, kind: str) -> None:
        if self.timings is not None:
            now = time.process_time()
            self.timings[kind] = self.timings.get(kind, 0.0) + now - self.last
            self.last = now


def _reduce(m: pl.DataFrame, defs: list[ColDef], starts: np.ndarray) -> list[pl.Series]:
    """Reduce member columns per household: null-free ors and sums of up-to-64-bit integers as
    one NumPy ``reduceat`` over a matrix of all such columns (members of a household are
    contiguous), the rest with a Polars group-by."""
    out: list[pl.Series] = []
    fast: dict[str, list[ColDef]] = {"any": [], "sum": []}
    slow: list[pl.Expr] = []
    for d in defs:
        assert d.source is not None  # a reduce definition always names its member column
        col = m.get_column(d.source)
        if len(starts) and d.op in fast and col.null_count() == 0 and col.dtype in _NUMPY_TYPES:
            fast[d.op].append(d)
            continue
        e = pl.col(d.source)
        slow.append(
            {"sum": e.sum(), "any": e.any(), "min": e.min(), "max": e.max()}[d.op].alias(d.name)
        )
    if fast["any"]:
        out += _any(m, fast["any"], starts)
    if fast["sum"]:
        # a running total read at each household's last member, differenced: twice as fast as
        # ``np.add.reduceat``; exact, as the integers wrap and the differences undo the
        # wrapping. The sum widens as it goes (no int64 copy of the column first); a count of
        # flags in 32 bits (a household has far fewer than 2**31 members), half the memory
        # traffic of 64 (湖州 core, 595,000 members: 2.5 ms against 4.3)
        ends = np.append(starts[1:], m.height) - 1
        for d in fast["sum"]:
            col = m.get_column(d.source)  # type: ignore[arg-type]
            wide = np.int32 if col.dtype == pl.Boolean else np.int64
            total = np.cumsum(col.to_numpy(), dtype=wide)[ends]
            sums = np.diff(total, prepend=wide(0)).astype(np.int64, copy=False)
            out.append(pl.Series(d.name, sums))
    if slow:
        grouped = m.group_by(HH, maintain_order=True).agg(slow)
        out += [grouped.get_column(c) for c in grouped.columns if c != HH]
    return out


def _any(m: pl.DataFrame, defs: list[ColDef], starts: np.ndarray) -> list[pl.Series]:
    """Null-free member flags or-ed per household, every flag one bit: Polars packs 16 flags
    into each 16-bit word column (``when(flag).then(bit)`` or-ed together: a select on the
    flags' bitmaps, many times faster than summing casts; 16-bit words cost half the CPU of
    64-bit ones), NumPy ors each household's contiguous rows of words at once, read four words
    at a time as one 64-bit integer (a matrix row; an or is bitwise, so the words stay apart),
    and Polars unpacks: a pass per 64 flags, not per flag (湖州, 127 flags over 714,000 members:
    one ``reduceat`` of 2 columns, 0.012 s, where one per 16-bit word took 0.03)."""
    pack, unpack = _any_exprs(tuple((d.name, str(d.source)) for d in defs))
    words = m.select(pack).to_numpy(order="c")
    wide = words.view(np.uint64) if len(pack) > 1 else words
    ored = np.bitwise_or.reduceat(wide, starts, axis=0).view(np.uint16)
    groups = (len(defs) + _WORD - 1) // _WORD
    reduced = pl.DataFrame([pl.Series(f"w{i}", ored[:, i], dtype=pl.UInt16) for i in range(groups)])
    unpacked = reduced.select(unpack)
    return unpacked.get_columns()


@functools.lru_cache(maxsize=256)
def _any_exprs(flags: tuple[tuple[str, str], ...]) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The expressions packing the member flags (``(name, source)``) into words, with zero
    words up to whole 64-bit integers, and unpacking them: made once per set of flags, not
    per chunk (湖州: 10 ms a chunk of building Polars expressions in Python)."""
    groups = [flags[i : i + _WORD] for i in range(0, len(flags), _WORD)]
    pad = -len(groups) % 4 if len(groups) > 1 else 0
    pack = [_pack([source for _, source in g]).alias(f"w{i}") for i, g in enumerate(groups)]
    pack += [pl.lit(0, dtype=pl.UInt16).alias(f"z{i}") for i in range(pad)]
    unpack = [
        ((pl.col(f"w{i}") & pl.lit(1 << j, dtype=pl.UInt16)) != 0).alias(name)
        for i, g in enumerate(groups)
        for j, (name, _) in enumerate(g)
    ]
    return pack, unpack


def _pack(sources: list[str]) -> pl.Expr:
    """The null-free boolean member columns ``sources`` as the bits of one 16-bit column."""
    zero = pl.lit(0, dtype=pl.UInt16)
    word: pl.Expr | None = None
    for j, source in enumerate(sources):
        bit = pl.when(pl.col(source).cast(pl.Boolean)).then(pl.lit(1 << j, dtype=pl.UInt16))
        word = bit.otherwise(zero) if word is None else word | bit.otherwise(zero)
    assert word is not None
    return word


_WORD = 16  # member flags packed per word
_NUMPY_TYPES = (pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt32)


def _roots(expr: pl.Expr) -> tuple[str, ...]:
    return tuple(dict.fromkeys(expr.meta.root_names()))


def _query(frame: pl.DataFrame, layers: list[list[ColDef]], dead: set[str]) -> pl.DataFrame:
    """``frame`` with a round's columns added, layer by layer, in one lazy query (less the
    ``dead`` columns): one collect instead of one per layer, and the lazy engine's
    common-subexpression elimination (the compiled expressions repeat subexpressions: a
    comparison and its null test, a guard and its branches). The in-memory engine: the
    default ("auto") cost more than eager on these queries (湖州 pack, a 250,000-household
    chunk: eager 1.26-1.58 s CPU, auto 1.65, in-memory 1.13-1.17, measured in one run)."""
    names = frame.columns + [d.name for layer in layers for d in layer]
    drop = [c for c in names if c in dead]
    if not layers:
        return frame.drop(drop) if drop else frame
    query = frame.lazy()
    for layer in layers:
        query = query.with_columns(d.expr.alias(d.name) for d in layer)  # type: ignore[union-attr]
    if drop:
        query = query.drop(drop)
    return query.collect(engine="in-memory")


def run(
    plan: Plan, h: pl.DataFrame, m: pl.DataFrame, timings: dict[str, float] | None = None
) -> pl.DataFrame:
    """Compute every column; returns ``H`` with the plan's outputs (``timings``, when given,
    collects seconds per kind of step, for profiling).

    Round by round (:meth:`Plan.rounds`): the members' new columns as one lazy query, their
    reductions, the households' new columns as one lazy query, then the copies to members the
    next round reads: two collects a round (湖州: 20) where a collect per dependency level and
    frame took 94."""
    inputs = set(h.columns) | set(m.columns)
    rounds = plan.rounds_for(inputs)
    keep = set(plan.outputs) | {HH}
    index = m.get_column(HH)
    hh = index.to_numpy()
    counts = np.bincount(hh, minlength=h.height)
    if h.height and counts.min() == 0:
        raise ValueError("every household needs at least one member row")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    m = m.with_columns(pl.col(HH).set_sorted())
    for r in rounds:
        clock = _Clock(timings)
        m = _query(m, r.m, r.m_dead - keep)
        clock("m")
        if r.reduces:
            h = h.with_columns(_reduce(m, r.reduces, starts))
            m = m.drop([c for c in m.columns if c in r.m_reduced - keep])
        clock("reduce")
        h = _query(h, r.h, set())
        clock("h")
        if r.bcasts:
            m = m.with_columns(
                [h.get_column(d.source).gather(index).alias(d.name) for d in r.bcasts]  # type: ignore[arg-type]
            )
        h = h.drop([c for c in h.columns if c in r.h_dead - keep])
        clock("bcast")
    return h
