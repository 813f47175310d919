"""One page per pack: its programs in plain words, its parameters with history and sources,
its tags, needs model and assistance catalogue."""

from __future__ import annotations

import datetime as dt

from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen._links import Links
from minzheng_rules.docsgen._needs import assistance_section, needs_summary, tags_section
from minzheng_rules.docsgen._plain import plain
from minzheng_rules.docsgen._svg import Series, Step, figure, step_chart
from minzheng_rules.docsgen._values import (
    Shown,
    dated,
    defined_in,
    is_standard,
    parameter_values,
    series,
    value_on,
)
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._pack import Pack

ENTITY_TEXT = {"household": "按户 per household", "member": "按人 per member"}
HIT_TEXT = {
    "first": "first 首条命中",
    "unique": "unique 唯一命中",
    "collect_sum": "collect_sum 命中各行求和",
}


def confidence_marks(shown: Shown) -> str:
    """The value's confidence: for a derived value the weakest of its rule's and inputs' (a
    value computed from a modelled input is modelled), then the others, smaller."""
    order = ["modelled", "seed", "published"]
    present = [c for c in order if c in shown.confidences]
    if len(present) < 2:
        return " ".join(md.badge(c) for c in present)
    return (
        f"{md.badge(present[0])} <small>(rule and inputs 规则与输入: {', '.join(present)})</small>"
    )


def title(pack: Pack) -> str:
    return f"{pack.manifest.label.zh} {pack.manifest.label.en}"


def rule_lines(text: str, pack: Pack) -> list[str]:
    """A rule three ways: plain Chinese, plain English, and the expression as written."""
    return [
        f"<span class='mz-lang'>中文</span> {plain(text, pack, 'zh')}",
        f"<span class='mz-lang'>EN</span> {plain(text, pack, 'en')}",
        f"<span class='mz-lang'>rule</span> {md.code(text)}",
    ]


def pack_page(pack: Pack, on: dt.date, links: Links) -> str:
    src = Links.pack(pack.id)
    m = pack.manifest
    zh_level, en_level = md.LEVEL_TEXT.get(m.level, (m.level, m.level))
    chain = " → ".join(links.pack_link(src, pid) for pid in pack.definition.chain)
    out = [f"# {md.esc(m.label.zh)} {md.esc(m.label.en)}", ""]
    out += [f"**{zh_level} {en_level}** pack `{m.id}` · chain 继承链: {chain}", ""]
    if m.description is not None:
        out += [md.esc(m.description.zh), "", md.esc(m.description.en), ""]
    out += _sourcing(pack, on)
    out += _current(pack, on)
    out += _programs(pack, links, src)
    out += _tables(pack, on)
    out += _variables(pack)
    out += _parameters(pack, on)
    out += tags_section(pack)
    out += needs_summary(pack, links, src)
    out += assistance_section(pack)
    out += _alerts(pack)
    out += _examples(pack, links, src)
    return "\n".join(out)


def _sourcing(pack: Pack, on: dt.date) -> list[str]:
    cov = pack.coverage_on(on)
    v = cov["values"]
    total = sum(v.values())
    body = [
        f"{cov['parameters']} parameters 参数, {total} values in force on {on} 该日有效取值: "
        f"{md.badge('seed')} {v['seed']} · {md.badge('published')} {v['published']} · "
        f"{md.badge('modelled')} {v['modelled']}.",
    ]
    if v["modelled"]:
        body += [
            "",
            f"{v['modelled']} of {total} values ({cov['modelled_share']:.0%}) are **modelled**: "
            "no source was found, so they are reasoned estimates, marked 模型推定 wherever they "
            "appear. 本包中标为“模型推定”的取值没有找到出处，仅为推定。",
        ]
        return md.block("warning", "How sure are these numbers? 数据来源", body)
    return md.block("success", "How sure are these numbers? 数据来源", body)


def _current(pack: Pack, on: dt.date) -> list[str]:
    out = [
        "## 现行标准 Current standards {#current}",
        "",
        f"Values in force on {on} 该日有效的取值。",
        "",
    ]
    rows_money: list[list[str]] = []
    rows_other: list[list[str]] = []
    stale = {v.name for found in pack.stale_values(on).values() for v in found}
    for name, spec in pack.parameters.items():
        shown = value_on(pack, name, on)
        if shown is None:
            continue
        owner = defined_in(pack, "parameters", name)
        row = [
            f"[{md.bilingual(spec.label, '<br>')}](#{md.anchor('param', name)})<br>"
            f"{md.code(name)} <small>({owner})</small>",
            f"**{md.number(shown.value)}** {md.UNIT_ZH.get(spec.unit.value, spec.unit.value)}",
            dated(shown)
            + (" derived 推导" if shown.formula else "")
            + (" **stale 可能过时**" if name in stale else ""),
            confidence_marks(shown),
        ]
        (rows_money if is_standard(spec) else rows_other).append(row)
    headers = ["参数 Parameter", "值 Value", "起始 Since", "可信度 Confidence"]
    if rows_money:
        out += md.wide(md.table(headers, rows_money))
    else:
        out += ["No money standard is in force on this date. 该日无有效的金额标准。", ""]
    if rows_other:
        out += ["**Other parameters 其他参数** (ratios, ages, limits 比例、年龄、限额)", ""]
        out += md.wide(md.table(headers, rows_other))
    if stale:
        out += [
            f"**stale 可能过时**: a money amount some program reads whose value started more than "
            f"two years before {on} ({', '.join(md.code(n) for n in sorted(stale))}). Not wrong, "
            "but it may have been raised since without the pack knowing. "
            "金额取值早于该日两年以上，可能已调整而本包尚未更新。 "
            "(assumed 推定): no source gives the start day. 起始日期为推定。",
            "",
        ]
    return out


def _programs(pack: Pack, links: Links, src: str) -> list[str]:
    out = ["## 救助项目 Programs {#programs}", ""]
    if not pack.programs:
        return [*out, "This pack runs no programs of its own. 本包不含救助项目。", ""]
    out += md.table(
        ["项目 Program", "id", "对象 For", "单位 Unit"],
        [
            [
                f"[{md.bilingual(p.spec.label)}](#{md.anchor('program', pid)})",
                f"`{pid}`",
                ENTITY_TEXT[p.spec.entity],
                md.unit_text(p.spec.unit),
            ]
            for pid, p in pack.programs.items()
        ],
    )
    for pid, prog in pack.programs.items():
        s = prog.spec
        out += [f"### {md.bilingual(s.label, ' ')} {{#{md.anchor('program', pid)}}}", ""]
        meta = [f"`{pid}`", ENTITY_TEXT[s.entity], md.unit_text(s.unit)]
        if s.in_force.since or s.in_force.until:
            meta.append(f"in force 有效期 {s.in_force.since or '…'} – {s.in_force.until or '…'}")
        meta.append(f"defined in 定义于 {links.pack_link(src, defined_in(pack, 'programs', pid))}")
        out += [" · ".join(meta), ""]
        if s.description is not None:
            out += [md.esc(s.description.zh), "", md.esc(s.description.en), ""]
        out += ["**认定条件 Eligibility** — all must hold 须同时满足:", ""]
        for i, c in enumerate(s.conditions, 1):
            out.append(f"{i}. **{md.esc(c.label.zh)}** — {md.esc(c.label.en)}<br>")
            out.append("   " + "<br>".join(rule_lines(c.when, pack)))
        out.append("")
        out += ["**金额 Amount**", ""]
        if s.amount is None:
            out += ["Eligibility only, no cash of its own 仅认定资格，本身不发放现金。", ""]
        else:
            out += ["- " + line for line in rule_lines(s.amount, pack)]
            r = s.rounding
            out += [f"- rounded 取整: {r.digits} decimals 位小数, {r.mode}", ""]
        excl = [e for e in pack.exclusions.values() if pid in e.programs]
        if excl:
            out += ["**不同时享受 Not paid together**", ""]
            for e in excl:
                keep = (
                    "the first listed is kept 保留排在前面的项目"
                    if e.keep == "first"
                    else ("the higher amount is kept 保留金额较高者")
                )
                others = ", ".join(f"[`{q}`](#{md.anchor('program', q)})" for q in e.programs)
                out.append(f"- {md.bilingual(e.label)}: {others}; {keep}")
                out += ["  " + line for line in md.citation_lines(e.citations)]
            out.append("")
        out += ["**依据 Sources**", "", *md.citation_lines(s.citations), ""]
    return out


def _tables(pack: Pack, on: dt.date) -> list[str]:
    tables = pack.definition.tables
    if not tables:
        return []
    out = ["## 决策表 Decision tables {#tables}", ""]
    for name, t in tables.items():
        out += [f"### {md.bilingual(t.label, ' ')} {{#{md.anchor('table', name)}}}", ""]
        out += [
            f"`{name}` · {ENTITY_TEXT[t.entity]} · "
            f"hit policy 命中规则 {HIT_TEXT[t.hit_policy.value]}",
            "",
        ]
        rows = [
            [
                md.bilingual(row.label) if row.label else "",
                f"{plain(row.when, pack, 'zh')}<br>{md.code(row.when)}",
                f"{plain(row.then, pack, 'zh')}<br>{md.code(row.then)}",
            ]
            for row in t.rows
        ]
        rows.append(
            ["否则 otherwise", "", f"{plain(t.default, pack, 'zh')}<br>{md.code(t.default)}"]
        )
        out += md.table(["行 Row", "条件 When", "结果 Then"], rows)
        checked = pack.tables.get(name)
        if checked is not None:  # the parameters it reads, with their values on the date
            exprs = [e for row in checked.rows for e in row] + [checked.default]
            out += [*parameter_values(pack, exprs, on), ""]
        if t.citations:
            out += ["**依据 Sources**", "", *md.citation_lines(t.citations), ""]
    return out


def _variables(pack: Pack) -> list[str]:
    variables = pack.definition.variables
    if not variables:
        return []
    rows = [
        [
            f"{md.bilingual(v.label)}<br>`{name}`",
            ENTITY_TEXT[v.entity],
            "<br>".join(rule_lines(v.formula, pack)),
        ]
        for name, v in variables.items()
    ]
    body = [
        "Named formulas the programs use. 项目规则中使用的中间量。",
        "",
        *md.table(["变量 Variable", "对象 For", "定义 Definition"], rows),
    ]
    return [
        "## 变量 Variables {#variables}",
        "",
        *md.block("abstract", f"{len(variables)} variables 个变量", body, collapsible=True),
    ]


def _parameters(pack: Pack, on: dt.date) -> list[str]:
    out = ["## 参数 Parameters and their history 参数及其历史 {#parameters}", ""]
    for name, spec in sorted(pack.parameters.items()):
        out += [f"### {md.bilingual(spec.label, ' ')} {{#{md.anchor('param', name)}}}", ""]
        meta = [md.code(name), md.unit_text(spec.unit), f"type {spec.type}"]
        meta.append(f"defined in 定义于 `{defined_in(pack, 'parameters', name)}`")
        out += [" · ".join(meta), ""]
        if spec.description is not None:
            out += [md.bilingual(spec.description), ""]
        if spec.set_by is not None:
            out += [
                f"Declared here; its value is set by a **{spec.set_by}** pack. "
                f"此处仅声明，取值由{md.LEVEL_TEXT[spec.set_by][0]}政策包设定。",
                "",
            ]
            continue
        # the value in force on the site's date, then the history and its sources folded away
        # (the page stays short; the parameter's own page has every pack's history side by side)
        shown = value_on(pack, name, on)
        unit = md.UNIT_ZH.get(spec.unit.value, "")
        current = (
            f"**{md.number(shown.value)}** {unit} · 自 since {dated(shown)} · "
            f"{confidence_marks(shown)}"
            if shown is not None
            else "— not in force 未生效"
        )
        out += [f"{on}: {current} · [all packs 各地](../params/{name}.md)", ""]
        if spec.history is not None:
            rows = [
                [
                    str(h.since) + (" (assumed 推定)" if h.since_assumed else ""),
                    f"**{md.number(h.value)}**",
                    md.badge(h.confidence),
                    md.source_text(h.source),
                ]
                for h in spec.history
            ]
            table = md.table(["起始 Since", "值 Value", "可信度 Confidence", "出处 Source"], rows)
            if is_standard(spec):
                table += _history_chart(pack, name, spec, on)
            out += md.block("quote", "历史与出处 History and sources", table, collapsible=True)
        else:
            assert spec.formula is not None and spec.confidence is not None
            out += [
                "Derived 推导: " + "<br>".join(rule_lines(spec.formula, pack)),
                "",
                f"Rule 规则: {md.badge(spec.confidence)} {md.source_text(spec.source)}",
                "",
            ]
            steps = series(pack, name, on)
            if steps:
                rows = [
                    [dated(s, day), f"**{md.number(s.value)}**", confidence_marks(s)]
                    for day, s in steps
                ]
                table = md.table(
                    ["起始 Since", "值 Value", "可信度 Confidence (rule and inputs)"], rows
                )
                if is_standard(spec):
                    table += _history_chart(pack, name, spec, on)
                out += md.block("quote", "历史 History", table, collapsible=True)
    return out


def _history_chart(pack: Pack, name: str, spec: S.Parameter, on: dt.date) -> list[str]:
    steps = series(pack, name, on)
    if len(steps) < 2:
        return []
    label = f"{pack.manifest.label.zh} {pack.manifest.label.en}"
    data = Series(
        label,
        tuple(
            Step(
                day,
                s.value,
                s.modelled,
                f"{day}: {md.number(s.value)} ({', '.join(sorted(s.confidences))})",
            )
            for day, s in steps
        ),
    )
    caption = f"{spec.label.zh} {spec.label.en} ({spec.unit.value}), {label}"
    chart = step_chart(caption, [data], on, md.unit_text(spec.unit))
    return figure(chart, caption, f"../downloads/params/{name}.csv")


def _alerts(pack: Pack) -> list[str]:
    alerts = pack.definition.alerts
    if not alerts:
        return []
    rows = [
        [
            f"{md.bilingual(a.label)}<br>`{aid}`",
            ", ".join(f"`{e}`" for e in ([a.event] if isinstance(a.event, str) else a.event)),
            a.tier,
            "<br>".join(rule_lines(a.when, pack)),
        ]
        for aid, a in alerts.items()
    ]
    return [
        "## 监测预警 Monitoring alerts {#alerts}",
        "",
        *md.table(["预警 Alert", "事件 Event", "级别 Tier", "条件 When"], rows),
    ]


def _examples(pack: Pack, links: Links, src: str) -> list[str]:
    out = ["## 案例 Worked examples {#examples}", ""]
    if pack.id in links.example_pages:
        link = Links.rel(src, Links.examples(pack.id))
        out += [
            f"{len(pack.cases)} golden cases with their explanation traces: "
            f"[案例 Worked examples]({link}). 附解释过程的标准案例。",
            "",
        ]
    else:
        out += ["This pack has no golden cases of its own. 本包没有自己的标准案例。", ""]
    return out
