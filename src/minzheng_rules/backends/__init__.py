"""Backends: a bound plan in, each program's status and exact amount out (the contract,
:class:`Backend`). Two implement it: :mod:`.reference` (one household at a time, with a trace)
and :mod:`.vectorized` (whole registers, Polars). Public: the names below and those two
subpackages' own; the modules are the implementation."""

from __future__ import annotations

from minzheng_rules.backends._base import Answer, Backend

__all__ = ["Answer", "Backend"]
