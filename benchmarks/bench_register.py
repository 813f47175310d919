"""Issue 19's speed figures, each a ratio measured in one run, every contender a separate process
reading the same files (wall time from here, CPU and peak memory from the child's own rusage):

1. shared 低保/低边/特困 rules (``benchmarks/packs/huzhou_core``), N households Parquet → Parquet,
   on a register shaped the way other tools write one (:mod:`benchmarks.register`: only the
   needed columns, members shuffled): ``minzheng batch`` vs OpenFisca 46
   (``benchmarks/openfisca``, run in its own environment) vs hand-written NumPy on integer fen
   (:mod:`benchmarks.handwritten_numpy`); the three answers compared to the fen;
2. the full 湖州 pack, Parquet → Parquet on a ``minzheng synth`` register: households/s, and
   the floors under it (imports, the reader alone, the writer alone: no rule evaluated);
3. peak memory of that batch at ``--memory-households`` (10 M in the issue; slow, so a flag);
4. start-up: ``minzheng batch`` of one household with the full pack, with the compiled pack's
   disk cache off (cold) and on (warm).

    .venv/bin/python -m benchmarks.bench_register --households 1000000 \\
        --openfisca-python /tmp/ofvenv/bin/python [--float-money] [--memory-households 10000000]

Goals (issue 19): ≥ 3 × OpenFisca; within 2 × hand-written NumPy; full pack ≥ 500,000
households/s; 10 M under 2 GB; start-up under 1 s. The machine is shared: CPU seconds are
printed beside wall seconds, and the ratios are what to compare between runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from benchmarks.register import write_register

HERE = Path(__file__).resolve().parent
CORE = HERE / "packs" / "huzhou_core"
ON = "2024-06-01"
COMPARED = ["dibao", "dibao_edge", "tekun"]


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mb: float
    stderr: str


def run(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` as a child process; its wall time, CPU seconds and peak resident memory."""
    started = time.perf_counter()
    child = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        cwd=HERE.parent,
    )
    assert child.stderr is not None
    err = child.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({child.returncode}):\n{err[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, err)


def minzheng(*args: str) -> list[str]:
    return [sys.executable, "-m", "minzheng_rules.cli.main", *args]


def answers(path: Path) -> pl.DataFrame:
    """Status and amount in fen per program, sorted by household id."""
    frame = pl.read_parquet(path)
    return frame.select(
        "household_id",
        *[
            e
            for p in COMPARED
            for e in (
                pl.col(f"{p}_status"),
                (pl.col(f"{p}_amount").cast(pl.Float64) * 100).round().cast(pl.Int64),
            )
        ],
    ).sort("household_id")


def differ(a: pl.DataFrame, b: pl.DataFrame) -> int:
    """Households whose answers differ in any status or any fen."""
    if a.height != b.height or not a["household_id"].equals(b["household_id"]):
        return max(a.height, b.height)
    cols = [c for c in a.columns if c != "household_id"]
    return int(
        pl.DataFrame([a[c].ne_missing(b[c]).alias(c) for c in cols])
        .select(pl.any_horizontal(cols).sum())
        .item()
    )


def line(name: str, r: Run, n: int, base: Run | None = None) -> str:
    ratio = f"  {r.wall / base.wall:5.2f} × wall {r.cpu / base.cpu:5.2f} × cpu" if base else ""
    return (
        f"   {name:<22}{r.wall:7.2f} s wall {r.cpu:7.2f} s cpu {r.peak_mb:7.0f} MiB"
        f"  {n / r.wall:>11,.0f}/s{ratio}"
    )


def shared_rules(tmp: Path, n: int, float_money: bool, openfisca: str | None) -> None:
    reg = tmp / "shaped"
    write_register(reg, n, seed=1, float_money=float_money)
    money = "float64" if float_money else "decimal(12, 2)"
    print(f"1. shared 低保/低边/特困 rules, {n:,} households Parquet → Parquet, as processes")
    print(f"   register: pyarrow-written, needed columns only, members shuffled, money {money}")
    mz = run(
        minzheng("batch", str(reg), str(tmp / "mz.parquet"), "--pack", str(CORE), "--date", ON)
    )
    np_ = run(
        [sys.executable, "-m", "benchmarks.handwritten_numpy", str(reg), str(tmp / "np.parquet")]
    )
    want = answers(tmp / "mz.parquet")
    print(line("minzheng batch", mz, n))
    print(line("hand-written NumPy", np_, n, mz))
    print(f"   minzheng / NumPy      {mz.wall / np_.wall:5.2f} × wall (goal ≤ 2)")
    bad = differ(want, answers(tmp / "np.parquet"))
    print(f"   NumPy answers differing from minzheng's: {bad:,} households")
    if openfisca is None or not Path(openfisca).exists():
        print(
            "   OpenFisca: skipped (give --openfisca-python; see benchmarks/openfisca/requirements.txt)"
        )
        return
    of = run([openfisca, str(HERE / "openfisca" / "run.py"), str(reg), str(tmp / "of.parquet")])
    print(line("OpenFisca 46", of, n, mz))
    print(f"   OpenFisca / minzheng  {of.wall / mz.wall:5.2f} × wall (goal ≥ 3)")
    bad = differ(want, answers(tmp / "of.parquet"))
    print(
        f"   OpenFisca answers differing from minzheng's to the fen: {bad:,} households "
        "(OpenFisca computes money in float32 元)"
    )


def full_pack(
    tmp: Path, n: int, label: str, goal: str, floors: bool = False
) -> dict[str, Run] | None:
    """The batch's figure; with ``floors``, those too (returned: the children's runs)."""
    reg = tmp / f"synth{n}"
    subprocess.run(
        minzheng(
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
            ON,
        ),
        check=True,
        capture_output=True,
    )
    r = run(
        minzheng("batch", str(reg), str(tmp / f"full{n}.parquet"), "--pack", "huzhou", "--date", ON)
    )
    print(f"{label}. full 湖州 pack, {n:,} households (minzheng synth) Parquet → Parquet")
    print(line("minzheng batch", r, n) + f"   ({goal})")
    return _floors(reg, tmp / f"full{n}.parquet", n) if floors else None


def _floors(reg: Path, out: Path, n: int) -> dict[str, Run]:
    """What a batch of this register costs before any rule is evaluated, each part in a child
    of its own: importing the batch command's modules; reading, matching and validating every
    chunk as ``minzheng batch`` does; writing its output table again with its writer. Their
    sum against the time the households/s goal allows shows what is left for evaluation."""
    parts = {
        name: run([sys.executable, "-c", _FLOOR, name, str(reg), str(out)])
        for name in ("imports", "reader", "writer")
    }
    budget = n / 500_000
    print(
        f"   floors (no rule evaluated), each a process; at 500,000/s the whole run has {budget:.2f} s"
    )
    alone = {name: float(r.stderr.split()[-1]) for name, r in parts.items()}
    for name, r in parts.items():
        inner = alone[name]
        print(
            f"   {name:<8} {r.wall:6.2f} s wall {r.cpu:6.2f} s cpu  (the part alone: {inner:.2f} s)"
        )
    total = sum(alone.values())
    print(f"   the three parts alone, one after another: {total:.2f} s ({budget:.2f} s allowed)")
    return parts


# a floor of a batch: its imports, its reader alone, or its writer alone (the time of the part
# itself on stderr; the output is read back first, untimed, in the writer's forms)
_FLOOR = """
import sys, time
t0 = time.perf_counter()
import minzheng_rules.cli.main, minzheng_rules.io._batch as batch
from pathlib import Path
part, reg, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
took = time.perf_counter() - t0
if part == "reader":
    from minzheng_rules.io._readers import open_register
    t0 = time.perf_counter()
    read = 0
    for chunk in batch.Prefetch(open_register(reg).chunks(250_000, None)):
        read += chunk.read
    took = time.perf_counter() - t0
    sys.stderr.write(f"{read} ")
elif part == "writer":
    import pyarrow as pa, pyarrow.parquet as pq
    from minzheng_rules.io._formats import TableWriter
    table = pq.read_table(out)
    arrays = []
    for name, column in zip(table.column_names, table.columns):
        column = column.combine_chunks()
        if name.endswith("_status"):
            column = column.dictionary_encode()
        elif name.endswith("_amount"):
            column = column.cast(pa.decimal64(18, column.type.scale))
        elif name in batch.LISTS:
            column = pa.ListArray.from_arrays(column.offsets, column.values.dictionary_encode())
        arrays.append(column)
    table = pa.Table.from_arrays(arrays, names=table.column_names)
    t0 = time.perf_counter()
    writer = TableWriter(out.with_name("again.parquet"), "parquet", store_schema=False, integer_decimals=True)
    for k in range(0, table.num_rows, 250_000):
        writer.write(table.slice(k, 250_000))
    writer.close()
    took = time.perf_counter() - t0
sys.stderr.write(f"{took:.3f}")
"""


def start_up(tmp: Path) -> None:
    reg = tmp / "one"
    subprocess.run(
        minzheng(
            "synth", "-n", "1", "--pack", "huzhou", "--out", str(reg), "--seed", "1", "--date", ON
        ),
        check=True,
        capture_output=True,
    )
    out = str(tmp / "one.parquet")
    cache = str(tmp / "cache")
    args = minzheng("batch", str(reg), out, "--pack", "huzhou", "--date", ON)
    cold = run(args, {"MINZHENG_CACHE": "off"})
    run(args, {"XDG_CACHE_HOME": cache})  # fills the cache
    warm = run(args, {"XDG_CACHE_HOME": cache})
    print(
        "4. start-up: minzheng batch of 1 household, full 湖州 pack (imports, load, compile, run)"
    )
    print(f"   cache off   {cold.wall:6.2f} s wall {cold.cpu:6.2f} s cpu")
    print(f"   cache warm  {warm.wall:6.2f} s wall {warm.cpu:6.2f} s cpu   (goal < 1 s)")
    for name, env in (("off", {"MINZHENG_CACHE": "off"}), ("warm", {"XDG_CACHE_HOME": cache})):
        parts = run([sys.executable, "-c", _PHASES], env).stderr.split()
        print(
            f"   phases, cache {name:<4}: imports {parts[0]} s, load {parts[1]} s, compile {parts[2]} s"
        )


# the start-up phases in one child: the batch command's imports, the pack's load, its compile
_PHASES = """
import time, sys, datetime as dt
t0 = time.perf_counter()
import minzheng_rules.cli.main, minzheng_rules.io._batch
from minzheng_rules.backends.vectorized._engine import VectorizedPack
from minzheng_rules.packs._pack import load_pack
t1 = time.perf_counter()
pack = load_pack("huzhou")
t2 = time.perf_counter()
VectorizedPack(pack, dt.date(2024, 6, 1))
t3 = time.perf_counter()
sys.stderr.write(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f}")
"""


def byte_compile() -> None:
    """Write minzheng's ``.pyc`` files first, as pip does when it installs the package (and as
    OpenFisca's venv has its own): run from a source checkout with ``PYTHONDONTWRITEBYTECODE``
    set, every process would compile the package from source again, some 0.08 s of CPU each."""
    import compileall

    import minzheng_rules

    compileall.compile_dir(Path(minzheng_rules.__file__).parent, quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument(
        "--full-households", type=int, help="households for the full pack (default: --households)"
    )
    ap.add_argument(
        "--float-money", action="store_true", help="write the register's money as float64"
    )
    ap.add_argument(
        "--openfisca-python", help="the python of a venv with benchmarks/openfisca/requirements.txt"
    )
    ap.add_argument(
        "--memory-households",
        type=int,
        default=0,
        help="also run the full pack at this size (peak memory)",
    )
    ap.add_argument("--only", choices=["shared", "full", "memory", "startup"])
    args = ap.parse_args()
    byte_compile()
    with tempfile.TemporaryDirectory(prefix="bench-register-") as t:
        tmp = Path(t)
        if args.only in (None, "shared"):
            shared_rules(tmp, args.households, args.float_money, args.openfisca_python)
        if args.only in (None, "full"):
            full_pack(
                tmp, args.full_households or args.households, "2", "goal ≥ 500,000/s", floors=True
            )
        if args.memory_households and args.only in (None, "memory"):
            full_pack(tmp, args.memory_households, "3", "peak memory goal < 2048 MiB at 10 M")
        if args.only in (None, "startup"):
            start_up(tmp)


if __name__ == "__main__":
    main()
