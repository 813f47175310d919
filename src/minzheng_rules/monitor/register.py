"""Reading the register (the households under watch) from JSON Lines.

A bad line is reported with its line number and skipped; the other households load.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from minzheng_rules.errors import HouseholdError
from minzheng_rules.household import Household, parse_household


def read_register_lines(
    lines: Iterable[str | bytes], source: str = "register"
) -> Iterator[tuple[int, Household | str]]:
    """``(line, household or error text)`` for each non-blank line."""
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            data: Any = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
            yield n, f"{source}:{n}: not valid JSON: {err}"
            continue
        try:
            yield n, parse_household(data, f"{source}:{n}")
        except HouseholdError as err:
            yield n, str(err)


def iter_register(path: str | Path, problems: list[str]) -> Iterator[Household]:
    """The households of a JSON Lines register, one at a time (bad lines go to ``problems``),
    so a large register never sits in memory as pydantic objects all at once."""
    path = Path(path)
    with path.open("rb") as f:
        for _, item in read_register_lines(f, str(path)):
            if isinstance(item, str):
                problems.append(item)
            else:
                yield item


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
