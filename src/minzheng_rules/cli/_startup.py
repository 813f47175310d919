"""The garbage collector around a command's start-up and its exit (issue 19: start-up time).

Start-up (Typer, Polars, NumPy, PyArrow, pydantic's models, the pack) makes some 100,000
objects that live until the process ends and no garbage; the collector would walk them again
and again meanwhile, and at exit once more in its full collections. So ``main`` pauses it
before the command's modules are imported, the command resumes it once its start-up is done
(freezing what exists then: out of the collector's reach, never freed early), and at exit what
is still alive is frozen too. Together some 0.1 s of every ``minzheng batch``.

Kept in its own module, light and imported once: ``python -m minzheng_rules.cli.main`` runs
``main`` from a module named ``__main__``, so state kept there would not be the state a
command sees."""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Start-up begins: no collections until :func:`resume`."""
    global _paused
    _paused = True
    gc.disable()


def resume() -> None:
    """Start-up is done: what exists now lives on, so it is frozen, and the collector is on
    again for the command's work. Does nothing unless :func:`pause` was called (a command run
    in-process, from ``app`` in a test, leaves the caller's collector as it was)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def before_exit() -> None:
    """The command is done and the process ends next: freezing what is still alive spares the
    interpreter's exit its full collections. Nothing is left undone: the command closed its
    files (a batch's results are renamed into place before it returns), and the interpreter
    still flushes stdout and stderr, runs ``atexit`` and frees every object by reference
    counting; only reference cycles alive now are left for the OS to reclaim with the
    process."""
    gc.freeze()
