"""The domain, below every other layer: the canonical household and its facts, their column
form, value types, what an evaluation returns, and the errors every layer raises. Nothing here
imports the expression language, the packs or a backend.

Public: the names below. The modules (``_household``, ``_facts``, ``_columns``, ...) are the
implementation and may change without notice."""

from __future__ import annotations

from minzheng_rules.model._errors import (
    EvaluationError,
    HouseholdError,
    MinzhengError,
    PackError,
    PackErrors,
    PackNotFoundError,
    ParameterNotInForceError,
)
from minzheng_rules.model._household import Household, Member, load_household, parse_household
from minzheng_rules.model._results import (
    ConditionOutcome,
    Evaluation,
    ParameterUse,
    ProgramOutcome,
    Status,
)
from minzheng_rules.model._values import Unknown

__all__ = [
    "ConditionOutcome",
    "Evaluation",
    "EvaluationError",
    "Household",
    "HouseholdError",
    "Member",
    "MinzhengError",
    "PackError",
    "PackErrors",
    "PackNotFoundError",
    "ParameterNotInForceError",
    "ParameterUse",
    "ProgramOutcome",
    "Status",
    "Unknown",
    "load_household",
    "parse_household",
]
