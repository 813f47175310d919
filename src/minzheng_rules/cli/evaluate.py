"""``minzheng eval``: one household against a pack, as a table or JSON, with the why."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from minzheng_rules.cli.app import (
    DateOption,
    HouseholdArgument,
    PackOption,
    app,
    evaluate_file,
    fail,
    out,
)
from minzheng_rules.results import Evaluation, Status


@app.command("eval")
def eval_command(
    file: HouseholdArgument,
    pack: PackOption,
    date: DateOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    explain: Annotated[bool, typer.Option(help="Show values and cited parameters")] = False,
) -> None:
    """Evaluate one household against a pack on a date."""
    if format not in ("table", "json"):
        fail(ValueError(f"--format must be table or json, got '{format}'"))
    _, result = evaluate_file(pack, file, date, explain)
    if format == "json":
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
        title=f"{result.household} on {result.date} ({result.pack})",
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
            pid,
            p.label_zh,
            f"[{colour[p.status]}]{p.status.value}[/]",
            str(p.to_dict()["amount"]),
            p.unit,
            why,
        )
    out.print(table)
    if not explain:
        return
    for pid, p in result.programs.items():
        out.print(f"\n[bold]{pid}[/] {p.label_zh} — {p.status.value}")
        units = [("", p.reasons)] + [
            (f"member {mid}: ", m.reasons) for mid, m in (p.members or {}).items()
        ]
        for prefix, reasons in units:
            for r in reasons:
                mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[yellow]?[/]"}[r.passed]
                out.print(
                    f"  {mark} {prefix}{escape(r.label_zh)} / {escape(r.label_en)}: "
                    f"{escape(r.expression)}",
                    highlight=False,
                )
                for k, v in (r.values or {}).items():
                    out.print(f"      {k} = {v}", highlight=False)
                for u in r.parameters or []:
                    dated = f" {u.dated()}" if u.dated() else ""
                    out.print(
                        f"      p.{u.name} = {u.value} {u.unit}{dated} {escape(u.citation())}",
                        highlight=False,
                    )
        if p.amount_explanation:
            a = p.amount_explanation
            out.print(f"  amount = {a['expression']}", highlight=False)
            for k, v in a["values"].items():
                out.print(f"      {k} = {v}", highlight=False)
            for k, v in a["parameters"].items():
                dated = f" since {v['since']}" if v.get("since") else ""
                dated += " (assumed date 日期为推定)" if dated and v.get("since_assumed") else ""
                out.print(
                    f"      p.{k} = {v['value']}{dated} {escape(v['citation'])}", highlight=False
                )
        for sv in result.stale.get(pid, []):
            assumed = " (assumed date 日期为推定)" if sv.since_assumed else ""
            out.print(
                f"  [yellow]stale 可能过时[/]: p.{sv.parameter} = {sv.value} {sv.unit} "
                f"since {sv.since}{assumed} {escape(f'[{sv.confidence}]')}, over two years "
                f"before {result.date}",
                highlight=False,
            )
