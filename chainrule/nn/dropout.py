"""Dropout layers as Modules: Dropout, the channel-wise Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout."""
from . import functional as F
from .module import Module


class Dropout(Module):
    """Zeroes each element with probability ``p`` in training mode, as ``torch.nn.Dropout``.

    The kept elements are scaled by `1 / (1 - p)`, so eval mode (where the module is the identity)
    needs no rescaling. The mask comes from chainrule's generator (``cr.manual_seed``), so the zeroed
    positions differ from torch's for the same seed.

    Parameters
    ----------
    p : float, default 0.5
        Probability of an element to be zeroed.
    inplace : bool, default False
        If True, zeroes the input in place.

    Shape
    -----
    - Input: `(*)`, any shape.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.Dropout(p=0.2)
    >>> m(cr.randn(20, 16)).shape
    chainrule.Size([20, 16])
    >>> m.eval()(cr.ones(3))
    tensor([1., 1., 1.])
    """
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
    """Zeroes whole channels of an (N, C, L) or (C, L) input in training mode, as ``torch.nn.Dropout1d``.

    Each channel `input[i, j]` (a 1-D signal) is zeroed with probability ``p`` and the kept ones are
    scaled by `1 / (1 - p)`; eval mode is the identity.

    Parameters
    ----------
    p : float, default 0.5
        Probability of a channel to be zeroed.
    inplace : bool, default False
        If True, zeroes the input in place.

    Shape
    -----
    - Input: `(N, C, L)` or `(C, L)`.
    - Output: `(N, C, L)` or `(C, L)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.Dropout1d(p=0.2)
    >>> m(cr.randn(20, 16, 32)).shape
    chainrule.Size([20, 16, 32])
    """
    fn = staticmethod(F.dropout1d)


class Dropout2d(_FeatureDropout):
    """Zeroes whole channels of an (N, C, H, W) or (C, H, W) input in training mode, as ``torch.nn.Dropout2d``.

    Each channel `input[i, j]` (a 2-D feature map) is zeroed with probability ``p`` and the kept ones
    are scaled by `1 / (1 - p)`; eval mode is the identity.

    Parameters
    ----------
    p : float, default 0.5
        Probability of a channel to be zeroed.
    inplace : bool, default False
        If True, zeroes the input in place.

    Shape
    -----
    - Input: `(N, C, H, W)` or `(C, H, W)`.
    - Output: `(N, C, H, W)` or `(C, H, W)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.Dropout2d(p=0.2)
    >>> m(cr.randn(20, 16, 32, 32)).shape
    chainrule.Size([20, 16, 32, 32])
    """
    fn = staticmethod(F.dropout2d)


class Dropout3d(_FeatureDropout):
    """Zeroes whole channels of an (N, C, D, H, W) input in training mode, as ``torch.nn.Dropout3d``.

    Each channel `input[i, j]` (a 3-D feature map) is zeroed with probability ``p`` and the kept ones
    are scaled by `1 / (1 - p)`; eval mode is the identity.

    Parameters
    ----------
    p : float, default 0.5
        Probability of a channel to be zeroed.
    inplace : bool, default False
        If True, zeroes the input in place.

    Shape
    -----
    - Input: `(N, C, D, H, W)` or `(C, D, H, W)`.
    - Output: `(N, C, D, H, W)` or `(C, D, H, W)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.Dropout3d(p=0.2)
    >>> m(cr.randn(2, 16, 4, 8, 8)).shape
    chainrule.Size([2, 16, 4, 8, 8])
    """
    fn = staticmethod(F.dropout3d)


class AlphaDropout(_FeatureDropout):
    """Applies alpha dropout in training mode, as ``torch.nn.AlphaDropout``.

    Dropped elements are set to SELU's negative saturation value and the result is scaled and
    shifted so that inputs with zero mean and unit variance keep them; meant for SELU networks.
    Eval mode is the identity.

    Parameters
    ----------
    p : float, default 0.5
        Probability of an element to be dropped.
    inplace : bool, default False
        If True, works in place.

    Shape
    -----
    - Input: `(*)`, any shape.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.AlphaDropout(p=0.2)
    >>> m(cr.randn(20, 16)).shape
    chainrule.Size([20, 16])
    """
    fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_FeatureDropout):
    """Applies alpha dropout to whole channels in training mode, as ``torch.nn.FeatureAlphaDropout``.

    Like AlphaDropout, but a dropped channel `input[i, j]` is set to SELU's negative saturation value
    as a whole. Eval mode is the identity.

    Parameters
    ----------
    p : float, default 0.5
        Probability of a channel to be dropped.
    inplace : bool, default False
        If True, works in place.

    Shape
    -----
    - Input: `(N, C, D, H, W)` or `(C, D, H, W)`.
    - Output: `(N, C, D, H, W)` or `(C, D, H, W)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.FeatureAlphaDropout(p=0.2)
    >>> m(cr.randn(20, 16, 4, 32, 32)).shape
    chainrule.Size([20, 16, 4, 32, 32])
    """
    fn = staticmethod(F.feature_alpha_dropout)
