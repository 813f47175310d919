"""Reform impact: who gains, who loses and what it costs when a pack, a date or a parameter
changes, over a register of households.

A *scenario* is a pack on a date (the pack may carry parameter overrides). :func:`reform_impact`
evaluates every household of the register under two scenarios with the reference evaluator and
counts, per program, the households eligible before and after, those that gained and lost
eligibility (and how many of the losses an exclusion decided: they moved to another program),
and the cost. Money stays exact (``Decimal``); costs are reported in 元 to the fen.

Costs: a program paid per month (``CNY/month``, ``CNY/person/month``) costs its amounts each
month and 12 times that a year; one paid per year costs its amounts a year and a twelfth a
month; a one-off grant (``CNY``, ``CNY/household``) has a one-off cost and no monthly one;
a program whose amount is not money (hours, a flag) has no cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from minzheng_rules.backends.reference import evaluate
from minzheng_rules.io._households import read_households
from minzheng_rules.model._errors import EvaluationError, MinzhengError
from minzheng_rules.model._household import Household, parse_household
from minzheng_rules.model._results import Evaluation, ProgramOutcome, Status
from minzheng_rules.packs._pack import Pack

FEN = Decimal("0.01")
ZERO = Decimal(0)
_PERIODS = {
    "CNY/month": "month",
    "CNY/person/month": "month",
    "CNY/year": "year",
    "CNY/person/year": "year",
    "CNY": "once",
    "CNY/household": "once",
}
CHANGES = ("gained", "lost", "increased", "decreased")


@dataclass(frozen=True)
class Scenario:
    """A pack on a date; ``overrides`` records the parameters replaced (for the report)."""

    pack: Pack
    on: dt.date
    overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, pack: Pack, on: dt.date, overrides: dict[str, Any] | None = None) -> Scenario:
        """``pack`` on ``on``, with ``overrides`` (parameter → value) applied when given."""
        if not overrides:
            return cls(pack, on)
        shown = {k: str(v) for k, v in overrides.items()}
        return cls(pack.with_overrides(overrides), on, shown)

    def to_dict(self) -> dict[str, Any]:
        return {"pack": self.pack.id, "date": self.on.isoformat(), "overrides": self.overrides}

    def label(self) -> str:
        sets = "".join(f" {k}={v}" for k, v in self.overrides.items())
        return f"{self.pack.id} on {self.on}{sets}"


@dataclass
class Example:
    """One household whose answer for a program changed."""

    household: str
    before: str
    after: str
    amount_before: Decimal
    amount_after: Decimal
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {
            "household": self.household,
            "before": {"status": self.before, "amount": _yuan(self.amount_before)},
            "after": {"status": self.after, "amount": _yuan(self.amount_after)},
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class ProgramImpact:
    """One program's counts and costs under the two scenarios."""

    id: str
    label_zh: str
    label_en: str
    unit: str
    eligible_before: int = 0
    eligible_after: int = 0
    gained: int = 0
    lost: int = 0
    lost_to_exclusion: int = 0
    increased: int = 0
    decreased: int = 0
    undetermined_before: int = 0
    undetermined_after: int = 0
    amount_before: Decimal = ZERO
    amount_after: Decimal = ZERO
    examples: dict[str, list[Example]] = field(default_factory=lambda: {c: [] for c in CHANGES})

    @property
    def period(self) -> str | None:
        return _PERIODS.get(self.unit)

    def costs(self) -> dict[str, str | None]:
        """Monthly and yearly cost before, after and the change, in 元 (None: not recurring)."""
        period = self.period
        if period in ("month", "year"):
            months = 1 if period == "month" else 12
            mb, ma = self.amount_before / months, self.amount_after / months
            yb, ya = mb * 12, ma * 12
            return {
                "monthly_cost_before": _yuan(mb),
                "monthly_cost_after": _yuan(ma),
                "monthly_cost_change": _yuan(ma - mb),
                "yearly_cost_before": _yuan(yb),
                "yearly_cost_after": _yuan(ya),
                "yearly_cost_change": _yuan(ya - yb),
            }
        out: dict[str, str | None] = {
            k: None
            for k in (
                "monthly_cost_before",
                "monthly_cost_after",
                "monthly_cost_change",
                "yearly_cost_before",
                "yearly_cost_after",
                "yearly_cost_change",
            )
        }
        if period == "once":
            out["one_off_cost_before"] = _yuan(self.amount_before)
            out["one_off_cost_after"] = _yuan(self.amount_after)
            out["one_off_cost_change"] = _yuan(self.amount_after - self.amount_before)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": {"zh": self.label_zh, "en": self.label_en},
            "unit": self.unit,
            "eligible_before": self.eligible_before,
            "eligible_after": self.eligible_after,
            "gained": self.gained,
            "lost": self.lost,
            "lost_to_exclusion": self.lost_to_exclusion,
            "increased": self.increased,
            "decreased": self.decreased,
            "undetermined_before": self.undetermined_before,
            "undetermined_after": self.undetermined_after,
            **self.costs(),
            "examples": {k: [e.to_dict() for e in v] for k, v in self.examples.items()},
        }


@dataclass
class Impact:
    """The reform's effect over a register, per program."""

    before: Scenario
    after: Scenario
    households: int
    programs: dict[str, ProgramImpact]
    parameters: list[dict[str, str]]

    def totals(self) -> dict[str, str]:
        """Monthly and yearly cost over every recurring money program."""
        mb = ma = ZERO
        for p in self.programs.values():
            c = p.costs()
            if c["monthly_cost_before"] is not None:
                mb += Decimal(str(c["monthly_cost_before"]))
                ma += Decimal(str(c["monthly_cost_after"]))
        return {
            "monthly_cost_before": _yuan(mb),
            "monthly_cost_after": _yuan(ma),
            "monthly_cost_change": _yuan(ma - mb),
            "yearly_cost_before": _yuan(mb * 12),
            "yearly_cost_after": _yuan(ma * 12),
            "yearly_cost_change": _yuan((ma - mb) * 12),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "households": self.households,
            "parameters_changed": self.parameters,
            "programs": {pid: p.to_dict() for pid, p in self.programs.items()},
            "total": self.totals(),
        }


def _yuan(value: Decimal) -> str:
    return str(value.quantize(FEN))


def _amount(p: ProgramOutcome | None) -> Decimal:
    if p is None or not p.eligible or not p.unit.startswith("CNY"):
        return ZERO
    return p.amount


def _status(p: ProgramOutcome | None) -> str:
    return "absent" if p is None else p.status.value


def reform_impact(
    register: Iterable[Household | dict[str, Any]],
    before: Scenario,
    after: Scenario,
    *,
    examples: int = 3,
) -> Impact:
    """Evaluate every household under both scenarios and count what changed, per program.

    ``examples`` households are kept per program for each kind of change (gained, lost,
    increased, decreased). A household that cannot be evaluated raises an error naming it."""
    programs: dict[str, ProgramImpact] = {}
    for scenario in (before, after):
        for pid, prog in scenario.pack.programs.items():
            if pid not in programs:
                s = prog.spec
                programs[pid] = ProgramImpact(pid, s.label.zh, s.label.en, s.unit.value)
    count = 0
    for row in register:
        h = row if isinstance(row, Household) else parse_household(row, f"register row {count + 1}")
        a = _evaluate(before, h)
        b = _evaluate(after, h)
        count += 1
        better = [pid for pid in programs if _better(a.programs.get(pid), b.programs.get(pid))]
        for pid, impact in programs.items():
            _tally(impact, h.id, a.programs.get(pid), b.programs.get(pid), examples, better)
    return Impact(before, after, count, programs, _parameter_changes(before, after))


def _evaluate(scenario: Scenario, h: Household) -> Evaluation:
    try:
        return evaluate(scenario.pack, h, scenario.on)
    except EvaluationError as err:
        raise EvaluationError(f"household '{h.id}' under {scenario.label()}: {err}") from None


def _better(a: ProgramOutcome | None, b: ProgramOutcome | None) -> bool:
    """Eligible after and not before, or paid more."""
    if b is None or not b.eligible:
        return False
    return a is None or not a.eligible or _amount(b) > _amount(a)


def _tally(
    impact: ProgramImpact,
    hid: str,
    a: ProgramOutcome | None,
    b: ProgramOutcome | None,
    examples: int,
    better: list[str],
) -> None:
    """Count one household for one program; ``better`` names the programs it gained or gets
    more from, so a loss can say where the household went."""
    was = a is not None and a.eligible
    now = b is not None and b.eligible
    impact.eligible_before += was
    impact.eligible_after += now
    impact.undetermined_before += a is not None and a.status is Status.undetermined
    impact.undetermined_after += b is not None and b.status is Status.undetermined
    x, y = _amount(a), _amount(b)
    impact.amount_before += x
    impact.amount_after += y
    change = None
    note = ""
    if now and not was:
        change = "gained"
        impact.gained += 1
    elif was and not now:
        change = "lost"
        impact.lost += 1
        if b is not None and b.excluded_by:
            impact.lost_to_exclusion += 1
            note = f"excluded by {b.excluded_by}"
        elif better:
            note = f"better off in {', '.join(better)}"
    elif was and now and y != x:
        change = "increased" if y > x else "decreased"
        setattr(impact, change, getattr(impact, change) + 1)
    if change is not None and len(impact.examples[change]) < examples:
        impact.examples[change].append(Example(hid, _status(a), _status(b), x, y, note))


def _parameter_changes(before: Scenario, after: Scenario) -> list[dict[str, str]]:
    """Parameters whose value differs between the scenarios (those in force on both sides)."""
    out = []
    names = sorted(set(before.pack.parameters) | set(after.pack.parameters))
    for name in names:
        values = []
        for s in (before, after):
            try:
                values.append(str(s.pack.parameter(name, s.on).value))
            except (MinzhengError, KeyError):
                values.append("—")
        if values[0] != values[1]:
            out.append({"name": name, "before": values[0], "after": values[1]})
    return out


# -- registers ------------------------------------------------------------------------------


def read_register(path: str | Path, members: str | Path | None = None) -> Iterator[Household]:
    """Households from a register: JSON Lines, or the columnar form (needs the ``batch``
    extra). A bad row stops the read with an error naming the file, the row and the field: no
    row is dropped silently (see :func:`minzheng_rules.io.read_households`)."""
    return read_households(path, members)


def write_register(households: Iterable[Household], path: str | Path) -> int:
    """Write households as JSON Lines; returns how many."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as f:
        for h in households:
            f.write(h.model_dump_json(exclude_defaults=True) + "\n")
            n += 1
    return n


__all__ = [
    "Example",
    "Impact",
    "ProgramImpact",
    "Scenario",
    "read_register",
    "reform_impact",
    "write_register",
]
