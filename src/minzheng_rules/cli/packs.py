"""Commands about packs: list, show, validate, schema, test."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from minzheng_rules.cli.app import app, err, load_or_exit, out, parse_date
from minzheng_rules.errors import MinzhengError
from minzheng_rules.packs.discovery import available_packs
from minzheng_rules.packs.pack import Pack, load_pack
from minzheng_rules.packs.schema import pack_json_schema


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
    p = load_or_exit(pack)
    on = parse_date(date)
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
    stale = {v.name for found in p.stale_values(on).values() for v in found}
    for name, spec in sorted(p.parameters.items()):
        try:
            pv = p.parameter(name, on)
        except MinzhengError:
            params.add_row(name, "—", spec.unit.value, "not in force", "")
            continue
        conf = pv.confidence.value
        label = f"[yellow]{conf}[/]" if conf == "modelled" else conf
        if pv.formula is not None:
            label += f" (derived; rule {pv.rule_confidence.value if pv.rule_confidence else '?'})"
        since = str(pv.since or "")
        if pv.formula is not None:
            since = f"derived, {since}" if since else "derived"
        if pv.since is not None and pv.since_assumed:
            since += " [yellow](assumed)[/]"
        if name in stale:
            since += " [yellow]stale[/]"
        params.add_row(name, str(pv.value), spec.unit.value, since, label)
    out.print(params)
    for line in _extra_summary(p):
        out.print(line)
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


@app.command("validate")
def validate_command(
    paths: Annotated[list[str], typer.Argument(help="Pack names or folders")],
) -> None:
    """Load and check packs: format, names, types, cycles, golden-case households and alert
    rules (which the monitor would otherwise only check when it starts)."""
    from minzheng_rules.household import parse_household
    from minzheng_rules.monitor.alerts import AlertSet

    failed = False
    for path in paths:
        try:
            p = load_pack(path)
            for case in p.cases:
                parse_household(case.household, f"case '{case.id}'")
            alerts = AlertSet.from_pack(p).alerts
            out.print(
                f"[green]ok[/] {p.id}: {len(p.programs)} programs, "
                f"{len(p.parameters)} parameters, {len(p.cases)} cases, {len(alerts)} alert rules"
            )
        except MinzhengError as e:
            failed = True
            err.print(f"[red]invalid[/] {path}:\n{e}", highlight=False)
    if failed:
        raise typer.Exit(1)


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
def test_command(
    pack: Annotated[str, typer.Argument(help="Pack name or folder")],
    invariants: Annotated[
        bool, typer.Option(help="Also check the declared invariants with generated households")
    ] = True,
    examples: Annotated[int, typer.Option(min=1, help="Generated households per invariant")] = 100,
) -> None:
    """Run a pack's golden cases and invariants; a failure shows expected against got with the
    trace, or the shrunk household and both results. Generation is deterministic."""
    from minzheng_rules.testing.cases import run_cases

    p = load_or_exit(pack)
    failures = 0
    results = run_cases(p)
    for r in results:
        if r.ok:
            out.print(f"[green]pass[/] {r.case.id}")
        else:
            failures += 1
            out.print(f"[red]FAIL[/] {r.case.id}\n{r.report()}", highlight=False)
    total = len(results)
    if invariants and p.definition.invariants:
        from minzheng_rules.testing.invariants import check_invariants

        for inv in check_invariants(p, max_examples=examples, derandomize=True):
            total += 1
            if inv.status == "failed":
                failures += 1
                out.print(
                    f"[red]FAIL[/] invariant {inv.invariant.id}\n{inv.report()}", highlight=False
                )
            else:
                mark = "[green]pass[/]" if inv.status == "passed" else "[yellow]skip[/]"
                note = f" ({inv.note})" if inv.note else f" ({inv.examples} households)"
                out.print(f"{mark} invariant {inv.invariant.id}{note}", highlight=False)
    out.print(f"{total - failures} passed, {failures} failed")
    if failures:
        raise typer.Exit(1)
