"""The hand-written baseline of benchmarks/ computes the same answers as the pack it is
measured against; otherwise the speed ratio would compare different work."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from minzheng_rules import Household, Status, load_pack
from minzheng_rules.backends.reference import bind

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.handwritten import huzhou_2024  # noqa: E402

CORE = load_pack(REPO / "benchmarks" / "packs" / "huzhou_core")
BOUND = bind(CORE, dt.date(2024, 6, 1))

member = st.fixed_dictionaries(
    {
        "age": st.integers(0, 100),
        "monthly_income": st.decimals(min_value=0, max_value=4000, places=2),
        "has_capable_obligor": st.booleans(),
        "self_care": st.sampled_from(["full", "partial", "none"]),
        "major_illness": st.booleans(),
        "student": st.sampled_from(["none", "senior"]),
    },
    optional={
        "disability": st.tuples(
            st.integers(1, 4),
            st.sampled_from(
                ["physical", "visual", "intellectual", "mental", "hearing", "multiple"]
            ),
        ),
    },
)


@given(
    st.lists(member, min_size=1, max_size=5), st.decimals(min_value=0, max_value=200000, places=2)
)
def test_handwritten_baseline_agrees_with_the_pack(members, savings):
    rows = []
    for i, m in enumerate(members):
        m = dict(m)
        grade_type = m.pop("disability", None)
        if grade_type:
            m["disability_grade"], m["disability_type"] = grade_type
        rows.append({"id": f"m{i}", **m})
    h = Household.model_validate({"id": "h", "members": rows, "assets": {"financial": savings}})
    want = huzhou_2024(h)
    got = BOUND.evaluate(h)
    for pid in ("dibao", "dibao_edge", "tekun"):
        outcome = got.programs[pid]
        if want[pid] is None:
            assert outcome.status is Status.ineligible, pid
        else:
            assert outcome.status is Status.eligible, pid
            assert outcome.amount == Decimal(want[pid]), pid
