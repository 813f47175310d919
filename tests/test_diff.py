"""Reform impact (`minzheng diff` and reform_impact) over a small synthetic register."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from minzheng_rules.analysis._reform import (
    ProgramImpact,
    Scenario,
    read_register,
    reform_impact,
    write_register,
)
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.cli.main import app
from minzheng_rules.model._errors import HouseholdError
from minzheng_rules.model._household import Household, parse_household

BEFORE, AFTER = dt.date(2023, 6, 1), dt.date(2024, 6, 1)
YUAN = re.compile(r"^-?\d+\.\d\d$")
runner = CliRunner()


def synthetic(n: int, seed: int = 11) -> list[Household]:
    """A small register for tests: incomes per head spread across the 低保 and 低边 lines.
    (Deterministic; no real person's data.)"""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        size = rng.randint(1, 4)
        per_head = Decimal(rng.randint(60_000, 200_000)) / 100  # 600.00 .. 2000.00 元
        total = per_head * size
        members = []
        for j in range(size):
            share = (
                total
                if j == size - 1
                else (total * Decimal(rng.random())).quantize(Decimal("0.01"))
            )
            total -= share
            members.append(
                {
                    "id": f"m{j}",
                    "relation": "head" if j == 0 else rng.choice(["spouse", "child", "parent"]),
                    "age": rng.choice([8, 15, 30, 45, 58, 62, 75, 82, 91]),
                    "monthly_income": str(share),
                    "self_care": rng.choice(["full", "full", "partial", "none"]),
                    "employed": rng.random() < 0.5,
                    "has_capable_obligor": rng.random() < 0.7,
                    "major_illness": rng.random() < 0.05,
                }
            )
        members.sort(key=lambda m: m["relation"] != "head")
        out.append(
            parse_household(
                {
                    "id": f"h{i:04d}",
                    "members": members,
                    "assets": {"financial": rng.choice([0, 5000, 20000, 80000])},
                }
            )
        )
    return out


@pytest.fixture(scope="module")
def register_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("register") / "register.jsonl"
    assert write_register(synthetic(150), path) == 150
    return path


@pytest.fixture(scope="module")
def yearly(register_file, huzhou):
    """huzhou on 2023-06-01 against huzhou on 2024-06-01 (dibao 1105 → 1145)."""
    return reform_impact(
        read_register(register_file), Scenario.of(huzhou, BEFORE), Scenario.of(huzhou, AFTER)
    )


def direct_cost(pack, register_file, on, pid) -> tuple[int, Decimal]:
    """Eligible households and monthly amounts, counted straight from the evaluator."""
    n, total = 0, Decimal(0)
    for h in read_register(register_file):
        p = evaluate(pack, h, on).programs[pid]
        if p.eligible:
            n += 1
            total += p.amount
    return n, total


def test_a_higher_standard_adds_households_and_cost_and_removes_nobody(yearly, huzhou):
    dibao = yearly.programs["dibao"]
    assert dibao.gained > 0 and dibao.lost == 0
    assert dibao.eligible_after == dibao.eligible_before + dibao.gained - dibao.lost
    assert dibao.amount_after > dibao.amount_before
    changed = {p["name"]: (p["before"], p["after"]) for p in yearly.parameters}
    standard = [str(huzhou.parameter("dibao.standard", d).value) for d in (BEFORE, AFTER)]
    assert changed["dibao.standard"] == tuple(standard)


def test_counts_and_costs_match_the_evaluator(yearly, huzhou, register_file):
    costs = yearly.programs["dibao"].costs()
    for on, side in ((BEFORE, "before"), (AFTER, "after")):
        n, total = direct_cost(huzhou, register_file, on, "dibao")
        assert getattr(yearly.programs["dibao"], f"eligible_{side}") == n
        assert costs[f"monthly_cost_{side}"] == f"{total:.2f}"
        assert costs[f"yearly_cost_{side}"] == f"{total * 12:.2f}"
    assert yearly.households == 150


def test_examples_show_each_kind_of_change(yearly):
    dibao = yearly.programs["dibao"]
    assert 0 < len(dibao.examples["gained"]) <= 3
    for e in dibao.examples["gained"]:
        assert e.before != "eligible" and e.after == "eligible"
    for e in dibao.examples["increased"]:
        assert e.amount_after > e.amount_before


def test_overrides_give_the_same_kind_of_report(huzhou, register_file):
    impact = reform_impact(
        read_register(register_file),
        Scenario.of(huzhou, AFTER),
        Scenario.of(huzhou, AFTER, {"dibao.standard": "1300"}),
    )
    dibao = impact.programs["dibao"]
    assert dibao.gained > 0 and dibao.amount_after > dibao.amount_before
    # the higher standard also lifts tekun's income line: a member may move from dibao to
    # tekun (supported on her own, out of the dibao count), but nobody simply loses dibao
    assert impact.programs["tekun"].gained >= dibao.lost
    for e in dibao.examples["lost"]:
        assert e.note.startswith("better off in") and "tekun" in e.note
    changed = {p["name"]: (p["before"], p["after"]) for p in impact.parameters}
    assert changed["dibao.standard"][1] == "1300"
    assert impact.after.overrides == {"dibao.standard": "1300"}
    assert huzhou.parameter("dibao.standard", AFTER).value != 1300  # the loaded pack is unchanged


def test_cli_json_has_the_documented_shape(register_file, yearly):
    r = runner.invoke(
        app,
        [
            "diff",
            "--pack",
            "huzhou",
            "--from",
            str(BEFORE),
            "--to",
            str(AFTER),
            "--register",
            str(register_file),
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data == json.loads(json.dumps(yearly.to_dict(), ensure_ascii=False))
    dibao = data["programs"]["dibao"]
    for key in ("eligible_before", "eligible_after", "gained", "lost"):
        assert isinstance(dibao[key], int)
    for key in ("monthly_cost_before", "monthly_cost_after", "yearly_cost_change"):
        assert YUAN.match(dibao[key]), dibao[key]
    assert YUAN.match(data["total"]["monthly_cost_change"])


def test_cli_set_and_markdown(register_file):
    r = runner.invoke(
        app,
        [
            "diff",
            "-p",
            "huzhou",
            "--from",
            str(AFTER),
            "--set",
            "dibao.standard=1300",
            "--register",
            str(register_file),
            "--format",
            "markdown",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "| `dibao.standard` | 1145 | 1300 |" in r.stdout
    row = r"^\| dibao \| 最低生活保障 \| \d+ \| \d+ \| [1-9]\d* \| \d+( \(\d+ excl\.\))? \| \d+\.\d\d \|"
    assert re.search(row, r.stdout, re.M)


def test_cli_table(register_file):
    r = runner.invoke(
        app,
        [
            "diff",
            "-p",
            "huzhou",
            "--from",
            str(BEFORE),
            "--to",
            str(AFTER),
            "--register",
            str(register_file),
        ],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    assert "dibao.standard: 1105 → 1145" in r.stdout
    assert "dibao gained:" in r.stdout


def test_two_packs_on_one_date(register_file):
    r = runner.invoke(
        app,
        [
            "diff",
            "-p",
            "huzhou",
            "--pack-b",
            "yiwu",
            "--from",
            str(AFTER),
            "--register",
            str(register_file),
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["before"]["pack"] == "huzhou" and data["after"]["pack"] == "yiwu"
    for p in data["programs"].values():
        assert p["eligible_after"] - p["eligible_before"] == p["gained"] - p["lost"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "dibao.standard"], "name=value"),
        (["--set", "dibao.standrd=1"], "did you mean 'dibao.standard'"),
        (["--format", "xml"], "--format"),
        (["--from", "2010-01-01"], "no value in force"),
    ],
)
def test_cli_errors_exit_2_with_a_message(register_file, args, message):
    r = runner.invoke(app, ["diff", "-p", "huzhou", "--register", str(register_file), *args])
    assert r.exit_code == 2
    assert message in r.stderr


def test_a_bad_register_line_is_named(tmp_path):
    good = synthetic(1)[0].model_dump_json()
    path = tmp_path / "r.jsonl"
    path.write_text(f"{good}\n\n{{not json\n", encoding="utf-8")
    with pytest.raises(HouseholdError, match=r"r\.jsonl:3"):
        list(read_register(path))
    path.write_text(f'{good}\n{{"id": "x", "members": [{{"id": "a", "age": "old"}}]}}\n')
    r = runner.invoke(app, ["diff", "-p", "huzhou", "--register", str(path)])
    assert r.exit_code == 2 and "r.jsonl:2" in r.stderr and "members[a].age" in r.stderr


def test_costs_by_period():
    monthly = ProgramImpact("a", "甲", "A", "CNY/person/month", amount_before=Decimal("100"))
    assert monthly.costs()["yearly_cost_before"] == "1200.00"
    yearly = ProgramImpact("b", "乙", "B", "CNY/year", amount_before=Decimal("1200"))
    assert yearly.costs()["monthly_cost_before"] == "100.00"
    once = ProgramImpact("c", "丙", "C", "CNY", amount_after=Decimal("6000"))
    c = once.costs()
    assert c["monthly_cost_after"] is None and c["one_off_cost_change"] == "6000.00"
    hours = ProgramImpact("d", "丁", "D", "hours/month", amount_after=Decimal("8"))
    assert set(hours.costs().values()) == {None}


def test_a_columnar_register_from_synth_gives_the_same_report(tmp_path, huzhou):
    folder = tmp_path / "synth"
    r = runner.invoke(
        app, ["synth", "-n", "60", "-p", "huzhou", "-o", str(folder), "--date", str(AFTER)]
    )
    assert r.exit_code == 0, r.output
    households = list(read_register(folder))
    assert len(households) == 60
    jsonl = tmp_path / "same.jsonl"
    write_register(households, jsonl)
    scenarios = (Scenario.of(huzhou, BEFORE), Scenario.of(huzhou, AFTER))
    columnar = reform_impact(read_register(folder), *scenarios).to_dict()
    lines = reform_impact(read_register(jsonl), *scenarios).to_dict()
    assert columnar == lines and columnar["households"] == 60
