"""A loaded pack: merged, every expression parsed, name-resolved and type-checked, the
dependency graph of variables and programs checked for cycles. Built once; evaluated many times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from minzheng_rules.expr._checker import Checked, ExpressionTypeError, Scope, check
from minzheng_rules.expr._fold import fold
from minzheng_rules.expr._parser import ExpressionSyntaxError, parse
from minzheng_rules.model import _types as T
from minzheng_rules.model._errors import PackError, PackErrors, ParameterNotInForceError, suggest
from minzheng_rules.model._facts import HOUSEHOLD_FACTS, MEMBER_FACTS, receiving_facts
from minzheng_rules.model._results import StaleValue
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._loader import Origin, PackDefinition, load_definition
from minzheng_rules.packs._needs import check_relief, need_facts
from minzheng_rules.packs._plan import BoundPlan, make_plan


@dataclass
class Expr:
    """A checked expression and where it was written."""

    source: str
    checked: Checked
    origin: Origin


@dataclass
class CheckedTable:
    spec: S.Table
    rows: list[tuple[Expr, Expr]]
    default: Expr


@dataclass
class CheckedProgram:
    id: str
    spec: S.Program
    conditions: list[tuple[S.Condition, Expr]]
    amount: Expr | None

    @property
    def entity(self) -> str:
        return self.spec.entity

    def in_force(self, on: dt.date) -> bool:
        f = self.spec.in_force
        return (f.since is None or f.since <= on) and (f.until is None or on <= f.until)

    def expressions(self) -> Iterator[Expr]:
        for _, e in self.conditions:
            yield e
        if self.amount is not None:
            yield self.amount


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


_VALUE_TYPES = {"money": T.MONEY, "number": T.NUMBER, "count": T.COUNT, "bool": T.BOOL}


class Pack:
    """A checked pack. Use :func:`minzheng_rules.load_pack` to get one."""

    def __init__(self, definition: PackDefinition) -> None:
        self.definition = definition
        self._errors: list[PackError] = list(definition.errors)
        d = definition
        self.scope = Scope(
            household={
                **HOUSEHOLD_FACTS,
                **receiving_facts(list(d.programs)),
                **need_facts(d.needs),
            },
            member=dict(MEMBER_FACTS),
            params={n: _VALUE_TYPES[p.type] for n, p in d.parameters.items()},
            programs={pid: p.entity for pid, p in d.programs.items()},
        )
        self._declare_names()
        self._declare_broken()
        self.derived: dict[str, Expr] = {}
        for name, p in d.parameters.items():
            if p.formula is not None:
                e = self._expr(
                    p.formula,
                    "parameters",
                    name,
                    ("formula",),
                    "household",
                    _VALUE_TYPES[p.type],
                    params_only=True,
                )
                if e is not None:
                    self.derived[name] = e
        self.variables: dict[str, Expr] = {}
        for name, v in d.variables.items():
            e = self._expr(
                v.formula, "variables", name, ("formula",), v.entity, _VALUE_TYPES[v.type]
            )
            if e is not None:
                self.variables[name] = e
        self.tables: dict[str, CheckedTable] = {}
        for name, t in d.tables.items():
            rows = []
            for i, row in enumerate(t.rows):
                w = self._expr(row.when, "tables", name, ("rows", i, "when"), t.entity, T.BOOL)
                th = self._expr(
                    row.then, "tables", name, ("rows", i, "then"), t.entity, _VALUE_TYPES[t.type]
                )
                if w is not None and th is not None:
                    rows.append((w, th))
            default = self._expr(
                t.default, "tables", name, ("default",), t.entity, _VALUE_TYPES[t.type]
            )
            if default is not None:
                self.tables[name] = CheckedTable(t, rows, default)
        self.programs: dict[str, CheckedProgram] = {}
        for pid, prog in d.programs.items():
            conds = []
            for i, c in enumerate(prog.conditions):
                e = self._expr(
                    c.when, "programs", pid, ("conditions", i, "when"), prog.entity, T.BOOL
                )
                if e is not None:
                    conds.append((c, e))
            amount_type = T.MONEY if str(prog.unit).startswith("CNY") else T.NUMBER
            amount = None
            if prog.amount is not None:
                amount = self._expr(
                    prog.amount, "programs", pid, ("amount",), prog.entity, amount_type
                )
            self.programs[pid] = CheckedProgram(pid, prog, conds, amount)
        self._check_exclusions()
        self._check_invariants()
        self._check_stacking()
        self.relief = check_relief(self, self._errors)
        try:
            self.deps = self._dependencies()  # cycles are reported with everything else
        except PackError as e:
            if not self._errors:
                raise
            self._errors.append(e)
        except Exception:
            # what was reported left the graph partial; the cycle check waits for a clean run
            if not self._errors:
                raise
        if self._errors:
            raise PackErrors(list({e.render(): e for e in self._errors}.values()))
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

    # -- checking -------------------------------------------------------------------------
    def _declare_names(self) -> None:
        d = self.definition
        for section, items in (("variables", d.variables), ("tables", d.tables)):
            for name, spec in items.items():
                origin = d.origin(section, name)
                if name in HOUSEHOLD_FACTS or name in MEMBER_FACTS:
                    self._errors.append(
                        PackError(
                            f"'{name}' is already a household or member fact",
                            file=origin.file,
                            line=origin.line,
                            name=name,
                        )
                    )
                    continue
                target = self.scope.household if spec.entity == "household" else self.scope.member
                other = self.scope.member if spec.entity == "household" else self.scope.household
                if name in other or name in target:
                    self._errors.append(
                        PackError(
                            f"'{name}' is defined twice (variables and tables share one namespace)",
                            file=origin.file,
                            line=origin.line,
                            name=name,
                        )
                    )
                target[name] = _VALUE_TYPES[spec.type]

    def _declare_broken(self) -> None:
        """Names of entries that failed the format check are declared with the type and
        entity they state (when those are readable), so the expressions that read them are
        still checked and only the entry itself is reported."""
        self._unresolved: set[str] = set()
        for (section, name), raw in self.definition.broken.items():
            raw = raw if isinstance(raw, dict) else {}
            stated = raw.get("type", "money" if section == "parameters" else None)
            t = _VALUE_TYPES.get(stated) if isinstance(stated, str) else None
            entity = raw.get("entity", "household")
            if section == "parameters" and name not in self.scope.params:
                if t is not None:
                    self.scope.params[name] = t
                else:
                    self._unresolved.add(f"p.{name}")
            elif section in ("variables", "tables") and t is not None:
                target = self.scope.member if entity == "member" else self.scope.household
                target.setdefault(name, t)
            elif section == "programs" and entity in ("household", "member"):
                self.scope.programs.setdefault(name, entity)
            else:
                self._unresolved.add(name)

    def _expr(
        self,
        text: str,
        section: str,
        name: str,
        steps: tuple,
        entity: str,
        expect: T.Type,
        params_only: bool = False,
    ) -> Expr | None:
        origin = self.definition.origin(section, name).at(*steps)
        scope = self.scope
        if params_only:
            scope = Scope(household={}, member={}, params=scope.params, programs={})
        try:
            node = parse(text)
            checked = check(node, scope, entity, expect)  # type: ignore[arg-type]
        except ExpressionSyntaxError as err:
            line = (origin.line or 0) + err.line - 1 if origin.line else None
            self._errors.append(
                PackError(
                    f"in {section} '{name}': {err.message}",
                    file=origin.file,
                    line=line,
                    name=err.name,
                )
            )
            return None
        except ExpressionTypeError as err:
            if err.name is not None and err.name in self._unresolved:
                return None  # the entry it names is already reported
            self._errors.append(
                PackError(
                    f"in {section} '{name}': {err.message}",
                    file=origin.file,
                    line=origin.line,
                    name=err.name,
                    suggestion=err.suggestion,
                )
            )
            return None
        return Expr(text, checked, origin)

    def _unknown_programs(
        self, section: str, what: str, owner: str, named: Iterable[str], known: set[str]
    ) -> list[str]:
        """Report each program ``named`` by ``owner`` (an entry of ``section``) that is not
        ``known``; the names that are known, for further checks."""
        origin = self.definition.origin(section, owner)
        found = []
        for pid in named:
            if pid in known:
                found.append(pid)
                continue
            self._errors.append(
                PackError(
                    f"{what} '{owner}' names unknown program '{pid}'",
                    file=origin.file,
                    line=origin.line,
                    name=pid,
                    suggestion=suggest(pid, self.definition.programs),
                )
            )
        return found

    def _check_exclusions(self) -> None:
        programs = set(self.definition.programs)
        for eid, exc in self.definition.exclusions.items():
            self._unknown_programs("exclusions", "exclusion", eid, exc.programs, programs)

    def _check_invariants(self) -> None:
        """An invariant about a program no pack of the chain defines (a typo) would be skipped
        and counted as passed; one a pack drops is skipped on purpose (testing.invariants)."""
        known = set(self.definition.programs) | self.definition.dropped
        for iid, inv in self.definition.invariants.items():
            self._unknown_programs("invariants", "invariant", iid, inv.programs, known)

    def _check_stacking(self) -> None:
        programs = set(self.definition.programs)
        for gid, group in self.definition.stacking.items():
            named = [
                *group.programs,
                *group.covers,
                *(p for t in group.together for p in t.programs),
            ]
            origin = self.definition.origin("stacking", gid)
            for pid in self._unknown_programs("stacking", "stacking", gid, named, programs):
                if pid not in group.programs:
                    self._errors.append(
                        PackError(
                            f"stacking '{gid}' names '{pid}' outside its programs",
                            file=origin.file,
                            line=origin.line,
                            name=pid,
                        )
                    )

    def _dependencies(self) -> dict[str, set[str]]:
        """Edges ``node -> nodes it needs``; nodes are 'var:x', 'param:x', 'prog:x'."""
        deps: dict[str, set[str]] = {}
        var_nodes = set(self.variables) | set(self.tables)

        def refs(expr: Expr) -> set[str]:
            out = {f"param:{p}" for p in expr.checked.references("param")}
            for kind in ("household", "member"):
                out |= {f"var:{n}" for n in expr.checked.references(kind) if n in var_nodes}
            out |= {f"prog:{p}" for p in expr.checked.references("program")}
            return out

        for name, e in self.derived.items():
            deps[f"param:{name}"] = refs(e)
        for name, e in self.variables.items():
            deps[f"var:{name}"] = refs(e)
        for name, t in self.tables.items():
            deps[f"var:{name}"] = set().union(
                *(refs(a) | refs(b) for a, b in t.rows), refs(t.default)
            )
        groups = self.exclusion_groups()

        def programs_read(nodes: set[str]) -> set[str]:
            """Programs read directly or through variables and tables, at any depth."""
            seen, todo, found = set(), list(nodes), set()
            while todo:
                n = todo.pop()
                if n in seen:
                    continue
                seen.add(n)
                if n.startswith("prog:"):
                    found.add(n[5:])
                elif n.startswith("var:"):
                    todo.extend(deps.get(n, ()))
            return found

        for pid, p in self.programs.items():
            exprs = list(p.expressions())
            needed = set().union(*(refs(e) for e in exprs)) if exprs else set()
            # reading a program's final status (even through a variable) needs every program
            # its exclusions can change
            for read in programs_read(needed):
                needed |= {f"prog:{q}" for q in groups.get(read, {read})}
            needed.discard(f"prog:{pid}")
            deps[f"prog:{pid}"] = needed
        for node, e in self.relief.expressions():
            deps[node] = refs(e)
        self._find_cycle(deps)
        return deps

    def exclusion_groups(self) -> dict[str, set[str]]:
        """Program → every program linked to it through exclusions (a connected component):
        all of them are settled together, once the last one has been evaluated."""
        groups: dict[str, set[str]] = {}
        for exc in self.exclusions.values():
            merged = set(exc.programs)
            for pid in exc.programs:
                merged |= groups.get(pid, set())
            for pid in merged:
                groups[pid] = merged
        return groups

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

    def _find_cycle(self, deps: dict[str, set[str]]) -> None:
        state: dict[str, int] = {}
        stack: list[str] = []

        def visit(n: str) -> None:
            state[n] = 1
            stack.append(n)
            for m in sorted(deps.get(n, ())):
                if state.get(m) == 1:
                    cycle = [*stack[stack.index(m) :], m]
                    kind, _, name = cycle[0].partition(":")
                    section = {"var": "variables", "param": "parameters", "prog": "programs"}[kind]
                    if kind == "var" and name in self.tables:
                        section = "tables"
                    origin = self.definition.origin(section, name)
                    raise PackError(
                        f"definitions depend on each other in a circle: {' → '.join(cycle)}",
                        file=origin.file,
                        line=origin.line,
                        name=name,
                    )
                if state.get(m) is None:
                    visit(m)
            stack.pop()
            state[n] = 2

        for n in sorted(deps):
            if state.get(n) is None:
                visit(n)

    def _program_order(self) -> list[str]:
        """Programs in declaration order, each after the programs it reads; the same order in
        every process (what a program reads is visited sorted, not in a set's hash order)."""
        order: list[str] = []
        done: set[str] = set()

        def visit(pid: str) -> None:
            if pid in done:
                return
            done.add(pid)
            for n in sorted(self._closure(f"prog:{pid}")):
                if n.startswith("prog:") and n != f"prog:{pid}":
                    visit(n[5:])
            order.append(pid)

        for pid in self.programs:
            visit(pid)
        return order

    def _closure(self, node: str) -> set[str]:
        """Everything ``node`` needs, through variables and derived parameters (not through
        other programs, which are evaluated before it)."""
        seen: set[str] = set()
        todo = [node]
        while todo:
            n = todo.pop()
            for m in self.deps.get(n, ()):
                if m not in seen:
                    seen.add(m)
                    if not m.startswith("prog:"):
                        todo.append(m)
        return seen

    def needs(self, program_ids: list[str]) -> set[str]:
        """Variables and parameters the given programs need, through any depth."""
        return self.requirements([f"prog:{pid}" for pid in program_ids])

    def requirements(self, nodes: list[str]) -> set[str]:
        """Variables and parameters the given dependency nodes ('prog:x', 'tag:x', 'need:x',
        'item:x') need, through any depth."""
        out: set[str] = set()
        for node in nodes:
            out |= self._closure(node)
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
            for node in self.needs([pid]):
                if not node.startswith("param:"):
                    continue
                try:
                    pv = self.parameter(node[6:], on)
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


__all__ = ["CheckedProgram", "Expr", "Pack", "ParameterValue", "load_pack"]
