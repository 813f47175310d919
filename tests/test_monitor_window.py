"""The batched monitor (windows of events judged by the vectorized backend) writes exactly the
records and summary of the one-event-at-a-time run, whatever the window: bad lines, a window
that splits a household's events, a date where a standard changes, a date with no standard in
force, birth dates (ages that move with the date), and rows the backend refuses."""

import datetime as dt
import json

import pytest

from minzheng_rules import load_pack, parse_household
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.model._results import Status
from minzheng_rules.monitor import Monitor
from minzheng_rules.monitor import _vectorized as V
from minzheng_rules.monitor._alerts import AlertSet
from minzheng_rules.monitor._binding import period_key
from minzheng_rules.synth import _events as synthetic
from test_monitor_pack import write_monitor_pack


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return load_pack(write_monitor_pack(tmp_path_factory.mktemp("p") / "monitorpack"))


def _ev(i, hid, date, type_, **payload):
    return json.dumps(
        {"id": f"x{i}", "household": hid, "date": date, "type": type_, **payload},
        ensure_ascii=False,
    )


def _born(hid):
    """A household whose members' ages come from birth dates (they move with the date)."""
    return {
        "id": hid,
        "members": [
            {"id": "a", "relation": "head", "birth_date": "1964-07-15", "monthly_income": 900},
            {"id": "b", "relation": "child", "birth_date": "2006-06-20", "monthly_income": 0},
        ],
        "assets": {"financial": 1000},
    }


@pytest.fixture(scope="module")
def stream():
    """A register and a noisy stream over 2024-05-01 .. 2024-08-31 (the test pack's standard
    changes on 2024-07-01), with hand-made lines in front."""
    hs = list(synthetic.register(150, seed=21))
    lines = list(synthetic.events(hs, 1600, seed=22, start=dt.date(2024, 5, 1), days=123))
    hs += [_born("b1"), _born("b2")]
    lines = [line for i, line in enumerate(lines) if i % 50 != 7]  # not all households start
    lines[100:100] = ["{broken", lines[99], ""]  # a malformed line, a replay
    front = [
        _ev(1, "b1", "2019-06-01", "tick"),  # no standard in force: not evaluable
        _ev(2, "b1", "2024-05-02", "income_change", member="a", monthly_income=100),
        _ev(3, "b1", "2024-05-02", "income_change", member="zz", monthly_income=1),
        _ev(4, "nobody", "2024-05-02", "tick"),
        _ev(5, "b2", "2024-06-19", "tick"),
        _ev(6, "b2", "2024-06-20", "tick"),  # the child turns 18
        _ev(7, "b1", "2024-05-01", "tick"),  # before b1's last event
        _ev(8, "b2", "2024-07-01", "income_change", member="a", monthly_income=1050),
        _ev(9, "b2", "2024-07-16", "tick"),
    ]
    return hs, front + lines


def _run(pack, hs, lines, window):
    monitor = Monitor(pack, [parse_household(h) for h in hs], window=window)
    out = []
    monitor.run(lines, out.append)
    return out, monitor


@pytest.mark.parametrize("window", [2, 3, 7, 64, 500, 20_000])
def test_every_window_writes_the_records_of_one_event_at_a_time(pack, stream, window):
    hs, lines = stream
    one, _ = _run(pack, hs, lines, 1)
    batched, monitor = _run(pack, hs, lines, window)
    assert batched == one
    summary = one[-1]["summary"]
    assert summary["skipped_by_kind"].keys() >= {
        "malformed",
        "duplicate",
        "invalid",
        "unknown_household",
        "out_of_order",
        "not_evaluable",
    }
    assert summary["newly_eligible"] and summary["no_longer_eligible"]
    assert summary["alerts"]["eligibility_changed"] > 10
    # the programs were judged by the vectorized backend, the reference only saw changes
    assert monitor._vectorized.rows > summary["applied"] // 2
    assert monitor.reference_evaluations < summary["applied"] // 2
    assert monitor.fallbacks == 0  # no event needed the one-at-a-time path


def test_a_window_splitting_one_households_events(pack):
    hs = [_born("b1")]
    lines = [
        _ev(i, "b1", f"2024-06-{d:02d}", "income_change", member="a", monthly_income=v)
        for i, (d, v) in enumerate([(1, 3000), (1, 100), (2, 2900), (30, 50), (30, 50)])
    ] + [_ev(9, "b1", "2024-07-02", "member_died", member="b")]
    one, _ = _run(pack, hs, lines, 1)
    assert sum(1 for r in one[:-1] if r["newly_eligible"] or r["no_longer_eligible"]) >= 3
    for window in (2, 3, 4):
        batched, monitor = _run(pack, hs, lines, window)
        assert batched == one and monitor.fallbacks == 0


def test_rows_the_backend_refuses_or_cannot_judge_fall_back_to_one_event(pack, stream, monkeypatch):
    hs, lines = stream
    one, _ = _run(pack, hs, lines, 1)
    judge = V.Vectorized.judge
    calls = [0]

    def refusing(self, key, rows):
        calls[0] += 1
        if calls[0] % 4 == 0:
            if calls[0] == 4:  # from now on judged in the first pass, by the reference
                self.unusable.add(key)
            raise V.Unusable("test")
        judgement = judge(self, key, rows)
        judgement.sets = [None if i % 37 == 5 else s for i, s in enumerate(judgement.sets)]
        return judgement

    monkeypatch.setattr(V.Vectorized, "judge", refusing)
    batched, monitor = _run(pack, hs, lines, 300)
    assert batched == one
    assert calls[0] > 8 and monitor._vectorized.unusable and monitor.fallbacks > 10


def test_ages_from_birth_dates_are_judged_on_each_snapshots_own_date():
    """One compiled pack serves every date of a period: a member's age from a birth date is
    the one on the snapshot's date, as the reference evaluator reads it."""
    pack = load_pack("zhenjiang")
    vec = V.Vectorized(pack)
    eligible = Status.eligible
    rows, expected = [], []
    for born in ("1944-06-15", "1954-06-15", "1964-06-15", "2006-06-15", "2008-02-29"):
        h = parse_household(
            {
                "id": f"h{born}",
                "members": [
                    {"id": "a", "relation": "head", "birth_date": born, "monthly_income": 300},
                    {"id": "b", "relation": "other", "age": 40, "monthly_income": 0},
                ],
                "assets": {"financial": 1000},
            }
        )
        for on in (dt.date(2024, 6, 14), dt.date(2024, 6, 15), dt.date(2024, 2, 28)):
            rows.append((h, on))
            ev = evaluate(pack, h, on)
            expected.append(frozenset(p for p, o in ev.programs.items() if o.status is eligible))
    keys = {period_key(AlertSet.from_pack(pack), on) for _, on in rows}
    assert len(keys) == 1  # one period: one compiled pack for all three dates
    assert vec.judge(keys.pop(), rows).sets == expected
    assert vec.compiled == 1
    assert expected[0] != expected[1]  # turning 80 changes the programs (the test can fail)


@pytest.mark.parametrize(
    ("when", "silent"),
    [
        ("countable_income > previous.countable_income", True),
        ("countable_income >= previous.countable_income", False),
        ("size > 1 and previous.size != size", True),
        ("size > 1 or countable_income < previous.countable_income", False),
        ("size < previous.size or countable_income > previous.countable_income", True),
        ("countable_income * 2 > previous.countable_income * 2", True),
        ("countable_income * 2 > previous.countable_income * 3", False),
        ("count(m for m in members if m.age > 80) > previous.size", False),
        ("size > 2", False),
    ],
)
def test_rules_that_cannot_fire_on_an_unchanged_household(when, silent):
    from minzheng_rules.expr._parser import parse
    from minzheng_rules.monitor._alerts import cannot_fire_unchanged

    assert cannot_fire_unchanged(parse(when)) is silent


@pytest.mark.parametrize("window", [1, 64])
def test_skipping_silent_rules_on_ticks_changes_no_record(window):
    """Ticks leave the household as it was, so rules such as ``x > previous.x`` are not asked,
    and a tick on a household whose ages do not move is not even decoded; asking the rules on
    every tick gives the same records (a member turning 80 between two ticks included)."""
    pack = load_pack("zhenjiang")
    hs = list(synthetic.register(300, seed=5))
    lines = list(synthetic.events(hs, 3000, seed=6, start=dt.date(2024, 3, 1)))
    assert sum('"tick"' in line for line in lines) > 300
    hs.append(
        {
            "id": "old",
            "members": [
                {"id": "a", "relation": "head", "birth_date": "1944-05-10", "monthly_income": 0}
            ],
            "assets": {"financial": 0},
        }
    )
    lines = [
        _ev(1, "old", "2024-03-01", "tick"),
        _ev(2, "old", "2024-05-01", "tick"),
        _ev(3, "old", "2024-05-15", "tick"),  # 80 since 2024-05-10
        *lines,
    ]

    def run(silent: bool):
        monitor = Monitor(pack, [parse_household(h) for h in hs], window=window)
        assert "tick" in monitor.alertset.silent_when_unchanged
        if not silent:
            monitor.alertset.silent_when_unchanged = frozenset()
        out = []
        monitor.run(lines, out.append)
        return out

    skipped, asked = run(True), run(False)
    assert skipped == asked
    assert skipped[-1]["summary"]["alerts"].get("elderly_alone", 0) > 0
    turned_80 = [r for r in skipped if r.get("event") == "x3"]
    assert turned_80 and "longevity_allowance" in turned_80[0]["newly_eligible"]
