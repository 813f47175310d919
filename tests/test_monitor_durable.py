"""The durable_rules engine (the ``monitor`` extra) gives the same alerts as the pure-Python
evaluator on the same stream, and keeps to the limits in POLICY_NOTES.md: fixed shard sessions,
no facts left behind, a private host without timer threads.

CI installs the extra (.ci/run); there a missing durable_rules is a failure, not a skip."""

import datetime as dt
import os

import pytest

from minzheng_rules import load_pack, parse_household
from minzheng_rules.monitor import Monitor, make_engine, synthetic
from test_monitor_pack import write_monitor_pack

if os.environ.get("CI"):
    import durable  # noqa: F401  (CI must run these tests, never skip them)
else:
    pytest.importorskip("durable", reason="durable-rules (the monitor extra) is not installed")

from minzheng_rules.monitor.durable_engine import MAX_SESSIONS, DurableEngine


def _records(pack, households, lines, engine, **kw):
    monitor = Monitor(pack, [parse_household(h) for h in households], engine=engine, **kw)
    out = []
    monitor.run(lines, out.append)
    return monitor, out


@pytest.fixture(scope="module")
def test_pack(tmp_path_factory):
    return load_pack(write_monitor_pack(tmp_path_factory.mktemp("d") / "monitorpack"))


def _same(python, durable):
    *p_records, p_summary = python
    *d_records, d_summary = durable
    assert p_summary["summary"].pop("engine") == "python"
    assert d_summary["summary"].pop("engine") == "durable"
    assert d_records == p_records
    assert d_summary == p_summary


def test_both_engines_give_the_same_alerts_on_the_test_pack(test_pack):
    hs = list(synthetic.register(400, seed=21))
    lines = list(synthetic.events(hs, 4000, seed=22, bad_share=0.02))
    _, python = _records(test_pack, hs, lines, "python")
    monitor, durable = _records(test_pack, hs, lines, "durable", shards=16)
    _same(python, durable)
    fired = python[-1]["summary"]["alerts"]
    # every rule of the pack fired at least once, so every rule's translation was exercised
    assert set(fired) >= set(test_pack.definition.alerts), fired
    # nothing is left in durable_rules: event facts are retracted, sessions are the fixed shards
    engine = monitor.engine
    for shard in range(16):
        assert engine._host.get_facts(engine._name, str(shard)) == []


@pytest.mark.parametrize("name", ["zhenjiang", "pinghu"])
def test_both_engines_give_the_same_alerts_on_shipped_city_packs(name):
    pack = load_pack(name)
    hs = list(synthetic.register(150, seed=31))
    lines = list(synthetic.events(hs, 1200, seed=32, start=dt.date(2024, 1, 1)))
    _, python = _records(pack, hs, lines, "python")
    _, durable = _records(pack, hs, lines, "durable")
    _same(python, durable)
    assert python[-1]["summary"]["records"] > 100


def test_shards_stay_within_durable_rules_session_limit(test_pack):
    from minzheng_rules.monitor import AlertSet

    alertset = AlertSet.from_pack(test_pack)
    with pytest.raises(ValueError, match="1 to 1024"):
        DurableEngine(alertset, shards=MAX_SESSIONS + 1)
    engine = make_engine("durable", alertset, shards=3)
    assert engine.name == "durable"
    # the private host never started durable_rules' dispatch/timer threads
    assert not hasattr(engine._host, "_d_timer") and not hasattr(engine._host, "_t_timer")


def test_a_failing_action_is_raised_not_swallowed(test_pack):
    """durable_rules swallows an action's exception into session state; the adapter must not."""

    class FailingList(list):
        def append(self, item):
            raise RuntimeError("boom")

    hs = list(synthetic.register(20, seed=41))
    lines = list(synthetic.events(hs, 200, seed=42))
    monitor = Monitor(test_pack, [parse_household(h) for h in hs], engine="durable")
    monitor.engine._fired = FailingList()
    summary = monitor.run(lines, lambda record: None)["summary"]
    assert summary["skipped_by_kind"].get("internal", 0) > 0
    assert all("boom" in e["message"] for e in summary["errors"] if e["kind"] == "internal")
