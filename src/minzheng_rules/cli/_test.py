"""``minzheng test``: a pack's golden cases and invariants."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from minzheng_rules.cli._common import fail, load_or_exit, out

DEFAULT_EXAMPLES = 300


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
        try:
            from minzheng_rules.testing._invariants import check_invariants
        except ModuleNotFoundError as missing:  # Hypothesis comes with the test extra
            fail(
                RuntimeError(
                    f"checking invariants needs {missing.name} (pip install "
                    "'minzheng-rules[test]'), or run with --no-invariants "
                    "检查不变式需要 test 扩展"
                )
            )

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
