"""Loading packs: format errors name file, line and name; inheritance; dated parameters."""

import datetime as dt
from decimal import Decimal

import pytest

from minzheng_rules import (
    PackError,
    PackErrors,
    PackNotFoundError,
    ParameterNotInForceError,
    evaluate,
    load_pack,
)
from minzheng_rules.packs._discovery import available_packs
from minzheng_rules.packs._schema import pack_json_schema

from packs_for_tests import PARAMETERS, PROGRAMS, VARIABLES, files


def errors_of(excinfo) -> list[PackError]:
    e = excinfo.value
    return e.errors if isinstance(e, PackErrors) else [e]


def test_minimal_pack_loads_and_evaluates(write_pack):
    pack = load_pack(write_pack(files()))
    hh = {"id": "h", "members": [{"id": "a", "age": 85, "monthly_income": 300}]}
    r = evaluate(pack, hh, on=dt.date(2024, 2, 1))
    assert r.programs["dibao"].amount == Decimal("700.00")
    assert r.programs["elder"].amount == Decimal("50.00")
    r2 = evaluate(pack, hh, on=dt.date(2021, 2, 1))
    assert r2.programs["dibao"].amount == Decimal("600.00")


def test_misspelt_name_names_file_line_and_suggestion(write_pack):
    broken = PROGRAMS.replace(
        "when: per_head < p.dibao.standard", "when: per_haed < p.dibao.standard"
    )
    folder = write_pack(files(**{"programs.yaml": broken}))
    with pytest.raises(PackErrors) as info:
        load_pack(folder)
    (err,) = errors_of(info)
    assert err.file.endswith("programs.yaml")
    assert err.line == 8
    assert err.name == "per_haed"
    assert err.suggestion == "per_head"
    assert "programs.yaml:8" in str(err) and "did you mean 'per_head'" in str(err)


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "per_head.__class__", "income.bit_length()", "_x > 1"],
)
def test_code_in_a_pack_is_refused_at_load(write_pack, expression):
    broken = PROGRAMS.replace("per_head < p.dibao.standard", expression)
    with pytest.raises(PackErrors) as info:
        load_pack(write_pack(files(**{"programs.yaml": broken})))
    assert "not allowed" in str(info.value)


def test_yaml_tags_that_build_python_objects_are_refused(write_pack):
    bad = PARAMETERS.replace("value: 50", "value: !!python/object/apply:os.system ['true']")
    with pytest.raises(PackErrors) as info:
        load_pack(write_pack(files(**{"parameters.yaml": bad})))
    assert "parameters.yaml" in str(info.value)


def test_yaml_syntax_error_names_file_and_line(write_pack):
    lines = PARAMETERS.splitlines()
    at = next(i for i, line in enumerate(lines) if "value: 50" in line)
    lines[at] = lines[at].replace("value: 50", "value: [50")
    with pytest.raises((PackError, PackErrors), match="YAML syntax") as info:
        load_pack(write_pack(files(**{"parameters.yaml": "\n".join(lines) + "\n"})))
    error = errors_of(info)[0]
    assert str(error.file).endswith("parameters.yaml")
    assert error.line is not None and at + 1 <= error.line <= at + 3


def test_unknown_key_gets_a_suggestion(write_pack):
    broken = PROGRAMS.replace("        when: per_head", "        whn: per_head")
    with pytest.raises(PackErrors) as info:
        load_pack(write_pack(files(**{"programs.yaml": broken})))
    errs = errors_of(info)
    assert any(e.name == "whn" and e.suggestion == "when" and e.line == 8 for e in errs)


def test_parameter_without_provenance_is_refused(write_pack):
    broken = PARAMETERS.replace(
        "        confidence: modelled\n        source: {reasoning: test value}\n      - since: 2024",
        "        confidence: seed\n        source: {reasoning: test value}\n      - since: 2024",
    )
    with pytest.raises(PackErrors) as info:
        load_pack(write_pack(files(**{"parameters.yaml": broken})))
    assert "needs source.seed" in str(info.value)
    no_source = PARAMETERS.replace(
        "        confidence: modelled\n        source: {reasoning: test value}\n", "", 1
    )
    with pytest.raises(PackErrors, match="confidence"):
        load_pack(write_pack(files(**{"parameters.yaml": no_source}), name="p2"))


def test_cycles_between_variables_are_refused(write_pack):
    cyclic = VARIABLES.replace("formula: income / size", "formula: income / size + loop")
    cyclic += """
  loop:
    label: {zh: 环, en: Loop}
    type: money
    formula: per_head
"""
    with pytest.raises(PackError, match="circle"):
        load_pack(write_pack(files(**{"variables.yaml": cyclic})))


def test_no_value_in_force_names_parameter_and_date(write_pack):
    pack = load_pack(write_pack(files()))
    hh = {"id": "h", "members": [{"id": "a", "age": 30, "monthly_income": 0}]}
    with pytest.raises(ParameterNotInForceError) as info:
        evaluate(pack, hh, on=dt.date(2019, 5, 1))
    assert info.value.parameter in ("dibao.standard", "bonus")
    assert "2019-05-01" in str(info.value)


def test_duplicate_keys_are_refused_with_line(write_pack):
    dup = (
        PARAMETERS
        + """
  bonus:
    label: {zh: 奖励, en: Bonus}
    unit: CNY/month
    type: money
    set_by: city
"""
    )
    with pytest.raises(PackErrors, match="appears twice") as info:
        load_pack(write_pack(files(**{"parameters.yaml": dup})))
    assert errors_of(info)[0].line == 26  # the second "bonus:"


def test_extends_overrides_and_adds(write_pack, tmp_path):
    write_pack(files(), name="base")
    child_pack = """
pack:
  id: child
  label: {zh: 子, en: Child}
  level: city
  extends: base
  drops: [elder]
"""
    child_params = """
parameters:
  dibao.standard:
    label: {zh: 子标准, en: Child standard}
    unit: CNY/person/month
    type: money
    history:
      - since: 2020-01-01
        value: 1200
        confidence: modelled
        source: {reasoning: child value}
"""
    base_manifest = files()["pack.yaml"].replace("id: testpack", "id: base")
    (tmp_path / "base" / "pack.yaml").write_text(base_manifest)
    child = write_pack({"pack.yaml": child_pack, "parameters.yaml": child_params}, name="child")
    pack = load_pack(child)
    assert pack.definition.chain == ["base", "child"]
    assert "elder" not in pack.programs
    assert pack.parameter("dibao.standard", dt.date(2024, 1, 1)).value == 1200
    assert pack.parameter("bonus", dt.date(2024, 1, 1)).value == 50  # inherited


def test_override_may_not_change_a_type(write_pack, tmp_path):
    write_pack(files(), name="base")
    (tmp_path / "base" / "pack.yaml").write_text(
        files()["pack.yaml"].replace("id: testpack", "id: base")
    )
    child = write_pack(
        {
            "pack.yaml": "pack: {id: child, label: {zh: 子, en: Child}, level: city, extends: base}\n",
            "parameters.yaml": "parameters:\n  bonus:\n    label: {zh: 奖, en: Bonus}\n    unit: count\n    type: count\n    set_by: city\n",
        },
        name="child",
    )
    with pytest.raises(PackErrors, match="type money with type count"):
        load_pack(child)


def test_unknown_pack_lists_the_known_ones():
    with pytest.raises(PackNotFoundError) as info:
        load_pack("huzou")
    assert "huzhou" in str(info.value) and "did you mean 'huzhou'" in str(info.value)


def test_builtin_packs_are_found():
    assert {"national", "zhejiang", "huzhou"} <= set(available_packs())


def test_json_schema_describes_the_sections():
    schema = pack_json_schema()
    assert set(schema["properties"]) >= {
        "pack",
        "parameters",
        "programs",
        "variables",
        "tables",
        "cases",
    }
    assert "Parameter" in schema["$defs"]


def test_a_distribution_can_register_a_pack_through_an_entry_point(
    write_pack, tmp_path, monkeypatch
):
    """A third-party city installed as a package: `minzheng_rules.packs` entry point → folder."""
    import sys
    from importlib.metadata import EntryPoint

    from minzheng_rules.packs import _discovery as discovery

    folder = write_pack(
        files(**{"pack.yaml": files()["pack.yaml"].replace("id: testpack", "id: thirdcity")}),
        name="thirdcity",
    )
    module = tmp_path / "thirdcity_pack.py"
    module.write_text(
        f"from pathlib import Path\n\ndef pack_folder():\n    return Path({str(folder)!r})\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = EntryPoint(
        name="thirdcity", value="thirdcity_pack:pack_folder", group=discovery.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(
        discovery,
        "entry_points",
        lambda group: [entry] if group == discovery.ENTRY_POINT_GROUP else [],
    )
    assert available_packs()["thirdcity"] == folder
    assert load_pack("thirdcity").id == "thirdcity"
    sys.modules.pop("thirdcity_pack", None)


def test_two_conditions_with_one_id_are_refused(write_pack):
    """Results show a program's conditions by id, so two with one id would show as one."""
    twice = PROGRAMS.replace(
        "        when: per_head < p.dibao.standard\n",
        "        when: per_head < p.dibao.standard\n"
        "      - id: means\n"
        "        label: {zh: 有成员, en: Has members}\n"
        "        when: size > 0\n",
        1,
    )
    assert twice != PROGRAMS
    with pytest.raises(PackErrors, match="condition id 'means' appears twice") as info:
        load_pack(write_pack(files(**{"programs.yaml": twice})))
    err = errors_of(info)[0]
    assert err.file.endswith("programs.yaml") and err.name == "dibao"
