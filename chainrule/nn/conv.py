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
    """Applies a 1-D convolution over an input of shape (N, C_in, L) or (C_in, L), as ``torch.nn.Conv1d``.

    ``weight`` has shape (out_channels, in_channels / groups, kernel_size); L_out = floor((L + 2 padding -
    dilation (kernel_size - 1) - 1) / stride) + 1."""
    dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self._conv(input, F.conv1d)


class Conv3d(_ConvNd):
    """Applies a 3-D convolution over an input of shape (N, C_in, D, H, W) or (C_in, D, H, W), as
    ``torch.nn.Conv3d``.

    ``weight`` has shape (out_channels, in_channels / groups, kD, kH, kW)."""
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
    """Applies a 1-D transposed convolution (the gradient of Conv1d with respect to its input) over an (N, C_in,
    L) input, as ``torch.nn.ConvTranspose1d``.

    L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1."""
    dims = 1

    def forward(self, input, output_size=None):
        return self._conv_transpose(input, output_size, F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Applies a 2-D transposed convolution over an (N, C_in, H, W) input, as ``torch.nn.ConvTranspose2d``.

    ``weight`` has shape (in_channels, out_channels / groups, kH, kW); ``output_size`` in forward picks the
    output_padding."""
    dims = 2

    def forward(self, input, output_size=None):
        return self._conv_transpose(input, output_size, F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """Applies a 3-D transposed convolution over an (N, C_in, D, H, W) input, as ``torch.nn.ConvTranspose3d``."""
    dims = 3

    def forward(self, input, output_size=None):
        return self._conv_transpose(input, output_size, F.conv_transpose3d)


class Unfold(Module):
    """Extracts sliding local blocks of an (N, C, H, W) input into (N, C kH kW, L), as ``torch.nn.Unfold``."""
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Sums sliding local blocks (N, C kH kW, L) back into an (N, C, output_size) tensor, as ``torch.nn.Fold``."""
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
