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

    What orjson refuses is written by ``json.dumps`` in the same compact form, so nothing stops
    a run: an integer beyond 64 bits a pack computed, or a lone surrogate (an event line may
    hold ``"\\ud800"``, and its error report quotes the event's id), escaped as JSON allows."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode("utf-8") + b"\n"
        except UnicodeEncodeError:
            return json.dumps(obj, separators=(",", ":")).encode("ascii") + b"\n"
