"""Convolution modules beyond Conv2d (layers.py): Conv1d, Conv3d, ConvTranspose1d/2d/3d, Unfold, Fold.

Parameters, defaults, init and repr as torch's ``_ConvNd``: weight (out, in/groups, *k), or
(in, out/groups, *k) when transposed; kaiming_uniform(a=sqrt(5)) and U(+-1/sqrt(fan_in)) for the bias.
"""
import math
import numbers

from . import functional as F
from .layers import _ConvNd
from .module import Module


class Conv1d(_ConvNd):
    """Applies a 1-D convolution over an (N, C_in, L) or (C_in, L) input, as ``torch.nn.Conv1d``.

    `out(N_i, C_out_j) = bias(C_out_j) + sum over k of weight(C_out_j, k) cross-correlated with input(N_i, k)`.
    ``weight`` has shape (out_channels, in_channels / groups, kernel_size) and ``bias``
    (out_channels,), both initialised from U(-k, k) with k = 1 / sqrt(in_channels / groups * kernel_size).

    Parameters
    ----------
    in_channels : int
        Number of channels of the input.
    out_channels : int
        Number of channels the convolution produces.
    kernel_size : int or tuple of 1 int
        Size of the convolving kernel.
    stride : int or tuple of 1 int, default 1
        Stride of the convolution.
    padding : int or tuple of 1 int or str, default 0
        Zeros (or ``padding_mode``) added to both sides of each spatial dim, or ``'valid'``
        (none) or ``'same'`` (output as large as the input; stride 1 only).
    dilation : int or tuple of 1 int, default 1
        Spacing between kernel elements.
    groups : int, default 1
        Number of blocked connections from input to output channels; both channel counts
        must be divisible by it.
    bias : bool, default True
        If True, adds a learnable bias to the output.
    padding_mode : str, default 'zeros'
        ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape
    -----
    - Input: `(N, C_in, L_in)` or `(C_in, L_in)`.
    - Output: `(N, C_out, L_out)` or `(C_out, L_out)`, where
      L_out = floor((L_in + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1).

    Examples
    --------
    >>> m = nn.Conv1d(16, 33, 3, stride=2)
    >>> m(cr.randn(20, 16, 50)).shape
    chainrule.Size([20, 33, 24])
    >>> nn.Conv1d(4, 4, 3, padding="same", padding_mode="circular")(cr.randn(4, 10)).shape
    chainrule.Size([4, 10])
    """
    dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self._conv(input, F.conv1d)


class Conv3d(_ConvNd):
    """Applies a 3-D convolution over an (N, C_in, D, H, W) or (C_in, D, H, W) input, as ``torch.nn.Conv3d``.

    `out(N_i, C_out_j) = bias(C_out_j) + sum over k of weight(C_out_j, k) cross-correlated with input(N_i, k)`.
    ``weight`` has shape (out_channels, in_channels / groups, kD, kH, kW) and ``bias`` (out_channels,),
    both initialised from U(-k, k) with k = 1 / sqrt(in_channels / groups * kD * kH * kW).

    Parameters
    ----------
    in_channels : int
        Number of channels of the input.
    out_channels : int
        Number of channels the convolution produces.
    kernel_size : int or tuple of 3 ints
        Size of the convolving kernel.
    stride : int or tuple of 3 ints, default 1
        Stride of the convolution.
    padding : int or tuple of 3 ints or str, default 0
        Zeros (or ``padding_mode``) added to both sides of each spatial dim, or ``'valid'``
        (none) or ``'same'`` (output as large as the input; stride 1 only).
    dilation : int or tuple of 3 ints, default 1
        Spacing between kernel elements.
    groups : int, default 1
        Number of blocked connections from input to output channels; both channel counts
        must be divisible by it.
    bias : bool, default True
        If True, adds a learnable bias to the output.
    padding_mode : str, default 'zeros'
        ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape
    -----
    - Input: `(N, C_in, D_in, H_in, W_in)` or `(C_in, D_in, H_in, W_in)`.
    - Output: `(N, C_out, D_out, H_out, W_out)` or `(C_out, D_out, H_out, W_out)`, where
      D_out = floor((D_in + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1) / stride[0] + 1), and
      H_out, W_out likewise with indices 1 and 2.

    Examples
    --------
    >>> m = nn.Conv3d(16, 33, 3, stride=2)
    >>> m(cr.randn(2, 16, 10, 12, 14)).shape
    chainrule.Size([2, 33, 4, 5, 6])
    >>> m = nn.Conv3d(16, 33, (3, 5, 2), stride=(2, 1, 1), padding=(4, 2, 0))
    >>> m(cr.randn(2, 16, 10, 12, 14)).shape
    chainrule.Size([2, 33, 8, 12, 13])
    """
    dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self._conv(input, F.conv3d)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)


class ConvTranspose1d(_ConvTransposeNd):
    """Applies a 1-D transposed convolution over an (N, C_in, L) or (C_in, L) input, as ``torch.nn.ConvTranspose1d``.

    ``weight`` has shape (in_channels, out_channels / groups, kernel_size) and ``bias`` (out_channels,).
    The gradient of Conv1d with respect to its input, also called a fractionally-strided convolution;
    forward takes `(input, output_size=None)`: ``output_size`` picks the output_padding that gives it.

    Parameters
    ----------
    in_channels : int
        Number of channels of the input.
    out_channels : int
        Number of channels the convolution produces.
    kernel_size : int or tuple of 1 int
        Size of the convolving kernel.
    stride : int or tuple of 1 int, default 1
        Stride of the convolution.
    padding : int or tuple of 1 int, default 0
        ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides of each
        spatial dim of the input (so that it inverts a Conv with the same padding).
    output_padding : int or tuple of 1 int, default 0
        Extra size added to one side of each output dim (smaller than stride or dilation).
    groups : int, default 1
        Number of blocked connections from input to output channels.
    bias : bool, default True
        If True, adds a learnable bias to the output.
    dilation : int or tuple of 1 int, default 1
        Spacing between kernel elements.
    padding_mode : str, default 'zeros'
        Only ``'zeros'`` (as torch).

    Shape
    -----
    - Input: `(N, C_in, L_in)` or `(C_in, L_in)`.
    - Output: `(N, C_out, L_out)` or `(C_out, L_out)`, where
      L_out = (L_in - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1.

    Examples
    --------
    >>> m = nn.ConvTranspose1d(16, 33, 3, stride=2)
    >>> m(cr.randn(20, 16, 50)).shape
    chainrule.Size([20, 33, 101])
    >>> m(cr.randn(20, 16, 50), output_size=[102]).shape
    chainrule.Size([20, 33, 102])
    """
    dims = 1

    def forward(self, input, output_size=None):
        return self._conv_transpose(input, output_size, F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Applies a 2-D transposed convolution over an (N, C_in, H, W) input, as ``torch.nn.ConvTranspose2d``.

    ``weight`` has shape (in_channels, out_channels / groups, kH, kW) and ``bias`` (out_channels,).
    The gradient of Conv2d with respect to its input, also called a fractionally-strided convolution;
    forward takes `(input, output_size=None)`: ``output_size`` picks the output_padding that gives it.

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
    padding : int or tuple of 2 ints, default 0
        ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides of each
        spatial dim of the input (so that it inverts a Conv with the same padding).
    output_padding : int or tuple of 2 ints, default 0
        Extra size added to one side of each output dim (smaller than stride or dilation).
    groups : int, default 1
        Number of blocked connections from input to output channels.
    bias : bool, default True
        If True, adds a learnable bias to the output.
    dilation : int or tuple of 2 ints, default 1
        Spacing between kernel elements.
    padding_mode : str, default 'zeros'
        Only ``'zeros'`` (as torch).

    Shape
    -----
    - Input: `(N, C_in, H_in, W_in)` or `(C_in, H_in, W_in)`.
    - Output: `(N, C_out, H_out, W_out)` or `(C_out, H_out, W_out)`, where
      H_out = (H_in - 1) stride[0] - 2 padding[0] + dilation[0] (kernel_size[0] - 1) + output_padding[0] + 1,
      and W_out likewise with index 1.

    Examples
    --------
    >>> m = nn.ConvTranspose2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2))
    >>> m(cr.randn(20, 16, 50, 100)).shape
    chainrule.Size([20, 33, 93, 100])
    >>> downsample = nn.Conv2d(16, 16, 3, stride=2, padding=1)
    >>> upsample = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)
    >>> h = downsample(cr.randn(1, 16, 12, 12))
    >>> h.shape
    chainrule.Size([1, 16, 6, 6])
    >>> upsample(h, output_size=[1, 16, 12, 12]).shape
    chainrule.Size([1, 16, 12, 12])
    """
    dims = 2

    def forward(self, input, output_size=None):
        return self._conv_transpose(input, output_size, F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """Applies a 3-D transposed convolution over an (N, C_in, D, H, W) input, as ``torch.nn.ConvTranspose3d``.

    ``weight`` has shape (in_channels, out_channels / groups, kD, kH, kW) and ``bias`` (out_channels,).
    The gradient of Conv3d with respect to its input, also called a fractionally-strided convolution;
    forward takes `(input, output_size=None)`: ``output_size`` picks the output_padding that gives it.

    Parameters
    ----------
    in_channels : int
        Number of channels of the input.
    out_channels : int
        Number of channels the convolution produces.
    kernel_size : int or tuple of 3 ints
        Size of the convolving kernel.
    stride : int or tuple of 3 ints, default 1
        Stride of the convolution.
    padding : int or tuple of 3 ints, default 0
        ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides of each
        spatial dim of the input (so that it inverts a Conv with the same padding).
    output_padding : int or tuple of 3 ints, default 0
        Extra size added to one side of each output dim (smaller than stride or dilation).
    groups : int, default 1
        Number of blocked connections from input to output channels.
    bias : bool, default True
        If True, adds a learnable bias to the output.
    dilation : int or tuple of 3 ints, default 1
        Spacing between kernel elements.
    padding_mode : str, default 'zeros'
        Only ``'zeros'`` (as torch).

    Shape
    -----
    - Input: `(N, C_in, D_in, H_in, W_in)` or `(C_in, D_in, H_in, W_in)`.
    - Output: `(N, C_out, D_out, H_out, W_out)` or `(C_out, D_out, H_out, W_out)`, where
      D_out = (D_in - 1) stride[0] - 2 padding[0] + dilation[0] (kernel_size[0] - 1) + output_padding[0] + 1,
      and H_out, W_out likewise with indices 1 and 2.

    Examples
    --------
    >>> m = nn.ConvTranspose3d(16, 33, 3, stride=2)
    >>> m(cr.randn(2, 16, 4, 5, 6)).shape
    chainrule.Size([2, 33, 9, 11, 13])
    >>> m = nn.ConvTranspose3d(16, 33, (3, 5, 2), stride=(2, 1, 1), padding=(0, 4, 2))
    >>> m(cr.randn(2, 16, 4, 10, 12)).shape
    chainrule.Size([2, 33, 9, 6, 9])
    """
    dims = 3

    def forward(self, input, output_size=None):
        return self._conv_transpose(input, output_size, F.conv_transpose3d)


class Unfold(Module):
    """Extracts the sliding local blocks of a batched image into columns (im2col), as ``torch.nn.Unfold``.

    Each block of C x kH x kW values becomes one column; the L columns are the block positions. Fold is
    its adjoint (it sums the overlapping values back). Only image-like (2 spatial dims) inputs, as torch.

    Parameters
    ----------
    kernel_size : int or tuple of 2 ints
        Size of the sliding blocks.
    dilation : int or tuple of 2 ints, default 1
        Stride of the elements within a block.
    padding : int or tuple of 2 ints, default 0
        Implicit zero padding added on both sides of the spatial dims.
    stride : int or tuple of 2 ints, default 1
        Stride of the blocks.

    Shape
    -----
    - Input: `(N, C, H, W)` or `(C, H, W)`.
    - Output: `(N, C x kH x kW, L)` or `(C x kH x kW, L)`, where
      L = prod over d of floor((size[d] + 2 padding[d] - dilation[d] (kernel_size[d] - 1) - 1) / stride[d] + 1),
      d over the spatial dims (H, W).

    Examples
    --------
    >>> unfold = nn.Unfold(kernel_size=(2, 3))
    >>> unfold(cr.randn(2, 5, 3, 4)).shape
    chainrule.Size([2, 30, 4])
    """
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Combines an array of sliding local blocks into a tensor, summing overlaps (col2im), as ``torch.nn.Fold``.

    The adjoint of Unfold: each column of C x kH x kW values is added back at its block's position in
    an (N, C, output_size) tensor. Only image-like (2 spatial dims) outputs, as torch.

    Parameters
    ----------
    output_size : int or tuple of 2 ints
        The spatial shape (H, W) of the output.
    kernel_size : int or tuple of 2 ints
        Size of the sliding blocks.
    dilation : int or tuple of 2 ints, default 1
        Stride of the elements within a block.
    padding : int or tuple of 2 ints, default 0
        Implicit zero padding added on both sides of the spatial dims.
    stride : int or tuple of 2 ints, default 1
        Stride of the blocks.

    Shape
    -----
    - Input: `(N, C x kH x kW, L)` or `(C x kH x kW, L)`, L the number of blocks that fit the output.
    - Output: `(N, C, output_size[0], output_size[1])` or `(C, output_size[0], output_size[1])`.

    Examples
    --------
    >>> fold = nn.Fold(output_size=(4, 5), kernel_size=(2, 2))
    >>> fold(cr.randn(1, 3 * 2 * 2, 12)).shape
    chainrule.Size([1, 3, 4, 5])
    >>> x = cr.ones(1, 1, 3, 3)
    >>> nn.Fold(3, 2)(nn.Unfold(2)(x))
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
