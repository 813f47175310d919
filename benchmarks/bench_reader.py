"""The register reader alone: every chunk of a columnar register read, matched and validated as
``minzheng batch`` gets it, nothing evaluated. Each route runs in a child process of its own
(wall and CPU seconds, peak resident memory from the child's rusage):

- ``default``: as ``minzheng batch`` reads it: a register up to ``IN_MEMORY_BYTES`` read whole,
  members matched by one hash join; a bigger one as below;
- ``streamed``: as a bigger register is read: streamed in step when its members are in the
  households' order, else split into hash buckets on disk first.

    .venv/bin/python -m benchmarks.bench_reader [REGISTER] [--households 1000000] [--float-money]

Without ``REGISTER`` one is written by :mod:`benchmarks.register` (shuffled members, only the
shared rules' columns). The machine is shared: CPU seconds are printed beside wall seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.register import write_register

CHILD = """
import sys
from minzheng_rules.io import _readers as readers
if sys.argv[2] == "streamed":
    readers.IN_MEMORY_BYTES = -1
source = readers.open_register(sys.argv[1])
read = evaluable = members = refused = 0
for chunk in source.chunks(250_000, None):
    read += chunk.read
    evaluable += chunk.households.height
    members += chunk.members.height
    refused += len(chunk.rejects)
print(source.mode, read, evaluable, members, refused)
"""


def run(register: Path, route: str) -> str:
    """The reader on ``register`` in a child process: one line of figures."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(register), route],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert child.stdout is not None
        out = child.stdout.read().decode()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"reader ({route}) failed:\n{errors.read().decode()[-2000:]}")
    mode, read, evaluable, members, refused = out.split()
    cpu, peak = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    return (
        f"   {route:9s} {mode:12s} {wall:6.2f} s wall {cpu:6.2f} s cpu {peak:6.0f} MiB   "
        f"{int(read):,} read, {int(evaluable):,} evaluable, {int(members):,} members, "
        f"{int(refused):,} refused"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("register", type=Path, nargs="?")
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--float-money", action="store_true")
    ap.add_argument("--only", choices=["default", "streamed"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reader-") as tmp:
        register = args.register
        if register is None:
            register = Path(tmp) / "register"
            write_register(register, args.households, float_money=args.float_money)
        print(f"register reader, {register}")
        for route in ("default", "streamed"):
            if args.only in (None, route):
                print(run(register, route), flush=True)


if __name__ == "__main__":
    main()
