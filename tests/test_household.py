"""The canonical household: unknown fields refused, problems named by field path."""

import json

import pytest

from minzheng_rules import HouseholdError, load_household, parse_household


def test_unknown_field_is_named(three_people):
    three_people["members"][1]["salary"] = 100
    with pytest.raises(HouseholdError) as info:
        parse_household(three_people)
    assert ("members[b].salary", "unknown field") in info.value.problems


def test_bad_value_names_the_field(three_people):
    three_people["members"][0]["age"] = -3
    three_people["assets"]["financial"] = "lots"
    with pytest.raises(HouseholdError) as info:
        parse_household(three_people)
    fields = [f for f, _ in info.value.problems]
    assert "members[a].age" in fields and "assets.financial" in fields
    assert "members[a].age" in str(info.value)


def test_member_needs_age_or_birth_date():
    with pytest.raises(HouseholdError, match="give 'age' or 'birth_date'"):
        parse_household({"id": "h", "members": [{"id": "a"}]})


def test_duplicate_member_ids_are_refused():
    with pytest.raises(HouseholdError, match="appears twice"):
        parse_household({"id": "h", "members": [{"id": "a", "age": 1}, {"id": "a", "age": 2}]})


def test_age_from_birth_date():
    import datetime as dt

    h = parse_household({"id": "h", "members": [{"id": "a", "birth_date": "1944-06-02"}]})
    assert h.members[0].age_on(dt.date(2024, 6, 1)) == 79
    assert h.members[0].age_on(dt.date(2024, 6, 2)) == 80


def test_json_and_yaml_files(tmp_path, three_people):
    j = tmp_path / "h.json"
    j.write_text(json.dumps(three_people))
    y = tmp_path / "h.yaml"
    y.write_text("id: x\nmembers:\n  - {id: a, age: 3}\n")
    assert load_household(j).id == "hz-3p"
    assert load_household(y).members[0].age == 3
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(HouseholdError, match="not valid json"):
        load_household(bad)
