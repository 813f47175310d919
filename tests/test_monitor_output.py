"""The monitor's JSON Lines (monitor.output.json_line): compact JSON that reads back as the
object written, whatever it holds, including what orjson refuses."""

import json

from hypothesis import given
from hypothesis import strategies as st

from minzheng_rules.monitor._output import json_line

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(st.characters(exclude_categories=())),  # lone surrogates included
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(_json)
def test_a_line_reads_back_as_the_object(obj):
    line = json_line(obj)
    assert line.endswith(b"\n") and b"\n" not in line[:-1]
    assert json.loads(line.decode("utf-8")) == obj


def test_lines_are_compact_utf8_in_key_order():
    record = {
        "event": "e1",
        "label": {"zh": "救助资格变化", "en": "Programs changed"},
        "n": [1, None],
    }
    assert (
        json_line(record)
        == (
            '{"event":"e1","label":{"zh":"救助资格变化","en":"Programs changed"},"n":[1,null]}\n'
        ).encode()
    )


def test_what_orjson_refuses_is_written_the_same_way():
    big = 2**70
    assert json_line({"big": big, "zh": "文"}) == f'{{"big":{big},"zh":"文"}}\n'.encode()
    assert json_line({"id": "e\ud800", "zh": "文"}) == '{"id":"e\\ud800","zh":"文"}\n'.encode()


def test_a_record_renders_to_the_line_the_monitor_writes():
    """A typed record (monitor.records) written as the monitor writes it: keys in the order of
    the records before they were typed, dates as ISO text, ``phase_out_until`` only when a
    program was lost, and each reason in its own shape (written out by hand here)."""
    import datetime as dt

    from minzheng_rules.monitor._records import (
        BUILTIN_ALERTS,
        EventResult,
        PhaseOutEnded,
        ProgramChange,
        Record,
        render,
    )

    day = dt.date(2024, 3, 5)
    lost = EventResult(
        event="e1",
        line=7,
        household="h1",
        date=day,
        type="income_change",
        tier="normal",
        newly_eligible=[],
        no_longer_eligible=["dibao"],
        phase_out_until={"dibao": dt.date(2024, 9, 5)},
    )
    change = ProgramChange(
        program="dibao",
        label=BUILTIN_ALERTS["eligibility_changed"],
        now="ineligible",
        conditions={"income": False},
    )
    record = Record(
        lost, "eligibility_changed", BUILTIN_ALERTS["eligibility_changed"], None, [change]
    )
    assert (
        json_line(render(record))
        == (
            '{"event":"e1","line":7,"household":"h1","date":"2024-03-05","type":"income_change",'
            '"alert":"eligibility_changed","label":{"zh":"救助资格变化（主动发现/渐退）","en":"Programs changed"},'
            '"alert_tier":null,"tier":"normal","newly_eligible":[],"no_longer_eligible":["dibao"],'
            '"phase_out_until":{"dibao":"2024-09-05"},"reasons":[{"program":"dibao","label":'
            '{"zh":"救助资格变化（主动发现/渐退）","en":"Programs changed"},"now":"ineligible",'
            '"conditions":{"income":false}}]}\n'
        ).encode()
    )
    ended = EventResult(
        event="e2",
        line=9,
        household="h1",
        date=day,
        type="tick",
        tier="high",
        newly_eligible=[],
        no_longer_eligible=[],
        phase_out_until=None,
    )
    record = Record(
        ended,
        "phase_out_ended",
        BUILTIN_ALERTS["phase_out_ended"],
        None,
        [PhaseOutEnded("dibao", day)],
    )
    out = render(record)
    assert "phase_out_until" not in out
    assert out["reasons"] == [{"program": "dibao", "phase_out_ended_before": "2024-03-05"}]
    assert out["tier"] == "high" and list(out)[-1] == "reasons"
    out["reasons"][0]["program"] = "changed"  # a rendered record is new: the next is not touched
    assert render(record)["reasons"][0]["program"] == "dibao"
