"""Recurrent modules with torch's names, parameters, initialisation and semantics: RNN, LSTM
(with proj_size), GRU (num_layers, bias, batch_first, dropout between layers, bidirectional,
initial states, PackedSequence input), and the one-step cells RNNCell, LSTMCell, GRUCell.

A layer in one direction is one ``Recurrent`` op (ops/rnn.py: the whole sequence, forward and
backward through time inside the op), so the graph does not grow with the sequence length. The
cells are compositions (one step; twice-differentiable).
"""
import math
import warnings

import numpy as np

from ..tensor import Tensor, empty, zeros, functions as _functions
from ..ops.registry import apply
from ..ops.rnn import Recurrent, recurrent_sizes
from .module import Module, Parameter
from . import functional as F
from . import init
from .utils.rnn import PackedSequence, pad_packed_sequence

_cat, _stack = _functions["cat"], _functions["stack"]
_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """The base of RNN, LSTM and GRU: their parameters, initialisation and sequence loop, as ``torch.nn.RNNBase``.

    Parameters per layer k: ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (suffix ``_reverse`` for the backward direction; ``weight_hr_l{k}`` for LSTM with ``proj_size``),
    initialised from U(-k, k) with k = 1 / sqrt(hidden_size). Use the subclasses.

    Parameters
    ----------
    mode : str
        ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.
    input_size : int
        The number of expected features in the input x.
    hidden_size : int
        The number of features in the hidden state h.
    num_layers : int, default 1
        Number of stacked recurrent layers (each takes the previous one's output sequence).
    bias : bool, default True
        If False, the layers use no biases ``b_ih`` and ``b_hh``.
    batch_first : bool, default False
        If True, input and output are (batch, seq, feature) instead of (seq, batch, feature) (not the
        hidden states).
    dropout : float, default 0.0
        If non-zero, a Dropout on the outputs of each layer except the last, in training mode.
    bidirectional : bool, default False
        If True, each layer also runs backwards in time and the two outputs are concatenated.
    proj_size : int, default 0
        LSTM only: if positive, projects each h_t to this size.

    Shape
    -----
    - Input: `(L, H_in)` (unbatched), `(L, N, H_in)`, or `(N, L, H_in)` with ``batch_first``; or a
      packed variable length sequence (``nn.utils.rnn.pack_padded_sequence``). L is the sequence
      length, N the batch size, H_in = input_size.
    - h_0: `(D x num_layers, H_out)` or `(D x num_layers, N, H_out)`, zeros when not given; D = 2 if
      bidirectional else 1.
    - Output: `(L, D x H_out)`, `(L, N, D x H_out)`, or `(N, L, D x H_out)` with ``batch_first``: the last
      layer's h_t for every t (a packed sequence when the input was one).
    - h_n: `(D x num_layers, H_out)` or `(D x num_layers, N, H_out)`: the final hidden state of every layer.
    - H_out: hidden_size (proj_size for an LSTM with projections).

    Notes
    -----
    Where chainrule differs from torch: an RNNBase built directly runs its ``mode`` (torch's has no
    forward of its own).

    Examples
    --------
    >>> m = nn.RNNBase("GRU", 10, 20, num_layers=2)
    >>> m.weight_ih_l0.shape, m.weight_hh_l1.shape, m.bias_ih_l1.shape
    (chainrule.Size([60, 10]), chainrule.Size([60, 20]), chainrule.Size([60]))
    """
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}")
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        kw = dict(device=device, dtype=dtype)
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(empty(*shape, **kw)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _layer_weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = lambda name: getattr(self, name + suffix) if (name + suffix) in self._parameters else None  # noqa
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def forward(self, input, hx=None):
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            x, lens = pad_packed_sequence(input)
            lengths = lens._data
            batched = True
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
            batched = input.ndim == 3
            x = input if not batched or not self.batch_first else input.transpose(0, 1)
            if not batched:
                x = x.unsqueeze(1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{x.shape[-1]}")
        t_len, n = x.shape[0], x.shape[1]
        if t_len == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        directions = 2 if self.bidirectional else 1
        h_out = self.proj_size if self.proj_size > 0 else self.hidden_size
        h0, c0 = self._initial_states(hx, batched, x, n, h_out, directions)
        lengths_arr = None if lengths is None else lengths.astype(np.int64)
        inp, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                i = layer * directions + direction
                weights = self._layer_weights(layer, direction)
                self._check_weights(weights, inp.shape[2], h_out)
                flat = apply(Recurrent, inp, h0[i], None if c0 is None else c0[i], *weights, mode=self.mode,
                             reverse=direction == 1, lengths=lengths_arr)
                a, b, c = recurrent_sizes(self.mode, t_len, n, h_out, self.hidden_size)
                outs.append(flat[:a].reshape(t_len, n, h_out))
                h_n.append(flat[a:b].reshape(n, h_out))
                if c0 is not None:
                    c_n.append(flat[b:c].reshape(n, self.hidden_size))
            inp = outs[0] if directions == 1 else _cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                inp = F.dropout(inp, self.dropout, True)
        h_n = _stack(h_n)
        c_n = _stack(c_n) if c0 is not None else None
        if packed:
            output = _pack_like(inp, input)
        elif not batched:
            output, h_n = inp.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        else:
            output = inp.transpose(0, 1) if self.batch_first else inp
        return output, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _check_weights(self, weights, input_size, h_out):
        gates = _GATES[self.mode] * self.hidden_size
        want = ((gates, input_size), (gates, h_out), (gates,), (gates,), (h_out, self.hidden_size))
        for name, w, shape in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"), weights, want):
            if w is not None and tuple(w.shape) != shape:
                raise RuntimeError(f"{type(self).__name__}: {name} has shape {list(w.shape)}, expected {list(shape)}")

    def _initial_states(self, hx, batched, x, n, h_out, directions):
        layers = self.num_layers * directions
        shape_h, shape_c = (layers, n, h_out), (layers, n, self.hidden_size)
        lstm = self.mode == "LSTM"
        if hx is None:
            h0 = zeros(*shape_h, dtype=x.dtype, device=x.device)
            return h0, (zeros(*shape_c, dtype=x.dtype, device=x.device) if lstm else None)
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of tensors")
            h0, c0 = hx
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{type(self).__name__}: hx must be a Tensor, got {type(hx).__name__}")
            h0, c0 = hx, None
        want = 3 if batched else 2
        for k, (t, shape) in enumerate(((h0, shape_h), (c0, shape_c))):
            if t is None:
                continue
            if t.ndim != want:
                raise RuntimeError(f"For {'batched' if batched else 'unbatched'} {want - 1}-D input, hx"
                                   f"{f' and cx' if lstm else ''} should also be {want}-D but got {t.ndim}-D tensor")
            got = tuple(t.shape) if batched else (t.shape[0], 1, t.shape[1])
            if got != shape:
                label = f"hidden[{k}]" if lstm else "hidden"
                raise RuntimeError(f"Expected {label} size {shape if batched else (shape[0], shape[2])}, got "
                                   f"{list(t.shape)}")
        if not batched:
            h0 = h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        return h0, c0

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in self._flat_weights_names[i:i + self._per_layer()]]
                for i in range(0, len(self._flat_weights_names), self._per_layer())]

    def _per_layer(self):
        return 2 + 2 * bool(self.bias) + (self.proj_size > 0)

    def flatten_parameters(self):
        """A cuDNN memory-layout hint in torch; nothing to do here."""


def _pack_like(padded, packed):
    """(T, N, F) padded output in the batch's original order -> a PackedSequence laid out as ``packed``."""
    sizes = packed.batch_sizes._data
    order = packed.sorted_indices._data if packed.sorted_indices is not None else np.arange(int(sizes[0]))
    t_idx = np.repeat(np.arange(sizes.shape[0]), sizes)
    b_idx = np.concatenate([order[:int(s)] for s in sizes]) if sizes.size else np.zeros(0, np.int64)
    data = padded[Tensor._make(t_idx), Tensor._make(b_idx.astype(np.int64))]
    return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)


class RNN(RNNBase):
    """A multi-layer Elman RNN with tanh or ReLU nonlinearity, as ``torch.nn.RNN``.

    For each element of the input sequence, each layer computes
    `h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`, x_t being the previous layer's h_t for
    layers above the first. Forward takes `(input, hx=None)` and returns `(output, h_n)`.

    Parameters
    ----------
    input_size : int
        The number of expected features in the input x.
    hidden_size : int
        The number of features in the hidden state h.
    num_layers : int, default 1
        Number of stacked recurrent layers (each takes the previous one's output sequence).
    nonlinearity : str, default 'tanh'
        ``'tanh'`` or ``'relu'``.
    bias : bool, default True
        If False, the layers use no biases ``b_ih`` and ``b_hh``.
    batch_first : bool, default False
        If True, input and output are (batch, seq, feature) instead of (seq, batch, feature) (not the
        hidden states).
    dropout : float, default 0.0
        If non-zero, a Dropout on the outputs of each layer except the last, in training mode.
    bidirectional : bool, default False
        If True, each layer also runs backwards in time and the two outputs are concatenated.

    Shape
    -----
    - Input: `(L, H_in)` (unbatched), `(L, N, H_in)`, or `(N, L, H_in)` with ``batch_first``; or a
      packed variable length sequence (``nn.utils.rnn.pack_padded_sequence``). L is the sequence
      length, N the batch size, H_in = input_size.
    - h_0: `(D x num_layers, H_out)` or `(D x num_layers, N, H_out)`, zeros when not given; D = 2 if
      bidirectional else 1.
    - Output: `(L, D x H_out)`, `(L, N, D x H_out)`, or `(N, L, D x H_out)` with ``batch_first``: the last
      layer's h_t for every t (a packed sequence when the input was one).
    - h_n: `(D x num_layers, H_out)` or `(D x num_layers, N, H_out)`: the final hidden state of every layer.
    - H_out: hidden_size.

    Examples
    --------
    >>> rnn = nn.RNN(10, 20, 2)
    >>> output, hn = rnn(cr.randn(5, 3, 10), cr.randn(2, 3, 20))
    >>> output.shape, hn.shape
    (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]))
    >>> rnn = nn.RNN(10, 20, batch_first=True, bidirectional=True, nonlinearity="relu")
    >>> output, hn = rnn(cr.randn(3, 5, 10))
    >>> output.shape, hn.shape
    (chainrule.Size([3, 5, 40]), chainrule.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:   # torch's positional order: input_size, hidden_size, num_layers, nonlinearity, ...
            nonlinearity, args = args[3], args[:3] + args[4:]
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A multi-layer long short-term memory RNN, as ``torch.nn.LSTM``.

    Each layer computes, for each time step,
    `i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)` (the
    four gates, in that order in the weights), `c_t = f * c_{t-1} + i * g` and `h_t = o * tanh(c_t)`
    (then `h_t W_hr^T` with ``proj_size``). Forward takes `(input, (h_0, c_0)=None)` and returns
    `(output, (h_n, c_n))`.

    Parameters
    ----------
    input_size : int
        The number of expected features in the input x.
    hidden_size : int
        The number of features in the hidden state h.
    num_layers : int, default 1
        Number of stacked recurrent layers (each takes the previous one's output sequence).
    bias : bool, default True
        If False, the layers use no biases ``b_ih`` and ``b_hh``.
    batch_first : bool, default False
        If True, input and output are (batch, seq, feature) instead of (seq, batch, feature) (not the
        hidden states).
    dropout : float, default 0.0
        If non-zero, a Dropout on the outputs of each layer except the last, in training mode.
    bidirectional : bool, default False
        If True, each layer also runs backwards in time and the two outputs are concatenated.
    proj_size : int, default 0
        If positive, an LSTM with projections: h_t is projected to this size.

    Shape
    -----
    - Input: `(L, H_in)` (unbatched), `(L, N, H_in)`, or `(N, L, H_in)` with ``batch_first``; or a
      packed variable length sequence (``nn.utils.rnn.pack_padded_sequence``). L is the sequence
      length, N the batch size, H_in = input_size.
    - h_0: `(D x num_layers, H_out)` or `(D x num_layers, N, H_out)`, zeros when not given; D = 2 if
      bidirectional else 1.
    - c_0: `(D x num_layers, H_cell)` or `(D x num_layers, N, H_cell)`, H_cell = hidden_size; zeros
      when not given.
    - Output: `(L, D x H_out)`, `(L, N, D x H_out)`, or `(N, L, D x H_out)` with ``batch_first``: the last
      layer's h_t for every t (a packed sequence when the input was one).
    - h_n: `(D x num_layers, H_out)` or `(D x num_layers, N, H_out)`: the final hidden state of every layer.
    - c_n: `(D x num_layers, H_cell)` or `(D x num_layers, N, H_cell)`: the final cell states.
    - H_out: proj_size if proj_size > 0, else hidden_size.

    Examples
    --------
    >>> rnn = nn.LSTM(10, 20, 2)
    >>> h0, c0 = cr.randn(2, 3, 20), cr.randn(2, 3, 20)
    >>> output, (hn, cn) = rnn(cr.randn(5, 3, 10), (h0, c0))
    >>> output.shape, hn.shape, cn.shape
    (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]), chainrule.Size([2, 3, 20]))
    >>> output, (hn, cn) = nn.LSTM(10, 20, proj_size=5)(cr.randn(5, 10))
    >>> output.shape, hn.shape, cn.shape
    (chainrule.Size([5, 5]), chainrule.Size([1, 5]), chainrule.Size([1, 20]))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """A multi-layer gated recurrent unit RNN, as ``torch.nn.GRU``.

    Each layer computes, for each time step, `r = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)`,
    `z = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)`,
    `n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))` and `h_t = (1 - z) * n + z * h_{t-1}`.
    Forward takes `(input, hx=None)` and returns `(output, h_n)`.

    Parameters
    ----------
    input_size : int
        The number of expected features in the input x.
    hidden_size : int
        The number of features in the hidden state h.
    num_layers : int, default 1
        Number of stacked recurrent layers (each takes the previous one's output sequence).
    bias : bool, default True
        If False, the layers use no biases ``b_ih`` and ``b_hh``.
    batch_first : bool, default False
        If True, input and output are (batch, seq, feature) instead of (seq, batch, feature) (not the
        hidden states).
    dropout : float, default 0.0
        If non-zero, a Dropout on the outputs of each layer except the last, in training mode.
    bidirectional : bool, default False
        If True, each layer also runs backwards in time and the two outputs are concatenated.

    Shape
    -----
    - Input: `(L, H_in)` (unbatched), `(L, N, H_in)`, or `(N, L, H_in)` with ``batch_first``; or a
      packed variable length sequence (``nn.utils.rnn.pack_padded_sequence``). L is the sequence
      length, N the batch size, H_in = input_size.
    - h_0: `(D x num_layers, H_out)` or `(D x num_layers, N, H_out)`, zeros when not given; D = 2 if
      bidirectional else 1.
    - Output: `(L, D x H_out)`, `(L, N, D x H_out)`, or `(N, L, D x H_out)` with ``batch_first``: the last
      layer's h_t for every t (a packed sequence when the input was one).
    - h_n: `(D x num_layers, H_out)` or `(D x num_layers, N, H_out)`: the final hidden state of every layer.
    - H_out: hidden_size.

    Examples
    --------
    >>> rnn = nn.GRU(10, 20, 2)
    >>> output, hn = rnn(cr.randn(5, 3, 10), cr.randn(2, 3, 20))
    >>> output.shape, hn.shape
    (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


# ---- cells: one time step, composed from primitives ----------------------------------------------

class RNNCellBase(Module):
    """The base of RNNCell, LSTMCell and GRUCell: their parameters and initialisation, as ``torch.nn.RNNCellBase``.

    Parameters ``weight_ih`` (num_chunks x hidden_size, input_size), ``weight_hh`` (num_chunks x
    hidden_size, hidden_size), ``bias_ih`` and ``bias_hh`` (num_chunks x hidden_size), initialised from
    U(-k, k) with k = 1 / sqrt(hidden_size). Use the subclasses.

    Parameters
    ----------
    input_size : int
        The number of expected features in the input x.
    hidden_size : int
        The number of features in the hidden state h.
    bias : bool, default True
        If False, the cell uses no biases ``bias_ih`` and ``bias_hh``.
    num_chunks : int
        The number of gate blocks: 1 (RNNCell), 4 (LSTMCell) or 3 (GRUCell).

    Shape
    -----
    - weight_ih: `(num_chunks x hidden_size, input_size)`.
    - weight_hh: `(num_chunks x hidden_size, hidden_size)`.
    - Input, hidden state and output as in the subclasses.

    Examples
    --------
    >>> cell = nn.RNNCellBase(10, 20, True, 4)
    >>> cell.weight_ih.shape, cell.weight_hh.shape, cell.bias_ih.shape
    (chainrule.Size([80, 10]), chainrule.Size([80, 20]), chainrule.Size([80]))
    """
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = dict(device=device, dtype=dtype)
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, **kw))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _prepare(self, input, hx, states):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            hx = tuple(zeros(x.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
                       for _ in range(states))
        else:
            hx = hx if isinstance(hx, tuple) else (hx,)
            for h in hx:
                if h.ndim != input.ndim:
                    raise ValueError(f"{name}: Expected hidden to be {input.ndim}D, got {h.ndim}D instead")
            hx = hx if batched else tuple(h.unsqueeze(0) for h in hx)
            for h in hx:
                if tuple(h.shape) != (x.shape[0], self.hidden_size):
                    raise RuntimeError(f"hidden{'' if states == 1 else '[0]'} has inconsistent hidden_size: got "
                                       f"{h.shape[-1]}, expected {self.hidden_size}" if h.shape[-1] != self.hidden_size
                                       else f"Input batch size {x.shape[0]} doesn't match hidden batch size "
                                            f"{h.shape[0]}")
        return x, hx, batched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One step of an Elman RNN with tanh or ReLU nonlinearity, as ``torch.nn.RNNCell``.

    `h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)` (ReLU with ``nonlinearity='relu'``). Forward takes
    `(input, hx=None)` and returns h'.

    Parameters
    ----------
    input_size : int
        The number of expected features in the input x.
    hidden_size : int
        The number of features in the hidden state h.
    bias : bool, default True
        If False, the cell uses no biases ``bias_ih`` and ``bias_hh``.
    nonlinearity : str, default 'tanh'
        ``'tanh'`` or ``'relu'``.

    Shape
    -----
    - Input: `(N, H_in)` or `(H_in)`, H_in = input_size.
    - Hidden: `(N, H_out)` or `(H_out)`, H_out = hidden_size; zeros when not given.
    - Output: `(N, H_out)` or `(H_out)`, the next hidden state.

    Examples
    --------
    >>> rnn = nn.RNNCell(10, 20)
    >>> x, hx = cr.randn(6, 3, 10), cr.randn(3, 20)
    >>> for i in range(6):
    ...     hx = rnn(x[i], hx)
    >>> hx.shape
    chainrule.Size([3, 20])
    """
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        out = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of a long short-term memory RNN, as ``torch.nn.LSTMCell``.

    Gates `i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (x W_ih^T + b_ih + h W_hh^T + b_hh)`, then
    `c' = f * c + i * g` and `h' = o * tanh(c')`. Forward takes `(input, (h, c)=None)` and returns
    `(h', c')`.

    Parameters
    ----------
    input_size : int
        The number of expected features in the input x.
    hidden_size : int
        The number of features in the hidden state h.
    bias : bool, default True
        If False, the cell uses no biases ``bias_ih`` and ``bias_hh``.

    Shape
    -----
    - Input: `(N, H_in)` or `(H_in)`, H_in = input_size.
    - Hidden: `(N, H_out)` or `(H_out)`, H_out = hidden_size; zeros when not given.
    - Cell: `(N, H_out)` or `(H_out)`; zeros when not given.
    - Output: `(h', c')`, each `(N, H_out)` or `(H_out)`.

    Examples
    --------
    >>> rnn = nn.LSTMCell(10, 20)
    >>> x = cr.randn(2, 3, 10)
    >>> hx, cx = cr.randn(3, 20), cr.randn(3, 20)
    >>> for i in range(2):
    ...     hx, cx = rnn(x[i], (hx, cx))
    >>> hx.shape, cx.shape
    (chainrule.Size([3, 20]), chainrule.Size([3, 20]))
    """
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        i, f, g, o = gates.chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of a gated recurrent unit RNN, as ``torch.nn.GRUCell``.

    `r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)`, `z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)`,
    `n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))` and `h' = (1 - z) * n + z * h`. Forward takes
    `(input, hx=None)` and returns h'.

    Parameters
    ----------
    input_size : int
        The number of expected features in the input x.
    hidden_size : int
        The number of features in the hidden state h.
    bias : bool, default True
        If False, the cell uses no biases ``bias_ih`` and ``bias_hh``.

    Shape
    -----
    - Input: `(N, H_in)` or `(H_in)`, H_in = input_size.
    - Hidden: `(N, H_out)` or `(H_out)`, H_out = hidden_size; zeros when not given.
    - Output: `(N, H_out)` or `(H_out)`, the next hidden state.

    Examples
    --------
    >>> rnn = nn.GRUCell(10, 20)
    >>> x, hx = cr.randn(6, 3, 10), cr.randn(3, 20)
    >>> for i in range(6):
    ...     hx = rnn(x[i], hx)
    >>> hx.shape
    chainrule.Size([3, 20])
    """
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        i_r, i_z, i_n = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, 1)
        h_r, h_z, h_n = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, 1)
        r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
        n = (i_n + r * h_n).tanh()
        out = (1 - z) * n + z * h
        return out if batched else out.squeeze(0)


__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
