"""The public surface is what ``minzheng_rules/__init__.py`` lists: a change to it is a decision
made here, not an accident of an import."""

from __future__ import annotations

import types

import minzheng_rules

PUBLIC = {
    "Evaluation",
    "EvaluationError",
    "Household",
    "HouseholdError",
    "Member",
    "MinzhengError",
    "Pack",
    "PackError",
    "PackErrors",
    "PackNotFoundError",
    "ParameterNotInForceError",
    "ProgramOutcome",
    "Status",
    "available_packs",
    "evaluate",
    "load_household",
    "load_pack",
    "parse_household",
}


def test_the_public_names_are_the_listed_ones():
    assert set(minzheng_rules.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(minzheng_rules, name) is not None


def test_nothing_else_is_exported_by_accident():
    stray = {
        name
        for name, value in vars(minzheng_rules).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)  # subpackages, reached by their own path
        and name not in PUBLIC
        and name not in {"annotations", "dt", "Any"}  # the module's own imports
    }
    assert stray == set()


def test_every_public_name_says_what_it_is_for():
    for name in PUBLIC:
        doc = getattr(minzheng_rules, name).__doc__
        assert doc and doc.strip(), name
