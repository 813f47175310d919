"""Event-driven monitoring and early warning (主动发现, 监测预警).

A stream of events about households on a register (income changes, medical bills, deaths,
births, disability assessments, home-visit assessments, ticks) is checked against a pack's
``alerts:`` rules; after each event the household is re-evaluated with the pack to name the
programs it became eligible for or stopped being eligible for, and its visiting tier.

Two engines answer the same rules: ``python`` (the reference backend's closures) and
``durable`` (durable_rules, an optional extra: ``pip install 'minzheng-rules[monitor]'``).

    from minzheng_rules import load_pack
    from minzheng_rules.monitor import Monitor, load_register

    households, problems = load_register("register.jsonl")
    monitor = Monitor(load_pack("huzhou"), households.values(), engine="python")
    summary = monitor.run(open("events.jsonl"), write=print)

Events are read a window at a time and each window's households are judged together (the
vectorized backend); an event that cannot apply (unknown household or member, out of order,
replayed, past the horizon) is skipped with its reason and counted. :class:`ShardedMonitor`
splits the households over several worker processes with the same output; ``minzheng monitor``
adds durable checkpoints to resume from. :class:`PackCannotEvaluate` is raised when the pack
fails on every event. Public: the names below; the modules are the implementation.
"""

from __future__ import annotations

from minzheng_rules.monitor._alerts import AlertSet, CompiledAlert
from minzheng_rules.monitor._engines import ENGINES, EngineUnavailableError, make_engine
from minzheng_rules.monitor._events import EVENT_TYPES, EventError, parse_event, read_events
from minzheng_rules.monitor._records import Record, render
from minzheng_rules.monitor._register import iter_register, load_register
from minzheng_rules.monitor._runner import Monitor, PackCannotEvaluate
from minzheng_rules.monitor._sharded import ShardedMonitor

__all__ = [
    "ENGINES",
    "EVENT_TYPES",
    "AlertSet",
    "CompiledAlert",
    "EngineUnavailableError",
    "EventError",
    "Monitor",
    "PackCannotEvaluate",
    "Record",
    "ShardedMonitor",
    "iter_register",
    "load_register",
    "make_engine",
    "parse_event",
    "read_events",
    "render",
]
