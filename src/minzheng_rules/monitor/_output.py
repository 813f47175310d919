"""The monitor's JSON Lines: one compact JSON object a line, in UTF-8.

Records are most of a busy run's output, and ``json.dumps`` took about 7% of a worker's time on
the 1,000,000-event benchmark; orjson writes the same objects several times as fast. Every
writer of the monitor's lines (the command line, the sharded workers and their parent, the
benchmark) goes through :func:`json_line`, so a single run and a sharded one write the same
bytes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def json_line(obj: Any) -> bytes:
    """``obj`` as one line of compact JSON (``{"a":1,"b":"文"}``), newline included.

    What orjson refuses is written by ``json.dumps`` in the same compact form (see
    :func:`_compact`), so nothing stops a run: an integer beyond 64 bits a pack computed, or a
    lone surrogate (an event line may hold ``"\\ud800"``, and its error report quotes it)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return _compact(obj).encode("utf-8") + b"\n"


def _compact(obj: Any) -> str:
    """``json.dumps``' compact form with text as it is, except a lone surrogate, which UTF-8
    cannot hold: written as its JSON escape (``\\ud800``)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
