"""The expression language of the packs: a whitelisted parser (no ``eval``), the type checker,
the printer and constant folding. Public: the names below; the modules are the implementation."""

from __future__ import annotations

from minzheng_rules.expr._checker import ExpressionTypeError, check
from minzheng_rules.expr._parser import ExpressionSyntaxError, parse
from minzheng_rules.expr._printer import to_source

__all__ = ["ExpressionSyntaxError", "ExpressionTypeError", "check", "parse", "to_source"]
