"""A register shaped the way other tools write one, for the speed benchmarks: a households and a
members Parquet file written by pyarrow (what pandas' ``to_parquet`` calls), only the columns
the shared 低保/低边/特困 rules read, every fact known, members shuffled (not grouped by
household), money as exact decimals (``decimal128(12, 2)``) or, with ``float_money``, as
float64 the way pandas holds it.

    python -m benchmarks.register OUT_DIR --households 1000000 [--float-money] [--seed 1]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TYPES = ["physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple"]
SELF_CARE = ["full", "partial", "none"]
CARE = ["family", "kinship", "institutional"]


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """``prefix`` + a zero-padded number, built by Arrow (no per-row Python)."""
    text = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=8, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def _money(fen: np.ndarray, float_money: bool) -> pa.Array:
    if float_money:
        return pa.array(fen / 100.0, type=pa.float64())
    # fen → 元 exactly: the integer as decimal(19, 0) read at scale 2, by 10**-2 without rounding
    return pa.Array.from_buffers(
        pa.decimal128(12, 2),
        len(fen),
        pa.array(fen, type=pa.int64()).cast(pa.decimal128(19, 0)).buffers(),
    )


def write_register(out: Path, households: int, seed: int = 1, float_money: bool = False) -> None:
    """Write ``out/households.parquet`` and ``out/members.parquet``."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    n = households
    size = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.3, 0.3, 0.2, 0.12, 0.08])
    hh = np.repeat(np.arange(n), size)
    k = np.arange(hh.size) - np.repeat(np.cumsum(size) - size, size)
    total = hh.size
    hid = _ids("H", np.arange(n))
    assets = rng.integers(0, 20_000_000, size=n) * (rng.random(n) < 0.7)
    pq.write_table(
        pa.table({"household_id": hid, "assets_financial": _money(assets, float_money)}),
        out / "households.parquet",
    )
    income = np.where(rng.random(total) < 0.4, 0, rng.integers(0, 400_000, size=total))
    disabled = rng.random(total) < 0.12
    grade = np.where(disabled, rng.integers(1, 5, size=total), 0)
    dtype = np.where(disabled, rng.integers(0, len(TYPES), size=total), -1)
    age = rng.integers(0, 96, size=total)
    members = pa.table(
        {
            "household_id": hid.take(pa.array(hh)),
            "member_id": pc.binary_join_element_wise(
                hid.take(pa.array(hh)), pa.array(k).cast(pa.string()), "-"
            ),
            "age": pa.array(age),
            # at school: most members aged 6 to 17 (a student under 18 cannot be asked to work)
            "student": pa.array(
                np.where((age >= 6) & (age <= 17) & (rng.random(total) < 0.9), "junior", "none")
            ),
            "monthly_income": _money(income, float_money),
            "disability_grade": pa.array(grade, mask=~disabled),
            "disability_type": pa.array(
                np.array(TYPES, dtype=object)[np.maximum(dtype, 0)], mask=~disabled
            ),
            "self_care": pa.array(
                np.array(SELF_CARE, dtype=object)[rng.choice(3, size=total, p=[0.8, 0.12, 0.08])]
            ),
            "major_illness": pa.array(rng.random(total) < 0.06),
            "has_capable_obligor": pa.array(rng.random(total) < 0.5),
            "incarcerated": pa.array(rng.random(total) < 0.01),
            "missing": pa.array(rng.random(total) < 0.01),
            "care": pa.array(
                np.array(CARE, dtype=object)[rng.choice(3, size=total, p=[0.95, 0.03, 0.02])]
            ),
        }
    )
    pq.write_table(members.take(pa.array(rng.permutation(total))), out / "members.parquet")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--float-money", action="store_true")
    args = ap.parse_args()
    write_register(args.out, args.households, args.seed, args.float_money)


if __name__ == "__main__":
    main()
