"""A pack bound to a date, as every backend runs it: which programs are in force and in what
order, the parameters in force with their provenance, and when each exclusion is settled.

This is the one place these are decided, so the reference evaluator, the vectorized backend and
the monitor cannot disagree on them; each backend compiles a :class:`BoundPlan` its own way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._deps import DepKind, DepNode, names_of

if TYPE_CHECKING:
    from minzheng_rules.model._results import StaleValue
    from minzheng_rules.packs._pack import Pack, ParameterValue

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class BoundPlan:
    """What evaluating ``pack`` on ``date`` needs; made by :meth:`Pack.plan` (cached per date).

    ``needed`` holds the dependency nodes (variables, parameters, programs) that the programs in
    force and the tags, needs and assistance items read, through any depth."""

    pack: Pack
    date: dt.date
    active: tuple[str, ...]  # programs in force on the date, in evaluation order
    inactive: tuple[str, ...]  # programs not in force: read as not eligible, amount 0
    parameters: Mapping[str, ParameterValue]  # the parameters in force that are read
    needed: frozenset[DepNode]
    exclusions: tuple[S.Exclusion, ...]  # those with two programs in force, in the order applied
    settle_after: Mapping[str, tuple[S.Exclusion, ...]] = field(default_factory=dict)
    # per program in force: the money amounts it reads that are over two years old
    stale: Mapping[str, list[StaleValue]] = field(default_factory=dict)
    _compiled: dict[Callable[[BoundPlan], Any], Any] = field(default_factory=dict, repr=False)

    def compiled(self, compile_: Callable[[BoundPlan], T]) -> T:
        """``compile_(self)``, made once: a backend's compiled form lives as long as the plan
        (which :meth:`Pack.plan` caches per date)."""
        done = self._compiled.get(compile_)
        if done is None:
            done = self._compiled[compile_] = compile_(self)
        return done  # type: ignore[no-any-return]

    @cached_property
    def values(self) -> dict[str, Any]:
        """Each parameter's value, as the rules read it."""
        return {name: pv.value for name, pv in self.parameters.items()}

    def reads(self, name: str) -> bool:
        """Whether a variable or decision table is needed on this date."""
        return DepNode.variable(name) in self.needed

    def program_closure(self, wanted: Iterable[str]) -> set[str]:
        """The programs in force that ``wanted`` need: those their rules read, and every program
        linked to one of them by an exclusion (settled together), through any depth."""
        active = set(self.active)
        wanted = set(wanted)
        unknown = wanted - active
        if unknown:
            raise KeyError(f"programs not in force on {self.date}: {sorted(unknown)}")
        groups = self.pack.exclusion_groups()
        closure: set[str] = set()
        todo = list(wanted)
        while todo:
            pid = todo.pop()
            if pid in closure or pid not in active:
                continue
            closure.add(pid)
            todo.extend(names_of(self.pack.needs([pid]), DepKind.PROGRAM))
            todo.extend(groups.get(pid, ()))
        return closure


def make_plan(pack: Pack, on: dt.date) -> BoundPlan:
    """The plan of ``pack`` on ``on``; a parameter read but not in force raises
    :class:`~minzheng_rules.model.ParameterNotInForceError`."""
    active = tuple(pid for pid in pack.order if pack.programs[pid].in_force(on))
    relief_nodes = [node for node, _ in pack.relief.expressions()]
    needed = frozenset(pack.requirements([*map(DepNode.program, active), *relief_nodes]))
    parameters = {
        name: pack.parameter(name, on) for name in sorted(names_of(needed, DepKind.PARAMETER))
    }
    in_force = set(active)
    exclusions = tuple(
        exc for exc in pack.exclusion_order() if sum(p in in_force for p in exc.programs) >= 2
    )
    # linked exclusions are settled together, right after the last of their programs
    position = {pid: i for i, pid in enumerate(active)}
    groups = pack.exclusion_groups()
    settle_after: dict[str, list[S.Exclusion]] = {}
    for exc in exclusions:
        linked = [p for p in groups[exc.programs[0]] if p in position]
        last = max(linked, key=position.__getitem__)
        settle_after.setdefault(last, []).append(exc)
    return BoundPlan(
        pack=pack,
        date=on,
        active=active,
        inactive=tuple(pid for pid in pack.order if pid not in in_force),
        parameters=parameters,
        needed=needed,
        exclusions=exclusions,
        settle_after={pid: tuple(excs) for pid, excs in settle_after.items()},
        stale=pack.stale_report(on, list(active)),
    )
