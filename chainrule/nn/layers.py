"""Layers, activations and losses as Modules: parameters and options around nn.functional."""
import math
import numbers
import operator
import warnings

from ..tensor import empty, ones, zeros, full, tensor
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
    """Returns its input unchanged, as ``torch.nn.Identity`` (the constructor's arguments are ignored)."""
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Applies the affine map y = x W^T + b over the last dim, as ``torch.nn.Linear``.

    ``weight`` has shape (out_features, in_features) and ``bias`` (out_features,), both initialised from
    U(-1/sqrt(in_features), 1/sqrt(in_features)). Input (..., in_features), output (..., out_features)."""
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
    """Applies y_o = x1^T A_o x2 + b_o, as ``torch.nn.Bilinear``.

    ``weight`` has shape (out_features, in1_features, in2_features); inputs (..., in1_features) and (...,
    in2_features), output (..., out_features)."""
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
    """Applies 2-D max pooling over an input of shape (N, C, H, W) or (C, H, W), as ``torch.nn.MaxPool2d``."""
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
    """Applies 2-D average pooling over an input of shape (N, C, H, W) or (C, H, W), as ``torch.nn.AvgPool2d``."""
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
    """Flattens dims ``start_dim`` (default 1) to ``end_dim`` into one, as ``torch.nn.Flatten``."""
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim ``dim`` into the shape ``unflattened_size``, as ``torch.nn.Unflatten``."""
    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Zeroes each element with probability ``p`` in training mode, scaling the rest by 1 / (1 - p), as
    ``torch.nn.Dropout``; the identity in eval mode."""
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class _FeatureDropout(Dropout):
    def forward(self, input):
        return type(self).fn(input, self.p, self.training)


class Dropout1d(_FeatureDropout):
    """Zeroes whole channels of an (N, C, L) or (C, L) input with probability ``p`` in training mode, as
    ``torch.nn.Dropout1d``."""
    fn = staticmethod(F.dropout1d)


class Dropout2d(_FeatureDropout):
    """Zeroes whole channels of an (N, C, H, W) or (C, H, W) input with probability ``p`` in training mode, as
    ``torch.nn.Dropout2d``."""
    fn = staticmethod(F.dropout2d)


class Dropout3d(_FeatureDropout):
    """Zeroes whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability ``p`` in training mode,
    as ``torch.nn.Dropout3d``."""
    fn = staticmethod(F.dropout3d)


class AlphaDropout(_FeatureDropout):
    """Applies alpha dropout (keeps the zero mean and unit variance of SELU activations) in training mode, as
    ``torch.nn.AlphaDropout``."""
    fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_FeatureDropout):
    """Applies alpha dropout to whole channels in training mode, as ``torch.nn.FeatureAlphaDropout``."""
    fn = staticmethod(F.feature_alpha_dropout)


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
    """Applies batch normalisation over an (N, C) or (N, C, L) input, as ``torch.nn.BatchNorm1d``.

    y = (x - mean) / sqrt(var + eps) weight + bias per channel; training mode uses the batch statistics and
    updates ``running_mean`` / ``running_var`` with ``momentum``, eval mode uses the running ones."""
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Applies batch normalisation over an (N, C, H, W) input, per channel, as ``torch.nn.BatchNorm2d``.

    Training mode uses the batch statistics and updates the running ones with ``momentum``; eval mode uses the
    running statistics."""
    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Applies batch normalisation over an (N, C, D, H, W) input, per channel, as ``torch.nn.BatchNorm3d``.

    Training mode uses the batch statistics and updates the running ones with ``momentum``; eval mode uses the
    running statistics."""
    _ranks = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose statistics are synchronised across processes; on one process (no
    distributed group) it is plain batch norm over any input of rank 2 or more, as torch's."""
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


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, as ``torch.nn.Embedding``.

    Input: integer indices of any shape; output: input.shape + (embedding_dim,). ``weight`` is initialised from
    N(0, 1), with the ``padding_idx`` row zeroed."""
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse = (max_norm, norm_type,
                                                                               scale_grad_by_freq, sparse)
        if _weight is None:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, device=device, dtype=dtype),
                                    requires_grad=not _freeze)
            init.normal_(self.weight)
            if padding_idx is not None:
                self.weight._data[padding_idx] = 0
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, embeddings, freeze)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s


class EmbeddingBag(Module):
    """Sums, averages or takes the maximum of bags of embeddings without materialising them, as
    ``torch.nn.EmbeddingBag``.

    Input: a 2-D (B, bag_size) index tensor, or a 1-D one with ``offsets`` marking where each bag starts;
    output (B, embedding_dim)."""
    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim, self.max_norm, self.norm_type = (num_embeddings, embedding_dim,
                                                                                  max_norm, norm_type)
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, device=device, dtype=dtype))
            init.normal_(self.weight)
            if padding_idx is not None:
                self.weight._data[padding_idx] = 0
        else:
            self.weight = Parameter(_weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings, include_last_offset,
                  padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


# ---- activations ------------------------------------------------------------------------------------

class ReLU(Module):
    """Applies max(0, x) elementwise, as ``torch.nn.ReLU``."""
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return input.relu_() if self.inplace else input.relu()

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """Applies 1 / (1 + exp(-x)) elementwise, as ``torch.nn.Sigmoid``."""
    def forward(self, input):
        return input.sigmoid()


class Tanh(Module):
    """Applies the hyperbolic tangent elementwise, as ``torch.nn.Tanh``."""
    def forward(self, input):
        return input.tanh()


class LeakyReLU(Module):
    """Applies max(0, x) + negative_slope min(0, x) elementwise, as ``torch.nn.LeakyReLU``."""
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """Applies x if x > 0 else alpha (exp(x) - 1) elementwise, as ``torch.nn.ELU``."""
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Applies x Phi(x) (Phi the standard normal CDF; ``approximate='tanh'`` for the tanh form) elementwise, as
    ``torch.nn.GELU``."""
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class PReLU(Module):
    """Applies max(0, x) + a min(0, x) with a learnable slope a (one, or one per channel), as ``torch.nn.PReLU``;
    a starts at ``init``."""
    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(full((num_parameters,), float(init), device=device, dtype=dtype))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    """Applies softmax along ``dim``: exp(x_i) / sum_j exp(x_j), as ``torch.nn.Softmax``."""
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Applies log(softmax(x)) along ``dim``, as ``torch.nn.LogSoftmax``."""
    def forward(self, input):
        return F.log_softmax(input, self.dim)
