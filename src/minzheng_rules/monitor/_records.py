"""The monitor's output records, typed, and the one function that writes them as JSON.

A record is written for every alert that fires, and for every event after which the household's
programs changed even when no rule fired (``eligibility_changed``: newly eligible = 主动发现, no
longer eligible = a 渐退期 starts), and when a 渐退期 ended (``phase_out_ended``). Each record
carries the household's visiting tier (``high`` = 高风险和重点, ``normal`` = 一般) after the event.

The runner builds these objects; :func:`render` turns one into the JSON object the monitor
writes (keys in a fixed order, dates as ISO text). Everything :func:`render` returns is new, so a
caller may change one rendered record without touching another. The records are plain slotted
dataclasses, not frozen ones (a frozen dataclass's ``__init__`` cost ~2.5 µs more per record on
the hot path): they are not changed once made, and parts (labels, conditions) are shared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from minzheng_rules.model._results import ProgramOutcome, Status
from minzheng_rules.model._values import shown_amount

Tier = Literal["high", "normal"]
JSONObject = dict[str, Any]
"""A record as written: a JSON object (its values are any JSON value)."""


@dataclass(slots=True)
class Label:
    """A bilingual label (中文 + English)."""

    zh: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


BUILTIN_ALERTS: dict[str, Label] = {
    "eligibility_changed": Label("救助资格变化（主动发现/渐退）", "Programs changed"),
    "phase_out_ended": Label("渐退期结束", "Gradual exit (渐退期) ended"),
}
"""The records the monitor writes without an alert rule: their ids and labels."""


@dataclass(slots=True)
class ProgramChange:
    """A program an event changed: its status now, how each of its conditions came out (up to
    the first that failed), its amount when eligible, and the facts it missed when undetermined.
    Made from the reference's outcome (:func:`program_change`) or the vectorized plan's columns
    (:meth:`minzheng_rules.monitor._vectorized.Judgement.change`): the two render the same."""

    program: str
    label: Label
    now: str  # a Status value
    conditions: Mapping[str, bool | None]
    amount: str | None = None
    missing: Sequence[str] = ()

    def to_json(self) -> JSONObject:
        out: JSONObject = {
            "program": self.program,
            "label": self.label.to_json(),
            "now": self.now,
            "conditions": dict(self.conditions),
        }
        if self.amount is not None:
            out["amount"] = self.amount
        if self.missing:
            out["missing"] = list(self.missing)
        return out


@dataclass(slots=True)
class AlertReason:
    """Why an alert fired: its rule, every household name it read with its value (as JSON shows
    it), the parameters it cited (value, unit, label, confidence, source), and the names that
    were unknown. ``parameters`` is shared by the alert's records of one period: never changed."""

    alert: str
    label: Label
    when: str
    values: Mapping[str, Any]
    parameters: Mapping[str, Mapping[str, Any]]
    missing: Sequence[str] = ()

    def to_json(self) -> JSONObject:
        out: JSONObject = {
            "alert": self.alert,
            "label": self.label.to_json(),
            "when": self.when,
            "values": dict(self.values),
            "parameters": {
                name: {**p, "label": dict(p["label"]), "source": dict(p["source"])}
                for name, p in self.parameters.items()
            },
        }
        if self.missing:
            out["missing"] = list(self.missing)
        return out


@dataclass(slots=True)
class PhaseOutEnded:
    """A program whose 渐退期 ended before the event's date."""

    program: str
    before: dt.date

    def to_json(self) -> JSONObject:
        return {"program": self.program, "phase_out_ended_before": self.before.isoformat()}


Reason = AlertReason | ProgramChange | PhaseOutEnded


@dataclass(slots=True, kw_only=True)
class EventResult:
    """What an event did, shared by the records it produces: the event (id, line, household,
    date, type), the household's visiting tier after it, and the programs it gained and lost
    (with the day each lost one's 渐退期 ends, None when the pack sets no period)."""

    event: str
    line: int
    household: str
    date: dt.date
    type: str
    tier: Tier
    newly_eligible: Sequence[str]
    no_longer_eligible: Sequence[str]
    phase_out_until: Mapping[str, dt.date | None] | None  # None when no program was lost


@dataclass(slots=True)
class Record:
    """One output record: what the event did, the alert (a rule's, or one of
    :data:`BUILTIN_ALERTS`, with no ``alert_tier``), and the reasons."""

    result: EventResult
    alert: str
    label: Label
    alert_tier: str | None
    reasons: Sequence[Reason]


def render(record: Record) -> JSONObject:
    """A record as the monitor writes it (keys in this order; ``phase_out_until`` only when a
    program was lost)."""
    r = record.result
    out: JSONObject = {
        "event": r.event,
        "line": r.line,
        "household": r.household,
        "date": r.date.isoformat(),
        "type": r.type,
        "alert": record.alert,
        "label": record.label.to_json(),
        "alert_tier": record.alert_tier,
        "tier": r.tier,
        "newly_eligible": list(r.newly_eligible),
        "no_longer_eligible": list(r.no_longer_eligible),
    }
    if r.phase_out_until is not None:
        out["phase_out_until"] = {
            pid: (d.isoformat() if d is not None else None) for pid, d in r.phase_out_until.items()
        }
    out["reasons"] = [reason.to_json() for reason in record.reasons]
    return out


def program_change(outcomes: Mapping[str, ProgramOutcome], pid: str) -> ProgramChange:
    """A program that changed, from the reference evaluator's outcome."""
    o = outcomes[pid]
    amount = None
    if o.status is Status.eligible:
        amount = str(shown_amount(o.amount)) if o.unit.startswith("CNY") else str(o.amount)
    return ProgramChange(
        program=pid,
        label=Label(o.label_zh, o.label_en),
        now=o.status.value,
        conditions={r.id: r.passed for r in o.reasons},
        amount=amount,
        missing=o.missing,
    )


def reference_changes(
    outcomes: Mapping[str, ProgramOutcome], previous: frozenset[str], now: frozenset[str]
) -> dict[str, ProgramChange]:
    """Each program that changed, from the reference's outcomes."""
    return {pid: program_change(outcomes, pid) for pid in now ^ previous}
