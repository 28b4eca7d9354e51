"""Normalisation layers beyond batch norm (torch.nn.modules.normalization / instancenorm): layer,
RMS, group, instance and local response norm; their math is in ``functional``."""
from ..tensor import ones, zeros
from .module import Module, Parameter
from . import functional as F


def _shape(normalized_shape):
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


class LayerNorm(Module):
    """Normalises over the last dims ``normalized_shape`` of its input, as ``torch.nn.LayerNorm``.

    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta`, the mean and the biased variance taken over
    the last `len(normalized_shape)` dims of each sample; gamma (``weight``, ones) and beta (``bias``,
    zeros) have shape ``normalized_shape``. The statistics are the same in training and eval mode.

    Parameters
    ----------
    normalized_shape : int or list or chainrule.Size
        The shape of the trailing dims to normalise over; an int normalises over the last dim.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    elementwise_affine : bool, default True
        If True, learns ``weight`` and ``bias``.
    bias : bool, default True
        With ``elementwise_affine``, whether to learn the ``bias``.

    Shape
    -----
    - Input: `(N, *)`, the last dims equal to ``normalized_shape``.
    - Output: `(N, *)`, the same shape as the input.

    Examples
    --------
    >>> batch, sentence_length, embedding_dim = 20, 5, 10
    >>> m = nn.LayerNorm(embedding_dim)
    >>> m(cr.randn(batch, sentence_length, embedding_dim)).shape
    chainrule.Size([20, 5, 10])
    >>> nn.LayerNorm([5, 10, 10])(cr.randn(20, 5, 10, 10)).shape
    chainrule.Size([20, 5, 10, 10])
    >>> nn.LayerNorm(2, elementwise_affine=False)(cr.tensor([[1.0, 3.0]]))
    tensor([[-1.0000,  1.0000]])
    """
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape, self.eps, self.elementwise_affine = _shape(normalized_shape), eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, device=device, dtype=dtype))
            self.bias = Parameter(zeros(self.normalized_shape, device=device, dtype=dtype)) if bias else None
        else:
            self.weight = self.bias = None

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Applies root mean square normalisation over the last dims ``normalized_shape``, as ``torch.nn.RMSNorm``.

    `y = x / sqrt(mean(x^2) + eps) * gamma`, the mean taken over the last `len(normalized_shape)`
    dims; gamma (``weight``, ones) has shape ``normalized_shape``.

    Parameters
    ----------
    normalized_shape : int or list or chainrule.Size
        The shape of the trailing dims to normalise over; an int normalises over the last dim.
    eps : float, optional
        Added to the mean square; None (the default) uses the machine epsilon of the input's dtype.
    elementwise_affine : bool, default True
        If True, learns ``weight``.

    Shape
    -----
    - Input: `(N, *)`, the last dims equal to ``normalized_shape``.
    - Output: `(N, *)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.RMSNorm([2, 3])
    >>> m(cr.randn(2, 2, 3)).shape
    chainrule.Size([2, 2, 3])
    >>> nn.RMSNorm(2, elementwise_affine=False)(cr.tensor([[3.0, 4.0]]))
    tensor([[0.8485, 1.1314]])
    """
    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape, self.eps, self.elementwise_affine = _shape(normalized_shape), eps, elementwise_affine
        self.weight = Parameter(ones(self.normalized_shape, device=device, dtype=dtype)) if elementwise_affine \
            else None

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalises over groups of channels of each sample, as ``torch.nn.GroupNorm``.

    The C channels are split into ``num_groups`` groups of C / num_groups channels, and
    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta` with the statistics (biased variance) taken
    per sample and group; gamma and beta are per channel. The same in training and eval mode.

    Parameters
    ----------
    num_groups : int
        The number of groups; it divides ``num_channels``.
    num_channels : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    affine : bool, default True
        If True, learns a per-channel ``weight`` (ones) and ``bias`` (zeros).
    bias : bool, default True
        With ``affine``, whether to learn the ``bias``.

    Shape
    -----
    - Input: `(N, C, *)` where C = num_channels.
    - Output: `(N, C, *)`, the same shape as the input.

    Examples
    --------
    >>> x = cr.randn(20, 6, 10, 10)
    >>> nn.GroupNorm(3, 6)(x).shape
    chainrule.Size([20, 6, 10, 10])
    >>> nn.GroupNorm(6, 6)(x).shape  # as InstanceNorm
    chainrule.Size([20, 6, 10, 10])
    >>> nn.GroupNorm(1, 6)(x).shape  # as LayerNorm over (C, H, W)
    chainrule.Size([20, 6, 10, 10])
    """
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self.weight = Parameter(ones(num_channels, device=device, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_channels, device=device, dtype=dtype)) if affine and bias else None

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(Module):
    _rank = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features, device=device, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_features, device=device, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)

    def forward(self, input):
        name, r = type(self).__name__, self._rank
        if input.ndim not in (r + 1, r + 2):
            raise ValueError(f"{name}: expected {r + 1}D or {r + 2}D input (got {input.ndim}D input)")
        batched = input.ndim == r + 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(f"{name}: expected input's size at dim={1 if batched else 0} to match num_features "
                             f"({self.num_features}), but got: {x.shape[1]}.")
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats, self.momentum, self.eps)
        return out if batched else out.squeeze(0)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Normalises each channel of each sample over L, as ``torch.nn.InstanceNorm1d``.

    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta`, the mean and the biased variance taken
    over L per sample and channel. With ``track_running_stats``, training mode also updates
    ``running_mean`` and ``running_var`` and eval mode uses them.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new statistic in the running ones.
    affine : bool, default False
        If True, learns a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default False
        If True, keeps running statistics for eval mode.
    bias : bool, default True
        Keyword only: with ``affine``, whether to learn the ``bias``.

    Shape
    -----
    - Input: `(N, C, L)` or `(C, L)`.
    - Output: `(N, C, L)` or `(C, L)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.InstanceNorm1d(100, affine=True)
    >>> m(cr.randn(20, 100, 40)).shape
    chainrule.Size([20, 100, 40])
    >>> nn.InstanceNorm1d(1)(cr.tensor([[[1.0, 3.0]]]))
    tensor([[[-1.0000,  1.0000]]])
    """
    _rank = 1


class InstanceNorm2d(_InstanceNorm):
    """Normalises each channel of each sample over H and W, as ``torch.nn.InstanceNorm2d``.

    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta`, the mean and the biased variance taken
    over H and W per sample and channel. With ``track_running_stats``, training mode also updates
    ``running_mean`` and ``running_var`` and eval mode uses them.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new statistic in the running ones.
    affine : bool, default False
        If True, learns a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default False
        If True, keeps running statistics for eval mode.
    bias : bool, default True
        Keyword only: with ``affine``, whether to learn the ``bias``.

    Shape
    -----
    - Input: `(N, C, H, W)` or `(C, H, W)`.
    - Output: `(N, C, H, W)` or `(C, H, W)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.InstanceNorm2d(100, affine=True)
    >>> m(cr.randn(20, 100, 35, 45)).shape
    chainrule.Size([20, 100, 35, 45])
    """
    _rank = 2


class InstanceNorm3d(_InstanceNorm):
    """Normalises each channel of each sample over D, H and W, as ``torch.nn.InstanceNorm3d``.

    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta`, the mean and the biased variance taken
    over D, H and W per sample and channel. With ``track_running_stats``, training mode also updates
    ``running_mean`` and ``running_var`` and eval mode uses them.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new statistic in the running ones.
    affine : bool, default False
        If True, learns a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default False
        If True, keeps running statistics for eval mode.
    bias : bool, default True
        Keyword only: with ``affine``, whether to learn the ``bias``.

    Shape
    -----
    - Input: `(N, C, D, H, W)` or `(C, D, H, W)`.
    - Output: `(N, C, D, H, W)` or `(C, D, H, W)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.InstanceNorm3d(100, affine=True)
    >>> m(cr.randn(2, 100, 4, 5, 6)).shape
    chainrule.Size([2, 100, 4, 5, 6])
    """
    _rank = 3


class LocalResponseNorm(Module):
    """Normalises each value by the squares of its neighbouring channels, as ``torch.nn.LocalResponseNorm``.

    `b_c = a_c (k + alpha / n sum over c' of a_{c'}^2)^(-beta)`, the sum over the n = ``size`` channels
    around c (zero-padded at the ends), as in AlexNet.

    Parameters
    ----------
    size : int
        The number of neighbouring channels used.
    alpha : float, default 1e-4
        Multiplicative factor.
    beta : float, default 0.75
        Exponent.
    k : float, default 1.0
        Additive factor.

    Shape
    -----
    - Input: `(N, C, *)`.
    - Output: `(N, C, *)`, the same shape as the input.

    Examples
    --------
    >>> lrn = nn.LocalResponseNorm(2)
    >>> lrn(cr.randn(32, 5, 24, 24)).shape
    chainrule.Size([32, 5, 24, 24])
    >>> lrn(cr.randn(16, 5, 7, 7, 7)).shape
    chainrule.Size([16, 5, 7, 7, 7])
    """
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
