"""One page per program across the cities (``programs/<id>.md``): its names and common
synonyms (so search for 低保 or 尊老金 lands here first), every city's rule side by side with the
values in force and since when, and a link into the calculator.

Search: Material segments a Chinese query with the tokens already in the index and never keeps
the whole query as one word while a shorter prefix of it is a token (低保 → 低*). ``mark_index``
rewrites the built index so that no token is a proper prefix of a key term; the term is then
searched whole (低保*), which finds 低保 and 低保边缘 but not 低收入.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen._links import Links
from minzheng_rules.docsgen._pages_pack import ENTITY_TEXT, rule_lines
from minzheng_rules.docsgen._values import parameter_values, value_on
from minzheng_rules.packs._deps import DepKind, names_of
from minzheng_rules.packs._pack import Expr, Pack

# Common names a reader types, by program id (the first is the short name shown in titles).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "dibao": ("低保", "最低生活保障", "dibao"),
    "dibao_edge": ("低边", "低保边缘家庭", "dibao edge"),
    "tekun": ("特困", "特困供养", "特困人员救助供养", "tekun"),
    "orphan_allowance": ("孤儿", "孤儿基本生活费", "orphan"),
    "longevity_allowance": ("高龄津贴", "尊老金", "longevity allowance"),
    "low_income": ("低收入", "低收入家庭", "low income"),
    "temporary_relief": ("临时救助", "temporary relief"),
    "medical_relief": ("医疗救助", "medical relief"),
    "unsupported_child_allowance": ("事实无人抚养儿童", "unsupported child"),
    "distressed_child_allowance": ("困境儿童", "distressed child"),
}
BOOST = 8  # program pages outrank the long pack pages for their names

_HAN = re.compile(r"[\u3400-\u9fff]+")


def boost(pid: str, packs: list[Pack]) -> int:
    """Twice the boost when this program's short name begins another program's name (低保 and
    低保边缘家庭): a reader typing the short name means this one."""
    short = (SYNONYMS.get(pid) or ("",))[0]
    others = {
        name
        for q in program_ids(packs)
        if q != pid
        for name in (
            *SYNONYMS.get(q, ()),
            *(p.programs[q].spec.label.zh for p in packs if q in p.programs),
        )
    }
    return BOOST * 2 if short and any(o.startswith(short) and o != short for o in others) else BOOST


def page_path(pid: str) -> str:
    return f"programs/{pid}.md"


def key_terms(packs: list[Pack]) -> set[str]:
    """Chinese words search must find whole: synonyms and the programs' names."""
    terms = {t for names in SYNONYMS.values() for t in names if _HAN.fullmatch(t)}
    for p in packs:
        for prog in p.programs.values():
            terms |= set(_HAN.findall(prog.spec.label.zh))
    return terms


def _main_label(pid: str, packs: list[Pack]) -> tuple[str, str]:
    """The name most packs use (the national one when present)."""
    labels = [p.programs[pid].spec.label for p in packs if pid in p.programs]
    zh = max({lb.zh for lb in labels}, key=[lb.zh for lb in labels].count)
    en = max({lb.en for lb in labels}, key=[lb.en for lb in labels].count)
    short = SYNONYMS.get(pid, ())
    if short and short[0] not in zh:
        zh = f"{zh}（{short[0]}）"
    return zh, en


def program_ids(packs: list[Pack]) -> list[str]:
    out: list[str] = []
    for p in packs:
        out += [pid for pid in p.programs if pid not in out]
    return out


def programs_index(packs: list[Pack]) -> str:
    out = [
        "# 救助项目 Programs",
        "",
        "One page per program: every city's rule side by side, the values in force and the "
        "date each has been in force since. 每个救助项目一页，各城市规则并列。",
        "",
    ]
    rows = []
    for pid in program_ids(packs):
        zh, en = _main_label(pid, packs)
        cities = [p.manifest.label.zh for p in packs if pid in p.programs]
        rows.append(
            [f"[{md.esc(zh)} {md.esc(en)}]({pid}.md)", f"`{pid}`", md.esc("、".join(cities))]
        )
    out += md.table(["项目 Program", "id", "政策包 Packs"], rows)
    return "\n".join(out)


def program_page(pid: str, packs: list[Pack], on: dt.date, links: Links) -> str:
    src = page_path(pid)
    zh, en = _main_label(pid, packs)
    having = [p for p in packs if pid in p.programs]
    names = SYNONYMS.get(pid, ())
    out = ["---", "search:", f"  boost: {boost(pid, packs)}", "---", ""]
    out += [f"# {md.esc(zh)} {md.esc(en)}", ""]
    if names:
        out += [f"别名 Also called: {' · '.join(md.esc(n) for n in names)} · id `{pid}`", ""]
    out += [
        f"Values as in force on 取值日期 **{on}**; each with the date it has been in force "
        "since (自). [Try a household in the calculator 用计算器试算](../calculator.md).",
        "",
    ]
    rows = []
    for p in having:
        prog = p.programs[pid]
        s = prog.spec
        params = sorted(names_of(p.needs([pid]), DepKind.PARAMETER))
        shown = []
        for name in params:
            v = value_on(p, name, on)
            spec = p.parameters[name]
            if v is None or not str(spec.unit.value).startswith("CNY"):
                continue
            since = f" (自 since {v.since})" if v.since else ""
            shown.append(f"{md.esc(spec.label.zh)} {md.number(v.value)}{since}")
        rows.append(
            [
                links.pack_link(src, p.id, md.bilingual(p.manifest.label)),
                md.esc(s.label.zh),
                ENTITY_TEXT[s.entity],
                md.unit_text(s.unit),
                "<br>".join(shown[:4]) or "—",
            ]
        )
    out += ["## 各地对比 Side by side {#side-by-side}", ""]
    out += md.table(
        ["政策包 Pack", "名称 Name", "对象 For", "单位 Unit", "金额标准 Money values in force"],
        rows,
    )
    for p in having:
        s = p.programs[pid].spec
        out += [f"## {md.esc(p.manifest.label.zh)} {md.esc(p.manifest.label.en)} {{#{p.id}}}", ""]
        meta = [md.esc(s.label.zh), md.esc(s.label.en)]
        if s.in_force.since or s.in_force.until:
            meta.append(f"in force 有效期 {s.in_force.since or '…'} – {s.in_force.until or '…'}")
        out += [" · ".join(meta), ""]
        out += ["**认定条件 Eligibility**", ""]
        prog = p.programs[pid]
        for i, (c, e) in enumerate(prog.conditions, 1):
            out.append(f"{i}. **{md.esc(c.label.zh)}** — {md.esc(c.label.en)}<br>")
            out.append("   " + "<br>".join([*rule_lines(c.when, p), *_values(p, e, on)]))
        out.append("")
        out += ["**金额 Amount**", ""]
        if prog.amount is None:
            out += ["Eligibility only 仅认定资格。", ""]
        else:
            out += [
                "- " + line
                for line in [*rule_lines(prog.amount.source, p), *_values(p, prog.amount, on)]
            ]
            out.append("")
        out += ["**依据 Sources**", "", *md.citation_lines(s.citations), ""]
        anchor = md.anchor("program", pid)
        out += [f"Full entry on the pack page: {links.pack_link(src, p.id)} (#{anchor}).", ""]
    return "\n".join(out)


def _values(pack: Pack, expr: Expr, on: dt.date) -> list[str]:
    """The parameters a rule reads, filled in with their values on ``on`` and since when."""
    return parameter_values(pack, [expr], on)


def _prefixes(terms: set[str]) -> set[str]:
    return {t[:i] for t in terms for i in range(1, len(t))}


def mark(text: str, prefixes: set[str], separator: re.Pattern[str]) -> str:
    """Add an invisible word joiner (U+2060) after each token that is a proper prefix of a key
    term, so the query segmenter no longer sees it as a word; a search for the prefix itself
    still finds it (queries are prefix matches)."""
    parts = separator.split(text)
    for i in range(0, len(parts), 2):
        if parts[i] in prefixes:
            parts[i] += WORD_JOINER
    return "".join(parts)


WORD_JOINER = "\u2060"


def mark_index(path: Path, terms: set[str]) -> int:
    """Rewrite a built search index (see the module docstring); returns the fields changed."""
    data = json.loads(path.read_text(encoding="utf-8"))
    separator = re.compile(f"({data['config']['separator']})")
    prefixes = _prefixes(terms)  # 孤儿 too: 孤儿基本生活费 is searched whole, 孤儿* finds both
    changed = 0
    for doc in data["docs"]:
        for field in ("title", "text"):
            value = doc.get(field)
            if isinstance(value, str):
                new = mark(value, prefixes, separator)
                if new != value:
                    doc[field] = new
                    changed += 1
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return changed
