"""Monitoring throughput, both engines in one run, on one synthetic register and stream.

    .venv/bin/python -m benchmarks.bench_monitor                     # 20,000 households, 100,000 events
    .venv/bin/python -m benchmarks.bench_monitor --households 200000 --events 1000000

Writes the register and the stream to a work folder, then runs the monitor once per engine, each
in its own process (so each one's peak memory is its own), and reports for each:

* end-to-end events per second: parse, apply, alert rules, re-evaluate the household with the
  pack, write the records;
* alert-rule events per second: the time inside the engine's ``fire`` alone (the part the two
  engines do differently), and durable / python as a ratio measured in the same run;
* peak memory (ru_maxrss) and the memory after loading the register, to show it stays bounded
  while the stream runs.

By default the monitor judges households a window of events at a time with the vectorized
backend (``--windows 20000``); ``--windows 1,20000`` also runs each engine one event at a time
(the reference evaluator per event) so the two are measured in the same run. Then it checks that
every run wrote the same alert records (everything but the summary's ``engine`` field). Goal (issue #7): 25,000 events/s with 200,000 households, peak under 1.5 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(folder: Path, households: int, events: int, seed: int) -> tuple[Path, Path]:
    from minzheng_rules.synth import canonical_register, event_stream

    register = folder / f"register-{households}-{seed}.jsonl"
    stream = folder / f"events-{households}-{events}-{seed}.jsonl"
    if register.exists() and stream.exists():
        return register, stream
    hs = list(canonical_register(households, seed=seed))
    with register.open("w", encoding="utf-8") as f:
        for h in hs:
            f.write(json.dumps(h, ensure_ascii=False) + "\n")
    with stream.open("w", encoding="utf-8") as f:
        for line in event_stream(
            hs, events, seed=seed + 1, start=dt.date(2024, 1, 1), bad_share=0.001
        ):
            f.write(line + "\n")
    return register, stream


def run_one(
    engine: str,
    pack_name: str,
    register: Path,
    stream: Path,
    out: Path,
    window: int,
    workers: int = 1,
) -> dict:
    """One engine over the stream, in this process (and its workers); returns its figures."""
    from minzheng_rules import load_pack
    from minzheng_rules.monitor import Monitor, iter_register
    from minzheng_rules.monitor._output import json_line
    from minzheng_rules.monitor._runner import freeze_loaded
    from minzheng_rules.monitor._sharded import ShardedMonitor

    rss0 = _rss_mb()
    t0 = time.perf_counter()
    problems: list[str] = []
    fire_s = [0.0]
    if workers > 1:
        monitor: Any = ShardedMonitor(
            pack_name, register, workers=workers, engine=engine, window=window
        )
        problems = monitor.problems
    else:
        pack = load_pack(pack_name)
        monitor = Monitor(pack, iter_register(register, problems), engine=engine, window=window)
        freeze_loaded()  # as the command line does
        fire = monitor.engine.fire

        def timed_fire(*args):
            t = time.perf_counter()
            try:
                return fire(*args)
            finally:
                fire_s[0] += time.perf_counter() - t

        monitor.engine.fire = timed_fire  # type: ignore[method-assign]
    load_s = time.perf_counter() - t0
    rss_loaded = _rss_mb()
    samples = []
    t0 = time.perf_counter()
    with stream.open("rb") as lines, out.open("w", encoding="utf-8") as f:
        count = [0]

        def write(record: dict) -> None:
            f.write(json_line(record).decode("utf-8"))

        def counted():
            for line in lines:
                count[0] += 1
                if count[0] % 100_000 == 0:
                    samples.append(round(_rss_mb()))
                    with out.with_suffix(".progress").open("a", encoding="utf-8") as p:
                        p.write(
                            f"{count[0]} events {time.perf_counter() - t0:.0f} s "
                            f"rss {samples[-1]} MB\n"
                        )
                yield line

        if workers > 1:
            summary = monitor.run(counted(), f)["summary"]
        else:
            summary = monitor.run(counted(), write)["summary"]
    run_s = time.perf_counter() - t0
    stats = monitor.stats if workers > 1 else {}
    if workers > 1:
        monitor.close()
    return {
        "engine": engine,
        "window": window,
        "workers": workers,
        "events": summary["events"],
        "applied": summary["applied"],
        "skipped": summary["skipped"],
        "records": summary["records"],
        "register_problems": len(problems),
        "load_seconds": round(load_s, 1),
        "run_seconds": round(run_s, 1),
        "events_per_second": round(summary["events"] / run_s),
        "fire_seconds": round(fire_s[0], 2),
        "alert_events_per_second": round(summary["applied"] / fire_s[0]) if fire_s[0] else None,
        "reference_evaluations": stats.get("reference_evaluations")
        if workers > 1
        else monitor.reference_evaluations,
        "vectorized_rows": stats.get("vectorized_rows")
        if workers > 1
        else (monitor._vectorized.rows if monitor._vectorized else 0),
        "rss_start_mb": round(rss0),
        "rss_after_register_mb": round(rss_loaded),
        "rss_every_100k_events_mb": samples,
        # with workers: the parent's peak plus every worker's (an upper bound of the total)
        "peak_rss_mb": round(_peak_mb() + stats.get("peak_rss_mb", 0)),
    }


def digest(path: Path) -> tuple[str, dict]:
    """A hash of every record, and the summary without its ``engine`` field."""
    h = hashlib.sha256()
    last = b""
    with path.open("rb") as f:
        for line in f:
            if last:
                h.update(last)
            last = line
    summary = json.loads(last)["summary"]
    summary.pop("engine")
    return h.hexdigest(), summary


def _rate(value: int | None) -> str:
    """A rate for the table; workers' alert rules are not timed separately."""
    return "n/a" if value is None else f"{value:,}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=20_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--pack", default="zhenjiang")
    ap.add_argument("--engines", default="python,durable")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument(
        "--windows",
        default="20000",
        help="comma-separated event windows to run each engine with (1: one event at a time)",
    )
    ap.add_argument(
        "--workers",
        default="1",
        help="comma-separated worker processes to run each engine with (see monitor.sharded)",
    )
    ap.add_argument(
        "--parallel", action="store_true", help="run the engines at the same time (2 cores)"
    )
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bench-monitor")
    ap.add_argument("--run", help=argparse.SUPPRESS)  # internal: one engine in this process
    ap.add_argument("--register", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--stream", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--window", type=int, default=20_000, help=argparse.SUPPRESS)
    ap.add_argument("--worker-count", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        figures = run_one(
            args.run,
            args.pack,
            args.register,
            args.stream,
            args.out,
            args.window,
            args.worker_count,
        )
        print(json.dumps(figures))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    register, stream = generate(args.workdir, args.households, args.events, args.seed)
    print(f"register {register} ({args.households:,} households)")
    print(f"stream   {stream} ({args.events:,} events), made in {time.perf_counter() - t:.0f} s")
    results, digests = {}, {}
    engines = args.engines.split(",")
    windows = [int(w) for w in args.windows.split(",")]
    counts = [int(w) for w in args.workers.split(",")]
    procs = {}
    for engine, window, workers in [(e, w, n) for n in counts for w in windows for e in engines]:
        name = engine + (f"/w{window}" if len(windows) > 1 else "")
        name += f"/x{workers}" if len(counts) > 1 else ""
        out = args.workdir / f"alerts-{engine}-w{window}-x{workers}.jsonl"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.bench_monitor",
            "--run",
            engine,
            "--pack",
            args.pack,
            "--register",
            str(register),
            "--stream",
            str(stream),
            "--out",
            str(out),
            "--window",
            str(window),
            "--worker-count",
            str(workers),
        ]
        procs[name] = (
            out,
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        )
        if not args.parallel:
            procs[name][1].wait()
    for engine, (out, proc) in procs.items():
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            print(f"{engine}: FAILED (exit {proc.returncode})\n{stderr[-3000:]}")
            continue
        results[engine] = json.loads(stdout.strip().splitlines()[-1])
        digests[engine] = digest(out)
        print(json.dumps(results[engine]))
    how = "engines run side by side" if args.parallel else "engines run one after the other"
    print(
        f"\nmonitor, pack {args.pack}, {args.households:,} households, {args.events:,} events"
        f" ({how}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})"
    )
    for engine, r in results.items():
        print(
            f"  {engine:8s} end-to-end {r['events_per_second']:>8,} events/s   "
            f"(window {r['window']:,}, workers {r['workers']}, "
            f"reference evaluations {r['reference_evaluations']:,})   "
            f"alert rules only {_rate(r['alert_events_per_second']):>8} events/s   "
            f"peak {r['peak_rss_mb']:,} MB (after register {r['rss_after_register_mb']:,} MB)   "
            f"{r['records']:,} records, {r['skipped']:,} skipped"
        )
    for w in windows:
        tag = "" if len(windows) == 1 else f"/w{w}"
        p, d = results.get("python" + tag), results.get("durable" + tag)
        if p and d:
            rules = (
                f", alert rules only "
                f"{d['alert_events_per_second'] / p['alert_events_per_second']:.2f} ×"
                if d["alert_events_per_second"] and p["alert_events_per_second"]
                else ""
            )
            ratio = d["events_per_second"] / p["events_per_second"]
            print(f"  durable / python{tag}: end-to-end {ratio:.2f} ×{rules}")
    for e in engines:
        one, most = results.get(f"{e}/w{min(windows)}"), results.get(f"{e}/w{max(windows)}")
        if len(windows) > 1 and one and most:
            ratio = most["events_per_second"] / one["events_per_second"]
            print(f"  {e}: window {max(windows):,} / window {min(windows):,}: {ratio:.2f} ×")
        one, most = results.get(f"{e}/x{min(counts)}"), results.get(f"{e}/x{max(counts)}")
        if len(counts) > 1 and len(windows) == 1 and one and most:
            ratio = most["events_per_second"] / one["events_per_second"]
            print(f"  {e}: {max(counts)} workers / {min(counts)}: {ratio:.2f} ×")
    if len(digests) > 1:
        first = next(iter(digests.values()))
        same = all(d == first for d in digests.values())
        print(f"  same alerts from every run: {'yes' if same else 'NO'}")
    print("  goal: 25,000 events/s with 200,000 households, peak memory under 1,500 MB")


if __name__ == "__main__":
    main()
