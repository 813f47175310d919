"""Deterministic synthetic registers with realistic shapes, shaped by a pack.

    for households, members in generate(pack, dt.date(2024, 6, 1), 1_000_000, seed=7):
        ...   # clean frames (see minzheng_rules.model._columns), 100,000 households at a time

Why these shapes: a register is mostly ordinary families, but the rules turn on the edges, so
a third of households have a per-head income placed near one of the pack's monthly lines in
force (a few exactly on it, a few a fen either side), and the rest follow a log-normal around a
city median. Household types (single elders, elder couples, couples with children, three
generations, grandparents raising grandchildren...) are weighted so that the share of members
aged 60+ matches the city's ageing rate. Disabilities, illnesses and self-care rise with age;
students follow age; a few children are orphans or without de facto care; a few facts are
left unknown so that ``undetermined`` answers appear.

Everything is drawn with NumPy from ``(seed, chunk number)``, so the same arguments give the same
register, and 10 million households take about a minute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from minzheng_rules.model._columns import (
    HH,
    HOUSEHOLD_COLUMNS,
    MEMBER_COLUMNS,
    clean_schema,
)
from minzheng_rules.model._errors import MinzhengError

CHUNK = 100_000

# the share aged 60+ when no pack of the chain gives one (national declares its own)
DEFAULT_AGEING = 0.21

# household types: (weight, working adults, children, elders, grandparents-raising)
_TYPES = np.array(
    [
        # w,   adults, kids_max, elders, skip-generation
        [0.10, 0, 0, 1, 0],  # single elder
        [0.09, 0, 0, 2, 0],  # elder couple
        [0.12, 1, 0, 0, 0],  # single adult
        [0.16, 2, 0, 0, 0],  # couple
        [0.26, 2, 3, 0, 0],  # couple with children
        [0.06, 1, 2, 0, 0],  # single parent
        [0.15, 2, 2, 2, 0],  # three generations
        [0.05, 0, 2, 2, 1],  # grandparents raising grandchildren
        [0.01, 1, 0, 0, 0],  # adult sibling household (member 'other')
    ]
)
_ELDER_TYPES = _TYPES[:, 3] > 0
_NONE = np.array(None, dtype=object)  # None as np.where takes it (its stubs refuse a bare None)


@dataclass(frozen=True)
class Shape:
    """What a register is shaped by: the pack's monthly lines, its hukou codes (declared in
    ``pack.synth.hukou`` and named by its rules), its assessed need labels, and the ageing
    rate (``pack.synth.ageing``); the ``synth`` fields come from the nearest pack that gives
    them, so a city never gets another city's registrations."""

    lines: tuple[Decimal, ...]
    asset_line: Decimal
    codes: tuple[str, ...]
    assessed: tuple[str, ...]
    programs: tuple[str, ...]
    ageing: float


def shape_of(pack: Any, on: dt.date) -> Shape:
    """What a register for ``pack`` on ``on`` should look like: its poverty lines, asset limits,
    hukou codes and assessed needs, so that synthetic households sit near its thresholds."""
    lines: set[Decimal] = set()
    money: list[Decimal] = []
    for name, spec in pack.parameters.items():
        try:
            value = pack.parameter(name, on).value
        except MinzhengError:
            continue
        if isinstance(value, bool) or not value or value <= 0:
            continue
        unit = spec.unit.value
        if spec.type == "money" and unit == "CNY/person/month" and value >= 500:
            lines.add(Decimal(value))  # a monthly line per person (allowances are smaller)
        elif spec.type == "money" and unit == "CNY" and "asset" in name:
            money.append(Decimal(value))
    synth = pack.manifest.synth
    codes = sorted(_hukou_codes(pack) | set(synth.hukou.codes if synth.hukou else ()))
    relief = getattr(pack, "relief", None)
    assessed = tuple(
        lid for lid, e in (relief.labels.items() if relief is not None else []) if e.expr is None
    )
    rate = float(synth.ageing.value) if synth.ageing is not None else DEFAULT_AGEING
    return Shape(
        lines=tuple(sorted(v for v in lines if v < 100_000)) or (Decimal(1000),),
        asset_line=max(money) if money else Decimal(30000),
        codes=tuple(codes),
        assessed=assessed,
        programs=tuple(pack.programs),
        ageing=rate,
    )


def _hukou_codes(pack: Any) -> set[str]:
    from minzheng_rules.expr._nodes import Compare, Const, In, Name, walk

    out: set[str] = set()
    exprs = [*pack.variables.values()]
    for p in pack.programs.values():
        exprs += list(p.expressions())
    for e in exprs:
        for node in walk(e.checked.node):
            names = []
            if isinstance(node, Compare):
                names = [o for o in node.operands if isinstance(o, Name)]
                consts = [o.value for o in node.operands if isinstance(o, Const)]
            elif isinstance(node, In) and isinstance(node.operand, Name):
                names, consts = [node.operand], list(node.options)
            else:
                continue
            if any(
                e.checked.symbols.get(id(n)) and e.checked.symbols[id(n)].name == "hukou"
                for n in names
            ):
                out |= {c for c in consts if isinstance(c, str)}
    return out


def _where(known: np.ndarray, column: str) -> pl.Expr:
    """``column`` where ``known`` holds, null (not given) elsewhere."""
    return pl.when(pl.Series(np.asarray(known, dtype=bool))).then(pl.col(column)).alias(column)


def _type_weights(ageing: float) -> np.ndarray:
    """Type weights with elder-holding types scaled so the 60+ share of members is ``ageing``."""
    base = _TYPES[:, 0]
    adults, kids, elders = _TYPES[:, 1], _TYPES[:, 2], _TYPES[:, 3]
    mean_kids = np.where(kids > 0, (1 + kids) / 2, 0)
    size = adults + mean_kids + elders

    def share(f: float) -> float:
        w = np.where(_ELDER_TYPES, base * f, base)
        return float((w * elders).sum() / (w * size).sum())

    lo, hi = 0.01, 100.0
    for _ in range(60):
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if share(mid) < ageing else (lo, mid)
    w = np.where(_ELDER_TYPES, base * lo, base)
    return w / w.sum()


def generate(
    pack: Any, on: dt.date, households: int, seed: int = 0, chunk: int = CHUNK, prefix: str = "H"
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Clean (households, members) frames, ``chunk`` households at a time."""
    shape = shape_of(pack, on)
    weights = _type_weights(shape.ageing)
    for start in range(0, households, chunk):
        n = min(chunk, households - start)
        rng = np.random.default_rng([seed, start // chunk])
        yield _chunk(rng, n, start, shape, weights, on, prefix)


def _chunk(
    rng: np.random.Generator,
    n: int,
    start: int,
    shape: Shape,
    weights: np.ndarray,
    on: dt.date,
    prefix: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    kind = rng.choice(len(weights), size=n, p=weights)
    t = _TYPES[kind]
    adults = t[:, 1].astype(np.int64)
    kids = np.where(t[:, 2] > 0, rng.integers(1, np.maximum(t[:, 2], 1) + 1), 0).astype(np.int64)
    elders = t[:, 3].astype(np.int64)
    elders = np.where((kind == 6) & (rng.random(n) < 0.5), 1, elders)  # one grandparent
    size = adults + kids + elders
    hh = np.repeat(np.arange(n), size)
    pos = np.arange(hh.size) - np.repeat(np.cumsum(size) - size, size)
    # role of each member: 0 adult, 1 child, 2 elder (adults first, then elders, then kids)
    role = np.where(pos < adults[hh], 0, np.where(pos < (adults + elders)[hh], 2, 1))
    m = hh.size
    skip_gen = (kind == 7)[hh]
    sibling_hh = (kind == 8)[hh]

    # ages
    age = np.empty(m, dtype=np.int64)
    r = role
    age[r == 0] = rng.integers(22, 60, (r == 0).sum())
    elder_age = 60 + np.minimum(rng.gamma(1.6, 7.0, (r == 2).sum()).astype(np.int64), 45)
    age[r == 2] = elder_age
    age[r == 1] = rng.integers(0, 18, (r == 1).sum())
    age = np.where(sibling_hh & (pos > 0), rng.integers(18, 60, m), age)

    # relations
    relation = np.full(m, "other", dtype=object)
    head = pos == 0
    relation[head] = "head"
    relation[(r == 0) & (pos == 1)] = "spouse"
    relation[(r == 2) & ~head & ~skip_gen] = "parent"
    relation[(r == 2) & ~head & skip_gen] = "spouse"
    relation[(r == 1) & ~skip_gen] = "child"
    relation[(r == 1) & skip_gen] = "grandchild"
    relation[sibling_hh & ~head] = "sibling"
    relation[(kind[hh] == 1) & (pos == 1)] = "spouse"

    # per-head income: near a line of the pack for a third, log-normal for the rest
    lines = np.array([float(x) for x in shape.lines])
    near = rng.random(n) < 0.35
    line = lines[rng.integers(0, len(lines), n)]
    factor = np.where(rng.random(n) < 0.15, 1.0, rng.uniform(0.55, 1.35, n))
    per_head_fen = np.where(
        near, line * factor * 100, rng.lognormal(np.log(3500 * 100), 0.65, n)
    ).astype(np.int64)
    jitter = rng.choice([-1, 0, 0, 1], n)
    per_head_fen = np.maximum(per_head_fen + np.where(near, jitter, 0), 0)
    total = per_head_fen * size
    # earners: working adults (mostly) and elders with a pension
    earner = ((r == 0) & (rng.random(m) < 0.85)) | ((r == 2) & (rng.random(m) < 0.6))
    weight = np.where(earner, rng.uniform(0.3, 1.0, m), 0.0)
    wsum = np.bincount(hh, weights=weight, minlength=n)
    no_earner = wsum[hh] == 0
    weight = np.where(no_earner & head, 1.0, weight)
    wsum = np.bincount(hh, weights=weight, minlength=n)
    share = np.where(wsum[hh] > 0, weight / np.where(wsum[hh] > 0, wsum[hh], 1), 0)
    income = np.floor(share * total[hh]).astype(np.int64)
    rest = total - np.bincount(hh, weights=income, minlength=n).astype(np.int64)
    first_earner = head  # the remainder goes to the head, so totals land exactly on target
    income = income + np.where(first_earner, rest[hh], 0)
    income = np.maximum(income, 0)
    income_known = rng.random(m) >= 0.02

    # disability, illness, self-care
    p_dis = np.select([r == 1, r == 0], [0.012, 0.04], 0.11)
    disabled = rng.random(m) < p_dis
    grade = np.where(disabled, rng.choice([1, 2, 3, 4], m, p=[0.15, 0.25, 0.3, 0.3]), 0)
    dtypes = np.array(
        ["physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple"],
        dtype=object,
    )
    dtype_ = np.where(
        disabled, dtypes[rng.choice(7, m, p=[0.4, 0.12, 0.15, 0.03, 0.12, 0.12, 0.06])], _NONE
    )
    major = rng.random(m) < np.select([r == 2, r == 0], [0.06, 0.02], 0.005)
    chronic = rng.random(m) < np.select([r == 2, r == 0], [0.35, 0.08], 0.01)
    u = rng.random(m)
    old = age >= 80
    severe = disabled & (grade <= 2)
    self_care = np.where(
        (old & (u < 0.08)) | (severe & (u < 0.3)),
        "none",
        np.where(
            (old & (u < 0.3)) | (severe & (u < 0.6)) | ((age >= 70) & (u < 0.08)), "partial", "full"
        ),
    ).astype(object)
    self_care[rng.random(m) < 0.03] = None

    # schooling by age
    student = np.select(
        [age <= 2, age <= 5, age <= 11, age <= 14, age <= 17, (age <= 22) & (r == 0)],
        ["none", "preschool", "primary", "junior", "senior", "undergraduate"],
        "none",
    ).astype(object)
    student[(age >= 15) & (age <= 17) & (rng.random(m) < 0.3)] = "vocational"
    student[(student == "undergraduate") & (rng.random(m) < 0.6)] = "none"

    # parents of children: orphans and children without de facto care, mostly with grandparents
    father = np.full(m, "present", dtype=object)
    mother = np.full(m, "present", dtype=object)
    child = age < 18
    orphan = child & (rng.random(m) < np.where(skip_gen, 0.12, 0.0008))
    unsupported = child & ~orphan & (rng.random(m) < np.where(skip_gen, 0.15, 0.002))
    father[orphan] = "deceased"
    mother[orphan] = "deceased"
    absent = np.array(["missing", "imprisoned", "severely_disabled", "seriously_ill", "deceased"])
    father[unsupported] = absent[rng.integers(0, 5, unsupported.sum())]
    mother[unsupported] = absent[rng.integers(0, 4, unsupported.sum())]
    care = np.full(m, "family", dtype=object)
    care[(orphan | unsupported) & skip_gen] = "kinship"
    care[orphan & (rng.random(m) < 0.2)] = "institutional"

    employed = np.where((r == 0) & (income > 0), True, False).astype(object)
    employed[rng.random(m) < 0.03] = None
    single = size[hh] == 1
    obligor = np.where(r == 2, ~(single & (rng.random(m) < 0.4)), True).astype(object)
    obligor[rng.random(m) < 0.03] = None
    incarcerated = rng.random(m) < 0.002
    missing = rng.random(m) < 0.001

    with_birth = rng.random(m) < 0.1
    birth = np.datetime64(on) - (age * 365.25 + rng.integers(0, 365, m)).astype("timedelta64[D]")

    member_ids = np.char.add("m", (pos + 1).astype(str))
    ids = np.char.add(prefix, np.char.zfill((np.arange(n) + start).astype(str), 9))

    members = pl.DataFrame(
        {
            "household_id": ids[hh],
            "member_id": member_ids,
            "relation": relation.astype(str),
            "age": age,
            "birth_date": birth.astype("datetime64[D]"),
            "monthly_income": income,
            "disability_grade": grade,
            "disability_type": np.where(disabled, dtype_, "").astype(str),
            "self_care": np.where(self_care == None, "", self_care).astype(str),  # noqa: E711
            "major_illness": major,
            "chronic_illness": chronic,
            "student": student.astype(str),
            "employed": employed == True,  # noqa: E712
            "father_status": father.astype(str),
            "mother_status": mother.astype(str),
            "care": care.astype(str),
            "has_capable_obligor": obligor == True,  # noqa: E712
            "lives_alone": single,
            "incarcerated": incarcerated,
            "missing": missing,
            HH: hh.astype(np.uint32),
        }
    )
    members = members.with_columns(
        _where(~with_birth, "age"),
        _where(with_birth, "birth_date"),
        _where(income_known, "monthly_income"),
        _where(disabled, "disability_grade"),
        _where(dtype_ != None, "disability_type"),  # noqa: E711
        _where(self_care != None, "self_care"),  # noqa: E711
        _where(employed != None, "employed"),  # noqa: E711
        _where(obligor != None, "has_capable_obligor"),  # noqa: E711
    )
    members = members.select([*clean_schema(MEMBER_COLUMNS), HH]).cast(
        pl.Schema(clean_schema(MEMBER_COLUMNS))
    )

    # household facts
    standard = float(shape.lines[0])
    limit = float(shape.asset_line) if shape.asset_line else standard * 24
    assets = np.where(
        rng.random(n) < 0.3,
        limit * size * rng.uniform(0.5, 1.3, n),
        rng.lognormal(np.log(40000), 1.2, n),
    )
    assets_fen = (assets * 100).astype(np.int64)
    assets_known = rng.random(n) >= 0.01
    medical = np.select(
        [rng.random(n) < 0.7, rng.random(n) < 0.83],
        [rng.uniform(0, 2000, n), rng.uniform(2000, 30000, n)],
        rng.uniform(30000, 300000, n),
    )
    has_student = np.bincount(hh, weights=(student != "none"), minlength=n) > 0
    education = np.where(has_student, rng.uniform(0, 20000, n), 0)
    # the pack's own codes; none declared or named: the registration is left unknown
    codes: list[str | None] = [*shape.codes] or [None]
    hukou = np.array(codes, dtype=object)[rng.integers(0, len(codes), n)]
    hukou[rng.random(n) < 0.05] = None
    # a few households already receive a program (gradual exit); a few have assessed needs
    programs = np.array(shape.programs or ("none",), dtype=object)
    takes = (rng.random(n) < 0.03) if shape.programs else np.zeros(n, dtype=bool)
    program = programs[rng.integers(0, len(programs), int(takes.sum()))]
    fen = (rng.uniform(0.2, 1.0, int(takes.sum())) * standard * 100).astype(np.int64)
    receiving = pa.ListArray.from_arrays(
        pa.array(np.concatenate([[0], np.cumsum(takes)]).astype(np.int32)),
        pa.StructArray.from_arrays(
            [pa.array(program.astype(str), pa.string()), pa.array(fen, pa.int64())],
            names=["program", "fen"],
        ),
    )
    labels = np.array(shape.assessed or ("none",), dtype=object)
    count = np.where(rng.random(n) < 0.02, rng.integers(1, 3, n), 0) if shape.assessed else 0
    count = np.zeros(n, dtype=np.int64) + count
    offsets = np.concatenate([[0], np.cumsum(count)]).astype(np.int32)
    first = rng.integers(0, len(labels), n)
    step = 1 + rng.integers(0, max(len(labels) - 1, 1), n)  # a second label, never the first
    which = np.repeat(first, count) + (
        np.arange(offsets[-1]) - np.repeat(offsets[:-1], count)
    ) * np.repeat(step, count)
    assessed = pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(labels[which % len(labels)].astype(str), pa.string())
    )
    households = pl.DataFrame(
        {
            "household_id": ids,
            "assets_financial": assets_fen,
            "assets_vehicles": rng.choice([0, 1, 2], n, p=[0.7, 0.25, 0.05]),
            "assets_properties": rng.choice([1, 0, 2], n, p=[0.75, 0.15, 0.1]),
            "expenses_medical_12m": (medical * 100).astype(np.int64),
            "expenses_education_12m": (education * 100).astype(np.int64),
            "housing_unsafe": rng.random(n) < 0.01,
            "hukou": np.where(hukou == None, "", hukou).astype(str),  # noqa: E711
            "assessed_needs": pl.Series(assessed),
            "emergency": rng.random(n) < 0.01,
            "receiving": pl.Series(receiving),
        }
    ).with_columns(_where(assets_known, "assets_financial"), _where(hukou != None, "hukou"))  # noqa: E711
    households = households.select(list(clean_schema(HOUSEHOLD_COLUMNS))).cast(
        pl.Schema(clean_schema(HOUSEHOLD_COLUMNS))
    )
    return households, members
