"""Pack tests from outside: the pytest plugin a third party gets, and `minzheng test`."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from minzheng_rules.cli.main import app

from packs_for_tests import PROGRAMS, files

pytest_plugins = ["pytester"]
runner = CliRunner()

INVARIANTS = """
invariants:
  - id: more_income_never_helps
    label: {zh: 收入增加不提高低保, en: More income never raises dibao}
    kind: monotone_in_income
    programs: [dibao]
"""

CASES = """
cases:
  - id: two-people-2024
    date: 2024-06-01
    computation: "2 × 1000 − 1200 = 800"
    household:
      id: h
      members:
        - {id: a, relation: head, age: 40, monthly_income: 1200}
        - {id: b, relation: spouse, age: 38, monthly_income: 0}
    expect:
      dibao: {status: eligible, amount: "800.00"}
  - id: wrong-on-purpose
    date: 2024-06-01
    computation: "deliberately wrong expectation"
    household:
      id: h
      members:
        - {id: a, relation: head, age: 40, monthly_income: 1200}
    expect:
      dibao: {status: eligible}
"""

FLIPPED = PROGRAMS.replace("per_head < p.dibao.standard", "per_head > p.dibao.standard")


def write(folder, pack_files: dict[str, str]) -> None:
    (folder / "cases").mkdir(parents=True, exist_ok=True)
    for name, text in pack_files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def third_party(pytester: pytest.Pytester):
    """A third party's repository: its own pack, a derandomized Hypothesis profile."""
    pytester.makeconftest(
        """
        from hypothesis import settings
        settings.register_profile("theirs", derandomize=True, max_examples=150, deadline=None)
        settings.load_profile("theirs")
        """
    )
    folder = pytester.path / "mypack"
    write(folder, files(**{"invariants.yaml": INVARIANTS, "cases/cases.yaml": CASES}))
    ours = settings.get_current_profile_name()
    yield folder
    settings.load_profile(ours)  # their conftest ran in this process


def test_plugin_runs_cases_and_invariants_with_readable_failures(pytester, third_party):
    result = pytester.runpytest_inprocess(str(third_party / "pack.yaml"), "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*testpack::case::two-people-2024 PASSED*",
            "*testpack::case::wrong-on-purpose FAILED*",
            "*testpack::invariant::more_income_never_helps PASSED*",
        ]
    )
    # expected against got, the hand computation and the trace
    result.stdout.fnmatch_lines(
        ["*golden case 'wrong-on-purpose'*", "*computation: deliberately wrong*", "*trace:*"]
    )
    result.stdout.fnmatch_lines(["*dibao: expected status eligible, got ineligible*"])


def test_plugin_shows_the_shrunk_household_of_a_broken_pack(pytester, third_party):
    write(third_party, {"programs.yaml": FLIPPED, "cases/cases.yaml": "cases: []\n"})
    result = pytester.runpytest_inprocess("--minzheng-pack", str(third_party))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*invariant 'more_income_never_helps' (monotone_in_income)*does not hold*",
            "*problem: dibao: more income made the household eligible*",
            "*household:*",
            "*before:*",
            "*after:*",
        ]
    )


def test_plugin_collects_named_packs_from_the_ini_file(pytester, third_party):
    pytester.makeini("[pytest]\nminzheng_packs = mypack\n")
    result = pytester.runpytest_inprocess("-k", "invariant")
    result.assert_outcomes(passed=1, deselected=2)


def test_plugin_leaves_other_yaml_alone(pytester, third_party):
    result = pytester.runpytest_inprocess(str(pytester.path))
    result.assert_outcomes()  # pack.yaml under a walked folder is collected only when asked
    pytester.makeini("[pytest]\nminzheng_collect_packs = true\n")
    result = pytester.runpytest_inprocess(str(pytester.path))
    result.assert_outcomes(passed=2, failed=1)


def test_cli_test_runs_cases_and_invariants(write_pack):
    folder = write_pack(files(**{"invariants.yaml": INVARIANTS}))
    r = runner.invoke(app, ["test", str(folder), "--examples", "30"])
    assert r.exit_code == 0, r.output
    assert "pass invariant more_income_never_helps (30 households)" in r.stdout
    assert "1 passed, 0 failed" in r.stdout


def test_cli_test_fails_on_a_broken_pack_with_the_example(write_pack):
    folder = write_pack(files(**{"invariants.yaml": INVARIANTS, "programs.yaml": FLIPPED}))
    r = runner.invoke(app, ["test", str(folder), "--examples", "300"])  # stops at the failure
    assert r.exit_code == 1
    assert "FAIL invariant more_income_never_helps" in r.stdout
    assert "household:" in r.stdout and "after:" in r.stdout
    r = runner.invoke(app, ["test", str(folder), "--no-invariants"])
    assert r.exit_code == 0 and "0 passed, 0 failed" in r.stdout
