"""User-defined differentiable functions (torch.autograd.Function) and autograd.grad."""
from ..ops.registry import Op
from ..tensor import Tensor, root_grad
from ..tensor.core import run_backward
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
        fn_cls, fctx, positions, shapes, outputs = ctx.saved
        # under create_graph the gradients are Tensors, and so must be what backward returns
        graph_mode = isinstance(next(iter(g.by_index.values())) if outputs is not None else g, Tensor)
        if outputs is None:  # one output
            grads = fn_cls.backward(fctx, g if graph_mode else Tensor._make(g))
        else:  # gradients of the outputs nothing used are zeros, as torch materialises them
            given = g.by_index
            grad_outputs = []
            for k, meta in enumerate(outputs):
                if meta is None:
                    grad_outputs.append(None)
                elif k in given:
                    grad_outputs.append(given[k] if graph_mode else Tensor._make(given[k]))
                else:
                    grad_outputs.append(Tensor._make(meta[0].zeros(meta[1], dtype=meta[2])))
            grads = fn_cls.backward(fctx, *grad_outputs)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) > fctx.n_args and all(gi is None for gi in grads[fctx.n_args:]):
            grads = grads[:fctx.n_args]  # trailing Nones beyond the inputs, as torch accepts
        if len(grads) != fctx.n_args:
            raise RuntimeError(f"function {fn_cls.__name__}Backward returned an incorrect number of "
                               f"gradients (expected {fctx.n_args}, got {len(grads)})")
        picked = []
        for i in positions:
            gi = grads[i]
            if gi is not None and not isinstance(gi, Tensor):
                raise TypeError(f"function {fn_cls.__name__}Backward returned a gradient of type "
                                f"{type(gi).__name__} for input {i}; expected a Tensor or None")
            if gi is not None and gi._data.shape != shapes[i] and not _reduces_to(gi._data.shape, shapes[i]):
                raise RuntimeError(f"function {fn_cls.__name__}Backward returned an invalid gradient at index "
                                   f"{i} - got {list(gi._data.shape)} but expected shape compatible with "
                                   f"{list(shapes[i])}")
            picked.append(gi if gi is None or graph_mode else gi._data)
        return picked


class _OutputGrads:
    """The gradients reaching the outputs of a multi-output Function, by output index. The
    engine adds up a node's incoming gradients with ``+``, so this merges them."""
    __slots__ = ("by_index",)
    shape = ()     # matches the Function node's, so the engine leaves it as it is
    dtype = None

    def __init__(self, by_index):
        self.by_index = by_index

    def __add__(self, other):
        merged = dict(self.by_index)
        for k, v in other.by_index.items():
            merged[k] = merged[k] + v if k in merged else v
        return _OutputGrads(merged)


class _OutputOf(Op):
    """Output k of a multi-output Function: passes its gradient to the Function's node, filed
    under k."""

    @staticmethod
    def backward(ctx, xp, g, out):
        return (_OutputGrads({ctx.saved: g}),)


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
        ctx = FunctionCtx()
        ctx.n_args = len(args)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        if not multi and not isinstance(out, Tensor) or multi and not any(isinstance(o, Tensor) for o in outs):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor or a tuple of Tensors "
                            f"(got {type(out).__name__})")
        if not (_grad_state.enabled and any(ctx.needs_input_grad)):
            return out
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        first = next(o for o in outs if isinstance(o, Tensor))
        xp = namespace(first._data)
        node = Node(_FunctionBackward, xp)  # the engine sums broadcast grads with it
        node.parents = tuple(args[i]._node if args[i]._node is not None else (args[i] if args[i]._requires_grad else None)
                             for i in positions)
        node.needs = tuple(p is not None for p in node.parents)
        node.label = cls.__name__ + "Backward"
        shapes = {i: args[i]._data.shape for i in positions}
        if not multi:
            node.saved = (cls, ctx, positions, shapes, None)
            node.shape, node.dtype = out._data.shape, out._data.dtype
            result = Tensor._make(out._data, node)
            _save_results(ctx, args, {id(out): result})
            return result
        # several outputs: one small node per differentiable output feeds the Function's node
        node.shape, node.dtype = _OutputGrads.shape, _OutputGrads.dtype
        metas, results = [], []
        for k, o in enumerate(outs):
            if not (isinstance(o, Tensor) and o._data.dtype.kind in "fc"):
                metas.append(None)  # not differentiable (an integer tensor, a number): passed as is
                results.append(o)
                continue
            metas.append((namespace(o._data), o._data.shape, o._data.dtype))
            out_node = Node(_OutputOf, xp)
            out_node.parents, out_node.needs, out_node.saved = (node,), (True,), k
            out_node.shape, out_node.dtype = o._data.shape, o._data.dtype
            out_node.label = node.label
            results.append(Tensor._make(o._data, out_node))
        node.saved = (cls, ctx, positions, shapes, metas)
        _save_results(ctx, args, {id(o): r for o, r in zip(outs, results) if isinstance(o, Tensor)})
        return tuple(results)


def _save_results(ctx, args, results):
    """Saved outputs become the returned, graph-connected ones (as torch unpacks them): exp's ``r * g`` then
    has a second derivative. An output that is an input stays."""
    if ctx.to_save:
        inputs = {id(a) for a in args}
        ctx.to_save = tuple(t if id(t) in inputs else results.get(id(t), t) for t in ctx.to_save)


def once_differentiable(backward):
    """A Function's backward decorator, as torch's: it runs without recording, and under create_graph its
    gradients raise if differentiated again (instead of a silent zero second derivative)."""
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            grads = backward(ctx, *grad_outputs)
        links = [g for g in grad_outputs if isinstance(g, Tensor) and g._requires_grad]
        if not (_grad_state.enabled and links):
            return grads
        marked = tuple(_Once.apply(g, *links) if isinstance(g, Tensor) else g for g in
                       (grads if isinstance(grads, tuple) else (grads,)))
        return marked if isinstance(grads, tuple) else marked[0]
    wrapper.__name__, wrapper.__doc__ = backward.__name__, backward.__doc__
    return wrapper


class _Once(Function):  # a once_differentiable gradient, linked to the upstream ones: differentiating it raises
    @staticmethod
    def forward(ctx, g, *links):
        return g.clone()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs`` (nothing accumulates into .grad).
    ``only_inputs`` is ignored (deprecated in torch); ``materialize_grads``: zeros for unused inputs."""
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True (vmap over grad_outputs) is not supported")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    inputs_list = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} grad_outputs "
                           f"and {len(outputs)} outputs")
    for i, t in enumerate(inputs_list):
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    for o in outputs:
        if not o._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    roots = [root_grad(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    found = run_backward(outputs, roots, create_graph if retain_graph is None else retain_graph,
                         create_graph, capture=inputs_list)
    result = []
    for i, g in enumerate(found):
        if g is None and materialize_grads:
            result.append(Tensor._make(namespace(inputs_list[i]._data).zeros_like(inputs_list[i]._data)))
        elif g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the desired behavior.")
            result.append(None)
        elif create_graph:
            result.append(g)
        else:
            result.append(Tensor._make(namespace(g).array(g)))  # an owned copy
    return tuple(result)


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """Deprecated torch.autograd.Variable (old programs): every Tensor is one; ``Variable(t, requires_grad)``
    is a history-free alias of ``t`` (``volatile`` has no effect)."""
    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:  # Variable() and Variable(None): an empty tensor of the default dtype, as torch
            from ..tensor.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
