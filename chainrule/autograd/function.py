"""User-defined differentiable functions (torch.autograd.Function) and autograd.grad."""
from ..ops.registry import Op
from .node import Node
from . import engine
from .grad_mode import no_grad, state as _grad_state
from ..backend import namespace


class FunctionCtx:
    """The ``ctx`` a custom Function's forward and backward share."""

    def __init__(self):
        self.to_save = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    @property
    def saved_tensors(self):
        if self.to_save is None:
            raise RuntimeError(engine._FREED)
        return self.to_save

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


class _FunctionBackward(Op):
    """Runs a user Function's backward (on Tensors) from the engine."""

    @staticmethod
    def backward(ctx, xp, g, out):
        from ..tensor import Tensor
        fn_cls, fctx, positions, shapes = ctx.saved
        graph_mode = isinstance(g, Tensor)
        grads = fn_cls.backward(fctx, g if graph_mode else Tensor._make(g))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != fctx.n_args:
            raise RuntimeError(f"function {fn_cls.__name__}Backward returned an incorrect number of "
                               f"gradients (expected {fctx.n_args}, got {len(grads)})")
        picked = []
        for i in positions:
            gi = grads[i]
            if gi is not None and not isinstance(gi, Tensor):
                raise TypeError(f"function {fn_cls.__name__}Backward returned a gradient of type "
                                f"{type(gi).__name__} for input {i}; expected a Tensor or None")
            if gi is not None and gi.data.shape != shapes[i] and not _reduces_to(gi.data.shape, shapes[i]):
                raise RuntimeError(f"function {fn_cls.__name__}Backward returned an invalid gradient at index "
                                   f"{i} - got {list(gi.data.shape)} but expected shape compatible with "
                                   f"{list(shapes[i])}")
            picked.append(gi if gi is None or graph_mode else gi.data)
        return picked


def _reduces_to(grad_shape, shape):
    """Whether a gradient of ``grad_shape`` is ``shape`` broadcast (the engine sums it back)."""
    if len(grad_shape) < len(shape):
        return False
    tail = grad_shape[len(grad_shape) - len(shape):]
    return all(n == m or n == 1 for n, m in zip(shape, tail))


class Function:
    """Subclass with ``@staticmethod forward(ctx, *args)`` and ``@staticmethod backward(ctx,
    *grad_outputs)``; call with ``MyFn.apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor
        ctx = FunctionCtx()
        ctx.n_args = len(args)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a single Tensor (got {type(out).__name__})")
        if not (_grad_state.enabled and any(ctx.needs_input_grad)):
            return out
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        node = Node(_FunctionBackward, namespace(out.data))  # the engine sums broadcast grads with it
        node.parents = tuple(args[i]._node if args[i]._node is not None else (args[i] if args[i]._rg else None)
                             for i in positions)
        node.needs = tuple(p is not None for p in node.parents)
        node.saved = (cls, ctx, positions, {i: args[i].data.shape for i in positions})
        node.shape, node.dtype = out.data.shape, out.data.dtype
        node.label = cls.__name__ + "Backward"
        return Tensor._make(out.data, node)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs`` (nothing accumulates into .grad)."""
    from ..tensor import Tensor, _root_grad
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    inputs_list = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} grad_outputs "
                           f"and {len(outputs)} outputs")
    for i, t in enumerate(inputs_list):
        if not t._rg:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    for o in outputs:
        if not o._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    roots = [_root_grad(o, g, create_graph, "grad") for o, g in zip(outputs, grad_outputs)]
    found = engine.run_backward(outputs, roots, create_graph if retain_graph is None else retain_graph,
                                create_graph, capture=inputs_list)
    result = []
    for i, g in enumerate(found):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the desired behavior.")
            result.append(None)
        elif create_graph:
            result.append(g)
        else:
            result.append(Tensor._make(namespace(g).array(g)))  # an owned copy
    return tuple(result)
