"""Households one at a time from any register form, for the tools that work household by
household (``minzheng diff``, ``minzheng monitor``).

JSON Lines needs only the core install; the columnar form (a folder from ``minzheng synth``, or
a households table with its members table, Parquet or CSV) goes through :mod:`.readers` and
needs the ``batch`` extra, imported only when such a register is given.

A bad row is never dropped silently: with a ``problems`` list it is recorded there (file, line
or row, field and what is wrong) and the other households still come; without one, the first
bad row raises :class:`~minzheng_rules.model._errors.HouseholdError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from minzheng_rules.io._names import COLUMNAR, form_of
from minzheng_rules.model._errors import HouseholdError, MinzhengError
from minzheng_rules.model._household import Household, parse_household

CHUNK = 2000


def is_columnar(path: Path, members: str | Path | None = None) -> bool:
    return path.is_dir() or form_of(path) in COLUMNAR or members is not None


def read_households(
    path: str | Path,
    members: str | Path | None = None,
    problems: list[str] | None = None,
) -> Iterator[Household]:
    """The register's households in file order, validated (see the module docstring for
    what happens to a bad row)."""
    path = Path(path)
    if is_columnar(path, members):
        yield from _columnar(path, members, problems)
    else:
        yield from _json_lines(path, problems)


def _refuse(error: HouseholdError, problems: list[str] | None) -> None:
    if problems is None:
        raise error
    problems.append(str(error))


def duplicate_ids(path: Path) -> dict[str, list[int]]:
    """Household ids given on more than one line of a JSON Lines file, with their lines. A
    first pass (orjson, only the id kept) so that every occurrence is refused, as a columnar
    register's are, not only the later ones."""
    import orjson

    seen: dict[str, int] = {}
    twice: dict[str, list[int]] = {}
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # refused by the reading pass, with its reason
            hid = data.get("id") if isinstance(data, dict) else None
            if isinstance(hid, str) and seen.setdefault(hid, n) != n:
                twice.setdefault(hid, [seen[hid]]).append(n)
    return twice


def twice_reason(hid: str, lines: list[int], source: str) -> str:
    shown = ", ".join(str(n) for n in lines[:5]) + (", …" if len(lines) > 5 else "")
    return f"appears more than once in {source} (lines {shown})"


def _json_lines(path: Path, problems: list[str] | None) -> Iterator[Household]:
    twice = duplicate_ids(path)
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{n}"
            try:
                data = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
                _refuse(HouseholdError([("line", f"not valid JSON: {err}")], where), problems)
                continue
            except ValueError:  # Python's limit on an integer's digits (4,300)
                problem = "a number with too many digits (more than 4,300)"
                _refuse(HouseholdError([("line", problem)], where), problems)
                continue
            hid = data.get("id") if isinstance(data, dict) else None
            if isinstance(hid, str) and hid in twice:
                reason = twice_reason(hid, twice[hid], path.name)
                _refuse(HouseholdError([("id", reason)], where), problems)
                continue
            try:
                yield parse_household(data, where)
            except HouseholdError as err:
                _refuse(err, problems)


def _columnar(
    path: Path, members: str | Path | None, problems: list[str] | None
) -> Iterator[Household]:
    try:
        from minzheng_rules.io._readers import open_register
        from minzheng_rules.model._convert import frames_to_dicts
    except ImportError as err:
        raise MinzhengError(
            f"{path}: reading a columnar register needs the batch extra "
            f"(pip install 'minzheng-rules[batch]'): {err}"
        ) from None
    for chunk in open_register(path, members).chunks(CHUNK):
        for reject in chunk.rejects:
            found = [("row", reason) for reason in reject.reasons]
            _refuse(HouseholdError(found, f"{reject.source}:{reject.row}"), problems)
        rows = list(range(chunk.households.height))
        for data in frames_to_dicts(chunk.households, chunk.members, rows):
            try:
                yield parse_household(data, f"{path} household {data.get('id')}")
            except HouseholdError as err:
                _refuse(err, problems)
