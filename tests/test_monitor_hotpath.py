"""The monitor's per-event shortcuts (issue #7 throughput) give exactly what the slow ways give:
the compact household form, facts computed on demand, values before an event read after it when
the event cannot have changed them, events validated from their JSON text, apply_event without
re-validating, and the cached parts of an alert's reasons."""

import datetime as dt
import json
import tracemalloc
from enum import StrEnum
from typing import Any

import pytest

from minzheng_rules import load_pack, parse_household
from minzheng_rules.model._facts import (
    HOUSEHOLD_FACTS,
    MEMBER_FACTS,
    household_facts,
    member_facts,
    receiving_values,
)
from minzheng_rules.model._household import Household
from minzheng_rules.model._values import Unknown
from minzheng_rules.monitor import AlertSet, Monitor, read_events
from minzheng_rules.monitor import _events as E
from minzheng_rules.monitor._binding import (
    Binding,
    context,
    event_context,
    household_value,
    member_value,
    reasons,
)
from minzheng_rules.monitor._engines import PythonEngine
from minzheng_rules.monitor._state import EventRefused, HouseholdState, apply_event, decode, encode
from minzheng_rules.synth import _events as synthetic

DAY = dt.date(2024, 3, 1)


@pytest.fixture(scope="module")
def alertset():
    return AlertSet.from_pack(load_pack("zhenjiang"))


@pytest.fixture(scope="module")
def register():
    return [parse_household(h) for h in synthetic.register(300, seed=11)]


def _typed(value: Any) -> Any:
    """A value with the types of everything in it, so ``Decimal('1.0')`` differs from
    ``Decimal('1')``. An enum member counts as its value (a field left at its default holds the
    member, a given one its value: the compact form keeps values)."""
    if hasattr(value, "__pydantic_fields__"):
        return (type(value).__name__, {k: _typed(v) for k, v in value.__dict__.items()})
    if isinstance(value, list | tuple):
        return [_typed(v) for v in value]
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, StrEnum):
        value = value.value
    return (type(value).__name__, repr(value))


FULL = {
    "id": "h-全",
    "members": [
        {
            "id": "a",
            "relation": "head",
            "birth_date": "1950-02-28",
            "monthly_income": "1200.50",
            "disability_grade": 2,
            "disability_type": "visual",
            "self_care": "partial",
            "major_illness": True,
            "chronic_illness": True,
            "student": "none",
            "employed": False,
            "father_status": "deceased",
            "mother_status": "missing",
            "care": "kinship",
            "has_capable_obligor": False,
            "lives_alone": True,
            "incarcerated": False,
            "missing": False,
        },
        {"id": "b", "age": 7},
        {"id": "成员", "age": 30, "monthly_income": 1e2, "incarcerated": True},
    ],
    "assets": {"financial": "0.10", "vehicles": 2, "properties": 0},
    "expenses": {"medical_12m": 1.5, "education_12m": "300"},
    "housing": {"unsafe": True},
    "hukou": "321102",
    "assessed_needs": ["care", "money"],
    "emergency": True,
    "receiving": {"dibao": "820.00", "tekun": 1000},
}


@pytest.mark.parametrize(
    "data",
    [
        FULL,
        {"id": "h0", "members": [{"id": "a", "age": 1}]},
        {
            "id": "h1",
            "members": [{"id": "a", "age": 1}],
            "assets": {},
            "housing": {"unsafe": False},
        },
    ],
)
def test_the_compact_form_gives_back_every_value_with_its_type(data):
    h = parse_household(data)
    back = decode(encode(h))
    assert back == h
    assert _typed(back) == _typed(h)
    assert back.model_dump(mode="json") == h.model_dump(mode="json")
    state = HouseholdState(h, compact=True)
    assert state.household == h and state.household is not state.household


def test_compact_decimals_keep_their_exponent():
    h = parse_household(
        {
            "id": "h",
            "members": [{"id": "a", "age": 3, "monthly_income": "10.50"}],
            "expenses": {"medical_12m": "1E+3"},
        }
    )
    back = decode(encode(h))
    assert str(back.members[0].monthly_income) == "10.50"
    assert str(back.expenses.medical_12m) == str(h.expenses.medical_12m)


def test_households_under_watch_stay_small(register):
    raw = [h.model_dump(mode="json") for h in register]
    tracemalloc.start()
    states = [HouseholdState(parse_household(d), compact=True) for d in raw]
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per = size / len(states)
    assert per < 800, f"{per:.0f} bytes a household under watch"  # ~0.45 KB measured


def test_facts_computed_on_demand_are_the_facts(alertset, register):
    binding = Binding(alertset, DAY)
    born = parse_household(
        {"id": "hb", "members": [{"id": "a", "birth_date": "1944-03-02"}, {"id": "b", "age": 5}]}
    )
    for h in [*register[:80], born, parse_household(FULL)]:
        ctx = context(binding, h)
        expected = household_facts(h, DAY)
        expected.update(receiving_values(h, binding.program_ids))
        for name in [*HOUSEHOLD_FACTS, *expected]:
            assert ctx.hh[name] == expected[name], name
        for md, want in zip(ctx.members, member_facts(h, DAY), strict=True):
            for name in MEMBER_FACTS:
                assert md[name] == want[name], name
                assert type(md[name]) is type(want[name])
        fresh = context(binding, h)
        with pytest.raises(KeyError):
            fresh.hh["per_capita_income"]  # a variable: the closures compute it
        with pytest.raises(KeyError):
            fresh.hh["receiving.no_such_program"]
        with pytest.raises(KeyError):
            fresh.members[0]["countable"]
        assert household_value(fresh, "per_capita_income") == household_value(
            ctx, "per_capita_income"
        )
        assert member_value(fresh, fresh.members[0], "household_member") in (True, False)


def _stream(register, n, seed):
    return list(
        read_events(synthetic.events([h.model_dump(mode="json") for h in register], n, seed=seed))
    )


def test_values_before_an_event_are_those_of_the_household_before(alertset, register):
    """``previous.*`` read after the event when the event cannot change them, and the member an
    event is about, are what a context of the household before the event gives."""
    by_id = {h.id: h for h in register}
    bindings: dict[dt.date, Binding] = {}
    checked = shared = 0
    for _, ev in _stream(register, 1500, 12):
        if isinstance(ev, E.EventError) or ev.household not in by_id:
            continue
        before = by_id[ev.household]
        try:
            after = apply_event(before, ev)
        except EventRefused:
            continue
        try:
            binding = bindings.get(ev.date) or bindings.setdefault(
                ev.date, Binding(alertset, ev.date)
            )
        except Exception:  # no parameter in force on that date
            continue
        extras = alertset.extras_by_event[ev.type]
        ctx = event_context(binding, ev, before, after, extras)
        prev = context(binding, before)
        for name in extras:
            if name.startswith("previous.member."):
                continue  # checked through the member's dict below
            if name.startswith("previous."):
                assert ctx.hh[name] == household_value(prev, name[9:]), (name, ev)
                checked += 1
                shared += after is not before
        by_id[ev.household] = after
    assert checked > 500 and shared > 100


def test_the_event_member_before_and_after(alertset):
    h = parse_household(
        {
            "id": "h",
            "members": [
                {"id": "a", "relation": "head", "age": 40, "monthly_income": 100},
                {
                    "id": "b",
                    "relation": "child",
                    "age": 4,
                    "disability_grade": 3,
                    "disability_type": "visual",
                },
            ],
        }
    )
    binding = Binding(alertset, DAY)

    def ev(type_, **payload):
        return E.parse_event(
            {"id": "e", "household": "h", "date": DAY.isoformat(), "type": type_, **payload}
        )

    graded = ev("disability_assessed", member="b", grade=1, disability_type="mental")
    ctx = event_context(
        binding,
        graded,
        h,
        apply_event(h, graded),
        frozenset({"previous.member.disability_grade", "member.disability_grade", "event.grade"}),
    )
    assert ctx.hh["previous.member.disability_grade"] == 3
    assert ctx.hh["member.disability_grade"] == 1 and ctx.hh["event.grade"] == 1
    died = ev("member_died", member="a")
    ctx = event_context(
        binding,
        died,
        h,
        apply_event(h, died),
        frozenset({"member.relation", "previous.member.relation", "previous.size"}),
    )
    assert ctx.hh["member.relation"] == "head" == ctx.hh["previous.member.relation"]
    assert ctx.hh["previous.size"] == 2 and ctx.hh["size"] == 1
    added = ev("member_added", member={"id": "c", "age": 1})
    ctx = event_context(
        binding,
        added,
        h,
        apply_event(h, added),
        frozenset({"member.age", "previous.member.age"}),
    )
    assert ctx.hh["member.age"] == 1
    assert ctx.hh["previous.member.age"].__class__ is Unknown


def _apply_by_validating(h: Household, ev: Any) -> Household:
    """What apply_event gave before its shortcuts: copies and whole re-validation."""
    data = h.model_dump(exclude_none=True)
    members = data["members"]
    ids = [m["id"] for m in members]
    match ev:
        case E.IncomeChange():
            members[ids.index(ev.member)]["monthly_income"] = ev.monthly_income
        case E.MedicalExpense():
            data["expenses"]["medical_12m"] = h.expenses.medical_12m + ev.amount
        case E.MemberDied():
            del members[ids.index(ev.member)]
        case E.MemberAdded():
            members.append(ev.member.model_dump(exclude_none=True))
        case E.DisabilityAssessed():
            m = members[ids.index(ev.member)]
            m.update(disability_grade=ev.grade, disability_type=ev.disability_type)
        case E.Assessment():
            data["assessed_needs"] = sorted(set(ev.needs))
        case E.MemberChanged():
            members[ids.index(ev.member)].update(ev.changes)
    return parse_household(data)


def test_apply_event_gives_the_household_validation_gives(register):
    by_id = {h.id: h for h in register}
    kinds: set[str] = set()
    for _, ev in _stream(register, 3000, 13):
        if isinstance(ev, E.EventError) or ev.household not in by_id:
            continue
        h = by_id[ev.household]
        try:
            after = apply_event(h, ev)
        except EventRefused:
            continue
        assert after.model_dump() == _apply_by_validating(h, ev).model_dump(), ev
        assert decode(encode(after)) == after
        kinds.add(ev.type)
        by_id[ev.household] = after
    assert kinds == set(E.EVENT_TYPES) - {"assessment"} or kinds == set(E.EVENT_TYPES)


def test_a_member_beyond_the_limit_is_refused_as_validation_says():
    h = parse_household({"id": "h", "members": [{"id": f"m{i}", "age": 30} for i in range(30)]})
    ev = E.parse_event(
        {
            "id": "e",
            "household": "h",
            "date": "2024-01-01",
            "type": "member_added",
            "member": {"id": "new", "age": 1},
        }
    )
    with pytest.raises(EventRefused, match="at most 30"):
        apply_event(h, ev)


BASE = '"id":"e1","household":"h1","date":"2024-01-02"'


def _line(rest: str) -> str:
    return "{" + BASE + "," + rest + "}"


LINES = [
    _line('"type":"tick"'),
    _line('"type":"tick","id":"e2"'),
    '{"id":"\\ud800","household":"h1","date":"2024-01-02","type":"tick"}',
    '{"id":"\\u0065","household":"h1","date":"2024-01-02","\\u0074ype":"tick"}',
    *(
        _line('"type":"income_change","member":"a","monthly_income":' + n)
        for n in (
            "1e2",
            "100.10",
            "100.105",
            '"100.10"',
            "7.0",
            "-0.0",
            "-0",
            "NaN",
            "true",
            "1e400",
            "99999999999999999999",
            "4000",
        )
    ),
    _line('"type":"medical_expense","member":"a","amount":5.5e1'),
    _line('"type":"medical_expense","member":"a","amount":200'),
    _line('"type":"disability_assessed","member":"a","grade":2.0,"disability_type":"visual"'),
    _line('"type":"member_changed","member":"a","changes":{"age":1.5,"x":1e400,"y":[1.0]}'),
    _line('"type":"member_added","member":{"id":"z","age":3,"monthly_income":2.0}'),
    _line('"type":"member_added","member":{"id":"z","age":3,"monthly_income":2}'),
    _line('"type":"assessment","needs":["a","a","b_1"]'),
    '{"id":"e1","household":"h1","date":"2024-01-02T00:00:00Z","type":"tick"}',
    '{"id":1,"household":"h1","date":"2024-01-02","type":"tick"}',
    '\ufeff{"id":"e1","household":"h1","date":"2024-01-02","type":"tick"}',
    '{"id":"e1","household":"h1","date":"2024-01-02","type":"tick"}x',
    "[1]",
    "null",
    "{",
    "{}",
    '{"type":"nope"}',
    '{"id":"e1","household":"h1","date":"2024-01-02","type":"tick","extra":1}',
    "[" * 3000 + "]" * 3000,
]


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_events_read_from_json_text_are_those_json_loads_gives(line, as_bytes):
    raw = line.encode("utf-8", "surrogatepass") if as_bytes else line
    ((n, got),) = list(read_events([raw]))
    want = E._parse_line(raw, 1)  # json.loads, then parse_event
    assert n == 1 and type(got) is type(want) and repr(got) == repr(want)
    if not isinstance(want, E.EventError):
        assert _typed(got) == _typed(want)


def test_reasons_are_new_dicts_each_time(alertset):
    h = parse_household(
        {"id": "h", "members": [{"id": "a", "relation": "head", "age": 40, "monthly_income": 100}]}
    )
    binding = Binding(alertset, DAY)
    ev = E.parse_event(
        {
            "id": "e",
            "household": "h",
            "date": DAY.isoformat(),
            "type": "income_change",
            "member": "a",
            "monthly_income": 0,
        }
    )
    after = apply_event(h, ev)
    ctx = event_context(binding, ev, h, after, alertset.extras_by_event[ev.type])
    fired = PythonEngine(alertset).fire(ev, ctx, binding)
    assert fired
    a, b = reasons(binding, fired[0], ctx).to_json(), reasons(binding, fired[0], ctx).to_json()
    assert a == b and a["parameters"]
    for name, p in a["parameters"].items():
        assert p is not b["parameters"][name] and p["source"] is not b["parameters"][name]["source"]


def test_a_run_gives_the_same_records_compact_or_not(alertset):
    pack = alertset.pack
    raw = list(synthetic.register(150, seed=21))
    lines = list(synthetic.events(raw, 1200, seed=22, start=dt.date(2024, 1, 1), bad_share=0.02))
    runs = []
    for compact in (True, False):
        out: list[dict] = []
        Monitor(pack, [parse_household(h) for h in raw], compact=compact).run(lines, out.append)
        runs.append(json.dumps(out, sort_keys=True, default=str))
    assert runs[0] == runs[1]
