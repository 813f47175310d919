"""The ``minzheng`` command line. Each capability registers its commands in its own module.

``minzheng batch`` and ``minzheng synth`` import only their own module (start-up time: the
other commands' modules, the monitor's above all, cost a tenth of a second); any other
command, ``--help`` or ``app`` imported from here registers them all."""

from __future__ import annotations

import importlib
import sys
from typing import Any

_MODULES = ("batch", "diff", "docs", "evaluate", "monitor", "packs", "plan")
# commands whose module registers two or more (so Typer keeps the group of subcommands)
_OWN_MODULE = {"batch": "batch", "synth": "batch"}

__all__ = ["app", "main"]  # noqa: F822 (app comes from __getattr__)


def _register(modules: tuple[str, ...]) -> Any:
    for name in modules:
        importlib.import_module(f"minzheng_rules.cli.{name}")
    from minzheng_rules.cli.app import app

    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _register(_MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:  # pragma: no cover - console entry
    first = sys.argv[1] if len(sys.argv) > 1 else ""
    own = _OWN_MODULE.get(first)
    _register((own,) if own else _MODULES)()


if __name__ == "__main__":  # pragma: no cover
    main()
