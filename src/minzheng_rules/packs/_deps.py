"""The nodes of a pack's dependency graph: a program, a parameter, a variable (or decision
table), a tag, a need label or an assistance item, each a kind and a name.

One typed node instead of ``'prog:x'`` strings cut apart by position: a kind is matched by
value, never by a prefix, and a name is read as a field. A node still prints as ``prog:x``
(the cycle error shows it so) and sorts as that text does (by kind, then name).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple


class DepKind(StrEnum):
    """What a node stands for; the value is how it is written before the name."""

    PROGRAM = "prog"
    PARAMETER = "param"
    VARIABLE = "var"  # a variable or a decision table (they share one namespace)
    TAG = "tag"
    NEED = "need"
    ITEM = "item"


class DepNode(NamedTuple):
    """One definition of a pack, as the dependency graph knows it."""

    kind: DepKind
    name: str

    @classmethod
    def program(cls, name: str) -> DepNode:
        return cls(DepKind.PROGRAM, name)

    @classmethod
    def parameter(cls, name: str) -> DepNode:
        return cls(DepKind.PARAMETER, name)

    @classmethod
    def variable(cls, name: str) -> DepNode:
        return cls(DepKind.VARIABLE, name)

    @classmethod
    def tag(cls, name: str) -> DepNode:
        return cls(DepKind.TAG, name)

    @classmethod
    def need(cls, name: str) -> DepNode:
        return cls(DepKind.NEED, name)

    @classmethod
    def item(cls, name: str) -> DepNode:
        return cls(DepKind.ITEM, name)

    @property
    def is_program(self) -> bool:
        return self.kind == DepKind.PROGRAM

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


def names_of(nodes: Iterable[DepNode], kind: DepKind) -> set[str]:
    """The names of the nodes of one kind (the parameters a closure reads, say)."""
    return {n.name for n in nodes if n.kind == kind}


__all__ = ["DepKind", "DepNode", "names_of"]
