"""The ``minzheng`` command line: the Typer app with every command, each from the module named
as the command (``minzheng eval`` is ``cli/_eval.py``), listed here in the order ``--help``
shows them.

A command's module is imported only when that command runs (start-up time: the monitor's
module alone costs a tenth of a second); ``--help``, an unknown word, or ``app`` imported from
here registers them all."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer

from minzheng_rules.cli import _startup

# command -> (module, function), in --help order
COMMANDS: dict[str, tuple[str, str]] = {
    "batch": ("_batch", "batch_command"),
    "synth": ("_synth", "synth_command"),
    "diff": ("_diff", "diff_command"),
    "eval": ("_eval", "eval_command"),
    "monitor": ("_monitor", "monitor_command"),
    "packs": ("_packs", "packs_command"),
    "show": ("_show", "show_command"),
    "validate": ("_validate", "validate_command"),
    "new": ("_new", "new_command"),
    "schema": ("_schema", "schema_command"),
    "test": ("_test", "test_command"),
    "plan": ("_plan", "plan_command"),
}
GROUPS: dict[str, tuple[str, str]] = {"docs": ("_docs", "docs_app")}
# commands that import their heavy modules when they run, and so end their own start-up
# (``_startup.resume``) once those are in; every other command's ends when it is registered
RESUME_ITSELF = {"batch"}

__all__ = ["COMMANDS", "app", "main"]  # noqa: F822 (app comes from __getattr__)


def build_app(only: str | None = None) -> typer.Typer:
    """The app with every command, or with ``only`` that one (and a second, so that Typer
    keeps a group of commands and the command's name on the line still means the command)."""
    app = typer.Typer(
        help="minzheng-rules: evaluate Chinese social-assistance policy packs.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    # one command comes with a companion (synth, or batch for synth: both cheap to import)
    companion = "batch" if only == "synth" else "synth"
    wanted = list(COMMANDS) if only is None else [only, companion]
    for name in COMMANDS:  # keeps the --help order
        if name in wanted:
            module, function = COMMANDS[name]
            command = getattr(importlib.import_module(f"minzheng_rules.cli.{module}"), function)
            app.command(name)(command)
    for name, (module, attr) in GROUPS.items():
        if only is None or only == name:
            group = getattr(importlib.import_module(f"minzheng_rules.cli.{module}"), attr)
            app.add_typer(group, name=name)
    return app


_APP: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    global _APP
    if name == "app":
        if _APP is None:
            _APP = build_app()
        return _APP
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:  # pragma: no cover - console entry
    first = sys.argv[1] if len(sys.argv) > 1 else ""
    known = first in COMMANDS or first in GROUPS
    # minzheng does no linear algebra: NumPy's OpenBLAS need not start a pool of threads when
    # it loads (they spin a while: 0.03 s of CPU of every batch); a value the user set is kept
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _startup.pause()
    try:
        app = build_app(first if known else None)
        if first not in RESUME_ITSELF:
            _startup.resume()
        app()
    finally:
        _startup.before_exit()


if __name__ == "__main__":  # pragma: no cover
    main()
