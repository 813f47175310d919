"""One reader of registers for the household-at-a-time tools (diff, monitor): a bad row is
either recorded with where and why (and the others still come) or stops the read, never lost."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from minzheng_rules.cli.main import app
from minzheng_rules.io._households import read_households
from minzheng_rules.model._errors import HouseholdError

GOOD = '{"id": "h1", "members": [{"id": "a", "relation": "head", "age": 40}]}'
BAD_FIELD = '{"id": "h2", "members": [{"id": "a", "relation": "head", "age": "old"}]}'


def test_json_lines_bad_rows_are_recorded_and_the_rest_read(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(f"{GOOD}\n\n{{not json\n{BAD_FIELD}\n{GOOD.replace('h1', 'h3')}\n")
    problems: list[str] = []
    ids = [h.id for h in read_households(path, problems=problems)]
    assert ids == ["h1", "h3"]
    assert len(problems) == 2
    assert "r.jsonl:3" in problems[0] and "not valid JSON" in problems[0]
    assert "r.jsonl:4" in problems[1] and "members[a].age" in problems[1]
    with pytest.raises(HouseholdError, match=r"r\.jsonl:3"):
        list(read_households(path))


def test_columnar_bad_rows_are_recorded_and_the_rest_read(tmp_path):
    folder = tmp_path / "reg"
    r = CliRunner().invoke(
        app, ["synth", "-n", "6", "-p", "huzhou", "-o", str(folder), "--format", "csv"]
    )
    assert r.exit_code == 0, r.output
    members = folder / "members.csv"
    lines = members.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    broken_household = cells[0].strip('"')
    cells[3] = '"old"'  # the first member's age
    lines[1] = ",".join(cells)
    members.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems: list[str] = []
    ids = [h.id for h in read_households(folder, problems=problems)]
    assert len(ids) == 5 and broken_household not in ids
    assert len(problems) == 1 and "households.csv:1" in problems[0] and "age" in problems[0]
    with pytest.raises(HouseholdError, match="age"):
        list(read_households(folder))
