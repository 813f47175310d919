"""A monitor killed with SIGKILL at any point and resumed from its checkpoint writes exactly the
records of a run never interrupted, byte for byte (single process and ``--workers 2``); its
workers die with it and no temporary folder stays behind."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minzheng_rules.cli.main import app
from minzheng_rules.monitor import _checkpoint as C
from minzheng_rules.synth import _events as synthetic
from test_monitor_pack import write_monitor_pack

runner = CliRunner()
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    hs = list(synthetic.register(200, seed=5))
    register = folder / "register.jsonl"
    register.write_text("".join(json.dumps(h) + "\n" for h in hs), encoding="utf-8")
    events = folder / "events.jsonl"
    lines = list(synthetic.events(hs, 3000, seed=6, bad_share=0.03))
    events.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return write_monitor_pack(folder / "monitorpack"), register, events


def _args(files, out, *extra):
    pack, register, events = files
    return ["monitor", str(events), "-r", str(register), "-p", str(pack), "-o", str(out), *extra]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(files, out, tmp, extra):
    env = {**os.environ, "PYTHONPATH": SRC, "TMPDIR": str(tmp)}
    return subprocess.Popen(
        [sys.executable, "-m", "minzheng_rules.cli.main", *_args(files, out, *extra)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill_when(proc, out: Path, size: int, workers: int) -> list[int]:
    """SIGKILL the run once ``out`` holds ``size`` bytes (or it ended); its workers' pids."""
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        seen.update(_children(proc.pid))
        if out.exists() and out.stat().st_size >= size and len(seen) >= workers - 1:
            break
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    return sorted(seen)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    "extra",
    [
        ["--window", "1"],
        ["--window", "100"],
        ["--workers", "2", "--window", "100"],
    ],
    ids=["live", "windowed", "workers"],
)
def test_killed_and_resumed_runs_write_what_an_uninterrupted_run_writes(files, tmp_path, extra):
    expected_path = tmp_path / "expected.jsonl"
    r = runner.invoke(app, _args(files, expected_path, "--quiet"))
    assert r.exit_code == 0, r.output
    expected = expected_path.read_bytes()
    assert expected.count(b"\n") > 500
    out, ck, tmp = tmp_path / "out.jsonl", tmp_path / "run.ckpt", tmp_path / "tmp"
    tmp.mkdir()
    run = [*extra, "--quiet", "--checkpoint", str(ck), "--checkpoint-every", "150", "--resume"]
    workers = 2 if "--workers" in extra else 0
    kills = 0
    # killed before anything was written, then at a quarter, half and most of the records
    for share in (0.0, 0.25, 0.5, 0.9):
        proc = _start(files, out, tmp, run)
        pids = _kill_when(proc, out, int(len(expected) * share) + 1, workers)
        kills += proc.returncode == -signal.SIGKILL
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in pids), "a worker outlived its parent"
    assert kills >= 3
    assert ck.exists()
    proc = _start(files, out, tmp, run)
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr.decode()
    assert out.read_bytes() == expected
    assert not ck.exists()  # a finished run removes its checkpoint (and the workers' snapshots)
    assert not list(tmp.iterdir()), "a temporary folder stayed behind"
    assert not [p for p in tmp_path.iterdir() if "run.ckpt" in p.name]


def test_resume_refuses_an_edited_events_file(files, tmp_path):
    from minzheng_rules import load_pack
    from minzheng_rules.monitor import Monitor

    pack, register, events = files
    copy = tmp_path / "events.jsonl"
    copy.write_bytes(events.read_bytes())
    out, ck = tmp_path / "out.jsonl", tmp_path / "run.ckpt"
    with open(copy, "rb") as f:
        lines = C.Lines(f)
        for _ in zip(range(10), lines, strict=False):
            pass
        lines.commit(10)
    out.write_text("")
    C.write_atomic(
        ck,
        {
            "version": C.VERSION,
            "seq": 1,
            "workers": 1,
            "horizon": None,
            "position": lines.position(),
            "out_offset": 0,
            "monitor": Monitor(load_pack(pack), []).snapshot(),
        },
    )
    copy.write_bytes(copy.read_bytes().replace(b'"e1"', b'"E1"', 1))
    args = ["monitor", str(copy), "-r", str(register), "-p", str(pack), "-o", str(out)]
    r = runner.invoke(app, [*args, "--checkpoint", str(ck), "--resume"])
    assert r.exit_code == 2
    assert "not those the checkpoint read" in r.output


def test_a_damaged_checkpoint_is_a_one_line_error(files, tmp_path):
    out, ck = tmp_path / "out.jsonl", tmp_path / "run.ckpt"
    ck.write_bytes(C.MAGIC + b"\x80\x05garbage")
    r = runner.invoke(app, _args(files, out, "--checkpoint", str(ck), "--resume"))
    assert r.exit_code == 2
    assert "damaged checkpoint" in r.output
    ck.write_bytes(b"cos\nsystem\n(S'echo hi'\ntR.")  # not ours: never unpickled
    r = runner.invoke(app, _args(files, out, "--checkpoint", str(ck), "--resume"))
    assert r.exit_code == 2 and "not a monitor checkpoint" in r.output


def test_the_unpickler_rebuilds_no_callable(tmp_path):
    ck = tmp_path / "c"
    ck.write_bytes(C.MAGIC + b"cos\nsystem\n(S'echo hi'\ntR.")
    with pytest.raises(C.CheckpointError, match=r"does not hold os\.system"):
        C.read(ck)


def test_register_out_is_the_register_after_the_events(files, tmp_path):
    from minzheng_rules import load_pack
    from minzheng_rules.monitor import Monitor, load_register

    pack, register, events = files
    single, sharded = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    for target, extra in ((single, []), (sharded, ["--workers", "2"])):
        r = runner.invoke(
            app,
            _args(files, tmp_path / "o.jsonl", "--quiet", "--register-out", str(target), *extra),
        )
        assert r.exit_code == 0, r.output
    assert single.read_bytes() == sharded.read_bytes()
    households, problems = load_register(single)
    assert not problems
    original, _ = load_register(register)
    assert list(households) == list(original)  # register order
    monitor = Monitor(load_pack(pack), original.values())
    monitor.run(events.read_text().splitlines(), lambda r: None)
    assert households == {hid: s.household for hid, s in monitor.states.items()}
    assert households != original  # the events changed some households


def test_events_beyond_the_horizon_are_refused_with_their_line(files, tmp_path):
    pack, register, _events = files
    hid = json.loads(register.read_text().splitlines()[0])["id"]
    far = tmp_path / "far.jsonl"
    far.write_text(
        json.dumps({"id": "x1", "household": hid, "date": "2204-01-01", "type": "tick"})
        + "\n"
        + json.dumps({"id": "x2", "household": hid, "date": "2024-03-01", "type": "tick"})
        + "\n"
    )
    out = tmp_path / "o.jsonl"
    r = runner.invoke(
        app, ["monitor", str(far), "-r", str(register), "-p", str(pack), "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "far.jsonl:1: event 'x1' is dated 2204-01-01, after the horizon" in r.output
    summary = json.loads(out.read_text().splitlines()[-1])["summary"]
    assert summary["skipped_by_kind"] == {"beyond_horizon": 1}
    assert summary["applied"] == 1  # the next event of the household is not out of order
    r = runner.invoke(
        app,
        [
            "monitor",
            str(far),
            "-r",
            str(register),
            "-p",
            str(pack),
            "-o",
            str(out),
            "--horizon-days",
            "100000",
        ],
    )
    assert json.loads(out.read_text().splitlines()[-1])["summary"]["skipped_by_kind"] == {
        "out_of_order": 1
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_on_workers_exits_with_one_line(files, tmp_path):
    pack, register, events = files
    out, tmp = tmp_path / "out.jsonl", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": SRC, "TMPDIR": str(tmp)}
    args = ["monitor", "-", "-r", str(register), "-p", str(pack), "-o", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "minzheng_rules.cli.main", *args, "--quiet"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert proc.stdin is not None
    proc.stdin.write(events.read_bytes())  # a live feed that stays open
    proc.stdin.flush()
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.update(_children(proc.pid))
        time.sleep(0.01)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: to the parent and its workers
    with contextlib.suppress(subprocess.TimeoutExpired):
        # the kernel may hand SIGINT to one of the parent's library threads while its main
        # thread waits in read() on the open feed: Python runs the handler once that read
        # returns, so the feed's next line (or its end: communicate closes it) delivers it
        proc.wait(timeout=5)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the monitor did not stop on Ctrl-C") from None
    text = stderr.decode()
    assert proc.returncode == 130, text
    assert text.strip().splitlines()[-1] == "interrupted (Ctrl-C)"
    assert "Traceback" not in text
    time.sleep(0.2)
    assert len(seen) == 2 and not any(_alive(p) for p in seen)
    assert not list(tmp.iterdir())


def test_out_or_checkpoint_on_an_input_is_refused(files):
    pack, register, events = files
    before = (register.read_bytes(), events.read_bytes())
    base = ["monitor", str(events), "-r", str(register), "-p", str(pack)]
    for extra in (["-o", str(register)], ["-o", str(events)]):
        r = runner.invoke(app, [*base, *extra])
        assert r.exit_code == 2 and "is the" in r.output
    r = runner.invoke(
        app, [*base, "-o", str(events.with_name("o.jsonl")), "--checkpoint", str(register)]
    )
    assert r.exit_code == 2 and "is the register file" in r.output
    assert (register.read_bytes(), events.read_bytes()) == before


def test_resume_with_another_number_of_workers_is_refused(files, tmp_path):
    out, ck = tmp_path / "out.jsonl", tmp_path / "run.ckpt"
    out.write_text("")
    C.write_atomic(ck, {"version": C.VERSION, "workers": 2, "seq": 1})
    r = runner.invoke(app, _args(files, out, "--checkpoint", str(ck), "--resume"))
    assert r.exit_code == 2 and "taken with --workers 2, not 1" in r.output
