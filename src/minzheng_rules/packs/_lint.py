"""What ``minzheng validate`` adds to loading: the values a city or county pack must still
give before it can evaluate, and parameters a pack defines that nothing uses (a misspelt
name defines a new, unused parameter and leaves the inherited one unset)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from minzheng_rules.model._errors import PackError, suggest
from minzheng_rules.packs import _schema as S
from minzheng_rules.packs._loader import PackDefinition

# pack levels whose packs are evaluated directly: they must leave nothing to a lower pack
EVALUATED_LEVELS = ("city", "county")

_EXPRESSION_FIELDS = ("formula", "when", "then", "default", "amount", "assume")


def unset_parameters(d: PackDefinition) -> list[tuple[str, S.Parameter]]:
    """Parameters the chain declares with ``set_by`` and nobody has valued yet, in the order
    their declaring files list them."""
    return [
        (name, p)
        for name, p in d.parameters.items()
        if p.set_by is not None and ("parameters", name) not in d.broken
    ]


def unset_errors(d: PackDefinition) -> list[PackError]:
    """For a city or county pack: one sentence per value still to be set, at the line that
    declares it (this pack's placeholder, or the parent's declaration)."""
    if d.manifest.level not in EVALUATED_LEVELS:
        return []
    out = []
    for name, p in unset_parameters(d):
        origin = d.origin("parameters", name)
        owner = d.packs.get(f"parameters:{name}", "?")
        if owner == d.manifest.id:
            how = f"replace 'set_by: {p.set_by}' with a dated 'history'"
            origin = origin.at("set_by")
        else:
            how = f"give it a dated 'history' in this pack (declared by {owner})"
        out.append(
            PackError(
                f"parameter '{name}' ({p.label.zh} / {p.label.en}; {p.unit.value}, {p.type}) "
                f"has no value yet: it is left to the {p.set_by} pack; {how}",
                file=origin.file,
                line=origin.line,
                name=name,
            )
        )
    return out


def _expressions(obj: Any) -> Iterator[str]:
    """Every expression text inside a pack section's models."""
    if isinstance(obj, BaseModel):
        for key in type(obj).model_fields:
            value = getattr(obj, key)
            if key in _EXPRESSION_FIELDS and isinstance(value, str):
                yield value
            else:
                yield from _expressions(value)
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _expressions(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _expressions(value)


def read_parameters(d: PackDefinition) -> set[str]:
    """Names of the parameters some rule, alert or invariant of the merged pack reads."""
    text = "\n".join(
        _expressions(
            [
                d.parameters,
                d.variables,
                d.tables,
                d.programs,
                d.tags,
                d.needs,
                d.assistance,
                d.alerts,
                d.invariants,
            ]
        )
    )
    found = set(re.findall(r"\bp\.([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)", text))
    found |= {i.parameter for i in d.invariants.values() if i.parameter}
    return found


def _engine_parameters() -> set[str]:
    """Parameters the engine itself reads (the monitor's visiting periods), not a rule."""
    return {S.HIGH_TIER_MONTHS, S.PHASE_OUT_MONTHS}


def unused_warnings(d: PackDefinition) -> list[PackError]:
    """Parameters a city or county pack adds (not overriding an inherited one) that nothing
    reads, each with the closest inherited name it may have meant. A national or province
    pack's parameters are offered to the packs below it, so they are not flagged."""
    if d.manifest.level not in EVALUATED_LEVELS:
        return []
    read = read_parameters(d) | _engine_parameters()
    mine = {
        name
        for name in d.parameters
        if d.packs.get(f"parameters:{name}") == d.manifest.id
        and ("parameters", name) not in d.overrides
    }
    inherited = [n for n in d.parameters if n not in mine]
    out = []
    for name in sorted(mine - read, key=lambda n: (d.origin("parameters", n).line or 0, n)):
        origin = d.origin("parameters", name)
        hint = suggest(name, inherited)
        out.append(
            PackError(
                f"parameter '{name}' is defined here but no rule reads it and it overrides no "
                "inherited parameter",
                file=origin.file,
                line=origin.line,
                name=name,
                suggestion=hint,
            )
        )
    return out
