"""A compiled pack as a graph of columns, run in waves over two frames.

The households frame ``H`` has one row per household; the members frame ``M`` one row per
member, sorted by ``_hh`` (the household's row in ``H``). Each column is defined once:

* ``h`` / ``m``: an expression over its own frame;
* ``agg``: an aggregation over ``M`` grouped by household, landing in ``H``;
* ``bcast``: a household column copied to each member.

Columns are placed in waves by dependency depth, so each wave is one ``with_columns`` per frame
(Polars runs its expressions in parallel) plus one ``group_by``; a column is dropped after the
last wave that reads it, which keeps memory flat whatever the pack's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

HH = "_hh"


@dataclass
class ColDef:
    name: str
    kind: str  # h | m | agg | bcast
    expr: pl.Expr | None
    source: str | None = None  # bcast: the household column
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

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _add(self, d: ColDef) -> str:
        self.defs.append(d)
        self._by_name[d.name] = d
        return d.name

    def column(self, level: str, expr: pl.Expr) -> str:
        """A column of ``level`` ('h' or 'm') computed by ``expr`` over that frame."""
        name = self._name("h" if level == "h" else "m")
        return self._add(ColDef(name, level, expr, deps=_roots(expr)))

    def aggregate(self, expr: pl.Expr) -> str:
        """A household column aggregating member rows with ``expr``."""
        name = self._name("h")
        return self._add(ColDef(name, "agg", expr, deps=_roots(expr)))

    def broadcast(self, hname: str) -> str:
        """The member copy of household column ``hname`` (made once)."""
        if hname not in self._bcast:
            name = self._name("m")
            self._bcast[hname] = self._add(ColDef(name, "bcast", None, hname, (hname,)))
        return self._bcast[hname]

    def level_of(self, name: str) -> str | None:
        d = self._by_name.get(name)
        if d is None:
            return None
        return "h" if d.kind in ("h", "agg") else "m"

    def waves(self, inputs: set[str]) -> list[list[ColDef]]:
        depth: dict[str, int] = dict.fromkeys(inputs, 0)
        out: list[list[ColDef]] = []
        for d in self.defs:
            missing = [x for x in d.deps if x not in depth]
            if missing:
                raise KeyError(f"column {d.name} reads {missing[0]}, which is not defined before")
            k = 1 + max((depth[x] for x in d.deps), default=0)
            depth[d.name] = k
            while len(out) < k:
                out.append([])
            out[k - 1].append(d)
        return out


def _roots(expr: pl.Expr) -> tuple[str, ...]:
    return tuple(dict.fromkeys(expr.meta.root_names()))


def run(plan: Plan, h: pl.DataFrame, m: pl.DataFrame) -> pl.DataFrame:
    """Compute every column; returns ``H`` with the plan's outputs."""
    inputs = set(h.columns) | set(m.columns)
    waves = plan.waves(inputs)
    last_use: dict[str, int] = {}
    for i, wave in enumerate(waves):
        for d in wave:
            for x in d.deps:
                last_use[x] = i
    keep = set(plan.outputs) | {HH}
    index = m.get_column(HH)
    for i, wave in enumerate(waves):
        hs = [d.expr.alias(d.name) for d in wave if d.kind == "h"]  # type: ignore[union-attr]
        ms = [d.expr.alias(d.name) for d in wave if d.kind == "m"]  # type: ignore[union-attr]
        aggs = [d.expr.alias(d.name) for d in wave if d.kind == "agg"]  # type: ignore[union-attr]
        bcasts = [d for d in wave if d.kind == "bcast"]
        new_h = h.with_columns(hs) if hs else h
        if aggs:
            grouped = m.group_by(HH, maintain_order=True).agg(aggs)
            if grouped.height != h.height:
                raise ValueError("every household needs at least one member row")
            new_h = new_h.hstack(grouped.drop(HH))
        new_m = m.with_columns(ms) if ms else m
        if bcasts:
            new_m = new_m.with_columns(
                [h.get_column(d.source).gather(index).alias(d.name) for d in bcasts]  # type: ignore[arg-type]
            )
        h, m = new_h, new_m
        dead = [c for c, last in last_use.items() if last == i and c not in keep]
        h = h.drop([c for c in dead if c in h.columns])
        m = m.drop([c for c in dead if c in m.columns])
    return h
