"""Lookup tables as Modules: Embedding and EmbeddingBag."""
from ..tensor import empty
from . import functional as F
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, as ``torch.nn.Embedding``.

    `out[...] = weight[input[...]]`; ``weight`` has shape (num_embeddings, embedding_dim) and is
    initialised from N(0, 1), with the ``padding_idx`` row zeroed.

    Parameters
    ----------
    num_embeddings : int
        Size of the dictionary.
    embedding_dim : int
        Size of each embedding vector.
    padding_idx : int, optional
        The row that gets no gradient (and starts at zeros): a padding token.
    max_norm : float, optional
        Rows looked up with a larger norm are renormalised in place to this norm.
    norm_type : float, default 2.0
        The p of the p-norm for ``max_norm``.
    scale_grad_by_freq : bool, default False
        If True, scales each row's gradient by the inverse frequency of its index in the batch.
    sparse : bool, default False
        Must stay False (see the note below).

    Shape
    -----
    - Input: `(*)`, integer indices (int32 or int64) of any shape.
    - Output: `(*, H)`, where H = embedding_dim.

    Notes
    -----
    Where chainrule differs from torch: chainrule has no sparse gradients; ``sparse=True`` raises
    NotImplementedError when the module runs.

    Examples
    --------
    >>> m = nn.Embedding(10, 3)
    >>> m(cr.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])).shape
    chainrule.Size([2, 4, 3])
    >>> nn.Embedding(10, 3, padding_idx=0)(cr.tensor([0, 0])).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
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
    """Reduces bags of embeddings (sum, mean or max) without materialising them, as ``torch.nn.EmbeddingBag``.

    With ``mode='sum'`` it equals Embedding followed by `sum(dim=1)`, with ``'mean'`` by `mean(dim=1)`,
    with ``'max'`` by `max(dim=1)`. Forward takes `(input, offsets=None, per_sample_weights=None)`.

    Parameters
    ----------
    num_embeddings : int
        Size of the dictionary.
    embedding_dim : int
        Size of each embedding vector.
    max_norm : float, optional
        Rows looked up with a larger norm are renormalised in place to this norm.
    norm_type : float, default 2.0
        The p of the p-norm for ``max_norm``.
    scale_grad_by_freq : bool, default False
        If True, scales gradients by the inverse frequency of the indices in the batch (not with 'max').
    mode : str, default 'mean'
        ``'sum'``, ``'mean'`` or ``'max'``: how a bag is reduced.
    sparse : bool, default False
        Must stay False (chainrule has no sparse gradients).
    include_last_offset : bool, default False
        If True, ``offsets`` has one more element, the end of the last bag.
    padding_idx : int, optional
        Entries equal to it are left out of their bag and get no gradient.

    Shape
    -----
    - Input: `(B, N)`, B bags of N indices each (``offsets`` must be None), or `(S)`, a 1-D index
      tensor holding every bag, with ``offsets`` of shape `(B)` marking where each bag starts.
    - per_sample_weights (optional, mode 'sum' only): the shape of the input.
    - Output: `(B, embedding_dim)`.

    Examples
    --------
    >>> m = nn.EmbeddingBag(10, 3, mode="sum")
    >>> m(cr.tensor([1, 2, 4, 5, 4, 3, 2, 9]), cr.tensor([0, 4])).shape
    chainrule.Size([2, 3])
    >>> nn.EmbeddingBag(10, 3, mode="max")(cr.tensor([[1, 2], [3, 4], [5, 6]])).shape
    chainrule.Size([3, 3])
    """
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
