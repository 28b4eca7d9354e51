"""Resampling and padding modules: Upsample, UpsamplingNearest2d/Bilinear2d, PixelShuffle/Unshuffle and
the Zero/Constant/Reflection/Replication/Circular pads (torch's names, attributes and repr)."""
from . import functional as F
from .module import Module


class Upsample(Module):
    """Resizes the spatial dims of an (N, C, ...) input to ``size`` or by ``scale_factor`` with ``mode``, as
    ``torch.nn.Upsample`` (see ``interpolate``)."""
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Resizes an (N, C, H, W) input with nearest-neighbour interpolation, as ``torch.nn.UpsamplingNearest2d``."""
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Resizes an (N, C, H, W) input with bilinear interpolation and ``align_corners=True``, as
    ``torch.nn.UpsamplingBilinear2d``."""
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """Rearranges (N, C r^2, H, W) into (N, C, H r, W r), as ``torch.nn.PixelShuffle``."""
    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearranges (N, C, H r, W r) into (N, C r^2, H, W), as ``torch.nn.PixelUnshuffle``."""
    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class _PadNd(Module):
    """padding: an int (every side) or a tuple of 2 * dims ints (last dim first, as F.pad)."""
    dims, mode = 1, "constant"

    def __init__(self, padding, value=None):
        super().__init__()
        self.padding = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * self.dims)
        if len(self.padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {2 * self.dims} ints, "
                             f"got {padding!r}")
        if value is not None:
            self.value = value

    def forward(self, input):
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


def _pads(prefix, mode, value=None):
    """The 1d/2d/3d classes of one padding kind."""
    classes = []
    for dims in (1, 2, 3):
        attrs = {"dims": dims, "mode": mode, "__module__": __name__}
        if prefix == "Constant":
            def init(self, padding, value):
                _PadNd.__init__(self, padding, float(value) if isinstance(value, int) else value)

            attrs["__init__"] = init
            attrs["extra_repr"] = lambda self: f"padding={self.padding}, value={self.value}"
        elif prefix == "Zero":
            attrs["__init__"] = lambda self, padding: _PadNd.__init__(self, padding, 0.0)
        classes.append(type(f"{prefix}Pad{dims}d", (_PadNd,), attrs))
    return classes


ZeroPad1d, ZeroPad2d, ZeroPad3d = _pads("Zero", "constant")
ConstantPad1d, ConstantPad2d, ConstantPad3d = _pads("Constant", "constant")
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = _pads("Reflection", "reflect")
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = _pads("Replication", "replicate")
CircularPad1d, CircularPad2d, CircularPad3d = _pads("Circular", "circular")
