"""``minzheng synth``: a deterministic synthetic register to try a pack on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from minzheng_rules.cli._common import (
    PackOption,
    RegisterFormat,
    fail,
    load_or_exit,
    out,
    parse_date,
    progress,
)


def synth_command(
    households: Annotated[int, typer.Option("--households", "-n", help="How many households")],
    pack: PackOption,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the register to")],
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same register")
    ] = 0,
    date: Annotated[
        str | None, typer.Option(help="Shape incomes by the lines in force on this date")
    ] = None,
    format: Annotated[
        RegisterFormat, typer.Option("--format", "-f", help="parquet, csv or jsonl")
    ] = RegisterFormat.parquet,
) -> None:
    """Write a deterministic synthetic register (households.* and members.*) shaped by a pack:
    household types by the city's ageing rate, incomes near the pack's lines, disabilities,
    illnesses, students, orphans, and a few unknown facts."""
    from minzheng_rules.io._formats import write_register
    from minzheng_rules.synth._registers import generate

    if households < 1:
        fail(ValueError("--households must be at least 1"))
    if not 0 <= seed < 2**32:  # NumPy's generators take 0 to 2^32 - 1
        fail(ValueError(f"--seed must be 0 to 4294967295, got {seed}"))
    if out_dir.exists() and not out_dir.is_dir():
        fail(ValueError(f"--out {out_dir} is a file; give a folder to write the register to"))
    p = load_or_exit(pack)
    on = parse_date(date)
    with progress() as bar:
        task = bar.add_task("households 户", total=households, rate="")
        n_h, n_m = write_register(
            out_dir,
            generate(p, on, households, seed),
            format.value,
            progress=lambda n: bar.update(task, advance=n),
        )
    out.print(f"wrote {n_h:,} households and {n_m:,} members to {out_dir} ({format})", markup=False)
