"""Hostile and careless inputs (issue 21): each gives a typed error naming the field or
file:line, or a row reject, never a traceback, a hang or a silently wrong answer."""

import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minzheng_rules import load_household, load_pack, parse_household
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.cli.main import app
from minzheng_rules.model._errors import HouseholdError, MinzhengError, PackError, PackErrors
from minzheng_rules.monitor import Monitor
from minzheng_rules.monitor._events import read_events
from minzheng_rules.synth import _events as synthetic
from test_monitor_pack import write_monitor_pack

from packs_for_tests import PARAMETERS, PROGRAMS, VARIABLES, files

runner = CliRunner()
ON = dt.date(2024, 6, 1)
HEAD = {"id": "a", "relation": "head", "age": 40, "monthly_income": 300}


def write_pack(folder: Path, **overrides: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files(**{f"{k}.yaml": v for k, v in overrides.items()}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def pack_errors(folder: Path) -> str:
    with pytest.raises((PackError, PackErrors)) as info:
        load_pack(folder)
    text = str(info.value)
    assert "Traceback" not in text
    return text


# -- households -------------------------------------------------------------------------------


def test_a_birth_date_after_the_evaluation_date_is_an_error_not_a_negative_age(tmp_path):
    pack = load_pack(write_pack(tmp_path / "p"))
    h = parse_household({"id": "h", "members": [{"id": "kid", "birth_date": "2030-01-01"}]})
    with pytest.raises(HouseholdError, match=r"members\[kid\]\.birth_date: 2030-01-01 is after"):
        evaluate(pack, h, ON)
    assert evaluate(pack, h, dt.date(2031, 1, 1)).programs["dibao"]  # born by then: evaluated


def test_batch_rejects_the_unborn_row_and_evaluates_the_rest(tmp_path):
    write_pack(tmp_path / "p")
    rows = [
        {"id": "h1", "members": [HEAD]},
        {"id": "h2", "members": [{"id": "kid", "relation": "child", "birth_date": "2030-01-01"}]},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.csv"
    r = runner.invoke(
        app, ["batch", str(src), str(out), "-p", str(tmp_path / "p"), "--date", "2024-06-01"]
    )
    assert r.exit_code == 0, r.output
    assert [line.split(",")[0] for line in out.read_text().splitlines()[1:]] == ['"h1"']
    rejects = [json.loads(line) for line in Path(f"{out}.rejects.jsonl").read_text().splitlines()]
    assert rejects[0]["household_id"] == "h2"
    assert "members[kid].birth_date" in rejects[0]["reasons"][0]


@pytest.mark.parametrize("field", ["age", "disability_grade"])
def test_true_is_not_a_whole_number(field):
    member = {"id": "a", "age": 40, field: True}
    with pytest.raises(HouseholdError, match=rf"{field}.*not true/false"):
        parse_household({"id": "h", "members": [member]})


def test_assets_counts_refuse_true():
    with pytest.raises(HouseholdError, match="vehicles"):
        parse_household({"id": "h", "members": [HEAD], "assets": {"vehicles": True}})


def test_list_lengths_are_capped():
    with pytest.raises(HouseholdError, match="assessed_needs"):
        parse_household({"id": "h", "members": [HEAD], "assessed_needs": ["x"] * 1001})
    receiving = {f"p{i}": 1 for i in range(1001)}
    with pytest.raises(HouseholdError, match="receiving"):
        parse_household({"id": "h", "members": [HEAD], "receiving": receiving})


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("gbk.json", '{"id": "你好"}'.encode("gbk"), "not UTF-8"),
        (
            "digits.json",
            b'{"id": "h", "members": [{"id": "a", "age": ' + b"9" * 5000 + b"}]}",
            "too many digits",
        ),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("deep.yaml", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_household_files_that_cannot_be_read_are_one_error(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(HouseholdError, match=message):
        load_household(path)
    r = runner.invoke(app, ["eval", str(path), "-p", str(write_pack(tmp_path / "p"))])
    assert r.exit_code == 2 and "Traceback" not in r.output and message in r.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_household_fifo_or_folder_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "h.json")
    (tmp_path / "d.json").mkdir()
    for name in ("h.json", "d.json"):
        with pytest.raises(HouseholdError, match="not a regular file"):
            load_household(tmp_path / name)


# -- pack YAML --------------------------------------------------------------------------------


def test_sexagesimal_is_text_not_ninety(tmp_path):
    folder = write_pack(tmp_path / "p", parameters=PARAMETERS.replace("value: 50", "value: 1:30"))
    assert "parameters.yaml:" in pack_errors(folder)
    from minzheng_rules.packs._yaml_source import load_yaml

    (tmp_path / "t.yaml").write_text("a: 1:30\nb: 190\nc: 1.5\nd: 0x10\n")
    assert load_yaml(tmp_path / "t.yaml") == {"a": "1:30", "b": 190, "c": 1.5, "d": 16}


@pytest.mark.parametrize("word", ["true", "yes", "on"])
def test_a_money_parameter_of_true_is_refused(tmp_path, word):
    folder = write_pack(
        tmp_path / "p", parameters=PARAMETERS.replace("value: 50", f"value: {word}")
    )
    text = pack_errors(folder)
    assert "parameters.yaml:" in text and "must be a number, not true" in text


@pytest.mark.parametrize("value", ["1e26", "1e-999999999", "-1e13"])
def test_out_of_range_parameter_values_are_refused_at_load(tmp_path, value):
    folder = write_pack(
        tmp_path / "p", parameters=PARAMETERS.replace("value: 50", f"value: {value}")
    )
    assert "parameters.yaml:" in pack_errors(folder)


def test_an_exclusion_listing_a_program_twice_is_refused(tmp_path):
    exclusions = """
exclusions:
  - id: once
    label: {zh: 不重复, en: Once}
    programs: [dibao, dibao]
    citations:
      - confidence: modelled
        source: {reasoning: test}
"""
    text = pack_errors(write_pack(tmp_path / "p", exclusions=exclusions))
    assert "exclusions.yaml:" in text and "program 'dibao' is listed twice" in text


def test_an_invariant_naming_an_unknown_program_is_an_error(tmp_path):
    invariants = """
invariants:
  - id: typo
    label: {zh: 拼错, en: Typo}
    kind: non_negative
    programs: [dibo]
"""
    text = pack_errors(write_pack(tmp_path / "p", invariants=invariants))
    assert "invariants.yaml:" in text and "unknown program 'dibo'" in text and "dibao" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("parameters:\n  ? [a, b]\n  : 1\n", "a mapping key must be a name"),
        ("x: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested too deeply"),
        ("x: " + "[" * 300_000 + "]" * 300_000 + "\n", "nested too deeply"),  # crashed libyaml
        ("x:\n" + "- " * 200_000 + "a\n", "nested too deeply"),
        ("? " * 100_000 + "a\n", "nested too deeply"),
        ("x: \xff\n", None),
    ],
)
def test_malformed_yaml_is_a_pack_error(tmp_path, text, message):
    folder = write_pack(tmp_path / "p")
    (folder / "extra.yaml").write_text(text, encoding="utf-8")
    got = pack_errors(folder)
    assert "extra.yaml" in got
    if message:
        assert message in got


def test_pack_files_that_are_not_regular_files_are_refused_at_once(tmp_path):
    folder = write_pack(tmp_path / "p")
    (folder / "x.yaml").mkdir()
    assert "x.yaml: not a regular file" in pack_errors(folder)
    (folder / "x.yaml").rmdir()
    if sys.platform.startswith("linux"):
        os.symlink("/dev/zero", folder / "x.yaml")
        assert "x.yaml: not a regular file" in pack_errors(folder)
        os.unlink(folder / "x.yaml")
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "x.yaml")
        assert "x.yaml: not a regular file" in pack_errors(folder)
    r = runner.invoke(app, ["validate", str(folder)])
    assert r.exit_code == 1 and "Traceback" not in r.output


# -- rounding ---------------------------------------------------------------------------------

THIRD = (
    PROGRAMS
    + """
  third:
    label: {zh: 三分之二, en: Two thirds}
    conditions:
      - id: any
        label: {zh: 任何, en: Any}
        when: size >= 1
    amount: 2 / 3
    rounding: {digits: 3, mode: floor}
    citations:
      - confidence: modelled
        source: {reasoning: test}
"""
)


def test_every_output_keeps_the_declared_rounding(tmp_path):
    folder = write_pack(tmp_path / "p", programs=THIRD)
    h = {"id": "h1", "members": [HEAD]}
    ev = evaluate(load_pack(folder), parse_household(h), ON)
    assert ev.programs["third"].amount == Decimal("0.666")  # floor of 2/3 to 3 digits
    assert ev.to_dict()["programs"]["third"]["amount"] == "0.666"
    assert ev.to_dict()["programs"]["dibao"]["amount"] == "700.00"  # the fen otherwise
    (tmp_path / "h.json").write_text(json.dumps(h))
    r = runner.invoke(
        app,
        ["eval", str(tmp_path / "h.json"), "-p", str(folder), "--date", "2024-06-01", "-f", "json"],
    )
    assert json.loads(r.stdout)["programs"]["third"]["amount"] == "0.666"
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(h) + "\n" + json.dumps({**h, "id": "h2"}) + "\n")
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["batch", str(src), str(out), "-p", str(folder), "--date", "2024-06-01"])
    assert r.exit_code == 0, r.output
    assert out.read_text().splitlines()[1].split(",")[6] == '"0.666"'
    summary = json.loads(Path(f"{out}.summary.json").read_text())
    assert summary["programs"]["third"]["amount"] == "1.332"


# -- monitor ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    folder = tmp_path_factory.mktemp("watch")
    hs = list(synthetic.register(20, seed=3))
    register = folder / "register.jsonl"
    register.write_text("".join(json.dumps(h) + "\n" for h in hs))
    return write_monitor_pack(folder / "pack"), register, hs


@pytest.mark.parametrize(
    "extra", [[], ["--window", "1"], ["--workers", "2"], ["--engine", "durable"]]
)
def test_a_5000_digit_number_is_one_skipped_event_on_every_engine(watched, tmp_path, extra):
    if "durable" in extra:
        pytest.importorskip("durable")
    pack, register, hs = watched
    hid = hs[0]["id"]
    good = {"id": "e1", "household": hid, "date": "2024-02-01", "type": "tick"}
    big = '{"id":"e2","household":"%s","date":"2024-02-02","type":"income_change","member":"a","monthly_income":%s}'
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps(good) + "\n" + big % (hid, "9" * 5000) + "\n")
    out = tmp_path / "o.jsonl"
    r = runner.invoke(
        app, ["monitor", str(events), "-r", str(register), "-p", str(pack), "-o", str(out), *extra]
    )
    assert r.exit_code == 0, r.output
    assert "e.jsonl:2: a number with too many digits" in r.output
    summary = json.loads(out.read_text().splitlines()[-1])["summary"]
    assert (summary["applied"], summary["skipped"]) == (1, 1)


def test_the_monitor_rejects_an_event_of_a_household_born_later(watched, tmp_path):
    pack, _register, _hs = watched
    h = {"id": "u", "members": [{"id": "a", "relation": "head", "birth_date": "2024-06-15"}]}
    lines = [
        json.dumps({"id": "e1", "household": "u", "date": "2024-03-01", "type": "tick"}),
        json.dumps({"id": "e2", "household": "u", "date": "2024-07-01", "type": "tick"}),
    ]
    for window in (1, 100):
        monitor = Monitor(load_pack(pack), [parse_household(h)], window=window)
        summary = monitor.run_events(read_events(lines), lambda r: None)["summary"]
        assert summary["skipped_by_kind"] == {"not_evaluable": 1}, window
        assert "members[a].birth_date: 2024-06-15 is after" in summary["errors"][0]["message"]
        assert "\n" not in summary["errors"][0]["message"]
        assert summary["applied"] == 1


def test_a_monitor_on_a_pack_that_cannot_evaluate_fails(watched, tmp_path):
    pack, register, hs = watched
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in pack.iterdir():
        text = f.read_text()
        if f.name == "parameters.yaml":
            text = text.replace("since: 2020-01-01, value: 1000", "since: 2030-01-01, value: 1000")
            text = text.replace("since: 2024-07-01, value: 1100", "since: 2031-07-01, value: 1100")
        (broken / f.name).write_text(text)
    events = tmp_path / "e.jsonl"
    events.write_text("".join(line + "\n" for line in synthetic.events(hs, 30, seed=4)))
    for extra in ([], ["--workers", "2"]):
        r = runner.invoke(
            app, ["monitor", str(events), "-r", str(register), "-p", str(broken), "--quiet", *extra]
        )
        assert r.exit_code == 2, r.output
        assert "could not evaluate any" in r.output and "Traceback" not in r.output


def test_monitor_out_a_folder_is_refused(watched, tmp_path):
    pack, register, _ = watched
    events = tmp_path / "e.jsonl"
    events.write_text("")
    r = runner.invoke(
        app, ["monitor", str(events), "-r", str(register), "-p", str(pack), "-o", str(tmp_path)]
    )
    assert r.exit_code == 2 and "must be a file" in r.output


def test_typed_errors_only(tmp_path):
    """Everything above is one of the library's own errors (the fuzz suite relies on it)."""
    assert issubclass(HouseholdError, MinzhengError) and issubclass(PackErrors, MinzhengError)


# -- packs that validate but have no exact vectorized plan; CLI misuse ---------------------------

NESTED = """
  nested:
    label: {zh: 嵌套, en: Nested}
    type: money
    formula: sum(sum(n.monthly_income for n in members if n.age > m.age) for m in members)
"""


@pytest.mark.parametrize(
    "overrides",
    [
        {
            "programs": PROGRAMS.replace(
                "p.dibao.standard * size - income", "p.dibao.standard / 3 + income / 7"
            )
        },
        {
            "variables": VARIABLES + NESTED,
            "programs": PROGRAMS.replace(
                "p.dibao.standard * size - income", "p.dibao.standard * size - income + nested"
            ),
        },
        {"programs": "programs: {}\n"},
        {"programs": PROGRAMS.replace("amount: p.bonus", "amount: p.bonus * 1e-999999999")},
    ],
    ids=["division", "nested", "no-programs", "tiny"],
)
def test_batch_runs_packs_the_plan_cannot_compile_and_agrees_with_eval(tmp_path, overrides):
    folder = write_pack(tmp_path / "p", **overrides)
    pack = load_pack(folder)
    hs = [
        {
            "id": f"h{i}",
            "members": [
                {"id": "a", "relation": "head", "age": 30 + i, "monthly_income": 100 * i},
                {"id": "b", "relation": "spouse", "age": 79 + i, "monthly_income": 7 * i},
            ],
        }
        for i in range(6)
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(h) + "\n" for h in hs))
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["batch", str(src), str(out), "-p", str(folder), "--date", "2024-06-01"])
    assert r.exit_code == 0, r.output
    rows = out.read_text().splitlines()
    assert len(rows) == 1 + len(hs)
    header = [c.strip('"') for c in rows[0].split(",")]
    for h, row in zip(hs, rows[1:], strict=True):
        got = dict(zip(header, (c.strip('"') for c in row.split(",")), strict=False))
        ev = evaluate(pack, parse_household(h), ON).to_dict()["programs"]
        for pid, o in ev.items():
            assert got[f"{pid}_status"] == o["status"]
            assert got[f"{pid}_amount"] == (o["amount"] if o["status"] == "eligible" else "0.00")


def test_a_runaway_amount_is_an_error_in_eval_and_a_reject_in_batch(tmp_path):
    big = PROGRAMS.replace(
        "amount: p.bonus", "amount: p.bonus * 1000000000000 * 1000000000000 * 1000000"
    )
    folder = write_pack(tmp_path / "p", programs=big)
    h = {"id": "h1", "members": [{"id": "a", "relation": "head", "age": 85}]}
    (tmp_path / "h.json").write_text(json.dumps(h))
    for command in ("eval", "plan"):
        r = runner.invoke(
            app, [command, str(tmp_path / "h.json"), "-p", str(folder), "--date", "2024-06-01"]
        )
        assert r.exit_code == 2 and "too large to compute exactly" in r.output, r.output
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(h) + "\n")
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["batch", str(src), str(out), "-p", str(folder), "--date", "2024-06-01"])
    assert r.exit_code == 0, r.output
    assert "too large" in Path(f"{out}.rejects.jsonl").read_text()


def test_cli_misuse_is_one_line(tmp_path):
    folder = write_pack(tmp_path / "p")
    r = runner.invoke(app, ["schema", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "cannot write" in r.output
    base = ["synth", "-n", "3", "-p", str(folder)]
    r = runner.invoke(app, [*base, "--seed", "-1", "-o", str(tmp_path / "s")])
    assert r.exit_code == 2 and "--seed must be 0 to" in r.output
    existing = tmp_path / "keep.txt"
    existing.write_text("keep")
    r = runner.invoke(app, [*base, "-o", str(existing)])
    assert r.exit_code == 2 and "is a file" in r.output and existing.read_text() == "keep"


def test_a_register_line_with_a_5000_digit_number_is_one_problem(tmp_path):
    from minzheng_rules.monitor import iter_register

    path = tmp_path / "r.jsonl"
    good = json.dumps({"id": "h1", "members": [HEAD]})
    path.write_text(good + '\n{"id": "h2", "members": [{"id": "a", "age": ' + "9" * 5000 + "}]}\n")
    problems: list[str] = []
    assert [h.id for h in iter_register(path, problems)] == ["h1"]
    assert len(problems) == 1 and "too many digits" in problems[0] and "r.jsonl:2" in problems[0]


def test_a_household_yaml_reads_1_30_as_text_like_a_pack(tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text("id: h\nmembers:\n  - {id: a, age: 1:30}\n")
    with pytest.raises(HouseholdError, match="age"):
        load_household(path)  # not 90
    path.write_text("id: h\nmembers:\n  - {id: a, age: yes}\n")
    with pytest.raises(HouseholdError, match="not true/false"):
        load_household(path)
