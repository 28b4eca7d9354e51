"""Primitive ops, one module per kind; every op is one entry in ``registry.OPS``."""
from .registry import Op, OPS, apply
from . import elementwise, reduce, movement, linalg, nn

__all__ = ["Op", "OPS", "apply", "elementwise", "reduce", "movement", "linalg", "nn"]
