"""Hand-written NumPy for the 湖州 低保 / 低边 / 特困 rules on 2024-06-01, as a program: a
register (see :mod:`benchmarks.register`) in, results Parquet out, in the columns ``minzheng
batch`` writes. Integer fen throughout; members found by a hash lookup of their household id
(``pyarrow.compute.index_in``) and summed per household with ``np.bincount``, so shuffled
members need no sort. The same answers as ``handwritten.py`` (the benchmark checks them).

    python -m benchmarks.handwritten_numpy REGISTER_DIR OUT.parquet
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

STANDARD = 114_500  # fen
TEKUN_BASIC = 195_000
CARE = np.array([19_500, 58_500, 117_000])  # full, partial, none
WORDS = pa.array(["ineligible", "undetermined", "eligible"])


def fen(column: pa.ChunkedArray) -> np.ndarray:
    """Money as int64 fen: exact decimals scaled by 100, or binary floats rounded to the fen."""
    if pa.types.is_floating(column.type):
        return np.rint(column.to_numpy() * 100).astype(np.int64)
    return pc.cast(pc.multiply(column, pa.scalar(100, column.type)), pa.int64()).to_numpy()


def decimal(fen: np.ndarray) -> pa.Array:
    """int64 fen as ``decimal128(14, 2)`` (the same unscaled integer, no arithmetic)."""
    unscaled = pa.array(fen, type=pa.int64()).cast(pa.decimal128(19, 0))
    return pa.Array.from_buffers(pa.decimal128(14, 2), len(fen), unscaled.buffers())


def evaluate(h: pa.Table, m: pa.Table) -> pa.Table:
    n_h = h.num_rows
    hi = pc.index_in(m["household_id"], value_set=h["household_id"]).to_numpy()
    age = m["age"].to_numpy()
    inc = fen(m["monthly_income"])
    grade = m["disability_grade"].fill_null(0).to_numpy()
    dtype = m["disability_type"].fill_null("")
    mental = pc.is_in(dtype, pa.array(["intellectual", "mental"])).to_numpy()
    physical = pc.equal(dtype, "physical").to_numpy()
    visual = pc.equal(dtype, "visual").to_numpy()
    multiple = pc.equal(dtype, "multiple").to_numpy()
    at_school = pc.not_equal(m["student"], "none").to_numpy()
    living = ~(
        m["incarcerated"].to_numpy()
        | m["missing"].to_numpy()
        | pc.equal(m["care"], "institutional").to_numpy()
    )
    unable = (
        (age >= 60)
        | (age < 16)
        | (mental & (grade >= 1) & (grade <= 3))
        | ((physical | multiple) & (grade >= 1) & (grade <= 2))
        | (visual & (grade == 1))
        | ((age < 18) & at_school)
    )

    def per_household(weights: np.ndarray) -> np.ndarray:
        return np.bincount(hi, weights=weights, minlength=n_h).astype(np.int64)

    # a member who meets the 特困 conditions is supported on her own; the rest are assessed for
    # 低保 (assets and able adults are counted over everyone living in the household)
    assets_ok = fen(h["assets_financial"]) <= STANDARD * 24 * np.maximum(per_household(living), 1)
    able = per_household(living & ~unable & (age >= 18))
    care = pc.index_in(m["self_care"], value_set=pa.array(["full", "partial", "none"])).to_numpy()
    tekun_member = (
        unable
        & (inc < STANDARD)
        & (assets_ok & (able == 0))[hi]
        & ~m["has_capable_obligor"].to_numpy()
    )
    countable = living & ~tekun_member
    severe = (
        countable
        & (((grade >= 1) & (grade <= 2)) | (mental & (grade == 3)) | m["major_illness"].to_numpy())
        & (inc < STANDARD)
    )

    n = per_household(countable)
    income = per_household(inc * countable)
    severe_n = per_household(severe)
    severe_income = per_household(inc * severe)
    n1 = np.maximum(n, 1)
    whole = income < STANDARD * n1
    below_edge = 2 * income < 3 * STANDARD * n1
    single = np.where(~whole & below_edge, severe_n, 0)
    tekun_n = per_household(tekun_member)
    tekun_fen = per_household(tekun_member * (TEKUN_BASIC + CARE[care]))
    any_tekun = tekun_n > 0
    dibao = (n > 0) & (whole | (single > 0)) & assets_ok
    dibao_fen = np.where(
        whole,
        np.maximum(STANDARD * n - income, 0),
        np.maximum(STANDARD * single - severe_income, 0),
    )
    edge = ~whole & below_edge & assets_ok

    def status(ok: np.ndarray) -> pa.Array:
        return WORDS.take(pa.array(ok.astype(np.int8) * 2))

    return pa.table(
        {
            "household_id": h["household_id"],
            "dibao_status": status(dibao),
            "dibao_amount": decimal(np.where(dibao, dibao_fen, 0)),
            "dibao_edge_status": status(edge),
            "dibao_edge_amount": decimal(np.zeros(n_h, dtype=np.int64)),
            "tekun_status": status(any_tekun),
            "tekun_amount": decimal(tekun_fen),
        }
    )


def main() -> None:
    register, out = Path(sys.argv[1]), Path(sys.argv[2])
    h = pq.read_table(register / "households.parquet")
    m = pq.read_table(register / "members.parquet")
    pq.write_table(evaluate(h, m), out)


if __name__ == "__main__":
    main()
