"""The monitor's register: the columnar form gives the same alerts as JSON Lines, and without the
batch extra the monitor still runs, one event at a time."""

import json
import sys

from typer.testing import CliRunner

from minzheng_rules import load_pack
from minzheng_rules.cli.main import app
from minzheng_rules.io._formats import write_register
from minzheng_rules.model._convert import households_to_frames
from minzheng_rules.model._household import parse_household
from minzheng_rules.monitor import Monitor
from minzheng_rules.synth import _events as synthetic
from test_monitor_pack import write_monitor_pack

runner = CliRunner()


def _alerts(args):
    r = runner.invoke(app, ["monitor", *args])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    summary = json.loads(lines[-1])["summary"]
    return [json.loads(line) for line in lines[:-1]], summary


def test_a_columnar_register_gives_the_same_alerts_as_json_lines(tmp_path):
    pack = write_monitor_pack(tmp_path / "monitorpack")
    hs = list(synthetic.register(60, seed=61))
    jsonl = tmp_path / "register.jsonl"
    jsonl.write_text("\n".join(json.dumps(h) for h in hs) + "\n", encoding="utf-8")
    frames = households_to_frames(parse_household(h) for h in hs)
    columnar = tmp_path / "register"
    write_register(columnar, [frames], "parquet")
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(synthetic.events(hs, 400, seed=62)) + "\n", encoding="utf-8")
    common = [str(events), "--pack", str(pack)]
    from_lines, s1 = _alerts([*common, "--register", str(jsonl)])
    from_tables, s2 = _alerts([*common, "--register", str(columnar)])
    assert s1["households"] == s2["households"] == 60 and s1["records"] > 0
    assert from_lines == from_tables


def test_without_the_batch_extra_events_are_judged_one_at_a_time(tmp_path, monkeypatch):
    pack = load_pack(write_monitor_pack(tmp_path / "monitorpack"))
    hs = [parse_household(h) for h in synthetic.register(20, seed=63)]
    lines = list(synthetic.events([h.model_dump() for h in hs], 80, seed=64))
    with_extra = Monitor(pack, hs, window=50)
    want: list = []
    with_extra.run(lines, want.append)
    monkeypatch.setitem(sys.modules, "minzheng_rules.monitor._vectorized", None)  # import fails
    without = Monitor(pack, hs, window=50)
    assert without.window == 1 and "batch extra" in (without.unbatched_reason or "")
    got: list = []
    without.run(lines, got.append)
    assert got == want and len(want) > 1
