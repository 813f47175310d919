"""Whole-register speed, each figure a ratio measured in one run.

    .venv/bin/python -m benchmarks.bench_vectorized                       # all three, 1 M
    .venv/bin/python -m benchmarks.bench_vectorized --households 10000000 --only throughput

1. vectorized vs the reference evaluator, full 湖州 pack, on synthetic households (the reference
   gets parsed households, so only evaluation is timed on both sides);
2. vectorized vs a hand-written Polars/NumPy implementation of the same 低保/低边/特困 rules
   (``benchmarks/packs/huzhou_core`` against ``benchmarks/handwritten_polars.py``), answers
   checked equal cell by cell;
3. ``minzheng batch`` Parquet → Parquet in a child process: households per second and the
   child's peak memory (the register is written by ``minzheng synth`` first, not timed).

Goals (issue #5): full pack ≥ 1 M households/s Parquet → Parquet; 10 M with peak memory under
2 GB; within 1.5 × of the hand-written rules. Wall times depend on what else the machine runs:
CPU seconds are printed beside them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.handwritten_polars import complete, huzhou_core
from minzheng_rules.backends.reference import bind
from minzheng_rules.backends.vectorized._engine import VectorizedPack
from minzheng_rules.model._convert import frames_to_dicts
from minzheng_rules.model._household import parse_household
from minzheng_rules.packs._pack import load_pack
from minzheng_rules.synth._registers import generate

ON = dt.date(2024, 6, 1)
CORE = Path(__file__).parent / "packs" / "huzhou_core"


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def vs_reference(n: int) -> None:
    pack = load_pack("huzhou")
    h, m = next(generate(pack, ON, n, seed=21, chunk=n))
    households = [parse_household(d) for d in frames_to_dicts(h, m, list(range(h.height)))]
    bound = bind(pack, ON)
    vp = VectorizedPack(pack, ON)
    vp.evaluate(h, m)  # warm up
    _, ref_wall, ref_cpu = _timed(lambda: [bound.evaluate(x) for x in households])
    result, vec_wall, vec_cpu = _timed(lambda: vp.evaluate(h, m))
    print(f"1. vectorized vs reference — full huzhou pack, {n:,} households")
    print(f"   reference   {ref_wall:8.2f} s wall {ref_cpu:8.2f} s cpu  ({n / ref_wall:,.0f}/s)")
    print(f"   vectorized  {vec_wall:8.2f} s wall {vec_cpu:8.2f} s cpu  ({n / vec_wall:,.0f}/s)")
    print(f"   speed-up    {ref_wall / vec_wall:8.1f} × wall {ref_cpu / vec_cpu:8.1f} × cpu")
    print(f"   ({result.fallback} households decided by the reference inside the vectorized run)")


def vs_handwritten(n: int) -> None:
    pack = load_pack("huzhou")
    core = load_pack(CORE)
    frames = [complete(h, m) for h, m in generate(pack, ON, n, seed=22)]
    vp = VectorizedPack(core, ON)
    hand_wall = hand_cpu = vec_wall = vec_cpu = 0.0
    for h, m in frames:
        want, w, c = _timed(lambda h=h, m=m: huzhou_core(h, m))
        hand_wall, hand_cpu = hand_wall + w, hand_cpu + c
        got, w, c = _timed(lambda h=h, m=m: vp.evaluate(h, m))
        vec_wall, vec_cpu = vec_wall + w, vec_cpu + c
        if not got.frame.select(want.columns).equals(want):
            raise SystemExit("the compiled pack and the hand-written rules disagree")
    print(
        f"2. vectorized vs hand-written Polars — 低保/低边/特困, {n:,} households (answers equal)"
    )
    print(f"   hand-written {hand_wall:7.2f} s wall {hand_cpu:8.2f} s cpu")
    print(f"   compiled     {vec_wall:7.2f} s wall {vec_cpu:8.2f} s cpu")
    print(
        f"   ratio        {vec_wall / hand_wall:7.2f} × wall {vec_cpu / hand_cpu:8.2f} × cpu   (goal ≤ 1.5)"
    )


def throughput(n: int, chunk: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        reg, out = Path(tmp) / "reg", Path(tmp) / "out.parquet"
        minzheng = [sys.executable, "-m", "minzheng_rules.cli.main"]
        started = time.perf_counter()
        subprocess.run(
            [
                *minzheng,
                "synth",
                "-n",
                str(n),
                "--pack",
                "huzhou",
                "--out",
                str(reg),
                "--seed",
                "1",
                "--date",
                ON.isoformat(),
            ],
            check=True,
            capture_output=True,
        )
        synth = time.perf_counter() - started
        # the batch runs in a child that reports its own peak memory (not the synth's)
        script = (
            "import resource, sys\n"
            "from minzheng_rules.cli.main import app\n"
            "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code or 0\n"
            "else:\n    code = 0\n"
            "sys.stderr.write(f'PEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
            "sys.exit(code)\n"
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                "batch",
                str(reg),
                str(out),
                "--pack",
                "huzhou",
                "--date",
                ON.isoformat(),
                "--chunk-size",
                str(chunk),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        peak_mb = int(done.stderr.rsplit("PEAK ", 1)[1].split()[0]) / 1024
        size = sum(p.stat().st_size for p in reg.iterdir()) / 2**20
    print(
        f"3. Parquet → Parquet, full huzhou pack, {n:,} households ({size:,.0f} MiB in), chunks of {chunk:,}"
    )
    print(f"   synth       {synth:8.1f} s")
    print(
        f"   batch       {wall:8.1f} s wall {cpu:8.1f} s cpu  → {n / wall:,.0f} households/s (goal ≥ 1,000,000)"
    )
    print(f"   peak memory {peak_mb:8.0f} MiB (the batch process; goal < 2048 at 10 M)")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--reference-households", type=int, default=5_000)
    ap.add_argument("--chunk-size", type=int, default=250_000)
    ap.add_argument("--only", choices=["reference", "handwritten", "throughput"])
    args = ap.parse_args()
    np.seterr(all="ignore")
    if args.only in (None, "reference"):
        vs_reference(args.reference_households)
    if args.only in (None, "handwritten"):
        vs_handwritten(args.households)
    if args.only in (None, "throughput"):
        throughput(args.households, args.chunk_size)


if __name__ == "__main__":
    main()
