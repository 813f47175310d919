"""YAML read safely, the same way for packs and households: PyYAML's safe loader (no Python
objects, no code) without YAML 1.1's base-60 numbers, and a nesting limit checked before the
document is composed."""

from __future__ import annotations

import re
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (about 10 × faster on the shipped packs); the
# constructor stays PyYAML's safe one either way.
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# YAML 1.1 reads ``1:30`` as the base-60 integer 90 (and ``1:30.5`` as a float): a time or a
# ratio typed in a pack would silently become another number. The loader keeps PyYAML's
# resolvers for numbers minus the sexagesimal forms, so such a value stays text (and a numeric
# field then refuses it with its line).
_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
NUMBER_RESOLVERS = {
    first: [
        (tag, {"tag:yaml.org,2002:int": _INT, "tag:yaml.org,2002:float": _FLOAT}.get(tag, rx))
        for tag, rx in resolvers
    ]
    # types-PyYAML leaves out this class attribute of the resolvers (set by add_implicit_resolver)
    for first, resolvers in SafeLoader.yaml_implicit_resolvers.items()  # type: ignore[attr-defined]
}


class PlainLoader(SafeLoader):
    """PyYAML's safe loader with these number resolvers (no ``1:30`` = 90): for YAML that is
    not a pack (a household file), read the way pack files are."""


PlainLoader.yaml_implicit_resolvers = NUMBER_RESOLVERS

MAX_DEPTH = 200  # nesting levels: packs and households use under 10


def load_shallow(text: str, loader: type) -> Any:
    """``yaml.load`` after checking the nesting depth on the parser's events (a flat loop):
    libyaml's composer recurses in C, and 100,000 nested brackets crash the process instead of
    raising. Too deep raises RecursionError, which callers report as "nested too deeply"."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise RecursionError(f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return yaml.load(text, Loader=loader)
