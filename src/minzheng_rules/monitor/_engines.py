"""The pure-Python alert evaluator, and how to pick an engine by name.

Both engines answer one question per event: which of the pack's alerts fire. The Python engine
runs each rule's compiled closure on the event's context (Kleene logic: a rule fires only when
its condition is true). The durable engine (:mod:`minzheng_rules.monitor._durable_engine`) asks
durable_rules the same question; a test checks that the two agree.
"""

from __future__ import annotations

from typing import Protocol

from minzheng_rules.backends.reference._compiler import EvalContext
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.monitor._alerts import AlertSet, CompiledAlert
from minzheng_rules.monitor._binding import Binding
from minzheng_rules.monitor._events import AnyEvent

ENGINES = ("python", "durable")


class Engine(Protocol):
    name: str

    def fire(self, event: AnyEvent, ctx: EvalContext, binding: Binding) -> list[CompiledAlert]: ...

    def close(self) -> None: ...


class PythonEngine:
    """Alert rules as reference-backend closures, one call per listening rule."""

    name = "python"

    def __init__(self, alertset: AlertSet) -> None:
        self.alertset = alertset

    def fire(self, event: AnyEvent, ctx: EvalContext, binding: Binding) -> list[CompiledAlert]:
        predicates = binding.predicates
        return [
            a for a in self.alertset.by_event[event.type] if predicates[a.index](ctx, None) is True
        ]

    def close(self) -> None:
        return None


class EngineUnavailableError(MinzhengError):
    """The durable engine was asked for but durable-rules is not installed."""


def make_engine(name: str, alertset: AlertSet, shards: int = 64) -> Engine:
    """An engine by name: ``python`` or ``durable`` (needs the ``monitor`` extra)."""
    if name == "python":
        return PythonEngine(alertset)
    if name == "durable":
        try:
            from minzheng_rules.monitor._durable_engine import DurableEngine
        except ImportError as err:
            raise EngineUnavailableError(
                f"the durable engine needs durable-rules ({err}); install it with "
                "pip install 'minzheng-rules[monitor]' (it builds from source with a C compiler)"
            ) from None
        return DurableEngine(alertset, shards=shards)
    raise ValueError(f"unknown engine '{name}'; choose one of {', '.join(ENGINES)}")
