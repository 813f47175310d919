"""Writing a city pack (issue 18): `minzheng new`, `validate` reporting every mistake once in
one run with file:line and a sentence, user text never read as terminal markup, `eval
--explain --program`, and `test --seed`."""

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from minzheng_rules.cli.main import app
from minzheng_rules.model._errors import PackErrors
from minzheng_rules.packs._pack import load_pack

from packs_for_tests import PARAMETERS, PROGRAMS, VARIABLES, files

runner = CliRunner()

# the values zhejiang's chain leaves to a city (national and zhejiang parameters.yaml, set_by)
CITY_VALUES = {
    "dibao.standard",
    "tekun.basic_living",
    "medical_relief.ratio_tekun",
    "medical_relief.ratio_dibao",
    "medical_relief.ratio_edge",
    "medical_relief.ratio_other",
    "medical_relief.deductible",
    "medical_relief.annual_cap",
    "home_care.min_age",
    "home_care.hours_base",
    "home_care.hours_high",
    "home_adaptation.amount",
    "home_adaptation.min_age",
    "consumption.urban_per_capita_prev_year",
}


def _line(path: Path, text: str) -> int:
    """The 1-based line of the first line of ``path`` containing ``text``."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return i
    raise AssertionError(f"{text!r} not in {path}")


def _validate(*args: str):
    return runner.invoke(app, ["validate", *args])


# -- validate: everything in one run -------------------------------------------------------

FOUR_MISTAKES = (
    PARAMETERS
    + """
  flag:
    label: {zh: 标志, en: Flag}
    unit: flag
    type: bool
    history:
      - since: 2020-01-01
        value: 300
        confidence: published
  extra:
    label: {zh: 额外, en: Extra}
    unit: CNY/month
    type: money
    history:
      - since: 2020-01-01
        value: true
        confidence: modelled
        source: {reasoning: test}
"""
)

CYCLE = (
    VARIABLES
    + """
  loop_a:
    label: {zh: 甲, en: A}
    type: money
    formula: loop_b + 1
  loop_b:
    label: {zh: 乙, en: B}
    type: money
    formula: loop_a + 1
"""
)


def test_validate_reports_format_names_types_and_cycles_in_one_run(write_pack):
    folder = write_pack(
        files(
            **{
                "parameters.yaml": FOUR_MISTAKES,
                "programs.yaml": PROGRAMS.replace("per_head <", "per_haed <"),
                "variables.yaml": CYCLE,
            }
        )
    )
    r = _validate(str(folder))
    assert r.exit_code == 1
    params, programs = folder / "parameters.yaml", folder / "programs.yaml"
    variables = folder / "variables.yaml"
    lines = [line for line in r.stderr.splitlines() if line.startswith(str(folder))]
    expected = [
        # a missing source: a sentence, at the dated value, naming the parameter
        f"{params}:{_line(params, 'value: 300') - 1}: parameter 'flag', history entry 1 has no "
        "'source': say where the value comes from",
        # a value that does not fit its type, also for the entry that failed the format check
        f"{params}:{_line(params, 'value: 300')}: parameter 'flag' is of type bool, so its "
        "value since 2020-01-01 must be true or false, not 300",
        f"{params}:{_line(params, 'value: true')}: parameter 'extra' is of type money, so its "
        "value since 2020-01-01 must be a number, not true",
        f"{programs}:{_line(programs, 'per_haed')}: in programs 'dibao': unknown name "
        "'per_haed' (did you mean 'per_head'?)",
        f"{variables}:{_line(variables, 'loop_a:') + 1}: definitions depend on each other in a "
        "circle: var:loop_a → var:loop_b → var:loop_a",
    ]
    assert len(lines) == len(expected), r.stderr
    for want in expected:
        assert any(line.startswith(want) for line in lines), (want, r.stderr)
    assert "Field required" not in r.stderr
    assert "5 error(s)" in r.stderr


def test_load_pack_raises_all_errors_together(write_pack):
    folder = write_pack(
        files(
            **{
                "parameters.yaml": FOUR_MISTAKES,
                "programs.yaml": PROGRAMS.replace("per_head <", "per_haed <"),
            }
        )
    )
    with pytest.raises(PackErrors) as info:
        load_pack(folder)
    names = {e.name for e in info.value.errors}
    assert {"source", "flag", "extra", "per_haed"} <= names


def test_a_broken_parameter_is_reported_once_not_at_every_reader(write_pack):
    """The entry with no source is still declared with its type, so the program reading it
    is checked and not reported as reading an unknown parameter."""
    params = PARAMETERS.replace(
        """        value: 50
        confidence: modelled
        source: {reasoning: test value}""",
        """        value: 50
        confidence: modelled""",
    )
    r = _validate(str(write_pack(files(**{"parameters.yaml": params}))))
    assert r.exit_code == 1
    assert "parameter 'bonus', history entry 1 has no 'source'" in r.stderr
    assert "unknown parameter" not in r.stderr and "1 error(s)" in r.stderr


def test_count_parameter_needs_a_whole_number(write_pack):
    params = (
        PARAMETERS
        + """
  min_age:
    label: {zh: 年龄, en: Age}
    unit: years
    type: count
    history:
      - {since: 2020-01-01, value: 60.5, confidence: modelled, source: {reasoning: test}}
"""
    )
    folder = write_pack(files(**{"parameters.yaml": params}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    assert (
        f"parameters.yaml:{_line(folder / 'parameters.yaml', 'value: 60.5')}: parameter "
        "'min_age' is of type count, so its value since 2020-01-01 must be a whole number, "
        "not 60.5"
    ) in r.stderr


def test_missing_field_and_unknown_key_are_sentences(write_pack):
    programs = PROGRAMS.replace("    amount: p.bonus\n", "    amount: p.bonus\n    amonut: 1\n")
    programs = programs.replace("        label: {zh: 年满80, en: Aged 80+}\n", "")
    folder = write_pack(files(**{"programs.yaml": programs}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    p = folder / "programs.yaml"
    assert (
        f"{p}:{_line(p, 'id: old')}: program 'elder', conditions entry 1 needs 'label', "
        "which is missing"
    ) in r.stderr
    assert (
        f"{p}:{_line(p, 'amonut')}: program 'elder': unknown key 'amonut' (did you mean 'amount'?)"
    ) in r.stderr


def test_case_household_errors_name_the_case_line(write_pack):
    case = """
cases:
  - id: bad
    date: 2024-06-01
    computation: nothing
    household:
      id: h
      members: [{id: a, relation: head, age: 40, monthly_incme: 5}]
    expect: {dibao: {status: ineligible}}
"""
    folder = write_pack(files(**{"cases/bad.yaml": case}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    path = folder / "cases" / "bad.yaml"
    assert f"{path}:{_line(path, 'id: h')}: case 'bad': household field" in r.stderr
    assert "monthly_incme" in r.stderr


# -- a city pack: values still to be set, unused parameters --------------------------------


def _city(write_pack, parameters: str = "parameters: {}\n") -> Path:
    manifest = "pack:\n  id: jiaxing\n  label: {zh: 嘉兴市, en: Jiaxing}\n  level: city\n"
    manifest += "  extends: zhejiang\n"
    return write_pack({"pack.yaml": manifest, "parameters.yaml": parameters}, name="jiaxing")


def test_validate_lists_every_value_a_city_must_still_set(write_pack):
    r = _validate(str(_city(write_pack)))
    assert r.exit_code == 1
    found = set(re.findall(r"parameter '([a-z_.]+)' \(.*\) has no value yet", r.stderr))
    assert found == CITY_VALUES
    assert f"{len(CITY_VALUES)} value(s) still to be set" in r.stderr
    national = Path(load_pack("national").folder) / "parameters.yaml"
    line = _line(national, "dibao.standard:") + 1
    assert (
        f"{national}:{line}: parameter 'dibao.standard' (最低生活保障标准 / Minimum living "
        "guarantee (dibao) standard; CNY/person/month, money) has no value yet: it is left to "
        "the city pack; give it a dated 'history' in this pack (declared by national)"
    ) in r.stderr


def test_eval_on_an_unfinished_city_pack_points_at_validate(write_pack, tmp_path):
    folder = _city(write_pack)
    h = tmp_path / "h.yaml"
    h.write_text("id: h\nmembers: [{id: a, relation: head, age: 40, monthly_income: 100}]\n")
    r = runner.invoke(app, ["eval", str(h), "--pack", str(folder), "--date", "2024-06-01"])
    assert r.exit_code == 2
    assert "jiaxing does not set it yet" in r.stderr
    assert f"minzheng validate {folder}" in r.stderr


@pytest.fixture
def new_city(tmp_path) -> Path:
    folder = tmp_path / "jiaxing"
    r = runner.invoke(
        app, ["new", str(folder), "--extends", "zhejiang", "--zh", "嘉兴市", "--en", "Jiaxing"]
    )
    assert r.exit_code == 0, r.output
    return folder


def _fill(folder: Path) -> None:
    """Replace every placeholder with a dated, sourced value (as the guide says)."""
    path = folder / "parameters.yaml"
    values = {"money": "1000", "number": "0.7", "count": "60", "bool": "true"}

    def filled(m: re.Match) -> str:
        return (
            f"    type: {m.group(1)}\n    history:\n      - since: 2024-01-01\n"
            f"        value: {values[m.group(1)]}\n        confidence: modelled\n"
            "        source: {reasoning: a test value}\n"
        )

    text = re.sub(r"    type: (\w+)\n    set_by: .*\n(    #.*\n)*", filled, path.read_text())
    path.write_text(text, encoding="utf-8")


def test_new_writes_a_scaffold_whose_placeholders_validate_reports(new_city):
    assert {p.name for p in new_city.iterdir()} == {
        "pack.yaml",
        "parameters.yaml",
        "invariants.yaml",
        "cases",
        "README.md",
    }
    assert (new_city / "cases" / "example.yaml").exists()
    params = yaml.safe_load((new_city / "parameters.yaml").read_text())["parameters"]
    assert set(params) == CITY_VALUES
    assert params["dibao.standard"] == {
        "label": {"zh": "最低生活保障标准", "en": "Minimum living guarantee (dibao) standard"},
        "unit": "CNY/person/month",
        "type": "money",
        "set_by": "city",
    }
    assert params["home_care.min_age"]["type"] == "count"
    r = _validate(str(new_city))
    assert r.exit_code == 1
    path = new_city / "parameters.yaml"
    text = path.read_text().splitlines()
    line = next(
        i
        for i, t in enumerate(text, 1)
        if t.startswith("    set_by") and "dibao.standard" in text[i - 6]
    )
    assert (
        f"{path}:{line}: parameter 'dibao.standard' (最低生活保障标准 / Minimum living "
        "guarantee (dibao) standard; CNY/person/month, money) has no value yet: it is left to "
        "the city pack; replace 'set_by: city' with a dated 'history'"
    ) in r.stderr
    assert f"14 error(s), of which {len(CITY_VALUES)} value(s) still to be set" in r.stderr


def test_new_pack_filled_in_validates_and_passes_its_tests(new_city):
    _fill(new_city)
    r = _validate(str(new_city))
    assert r.exit_code == 0, r.output
    assert "ok jiaxing: 15 programs" in r.stdout and "1 cases" in r.stdout
    r = runner.invoke(app, ["test", str(new_city), "--examples", "5", "--seed", "7"])
    assert r.exit_code == 0, r.output
    assert "pass high-income-not-dibao" in r.stdout
    assert "pass invariant jiaxing_dibao_more_income_never_helps" in r.stdout


def test_new_refuses_a_used_folder_and_a_bad_id(new_city, tmp_path):
    r = runner.invoke(app, ["new", str(new_city), "--extends", "zhejiang"])
    assert r.exit_code == 2 and "already exists and is not empty" in r.stderr
    r = runner.invoke(app, ["new", str(tmp_path / "嘉兴"), "--extends", "zhejiang"])
    assert r.exit_code == 2 and "give one with --id" in r.stderr
    r = runner.invoke(app, ["new", str(tmp_path / "x"), "--extends", "zhejiang", "--level", "town"])
    assert r.exit_code == 2 and "'town' is not one of 'city', 'county'" in " ".join(
        r.stderr.replace("│", " ").split()
    )
    r = runner.invoke(app, ["new", str(tmp_path / "y"), "--extends", "zhejaing"])
    assert r.exit_code == 2 and "did you mean 'zhejiang'" in r.stderr


def test_unused_parameter_warns_with_did_you_mean_and_strict_fails(new_city):
    _fill(new_city)
    path = new_city / "parameters.yaml"
    typo = path.read_text().replace("  dibao.standard:\n", "  dibao.standrad:\n", 1)
    path.write_text(typo + "  jiaxing.bonus:\n" + _money_entry())
    r = _validate(str(new_city))
    # the misspelt name leaves dibao.standard unset (an error) and is itself unused (a warning)
    assert r.exit_code == 1
    line = _line(path, "dibao.standrad:")
    assert (
        f"warning {path}:{line + 2}: parameter 'dibao.standrad' is defined here but no rule "
        "reads it and it overrides no inherited parameter (did you mean 'dibao.standard'?)"
    ) in r.stderr
    assert "parameter 'dibao.standard' (" in r.stderr and "1 value(s) still to be set" in r.stderr
    # with the name fixed only the genuinely unused one is left: a warning, or with --strict
    # an error
    path.write_text(path.read_text().replace("dibao.standrad", "dibao.standard"))
    r = _validate(str(new_city))
    assert r.exit_code == 0, r.output
    assert "parameter 'jiaxing.bonus' is defined here but no rule reads it" in r.stderr
    assert "1 warning(s)" in r.stdout
    r = _validate("--strict", str(new_city))
    assert r.exit_code == 1
    assert "error " in r.stderr and "jiaxing.bonus" in r.stderr


def _money_entry() -> str:
    return (
        "    label: {zh: 补贴, en: Bonus}\n    unit: CNY/month\n    type: money\n"
        "    history:\n      - {since: 2024-01-01, value: 50, confidence: modelled, "
        "source: {reasoning: test}}\n"
    )


def test_shipped_packs_validate_without_warnings():
    r = _validate("national", "zhejiang", "huzhou", "pinghu", "yiwu", "zhenjiang", "jiangsu")
    assert r.exit_code == 0, r.output
    assert "warning" not in r.stderr


# -- user text is never terminal markup ----------------------------------------------------


@pytest.fixture
def household_file(tmp_path, three_people):
    path = tmp_path / "h.yaml"
    path.write_text(yaml.safe_dump(three_people, allow_unicode=True))
    return path


@pytest.mark.parametrize(
    "args, shown",
    [
        (["--date", "[/x]"], "--date must be YYYY-MM-DD, got '[/x]'"),
        (["--date", "[bold]2024[/]"], "got '[bold]2024[/]'"),
    ],
)
def test_markup_in_a_date_is_shown_not_read(household_file, args, shown):
    r = runner.invoke(app, ["eval", str(household_file), "--pack", "huzhou", *args])
    assert r.exit_code == 2
    assert shown in r.stderr


def test_markup_in_pack_and_file_names_is_shown(tmp_path, household_file):
    r = runner.invoke(app, ["eval", str(household_file), "--pack", "[/red]"])
    assert r.exit_code == 2 and "unknown pack '[/red]'" in r.stderr
    missing = tmp_path / "[/x].yaml"
    r = runner.invoke(app, ["eval", str(missing), "--pack", "huzhou"])
    assert r.exit_code == 2 and "[/x].yaml" in r.stderr
    r = runner.invoke(app, ["validate", str(tmp_path / "[/x]")])
    assert r.exit_code == 1 and "[/x]" in r.stderr
    register = tmp_path / "register.jsonl"
    register.write_text('{"id": "h1", "members": [{"id": "a", "relation": "head", "age": 40}]}\n')
    r = runner.invoke(
        app, ["diff", "--pack", "huzhou", "--set", "[/x]=1", "--register", str(register)]
    )
    assert r.exit_code == 2 and "error: override: unknown parameter '[/x]'" in r.stderr
    r = runner.invoke(
        app,
        ["diff", "--pack", "huzhou", "--set", "dibao.standard=[/x]", "--register", str(register)],
    )
    assert r.exit_code == 2
    assert "parameter 'dibao.standard' needs a number, not '[/x]'" in r.stderr


def test_emoji_codes_in_messages_stay_text(write_pack):
    """A line number such as :100: is not turned into an emoji."""
    params = (
        PARAMETERS
        + "".join(f"  # {i}\n" for i in range(100))
        + (
            "  late:\n    label: {zh: 迟, en: Late}\n    unit: CNY\n    history:\n"
            "      - {since: 2020-01-01, value: 1, confidence: modelled}\n"
        )
    )
    folder = write_pack(files(**{"parameters.yaml": params}))
    r = _validate(str(folder))
    line = _line(folder / "parameters.yaml", "since: 2020-01-01, value: 1,")
    assert line >= 100
    assert f"parameters.yaml:{line}: parameter 'late'" in r.stderr


def test_explain_names_the_member_an_unknown_fact_belongs_to(tmp_path):
    h = tmp_path / "h.yaml"
    h.write_text(
        "id: h\nmembers:\n  - {id: a, relation: head, age: 85, monthly_income: 500}\n"
        "  - {id: b, relation: spouse, age: 82}\n"
    )
    r = runner.invoke(
        app,
        ["eval", str(h), "--pack", "huzhou", "--date", "2024-06-01", "--explain"],
        env={"COLUMNS": "300"},
    )
    assert r.exit_code == 0, r.output
    unknown = [line for line in r.stdout.splitlines() if "= unknown (" in line]
    assert any("members[b].monthly_income" in line for line in unknown), r.stdout
    assert any("members[a].has_capable_obligor" in line for line in unknown), r.stdout


def test_case_failure_prints_member_paths_intact(write_pack):
    case = """
cases:
  - id: wrong-missing
    date: 2024-06-01
    computation: income unknown
    household:
      id: h
      members: [{id: a, relation: head, age: 40}]
    expect:
      dibao: {status: undetermined, missing: ["members[z].monthly_income"]}
"""
    folder = write_pack(files(**{"cases/c.yaml": case}))
    r = runner.invoke(app, ["test", str(folder), "--no-invariants"], env={"COLUMNS": "300"})
    assert r.exit_code == 1
    assert (
        "dibao: expected missing ['members[z].monthly_income'], got ['members[a].monthly_income']"
    ) in r.stdout


# -- eval --program, test --seed -----------------------------------------------------------


def test_eval_explain_one_program_with_member_amounts(tmp_path):
    h = tmp_path / "h.yaml"
    h.write_text(
        "id: h\nmembers:\n  - {id: a, relation: head, age: 85, monthly_income: 500}\n"
        "  - {id: b, relation: spouse, age: 92, monthly_income: 500}\n"
    )
    r = runner.invoke(
        app,
        [
            "eval",
            str(h),
            "--pack",
            "huzhou",
            "--date",
            "2024-06-01",
            "--explain",
            "--program",
            "longevity_allowance",
        ],
        env={"COLUMNS": "300"},
    )
    assert r.exit_code == 0, r.output
    assert "tekun" not in r.stdout and "dibao" not in r.stdout
    # 湖州 longevity allowance (modelled provincial minimums): 80-89 → 60, 90-99 → 100
    assert "member a: amount = longevity_band" in r.stdout
    assert "member b: amount = longevity_band" in r.stdout
    assert "longevity_band = 60" in r.stdout and "longevity_band = 100" in r.stdout
    r = runner.invoke(app, ["eval", str(h), "--pack", "huzhou", "--program", "longevity"])
    assert r.exit_code == 2
    assert "has no program 'longevity' (did you mean 'longevity_allowance'?)" in r.stderr


def test_eval_json_member_amount_explanation(tmp_path):
    h = tmp_path / "h.json"
    h.write_text('{"id": "h", "members": [{"id": "a", "relation": "head", "age": 85}]}')
    r = runner.invoke(
        app,
        [
            "eval",
            str(h),
            "--pack",
            "huzhou",
            "--date",
            "2024-06-01",
            "--format",
            "json",
            "--explain",
            "--program",
            "longevity_allowance",
        ],
    )
    import json

    data = json.loads(r.stdout)
    assert list(data["programs"]) == ["longevity_allowance"]
    member = data["programs"]["longevity_allowance"]["members"]["a"]
    assert member["amount"] == "60.00"
    assert member["amount_explanation"]["values"] == {"longevity_band": "60"}


NEGATIVE = """
programs:
  refund:
    label: {zh: 退款, en: Refund}
    conditions:
      - id: always
        label: {zh: 总是, en: Always}
        when: size >= 1
    amount: 100 - income
    citations:
      - confidence: modelled
        source: {reasoning: test}
"""

INVARIANT = """
invariants:
  - id: refund_not_negative
    label: {zh: 不为负, en: Never negative}
    kind: non_negative
    programs: [refund]
"""


def test_test_prints_its_seed_and_the_seed_replays(write_pack):
    folder = write_pack(
        files(
            **{
                "programs.yaml": PROGRAMS + NEGATIVE.replace("programs:\n", ""),
                "inv.yaml": INVARIANT,
            }
        )
    )
    r = runner.invoke(app, ["test", str(folder), "--examples", "50"], env={"COLUMNS": "300"})
    assert r.exit_code == 1, r.output
    seed = re.search(r"seed (\d+)", r.stdout)
    assert seed is not None
    assert f"minzheng test {folder} --seed {seed.group(1)} --examples 50" in r.stdout
    first = r.stdout.split("FAIL invariant refund_not_negative")[1].split("invariants:")[0]
    again = runner.invoke(
        app,
        ["test", str(folder), "--examples", "50", "--seed", seed.group(1)],
        env={"COLUMNS": "300"},
    )
    assert again.exit_code == 1
    assert (
        again.stdout.split("FAIL invariant refund_not_negative")[1].split("invariants:")[0] == first
    )


def test_test_draws_a_new_seed_each_run(write_pack):
    folder = write_pack(files(**{"inv.yaml": INVARIANT.replace("programs: [refund]", "")}))
    seeds = set()
    for _ in range(2):
        r = runner.invoke(app, ["test", str(folder), "--examples", "3"])
        assert r.exit_code == 0, r.output
        seeds.add(re.search(r"seed (\d+)", r.stdout).group(1))
    assert len(seeds) == 2


def test_an_unknown_key_does_not_hide_the_entrys_other_mistakes(write_pack):
    programs = PROGRAMS.replace("    amount: p.bonus\n", "    amount: p.bonsu\n    amonut: 1\n")
    folder = write_pack(files(**{"programs.yaml": programs}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    assert "unknown key 'amonut' (did you mean 'amount'?)" in r.stderr
    assert "unknown parameter 'p.bonsu' (did you mean 'p.bonus'?)" in r.stderr


# -- reference pages -----------------------------------------------------------------------


def test_committed_reference_pages_are_current():
    """docs/reference/*.md are generated from the code; regenerate them with
    `python -m minzheng_rules.cli.reference` when this fails."""
    from minzheng_rules.cli.reference import generated

    docs = Path(__file__).resolve().parents[1] / "docs"
    stale = [
        path
        for path, text in generated().items()
        if not (docs / path).is_file() or (docs / path).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"out of date: {stale}; run python -m minzheng_rules.cli.reference"


def test_reference_pages_cover_what_a_pack_author_needs():
    from minzheng_rules.cli.reference import generated

    pages = generated()
    household = pages["reference/household.md"]
    assert "`members[<id>].monthly_income` | money (元) | unknown" in household
    assert "`members[a].monthly_income`" in household  # the path form, with an example
    schema = pages["reference/pack-schema.md"]
    for model in ("Parameter", "DatedValue", "Program", "Condition", "Invariant", "Case"):
        assert f"\n## {model}\n" in schema
    assert "| `set_by` | `province` \\| `city` \\| `county` |" in schema
    invariants = pages["reference/invariants.md"]
    for kind in ("monotone_in_income", "non_negative", "exclusive", "raise_keeps_eligibility"):
        assert f"| `{kind}` |" in invariants
    assert "## `minzheng new` {#new}" in pages["reference/cli.md"]
    assert "`--seed`" in pages["reference/cli.md"]


def test_format_mistakes_read_as_sentences_naming_the_thing(write_pack):
    params = (
        PARAMETERS
        + """
  x.rate:
    label: {zh: 比例, en: Rate}
    unit: percent
    type: number
    history:
      - since: 2024-01-01
        value: abc
        confidence: sure
        source: {document: y}
  Bad-Name:
    label: {zh: 坏, en: Bad}
    unit: CNY
    history:
      - {since: 2024-01-01, value: 1, confidence: modelled, source: {reasoning: test}}
"""
    )
    pack = "pack:\n  id: testpack\n  label: {zh: 测试}\n  level: town\n"
    folder = write_pack(files(**{"pack.yaml": pack, "parameters.yaml": params}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    p, m = folder / "parameters.yaml", folder / "pack.yaml"
    for want in [
        f"{m}:3: the manifest 'pack', label needs 'en', which is missing",
        f"{m}:4: the manifest 'pack': 'level': Input should be 'national', 'province', 'city' "
        "or 'county', not 'town'",
        f"{p}:{_line(p, 'unit: percent')}: parameter 'x.rate': 'unit': Input should be 'CNY',",
        f"{p}:{_line(p, 'value: abc')}: parameter 'x.rate', history entry 1: 'value' must be "
        "a number (or true or false for a bool parameter), not 'abc'",
        f"{p}:{_line(p, 'confidence: sure')}: parameter 'x.rate', history entry 1: "
        "'confidence': Input should be 'seed', 'published' or 'modelled', not 'sure'",
        f"{p}:{_line(p, 'Bad-Name') + 1}: parameter name 'Bad-Name' is not an ASCII id",
    ]:
        assert want in r.stderr, want
    # the manifest has mistakes of its own: no extra "exactly one file must hold" error
    assert "exactly one file" not in r.stderr and "6 error(s)" in r.stderr


def test_an_impossible_date_is_an_error_not_a_crash(write_pack):
    params = PARAMETERS.replace("since: 2024-01-01", "since: 2024-13-01")
    folder = write_pack(files(**{"parameters.yaml": params}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    line = _line(folder / "parameters.yaml", "2024-13-01")
    assert (
        f"parameters.yaml:{line}: '2024-13-01' is not a valid date (month must be in 1..12); "
        "write YYYY-MM-DD"
    ) in r.stderr


def test_a_cycle_alone_is_reported_by_validate(write_pack):
    folder = write_pack(files(**{"variables.yaml": CYCLE}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    line = _line(folder / "variables.yaml", "loop_a:") + 1
    assert (
        f"variables.yaml:{line}: definitions depend on each other in a circle: "
        "var:loop_a → var:loop_b → var:loop_a"
    ) in r.stderr
    assert "Traceback" not in r.output


def test_dropping_an_unknown_program_names_the_line(write_pack):
    pack = "pack:\n  id: jx\n  label: {zh: 嘉兴市, en: Jiaxing}\n  level: city\n"
    pack += "  extends: zhejiang\n  drops: [dibao_edge, temporary_releif]\n"
    folder = write_pack({"pack.yaml": pack}, name="jx")
    r = _validate(str(folder))
    assert (
        f"{folder / 'pack.yaml'}:6: the manifest 'pack' drops 'temporary_releif', which is not "
        "an inherited program (did you mean 'temporary_relief'?)"
    ) in r.stderr


def test_labels_with_brackets_show_in_tables_and_traces(write_pack, tmp_path):
    programs = PROGRAMS.replace("{zh: 低保, en: Dibao}", '{zh: "低保[试行]", en: "Dibao [trial]"}')
    programs = programs.replace("{zh: 收入低, en: Low income}", '{zh: 收入低, en: "Low [/b]"}')
    folder = write_pack(files(**{"programs.yaml": programs}))
    r = runner.invoke(app, ["show", str(folder), "--date", "2024-06-01"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "低保[试行]" in r.stdout and "Dibao [trial]" in r.stdout
    h = tmp_path / "h.yaml"
    h.write_text("id: h\nmembers: [{id: a, relation: head, age: 40, monthly_income: 100}]\n")
    r = runner.invoke(
        app,
        ["eval", str(h), "--pack", str(folder), "--date", "2024-06-01", "--explain"],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    assert "低保[试行]" in r.stdout and "收入低 / Low [/b]: per_head < p.dibao.standard" in r.stdout


def test_a_case_missing_path_must_name_a_fact_as_results_do(write_pack):
    case = """
cases:
  - id: paths
    date: 2024-06-01
    computation: income unknown
    household:
      id: h
      members: [{id: a, relation: head, age: 40}]
    expect:
      dibao:
        status: undetermined
        missing: ["members.monthly_income", "members[z].monthly_income", "income", "members[a].monthly_income"]
"""
    folder = write_pack(files(**{"cases/c.yaml": case}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    path = folder / "cases" / "c.yaml"
    line = _line(path, "missing:")
    head = f"{path}:{line}: case 'paths': dibao expects missing"
    tail = "(e.g. 'assets.financial', 'members[a].monthly_income')"
    assert (
        f"{head} 'members.monthly_income': a member's fact is written members[<id>].<field> {tail}"
        in r.stderr
    )
    assert f"{head} 'members[z].monthly_income': the household has no member 'z' {tail}" in r.stderr
    assert (
        f"{head} 'income': it is neither a household fact nor members[<id>].<field> {tail}"
        in r.stderr
    )
    assert "3 error(s)" in r.stderr  # members[a].monthly_income is right


def test_an_entry_with_an_unreadable_type_is_reported_once(write_pack):
    variables = VARIABLES.replace(
        "  income:\n    label: {zh: 收入, en: Income}\n    type: money",
        "  income:\n    label: {zh: 收入, en: Income}\n    type: [money]",
    )
    folder = write_pack(files(**{"variables.yaml": variables}))
    r = _validate(str(folder))
    assert r.exit_code == 1
    assert (
        "variable 'income': 'type': Input should be 'money', 'number', 'count' or 'bool', not ['money']"
        in r.stderr
    )
    assert "1 error(s)" in r.stderr  # per_head and dibao read it: not reported again


def test_odd_shapes_are_reported_not_crashed_on(write_pack):
    """Found by mutating shipped packs at random: each is one clear error."""
    params = (
        PARAMETERS
        + """
  odd:
    label: {zh: 怪, en: Odd}
    unit: CNY
    history: -1
"""
    )
    case = """
cases:
  - id: odd-household
    date: 2024-06-01
    computation: none
    household: {id: h, members: true}
    expect: {dibao: {status: ineligible, missing: ["members[a].age"]}}
"""
    folder = write_pack(files(**{"parameters.yaml": params, "cases/c.yaml": case}))
    r = _validate(str(folder))
    assert r.exit_code == 1, r.output
    assert "parameter 'odd': 'history': Input should be a valid list" in r.stderr
    assert "case 'odd-household': household field 'members': Input should be a valid list" in (
        r.stderr
    )
    assert "2 error(s)" in r.stderr
