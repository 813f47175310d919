"""Tools for testing packs: golden cases, declared invariants, household strategies for
Hypothesis (:mod:`.strategies`, needs the ``test`` extra) and the pytest plugin
(:mod:`.pytest_plugin`). Public: the names below and those two modules; the rest is the
implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minzheng_rules._lazy import exports

if TYPE_CHECKING:
    from minzheng_rules.testing._cases import CaseResult, run_case, run_cases
    from minzheng_rules.testing._invariants import (
        InvariantResult,
        InvariantViolation,
        assert_invariants,
        check_invariants,
    )

__all__ = [
    "CaseResult",
    "InvariantResult",
    "InvariantViolation",
    "assert_invariants",
    "check_invariants",
    "run_case",
    "run_cases",
]
__getattr__, __dir__ = exports(
    __name__,
    {
        "CaseResult": "_cases",
        "run_case": "_cases",
        "run_cases": "_cases",
        "InvariantResult": "_invariants",
        "InvariantViolation": "_invariants",
        "assert_invariants": "_invariants",
        "check_invariants": "_invariants",
    },
)
