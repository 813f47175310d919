"""The 幸福清单 (happiness list): a per-household statement of what it receives and why.

Chinese first with English ids, each line with the policy citation it rests on; modelled
sources are marked as such. Rendered to Markdown or to a self-contained HTML page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from minzheng_rules.model._results import Evaluation, Status
from minzheng_rules.packs._pack import Pack
from minzheng_rules.packs._schema import Citation, Confidence


@dataclass
class PlanLine:
    section: str
    id: str
    label_zh: str
    label_en: str
    detail: str
    citation: str


def cite(citations: list[Citation]) -> str:
    """A short citation: document or seed, with a visible mark when the rule is modelled."""
    if not citations:
        return "—"
    c = citations[0]
    s = c.source
    if c.confidence is Confidence.seed:
        text = f"种子报告 seed {s.seed}：“{s.quote}”"
    elif c.confidence is Confidence.published:
        text = " ".join(filter(None, [s.document, s.number, s.article]))
    else:
        text = f"模拟值 modelled：{s.reasoning}"
    return f"[{c.confidence.value}] {text}"


def plan_lines(pack: Pack, ev: Evaluation) -> list[PlanLine]:
    """Every line of the list, in the order it is printed."""
    lines: list[PlanLine] = []
    for pid, p in ev.programs.items():
        if p.status is Status.ineligible:
            continue
        spec = pack.programs[pid].spec
        amount = p.to_dict()["amount"]
        detail = (
            f"{amount} {p.unit}"
            if p.status is Status.eligible
            else "待定 undetermined: " + ", ".join(p.missing)
        )
        if p.members:
            who = [mid for mid, m in p.members.items() if m.status is Status.eligible]
            if who:
                detail += f"（成员 members: {', '.join(who)}）"
        lines.append(
            PlanLine("programs", pid, p.label_zh, p.label_en, detail, cite(spec.citations))
        )
    relief = pack.relief
    for item in ev.assistance:
        if item["kind"] == "program":
            continue
        item_spec = relief.items[item["item"]].spec
        need = relief.labels[item["need"]].spec
        lines.append(
            PlanLine(
                item["kind"],
                item["item"],
                item_spec.label.zh,
                item_spec.label.en,
                f"回应需求 answers: {need.label.zh} ({need.id})",
                cite(item_spec.citations),
            )
        )
    for tid in ev.tags:
        tag, _ = relief.tags[tid]
        lines.append(
            PlanLine(
                "tags",
                tid,
                tag.label.zh,
                tag.label.en,
                tag.definition.zh,
                cite([Citation(confidence=tag.confidence, source=tag.source)]),
            )
        )
    for lid in ev.needs:
        entry = relief.labels[lid]
        how = "入户评估 assessed" if entry.expr is None else "数据认定 derived"
        lines.append(
            PlanLine(
                "needs",
                lid,
                entry.spec.label.zh,
                entry.spec.label.en,
                f"{entry.category.label.zh} › {entry.subitem.label.zh}（{how}）",
                "—",
            )
        )
    return lines


_SECTIONS = {
    "programs": "救助项目 Programs",
    "service": "服务 Services",
    "charity": "慈善项目 Charity projects",
    "tags": "六无六有 Tags",
    "needs": "需求 Needs",
}


def _header(pack: Pack, ev: Evaluation) -> tuple[str, str]:
    m = pack.manifest
    title = f"幸福清单 Happiness list — {ev.household}"
    sub = f"{m.label.zh} {m.label.en} · {ev.date.isoformat()} · pack `{m.id}`"
    return title, sub


def render_markdown(pack: Pack, ev: Evaluation) -> str:
    """A household's 幸福清单 (one-household-one-plan) as Markdown, each line with its source."""
    title, sub = _header(pack, ev)
    out = [f"# {title}", "", sub, ""]
    lines = plan_lines(pack, ev)
    for section, heading in _SECTIONS.items():
        rows = [ln for ln in lines if ln.section == section]
        out += [f"## {heading}", ""]
        if not rows:
            out += ["（无 none）", ""]
            continue
        out += ["| 项目 | id | 内容 detail | 依据 source |", "| --- | --- | --- | --- |"]
        out += [
            f"| {_md(r.label_zh)}<br>{_md(r.label_en)} | `{r.id}` "
            f"| {_md(r.detail)} | {_md(r.citation)} |"
            for r in rows
        ]
        out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_html(pack: Pack, ev: Evaluation) -> str:
    """The same 幸福清单 as a printable HTML page."""
    title, sub = _header(pack, ev)
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;width:100%;margin-bottom:1.5em}"
        "td,th{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}"
        "th{background:#eee}.modelled{color:#a15c00}code{font-size:.9em}</style>",
        "</head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{e(sub)}</p>",
    ]
    lines = plan_lines(pack, ev)
    for section, heading in _SECTIONS.items():
        rows = [ln for ln in lines if ln.section == section]
        parts.append(f"<h2>{e(heading)}</h2>")
        if not rows:
            parts.append("<p>（无 none）</p>")
            continue
        parts.append(
            "<table><tr><th>项目</th><th>id</th><th>内容 detail</th><th>依据 source</th></tr>"
        )
        for r in rows:
            cls = ' class="modelled"' if r.citation.startswith("[modelled]") else ""
            parts.append(
                f"<tr><td>{e(r.label_zh)}<br>{e(r.label_en)}</td><td><code>{e(r.id)}</code></td>"
                f"<td>{e(r.detail)}</td><td{cls}>{e(r.citation)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
