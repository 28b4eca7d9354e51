"""Batch normalisation as Modules: BatchNorm1d/2d/3d and SyncBatchNorm (one process: BatchNorm)."""
from ..tensor import ones, zeros, tensor
from . import functional as F
from .module import Module, Parameter


class _BatchNorm(Module):
    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, input):
        name = type(self).__name__
        if input.ndim not in self._ranks:
            raise ValueError(f"{name}: expected {' or '.join(f'{r}D' for r in self._ranks)} input (got "
                             f"{input.ndim}D input of shape {list(input.shape)})")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input with {self.num_features} channels (dim 1), got shape "
                             f"{list(input.shape)}")
        use_batch = self.training or self.running_mean is None
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        track = self.training and self.track_running_stats
        return F.batch_norm(input, self.running_mean if track or not self.training else None,
                            self.running_var if track or not self.training else None,
                            self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Applies batch normalisation over an (N, C) or (N, C, L) input, per channel, as ``torch.nn.BatchNorm1d``.

    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta`, the mean and the biased variance taken over
    the batch (and L) per channel. Training mode uses the batch statistics and updates ``running_mean``
    and ``running_var`` (with the unbiased variance) by ``momentum``; eval mode uses the running ones.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new batch statistic in the running ones (None: a cumulative average).
    affine : bool, default True
        If True, learns a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default True
        If True, keeps ``running_mean`` and ``running_var`` buffers for eval mode; if False, uses the
        batch statistics in both modes.
    bias : bool, default True
        Keyword only: with ``affine``, whether to learn the ``bias``.

    Shape
    -----
    - Input: `(N, C)` or `(N, C, L)`.
    - Output: `(N, C)` or `(N, C, L)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.BatchNorm1d(100)
    >>> m(cr.randn(20, 100)).shape
    chainrule.Size([20, 100])
    >>> m.running_mean.shape
    chainrule.Size([100])
    """
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Applies batch normalisation over an (N, C, H, W) input, per channel, as ``torch.nn.BatchNorm2d``.

    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta`, the mean and the biased variance taken over
    N, H and W per channel. Training mode uses the batch statistics and updates ``running_mean`` and
    ``running_var`` by ``momentum``; eval mode uses the running ones.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new batch statistic in the running ones (None: a cumulative average).
    affine : bool, default True
        If True, learns a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default True
        If True, keeps ``running_mean`` and ``running_var`` buffers for eval mode; if False, uses the
        batch statistics in both modes.
    bias : bool, default True
        Keyword only: with ``affine``, whether to learn the ``bias``.

    Shape
    -----
    - Input: `(N, C, H, W)`.
    - Output: `(N, C, H, W)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.BatchNorm2d(100, affine=False)
    >>> m(cr.randn(20, 100, 35, 45)).shape
    chainrule.Size([20, 100, 35, 45])
    """
    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Applies batch normalisation over an (N, C, D, H, W) input, per channel, as ``torch.nn.BatchNorm3d``.

    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta`, the mean and the biased variance taken over
    N, D, H and W per channel. Training mode uses the batch statistics and updates ``running_mean``
    and ``running_var`` by ``momentum``; eval mode uses the running ones.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new batch statistic in the running ones (None: a cumulative average).
    affine : bool, default True
        If True, learns a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default True
        If True, keeps ``running_mean`` and ``running_var`` buffers for eval mode; if False, uses the
        batch statistics in both modes.
    bias : bool, default True
        Keyword only: with ``affine``, whether to learn the ``bias``.

    Shape
    -----
    - Input: `(N, C, D, H, W)`.
    - Output: `(N, C, D, H, W)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.BatchNorm3d(16)
    >>> m(cr.randn(4, 16, 3, 8, 8)).shape
    chainrule.Size([4, 16, 3, 8, 8])
    """
    _ranks = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over an (N, C, +) input, per channel, as ``torch.nn.SyncBatchNorm`` (see the note).

    `y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta` per channel (dim 1), the statistics taken over
    every other dim; ``convert_sync_batchnorm(module)`` swaps it in for every BatchNorm of a model.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new batch statistic in the running ones (None: a cumulative average).
    affine : bool, default True
        If True, learns a per-channel ``weight`` and ``bias``.
    track_running_stats : bool, default True
        If True, keeps running statistics for eval mode.
    process_group : optional
        The group whose processes would share statistics; stored only (see the note).

    Shape
    -----
    - Input: `(N, C, +)`, rank 2 or more.
    - Output: `(N, C, +)`, the same shape as the input.

    Notes
    -----
    Where chainrule differs from torch: the statistics are never synchronised. Without a process
    group both are plain batch norm; inside one, torch averages the statistics over the group's
    processes (on GPU) while chainrule normalises each process's batch with its own statistics.

    Examples
    --------
    >>> m = nn.SyncBatchNorm(100)
    >>> m(cr.randn(20, 100, 35)).shape
    chainrule.Size([20, 100, 35])
    """
    _ranks = (2, 3, 4, 5)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every BatchNorm*d inside ``module`` by a SyncBatchNorm with the same state."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            for name, t in list(module._parameters.items()) + list(module._buffers.items()):
                (out._parameters if name in module._parameters else out._buffers)[name] = t
            out.training = module.training
            return out
        for name, child in module.named_children():
            module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
