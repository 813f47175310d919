"""The durable_rules adapter: the only module that imports durable_rules.

Each alert becomes one rule of one ruleset. Each event becomes one fact carrying the event type
and, for every atom of every rule listening to that type, the single value the atom tests
(computed exactly in Python, see :mod:`minzheng_rules.monitor._formula`). The fact is asserted,
durable_rules fires every rule it matches, and the fact is retracted.

durable_rules' sharp edges (measured with 2.0.28, see POLICY_NOTES.md) and what this does:

* at most 1024 live sessions per ruleset, and deleting sessions crashes or breaks timers: a
  fixed set of shard sessions (default 64), chosen by a stable hash of the household id, never
  deleted;
* an event fires only the first matching rule, a fact fires them all: events are asserted as
  facts, then retracted;
* a message matching no rule raises ``MessageNotHandledException`` (after serialising the whole
  message again): the native calls are made directly and their result code read instead, and
  the actions of a matched fact are run by the same native calls as the ruleset's own
  ``do_actions`` (:meth:`DurableEngine._run_actions`), without its Python wrappers and JSON
  round trips (18 µs a matched fact, measured, against about 4 µs); a native call failing there
  leaves the session matching nothing more (and abandoning the action crashed it), so the
  ruleset is made again on a new host: nothing is lost, as no fact outlives its event;
* duplicate ids in a session raise: every fact gets a fresh sequence number as its id;
* ``set_rulesets`` mutates its argument: it gets a deep copy;
* the global host and its timer threads: a private :class:`Host` whose background dispatch
  threads are never started (no durable timers; the monitor posts its own ``tick`` events);
* exceptions in actions are swallowed into state: actions are wrapped and errors re-raised;
* joins on the ``id`` field misbehave (a fact joined on ``id`` matches once): not used;
* text is compared as written: a message's ``\\u6587`` does not match a rule's ``文``, so
  messages carry text unescaped (:func:`_message_text`); it misreads a lone surrogate's
  escape too (a rule on other text matched it), so that is replaced.

Household state is not kept as durable facts: every durable message reserves 255 property slots
(about 8.6 KB measured), so 200,000 resident household facts alone would take about 1.7 GB. The
households' facts live in the monitor (which needs them to re-evaluate the pack anyway); the
values before the event reach the rules as ``previous.*`` in the event fact.
"""

from __future__ import annotations

import copy
import json
import warnings
import zlib
from typing import Any

import durable_rules_engine as _native
import orjson
from durable import engine as _durable

from minzheng_rules.backends.reference._compiler import EvalContext
from minzheng_rules.model._values import Unknown
from minzheng_rules.monitor._alerts import AlertSet, CompiledAlert
from minzheng_rules.monitor._binding import Binding
from minzheng_rules.monitor._formula import And, Atom, Formula, Or, atom_value, atoms, compile_atom
from minzheng_rules.monitor._formula import normal_form as _normal_form

MAX_SESSIONS = 1024  # durable_rules' C limit on live sessions per ruleset
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}

warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable(\..*)?$")


class _Host(_durable.Host):
    """A private host: no background dispatch or timer threads."""

    def _run(self) -> None:
        return None


class DurableEngineError(RuntimeError):
    """durable_rules failed inside an action or refused a message."""


def _message_text(msg: dict[str, Any]) -> str:
    """A message as the native calls take it: compact JSON with text as it is (orjson, several
    times as fast as ``json.dumps``). Never ``\\uXXXX`` escapes, which durable_rules misreads:
    text that UTF-8 cannot hold (a lone surrogate, from a register's ``"\\ud800"``) is
    replaced by U+FFFD, and so, as before, equals no rule's text (packs are UTF-8)."""
    try:
        return orjson.dumps(msg).decode("utf-8")
    except orjson.JSONEncodeError:  # a lone surrogate, an integer beyond 64 bits
        text = json.dumps(msg, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _test(field: str, op: str, target: Any) -> dict[str, Any]:
    if op == "==":
        return {field: target}
    if op == "!=":
        return {"$neq": {field: target}}
    return {_OPS[op]: {field: target}}


class DurableEngine:
    """Alert rules as one durable_rules ruleset over shard sessions."""

    name = "durable"

    def __init__(self, alertset: AlertSet, shards: int = 64) -> None:
        if not 1 <= shards <= MAX_SESSIONS:
            raise ValueError(f"shards must be 1 to {MAX_SESSIONS}, got {shards}")
        self.alertset = alertset
        self.shards = shards
        self._fields: dict[int, list[tuple[str, Atom]]] = {}
        self._fired: list[int] = []
        self._errors: list[str] = []
        self._seq = 0
        self._by_index = {a.index: a for a in alertset.alerts}
        self._actions: dict[str, Any] = {}  # rule name -> its action
        rules: dict[str, Any] = {}
        for a in alertset.alerts:
            form = _normal_form(a.expr.checked)
            names = {id(atom): f"a{a.index}_{k}" for k, atom in enumerate(atoms(form))}
            self._fields[a.index] = [(names[id(atom)], atom) for atom in atoms(form)]
            if form is False:
                continue  # can never fire
            kinds = [{"t": t} for t in a.events]
            conditions: list[Any] = [kinds[0] if len(kinds) == 1 else {"$or": kinds}]
            if form is not True:
                conditions.append(self._json(form, names))
            action = self._action(a)
            self._actions[f"a{a.index}"] = action
            rules[f"a{a.index}"] = {"all": [{"e": {"$and": conditions}}], "run": action}
        self._name = f"minzheng_{alertset.pack.id}"
        self._rules = rules
        self._host: _Host | None = None
        self._ruleset: Any = None
        if rules:
            self._start()

    def _start(self) -> None:
        """A private host with the ruleset (set_rulesets mutates its argument: a deep copy)."""
        self._host = _Host()
        self._host.set_rulesets(copy.deepcopy({self._name: self._rules}))
        self._ruleset = self._host.get_ruleset(self._name)

    def _json(self, f: Formula, names: dict[int, str]) -> Any:
        if isinstance(f, And | Or):
            parts = [self._json(p, names) for p in f.parts]
            return {"$and" if isinstance(f, And) else "$or": parts}
        assert isinstance(f, Atom)
        field = names[id(f)]
        if f.kind == "bool":
            return {field: f.op == "true"}
        if f.kind == "in":
            if f.op == "in":
                options = [{field: o} for o in f.literal]
                return options[0] if len(options) == 1 else {"$or": options}
            return {"$and": [{"$neq": {field: o}} for o in f.literal]}
        if f.kind == "text":
            return _test(field, f.op, f.literal)
        if f.kind == "same" and f.op not in ("==", "!="):
            raise DurableEngineError(f"cannot order non-numeric values with '{f.op}'")
        return _test(field, f.op, 0)

    def _action(self, alert: CompiledAlert):
        index = alert.index

        def action(c: Any) -> None:
            try:
                self._fired.append(index)
            except BaseException as err:  # durable_rules would swallow it into state
                self._errors.append(f"alert {alert.id}: {err!r}")

        return action

    def _closures(self, binding: Binding) -> dict[int, list[tuple[str, Atom, tuple]]]:
        cache = binding.engine_cache.get(self.name)
        if cache is None:
            cache = {}
            for a in self.alertset.alerts:
                cache[a.index] = [
                    (field, atom, compile_atom(a.expr.checked, atom, binding.values))
                    for field, atom in self._fields[a.index]
                ]
            binding.engine_cache[self.name] = cache
        return cache

    def message(self, event: Any, ctx: EvalContext, binding: Binding) -> dict[str, Any]:
        """The fact posted for an event: its type and the value of every atom listening."""
        self._seq += 1
        shard = zlib.crc32(event.household.encode("utf-8")) % self.shards
        msg: dict[str, Any] = {"sid": str(shard), "id": str(self._seq), "t": event.type}
        closures = self._closures(binding)
        for a in self.alertset.by_event[event.type]:
            for field, atom, fns in closures[a.index]:
                v = atom_value(atom, fns, ctx)
                if v.__class__ is not Unknown:
                    msg[field] = v
        return msg

    def fire(self, event: Any, ctx: EvalContext, binding: Binding) -> list[CompiledAlert]:
        if self._ruleset is None or not self.alertset.by_event[event.type]:
            return []
        msg = self.message(event, ctx, binding)
        handle = self._ruleset._handle
        code, state = _native.assert_fact(handle, _message_text(msg))
        if code == 1:  # matched no rule; durable_rules keeps nothing
            return []
        if code != 0:
            raise DurableEngineError(f"durable_rules refused event fact {msg['id']} (code {code})")
        self._fired.clear()
        try:
            self._run_actions(handle, state)
        except DurableEngineError:
            # a session left mid-action matches nothing more (abandoning the action broke the
            # native state when tried): start again on a new host, which loses nothing, as no
            # fact outlives its event
            _native.delete_ruleset(handle)
            self._start()
            raise
        _native.retract_fact(handle, _message_text({"sid": msg["sid"], "id": msg["id"]}))
        if self._errors:
            errors, self._errors = self._errors, []
            raise DurableEngineError("; ".join(errors))
        by_index = self._by_index
        return [by_index[i] for i in sorted(set(self._fired))]

    def _run_actions(self, handle: Any, state: Any) -> None:
        """Run the action of every rule a fact matched, as ``Ruleset.do_actions`` does with the
        same native calls: start the session's pending action, run it, write the session state
        back, complete it and start the next. The actions ignore their closure (they only note
        the rule), so none is built."""
        started = _native.start_action_for_state(handle, state)
        if not started:
            return
        session, message = started
        try:
            while message:
                rule = next(iter(orjson.loads(message)))  # {rule name: the facts it matched}
                self._actions[rule](None)
                _native.update_state(handle, session)  # unchanged, as do_actions writes it back
                message = _native.complete_and_start_action(handle, state)
        except Exception as err:
            raise DurableEngineError(f"durable_rules: {err!r}") from err

    def close(self) -> None:
        self._host = self._ruleset = None
