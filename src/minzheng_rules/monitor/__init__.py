"""Event-driven monitoring and early warning (主动发现, 监测预警).

A stream of events about households on a register (income changes, medical bills, deaths,
births, disability assessments, home-visit assessments, ticks) is checked against a pack's
``alerts:`` rules; after each event the household is re-evaluated with the pack to name the
programs it became eligible for or stopped being eligible for, and its visiting tier.

Two engines answer the same rules: ``python`` (the reference backend's closures) and
``durable`` (durable_rules, an optional extra: ``pip install 'minzheng-rules[monitor]'``).

    from minzheng_rules.monitor import Monitor
    monitor = Monitor(load_pack("zhejiang"), households, engine="python")
    summary = monitor.run(open("events.jsonl"), write=print)

The run, module by module:

- ``runner``: :class:`Monitor`, the run loop; prepares and commits one event at a time.
- ``window``: events a window at a time, their households judged together (vectorized).
- ``pending``: an event prepared, waiting for its household's programs to be judged.
- ``checks``: why an event is refused (horizon, unknown household, order, a failure).
- ``records``: the typed output records and :func:`render`, the JSON the monitor writes.
- ``events``, ``state``, ``binding``, ``alerts``, ``engines`` (``durable_engine``, ``formula``):
  the events read, a household's state, a pack bound to a date, the alert rules and the engines
  that fire them.
- ``vectorized``, ``checkpoint``, ``sharded``, ``output``, ``register``: the columnar judge,
  durable checkpoints, several worker processes, JSON Lines, the register read.
"""

from __future__ import annotations

from minzheng_rules.monitor._alerts import AlertSet, CompiledAlert
from minzheng_rules.monitor._engines import ENGINES, EngineUnavailableError, make_engine
from minzheng_rules.monitor._events import EVENT_TYPES, EventError, parse_event, read_events
from minzheng_rules.monitor._records import Record, render
from minzheng_rules.monitor._register import iter_register, load_register
from minzheng_rules.monitor._runner import Monitor

__all__ = [
    "ENGINES",
    "EVENT_TYPES",
    "AlertSet",
    "CompiledAlert",
    "EngineUnavailableError",
    "EventError",
    "Monitor",
    "Record",
    "iter_register",
    "load_register",
    "make_engine",
    "parse_event",
    "read_events",
    "render",
]
