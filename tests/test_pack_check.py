"""The pack checker on its own (no Pack is built) and the typed dependency nodes."""

import pytest

from minzheng_rules.model._errors import PackErrors
from minzheng_rules.packs._check import check_definition
from minzheng_rules.packs._deps import DepKind, DepNode, names_of
from minzheng_rules.packs._loader import load_definition
from minzheng_rules.packs._pack import load_pack

from packs_for_tests import PACK, PROGRAMS, RELIEF, files


def test_nodes_print_and_sort_as_the_text_they_replace():
    """The cycle error prints nodes, and the graph is walked sorted: both as with 'prog:x'."""
    texts = [
        "var:a",
        "prog:dibao_edge",
        "param:dibao.standard",
        "prog:dibao",
        "tag:xue_wu_you",
        "need:n1",
        "item:tuition_fund",
        "param:dibao",
        "var:a_b",
        "var:a.b",
    ]
    make = {k.value: k for k in DepKind}
    nodes = [DepNode(make[t.split(":")[0]], t.split(":", 1)[1]) for t in texts]
    assert [str(n) for n in nodes] == texts
    assert [str(n) for n in sorted(nodes)] == sorted(texts)
    assert DepNode.program("dibao") == DepNode(DepKind.PROGRAM, "dibao")
    assert DepNode.program("dibao") != DepNode.variable("dibao")


def test_names_of_keeps_one_kind():
    nodes = {
        DepNode.parameter("bonus"),
        DepNode.variable("bonus"),
        DepNode.program("dibao"),
        DepNode.parameter("dibao.standard"),
    }
    assert names_of(nodes, DepKind.PARAMETER) == {"bonus", "dibao.standard"}
    assert names_of(nodes, DepKind.PROGRAM) == {"dibao"}
    assert names_of(nodes, DepKind.TAG) == set()


def test_the_checker_builds_the_graph_without_a_pack(write_pack):
    folder = write_pack(files(**{"relief.yaml": RELIEF}))
    checked = check_definition(load_definition(folder, collect=True))
    # read off packs_for_tests: dibao's condition reads per_head and p.dibao.standard, its
    # amount p.dibao.standard, size and income (a fact, not a node); per_head reads income
    assert checked.deps[DepNode.program("dibao")] == {
        DepNode.variable("per_head"),
        DepNode.parameter("dibao.standard"),
        DepNode.variable("income"),
    }
    assert checked.deps[DepNode.variable("per_head")] == {DepNode.variable("income")}
    assert checked.deps[DepNode.program("elder")] == {DepNode.parameter("bonus")}
    assert checked.deps[DepNode.tag("xue_wu_you")] == {DepNode.program("dibao")}
    assert checked.deps[DepNode.item("companion_service")] == set()
    assert DepNode.need("needs_companion") not in checked.deps  # assessed on a visit
    assert set(checked.programs) == {"dibao", "elder"}
    # the Pack made from the same definition takes the checker's graph as it is
    assert load_pack(folder).deps == checked.deps


def test_the_checker_collects_relief_and_program_errors_in_one_report(write_pack):
    """A tag's expression goes through the same checker as the programs', so one run lists
    both, in the order the pack is read (programs first, then tags)."""
    folder = write_pack(
        files(
            **{
                "pack.yaml": PACK,
                "programs.yaml": PROGRAMS.replace("per_head <", "per_haed <"),
                "relief.yaml": RELIEF.replace(
                    "expenses.medical_12m > 10000\n    confidence",
                    "expenses.medical_13m > 10000\n    confidence",
                ),
            }
        )
    )
    with pytest.raises(PackErrors) as info:
        check_definition(load_definition(folder, collect=True))
    found = [(e.name, e.message) for e in info.value.errors]
    assert [name for name, _ in found] == ["per_haed", "expenses.medical_13m"]
    assert found[0][1].startswith("in programs 'dibao': unknown name 'per_haed'")
    assert found[1][1].startswith("in tags 'bing_you_zhu': unknown name 'expenses.medical_13m'")
