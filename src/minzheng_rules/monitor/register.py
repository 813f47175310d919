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


def load_register(path: str | Path) -> tuple[dict[str, Household], list[str]]:
    """Households by id, and the problems found (bad lines, repeated ids)."""
    path = Path(path)
    households: dict[str, Household] = {}
    problems: list[str] = []
    with path.open("rb") as f:
        for n, item in read_register_lines(f, str(path)):
            if isinstance(item, str):
                problems.append(item)
            elif item.id in households:
                problems.append(
                    f"{path}:{n}: household id '{item.id}' appears twice; kept the first"
                )
            else:
                households[item.id] = item
    return households, problems
