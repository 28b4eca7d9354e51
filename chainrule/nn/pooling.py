"""Pooling modules beyond MaxPool2d/AvgPool2d (layers.py): 1-d max/avg, adaptive, LP and unpooling."""
from . import functional as F
from .module import Module


def _single(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class MaxPool1d(Module):
    """Applies 1-D max pooling over an input of shape (N, C, L) or (C, L), as ``torch.nn.MaxPool1d``.

    `out(N_i, C_j, k) = max over m of input(N_i, C_j, stride k + dilation m)`, m in [0, kernel_size),
    the input padded with -inf on both sides by ``padding``.

    Parameters
    ----------
    kernel_size : int or tuple of 1 int
        Size of the sliding window.
    stride : int or tuple of 1 int, optional
        Stride of the window; defaults to ``kernel_size``.
    padding : int or tuple of 1 int, default 0
        Implicit negative infinity padding on both sides (at most half the kernel size).
    dilation : int or tuple of 1 int, default 1
        Spacing between the elements of the window.
    return_indices : bool, default False
        If True, also returns the indices of the maxima (for MaxUnpool1d).
    ceil_mode : bool, default False
        If True, uses ceil instead of floor to compute the output shape.

    Shape
    -----
    - Input: `(N, C, L_in)` or `(C, L_in)`.
    - Output: `(N, C, L_out)` or `(C, L_out)`, where
      L_out = floor((L_in + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1) (ceil with ``ceil_mode``).

    Examples
    --------
    >>> m = nn.MaxPool1d(3, stride=2)
    >>> m(cr.randn(20, 16, 50)).shape
    chainrule.Size([20, 16, 24])
    >>> nn.MaxPool1d(2)(cr.tensor([[1.0, 3.0, 2.0, 0.0]]))
    tensor([[3., 2.]])
    """
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Applies 1-D average pooling over an input of shape (N, C, L) or (C, L), as ``torch.nn.AvgPool1d``.

    `out(N_i, C_j, l) = 1 / k sum over m of input(N_i, C_j, stride l + m)`, m in [0, k), k = kernel_size,
    the input zero-padded on both sides by ``padding``.

    Parameters
    ----------
    kernel_size : int or tuple of 1 int
        Size of the window.
    stride : int or tuple of 1 int, optional
        Stride of the window; defaults to ``kernel_size``.
    padding : int or tuple of 1 int, default 0
        Implicit zero padding on both sides (at most half the kernel size).
    ceil_mode : bool, default False
        If True, uses ceil instead of floor to compute the output shape.
    count_include_pad : bool, default True
        If True, the zero padding counts in the averaging divisor.

    Shape
    -----
    - Input: `(N, C, L_in)` or `(C, L_in)`.
    - Output: `(N, C, L_out)` or `(C, L_out)`, where
      L_out = floor((L_in + 2 padding - kernel_size) / stride + 1) (ceil with ``ceil_mode``).

    Examples
    --------
    >>> m = nn.AvgPool1d(3, stride=2)
    >>> m(cr.tensor([[[1.0, 2, 3, 4, 5, 6, 7]]]))
    tensor([[[2., 4., 6.]]])
    """
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    fn = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return type(self).fn(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Applies 1-D adaptive average pooling to ``output_size``, as ``torch.nn.AdaptiveAvgPool1d``.

    Output index i of a dim of input size n and output size m covers the input range
    [floor(i n / m), ceil((i + 1) n / m)): any input size works, the bins may overlap.

    Parameters
    ----------
    output_size : int
        The target length L_out.

    Shape
    -----
    - Input: `(N, C, L_in)` or `(C, L_in)`.
    - Output: `(N, C, L_out)` or `(C, L_out)`, where (L_out) = output_size.

    Examples
    --------
    >>> m = nn.AdaptiveAvgPool1d(5)
    >>> m(cr.randn(1, 64, 8)).shape
    chainrule.Size([1, 64, 5])
    >>> nn.AdaptiveAvgPool1d(2)(cr.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]]))
    tensor([[2., 4.]])
    """
    fn = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Applies 2-D adaptive average pooling to ``output_size``, as ``torch.nn.AdaptiveAvgPool2d``.

    Output index i of a dim of input size n and output size m covers the input range
    [floor(i n / m), ceil((i + 1) n / m)): any input size works, the bins may overlap.

    Parameters
    ----------
    output_size : int or tuple of 2 (int or None)
        The target size (H_out, W_out), or one int for a square output; None keeps that dim's input size.

    Shape
    -----
    - Input: `(N, C, H_in, W_in)` or `(C, H_in, W_in)`.
    - Output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)`, where (H_out, W_out) = output_size.

    Examples
    --------
    >>> m = nn.AdaptiveAvgPool2d((5, 7))
    >>> m(cr.randn(1, 64, 8, 9)).shape
    chainrule.Size([1, 64, 5, 7])
    >>> nn.AdaptiveAvgPool2d((None, 7))(cr.randn(1, 64, 10, 9)).shape
    chainrule.Size([1, 64, 10, 7])
    """
    fn = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Applies 3-D adaptive average pooling to ``output_size``, as ``torch.nn.AdaptiveAvgPool3d``.

    Output index i of a dim of input size n and output size m covers the input range
    [floor(i n / m), ceil((i + 1) n / m)): any input size works, the bins may overlap.

    Parameters
    ----------
    output_size : int or tuple of 3 (int or None)
        The target size (D_out, H_out, W_out), or one int for a cube; None keeps that dim's input size.

    Shape
    -----
    - Input: `(N, C, D_in, H_in, W_in)` or `(C, D_in, H_in, W_in)`.
    - Output: `(N, C, D_out, H_out, W_out)` or `(C, D_out, H_out, W_out)`, where (D_out, H_out, W_out) = output_size.

    Examples
    --------
    >>> m = nn.AdaptiveAvgPool3d((5, 7, 9))
    >>> m(cr.randn(1, 64, 8, 9, 10)).shape
    chainrule.Size([1, 64, 5, 7, 9])
    >>> nn.AdaptiveAvgPool3d(1)(cr.randn(2, 3, 4, 4, 4)).shape
    chainrule.Size([2, 3, 1, 1, 1])
    """
    fn = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Applies 1-D adaptive max pooling to ``output_size``, as ``torch.nn.AdaptiveMaxPool1d``.

    Output index i of a dim of input size n and output size m covers the input range
    [floor(i n / m), ceil((i + 1) n / m)): any input size works, the bins may overlap.

    Parameters
    ----------
    output_size : int
        The target length L_out.
    return_indices : bool, default False
        If True, also returns the flat indices of the maxima (for MaxUnpool1d).

    Shape
    -----
    - Input: `(N, C, L_in)` or `(C, L_in)`.
    - Output: `(N, C, L_out)` or `(C, L_out)`, where (L_out) = output_size.

    Examples
    --------
    >>> m = nn.AdaptiveMaxPool1d(5)
    >>> m(cr.randn(1, 64, 8)).shape
    chainrule.Size([1, 64, 5])
    >>> nn.AdaptiveMaxPool1d(2)(cr.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]]))
    tensor([[3., 5.]])
    """
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(AdaptiveMaxPool1d):
    """Applies 2-D adaptive max pooling to ``output_size``, as ``torch.nn.AdaptiveMaxPool2d``.

    Output index i of a dim of input size n and output size m covers the input range
    [floor(i n / m), ceil((i + 1) n / m)): any input size works, the bins may overlap.

    Parameters
    ----------
    output_size : int or tuple of 2 (int or None)
        The target size (H_out, W_out), or one int for a square output; None keeps that dim's input size.
    return_indices : bool, default False
        If True, also returns the flat indices of the maxima (for MaxUnpool2d).

    Shape
    -----
    - Input: `(N, C, H_in, W_in)` or `(C, H_in, W_in)`.
    - Output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)`, where (H_out, W_out) = output_size.

    Examples
    --------
    >>> m = nn.AdaptiveMaxPool2d((5, 7))
    >>> m(cr.randn(1, 64, 8, 9)).shape
    chainrule.Size([1, 64, 5, 7])
    >>> nn.AdaptiveMaxPool2d((None, 7))(cr.randn(1, 64, 10, 9)).shape
    chainrule.Size([1, 64, 10, 7])
    """
    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(AdaptiveMaxPool1d):
    """Applies 3-D adaptive max pooling to ``output_size``, as ``torch.nn.AdaptiveMaxPool3d``.

    Output index i of a dim of input size n and output size m covers the input range
    [floor(i n / m), ceil((i + 1) n / m)): any input size works, the bins may overlap.

    Parameters
    ----------
    output_size : int or tuple of 3 (int or None)
        The target size (D_out, H_out, W_out), or one int for a cube; None keeps that dim's input size.
    return_indices : bool, default False
        If True, also returns the flat indices of the maxima.

    Shape
    -----
    - Input: `(N, C, D_in, H_in, W_in)` or `(C, D_in, H_in, W_in)`.
    - Output: `(N, C, D_out, H_out, W_out)` or `(C, D_out, H_out, W_out)`, where (D_out, H_out, W_out) = output_size.

    Examples
    --------
    >>> m = nn.AdaptiveMaxPool3d((5, 7, 9))
    >>> m(cr.randn(1, 64, 8, 9, 10)).shape
    chainrule.Size([1, 64, 5, 7, 9])
    >>> nn.AdaptiveMaxPool3d(1)(cr.randn(2, 3, 4, 4, 4)).shape
    chainrule.Size([2, 3, 1, 1, 1])
    """
    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class MaxUnpool1d(Module):
    """Places the values of a 1-D max pooling back at their indices in zeros, as ``torch.nn.MaxUnpool1d``.

    A partial inverse of MaxPool1d (the non-maximal values are lost). Forward takes
    `(input, indices, output_size=None)`: the indices MaxPool1d returned with ``return_indices=True``,
    and optionally the size to restore (when the pooling's output size was ambiguous).

    Parameters
    ----------
    kernel_size : int or tuple of 1 int
        Size of the max pooling window.
    stride : int or tuple of 1 int, optional
        Stride of the max pooling window; defaults to ``kernel_size``.
    padding : int or tuple of 1 int, default 0
        Padding that was added to the input.

    Shape
    -----
    - Input: `(N, C, H_in)` or `(C, H_in)`.
    - Output: `(N, C, H_out)` or `(C, H_out)`, where H_out = (H_in - 1) stride - 2 padding + kernel_size,
      or as given by ``output_size``.

    Examples
    --------
    >>> pool = nn.MaxPool1d(2, stride=2, return_indices=True)
    >>> unpool = nn.MaxUnpool1d(2, stride=2)
    >>> output, indices = pool(cr.tensor([[[1.0, 2, 3, 4, 5, 6, 7, 8]]]))
    >>> unpool(output, indices)
    tensor([[[0., 2., 0., 4., 0., 6., 0., 8.]]])
    >>> output, indices = pool(cr.tensor([[[1.0, 2, 3, 4, 5, 6, 7, 8, 9]]]))
    >>> unpool(output, indices, output_size=[1, 1, 9])
    tensor([[[0., 2., 0., 4., 0., 6., 0., 8., 0.]]])
    """
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(Module):
    """Places the values of a 2-D max pooling back at their indices in zeros, as ``torch.nn.MaxUnpool2d``.

    A partial inverse of MaxPool2d (the non-maximal values are lost). Forward takes
    `(input, indices, output_size=None)`: the indices MaxPool2d returned with ``return_indices=True``,
    and optionally the size to restore (when the pooling's output size was ambiguous).

    Parameters
    ----------
    kernel_size : int or tuple of 2 ints
        Size of the max pooling window.
    stride : int or tuple of 2 ints, optional
        Stride of the max pooling window; defaults to ``kernel_size``.
    padding : int or tuple of 2 ints, default 0
        Padding that was added to the input.

    Shape
    -----
    - Input: `(N, C, H_in, W_in)` or `(C, H_in, W_in)`.
    - Output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)`, where
      H_out = (H_in - 1) stride[0] - 2 padding[0] + kernel_size[0], W_out likewise with index 1,
      or as given by ``output_size``.

    Examples
    --------
    >>> pool = nn.MaxPool2d(2, stride=2, return_indices=True)
    >>> unpool = nn.MaxUnpool2d(2, stride=2)
    >>> output, indices = pool(cr.arange(1.0, 17.0).reshape(1, 1, 4, 4))
    >>> unpool(output, indices)
    tensor([[[[ 0.,  0.,  0.,  0.],
              [ 0.,  6.,  0.,  8.],
              [ 0.,  0.,  0.,  0.],
              [ 0., 14.,  0., 16.]]]])
    >>> unpool(output, indices, output_size=cr.Size([1, 1, 5, 5])).shape
    chainrule.Size([1, 1, 5, 5])
    """
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride if stride is not None else kernel_size)
        self.padding = _pair(padding)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _LPPool(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """Applies 1-D power-average pooling over an (N, C, L) or (C, L) input, as ``torch.nn.LPPool1d``.

    `f(X) = (sum over the window of x^p)^(1 / p)`: p = infinity gives max pooling, p = 1 sum pooling
    (proportional to average pooling).

    Parameters
    ----------
    norm_type : float
        The exponent p.
    kernel_size : int
        Size of the window.
    stride : int, optional
        Stride of the window; defaults to ``kernel_size``.
    ceil_mode : bool, default False
        If True, uses ceil instead of floor to compute the output shape.

    Shape
    -----
    - Input: `(N, C, L_in)` or `(C, L_in)`.
    - Output: `(N, C, L_out)` or `(C, L_out)`, where L_out = floor((L_in - kernel_size) / stride + 1).

    Examples
    --------
    >>> m = nn.LPPool1d(2, 3, stride=2)
    >>> m(cr.randn(20, 16, 50)).shape
    chainrule.Size([20, 16, 24])
    >>> nn.LPPool1d(2, 2)(cr.tensor([[3.0, 4.0]]))
    tensor([[5.]])
    """
    def forward(self, input):
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPool):
    """Applies 2-D power-average pooling over an (N, C, H, W) or (C, H, W) input, as ``torch.nn.LPPool2d``.

    `f(X) = (sum over the window of x^p)^(1 / p)`: p = infinity gives max pooling, p = 1 sum pooling
    (proportional to average pooling).

    Parameters
    ----------
    norm_type : float
        The exponent p.
    kernel_size : int or tuple of 2 ints
        Size of the window.
    stride : int or tuple of 2 ints, optional
        Stride of the window; defaults to ``kernel_size``.
    ceil_mode : bool, default False
        If True, uses ceil instead of floor to compute the output shape.

    Shape
    -----
    - Input: `(N, C, H_in, W_in)` or `(C, H_in, W_in)`.
    - Output: `(N, C, H_out, W_out)` or `(C, H_out, W_out)`, where
      H_out = floor((H_in - kernel_size[0]) / stride[0] + 1), and W_out likewise with index 1.

    Examples
    --------
    >>> m = nn.LPPool2d(2, 3, stride=2)
    >>> m(cr.randn(20, 16, 50, 32)).shape
    chainrule.Size([20, 16, 24, 15])
    >>> m = nn.LPPool2d(1.2, (3, 2), stride=(2, 1))
    >>> m(cr.rand(20, 16, 50, 32)).shape
    chainrule.Size([20, 16, 24, 31])
    """
    def forward(self, input):
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)
