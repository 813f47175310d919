"""``minzheng monitor``: a stream of household events against a pack's alert rules."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.markup import escape

from minzheng_rules.cli.app import PackOption, app, err, fail, load_or_exit
from minzheng_rules.errors import MinzhengError, PackErrors
from minzheng_rules.monitor import (
    ENGINES,
    AlertSet,
    EngineUnavailableError,
    Monitor,
    iter_register,
    make_engine,
)
from minzheng_rules.monitor.output import json_line
from minzheng_rules.monitor.runner import WINDOW, freeze_loaded
from minzheng_rules.monitor.sharded import ShardedMonitor, WorkerError


@app.command("monitor")
def monitor_command(
    events: Annotated[Path, typer.Argument(help="Events as JSON Lines ('-' reads stdin)")],
    register: Annotated[
        Path,
        typer.Option(
            "--register",
            "-r",
            help="The households under watch: JSON Lines, or the columnar form (a folder with "
            "households.* and members.*, or a households table; needs the batch extra)",
        ),
    ],
    pack: PackOption,
    members: Annotated[
        Path | None, typer.Option(help="The members table, when not beside the households table")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write alerts here (default: stdout)")
    ] = None,
    engine: Annotated[str, typer.Option(help="python or durable (needs the monitor extra)")] = (
        "python"
    ),
    shards: Annotated[int, typer.Option(help="durable_rules shard sessions (1–1024)")] = 64,
    window: Annotated[
        int,
        typer.Option(
            help="Events whose households are judged together by the vectorized backend "
            "(1: one event at a time by the reference evaluator, each event's records written "
            "as it is read: a live feed; the records are the same)"
        ),
    ] = WINDOW,
    workers: Annotated[
        int,
        typer.Option(
            help="Processes, each watching its share of the households (records come out a "
            "window at a time, in stream order; the records are the same)"
        ),
    ] = 1,
    quiet: Annotated[bool, typer.Option(help="Do not list skipped events on stderr")] = False,
) -> None:
    """Watch households for early warnings (监测预警) and newly eligible programs (主动发现).

    Writes one JSON line per alert (event, household, alert, tier, reasons with values,
    newly_eligible, no_longer_eligible), then a summary line. A malformed or out-of-order event
    is reported with its line number and skipped."""
    if engine not in ENGINES:
        fail(ValueError(f"--engine must be one of {', '.join(ENGINES)}, got '{engine}'"))
    if not 1 <= shards <= 1024:
        fail(ValueError(f"--shards must be 1 to 1024, got {shards}"))
    if not 1 <= window <= 1_000_000:
        fail(ValueError(f"--window must be 1 to 1,000,000, got {window}"))
    if not 1 <= workers <= 64:
        fail(ValueError(f"--workers must be 1 to 64, got {workers}"))
    p = load_or_exit(pack)
    if not register.exists():
        fail(FileNotFoundError(f"register not found: {register}"))
    problems: list[str] = []
    try:
        if workers > 1:
            make_engine(engine, AlertSet.from_pack(p), shards).close()  # refused here, not in each
            monitor: Monitor | ShardedMonitor = ShardedMonitor(
                pack,
                register,
                members=members,
                workers=workers,
                engine=engine,
                shards=shards,
                window=window,
            )
            problems += monitor.problems
        else:
            monitor = Monitor(
                p,
                iter_register(register, problems, members),
                engine=engine,
                shards=shards,
                window=window,
            )
    except PackErrors as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        raise typer.Exit(1) from None
    except (EngineUnavailableError, OSError, MinzhengError, WorkerError) as e:
        fail(e)
        raise
    problems += [
        f"{register}: household id '{h}' appears twice; kept the first" for h in monitor.duplicates
    ]
    for problem in problems:
        err.print(f"skipped household: {problem}", markup=False, highlight=False)
    if isinstance(monitor, Monitor):
        freeze_loaded()
    if monitor.unbatched_reason:
        err.print(f"note: {monitor.unbatched_reason}", markup=False, highlight=False)
    source = "stdin" if str(events) == "-" else str(events)

    def report(error: dict[str, Any]) -> None:
        if not quiet:
            err.print(
                f"{source}:{error['line']}: {error['message']}", markup=False, highlight=False
            )

    start = time.perf_counter()
    try:
        stream: IO[bytes] = sys.stdin.buffer if source == "stdin" else events.open("rb")
    except OSError as e:
        fail(e)
        raise
    target = open(out, "w", encoding="utf-8") if out is not None else sys.stdout  # noqa: SIM115
    try:
        live = window <= 1 and target is sys.stdout  # a feed: each record as its event comes

        def write(record: dict[str, Any]) -> None:
            target.write(json_line(record).decode("utf-8"))
            if live:
                target.flush()

        if isinstance(monitor, ShardedMonitor):
            summary = monitor.run(stream, target, report)["summary"]
        else:
            summary = monitor.run(stream, write, report)["summary"]
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
        if target is not sys.stdout:
            target.close()
        monitor.close()
    seconds = time.perf_counter() - start
    rate = summary["events"] / seconds if seconds > 0 else 0.0
    err.print(
        f"{summary['events']} events: {summary['applied']} applied, {summary['skipped']} skipped, "
        f"{summary['records']} alerts ({engine} engine, {seconds:.1f} s, {rate:,.0f} events/s)",
        markup=False,
        highlight=False,
    )
