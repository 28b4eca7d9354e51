"""nn.functional's resampling: pixel (un)shuffle, interpolate/upsample in every mode, affine_grid
and grid_sample. Linear/bilinear/bicubic/trilinear interpolation is one constant (Out, In) matrix per
spatial dim (out = A x along that dim: a GEMM forward and backward); nearest modes and grid_sample
gather with integer indices computed on NumPy ints (never on data)."""
import math
import numbers

import numpy as np

from ..tensor import Tensor
from ..ops.elementwise import Where
from ..backend import namespace
from .functional_conv import _const, _index, _along, _adaptive_avg


# ---- resampling ---------------------------------------------------------------------------------

def pixel_shuffle(input, upscale_factor):
    """Rearranges (N, C r^2, H, W) into (N, C, H r, W r) for upscale factor r, as
    ``torch.nn.functional.pixel_shuffle``."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if r <= 0 or input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={input.shape[-3]} is not divisible by {r * r}")
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    m = len(lead)
    x = x.permute(*range(m), m, m + 3, m + 1, m + 4, m + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """Rearranges (N, C, H r, W r) into (N, C r^2, H, W) for downscale factor r, the inverse of pixel_shuffle, as
    ``torch.nn.functional.pixel_unshuffle``."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if r <= 0 or input.shape[-2] % r or input.shape[-1] % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
                           f"got {list(input.shape[-2:])} and downscale_factor={r}")
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    m = len(lead)
    x = x.permute(*range(m), m, m + 2, m + 4, m + 1, m + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


_MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 3, "bilinear": 4, "bicubic": 4,
          "trilinear": 5}


def _source(dtype, n, out, align_corners, scale, cubic=False):
    """torch's area_pixel_compute_source_index for every output cell, in the input's float type."""
    ft = np.float32 if dtype == np.float32 else np.float64
    i = np.arange(out, dtype=ft)
    if align_corners:
        s = ft((n - 1) / (out - 1)) if out > 1 else ft(0)
        return s * i
    s = ft(1.0 / scale) if scale is not None and scale > 0 else ft(n) / ft(out)
    src = s * (i + ft(0.5)) - ft(0.5)
    return src if cubic else np.maximum(src, ft(0))


def _linear_taps(dtype, n, out, align_corners, scale):
    """[(source index, weight)] per output cell along one dim: linear interpolation's two taps."""
    src = _source(dtype, n, out, align_corners, scale)
    i0 = np.minimum(src.astype(np.int64), n - 1)
    l1 = src - i0
    return [(i0, 1 - l1), (np.minimum(i0 + 1, n - 1), l1)]


def _cubic_taps(dtype, n, out, align_corners, scale):
    """bicubic's four taps (A = -0.75, indices clamped to the input, as torch)."""
    src = _source(dtype, n, out, align_corners, scale, cubic=True)
    base = np.floor(src)
    t = src - base
    A = -0.75

    def near(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    coeffs = (far(t + 1), near(t), near(1 - t), far(2 - t))
    return [(np.clip(base.astype(np.int64) - 1 + k, 0, n - 1), c) for k, c in enumerate(coeffs)]


def _interpolate_along(x, taps, dim):
    """out = A x along dim, A the (Out, In) matrix of the taps' weights: one GEMM forward and backward.
    Measured against summing weighted gathers (index_select): the gathers' backward (a scatter-add)
    is 2-3x slower than the dense GEMM up to 256 cells per dim."""
    n = x.shape[dim]
    a = np.zeros((len(taps[0][0]), n), dtype=taps[0][1].dtype)
    for index, weight in taps:
        np.add.at(a, (np.arange(len(index)), index), weight)
    return _along(x, a, dim)


def _nearest_index(n, out, scale, exact):
    """torch's nearest source index, computed in float32 as torch does."""
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n) / np.float32(out)
    i = np.arange(out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(i * s).astype(np.int64), n - 1)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes the spatial dims of an (N, C, ...) input to ``size`` or by ``scale_factor``, as
    ``torch.nn.functional.interpolate``.

    ``mode``: ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3-D input), ``'bilinear'`` (4-D), ``'bicubic'``
    (4-D), ``'trilinear'`` (5-D) or ``'area'``; ``align_corners`` as in torch for the linear and cubic modes."""
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    align_corners = bool(align_corners)
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    dims = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dims
        if len(sizes) != dims:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}.")
        if not all(isinstance(s, numbers.Integral) for s in sizes):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                            f"Tuple[int, int, int], but got size with types {[type(s) for s in sizes]}")
        scales = [None] * dims
    elif scale_factor is not None:
        scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dims
        if len(scales) != dims:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of shape "
                             f"{scale_factor}.")
        sizes = [math.floor(n * float(s)) for n, s in zip(input.shape[2:], scales)]
        if recompute_scale_factor or mode == "area":
            scales = [None] * dims
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    need = _MODES[mode]
    if dims not in (1, 2, 3) or need is not None and input.ndim != need:
        if need is not None and dims in (1, 2, 3):
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {need}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if any(s <= 0 for s in sizes) or 0 in input.shape[1:]:
        raise RuntimeError(f"interpolate: Input and output sizes should be greater than 0, but got input "
                           f"({list(input.shape[2:])}) and output ({sizes})")
    if mode == "area":
        return _adaptive_avg("adaptive_avg_pool", input, sizes, dims)
    out = input
    for k in range(dims):
        dim, n = 2 + k, input.shape[2 + k]
        if mode in ("nearest", "nearest-exact"):
            if input._data.dtype.kind != "f" and input._data.dtype != np.uint8:
                raise NotImplementedError(f"\"upsample_{mode}\" not implemented for '{input.dtype}'")
            idx = _nearest_index(n, sizes[k], scales[k], mode == "nearest-exact")
            out = out.index_select(dim, _index(out, idx))
        else:
            if input._data.dtype.kind != "f":
                raise NotImplementedError(f"\"upsample_{mode}\" not implemented for '{input.dtype}'")
            taps = (_cubic_taps if mode == "bicubic" else _linear_taps)(input._data.dtype, n, sizes[k],
                                                                          align_corners, scales[k])
            out = _interpolate_along(out, taps, dim)
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Resizes an input as ``interpolate`` does (torch's deprecated ``torch.nn.functional.upsample``)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Resizes an input with nearest-neighbour interpolation (torch's deprecated
    ``torch.nn.functional.upsample_nearest``)."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Resizes a 4-D input with bilinear interpolation and ``align_corners=True`` (torch's deprecated
    ``torch.nn.functional.upsample_bilinear``)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- grid sampling ------------------------------------------------------------------------------

def _base_coords(x, n, align_corners):
    if n <= 1:
        return _const(x, np.zeros(n))
    r = np.linspace(-1.0, 1.0, n)
    return _const(x, r if align_corners else r * (n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """Builds the sampling grid of the affine maps ``theta`` (N, 2, 3) or (N, 3, 4) for an output of ``size`` (N,
    C, H, W) or (N, C, D, H, W), as ``torch.nn.functional.affine_grid``.

    The grid has shape (N, H, W, 2) or (N, D, H, W, 3), in normalised [-1, 1] coordinates; use it with
    ``grid_sample``."""
    align_corners = bool(align_corners)
    if theta._data.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{list(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{list(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: Expected theta of batch {size[0]}, got {list(theta.shape)}")
    axes = [_base_coords(theta, n, align_corners)._data for n in reversed(spatial)]  # x (width) first
    xp = namespace(theta._data)
    mesh = xp.meshgrid(*axes[::-1], indexing="ij")[::-1]  # x, y(, z) over (H, W) or (D, H, W)
    base = xp.stack(list(mesh) + [xp.ones_like(mesh[0])], -1).reshape(-1, len(spatial) + 1)
    grid = Tensor._make(base) @ theta.transpose(1, 2)  # (N, cells, dims)
    return grid.reshape(size[0], *spatial, len(spatial))


def _reflect(coord, low2, high2):
    """torch's reflect_coordinates over [low2 / 2, high2 / 2]."""
    if low2 == high2:
        return coord * 0
    lo, span = low2 / 2, (high2 - low2) / 2
    d = (coord - lo).abs()
    extra = d.fmod(span)
    flips = (d / span).floor()
    even = (flips.fmod(2) == 0)
    return Where.call(even, extra + lo, span - extra + lo)


def _source_coord(coord, n, padding_mode, align_corners):
    c = ((coord + 1) / 2) * (n - 1) if align_corners else ((coord + 1) * n - 1) / 2
    if padding_mode != "zeros":  # nan to the far edge, as torch when both coordinates are nan
        c = Where.call(Tensor._make(namespace(c._data).isnan(c._data)), float(n - 1), c)
    if padding_mode == "border":
        c = c.clamp(0, n - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (n - 1)) if align_corners else _reflect(c, -1, 2 * n - 1)
        c = c.clamp(0, n - 1)
    return c


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples ``input`` (N, C, H_in, W_in) at the normalised [-1, 1] coordinates of ``grid`` (N, H_out, W_out,
    2), as ``torch.nn.functional.grid_sample``.

    ``mode`` is ``'bilinear'`` or ``'nearest'``; ``padding_mode`` is ``'zeros'``, ``'border'`` or
    ``'reflection'``. Unlike torch, ``mode='bicubic'`` and 5-D (volumetric) inputs raise NotImplementedError."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not supported")
    align_corners = bool(align_corners)
    if input.ndim != 4 or grid.ndim != 4:
        if input.ndim == 5 and grid.ndim == 5:
            raise NotImplementedError("grid_sample: 5-D (volumetric) inputs are not supported")
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0] or grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size and grid to have size "
                           f"2 in last dimension, but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if input._data.dtype != grid._data.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if 0 in input.shape[2:]:
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                           f"sizes {list(input.shape)}")
    n, c, h, w = input.shape
    gh, gw = grid.shape[1:3]
    ix = _source_coord(grid[..., 0], w, padding_mode, align_corners)  # (N, Hg, Wg)
    iy = _source_coord(grid[..., 1], h, padding_mode, align_corners)
    flat = input.reshape(n, c, h * w)

    def tap(cx, cy, weight=None):
        """input at integer (cx, cy) (no gradient through them) times weight, 0 outside the input
        (also where a coordinate is nan): (N, C, Hg, Wg)."""
        x, y = cx._data, cy._data
        xp = namespace(x)
        inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
        pos = xp.where(inside, y * w + x, 0).astype(np.int64).reshape(n, 1, gh * gw)
        vals = flat.gather(2, Tensor._make(xp.broadcast_to(pos, (n, c, gh * gw)).copy())).reshape(n, c, gh, gw)
        return Where.call(Tensor._make(inside[:, None]), vals if weight is None else vals * weight, 0.0)

    if mode == "nearest":  # the grid gets a zero gradient, as torch's
        zero = Where.call(Tensor._make(namespace(grid._data).zeros((), dtype=bool)), grid.sum(), 0.0)
        return tap(ix.detach().round(), iy.detach().round()) + zero
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    x1, y1 = x0 + 1, y0 + 1
    wx1, wy1 = (ix - x0).unsqueeze(1), (iy - y0).unsqueeze(1)
    wx0, wy0 = (x1 - ix).unsqueeze(1), (y1 - iy).unsqueeze(1)
    out = tap(x0, y0, wx0 * wy0) + tap(x1, y0, wx1 * wy0) + tap(x0, y1, wx0 * wy1) + tap(x1, y1, wx1 * wy1)
    lost = namespace(grid._data).isnan(ix._data) | namespace(grid._data).isnan(iy._data)  # nan, as torch
    return Where.call(Tensor._make(lost[:, None]), math.nan, out) if lost.any() else out


__all__ = [n for n, v in list(globals().items()) if not n.startswith("_") and callable(v)
           and not isinstance(v, type) and v.__module__ == __name__]
