"""Rules in plain words: an expression printed with each name replaced by its label.

``per_capita_income < p.dibao.standard`` reads 「家庭月人均收入」 < 「最低生活保障标准」 in Chinese
and *Monthly income per countable member* < *Minimum living guarantee (dibao) standard* in
English. The expression itself is shown beside it, so nothing is lost in the wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from minzheng_rules.docsgen._md import esc
from minzheng_rules.expr._nodes import (
    Aggregate,
    Binary,
    BoolOp,
    Call,
    Compare,
    Const,
    IfElse,
    In,
    Name,
    Node,
    Unary,
)
from minzheng_rules.expr._parser import ExpressionSyntaxError, parse
from minzheng_rules.model._facts import FACT_LABELS  # each entry of the fact table has its own
from minzheng_rules.packs._pack import Pack

Lang = Literal["zh", "en"]

# Labels of the choices a fact can take (model/facts.py lists the values).
CHOICE_LABELS: dict[str, tuple[str, str]] = {
    "head": ("户主", "head"),
    "spouse": ("配偶", "spouse"),
    "child": ("子女", "child"),
    "parent": ("父母", "parent"),
    "grandchild": ("孙子女", "grandchild"),
    "grandparent": ("祖父母", "grandparent"),
    "sibling": ("兄弟姐妹", "sibling"),
    "other": ("其他", "other"),
    "full": ("全自理", "full"),
    "partial": ("半自理", "partial"),
    "none": ("无", "none"),
    "physical": ("肢体", "physical"),
    "visual": ("视力", "visual"),
    "hearing": ("听力", "hearing"),
    "speech": ("言语", "speech"),
    "intellectual": ("智力", "intellectual"),
    "mental": ("精神", "mental"),
    "multiple": ("多重", "multiple"),
    "preschool": ("学前", "preschool"),
    "primary": ("小学", "primary"),
    "junior": ("初中", "junior secondary"),
    "senior": ("高中", "senior secondary"),
    "vocational": ("中职", "vocational"),
    "undergraduate": ("大学", "undergraduate"),
    "present": ("在", "present"),
    "deceased": ("死亡", "deceased"),
    "imprisoned": ("服刑", "imprisoned"),
    # the parents' statuses of 民发〔2019〕62号, as policies/national/variables.yaml reads them
    "missing": ("失联", "missing"),
    "compulsory_rehab": ("强制隔离戒毒", "in compulsory drug rehabilitation"),
    "detained": ("被限制人身自由", "deprived of liberty"),
    "severely_disabled": ("重度残疾", "severely disabled"),
    "seriously_ill": ("重病", "seriously ill"),
    "family": ("家庭抚养", "family"),
    "kinship": ("亲属抚养", "kinship"),
    "institutional": ("机构养育", "institutional"),
}

_CMP = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}
_ARITH = {"+": "+", "-": "−", "*": "×", "/": "÷"}


@dataclass
class _Words:
    lang: Lang
    label: Callable[[str, bool], str | None]  # (name, is_member) -> label

    def name(self, path: str, loop_vars: frozenset[str]) -> str:
        head, _, rest = path.partition(".")
        zh = self.lang == "zh"
        if head == "p" and rest:
            text = self.label(f"p.{rest}", False)
        elif head in loop_vars:
            text = (
                self._program(rest.removeprefix("programs."))
                if rest.startswith("programs.")
                else self.label(rest, True)
            )
        elif head == "programs":
            text = self._program(rest)
        else:
            text = self.label(path, False)
        if text is None:
            return f"`{path}`"
        return f"「{esc(text)}」" if zh else f"*{esc(text)}*"

    def _program(self, rest: str) -> str | None:
        pid, _, field = rest.partition(".")
        label = self.label(f"programs.{pid}", False) or pid
        if self.lang == "zh":
            return f"{label}{'资格' if field == 'eligible' else '金额'}"
        return f"{label} {'eligibility' if field == 'eligible' else 'amount'}"


def plain(text: str, pack: Pack, lang: Lang) -> str:
    """An expression of ``pack`` in plain words (Markdown). Text that does not parse is shown
    as code: the docs never hide a rule they cannot word."""
    try:
        node = parse(text)
    except ExpressionSyntaxError:
        return f"`{' '.join(text.split())}`"
    words = _Words(lang, _labeller(pack, lang))
    return _render(node, words, frozenset())


def _labeller(pack: Pack, lang: Lang) -> Callable[[str, bool], str | None]:
    d = pack.definition
    pick = 0 if lang == "zh" else 1
    needs = {
        lab.id: lab.label
        for c in (d.needs.categories if d.needs else [])
        for sub in c.subitems
        for lab in sub.labels
    }

    def label(name: str, is_member: bool) -> str | None:
        if name.startswith("p."):
            spec = d.parameters.get(name[2:])
            return getattr(spec.label, lang) if spec else None
        if name.startswith("programs."):
            prog = d.programs.get(name[9:])
            return getattr(prog.label, lang) if prog else None
        head, _, rest = name.partition(".")
        if head in ("receiving", "receiving_amount") and rest in d.programs:
            prog_label = getattr(d.programs[rest].label, lang)
            if head == "receiving":
                return f"正在享受{prog_label}" if lang == "zh" else f"receiving {prog_label}"
            return f"现享{prog_label}金额" if lang == "zh" else f"current {prog_label} amount"
        if head in ("previous", "member") and rest:  # monitoring rules (alerts)
            inner = label(rest, head == "member")
            if inner is None:
                return None
            if head == "previous":
                return f"事件前的{inner}" if lang == "zh" else f"{inner} before the event"
            return f"该成员的{inner}" if lang == "zh" else f"the member's {inner}"
        if head == "event" and rest:
            return f"事件的 {rest}" if lang == "zh" else f"the event's {rest}"
        if head == "needs" and rest in needs:
            return ("需求：" if lang == "zh" else "need: ") + getattr(needs[rest], lang)
        for section in (d.variables, d.tables):
            defined = section.get(name)
            if defined is not None and (not is_member or defined.entity == "member"):
                return getattr(defined.label, lang)
        if name in FACT_LABELS:
            return FACT_LABELS[name][pick]
        return None

    return label


def _choice(value: object, lang: Lang) -> str:
    if isinstance(value, str):
        zh, en = CHOICE_LABELS.get(value, (value, value))
        shown = zh if lang == "zh" else en
        return f"{esc(shown)} (`{value}`)" if shown != value else f"`{value}`"
    return str(value)


def _wrap(node: Node, words: _Words, lv: frozenset[str]) -> str:
    text = _render(node, words, lv)
    simple = isinstance(node, Const | Name | Call | Aggregate)
    return text if simple else f"({text})"


def _render(node: Node, w: _Words, lv: frozenset[str]) -> str:
    zh = w.lang == "zh"
    match node:
        case Const(value=bool() as v):
            return ("是" if v else "否") if zh else ("true" if v else "false")
        case Const(value=str() as v):
            return _choice(v, w.lang)
        case Const(value=v):
            return str(v)
        case Name(path=p):
            return w.name(p, lv)
        case Unary(op="not", operand=o):
            return f"并非{_wrap(o, w, lv)}" if zh else f"not {_wrap(o, w, lv)}"
        case Unary(operand=o):
            return f"−{_wrap(o, w, lv)}"
        case Binary(op=op, left=a, right=b):
            return f"{_wrap(a, w, lv)} {_ARITH[op]} {_wrap(b, w, lv)}"
        case Compare(ops=ops, operands=operands):
            out = _wrap(operands[0], w, lv)
            for op, right in zip(ops, operands[1:], strict=True):
                out += f" {_CMP[op]} {_wrap(right, w, lv)}"
            return out
        case In(operand=o, options=opts, negated=neg):
            choices = ("、" if zh else ", ").join(_choice(x, w.lang) for x in opts)
            if zh:
                return f"{_wrap(o, w, lv)}{'不' if neg else ''}属于 {choices}"
            return f"{_wrap(o, w, lv)} is {'not ' if neg else ''}one of {choices}"
        case BoolOp(op=op, values=vals):
            joiner = {"and": " 且 ", "or": " 或 "}[op] if zh else f" {op} "
            return joiner.join(_wrap(v, w, lv) for v in vals)
        case IfElse(cond=c, then=t, orelse=e):
            if zh:
                return f"若 {_wrap(c, w, lv)}，则 {_wrap(t, w, lv)}；否则 {_wrap(e, w, lv)}"
            return f"{_wrap(t, w, lv)} if {_wrap(c, w, lv)}, otherwise {_wrap(e, w, lv)}"
        case Call(func=fn, args=args):
            return _call(fn, [_render(a, w, lv) for a in args], args, zh)
        case Aggregate(func=fn, var=var, element=el, where=where):
            inner = lv | {var}
            cond = _render(where, w, inner) if where is not None else None
            body = _render(el, w, inner) if el is not None else ""
            return _aggregate(fn, body, cond, zh)
    return f"`{node!r}`"


def _call(fn: str, parts: list[str], args: tuple[Node, ...], zh: bool) -> str:
    if fn == "max":
        return f"较大值({', '.join(parts)})" if zh else f"the larger of ({', '.join(parts)})"
    if fn == "min":
        return f"较小值({', '.join(parts)})" if zh else f"the smaller of ({', '.join(parts)})"
    if fn == "abs":
        return f"|{parts[0]}|"
    if fn == "clamp":
        x, lo, hi = parts
        return f"{x}（限定在 {lo} 至 {hi}）" if zh else f"{x}, kept between {lo} and {hi}"
    if fn == "round":
        digits = parts[1]
        mode = args[2].value if isinstance(args[2], Const) else parts[2]
        if zh:
            return f"{parts[0]}（按 {mode} 保留 {digits} 位小数）"
        return f"{parts[0]} rounded to {digits} decimals ({mode})"
    if fn == "date":
        return parts[0].strip("`'")
    return f"{fn}({', '.join(parts)})"


def _aggregate(fn: str, body: str, cond: str | None, zh: bool) -> str:
    if zh:
        who = f"满足 {cond} 的成员" if cond else "全体成员"
        return {
            "count": f"{who}人数",
            "sum": f"{who}的 {body} 之和",
            "any": f"{who}中有人 {body}",
            "all": f"{who}都 {body}",
            "max": f"{who}的 {body} 最大值",
            "min": f"{who}的 {body} 最小值",
        }[fn]
    who = f"members with {cond}" if cond else "all members"
    return {
        "count": f"number of {who}",
        "sum": f"sum of {body} over {who}",
        "any": f"any of {who}: {body}",
        "all": f"every one of {who}: {body}",
        "max": f"largest {body} among {who}",
        "min": f"smallest {body} among {who}",
    }[fn]
