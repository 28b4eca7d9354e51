"""``chainrule.amp``: torch.amp's names. ``GradScaler`` is torch's loss scaling (scale the loss,
unscale the gradients, skip steps whose gradients overflowed, grow or back off the scale), useful
for float16 models. ``autocast`` is accepted (context manager and decorator) but casts nothing:
chainrule has no mixed precision yet, ops run in their inputs' dtypes (float32 stays float32, so
results are at least as precise as torch's autocast ones; a warning says so once)."""
import functools
import math
import warnings

from .backend import cuda_support

__all__ = ["GradScaler", "autocast", "is_autocast_available"]

_autocast_state = {"cpu": False, "cuda": False}
_warned = []


def is_autocast_available(device_type):
    """True for 'cpu' and 'cuda' (as torch.amp.is_autocast_available)."""
    return device_type in _autocast_state


class autocast:
    """``with chainrule.autocast('cuda', dtype=chainrule.float16):`` as torch's; here a region
    marker only (``chainrule.is_autocast_enabled()`` sees it): no op is cast."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _autocast_state:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device_type, self.dtype, self.enabled = device_type, dtype, bool(enabled)
        self._prev = []

    def __enter__(self):
        if self.enabled and not _warned:
            _warned.append(True)
            warnings.warn("chainrule.autocast casts nothing (no mixed precision yet): ops run in their inputs' "
                          "dtypes", UserWarning, stacklevel=2)
        self._prev.append(_autocast_state[self.device_type])
        _autocast_state[self.device_type] = self.enabled
        return self

    def __exit__(self, *exc):
        _autocast_state[self.device_type] = self._prev.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


def is_autocast_enabled(device_type="cuda"):
    """Whether an ``autocast`` region of ``device_type`` is active (as torch.is_autocast_enabled)."""
    return _autocast_state.get(device_type, False)


def _scaled(outputs, scale):
    if isinstance(outputs, (list, tuple)):
        return type(outputs)(_scaled(o, scale) for o in outputs)
    return outputs * scale


class GradScaler:
    """Dynamic loss scaling, as ``torch.amp.GradScaler``: ``scaler.scale(loss).backward()``,
    ``scaler.step(optimizer)`` (unscales the gradients, skips the step when any is inf/nan),
    ``scaler.update()`` (scale x backoff_factor after an overflow, x growth_factor after
    ``growth_interval`` clean steps)."""

    def __init__(self, device="cuda", init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if enabled and device == "cuda" and not cuda_support.is_available():
            warnings.warn("chainrule.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          UserWarning, stacklevel=2)
            enabled = False
        if growth_factor <= 1.0 or backoff_factor >= 1.0:
            raise AssertionError("The growth factor must be > 1.0 and the backoff factor < 1.0.")
        self._device, self._enabled = device, bool(enabled)
        self._scale, self._growth_factor, self._backoff_factor = float(init_scale), float(growth_factor), \
            float(backoff_factor)
        self._growth_interval, self._growth_tracker = int(growth_interval), 0
        self._per_optimizer = {}  # id(optimizer) -> {"stage": "unscaled"|"stepped", "found_inf": bool}

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = int(new_interval)

    def scale(self, outputs):
        """``outputs`` (a tensor or a list/tuple of them) times the current scale."""
        return _scaled(outputs, self._scale) if self._enabled else outputs

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale in place (e.g. before clipping them) and
        note whether any is inf or nan."""
        if not self._enabled:
            return
        state = self._per_optimizer.setdefault(id(optimizer), {"stage": None, "found_inf": False})
        if state["stage"] == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        inv, found = 1.0 / self._scale, False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.mul_(inv)
                    found = found or not math.isfinite(float(p.grad.sum()))
        state["stage"], state["found_inf"] = "unscaled", found

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless the unscaled gradients hold inf/nan (then the step is skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._per_optimizer.get(id(optimizer))
        if state is not None and state["stage"] == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if state is None or state["stage"] is None:
            self.unscale_(optimizer)
            state = self._per_optimizer[id(optimizer)]
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = "stepped"
        return result

    def update(self, new_scale=None):
        """Adjust the scale after a step: back off after an overflow, grow after growth_interval clean steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        else:
            if not self._per_optimizer:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in self._per_optimizer.values()):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale, self._growth_factor = float(state_dict["scale"]), float(state_dict["growth_factor"])
        self._backoff_factor, self._growth_interval = float(state_dict["backoff_factor"]), \
            int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
