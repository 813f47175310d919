"""What a monitor record shows about a program that changed, read from the vectorized plan's
columns (:meth:`Judgement.change`), is exactly what the reference evaluator's outcome shows
(``records.program_change``: status, conditions up to the first that failed, amount), or None
(the reference is asked): on generated households for every shipped pack, and on synthetic
registers, where the plan tells most of them."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_vectorized_constructs as C
from minzheng_rules import available_packs, load_pack
from minzheng_rules.backends.reference import bind, evaluate
from minzheng_rules.model._convert import frames_to_dicts
from minzheng_rules.model._errors import EvaluationError, HouseholdError
from minzheng_rules.model._household import parse_household
from minzheng_rules.monitor._records import program_change
from minzheng_rules.monitor._vectorized import Vectorized
from minzheng_rules.synth._registers import generate
from minzheng_rules.testing.strategies import evaluable_dates, households

from packs_for_tests import PROGRAMS, files

PACKS = [n for n in sorted(available_packs()) if evaluable_dates(load_pack(n))]


@cache
def pack(name: str):
    return load_pack(name)


def shows(p: Any, on: dt.date, hs: list) -> Counter[tuple[str, bool]]:
    """Checks every program of every household; counts (reference status, told by the plan)."""
    hs = [h.model_copy(update={"id": f"h{i}"}) for i, h in enumerate(hs)]
    judgement = Vectorized(p).judge(("test", on), [(h, on) for h in hs])
    bound = bind(p, on)
    told: Counter[tuple[str, bool]] = Counter()
    for row, h in enumerate(hs):
        try:
            ev = bound.evaluate(h)
        except (EvaluationError, HouseholdError):
            assert judgement.sets[row] is None
            continue
        for pid, outcome in ev.programs.items():
            entry = judgement.change(row, pid)
            if entry is not None:  # the same JSON: keys in the same order, the same values
                want = program_change(ev.programs, pid)
                assert json.dumps(entry.to_json(), ensure_ascii=False) == json.dumps(
                    want.to_json(), ensure_ascii=False
                ), f"{p.id} {on} {pid} household {row}\n{h}"
            told[outcome.status.value, entry is not None] += 1
    return told


@pytest.mark.parametrize("name", PACKS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_generated_households_show_what_the_reference_shows(name, data):
    on = data.draw(st.sampled_from(evaluable_dates(pack(name))), label="date")
    known = data.draw(st.booleans(), label="known")
    hs = data.draw(
        st.lists(households(pack(name), on, known=known, max_members=7), min_size=1, max_size=10)
    )
    told = shows(pack(name), on, hs)
    assert not told["undetermined", True]  # only the reference knows what is missing


@pytest.mark.parametrize("name", PACKS)
def test_the_plan_tells_most_changes_on_a_synthetic_register(name):
    on = evaluable_dates(pack(name))[0]
    h, m = next(generate(pack(name), on, 3_000, seed=5, chunk=3_000))
    hs = [parse_household(d) for d in frames_to_dicts(h, m, list(range(h.height)))]
    told = shows(pack(name), on, hs)
    for status in ("eligible", "ineligible"):
        total = told[status, True] + told[status, False]
        assert told[status, True] >= 0.8 * total > 0, (status, told)


def _write(folder: Path, texts: dict[str, str]) -> Any:
    folder.mkdir()
    for name, text in files(**texts).items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return load_pack(folder)


@pytest.fixture(scope="module")
def constructs(tmp_path_factory):
    """Exclusions per member and per household, programs reading programs, and rows flagged
    for the reference (see tests/test_vectorized_constructs.py)."""
    texts = {"variables.yaml": C.VARIABLES, "programs.yaml": C.PROGRAMS, "tables.yaml": C.TABLES}
    return _write(tmp_path_factory.mktemp("packs") / "constructs", texts)


def _household(hid: str, *members: dict) -> Any:
    return parse_household({"id": hid, "members": list(members)})


def test_a_member_program_excluded_by_a_household_program(tmp_path):
    """The reference lists the exclusion in the member program's outcome: the plan leaves it."""
    pack = _write(
        tmp_path / "excluding",
        {
            "programs.yaml": PROGRAMS
            + textwrap.dedent(
                """\
                exclusions:
                  - id: dibao_before_elder
                    label: {zh: 低保优先, en: Dibao first}
                    programs: [dibao, elder]
                    keep: first
                    citations:
                      - confidence: modelled
                        source: {reasoning: test}
                """
            )
        },
    )
    on = dt.date(2024, 6, 1)
    elder_on_dibao = _household("e", {"id": "a", "age": 85, "monthly_income": 0})
    assert [r.id for r in evaluate(pack, elder_on_dibao, on).programs["elder"].reasons] == [
        "excluded_by_dibao"
    ]
    judgement = Vectorized(pack).judge(("test", on), [(elder_on_dibao, on)])
    assert judgement.change(0, "elder") is None
    assert judgement.change(0, "dibao") is not None
    shows(pack, on, [elder_on_dibao])


def test_a_row_the_reference_answered(constructs):
    rounding_artefact = _household(  # flagged: the reference answers it (see the constructs)
        "r", {"id": "a", "age": 40, "monthly_income": "1000", "employed": True}
    )
    judgement = Vectorized(constructs).judge(("test", C.ON), [(rounding_artefact, C.ON)])
    assert judgement.change(0, "topup") is not None  # eligible: every condition passed
    told = shows(constructs, C.ON, [rounding_artefact])
    assert told["ineligible", False] > 0  # its conditions are the reference's alone


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_generated_households_on_the_constructs(constructs, data):
    known = data.draw(st.booleans(), label="known")
    hs = data.draw(
        st.lists(
            households(thresholds=C.SMALL, known=known, max_members=6), min_size=1, max_size=10
        )
    )
    shows(constructs, C.ON, hs)


def test_a_zero_amount_keeps_the_references_sign(tmp_path):
    """A tiny negative amount is -0.00 at the fen in the reference; the plan's integer is 0."""
    pack = _write(
        tmp_path / "signed",
        {
            "programs.yaml": """
programs:
  topup:
    label: {zh: 补差, en: Top-up}
    conditions:
      - id: low
        label: {zh: 收入低, en: Low income}
        when: income <= 1000
    amount: (income - 1000) * 0.4
    citations:
      - confidence: modelled
        source: {reasoning: test}
"""
        },
    )
    on = dt.date(2024, 6, 1)
    hs = [
        _household(f"h{x}", {"id": "a", "age": 40, "monthly_income": x}) for x in ("999.99", "900")
    ]
    assert program_change(evaluate(pack, hs[0], on).programs, "topup").amount == "-0.00"
    judgement = Vectorized(pack).judge(("test", on), [(h, on) for h in hs])
    assert judgement.change(0, "topup") is None
    assert judgement.change(1, "topup").amount == "-40.00"
    shows(pack, on, hs)
