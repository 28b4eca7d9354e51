"""Grad mode: whether ops record the graph. Context managers that also work as decorators."""
import functools


class _State:
    enabled = True   # grad mode: ops record the graph
    anomaly = False  # anomaly detection (autograd.anomaly)
    inference = False  # inference mode: no_grad, and new tensors are inference tensors


state = _State()


def is_grad_enabled():
    """True when grad mode is on, i.e. ops record the graph for autograd, as ``torch.is_grad_enabled``."""
    return state.enabled


def is_inference_mode_enabled():
    """True inside ``inference_mode()`` (not ``inference_mode(False)``), as ``torch.is_inference_mode_enabled``."""
    return state.inference


class _GradMode:
    mode = True

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self if fn is None else self(fn)  # @no_grad without parentheses, as torch allows

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Disable graph recording (context manager or decorator)."""
    mode = False


class enable_grad(_GradMode):
    """Enable graph recording inside a no_grad region (context manager or decorator)."""
    mode = True


class set_grad_enabled(_GradMode):
    """Turns grad mode on or off on construction: a call, context manager or decorator, as torch's."""
    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self.mode = bool(mode)
        self.prev = state.enabled
        state.enabled = self.mode  # like torch, takes effect on construction

    def __enter__(self):
        pass

    def __call__(self, fn):
        state.enabled = self.prev
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class inference_mode(_GradMode):
    """torch.inference_mode(mode=True), context manager or decorator: no graph is recorded, and the
    factories' tensors are inference tensors (``Tensor.is_inference()``); ``inference_mode(False)``
    turns grad mode on, as torch's guard does. Divergence: op results inside are not marked, and
    inference tensors are not refused by autograd outside."""

    def __new__(cls, mode=True):
        self = object.__new__(cls)
        self.mode = mode if isinstance(mode, bool) else True
        return self if isinstance(mode, bool) else self(mode)  # @inference_mode without ()

    def __enter__(self):
        self.prev = (state.enabled, state.inference)
        state.enabled, state.inference = not self.mode, self.mode

    def __exit__(self, *exc):
        state.enabled, state.inference = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self.mode):
                return fn(*args, **kwargs)
        return wrapper
