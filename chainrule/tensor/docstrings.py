"""Docstrings of the Tensor members defined where one cannot go: ``core.py``'s small methods and
properties (that file keeps to its line budget) and the one-line storage attributes of
``conversion.ATTRIBUTES``. torch does the same for its C++-defined methods (``torch/_tensor_docs.py``).
``attach(Tensor)`` runs once, after the variants table is installed."""

DOCS = {
    "dim": """The number of dims, as ``torch.Tensor.dim`` (the same as ``ndim``).

    Examples
    --------
    >>> cr.zeros(2, 3).dim()
    2
    """,
    "element_size": """The size of one element in bytes, as ``torch.Tensor.element_size`` (the same as ``itemsize``).

    Examples
    --------
    >>> cr.zeros(2, dtype=cr.float64).element_size()
    8
    """,
    "itemsize": "The size of one element in bytes, as ``torch.Tensor.itemsize`` (the same as ``element_size()``).",
    "nbytes": "The bytes the elements take, ``numel() * itemsize``, as ``torch.Tensor.nbytes``.",
    "is_cuda": "True when the data is on a CUDA device (a CuPy array), as ``torch.Tensor.is_cuda``.",
    "name": """An optional label (a str, None by default; settable) that ``chainrule.viz`` shows for this
    tensor in graph pictures and the backward explainer, unless ``names=`` says otherwise.

    Differs from torch, whose ``Tensor.name`` is a read-only attribute that is always None; chainrule
    has no named tensors (``Tensor.names``).

    Examples
    --------
    >>> w = cr.randn(3, requires_grad=True)
    >>> w.name = "w"
    """,
    "requires_grad_": """Sets ``requires_grad`` in place and returns this tensor, as ``torch.Tensor.requires_grad_``.

    Only floating-point tensors can require gradients (RuntimeError otherwise), and only a leaf can
    stop requiring them (a tensor computed from one that requires grad raises RuntimeError for
    ``requires_grad_(False)``: use ``detach()``).

    Parameters
    ----------
    requires_grad : bool, default True

    Returns
    -------
    Tensor
        This tensor.

    Examples
    --------
    >>> x = cr.ones(2).requires_grad_()
    >>> x.requires_grad, x.is_leaf
    (True, True)
    """,
    "retains_grad": """True when ``retain_grad()`` was called on this non-leaf tensor, so that backward fills its
    ``grad``, as ``torch.Tensor.retains_grad`` (False for leaves, which always get theirs).""",
}


def attach(cls):
    """Sets the docstrings above on ``cls``'s members that lack one (a property's own ``__doc__``)."""
    for name, doc in DOCS.items():
        member = vars(cls).get(name)
        if member is not None and not member.__doc__:
            member.__doc__ = doc
