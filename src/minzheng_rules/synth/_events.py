"""Synthetic registers and event streams, for tests and benchmarks (no real person's data).

Deterministic for a seed. The register's households are canonical JSON; the stream is sorted by
date and mixes every event type, with a share of deliberately bad lines when asked (bad JSON,
unknown households, unknown members, out-of-order dates, replayed ids) so the error paths run.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from typing import Any

RELATIONS_AFTER_HEAD = ("spouse", "child", "child", "parent", "grandchild", "sibling")
DISABILITY_TYPES = ("physical", "visual", "hearing", "speech", "intellectual", "mental")


def _member(rng: random.Random, mid: str, relation: str, age: int) -> dict[str, Any]:
    m: dict[str, Any] = {"id": mid, "relation": relation, "age": age}
    if rng.random() < 0.97:
        working = 18 <= age < 60
        m["monthly_income"] = (
            rng.choice((0, 0, 300, 600, 900, 1200, 1600, 2200, 3000, 4500))
            if (working)
            else rng.choice((0, 0, 0, 200, 400, 800))
        )
    if rng.random() < 0.06:
        m["disability_grade"] = rng.randint(1, 4)
        m["disability_type"] = rng.choice(DISABILITY_TYPES)
    if age >= 60 or rng.random() < 0.1:
        m["self_care"] = rng.choice(("full", "full", "partial", "none"))
    if rng.random() < 0.04:
        m["major_illness"] = True
    if age < 18:
        m["student"] = "primary" if age < 12 else "junior" if age < 15 else "senior"
        if rng.random() < 0.05:
            m["father_status"] = rng.choice(("deceased", "imprisoned", "missing"))
    if rng.random() < 0.8:
        m["has_capable_obligor"] = rng.random() < 0.7
    m["employed"] = age < 60 and m.get("monthly_income", 0) > 0
    return m


def household(rng: random.Random, hid: str) -> dict[str, Any]:
    """One synthetic household."""
    size = rng.choice((1, 1, 2, 2, 3, 3, 3, 4, 4, 5))
    head_age = rng.randint(22, 92)
    members = [_member(rng, "a", "head", head_age)]
    for i in range(1, size):
        relation = rng.choice(RELATIONS_AFTER_HEAD)
        age = {
            "spouse": max(18, head_age + rng.randint(-6, 6)),
            "child": max(0, min(head_age - 18, rng.randint(0, 40))),
            "parent": min(100, head_age + rng.randint(20, 32)),
            "grandchild": rng.randint(0, 12),
            "sibling": max(0, head_age + rng.randint(-10, 10)),
        }[relation]
        members.append(_member(rng, chr(ord("a") + i), relation, age))
    if size == 1 and head_age >= 70:
        members[0]["lives_alone"] = True
    out: dict[str, Any] = {"id": hid, "members": members}
    if rng.random() < 0.95:
        out["assets"] = {"financial": rng.choice((0, 2000, 8000, 20000, 60000, 150000))}
    if rng.random() < 0.1:
        out["expenses"] = {"medical_12m": rng.choice((2000, 8000, 30000))}
    return out


def canonical_register(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``n`` households with ids ``h000001`` ... (canonical JSON, as the monitor reads them)."""
    rng = random.Random(seed)
    width = max(6, len(str(n)))
    for i in range(1, n + 1):
        yield household(rng, f"h{i:0{width}d}")


def event_stream(
    households: list[dict[str, Any]],
    n: int,
    seed: int = 11,
    start: dt.date = dt.date(2024, 1, 1),
    days: int = 366,
    bad_share: float = 0.0,
    needs: tuple[str, ...] = (),
) -> Iterator[str]:
    """``n`` JSON lines of events, by date, over ``households`` (as :func:`canonical_register`
    makes them).

    The generator follows each household's members (deaths, births) so most events apply;
    ``bad_share`` of the lines are broken on purpose. Home-visit ``assessment`` events are made
    only when assessed ``needs`` label ids are given (they must exist in the pack)."""
    rng = random.Random(seed)
    members = {h["id"]: [m["id"] for m in h["members"]] for h in households}
    ages = {h["id"]: {m["id"]: m["age"] for m in h["members"]} for h in households}
    ids = list(members)
    per_day = max(1, n // days)
    emitted = 0
    last: dict[str, Any] = {}
    while emitted < n:
        day = start + dt.timedelta(days=min(days - 1, emitted // per_day))
        hid = rng.choice(ids)
        ms = members[hid]
        mid = rng.choice(ms)
        eid = f"e{emitted + 1}"
        r = rng.random()
        ev: dict[str, Any] = {"id": eid, "household": hid, "date": day.isoformat()}
        if r < 0.40:
            ev |= {
                "type": "income_change",
                "member": mid,
                "monthly_income": rng.choice((0, 0, 200, 500, 800, 1200, 1800, 2500, 4000)),
            }
        elif r < 0.55:
            ev |= {
                "type": "medical_expense",
                "member": mid,
                "amount": rng.choice((300, 1500, 6000, 20000, 50000)),
            }
        elif r < 0.58 and len(ms) > 1:
            ev |= {"type": "member_died", "member": mid}
            ms.remove(mid)
        elif r < 0.61 and len(ms) < 8:
            new = f"n{emitted + 1}"
            ev |= {
                "type": "member_added",
                "member": _member(rng, new, rng.choice(("child", "grandchild", "spouse")), 0),
            }
            ms.append(new)
            ages[hid][new] = 0
        elif r < 0.66:
            ev |= {
                "type": "disability_assessed",
                "member": mid,
                "grade": rng.randint(1, 4),
                "disability_type": rng.choice(DISABILITY_TYPES),
            }
        elif r < 0.70:
            ev |= {
                "type": "member_changed",
                "member": mid,
                "changes": rng.choice(
                    (
                        {"lives_alone": True},
                        {"lives_alone": False},
                        {"father_status": "deceased"},
                        {"mother_status": "imprisoned"},
                        {"age": min(130, ages[hid][mid] + 1)},
                        {"major_illness": True},
                    )
                ),
            }
        elif r < 0.72 and needs:
            ev |= {"type": "assessment", "needs": rng.sample(needs, min(2, len(needs)))}
        else:
            ev |= {"type": "tick"}
        if bad_share and rng.random() < bad_share:
            yield _broken(rng, ev, last)
        else:
            yield json.dumps(ev, ensure_ascii=False)
        last = ev
        emitted += 1


# The short names this module's callers (the monitor's tests) use.
register = canonical_register
events = event_stream


def _broken(rng: random.Random, ev: dict[str, Any], last: dict[str, Any]) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return json.dumps(ev)[:-7]  # cut short
    if kind == 1:
        return json.dumps({**ev, "household": "nobody"})
    if kind == 2:
        return json.dumps({**ev, "type": "income_change", "member": "zz", "monthly_income": 1})
    if kind == 3:
        return json.dumps({**ev, "date": "2000-01-01"})  # before the household's earlier events
    if kind == 4 and last:
        return json.dumps(last)  # replayed
    return json.dumps({**ev, "type": "income_change", "member": "a", "monthly_income": -5})
