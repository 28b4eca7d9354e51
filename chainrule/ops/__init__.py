"""Primitive ops, one module per kind; every op is one entry in ``registry.OPS``."""
from .registry import Op, OPS, apply, bind_tensor_type
from . import elementwise, compare, reduce, movement, linalg, nn
from . import scan
from . import rnn
from . import loss

__all__ = ["Op", "OPS", "apply", "bind_tensor_type", "elementwise", "compare", "reduce", "movement", "linalg", "nn", "scan", "rnn", "loss"]
