"""The reference backend: one household at a time, on compiled Python closures, with a trace."""

from minzheng_rules.backends.reference._evaluator import ReferenceEvaluator, bind, evaluate

__all__ = ["ReferenceEvaluator", "bind", "evaluate"]
