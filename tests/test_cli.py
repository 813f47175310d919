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
    assert "members[0].wage: unknown field" in r.stderr


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
