"""``minzheng show``: a pack's chain, programs, parameters in force and their sources."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from minzheng_rules.cli._common import cells, load_or_exit, out, parse_date
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.packs._pack import Pack


def show_command(
    pack: Annotated[str, typer.Argument(help="Pack name or folder")],
    date: Annotated[str | None, typer.Option(help="Show values in force on YYYY-MM-DD")] = None,
) -> None:
    """Show a pack: its chain, programs, parameters in force and how they are sourced."""
    p = load_or_exit(pack)
    on = parse_date(date)
    m = p.manifest
    out.print(
        f"[bold]{escape(m.id)}[/] {escape(m.label.zh)} / {escape(m.label.en)} ({m.level}); "
        f"chain: {escape(' → '.join(p.definition.chain))}",
        highlight=False,
    )
    programs = Table("program", "中文", "English", "entity", "unit", title="Programs")
    for pid, prog in p.programs.items():
        s = prog.spec
        programs.add_row(*cells(pid, s.label.zh, s.label.en, s.entity, s.unit.value))
    out.print(programs)
    params = Table("parameter", "value", "unit", "since", "confidence", title=f"Parameters on {on}")
    stale = {v.name for found in p.stale_values(on).values() for v in found}
    for name, spec in sorted(p.parameters.items()):
        try:
            pv = p.parameter(name, on)
        except MinzhengError:
            params.add_row(*cells(name, "—", spec.unit.value, "not in force", ""))
            continue
        conf = pv.confidence.value
        label = Text(conf, "yellow" if conf == "modelled" else "")
        if pv.formula is not None:
            label.append(
                f" (derived; rule {pv.rule_confidence.value if pv.rule_confidence else '?'})"
            )
        since = Text(str(pv.since or ""))
        if pv.formula is not None:
            since = Text(f"derived, {since}" if str(since) else "derived")
        if pv.since is not None and pv.since_assumed:
            since.append(" (assumed)", "yellow")
        if name in stale:
            since.append(" stale", "yellow")
        params.add_row(*cells(name, pv.value, spec.unit.value, since, label))
    out.print(params)
    for line in _extra_summary(p):
        out.print(line, markup=False)
    cov = p.coverage_on(on)
    v = cov["values"]
    out.print(
        f"coverage on {on}: {len(cov['programs'])} programs; {cov['parameters']} parameters; "
        f"values in force seed {v['seed']}, published {v['published']}, modelled {v['modelled']} "
        f"(modelled share {cov['modelled_share']:.1%}; a derived value counts as its weakest "
        f"input); start dates assumed {cov['assumed_dates']}; stale (money amounts over two "
        f"years old that a program reads) {len(stale)}"
    )


def _extra_summary(p: Pack) -> list[str]:
    """The comprehensive-relief parts: tags, the needs taxonomy's shape, assistance items."""
    shape = p.relief.shape(p.definition)
    if not any(shape.values()) and not p.relief.items:
        return ["needs model: none; tags: none"]
    cats, subs, labels = shape["needs_categories"], shape["needs_subitems"], shape["needs_labels"]
    items = len(p.relief.items)
    return [
        f"needs model: {cats} categories, {subs} sub-items, {labels} labels; "
        f"{shape['tags']} tags; {items} assistance items"
    ]
