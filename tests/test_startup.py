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
