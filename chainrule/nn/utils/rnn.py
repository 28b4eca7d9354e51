"""Variable-length sequences: padding and packing (torch.nn.utils.rnn).

A batch of sequences of different lengths is either *padded* into one (T, B, *) tensor (or
(B, T, *) with ``batch_first``) or *packed*: a ``PackedSequence`` whose ``data`` holds, time step
after time step, the entries of the sequences still running at that step (longest first), and
``batch_sizes[t]`` says how many there are. Each conversion here is one differentiable gather
(an index into the flattened input, with one extra row holding the padding value), so gradients
flow back through every pad/pack round trip as in torch.
"""
from collections.abc import Iterable
from typing import NamedTuple, Optional

import numpy as np

from ... import dtypes as _dt
from ...tensor import Tensor, as_tensor, full, functions as _functions
from .convert_parameters import _typename

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

_cat = _functions["cat"]

# torch's C type names, for a padding value an integer dtype cannot hold
_C_INT_NAMES = {"int64": "int64_t", "int32": "int", "int16": "short", "int8": "int8_t", "uint8": "uint8_t"}


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Optional[Tensor]
    unsorted_indices: Optional[Tensor]


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """The packed form of a batch of sequences (see the module's docstring); made by
    ``pack_padded_sequence`` and ``pack_sequence``, never by hand. A named tuple of ``data``,
    ``batch_sizes`` (an int64 CPU tensor), ``sorted_indices`` and ``unsorted_indices`` (the batch
    order by decreasing length and its inverse, or None when the batch came sorted)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, *_packed_sequence_init_args(data, batch_sizes, sorted_indices, unsorted_indices))

    def to(self, *args, **kwargs):
        """``data`` converted as ``Tensor.to``; the indices follow ``data`` to its device,
        ``batch_sizes`` stays on the CPU. Returns ``self`` when ``data`` is unchanged."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices = _bind(self.sorted_indices, lambda t: t.to(data.device))
        unsorted_indices = _bind(self.unsorted_indices, lambda t: t.to(data.device))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=_dt.float64)

    def float(self):
        return self.to(dtype=_dt.float32)

    def half(self):
        return self.to(dtype=_dt.float16)

    def long(self):
        return self.to(dtype=_dt.int64)

    def int(self):
        return self.to(dtype=_dt.int32)

    def short(self):
        return self.to(dtype=_dt.int16)

    def char(self):
        return self.to(dtype=_dt.int8)

    def byte(self):
        return self.to(dtype=_dt.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _packed_sequence_init_args(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        if batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                             "created manually. They should be instantiated by functions like pack_sequence and "
                             "pack_padded_sequences in nn.utils.rnn. "
                             "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError("Expected data to be a list or tuple of length 2")
    return data[0], data[1], sorted_indices, unsorted_indices


def invert_permutation(permutation):
    """The inverse of the permutation tensor ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    perm = _indices(permutation)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return as_tensor(inverse, device=permutation.device)


def _indices(t):
    return np.asarray(t.detach().cpu().numpy(), dtype=np.int64).reshape(-1)


def _gather(rows, index):
    """rows[index]: one differentiable gather, index an int64 NumPy array."""
    return rows[as_tensor(index, device=rows.device)]


def _padding_row(like, trailing, padding_value):
    """A (1, *trailing) tensor of ``padding_value`` in ``like``'s dtype and device, the value
    converted as torch converts a Scalar (an integer dtype refuses NaN, infinities and overflow)."""
    dtype = like.dtype
    if dtype.name in _C_INT_NAMES:
        info = np.iinfo(dtype.np)
        value = float(padding_value)
        if not (np.isfinite(value) and info.min - 1 < value < info.max + 1):
            raise RuntimeError(f"value cannot be converted to type {_C_INT_NAMES[dtype.name]} without overflow")
        padding_value = int(value)
    return full((1,) + tuple(trailing), padding_value, dtype=dtype, device=like.device)


# ---- padding -------------------------------------------------------------------------------------

def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into one (max L, B, *) tensor ((B, max L, *) with
    ``batch_first``), padding the shorter ones with ``padding_value`` on the right (or the left).
    The result has the first sequence's dtype, trailing shape and device (the others are cast and
    broadcast to them, as torch copies them in)."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences.unbind(0) if isinstance(sequences, Tensor) else sequences)
    if not isinstance(batch_first, bool):
        raise TypeError(f"pad_sequence(): argument 'batch_first' (position 2) must be bool, not "
                        f"{type(batch_first).__name__}")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(s).__name__}")
        if s.dim() == 0:
            raise RuntimeError(f"pad_sequence: expected every sequence to have at least one dimension, but "
                               f"sequence {i} is a 0-dim tensor")
    first = sequences[0]
    trailing = tuple(first.shape[1:])
    lengths = [s.shape[0] for s in sequences]
    max_len, batch = max(lengths), len(sequences)
    parts = [_as_sequence_of(s, first, trailing) for s in sequences]
    total = sum(lengths)
    rows = _cat(parts + [_padding_row(first, trailing, padding_value)])
    index = np.full((max_len, batch), total, dtype=np.int64)   # the padding row by default
    start = 0
    for b, n in enumerate(lengths):
        steps = np.arange(n) if padding_side == "right" else np.arange(max_len - n, max_len)
        index[steps, b] = start + np.arange(n)
        start += n
    return _gather(rows, index.T if batch_first else index)


def _as_sequence_of(s, first, trailing):
    """``s`` in ``first``'s dtype, broadcast to (len(s), *trailing), with the errors of torch's
    copy of ``s`` into its slice of the output."""
    if s.dtype != first.dtype:
        s = s.to(first.dtype)
    target, shape = (s.shape[0],) + trailing, tuple(s.shape)
    if shape == target:
        return s
    try:
        broadcast = np.broadcast_shapes(shape, target)
    except ValueError:
        n = max(len(shape), len(target))
        a, b = (1,) * (n - len(target)) + target, (1,) * (n - len(shape)) + shape
        dim = next(i for i in reversed(range(n)) if a[i] != b[i] and 1 not in (a[i], b[i]))
        raise RuntimeError(f"The size of tensor a ({a[dim]}) must match the size of tensor b ({b[dim]}) at "
                           f"non-singleton dimension {dim}") from None
    if broadcast != target:
        raise RuntimeError(f"output with shape {list(target)} doesn't match the broadcast shape {list(broadcast)}")
    return s.expand(target)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences ``pad_sequence`` padded: sequence b is its first ``lengths[b]`` steps.
    (torch transposes a time-major input in place; this leaves the input as it is.)"""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    if len(lengths) != padded_sequences.shape[0]:
        raise ValueError(f"zip() argument 2 is {'longer' if len(lengths) > padded_sequences.shape[0] else 'shorter'}"
                         " than argument 1")
    return [padded_sequences[b, :max(n, 0)] for b, n in enumerate(lengths)]


# ---- packing -------------------------------------------------------------------------------------

def _lengths_array(lengths):
    """``lengths`` as torch takes it: a list (converted to int64) or a tensor (``.to(int64)``) that
    must be 1-D on the CPU."""
    if not isinstance(lengths, Tensor):
        if isinstance(lengths, (list, tuple)):
            lengths = [x.item() if isinstance(x, Tensor) else x for x in lengths]
        return np.asarray(lengths).astype(np.int64)
    if lengths.dim() != 1 or lengths.device.type != "cpu":
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                           f"{_device_str(lengths.device)} Long tensor")
    return lengths.detach().numpy().astype(np.int64)


def _device_str(device):
    return device.type if device.type == "cpu" else f"{device.type}:{device.index or 0}"


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) ((B, T, *) with ``batch_first``) whose sequence b is
    ``lengths[b]`` long. With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch
    is sorted here (stably) and the PackedSequence remembers the order."""
    if not isinstance(input, Tensor):
        raise TypeError(f"_pack_padded_sequence(): argument 'input' (position 1) must be Tensor, not "
                        f"{_typename(input)}")
    lengths = _lengths_array(lengths)
    if lengths.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.ndim}D cpu "
                           "Long tensor")
    if input.dim() < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = as_tensor(order, device=input.device)
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if lengths.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.shape[0]} "
                           f"(batch_size={batch})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability.")
    if lengths[0] > steps:
        raise RuntimeError(f"pack_padded_sequence: a sequence of length {lengths[0]} does not fit in the padded "
                           f"input's {steps} time steps (torch reads past the end of the input here)")
    batch_sizes = (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(axis=1)
    source = np.arange(batch) if sorted_indices is None else order
    index = np.concatenate([source[:n] * (steps if batch_first else 1) + t * (1 if batch_first else batch)
                            for t, n in enumerate(batch_sizes)])
    rows = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = _gather(rows, index)
    return PackedSequence(data, as_tensor(batch_sizes.astype(np.int64)), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: (padded, lengths), padded (T, B, *) ((B, T, *) with
    ``batch_first``) in the batch's original order, T = ``total_length`` or the longest length;
    lengths an int64 CPU tensor."""
    batch_sizes = _indices(sequence.batch_sizes)
    max_seq_length = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    trailing = tuple(data.shape[1:])
    rows = _cat([data, _padding_row(data, trailing, padding_value)])
    pad_row = data.shape[0]
    index = np.full((max_seq_length, batch), pad_row, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64)
    for t, (n, start) in enumerate(zip(batch_sizes, offsets)):
        index[t, :n] = start + np.arange(n)
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1).astype(np.int64)
    if sequence.unsorted_indices is not None:
        unsorted = _indices(sequence.unsorted_indices)
        index, lengths = index[:, unsorted], lengths[unsorted]
    padded = _gather(rows, index.T if batch_first else index)
    return padded, as_tensor(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences of shapes (L_i, *): ``pack_padded_sequence(pad_sequence(sequences),
    lengths, enforce_sorted=enforce_sorted)``."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in the batch's original order."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
