"""The ``minzheng`` command line: list, show, validate and test packs; evaluate households."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from minzheng_rules.errors import MinzhengError
from minzheng_rules.household import load_household
from minzheng_rules.packs.discovery import available_packs
from minzheng_rules.packs.pack import Pack, load_pack
from minzheng_rules.packs.schema import pack_json_schema
from minzheng_rules.results import Evaluation, Status

app = typer.Typer(
    help="minzheng-rules: evaluate Chinese social-assistance policy packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)

PackOption = Annotated[str, typer.Option("--pack", "-p", help="Pack name or folder")]


def _fail(error: Exception) -> None:
    err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
    raise typer.Exit(2)


def _date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(ValueError(f"--date must be YYYY-MM-DD, got '{text}'"))
        raise


def _load(name: str) -> Pack:
    try:
        return load_pack(name)
    except MinzhengError as e:
        _fail(e)
        raise


@app.command("packs")
def packs_command() -> None:
    """List the packs that can be named (built in and registered)."""
    table = Table("pack", "level", "extends", "folder")
    for name, folder in available_packs().items():
        try:
            p = load_pack(folder)
            table.add_row(name, p.manifest.level, p.manifest.extends or "", str(folder))
        except MinzhengError as e:
            table.add_row(name, "[red]invalid[/]", "", f"{folder}: {str(e).splitlines()[0]}")
    out.print(table)


@app.command("show")
def show_command(
    pack: Annotated[str, typer.Argument(help="Pack name or folder")],
    date: Annotated[str | None, typer.Option(help="Show values in force on YYYY-MM-DD")] = None,
) -> None:
    """Show a pack: its chain, programs, parameters in force and how they are sourced."""
    p = _load(pack)
    on = _date(date)
    m = p.manifest
    out.print(
        f"[bold]{m.id}[/] {m.label.zh} / {m.label.en} ({m.level}); "
        f"chain: {' → '.join(p.definition.chain)}"
    )
    programs = Table("program", "中文", "English", "entity", "unit", title="Programs")
    for pid, prog in p.programs.items():
        s = prog.spec
        programs.add_row(pid, s.label.zh, s.label.en, s.entity, s.unit.value)
    out.print(programs)
    params = Table("parameter", "value", "unit", "since", "confidence", title=f"Parameters on {on}")
    for name, spec in sorted(p.parameters.items()):
        try:
            pv = p.parameter(name, on)
            conf = pv.confidence.value
            label = f"[yellow]{conf}[/]" if conf == "modelled" else conf
            params.add_row(name, str(pv.value), spec.unit.value, str(pv.since or "derived"), label)
        except MinzhengError:
            params.add_row(name, "—", spec.unit.value, "not in force", "")
    out.print(params)
    for line in _extra_summary(p):
        out.print(line)
    cov = p.coverage
    v = cov["values"]
    out.print(
        f"coverage: {len(cov['programs'])} programs; {cov['parameters']} parameters; values "
        f"seed {v['seed']}, published {v['published']}, modelled {v['modelled']} "
        f"(modelled share {cov['modelled_share']:.1%})"
    )


def _extra_summary(p: Pack) -> list[str]:
    """Lines other capabilities (tags, needs) add to ``show``."""
    return []


@app.command("validate")
def validate_command(
    paths: Annotated[list[str], typer.Argument(help="Pack names or folders")],
) -> None:
    """Load and check packs: format, names, types, cycles, golden-case households."""
    from minzheng_rules.household import parse_household

    failed = False
    for path in paths:
        try:
            p = load_pack(path)
            for case in p.cases:
                parse_household(case.household, f"case '{case.id}'")
            out.print(
                f"[green]ok[/] {p.id}: {len(p.programs)} programs, "
                f"{len(p.parameters)} parameters, {len(p.cases)} cases"
            )
        except MinzhengError as e:
            failed = True
            err.print(f"[red]invalid[/] {path}:\n{e}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("eval")
def eval_command(
    file: Annotated[Path, typer.Argument(help="A household as JSON or YAML")],
    pack: PackOption,
    date: Annotated[
        str | None, typer.Option(help="Evaluation date YYYY-MM-DD (default today)")
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    explain: Annotated[bool, typer.Option(help="Show values and cited parameters")] = False,
) -> None:
    """Evaluate one household against a pack on a date."""
    if format not in ("table", "json"):
        _fail(ValueError(f"--format must be table or json, got '{format}'"))
    p = _load(pack)
    on = _date(date)
    try:
        household = load_household(file)
        result = p.evaluate(household, on, explain=explain)
    except (MinzhengError, OSError) as e:
        _fail(e)
        raise
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
                    out.print(
                        f"      p.{u.name} = {u.value} {u.unit} {escape(u.citation())}",
                        highlight=False,
                    )
        if p.amount_explanation:
            a = p.amount_explanation
            out.print(f"  amount = {a['expression']}", highlight=False)
            for k, v in a["values"].items():
                out.print(f"      {k} = {v}", highlight=False)
            for k, v in a["parameters"].items():
                out.print(f"      p.{k} = {v['value']} {escape(v['citation'])}", highlight=False)


@app.command("schema")
def schema_command(
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout")
    ] = None,
) -> None:
    """Write the JSON Schema of pack files (for editor completion and checking)."""
    text = json.dumps(pack_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        out.print(f"wrote {out_file}")


@app.command("test")
def test_command(pack: Annotated[str, typer.Argument(help="Pack name or folder")]) -> None:
    """Run a pack's golden cases; a failure shows expected against got, with the trace."""
    from minzheng_rules.testing.cases import run_cases

    p = _load(pack)
    failures = 0
    results = run_cases(p)
    for r in results:
        if r.ok:
            out.print(f"[green]pass[/] {r.case.id}")
        else:
            failures += 1
            out.print(f"[red]FAIL[/] {r.case.id}\n{r.report()}", highlight=False)
    out.print(f"{len(results) - failures} passed, {failures} failed")
    if failures:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
