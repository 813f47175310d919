"""``minzheng monitor``: a stream of household events against a pack's alert rules."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.markup import escape

from minzheng_rules.cli._common import MonitorEngine, PackOption, err, fail, load_or_exit
from minzheng_rules.model._errors import MinzhengError, PackErrors
from minzheng_rules.monitor import (
    AlertSet,
    EngineUnavailableError,
    Monitor,
    iter_register,
    make_engine,
)
from minzheng_rules.monitor import _checkpoint as C
from minzheng_rules.monitor._events import read_events
from minzheng_rules.monitor._output import json_line
from minzheng_rules.monitor._register import household_line
from minzheng_rules.monitor._runner import WINDOW, PackCannotEvaluate, freeze_loaded
from minzheng_rules.monitor._sharded import ShardedMonitor, WorkerError, write_lines_atomic


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
    engine: Annotated[
        MonitorEngine, typer.Option(help="python or durable (needs the monitor extra)")
    ] = MonitorEngine.python,
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
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="Keep a durable checkpoint here (the households' states and the stream "
            "position, written atomically); with --resume a killed run goes on from it, "
            "writing exactly the records of a run never interrupted. Needs --out"
        ),
    ] = None,
    checkpoint_every: Annotated[
        int, typer.Option(help="A checkpoint at least every this many events")
    ] = 100_000,
    checkpoint_seconds: Annotated[
        float, typer.Option(help="A checkpoint at least every this many seconds")
    ] = 60.0,
    resume: Annotated[
        bool,
        typer.Option(
            help="Go on from --checkpoint (the records file is cut back to what the checkpoint "
            "saw); without a checkpoint file the run starts from the beginning"
        ),
    ] = False,
    horizon_days: Annotated[
        int,
        typer.Option(
            help="Refuse events dated more than this many days after today (a mistyped year)"
        ),
    ] = 366,
    register_out: Annotated[
        Path | None,
        typer.Option(help="At the end, write the households as the events left them (JSON Lines)"),
    ] = None,
) -> None:
    """Watch households for early warnings (监测预警) and newly eligible programs (主动发现).

    Writes one JSON line per alert (event, household, alert, tier, reasons with values,
    newly_eligible, no_longer_eligible), then a summary line. A malformed or out-of-order event
    is reported with its line number and skipped."""
    with _one_line_on_ctrl_c(checkpoint):
        if not 1 <= shards <= 1024:
            fail(ValueError(f"--shards must be 1 to 1024, got {shards}"))
        if not 1 <= window <= 1_000_000:
            fail(ValueError(f"--window must be 1 to 1,000,000, got {window}"))
        if not 1 <= workers <= 64:
            fail(ValueError(f"--workers must be 1 to 64, got {workers}"))
        if not 0 <= horizon_days <= 100_000:
            fail(ValueError(f"--horizon-days must be 0 to 100,000, got {horizon_days}"))
        if checkpoint_every < 1 or not checkpoint_seconds > 0:
            fail(ValueError("--checkpoint-every and --checkpoint-seconds must be positive"))
        if resume and checkpoint is None:
            fail(ValueError("--resume needs --checkpoint"))
        if checkpoint is not None and out is None:
            fail(ValueError("--checkpoint needs --out (a file the resumed run can cut back)"))
        for name, path in (
            ("--out", out),
            ("--checkpoint", checkpoint),
            ("--register-out", register_out),
        ):
            if path is not None and (path.is_dir() or not path.parent.is_dir()):
                fail(ValueError(f"{name} {path}: must be a file in an existing folder"))
        for name, path in (("--out", out), ("--checkpoint", checkpoint)):
            for what, given in (("events", events), ("register", register)):
                if path is not None and _same_file(path, given):  # it would be overwritten
                    fail(ValueError(f"{name} {path} is the {what} file"))
        p = load_or_exit(pack)
        if not register.exists():
            fail(FileNotFoundError(f"register not found: {register}"))
        saved: dict[str, Any] | None = None
        if resume and checkpoint is not None and checkpoint.exists():
            try:
                saved = C.read(checkpoint)
                if saved.get("workers", 1) != workers:
                    raise C.CheckpointError(
                        f"{checkpoint}: taken with --workers {saved.get('workers', 1)}, "
                        f"not {workers}"
                    )
            except C.CheckpointError as e:
                fail(e)
        elif resume:
            err.print(f"note: no checkpoint at {checkpoint}: starting afresh", markup=False)
        last_day = saved["horizon"] if saved is not None else C.horizon(horizon_days)
        problems: list[str] = []
        try:
            if workers > 1:
                # refused here, not in each worker
                make_engine(engine.value, AlertSet.from_pack(p), shards).close()
                sharded = ShardedMonitor(
                    pack,
                    register,
                    members=members,
                    workers=workers,
                    engine=engine.value,
                    shards=shards,
                    window=window,
                    horizon=last_day,
                    restore=None if saved is None else saved["snapshots"],
                    register_out=register_out is not None,
                )
                problems += sharded.problems
                monitor: Monitor | ShardedMonitor = sharded
            else:
                monitor = Monitor(
                    p,
                    iter_register(register, problems, members) if saved is None else (),
                    engine=engine.value,
                    shards=shards,
                    window=window,
                    horizon=last_day,
                )
                if saved is not None:
                    monitor.restore(saved["monitor"])
        except PackErrors as e:
            err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
            raise typer.Exit(1) from None
        except (EngineUnavailableError, OSError, MinzhengError, WorkerError) as e:
            fail(e)
        problems += [
            f"{register}: household id '{h}' appears twice; kept the first"
            for h in monitor.duplicates
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
        stream: IO[bytes] | None = None
        target: IO[str] | None = None
        checkpointer: C.Checkpointer | None = None
        try:
            stream = sys.stdin.buffer if source == "stdin" else events.open("rb")
            lines: Iterable[bytes] = stream
            if saved is not None:
                lines = C.resumed_lines(stream, saved["position"], source)
                target = C.reopen_records(out, saved["out_offset"])  # type: ignore[arg-type]
            elif checkpoint is not None:
                lines = C.Lines(stream)
            if target is None:
                target = open(out, "w", encoding="utf-8") if out is not None else sys.stdout  # noqa: SIM115
            if checkpoint is not None:
                assert isinstance(lines, C.Lines)
                checkpointer = C.Checkpointer(
                    checkpoint,
                    lines,
                    target,
                    {"pack": p.id, "events": source, "workers": workers, "horizon": last_day},
                    every=checkpoint_every,
                    seconds=checkpoint_seconds,
                    seq=0 if saved is None else saved["seq"],
                )
            live = window <= 1 and target is sys.stdout  # a feed: each record as its event comes
            out_file = target

            def write(record: dict[str, Any]) -> None:
                out_file.write(json_line(record).decode("utf-8"))
                if live:
                    out_file.flush()

            if isinstance(monitor, ShardedMonitor):
                summary = monitor.run(lines, target, report, checkpointer)["summary"]
                if register_out is not None:
                    monitor.write_register(register_out)
            else:
                single = monitor
                keeper = checkpointer

                def committed(line: int) -> None:
                    assert keeper is not None
                    keeper.lines.commit(line)
                    if keeper.due(line):
                        keeper.save(line, {"monitor": single.snapshot()})

                summary = monitor.run_events(
                    read_events(lines, first_line=1 if keeper is None else keeper.lines.line + 1),
                    write,
                    report,
                    None if keeper is None else committed,
                )["summary"]
                if register_out is not None:
                    write_lines_atomic(register_out, map(household_line, monitor.registered()))
            if checkpointer is not None:
                C.synced_size(target)
                checkpointer.finish(workers if workers > 1 else 0)
        except KeyboardInterrupt:
            if isinstance(monitor, ShardedMonitor):
                monitor.kill()
            raise
        except (OSError, MinzhengError, WorkerError) as e:
            if isinstance(monitor, ShardedMonitor):
                monitor.kill()
            fail(e)
        finally:
            if stream is not None and stream is not sys.stdin.buffer:
                stream.close()
            if target is not None and target is not sys.stdout:
                target.close()
            monitor.close()
        seconds = time.perf_counter() - start
        failed = sum(summary["skipped_by_kind"].get(k, 0) for k in ("not_evaluable", "internal"))
        if failed and not summary["applied"]:
            first: dict[str, Any] = next(
                (e for e in summary["errors"] if e["kind"] in ("not_evaluable", "internal")), {}
            )
            fail(
                PackCannotEvaluate(
                    f"the pack '{p.id}' could not evaluate any event "
                    f"(line {first.get('line')}: {first.get('message')})"
                )
            )
        rate = summary["events"] / seconds if seconds > 0 else 0.0
        err.print(
            f"{summary['events']} events: {summary['applied']} applied, "
            f"{summary['skipped']} skipped, "
            f"{summary['records']} alerts ({engine} engine, {seconds:.1f} s, {rate:,.0f} events/s)",
            markup=False,
            highlight=False,
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


@contextlib.contextmanager
def _one_line_on_ctrl_c(checkpoint: Path | None) -> Iterator[None]:
    """Ctrl-C at any moment (loading, a window, writing) ends the run with one line and exit
    status 130; the workers ignore SIGINT and die with the parent (see sharded)."""
    try:
        yield
    except KeyboardInterrupt:
        err.print(
            "interrupted (Ctrl-C)"
            + (f"; --resume goes on from {checkpoint}" if checkpoint is not None else ""),
            markup=False,
            highlight=False,
        )
        raise typer.Exit(130) from None
