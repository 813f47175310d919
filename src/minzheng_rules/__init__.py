"""minzheng-rules: rules-as-code for Chinese social assistance (民政).

The five-minute tour:

    import datetime as dt
    from minzheng_rules import evaluate, load_household, load_pack

    pack = load_pack("huzhou")                      # a built-in pack, a folder, or a plugin
    household = load_household("examples/households/huzhou-three-people.yaml")  # or a dict
    result = evaluate(pack, household, on=dt.date(2024, 6, 1))
    result.programs["dibao"].status                 # Status.eligible
    result.programs["dibao"].amount                 # Decimal('1435.00')
    result.to_dict()                                # the stable JSON shape
    evaluate(pack, household, on=dt.date(2024, 6, 1), explain=True)  # + values, cited parameters

Errors: :class:`PackError` (file, line, name, suggestion), :class:`HouseholdError` (field
paths), :class:`ParameterNotInForceError`, :class:`PackNotFoundError`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any as _Any

from minzheng_rules.backends import reference as _reference
from minzheng_rules.model import (
    Evaluation,
    EvaluationError,
    Household,
    HouseholdError,
    Member,
    MinzhengError,
    PackError,
    PackErrors,
    PackNotFoundError,
    ParameterNotInForceError,
    ProgramOutcome,
    Status,
    load_household,
    parse_household,
)
from minzheng_rules.packs import Pack, available_packs, load_pack

__version__ = "0.1.0"


def evaluate(
    pack: Pack | str, household: Household | dict[str, _Any], on: _dt.date, *, explain: bool = False
) -> Evaluation:
    """Evaluate one household on a date. ``explain`` adds each condition's values and the
    parameters used, with their citations."""
    if not isinstance(pack, Pack):
        pack = load_pack(pack)
    return _reference.evaluate(pack, household, on, explain=explain)


__all__ = [
    "Evaluation",
    "EvaluationError",
    "Household",
    "HouseholdError",
    "Member",
    "MinzhengError",
    "Pack",
    "PackError",
    "PackErrors",
    "PackNotFoundError",
    "ParameterNotInForceError",
    "ProgramOutcome",
    "Status",
    "available_packs",
    "evaluate",
    "load_household",
    "load_pack",
    "parse_household",
]
