"""Several worker processes, each watching a share of the households, write exactly the records,
skipped-event reports and summary of a single monitor: on the noisy stream of
test_monitor_window (bad lines, replays, unknown households, a standard change, birthdays) and
on lines no worker can route (not JSON, no household)."""

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minzheng_rules import load_pack, parse_household
from minzheng_rules.monitor import Monitor
from minzheng_rules.monitor._output import json_line
from minzheng_rules.monitor._sharded import (
    ShardedMonitor,
    WorkerError,
    _Merger,
    _route,
    merge_summaries,
    shard_of,
)
from test_monitor_pack import write_monitor_pack
from test_monitor_window import stream  # noqa: F401  (a fixture)


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory):
    return write_monitor_pack(tmp_path_factory.mktemp("p") / "monitorpack")


def _single(pack, hs, lines):
    out, errors = [], []
    Monitor(pack, [parse_household(h) for h in hs]).run(
        lines, lambda r: out.append(json_line(r).decode("utf-8")), errors.append
    )
    return "".join(out), errors


@pytest.fixture(scope="module")
def register(tmp_path_factory, stream):  # noqa: F811
    hs, _ = stream
    path = tmp_path_factory.mktemp("reg") / "register.jsonl"
    path.write_text("".join(json.dumps(h, ensure_ascii=False) + "\n" for h in hs), "utf-8")
    return path


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_write_what_one_monitor_writes(pack_dir, stream, register, workers):  # noqa: F811
    hs, lines = stream
    lone = '{"id": "e\\ud800", "household": "%s", "date": "2024-09-01", "type": "tick"}'
    lines = [*lines, lone % hs[0]["id"], "[1, 2]", '{"household": 7}', "\xff not json", "   "]
    expected, expected_errors = _single(load_pack(pack_dir), hs, lines)
    monitor = ShardedMonitor(pack_dir, register, workers=workers)
    try:
        out, errors = io.StringIO(), []
        summary = monitor.run(lines, out, errors.append)
    finally:
        monitor.close()
    assert out.getvalue() == expected
    assert errors == expected_errors
    assert summary["summary"]["skipped"] == len(errors) >= 10  # the front's 6, and the 4 here
    assert errors[-4]["event"] == "e\ud800"  # a lone surrogate, reported (escaped) as it came
    assert [e["line"] for e in errors[-3:]] == [len(lines) - 3, len(lines) - 2, len(lines) - 1]
    assert monitor.households == len(hs)
    shares = {shard_of(h["id"], workers) for h in hs}
    assert shares == set(range(workers))  # every worker had households to watch


def test_a_worker_that_cannot_start_says_why(register):
    with pytest.raises(WorkerError, match="pack"):
        ShardedMonitor("no-such-pack", register, workers=2)


def test_summaries_add_up_and_keep_the_first_errors_by_line():
    def part(lines, high):
        return {
            "pack": "p",
            "engine": "python",
            "households": 2,
            "households_with_events": 1,
            "events": len(lines),
            "applied": 0,
            "skipped": len(lines),
            "skipped_by_kind": {"invalid": len(lines)},
            "records": 0,
            "alerts": {"a": 1},
            "tiers": {"high": high, "normal": 0},
            "newly_eligible": {},
            "no_longer_eligible": {"x": 1},
            "errors": [{"line": n} for n in lines],
        }

    merged = merge_summaries([part(range(1, 200, 2), 1), part(range(2, 200, 2), 0)])
    assert [e["line"] for e in merged["errors"]] == list(range(1, 101))
    assert merged["events"] == 199 and merged["households"] == 4
    assert merged["alerts"] == {"a": 2} and merged["tiers"] == {"high": 1, "normal": 0}
    assert merged["no_longer_eligible"] == {"x": 2}


@settings(max_examples=300, deadline=None)
@given(
    household=st.text(st.characters(exclude_categories=()), min_size=1, max_size=12),
    ascii_only=st.booleans(),
    spaced=st.booleans(),
    workers=st.integers(2, 7),
)
def test_a_line_goes_to_the_worker_of_the_household_it_names(
    household, ascii_only, spaced, workers
):
    event = {"id": "e1", "household": household, "date": "2024-01-01", "type": "tick"}
    separators = (", ", ": ") if spaced else (",", ":")
    line = json.dumps(event, ensure_ascii=ascii_only, separators=separators)
    assert _route(line, workers) == shard_of(household, workers)
    if ascii_only:
        assert _route(line.encode("ascii"), workers) == shard_of(household, workers)


def test_a_line_naming_two_households_goes_where_json_says():
    line = '{"id": "e1", "household": "a", "date": "2024-01-01", "household": "b"}'
    assert json.loads(line)["household"] == "b"
    assert all(_route(line, w) == shard_of("b", w) for w in range(2, 9))


# -- the parent's merge while the workers write ---------------------------------------------------


def _record(line: int, i: int) -> bytes:
    return f'{line}\t{{"line": {line}, "n": {i}, "text": "低保 é"}}\n'.encode()


@settings(max_examples=60, deadline=None)
@given(
    owners=st.lists(st.integers(0, 2), min_size=1, max_size=30),
    per_line=st.lists(st.integers(0, 2), min_size=30, max_size=30),
    cuts=st.lists(st.integers(1, 40), min_size=1, max_size=60),
)
def test_records_are_written_in_stream_order_while_workers_write(
    tmp_path_factory, owners, per_line, cuts
):
    """Each line belongs to one of three workers, which writes its records (0 to 2 a line) in
    line order, in pieces cut anywhere (mid-line, mid-character); between pieces the merger
    may only write a prefix of the final output, and at the end it has written all of it."""
    folder = tmp_path_factory.mktemp("merge")
    paths = [folder / f"records-{k}.txt" for k in range(3)]
    data = [b"", b"", b""]
    expected = []
    for line, (k, count) in enumerate(zip(owners, per_line, strict=False), start=1):
        for i in range(count):
            data[k] += _record(line, i)
            expected.append(_record(line, i).split(b"\t", 1)[1].decode())
    out = io.StringIO()
    merger = _Merger(paths, out)
    sent = [0, 0, 0]
    step = 0
    while any(sent[k] < len(data[k]) for k in range(3)):
        cut = cuts[step % len(cuts)]
        k = step % 3
        step += 1
        if sent[k] >= len(data[k]):
            continue
        if sent[k] == 0 and not paths[k].exists():
            paths[k].write_bytes(b"")
        with paths[k].open("ab") as f:
            f.write(data[k][sent[k] : sent[k] + cut])
        sent[k] += cut
        merger.write_ready()
        assert "".join(expected).startswith(out.getvalue())
    merger.write_rest()
    merger.close()
    assert out.getvalue() == "".join(expected)


def test_a_record_waits_for_a_worker_that_may_still_write_an_earlier_one(tmp_path):
    paths = [tmp_path / "records-0.txt", tmp_path / "records-1.txt"]
    paths[0].write_bytes(_record(1, 0) + _record(4, 0))
    out = io.StringIO()
    merger = _Merger(paths, out)
    merger.write_ready()
    assert out.getvalue() == ""  # worker 1 has written nothing: it may have line 2 or 3
    paths[1].write_bytes(_record(2, 0))
    merger.write_ready()
    assert [json.loads(x)["line"] for x in out.getvalue().splitlines()] == [1, 2]
    with paths[1].open("ab") as f:
        f.write(_record(3, 0)[:-1])  # line 3 not finished yet
    merger.write_ready()
    assert [json.loads(x)["line"] for x in out.getvalue().splitlines()] == [1, 2]
    with paths[1].open("ab") as f:
        f.write(b"\n")
    merger.write_ready()
    merger.write_rest()
    merger.close()
    assert [json.loads(x)["line"] for x in out.getvalue().splitlines()] == [1, 2, 3, 4]


def test_records_to_a_utf8_file_keep_their_place_among_text_writes(tmp_path):
    """Into a UTF-8 file the merger writes the records' bytes as they are (no decoding): text
    written before and after them stays in its place."""
    paths = [tmp_path / "records-0.txt", tmp_path / "records-1.txt"]
    paths[0].write_bytes(_record(1, 0) + _record(3, 0))
    paths[1].write_bytes(_record(2, 0))
    target = tmp_path / "out.jsonl"
    with target.open("w", encoding="utf-8") as out:
        out.write("before\n")
        merger = _Merger(paths, out)
        merger.write_ready()
        out.write("between\n")
        merger.write_rest()
        merger.close()
        out.write("after\n")
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "before" and lines[-1] == "after"
    assert lines[3] == "between"
    assert [json.loads(x)["line"] for x in lines[1:3] + lines[4:5]] == [1, 2, 3]
    assert json.loads(lines[1])["text"] == "低保 é"
