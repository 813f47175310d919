"""minzheng-rules: rules-as-code for Chinese social assistance (民政).

The five-minute tour:

    import datetime as dt
    from minzheng_rules import load_pack, evaluate

    pack = load_pack("huzhou")                      # a built-in pack, a folder, or a plugin
    result = evaluate(pack, {"id": "h1", "members": [...]}, on=dt.date(2024, 6, 1))
    result.programs["dibao"].status                 # Status.eligible
    result.programs["dibao"].amount                 # Decimal('1435.00')
    result.to_dict()                                # the stable JSON shape
    evaluate(pack, household, on=..., explain=True) # + values and cited parameters

Errors: :class:`PackError` (file, line, name, suggestion), :class:`HouseholdError` (field
paths), :class:`ParameterNotInForceError`, :class:`PackNotFoundError`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from minzheng_rules.backends import reference
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
    pack: Pack | str, household: Household | dict[str, Any], on: dt.date, *, explain: bool = False
) -> Evaluation:
    """Evaluate one household on a date. ``explain`` adds each condition's values and the
    parameters used, with their citations."""
    if not isinstance(pack, Pack):
        pack = load_pack(pack)
    return reference.evaluate(pack, household, on, explain=explain)


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
