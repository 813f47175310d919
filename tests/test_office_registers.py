"""Registers as a 民政 office's Excel/WPS and CSV exports really look, where ``minzheng batch``
gave a household a wrong answer with nothing in its rejects: a member row whose 户编号 was left
blank under its household's first row ("as above"), and a money column whose header says 万元
or 分 read as 元. Each test failed before the fix it guards; the expected answers are computed
by hand (湖州, 2024-06-01: dibao line 1145 元 per person per month; household 1001 of three
members with 2000 元 of income is the README's, 3 × 1145 − 2000 = 1435.00)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from test_new_user import _batch, _csv_register, _rejects

_MAPPING = """\
households:
  sheet: 家庭
  columns: {{户编号: household_id, {assets}: assets_financial}}
members:
  sheet: 成员
  columns:
    户编号: household_id
    身份证号: member_id
    与户主关系: {{field: relation, values: {{户主: head, 配偶: spouse, 子女: child}}}}
    年龄: age
    {income}: monthly_income
"""
_MEMBERS_HEADER = ["户编号", "身份证号", "与户主关系", "年龄", "月收入"]


def _book(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A workbook as Excel saves one: an empty cell is not written at all."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    wb.close()
    return path


def _mapping(folder: Path, assets: str = "家庭金融资产", income: str = "月收入") -> Path:
    path = folder / "mapping.yaml"
    path.write_text(_MAPPING.format(assets=assets, income=income), encoding="utf-8")
    return path


def _answers(out: Path) -> list[tuple[str, str, str]]:
    results = pl.read_csv(out, infer_schema=False)
    return results.select("household_id", "dibao_status", "dibao_amount").rows()


_BLANK_UNDER = (
    "members: {sheet} row 2 (a member, under this household's rows) has no household_id: give "
    "it (a total or a note: delete it); the household is not evaluated without that member"
)


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_a_member_row_with_its_household_id_left_blank_refuses_the_household_above(tmp_path, form):
    """户编号 written on a household's first row alone, blank under it ("as above", not merged):
    the other members were refused as rows without a household and 1001 evaluated with its
    head alone (1145 − 1200 < 0: ineligible), nothing on its row. Now 1001 is refused, naming
    the row; 1002 is evaluated (70-year-old head, income 300: undetermined, its assets not
    given). A totals row with neither id (合计 under 姓名, left out) refuses no household."""
    members = [
        _MEMBERS_HEADER,
        ["1001", "a", "户主", 45, 1200],
        [None, "b", "配偶", 43, 800],
        [None, "c", "子女", 12, 0],
        ["1002", "d", "户主", 70, 300],
        [None, None, None, None, 2300],  # 合计 (its label in a column left out)
    ]
    households = [["户编号", "家庭金融资产"], ["1001", 5000], ["1002", None]]
    if form == "xlsx":
        register = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
        sheet = "名册.xlsx[成员]"
    else:

        def text(rows: list[list[object]]) -> str:
            return "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows)

        register = _csv_register(tmp_path / "reg", text(households), text(members))
        sheet = "members.csv"
    out = tmp_path / "o.csv"
    code, output = _batch(str(register), str(out), "--columns", str(_mapping(tmp_path)))
    assert code == 0, output
    assert "2 households read 读取 = 1 evaluated 已评估 + 1 rejected 拒绝" in output
    assert "3 member rows without a household" in output
    assert _answers(out) == [("1002", "undetermined", "0.00")]
    assert _rejects(out)["1001"] == [_BLANK_UNDER.format(sheet=sheet)]


def test_a_blank_household_id_in_a_shuffled_members_file_blames_no_household(tmp_path):
    """The same blank 户编号 in a members file that is not household by household (an export
    sorted by something else): the rows above it are another household's, 1002 here, whole.
    Only the blank row is refused; no household is blamed for it."""
    members = (
        "household_id,member_id,relation,age,monthly_income\n"
        "1001,a,head,45,1200\n1002,d,head,70,300\n,b,spouse,43,800\n1001,c,child,12,0\n"
    )
    folder = _csv_register(
        tmp_path / "reg", "household_id,assets_financial\n1001,5000\n1002,0\n", members
    )
    out = tmp_path / "o.csv"
    code, output = _batch(str(folder), str(out))
    assert code == 0, output
    assert "1 member rows without a household" in output
    assert "1002" not in _rejects(out)
    assert ("1002", "undetermined", "0.00") in _answers(out)


def test_one_row_per_person_with_the_household_id_on_its_first_row_alone(tmp_path):
    """每人一行 with 户编号 and 家庭金融资产 on the head's row alone: 1001 was evaluated
    on its head (ineligible); it is refused, and filled in, it is the README's 1435.00."""
    header = ["户编号", "家庭金融资产", "身份证号", "与户主关系", "年龄", "月收入"]
    rows = [
        ["1001", 5000, "a", "户主", 45, 1200],
        [None, None, "b", "配偶", 43, 800],
        [None, None, "c", "子女", 12, 0],
        ["1002", 0, "d", "户主", 70, 300],
    ]
    mapping = _mapping(tmp_path).read_text(encoding="utf-8").replace("sheet: 家庭", "sheet: 名册")
    (tmp_path / "one.yaml").write_text(mapping.replace("sheet: 成员", "sheet: 名册"), "utf-8")
    out = tmp_path / "o.csv"
    book = _book(tmp_path / "名册.xlsx", {"名册": [header, *rows]})
    code, output = _batch(str(book), str(out), "--columns", str(tmp_path / "one.yaml"))
    assert code == 0, output
    assert [hid for hid, *_ in _answers(out)] == ["1002"]
    assert _rejects(out)["1001"] == [_BLANK_UNDER.format(sheet="名册.xlsx[名册]")]
    for row in rows[1:3]:
        row[0], row[1] = "1001", 5000
    book = _book(tmp_path / "filled.xlsx", {"名册": [header, *rows]})
    code, output = _batch(str(book), str(out), "--columns", str(tmp_path / "one.yaml"))
    assert code == 0, output
    assert _answers(out) == [("1001", "eligible", "1435.00"), ("1002", "undetermined", "0.00")]


@pytest.mark.parametrize(
    ("assets", "income", "said"),
    [
        (
            "家庭金融资产（万元）",
            "月收入",
            "households.columns.家庭金融资产（万元）: the header says 万元, but the column is "
            "read in 元: give the amounts in 元 (× 10000) in a column of 元 and map that one",
        ),
        (
            "家庭金融资产",
            "月收入(分)",
            "members.columns.月收入(分): the header says 分, but the column is read in 元: map it "
            "with unit: fen (月收入(分): {field: monthly_income, unit: fen})",
        ),
    ],
    ids=["wan", "fen"],
)
def test_a_money_column_whose_header_names_another_unit_is_refused(tmp_path, assets, income, said):
    """家庭金融资产（万元） holding 10 (100,000 元, far above the asset limit of 湖州's 1145 ×
    its months per person) was read as 10 元, within it; a 月收入(分) column read as 元 is 100
    times each income. The header says which unit the office means: a mapping reading the
    column in another is refused in one line naming it, before any household is evaluated."""
    households = [["户编号", assets], ["1001", 10]]
    members = [[*_MEMBERS_HEADER[:4], income], ["1001", "a", "户主", 45, 120000]]
    book = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
    mapping = _mapping(tmp_path, assets, income)
    code, output = _batch(str(book), str(tmp_path / "o.csv"), "--columns", str(mapping))
    assert code == 2
    assert output.strip() == f"error: {mapping}: {said}"
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("income", "expenses", "said"),
    [
        (
            "年收入",
            "近12个月医疗支出",
            "members.columns.年收入: the header says a year's amount (年), and "
            "'monthly_income' is a month's: give a month's income (the year's ÷ 12) in a "
            "column of its own and map that one",
        ),
        (
            "月收入",
            "月均医疗支出",
            "households.columns.月均医疗支出: the header says a month's amount (月), and "
            "'expenses_medical_12m' is the last twelve months' total: give that total in a "
            "column of its own and map that one",
        ),
    ],
    ids=["year-as-month", "month-as-year"],
)
def test_a_column_whose_header_names_another_period_is_refused(tmp_path, income, expenses, said):
    """年收入 24,000 mapped to monthly_income was read as 24,000 a month (1001 ineligible;
    by hand 2,000 a month, the README's 1435.00); a month's medical expenses mapped to the
    last twelve months' total is a twelfth of it. One line naming the mapping and column.
    2024年6月收入 (a month's) and 近12个月医疗支出 (twelve months') are read."""
    households = [["户编号", "家庭金融资产", expenses], ["1001", 5000, 0]]
    members = [[*_MEMBERS_HEADER[:4], income]] + [
        [*row[:4], row[4] * (12 if income == "年收入" else 1)] for row in _members_1001()
    ]
    book = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
    mapping = _mapping(tmp_path, assets=f"{expenses}: expenses_medical_12m, 家庭金融资产")
    text = mapping.read_text(encoding="utf-8").replace(
        "月收入: monthly_income", f"{income}: monthly_income"
    )
    mapping.write_text(text, encoding="utf-8")
    code, output = _batch(str(book), str(tmp_path / "o.csv"), "--columns", str(mapping))
    assert code == 2
    assert output.strip() == f"error: {mapping}: {said}"


def test_headers_that_name_a_month_in_a_year_are_read(tmp_path):
    """2024年6月收入 is a month's income; 近12个月医疗支出 twelve months' expenses: read,
    the README's household, 1435.00."""
    households = [["户编号", "家庭金融资产", "近12个月医疗支出"], ["1001", 5000, 0]]
    members = [[*_MEMBERS_HEADER[:4], "2024年6月收入"], *_members_1001()]
    book = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
    assets = "近12个月医疗支出: expenses_medical_12m, 家庭金融资产"
    mapping = _mapping(tmp_path, assets=assets, income="2024年6月收入")
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(mapping))
    assert code == 0, output
    assert _answers(out) == [("1001", "eligible", "1435.00")]


def test_a_header_in_the_unit_it_is_read_in_is_read(tmp_path):
    """月收入（元） read in 元 and 月收入(分) mapped with ``unit: fen`` agree with their headers:
    the README's household, 1435.00 either way."""
    households = [["户编号", "家庭金融资产（元）"], ["1001", 5000]]
    incomes = [1200, 800, 0]
    for income, unit, scale in [("月收入（元）", "", 1), ("月收入(分)", ", unit: fen", 100)]:
        members = [[*_MEMBERS_HEADER[:4], income]] + [
            ["1001", m, r, a, i * scale]
            for m, r, a, i in zip(
                "abc", ["户主", "配偶", "子女"], [45, 43, 12], incomes, strict=True
            )
        ]
        book = _book(tmp_path / f"{scale}.xlsx", {"家庭": households, "成员": members})
        mapping = _mapping(tmp_path, "家庭金融资产（元）", f"{income}")
        text = mapping.read_text(encoding="utf-8").replace(
            f"{income}: monthly_income", f"{income}: {{field: monthly_income{unit}}}"
        )
        mapping.write_text(text, encoding="utf-8")
        out = tmp_path / f"{scale}.csv"
        code, output = _batch(str(book), str(out), "--columns", str(mapping))
        assert code == 0, output
        assert _answers(out) == [("1001", "eligible", "1435.00")]


def test_birth_dates_as_an_office_sheet_holds_them(tmp_path):
    """出生日期 typed as text in most rows and as date cells in others (Excel turns a typed
    1944-3-1 into a date): a date cell among text reads as ``1944-03-01 00:00:00`` and its
    row was refused; it is its date. ``45-3-1`` (a two-digit year) was the year 45, a
    member of 1,979 paid the longevity allowance of the 100-year-olds (300.00 a month), with
    nothing on its row; it is refused like ``45/3/1``. By hand on 2024-06-01: born 1944-03-01 is 80 (高龄津贴 from 80: eligible),
    born 1945-03-01 is 79 (ineligible)."""
    import datetime as dt

    import xlsxwriter

    book = tmp_path / "名册.xlsx"
    wb = xlsxwriter.Workbook(book)
    wb.add_worksheet("家庭").write_column(0, 0, ["户编号", "h1", "h2", "h3", "h4"])
    ws = wb.add_worksheet("成员")
    ws.write_row(0, 0, ["户编号", "身份证号", "出生日期"])
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, (hid, born) in enumerate(
        [("h1", "45-3-1"), ("h2", "1944-3-1"), ("h3", dt.date(1944, 3, 1))], start=1
    ):
        ws.write_row(r, 0, [hid, f"m{r}"])
        if isinstance(born, str):
            ws.write_string(r, 2, born)
        else:
            ws.write_datetime(r, 2, dt.datetime(born.year, born.month, born.day), date)
    ws.write_row(4, 0, ["h4", "m4"])
    ws.write_datetime(4, 2, dt.datetime(1945, 3, 1), date)
    wb.close()
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "households:\n  sheet: 家庭\n  columns: {户编号: household_id}\nmembers:\n  sheet: 成员\n"
        "  columns: {户编号: household_id, 身份证号: member_id, 出生日期: birth_date}\n",
        encoding="utf-8",
    )
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(mapping))
    assert code == 0, output
    assert "4 households read 读取 = 3 evaluated 已评估 + 1 rejected 拒绝" in output
    results = pl.read_csv(out, infer_schema=False)
    assert results.select("household_id", "longevity_allowance_status").rows() == [
        ("h2", "eligible"),
        ("h3", "eligible"),
        ("h4", "ineligible"),
    ]
    assert _rejects(out)["h1"] == [
        "members[m1].birth_date: Input should be a valid date (YYYY-MM-DD) (got '45-3-1')"
    ]


def test_a_household_id_typed_in_full_width_refuses_its_household(tmp_path):
    """户编号 １００１ typed in an input method's full-width mode on two member rows: they were
    refused as rows without a household and 1001 evaluated on its head alone (ineligible),
    nothing on its row; now 1001 is refused, naming the row, as for '1001 '."""
    members = [
        _MEMBERS_HEADER,
        ["1001", "a", "户主", 45, 1200],
        ["１００１", "b", "配偶", 43, 800],
        ["１００１", "c", "子女", 12, 0],
        ["1002", "d", "户主", 70, 300],
    ]
    households = [["户编号", "家庭金融资产"], ["1001", 5000], ["1002", None]]
    book = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(_mapping(tmp_path)))
    assert code == 0, output
    assert "2 households read 读取 = 1 evaluated 已评估 + 1 rejected 拒绝" in output
    assert _answers(out) == [("1002", "undetermined", "0.00")]
    assert _rejects(out)["1001"] == [
        "members: 名册.xlsx[成员] row 3 has household_id '１００１', which differs from this "
        "household's only by full-width characters (１００１ for 1001), spaces or letter case: "
        "fix that id (the household is not evaluated without that member)"
    ]


def test_a_household_id_whose_leading_zeros_a_number_cell_dropped(tmp_path):
    """户编号 001001 as text on the head's row, typed as numbers (1001, leading zeros gone) on
    the others: 001001 was evaluated on its head alone (ineligible), nothing on its row; now
    it is refused with the fix."""
    members = [
        _MEMBERS_HEADER,
        ["001001", "a", "户主", 45, 1200],
        [1001, "b", "配偶", 43, 800],
        [1001, "c", "子女", 12, 0],
        ["001002", "d", "户主", 70, 300],
    ]
    households = [["户编号", "家庭金融资产"], ["001001", 5000], ["001002", None]]
    book = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(_mapping(tmp_path)))
    assert code == 0, output
    assert "2 households read 读取 = 1 evaluated 已评估 + 1 rejected 拒绝" in output
    assert _answers(out) == [("001002", "undetermined", "0.00")]
    assert _rejects(out)["001001"] == [
        "members: 名册.xlsx[成员] row 3 has household_id '1001', which differs from this "
        "household's only by leading zeros (a spreadsheet drops them from a number: format the "
        "column as text (文本)): fix that id (the household is not evaluated without that member)"
    ]


def test_headers_as_typed_in_a_sheet_match_the_mapping(tmp_path):
    """A header cell with a line break (月收入⏎（元）, full-width brackets) where the mapping
    says 月收入(元), or a space after 家庭金融资产: the column was left out with a warning
    and every income unknown (1001 undetermined, not the README's 1435.00). Now it is the
    mapped column. In a sheet of one row per person, that column is still one of the
    household's own: 1001's rows disagreeing on it (5000, 6000) refuse 1001 as given twice."""
    members = [[*_MEMBERS_HEADER[:4], "月收入\n（元）"], *_members_1001()]
    households = [["户编号", "家庭金融资产 "], ["1001", 5000]]
    book = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
    mapping = _mapping(tmp_path, income="月收入(元)")
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(mapping))
    assert code == 0, output
    assert "not used" not in output
    assert _answers(out) == [("1001", "eligible", "1435.00")]

    header = ["户编号", "家庭金融资产 ", "身份证号", "与户主关系", "年龄", "月收入"]
    rows = [
        ["1001", 5000, "a", "户主", 45, 1200],
        ["1001", 6000, "b", "配偶", 43, 800],
        ["1002", 0, "d", "户主", 70, 300],
    ]
    book = _book(tmp_path / "每人一行.xlsx", {"名册": [header, *rows]})
    text = _mapping(tmp_path).read_text(encoding="utf-8")
    mapping.write_text(text.replace("sheet: 家庭", "sheet: 名册").replace("成员", "名册"), "utf-8")
    code, output = _batch(str(book), str(out), "--columns", str(mapping))
    assert code == 0, output
    assert _answers(out) == [("1002", "undetermined", "0.00")]
    assert "1001" in _rejects(out)


@pytest.mark.parametrize(
    ("again", "form"),
    [
        ("33050320120101003X", "xlsx"),
        ("33050320120101003x ", "csv"),
        ("330503198101010022", "csv"),
    ],
    ids=["x-for-X", "space-after", "another-person"],
)
def test_a_person_typed_twice_with_another_case_or_a_space_is_given_twice(tmp_path, again, form):
    """The spouse's row pasted again with its 身份证号 retyped (X for x, a space after it):
    1001 was evaluated with four members, 4 × 1145 − (1200 + 800 + 800) = 1780.00 instead of
    the README's 1435.00, nothing on its row. Now the id is given twice and 1001 refused. A
    fourth member with an id of its own is one: 1780.00 by hand."""
    rows = [
        ["1001", "330503197901010011", "户主", 45, 1200],
        ["1001", "33050320120101003x", "配偶", 43, 800],
        ["1001", "330503201201010045", "子女", 12, 0],
        ["1001", again, "配偶", 43, 800],
    ]
    households = [["户编号", "家庭金融资产"], ["1001", 5000]]
    members = [_MEMBERS_HEADER, *rows]
    if form == "xlsx":
        register = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
    else:

        def text(rows: list[list[object]]) -> str:
            return "".join(",".join(str(v) for v in r) + "\n" for r in rows)

        register = _csv_register(tmp_path / "reg", text(households), text(members))
    out = tmp_path / "o.csv"
    code, output = _batch(str(register), str(out), "--columns", str(_mapping(tmp_path)))
    assert code == 0, output
    if again == "330503198101010022":
        assert _answers(out) == [("1001", "eligible", "1780.00")]
        return
    assert _answers(out) == []
    assert _rejects(out) == {"1001": [f"members: member id '{again}' appears twice"]}


def test_a_member_amount_merged_over_several_members_refuses_the_household(tmp_path):
    """月收入 800 in one cell merged over the spouse's and the child's rows: filled into both
    (as 户编号 is), 1001 was 3 × 1145 − (1200 + 800 + 800) = 635.00 with nothing on its row,
    and 1435.00 if the office meant 800 together. Which it means is for it to say: 1001 is
    refused, naming the column; 1002 (its 户编号 and 家庭金融资产 not merged) is evaluated."""
    import xlsxwriter

    book = tmp_path / "名册.xlsx"
    wb = xlsxwriter.Workbook(book)
    households = wb.add_worksheet("家庭")
    for r, row in enumerate([["户编号", "家庭金融资产"], ["1001", 5000], ["1002", 0]]):
        households.write_row(r, 0, row)
    ws = wb.add_worksheet("成员")
    ws.write_row(0, 0, _MEMBERS_HEADER)
    ws.write_row(1, 0, ["1001", "a", "户主", 45, 1200])
    ws.write_row(2, 0, ["1001", "b", "配偶", 43])
    ws.write_row(3, 0, ["1001", "c", "子女", 12])
    ws.merge_range(2, 4, 3, 4, 800)
    ws.write_row(4, 0, ["1002", "d", "户主", 70, 300])
    wb.close()
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(_mapping(tmp_path)))
    assert code == 0, output
    assert "2 households read 读取 = 1 evaluated 已评估 + 1 rejected 拒绝" in output
    assert _answers(out) == [("1002", "undetermined", "0.00")]
    (reason,) = _rejects(out)["1001"]
    assert reason.endswith(
        "cannot be read (column '月收入': one cell merged over several members' rows, which "
        "may be their amount together or each one's: give each member's own (unmerge the cells))"
    )


def test_a_household_row_pasted_again_with_a_space_after_its_id(tmp_path):
    """1001's row given again as '1001 ' with 500,000 元 of assets (far above the limit):
    1001 was evaluated on 5,000 (1435.00) and '1001 ' refused for having no member, nothing
    on 1001's row to say its assets were given twice. Now 1001 is refused too, naming the
    other row; 1002 is evaluated."""
    households = [["户编号", "家庭金融资产"], ["1001", 5000], ["1002", 0], ["1001 ", 500000]]
    members = [_MEMBERS_HEADER, *_members_1001(), ["1002", "d", "户主", 70, 300]]
    book = _book(tmp_path / "名册.xlsx", {"家庭": households, "成员": members})
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(_mapping(tmp_path)))
    assert code == 0, output
    assert "3 households read 读取 = 1 evaluated 已评估 + 2 rejected 拒绝" in output
    assert _answers(out) == [("1002", "undetermined", "0.00")]
    assert _rejects(out)["1001"] == [
        "household_id: 名册.xlsx[家庭] also has a household '1001 ', this one but for spaces, "
        "letter case, full-width characters or leading zeros: the household is given twice "
        "(fix the id that is wrong, or delete the row)"
    ]


def test_a_mapped_column_the_sheet_does_not_have_is_said(tmp_path):
    """The mapping's 月收入 where the sheet says 收入: every income was unknown (1001
    undetermined, not 1435.00) with a warning naming 收入 alone; the mapped name is said too."""
    members = [[*_MEMBERS_HEADER[:4], "收入"], *_members_1001()]
    book = _book(
        tmp_path / "名册.xlsx",
        {"家庭": [["户编号", "家庭金融资产"], ["1001", 5000]], "成员": members},
    )
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(_mapping(tmp_path)))
    assert code == 0, output
    said = " ".join(output.split())
    assert "名册.xlsx[成员]: columns not used (neither mapped nor ignored): 收入" in said
    assert (
        "名册.xlsx[成员]: mapped columns not in the header, their fields not given: 月收入 "
        "(monthly_income)" in said
    )
    assert _answers(out) == [("1001", "undetermined", "0.00")]


@pytest.mark.parametrize("typed", ["1001 ", "１００１"])
def test_one_row_per_person_with_a_member_s_household_id_typed_apart(tmp_path, typed):
    """每人一行 with the spouse's 户编号 typed '1001 ' (or in full-width): the row made a
    household of its own, so two answers and both wrong, nothing said: 1001 of a and c,
    2 × 1145 − 1200 = 1090.00, and '1001 ' of b, 1145 − 800 = 345.00 (by hand, together,
    the README's 1435.00). Now both are refused as one household given twice."""
    header = ["户编号", "家庭金融资产", "身份证号", "与户主关系", "年龄", "月收入"]
    rows = [
        ["1001", 5000, "a", "户主", 45, 1200],
        [typed, 5000, "b", "配偶", 43, 800],
        ["1001", 5000, "c", "子女", 12, 0],
        ["1002", 0, "d", "户主", 70, 300],
    ]
    book = _book(tmp_path / "名册.xlsx", {"名册": [header, *rows]})
    text = _mapping(tmp_path).read_text(encoding="utf-8")
    mapping = tmp_path / "one.yaml"
    mapping.write_text(text.replace("sheet: 家庭", "sheet: 名册").replace("成员", "名册"), "utf-8")
    out = tmp_path / "o.csv"
    code, output = _batch(str(book), str(out), "--columns", str(mapping))
    assert code == 0, output
    assert "3 households read 读取 = 1 evaluated 已评估 + 2 rejected 拒绝" in output
    assert _answers(out) == [("1002", "undetermined", "0.00")]
    assert _rejects(out)["1001"] == [
        f"household_id: 名册.xlsx[名册] also has a household '{typed}', this one but for "
        "spaces, letter case, full-width characters or leading zeros: the household is given "
        "twice (fix the id that is wrong, or delete the row)"
    ]


def _members_1001() -> list[list[object]]:
    return [
        ["1001", "a", "户主", 45, 1200],
        ["1001", "b", "配偶", 43, 800],
        ["1001", "c", "子女", 12, 0],
    ]


def test_a_workbook_whose_merged_cells_cannot_be_read_is_one_line():
    """python-calamine's own error (here: the file gone between the two reads) is one line
    naming the sheet, not a traceback."""
    from minzheng_rules.io._excel import merged_down
    from minzheng_rules.io._validate import InputError

    frame = pl.DataFrame({"户编号": ["1001", None]})  # a cell left empty: the ranges are asked for
    with pytest.raises(InputError) as info:
        merged_down(frame, Path("/nonexistent/名册.xlsx"), "成员", 1)
    assert str(info.value).startswith("名册.xlsx[成员]: cannot read its merged cells (")
