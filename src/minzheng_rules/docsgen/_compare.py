"""Cities side by side: today's standards, the programs each runs, how each is sourced, and a
chart per standard of its history in every city."""

from __future__ import annotations

import datetime as dt

from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen._links import Links
from minzheng_rules.docsgen._svg import Series, Step, figure, step_chart
from minzheng_rules.docsgen._values import Shown, is_standard, series, value_on
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._pack import Pack

SRC = "compare.md"
STALE_YEARS = 2  # a value in force since before D minus this many years is flagged as old


def stale_before(on: dt.date) -> dt.date:
    """Values in force since before this date are flagged (older than two years before D)."""
    try:
        return on.replace(year=on.year - STALE_YEARS)
    except ValueError:  # 29 February
        return on.replace(year=on.year - STALE_YEARS, day=28)


def dated_cell(shown: Shown, unit: str, on: dt.date) -> str:
    """A value with the date it has been in force since, flagged when it is old on ``on``."""
    cell = f"<strong>{md.number(shown.value)}</strong> {unit}"
    if shown.since is not None:
        assumed = (
            ' <span title="no source gives this start date">(推定 assumed)</span>'
            if shown.since_assumed
            else ""
        )
        cell += f"<br><small>自 since {shown.since}{assumed}</small>"
        if shown.since < stale_before(on):
            cell += (
                '<br><span class="mz-stale" title="in force since more than two years before '
                'the date: check for a newer standard">⚠ 逾两年 over 2 years old</span>'
            )
    return f"{cell}<br>{compact_badges(shown)}"


def compact_badges(shown: Shown) -> str:
    """Short marks for a crowded table; modelled still says so in words."""
    marks = []
    if "modelled" in shown.confidences:
        marks.append('<span class="mz-conf mz-modelled">modelled 推定</span>')
    for c in ("published", "seed"):
        if c in shown.confidences:
            marks.append(
                f'<span class="mz-conf mz-{c} mz-small" title="{md.CONFIDENCE_HELP[c]}">{c}</span>'
            )
    return " ".join(marks)


def _standard_names(cities: list[Pack], on: dt.date) -> list[str]:
    names: list[str] = []
    for p in cities:
        for name, spec in p.parameters.items():
            if name not in names and is_standard(spec) and series(p, name, on):
                names.append(name)
    return names


def _label(name: str, packs: list[Pack]) -> S.Label:
    """The most general label (the national pack's, if it declares the name)."""
    for p in reversed(packs):
        spec = p.parameters.get(name)
        if spec is not None:
            return spec.label
    raise KeyError(name)


def compare_page(packs: list[Pack], on: dt.date, links: Links) -> str:
    cities = [p for p in packs if p.manifest.level in ("city", "county")]
    out = [
        "# 城市对比 Cities side by side",
        "",
        f"Every city pack's standards on **{on}**, the programs each runs and how each value is "
        "sourced; then each standard's history in every city. Values marked "
        f"{md.badge('modelled')} have no source. 各城市标准对比；标为“模型推定”的取值没有出处。",
        "",
    ]
    if not cities:
        return "\n".join([*out, "No city pack is loaded. 未加载城市政策包。", ""])
    heads = [links.pack_link(SRC, p.id, md.bilingual(p.manifest.label, " ")) for p in cities]
    names = _standard_names(cities, on)
    out += ["## 某日标准 Standards on a date {#current}", ""]
    out += [
        f"Each value with the date it has been in force since (自); values in force since more "
        f"than {STALE_YEARS} years before the date are flagged ⚠ (a newer standard may exist "
        "that the packs do not know). Pick another date: the table is recomputed in the page "
        "from the packs. 选择日期，表格按该日重新计算。",
        "",
        f'<p class="mz-compare-date"><label>日期 Date <input type="date" id="mz-compare-date" '
        f'value="{on.isoformat()}"></label> <span id="mz-compare-note"></span></p>',
        "",
    ]
    rows = []
    for name in names:
        label = _label(name, packs)
        row = [f"{md.bilingual(label, '<br>')}<br>{md.code(name)}"]
        for p in cities:
            shown = value_on(p, name, on) if name in p.parameters else None
            unit = md.UNIT_ZH.get(p.parameters[name].unit.value, "") if name in p.parameters else ""
            cell = "—" if shown is None else dated_cell(shown, unit, on)
            if name in p.parameters:
                cell = (
                    f'<span class="mz-cell" data-pack="{p.id}" data-param="{name}" '
                    f'data-unit="{unit}">{cell}</span>'
                )
            row.append(cell)
        rows.append(row)
    out += md.wide(md.table(["标准 Standard", *heads], rows))
    scripts = [
        "javascripts/vendor/decimal.js",
        "javascripts/mz-calc.js",
        *(f"javascripts/packs/{p.id}.js" for p in cities),
        "javascripts/mz-compare.js",
    ]
    out += [*(f'<script src="{x}"></script>' for x in scripts), ""]
    out += ["## 救助项目 Programs each city runs {#programs}", ""]
    program_ids: list[str] = []
    for p in cities:
        program_ids += [pid for pid in p.programs if pid not in program_ids]
    prog_rows = []
    for pid in program_ids:
        # the row is named by the most general pack's label; each city's cell by its own name
        spec = next(p.programs[pid].spec for p in reversed(packs) if pid in p.programs)
        cells = [
            f'<span class="mz-yes">✓</span> {md.esc(p.programs[pid].spec.label.zh)}'
            if pid in p.programs
            else "—"
            for p in cities
        ]
        prog_rows.append(
            [f"[{md.bilingual(spec.label, '<br>')}](programs/{pid}.md) `{pid}`", *cells]
        )
    out += md.wide(md.table(["项目 Program", *heads], prog_rows))
    out += ["## 数据来源 How each city is sourced {#sourcing}", ""]
    src_rows = []
    for conf in ("seed", "published", "modelled"):
        src_rows.append([md.badge(conf), *(str(p.coverage_on(on)["values"][conf]) for p in cities)])
    src_rows.append(
        ["modelled share 推定占比", *(f"{p.coverage_on(on)['modelled_share']:.0%}" for p in cities)]
    )
    out += md.table(["取值 Values", *heads], src_rows)
    out += ["## 标准的变化 Standards over time {#history}", ""]
    for name in names:
        out += cities_chart(name, cities, packs, on)
    return "\n".join(out)


def cities_chart(name: str, cities: list[Pack], packs: list[Pack], on: dt.date) -> list[str]:
    """One parameter's values over time in each city that has it: a chart and its numbers
    (the comparison page and the parameter's own page show the same one)."""
    label = _label(name, packs)
    unit = next(p.parameters[name].unit.value for p in cities if name in p.parameters)
    data: list[Series] = []
    rows: list[list[str]] = []
    for p in cities:
        if name not in p.parameters:
            continue
        steps = series(p, name, on)
        city = f"{p.manifest.label.zh} {p.manifest.label.en}"
        data.append(
            Series(
                city,
                tuple(
                    Step(
                        day,
                        s.value,  # type: ignore[arg-type]
                        s.modelled,
                        f"{city} {day}: {md.number(s.value)} ({', '.join(sorted(s.confidences))})",
                    )
                    for day, s in steps
                ),
            )
        )
        rows += [
            [md.esc(city), str(day), f"**{md.number(s.value)}**", compact_badges(s)]
            for day, s in steps
        ]
    caption = f"{label.zh} {label.en} ({unit})"
    out = [f"### {md.bilingual(label, ' ')} {{#{md.anchor('chart', name)}}}", ""]
    chart = step_chart(caption, data, on, md.unit_text(unit))
    out += figure(chart, caption, f"downloads/params/{name}.csv")
    out += md.block(
        "abstract",
        "数据 The numbers behind the chart",
        md.table(["城市 City", "起始 Since", "值 Value", "可信度 Confidence"], rows),
        collapsible=True,
    )
    return out
