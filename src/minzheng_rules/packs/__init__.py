"""Policy packs: loading (safe YAML, inheritance), the schema, checking, the checked
:class:`Pack` (which knows nothing of backends) and the :class:`BoundPlan` every backend runs:
a pack on a date. Public: the names below; the modules are the implementation."""

from __future__ import annotations

from minzheng_rules.packs._discovery import available_packs
from minzheng_rules.packs._pack import Pack, ParameterValue, load_pack
from minzheng_rules.packs._plan import BoundPlan

__all__ = ["BoundPlan", "Pack", "ParameterValue", "available_packs", "load_pack"]
