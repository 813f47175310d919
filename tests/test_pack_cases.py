"""Every shipped pack validates and passes its own golden cases."""

from functools import cache

import pytest

from minzheng_rules import load_pack as _load_pack
from minzheng_rules.model._household import parse_household
from minzheng_rules.packs._discovery import available_packs
from minzheng_rules.testing._cases import run_case

load_pack = cache(_load_pack)  # one load per pack for the whole module
PACKS = sorted(available_packs())
CASES = [(name, case.id) for name in PACKS for case in load_pack(name).cases]


@pytest.mark.parametrize("name", PACKS)
def test_pack_loads_and_its_case_households_are_valid(name):
    pack = load_pack(name)
    for case in pack.cases:
        parse_household(case.household, f"{name}:{case.id}")


@pytest.mark.parametrize(("name", "case_id"), CASES)
def test_golden_case(name, case_id):
    pack = load_pack(name)
    case = next(c for c in pack.cases if c.id == case_id)
    result = run_case(pack, case)
    assert result.ok, result.report()
