"""``minzheng eval``: one household against a pack, as a table or JSON, with the why."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from minzheng_rules.cli._common import (
    DateOption,
    EvalFormat,
    HouseholdArgument,
    PackOption,
    cells,
    evaluate_file,
    fail,
    out,
)
from minzheng_rules.model._errors import suggest
from minzheng_rules.model._results import Evaluation, Status


def eval_command(
    file: HouseholdArgument,
    pack: PackOption,
    date: DateOption = None,
    format: Annotated[
        EvalFormat, typer.Option("--format", "-f", help="table or json")
    ] = EvalFormat.table,
    explain: Annotated[bool, typer.Option(help="Show values and cited parameters")] = False,
    program: Annotated[
        list[str] | None,
        typer.Option("--program", help="Only this program (repeat for more); all by default"),
    ] = None,
) -> None:
    """Evaluate one household against a pack on a date. Unknown facts are named by path:
    a household field as ``assets.financial``, a member's as ``members[<id>].<field>``."""
    p, result = evaluate_file(pack, file, date, explain)
    for pid in program or ():
        if pid not in result.programs:
            hint = suggest(pid, result.programs)
            fail(
                ValueError(
                    f"--program: pack '{p.id}' has no program '{pid}'"
                    + (f" (did you mean '{hint}'?)" if hint else "")
                )
            )
    if program:
        result.programs = {k: v for k, v in result.programs.items() if k in program}
    if format is EvalFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    _print_result(result, explain)


def _print_result(result: Evaluation, explain: bool) -> None:
    colour = {Status.eligible: "green", Status.ineligible: "dim", Status.undetermined: "yellow"}
    table = Table(
        "program",
        "名称",
        "status",
        "amount",
        "unit",
        "why",
        title=escape(f"{result.household} on {result.date} ({result.pack})"),
    )
    for pid, p in result.programs.items():
        why = ", ".join(f"{r.id}={'?' if r.passed is None else r.passed}" for r in p.reasons)
        if p.members:
            why = "; ".join(f"{mid}: {m.status.value}" for mid, m in p.members.items())
        if p.missing:
            why += f" — missing: {', '.join(p.missing)}"
        if p.excluded_by:
            why += f" — excluded by {p.excluded_by}"
        table.add_row(
            *cells(
                pid,
                p.label_zh,
                Text(p.status.value, colour[p.status]),
                p.to_dict()["amount"],
                p.unit,
                why,
            )
        )
    out.print(table)
    if not explain:
        return
    for pid, p in result.programs.items():
        out.print(
            f"\n[bold]{escape(pid)}[/] {escape(p.label_zh)} — {p.status.value}", highlight=False
        )
        units = [("", p.reasons, None)] + [
            (f"member {mid}: ", m.reasons, m.amount_explanation)
            for mid, m in (p.members or {}).items()
        ]
        units.append(("", [], p.amount_explanation))
        for prefix, reasons, amount in units:
            for r in reasons:
                mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[yellow]?[/]"}[r.passed]
                out.print(
                    f"  {mark} {escape(prefix)}{escape(r.label_zh)} / {escape(r.label_en)}: "
                    f"{escape(r.expression)}",
                    highlight=False,
                )
                for k, v in (r.values or {}).items():
                    out.print(f"      {k} = {v}", highlight=False, markup=False)
                for u in r.parameters or []:
                    dated = f" {u.dated()}" if u.dated() else ""
                    out.print(
                        f"      p.{u.name} = {u.value} {u.unit}{dated} {u.citation()}",
                        highlight=False,
                        markup=False,
                    )
            if amount:
                _print_amount(prefix, amount)
        for sv in result.stale.get(pid, []):
            assumed = " (assumed date 日期为推定)" if sv.since_assumed else ""
            out.print(
                "  [yellow]stale 可能过时[/]: "
                + escape(
                    f"p.{sv.parameter} = {sv.value} {sv.unit} since {sv.since}{assumed} "
                    f"[{sv.confidence}], over two years before {result.date}"
                ),
                highlight=False,
            )


def _print_amount(prefix: str, a: dict) -> None:
    out.print(f"  {prefix}amount = {a['expression']}", highlight=False, markup=False)
    for k, v in a["values"].items():
        out.print(f"      {k} = {v}", highlight=False, markup=False)
    for k, v in a["parameters"].items():
        dated = f" since {v['since']}" if v.get("since") else ""
        dated += " (assumed date 日期为推定)" if dated and v.get("since_assumed") else ""
        out.print(
            f"      p.{k} = {v['value']}{dated} {v['citation']}", highlight=False, markup=False
        )
