"""A pack's alert rules, parsed and type-checked through the expression language.

An alert reads the names every rule may read (household facts and variables, members in
aggregations, ``p.*`` parameters) plus household-level names the monitor supplies:

* ``previous.<name>``: any household fact or variable, before the event;
* ``event.<field>``: the event's payload (``event.monthly_income``, ``event.amount``, ...);
* ``member.<fact>`` and ``previous.member.<fact>``: the member an event is about, after and
  before it (only when every event type the alert listens to is about one member).

They are added to a :class:`Scope` here, so the core language is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from minzheng_rules.expr._checker import ExpressionTypeError, Scope, check
from minzheng_rules.expr._nodes import (
    Aggregate,
    Binary,
    BoolOp,
    Call,
    Compare,
    Const,
    IfElse,
    In,
    Name,
    Node,
    Unary,
)
from minzheng_rules.expr._parser import ExpressionSyntaxError, parse
from minzheng_rules.model import _types as T
from minzheng_rules.model._errors import PackError, PackErrors
from minzheng_rules.monitor._events import EVENT_TYPES, MEMBER_EVENTS, PAYLOAD_TYPES
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._deps import DepKind, DepNode, names_of
from minzheng_rules.packs._pack import Expr, Pack

PREVIOUS = "previous."
EVENT = "event."
MEMBER = "member."
PREVIOUS_MEMBER = "previous.member."


@dataclass
class CompiledAlert:
    """One checked alert rule."""

    id: str
    index: int
    spec: S.Alert
    events: tuple[str, ...]
    expr: Expr
    extras: frozenset[str]  # the monitor-supplied names it reads (previous.*, event.*, member.*)

    @property
    def tier(self) -> str:
        return self.spec.tier


def alert_scope(pack: Pack, events: tuple[str, ...]) -> Scope:
    """The names an alert listening to ``events`` may use."""
    household: dict[str, T.Type] = dict(pack.scope.household)
    for name, t in pack.scope.household.items():
        household[PREVIOUS + name] = t
    payloads = [PAYLOAD_TYPES.get(e, {}) for e in events]
    for name, t in payloads[0].items():
        if all(p.get(name) == t for p in payloads[1:]):
            household[EVENT + name] = t
    if all(e in MEMBER_EVENTS for e in events):
        for name, t in pack.scope.member.items():
            household[MEMBER + name] = t
            household[PREVIOUS_MEMBER + name] = t
    return Scope(
        household=household, member=dict(pack.scope.member), params=pack.scope.params, programs={}
    )


def base_name(name: str) -> tuple[str, str]:
    """``(kind, pack name)`` of a monitor-supplied name: kind is previous, event, member or
    previous_member; a plain household name gives ``("", name)``."""
    if name.startswith(PREVIOUS_MEMBER):
        return "previous_member", name[len(PREVIOUS_MEMBER) :]
    if name.startswith(PREVIOUS):
        return "previous", name[len(PREVIOUS) :]
    if name.startswith(EVENT):
        return "event", name[len(EVENT) :]
    if name.startswith(MEMBER):
        return "member", name[len(MEMBER) :]
    return "", name


@dataclass
class AlertSet:
    """Every alert of a pack, checked once; what they need from the pack, by event type."""

    pack: Pack
    alerts: list[CompiledAlert] = field(default_factory=list)
    by_event: dict[str, list[CompiledAlert]] = field(default_factory=dict)
    extras_by_event: dict[str, frozenset[str]] = field(default_factory=dict)
    household_vars: set[str] = field(default_factory=set)  # variables/tables read, any depth
    member_vars: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)
    programs_read: frozenset[str] = frozenset()  # facts any program reads, through any variable
    # event types whose rules cannot fire when the event leaves the household as it was (a tick)
    silent_when_unchanged: frozenset[str] = frozenset()
    programs_read_date: bool = False
    _variable_facts: dict[str, frozenset[str] | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def from_pack(cls, pack: Pack) -> AlertSet:
        out = cls(pack)
        out.programs_read = program_facts(pack)
        out.programs_read_date = "eval_date" in out.programs_read
        errors: list[PackError] = []
        for i, (aid, spec) in enumerate(pack.definition.alerts.items()):
            compiled = out._compile(aid, i, spec, errors)
            if compiled is not None:
                out.alerts.append(compiled)
        if errors:
            raise PackErrors(errors)
        for etype in EVENT_TYPES:
            listening = [a for a in out.alerts if etype in a.events]
            out.by_event[etype] = listening
            out.extras_by_event[etype] = frozenset().union(*(a.extras for a in listening))
        out.silent_when_unchanged = frozenset(
            etype
            for etype, listening in out.by_event.items()
            if all(cannot_fire_unchanged(a.expr.checked.node) for a in listening)
        )
        return out

    def variable_facts(self, name: str) -> frozenset[str] | None:
        """Every fact (household or member) the variable or table ``name`` reads, through the
        variables and tables it reads; None when it reads a program's result.

        The monitor uses it to see that an event cannot have changed a variable's value (the
        event changes none of these facts), so its value before is the value after."""
        if name not in self._variable_facts:
            self._variable_facts[name] = self._facts_of(name)
        return self._variable_facts[name]

    def _facts_of(self, name: str) -> frozenset[str] | None:
        pack = self.pack
        facts: set[str] = set()
        seen = {name}
        todo = [name]
        while todo:
            for e in _expressions(pack, todo.pop()):
                for sym in e.checked.symbols.values():
                    if sym.kind == "program":
                        return None
                    if sym.kind not in ("household", "member"):
                        continue
                    if not _is_var(pack, sym.name):
                        facts.add(sym.name)
                    elif sym.name not in seen:
                        seen.add(sym.name)
                        todo.append(sym.name)
        return frozenset(facts)

    def _compile(
        self, aid: str, index: int, spec: S.Alert, errors: list[PackError]
    ) -> CompiledAlert | None:
        pack = self.pack
        origin = pack.definition.origin("alerts", aid).at("when")
        scope = alert_scope(pack, spec.events)
        try:
            checked = check(parse(spec.when), scope, "household", T.BOOL)
        except ExpressionSyntaxError as err:
            line = (origin.line or 0) + err.line - 1 if origin.line else None
            errors.append(
                PackError(
                    f"in alerts '{aid}': {err.message}", file=origin.file, line=line, name=err.name
                )
            )
            return None
        except ExpressionTypeError as err:
            errors.append(
                PackError(
                    f"in alerts '{aid}': {err.message}",
                    file=origin.file,
                    line=origin.line,
                    name=err.name,
                    suggestion=err.suggestion,
                )
            )
            return None
        extras: set[str] = set()
        nodes: set[DepNode] = {DepNode.parameter(p) for p in checked.references("param")}
        for sym in checked.symbols.values():
            if sym.kind == "household":
                kind, name = base_name(sym.name)
                if kind:
                    extras.add(sym.name)
                if kind in ("", "previous"):
                    nodes.add(DepNode.variable(name))
                    if name in pack.scope.household and _is_var(pack, name):
                        self.household_vars.add(name)
                elif kind in ("member", "previous_member") and _is_var(pack, name):
                    nodes.add(DepNode.variable(name))
                    self.member_vars.add(name)
            elif sym.kind == "member" and _is_var(pack, sym.name):
                nodes.add(DepNode.variable(sym.name))
                self.member_vars.add(sym.name)
        closure = _closure(pack, nodes)
        programs = sorted(names_of(closure, DepKind.PROGRAM))
        if programs:
            errors.append(
                PackError(
                    f"in alerts '{aid}': it reads variables that depend on program results "
                    f"({', '.join(programs)}); alerts read facts and variables only",
                    file=origin.file,
                    line=origin.line,
                )
            )
            return None
        for n in closure:
            kind, name = n
            if kind == DepKind.PARAMETER:
                self.params.add(name)
            elif kind == DepKind.VARIABLE:
                target = (
                    self.member_vars
                    if name in pack.scope.member and name not in pack.scope.household
                    else self.household_vars
                )
                if _is_var(pack, name):
                    target.add(name)
        expr = Expr(spec.when, checked, origin)
        return CompiledAlert(aid, index, spec, spec.events, expr, frozenset(extras))


def _is_var(pack: Pack, name: str) -> bool:
    return name in pack.variables or name in pack.tables


def _expressions(pack: Pack, name: str) -> list[Expr]:
    """The expressions of a variable, or of a table's rows and default."""
    if name in pack.variables:
        return [pack.variables[name]]
    t = pack.tables[name]
    return [*(e for row in t.rows for e in row), t.default]


def _closure(pack: Pack, nodes: set[DepNode]) -> set[DepNode]:
    """``nodes`` and everything they need through variables and derived parameters."""
    seen = set(nodes)
    todo = list(nodes)
    while todo:
        for m in pack.deps.get(todo.pop(), ()):
            if m not in seen:
                seen.add(m)
                if not m.is_program:
                    todo.append(m)
    return seen


def program_facts(pack: Pack) -> frozenset[str]:
    """Every fact name (household or member) that a program, a variable or a table reads.

    An event that changes none of them cannot change any program's result on the same date,
    so the monitor need not re-evaluate the household (a superset is safe)."""
    exprs: list[Expr] = []
    for prog in pack.programs.values():
        exprs.extend(prog.expressions())
    exprs.extend(pack.variables.values())
    for t in pack.tables.values():
        exprs.extend(e for row in t.rows for e in row)
        exprs.append(t.default)
    names: set[str] = set()
    for e in exprs:
        for sym in e.checked.symbols.values():
            if sym.kind in ("household", "member"):
                names.add(sym.name)
    return frozenset(names)


def cannot_fire_unchanged(node: Node) -> bool:
    """True when a rule cannot be true on an event that leaves the household as it was.

    Then every ``previous.<name>`` is ``<name>`` (read in the same context), so a comparison
    ``x > previous.x`` (or ``<``, ``!=``) is false or unknown, never true; a conjunction with
    such a part cannot be true, nor a disjunction of them. Anything else may fire."""
    match node:
        case Compare(ops=(op,), operands=(left, right)) if op in ("<", ">", "!="):
            return _as_after(left) == _as_after(right)
        case BoolOp(op="and", values=values):
            return any(cannot_fire_unchanged(v) for v in values)
        case BoolOp(op="or", values=values):
            return all(cannot_fire_unchanged(v) for v in values)
    return False


def _as_after(node: Node) -> Node:
    """``node`` with every ``previous.<name>`` read as ``<name>``."""
    match node:
        case Name(path=path) if path.startswith(PREVIOUS):
            return Name(path[len(PREVIOUS) :])
        case Name() | Const():
            return node
        case Unary(op=op, operand=o):
            return Unary(op, _as_after(o))
        case Binary(op=op, left=a, right=b):
            return Binary(op, _as_after(a), _as_after(b))
        case Compare(ops=ops, operands=operands):
            return Compare(ops, tuple(map(_as_after, operands)))
        case In(operand=o, options=options, negated=negated):
            return In(_as_after(o), options, negated)
        case BoolOp(op=op, values=values):
            return BoolOp(op, tuple(map(_as_after, values)))
        case IfElse(cond=c, then=t, orelse=e):
            return IfElse(_as_after(c), _as_after(t), _as_after(e))
        case Call(func=func, args=args):
            return Call(func, tuple(map(_as_after, args)))
        case Aggregate(func=func, var=var, element=element, where=where):
            return Aggregate(
                func,
                var,
                None if element is None else _as_after(element),
                None if where is None else _as_after(where),
            )
    raise TypeError(f"unknown expression node {node!r}")
