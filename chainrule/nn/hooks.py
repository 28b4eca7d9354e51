"""Module hooks, as torch.nn.Module's: forward pre-hooks, forward hooks and full backward hooks.

A module with no hooks is called straight (``Module.__call__`` checks one attribute); the first
registered hook gives the module a ``ModuleHooks`` and its calls go through ``call_with_hooks``.
A full backward hook sees the gradients of the module's tensor inputs and outputs: as in torch,
the inputs and outputs pass through an identity Function each, whose backward calls the hooks.
"""
from collections import OrderedDict
import itertools

from ..tensor import Tensor
from ..autograd.function import Function

_ids = itertools.count()


class RemovableHandle:
    """Returned by every ``register_*_hook``: ``remove()`` (or leaving a ``with`` block) drops the hook."""

    def __init__(self, store):
        self.id = next(_ids)
        self._store = store

    def remove(self):
        self._store.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class ModuleHooks:
    __slots__ = ("forward_pre", "forward", "backward_pre", "backward", "with_kwargs", "always_call")

    def __init__(self):
        self.forward_pre, self.forward = OrderedDict(), OrderedDict()
        self.backward_pre, self.backward = OrderedDict(), OrderedDict()
        self.with_kwargs, self.always_call = set(), set()


def register(module, kind, hook, prepend=False, with_kwargs=False, always_call=False):
    if not callable(hook):
        raise TypeError(f"register_{kind}_hook: hook must be callable, got {type(hook).__name__}")
    hooks = module.__dict__.get("_hooks")
    if hooks is None:
        hooks = ModuleHooks()
        object.__setattr__(module, "_hooks", hooks)
    store = getattr(hooks, kind)
    handle = RemovableHandle(store)
    store[handle.id] = hook
    if prepend:
        store.move_to_end(handle.id, last=False)
    if with_kwargs:
        hooks.with_kwargs.add(handle.id)
    if always_call:
        hooks.always_call.add(handle.id)
    return handle


def call_with_hooks(module, args, kwargs):
    hooks = module._hooks
    for hid, hook in list(hooks.forward_pre.items()):
        if hid in hooks.with_kwargs:
            res = hook(module, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {res}.")
                args, kwargs = res
        else:
            res = hook(module, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    backward = _BackwardHooks(module, hooks) if hooks.backward or hooks.backward_pre else None
    if backward is not None:
        args = backward.wrap_inputs(args)
    try:
        out = module.forward(*args, **kwargs)
    except Exception:
        for hid, hook in list(hooks.forward.items()):
            if hid in hooks.always_call:
                hook(module, args, kwargs, None) if hid in hooks.with_kwargs else hook(module, args, None)
        raise
    for hid, hook in list(hooks.forward.items()):
        res = hook(module, args, kwargs, out) if hid in hooks.with_kwargs else hook(module, args, out)
        if res is not None:
            out = res
    return out if backward is None else backward.wrap_outputs(out)


class _BackwardHooks:
    """One call's full backward hooks: grad_output is caught by the identity on the outputs, then
    the identity on the inputs hands grad_input to the hooks (or, with no input needing a
    gradient, the output identity calls them with grad_input None)."""

    def __init__(self, module, hooks):
        self.module, self.hooks = module, hooks
        self.n_inputs, self.input_slots, self.grad_output = 0, [], None

    def wrap_inputs(self, args):
        tensors = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        positions = [i for i in tensors if args[i].requires_grad]
        self.n_inputs = len(tensors)
        self.input_slots = [tensors.index(i) for i in positions]   # their places in grad_input
        if not positions:
            return args
        wrapped = list(args)
        for i, t in zip(positions, _Identity.apply(self._on_inputs, *(args[i] for i in positions))):
            wrapped[i] = t
        return tuple(wrapped)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        outs = (out,) if single else out
        if not isinstance(outs, (tuple, list)):
            return out
        positions = [i for i, t in enumerate(outs) if isinstance(t, Tensor) and t.requires_grad]
        if not positions:
            return out
        wrapped = list(outs)
        for i, t in zip(positions, _Identity.apply(self._on_outputs, *(outs[i] for i in positions))):
            wrapped[i] = t
        return wrapped[0] if single else type(outs)(wrapped)

    def _on_outputs(self, grads):
        grads = tuple(grads)
        for hook in list(self.hooks.backward_pre.values()):
            res = hook(self.module, grads)
            if res is not None:
                grads = tuple(res)
        self.grad_output = grads
        if not self.input_slots:
            self._run((None,) * self.n_inputs)
        return grads

    def _on_inputs(self, grads):
        full = [None] * self.n_inputs
        for slot, g in zip(self.input_slots, grads):
            full[slot] = g
        new = self._run(tuple(full))
        return tuple(new[slot] for slot in self.input_slots)

    def _run(self, grad_input):
        for hook in list(self.hooks.backward.values()):
            res = hook(self.module, grad_input, self.grad_output)
            if res is not None:
                if len(res) != len(grad_input):
                    raise RuntimeError(f"backward hook returned an invalid number of grad_input, got {len(res)}, "
                                       f"but expected {len(grad_input)}")
                grad_input = tuple(res)
        return grad_input


class _Identity(Function):
    """Passes tensors through unchanged (sharing memory); its backward hands the gradients to ``on_grads``."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        return tuple(Tensor._make(t._data) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.on_grads(grads))
