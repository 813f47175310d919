"""The one contract every backend implements: a bound plan, compiled its own way, answering for
households.

A backend is made from a :class:`~minzheng_rules.packs.BoundPlan` (a pack on a date) and
answers, for each household, every program's status and exact amount. How it gets there is its
own business: the reference evaluator runs closures one household at a time (and can explain
itself); the vectorized backend runs columns over a whole register. Because both answer through
this contract, one differential test holds them to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple, Protocol, runtime_checkable

from minzheng_rules.model._household import Household
from minzheng_rules.model._results import Status
from minzheng_rules.packs._plan import BoundPlan


class Answer(NamedTuple):
    """One program's answer for one household: its status and amount (zero unless eligible),
    exact and rounded as the program declares."""

    status: Status
    amount: Decimal


@runtime_checkable
class Backend(Protocol):
    """A bound plan compiled by one backend."""

    @property
    def bound(self) -> BoundPlan:
        """The pack and date this backend was compiled for."""
        ...

    def answers(self, households: Sequence[Household]) -> list[dict[str, Answer]]:
        """Each household's answers by program id, in the households' order; a household the
        rules cannot be applied to raises :class:`~minzheng_rules.model.EvaluationError`."""
        ...
