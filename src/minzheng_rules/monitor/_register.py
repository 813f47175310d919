"""Reading the register (the households under watch).

A bad row is reported with its file and line (or row) and skipped; the other households load.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from minzheng_rules.io._households import read_households
from minzheng_rules.model._household import Household
from minzheng_rules.monitor._output import json_line


def iter_register(
    path: str | Path, problems: list[str], members: str | Path | None = None
) -> Iterator[Household]:
    """The households of a register (JSON Lines or the columnar form), one at a time; a bad row
    is recorded in ``problems`` and skipped, so a large register never sits in memory as
    pydantic objects all at once (see :func:`minzheng_rules.io.read_households`)."""
    return read_households(path, members, problems)


def load_register(path: str | Path) -> tuple[dict[str, Household], list[str]]:
    """Households by id, and the problems found (bad lines, repeated ids)."""
    households: dict[str, Household] = {}
    problems: list[str] = []
    for h in iter_register(path, problems):
        if h.id in households:
            problems.append(f"{path}: household id '{h.id}' appears twice; kept the first")
        else:
            households[h.id] = h
    return households, problems


def household_line(h: Household) -> bytes:
    """A household as one JSON line the register reader takes back (``--register-out``)."""
    return json_line(h.model_dump(mode="json", exclude_none=True))
