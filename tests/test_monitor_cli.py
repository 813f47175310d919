"""``minzheng monitor``: alerts as JSON Lines with a summary, skipped lines on stderr, clear
failures for bad options."""

import json

import pytest
from typer.testing import CliRunner

from minzheng_rules.cli.main import app
from minzheng_rules.synth import _events as synthetic
from test_monitor_pack import write_monitor_pack

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    hs = list(synthetic.register(40, seed=51))
    register = tmp_path / "register.jsonl"
    register.write_text(
        "\n".join(json.dumps(h) for h in hs) + '\n{"id": "bad", "members": []}\n', encoding="utf-8"
    )
    lines = list(synthetic.events(hs, 300, seed=52))
    lines.insert(10, "{oops")
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return write_monitor_pack(tmp_path / "monitorpack"), register, events


def test_monitor_writes_alerts_then_a_summary(files, tmp_path):
    pack, register, events = files
    out = tmp_path / "alerts.jsonl"
    r = runner.invoke(
        app,
        [
            "monitor",
            str(events),
            "--register",
            str(register),
            "--pack",
            str(pack),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    summary = records.pop()["summary"]
    assert summary["events"] == 301 and summary["skipped_by_kind"]["malformed"] == 1
    assert summary["households"] == 40 and summary["records"] == len(records) > 0
    for rec in records:
        assert {
            "event",
            "household",
            "alert",
            "tier",
            "reasons",
            "newly_eligible",
            "no_longer_eligible",
        } <= set(rec)
    assert f"{events}:11: not valid JSON" in r.stderr
    assert "register.jsonl:41" in r.stderr  # the bad household, skipped
    assert "301 events" in r.stderr


def test_monitor_to_stdout_matches_the_file(files, tmp_path):
    pack, register, events = files
    r = runner.invoke(
        app, ["monitor", str(events), "-r", str(register), "-p", str(pack), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    assert "not valid JSON" not in r.stderr
    lines = r.stdout.strip().splitlines()
    assert json.loads(lines[-1])["summary"]["events"] == 301


def test_monitor_one_event_at_a_time_writes_the_same_output(files, tmp_path):
    pack, register, events = files
    outs = []
    for i, options in enumerate((["--window", "1"], ["--window", "50"], ["--workers", "2"])):
        out = tmp_path / f"alerts-{i}.jsonl"
        args = ["monitor", str(events), "-r", str(register), "-p", str(pack), "-o", str(out)]
        r = runner.invoke(app, [*args, *options])
        assert r.exit_code == 0 and "not valid JSON" in r.stderr, r.output
        assert "skipped household" in r.stderr, r.output  # the register's bad row
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1] == outs[2] and outs[0].count("\n") > 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "drools"], "'drools' is not one of 'python', 'durable'"),  # Typer's
        (["--shards", "2000"], "--shards must be 1 to 1024"),
        (["--window", "0"], "--window must be 1 to 1,000,000"),
        (["--workers", "0"], "--workers must be 1 to 64"),
        (["--pack", "atlantis"], "unknown pack"),
    ],
)
def test_monitor_bad_options_exit_2(files, args, message):
    pack, register, events = files
    base = ["monitor", str(events), "--register", str(register), "--pack", str(pack)]
    r = runner.invoke(app, base + args)
    assert r.exit_code == 2 and message in " ".join(r.stderr.replace("│", " ").split()), r.output


def test_monitor_missing_register_exits_2(files, tmp_path):
    pack, _, events = files
    r = runner.invoke(
        app, ["monitor", str(events), "-r", str(tmp_path / "none.jsonl"), "-p", str(pack)]
    )
    assert r.exit_code == 2 and "none.jsonl" in r.stderr


def test_one_event_at_a_time_from_stdin_is_a_live_feed(files, tmp_path):
    """With ``--window 1`` an event's records are on stdout as soon as the event is read, so
    the monitor can sit on a stream that never ends: only the events up to the first one with a
    record are sent, and the stream stays open while that record is awaited."""
    import os
    import select
    import subprocess
    import sys

    pack, register, events = files
    args = ["--register", str(register), "--pack", str(pack), "--window", "1", "--quiet"]
    out = tmp_path / "all.jsonl"
    assert runner.invoke(app, ["monitor", str(events), *args, "--out", str(out)]).exit_code == 0
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    lines = events.read_text(encoding="utf-8").splitlines()[: first["line"]]
    cmd = [sys.executable, "-m", "minzheng_rules.cli.main", "monitor", "-", *args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as usually run
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        proc.stdin.write("\n".join(lines) + "\n")
        proc.stdin.flush()  # ... and the stream stays open
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "the record did not come out while the stream was still open"
        assert json.loads(proc.stdout.readline()) == first
    finally:
        rest, _ = proc.communicate(timeout=120)  # closes stdin: the stream ends
    assert proc.returncode == 0
    assert "summary" in json.loads(rest.splitlines()[-1])
