"""Commands about packs: list, show, validate, schema, test."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from minzheng_rules.cli._app import app, cells, err, fail, load_or_exit, out, parse_date
from minzheng_rules.model._errors import HouseholdError, MinzhengError, PackError, PackErrors
from minzheng_rules.packs._discovery import available_packs
from minzheng_rules.packs._lint import unset_errors, unused_warnings
from minzheng_rules.packs._loader import load_definition
from minzheng_rules.packs._pack import Pack, load_pack
from minzheng_rules.packs._schema import pack_json_schema


@app.command("packs")
def packs_command() -> None:
    """List the packs that can be named (built in and registered)."""
    table = Table("pack", "level", "extends", "folder")
    for name, folder in available_packs().items():
        try:
            p = load_pack(folder)
            table.add_row(*cells(name, p.manifest.level, p.manifest.extends or "", folder))
        except MinzhengError as e:
            first = str(e).splitlines()[0]
            table.add_row(*cells(name, Text("invalid", "red"), "", f"{folder}: {first}"))
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


@dataclass
class Validation:
    """Everything ``validate`` found in one pack, in one run."""

    errors: list[MinzhengError]
    warnings: list[PackError]
    unset: int
    pack: Pack | None = None
    alerts: int = 0


def _where(e: MinzhengError) -> tuple[str, int]:
    return (getattr(e, "file", None) or "", getattr(e, "line", None) or 0)


def validate_pack(path: str) -> Validation:
    """Load and check one pack, collecting every problem rather than stopping at the first:
    format, names, types, cycles, golden-case households, alert rules, values a city or county
    pack must still set (errors) and parameters nothing reads (warnings)."""
    from minzheng_rules.model._household import parse_household
    from minzheng_rules.monitor._alerts import AlertSet

    try:
        d = load_definition(path, collect=True)
    except PackErrors as e:
        return Validation(sorted(e.errors, key=_where), [], 0)
    except MinzhengError as e:
        return Validation([e], [], 0)
    errors: list[MinzhengError] = []
    for case in d.cases:
        try:
            parse_household(case.household, f"case '{case.id}'")
        except HouseholdError as e:
            origin = d.origin("cases", case.id).at("household")
            errors += [
                PackError(
                    f"case '{case.id}': household field '{field}': {problem}",
                    file=origin.file,
                    line=origin.line,
                    name=field,
                )
                for field, problem in e.problems
            ]
        else:  # the household reads: check the paths its expectations name
            errors += _missing_path_errors(case, d.origin("cases", case.id))
    unset = unset_errors(d)
    errors += unset
    warnings = unused_warnings(d)
    result = Validation(errors, warnings, len(unset))
    try:
        result.pack = Pack(d)
    except PackErrors as e:
        errors += e.errors
    except MinzhengError as e:  # a cycle found alone
        errors.append(e)
    else:
        try:
            result.alerts = len(AlertSet.from_pack(result.pack).alerts)
        except PackErrors as e:
            errors += e.errors
        except MinzhengError as e:
            errors.append(e)
    errors.sort(key=_where)
    return result


_MEMBER_PATH = re.compile(r"^members\[(?P<id>[^\]]+)\]\.(?P<field>\w+)$")


def _missing_path_errors(case: Any, origin: Any) -> list[PackError]:
    """A golden case's ``missing`` names facts as results do: a household fact by its path,
    a member's as ``members[<id>].<field>`` with an id of the case's household."""
    from minzheng_rules.model._facts import HOUSEHOLD_FACTS, MEMBER_FACTS

    ids = {str(m.get("id")) for m in case.household.get("members", ())}
    out = []
    for pid, want in case.expect.items():
        for i, path in enumerate(want.missing or ()):
            m = _MEMBER_PATH.match(path)
            if path in HOUSEHOLD_FACTS or (m and m["id"] in ids and m["field"] in MEMBER_FACTS):
                continue
            if m and m["field"] in MEMBER_FACTS:
                problem = f"the household has no member '{m['id']}'"
            elif path.removeprefix("members.") in MEMBER_FACTS:
                problem = "a member's fact is written members[<id>].<field>"
            else:
                problem = "it is neither a household fact nor members[<id>].<field>"
            example = sorted(ids)[0] if ids else "a"
            out.append(
                PackError(
                    f"case '{case.id}': {pid} expects missing '{path}': {problem} "
                    f"(e.g. 'assets.financial', 'members[{example}].monthly_income')",
                    file=origin.file,
                    line=origin.at("expect", pid, "missing", i).line,
                    name=path,
                )
            )
    return out


@app.command("validate")
def validate_command(
    paths: Annotated[list[str], typer.Argument(help="Pack names or folders")],
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors")] = False,
) -> None:
    """Check packs and report every problem in one run, each with file:line and a sentence:
    format, names, types, cycles, golden-case households, alert rules; for a city or county
    pack, every value still to be set before it can evaluate; parameters nothing reads
    (a warning, or an error with --strict)."""
    failed = False
    for path in paths:
        v = validate_pack(path)
        bad = bool(v.errors) or (strict and bool(v.warnings))
        for w in v.warnings:
            kind = "[red]error[/]" if strict else "[yellow]warning[/]"
            err.print(f"{kind} {escape(str(w))}", highlight=False)
        if bad:
            failed = True
            head = f"[red]invalid[/] {escape(path)}: {len(v.errors)} error(s)"
            if v.unset:
                head += f", of which {v.unset} value(s) still to be set before it can evaluate"
            err.print(head + ":", highlight=False)
            for e in v.errors:
                err.print(escape(str(e)), highlight=False)
        elif v.pack is not None:
            p = v.pack
            out.print(
                f"[green]ok[/] {escape(p.id)}: {len(p.programs)} programs, "
                f"{len(p.parameters)} parameters, {len(p.cases)} cases, {v.alerts} alert rules"
                + (f", {len(v.warnings)} warning(s)" if v.warnings else ""),
                highlight=False,
            )
    if failed:
        raise typer.Exit(1)


@app.command("new")
def new_command(
    folder: Annotated[Path, typer.Argument(help="The new pack's folder (new or empty)")],
    extends: Annotated[str, typer.Option(help="The pack it builds on, e.g. zhejiang")],
    level: Annotated[str, typer.Option(help="city or county")] = "city",
    pack_id: Annotated[
        str | None, typer.Option("--id", help="Pack id (default: the folder's name)")
    ] = None,
    zh: Annotated[str | None, typer.Option(help="Chinese name, e.g. 嘉兴市")] = None,
    en: Annotated[str | None, typer.Option(help="English name, e.g. Jiaxing")] = None,
) -> None:
    """Start a city or county pack: pack.yaml, a parameters file listing every value the chain
    leaves to it (placeholders that validate reports until filled), a README, a golden case and
    an invariant."""
    from minzheng_rules.packs._scaffold import scaffold

    try:
        written = scaffold(folder, extends, level, pack_id, zh, en)
    except MinzhengError as e:
        fail(e)
    for path in written:
        out.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"next: fill in {folder / 'parameters.yaml'}, then `minzheng validate {folder}` and "
        f"`minzheng test {folder}` (docs/guide/first-pack.md)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


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
        try:
            out_file.write_text(text, encoding="utf-8")
        except OSError as e:  # a folder, a missing folder, no permission: one line
            fail(OSError(f"--out {out_file}: cannot write ({e.strerror})"))
        out.print(f"wrote {out_file}", markup=False)


DEFAULT_EXAMPLES = 300


@app.command("test")
def test_command(
    pack: Annotated[str, typer.Argument(help="Pack name or folder")],
    invariants: Annotated[
        bool, typer.Option(help="Also check the declared invariants with generated households")
    ] = True,
    examples: Annotated[
        int, typer.Option(min=1, help="Generated households per invariant")
    ] = DEFAULT_EXAMPLES,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the generated households (default: a new random one)"),
    ] = None,
) -> None:
    """Run a pack's golden cases and invariants; a failure shows expected against got with the
    trace, or the shrunk household and both results. Each run draws new households from a
    random seed; a failed run prints its seed, and --seed S draws the same ones again."""
    import random

    from minzheng_rules.testing._cases import run_cases

    p = load_or_exit(pack)
    failures = 0
    results = run_cases(p)
    for r in results:
        if r.ok:
            out.print(f"[green]pass[/] {escape(r.case.id)}", highlight=False)
        else:
            failures += 1
            out.print(f"[red]FAIL[/] {escape(r.case.id)}", highlight=False)
            out.print(r.report(), highlight=False, markup=False, soft_wrap=True)
    total = len(results)
    used_seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    if invariants and p.definition.invariants:
        from minzheng_rules.testing._invariants import check_invariants

        found = check_invariants(p, max_examples=examples, random_seed=used_seed)
        for inv in found:
            total += 1
            name = escape(inv.invariant.id)
            if inv.status == "failed":
                failures += 1
                out.print(f"[red]FAIL[/] invariant {name}", highlight=False)
                out.print(inv.report(), highlight=False, markup=False, soft_wrap=True)
            else:
                mark = "[green]pass[/]" if inv.status == "passed" else "[yellow]skip[/]"
                note = f" ({inv.note})" if inv.note else f" ({inv.examples} households)"
                out.print(f"{mark} invariant {name}{escape(note)}", highlight=False)
        out.print(f"invariants: {examples} households each, seed {used_seed}", highlight=False)
    out.print(f"{total - failures} passed, {failures} failed", highlight=False)
    if failures:
        if invariants and p.definition.invariants:
            out.print(
                f"replay the same households: minzheng test {escape(pack)} --seed {used_seed} "
                f"--examples {examples}",
                highlight=False,
            )
        raise typer.Exit(1)
