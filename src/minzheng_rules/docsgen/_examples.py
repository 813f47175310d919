"""Worked examples: each golden case as an example household, evaluated when the site is built,
with its explanation trace ("why this amount") and what the household would receive."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from minzheng_rules.analysis._plan import plan_lines
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen._links import Links
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._facts import FACT_LABELS
from minzheng_rules.model._results import ConditionOutcome, Evaluation, ProgramOutcome
from minzheng_rules.model._values import money
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._pack import Pack

log = logging.getLogger("mkdocs.plugins.minzheng")

STATUS_TEXT = {
    "eligible": '<span class="mz-yes">✓</span> eligible 符合',
    "ineligible": '<span class="mz-no">✗</span> ineligible 不符合',
    "undetermined": '<span class="mz-maybe">?</span> undetermined 待定',
}
MARK = {
    True: '<span class="mz-yes">✓</span>',
    False: '<span class="mz-no">✗</span>',
    None: '<span class="mz-maybe">?</span>',
}


def case_path(pid: str, case_id: str) -> str:
    return f"examples/{pid}/{case_id}.md"


def case_title(pack: Pack, case: S.Case) -> str:
    """A Chinese title a reader can scan: city, household size, date, what it is about."""
    n = len(case.household.get("members") or [])
    labels = [
        pack.programs[pid].spec.label.zh
        for pid, want in case.expect.items()
        if pid in pack.programs and want.status == "eligible"
    ]
    if labels:
        about = "、".join(labels[:3]) + ("等" if len(labels) > 3 else "")
    elif case.expect:
        first = next(iter(case.expect))
        label = pack.programs[first].spec.label.zh if first in pack.programs else first
        status = {"ineligible": "不符合", "undetermined": "待定"}.get(case.expect[first].status, "")
        about = f"{label}{status}"
    else:
        about = "六无六有与需求"
    return f"{pack.manifest.label.zh}：{n}口之家，{case.date}，{about}"


def examples_page(pack: Pack) -> str:
    """The pack's list of worked examples; each case has a page of its own."""
    m = pack.manifest
    out = [
        f"# 案例 Worked examples: {md.esc(m.label.zh)} {md.esc(m.label.en)}",
        "",
        f"The golden cases of the `{pack.id}` pack, evaluated when this site was built, one page "
        "each. Each states its hand computation; the trace is what the engine did, with every "
        "parameter's value and source. 标准案例：手算过程与引擎的解释过程，每例一页。",
        "",
    ]
    rows = []
    for case in pack.cases:
        link = Links.rel(Links.examples(pack.id), case_path(pack.id, case.id))
        rows.append([f"[{md.esc(case_title(pack, case))}]({link})", str(case.date), f"`{case.id}`"])
    out += md.table(["案例 Case", "日期 Date", "id"], rows)
    return "\n".join(out)


def case_pages(pack: Pack) -> dict[str, str]:
    """One page per golden case (path → markdown)."""
    return {case_path(pack.id, c.id): _case_page(pack, c) for c in pack.cases}


def _case_page(pack: Pack, case: S.Case) -> str:
    back = Links.rel(case_path(pack.id, case.id), Links.examples(pack.id))
    calc = Links.rel(case_path(pack.id, case.id), "calculator.md")
    out = [f"# {md.esc(case_title(pack, case))}", ""]
    out += [
        f"Case `{md.esc(case.id)}` of the {md.esc(pack.manifest.label.en)} pack "
        f"([all cases 全部案例]({back})). Try it yourself in the "
        f"[calculator 计算器]({calc}) (pick the example there).",
        "",
    ]
    body = _case(pack, case)
    return "\n".join([*out, *body[2:]])  # its own title replaces the section heading


def _case(pack: Pack, case: S.Case) -> list[str]:
    out = [f"## {md.esc(case.id)} {{#{md.anchor('case', case.id)}}}", ""]
    out += [f"Evaluated on 评估日期 **{case.date}**.", ""]
    out += md.block("quote", "Hand computation 手算过程", [md.esc(case.computation)])
    out += _household(case.household)
    try:
        ev = evaluate(pack, case.household, case.date, explain=True)
    except MinzhengError as e:
        log.warning("golden case %s of pack %s cannot be evaluated: %s", case.id, pack.id, e)
        return [*out, *md.block("failure", "Cannot evaluate 无法评估", [md.esc(e)])]
    out += _results(case, ev)
    # The long trace is read on the page, not searched: it would swell the search index.
    out += ['<section class="mz-trace" data-search-exclude markdown>', ""]
    out += _plan(pack, ev)
    used: dict[str, list[str]] = {}
    for pid in case.expect:
        if pid in ev.programs:
            out += _trace(ev.programs[pid], used)
    if used:
        rows = [[f"`p.{name}`", *cells] for name, cells in sorted(used.items())]
        body = md.table(["参数 Parameter", "值 Value", "可信度", "出处 Source"], rows)
        out += md.block("abstract", "Parameters used and their sources 所用参数及出处", body, True)
    return [*out, "</section>", ""]


_SECTION_LABELS = {
    "id": ("编号", "id"),
    "assets": ("家庭资产", "assets"),
    "expenses": ("家庭支出", "expenses"),
    "housing": ("住房", "housing"),
    "receiving": ("正在享受", "receiving now"),
    "assessed_needs": ("入户评估需求", "needs assessed on a visit"),
    "birth_date": ("出生日期", "birth date"),
}


def _field_label(name: str) -> str:
    """A household field as a reader knows it (中文 and English), with its name in the file."""
    label = FACT_LABELS.get(name) or _SECTION_LABELS.get(name)
    return f"{label[0]} {label[1]} (`{name}`)" if label else f"`{name}`"


def _household(data: dict[str, Any]) -> list[str]:
    members = data.get("members") or []
    keys: list[str] = []
    for mem in members:
        keys += [k for k in mem if k not in keys]
    out = ["**家庭 Household** " + f"`{md.esc(data.get('id', ''))}`", ""]
    if members:
        out += md.table(
            [_field_label(k) for k in keys],
            [[md.esc(mem.get(k, "")) for k in keys] for mem in members],
        )
    rest = {k: v for k, v in data.items() if k not in ("id", "members")}
    for key, value in rest.items():
        shown = (
            ", ".join(f"{_field_label(f'{key}.{k}')} = {md.esc(v)}" for k, v in value.items())
            if isinstance(value, dict)
            else md.esc(value)
        )
        out.append(f"- {_field_label(key)}: {shown}")
    if rest:
        out.append("")
    return out


def _amount(p: ProgramOutcome) -> str:
    value = money(p.amount) if p.unit.startswith("CNY") else p.amount
    return f"{value} {md.UNIT_ZH.get(p.unit, p.unit)}"


def _results(case: S.Case, ev: Evaluation) -> list[str]:
    rows = []
    for pid, p in ev.programs.items():
        want = case.expect.get(pid)
        if want is None and p.status.value == "ineligible":
            continue  # the case is not about it, and it does not apply
        expected, ok = "", ""
        if want is not None:
            expected = want.status + (f" {want.amount}" if want.amount is not None else "")
            got_amount = money(p.amount) if p.unit.startswith("CNY") else p.amount
            same = want.status == p.status.value and (
                want.amount is None or Decimal(want.amount) == got_amount
            )
            ok = f"{MARK[True]} matches 一致" if same else f"{MARK[False]} differs 不一致"
            if not same:
                log.warning("golden case %s: %s expected %s", case.id, pid, expected)
        rows.append(
            [
                f"{md.bilingual(S.Label(zh=p.label_zh, en=p.label_en))} `{pid}`",
                STATUS_TEXT[p.status.value],
                _amount(p),
                md.esc(expected) or "—",
                ok or "—",
            ]
        )
    return [
        "**结果 Result**",
        "",
        *md.table(["项目 Program", "结果 Status", "金额 Amount", "预期 Expected", "核对"], rows),
    ]


PLAN_SECTIONS = {
    "programs": "救助项目 Program",
    "service": "服务 Service",
    "charity": "慈善 Charity",
    "tags": "六无六有 Tag",
    "needs": "需求 Need",
}


def _cited(citation: str) -> str:
    """The plan's ``[confidence] text`` citation with the confidence shown as a mark."""
    if citation.startswith("[") and "]" in citation:
        conf, _, text = citation[1:].partition("]")
        if conf in md.CONFIDENCE_TEXT:
            text = text.strip()
            short = text if len(text) <= 160 else text[:159] + "…"
            return f"{md.badge(conf)} {md.esc(short)}"
    return md.esc(citation)


def _plan(pack: Pack, ev: Evaluation) -> list[str]:
    """The household's 幸福清单 (analysis.plan): programs, services, tags and needs, cited."""
    lines = plan_lines(pack, ev)
    rows = [
        [
            PLAN_SECTIONS.get(ln.section, ln.section),
            f"{md.esc(ln.label_zh)}<br>{md.esc(ln.label_en)}",
            f"`{ln.id}`",
            md.esc(ln.detail),
            _cited(ln.citation),
        ]
        for ln in lines
    ]
    total = sum(
        (money(p.amount) for p in ev.programs.values() if p.eligible and p.unit == "CNY/month"),
        Decimal(0),
    )
    headers = ["类别 Kind", "项目 Item", "id", "内容 Detail", "依据 Source"]
    if rows:
        body = md.table(headers, rows)
    else:
        body = ["Nothing applies to this household. 无适用项目。", ""]
    body += [f"Cash per month 每月现金合计: **{money(total)} 元**"]
    return md.block("success", "幸福清单 What this household receives", body)


def _conditions(reasons: list[ConditionOutcome], used: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for r in reasons:
        out.append(
            f"- {MARK[r.passed]} **{md.esc(r.label_zh)}** {md.esc(r.label_en)}: "
            f"{md.code(r.expression)}"
        )
        if r.missing:
            out.append(f"    - missing 缺少: {', '.join(f'`{x}`' for x in r.missing)}")
        for k, v in (r.values or {}).items():
            out.append(f"    - `{k}` = {md.esc(v)}")
        for u in r.parameters or []:
            out.append(f"    - `p.{u.name}` = **{md.esc(u.value)}** {md.badge(u.confidence)}")
            if u.name not in used:
                used[u.name] = [
                    f"{md.esc(u.value)} {md.esc(u.unit)}",
                    md.badge(u.confidence),
                    _source(u.source),
                ]
    return out


def _source(raw: dict[str, str]) -> str:
    try:
        return md.source_text(S.Source.model_validate(raw))
    except ValueError:
        return md.esc(raw)


def _trace(p: ProgramOutcome, used: dict[str, list[str]]) -> list[str]:
    """Why a program came out as it did: each condition with its values, then the amount."""
    body = [f"Status 结果: {STATUS_TEXT[p.status.value]}, amount 金额 {_amount(p)}", ""]
    if p.missing:
        body += [f"Missing facts 缺少信息: {', '.join(f'`{x}`' for x in p.missing)}", ""]
    if p.excluded_by:
        body += [f"Not paid: excluded by 因互斥未发放: `{p.excluded_by}`", ""]
    body += _conditions(p.reasons, used)
    for mid, mo in (p.members or {}).items():
        body += ["", f"Member 成员 `{mid}`: {STATUS_TEXT[mo.status.value]}, {money(mo.amount)}", ""]
        body += _conditions(mo.reasons, used)
    a = p.amount_explanation
    if a:
        body += ["", f"**Amount 金额** = {md.code(a['expression'])}", ""]
        body += [f"- `{k}` = {md.esc(v)}" for k, v in a.get("values", {}).items()]
        for k, v in a.get("parameters", {}).items():
            conf = v.get("confidence", "")
            body.append(f"- `p.{k}` = **{md.esc(v.get('value'))}** {md.badge(conf)}")
            if k not in used:
                used[k] = [md.esc(v.get("value")), md.badge(conf), md.esc(v.get("citation", ""))]
    kind = "success" if p.eligible else "info"
    return md.block(kind, f"为什么 Why: {p.label_zh} {p.label_en}", body, collapsible=True)


def examples_index(packs: list[Pack], links: Links) -> str:
    out = [
        "# 案例 Worked examples",
        "",
        "Golden cases: example households with the answer worked out by hand, checked by the "
        "test suite and evaluated again each time this site is built. 标准案例。",
        "",
    ]
    rows = []
    for p in packs:
        if p.id not in links.example_pages:
            continue
        target = Links.rel("examples/index.md", Links.examples(p.id))
        rows.append([f"[{md.bilingual(p.manifest.label)}]({target})", str(len(p.cases))])
    if rows:
        out += md.table(["政策包 Pack", "案例数 Cases"], rows)
    else:
        out += ["No pack has golden cases yet. 尚无标准案例。", ""]
    return "\n".join(out)
