"""Hand-written Polars/NumPy for the 湖州 低保 / 低边 / 特困 rules on 2024-06-01: the baseline the
compiled vectorized backend is measured against (the same three rules as ``handwritten.py``,
written the way an engineer would for a whole register: integer fen, one group-by, and the
division ``income / n < standard`` rewritten as ``income < standard × n``).

Input: clean frames (see ``minzheng_rules.model._columns``) with every fact known. Output: per
household the status code (2 eligible, 0 ineligible) and the amount in fen of each program, in
the vectorized backend's column names, so the two can be compared cell by cell.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

STANDARD = 114_500  # fen, 1145 元
EDGE_LINE_TWICE = 2 * 171_750  # 1.5 × the standard, doubled to stay in whole fen
ASSET_MONTHS = 24
TEKUN_BASIC = 195_000
CARE = {"full": 19_500, "partial": 58_500, "none": 117_000}
ON = dt.date(2024, 6, 1)


def huzhou_core(h: pl.DataFrame, m: pl.DataFrame) -> pl.DataFrame:
    b = pl.col("birth_date")
    before = (b.dt.month() > ON.month) | ((b.dt.month() == ON.month) & (b.dt.day() > ON.day))
    age = pl.when(b.is_null()).then(pl.col("age")).otherwise(ON.year - b.dt.year() - before)
    g = pl.col("disability_grade").fill_null(0)
    t = pl.col("disability_type").fill_null("none")
    m = m.with_columns(
        age.alias("a"),
        (~pl.col("incarcerated") & ~pl.col("missing") & (pl.col("care") != "institutional")).alias(
            "living"
        ),
    ).with_columns(
        (
            (pl.col("a") >= 60)
            | (pl.col("a") < 16)
            | (t.is_in(["intellectual", "mental"]) & g.is_in([1, 2, 3]))
            | (t.is_in(["physical", "multiple"]) & g.is_in([1, 2]))
            | ((t == "visual") & (g == 1))
            | ((pl.col("a") < 18) & (pl.col("student") != "none"))
        ).alias("unable"),
        (
            g.is_in([1, 2])
            | (t.is_in(["intellectual", "mental"]) & (g == 3))
            | pl.col("major_illness")
        ).alias("severe"),
    )
    inc = pl.col("monthly_income")
    # 特困 first: the asset limit and the obligors count everyone living in the household
    living = (
        m.group_by("_hh", maintain_order=True)
        .agg(
            pl.col("living").sum().alias("n_living"),
            (pl.col("living") & ~pl.col("unable") & (pl.col("a") >= 18)).sum().alias("able"),
        )
        .drop("_hh")
    )
    h = h.hstack(living)
    assets_ok = pl.col("assets_financial") <= STANDARD * ASSET_MONTHS * pl.max_horizontal(
        pl.col("n_living"), 1
    )
    h = h.with_columns(assets_ok.alias("assets_ok"))
    ok = h.select("assets_ok", "able").to_numpy()
    hh = m.get_column("_hh").to_numpy()
    care = pl.col("self_care").replace_strict(CARE, return_dtype=pl.Int64)
    m = m.with_columns(
        pl.Series("h_assets_ok", ok[hh, 0].astype(bool)),
        pl.Series("h_able", ok[hh, 1]),
    ).with_columns(
        (
            pl.col("unable")
            & (inc < STANDARD)
            & pl.col("h_assets_ok")
            & (pl.col("h_able") == 0)
            & ~pl.col("has_capable_obligor")
        ).alias("tekun")
    )
    # a 特困 member is supported on her own: the rest are assessed for 低保
    c = pl.col("living") & ~pl.col("tekun")
    coverable = c & pl.col("severe") & (inc < STANDARD)  # 单人户施保: severe and poor
    per_household = (
        m.group_by("_hh", maintain_order=True)
        .agg(
            c.sum().alias("n"),
            (inc * c).sum().alias("income"),
            coverable.sum().alias("severe_n"),
            (inc * coverable).sum().alias("severe_income"),
            pl.col("tekun").any().alias("any_tekun"),
            pl.when(pl.col("tekun")).then(TEKUN_BASIC + care).otherwise(0).sum().alias("tekun_fen"),
        )
        .drop("_hh")
    )
    h = h.hstack(per_household).with_columns(pl.max_horizontal(pl.col("n"), 1).alias("n1"))
    whole = pl.col("income") < STANDARD * pl.col("n1")
    below_edge = 2 * pl.col("income") < EDGE_LINE_TWICE * pl.col("n1")
    single = pl.when(whole).then(0).when(below_edge).then(pl.col("severe_n")).otherwise(0)
    h = h.with_columns(whole.alias("whole"), single.alias("single"), below_edge.alias("below_edge"))
    n, income = pl.col("n"), pl.col("income")
    dibao_ok = (n > 0) & (pl.col("whole") | (pl.col("single") > 0)) & pl.col("assets_ok")
    dibao_fen = (
        pl.when(pl.col("whole"))
        .then(pl.max_horizontal(STANDARD * n - income, 0))
        .otherwise(pl.max_horizontal(STANDARD * pl.col("single") - pl.col("severe_income"), 0))
    )
    edge_ok = ~pl.col("whole") & pl.col("below_edge") & pl.col("assets_ok")
    return h.select(
        "household_id",
        pl.when(dibao_ok).then(2).otherwise(0).cast(pl.Int8).alias("dibao_status"),
        pl.when(dibao_ok).then(dibao_fen).otherwise(0).alias("dibao_amount"),
        pl.when(edge_ok).then(2).otherwise(0).cast(pl.Int8).alias("dibao_edge_status"),
        pl.lit(0, dtype=pl.Int64).alias("dibao_edge_amount"),
        pl.when(pl.col("any_tekun")).then(2).otherwise(0).cast(pl.Int8).alias("tekun_status"),
        pl.col("tekun_fen").alias("tekun_amount"),
    )


def complete(h: pl.DataFrame, m: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frames with every unknown fact given (the baseline assumes complete households)."""
    rng = np.random.default_rng(0)
    h = h.with_columns(
        pl.col("assets_financial").fill_null(0),
        pl.lit([], dtype=pl.List(pl.String)).alias("assessed_needs"),  # no needs model here
    )
    m = m.with_columns(
        pl.col("monthly_income").fill_null(0),
        pl.col("self_care").fill_null("full"),
        pl.col("student").fill_null("none"),
        pl.col("employed").fill_null(False),
        pl.col("has_capable_obligor").fill_null(pl.Series(rng.random(m.height) < 0.5)),
    )
    return h, m
