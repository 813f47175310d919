"""The durable_rules engine (the ``monitor`` extra) gives the same alerts as the pure-Python
evaluator on the same stream, and keeps to the limits in POLICY_NOTES.md: fixed shard sessions,
no facts left behind, a private host without timer threads.

CI installs the extra (.ci/run); there a missing durable_rules is a failure, not a skip."""

import datetime as dt
import json
import os
import textwrap

import pytest

from minzheng_rules import load_pack, parse_household
from minzheng_rules.monitor import Monitor, make_engine
from minzheng_rules.synth import _events as synthetic
from test_monitor_pack import write_monitor_pack

if os.environ.get("CI"):
    import durable  # noqa: F401  (CI must run these tests, never skip them)
else:
    pytest.importorskip("durable", reason="durable-rules (the monitor extra) is not installed")

from minzheng_rules.monitor._durable_engine import MAX_SESSIONS, DurableEngine


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


def test_text_that_is_not_ascii_matches_in_both_engines(tmp_path):
    """durable_rules compares the UTF-8 text of a message with the rule's; a message with
    ``\\uXXXX`` escapes (json.dumps' default) matched no rule on Chinese text. Text UTF-8
    cannot hold (a lone surrogate) is escaped, not refused."""
    from test_monitor_pack import MONITOR_PACK

    texts = dict(MONITOR_PACK)
    texts["alerts.yaml"] += textwrap.indent(
        textwrap.dedent(
            """\
            hukou_outside:
              label: {zh: 外地户籍, en: Hukou elsewhere}
              event: income_change
              when: hukou == '外地' or hukou in ('外省', '境外')
              citations: [{confidence: modelled, source: {reasoning: test}}]
            """
        ),
        "  ",
    )
    folder = tmp_path / "pack"
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    pack = load_pack(folder)
    hs = list(synthetic.register(60, seed=41))
    for i, h in enumerate(hs):
        h["hukou"] = ("外地", "本地", "外省", "境外")[i % 4]
    hs[1]["hukou"] = "\ud800本地"  # a register's escaped lone surrogate: no match, no refusal
    lines = [
        json.dumps(
            {
                "id": f"e{i}",
                "household": h["id"],
                "date": "2024-03-01",
                "type": "income_change",
                "member": h["members"][0]["id"],
                "monthly_income": 100,
            },
            ensure_ascii=False,
        )
        for i, h in enumerate(hs)
    ]
    _, python = _records(pack, hs, lines, "python")
    _, durable = _records(pack, hs, lines, "durable")
    _same(python, durable)
    assert python[-1]["summary"]["alerts"]["hukou_outside"] == 45  # 外地, 外省 and 境外


def test_a_native_failure_while_running_actions_is_raised_and_later_facts_still_fire(
    test_pack, monkeypatch
):
    """As durable_rules' own do_actions: the action is abandoned and the error raised; the
    session (one shard here) goes on matching the next events."""
    import durable_rules_engine as native

    hs = list(synthetic.register(40, seed=43))
    lines = list(synthetic.events(hs, 600, seed=44))
    real = native.complete_and_start_action
    calls = [0]

    def failing_once(handle, state):
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("boom")
        return real(handle, state)

    monkeypatch.setattr(native, "complete_and_start_action", failing_once)
    _, out = _records(test_pack, hs, lines, "durable", shards=1)
    summary = out[-1]["summary"]
    failed = [e for e in summary["errors"] if e["kind"] == "internal"]
    assert len(failed) == 1 and "boom" in failed[0]["message"]
    later = [
        r for r in out[:-1] if r["line"] > failed[0]["line"] and r["alert"] != "eligibility_changed"
    ]
    assert len(later) > 10 and calls[0] > 10
