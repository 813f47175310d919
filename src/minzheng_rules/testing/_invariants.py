"""Declared invariants: properties a pack keeps for every household, checked with generated ones.

A pack declares them in an ``invariants:`` section (see :class:`~minzheng_rules.packs._schema.
Invariant`). Each kind compares one evaluation with another:

* ``monotone_in_income``: one member earning more never makes a program eligible that was not,
  nor raises its amount;
* ``non_negative``: no amount (household or member) is below zero;
* ``exclusive``: the programs are never eligible together (per member when all are per member);
* ``raise_keeps_eligibility``: raising ``parameter`` (the pack with an override) removes nobody's
  eligibility;
* ``member_order_independent``: listing the members in another order changes no answer;
* ``stacking``: nobody is paid by two programs of one need (a ``stacking`` group of the pack)
  unless the group lists the pair in ``together``; a household program pays the members its
  ``covers`` expression names.

An outcome that an exclusion decided (``excluded_by``) says nothing about the program's own
rule, so the comparing kinds skip it; ``exclusive`` checks the exclusions themselves. ``assume``
(an expression over the household) limits an invariant to the households where it holds before
and after the change. A violation is shrunk by Hypothesis and reported with the household, the
change and both results.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import yaml
from hypothesis import HealthCheck, Verbosity, assume, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from minzheng_rules.backends.reference import evaluate
from minzheng_rules.model._errors import MinzhengError, PackError, PackErrors
from minzheng_rules.model._household import Household
from minzheng_rules.model._results import Evaluation, ProgramOutcome, Status
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._pack import Pack
from minzheng_rules.testing.strategies import (
    Thresholds,
    evaluable_dates,
    households,
    pack_thresholds,
    readable,
)

ASSUMPTION = "invariant_assumption"  # the id of the program that carries an ``assume``
COVERS = "stacking_covers__"  # prefix of the programs that say whom a household payment is for
FEN = Decimal("0.01")


@dataclass
class Violation:
    """A household for which an invariant does not hold, with both results."""

    pack: str
    invariant: S.Invariant
    on: dt.date
    household: Household
    change: str
    problem: str
    programs: list[str]
    before: Evaluation | None
    after: Evaluation | None

    def report(self) -> str:
        inv = self.invariant
        lines = [
            f"invariant '{inv.id}' ({inv.kind.value}) of pack '{self.pack}' does not hold",
            f"  {inv.label.zh} / {inv.label.en}",
            f"  date: {self.on}",
        ]
        if self.change:
            lines.append(f"  change: {self.change}")
        lines.append(f"  problem: {self.problem}")
        text = yaml.safe_dump(
            readable(self.household),
            allow_unicode=True,
            sort_keys=False,
            width=100,
            default_flow_style=None,
        )
        lines.append("  household:")
        lines += [f"    {line}" for line in text.rstrip().splitlines()]
        shown = (
            [("result", self.before)]
            if self.after is self.before
            else [
                ("before", self.before),
                ("after", self.after),
            ]
        )
        for title, ev in shown:
            if ev is not None:
                lines.append(f"  {title}:")
                lines += [f"    {describe(ev.programs[p])}" for p in self.programs]
        return "\n".join(lines)


class InvariantViolation(AssertionError):
    """Raised inside a generated test when an invariant fails; carries the violation."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.problem)
        self.violation = violation

    def __str__(self) -> str:  # the full report only when shown: shrinking raises it often
        return self.violation.report()


@dataclass
class InvariantResult:
    """How one invariant fared against one pack."""

    pack: str
    invariant: S.Invariant
    status: Literal["passed", "failed", "skipped"]
    note: str = ""
    violation: Violation | None = None
    examples: int = 0

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def report(self) -> str:
        if self.violation is not None:
            return self.violation.report()
        head = f"invariant '{self.invariant.id}' of pack '{self.pack}': {self.status}"
        return f"{head} ({self.note})" if self.note else head


def describe(p: ProgramOutcome) -> str:
    """One line per program: status, amount, condition marks, exclusion, per-member answers."""
    mark = {True: "✓", False: "✗", None: "?"}
    text = f"{p.id}: {p.status.value} {p.to_dict()['amount']} {p.unit}"
    if p.reasons:
        text += " — " + ", ".join(f"{r.id} {mark[r.passed]}" for r in p.reasons)
    if p.excluded_by:
        text += f" — excluded by {p.excluded_by}"
    if p.missing:
        text += f" — missing {', '.join(p.missing)}"
    if p.members:
        parts = []
        for mid, m in p.members.items():
            conds = ",".join(f"{r.id}{mark[r.passed]}" for r in m.reasons)
            parts.append(f"{mid} {m.status.value} {m.to_dict()['amount']} ({conds})")
        text += " — " + "; ".join(parts)
    return text


# -- preparing an invariant against a pack --------------------------------------------------


class _Prepared:
    """An invariant bound to a pack: its programs resolved, its assumption compiled."""

    def __init__(self, pack: Pack, inv: S.Invariant) -> None:
        self.base = pack
        self.inv = inv
        names = inv.programs or [p for p in pack.programs]
        self.programs = [p for p in names if p in pack.programs]
        self.absent = [p for p in names if p not in pack.programs]
        self.pack = _with_assumption(pack, inv) if inv.assume else pack
        if inv.kind is S.InvariantKind.stacking:
            self.pack = _with_covers(self.pack, inv)
            self.programs = list(
                dict.fromkeys(p for g in pack.definition.stacking.values() for p in g.programs)
            )
        self._raised: dict[Decimal, Pack] = {}
        self._thresholds: dict[dt.date, Thresholds] = {}

    def evaluate(self, pack: Pack, h: Household, on: dt.date, change: str = "") -> Evaluation:
        try:
            return evaluate(pack, h, on)
        except MinzhengError as err:
            raise InvariantViolation(
                self.violation(on, h, change, f"evaluation failed: {err}", None, None)
            ) from None

    def thresholds(self, on: dt.date) -> Thresholds:
        if on not in self._thresholds:
            self._thresholds[on] = pack_thresholds(self.pack, on)
        return self._thresholds[on]

    def holds(self, ev: Evaluation) -> bool:
        """Whether the invariant's ``assume`` holds for this household (True without one)."""
        return not self.inv.assume or ev.programs[ASSUMPTION].status is Status.eligible

    def violation(
        self,
        on: dt.date,
        h: Household,
        change: str,
        problem: str,
        before: Evaluation | None,
        after: Evaluation | None,
    ) -> Violation:
        return Violation(
            self.base.id, self.inv, on, h, change, problem, self.programs, before, after
        )

    def raised(self, value: Decimal) -> Pack:
        """The pack with the invariant's parameter at ``value`` on every date (cached: a few
        values per date are tried)."""
        if value not in self._raised:
            assert self.inv.parameter is not None
            self._raised[value] = self.pack.with_overrides({self.inv.parameter: value})
        return self._raised[value]


def _with_assumption(pack: Pack, inv: S.Invariant) -> Pack:
    """The pack plus one eligibility-only program whose condition is the invariant's
    ``assume``, so the assumption is checked and evaluated like any other rule."""
    d = pack.definition
    origin = d.origin("invariants", inv.id)
    program = S.Program(
        label=inv.label,
        unit=S.Unit.flag,
        conditions=[S.Condition(id="assume", label=inv.label, when=inv.assume)],
        citations=[
            S.Citation(
                confidence=S.Confidence.modelled,
                source=S.Source(reasoning=f"assumption of invariant {inv.id}"),
            )
        ],
    )
    definition = dataclasses.replace(
        d,
        programs={**d.programs, ASSUMPTION: program},
        origins={**d.origins, ("programs", ASSUMPTION): origin},
    )
    try:
        return Pack(definition)
    except (PackError, PackErrors) as err:
        text = str(err).split(": ", 1)[-1].replace(f"programs '{ASSUMPTION}'", "'assume'")
        raise PackError(
            f"invariant '{inv.id}': {text}",
            file=origin.file,
            line=origin.at("assume").line,
            name=inv.id,
        ) from None


def _with_covers(pack: Pack, inv: S.Invariant) -> Pack:
    """The pack plus one member program per stacking group and household program with a
    ``covers`` expression: eligible for the members the household payment is for."""
    d = pack.definition
    origin = d.origin("invariants", inv.id)
    extra: dict[str, S.Program] = {}
    for gid, group in d.stacking.items():
        for pid, when in group.covers.items():
            extra[f"{COVERS}{gid}__{pid}"] = S.Program(
                label=group.label,
                entity="member",
                unit=S.Unit.flag,
                conditions=[S.Condition(id="covers", label=group.label, when=when)],
                citations=[
                    S.Citation(
                        confidence=S.Confidence.modelled,
                        source=S.Source(reasoning=f"stacking group {gid}: whom {pid} pays"),
                    )
                ],
            )
    if not extra:
        return pack
    definition = dataclasses.replace(
        d,
        programs={**d.programs, **extra},
        origins={**d.origins, **{("programs", k): d.origin("stacking", k) for k in extra}},
    )
    try:
        return Pack(definition)
    except (PackError, PackErrors) as err:
        raise PackError(f"invariant '{inv.id}': stacking covers: {err}", file=origin.file) from None


# -- the kinds ------------------------------------------------------------------------------

Draw = Callable[..., Any]


def _decided(p: ProgramOutcome) -> bool:
    """An answer of the program's own rule: known, and not set by an exclusion."""
    return p.status is not Status.undetermined and p.excluded_by is None


def _monotone(c: _Prepared, draw: Draw, on: dt.date, h: Household) -> Violation | None:
    earners = [i for i, m in enumerate(h.members) if m.monthly_income is not None]
    assume(earners)
    i = draw(st.sampled_from(earners), label="member")
    member = h.members[i]
    old = member.monthly_income
    assert old is not None
    few_fen = st.integers(1, 3).map(lambda n: n * FEN)
    anything = st.integers(1, 500_000).map(lambda n: n * FEN)
    crossing = _crossings(h, old, c.thresholds(on))
    # half the time exactly to a line or a fen past it, where a rule turns; shrinks there
    extra = (
        st.one_of(st.sampled_from(crossing), few_fen, anything)
        if crossing
        else st.one_of(few_fen, anything)
    )
    if crossing and draw(st.booleans(), label="to a line"):
        extra = st.sampled_from(crossing)
    new = (old + draw(extra, label="extra income")).quantize(FEN)
    richer = h.model_copy(
        update={
            "members": [
                *h.members[:i],
                member.model_copy(update={"monthly_income": new}),
                *h.members[i + 1 :],
            ]
        }
    )
    change = f"member {member.id}'s monthly_income {old} → {new}"
    before = c.evaluate(c.pack, h, on)
    after = c.evaluate(c.pack, richer, on, change)
    assume(c.holds(before) and c.holds(after))
    for pid in c.programs:
        a, b = before.programs[pid], after.programs[pid]
        if not (_decided(a) and _decided(b)):
            continue
        if b.eligible and not a.eligible:
            problem = f"{pid}: more income made the household eligible"
        elif b.amount > a.amount:
            problem = f"{pid}: more income raised the amount {a.amount} → {b.amount}"
        else:
            continue
        return c.violation(on, h, change, problem, before, after)
    return None


def _crossings(h: Household, own: Decimal, th: Thresholds) -> list[Decimal]:
    """Raises that take the household's income per countable member, or the member's own
    income, to a threshold exactly or a fen past it: where a rule turns."""
    counted = [m for m in h.members if not m.incarcerated and not m.missing]
    total = sum((m.monthly_income or Decimal(0) for m in counted), Decimal(0))
    out = set()
    for t in th.income:
        for need in (t * max(len(counted), 1) - total, t - own):
            need = need.quantize(FEN)
            out |= {need, need + FEN} if need > 0 else set()
    return sorted(out)


def _non_negative(c: _Prepared, draw: Draw, on: dt.date, h: Household) -> Violation | None:
    ev = c.evaluate(c.pack, h, on)
    assume(c.holds(ev))
    for pid in c.programs:
        p = ev.programs[pid]
        amounts = [p.amount, *(m.amount for m in (p.members or {}).values())]
        if any(a < 0 for a in amounts):
            return c.violation(on, h, "", f"{pid}: a negative amount", ev, ev)
    return None


def _exclusive(c: _Prepared, draw: Draw, on: dt.date, h: Household) -> Violation | None:
    ev = c.evaluate(c.pack, h, on)
    assume(c.holds(ev))
    outcomes = [ev.programs[pid] for pid in c.programs]
    if all(p.members is not None for p in outcomes):
        for m in h.members:
            both = [p.id for p in outcomes if p.members[m.id].status is Status.eligible]  # type: ignore[index]
            if len(both) > 1:
                problem = f"member {m.id} is eligible for {' and '.join(both)} together"
                return c.violation(on, h, "", problem, ev, ev)
        return None
    both = [p.id for p in outcomes if p.eligible]
    if len(both) > 1:
        return c.violation(on, h, "", f"eligible for {' and '.join(both)} together", ev, ev)
    return None


def _raise(c: _Prepared, draw: Draw, on: dt.date, h: Household) -> Violation | None:
    name = c.inv.parameter
    assert name is not None
    try:
        current = c.pack.parameter(name, on).value
    except MinzhengError:
        current = None
    assume(current is not None and not isinstance(current, bool))
    assert current is not None and not isinstance(current, bool)  # (assume stopped otherwise)
    value = Decimal(current)
    whole = c.pack.parameters[name].type == "count"
    step = Decimal(1) if whole else FEN
    raises = sorted(
        {
            step,
            Decimal(1),
            (value * c.inv.up_to / 10).quantize(step),
            (value * c.inv.up_to).quantize(step),
        }
        - {Decimal(0)}
    )
    new = value + draw(st.sampled_from(raises), label="raise")
    change = f"p.{name} {value} → {new}"
    before = c.evaluate(c.pack, h, on)
    after = c.evaluate(c.raised(new), h, on, change)
    assume(c.holds(before) and c.holds(after))
    for pid in c.programs:
        a, b = before.programs[pid], after.programs[pid]
        if _decided(a) and _decided(b) and a.eligible and not b.eligible:
            problem = f"{pid}: raising {name} removed eligibility"
            return c.violation(on, h, change, problem, before, after)
    return None


def _member_order(c: _Prepared, draw: Draw, on: dt.date, h: Household) -> Violation | None:
    assume(len(h.members) > 1)
    order = draw(st.permutations(range(len(h.members))), label="order")
    shuffled = h.model_copy(update={"members": [h.members[i] for i in order]})
    change = "members listed as " + ", ".join(h.members[i].id for i in order)
    before = c.evaluate(c.pack, h, on)
    after = c.evaluate(c.pack, shuffled, on, change)
    assume(c.holds(before))
    for pid in c.programs:
        a, b = before.programs[pid], after.programs[pid]
        if (a.status, a.amount, a.missing) != (b.status, b.amount, b.missing):
            problem = f"{pid}: the answer depends on the order of the members"
            return c.violation(on, h, change, problem, before, after)
        ours, theirs = a.members or {}, b.members or {}
        for mid in sorted(ours.keys() | theirs.keys()):
            ma, mb = ours.get(mid), theirs.get(mid)
            if ma is None or mb is None or (ma.status, ma.amount) != (mb.status, mb.amount):
                problem = f"{pid}: member {mid}'s answer depends on the order of the members"
                return c.violation(on, h, change, problem, before, after)
    return None


def _paid(ev: Evaluation, gid: str, pid: str, mid: str) -> bool:
    """Whether program ``pid`` pays member ``mid`` something (eligible, amount above zero)."""
    p = ev.programs[pid]
    if p.members is not None:
        m = p.members.get(mid)
        return m is not None and m.status is Status.eligible and m.amount > 0
    if p.status is not Status.eligible or p.amount <= 0:
        return False
    cover = ev.programs.get(f"{COVERS}{gid}__{pid}")
    if cover is None or cover.members is None:
        return True
    m = cover.members.get(mid)
    return m is not None and m.status is Status.eligible


def _stacking(c: _Prepared, draw: Draw, on: dt.date, h: Household) -> Violation | None:
    ev = c.evaluate(c.pack, h, on)
    assume(c.holds(ev))
    for gid, group in c.base.definition.stacking.items():
        allowed = {frozenset(t.programs) for t in group.together}
        for m in h.members:
            paid = [p for p in group.programs if p in ev.programs and _paid(ev, gid, p, m.id)]
            for i, a in enumerate(paid):
                for b in paid[i + 1 :]:
                    if frozenset((a, b)) not in allowed:
                        problem = (
                            f"member {m.id} is paid by {a} and {b} for one need ({gid}), "
                            "and the pack does not say they stack"
                        )
                        return c.violation(on, h, "", problem, ev, ev)
    return None


KINDS: dict[S.InvariantKind, Callable[[_Prepared, Draw, dt.date, Household], Violation | None]] = {
    S.InvariantKind.monotone_in_income: _monotone,
    S.InvariantKind.non_negative: _non_negative,
    S.InvariantKind.exclusive: _exclusive,
    S.InvariantKind.raise_keeps_eligibility: _raise,
    S.InvariantKind.member_order_independent: _member_order,
    S.InvariantKind.stacking: _stacking,
}


# -- running --------------------------------------------------------------------------------


def check_invariant(
    pack: Pack,
    invariant: S.Invariant,
    *,
    max_examples: int | None = None,
    derandomize: bool = False,
    max_members: int = 5,
    random_seed: int | None = None,
) -> InvariantResult:
    """Check one invariant with generated households under the current Hypothesis profile
    (``max_examples`` and ``derandomize`` override it; ``random_seed`` makes a run
    repeatable, the same seed drawing the same households). A failure is shrunk first."""
    inv = invariant
    try:
        c = _Prepared(pack, inv)
    except PackError as err:
        return InvariantResult(pack.id, inv, "failed", note=str(err))
    if (
        inv.programs
        and c.absent
        and (not c.programs or (inv.kind is S.InvariantKind.exclusive and len(c.programs) < 2))
    ):
        return InvariantResult(
            pack.id, inv, "skipped", note=f"not in this pack: {', '.join(c.absent)}"
        )
    if inv.kind is S.InvariantKind.stacking and not pack.definition.stacking:
        return InvariantResult(pack.id, inv, "skipped", note="the pack declares no stacking")
    if inv.parameter is not None and inv.parameter not in pack.parameters:
        return InvariantResult(
            pack.id, inv, "skipped", note=f"no parameter '{inv.parameter}' in this pack"
        )
    days = evaluable_dates(c.pack)
    if not days:
        return InvariantResult(
            pack.id, inv, "skipped", note="no date on which every parameter has a value"
        )
    shaped = {d: households(c.pack, d, max_members=max_members) for d in days}
    kind = KINDS[inv.kind]
    count = [0]

    def run(data: st.DataObject) -> None:
        on = data.draw(st.sampled_from(days), label="date")
        h = data.draw(shaped[on], label="household")
        found = kind(c, data.draw, on, h)
        count[0] += 1
        if found is not None:
            raise InvariantViolation(found)

    options: dict[str, Any] = {
        "database": None,
        "deadline": None,
        "verbosity": Verbosity.quiet,
        "suppress_health_check": [
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    }
    if max_examples is not None:
        options["max_examples"] = max_examples
    test = settings(**options)(given(st.data())(run))
    if random_seed is not None:
        test = seed(random_seed)(test)
    elif derandomize:
        test = seed(0)(test)
    try:
        test()
    except InvariantViolation as err:
        return InvariantResult(pack.id, inv, "failed", violation=err.violation, examples=count[0])
    except Unsatisfiable:
        return InvariantResult(
            pack.id, inv, "skipped", note="no generated household met its 'assume'"
        )
    note = f"not in this pack: {', '.join(c.absent)}" if c.absent else ""
    return InvariantResult(pack.id, inv, "passed", note=note, examples=count[0])


def check_invariants(pack: Pack, **options: Any) -> list[InvariantResult]:
    """Every invariant the pack declares (its own and inherited)."""
    return [check_invariant(pack, inv, **options) for inv in pack.definition.invariants.values()]


def assert_invariants(pack: Pack, **options: Any) -> None:
    """Fail (AssertionError) with every violation's report if any invariant does not hold."""
    failed = [r for r in check_invariants(pack, **options) if not r.ok]
    if failed:
        raise AssertionError("\n\n".join(r.report() for r in failed))


__all__ = [
    "InvariantResult",
    "InvariantViolation",
    "Violation",
    "assert_invariants",
    "check_invariant",
    "check_invariants",
    "describe",
]
