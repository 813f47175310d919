"""Tags, the needs taxonomy and matching needs to assistance (一户一策)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minzheng_rules import HouseholdError, PackErrors, evaluate, load_pack

from packs_for_tests import PACK, RELIEF, files

ON = dt.date(2024, 6, 1)


@pytest.fixture
def pack(write_pack):
    manifest = (
        PACK + "  declares: {needs_categories: 2, needs_subitems: 2, needs_labels: 3, tags: 2}\n"
    )
    return load_pack(write_pack(files(**{"pack.yaml": manifest, "relief.yaml": RELIEF})))


def household(**extra):
    return {
        "id": "h",
        "members": [
            {"id": "a", "age": 45, "monthly_income": 300},
            {"id": "b", "age": 17, "monthly_income": 0, "student": "senior"},
        ],
        **extra,
    }


def test_dibao_household_with_senior_student_gets_tag_need_and_items(pack):
    r = evaluate(pack, household(), on=ON)
    assert r.programs["dibao"].eligible
    assert r.tags == ["xue_wu_you"]
    assert r.needs == ["senior_student_in_dibao"]
    items = {(a["need"], a["item"]) for a in r.assistance}
    assert items == {
        ("senior_student_in_dibao", "dibao_cash"),
        ("senior_student_in_dibao", "tuition_fund"),
    }
    cash = next(a for a in r.assistance if a["item"] == "dibao_cash")
    assert cash["amount"] == r.programs["dibao"].to_dict()["amount"]


def test_without_dibao_no_tag_and_no_program_item(pack):
    rich = household()
    rich["members"][0]["monthly_income"] = 9000
    r = evaluate(pack, rich, on=ON)
    assert r.tags == [] and r.needs == [] and r.assistance == []


def test_medical_costs_and_assessed_needs_are_kept_and_matched(pack):
    r = evaluate(
        pack, household(expenses={"medical_12m": 20000}, assessed_needs=["needs_companion"]), on=ON
    )
    assert "bing_you_zhu" in r.tags
    assert r.needs == ["senior_student_in_dibao", "high_medical_costs", "needs_companion"]
    service = [a for a in r.assistance if a["item"] == "companion_service"]
    assert {a["need"] for a in service} == {"high_medical_costs", "needs_companion"}


def test_unknown_assessed_need_is_an_error_with_suggestion(pack):
    with pytest.raises(HouseholdError) as info:
        evaluate(pack, household(assessed_needs=["needs_companon"]), on=ON)
    assert info.value.problems[0][0] == "assessed_needs[0]"
    assert "needs_companion" in info.value.problems[0][1]


def test_declared_shape_mismatch_names_counts(write_pack):
    manifest = PACK + "  declares: {needs_labels: 4, tags: 2}\n"
    with pytest.raises(PackErrors) as info:
        load_pack(write_pack(files(**{"pack.yaml": manifest, "relief.yaml": RELIEF})))
    text = str(info.value)
    assert "declares 4 needs_labels but defines 3" in text
    assert "education: 1, health: 2" in text


def test_items_must_answer_known_labels(write_pack):
    broken = RELIEF.replace(
        "answers: [senior_student_in_dibao]\n  tuition",
        "answers: [senior_studnt_in_dibao]\n  tuition",
    )
    with pytest.raises(PackErrors) as info:
        load_pack(write_pack(files(**{"relief.yaml": broken})))
    assert "did you mean 'senior_student_in_dibao'" in str(info.value)


@given(st.permutations([0, 1, 2]), st.permutations(["needs_companion", "high_medical_costs"]))
def test_order_of_members_and_assessed_needs_does_not_matter(pack_order, assessed):
    pack = _PACK_CACHE["pack"]
    members = [
        {"id": "a", "age": 45, "monthly_income": 300},
        {"id": "b", "age": 17, "monthly_income": 0, "student": "senior"},
        {"id": "c", "age": 70, "monthly_income": 100},
    ]
    base = evaluate(
        pack,
        {
            "id": "h",
            "members": members,
            "assessed_needs": ["high_medical_costs", "needs_companion"],
        },
        on=ON,
    )
    shuffled = evaluate(
        pack,
        {"id": "h", "members": [members[i] for i in pack_order], "assessed_needs": list(assessed)},
        on=ON,
    )
    assert shuffled.tags == base.tags and shuffled.needs == base.needs
    assert shuffled.assistance == base.assistance


_PACK_CACHE: dict = {}


@pytest.fixture(autouse=True)
def _cache_pack(request, write_pack):
    if "pack" not in _PACK_CACHE:
        manifest = (
            PACK
            + "  declares: {needs_categories: 2, needs_subitems: 2, needs_labels: 3, tags: 2}\n"
        )
        _PACK_CACHE["pack"] = load_pack(
            write_pack(files(**{"pack.yaml": manifest, "relief.yaml": RELIEF}), name="cached")
        )


def test_plan_markdown_and_html_list_programs_items_tags_and_needs(pack):
    from minzheng_rules.analysis._plan import render_html, render_markdown

    ev = evaluate(pack, household(expenses={"medical_12m": 20000}), on=ON)
    md = render_markdown(pack, ev)
    assert "# 幸福清单" in md
    assert "| 低保<br>Dibao | `dibao` |" in md
    assert "学无忧" in md and "`tuition_fund`" in md and "`high_medical_costs`" in md
    assert "[modelled]" in md  # the test pack's dibao rule is modelled, and says so
    page = render_html(pack, ev)
    assert page.startswith("<!doctype html>") and "<code>xue_wu_you</code>" in page
    assert 'class="modelled"' in page


def test_plan_command(pack, tmp_path):
    import yaml
    from typer.testing import CliRunner

    from minzheng_rules.cli.main import app

    hh = tmp_path / "h.yaml"
    hh.write_text(yaml.safe_dump(household()))
    r = CliRunner().invoke(
        app,
        [
            "plan",
            str(hh),
            "--pack",
            str(pack.folder),
            "--date",
            "2024-06-01",
            "--format",
            "html",
            "--out",
            str(tmp_path / "p.html"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "学无忧" in (tmp_path / "p.html").read_text()
    r = CliRunner().invoke(app, ["show", str(pack.folder)])
    assert "2 categories, 2 sub-items, 3 labels; 2 tags; 3 assistance items" in r.stdout


def test_huzhou_relief_model_shape_and_case_coverage():
    """`minzheng show huzhou` shape, and every tag and derived label is set by some golden case
    and left unset by another."""
    from minzheng_rules.testing._cases import run_case

    huzhou = load_pack("huzhou")
    assert huzhou.relief.shape(huzhou.definition) == {
        "needs_categories": 8,
        "needs_subitems": 40,
        "needs_labels": 131,
        "tags": 12,
    }
    derived = {lid for lid, le in huzhou.relief.labels.items() if le.expr is not None}
    set_by, unset_by = {"tags": set(), "needs": set()}, {"tags": set(), "needs": set()}
    for case in huzhou.cases:
        result = run_case(huzhou, case)
        assert result.ok, result.report()
        for kind in ("tags", "needs"):
            want = getattr(case, kind)
            if want is None:
                continue
            set_by[kind] |= set(want.has)
            unset_by[kind] |= set(want.lacks)
            if want.exact:
                universe = set(huzhou.relief.tags) if kind == "tags" else derived
                unset_by[kind] |= universe - set(want.has)
    assert set(huzhou.relief.tags) <= set_by["tags"] and set(huzhou.relief.tags) <= unset_by["tags"]
    assert derived <= set_by["needs"], sorted(derived - set_by["needs"])
    assert derived <= unset_by["needs"], sorted(derived - unset_by["needs"])


def test_a_pack_declaring_131_labels_with_130_fails_naming_the_mismatch(tmp_path):
    import shutil

    from minzheng_rules.packs._discovery import builtin_packs_dir

    copy = tmp_path / "huzhou_copy"
    shutil.copytree(builtin_packs_dir() / "huzhou", copy)
    (copy / "pack.yaml").write_text(
        (copy / "pack.yaml")
        .read_text()
        .replace("extends: zhejiang", "extends: zhejiang")
        .replace("id: huzhou", "id: huzhou_copy")
    )
    text = (copy / "needs.yaml").read_text()
    start = text.index("      - id: seasonal_supplies")
    end = text.index("      - id:", start + 10)
    (copy / "needs.yaml").write_text(text[:start] + text[end:])
    with pytest.raises(PackErrors) as info:
        load_pack(copy)
    assert "declares 131 needs_labels but defines 130" in str(info.value)
    assert "basic_living: 16" in str(info.value)  # one of its 17 labels removed
    assert "answers unknown need label 'seasonal_supplies'" in str(info.value)
