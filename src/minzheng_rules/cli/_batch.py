"""``minzheng batch``: a whole register through a pack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from minzheng_rules.cli import _startup
from minzheng_rules.cli._common import (
    BatchEngine,
    OutputFormat,
    PackOption,
    cells,
    err,
    fail,
    load_or_exit,
    out,
    parse_date,
    progress,
)
from minzheng_rules.model._errors import MinzhengError


def batch_command(
    input: Annotated[
        str,
        typer.Argument(
            help="Register: a JSON Lines file, a folder with households.* and members.*, "
            "a households table (Parquet or CSV), an Excel workbook (households and "
            "members sheets) or a PostgreSQL URL (postgresql://…, with --table or --query)"
        ),
    ],
    pack: PackOption,
    output: Annotated[
        Path | None,
        typer.Argument(
            help="Results file (.parquet, .csv, .jsonl or .xlsx); with --out-table, the local "
            "copy (default NAME.parquet)"
        ),
    ] = None,
    date: Annotated[
        str | None, typer.Option(help="Evaluation date YYYY-MM-DD (default today)")
    ] = None,
    members: Annotated[
        Path | None, typer.Option(help="Members table, when not beside the households table")
    ] = None,
    format: Annotated[
        OutputFormat | None,
        typer.Option("--format", "-f", help="parquet, csv, jsonl or xlsx (default: by name)"),
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Households per chunk")] = 250_000,
    engine: Annotated[
        BatchEngine, typer.Option(help="local (all cores here) or spark")
    ] = BatchEngine.local,
    master: Annotated[
        str | None, typer.Option(help="Spark master URL (default: a local session)")
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Discard an unfinished run's parts instead of resuming it")
    ] = False,
    columns: Annotated[
        Path | None,
        typer.Option(
            "--columns",
            help="Mapping file (YAML): the register's own column names and codes → the "
            "canonical fields (see docs/guide/registers.md)",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding of CSV files, e.g. gbk (default: UTF-8, or detected)"),
    ] = None,
    table: Annotated[
        str | None, typer.Option(help="Database register: the households table")
    ] = None,
    members_table: Annotated[
        str | None, typer.Option(help="Database register: the members table")
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="Database register: a query giving the households")
    ] = None,
    members_query: Annotated[
        str | None, typer.Option(help="Database register: a query giving the members")
    ] = None,
    out_table: Annotated[
        str | None,
        typer.Option(
            help="Write the results to this database table (and NAME_rejects), replaced in "
            "one transaction"
        ),
    ] = None,
    out_db: Annotated[
        str | None,
        typer.Option(help="Database URL for --out-table (default: the input's URL)"),
    ] = None,
) -> None:
    """Evaluate a whole register: one row per household with each program's status and amount,
    tags and needs; refused rows go to OUTPUT.rejects.jsonl with their reasons. An interrupted
    run resumes where it stopped when started again."""
    from minzheng_rules.io._readers import open_register

    fmt = None if format is None else format.value
    if chunk_size < 1:
        fail(ValueError("--chunk-size must be at least 1"))
    on = parse_date(date)
    ahead = None
    try:
        mapping = None
        if columns is not None:
            from minzheng_rules.io._mapping import load_mapping

            mapping = load_mapping(columns)
        from minzheng_rules.io._batch import output_format, read_ahead
        from minzheng_rules.io._database import (
            check_table_name,
            is_database,
            open_database,
            publish,
        )

        if is_database(input):
            # copying the database to Parquet makes garbage: the collector is on from here
            _startup.resume()
            source = open_database(input, table, members_table, query, members_query, mapping)
        else:
            if table or members_table or query or members_query:
                raise MinzhengError("--table and --query are for a database register")
            source = open_register(Path(input), members, mapping, encoding)
            if mapping is not None and not hasattr(source, "htable"):
                raise MinzhengError("--columns is for a table register (not JSON Lines)")
        if engine is BatchEngine.local:
            # the register is read (native code, on the other core) while the pack loads
            ahead = read_ahead(source, chunk_size)
        p = load_or_exit(pack)
        # the pack and the readers are in; the run makes garbage: the collector is on from here
        _startup.resume()
        for warning in source.warnings:
            err.print(f"warning 注意: {warning}", markup=False, highlight=False)
        publisher = None
        if out_table is not None:
            dsn = out_db or (input if is_database(input) else None)
            if dsn is None:
                raise MinzhengError("--out-table needs --out-db (the input is not a database)")
            check_table_name(out_table)
            output = output or Path(f"{out_table}.parquet")
            if output_format(output, fmt) != "parquet":  # it is what publish reads
                raise MinzhengError(
                    f"--out-table keeps a Parquet copy: name it .parquet, not {output}"
                )
            fmt = fmt or OutputFormat.parquet.value
            publisher = lambda out, rejects: publish(dsn, out_table, out, rejects)  # noqa: E731
        if output is None:
            raise MinzhengError("give the results file (OUTPUT) or --out-table")
        if engine is BatchEngine.spark:
            from minzheng_rules.spark import run_spark_batch

            if publisher is not None or mapping is not None or encoding is not None:
                raise MinzhengError(
                    "--out-table, --columns and --encoding are for the local engine "
                    "(Spark reads canonical Parquet or CSV)"
                )
            summary = run_spark_batch(source, output, p, on, fmt, master)
        else:
            summary = _run_local(source, output, p, on, fmt, chunk_size, restart, publisher, ahead)
    except (MinzhengError, OSError) as e:
        fail(e)
    except ValueError as e:  # e.g. the Spark engine given JSON Lines
        fail(e)
    except KeyboardInterrupt:
        err.print(
            "interrupted (Ctrl-C) 已中断: the chunks done are kept; the same command resumes, "
            "--restart starts over",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(130) from None
    finally:
        if ahead is not None:  # (already closed when the run ended)
            ahead.close()
    _print_summary(summary, p, on)
    if not summary.reconciles:
        err.print("[bold red]counts do not reconcile[/]")
        raise typer.Exit(1)


def _run_local(source, output, p, on, format, chunk_size, restart, publisher=None, ahead=None):
    from minzheng_rules.io._batch import Batch

    total = source.total()
    batch = Batch(source, output, p, on, format, chunk_size, restart, publish=publisher)
    if batch.done:
        err.print(f"resuming: {batch.done} chunk(s) already done in {batch.parts}", markup=False)
    with progress() as bar:
        task = bar.add_task("households 户", total=total, rate="")
        import time

        started = time.perf_counter()
        count = 0

        def advance(n: int) -> None:
            nonlocal count
            count += n
            rate = count / max(time.perf_counter() - started, 1e-9)
            bar.update(task, advance=n, rate=f"{rate:,.0f}/s")

        return batch.run(advance, ahead)


def _print_summary(s, pack, on) -> None:
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
            *cells(
                f"{label.zh} {label.en}",
                f"{t.eligible:,}",
                f"{t.undetermined:,}",
                f"{t.amount:,.2f}",
                t.unit,
            )
        )
    out.print(table)
    readers: dict[tuple[str, str, str, bool], list[str]] = {}
    for pid, values in s.stale.items() if s.evaluated else ():  # none relied on: no warning
        for v in values:
            readers.setdefault((v.parameter, v.value, v.since, v.since_assumed), []).append(pid)
    for (name, value, since, assumed), pids in sorted(readers.items(), key=lambda kv: kv[0][2]):
        out.print(
            f"[yellow]stale 可能过时[/]: {name} = {value} since {since}"
            + (" (assumed date 日期为推定)" if assumed else "")
            + f", over two years before {on}; read by {', '.join(pids)} "
            f"for all {s.evaluated:,} evaluated households",
            highlight=False,
        )
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
        markup=False,
    )
