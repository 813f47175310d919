"""What an evaluation returns: per program a status, an exact amount and the reasons, plus the
household's tags, needs and matched assistance. ``to_dict`` gives the stable JSON shape."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from minzheng_rules.model._values import shown_amount


class Status(StrEnum):
    """A program's answer for a household: ``eligible``, ``ineligible``, or ``undetermined``
    when a fact it needs was not given (the outcome names the missing facts)."""

    eligible = "eligible"
    ineligible = "ineligible"
    undetermined = "undetermined"


@dataclass(frozen=True)
class ParameterUse:
    """A parameter a condition used: its value on the date and where that value comes from.

    For a derived value, ``confidence`` is the weakest of its rule's (``rule_confidence``) and
    its inputs' (``inputs``: name → value, confidence, since, since_assumed), and ``since`` the
    start of the input that changed last. ``since_assumed``: no source gives that start day."""

    name: str
    value: str
    unit: str
    label_zh: str
    label_en: str
    confidence: str
    since: str | None
    source: dict[str, str]
    formula: str | None = None
    since_assumed: bool = False
    rule_confidence: str | None = None
    inputs: dict[str, dict[str, Any]] | None = None

    def dated(self) -> str:
        """'since 2024-01-01 (assumed date)', or '' when the value has no start date."""
        if self.since is None:
            return ""
        return f"since {self.since}" + (" (assumed date 日期为推定)" if self.since_assumed else "")

    def citation(self) -> str:
        s = self.source
        if self.formula:  # the rule's own source is in the JSON; here: how sure each part is
            parts = [
                f"{n} {i['confidence']}"
                + (f" since {i['since']}" if i.get("since") else "")
                + (" (assumed date)" if i.get("since_assumed") else "")
                for n, i in (self.inputs or {}).items()
            ]
            text = f"derived {self.formula}; rule {self.rule_confidence}" + (
                f"; inputs: {', '.join(parts)}" if parts else ""
            )
        elif s.get("seed"):
            on = "seed" if self.confidence == "seed" else "modelled on seed"
            text = f"{on} {s['seed']}: “{s.get('quote', '')}”"
        elif s.get("document"):
            text = " ".join(filter(None, [s.get("document"), s.get("number"), s.get("article")]))
        else:
            text = f"modelled: {s.get('reasoning', '')}"
        return f"[{self.confidence}] {text}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "unit": self.unit,
            "label": {"zh": self.label_zh, "en": self.label_en},
            "confidence": self.confidence,
            "since": self.since,
            "since_assumed": self.since_assumed,
            "source": self.source,
        }
        if self.formula:
            out["formula"] = self.formula
            out["rule_confidence"] = self.rule_confidence
            out["inputs"] = self.inputs or {}
        return out


@dataclass(frozen=True)
class StaleValue:
    """A money amount a program relied on whose value started more than two years before the
    evaluation date: not wrong, but possibly replaced by a newer one the pack does not know."""

    parameter: str
    value: str
    unit: str
    since: str
    since_assumed: bool
    confidence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter,
            "value": self.value,
            "unit": self.unit,
            "since": self.since,
            "since_assumed": self.since_assumed,
            "confidence": self.confidence,
        }


@dataclass(slots=True, frozen=True)
class ConditionOutcome:
    """One eligibility condition: whether it held (None: could not be judged) and why."""

    id: str
    label_zh: str
    label_en: str
    expression: str
    passed: bool | None
    missing: list[str] = field(default_factory=list)
    values: dict[str, str] | None = None
    parameters: list[ParameterUse] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "condition": self.id,
            "label": {"zh": self.label_zh, "en": self.label_en},
            "expression": self.expression,
            "result": self.passed,
        }
        if self.missing:
            out["missing"] = self.missing
        if self.values is not None:
            out["values"] = self.values
        if self.parameters is not None:
            out["parameters"] = {p.name: p.to_dict() for p in self.parameters}
        return out


@dataclass(slots=True)
class MemberOutcome:
    status: Status
    amount: Decimal
    reasons: list[ConditionOutcome]
    missing: list[str] = field(default_factory=list)
    amount_explanation: dict[str, Any] | None = None  # with explain, when eligible

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value,
            "amount": str(shown_amount(self.amount)),
            "reasons": [r.to_dict() for r in self.reasons],
        }
        if self.missing:
            out["missing"] = self.missing
        if self.amount_explanation is not None:
            out["amount_explanation"] = self.amount_explanation
        return out


@dataclass(slots=True)
class ProgramOutcome:
    """A program's answer for one household."""

    id: str
    label_zh: str
    label_en: str
    status: Status
    amount: Decimal
    unit: str
    reasons: list[ConditionOutcome]
    missing: list[str] = field(default_factory=list)
    excluded_by: str | None = None
    members: dict[str, MemberOutcome] | None = None
    amount_explanation: dict[str, Any] | None = None

    @property
    def eligible(self) -> bool:
        return self.status is Status.eligible

    def to_dict(self) -> dict[str, Any]:
        amount = shown_amount(self.amount) if self.unit.startswith("CNY") else self.amount
        out: dict[str, Any] = {
            "status": self.status.value,
            "amount": str(amount),
            "unit": self.unit,
            "label": {"zh": self.label_zh, "en": self.label_en},
            "reasons": [r.to_dict() for r in self.reasons],
        }
        if self.missing:
            out["missing"] = self.missing
        if self.excluded_by:
            out["excluded_by"] = self.excluded_by
        if self.members is not None:
            out["members"] = {mid: m.to_dict() for mid, m in self.members.items()}
        if self.amount_explanation is not None:
            out["amount_explanation"] = self.amount_explanation
        return out


@dataclass
class Evaluation:
    """Everything a pack says about one household on one date."""

    pack: str
    date: dt.date
    household: str
    programs: dict[str, ProgramOutcome]
    tags: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    assistance: list[dict[str, Any]] = field(default_factory=list)
    undetermined: dict[str, list[str]] = field(default_factory=dict)
    stale: dict[str, list[StaleValue]] = field(default_factory=dict)
    """Per program in force: the money amounts it relied on that are over two years old, oldest
    first (see :meth:`minzheng_rules.packs.Pack.stale_values`)."""

    def eligible(self) -> list[str]:
        """Ids of the programs the household is eligible for."""
        return [pid for pid, p in self.programs.items() if p.eligible]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "date": self.date.isoformat(),
            "household": self.household,
            "programs": {pid: p.to_dict() for pid, p in self.programs.items()},
            "tags": list(self.tags),
            "needs": list(self.needs),
            "assistance": list(self.assistance),
            "undetermined": {k: list(v) for k, v in self.undetermined.items()},
            "stale": {pid: [v.to_dict() for v in vs] for pid, vs in self.stale.items()},
        }
