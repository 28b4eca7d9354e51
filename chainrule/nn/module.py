"""Module, Parameter and the containers (Sequential, ModuleList, ModuleDict), as in torch.nn."""
from collections import OrderedDict, namedtuple

import numpy as np

from ..tensor import Tensor, tensor as _tensor
from ..backend import parse_to_args, to_device
from .. import dtypes as _dt
from . import hooks


class Parameter(Tensor):
    """A leaf tensor that a Module registers as a parameter when assigned as an attribute."""

    def __new__(cls, data=None, requires_grad=True):
        t = object.__new__(cls)
        arr = np.zeros(0, dtype=np.float32) if data is None else (
            data._data if isinstance(data, Tensor) else _tensor(data)._data)
        t._data, t._grad, t._node, t._meta = arr, None, None, None
        t._requires_grad = False
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__  # print(param), as torch

    def __reduce_ex__(self, protocol):
        raise TypeError("chainrule tensors are saved with chainrule.save (safetensors), not pickle")

    def __deepcopy__(self, memo):  # copy.deepcopy(model), as torch; no pickling involved
        copied = memo[id(self)] = Parameter(self._data.copy(), self.requires_grad)
        return copied


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()  # load_state_dict's result, printed as torch's

    def __repr__(self):
        return super().__repr__() if self.missing_keys or self.unexpected_keys else "<All keys matched successfully>"


class Module:
    """Base class of every layer and model: subclass it and define ``forward``, as ``torch.nn.Module``.

    Assigning a Parameter, a Module or (with ``register_buffer``) a buffer as an attribute registers it,
    so that ``parameters()``, ``state_dict()``, ``to()``, ``train()``/``eval()`` and hooks see it.
    Calling the module runs its hooks around ``forward``.

    Shape
    -----
    - Input and output: whatever the subclass's ``forward`` takes and returns.

    Notes
    -----
    Where chainrule differs from torch: no state-dict hooks (``register_state_dict_pre_hook`` and the
    like), ``get_extra_state``/``set_extra_state``, ``set_submodule``, ``to_empty``,
    ``compile``, ``type`` or ``bfloat16``.

    Examples
    --------
    >>> class Model(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.conv1 = nn.Conv2d(1, 20, 5)
    ...         self.conv2 = nn.Conv2d(20, 20, 5)
    ...
    ...     def forward(self, x):
    ...         x = nn.functional.relu(self.conv1(x))
    ...         return nn.functional.relu(self.conv2(x))
    >>> model = Model()
    >>> model(cr.randn(1, 1, 16, 16)).shape
    chainrule.Size([1, 20, 8, 8])
    >>> [name for name, _ in model.named_parameters()]
    ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias']
    """

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    _hooks = None  # a hooks.ModuleHooks once a hook is registered

    def __call__(self, *args, **kwargs):
        if self._hooks is None:
            return self.forward(*args, **kwargs)
        return hooks.call_with_hooks(self, args, kwargs)

    # ---- hooks (nn/hooks.py) ---------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args (with_kwargs: hook(module, args, kwargs) -> None or (args, kwargs))."""
        return hooks.register(self, "forward_pre", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) -> None or a new output (with_kwargs: hook(module, args, kwargs, output))."""
        return hooks.register(self, "forward", hook, prepend, with_kwargs, always_call)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) -> None or new grad_output, before the module's input gradients."""
        return hooks.register(self, "backward_pre", hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) -> None or new grad_input (gradients of the tensor inputs)."""
        return hooks.register(self, "backward", hook, prepend)

    def register_backward_hook(self, hook):
        """torch's deprecated form; here the same as ``register_full_backward_hook``."""
        return self.register_full_backward_hook(hook)

    # ---- registration ---------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign before Module.__init__() call")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name, keep=params)  # reassigning keeps the name's place (state_dict order), as torch
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=modules)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(chainrule.nn.Parameter or None expected)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(chainrule.nn.Module or None expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(chainrule.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        for d in (self._parameters, self._buffers, self._modules):
            if d is not keep:
                d.pop(name, None)
        self._non_persistent.discard(name)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(chainrule.nn.Parameter or None required)")
        self._check_name(name, self._parameters)
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(chainrule.Tensor or None required)")
        self._check_name(name, self._buffers)
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, self._modules)
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, store):
        if not isinstance(name, str):
            raise TypeError(f"name should be a string. Got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"name can't contain \".\" and can't be empty, got {name!r}")
        if name not in store and (hasattr(type(self), name) or name in self.__dict__):
            raise KeyError(f"attribute '{name}' already exists")

    # ---- traversal ------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        memo = set() if memo is None else memo
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def get_submodule(self, target):
        """The module at a dotted path ("" is self); AttributeError naming the missing part."""
        mod = self
        for item in target.split(".") if target else ():
            if not hasattr(mod, item):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def _get_member(self, target, store, kind):
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in getattr(mod, store):
            raise AttributeError(f"{type(mod).__name__} has no {kind} `{name}`")
        return getattr(mod, store)[name]

    def get_parameter(self, target):
        return self._get_member(target, "_parameters", "parameter")

    def get_buffer(self, target):
        return self._get_member(target, "_buffers", "buffer")

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or remove_duplicate and id(v) in seen:
                    continue
                seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + name, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(name, parameter) pairs: a shared parameter once, unless ``remove_duplicate`` is False."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def share_memory(self):
        """Moves every parameter and buffer to shared memory (``Tensor.share_memory_``), as torch: processes
        started with ``chainrule.multiprocessing`` and given the module then update the same weights."""
        for t in list(self.parameters()) + list(self.buffers()):
            t.share_memory_()
        return self

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ---------------------------------------------------------------
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    # ---- state ---------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy ``state_dict``'s values into the parameters and buffers (checked as torch's); with ``assign``
        the values become them instead (parameters keep their requires_grad), sharing the dict's memory."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            value = state_dict[k]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if tuple(arr.shape) != tuple(target._data.shape):
                errors.append(f"size mismatch for {k}: copying a param with shape {list(arr.shape)} from "
                              f"checkpoint, the shape in current model is {list(target._data.shape)}.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for k, target in own.items():
            if k in state_dict:
                value = state_dict[k]
                arr = value._data if isinstance(value, Tensor) else np.asarray(value)
                if assign:
                    self._assign(k, target, value if isinstance(value, Tensor) else Tensor._make(arr))
                else:
                    target._data[...] = to_device(arr, target.device) if hasattr(arr, "shape") else arr
        return _IncompatibleKeys(missing, unexpected)

    def _assign(self, key, target, value):
        """load_state_dict(assign=True): ``value`` replaces the parameter or buffer ``target``."""
        owner_name, _, name = key.rpartition(".")
        owner = self.get_submodule(owner_name)
        if name in owner._parameters:
            value = Parameter(value, target.requires_grad)  # shares value's memory
        (owner._parameters if name in owner._parameters else owner._buffers)[name] = value

    # ---- devices and dtypes -------------------------------------------------------------------
    def _apply_arrays(self, fn):
        """Replace every parameter's and buffer's array (and grad) by fn(array), keeping identities."""
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is not None:
                        t._data = fn(t._data)
                        if t.grad is not None:
                            t.grad._data = fn(t.grad._data)
        return self

    def to(self, *args, **kwargs):
        """to(device) / to(dtype) / to(device, dtype) / to(tensor): parameters and buffers, in place."""
        dev, dtype, _ = parse_to_args(args, kwargs)
        if dev is not None:
            self._apply_arrays(lambda a: to_device(a, dev))
        if dtype is not None:
            d = _dt.to_dtype(dtype)
            if not d.is_floating_point:
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={d}")
            self._apply_arrays(lambda a: a.astype(d.np) if a.dtype.kind == "f" else a)
        return self

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def cpu(self):
        return self.to("cpu")

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    # ---- repr --------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)


class Sequential(Module):
    """A container that calls its modules in order, each on the previous one's output, as ``torch.nn.Sequential``.

    Modules are given as arguments (named "0", "1", ...) or as one OrderedDict of names to modules.
    Indexing gives a module, slicing a new Sequential; ``append`` adds one at the end.

    Parameters
    ----------
    args : Module or OrderedDict of str to Module
        The modules, in order.

    Shape
    -----
    - Input: what the first module takes.
    - Output: what the last module returns.

    Notes
    -----
    Where chainrule differs from torch: no ``insert``, ``extend``, ``pop``, ``+``, ``+=`` or ``*``.

    Examples
    --------
    >>> model = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.Conv2d(20, 64, 5), nn.ReLU())
    >>> model(cr.randn(1, 1, 16, 16)).shape
    chainrule.Size([1, 64, 8, 8])
    >>> from collections import OrderedDict
    >>> model = nn.Sequential(OrderedDict([("fc", nn.Linear(4, 2)), ("act", nn.Tanh())]))
    >>> model(cr.randn(3, 4)).shape, model[0] is model.fc, len(model[:1])
    (chainrule.Size([3, 2]), True, 1)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def _key(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for Sequential of length {n}")
        return list(self._modules)[idx % n]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx):
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(idx)]
        for k in keys:
            del self._modules[k]

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """Holds submodules in a list, registering each, as ``torch.nn.ModuleList``.

    Unlike a Python list, its modules are seen by ``parameters()``, ``to()``, ``state_dict()`` (names
    "0", "1", ...) and ``train()``. It has no forward: iterate over it in your own.

    Parameters
    ----------
    modules : iterable of Module, optional
        The modules to hold.

    Shape
    -----
    - Not callable: a container (its modules have their own shapes).

    Notes
    -----
    Where chainrule differs from torch: no ``insert``, ``pop``, ``del``, ``+`` or ``+=``; ``append``
    and ``extend`` work.

    Examples
    --------
    >>> class MyModule(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.linears = nn.ModuleList([nn.Linear(10, 10) for i in range(3)])
    ...
    ...     def forward(self, x):
    ...         for layer in self.linears:
    ...             x = layer(x)
    ...         return x
    >>> m = MyModule()
    >>> m(cr.randn(2, 10)).shape, len(list(m.parameters()))
    (chainrule.Size([2, 10]), 6)
    """
    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for ModuleList of length {n}")
        return self._modules[str(idx % n)]

    def __setitem__(self, idx, module):
        setattr(self, str(idx % len(self._modules)), module)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def forward(self, *args):
        raise NotImplementedError("ModuleList is a container; call its modules")


class ModuleDict(Module):
    """Holds submodules in an ordered dict, registering each, as ``torch.nn.ModuleDict``.

    Unlike a Python dict, its modules are seen by ``parameters()``, ``to()``, ``state_dict()`` and
    ``train()``; it keeps insertion order and has ``keys``, ``items``, ``values`` and ``update``.

    Parameters
    ----------
    modules : mapping or iterable of (str, Module) pairs, optional
        The modules to hold, by name.

    Shape
    -----
    - Not callable: a container (its modules have their own shapes).

    Notes
    -----
    Where chainrule differs from torch: no ``pop`` or ``clear`` (``del d[key]`` works).

    Examples
    --------
    >>> choices = nn.ModuleDict({"conv": nn.Conv2d(10, 10, 3), "pool": nn.MaxPool2d(3)})
    >>> x = cr.randn(1, 10, 9, 9)
    >>> choices["conv"](x).shape, choices["pool"](x).shape
    (chainrule.Size([1, 10, 7, 7]), chainrule.Size([1, 10, 3, 3]))
    >>> list(choices.keys())
    ['conv', 'pool']
    """
    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def forward(self, *args):
        raise NotImplementedError("ModuleDict is a container; call its modules")


class ParameterList(Module):
    """Holds parameters in a list, registering each (as "0", "1", ...), as ``torch.nn.ParameterList``.

    Plain tensors given to it become Parameters; it supports indexing, iteration, ``append`` and
    ``extend``.

    Parameters
    ----------
    values : iterable of Tensor, optional
        The parameters to hold.

    Shape
    -----
    - Not callable: a container (each parameter keeps its own shape).

    Notes
    -----
    Where chainrule differs from torch: no ``+=``.

    Examples
    --------
    >>> params = nn.ParameterList([nn.Parameter(cr.randn(10, 10)) for i in range(3)])
    >>> params.append(cr.zeros(2))
    ParameterList(...)
    >>> len(params), type(params[3]).__name__, params[3].shape
    (4, 'Parameter', chainrule.Size([2]))
    """

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def _key(self, idx):
        n = len(self._parameters)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[self._key(idx)]

    def __setitem__(self, idx, param):
        self.register_parameter(self._key(idx), _as_parameter(param))

    def append(self, value):
        self.register_parameter(str(len(self._parameters)), _as_parameter(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for k, p in self._parameters.items())

    def forward(self, *args):
        raise NotImplementedError("ParameterList is a container; use its parameters")


class ParameterDict(Module):
    """Holds parameters by name in insertion order, registering each, as ``torch.nn.ParameterDict``.

    Plain tensors given to it become Parameters; it has ``keys``, ``items``, ``values``, ``get``,
    ``pop`` and ``update``.

    Parameters
    ----------
    parameters : mapping or iterable of (str, Tensor) pairs, optional
        The parameters to hold, by name.

    Shape
    -----
    - Not callable: a container (each parameter keeps its own shape).

    Notes
    -----
    Where chainrule differs from torch: no ``clear``, ``copy``, ``fromkeys``, ``popitem``,
    ``setdefault`` or ``reversed``.

    Examples
    --------
    >>> params = nn.ParameterDict({"left": nn.Parameter(cr.randn(5, 10)), "right": cr.randn(5, 10)})
    >>> x = cr.randn(2, 5)
    >>> (x @ params["right"]).shape, type(params["right"]).__name__
    (chainrule.Size([2, 10]), 'Parameter')
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        return self._parameters.pop(key)

    def update(self, parameters):
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for k, v in items:
            self[k] = v

    def forward(self, *args):
        raise NotImplementedError("ParameterDict is a container; use its parameters")


def _as_parameter(value):
    if isinstance(value, Parameter) or value is None:
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"cannot assign '{type(value).__name__}' as a parameter (chainrule.Tensor or Parameter expected)")
