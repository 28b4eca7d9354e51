"""The Tensor core: an array (NumPy or CuPy), its dtype and device, the autograd fields (grad,
requires_grad, the graph node that produced it), backward and hooks, and its repr.

Everything else a Tensor does (arithmetic, reductions, reshaping, indexing, in-place updates,
conversions) is in the modules beside this one, one per kind as in ``chainrule.ops``, and is
attached by the variants table in ``chainrule/tensor/__init__.py``.
"""
import weakref

import numpy as np

from .. import dtypes as _dt
from ..autograd import engine
from ..backend import namespace, device_of, FP_STATE, FP_QUIET
from ..ops.args import dim as _dim, leaf_array

_ndarray = np.ndarray
_new = object.__new__


class Size(tuple):
    """torch.Size: a tuple of ints with a torch-like repr."""

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """_data: the array; _grad: the accumulated gradient (a Tensor) or None (the ``grad`` property,
    tensor/inplace.py: assignments checked); _requires_grad;
    _node: the graph node that produced it (None for a leaf); _meta: rarely used extras (hooks,
    name, retains_grad), None otherwise."""
    __slots__ = ("_data", "_grad", "_requires_grad", "_node", "_meta", "__weakref__")
    __array_ufunc__ = None  # make numpy defer to our reflected operators

    def __init__(self, *args, requires_grad=False):
        """torch's legacy constructor: ``Tensor(2, 3)`` is uninitialised (zeros here) of the default
        dtype, ``Tensor(sequence)`` converts to the default dtype, ``Tensor(tensor)`` shares it."""
        if len(args) == 1 and isinstance(args[0], Tensor):
            data = args[0]._data
        elif args and all(isinstance(a, int) and not isinstance(a, bool) for a in args) or not args:
            data = np.zeros(args if args else (0,), dtype=_dt.get_default_dtype().np)
        elif len(args) == 1:
            data = np.asarray(leaf_array(args[0]), dtype=_dt.get_default_dtype().np)
        else:
            raise TypeError(f"Tensor(): expected sizes (ints) or one sequence, got {args!r}")
        self._data, self._grad, self._requires_grad, self._node, self._meta = data, None, False, None, None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, node=None):
        """Wrap an array without copying; ``node`` is the graph node that produced it."""
        t = _new(Tensor)
        t._data = data
        t._grad = None
        t._requires_grad = node is not None
        t._node = node
        t._meta = None
        return t

    # ---- storage, dtype, device ----------------------------------------------------------------
    @property
    def shape(self):
        """The size of each dim, a ``chainrule.Size`` (a tuple), as ``torch.Tensor.shape``."""
        return Size(self._data.shape)

    @property
    def dtype(self):
        """The element type, a ``chainrule.dtype`` such as ``chainrule.float32``."""
        return _dt.from_numpy(self._data.dtype)

    @property
    def ndim(self):
        """The number of dims, as ``torch.Tensor.ndim``."""
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def size(self, dim=None):
        """The shape, or the size of dim ``dim`` when given, as ``torch.Tensor.size``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim, "size")]

    def numel(self):
        """The number of elements, as ``torch.Tensor.numel`` (alias ``nelement``)."""
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def is_floating_point(self):
        """True for a floating-point dtype, as ``torch.is_floating_point``."""
        return self._data.dtype.kind == "f"

    @property
    def device(self):
        """The device holding the data (``cpu`` or ``cuda:N``), as ``torch.Tensor.device``."""
        return device_of(self._data)

    @property
    def is_cuda(self):
        return type(self._data) is not _ndarray

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        """copy.deepcopy and in-process pickling (DataLoader workers): a leaf with the data, the
        requires_grad flag and the gradient; no history, no view links."""
        return _rebuild, (self._data, self._requires_grad, self.grad)

    # ---- autograd fields ---------------------------------------------------------------------
    @property
    def requires_grad(self):
        """Whether autograd records operations on this tensor (settable on leaves), as torch's."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if self._node is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want "
                               "to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got {self.dtype})")
        if self._node is None:
            self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        """True for a tensor not produced by a recorded op (backward fills its ``grad``), as torch's."""
        return self._node is None

    @property
    def grad_fn(self):
        """The graph node that produced this tensor, None for a leaf, as ``torch.Tensor.grad_fn``."""
        return self._node

    @property
    def name(self):
        return None if self._meta is None else self._meta.get("name")

    @name.setter
    def name(self, value):
        self._set_meta("name", value)

    def _set_meta(self, key, value):
        if self._meta is None:
            self._meta = {}
        self._meta[key] = value

    def detach(self):
        """A new tensor sharing this one's data, cut from the graph, as ``torch.Tensor.detach``."""
        return Tensor._make(self._data)

    @property
    def data(self):
        """As torch: a Tensor sharing this one's memory, with no history, so writes through it
        (``p.data.add_(..)``) change the values without autograd seeing them."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data = value._data

    def detach_(self):
        """Cuts this tensor from the graph in place (views raise), as ``torch.Tensor.detach_``."""
        if self._node is not None and self._meta and self._meta.get("view_of"):
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._node = None
        self._requires_grad = False
        return self

    # ---- backward and hooks ------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulates d(self)/d(leaf) into each leaf's ``grad``, as ``torch.Tensor.backward`` (``gradient``
        needed when non-scalar); unlike torch, ``inputs=`` raises NotImplementedError: use autograd.grad."""
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if inputs is not None:
            raise NotImplementedError("backward(inputs=...) is not supported; use chainrule.autograd.grad")
        g = root_grad(self, gradient, create_graph)
        run_backward([self], [g], create_graph if retain_graph is None else retain_graph, create_graph)

    def register_hook(self, hook):
        """hook(grad) -> new grad or None, run when this tensor's gradient is computed."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is None:
            if self._meta is None or "hooks" not in self._meta:
                self._set_meta("hooks", [])
            self._meta["hooks"].append(hook)
        else:
            self._node.register_hook(hook)
            hooks = self._node.hooks
            retain = [h for h in hooks if isinstance(h, _RetainGrad)]
            if retain:  # torch runs the retain_grad hook after all others
                hooks.remove(retain[0])
                hooks.append(retain[0])
        return _HookHandle(self, hook)

    def retain_grad(self):
        """Makes this non-leaf tensor keep its ``grad`` after backward, as ``torch.Tensor.retain_grad``."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is None or (self._meta and self._meta.get("retains_grad")):
            return
        self._set_meta("retains_grad", True)
        self._node.register_hook(_RetainGrad(self))

    @property
    def retains_grad(self):
        return bool(self._meta and self._meta.get("retains_grad"))

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return repr(self)


def _rebuild(data, requires_grad, grad):
    t = Tensor._make(data)
    t._requires_grad, t._grad = requires_grad, grad
    return t


def run_backward(*args, **kw):  # engine.run_backward, its rules without NumPy FP warnings (as ops.registry.apply)
    fp = FP_STATE.set(FP_QUIET)
    try:
        return engine.run_backward(*args, **kw)
    finally:
        FP_STATE.reset(fp)


def root_grad(t, gradient, create_graph):
    """The gradient backward starts from at ``t``: ones for a scalar, else ``gradient`` checked."""
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs (got shape "
                               f"{list(t._data.shape)})")
        g = namespace(t._data).empty(t._data.shape, t._data.dtype)
        g.fill(1)
        return Tensor._make(g) if create_graph else g
    if not isinstance(gradient, Tensor):
        gradient = Tensor._make(leaf_array(gradient, dtype=t.dtype))
    if gradient._data.shape != t._data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {list(gradient._data.shape)} "
                           f"and output[0] has a shape of {list(t._data.shape)}.")
    if create_graph:
        return gradient
    return gradient._data.astype(t._data.dtype, copy=True)


class _RetainGrad:
    """The hook retain_grad() puts on a non-leaf: stores the gradient on the tensor (weakly held)."""
    __slots__ = ("ref",)

    def __init__(self, t):
        self.ref = weakref.ref(t)

    def __call__(self, g):
        t = self.ref()
        if t is not None:
            if t._grad is None:
                t._grad = g if g._node is not None else Tensor._make(g._data.copy())
            else:
                t._grad = t._grad + g
        return None


class _HookHandle:
    def __init__(self, t, hook):
        self.t, self.hook = t, hook

    def remove(self):
        hooks = self.t._node.hooks if self.t._node is not None else (self.t._meta or {}).get("hooks", [])
        if hooks and self.hook in hooks:
            hooks.remove(self.hook)
