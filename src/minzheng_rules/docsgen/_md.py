"""Small Markdown builders shared by every generated page: escaping, tables, badges, blocks."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from decimal import Decimal

from minzheng_rules.docsgen._seeds import readable, seed_title
from minzheng_rules.packs import _schema as S

CONFIDENCE_TEXT = {
    "seed": ("seed", "种子材料"),
    "published": ("published", "公开文件"),
    "modelled": ("modelled", "模型推定·无出处"),
}
CONFIDENCE_HELP = {
    "seed": "Stated in a seed report (file name and quoted sentence) 见于种子材料原文",
    "published": "Stated in a public document that can be cited 见于可引用的公开文件",
    "modelled": "Our reasoned model: no source was found 无出处，为推定值",
}

UNIT_ZH = {
    "CNY": "元",
    "CNY/month": "元/月",
    "CNY/person/month": "元/人·月",
    "CNY/year": "元/年",
    "CNY/person/year": "元/人·年",
    "CNY/household": "元/户",
    "ratio": "倍/比例",
    "years": "岁/年",
    "months": "个月",
    "hours/month": "小时/月",
    "count": "个",
    "flag": "是/否",
    "grade": "级",
}

LEVEL_TEXT = {
    "national": ("国家", "national"),
    "province": ("省级", "province"),
    "city": ("市级", "city"),
    "county": ("县级", "county"),
}


def esc(text: object) -> str:
    """Text safe inside Markdown and its inline HTML: no tags, no emphasis, no table breaks."""
    out = html.escape(str(text), quote=False)
    for ch in "\\`*_[]|":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


def code(text: str) -> str:
    """An inline code span (literal: no emphasis inside; pipes stay inside a table cell)."""
    body = " ".join(str(text).split())
    run = max((len(x) for x in _backtick_runs(body)), default=0)
    fence = "`" * (run + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _backtick_runs(text: str) -> list[str]:
    runs, current = [], ""
    for ch in text:
        if ch == "`":
            current += ch
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


def bilingual(label: S.Label | None, sep: str = " · ") -> str:
    if label is None:
        return ""
    return f"{esc(label.zh)}{sep}{esc(label.en)}"


def badge(confidence: str | S.Confidence) -> str:
    """A coloured mark for seed / published / modelled; modelled always says so in words."""
    c = str(getattr(confidence, "value", confidence))
    en, zh = CONFIDENCE_TEXT.get(c, (c, c))
    return f'<span class="mz-conf mz-{c}">{en} {zh}</span>'


def unit_text(unit: str | S.Unit) -> str:
    u = str(getattr(unit, "value", unit))
    return f"{UNIT_ZH.get(u, u)} ({u})" if u in UNIT_ZH else u


def number(value: object) -> str:
    """A value as a reader expects it: 1145, 1.5, 1717.5, true; never 1.145E+3."""
    if isinstance(value, bool):
        return "true 是" if value else "false 否"
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text or "0"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A pipe table; cells must already be escaped."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c) if c != "" else " " for c in row) + " |")
    out.append("")
    return out


def wide(lines: list[str]) -> list[str]:
    """Wrap a table so the stylesheet can give its first column room (md_in_html)."""
    return ['<div class="mz-wide" markdown>', "", *lines, "</div>", ""]


def block(kind: str, title: str, body: Iterable[str], collapsible: bool = False) -> list[str]:
    """An admonition (``!!!``) or a collapsed details block (``???``), body indented."""
    mark = "???" if collapsible else "!!!"
    lines = [f'{mark} {kind} "{title.replace(chr(34), chr(39))}"', ""]
    for line in body:
        lines.append(("    " + line) if line else "")
    lines.append("")
    return lines


def source_text(source: S.Source | None) -> str:
    """A citation in one line: seed file and quote, or document, number, article; or reasoning."""
    if source is None:
        return ""
    parts: list[str] = []
    if source.seed:
        quote = f" “{esc(source.quote)}”" if source.quote else ""
        title = seed_title(source.seed)
        name = f"{esc(title)} <small>{code(source.seed)}</small>" if title else code(source.seed)
        parts.append(f"种子报告 seed report {name}{quote}")
    if source.document:
        doc = " ".join(
            esc(x)
            for x in (readable(source.document), source.number, source.issuer, source.article)
            if x
        )
        if source.quote and not source.seed:
            doc += f" “{esc(source.quote)}”"
        parts.append(doc)
    if source.url:
        parts.append(f"<{source.url}>" if source.url.startswith("http") else esc(source.url))
    if source.reasoning:
        parts.append(f"<em>Reasoning 推定理由:</em> {esc(readable(source.reasoning))}")
    if source.note:
        parts.append(f"<small>{esc(readable(source.note))}</small>")
    return "<br>".join(parts)


def citation_lines(citations: Sequence[S.Citation]) -> list[str]:
    """A bullet list of citations, each with its confidence mark."""
    return [f"- {badge(c.confidence)} {source_text(c.source)}" for c in citations]


def anchor(*parts: str) -> str:
    """An ASCII anchor id for headings (ids are ASCII; labels are not)."""
    return "-".join(p.replace(".", "-").replace("_", "-") for p in parts).lower()
