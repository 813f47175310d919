"""One page per parameter across the packs (``params/<name>.md``): every pack's value on the
site's date with the date it has been in force since, the history chart, each pack's history
with its sources, the programs that read it; and the downloads (CSV and JSON for the parameter
tables and the comparison, each pack as JSON)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from minzheng_rules.docsgen import _md as md
from minzheng_rules.docsgen._calc import export_pack
from minzheng_rules.docsgen._compare import cities_chart, dated_cell, stale_before
from minzheng_rules.docsgen._links import Links
from minzheng_rules.docsgen._pages_pack import rule_lines
from minzheng_rules.docsgen._values import is_standard, series, value_on
from minzheng_rules.packs._deps import DepNode
from minzheng_rules.packs._pack import Pack

BOOST = 4  # below program pages, above the long pack pages


_NEEDS: dict[tuple[int, str], set[DepNode]] = {}


def _needs(pack: Pack, pid: str) -> set[DepNode]:
    key = (id(pack), pid)
    if key not in _NEEDS:
        _NEEDS[key] = pack.needs([pid])
    return _NEEDS[key]


def page_path(name: str) -> str:
    return f"params/{name}.md"


def parameter_names(packs: list[Pack]) -> list[str]:
    return sorted({name for p in packs for name in p.parameters})


def _label(name: str, packs: list[Pack]) -> Any:
    return next(p.parameters[name].label for p in reversed(packs) if name in p.parameters)


def _source_line(source: Any) -> str:
    """A citation as plain text for a CSV cell."""
    if source is None:
        return ""
    parts = [source.document, source.number, source.issuer, source.article]
    text = " ".join(x for x in parts if x)
    if source.seed:
        text = (text + "; " if text else "") + f"seed report {source.seed}"
    if source.quote:
        text += f" “{source.quote}”"
    if source.reasoning:
        text = (text + "; " if text else "") + f"modelled: {source.reasoning}"
    return text


def params_index(packs: list[Pack]) -> str:
    out = [
        "# 参数 Parameters",
        "",
        "One page per parameter: every pack's value, since when, its history and sources. "
        "每个参数一页：各地取值、起始日期、历史与出处。",
        "",
    ]
    rows = []
    for name in parameter_names(packs):
        label = _label(name, packs)
        having = "、".join(p.manifest.label.zh for p in packs if name in p.parameters)
        rows.append([f"[{md.bilingual(label)}]({name}.md)", md.code(name), md.esc(having)])
    out += md.table(["参数 Parameter", "name", "政策包 Packs"], rows)
    return "\n".join(out)


def param_page(name: str, packs: list[Pack], on: dt.date, links: Links) -> str:
    src = page_path(name)
    label = _label(name, packs)
    having = [p for p in packs if name in p.parameters]
    spec0 = having[0].parameters[name]
    out = ["---", "search:", f"  boost: {BOOST}", "---", ""]
    out += [f"# {md.esc(label.zh)} {md.esc(label.en)}", ""]
    out += [f"{md.code(name)} · {md.unit_text(spec0.unit)} · type {spec0.type}", ""]
    if spec0.description is not None:
        out += [md.bilingual(spec0.description), ""]
    out += [f"## {on} 各地取值 Each pack on {on} {{#on-date}}", ""]
    out += [
        f"With the date each value has been in force since; ⚠ marks a value in force since "
        f"before {stale_before(on)} (over two years before the date).",
        "",
    ]
    rows = []
    for p in having:
        spec = p.parameters[name]
        shown = value_on(p, name, on)
        unit = md.UNIT_ZH.get(spec.unit.value, "")
        if shown is not None:
            cell = dated_cell(shown, unit, on)
        elif spec.set_by:
            cell = f"set by a {spec.set_by} pack 由{md.LEVEL_TEXT[spec.set_by][0]}政策包设定"
        else:
            cell = "— not in force 未生效"
        rows.append([links.pack_link(src, p.id, md.bilingual(p.manifest.label)), cell])
    out += md.table(["政策包 Pack", "取值 Value"], rows)
    if is_standard(spec0) and any(series(p, name, on) for p in having):
        out += cities_chart(name, [p for p in having if series(p, name, on)], packs, on)
    readers = []
    for p in having:
        for pid in p.programs:
            if DepNode.parameter(name) in _needs(p, pid):
                readers.append(f"[{md.esc(p.programs[pid].spec.label.zh)}](../programs/{pid}.md)")
    if readers:
        out += [f"Read by 用于: {' · '.join(dict.fromkeys(readers))}", ""]
    for p in having:
        spec = p.parameters[name]
        out += [f"## {md.esc(p.manifest.label.zh)} {md.esc(p.manifest.label.en)} {{#{p.id}}}", ""]
        if spec.history is not None:
            hist = [
                [
                    str(h.since),
                    f"**{md.number(h.value)}**",
                    md.badge(h.confidence),
                    md.source_text(h.source),
                ]
                for h in spec.history
            ]
            out += md.table(["起始 Since", "值 Value", "可信度 Confidence", "出处 Source"], hist)
        elif spec.formula is not None:
            out += ["Derived 推导: " + "<br>".join(rule_lines(spec.formula, p)), ""]
            if spec.confidence is not None:
                out += [f"{md.badge(spec.confidence)} {md.source_text(spec.source)}", ""]
        else:
            out += [f"Set by a {spec.set_by} pack. 由下级政策包设定。", ""]
    out += [f"Download 下载: [CSV](../downloads/params/{name}.csv)", ""]
    return "\n".join(out)


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


HISTORY_HEADER = ["pack", "parameter", "label_zh", "label_en", "unit", "since", "value"]
HISTORY_HEADER += ["confidence", "source"]


def _history_rows(p: Pack, name: str) -> list[list[Any]]:
    spec = p.parameters[name]
    return [
        [
            *(p.id, name, spec.label.zh, spec.label.en, spec.unit.value, h.since, h.value),
            *(h.confidence.value, _source_line(h.source)),
        ]
        for h in spec.history or ()
    ]


def download_files(packs: list[Pack], on: dt.date) -> dict[str, str]:
    """CSV and JSON downloads: every parameter's history, the comparison on ``on``, the packs."""
    files: dict[str, str] = {}
    all_rows: list[list[Any]] = []
    for name in parameter_names(packs):
        rows = [r for p in packs if name in p.parameters for r in _history_rows(p, name)]
        files[f"downloads/params/{name}.csv"] = _csv(HISTORY_HEADER, rows)
        all_rows += rows
    files["downloads/parameters.csv"] = _csv(HISTORY_HEADER, all_rows)
    compare_rows = []
    for p in packs:
        for name, spec in sorted(p.parameters.items()):
            shown = value_on(p, name, on)
            if shown is None:
                continue
            compare_rows.append(
                {
                    "pack": p.id,
                    "parameter": name,
                    "label_zh": spec.label.zh,
                    "label_en": spec.label.en,
                    "unit": spec.unit.value,
                    "on": on.isoformat(),
                    "value": str(shown.value),
                    "since": shown.since.isoformat() if shown.since else None,
                    "stale": bool(shown.since and shown.since < stale_before(on)),
                    "confidence": sorted(shown.confidences),
                }
            )
    files["downloads/compare.json"] = json.dumps(compare_rows, ensure_ascii=False, indent=1)
    files["downloads/compare.csv"] = _csv(
        list(compare_rows[0]) if compare_rows else ["pack"],
        [
            [*(("|".join(v) if isinstance(v, list) else v) for v in r.values())]
            for r in compare_rows
        ],
    )
    for p in packs:
        files[f"downloads/packs/{p.id}.json"] = json.dumps(
            export_pack(p), ensure_ascii=False, indent=1, default=str
        )
    return files


def downloads_page(packs: list[Pack], on: dt.date) -> str:
    out = [
        "# 下载 Downloads",
        "",
        "The data behind the site, generated from the packs at build time. 本站数据下载。",
        "",
        "- [parameters.csv](downloads/parameters.csv): every dated value of every parameter in "
        "every pack, with confidence and source 全部参数的历史取值",
        f"- Comparison on {on} 对比: [compare.csv](downloads/compare.csv) · "
        "[compare.json](downloads/compare.json) (value, since, stale, confidence)",
        "- One CSV per parameter: on each [parameter page](params/index.md)",
        "",
        "## 政策包 Packs as JSON",
        "",
        "The checked packs as the calculator uses them: expression trees with names resolved, "
        "parameters with their dated histories and sources, program order, exclusions.",
        "",
    ]
    out += [
        f"- [{md.bilingual(p.manifest.label)}](downloads/packs/{p.id}.json) `{p.id}`" for p in packs
    ]
    out.append("")
    return "\n".join(out)
