"""Reverse-mode automatic differentiation: graph nodes, the backward engine, grad mode,
custom Functions, ``grad`` and ``gradcheck``."""
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from .function import Function, FunctionCtx, grad
from .gradcheck import gradcheck, GradcheckError
from .node import Node
from . import engine

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "Function",
           "FunctionCtx", "grad", "gradcheck", "GradcheckError", "Node", "engine"]
