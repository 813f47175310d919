"""Compile checked expressions into Python closures ``f(ctx, member) -> value``.

Parameters are constants here: a pack is bound to one date before it runs, so each closure
sees the values in force that day. Unknown facts flow through with Kleene logic
(see :mod:`minzheng_rules.model._values`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from minzheng_rules.expr._checker import Checked, Symbol
from minzheng_rules.expr._fold import ARITHMETIC, COMPARISONS, fold, is_constant
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
from minzheng_rules.model._errors import EvaluationError
from minzheng_rules.model._facts import HOUSEHOLD_FACTS, MEMBER_FACTS, RECEIVING_PREFIXES
from minzheng_rules.model._values import Unknown, merge, quantize
from minzheng_rules.packs._pack import CheckedTable

Fn = Callable[[Any, Any], Any]


class EvalContext:
    """The state of one household's evaluation: its facts, memoised variables, loop bindings."""

    __slots__ = ("bound", "hh", "loops", "members")

    def __init__(self, bound: Any, hh: dict[str, Any], members: list[dict[str, Any]]) -> None:
        self.bound = bound  # has .household_fns and .member_fns: name -> Fn
        self.hh = hh
        self.members = members
        self.loops: dict[str, dict[str, Any]] = {}


_ABSENT = object()  # a variable not yet computed for this household or member


def _is_fact(name: str) -> bool:
    return name in HOUSEHOLD_FACTS or name.startswith(RECEIVING_PREFIXES)


def household_value(c: EvalContext, name: str) -> Any:
    """A household fact, or a variable computed once per context and kept in its facts.

    A variable is looked up with ``get``, not by index: on the lazy facts (facts.lazy_facts)
    indexing a name they do not hold runs ``__missing__`` to raise KeyError, several times the
    cost of the lookup, and that miss is the usual case. The compiled closures (``_name``) do
    the same inline."""
    if _is_fact(name):
        return c.hh[name]  # (lazy facts compute it on first read)
    v = c.hh.get(name, _ABSENT)
    if v is _ABSENT:
        v = c.hh[name] = c.bound.household_fns[name](c, None)
    return v


def member_value(c: EvalContext, md: dict[str, Any], name: str) -> Any:
    """A member fact, or a member variable computed once (see :func:`household_value`)."""
    if name in MEMBER_FACTS:
        return md[name]
    v = md.get(name, _ABSENT)
    if v is _ABSENT:
        v = md[name] = c.bound.member_fns[name](c, md)
    return v


def compile_expression(checked: Checked, params: Mapping[str, Any]) -> Fn:
    """A closure computing ``checked`` with the given parameter values."""
    return _Compiler(checked, params).build(checked.node)


def compile_table(name: str, checked: CheckedTable, params: Mapping[str, Any]) -> Fn:
    """A decision table (a checked table of the pack) as one closure, by its hit policy:
    ``first`` row that holds, ``unique`` (two rows holding is an error), or ``collect`` (the
    sum of every row that holds); the default when none holds. An unknown row condition met
    before the answer is settled makes the answer unknown."""
    rows = [
        (compile_expression(w.checked, params), compile_expression(th.checked, params))
        for w, th in checked.rows
    ]
    default = compile_expression(checked.default.checked, params)
    policy = checked.spec.hit_policy.value

    def table(c: EvalContext, m: Any) -> Any:
        hits, unknown = [], None
        for when, then in rows:
            v = when(c, m)
            if v is True:
                if policy == "first":
                    return then(c, m) if unknown is None else unknown
                hits.append(then)
            elif v.__class__ is Unknown:
                unknown = v if unknown is None else merge(unknown, v)
        if unknown is not None:
            return unknown
        if not hits:
            return default(c, m)
        if policy == "unique":
            if len(hits) > 1:
                raise EvaluationError(
                    f"decision table '{name}' (hit policy unique) matched {len(hits)} rows"
                )
            return hits[0](c, m)
        values = [h(c, m) for h in hits]
        return merge(*values) if any(v.__class__ is Unknown for v in values) else sum(values, 0)

    return table


class _Compiler:
    def __init__(self, checked: Checked, params: Mapping[str, Any]) -> None:
        self.checked = checked
        self.params = params
        self.constants: dict[Fn, Any] = {}

    def build(self, node: Node) -> Fn:
        if not isinstance(node, Const) and is_constant(node, self.checked):
            try:
                return self._const(fold(node, self.checked, self.params))
            except EvaluationError:
                pass  # fails only if reached; keep it lazy
        return self._build(node)

    def _const(self, value: Any) -> Fn:
        def const(c, m):
            return value

        self.constants[const] = value
        return const

    def _build(self, node: Node) -> Fn:
        match node:
            case Const(value=v):
                return self._const(v)
            case Name():
                return self._name(self.checked.symbols[id(node)])
            case Unary(op="not", operand=o):
                f = self.build(o)

                def not_(c, m):
                    v = f(c, m)
                    return v if v.__class__ is Unknown else not v

                return not_
            case Unary(op="-", operand=o):
                f = self.build(o)

                def neg(c, m):
                    v = f(c, m)
                    return v if v.__class__ is Unknown else -v

                return neg
            case Binary(op=op, left=a, right=b):
                return self._binary(op, self.build(a), self.build(b), node)
            case Compare(ops=ops, operands=operands):
                fs = [self.build(o) for o in operands]
                fast = self._fact_compare(ops, operands, fs)
                return fast if fast is not None else self._compare(ops, fs)
            case In(operand=o, options=opts, negated=negated):
                f, options = self.build(o), frozenset(opts)

                def in_(c, m):
                    v = f(c, m)
                    if v.__class__ is Unknown:
                        return v
                    return (v in options) != negated

                return in_
            case BoolOp(op=op, values=vals):
                return self._boolop(op, [self.build(v) for v in vals])
            case IfElse(cond=cond, then=then, orelse=orelse):
                fc, ft, fe = self.build(cond), self.build(then), self.build(orelse)

                def if_(c, m):
                    v = fc(c, m)
                    if v.__class__ is Unknown:
                        return v
                    return ft(c, m) if v else fe(c, m)

                return if_
            case Call(func=fn, args=args):
                return self._call(fn, args)
            case Aggregate():
                return self._aggregate(node)
        raise TypeError(f"cannot compile {node!r}")

    def _name(self, s: Symbol) -> Fn:
        if s.kind == "param":
            return self._const(self.params[s.name])
        if s.kind == "program":
            key = f"programs.{s.name}.{s.field}"
            if not s.per_member:
                return lambda c, m: c.hh[key]
            if s.loop_var is None:
                return lambda c, m: m[key]
            var = s.loop_var
            return lambda c, m: c.loops[var][key]
        name = s.name
        if s.kind == "household" and _is_fact(name):
            return lambda c, m: c.hh[name]
        if s.kind == "member" and name in MEMBER_FACTS:
            if s.loop_var is None:
                return lambda c, m: m[name]
            var = s.loop_var
            return lambda c, m: c.loops[var][name]
        # a variable (or a monitor's ``previous.*``), kept once computed: as household_value
        # and member_value below, inlined
        if s.kind == "household":

            def hh(c, m):
                v = c.hh.get(name, _ABSENT)
                if v is _ABSENT:
                    v = c.hh[name] = c.bound.household_fns[name](c, None)
                return v

            return hh
        if s.loop_var is None:

            def member(c, m):
                v = m.get(name, _ABSENT)
                if v is _ABSENT:
                    v = m[name] = c.bound.member_fns[name](c, m)
                return v

            return member
        var = s.loop_var

        def looped(c, m):
            md = c.loops[var]
            v = md.get(name, _ABSENT)
            if v is _ABSENT:
                v = md[name] = c.bound.member_fns[name](c, md)
            return v

        return looped

    def _binary(self, op: str, fa: Fn, fb: Fn, node: Node) -> Fn:
        fn = ARITHMETIC[op]

        def binary(c, m):
            a, b = fa(c, m), fb(c, m)
            if a.__class__ is Unknown or b.__class__ is Unknown:
                return merge(a, b)
            try:
                return fn(a, b)
            except ZeroDivisionError:
                from minzheng_rules.expr._printer import to_source

                raise EvaluationError(f"division by zero in '{to_source(node)}'") from None

        return binary

    def _fact_compare(
        self, ops: tuple[str, ...], operands: tuple[Node, ...], fs: list[Fn]
    ) -> Fn | None:
        """``fact <op> constant`` on the current member or a household fact: one closure, no
        nested call (the most common condition shape, e.g. ``age >= 60``)."""
        if len(ops) != 1 or fs[1] not in self.constants or not isinstance(operands[0], Name):
            return None
        s = self.checked.symbols[id(operands[0])]
        cmp, k, name = COMPARISONS[ops[0]], self.constants[fs[1]], s.name
        if s.kind == "member" and s.loop_var is None and name in MEMBER_FACTS:

            def member_fact(c, m):
                a = m[name]
                return a if a.__class__ is Unknown else cmp(a, k)

            return member_fact
        if s.kind == "member" and name in MEMBER_FACTS:
            var = s.loop_var

            def looped_fact(c, m):
                a = c.loops[var][name]
                return a if a.__class__ is Unknown else cmp(a, k)

            return looped_fact
        if s.kind == "household" and name in HOUSEHOLD_FACTS:

            def household_fact(c, m):
                a = c.hh[name]
                return a if a.__class__ is Unknown else cmp(a, k)

            return household_fact
        return None

    def _compare(self, ops: tuple[str, ...], fs: list[Fn]) -> Fn:
        if len(ops) == 1 and fs[1] in self.constants:
            cmp, fa, k = COMPARISONS[ops[0]], fs[0], self.constants[fs[1]]

            def compare_const(c, m):
                a = fa(c, m)
                if a.__class__ is Unknown:
                    return a
                return cmp(a, k)

            return compare_const
        if len(ops) == 1:
            cmp, fa, fb = COMPARISONS[ops[0]], fs[0], fs[1]

            def compare(c, m):
                a, b = fa(c, m), fb(c, m)
                if a.__class__ is Unknown or b.__class__ is Unknown:
                    return merge(a, b)
                return cmp(a, b)

            return compare
        cmps = [COMPARISONS[o] for o in ops]

        def chain(c, m):
            values = [f(c, m) for f in fs]
            unknown = None
            for cmp, a, b in zip(cmps, values, values[1:], strict=False):
                if a.__class__ is Unknown or b.__class__ is Unknown:
                    unknown = merge(*(x for x in (unknown, a, b) if x is not None))
                elif not cmp(a, b):
                    return False
            return unknown if unknown is not None else True

        return chain

    def _boolop(self, op: str, fs: list[Fn]) -> Fn:
        stop = op == "or"  # the value that decides the whole: True for or, False for and
        if len(fs) == 2:
            fa, fb = fs

            def boolop2(c, m):
                a = fa(c, m)
                if a is stop:
                    return stop
                b = fb(c, m)
                if b is stop:
                    return stop
                if a.__class__ is Unknown:
                    return merge(a, b) if b.__class__ is Unknown else a
                return b

            return boolop2

        def boolop(c, m):
            unknown = None
            for f in fs:
                v = f(c, m)
                if v.__class__ is Unknown:
                    unknown = v if unknown is None else merge(unknown, v)
                elif v is stop:
                    return stop
            return unknown if unknown is not None else not stop

        return boolop

    def _call(self, fn: str, args: tuple[Node, ...]) -> Fn:
        if fn == "date":
            text = args[0]
            assert isinstance(text, Const) and isinstance(text.value, str)  # (the checker's rule)
            value = dt.date.fromisoformat(text.value)
            return lambda c, m: value
        if fn == "round":
            f = self.build(args[0])
            digits, mode = args[1].value, args[2].value  # type: ignore[union-attr]

            def round_(c, m):
                v = f(c, m)
                return v if v.__class__ is Unknown else quantize(v, digits, mode)

            return round_
        fs = [self.build(a) for a in args]
        if fn == "abs":
            f0 = fs[0]

            def abs_(c, m):
                v = f0(c, m)
                return v if v.__class__ is Unknown else abs(v)

            return abs_
        if fn == "clamp":
            fx, flo, fhi = fs

            def clamp(c, m):
                x, lo, hi = fx(c, m), flo(c, m), fhi(c, m)
                if Unknown in (x.__class__, lo.__class__, hi.__class__):
                    return merge(x, lo, hi)
                return min(max(x, lo), hi)

            return clamp
        pick = min if fn == "min" else max

        def minmax(c, m):
            values = [f(c, m) for f in fs]
            for v in values:
                if v.__class__ is Unknown:
                    return merge(*values)
            return pick(values)

        return minmax

    def _member_name(self, node: Node | None, var: str) -> str | None:
        """The name when ``node`` is just ``<var>.<fact or member variable>``, else None."""
        if not isinstance(node, Name):
            return None
        s = self.checked.symbols[id(node)]
        return s.name if s.kind == "member" and s.loop_var == var else None

    def _aggregate(self, node: Aggregate) -> Fn:
        var, func = node.var, node.func
        where = self.build(node.where) if node.where is not None else None
        element = self.build(node.element) if node.element is not None else None
        # the commonest shapes, ``count(m for m in members if m.x)`` and ``sum(m.y for m in
        # members if m.x)``, read each member's value straight from its dict: the same values,
        # without binding the loop variable around a closure call per member
        where_name = self._member_name(node.where, var)
        element_name = self._member_name(node.element, var)
        direct_where = node.where is None or where_name is not None
        where_fact, element_fact = where_name in MEMBER_FACTS, element_name in MEMBER_FACTS

        def direct_selected(c, m):
            """As ``bound_selected``, for no filter or a filter that is a member's name."""
            if where_name is None:
                return list(c.members), None
            chosen, unknown = [], None
            for md in c.members:
                v = md[where_name] if where_fact else md.get(where_name, _ABSENT)
                if v is _ABSENT:
                    v = md[where_name] = c.bound.member_fns[where_name](c, md)
                if v is True:
                    chosen.append(md)
                elif v.__class__ is Unknown:
                    unknown = v if unknown is None else merge(unknown, v)
            return chosen, unknown

        def bound_selected(c, m):
            """Members passing the filter, and an Unknown if some could not be judged."""
            loops = c.loops
            previous = loops.get(var)
            chosen, unknown = [], None
            for md in c.members:
                if where is None:
                    chosen.append(md)
                    continue
                loops[var] = md
                v = where(c, m)
                if v is True:
                    chosen.append(md)
                elif v.__class__ is Unknown:
                    unknown = v if unknown is None else merge(unknown, v)
            if previous is None:
                loops.pop(var, None)
            else:
                loops[var] = previous
            return chosen, unknown

        selected = direct_selected if direct_where else bound_selected

        if func == "count":

            def count(c, m):
                chosen, unknown = selected(c, m)
                return unknown if unknown is not None else len(chosen)

            return count
        assert element is not None

        def values_of(c, m):
            chosen, unknown = selected(c, m)
            if element_name is not None:
                out = []
                for md in chosen:
                    v = md[element_name] if element_fact else md.get(element_name, _ABSENT)
                    if v is _ABSENT:
                        v = md[element_name] = c.bound.member_fns[element_name](c, md)
                    out.append(v)
                return out, unknown
            loops = c.loops
            previous = loops.get(var)
            out = []
            for md in chosen:
                loops[var] = md
                out.append(element(c, m))
            if previous is None:
                loops.pop(var, None)
            else:
                loops[var] = previous
            return out, unknown

        if func in ("any", "all"):
            decisive = func == "any"

            def anyall(c, m):
                values, unknown = values_of(c, m)
                for v in values:
                    if v is decisive:
                        return decisive
                    if v.__class__ is Unknown:
                        unknown = v if unknown is None else merge(unknown, v)
                return unknown if unknown is not None else not decisive

            return anyall

        def numeric(c, m):
            values, unknown = values_of(c, m)
            if unknown is not None or any(v.__class__ is Unknown for v in values):
                return merge(*values, *([unknown] if unknown is not None else []))
            if func == "sum":
                return sum(values, 0)
            if not values:
                return 0
            return min(values) if func == "min" else max(values)

        return numeric
