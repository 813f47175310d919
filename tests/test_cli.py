"""The command line: each command's success path and its clear failures (exit code 2)."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from minzheng_rules.cli.main import app

from packs_for_tests import PROGRAMS, files

runner = CliRunner()


@pytest.fixture
def household_file(tmp_path, three_people):
    path = tmp_path / "h.yaml"
    path.write_text(yaml.safe_dump(three_people, allow_unicode=True))
    return path


def test_eval_json_matches_issue_example(household_file):
    r = runner.invoke(
        app,
        [
            "eval",
            str(household_file),
            "--pack",
            "huzhou",
            "--date",
            "2024-06-01",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["programs"]["dibao"]["amount"] == "1435.00"
    assert data["pack"] == "huzhou" and data["date"] == "2024-06-01"


def test_eval_explain_table_shows_standard_and_source(household_file):
    r = runner.invoke(
        app, ["eval", str(household_file), "--pack", "huzhou", "--date", "2021-06-01", "--explain"]
    )
    assert r.exit_code == 0, r.output
    assert "751.00" in r.stdout
    assert "p.dibao.standard = 917" in r.stdout
    assert "000_28cda2da2961cd75.txt" in r.stdout


def test_eval_unknown_pack_lists_known(household_file):
    r = runner.invoke(app, ["eval", str(household_file), "--pack", "nowhere"])
    assert r.exit_code == 2
    assert "known packs" in r.stderr and "huzhou" in r.stderr


def test_eval_date_without_standard(household_file):
    r = runner.invoke(
        app, ["eval", str(household_file), "--pack", "huzhou", "--date", "2010-01-01"]
    )
    assert r.exit_code == 2
    assert "no value in force on 2010-01-01" in r.stderr


def test_eval_bad_household_names_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "x", "members": [{"id": "a", "age": 3, "wage": 1}]}))
    r = runner.invoke(app, ["eval", str(bad), "--pack", "huzhou", "--date", "2024-06-01"])
    assert r.exit_code == 2
    assert "members[a].wage: unknown field" in r.stderr


def test_eval_bad_date_and_format(household_file):
    assert (
        runner.invoke(
            app, ["eval", str(household_file), "--pack", "huzhou", "--date", "June"]
        ).exit_code
        == 2
    )
    assert (
        runner.invoke(
            app, ["eval", str(household_file), "--pack", "huzhou", "--format", "xml"]
        ).exit_code
        == 2
    )


def test_validate_good_and_broken(write_pack):
    assert runner.invoke(app, ["validate", "huzhou"]).exit_code == 0
    broken = write_pack(files(**{"programs.yaml": PROGRAMS.replace("per_head <", "per_haed <")}))
    r = runner.invoke(app, ["validate", str(broken)])
    assert r.exit_code == 1
    assert "programs.yaml:8" in r.stderr and "did you mean 'per_head'" in r.stderr


def test_packs_show_and_schema(tmp_path):
    r = runner.invoke(app, ["packs"])
    assert r.exit_code == 0 and "huzhou" in r.stdout
    r = runner.invoke(app, ["show", "huzhou", "--date", "2024-06-01"])
    assert r.exit_code == 0
    assert "modelled share" in r.stdout and "1145" in r.stdout
    out = tmp_path / "schema.json"
    assert runner.invoke(app, ["schema", "--out", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["title"] == "minzheng-rules pack file"


def test_test_command_runs_golden_cases():
    r = runner.invoke(app, ["test", "huzhou", "--no-invariants"])  # invariants: test_invariants.py
    assert r.exit_code == 0, r.output
    assert " 0 failed" in r.stdout


def _flat(text: str) -> str:
    """Typer's error and help boxes as one line (the box wraps at the terminal's width)."""
    return " ".join(text.replace("│", " ").split())


# each option that takes a fixed set of words: the words (in --help's order) and the default
CHOICES = [
    (["eval", "h.yaml", "-p", "huzhou"], "--format", ("table", "json"), "table"),
    (["plan", "h.yaml", "-p", "huzhou"], "--format", ("markdown", "html"), "markdown"),
    (["diff", "-p", "huzhou", "-r", "r.jsonl"], "--format", ("table", "json", "markdown"), "table"),
    (
        ["batch", "r.jsonl", "o.csv", "-p", "huzhou"],
        "--format",
        ("parquet", "csv", "jsonl", "xlsx"),
        None,
    ),
    (["batch", "r.jsonl", "o.csv", "-p", "huzhou"], "--engine", ("local", "spark"), "local"),
    (
        ["synth", "-n", "1", "-p", "huzhou", "-o", "x"],
        "--format",
        ("parquet", "csv", "jsonl"),
        "parquet",
    ),
    (
        ["monitor", "e.jsonl", "-r", "r.jsonl", "-p", "huzhou"],
        "--engine",
        ("python", "durable"),
        "python",
    ),
    (["new", "x", "--extends", "zhejiang"], "--level", ("city", "county"), "city"),
]


@pytest.mark.parametrize(("args", "option", "words", "default"), CHOICES)
def test_a_word_outside_an_options_choices_is_refused_with_the_choices(
    tmp_path, monkeypatch, args, option, words, default
):
    monkeypatch.chdir(tmp_path)  # the relative output paths above land here, if anything ran
    listed = ", ".join(f"'{w}'" for w in words)
    for wrong in ("xml", words[0].upper()):  # the words are case-sensitive, as before
        r = runner.invoke(app, [*args, option, wrong])
        assert r.exit_code == 2, r.output
        assert f"'{wrong}' is not one of {listed}." in _flat(r.stderr), r.stderr
    assert not list(tmp_path.iterdir())  # refused before anything ran
    shown = _flat(runner.invoke(app, [args[0], "--help"], env={"COLUMNS": "200"}).stdout)
    assert f"<{'|'.join(words)}>" in shown
    if default is not None:
        assert f"[default: {default}]" in shown


def test_synth_refuses_the_xlsx_that_batch_writes(tmp_path):
    r = runner.invoke(
        app, ["synth", "-n", "1", "-p", "huzhou", "-o", str(tmp_path / "x"), "-f", "xlsx"]
    )
    assert r.exit_code == 2 and "'xlsx' is not one of" in _flat(r.stderr)
    assert not (tmp_path / "x").exists()


def test_the_cli_choices_are_the_librarys():
    """The CLI writes the words out (so --help imports no polars); they must stay the same as
    the lists the library checks."""
    from minzheng_rules.cli._common import MonitorEngine, OutputFormat, RegisterFormat
    from minzheng_rules.io._formats import FORMATS, OUTPUT_FORMATS
    from minzheng_rules.monitor import ENGINES

    assert tuple(RegisterFormat) == FORMATS
    assert tuple(OutputFormat) == OUTPUT_FORMATS
    assert tuple(MonitorEngine) == ENGINES


def test_plan_and_new_run_with_a_chosen_word(household_file, tmp_path):
    r = runner.invoke(
        app, ["plan", str(household_file), "-p", "huzhou", "--date", "2024-06-01", "-f", "html"]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.lstrip().startswith("<") and "</" in r.stdout
    r = runner.invoke(
        app, ["new", str(tmp_path / "anji"), "--extends", "huzhou", "--level", "county"]
    )
    assert r.exit_code == 0, r.output
    assert "level: county" in (tmp_path / "anji" / "pack.yaml").read_text(encoding="utf-8")
