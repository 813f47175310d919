"""``minzheng batch`` (a whole register through a pack) and ``minzheng synth`` (a synthetic
register to try it on)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from minzheng_rules.cli.app import PackOption, app, err, fail, load_or_exit, out, parse_date
from minzheng_rules.errors import MinzhengError


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@app.command("batch")
def batch_command(
    input: Annotated[
        Path,
        typer.Argument(
            help="Register: a JSON Lines file, a folder with households.* and members.*, "
            "or a households table (Parquet or CSV)"
        ),
    ],
    output: Annotated[Path, typer.Argument(help="Results file (.parquet, .csv or .jsonl)")],
    pack: PackOption,
    date: Annotated[
        str | None, typer.Option(help="Evaluation date YYYY-MM-DD (default today)")
    ] = None,
    members: Annotated[
        Path | None, typer.Option(help="Members table, when not beside the households table")
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="parquet, csv or jsonl (default: by name)")
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Households per chunk")] = 250_000,
    engine: Annotated[str, typer.Option(help="local (all cores here) or spark")] = "local",
    master: Annotated[
        str | None, typer.Option(help="Spark master URL (default: a local session)")
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Discard an unfinished run's parts instead of resuming it")
    ] = False,
) -> None:
    """Evaluate a whole register: one row per household with each program's status and amount,
    tags and needs; refused rows go to OUTPUT.rejects.jsonl with their reasons. An interrupted
    run resumes where it stopped when started again."""
    from minzheng_rules.io.readers import open_register

    if engine not in ("local", "spark"):
        fail(ValueError(f"--engine must be local or spark, got '{engine}'"))
    if chunk_size < 1:
        fail(ValueError("--chunk-size must be at least 1"))
    p = load_or_exit(pack)
    on = parse_date(date)
    try:
        source = open_register(input, members)
        if engine == "spark":
            from minzheng_rules.spark import run_spark_batch

            summary = run_spark_batch(source, output, p, on, format, master)
        else:
            summary = _run_local(source, output, p, on, format, chunk_size, restart)
    except (MinzhengError, OSError) as e:
        fail(e)
        raise
    except ValueError as e:  # e.g. the Spark engine given JSON Lines
        fail(e)
        raise
    _print_summary(summary, p)
    if not summary.reconciles:
        err.print("[bold red]counts do not reconcile[/]")
        raise typer.Exit(1)


def _run_local(source, output, p, on, format, chunk_size, restart):
    from minzheng_rules.io.batch import Batch

    total = source.total()
    batch = Batch(source, output, p, on, format, chunk_size, restart)
    if batch.done:
        err.print(f"resuming: {batch.done} chunk(s) already done in {batch.parts}")
    with _progress() as bar:
        task = bar.add_task("households 户", total=total, rate="")
        import time

        started = time.perf_counter()
        count = 0

        def advance(n: int) -> None:
            nonlocal count
            count += n
            rate = count / max(time.perf_counter() - started, 1e-9)
            bar.update(task, advance=n, rate=f"{rate:,.0f}/s")

        return batch.run(advance)


def _print_summary(s, pack) -> None:
    table = Table(
        "program 项目",
        "eligible 符合",
        "undetermined 待定",
        "total 合计",
        "unit 单位",
        title=(
            f"{s.households:,} households read 读取 = {s.evaluated:,} evaluated 已评估 "
            f"+ {s.rejected:,} rejected 拒绝"
        ),
    )
    for pid, t in s.programs.items():
        label = pack.programs[pid].spec.label
        table.add_row(
            f"{label.zh} {label.en}",
            f"{t.eligible:,}",
            f"{t.undetermined:,}",
            f"{t.amount:,.2f}",
            t.unit,
        )
    out.print(table)
    extra = []
    if s.rejected_members:
        extra.append(f"{s.rejected_members:,} member rows without a household")
    if s.fallback:
        extra.append(f"{s.fallback:,} decided by the reference evaluator")
    out.print(
        f"output 结果: {s.output}\nrejects 拒绝记录: {s.rejects}"
        + (f"\n{'; '.join(extra)}" if extra else "")
        + f"\n{s.seconds:.1f} s ({s.households / max(s.seconds, 1e-9):,.0f} households/s)",
        highlight=False,
    )


@app.command("synth")
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
        str, typer.Option("--format", "-f", help="parquet, csv or jsonl")
    ] = "parquet",
) -> None:
    """Write a deterministic synthetic register (households.* and members.*) shaped by a pack:
    household types by the city's ageing rate, incomes near the pack's lines, disabilities,
    illnesses, students, orphans, and a few unknown facts."""
    from minzheng_rules.io.formats import FORMATS, write_register
    from minzheng_rules.synth import generate

    if format not in FORMATS:
        fail(ValueError(f"--format must be one of {', '.join(FORMATS)}, got '{format}'"))
    if households < 1:
        fail(ValueError("--households must be at least 1"))
    if not 0 <= seed < 2**32:  # NumPy's generators take 0 to 2^32 - 1
        fail(ValueError(f"--seed must be 0 to 4294967295, got {seed}"))
    if out_dir.exists() and not out_dir.is_dir():
        fail(ValueError(f"--out {out_dir} is a file; give a folder to write the register to"))
    p = load_or_exit(pack)
    on = parse_date(date)
    with _progress() as bar:
        task = bar.add_task("households 户", total=households, rate="")
        n_h, n_m = write_register(
            out_dir,
            generate(p, on, households, seed),
            format,
            progress=lambda n: bar.update(task, advance=n),
        )
    out.print(f"wrote {n_h:,} households and {n_m:,} members to {out_dir} ({format})")
