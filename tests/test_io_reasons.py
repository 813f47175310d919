"""A bad household's reject reasons read the same whichever route its register takes: JSON
Lines (the pydantic models) or a households and a members table (Parquet or CSV, the
columnar checks). The tables are written here with pyarrow and Polars directly, as another
tool would, not by this project's writers. Each reason is ``<label>.<field>: <message>``, a
member labelled by its id, or by ``#<position>`` (from 1) when its id is missing, empty or
shared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from minzheng_rules.io._readers import open_register
from minzheng_rules.model._errors import HouseholdError
from minzheng_rules.model._household import parse_household

CARE = "Input should be 'family', 'kinship' or 'institutional'"
RELATION = (
    "Input should be 'head', 'spouse', 'child', 'parent', 'grandchild', 'grandparent', "
    "'sibling' or 'other'"
)
GOOD = {"id": "h0", "members": [{"id": "a", "relation": "head", "age": 40}]}

# (members of household "h1", the reasons expected, worked out by hand from the models' rules)
CASES: dict[str, tuple[list[dict[str, Any]], list[str]]] = {
    "two bad cells of one member, named by its id": (
        [{"id": "a", "age": 30}, {"id": "b", "age": -4, "care": "nowhere"}],
        [
            "members[b].age: Input should be greater than or equal to 0",
            f"members[b].care: {CARE} (got 'nowhere')",
        ],
    ),
    "an id holding '; ' stays one label (reasons are not cut at it)": (
        [{"id": "a", "age": 30}, {"id": "b; c", "age": -4, "care": "nowhere"}],
        [
            "members[b; c].age: Input should be greater than or equal to 0",
            f"members[b; c].care: {CARE} (got 'nowhere')",
        ],
    ),
    "neither age nor birth date: the field is named": (
        [{"id": "a", "age": 30}, {"id": "d"}],
        ["members[d].age: give 'age' or 'birth_date'"],
    ),
    "a disability type without its grade: the grade is named": (
        [{"id": "a", "age": 30}, {"id": "d", "age": 3, "disability_type": "physical"}],
        ["members[d].disability_grade: needed when 'disability_type' is given"],
    ),
    "both of a member's own rules broken: the first, as the models say it": (
        [{"id": "a", "age": 30}, {"id": "d", "disability_type": "physical"}],
        ["members[d].age: give 'age' or 'birth_date'"],
    ),
    "a bad field hides the member's own rules (pydantic checks them on valid fields)": (
        [{"id": "a", "age": 30}, {"id": "d", "care": "x"}],
        [f"members[d].care: {CARE} (got 'x')"],
    ),
    "a choice list of eight": (
        [{"id": "a", "age": 30, "relation": "boss"}],
        [f"members[a].relation: {RELATION} (got 'boss')"],
    ),
    "a shared id: the member is named by its position, the id repeated is named": (
        [{"id": "a", "age": 30}, {"id": "e", "age": 5}, {"id": "a", "age": 3, "care": "x"}],
        [f"members[#3].care: {CARE} (got 'x')", "members: member id 'a' appears twice"],
    ),
    "a shared id and nothing else": (
        [{"id": "a", "age": 30}, {"id": "b", "age": 5}, {"id": "b", "age": 3}],
        ["members: member id 'b' appears twice"],
    ),
    "no id: named by its position": (
        [{"id": "a", "age": 30}, {"age": 3, "care": "x"}],
        ["members[#2].id: Field required", f"members[#2].care: {CARE} (got 'x')"],
    ),
    "no member": ([], ["members: List should have at least 1 item"]),
    "31 members, one of them bad: the list is refused whole, as the models do": (
        [{"id": f"x{i}", "age": 3} for i in range(30)] + [{"id": "y", "age": 131}],
        ["members: List should have at most 30 items"],
    ),
    "an age that is not a number": (
        [{"id": "a", "age": 30}, {"id": "k", "age": "old"}],
        [
            "members[k].age: Input should be a valid integer, unable to parse string as an "
            "integer (got 'old')"
        ],
    ),
}


def _columns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with every key (null where left out), as a table needs; a column holding some
    text holds text only (``"old"`` among ages: a text column, as a spreadsheet exports it)."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    text = {k for k in keys if any(isinstance(r.get(k), str) for r in rows)}
    return [
        {k: str(r[k]) if k in text and r.get(k) is not None else r.get(k) for k in keys}
        for r in rows
    ]


def _write(
    folder: Path, households: list[dict[str, Any]], form: str, in_order: bool = False
) -> Path:
    """The households as JSON Lines, or as two tables written by pyarrow (Parquet) or Polars
    (CSV): the members in the households' order, or (by default) the good household's member
    among the bad one's, which keep their order (their positions are counted in it)."""
    folder.mkdir()
    if form == "jsonl":
        path = folder / "r.jsonl"
        path.write_text("".join(json.dumps(h) + "\n" for h in households), encoding="utf-8")
        return path
    h_rows = [{"household_id": h["id"]} for h in households]
    rows = [
        {"household_id": h["id"], "member_id": m.get("id")}
        | {k: v for k, v in m.items() if k != "id"}
        for h in households
        for m in h["members"]
    ]
    if not in_order:  # households[0] has one member: put it after the next one's first
        rows.insert(2, rows.pop(0))
    m_rows = _columns(rows)
    if form == "parquet":
        pq.write_table(pa.Table.from_pylist(h_rows), folder / "households.parquet")
        pq.write_table(pa.Table.from_pylist(m_rows), folder / "members.parquet")
        return folder / "households.parquet"
    pl.DataFrame(h_rows).write_csv(folder / "households.csv")
    pl.DataFrame(m_rows, infer_schema_length=None).write_csv(folder / "members.csv")
    return folder / "households.csv"


def _reasons(path: Path) -> dict[str | None, list[str]]:
    chunks = list(open_register(path).chunks(10, path.parent))
    return {r.household_id: r.reasons for c in chunks for r in c.rejects}


@pytest.mark.parametrize("in_order", [False, True], ids=["shuffled", "in order"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_same_bad_household_reads_the_same_on_every_route(tmp_path, route, case, in_order):
    members, expected = CASES[case]
    households = [GOOD, {"id": "h1", "members": members}]
    found = {
        form: _reasons(_write(tmp_path / form, households, form, in_order))
        for form in ("jsonl", "parquet", "csv")
    }
    assert found["jsonl"] == {"h1": expected}
    if case == "no member":  # a table register says where the members were looked for
        for form, name in (("parquet", "members.parquet"), ("csv", "members.csv")):
            hint = f" (no row of {name} has household_id 'h1')"
            assert found[form] == {"h1": [expected[0] + hint]}
        return
    assert found["parquet"] == found["jsonl"]
    assert found["csv"] == found["jsonl"]


def test_a_parsed_household_names_members_as_the_register_does():
    """``parse_household`` (eval, diff, monitor): the same labels and words."""
    members, expected = CASES[
        "a shared id: the member is named by its position, the id repeated is named"
    ]
    with pytest.raises(HouseholdError) as info:
        parse_household({"id": "h1", "members": members})
    assert [f"{where}: {what}" for where, what in info.value.problems] == expected
    assert str(info.value) == "invalid household: " + "; ".join(expected)


def test_an_empty_id_is_named_by_position(tmp_path):
    """An empty id cannot name a member (CSV has no empty text apart from a missing cell,
    so Parquet alone here)."""
    households = [GOOD, {"id": "h1", "members": [{"id": "a", "age": 1}, {"id": "", "age": 3}]}]
    expected = {"h1": ["members[#2].id: String should have at least 1 character"]}
    assert _reasons(_write(tmp_path / "j", households, "jsonl")) == expected
    assert _reasons(_write(tmp_path / "p", households, "parquet")) == expected


def test_the_household_s_own_fields_come_before_its_members(tmp_path):
    """Reasons in one order on both routes: the household's fields, its members in order, the
    list of members as a whole."""
    h = {
        "id": "h1",
        "assets": {"vehicles": -1},
        "members": [{"id": "a", "age": 200}, {"id": "b", "age": 3}, {"id": "b", "age": 4}],
    }
    with pytest.raises(HouseholdError) as info:
        parse_household(h)
    assert [f"{where}: {what}" for where, what in info.value.problems] == [
        "assets.vehicles: Input should be greater than or equal to 0",
        "members[a].age: Input should be less than or equal to 130",
        "members: member id 'b' appears twice",
    ]
