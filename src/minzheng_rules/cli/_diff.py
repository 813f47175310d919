"""``minzheng diff``: reform impact over a register, as a table, JSON or Markdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from minzheng_rules.analysis._reform import Impact, Scenario, read_register, reform_impact
from minzheng_rules.cli._common import (
    DiffFormat,
    PackOption,
    cells,
    fail,
    load_or_exit,
    out,
    parse_date,
)
from minzheng_rules.model._errors import MinzhengError


def parse_sets(items: list[str]) -> dict[str, str]:
    """``name=value`` pairs; a malformed one is a clear error."""
    out_: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"--set needs name=value, e.g. dibao.standard=1200; got '{item}'")
        out_[name.strip()] = value.strip()
    return out_


def diff_command(
    pack: PackOption,
    register: Annotated[
        Path,
        typer.Option(
            "--register",
            "-r",
            help="JSON Lines of households, or the columnar form (a `minzheng synth` folder)",
        ),
    ],
    pack_b: Annotated[
        str | None, typer.Option("--pack-b", help="Compare with this pack (default: --pack)")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Date of the 'before' side (default today)")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Date of the 'after' side (default --from)")
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter on the 'after' side: name=value"),
    ] = None,
    format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="table, json or markdown")
    ] = DiffFormat.table,
    examples: Annotated[int, typer.Option(min=0, help="Example households per change")] = 3,
    members: Annotated[
        Path | None, typer.Option(help="The members table of a columnar register")
    ] = None,
) -> None:
    """Who gains, who loses and what it costs: two packs, two dates or parameter overrides,
    over a register of households."""
    a = load_or_exit(pack)
    b = load_or_exit(pack_b) if pack_b else a
    on_a = parse_date(date_from)
    on_b = parse_date(date_to) if date_to else on_a
    try:
        before = Scenario.of(a, on_a)
        after = Scenario.of(b, on_b, parse_sets(sets or []))
        impact = reform_impact(read_register(register, members), before, after, examples=examples)
    except (MinzhengError, OSError, ValueError) as e:
        fail(e)
    if format is DiffFormat.json:
        sys.stdout.write(json.dumps(impact.to_dict(), ensure_ascii=False, indent=2) + "\n")
    elif format is DiffFormat.markdown:
        sys.stdout.write(to_markdown(impact))
    else:
        _print_table(impact)


def _rows(impact: Impact, names: bool) -> list[list[str]]:
    rows = []
    for pid, p in impact.programs.items():
        c = p.costs()
        money: list[str | None]
        if c["monthly_cost_before"] is not None:
            money = [c["monthly_cost_before"], c["monthly_cost_after"], c["monthly_cost_change"]]
        else:  # a one-off grant: its one-off cost, marked
            once = [c.get("one_off_cost_before"), c.get("one_off_cost_after")]
            money = [*(f"{v} once" if v is not None else "—" for v in once), "—"]
        lost = f"{p.lost}" + (f" ({p.lost_to_exclusion} excl.)" if p.lost_to_exclusion else "")
        label = [pid, p.label_zh] if names else [pid]
        rows.append(
            [
                *label,
                str(p.eligible_before),
                str(p.eligible_after),
                str(p.gained),
                lost,
                *(m or "—" for m in money),
                c["yearly_cost_change"] or "—",
            ]
        )
    return rows


def _head(names: bool) -> list[str]:
    label = ["program", "名称"] if names else ["program 项目"]
    return [
        *label,
        "eligible before 原",
        "eligible after 新",
        "gained 新增",
        "lost 退出",
        "元/month before",
        "元/month after",
        "Δ 元/month",
        "Δ 元/year",
    ]


def _total(impact: Impact, names: bool) -> list[str]:
    t = impact.totals()
    label = ["total", "合计"] if names else ["total 合计"]
    return [
        *label,
        "",
        "",
        "",
        "",
        t["monthly_cost_before"],
        t["monthly_cost_after"],
        t["monthly_cost_change"],
        t["yearly_cost_change"],
    ]


def _examples(impact: Impact) -> list[str]:
    lines = []
    for pid, p in impact.programs.items():
        for kind, found in p.examples.items():
            for e in found:
                note = f" ({e.note})" if e.note else ""
                lines.append(
                    f"{pid} {kind}: {e.household} {e.before} {e.amount_before:.2f} → "
                    f"{e.after} {e.amount_after:.2f}{note}"
                )
    return lines


def _print_table(impact: Impact) -> None:
    title = f"{impact.before.label()} → {impact.after.label()} ({impact.households} households 户)"
    table = Table(*_head(False), title=escape(title))
    for row in _rows(impact, False):
        table.add_row(*cells(*row))
    table.add_row(*cells(*_total(impact, False)), style="bold")
    out.print(table)
    if impact.parameters:
        out.print("parameters changed / 参数变化:", highlight=False)
        for p in impact.parameters:
            out.print(f"  {p['name']}: {p['before']} → {p['after']}", highlight=False, markup=False)
    lines = _examples(impact)
    if lines:
        out.print("examples / 示例:", highlight=False)
        for line in lines:
            out.print(f"  {line}", highlight=False, soft_wrap=True, markup=False)


def to_markdown(impact: Impact) -> str:
    """The report as a Markdown document: parameters changed, a table, then examples."""
    lines = [
        f"# Reform impact / 政策调整影响: {impact.before.label()} → {impact.after.label()}",
        "",
        f"{impact.households} households / 户.",
        "",
    ]
    if impact.parameters:
        lines += ["| parameter / 参数 | before | after |", "| --- | ---: | ---: |"]
        lines += [f"| `{p['name']}` | {p['before']} | {p['after']} |" for p in impact.parameters]
        lines.append("")
    head = _head(True)
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    rows = [*_rows(impact, True), _total(impact, True)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    examples = _examples(impact)
    if examples:
        lines += ["", "## Examples / 示例", ""]
        lines += [f"- {line}" for line in examples]
    return "\n".join(lines) + "\n"
