"""Fuzzing (issue 21): generated households, event lines, pack YAML, expression text and register
bytes give an answer, a row reject or one of the library's typed errors (MinzhengError and its
subclasses), never another exception; and one household gets the same answer on every path
(eval, batch's vectorized backend, diff, the monitor one event at a time and in windows).

The example counts come from the hypothesis profile (tests/conftest.py: 60 in CI); the costly
tests take fewer. Fixed hostile cases live in tests/test_hostile_inputs.py."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minzheng_rules import load_pack, parse_household
from minzheng_rules.backends.reference import evaluate
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._household import Household
from minzheng_rules.model._results import Status
from minzheng_rules.monitor import Monitor
from minzheng_rules.monitor._events import EVENT_TYPES, read_events
from minzheng_rules.monitor._register import iter_register
from minzheng_rules.testing.strategies import households
from test_monitor_pack import write_monitor_pack

from packs_for_tests import files

ON = dt.date(2024, 6, 1)
FEW = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory):
    return write_monitor_pack(tmp_path_factory.mktemp("fuzz") / "monitorpack")


@pytest.fixture(scope="module")
def pack(pack_dir):
    return load_pack(pack_dir)


# -- JSON-like values, plain and hostile ---------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "1:30", "yes", "１０３８６", "\ud800", "2030-01-01", "1e26", "-0", "NaN"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
MEMBER_FIELDS = ["id", "relation", "age", "birth_date", "monthly_income", "disability_grade",
                 "disability_type", "student", "employed", "lives_alone"]  # fmt: skip
HOUSEHOLD_FIELDS = ["id", "members", "assets", "expenses", "assessed_needs", "receiving",
                    "hukou", "emergency"]  # fmt: skip


@st.composite
def mutated_households(draw):
    """A valid household with a few fields replaced by anything (or dropped)."""
    data = {
        "id": "h1",
        "members": [
            {"id": "a", "relation": "head", "age": 40, "monthly_income": 500},
            {"id": "b", "relation": "child", "birth_date": "2015-03-01"},
        ],
        "assets": {"financial": 1000},
    }
    people = list(data["members"])  # the member dicts, even once "members" is replaced
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            member = people[draw(st.integers(0, 1))]
            field = draw(st.sampled_from(MEMBER_FIELDS))
            target = member
        else:
            field = draw(st.sampled_from(HOUSEHOLD_FIELDS))
            target = data
        if draw(st.integers(0, 4)) == 0:
            target.pop(field, None)
        else:
            target[field] = draw(json_values)
    return data


@given(st.one_of(mutated_households(), json_values))
def test_households_parse_or_raise_a_typed_error(pack, data):
    try:
        h = parse_household(data)
    except MinzhengError:
        return
    with contextlib.suppress(MinzhengError):
        evaluate(pack, h, ON)


# -- event lines ---------------------------------------------------------------------------------

REGISTER = [
    {"id": "h1", "members": [{"id": "a", "relation": "head", "age": 70, "monthly_income": 500}]},
    {
        "id": "h2",
        "members": [
            {"id": "a", "relation": "head", "birth_date": "1950-02-03"},
            {"id": "b", "relation": "spouse", "age": 60},
        ],
    },
]


@st.composite
def event_lines(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:  # bytes at random
        return draw(st.binary(max_size=60))
    if kind == 1:  # text at random
        return draw(st.text(max_size=60))
    event = {
        "id": draw(st.text(string.ascii_letters, min_size=1, max_size=4)),
        "household": draw(st.sampled_from(["h1", "h2", "nobody"])),
        "date": draw(st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31))).isoformat(),
        "type": draw(st.sampled_from(EVENT_TYPES)),
        "member": draw(st.sampled_from(["a", "b", "z"])),
        "monthly_income": draw(st.integers(0, 5000)),
        "amount": draw(st.integers(0, 50000)),
        "grade": draw(st.integers(1, 4)),
        "needs": [],
        "changes": {"lives_alone": True},
    }
    for _ in range(draw(st.integers(0, 3))):
        event[draw(st.sampled_from([*event, "extra"]))] = draw(json_values)
    text = json.dumps(event, ensure_ascii=draw(st.booleans()))
    if kind == 3:
        text = text.replace("5", "9" * draw(st.sampled_from([1, 30, 5000])), 1)
    return text


@FEW
@given(st.lists(event_lines(), min_size=1, max_size=25), st.sampled_from([1, 8]))
def test_event_lines_are_applied_or_skipped_never_a_crash(pack, lines, window):
    monitor = Monitor(pack, [parse_household(h) for h in REGISTER], window=window)
    records: list = []
    summary = monitor.run(lines, records.append)["summary"]
    assert summary["events"] == summary["applied"] + summary["skipped"]
    assert summary["events"] == sum(1 for line in lines if line.strip())
    assert not summary["skipped_by_kind"].get("internal"), summary["errors"]


# -- pack YAML and expression text -----------------------------------------------------------------

YAML_BITS = ["[", "]", "{", "}", ":", "- ", "? ", "&a ", "*a", "!!python/object ", "1:30", "yes",
             "1e26", "\t", "'", '"', "#", "\n", "  ", "value: ", "since: ", "type: bool"]  # fmt: skip


def _load(folder_files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in folder_files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            pack = load_pack(tmp)
        except MinzhengError:
            return
        with contextlib.suppress(MinzhengError):
            evaluate(pack, parse_household(REGISTER[1]), ON)


@FEW
@given(
    st.sampled_from(["parameters.yaml", "variables.yaml", "programs.yaml", "pack.yaml"]),
    st.integers(0, 10_000),
    st.lists(st.sampled_from(YAML_BITS) | st.text(max_size=3), max_size=6),
)
def test_mutated_pack_yaml_loads_or_raises_a_pack_error(name, where, bits):
    pack_files = files()
    text = pack_files[name]
    cut = where % (len(text) + 1)
    pack_files[name] = text[:cut] + "".join(bits) + text[cut:]
    _load(pack_files)


EXPR_BITS = ["size", "income", "per_head", "p.dibao.standard", "m.age", "members", "for m in",
             "sum(", "any(", "max(", ")", "(", "+", "-", "*", "/", "//", "**", "<", "==", "and",
             "not", "if", "else", "1e-999999999", "10**999", "0", "3", "'x'", "[", "]", ",",
             "__class__", "lambda", "import", ".", "programs.dibao.eligible", "in", "True"]  # fmt: skip


@FEW
@given(st.lists(st.sampled_from(EXPR_BITS) | st.text(max_size=4), min_size=1, max_size=10))
def test_expression_text_is_checked_or_refused(parts):
    text = " ".join(parts)
    variables = (
        "variables:\n  income:\n    label: {zh: 收入, en: Income}\n    type: money\n"
        "    formula: sum(m.monthly_income for m in members)\n"
        "  per_head:\n    label: {zh: 人均, en: Per head}\n    type: money\n"
        f"    formula: {json.dumps(text)}\n"
    )
    _load(files(**{"variables.yaml": variables}))


# -- register bytes --------------------------------------------------------------------------------


@FEW
@given(st.lists(st.binary(max_size=40) | st.builds(json.dumps, json_values), max_size=8))
def test_register_bytes_give_households_or_problems(tmp_path_factory, pieces):
    path = tmp_path_factory.mktemp("reg") / "r.jsonl"
    good = json.dumps(REGISTER[0]).encode()
    path.write_bytes(
        b"\n".join(
            [
                good,
                *(
                    p if isinstance(p, bytes) else p.encode("utf-8", "surrogatepass")
                    for p in pieces
                ),
            ]
        )
    )
    problems: list[str] = []
    try:
        got = list(iter_register(path, problems))
    except MinzhengError:
        return
    assert got[0].id == "h1"
    assert all("\n" not in p.split(":", 1)[0] for p in problems)


# -- one answer on every path -----------------------------------------------------------------------


def _eligible(evaluation) -> frozenset[str]:
    return frozenset(p for p, o in evaluation.programs.items() if o.status is Status.eligible)


_SHAPED: dict[str, st.SearchStrategy] = {}


@pytest.fixture(scope="module", params=["monitorpack", "huzhou"])
def any_pack(request, pack):
    """The monitor's test pack (alerts, a standard change) and a shipped city pack."""
    return pack if request.param == "monitorpack" else load_pack(request.param)


@FEW
@given(data=st.data())
def test_eval_batch_diff_and_monitor_agree(any_pack, data):
    from minzheng_rules.analysis._reform import Scenario, reform_impact
    from minzheng_rules.backends.vectorized._engine import VectorizedPack
    from minzheng_rules.model._convert import households_to_frames

    pack = any_pack
    shaped = _SHAPED.setdefault(pack.id, st.lists(households(pack, ON), min_size=1, max_size=6))
    hs = data.draw(shaped)
    hs = [Household.model_validate({**h.model_dump(), "id": f"h{i}"}) for i, h in enumerate(hs)]
    evals = [evaluate(pack, h, ON) for h in hs]
    # batch: the vectorized backend on the same households
    frame = VectorizedPack(pack, ON).evaluate(*households_to_frames(hs)).frame
    for ev, row in zip(evals, frame.iter_rows(named=True), strict=True):
        for pid, o in ev.programs.items():
            code = {Status.eligible: 2, Status.undetermined: 1, Status.ineligible: 0}[o.status]
            assert row[f"{pid}_status"] == code, (pid, ev.household)
            if o.status is Status.eligible and o.unit.startswith("CNY"):
                assert row[f"{pid}_amount"] == int(o.to_dict()["amount"].replace(".", ""))
    # diff: the same scenario on both sides counts the same eligible households
    impact = reform_impact(hs, Scenario.of(pack, ON), Scenario.of(pack, ON))
    for pid, p in impact.programs.items():
        assert p.eligible_before == sum(1 for ev in evals if pid in _eligible(ev))
        assert p.gained == p.lost == 0
    # the monitor: after a tick on the date, each household's programs are eval's
    lines = [
        json.dumps({"id": f"t{i}", "household": h.id, "date": ON.isoformat(), "type": "tick"})
        for i, h in enumerate(hs)
    ]
    for window in (1, 100):
        monitor = Monitor(pack, hs, window=window)
        summary = monitor.run_events(read_events(lines), lambda r: None)["summary"]
        assert summary["applied"] == len(hs), summary["errors"]
        for h, ev in zip(hs, evals, strict=True):
            assert monitor.states[h.id].eligible == _eligible(ev)
