"""Reverse-mode automatic differentiation: graph nodes, the backward engine, grad mode,
custom Functions, ``grad`` and ``gradcheck``.

Two layers share this package. Graph nodes, grad mode and the backward walk sit below the ops
and the Tensor; ``Function``, ``grad`` and ``gradcheck`` are built on Tensors, above them, so
they load on first use (importing them here would make every op import the Tensor).
"""
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from .node import Node
from . import engine
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled

_ABOVE_TENSOR = {"Function": "function", "FunctionCtx": "function", "grad": "function",
                 "Variable": "function", "gradcheck": "numerical", "gradgradcheck": "numerical", "GradcheckError": "numerical"}

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "Function",
           "FunctionCtx", "grad", "gradcheck", "gradgradcheck", "GradcheckError", "Node", "engine",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "Variable"]


def __getattr__(name):
    if name in ("functional", "profiler", "forward_ad"):  # torch.autograd's functional, profiler and forward_ad
        import importlib
        return importlib.import_module(f".{name}", __name__)
    module = _ABOVE_TENSOR.get(name)
    if module is None:
        raise AttributeError(f"module 'chainrule.autograd' has no attribute '{name}'")
    import importlib
    value = globals()[name] = getattr(importlib.import_module(f".{module}", __name__), name)
    return value  # cached here
