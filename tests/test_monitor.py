"""Monitoring (issue #7): events, applying them, alert rules through the expression language, the
run loop's records, tiers and 渐退, and how bad input is reported without harming other
households. The durable_rules engine is compared with these in test_monitor_durable.py."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minzheng_rules import load_pack, parse_household
from minzheng_rules.model._errors import PackErrors
from minzheng_rules.monitor import AlertSet, Monitor, read_events
from minzheng_rules.monitor import _events as E
from minzheng_rules.monitor._binding import Binding, event_context
from minzheng_rules.monitor._formula import And, Or, atoms, compile_atom, holds, normal_form
from minzheng_rules.monitor._formula import atom_value as value_of
from minzheng_rules.monitor._state import EventRefused, add_months, apply_event
from minzheng_rules.packs._schema import AlertEvent
from minzheng_rules.synth import _events as synthetic
from test_monitor_pack import MONITOR_PACK, write_monitor_pack

from conftest import SEEDS


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return load_pack(write_monitor_pack(tmp_path_factory.mktemp("p") / "monitorpack"))


def _hh(hid="h1", **over):
    data = {
        "id": hid,
        "members": [
            {"id": "a", "relation": "head", "age": 50, "monthly_income": 2000, "employed": True},
            {"id": "b", "relation": "spouse", "age": 48, "monthly_income": 1000},
            {"id": "c", "relation": "child", "age": 10, "monthly_income": 0},
        ],
        "assets": {"financial": 1000},
    }
    data.update(over)
    return parse_household(data)


def _ev(i, hid, date, type_, **payload):
    return json.dumps(
        {"id": f"e{i}", "household": hid, "date": date, "type": type_, **payload},
        ensure_ascii=False,
    )


def _run(pack, households, lines, **kw):
    monitor = Monitor(pack, households, **kw)
    out = []
    monitor.run(lines, out.append)
    return out[:-1], out[-1]["summary"]


# -- events --------------------------------------------------------------------------------
def test_event_types_match_the_pack_schema():
    assert set(E.EVENT_TYPES) == set(AlertEvent.__args__)


def test_read_events_parses_each_type_and_numbers_lines():
    lines = [
        _ev(1, "h1", "2024-01-02", "income_change", member="a", monthly_income=10),
        "",
        _ev(2, "h1", "2024-01-03", "medical_expense", member="a", amount=5.5),
        _ev(3, "h1", "2024-01-03", "member_died", member="b"),
        _ev(4, "h1", "2024-01-03", "member_added", member={"id": "d", "age": 0}),
        _ev(
            5,
            "h1",
            "2024-01-03",
            "disability_assessed",
            member="a",
            grade=2,
            disability_type="physical",
        ),
        _ev(6, "h1", "2024-01-03", "assessment", needs=["meals"]),
        _ev(7, "h1", "2024-01-03", "member_changed", member="a", changes={"lives_alone": True}),
        _ev(8, "h1", "2024-01-03", "tick"),
    ]
    got = list(read_events(lines))
    assert [n for n, _ in got] == [1, 3, 4, 5, 6, 7, 8, 9]
    assert [e.type for _, e in got] == list(E.EVENT_TYPES)
    assert got[1][1].amount == Decimal("5.5")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (
            '{"id": "e", "household": "h", "date": "2024-01-01", "type": "party"}',
            "'type' must be one of",
        ),
        ('{"id": "e", "household": "h", "date": "2024-01-01"}', "missing 'type'"),
        ('{"id": "e", "household": "h", "date": "2024-13-01", "type": "tick"}', "date:"),
        (
            '{"id": "e", "household": "h", "date": "2024-01-01", "type": "tick", "x": 1}',
            "x: unknown field",
        ),
        (
            '{"id": "e", "household": "h", "date": "2024-01-01", "type": "income_change", "member": "a", "monthly_income": -1}',
            "monthly_income:",
        ),
    ],
)
def test_malformed_events_name_the_line_and_field(line, expected):
    [(n, err)] = list(read_events(["", line], first_line=7))
    assert isinstance(err, E.EventError) and n == 8 and err.line == 8
    assert expected in err.message, err.message


# -- applying events -------------------------------------------------------------------------
def test_apply_event_changes_only_what_the_event_says():
    h = _hh()
    ev = E.parse_event(
        json.loads(_ev(1, "h1", "2024-01-02", "income_change", member="b", monthly_income=300))
    )
    after = apply_event(h, ev)
    assert after.members[1].monthly_income == 300 and h.members[1].monthly_income == 1000
    ev = E.parse_event(
        json.loads(_ev(2, "h1", "2024-01-02", "medical_expense", member="a", amount=700))
    )
    assert apply_event(after, ev).expenses.medical_12m == 700
    ev = E.parse_event(json.loads(_ev(3, "h1", "2024-01-02", "member_died", member="a")))
    assert [m.id for m in apply_event(h, ev).members] == ["b", "c"]
    ev = E.parse_event(
        json.loads(
            _ev(
                4,
                "h1",
                "2024-01-02",
                "disability_assessed",
                member="c",
                grade=1,
                disability_type="mental",
            )
        )
    )
    c = apply_event(h, ev).members[2]
    assert (c.disability_grade, c.disability_type) == (1, "mental")
    ev = E.parse_event(
        json.loads(
            _ev(
                5,
                "h1",
                "2024-01-02",
                "member_changed",
                member="c",
                changes={"father_status": "missing"},
            )
        )
    )
    assert apply_event(h, ev).members[2].father_status == "missing"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "income_change", "member": "zz", "monthly_income": 1}, "has no member 'zz'"),
        ({"type": "member_added", "member": {"id": "a", "age": 3}}, "already has a member 'a'"),
        ({"type": "member_changed", "member": "a", "changes": {"id": "q"}}, "id cannot change"),
        (
            {"type": "member_changed", "member": "a", "changes": {"disability_type": "visual"}},
            "disability_grade",
        ),
        ({"type": "member_changed", "member": "a", "changes": {"shoe_size": 9}}, "unknown field"),
    ],
)
def test_events_that_cannot_apply_are_refused(event, message):
    ev = E.parse_event({"id": "e", "household": "h1", "date": "2024-01-01", **event})
    with pytest.raises(EventRefused, match=message):
        apply_event(_hh(), ev)


def test_the_last_member_cannot_die_out_of_the_register():
    h = parse_household({"id": "s", "members": [{"id": "a", "age": 90}]})
    ev = E.parse_event(
        {"id": "e", "household": "s", "date": "2024-01-01", "type": "member_died", "member": "a"}
    )
    with pytest.raises(EventRefused, match="only member"):
        apply_event(h, ev)


def test_add_months_keeps_the_day_or_the_months_last_day():
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 11, 15), 3) == dt.date(2025, 2, 15)


# -- alert rules -----------------------------------------------------------------------------
def _pack_with_alert(write_pack, when, event="income_change", tier="normal"):
    files = dict(MONITOR_PACK)
    files["alerts.yaml"] = f"""
alerts:
  probe:
    label: {{zh: 探测, en: Probe}}
    event: {event}
    tier: {tier}
    when: "{when}"
    citations: [{{confidence: modelled, source: {{reasoning: test}}}}]
"""
    return load_pack(write_pack(files, name="probe"))


def test_alert_names_unknown_to_the_event_are_refused_with_file_line_and_suggestion(write_pack):
    pack = _pack_with_alert(write_pack, "event.amont > 0", event="medical_expense")
    with pytest.raises(PackErrors) as info:
        AlertSet.from_pack(pack)
    err = info.value.errors[0]
    assert err.file.endswith("alerts.yaml") and err.line == 7
    assert "unknown name 'event.amont'" in err.message and err.suggestion == "event.amount"


def test_member_names_need_an_event_about_one_member(write_pack):
    pack = _pack_with_alert(write_pack, "member.age >= 80", event="[income_change, tick]")
    with pytest.raises(PackErrors, match=r"unknown name 'member\.age'"):
        AlertSet.from_pack(pack)
    pack = _pack_with_alert(write_pack, "member.age >= 80", event="[income_change, member_died]")
    assert [a.id for a in AlertSet.from_pack(pack).alerts] == ["probe"]


def test_alert_types_are_checked(write_pack):
    pack = _pack_with_alert(write_pack, "event.monthly_income > size")
    with pytest.raises(PackErrors, match="cannot compare money with count"):
        AlertSet.from_pack(pack)


# -- the run loop ----------------------------------------------------------------------------
def test_income_drop_alert_reports_values_parameters_and_newly_eligible_programs(pack):
    lines = [_ev(1, "h1", "2024-03-01", "income_change", member="a", monthly_income=200)]
    records, summary = _run(pack, [_hh()], lines)
    by_alert = {r["alert"]: r for r in records}
    assert set(by_alert) == {"income_drop", "member_income_drop"}
    r = by_alert["income_drop"]
    assert (r["event"], r["household"], r["line"], r["tier"]) == ("e1", "h1", 1, "normal")
    # income 3000 → 1200 for 3 people: per head 1000 (edge) → 400 < 1000, so dibao (主动发现)
    assert r["newly_eligible"] == ["dibao"] and r["no_longer_eligible"] == ["edge"]
    assert r["phase_out_until"] == {"edge": "2024-09-01"}
    reason = r["reasons"][0]
    assert reason["values"] == {"income": "1200", "previous.income": "3000"}
    assert reason["parameters"]["monitor.income_drop_share"]["value"] == "0.3"
    assert reason["parameters"]["monitor.income_drop_share"]["confidence"] == "modelled"
    assert r["reasons"][1]["program"] == "dibao" and r["reasons"][1]["amount"] == "1800.00"
    assert summary["alerts"] == {"income_drop": 1, "member_income_drop": 1}
    assert summary["newly_eligible"] == {"dibao": 1}
    assert summary["no_longer_eligible"] == {"edge": 1}


def test_a_small_income_change_raises_nothing(pack):
    lines = [_ev(1, "h1", "2024-03-01", "income_change", member="a", monthly_income=2100)]
    records, summary = _run(pack, [_hh()], lines)
    assert records == [] and summary["applied"] == 1


def test_phase_out_starts_when_a_program_stops_and_ends_after_its_months(pack):
    poor = _hh(members=[{"id": "a", "relation": "head", "age": 50, "monthly_income": 500}])
    lines = [
        _ev(1, "h1", "2024-03-10", "income_change", member="a", monthly_income=1200),
        _ev(2, "h1", "2024-09-10", "tick"),
        _ev(3, "h1", "2024-09-11", "tick"),
    ]
    records, _ = _run(pack, [poor], lines)
    first = records[0]
    assert first["alert"] == "eligibility_changed"
    assert first["no_longer_eligible"] == ["dibao"] and first["newly_eligible"] == ["edge"]
    assert first["phase_out_until"] == {
        "dibao": "2024-09-10"
    }  # 6 months (monitor.phase_out_months)
    assert [r["alert"] for r in records[1:]] == ["phase_out_ended"]
    assert records[1]["event"] == "e3"


def test_high_alerts_put_the_household_in_the_high_tier_for_a_period(pack):
    lines = [
        _ev(1, "h1", "2024-01-05", "medical_expense", member="a", amount=20000),
        _ev(2, "h1", "2024-02-05", "income_change", member="b", monthly_income=100),
        _ev(3, "h1", "2024-04-06", "income_change", member="a", monthly_income=0),
    ]
    records, summary = _run(pack, [_hh()], lines)
    tiers = {r["event"]: r["tier"] for r in records}
    assert records[0]["alert"] == "medical_burden" and records[0]["alert_tier"] == "high"
    assert tiers == {"e1": "high", "e2": "high", "e3": "normal"}  # 3 months after 2024-01-05
    assert summary["tiers"] == {"high": 0, "normal": 1}


def test_bad_events_are_reported_with_line_numbers_and_skipped(pack):
    good_b = [
        _ev(10, "h2", "2024-02-01", "income_change", member="a", monthly_income=100),
        _ev(11, "h2", "2024-03-01", "member_died", member="c"),
    ]
    noisy = [
        _ev(1, "h1", "2024-02-01", "income_change", member="a", monthly_income=100),
        "{broken",
        good_b[0],
        _ev(2, "h1", "2024-01-01", "tick"),  # before h1's last event
        _ev(1, "h1", "2024-02-01", "income_change", member="a", monthly_income=100),  # replay
        _ev(3, "nobody", "2024-02-01", "tick"),
        _ev(4, "h1", "2024-02-02", "income_change", member="zz", monthly_income=1),
        _ev(5, "h1", "1999-01-01", "tick"),
        good_b[1],
    ]
    records, summary = _run(pack, [_hh("h1"), _hh("h2")], noisy)
    errors = {e["line"]: e["kind"] for e in summary["errors"]}
    assert errors == {
        2: "malformed",
        4: "out_of_order",
        5: "duplicate",
        6: "unknown_household",
        7: "invalid",
        8: "out_of_order",
    }
    assert summary["skipped"] == 6 and summary["applied"] == 3 and summary["events"] == 9
    # h2's records are exactly those of a clean run of h2's own events
    alone, _ = _run(pack, [_hh("h2")], good_b)
    mine = [{k: v for k, v in r.items() if k != "line"} for r in records if r["household"] == "h2"]
    assert mine == [{k: v for k, v in r.items() if k != "line"} for r in alone]


def test_a_date_with_no_standard_in_force_is_skipped_not_fatal(pack):
    _, summary = _run(pack, [_hh()], [_ev(1, "h1", "2019-06-01", "tick")])
    assert summary["skipped_by_kind"] == {"not_evaluable": 1}
    assert "dibao.standard" in summary["errors"][0]["message"]


@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.dictionaries(
                st.sampled_from(
                    ["id", "household", "date", "type", "member", "amount", "changes", "needs"]
                ),
                st.one_of(
                    st.none(),
                    st.integers(),
                    st.text(max_size=8),
                    st.lists(st.integers(), max_size=2),
                ),
                max_size=8,
            ).map(json.dumps),
        ),
        max_size=12,
    )
)
def test_the_run_never_crashes_on_input(pack, lines):
    _, summary = _run(pack, [_hh()], lines)
    assert summary["events"] == sum(1 for x in lines if x.strip())
    assert summary["applied"] + summary["skipped"] == summary["events"]


def test_skipping_unchanged_re_evaluations_gives_the_same_records(pack):
    hs = list(synthetic.register(150, seed=3))
    lines = list(synthetic.events(hs, 1500, seed=4, bad_share=0.03))
    fast, s1 = _run(pack, [parse_household(h) for h in hs], lines)
    full, s2 = _run(pack, [parse_household(h) for h in hs], lines, always_evaluate=True)
    assert fast == full and s1 == s2
    assert len(fast) > 100 and s1["skipped"] > 0


def test_normal_form_agrees_with_the_kleene_result_of_every_alert(pack):
    """The rewrite the durable engine relies on, checked without durable_rules: on real event
    contexts, a rule's normal form holds (missing values failing) exactly when the reference
    closure says True."""
    alertset = AlertSet.from_pack(pack)
    hs = [parse_household(h) for h in synthetic.register(60, seed=5)]
    by_id = {h.id: h for h in hs}
    forms = {a.index: normal_form(a.expr.checked) for a in alertset.alerts}
    checked = fired = 0
    binding = None
    for _, ev in read_events(
        synthetic.events([h.model_dump(mode="json") for h in hs], 600, seed=6)
    ):
        if binding is None or binding.date != ev.date:
            binding = Binding(alertset, ev.date)
        try:
            after = apply_event(by_id[ev.household], ev)
        except EventRefused:
            continue
        ctx = event_context(
            binding, ev, by_id[ev.household], after, alertset.extras_by_event[ev.type]
        )
        for a in alertset.by_event[ev.type]:
            form = forms[a.index]
            values = {
                atom: value_of(atom, compile_atom(a.expr.checked, atom, binding.values), ctx)
                for atom in atoms(form)
            }
            expected = binding.predicates[a.index](ctx, None) is True
            assert holds(form, values) is expected, (a.id, ev)
            checked += 1
            fired += expected
        by_id[ev.household] = after
    assert checked > 200 and 0 < fired < checked


def test_normal_form_pushes_negations_to_atoms(pack):
    alertset = AlertSet.from_pack(pack)
    form = normal_form(
        next(a for a in alertset.alerts if a.id == "member_income_drop").expr.checked
    )
    assert isinstance(form, And)
    assert [(x.kind, x.op) for x in atoms(form)] == [("num", "<"), ("in", "not in")]
    form = normal_form(next(a for a in alertset.alerts if a.id == "parent_died").expr.checked)
    assert isinstance(form, Or) and isinstance(form.parts[1], And)
    assert [(x.kind, x.op, x.literal) for x in atoms(form)][:2] == [
        ("text", "==", "head"),
        ("text", "==", "spouse"),
    ]


# -- the shipped packs -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["national", "zhejiang", "jiangsu", "zhenjiang", "pinghu"])
def test_shipped_alerts_compile_and_cite_their_sources(name):
    pack = load_pack(name)
    alertset = AlertSet.from_pack(pack)
    assert alertset.alerts, name
    for a in alertset.alerts:
        assert a.spec.citations, a.id
        assert a.spec.label.zh and a.spec.label.en
    for pname in ("monitor.high_tier_months", "monitor.phase_out_months"):
        assert pname in pack.parameters


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside this checkout")
@pytest.mark.parametrize("name", ["national", "zhenjiang", "pinghu"])
def test_seed_quotes_in_alerts_and_monitor_parameters_are_verbatim(name):
    d = load_pack(name).definition
    sources = [c.source for a in d.alerts.values() for c in a.citations]
    sources += [
        h.source
        for n, p in d.parameters.items()
        if n.startswith("monitor.")
        for h in p.history or ()
    ]
    quoted = [s for s in sources if s.quote]
    assert quoted
    for s in quoted:
        assert s.quote in (SEEDS / s.seed).read_text(encoding="utf-8"), s.quote


def test_shipped_city_alerts_fire_on_a_synthetic_stream():
    pack = load_pack("zhenjiang")
    hs = list(synthetic.register(120, seed=8))
    lines = list(synthetic.events(hs, 900, seed=9, start=dt.date(2023, 1, 1)))
    records, summary = _run(pack, [parse_household(h) for h in hs], lines)
    assert summary["applied"] > 800
    assert {"fell_below_dibao_line", "income_drop", "eligibility_changed"} <= set(summary["alerts"])
    assert all(r["tier"] in ("high", "normal") for r in records)
