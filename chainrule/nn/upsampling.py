"""Resampling and padding modules: Upsample, UpsamplingNearest2d/Bilinear2d, PixelShuffle/Unshuffle and
the Zero/Constant/Reflection/Replication/Circular pads (torch's names, attributes and repr)."""
from . import functional as F
from .module import Module


class Upsample(Module):
    """Upsamples multi-channel 1-D, 2-D or 3-D data to ``size`` or by ``scale_factor``, as ``torch.nn.Upsample``.

    The same as ``nn.functional.interpolate``. Modes: ``'nearest'``, ``'linear'`` (3-D input),
    ``'bilinear'`` (4-D), ``'bicubic'`` (4-D), ``'trilinear'`` (5-D) and ``'nearest-exact'``.

    Parameters
    ----------
    size : int or tuple of ints, optional
        The output spatial size; give it or ``scale_factor``.
    scale_factor : float or tuple of floats, optional
        The multiplier for the spatial size.
    mode : str, default 'nearest'
        The upsampling algorithm.
    align_corners : bool, optional
        For the linear modes: if True, the corner pixels of input and output are aligned (their values
        kept); if False (the default behaviour), pixels are treated as areas.
    recompute_scale_factor : bool, optional
        If True, the scale used in the interpolation is recomputed from the output size.

    Shape
    -----
    - Input: `(N, C, W_in)`, `(N, C, H_in, W_in)` or `(N, C, D_in, H_in, W_in)`.
    - Output: `(N, C, W_out)`, `(N, C, H_out, W_out)` or `(N, C, D_out, H_out, W_out)`, where
      D_out = floor(D_in scale_factor), H_out = floor(H_in scale_factor), W_out = floor(W_in scale_factor),
      or as ``size`` gives them.

    Examples
    --------
    >>> x = cr.arange(1.0, 5.0).view(1, 1, 2, 2)
    >>> nn.Upsample(scale_factor=2, mode="nearest")(x)
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.],
              [3., 3., 4., 4.],
              [3., 3., 4., 4.]]]])
    >>> nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(x)
    tensor([[[[1.0000, 1.3333, 1.6667, 2.0000],
              [1.6667, 2.0000, 2.3333, 2.6667],
              [2.3333, 2.6667, 3.0000, 3.3333],
              [3.0000, 3.3333, 3.6667, 4.0000]]]])
    >>> nn.Upsample(size=(3, 5))(x).shape
    chainrule.Size([1, 1, 3, 5])
    """
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
    """Applies 2-D nearest-neighbour upsampling to an (N, C, H, W) input, as ``torch.nn.UpsamplingNearest2d``.

    The same as ``Upsample(size, scale_factor, mode='nearest')`` (torch deprecates it for that).

    Parameters
    ----------
    size : int or tuple of 2 ints, optional
        The output spatial size (H_out, W_out).
    scale_factor : float or tuple of 2 floats, optional
        The multiplier for the spatial size.

    Shape
    -----
    - Input: `(N, C, H_in, W_in)`.
    - Output: `(N, C, H_out, W_out)`, where H_out = floor(H_in scale_factor) and
      W_out = floor(W_in scale_factor), or as ``size`` gives them.

    Examples
    --------
    >>> m = nn.UpsamplingNearest2d(scale_factor=2)
    >>> m(cr.arange(1.0, 5.0).view(1, 1, 2, 2))
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.],
              [3., 3., 4., 4.],
              [3., 3., 4., 4.]]]])
    """
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Applies 2-D bilinear upsampling (aligned corners) to an (N, C, H, W) input, as ``torch.nn.UpsamplingBilinear2d``.

    The same as ``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` (torch
    deprecates it for that).

    Parameters
    ----------
    size : int or tuple of 2 ints, optional
        The output spatial size (H_out, W_out).
    scale_factor : float or tuple of 2 floats, optional
        The multiplier for the spatial size.

    Shape
    -----
    - Input: `(N, C, H_in, W_in)`.
    - Output: `(N, C, H_out, W_out)`, where H_out = floor(H_in scale_factor) and
      W_out = floor(W_in scale_factor), or as ``size`` gives them.

    Examples
    --------
    >>> m = nn.UpsamplingBilinear2d(scale_factor=2)
    >>> m(cr.arange(1.0, 5.0).view(1, 1, 2, 2))
    tensor([[[[1.0000, 1.3333, 1.6667, 2.0000],
              [1.6667, 2.0000, 2.3333, 2.6667],
              [2.3333, 2.6667, 3.0000, 3.3333],
              [3.0000, 3.3333, 3.6667, 4.0000]]]])
    """
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """Rearranges (*, C r^2, H, W) into (*, C, H r, W r), r the upscale factor, as ``torch.nn.PixelShuffle``.

    Moves channel blocks into space: an efficient sub-pixel convolution with stride 1 / r.

    Parameters
    ----------
    upscale_factor : int
        The factor r by which the spatial resolution grows.

    Shape
    -----
    - Input: `(*, C_in, H_in, W_in)`, `*` zero or more batch dims.
    - Output: `(*, C_out, H_out, W_out)`, where C_out = C_in / r^2, H_out = H_in r and W_out = W_in r.

    Examples
    --------
    >>> pixel_shuffle = nn.PixelShuffle(3)
    >>> pixel_shuffle(cr.randn(1, 9, 4, 4)).shape
    chainrule.Size([1, 1, 12, 12])
    >>> nn.PixelShuffle(2)(cr.arange(4.0).view(4, 1, 1))
    tensor([[[0., 1.],
             [2., 3.]]])
    """
    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearranges (*, C, H r, W r) into (*, C r^2, H, W), r the downscale factor, as ``torch.nn.PixelUnshuffle``.

    The inverse of PixelShuffle.

    Parameters
    ----------
    downscale_factor : int
        The factor r by which the spatial resolution shrinks.

    Shape
    -----
    - Input: `(*, C_in, H_in, W_in)`, `*` zero or more batch dims.
    - Output: `(*, C_out, H_out, W_out)`, where C_out = C_in r^2, H_out = H_in / r and W_out = W_in / r.

    Examples
    --------
    >>> pixel_unshuffle = nn.PixelUnshuffle(3)
    >>> pixel_unshuffle(cr.randn(1, 1, 12, 12)).shape
    chainrule.Size([1, 9, 4, 4])
    >>> nn.PixelUnshuffle(2)(cr.arange(4.0).view(1, 2, 2)).flatten()
    tensor([0., 1., 2., 3.])
    """
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
            attrs["__init__"] = lambda self, padding, value: _PadNd.__init__(self, padding, value)
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


# ---- the padding classes' docstrings (numpydoc; tests/test_nn_docstrings.py runs their examples) ----
_PAD_DOC = {  # prefix: (summary, how, the 1-d example's output)
    "Zero": ("Pads the boundaries of the input with zeros", "``nn.functional.pad(input, padding)``; negative "
             "padding crops", "[[[0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]]]"),
    "Constant": ("Pads the boundaries of the input with a constant value", "``nn.functional.pad(input, padding, "
                 "'constant', value)``; negative padding crops", "[[[3.5, 3.5, 0.0, 1.0, 2.0, 3.0, 3.5, 3.5]]]"),
    "Reflection": ("Pads the input with the reflection of its boundary", "``nn.functional.pad(input, padding, "
                   "'reflect')``; each padding is smaller than its input dim", "[[[2.0, 1.0, 0.0, 1.0, 2.0, 3.0, "
                   "2.0, 1.0]]]"),
    "Replication": ("Pads the input with copies of its boundary values", "``nn.functional.pad(input, padding, "
                    "'replicate')``", "[[[0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 3.0]]]"),
    "Circular": ("Pads the input circularly, with the values from its other end", "``nn.functional.pad(input, "
                 "padding, 'circular')``; each padding is at most its input dim", "[[[2.0, 3.0, 0.0, 1.0, 2.0, "
                 "3.0, 0.0, 1.0]]]"),
}
_PAD_SIDES = ("padding_left, padding_right", "padding_top, padding_bottom", "padding_front, padding_back")


def _pad_doc(prefix, dims):
    summary, how, example = _PAD_DOC[prefix]
    name, value = f"{prefix}Pad{dims}d", ", 3.5" if prefix == "Constant" else ""
    spatial = ("D", "H", "W")[3 - dims:]
    shape_in, shape_out = ", ".join(f"{d}_in" for d in spatial), ", ".join(f"{d}_out" for d in spatial)
    sizes = "; ".join(f"{d}_out = {d}_in + {s.replace(', ', ' + ')}" for d, s in zip(spatial[::-1], _PAD_SIDES))
    value_doc = ("value : float\n    The fill value.\n" if prefix == "Constant" else "" if prefix == "Zero" else
                 "value : None\n    Not used by this mode (torch's constructor has no such argument).\n")
    examples = {1: (f">>> m = nn.{name}(2{value})\n>>> m(cr.arange(4.0).view(1, 1, 4)).tolist()\n{example}\n"
                    f">>> nn.{name}((3, 1){value})(cr.randn(2, 3, 4)).shape\nchainrule.Size([2, 3, 8])"),
                2: (f">>> m = nn.{name}((1, 1, 2, 0){value})\n>>> m(cr.randn(1, 1, 3, 3)).shape\n"
                    f"chainrule.Size([1, 1, 5, 5])\n>>> nn.{name}(1{value})(cr.randn(3, 2, 2)).shape\n"
                    "chainrule.Size([3, 4, 4])"),
                3: (f">>> m = nn.{name}((1, 1, 2, 0, 1, 1){value})\n>>> m(cr.randn(1, 2, 3, 4, 5)).shape\n"
                    f"chainrule.Size([1, 2, 5, 6, 7])\n>>> nn.{name}(1{value})(cr.randn(2, 2, 2, 2)).shape\n"
                    "chainrule.Size([2, 4, 4, 4])")}[dims]
    return (f"{summary} ({dims}-D), as ``torch.nn.{name}``.\n\nThe same as {how}.\n\n"
            f"Parameters\n----------\npadding : int or tuple of {2 * dims} ints\n    The size of the padding: one "
            f"int for every side, or ({', '.join(_PAD_SIDES[:dims])}).\n{value_doc}\n"
            f"Shape\n-----\n- Input: `(N, C, {shape_in})` or `(C, {shape_in})`.\n"
            f"- Output: `(N, C, {shape_out})` or `(C, {shape_out})`, where {sizes}.\n\n"
            f"Examples\n--------\n{examples}\n")


for _prefix in _PAD_DOC:
    for _dims in (1, 2, 3):
        globals()[f"{_prefix}Pad{_dims}d"].__doc__ = _pad_doc(_prefix, _dims)
del _prefix, _dims
