"""Checking a pack definition: every expression parsed, name-resolved and type-checked, the
names each section declares, the programs that exclusions, invariants and stacking groups name,
the comprehensive-relief parts (:mod:`minzheng_rules.packs._needs`) and the dependency graph
(no cycles). Every problem is collected, each with its file and line, and reported at once.

The checker owns its half-built state, so nothing reaches into a :class:`Pack` under
construction: :func:`check_definition` hands the pack only what passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from minzheng_rules.expr._checker import Checked, ExpressionTypeError, Scope, check
from minzheng_rules.expr._parser import ExpressionSyntaxError, parse
from minzheng_rules.model import _types as T
from minzheng_rules.model._errors import PackError, PackErrors, suggest
from minzheng_rules.model._facts import HOUSEHOLD_FACTS, MEMBER_FACTS, receiving_facts
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._deps import DepKind, DepNode
from minzheng_rules.packs._loader import Origin, PackDefinition
from minzheng_rules.packs._needs import ReliefModel, check_relief, need_facts


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
class CheckedDefinition:
    """What a pack is made of once its definition passed every check."""

    scope: Scope
    derived: dict[str, Expr]  # parameters with a formula
    variables: dict[str, Expr]
    tables: dict[str, CheckedTable]
    programs: dict[str, CheckedProgram]
    relief: ReliefModel
    deps: dict[DepNode, set[DepNode]]  # node -> the nodes it reads


VALUE_TYPES = {"money": T.MONEY, "number": T.NUMBER, "count": T.COUNT, "bool": T.BOOL}


def exclusion_groups(exclusions: Mapping[str, S.Exclusion]) -> dict[str, set[str]]:
    """Program → every program linked to it through exclusions (a connected component)."""
    groups: dict[str, set[str]] = {}
    for exc in exclusions.values():
        merged = set(exc.programs)
        for pid in exc.programs:
            merged |= groups.get(pid, set())
        for pid in merged:
            groups[pid] = merged
    return groups


def check_definition(definition: PackDefinition) -> CheckedDefinition:
    """Check everything in ``definition``; raises :class:`PackErrors` listing every problem."""
    return PackChecker(definition).run()


class PackChecker:
    """Checks one pack definition, collecting errors in :attr:`errors` as it goes.

    The relief checks (:func:`~minzheng_rules.packs._needs.check_relief`) compile their
    expressions through :meth:`expression` and add to :attr:`errors` like the rest."""

    def __init__(self, definition: PackDefinition) -> None:
        self.definition = definition
        self.errors: list[PackError] = list(definition.errors)
        d = definition
        self.scope = Scope(
            household={
                **HOUSEHOLD_FACTS,
                **receiving_facts(list(d.programs)),
                **need_facts(d.needs),
            },
            member=dict(MEMBER_FACTS),
            params={n: VALUE_TYPES[p.type] for n, p in d.parameters.items()},
            programs={pid: p.entity for pid, p in d.programs.items()},
        )
        self._unresolved: set[str] = set()
        self._declare_names()
        self._declare_broken()

    def run(self) -> CheckedDefinition:
        d = self.definition
        derived: dict[str, Expr] = {}
        for name, p in d.parameters.items():
            if p.formula is not None:
                e = self.expression(
                    p.formula,
                    "parameters",
                    name,
                    ("formula",),
                    "household",
                    VALUE_TYPES[p.type],
                    params_only=True,
                )
                if e is not None:
                    derived[name] = e
        variables: dict[str, Expr] = {}
        for name, v in d.variables.items():
            e = self.expression(
                v.formula, "variables", name, ("formula",), v.entity, VALUE_TYPES[v.type]
            )
            if e is not None:
                variables[name] = e
        tables: dict[str, CheckedTable] = {}
        for name, t in d.tables.items():
            rows = []
            for i, row in enumerate(t.rows):
                w = self.expression(row.when, "tables", name, ("rows", i, "when"), t.entity, T.BOOL)
                th = self.expression(
                    row.then, "tables", name, ("rows", i, "then"), t.entity, VALUE_TYPES[t.type]
                )
                if w is not None and th is not None:
                    rows.append((w, th))
            default = self.expression(
                t.default, "tables", name, ("default",), t.entity, VALUE_TYPES[t.type]
            )
            if default is not None:
                tables[name] = CheckedTable(t, rows, default)
        programs: dict[str, CheckedProgram] = {}
        for pid, prog in d.programs.items():
            conds = []
            for i, c in enumerate(prog.conditions):
                e = self.expression(
                    c.when, "programs", pid, ("conditions", i, "when"), prog.entity, T.BOOL
                )
                if e is not None:
                    conds.append((c, e))
            amount_type = T.MONEY if str(prog.unit).startswith("CNY") else T.NUMBER
            amount = None
            if prog.amount is not None:
                amount = self.expression(
                    prog.amount, "programs", pid, ("amount",), prog.entity, amount_type
                )
            programs[pid] = CheckedProgram(pid, prog, conds, amount)
        self._check_exclusions()
        self._check_invariants()
        self._check_stacking()
        relief = check_relief(self)
        deps: dict[DepNode, set[DepNode]] = {}
        try:
            # cycles are reported with everything else
            deps = self._dependencies(derived, variables, tables, programs, relief)
        except PackError as e:
            if not self.errors:
                raise
            self.errors.append(e)
        except Exception:
            # what was reported left the graph partial; the cycle check waits for a clean run
            if not self.errors:
                raise
        if self.errors:
            raise PackErrors(list({e.render(): e for e in self.errors}.values()))
        return CheckedDefinition(self.scope, derived, variables, tables, programs, relief, deps)

    def report(
        self, message: str, origin: Origin, name: str | None, suggestion: str | None = None
    ) -> None:
        """Collect one error at ``origin``'s file and line (checking goes on, so a pack's
        every mistake is reported in one run)."""
        self.errors.append(
            PackError(message, file=origin.file, line=origin.line, name=name, suggestion=suggestion)
        )

    # -- names ----------------------------------------------------------------------------
    def _declare_names(self) -> None:
        d = self.definition
        for section, items in (("variables", d.variables), ("tables", d.tables)):
            for name, spec in items.items():
                origin = d.origin(section, name)
                if name in HOUSEHOLD_FACTS or name in MEMBER_FACTS:
                    self.report(f"'{name}' is already a household or member fact", origin, name)
                    continue
                target = self.scope.household if spec.entity == "household" else self.scope.member
                other = self.scope.member if spec.entity == "household" else self.scope.household
                if name in other or name in target:
                    self.report(
                        f"'{name}' is defined twice (variables and tables share one namespace)",
                        origin,
                        name,
                    )
                target[name] = VALUE_TYPES[spec.type]

    def _declare_broken(self) -> None:
        """Names of entries that failed the format check are declared with the type and
        entity they state (when those are readable), so the expressions that read them are
        still checked and only the entry itself is reported."""
        for (section, name), raw in self.definition.broken.items():
            raw = raw if isinstance(raw, dict) else {}
            stated = raw.get("type", "money" if section == "parameters" else None)
            t = VALUE_TYPES.get(stated) if isinstance(stated, str) else None
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

    # -- expressions ----------------------------------------------------------------------
    def expression(
        self,
        text: str,
        section: str,
        name: str,
        steps: tuple,
        entity: str,
        expect: T.Type,
        params_only: bool = False,
    ) -> Expr | None:
        """``text`` (written at ``steps`` under ``section``'s entry ``name``) parsed and checked
        as an ``expect`` read for ``entity``; None when it fails (and the error is collected)."""
        origin = self.definition.origin(section, name).at(*steps)
        scope = self.scope
        if params_only:
            scope = Scope(household={}, member={}, params=scope.params, programs={})
        try:
            node = parse(text)
            checked = check(node, scope, entity, expect)  # type: ignore[arg-type]
        except ExpressionSyntaxError as err:
            line = (origin.line or 0) + err.line - 1 if origin.line else None
            self.errors.append(
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
            self.report(f"in {section} '{name}': {err.message}", origin, err.name, err.suggestion)
            return None
        return Expr(text, checked, origin)

    # -- programs named elsewhere ---------------------------------------------------------
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
            self.report(
                f"{what} '{owner}' names unknown program '{pid}'",
                origin,
                pid,
                suggest(pid, self.definition.programs),
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
                    self.report(f"stacking '{gid}' names '{pid}' outside its programs", origin, pid)

    # -- the dependency graph -------------------------------------------------------------
    def _dependencies(
        self,
        derived: dict[str, Expr],
        variables: dict[str, Expr],
        tables: dict[str, CheckedTable],
        programs: dict[str, CheckedProgram],
        relief: ReliefModel,
    ) -> dict[DepNode, set[DepNode]]:
        """Edges ``node -> nodes it needs``."""
        deps: dict[DepNode, set[DepNode]] = {}
        var_nodes = set(variables) | set(tables)

        def refs(expr: Expr) -> set[DepNode]:
            out = {DepNode.parameter(p) for p in expr.checked.references("param")}
            for kind in ("household", "member"):
                out |= {
                    DepNode.variable(n) for n in expr.checked.references(kind) if n in var_nodes
                }
            out |= {DepNode.program(p) for p in expr.checked.references("program")}
            return out

        for name, e in derived.items():
            deps[DepNode.parameter(name)] = refs(e)
        for name, e in variables.items():
            deps[DepNode.variable(name)] = refs(e)
        for name, t in tables.items():
            deps[DepNode.variable(name)] = set().union(
                *(refs(a) | refs(b) for a, b in t.rows), refs(t.default)
            )
        groups = exclusion_groups(self.definition.exclusions)

        def programs_read(nodes: set[DepNode]) -> set[str]:
            """Programs read directly or through variables and tables, at any depth."""
            seen: set[DepNode] = set()
            todo, found = list(nodes), set()
            while todo:
                n = todo.pop()
                if n in seen:
                    continue
                seen.add(n)
                if n.kind == DepKind.PROGRAM:
                    found.add(n.name)
                elif n.kind == DepKind.VARIABLE:
                    todo.extend(deps.get(n, ()))
            return found

        for pid, p in programs.items():
            exprs = list(p.expressions())
            needed: set[DepNode] = set().union(*(refs(e) for e in exprs)) if exprs else set()
            # reading a program's final status (even through a variable) needs every program
            # its exclusions can change
            for read in programs_read(needed):
                needed |= {DepNode.program(q) for q in groups.get(read, {read})}
            needed.discard(DepNode.program(pid))
            deps[DepNode.program(pid)] = needed
        for node, e in relief.expressions():
            deps[node] = refs(e)
        self._find_cycle(deps, tables)
        return deps

    def _find_cycle(
        self, deps: dict[DepNode, set[DepNode]], tables: dict[str, CheckedTable]
    ) -> None:
        state: dict[DepNode, int] = {}
        stack: list[DepNode] = []
        sections = {
            DepKind.VARIABLE: "variables",
            DepKind.PARAMETER: "parameters",
            DepKind.PROGRAM: "programs",
        }

        def visit(n: DepNode) -> None:
            state[n] = 1
            stack.append(n)
            for m in sorted(deps.get(n, ())):
                if state.get(m) == 1:
                    cycle = [*stack[stack.index(m) :], m]
                    kind, name = cycle[0]
                    section = sections[kind]
                    if kind == DepKind.VARIABLE and name in tables:
                        section = "tables"
                    origin = self.definition.origin(section, name)
                    raise PackError(
                        "definitions depend on each other in a circle: "
                        + " → ".join(map(str, cycle)),
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


__all__ = [
    "CheckedDefinition",
    "CheckedProgram",
    "CheckedTable",
    "Expr",
    "PackChecker",
    "check_definition",
    "exclusion_groups",
]
