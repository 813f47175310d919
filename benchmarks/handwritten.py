"""Hand-written Python for the 湖州 低保 / 低边 / 特困 rules on a fixed date: the baseline that the
reference evaluator is measured against. It must give the same answers (tests check it)."""

from __future__ import annotations

from decimal import Decimal

from minzheng_rules.model._household import Household

STANDARD = Decimal(1145)
EDGE_LINE = STANDARD * Decimal("1.5")
ASSET_MONTHS = 24
TEKUN_BASIC = Decimal(1950)
CARE = {"full": Decimal(195), "partial": Decimal(585), "none": Decimal(1170)}


def _unable_to_work(m) -> bool:
    g, t = m.disability_grade or 0, m.disability_type
    return (
        m.age >= 60
        or m.age < 16
        or (t in ("intellectual", "mental") and g in (1, 2, 3))
        or (t in ("physical", "multiple") and g in (1, 2))
        or (t == "visual" and g == 1)
        or (m.age < 18 and m.student != "none")
    )


def huzhou_2024(h: Household) -> dict[str, Decimal | None]:
    """Amounts for dibao, dibao_edge (0 when eligible) and tekun; None when ineligible.
    Assumes every fact is known (the benchmark's households are complete). A member who
    meets the 特困 conditions is supported on her own: the rest are assessed for 低保."""
    living = [
        m for m in h.members if not m.incarcerated and not m.missing and m.care != "institutional"
    ]
    assets_ok = h.assets.financial <= STANDARD * ASSET_MONTHS * max(len(living), 1)
    able = sum(1 for m in living if not _unable_to_work(m) and m.age >= 18)
    tekun_ids = {
        m.id
        for m in h.members
        if _unable_to_work(m)
        and m.monthly_income < STANDARD
        and assets_ok
        and able == 0
        and not m.has_capable_obligor
    }
    countable = [m for m in living if m.id not in tekun_ids]
    n = len(countable)
    income = sum((m.monthly_income for m in countable), Decimal(0))
    per_head = income / max(n, 1)
    whole = per_head < STANDARD
    severe = [
        m
        for m in countable
        if (m.disability_grade or 0) in (1, 2)
        or (m.disability_type in ("intellectual", "mental") and m.disability_grade == 3)
        or m.major_illness
    ]
    severe = [m for m in severe if m.monthly_income < STANDARD]
    single = 0 if whole else (len(severe) if per_head < EDGE_LINE else 0)
    dibao = None
    if n > 0 and (whole or single > 0) and assets_ok:
        if whole:
            dibao = max(STANDARD * n - income, Decimal(0))
        else:
            dibao = max(STANDARD * single - sum(m.monthly_income for m in severe), Decimal(0))
    edge = Decimal(0) if (not whole and per_head < EDGE_LINE and assets_ok) else None
    tekun = sum(
        (TEKUN_BASIC + CARE[m.self_care] for m in h.members if m.id in tekun_ids), Decimal(0)
    )
    return {
        "dibao": dibao.quantize(Decimal("0.01")) if dibao is not None else None,
        "dibao_edge": edge,
        "tekun": tekun if tekun_ids else None,
    }
