"""Attention and transformer modules with torch's names, parameters, initialisation and
semantics: MultiheadAttention, TransformerEncoderLayer/DecoderLayer, TransformerEncoder/Decoder
and Transformer. The math is ``functional.multi_head_attention_forward`` (torch's math path)."""
import copy

import numpy as np

from ..tensor import empty, tensor
from .module import Module, Parameter, ModuleList
from .layers import Linear
from .dropout import Dropout
from .normalization import LayerNorm
from . import functional as F
from . import init


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for MultiheadAttention's output projection (a Linear); kept for identical reprs."""


class MultiheadAttention(Module):
    """Attends to a key/value sequence from a query sequence with several heads, as ``torch.nn.MultiheadAttention``.

    `MultiHead(Q, K, V) = concat(head_1, ..., head_h) W_O` with
    `head_i = softmax(Q W_Q_i (K W_K_i)^T / sqrt(d) + mask) V W_V_i`, d = embed_dim / num_heads.
    Forward takes `(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)` and returns `(attn_output, attn_weights)`;
    ``attn_weights`` is None unless ``need_weights``. Boolean masks mark the positions not to attend to.

    Parameters
    ----------
    embed_dim : int
        Total dimension of the model E; it is split across the heads.
    num_heads : int
        Number of parallel attention heads; it divides ``embed_dim``.
    dropout : float, default 0.0
        Dropout probability on the attention weights, in training mode.
    bias : bool, default True
        If True, the input and output projections have biases.
    add_bias_kv : bool, default False
        If True, adds a learned bias to the key and value sequences (one more position).
    add_zero_attn : bool, default False
        If True, adds a batch of zeros to the key and value sequences (one more position).
    kdim : int, optional
        Number of features of the keys; default ``embed_dim``.
    vdim : int, optional
        Number of features of the values; default ``embed_dim``.
    batch_first : bool, default False
        If True, the inputs and output are (batch, seq, feature).

    Shape
    -----
    - query: `(L, E_q)` (unbatched), `(L, N, E_q)`, or `(N, L, E_q)` with ``batch_first``; L the target
      length, N the batch size, E_q = embed_dim.
    - key: `(S, E_k)`, `(S, N, E_k)`, or `(N, S, E_k)` with ``batch_first``; S the source length, E_k = kdim.
    - value: `(S, E_v)`, `(S, N, E_v)`, or `(N, S, E_v)` with ``batch_first``; E_v = vdim.
    - key_padding_mask: `(S)` or `(N, S)`, boolean (True: ignore) or float (added).
    - attn_mask: `(L, S)` or `(N x num_heads, L, S)`, boolean or float.
    - attn_output: `(L, E)`, `(L, N, E)`, or `(N, L, E)` with ``batch_first``; E = embed_dim.
    - attn_weights: `(L, S)` or `(N, L, S)` averaged over the heads; `(num_heads, L, S)` or
      `(N, num_heads, L, S)` with ``average_attn_weights=False``.

    Examples
    --------
    >>> attn = nn.MultiheadAttention(16, 4)
    >>> query, key, value = cr.randn(5, 2, 16), cr.randn(7, 2, 16), cr.randn(7, 2, 16)
    >>> out, weights = attn(query, key, value)
    >>> out.shape, weights.shape
    (chainrule.Size([5, 2, 16]), chainrule.Size([2, 5, 7]))
    >>> attn = nn.MultiheadAttention(16, 4, kdim=8, vdim=6, batch_first=True)
    >>> out, weights = attn(cr.randn(2, 5, 16), cr.randn(2, 7, 8), cr.randn(2, 7, 6), average_attn_weights=False)
    >>> out.shape, weights.shape
    (chainrule.Size([2, 5, 16]), chainrule.Size([2, 4, 5, 7]))
    """
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        kw = dict(device=device, dtype=dtype)
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **kw))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched = query.ndim == 3
        if self._rows_path(query, key, value, key_padding_mask, need_weights, attn_mask, is_causal):
            mask = None if is_causal else F._canonical_mask(attn_mask, "attn_mask", query._data.dtype)
            return F._self_attention_rows(query, self.num_heads, self.in_proj_weight, self.in_proj_bias,
                                          self.out_proj.weight, self.out_proj.bias, mask, is_causal,
                                          self.dropout if self.training else 0.0), None
        if self.batch_first and batched:
            query, key, value = (t.transpose(1, 0) for t in (query, key, value))
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights

    def _rows_path(self, query, key, value, key_padding_mask, need_weights, attn_mask, is_causal):
        """True for batch-first self-attention that needs no weights and has only an (L, L) mask or
        the causal hint (a transformer's blocks): F._self_attention_rows computes it without
        transposing the input; anything else (and every error) takes multi_head_attention_forward."""
        if not (self.batch_first and query.ndim == 3 and query is key and key is value and self._qkv_same_embed_dim
                and self.bias_k is None and not self.add_zero_attn and key_padding_mask is None and not need_weights
                and query.shape[-1] == self.embed_dim):
            return False
        if is_causal:
            return attn_mask is not None
        return attn_mask is None or (attn_mask.ndim == 2 and tuple(attn_mask.shape) == (query.shape[1],) * 2 and
                                     attn_mask._data.dtype.kind in "bf")


def _on_rows(linear, x):
    """linear(x) with x viewed as the 2-D rows (-1, features): one GEMM (NumPy's matmul on a 3-D
    input runs one small GEMM per leading index, ~1.5x slower here, 2x on two threads)."""
    if x.ndim < 3 or not x._data.flags.c_contiguous:
        return linear(x)
    return linear(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)


def _activation(activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


def _add_feed_forward(layer, blocks, d_model, dim_feedforward, dropout, activation, eps, norm_first, bias, kw):
    """The feed-forward block and, per residual block, a LayerNorm and a Dropout, registered in
    torch's order (so state_dict names and order match)."""
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
    layer.norm_first = norm_first
    for i in range(1, blocks + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=eps, bias=bias, **kw))
    for i in range(1, blocks + 1):
        setattr(layer, f"dropout{i}", Dropout(dropout))
    layer.activation = _activation(activation)


class TransformerEncoderLayer(Module):
    """A transformer encoder layer: self-attention, then a feed-forward block, as ``torch.nn.TransformerEncoderLayer``.

    Post-norm (default): `x = norm1(x + dropout1(self_attn(x)))`, then
    `x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))`; with ``norm_first`` each block
    reads `norm(x)` and the residual adds the block's output unnormalised. Forward takes
    `(src, src_mask=None, src_key_padding_mask=None, is_causal=False)`.

    Parameters
    ----------
    d_model : int
        The number of expected features in the input (E).
    nhead : int
        The number of heads in the attention blocks.
    dim_feedforward : int, default 2048
        The hidden size of the feed-forward block.
    dropout : float, default 0.1
        The dropout probability.
    activation : str or callable, default relu
        The feed-forward block's activation: ``'relu'``, ``'gelu'`` or a unary callable.
    layer_norm_eps : float, default 1e-5
        The eps of the LayerNorms.
    batch_first : bool, default False
        If True, the inputs and output are (batch, seq, feature).
    norm_first : bool, default False
        If True, each LayerNorm comes before its block (pre-norm), else after the residual (post-norm).
    bias : bool, default True
        If False, the Linear and LayerNorm layers learn no additive bias.

    Shape
    -----
    - src: `(S, E)` (unbatched), `(S, N, E)`, or `(N, S, E)` with ``batch_first``; S the sequence length,
      N the batch size, E = d_model.
    - src_mask: `(S, S)` or `(N x nhead, S, S)`.
    - src_key_padding_mask: `(S)` or `(N, S)`.
    - Output: the shape of src.

    Examples
    --------
    >>> encoder_layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    >>> encoder_layer(cr.randn(10, 3, 16)).shape
    chainrule.Size([10, 3, 16])
    >>> encoder_layer = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True, norm_first=True, activation="gelu")
    >>> encoder_layer(cr.randn(3, 10, 16)).shape
    chainrule.Size([3, 10, 16])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        _add_feed_forward(self, 2, d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first, bias, kw)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(_on_rows(self.linear2, self.dropout(self.activation(_on_rows(self.linear1, x)))))


class TransformerDecoderLayer(Module):
    """A decoder layer: self-attention, memory attention and feed-forward, as ``torch.nn.TransformerDecoderLayer``.

    Post-norm (default): `x = norm1(x + self_attn(x))`, `x = norm2(x + multihead_attn(x, memory))`,
    `x = norm3(x + feed_forward(x))`, each block followed by dropout; ``norm_first`` normalises before
    each block instead. Forward takes `(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)`.

    Parameters
    ----------
    d_model : int
        The number of expected features in the input (E).
    nhead : int
        The number of heads in the attention blocks.
    dim_feedforward : int, default 2048
        The hidden size of the feed-forward block.
    dropout : float, default 0.1
        The dropout probability.
    activation : str or callable, default relu
        The feed-forward block's activation: ``'relu'``, ``'gelu'`` or a unary callable.
    layer_norm_eps : float, default 1e-5
        The eps of the LayerNorms.
    batch_first : bool, default False
        If True, the inputs and output are (batch, seq, feature).
    norm_first : bool, default False
        If True, each LayerNorm comes before its block (pre-norm), else after the residual (post-norm).
    bias : bool, default True
        If False, the Linear and LayerNorm layers learn no additive bias.

    Shape
    -----
    - tgt: `(T, E)` (unbatched), `(T, N, E)`, or `(N, T, E)` with ``batch_first``; T the target length,
      N the batch size, E = d_model.
    - memory: `(S, E)`, `(S, N, E)`, or `(N, S, E)` with ``batch_first``; S the source length.
    - tgt_mask: `(T, T)` or `(N x nhead, T, T)`; memory_mask: `(T, S)` or `(N x nhead, T, S)`.
    - tgt_key_padding_mask: `(T)` or `(N, T)`; memory_key_padding_mask: `(S)` or `(N, S)`.
    - Output: the shape of tgt.

    Examples
    --------
    >>> decoder_layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    >>> memory, tgt = cr.randn(10, 3, 16), cr.randn(7, 3, 16)
    >>> decoder_layer(tgt, memory).shape
    chainrule.Size([7, 3, 16])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                 **kw)
        _add_feed_forward(self, 3, d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first, bias, kw)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(_on_rows(self.linear2, self.dropout(self.activation(_on_rows(self.linear1, x)))))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` encoder layers, then an optional norm, as ``torch.nn.TransformerEncoder``.

    The layers are deep copies of ``encoder_layer`` (independent parameters), applied in turn. Forward
    takes `(src, mask=None, src_key_padding_mask=None, is_causal=None)`.

    Parameters
    ----------
    encoder_layer : TransformerEncoderLayer
        The layer to copy.
    num_layers : int
        The number of layers.
    norm : Module, optional
        Applied to the last layer's output (e.g. a LayerNorm with ``norm_first`` layers).
    enable_nested_tensor : bool, default True
        Torch's fast path for padded batches; accepted, without effect (chainrule has no nested
        tensors; the results are the same).
    mask_check : bool, default True
        Torch's check of the masks for that fast path; accepted, without effect.

    Shape
    -----
    - src: `(S, E)`, `(S, N, E)`, or `(N, S, E)` with the layer's ``batch_first``.
    - mask: `(S, S)` or `(N x nhead, S, S)`; src_key_padding_mask: `(S)` or `(N, S)`.
    - Output: the shape of src.

    Examples
    --------
    >>> encoder_layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    >>> transformer_encoder = nn.TransformerEncoder(encoder_layer, num_layers=2)
    >>> transformer_encoder(cr.randn(10, 3, 16)).shape
    chainrule.Size([10, 3, 16])
    >>> len(transformer_encoder.layers)
    2
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, is_causal=bool(is_causal), src_key_padding_mask=src_key_padding_mask)
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` decoder layers, then an optional norm, as ``torch.nn.TransformerDecoder``.

    The layers are deep copies of ``decoder_layer`` (independent parameters), each attending to the
    same memory. Forward takes `(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)`.

    Parameters
    ----------
    decoder_layer : TransformerDecoderLayer
        The layer to copy.
    num_layers : int
        The number of layers.
    norm : Module, optional
        Applied to the last layer's output.

    Shape
    -----
    - tgt: `(T, E)`, `(T, N, E)`, or `(N, T, E)` with the layer's ``batch_first``.
    - memory: `(S, E)`, `(S, N, E)`, or `(N, S, E)`.
    - Masks as in TransformerDecoderLayer.
    - Output: the shape of tgt.

    Examples
    --------
    >>> decoder_layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    >>> transformer_decoder = nn.TransformerDecoder(decoder_layer, num_layers=2)
    >>> memory, tgt = cr.randn(10, 3, 16), cr.randn(7, 3, 16)
    >>> transformer_decoder(tgt, memory).shape
    chainrule.Size([7, 3, 16])
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The encoder-decoder transformer of "Attention Is All You Need", as ``torch.nn.Transformer``.

    An encoder of ``num_encoder_layers`` TransformerEncoderLayers and a decoder of ``num_decoder_layers``
    TransformerDecoderLayers, each stack followed by a LayerNorm; the weight matrices are initialised
    with xavier_uniform_. Forward takes `(src, tgt,
    src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)`;
    ``Transformer.generate_square_subsequent_mask(sz)`` gives the causal tgt_mask.

    Parameters
    ----------
    d_model : int, default 512
        The number of expected features in the encoder and decoder inputs (E).
    nhead : int, default 8
        The number of heads in the attention blocks.
    num_encoder_layers : int, default 6
        The number of encoder layers.
    num_decoder_layers : int, default 6
        The number of decoder layers.
    dim_feedforward : int, default 2048
        The hidden size of the feed-forward blocks.
    dropout : float, default 0.1
        The dropout probability.
    activation : str or callable, default relu
        The feed-forward blocks' activation: ``'relu'``, ``'gelu'`` or a unary callable.
    custom_encoder : Module, optional
        Used instead of the encoder stack.
    custom_decoder : Module, optional
        Used instead of the decoder stack.
    layer_norm_eps : float, default 1e-5
        The eps of the LayerNorms.
    batch_first : bool, default False
        If True, the inputs and output are (batch, seq, feature).
    norm_first : bool, default False
        If True, the layers normalise before each block (pre-norm).
    bias : bool, default True
        If False, the Linear and LayerNorm layers learn no additive bias.

    Shape
    -----
    - src: `(S, E)` (unbatched), `(S, N, E)`, or `(N, S, E)` with ``batch_first``; S the source length.
    - tgt: `(T, E)`, `(T, N, E)`, or `(N, T, E)` with ``batch_first``; T the target length.
    - src_mask: `(S, S)` or `(N x nhead, S, S)`; tgt_mask: `(T, T)` or `(N x nhead, T, T)`;
      memory_mask: `(T, S)`.
    - src_key_padding_mask: `(S)` or `(N, S)`; tgt_key_padding_mask: `(T)` or `(N, T)`;
      memory_key_padding_mask: `(S)` or `(N, S)`.
    - Output: `(T, E)`, `(T, N, E)`, or `(N, T, E)` with ``batch_first``.

    Examples
    --------
    >>> transformer_model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
    ...                                    dim_feedforward=32)
    >>> src, tgt = cr.randn(10, 3, 16), cr.randn(7, 3, 16)
    >>> mask = nn.Transformer.generate_square_subsequent_mask(7)
    >>> transformer_model(src, tgt, tgt_mask=mask).shape
    chainrule.Size([7, 3, 16])
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation=F.relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                      bias)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*layer_args, **kw), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*layer_args, **kw), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batched = src.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if batched and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if not batched and tgt.ndim == 3:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float (sz, sz) causal mask: -inf above the diagonal, 0 elsewhere."""
        mask = np.triu(np.full((sz, sz), -np.inf), 1)
        return tensor(mask, dtype=dtype, device=device) if dtype is not None else tensor(mask.astype(np.float32),
                                                                                        device=device)


__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerDecoder", "Transformer"]
