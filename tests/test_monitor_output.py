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
