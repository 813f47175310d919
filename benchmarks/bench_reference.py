"""Reference evaluator speed, measured in one run against a hand-written function.

    .venv/bin/python -m benchmarks.bench_reference

Reports p50 per household (untraced, traced, hand-written), the ratio to hand-written, and the
time to read 10,000 households from JSON and evaluate them. Goals (issue #2): untraced p50
≤ 50 µs and within 5 × hand-written; 10,000 from JSON in under 1 s.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from pathlib import Path

from benchmarks.handwritten import huzhou_2024
from minzheng_rules import load_pack, parse_household
from minzheng_rules.backends.reference import bind

ON = dt.date(2024, 6, 1)
CORE_PACK = Path(__file__).parent / "packs" / "huzhou_core"
FOUR = {
    "id": "bench-4",
    "members": [
        {
            "id": "a",
            "relation": "head",
            "age": 52,
            "monthly_income": 1500,
            "has_capable_obligor": True,
            "self_care": "full",
        },
        {
            "id": "b",
            "relation": "spouse",
            "age": 50,
            "monthly_income": 900,
            "disability_grade": 2,
            "disability_type": "physical",
            "has_capable_obligor": True,
            "self_care": "partial",
        },
        {
            "id": "c",
            "relation": "child",
            "age": 17,
            "monthly_income": 0,
            "student": "senior",
            "has_capable_obligor": True,
            "self_care": "full",
        },
        {
            "id": "d",
            "relation": "parent",
            "age": 78,
            "monthly_income": 400,
            "has_capable_obligor": True,
            "self_care": "partial",
        },
    ],
    "assets": {"financial": 8000},
}


def p50(fn, repeat: int = 3000) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    return statistics.median(samples) / 1000


def main() -> None:
    pack = load_pack(CORE_PACK)
    bound = bind(pack, ON)
    h = parse_household(FOUR)
    for _ in range(200):
        bound.evaluate(h)
        huzhou_2024(h)
    untraced = p50(lambda: bound.evaluate(h))
    traced = p50(lambda: bound.evaluate(h, explain=True))
    hand = p50(lambda: huzhou_2024(h))
    lines = [json.dumps({**FOUR, "id": f"h{i}"}) for i in range(10_000)]
    t = time.perf_counter()
    for line in lines:
        bound.evaluate(parse_household(json.loads(line)))
    batch = time.perf_counter() - t
    print(f"4-person household, huzhou, {ON}")
    print(f"  untraced p50     {untraced:8.1f} µs   (goal ≤ 50)")
    print(f"  traced p50       {traced:8.1f} µs")
    print(f"  hand-written p50 {hand:8.1f} µs")
    print(f"  untraced / hand-written = {untraced / hand:.2f} ×   (goal ≤ 5)")
    print(f"  10,000 households from JSON: {batch:.2f} s   (goal < 1 s)")


if __name__ == "__main__":
    main()
