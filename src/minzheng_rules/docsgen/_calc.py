"""The checked pack as data for the in-page calculator (``docs/javascripts/mz-calc.js``).

The browser cannot run Python, so the explorer ships each pack's checked expression trees (names
already resolved by the checker), every parameter's dated history, the program order and the
exclusions: the page binds them to the reader's date and evaluates exactly as the reference
evaluator does (a parity test in headless Chromium holds the two together). Written as a
``<script>`` (``window.MZ_PACKS[id] = …``) rather than JSON so the page works from file://,
where ``fetch`` is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from minzheng_rules.docsgen._examples import case_title
from minzheng_rules.docsgen._seeds import readable, seed_title
from minzheng_rules.expr._checker import Checked
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
from minzheng_rules.model._facts import HOUSEHOLD_FACTS, MEMBER_FACTS, member_fact_defaults
from minzheng_rules.packs._deps import DepKind, DepNode, names_of
from minzheng_rules.packs._pack import Expr, Pack

FORMAT = 1  # bumped when the shape below changes


def _literal(value: Any) -> Any:
    """Numbers travel as ``{"d": "1.5"}`` (exact decimal text); bools and text as themselves."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, Decimal)):
        return {"d": str(value)}
    raise TypeError(f"cannot export literal {value!r}")


def _node(node: Node, checked: Checked) -> dict[str, Any]:
    """One expression node as plain JSON, names resolved to what they refer to."""
    match node:
        case Const(value=v):
            return {"k": "const", "v": _literal(v)}
        case Name(path=path):
            s = checked.symbols[id(node)]
            out: dict[str, Any] = {"k": "name", "kind": s.kind, "n": s.name, "path": path}
            if s.loop_var is not None:
                out["lv"] = s.loop_var
            if s.field is not None:
                out["field"] = s.field
            if s.per_member:
                out["pm"] = True
            if s.kind in ("household", "member"):
                facts = HOUSEHOLD_FACTS if s.kind == "household" else MEMBER_FACTS
                out["fact"] = s.name in facts or s.name.startswith(("receiving.", "receiving_"))
            return out
        case Unary(op=op, operand=o):
            return {"k": "unary", "op": op, "a": _node(o, checked)}
        case Binary(op=op, left=a, right=b):
            return {"k": "bin", "op": op, "a": _node(a, checked), "b": _node(b, checked)}
        case Compare(ops=ops, operands=xs):
            return {"k": "cmp", "ops": list(ops), "xs": [_node(x, checked) for x in xs]}
        case In(operand=o, options=opts, negated=neg):
            return {
                "k": "in",
                "a": _node(o, checked),
                "opts": [_literal(v) for v in opts],
                "neg": neg,
            }
        case BoolOp(op=op, values=xs):
            return {"k": "bool", "op": op, "xs": [_node(x, checked) for x in xs]}
        case IfElse(cond=c, then=t, orelse=e):
            return {
                "k": "if",
                "c": _node(c, checked),
                "t": _node(t, checked),
                "e": _node(e, checked),
            }
        case Call(func=f, args=args):
            return {"k": "call", "f": f, "xs": [_node(x, checked) for x in args]}
        case Aggregate(func=f, var=var, element=el, where=w):
            return {
                "k": "agg",
                "f": f,
                "var": var,
                "el": _node(el, checked) if el is not None else None,
                "w": _node(w, checked) if w is not None else None,
            }
    raise TypeError(f"cannot export {node!r}")


def _expr(e: Expr) -> dict[str, Any]:
    return {"src": e.source, "tree": _node(e.checked.node, e.checked)}


def _label(label: Any) -> dict[str, str] | None:
    return None if label is None else {"zh": label.zh, "en": label.en}


def _source(source: Any) -> dict[str, Any]:
    """The source as written, with a seed report's title and internal references in words."""
    out = source.model_dump(mode="json", exclude_none=True)
    if source.seed and seed_title(source.seed):
        out["seed_title"] = seed_title(source.seed)
    for key in ("reasoning", "note", "document"):
        if key in out:
            out[key] = readable(out[key])
    return out


def _citations(citations: list[Any]) -> list[dict[str, Any]]:
    return [{"confidence": c.confidence.value, "source": _source(c.source)} for c in citations]


def _params_of(pack: Pack, nodes: list[DepNode]) -> list[str]:
    return sorted(names_of(pack.requirements(nodes), DepKind.PARAMETER))


def export_pack(pack: Pack) -> dict[str, Any]:
    """Everything the calculator needs to evaluate any household on any date with ``pack``."""
    defaults, optional = member_fact_defaults()
    parameters: dict[str, Any] = {}
    for name, p in pack.parameters.items():
        entry: dict[str, Any] = {
            "label": _label(p.label),
            "unit": str(p.unit.value),
            "type": p.type,
        }
        if p.history is not None:
            entry["history"] = [
                {
                    "since": h.since.isoformat(),
                    "since_assumed": h.since_assumed,
                    "value": h.value if isinstance(h.value, bool) else str(h.value),
                    "confidence": h.confidence.value,
                    "source": _source(h.source),
                }
                for h in p.history
            ]
        elif p.set_by is not None:
            entry["set_by"] = p.set_by
        else:
            entry["formula"] = _expr(pack.derived[name])
            entry["confidence"] = p.confidence.value if p.confidence else None
            entry["source"] = _source(p.source) if p.source else None
        parameters[name] = entry
    programs: dict[str, Any] = {}
    for pid, prog in pack.programs.items():
        spec = prog.spec
        programs[pid] = {
            "label": _label(spec.label),
            "entity": prog.entity,
            "unit": str(spec.unit.value),
            "rounding": {"digits": spec.rounding.digits, "mode": spec.rounding.mode},
            "in_force": spec.in_force.model_dump(mode="json"),
            "conditions": [
                {"id": c.id, "label": _label(c.label), **_expr(e)} for c, e in prog.conditions
            ],
            "amount": _expr(prog.amount) if prog.amount is not None else None,
            "citations": _citations(spec.citations),
            "params": _params_of(pack, [DepNode.program(pid)]),
        }
    relief = pack.relief
    relief_nodes = [node for node, _ in relief.expressions()]
    groups = pack.exclusion_groups()
    return {
        "format": FORMAT,
        "id": pack.id,
        "label": _label(pack.manifest.label),
        "level": pack.manifest.level,
        "chain": list(pack.definition.chain),
        "order": list(pack.order),
        "program_ids": list(pack.programs),
        "member_defaults": defaults,
        "member_optional": optional,
        "parameters": parameters,
        "variables": {
            name: {
                "entity": e.checked.entity,
                "label": _label(pack.definition.variables[name].label),
                **_expr(e),
            }
            for name, e in pack.variables.items()
        },
        "tables": {
            name: {
                "entity": t.spec.entity,
                "label": _label(t.spec.label),
                "policy": t.spec.hit_policy.value,
                "rows": [{"when": _expr(w), "then": _expr(th)} for w, th in t.rows],
                "default": _expr(t.default),
            }
            for name, t in pack.tables.items()
        },
        "programs": programs,
        "exclusions": [
            {
                "id": exc.id,
                "label": _label(exc.label),
                "programs": list(exc.programs),
                "keep": exc.keep,
                "group": sorted(groups[exc.programs[0]]),
            }
            for exc in pack.exclusion_order()
        ],
        "relief_params": _params_of(pack, relief_nodes),
        "tags": {
            tid: {"label": _label(tag.label), **_expr(e)} for tid, (tag, e) in relief.tags.items()
        },
        "needs": {
            lid: {
                "label": _label(le.spec.label) if hasattr(le, "spec") else None,
                "expr": _expr(le.expr) if le.expr is not None else None,
            }
            for lid, le in relief.labels.items()
        },
        "cases": [
            {
                "id": c.id,
                "title": case_title(pack, c),
                "date": c.date.isoformat(),
                "household": c.household,
            }
            for c in pack.cases
        ],
    }


def pack_script(pack: Pack) -> str:
    """The export as a script that registers it in ``window.MZ_PACKS``."""
    data = json.dumps(export_pack(pack), ensure_ascii=False, separators=(",", ":"), default=str)
    return (
        "window.MZ_PACKS = window.MZ_PACKS || {};\n"
        f"window.MZ_PACKS[{json.dumps(pack.id)}] = {data};\n"
    )


def evaluable(pack: Pack, on: dt.date) -> dt.date | None:
    """A date the pack can be evaluated on by itself (``on`` if it can), or None: a provincial
    or national pack whose standards are set by the cities cannot."""
    from minzheng_rules.model._errors import MinzhengError

    for day in [on, *reversed(pack.parameter_dates())]:
        if day.year < 1900:
            continue
        try:
            pack.plan(day)
        except MinzhengError:
            continue
        return day
    return None


def pack_data_path(pid: str) -> str:
    return f"javascripts/packs/{pid}.js"


def calculator_page(packs: list[Pack], on: dt.date) -> str:
    """The calculator page: a mount point, the scripts, and what it does in words."""
    usable = [p for p in packs if evaluable(p, on) is not None]
    others = [p for p in packs if p not in usable]
    scripts = [
        "javascripts/vendor/decimal.js",
        "javascripts/mz-calc.js",
        *(pack_data_path(p.id) for p in usable),
        "javascripts/mz-calc-ui.js",
    ]
    out = [
        "# 家庭计算器 Household calculator",
        "",
        "选择城市和日期，填写家庭情况，即可看到每个救助项目的结果、金额和依据。计算在本页内完成，"
        "不上传任何数据。",
        "",
        "Pick a city and a date, describe the household, and see each program's status, "
        "amount and why, with the sources of every number. It runs in this page (no server, "
        "nothing is sent) with the same rules and the same exact money arithmetic as "
        "`minzheng eval --explain`; a test checks both give the same answer on every worked "
        "example and thousands of generated households. *Save JSON* writes the household file "
        "the command line reads: `minzheng eval PACK household.json --date D --explain`.",
        "",
        "Unknown facts (left blank) make a program **待定 undetermined** and the page names "
        "what to ask for, rather than guessing.",
        "",
        f'<div id="mz-calc" class="mz-calc" data-date="{on.isoformat()}" '
        f'data-packs="{",".join(p.id for p in usable)}"></div>',
        "",
        "<noscript>The calculator needs JavaScript. 计算器需要启用 JavaScript。</noscript>",
        "",
        *(f'<script src="{s}"></script>' for s in scripts),
        "",
    ]
    if others:
        names = "、".join(f"{p.manifest.label.zh} {p.manifest.label.en}" for p in others)
        out += [
            f"Not offered here: {names} — their standards are set by the cities, so they are "
            "evaluated through a city pack. 省级和国家政策包通过城市政策包计算。",
            "",
        ]
    return "\n".join(out)


def calculator_files(packs: list[Pack], on: dt.date) -> dict[str, str]:
    """Generated files: the page and one data script per pack."""
    files = {"calculator.md": calculator_page(packs, on)}
    for p in packs:
        files[pack_data_path(p.id)] = pack_script(p)
    return files
