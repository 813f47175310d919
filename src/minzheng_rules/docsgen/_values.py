"""Parameter values as the explorer shows them: on a date, over time, and how sure each one is.

A derived value (the 低边 line = 1.5 × the 低保 standard) is only as sure as its rule and its
inputs, so its confidence is the set of all of them: a derived value with a modelled input is
marked modelled too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from minzheng_rules.docsgen import _md as md
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._deps import DepKind, DepNode, names_of
from minzheng_rules.packs._pack import Expr, Pack


@dataclass(frozen=True)
class Shown:
    """A parameter's value on a date with everything a reader needs to judge it."""

    value: Decimal | bool | int
    since: dt.date | None
    confidences: frozenset[str]
    formula: str | None
    source: S.Source | None
    since_assumed: bool = False  # no source gives the start day (most give a year)

    @property
    def modelled(self) -> bool:
        return "modelled" in self.confidences


def is_standard(spec: S.Parameter) -> bool:
    """Money amounts a household receives or is measured against (元), as opposed to ratios,
    ages and counts."""
    return spec.type == "money" and str(spec.unit.value).startswith("CNY")


def inputs(pack: Pack, name: str) -> set[str]:
    """The parameters a derived parameter reads, directly."""
    e = pack.derived.get(name)
    return set(e.checked.references("param")) if e is not None else set()


def value_on(pack: Pack, name: str, on: dt.date) -> Shown | None:
    """The value in force on ``on``, or None (not yet in force, or set by a lower pack)."""
    try:
        pv = pack.parameter(name, on)
    except MinzhengError:
        return None
    spec = pack.parameters[name]
    if spec.formula is None:
        return Shown(
            pv.value, pv.since, frozenset({pv.confidence.value}), None, pv.source, pv.since_assumed
        )
    confidences = {pv.rule_confidence.value if pv.rule_confidence else pv.confidence.value}
    for dep in inputs(pack, name):
        shown = value_on(pack, dep, on)
        if shown is None:
            return None
        confidences |= shown.confidences
    return Shown(
        pv.value, pv.since, frozenset(confidences), spec.formula, pv.source, pv.since_assumed
    )


def dated(shown: Shown | None, day: dt.date | None = None) -> str:
    """A start date as the site prints it, marked when it is assumed."""
    since = day or (shown.since if shown else None)
    if since is None:
        return "—"
    return str(since) + (" (assumed 推定)" if shown is not None and shown.since_assumed else "")


def change_dates(pack: Pack, name: str) -> list[dt.date]:
    """Every date on which this parameter's value may change (its own history, or its inputs')."""
    spec = pack.parameters[name]
    if spec.history is not None:
        return [h.since for h in spec.history]
    days: set[dt.date] = set()
    for dep in inputs(pack, name):
        days.update(change_dates(pack, dep))
    return sorted(days)


def series(pack: Pack, name: str, until: dt.date) -> list[tuple[dt.date, Shown]]:
    """The parameter's steps up to ``until``: (first day, value) each time the value changes."""
    out: list[tuple[dt.date, Shown]] = []
    for day in change_dates(pack, name):
        if day > until:
            break
        shown = value_on(pack, name, day)
        if shown is None:
            continue
        if out and out[-1][1].value == shown.value and out[-1][1].confidences == shown.confidences:
            continue
        out.append((day, shown))
    return out


def defined_in(pack: Pack, section: str, name: str) -> str:
    """The id of the pack in the chain that wrote this entry (a child's override wins)."""
    return pack.definition.packs.get(f"{section}:{name}", pack.id)


def parameter_values(pack: Pack, exprs: list[Expr], on: dt.date) -> list[str]:
    """The parameters some rules read (directly or through the variables they use), filled in
    with their values on ``on`` and since when, as one line (none when they read none)."""
    names: set[str] = set()
    for expr in exprs:
        names |= set(expr.checked.references("param"))
        for kind in ("household", "member"):
            for var in expr.checked.references(kind):
                names |= names_of(pack.requirements([DepNode.variable(var)]), DepKind.PARAMETER)
    parts = []
    for name in sorted(names):
        shown = value_on(pack, name, on)
        if shown is None:
            continue
        unit = md.UNIT_ZH.get(pack.parameters[name].unit.value, "")
        since = f" (自 since {shown.since})" if shown.since else ""
        link = f"[`p.{name}`](../params/{name}.md)"
        parts.append(f"{link} = **{md.number(shown.value)}** {unit}{since}")
    return [f"<span class='mz-lang'>{on}</span> " + " · ".join(parts)] if parts else []
