"""A loaded pack: merged, every expression parsed, name-resolved and type-checked, the
dependency graph of variables and programs checked for cycles (by :mod:`.check`, before the pack
exists). Built once; evaluated many times; it knows nothing of the backends that evaluate it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from minzheng_rules.expr._fold import fold
from minzheng_rules.model._errors import PackError, ParameterNotInForceError, suggest
from minzheng_rules.model._results import StaleValue
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._check import (
    CheckedProgram,
    CheckedTable,
    Expr,
    check_definition,
    exclusion_groups,
)
from minzheng_rules.packs._deps import DepKind, DepNode, names_of
from minzheng_rules.packs._loader import PackDefinition, load_definition
from minzheng_rules.packs._plan import BoundPlan, make_plan


@dataclass(frozen=True)
class ParameterValue:
    """A parameter's value on a date, with what justifies it.

    A derived value (a ``formula``) is only as sure as its rule and its inputs: ``confidence``
    is the weakest of them (``rule_confidence`` is the rule's own), and ``since`` is the start of
    the input that changed last, assumed when that input's start date is."""

    name: str
    value: Decimal | bool | int
    since: dt.date | None
    confidence: S.Confidence
    source: S.Source
    formula: str | None = None
    since_assumed: bool = False
    inputs: tuple[ParameterValue, ...] = ()
    rule_confidence: S.Confidence | None = None

    def leaves(self) -> Iterator[ParameterValue]:
        """The dated values this one rests on: itself, or its inputs' (through any depth)."""
        if self.formula is None:
            yield self
        for i in self.inputs:
            yield from i.leaves()


STALE_AFTER_YEARS = 2
"""A value older than this on the evaluation date is reported as stale (not wrong: unrevised)."""


def years_before(on: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (28 February for a 29 February)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


class Pack:
    """A checked pack. Use :func:`minzheng_rules.load_pack` to get one."""

    def __init__(self, definition: PackDefinition) -> None:
        self.definition = definition
        checked = check_definition(definition)  # raises PackErrors, listing every problem
        self.scope = checked.scope
        self.derived = checked.derived
        self.variables = checked.variables
        self.tables = checked.tables
        self.programs = checked.programs
        self.relief = checked.relief
        self.deps = checked.deps
        self.order = self._program_order()
        self._plans: dict[dt.date, BoundPlan] = {}

    # -- identity -------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.definition.manifest.id

    @property
    def manifest(self) -> S.Manifest:
        return self.definition.manifest

    @property
    def folder(self) -> Path:
        return self.definition.folder

    @property
    def parameters(self) -> dict[str, S.Parameter]:
        return self.definition.parameters

    @property
    def exclusions(self) -> dict[str, S.Exclusion]:
        return self.definition.exclusions

    @property
    def cases(self) -> list[S.Case]:
        return self.definition.cases

    @property
    def needs_model(self) -> S.NeedsModel | None:
        """The needs taxonomy (categories → sub-items → labels), if the pack has one."""
        return self.definition.needs

    def __repr__(self) -> str:
        return f"<Pack {self.id} ({' → '.join(self.definition.chain)})>"

    # -- the dependency graph -------------------------------------------------------------
    def exclusion_groups(self) -> dict[str, set[str]]:
        """Program → every program linked to it through exclusions (a connected component):
        all of them are settled together, once the last one has been evaluated."""
        return exclusion_groups(self.exclusions)

    def exclusion_order(self) -> list[S.Exclusion]:
        """Exclusions in the order they are applied: one that can make a program lose comes
        before one where that program could win (an orphan who keeps the orphan allowance has
        lost tekun before tekun is weighed against dibao). Declaration order breaks ties."""
        excs = list(self.exclusions.values())

        def can_lose(e: S.Exclusion) -> set[str]:
            return set(e.programs) if e.keep == "highest_amount" else set(e.programs[1:])

        def can_win(e: S.Exclusion) -> set[str]:
            return set(e.programs) if e.keep == "highest_amount" else set(e.programs[:-1])

        ordered: list[S.Exclusion] = []
        remaining = excs[:]
        while remaining:
            for e in remaining:
                blocked = any(
                    o is not e and can_lose(o) & can_win(e) and not (can_lose(e) & can_win(o))
                    for o in remaining
                )
                if not blocked:
                    break
            else:
                e = remaining[0]  # a cycle: fall back to declaration order
            ordered.append(e)
            remaining.remove(e)
        return ordered

    def _program_order(self) -> list[str]:
        """Programs in declaration order, each after the programs it reads; the same order in
        every process (what a program reads is visited sorted, not in a set's hash order)."""
        order: list[str] = []
        done: set[str] = set()

        def visit(pid: str) -> None:
            if pid in done:
                return
            done.add(pid)
            for name in sorted(names_of(self.closure(DepNode.program(pid)), DepKind.PROGRAM)):
                if name != pid:
                    visit(name)
            order.append(pid)

        for pid in self.programs:
            visit(pid)
        return order

    def closure(self, node: DepNode) -> set[DepNode]:
        """Everything ``node`` needs, through variables and derived parameters (not through
        other programs, which are evaluated before it)."""
        seen: set[DepNode] = set()
        todo = [node]
        while todo:
            n = todo.pop()
            for m in self.deps.get(n, ()):
                if m not in seen:
                    seen.add(m)
                    if not m.is_program:
                        todo.append(m)
        return seen

    def needs(self, program_ids: Iterable[str]) -> set[DepNode]:
        """Variables and parameters the given programs need, through any depth."""
        return self.requirements(DepNode.program(pid) for pid in program_ids)

    def requirements(self, nodes: Iterable[DepNode]) -> set[DepNode]:
        """Variables and parameters the given dependency nodes (programs, tags, need labels,
        assistance items) need, through any depth."""
        out: set[DepNode] = set()
        for node in nodes:
            out |= self.closure(node)
        return out

    # -- parameters -----------------------------------------------------------------------
    def parameter(self, name: str, on: dt.date) -> ParameterValue:
        """The value of a parameter in force on a date, with its provenance."""
        spec = self.parameters[name]
        if spec.history is not None:
            current = None
            for entry in spec.history:
                if entry.since <= on:
                    current = entry
            if current is None:
                raise ParameterNotInForceError(name, on, spec.history[0].since)
            value: Any = current.value
            if spec.type == "count" and not isinstance(value, bool):
                value = int(value)
            return ParameterValue(
                name,
                value,
                current.since,
                current.confidence,
                current.source,
                since_assumed=current.since_assumed,
            )
        if spec.set_by is not None:
            hint = f"it is set by a {spec.set_by} pack; evaluate with one"
            if self.manifest.level in ("city", "county"):
                hint = (
                    f"it is left to the {spec.set_by} pack and {self.id} does not set it yet; "
                    f"`minzheng validate {self.folder}` lists every value still to be set"
                )
            raise ParameterNotInForceError(name, on, None, hint)
        e = self.derived[name]
        inputs = tuple(self.parameter(p, on) for p in sorted(e.checked.references("param")))
        value = fold(e.checked.node, e.checked, {i.name: i.value for i in inputs})
        assert spec.confidence is not None and spec.source is not None
        dated = [i for i in inputs if i.since is not None]
        last = max(dated, key=lambda i: i.since or dt.date.min) if dated else None
        return ParameterValue(
            name,
            value,
            last.since if last else None,
            S.weakest([spec.confidence, *(i.confidence for i in inputs)]),
            spec.source,
            spec.formula,
            since_assumed=last.since_assumed if last else False,
            inputs=inputs,
            rule_confidence=spec.confidence,
        )

    def parameter_dates(self) -> list[dt.date]:
        """Every date on which some parameter of this pack changes."""
        days = {h.since for p in self.parameters.values() for h in (p.history or ())}
        return sorted(days)

    def with_overrides(self, values: dict[str, Any], since: dt.date | None = None) -> Pack:
        """A new pack with some parameters' values replaced (on every date, or from ``since``),
        for what-if questions; this pack is left as it is. Values may be text (``"1200"``).
        Each replaced value shows as ``modelled``, with the override as its reasoning."""
        import dataclasses

        params = dict(self.parameters)
        for name, raw in values.items():
            spec = params.get(name)
            if spec is None:
                raise PackError(
                    f"unknown parameter '{name}'",
                    name=name,
                    file="override",
                    suggestion=suggest(name, params),
                )
            if since is not None and spec.history is None:
                raise PackError(
                    f"'{name}' has no dated history (derived or set elsewhere); "
                    "override it on every date instead",
                    name=name,
                    file="override",
                )
            entry = S.DatedValue(
                since=since or dt.date.min,
                value=_override_value(name, spec, raw),
                confidence=S.Confidence.modelled,
                source=S.Source(reasoning=f"override {name}={raw}"),
            )
            kept = [h for h in spec.history or () if since is not None and h.since < since]
            params[name] = spec.model_copy(
                update={
                    "history": [*kept, entry],
                    "formula": None,
                    "set_by": None,
                    "confidence": None,
                    "source": None,
                }
            )
        return Pack(dataclasses.replace(self.definition, parameters=params))

    def coverage_on(self, on: dt.date) -> dict[str, Any]:
        """Which programs exist and how sure the values in force on ``on`` are: each parameter
        with a value that day counts once, a derived one with its propagated confidence (what an
        evaluation on that day depends on; earlier and later history entries do not count)."""
        counts = {c.value: 0 for c in S.Confidence}
        assumed = 0
        for name in self.parameters:
            try:
                pv = self.parameter(name, on)
            except ParameterNotInForceError:
                continue
            counts[pv.confidence.value] += 1
            assumed += pv.formula is None and pv.since_assumed
        total = sum(counts.values())
        return {
            "date": on.isoformat(),
            "programs": sorted(self.programs),
            "parameters": len(self.parameters),
            "values": counts,
            "assumed_dates": assumed,
            "modelled_share": round(counts["modelled"] / total, 3) if total else 0.0,
        }

    def stale_report(
        self, on: dt.date, program_ids: list[str] | None = None
    ) -> dict[str, list[StaleValue]]:
        """:meth:`stale_values` as the results show them (text values, ISO dates)."""
        return {
            pid: [
                StaleValue(
                    pv.name,
                    _text(pv.value),
                    str(self.parameters[pv.name].unit.value),
                    pv.since.isoformat() if pv.since else "",
                    pv.since_assumed,
                    pv.confidence.value,
                )
                for pv in found
            ]
            for pid, found in self.stale_values(on, program_ids).items()
        }

    def stale_values(
        self, on: dt.date, program_ids: list[str] | None = None
    ) -> dict[str, list[ParameterValue]]:
        """Per program (those in force on ``on``, or the ones given), the money amounts its
        rules read (directly, through variables, tables or derived parameters) whose value in
        force started more than :data:`STALE_AFTER_YEARS` years before ``on``, oldest first.
        Standards are revised over time, so such a value may have been replaced by one the pack
        does not know; ages, ratios and counts are rules that change by a new document and are
        not reported, nor are what-if overrides (in force on every date)."""
        cutoff = years_before(on, STALE_AFTER_YEARS)
        ids = program_ids if program_ids is not None else list(self.programs)
        out: dict[str, list[ParameterValue]] = {}
        for pid in ids:
            if not self.programs[pid].in_force(on):
                continue
            found: dict[str, ParameterValue] = {}
            for name in names_of(self.needs([pid]), DepKind.PARAMETER):
                try:
                    pv = self.parameter(name, on)
                except ParameterNotInForceError:
                    continue
                for leaf in pv.leaves():
                    spec = self.parameters[leaf.name]
                    since = leaf.since
                    if spec.type == "money" and since is not None and dt.date.min < since < cutoff:
                        found[leaf.name] = leaf
            if found:
                out[pid] = sorted(found.values(), key=lambda v: (v.since, v.name))
        return out

    # -- binding to a date -------------------------------------------------------------
    def plan(self, on: dt.date) -> BoundPlan:
        """What evaluating this pack on ``on`` needs, for any backend (cached per date)."""
        plan = self._plans.get(on)
        if plan is None:
            if len(self._plans) > 64:
                self._plans.clear()
            plan = self._plans[on] = make_plan(self, on)
        return plan


def _text(value: Decimal | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


def _override_value(name: str, spec: S.Parameter, raw: Any) -> Decimal | bool:
    """An override's value in the parameter's type; text is read strictly (no guessing)."""
    text = str(raw).strip().lower()
    if spec.type == "bool":
        if isinstance(raw, bool) or text in ("true", "false"):
            return raw if isinstance(raw, bool) else text == "true"
        raise PackError(
            f"parameter '{name}' is true or false, not '{raw}'",
            name=name,
            file="override",
        )
    try:
        value = Decimal(text) if not isinstance(raw, bool) else None
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite():
        raise PackError(
            f"parameter '{name}' needs a number, not '{raw}'", name=name, file="override"
        )
    if spec.type == "count" and value != value.to_integral_value():
        raise PackError(
            f"parameter '{name}' is a whole number, not '{raw}'",
            name=name,
            file="override",
        )
    return value


def load_pack(name_or_path: str | Path) -> Pack:
    """Load a pack by built-in name, registered name, or folder path; checks everything."""
    return Pack(load_definition(name_or_path, collect=True))


__all__ = ["CheckedProgram", "CheckedTable", "Expr", "Pack", "ParameterValue", "load_pack"]
