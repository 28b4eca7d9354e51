"""Optimizer base: option checks, parameter groups, per-parameter state, zero_grad and
torch-format state dicts; and ``descent_grads``, the maximize and L2 weight-decay part every
update function shares.

Each subclass holds its state (Tensors, so state dicts match torch's) and calls a pure update
function over lists of arrays that mutates the parameter arrays in place: no graph, no new
parameter arrays per step.

torch's implementation keywords are accepted where torch has them: ``foreach`` and ``fused`` with any
value (that one update over a group's lists is the only path), ``capturable`` and ``differentiable``
when False (True raises NotImplementedError); ``maximize`` is implemented (``descent_grads``).
"""
import numpy as np

from ..tensor import Tensor
from ..autograd import enable_grad
from ..autograd.node import note_write
from .. import dtypes as _dt
from ..backend import to_device, device_of, Device

# group keys the base class itself manages (not optimizer options)
_GROUP_KEYS = ("params", "param_names", "initial_lr")

# what torch's "Invalid ...: value" messages call an option, where not "<name> value"
_OPTION_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


class Optimizer:
    # torch's SGD tests `value < 0.0`, which NaN passes; the other optimizers `not 0.0 <= value`
    """Base class of the optimizers, as ``torch.optim.Optimizer``.

    Holds ``param_groups`` (a list of dicts: ``'params'`` and the hyper-parameters, ``defaults`` filling the
    missing ones) and ``state`` (per-parameter buffers). Subclasses implement ``step``; ``zero_grad``,
    ``add_param_group``, ``state_dict`` and ``load_state_dict`` are shared."""
    _nan_passes = False
    # the per-parameter state keys that hold a 0-d scalar, not an array shaped like the parameter
    _scalar_keys = ("step",)

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got {type(params).__module__}.{type(params).__name__}")
        self.state = {}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def _check_options(self, **options):
        """ValueError with torch's message for the first invalid option, checked in the order given
        (each optimizer passes torch's order, so several bad options report the same one as torch).
        ``betas`` is a pair in [0, 1), ``rho`` in [0, 1], ``etas`` a pair with 0 < etas[0] < 1 < etas[1];
        every other option is non-negative. A Tensor ``lr`` must have one element."""
        for name, value in options.items():
            if name == "lr" and isinstance(value, Tensor) and value.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
            if name in _RANGE_CHECKS:
                _RANGE_CHECKS[name](value)
            elif value < 0.0 if self._nan_passes else not 0.0 <= value:
                raise ValueError(f"Invalid {_OPTION_LABELS.get(name, name + ' value')}: {value}")

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        params = list(params)
        if params and all(isinstance(p, tuple) for p in params):  # named parameters
            param_group["param_names"] = [n for n, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        unknown = [k for k in param_group if k not in self.defaults and k not in _GROUP_KEYS]
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown option(s) {unknown} in parameter group; "
                             f"valid options are {sorted(self.defaults)}")
        param_group["params"] = params
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        if param_group.get("fused") and param_group.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for flag in _UNSUPPORTED_FLAGS:
            if param_group.get(flag):
                raise NotImplementedError(f"{type(self).__name__}: {flag}=True is not supported by chainrule "
                                          f"({_UNSUPPORTED_FLAGS[flag]}); leave {flag}=False")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    if set_to_none:
                        p._grad = None
                    else:  # zeroed in place, as torch (the same grad tensor, cut from any graph)
                        if p.grad.grad_fn is not None:
                            p.grad = p.grad.detach()
                        p.grad._data[...] = 0

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure()'s loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p._grad is not None]
            if params:
                self._update_group(group, params)
                for p in params:  # graphs recorded before the step must not backward through it
                    note_write(p._data)
        self._opt_called = True
        return loss

    def _update_group(self, group, params):
        raise NotImplementedError

    def _state_tensor(self, p, key, fill=0.0):
        """state[p][key], created as a zero (or ``fill``) tensor like p on first use."""
        st = self.state.setdefault(p, {})
        t = st.get(key)
        if t is None:
            arr = p._data.copy()
            arr[...] = fill
            t = st[key] = Tensor._make(arr)
        return t._data

    def _scalar_state(self, p, key, fill=0.0):
        """state[p][key] for a per-parameter scalar (the step count, NAdam's mu_product, ASGD's eta
        and mu) as torch keeps it: a 0-d tensor of the default scalar dtype (float32 unless the
        default dtype is float64) on the CPU, created holding ``fill``. Returns its 0-d array."""
        st = self.state.setdefault(p, {})
        t = st.get(key)
        if t is None:
            t = st[key] = Tensor._make(np.array(fill, _scalar_dtype()))
        return t._data

    def _step_count(self, p):
        """state[p]['step'], incremented; returns the new count."""
        step = self._scalar_state(p, "step")
        step += 1
        return float(step)

    def _arrays(self, params, *keys):
        """The arrays an update function takes: the parameters', their gradients', then for each
        key the state tensors' (created as zeros on first use)."""
        return ([p._data for p in params], [p._grad._data for p in params],
                *([self._state_tensor(p, key) for p in params] for key in keys))

    @staticmethod
    def _options(group, *names):
        """The group's ``names`` as an update function's keywords: lr as a number (torch takes a
        1-element Tensor), betas as beta1 and beta2."""
        options = {}
        for name in names:
            if name == "betas":
                options["beta1"], options["beta2"] = group["betas"]
            else:
                options[name] = to_scalar(group[name]) if name == "lr" else group[name]
        return options

    def _like_param(self, key):
        """Whether state values under ``key`` have their parameter's shape (checked on load)."""
        return key not in self._scalar_keys

    # ---- state dicts (torch's format: parameters replaced by their index) -------------------
    def state_dict(self):
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        state = {index[id(p)]: v for p, v in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved)} saved, {len(self.param_groups)} in {name})")
        for i, (g, s) in enumerate(zip(self.param_groups, saved)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size "
                                 f"of optimizer's group (group {i}: {len(s['params'])} saved, "
                                 f"{len(g['params'])} here)")
        id_map = {i: p for g, s in zip(self.param_groups, saved) for i, p in zip(s["params"], g["params"])}
        state = {}
        for k, v in state_dict["state"].items():
            p = id_map.get(int(k))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for parameter index {k} has no parameter")
            for key, value in v.items():
                if isinstance(value, Tensor) and value.shape != p.shape and self._like_param(key):
                    raise ValueError(f"{name}.load_state_dict: state '{key}' of parameter {k} has shape "
                                     f"{list(value.shape)}, the parameter has {list(p.shape)}")
            state[p] = {key: _cast_state(p, key, value) for key, value in v.items()}
        groups = []
        for g, s in zip(self.param_groups, saved):
            new = {k: (tuple(v) if isinstance(v, list) and k == "betas" else v)
                   for k, v in s.items() if k != "params"}
            new["params"] = g["params"]
            if "param_names" in g and "param_names" not in new:
                new["param_names"] = g["param_names"]
            groups.append(new)
        self.state, self.param_groups = state, groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {g[k]}" for k in sorted(g) if k != "params"]
        return "\n".join(lines) + "\n)"


def descent_grads(params, grads, weight_decay, maximize, *, decoupled_lr=None):
    """The gradients an update descends: each grad, negated when maximizing, plus the coupled L2
    term weight_decay*p. ``grads`` itself when neither applies (no work, no new arrays); otherwise
    made lazily, one as the update's loop reaches each parameter, never a whole list of new arrays.

    With ``decoupled_lr`` (AdamW, NAdam's and RAdam's decoupled_weight_decay) the decay does not
    enter the gradient: each parameter shrinks in place, p *= 1 - decoupled_lr*weight_decay, as the
    loop reaches it (before its update, as torch)."""
    directed = (-g for g in grads) if maximize else grads
    if weight_decay == 0:
        return directed
    if decoupled_lr is not None:
        return _decayed(params, directed, 1 - decoupled_lr * weight_decay)
    return (g + weight_decay * p for p, g in zip(params, directed))


def _decayed(params, grads, factor):
    for p, g in zip(params, grads):
        p *= factor
        yield g


def to_scalar(value):
    """A hyperparameter as a Python number (torch accepts a 1-element Tensor lr)."""
    return value.item() if isinstance(value, Tensor) else value


def _check_rho(rho):
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"Invalid rho value: {rho}")


def _check_etas(etas):
    if not 0.0 < etas[0] < 1.0 < etas[1]:
        raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")


def _check_betas(betas):
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


_RANGE_CHECKS = {"betas": _check_betas, "rho": _check_rho, "etas": _check_etas}

# implementation flags torch's optimizers take that chainrule cannot honour when True. (``foreach``
# and ``fused`` are accepted with any value: every optimizer runs one update function over the
# lists of a group's arrays, which is already the foreach path; there is no separate fused kernel.)
_UNSUPPORTED_FLAGS = {"capturable": "CUDA-graph capture", "differentiable": "autograd through the step"}


def _scalar_dtype():
    return np.float64 if _dt.get_default_dtype() is _dt.float64 else np.float32


def _cast_state(p, key, value):
    """A copy of a loaded state value on p's device (and in p's dtype, except the step count), as
    torch casts them; lists (LBFGS's history) element by element."""
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, key, v) for v in value)
    if key == "step" and not isinstance(value, Tensor):
        return Tensor._make(np.array(float(value), _scalar_dtype()))
    if not isinstance(value, Tensor):
        return value
    arr = to_device(value._data, Device.CPU if key == "step" else device_of(p._data))
    if key != "step" and p._data.dtype.kind == "f":
        arr = arr.astype(p._data.dtype)
    return Tensor._make(arr.copy() if arr is value._data else arr)
