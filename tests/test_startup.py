"""Start-up of ``minzheng batch`` (issue 19): it imports only its own command module, and the
full command line is still there for every other command and for ``app``."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
sys.argv = ["minzheng", *sys.argv[1:]]
from minzheng_rules.cli.main import main
try:
    main()
except SystemExit:
    pass
print("MONITOR" if "minzheng_rules.cli._monitor" in sys.modules else "NO-MONITOR")
"""


def _run(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_batch_imports_only_its_own_command_module():
    out = _run("batch", "--help")
    assert "Evaluate a whole register" in out
    assert out.strip().endswith("NO-MONITOR")


def test_other_commands_and_the_command_list_register_everything():
    listing = _run("--help")
    for command in ("batch", "synth", "diff", "eval", "monitor", "packs", "validate", "plan"):
        assert f" {command} " in listing
    assert listing.strip().endswith("MONITOR") and "NO-MONITOR" not in listing
    assert "monitor" in _run("monitor", "--help")


def test_app_imported_from_main_has_every_command():
    from minzheng_rules.cli.main import app

    names = {c.name for c in app.registered_commands}
    assert {"batch", "synth", "diff", "eval", "monitor", "packs", "plan"} <= names


def test_one_household_needs_no_polars():
    """The core install has no Polars: evaluating one household must not import it."""
    script = (
        "import sys, datetime as dt\n"
        "from minzheng_rules import evaluate, load_household, load_pack\n"
        "h = load_household('examples/households/huzhou-three-people.yaml')\n"
        "r = evaluate(load_pack('huzhou'), h, dt.date(2024, 6, 1))\n"
        "print(r.programs['dibao'].amount, 'polars' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1435.00", "False"]


GC_SCRIPT = """
import gc, sys
import minzheng_rules.io._batch as b
seen = []
run = b.Batch.run
def spy(self, *args, **kwargs):
    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
    return run(self, *args, **kwargs)
b.Batch.run = spy
sys.argv = ["minzheng", *sys.argv[1:]]
from minzheng_rules.cli.main import main
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
import os
print(seen, gc.get_freeze_count() > 0, os.environ["OPENBLAS_NUM_THREADS"])
"""


def test_batch_runs_with_the_collector_on_and_start_up_frozen(tmp_path):
    """``main`` pauses the garbage collector for start-up only: a batch's run makes garbage (a
    long one, a lot), so the collector must be on again when it begins, with what start-up made
    frozen; at exit what is alive is frozen too. The results are all there. (And NumPy's
    OpenBLAS, loaded by the batch, starts no pool of threads: minzheng does no linear algebra.)"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("OPENBLAS_NUM_THREADS", None)
    reg, out = tmp_path / "reg", tmp_path / "out.parquet"
    synth = ["synth", "-n", "3", "--pack", "huzhou", "--seed", "1", "--date", "2024-06-01"]
    subprocess.run(
        [sys.executable, "-m", "minzheng_rules.cli.main", *synth, "--out", str(reg)],
        env=env,
        check=True,
        capture_output=True,
    )
    batch = ["batch", str(reg), str(out), "--pack", "huzhou", "--date", "2024-06-01"]
    done = subprocess.run(
        [sys.executable, "-c", GC_SCRIPT, *batch], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[(True, True)] True 1"
    import polars as pl

    assert pl.read_parquet(out).height == 3


def test_resume_without_pause_leaves_the_callers_collector_alone():
    """The typer ``app`` run in-process (tests, a notebook) never pauses the collector; the
    batch command's ``resume`` must then change nothing."""
    import gc

    from minzheng_rules.cli import _startup

    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        _startup.resume()
        assert not gc.isenabled() and gc.get_freeze_count() == frozen
    finally:
        gc.enable()
    _startup.resume()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
