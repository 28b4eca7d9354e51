"""``torch.functional``: the tensor functions torch also keeps in that module (``import torch.functional as
F`` in ported programs); each is the ``chainrule.<name>`` function. (torch's stft/istft, lu, pca_lowrank and
svd_lowrank are not in chainrule.)"""
from . import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, cartesian_prod,
               block_diag, cdist, chain_matmul, einsum, norm, meshgrid, split, tensordot, unique,
               unique_consecutive, unravel_index)

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "cartesian_prod",
           "block_diag", "cdist", "chain_matmul", "einsum", "norm", "meshgrid", "split", "tensordot", "unique",
           "unique_consecutive", "unravel_index"]
