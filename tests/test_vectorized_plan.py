"""The vectorized plan's rounds (backends/vectorized/plan.py): columns placed where what they
read exists, two collects a round, intermediate columns dropped, answers computed by hand."""

from __future__ import annotations

import polars as pl
import pytest

from minzheng_rules.backends.vectorized._plan import HH, Plan, run


def _plan() -> tuple[Plan, dict[str, str]]:
    """a = 2x (household); its copy to members; b = a + y (member); s = sum of b; c = s + 1;
    also d = y * 10 (member, same round as nothing it reads is copied) and any(y > 2)."""
    p = Plan()
    a = p.column("h", pl.col("x") * 2)
    a_m = p.broadcast(a)
    b = p.column("m", pl.col(a_m) + pl.col("y"))
    s = p.reduce("sum", b)
    c = p.column("h", pl.col(s) + 1)
    d = p.column("m", pl.col("y") * 10)
    big = p.reduce("any", p.column("m", pl.col("y") > 2))
    d_sum = p.reduce("sum", d)
    p.outputs = [c, big, d_sum]
    return p, {"a": a, "b": b, "c": c, "big": big, "d_sum": d_sum}


def test_rounds_follow_the_copies_to_members():
    p, n = _plan()
    rounds = p.rounds({"x", "y", HH})
    # round 0 makes a (households) and d, y > 2 (members); round 1 reads a's copy
    assert len(rounds) == 2
    assert [d.name for layer in rounds[0].h for d in layer] == [n["a"]]
    assert [d.name for d in rounds[0].bcasts] == [p.broadcast(n["a"])]
    assert [d.name for layer in rounds[1].m for d in layer] == [n["b"]]
    assert n["a"] in rounds[0].h_dead  # read last by its copy to members


def test_run_answers_by_hand_and_drops_what_no_one_reads():
    p, n = _plan()
    h = pl.DataFrame({"x": [1, 5]})
    m = pl.DataFrame({"y": [1, 2, 3], HH: [0, 0, 1]})
    out = run(p, h, m)
    # household 0: a = 2, b = 3 + 4 = 7, c = 8; household 1: a = 10, b = 13, c = 14
    assert out.get_column(n["c"]).to_list() == [8, 14]
    assert out.get_column(n["big"]).to_list() == [False, True]
    assert out.get_column(n["d_sum"]).to_list() == [30, 30]
    assert n["a"] not in out.columns  # an intermediate, dropped after its last reader


@pytest.mark.parametrize("flags", [5, 40, 64, 70])
def test_many_member_flags_reduce_exactly_across_packed_words(flags):
    """Flags or-ed per household, checked against Python's any(): one 16-bit word; three (one
    64-bit integer with a zero word); four; five (two 64-bit integers, three zero words)."""
    import random

    rng = random.Random(7)
    sizes = [rng.randint(1, 5) for _ in range(200)]
    hh = [i for i, s in enumerate(sizes) for _ in range(s)]
    data = {f"f{j}": [rng.random() < 0.1 for _ in hh] for j in range(flags)}
    m = pl.DataFrame({**data, HH: hh})
    h = pl.DataFrame({"n": sizes})
    p = Plan()
    names = [p.reduce("any", f"f{j}") for j in range(flags)]
    p.outputs = names
    out = run(p, h, m)
    for j, name in enumerate(names):
        expected = [any(data[f"f{j}"][k] for k in range(len(hh)) if hh[k] == i) for i in range(200)]
        assert out.get_column(name).to_list() == expected


def test_prune_drops_what_no_output_reads_and_keeps_the_answers():
    """e = y * 3, its household sum and a household column reading that sum feed no output:
    all three go; a (read by b) stays; the outputs are still the hand-computed ones."""
    p, n = _plan()
    e = p.column("m", pl.col("y") * 3)
    e_sum = p.reduce("sum", e)
    unread = p.column("h", pl.col(e_sum) + pl.col(n["a"]))
    assert p.prune() == 3
    names = {d.name for d in p.defs}
    assert not names & {e, e_sum, unread}
    assert {n["a"], n["b"], n["c"]} <= names  # read by the outputs, through b and c
    h = pl.DataFrame({"x": [1, 5]})
    m = pl.DataFrame({"y": [1, 2, 3], HH: [0, 0, 1]})
    out = run(p, h, m)
    assert out.get_column(n["c"]).to_list() == [8, 14]
    assert out.get_column(n["d_sum"]).to_list() == [30, 30]
