"""The op table and ``apply``: run a primitive's forward and record one graph node.

An op is a class with two static methods, written side by side in its kind's module:

    forward(ctx, xp, *arrays, **params) -> array
    backward(ctx, xp, g, out, *args)    -> one gradient (or None) per input

``xp`` is the array namespace (numpy/cupy; under create_graph the Tensor namespace), ``g`` the
gradient of the output, ``out`` the output (when ``save_out``) and ``args`` the inputs (when
``save_args``). Anything else backward needs, forward puts in ``ctx.saved``. ``ctx.needs[i]``
says whether input i needs a gradient. Broadcasting and dtype casts of the returned gradients
are undone by the engine (one ``sum_to`` for every op).
"""
import numpy as np

from ..autograd.node import Node
from ..autograd.grad_mode import state as _grad_state
from ..backend import namespace, device_of, NP

OPS = {}
_ndarray = np.ndarray
# Set by chainrule.tensor (ops sit below the Tensor type in the layering).
Tensor = None
make = None


class Op:
    save_args = False
    save_out = False
    # True where backward's rule only holds for raw arrays (fused kernels): create_graph through
    # it raises instead of silently giving wrong second derivatives.
    once_differentiable = False
    # True for a * b, a @ b and linear: backward reads each of the first two inputs only for the
    # other's gradient and no further input (so writing an input whose partner needs no gradient,
    # or linear's bias, is harmless, as in torch)
    bilinear = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        OPS[cls.__name__] = cls

    @staticmethod
    def forward(ctx, xp, *arrays, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        raise NotImplementedError


class _Discard:
    """ctx for forwards that record nothing (no_grad or no input needs a gradient)."""
    __slots__ = ()
    needs = ()

    def __setattr__(self, name, value):
        pass


_DISCARD = _Discard()


def _check_devices(op, arrays):
    devs = {str(device_of(a)) for a in arrays if hasattr(a, "shape") and not isinstance(a, np.generic)}
    if len(devs) > 1:
        a, b = sorted(devs)
        raise RuntimeError(f"{op.__name__}: expected all tensors to be on the same device, but found "
                           f"at least two devices, {b} and {a}!")


def apply(op, *inputs, **params):
    """Run ``op`` on Tensors (or Python scalars) and return the output Tensor."""
    arrays = []
    parents = []  # per input: producing Node, leaf Tensor needing grad, or None
    needs = []
    record = False
    xp = None
    for t in inputs:
        if isinstance(t, Tensor):
            a = t.data
            arrays.append(a)
            if xp is None:
                xp = NP if type(a) is _ndarray else namespace(a)
            elif (type(a) is _ndarray) is not (xp is NP):
                _check_devices(op, arrays)
            node = t._node
            if node is not None:
                parents.append(node)
                needs.append(True)
                record = True
            elif t._rg:
                parents.append(t)
                needs.append(True)
                record = True
            else:
                parents.append(None)
                needs.append(False)
        else:
            arrays.append(t)
            parents.append(None)
            needs.append(False)
    if xp is not NP and xp is not None and len(arrays) > 1:
        _check_devices(op, arrays)
    if record and _grad_state.enabled:
        node = Node(op, xp)
        node.parents = parents
        node.needs = needs
        out = op.forward(node, xp, *arrays, **params)
        if type(out) is not _ndarray and xp is NP:
            out = np.asarray(out)
        node.shape = out.shape
        node.dtype = out.dtype
        if op.save_args:
            node.args = arrays
        if op.save_out:
            node.out = out
        return make(out, node)
    out = op.forward(_DISCARD, xp, *arrays, **params)
    if type(out) is not _ndarray and xp is NP:
        out = np.asarray(out)
    return make(out)
