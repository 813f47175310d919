"""Running a pack's golden cases and describing a failure readably."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from minzheng_rules.backends.reference import evaluate
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._results import Evaluation
from minzheng_rules.model._values import money
from minzheng_rules.packs._pack import Pack
from minzheng_rules.packs._schema import Case, SetExpectation


@dataclass
class CaseResult:
    case: Case
    evaluation: Evaluation | None
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.error is None

    def report(self) -> str:
        lines = [f"  computation: {self.case.computation}"]
        if self.error:
            lines.append(f"  error: {self.error}")
        lines += [f"  {m}" for m in self.mismatches]
        if self.evaluation is not None:
            trace = {
                pid: self.evaluation.programs[pid].to_dict()
                for pid in self.case.expect
                if pid in self.evaluation.programs
            }
            lines.append("  trace: " + json.dumps(trace, ensure_ascii=False, indent=1)[:4000])
        return "\n".join(lines)


def run_case(pack: Pack, case: Case) -> CaseResult:
    """Evaluate one golden case and compare each expected program."""
    try:
        ev = evaluate(pack, case.household, case.date, explain=True)
    except MinzhengError as e:
        return CaseResult(case, None, error=str(e))
    result = CaseResult(case, ev)
    for pid, want in case.expect.items():
        got = ev.programs.get(pid)
        if got is None:
            result.mismatches.append(f"{pid}: no such program in the pack")
            continue
        if got.status.value != want.status:
            result.mismatches.append(
                f"{pid}: expected status {want.status}, got {got.status.value}"
            )
        if want.amount is not None and _amount(got.amount, got.unit) != want.amount:
            result.mismatches.append(
                f"{pid}: expected amount {want.amount}, got {_amount(got.amount, got.unit)}"
            )
        if want.missing is not None and sorted(want.missing) != got.missing:
            result.mismatches.append(
                f"{pid}: expected missing {sorted(want.missing)}, got {got.missing}"
            )
    for kind, want_set, got_list in (("tags", case.tags, ev.tags), ("needs", case.needs, ev.needs)):
        if want_set is not None:
            result.mismatches += _set_mismatches(kind, want_set, got_list)
    return result


def _set_mismatches(kind: str, want: SetExpectation, got: list[str]) -> list[str]:
    out = []
    got_set = set(got)
    if missing := [x for x in want.has if x not in got_set]:
        out.append(f"{kind}: expected {missing} to be set; got {got}")
    if present := [x for x in want.lacks if x in got_set]:
        out.append(f"{kind}: expected {present} not to be set; got {got}")
    if want.exact and (extra := sorted(got_set - set(want.has))):
        out.append(f"{kind}: not expected {extra}")
    return out


def _amount(value: Decimal, unit: str) -> Decimal:
    return money(value) if unit.startswith("CNY") else value


def run_cases(pack: Pack) -> list[CaseResult]:
    """Every golden case of a pack."""
    return [run_case(pack, case) for case in pack.cases]
