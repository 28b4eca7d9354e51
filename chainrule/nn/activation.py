"""The activation modules beyond the classic ones in layers.py: each holds its options and calls
its ``functional`` form (one definition of the math)."""
from .module import Module
from . import functional as F


class _Activation(Module):
    """Stores the keyword options named in ``options`` and calls ``fn(input, **options)``."""
    fn = None
    options = ()

    def __init__(self, *args, **kwargs):
        super().__init__()
        names = self.options + ("inplace",)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes at most {len(names)} arguments ({len(args)} given)")
        values = dict(zip(names, args))
        for k in kwargs:
            if k not in names or k in values:
                raise TypeError(f"{type(self).__name__}() got an unexpected or repeated keyword argument '{k}'")
        values.update(kwargs)
        for name, default in zip(self.options, self.defaults):
            object.__setattr__(self, name, values.get(name, default))
        self.inplace = values.get("inplace", False)

    defaults = ()

    def forward(self, input):
        options = {k: getattr(self, k) for k in self.options}
        if self.inplace:
            options["inplace"] = True
        return type(self).fn(input, **options)

    def extra_repr(self):
        shown = [f"{k}={getattr(self, k)}" for k in self.options]
        return ", ".join(shown + (["inplace=True"] if self.inplace and self.shows_inplace else []))

    shows_inplace = True  # torch's repr names inplace=True, except Hardsigmoid's and Hardswish's


def _activation(name, fn, options=(), defaults=()):
    return type(name, (_Activation,), {"fn": staticmethod(fn), "options": options, "defaults": defaults,
                                       "__doc__": f"Module form of ``functional.{fn.__name__}``."})


SiLU = _activation("SiLU", F.silu)
Mish = _activation("Mish", F.mish)
Hardtanh = _activation("Hardtanh", F.hardtanh, ("min_val", "max_val"), (-1.0, 1.0))
ReLU6 = _activation("ReLU6", F.relu6)
Hardsigmoid = _activation("Hardsigmoid", F.hardsigmoid)
Hardswish = _activation("Hardswish", F.hardswish)
Softsign = _activation("Softsign", F.softsign)
LogSigmoid = _activation("LogSigmoid", F.logsigmoid)
SELU = _activation("SELU", F.selu)
CELU = _activation("CELU", F.celu, ("alpha",), (1.0,))
Tanhshrink = _activation("Tanhshrink", F.tanhshrink)
Threshold = _activation("Threshold", F.threshold, ("threshold", "value"), (None, None))
Hardshrink = _activation("Hardshrink", F.hardshrink, ("lambd",), (0.5,))
Softshrink = _activation("Softshrink", F.softshrink, ("lambd",), (0.5,))
Softplus = _activation("Softplus", F.softplus, ("beta", "threshold"), (1.0, 20.0))
Hardsigmoid.shows_inplace = Hardswish.shows_inplace = False
Hardshrink.extra_repr = Softshrink.extra_repr = lambda self: f"{self.lambd}"  # torch prints the bare value
GLU = _activation("GLU", F.glu, ("dim",), (-1,))
Softmin = _activation("Softmin", F.softmin, ("dim",), (None,))


class RReLU(_Activation):
    """Randomized leaky ReLU: a uniform random negative slope per element in training."""
    options, defaults = ("lower", "upper"), (1.0 / 8, 1.0 / 3)

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return F.softmax(input, -3)


__all__ = ["SiLU", "Mish", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Softsign", "LogSigmoid", "SELU", "CELU",
           "Tanhshrink", "Threshold", "Hardshrink", "Softshrink", "Softplus", "GLU", "Softmin", "RReLU", "Softmax2d"]
