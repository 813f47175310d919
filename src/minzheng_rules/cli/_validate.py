"""``minzheng validate``: every problem of a pack in one run, each with file:line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.markup import escape

from minzheng_rules.cli._common import err, out
from minzheng_rules.model._errors import HouseholdError, MinzhengError, PackError, PackErrors
from minzheng_rules.packs._lint import unset_errors, unused_warnings
from minzheng_rules.packs._loader import load_definition
from minzheng_rules.packs._pack import Pack


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
