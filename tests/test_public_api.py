"""The public surface is what ``minzheng_rules/__init__.py`` lists: a change to it is a decision
made here, not an accident of an import."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

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
        and name != "annotations"  # the module's own ``from __future__`` import
    }
    assert stray == set()


def test_every_public_name_says_what_it_is_for():
    for name in PUBLIC:
        doc = getattr(minzheng_rules, name).__doc__
        assert doc and doc.strip(), name


# Each package says what it offers in its ``__init__``; every other module is the implementation
# and is named with a leading underscore. The modules reached by path from outside Python (entry
# points, the mkdocs hook, ``python -m``) and the documented Hypothesis strategies are public too.
PUBLIC_MODULES = {
    "minzheng_rules.cli.main",  # the `minzheng` entry point
    "minzheng_rules.docsgen.hooks",  # mkdocs.yml's hook
    "minzheng_rules.docsgen.refpages",  # python -m: names the command below
    "minzheng_rules.cli.reference",  # python -m minzheng_rules.cli.reference (the reference pages)
    "minzheng_rules.spark",  # the batch backend on Spark
    "minzheng_rules.testing.pytest_plugin",  # the pytest11 entry point
    "minzheng_rules.testing.strategies",  # households for Hypothesis
}
PACKAGE_SURFACES = {
    "minzheng_rules.model": {"Household", "Evaluation", "Status", "PackError", "Unknown"},
    "minzheng_rules.expr": {"parse", "check", "to_source"},
    "minzheng_rules.packs": {"Pack", "BoundPlan", "load_pack", "available_packs"},
    "minzheng_rules.backends": {"Backend", "Answer"},
    "minzheng_rules.backends.reference": {"ReferenceEvaluator", "bind", "evaluate"},
    "minzheng_rules.backends.vectorized": {"VectorizedPack"},
    "minzheng_rules.io": {
        "Batch",
        "Summary",
        "open_register",
        "read_households",
        "write_register",
        "load_mapping",
    },
    "minzheng_rules.analysis": {"reform_impact", "Scenario", "Impact", "render_markdown"},
    "minzheng_rules.testing": {"run_cases", "check_invariants"},
    "minzheng_rules.synth": {"generate", "shape_of", "canonical_register", "event_stream"},
    "minzheng_rules.docsgen": {"generate_pages", "build_site"},
    "minzheng_rules.monitor": {
        "Monitor",
        "ShardedMonitor",
        "PackCannotEvaluate",
        "load_register",
        "read_events",
        "render",
    },
}


def _modules() -> list[str]:
    root = Path(minzheng_rules.__file__).parent
    return sorted(
        "minzheng_rules." + ".".join(p.relative_to(root).with_suffix("").parts)
        for p in root.rglob("*.py")
        if p.name != "__init__.py"
    )


def test_implementation_modules_are_private():
    public = [
        m
        for m in _modules()
        if not any(part.startswith("_") for part in m.split(".")[1:]) and m not in PUBLIC_MODULES
    ]
    assert public == [], "name them with a leading underscore, or list them in PUBLIC_MODULES"


@pytest.mark.parametrize("package", sorted(PACKAGE_SURFACES))
def test_each_package_lists_what_it_offers(package):
    module = importlib.import_module(package)
    listed = set(module.__all__)
    assert PACKAGE_SURFACES[package] <= listed
    for name in listed:
        value = getattr(module, name)  # lazily exported names resolve too
        if not callable(value):  # a constant (a tuple of choices): nothing to document on it
            continue
        assert (value.__doc__ or "").strip(), f"{package}.{name} says nothing of what it is for"
        assert value.__module__.startswith(package), f"{package}.{name} comes from elsewhere"
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


@pytest.mark.parametrize("package", sorted(PACKAGE_SURFACES))
def test_dir_and_help_show_what_a_package_offers(package):
    """A lazily exported name is not in the module's namespace until first used; ``dir()`` (and
    so ``help()`` and tab completion) must list it anyway. A fresh interpreter, so no earlier
    test has already resolved the names."""
    code = (
        f"import importlib; m = importlib.import_module({package!r}); "
        "missing = set(m.__all__) - set(dir(m)); assert not missing, sorted(missing)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
