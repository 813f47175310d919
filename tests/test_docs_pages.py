"""The explorer's page generator, without building the site: plain-language rules, provenance
marks, charts, and the tags / needs / assistance sections."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from minzheng_rules import load_pack
from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen import generate_pages, load_site_packs
from minzheng_rules.docsgen._plain import plain
from minzheng_rules.docsgen._svg import Series, Step, step_chart
from minzheng_rules.docsgen._values import series, value_on

from packs_for_tests import PACK, PARAMETERS, RELIEF, files

ON = dt.date(2024, 6, 1)
DERIVED = """
  edge.multiplier:
    label: {zh: 低边倍数, en: Edge multiple}
    unit: ratio
    type: number
    history:
      - since: 2020-01-01
        value: 1.5
        confidence: published
        source: {document: 测试文件}
  edge.line:
    label: {zh: 低边线, en: Edge line}
    unit: CNY/person/month
    type: money
    formula: p.dibao.standard * p.edge.multiplier
    confidence: published
    source: {document: 测试文件}
"""


@pytest.fixture
def pack(write_pack):
    return load_pack(write_pack(files(**{"parameters.yaml": PARAMETERS + DERIVED})))


@pytest.fixture
def relief_pack(write_pack):
    return load_pack(write_pack(files(**{"relief.yaml": RELIEF}), name="relief"))


def test_rules_read_in_plain_chinese_and_english(pack):
    zh = plain("per_head < p.dibao.standard and size >= 2", pack, "zh")
    en = plain("per_head < p.dibao.standard and size >= 2", pack, "en")
    assert zh == "(「人均收入」 < 「低保标准」) 且 (「登记人数」 ≥ 2)"
    assert en == "(*Income per head* < *Dibao standard*) and (*number of members listed* ≥ 2)"


def test_aggregations_choices_and_functions_are_worded(pack):
    text = "max(count(m for m in members if m.age >= 80 and m.self_care == 'none'), 0)"
    zh = plain(text, pack, "zh")
    assert zh.startswith(
        "较大值(满足 (「年龄」 ≥ 80) 且 (「生活自理能力」 = 无 (`none`)) 的成员人数"
    )
    en = plain(
        "1 if any(m.student in ('senior', 'vocational') for m in members) else 0", pack, "en"
    )
    assert "any of all members: *schooling* is one of senior secondary (`senior`)" in en
    assert en.endswith("otherwise 0")


def test_unknown_names_stay_visible_as_code(pack):
    assert plain("mystery_fact > 1", pack, "en") == "`mystery_fact` > 1"
    assert plain("not valid (", pack, "zh") == "`not valid (`"


def test_derived_value_carries_confidence_of_rule_and_inputs(pack):
    shown = value_on(pack, "edge.line", ON)
    assert shown is not None
    assert shown.value == Decimal("1500")  # 1000 × 1.5
    assert shown.confidences == {"published", "modelled"}  # the standard is modelled
    assert shown.modelled
    assert shown.since == dt.date(2024, 1, 1)
    steps = series(pack, "edge.line", ON)
    assert [(d, s.value) for d, s in steps] == [
        (dt.date(2020, 1, 1), Decimal("1350")),
        (dt.date(2024, 1, 1), Decimal("1500")),
    ]
    assert value_on(pack, "edge.line", dt.date(2019, 1, 1)) is None


def test_chart_is_valid_svg_with_dashed_modelled_steps():
    steps = (
        Step(dt.date(2020, 1, 1), Decimal(900), True, "modelled"),
        Step(dt.date(2023, 1, 1), Decimal(1100), False, "seed"),
    )
    svg = step_chart("低保 <test>", [Series("A 甲", steps), Series("B", steps[:1])], ON, "元")
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    groups = root.findall("s:g", ns)
    assert [g.get("data-series") for g in groups] == ["A 甲", "B"]
    first = groups[0].findall("s:line[@class='mz-step']", ns)
    assert [line.get("stroke-dasharray") for line in first] == ["6 4", None]
    assert root.find("s:title", ns).text == "低保 <test>"
    assert step_chart("empty", [Series("A", ())], ON, "元") == ""


def test_markdown_escaping_keeps_tables_and_html_intact():
    assert md.esc("a|b <script>*x*") == "a\\|b &lt;script&gt;\\*x\\*"
    assert md.code("x | y") == "`x | y`"
    assert md.code("a `b` c") == "``a `b` c``"
    assert md.number(Decimal("1145.00")) == "1145"
    assert md.number(Decimal("1E+3")) == "1000"


def test_pack_page_shows_history_sources_and_modelled_marks(pack):
    site = generate_pages([pack], ON)
    page = site.files["packs/testpack.md"]
    assert "### 低保标准 Dibao standard {#param-dibao-standard}" in page
    assert "| 2024-01-01 (assumed 推定) | **1000** |" in page  # history row, date not sourced
    assert md.badge("modelled") in page
    assert "How sure are these numbers?" in page and "are **modelled**" in page
    # the program's rule in both languages and as written
    assert "「人均收入」 < 「低保标准」" in page
    assert "`per_head < p.dibao.standard`" in page
    assert "## 六无六有 Tags {#tags}" in page
    assert page.count("Not defined in this pack.") == 3  # tags, needs, assistance
    assert site.nav["packs/index.md"] == [("测试 Test", "packs/testpack.md")]


def test_tags_needs_tree_and_assistance_render_when_present(relief_pack):
    site = generate_pages([relief_pack], ON)
    page = site.files["packs/testpack.md"]
    assert "**学无忧**<br>Schooling without worry<br>`xue_wu_you`" in page
    assert "2 categories 类 × 2 sub-items 项 × 3 labels 个标签" in page
    assert "**陪护服务**<br>Companion service" in page
    assert "Not defined in this pack." not in page
    tree = site.files["needs/testpack.md"]
    assert "## 1. 教育 Education {#need-education}" in tree
    assert "### 2.1 医疗 Medical {#need-health-medical}" in tree
    assert "assessed 入户评估" in tree
    assert site.nav["needs/index.md"] == [("测试 Test", "needs/testpack.md")]


def test_comparison_lists_every_city_with_current_values(write_pack):
    a = load_pack(write_pack(files(), name="a"))
    b_params = PARAMETERS.replace("value: 1000", "value: 1234")
    b_manifest = PACK.replace("id: testpack", "id: other").replace("测试", "另一")
    b = load_pack(write_pack(files(**{"pack.yaml": b_manifest, "parameters.yaml": b_params}), "b"))
    page = generate_pages([a, b], ON).files["compare.md"]
    row = next(line for line in page.splitlines() if "`dibao.standard`" in line)
    assert "<strong>1000</strong>" in row and "<strong>1234</strong>" in row
    assert row.index("<strong>1000</strong>") < row.index("<strong>1234</strong>")  # pack order
    assert row.count("since 20") == 2  # each value with the date it is in force since
    charts = page.count('<figure class="mz-chart" data-search-exclude>')
    assert charts == 2  # dibao.standard and bonus


def test_site_packs_from_a_folder_of_packs(write_pack, tmp_path):
    write_pack(files(), name="a")
    packs = load_site_packs([tmp_path])
    assert [p.id for p in packs] == ["testpack"]
    with pytest.raises(Exception, match="no pack folders"):
        load_site_packs([tmp_path / "a" / "cases"])


CASES = """
cases:
  - id: two-people-2024
    date: 2024-06-01
    computation: "2 members, income 300. Per head 150 < 1000. Gap 2 × 1000 − 300 = 1700."
    household:
      id: h2
      members:
        - {id: a, age: 45, monthly_income: 300}
        - {id: b, age: 17, monthly_income: 0}
    expect:
      dibao: {status: eligible, amount: "1700"}
  - id: wrong-on-purpose
    date: 2024-06-01
    computation: "A case whose expected amount is wrong, to show the mismatch."
    household:
      id: h3
      members:
        - {id: a, age: 45, monthly_income: 300}
    expect:
      dibao: {status: eligible, amount: "1"}
"""


def test_worked_examples_show_trace_sources_and_mismatches(write_pack, caplog):
    pack = load_pack(write_pack(files(**{"cases/golden.yaml": CASES})))
    site = generate_pages([pack], ON)
    index = site.files["examples/testpack.md"]
    assert "(testpack/two-people-2024.md)" in index  # each case a page of its own
    first = site.files["examples/testpack/two-people-2024.md"]
    assert first.startswith("# 测试：")  # titled in Chinese (city, household size, date, topic)
    assert "Per head 150 &lt; 1000" in first  # the hand computation
    # the household, its fields named as a reader knows them (and as the file spells them)
    assert (
        "| 编号 id (`id`) | 年龄 age (`age`) | 月收入 monthly income (`monthly_income`) |" in first
    )
    assert "| a | 45 | 300 |" in first
    assert "matches 一致" in first and "1700.00 元/月" in first
    assert '??? success "为什么 Why: 低保 Dibao"' in first  # the trace, collapsed
    assert "`per_head` = 150" in first  # a value the condition read
    assert "Parameters used and their sources" in first and "test value" in first
    assert "幸福清单 What this household receives" in first
    wrong = site.files["examples/testpack/wrong-on-purpose.md"]
    assert "differs 不一致" in wrong
    assert any("wrong-on-purpose" in r.getMessage() for r in caplog.records)  # fails --strict
    assert site.nav["examples/index.md"] == [("测试 Test", "examples/testpack.md")]


def test_command_line_reference_is_read_from_the_app():
    from minzheng_rules.cli.reference import cli_page

    page = cli_page()
    assert "## `minzheng eval` {#eval}" in page
    assert "minzheng eval [OPTIONS] FILE" in page
    assert "| `--pack`, `-p` (required) | Pack name or folder |" in page
    assert "## `minzheng docs build` {#docs-build}" in page
    assert "| `--format`, `-f` | table or json (one of: `table`, `json`) | table |" in page
    assert "(one of: `python`, `durable`) | python |" in page  # monitor --engine


def test_chart_legend_names_modelled_only_when_a_modelled_value_is_drawn():
    from decimal import Decimal

    from minzheng_rules.docsgen._svg import Series, Step, step_chart

    day = dt.date(2024, 1, 1)
    sourced = Series("A", (Step(day, Decimal(100), False, "A 2024-01-01: 100 (seed)"),))
    modelled = Series("B", (Step(day, Decimal(90), True, "B 2024-01-01: 90 (modelled)"),))
    assert "modelled 模型推定" not in step_chart("t", [sourced], day, "元")
    assert "modelled 模型推定" in step_chart("t", [sourced, modelled], day, "元")


def test_parameter_page_and_downloads_carry_values_with_their_dates(pack):
    import csv
    import io
    import json

    site = generate_pages([pack], ON)
    page = site.files["params/dibao.standard.md"]
    assert page.startswith("---\nsearch:\n  boost:")  # ranks above the long pack pages
    assert "<strong>1000</strong> 元/人·月<br><small>自 since 2024-01-01 " in page
    # the test pack gives no source for its start dates: each is marked assumed
    assert (
        '自 since 2024-01-01 <span title="no source gives this start date">(推定 assumed)' in page
    )
    assert "over 2 years old" not in page  # 2024-01-01 is within two years of 2024-06-01
    assert "| 2020-01-01 | **900** |" in page  # the history, each value with its date
    rows = list(csv.DictReader(io.StringIO(site.files["downloads/params/dibao.standard.csv"])))
    assert [(r["since"], r["value"], r["confidence"]) for r in rows] == [
        ("2020-01-01", "900", "modelled"),
        ("2024-01-01", "1000", "modelled"),
    ]
    compare = json.loads(site.files["downloads/compare.json"])
    dibao = next(r for r in compare if r["parameter"] == "dibao.standard")
    assert (dibao["value"], dibao["since"], dibao["stale"]) == ("1000", "2024-01-01", False)
    exported = json.loads(site.files["downloads/packs/testpack.json"])
    assert exported["parameters"]["dibao.standard"]["history"][1]["value"] == "1000"
    program = site.files["programs/dibao.md"]
    assert program.startswith("---\nsearch:\n  boost:")
    assert "别名 Also called: 低保 · 最低生活保障 · dibao" in program
    assert "1000 (自 since 2024-01-01)" in program  # the standard in force, with its date
    # the rule with its values filled in (read directly or through a variable)
    assert "[`p.dibao.standard`](../params/dibao.standard.md) = **1000**" in program
    # every history chart links the numbers it draws, a file the site carries
    pack_page = site.files["packs/testpack.md"]
    assert '<a href="../downloads/params/dibao.standard.csv">数据 CSV</a>' in pack_page
    assert "downloads/params/dibao.standard.csv" in site.files


def test_citations_name_seed_reports_and_hide_internal_file_names():
    from minzheng_rules.docsgen import _md as md
    from minzheng_rules.packs import _schema as S

    seed = S.Source(seed="003_78270e08e56120e4.txt", quote="提高至2022年的每人每月2642元")
    text = md.source_text(seed)
    assert "《镇江市民政系统：让民生发展更有“温度”》" in text and "今日镇江" in text
    assert text.index("今日镇江") < text.index("003_78270e08e56120e4.txt")  # title first
    modelled = S.Source(reasoning="as POLICY_NOTES.md says (Issue #3)")
    shown = md.source_text(modelled)
    assert "POLICY_NOTES" not in shown and "Issue #" not in shown
    assert "background notes" in shown


def test_what_changed_lists_dated_changes_with_their_effect(pack):
    page = generate_pages([pack], ON).files["changes.md"]
    row = next(line for line in page.splitlines() if line.startswith("| 2024-01-01 |"))
    assert "低保标准 900 → **1000**" in row
    # the effect over the synthetic register: the standard rose, so no one lost 低保
    assert "每月 monthly:" in row and "退出" not in row.split("|")[4]


def test_every_choice_of_every_fact_has_both_labels():
    """The plain-words rules show a choice in Chinese and English: a choice the household
    model gains without a label would read as its bare id in the Chinese pages."""
    from minzheng_rules.docsgen._plain import CHOICE_LABELS
    from minzheng_rules.model._columns import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS

    choices = {v for c in HOUSEHOLD_COLUMNS + MEMBER_COLUMNS if c.kind == "enum" for v in c.values}
    assert choices - set(CHOICE_LABELS) == set()
    for value in choices:
        zh, en = CHOICE_LABELS[value]
        assert zh != value and en, value  # a Chinese word, not the id again
