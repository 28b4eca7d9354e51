"""Layers as Modules: Identity, Linear, Bilinear, Conv2d, pooling, Flatten/Unflatten (dropout, batch norm,
embeddings and activations have modules of their own beside this one)."""
import math
import numbers
import operator
import warnings

from ..tensor import empty
from ..ops.nn import pair, pool_args
from . import functional as F
from . import init
from .module import Module, Parameter


def _reset_linear_like(weight, bias, fan_in):
    # torch's default: kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), ..) for the bias
    if weight.numel() == 0:  # Linear(0, n), Conv2d(c, o, 0): torch warns and leaves it (no fan to divide by)
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
    else:
        init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def _check_input(layer, x, ranks, dim_name, dim, expected):
    if x.ndim not in ranks:
        raise RuntimeError(f"{layer}: expected {' or '.join(f'{r}D' for r in ranks)} input, got {x.ndim}D input "
                           f"of shape {list(x.shape)}")
    if x.shape[dim] != expected:
        raise RuntimeError(f"{layer}: expected input with {expected} {dim_name} (dim {dim}), got shape "
                           f"{list(x.shape)}")


class Identity(Module):
    """Returns its input unchanged, as ``torch.nn.Identity``.

    A placeholder where a layer is optional (a skipped activation, a removed classifier head).

    Parameters
    ----------
    args, kwargs
        Any arguments; ignored.

    Shape
    -----
    - Input: `(*)`, any shape.
    - Output: `(*)`, the same shape (the input itself).

    Examples
    --------
    >>> m = nn.Identity(54, unused_argument1=0.1)
    >>> m(cr.randn(128, 20)).shape
    chainrule.Size([128, 20])
    """
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Applies the affine map `y = x W^T + b` to the last dim, as ``torch.nn.Linear``.

    ``weight`` has shape (out_features, in_features) and ``bias`` (out_features,), both initialised
    from U(-k, k) with k = 1 / sqrt(in_features).

    Parameters
    ----------
    in_features : int
        Size of each input sample.
    out_features : int
        Size of each output sample.
    bias : bool, default True
        If False, the layer learns no additive bias.

    Shape
    -----
    - Input: `(*, H_in)` where `*` is any number of dims (including none) and H_in = in_features.
    - Output: `(*, H_out)` where H_out = out_features.

    Examples
    --------
    >>> m = nn.Linear(20, 30)
    >>> m(cr.randn(128, 20)).shape
    chainrule.Size([128, 30])
    >>> m.weight.shape, m.bias.shape
    (chainrule.Size([30, 20]), chainrule.Size([30]))
    """
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        _reset_linear_like(self.weight, self.bias, in_features)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(f"Linear: input of shape {list(input.shape)} does not match in_features="
                               f"{self.in_features} (last dimension must be {self.in_features})")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _is_int(v):
    """An integer argument as torch's int lists take it: int or NumPy integer, not bool or float."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _ntuple(v, n=2):
    """torch's ``_pair`` (``_ntuple(n)``): a tuple/list is kept as given, anything else repeated n times."""
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Bilinear(Module):
    """Applies the bilinear map `y = x1^T A x2 + b` to two inputs, as ``torch.nn.Bilinear``.

    ``weight`` has shape (out_features, in1_features, in2_features) and ``bias`` (out_features,), both
    initialised from U(-k, k) with k = 1 / sqrt(in1_features).

    Parameters
    ----------
    in1_features : int
        Size of each first input sample.
    in2_features : int
        Size of each second input sample.
    out_features : int
        Size of each output sample.
    bias : bool, default True
        If False, the layer learns no additive bias.

    Shape
    -----
    - Input1: `(*, H_in1)` with H_in1 = in1_features, `*` any number of dims (including none).
    - Input2: `(*, H_in2)` with H_in2 = in2_features; the same `*` dims as input1.
    - Output: `(*, H_out)` with H_out = out_features.

    Examples
    --------
    >>> m = nn.Bilinear(20, 30, 40)
    >>> m(cr.randn(128, 20), cr.randn(128, 30)).shape
    chainrule.Size([128, 40])
    """
    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(empty(out_features, in1_features, in2_features, device=device, dtype=dtype))
        bound = 1 / in1_features ** 0.5
        init.uniform_(self.weight, -bound, bound)
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class _ConvNd(Module):
    """torch's ``nn.modules.conv._ConvNd``: the base of Conv1d/2d/3d and ConvTranspose1d/2d/3d
    (conv.py). Conv2d keeps its own construction checks and forward (torch's messages, checked
    when the convolution runs) and shares the type, repr and reset_parameters."""
    dims, transposed = 2, False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, output_padding=0):
        super().__init__()
        name, n = type(self).__name__, self.dims
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name}: {arg} must be an int, got {arg}={v!r}")
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size, stride, dilation = _ntuple(kernel_size, n), _ntuple(stride, n), _ntuple(dilation, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, n)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got padding_mode="
                             f"'{padding_mode}'")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.transposed, self.output_padding = self.transposed, _ntuple(output_padding, n)
        self.padding_mode = padding_mode
        if padding == "same":
            total = [d * (k - 1) for d, k in zip(dilation, kernel_size)]
            self._reversed_padding_repeated_twice = [p for t in reversed(total) for p in (t // 2, t - t // 2)]
        elif padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0] * n
        else:
            self._reversed_padding_repeated_twice = [p for q in reversed(padding) for p in (q, q)]
        shape = ((in_channels, out_channels // groups) if self.transposed else
                 (out_channels, in_channels // groups)) + tuple(kernel_size)
        self.weight = Parameter(empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_linear_like(self.weight, self.bias, math.prod(self.weight.shape[1:]))

    def _conv(self, input, fn):
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self.dims
        lead = 2 if input.ndim == n + 2 else 1
        output_size = list(output_size)
        if len(output_size) == lead + n:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have {n} or {lead + n} "
                             f"elements (got {len(output_size)})")
        low = [(input.shape[d + lead] - 1) * self.stride[d] - 2 * self.padding[d]
               + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        high = [lo + s - 1 for lo, s in zip(low, self.stride)]
        for size, lo, hi in zip(output_size, low, high):
            if size < lo or size > hi:
                raise ValueError(f"requested an output size of {tuple(output_size)}, but valid sizes range from "
                                 f"{low} to {high} (for an input of {tuple(input.shape[lead:])})")
        return tuple(s - lo for s, lo in zip(output_size, low))

    def _conv_transpose(self, input, output_size, fn):
        if self.padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        output_padding = self._output_padding(input, output_size)
        return fn(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                  self.dilation)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """Applies a 2-D convolution over an (N, C_in, H, W) or (C_in, H, W) input, as ``torch.nn.Conv2d``.

    `out(N_i, C_out_j) = bias(C_out_j) + sum over k of weight(C_out_j, k) cross-correlated with input(N_i, k)`.
    ``weight`` has shape (out_channels, in_channels / groups, kH, kW) and ``bias`` (out_channels,),
    initialised as torch's (kaiming_uniform_ with a = sqrt(5); the bias from U(-k, k), k = 1 / sqrt(fan_in)).

    Parameters
    ----------
    in_channels : int
        Number of channels of the input.
    out_channels : int
        Number of channels the convolution produces.
    kernel_size : int or tuple of 2 ints
        Size of the convolving kernel.
    stride : int or tuple of 2 ints, default 1
        Stride of the convolution.
    padding : int, tuple of 2 ints or str, default 0
        Zeros added to both sides of each spatial dim, or ``'valid'`` (none) or ``'same'`` (output as large
        as the input; stride 1 only).
    dilation : int or tuple of 2 ints, default 1
        Spacing between kernel elements.
    groups : int, default 1
        Number of blocked connections from input channels to output channels; both channel counts must be
        divisible by it.
    bias : bool, default True
        If True, adds a learnable bias to the output.
    padding_mode : str, default 'zeros'
        Only ``'zeros'`` is supported (see the note below).

    Shape
    -----
    - Input: `(N, C_in, H_in, W_in)` or `(C_in, H_in, W_in)`.
    - Output: `(N, C_out, H_out, W_out)` or `(C_out, H_out, W_out)`, where
      H_out = floor((H_in + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1) / stride[0] + 1), and
      W_out likewise with index 1.

    Notes
    -----
    Where chainrule differs from torch: ``padding_mode`` other than ``'zeros'`` raises
    NotImplementedError for Conv2d (Conv1d and Conv3d support ``'reflect'``, ``'replicate'`` and
    ``'circular'``).

    Examples
    --------
    >>> m = nn.Conv2d(16, 33, 3, stride=2)
    >>> m(cr.randn(2, 16, 50, 100)).shape
    chainrule.Size([2, 33, 24, 49])
    >>> m = nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))
    >>> m(cr.randn(2, 16, 50, 100)).shape
    chainrule.Size([2, 33, 26, 100])
    """
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        Module.__init__(self)  # not _ConvNd's: Conv2d checks stride/padding/dilation when it runs, as torch
        # torch checks these at construction (kernel_size, channels and groups size the weight);
        # stride, padding and dilation only when the convolution runs (see forward)
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not _is_int(v):
                raise TypeError(f"Conv2d: {arg} must be an int, got {arg}={v!r} ({type(v).__name__})")
        ks = _ntuple(kernel_size)
        if not all(isinstance(k, numbers.Integral) for k in ks):
            raise TypeError(f"Conv2d: kernel_size must be an int or a tuple of ints, got kernel_size={kernel_size!r}")
        ks = tuple(operator.index(k) for k in ks)
        stride, dilation = _ntuple(stride), _ntuple(dilation)
        if groups <= 0:
            raise ValueError(f"Conv2d: groups must be a positive integer, got groups={groups}")
        if in_channels % groups:
            raise ValueError(f"Conv2d: in_channels must be divisible by groups, got in_channels={in_channels}, "
                             f"groups={groups}")
        if out_channels % groups:
            raise ValueError(f"Conv2d: out_channels must be divisible by groups, got out_channels={out_channels}, "
                             f"groups={groups}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv2d: Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"Conv2d: padding='same' is not supported for strided convolutions, got "
                                 f"stride={stride}")
        else:
            padding = _ntuple(padding)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode={padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError("Conv2d: only padding_mode='zeros' is supported")
        shape = [out_channels, in_channels // groups, *ks]
        if min(shape) < 0:
            raise RuntimeError(f"Conv2d: Trying to create a weight with a negative dimension: in_channels="
                               f"{in_channels}, out_channels={out_channels}, kernel_size={ks} (weight of size {shape})")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size, self.stride, self.padding, self.dilation = ks, stride, padding, dilation
        self.padding_mode, self.transposed, self.output_padding = padding_mode, False, (0, 0)
        self.weight = Parameter(empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _conv_args(self):
        """(stride, padding, dilation, extra) as ints, checked as torch checks them when the
        convolution runs; ``extra``: the rows/columns of zeros padding='same' adds at the bottom/right
        when the total padding d*(k-1) is odd (torch pads the high side by one more)."""
        if self.weight.ndim != 4:
            raise RuntimeError(f"Conv2d: kernel_size must be a single int or a pair of ints, got kernel_size="
                               f"{self.kernel_size} (weight of size {list(self.weight.shape)})")
        stride = pair(self.stride, "stride", "Conv2d")
        dilation = pair(self.dilation, "dilation", "Conv2d")
        if min(stride) <= 0:
            raise RuntimeError(f"Conv2d: non-positive stride is not supported, got stride={self.stride}")
        if min(dilation) <= 0:
            raise RuntimeError(f"Conv2d: dilation should be greater than zero, got dilation={self.dilation}")
        kernel = tuple(self.weight.shape[2:])
        if min(kernel) <= 0:
            raise RuntimeError(f"Conv2d: kernel size should be greater than zero, but got kernel_size={kernel}")
        if self.weight.shape[0] == 0:
            raise RuntimeError(f"Conv2d: expected weight to be at least 1 at dimension 0 (out_channels), but got "
                               f"weight of size {list(self.weight.shape)}")
        extra = (0, 0)
        if self.padding == "valid":
            padding = (0, 0)
        elif self.padding == "same":
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            padding = tuple(t // 2 for t in total)
            extra = tuple(t % 2 for t in total)
        else:
            padding = pair(self.padding, "padding", "Conv2d")
            if min(padding) < 0:
                raise RuntimeError(f"Conv2d: negative padding is not supported, got padding={self.padding}")
        return stride, padding, dilation, extra

    def forward(self, input):
        stride, padding, dilation, extra = self._conv_args()
        _check_input("Conv2d", input, (3, 4), "channels", input.ndim - 3 if input.ndim in (3, 4) else 0,
                     self.in_channels)
        if extra != (0, 0):
            input = F.pad(input, (0, extra[1], 0, extra[0]))
        return F.conv2d(input, self.weight, self.bias, stride, padding, dilation, self.groups)


def _check_pool(layer, kernel_size, stride, padding, dilation=1):
    """The checks torch's pooling makes when it runs, naming ``layer``: pairs of Python ints."""
    return pool_args(layer, kernel_size, stride, padding, dilation)


class MaxPool2d(Module):
    """Applies 2-D max pooling over an input of shape (N, C, H, W) or (C, H, W), as ``torch.nn.MaxPool2d``.

    `out(N_i, C_j, h, w) = max over m, n of input(N_i, C_j, stride[0] h + dilation[0] m, stride[1] w +
    dilation[1] n)`, the input padded with -inf on both sides by ``padding``.

    Parameters
    ----------
    kernel_size : int or tuple of 2 ints
        Size of the window to take a max over.
    stride : int or tuple of 2 ints, optional
        Stride of the window; defaults to ``kernel_size``.
    padding : int or tuple of 2 ints, default 0
        Implicit negative infinity padding on both sides (at most half the kernel size).
    dilation : int or tuple of 2 ints, default 1
        Spacing between the elements of the window.
    return_indices : bool, default False
        If True, also returns the flat indices of the maxima (for MaxUnpool2d).
    ceil_mode : bool, default False
        If True, uses ceil instead of floor to compute the output shape.

    Shape
    -----
    - Input: `(N, C, H_in, W_in)` or `(C, H_in, W_in)`.
    - Output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)`, where
      H_out = floor((H_in + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1) / stride[0] + 1)
      (ceil with ``ceil_mode``), and W_out likewise with index 1.

    Examples
    --------
    >>> m = nn.MaxPool2d(3, stride=2)
    >>> m(cr.randn(20, 16, 50, 32)).shape
    chainrule.Size([20, 16, 24, 15])
    >>> out, indices = nn.MaxPool2d(2, return_indices=True)(cr.randn(1, 1, 4, 4))
    >>> out.shape, indices.dtype
    (chainrule.Size([1, 1, 2, 2]), chainrule.int64)
    """
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()  # like torch, the arguments are checked when the pooling runs
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        kernel, stride, padding, dilation = _check_pool("MaxPool2d", self.kernel_size, self.stride, self.padding,
                                                        self.dilation)
        return F.max_pool2d(input, kernel, stride, padding, dilation, self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Applies 2-D average pooling over an input of shape (N, C, H, W) or (C, H, W), as ``torch.nn.AvgPool2d``.

    `out(N_i, C_j, h, w) = 1 / (kH kW) sum over m, n of input(N_i, C_j, stride[0] h + m, stride[1] w + n)`, the
    input zero-padded on both sides by ``padding``.

    Parameters
    ----------
    kernel_size : int or tuple of 2 ints
        Size of the window.
    stride : int or tuple of 2 ints, optional
        Stride of the window; defaults to ``kernel_size``.
    padding : int or tuple of 2 ints, default 0
        Implicit zero padding on both sides (at most half the kernel size).
    ceil_mode : bool, default False
        If True, uses ceil instead of floor to compute the output shape.
    count_include_pad : bool, default True
        If True, the zero padding counts in the averaging divisor.
    divisor_override : int, optional
        If given, the divisor instead of the window size.

    Shape
    -----
    - Input: `(N, C, H_in, W_in)` or `(C, H_in, W_in)`.
    - Output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)`, where
      H_out = floor((H_in + 2 padding[0] - kernel_size[0]) / stride[0] + 1) (ceil with ``ceil_mode``),
      and W_out likewise with index 1.

    Examples
    --------
    >>> m = nn.AvgPool2d((3, 2), stride=(2, 1))
    >>> m(cr.randn(20, 16, 50, 32)).shape
    chainrule.Size([20, 16, 24, 31])
    >>> nn.AvgPool2d(2)(cr.arange(16.).reshape(1, 1, 4, 4))
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()  # like torch, the arguments are checked when the pooling runs
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        kernel, stride, padding, _ = _check_pool("AvgPool2d", self.kernel_size, self.stride, self.padding)
        return F.avg_pool2d(input, kernel, stride, padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Flatten(Module):
    """Flattens the dims ``start_dim`` to ``end_dim`` of its input into one, as ``torch.nn.Flatten``.

    Parameters
    ----------
    start_dim : int, default 1
        First dim to flatten (the batch dim 0 is kept by default).
    end_dim : int, default -1
        Last dim to flatten.

    Shape
    -----
    - Input: `(*, S_start, ..., S_end, *)`, any number of dims.
    - Output: `(*, S_start x ... x S_end, *)`.

    Examples
    --------
    >>> nn.Flatten()(cr.randn(32, 1, 5, 5)).shape
    chainrule.Size([32, 25])
    >>> nn.Flatten(0, 2)(cr.randn(32, 1, 5, 5)).shape
    chainrule.Size([160, 5])
    """
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits the dim ``dim`` of its input into the shape ``unflattened_size``, as ``torch.nn.Unflatten``.

    Parameters
    ----------
    dim : int
        Dim to unflatten.
    unflattened_size : tuple of ints or chainrule.Size
        The new shape of that dim; its product equals the dim's size.

    Shape
    -----
    - Input: `(*, S_dim, *)`, where S_dim is the size of dim ``dim``.
    - Output: `(*, U_1, ..., U_n, *)`, where U = unflattened_size and U_1 x ... x U_n = S_dim.

    Examples
    --------
    >>> m = nn.Unflatten(1, (2, 5, 5))
    >>> m(cr.randn(2, 50)).shape
    chainrule.Size([2, 2, 5, 5])
    """
    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
