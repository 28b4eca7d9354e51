"""Anomaly detection (torch.autograd.detect_anomaly): in this mode a NaN or infinity that a forward
op or a backward rule produces from finite values raises at once, naming the op, its inputs'
shapes and dtypes, the first bad index and value, and the line of user code that created the op
(recorded at forward time, in this mode only). Off, it costs ``apply`` one flag test."""
import os
import traceback

import numpy as np

from ..backend import namespace
from . import engine
from .grad_mode import state

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_site():
    """'file:line in function: code' of the innermost frame outside chainrule."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return "(no user frame)"


def _array(x):
    """The array of a Tensor (gradients are Tensors under create_graph), else x itself."""
    return x._data if hasattr(x, "_node") else x


def _nonfinite(x):
    a = _array(x)
    return getattr(a, "dtype", None) is not None and a.dtype.kind == "f" and not bool(namespace(a).isfinite(a).all())


def _first_bad(x):
    a = _array(x)
    xp = namespace(a)
    flat = int(xp.argmax(~xp.isfinite(a).reshape(-1))) if a.ndim else 0
    index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    return f"index {list(index)}, value {a[index].item() if a.ndim else a.item()}"


def _describe(values):
    return ", ".join(f"{_array(v).dtype}{list(_array(v).shape)}" if hasattr(_array(v), "shape") else repr(v)
                     for v in values)


def check_forward(op, arrays, out, node):
    """Called by ``apply`` in anomaly mode, after op's forward."""
    site = _user_site()
    if node is not None:
        node.site = site
    if _nonfinite(out) and not any(_nonfinite(a) for a in arrays):
        raise RuntimeError(f"anomaly: {op.__name__} produced a non-finite value from finite inputs "
                           f"({_describe(arrays)}): output {_describe([out])} first bad at {_first_bad(out)}; "
                           f"the op was created at {site}")


def check_backward(node, g, in_grads):
    """An engine observer in anomaly mode: each backward rule's gradients must be finite when the
    gradient it received was."""
    if _nonfinite(g):
        return
    for i, ig in enumerate(in_grads):
        if ig is not None and _nonfinite(ig):
            raise RuntimeError(f"anomaly: Function '{node.name()}' returned non-finite values in its {i}th "
                               f"output (the gradient of input {i}, {_describe([ig])}) first bad at "
                               f"{_first_bad(ig)}, from a finite upstream gradient {_describe([g])}; the op "
                               f"was created at {getattr(node, 'site', None) or '(not recorded: created outside anomaly mode)'}")


def set_detect_anomaly(mode):
    """Turn anomaly detection on or off (also usable as a context manager, restoring the old mode)."""
    return _AnomalyMode(bool(mode))


def is_anomaly_enabled():
    """True when anomaly detection is on (see ``set_detect_anomaly``), as ``torch.is_anomaly_enabled``."""
    return state.anomaly


def _switch(mode):
    state.anomaly = mode
    if mode and check_backward not in engine.observers:
        engine.observers.append(check_backward)
    elif not mode and check_backward in engine.observers:
        engine.observers.remove(check_backward)


class _AnomalyMode:
    def __init__(self, mode):
        self.prev = state.anomaly
        _switch(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _switch(self.prev)


class detect_anomaly:
    """``with cr.autograd.detect_anomaly():`` anomaly detection inside the block."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = state.anomaly
        _switch(self.check_nan)
        return self

    def __exit__(self, *exc):
        _switch(self.prev)
