"""Attention, transformers and layer/RMS norm against torch: outputs and the gradients of inputs
and of every parameter (torch's parameters loaded through state_dict, so names and shapes must be
identical), float64 gradcheck of the functional forms, and bad input."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
import torch.nn.functional as TF
from helpers import compare

rng = np.random.default_rng(5)


def _load_torch_state(cm, tm):
    cs, ts = cm.state_dict(), tm.state_dict()
    assert list(cs) == list(ts)
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in ts.items()})


def _same_module(cm, tm, inputs, loss=lambda o: o.sum(), rtol=1e-9, train=False):
    """Forward both on the same float64 inputs; compare outputs, input and parameter gradients."""
    cm, tm = cm.double().train(train), tm.double().train(train)
    _load_torch_state(cm, tm)
    res = []
    for L, m in ((cr, cm), (torch, tm)):
        xs = [L.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a for a in inputs]
        out = m(*[x for x in xs if not isinstance(x, dict)], **next((x for x in xs if isinstance(x, dict)), {}))
        outs = out if isinstance(out, tuple) else (out,)
        total = sum((loss(o) * (i + 1) for i, o in enumerate(outs) if o is not None), L.tensor(0.0, dtype=L.float64))
        total.backward()
        grads = [x.grad.numpy() for x in xs if isinstance(x, L.Tensor) and x.requires_grad]
        res.append(([o.detach().numpy() for o in outs if o is not None], grads,
                    [(n, p.grad.numpy() if p.grad is not None else None) for n, p in m.named_parameters()]))
    (co, cg, cp), (to, tg, tp) = res
    for a, b in zip(co + cg, to + tg):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-11)
    for (n, a), (_, b) in zip(cp, tp):
        assert (a is None) == (b is None), n
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-11, err_msg=n)


def _masks(L, q_len, k_len, bsz):
    kpm = np.zeros((bsz, k_len), bool)
    kpm[0, -2:] = True
    return L.tensor(kpm), L.tensor(rng.standard_normal((q_len, k_len)))


@pytest.mark.parametrize("kw", [{}, {"add_bias_kv": True, "add_zero_attn": True}, {"kdim": 3, "vdim": 5},
                                {"bias": False}, {"batch_first": True}], ids=str)
def test_multihead_attention_matches_torch(kw):
    e = 8
    seq = (lambda n, b, d: (b, n, d)) if kw.get("batch_first") else (lambda n, b, d: (n, b, d))
    q, k, v = (rng.standard_normal(seq(4, 3, e)), rng.standard_normal(seq(5, 3, kw.get("kdim", e))),
               rng.standard_normal(seq(5, 3, kw.get("vdim", e))))
    kpm, am = rng.random((3, 5)) < 0.3, rng.standard_normal((4, 5))
    kpm[:, 0] = False
    for extra in [{}, {"key_padding_mask": kpm, "attn_mask": am}, {"need_weights": False},
                  {"average_attn_weights": False, "attn_mask": am > 0.5}]:
        def run(L, m, q, k, v):
            args = {n: L.tensor(a) for n, a in extra.items() if isinstance(a, np.ndarray)}
            args.update({n: a for n, a in extra.items() if not isinstance(a, np.ndarray)})
            if "attn_mask" in args and args["attn_mask"].dtype == L.bool:   # a row must keep something
                args["attn_mask"][:, 0] = False
            return m(q, k, v, **args)
        cm, tm = cr.nn.MultiheadAttention(e, 2, **kw), torch.nn.MultiheadAttention(e, 2, **kw)
        _same_module(_Wrap(cm, run, cr), _Wrap(tm, run, torch), [q, k, v])


class _Wrap:
    """Calls ``run(L, module, *inputs)``; exposes the module's state and parameters."""

    def __init__(self, m, run, L):
        self.m, self.run, self.L = m, run, L

    def __call__(self, *xs):
        return self.run(self.L, self.m, *xs)

    def __getattr__(self, name):
        attr = getattr(self.m, name)
        if name in ("double", "train"):
            return lambda *a: (attr(*a), self)[1]
        return attr


def test_multihead_attention_unbatched_and_errors():
    q = rng.standard_normal((4, 8))
    _same_module(cr.nn.MultiheadAttention(8, 4), torch.nn.MultiheadAttention(8, 4), [q, q, q])
    for L in (cr, torch):
        with pytest.raises(AssertionError):
            L.nn.MultiheadAttention(10, 3)
        m = L.nn.MultiheadAttention(8, 2)
        x = L.ones(4, 3, 8)
        with pytest.raises(RuntimeError, match="2D attn_mask"):
            m(x, x, x, attn_mask=L.ones(3, 3))
        with pytest.raises(AssertionError):
            m(x, x, L.ones(4, 3, 6))
        with pytest.raises(RuntimeError, match="is_causal"):
            m(x, x, x, is_causal=True)
        with pytest.raises(AssertionError):
            m(x, x, x, key_padding_mask=L.ones(3, 4, dtype=L.int64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sdpa_matches_torch(dtype):
    q, k, v = (rng.standard_normal(s).astype(dtype) for s in ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)))
    bool_mask = rng.random((4, 6)) < 0.7
    bool_mask[:, 0] = True
    float_mask = rng.standard_normal((2, 1, 4, 6)).astype(dtype)
    cases = [{}, {"is_causal": True}, {"scale": 0.3}]
    for kw in cases:
        compare(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **kw),
                lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, **kw), [q, k, v])
    compare(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
            lambda a, b, c, m: TF.scaled_dot_product_attention(a, b, c, attn_mask=m), [q, k, v, float_mask])
    compare(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
            lambda a, b, c, m: TF.scaled_dot_product_attention(a, b, c, attn_mask=m), [q, k, v, bool_mask])
    kg, vg = k[:, :1], v[:, :1]   # grouped-query: one key/value head for three query heads
    compare(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True),
            lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, enable_gqa=True), [q, kg, vg])
    if dtype == np.float64:
        ts = [cr.tensor(a, requires_grad=True) for a in (q[:1, :2], k[:1, :2], v[:1, :2])]
        assert cr.autograd.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), ts)


def test_sdpa_dropout_and_errors():
    q = cr.tensor(rng.standard_normal((2, 4, 8)))
    cr.manual_seed(0)
    out = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert not np.allclose(out.numpy(), F.scaled_dot_product_attention(q, q, q).numpy())
    for L, FF in ((cr, F), (torch, TF)):
        x = L.ones(2, 4, 8)
        with pytest.raises(RuntimeError):
            FF.scaled_dot_product_attention(x, x, x, attn_mask=L.ones(4, 4, dtype=L.bool), is_causal=True)
        with pytest.raises(RuntimeError):
            FF.scaled_dot_product_attention(x, L.ones(2, 4, 7), x)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable"])
def test_encoder_and_decoder_layers_match_torch(norm_first, activation):
    act = (lambda L: L.nn.functional.silu) if activation == "callable" else (lambda L: activation)
    src, tgt = rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 8))
    mk = lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=act(L), norm_first=norm_first)  # noqa
    _same_module(mk(cr), mk(torch), [src])
    mask = np.triu(np.full((4, 4), -np.inf), 1)
    kpm = np.zeros((2, 5), bool)
    kpm[1, -1] = True
    mkd = lambda L: L.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, activation=act(L), norm_first=norm_first)  # noqa
    _same_module(_Wrap(mkd(cr), lambda L, m, t, s: m(t, s, tgt_mask=L.tensor(mask), memory_key_padding_mask=L.tensor(
        kpm), tgt_is_causal=True), cr),
                 _Wrap(mkd(torch), lambda L, m, t, s: m(t, s, tgt_mask=L.tensor(mask),
                                                        memory_key_padding_mask=L.tensor(kpm), tgt_is_causal=True),
                       torch), [tgt, src])


def test_transformer_matches_torch():
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 4, 8))
    mk = lambda L: L.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=True)  # noqa: E731
    mask = cr.nn.Transformer.generate_square_subsequent_mask(4, dtype=cr.float64)
    np.testing.assert_array_equal(mask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(
        4, dtype=torch.float64).numpy())
    assert cr.nn.Transformer.generate_square_subsequent_mask(3).dtype == cr.float32
    _same_module(_Wrap(mk(cr), lambda L, m, s, t: m(s, t, tgt_mask=L.nn.Transformer.generate_square_subsequent_mask(
        4, dtype=L.float64)), cr),
                 _Wrap(mk(torch), lambda L, m, s, t: m(s, t, tgt_mask=L.nn.Transformer.generate_square_subsequent_mask(
                     4, dtype=L.float64)), torch), [src, tgt], rtol=1e-8)
    enc_c = cr.nn.TransformerEncoder(cr.nn.TransformerEncoderLayer(8, 2, 16, 0.0), 3, cr.nn.LayerNorm(8))
    enc_t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0), 3, torch.nn.LayerNorm(8),
                                        enable_nested_tensor=False)
    _same_module(enc_c, enc_t, [src.transpose(1, 0, 2)])
    # init: xavier on every matrix, as torch (same distribution: compare the spread)
    w = np.concatenate([p.detach().numpy().ravel() for p in mk(cr).parameters() if p.ndim > 1])
    wt = np.concatenate([p.detach().numpy().ravel() for p in mk(torch).parameters() if p.ndim > 1])
    assert abs(w.std() / wt.std() - 1) < 0.05
    for L in (cr, torch):
        m = L.nn.Transformer(8, 2, 1, 1, 16)
        with pytest.raises(RuntimeError, match="batch number"):
            m(L.ones(5, 2, 8), L.ones(4, 3, 8))
        with pytest.raises(RuntimeError, match="d_model"):
            m(L.ones(5, 2, 6), L.ones(4, 2, 6))
        with pytest.raises(RuntimeError):
            L.nn.TransformerEncoderLayer(8, 2, activation="tanh")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_and_rms_norm(dtype):
    x = (rng.standard_normal((3, 4, 5)) * 3 + 1).astype(dtype)
    w, b = rng.standard_normal((4, 5)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype)
    compare(lambda t, a, c: F.layer_norm(t, (4, 5), a, c), lambda t, a, c: TF.layer_norm(t, (4, 5), a, c), [x, w, b])
    compare(lambda t: F.layer_norm(t, [5], eps=0.1), lambda t: TF.layer_norm(t, [5], eps=0.1), [x])
    compare(lambda t, a: F.rms_norm(t, (4, 5), a), lambda t, a: TF.rms_norm(t, (4, 5), a), [x, w])
    compare(lambda t: F.rms_norm(t, (5,), eps=1e-3), lambda t: TF.rms_norm(t, (5,), eps=1e-3), [x])
    for kw in [{}, {"bias": False}, {"elementwise_affine": False}]:
        cm, tm = cr.nn.LayerNorm(5, **kw), torch.nn.LayerNorm(5, **kw)
        assert repr(cm) == repr(tm)
        _same_module(cm, tm, [x.astype(np.float64)])
    cm, tm = cr.nn.RMSNorm([4, 5]), torch.nn.RMSNorm([4, 5])
    assert repr(cm) == repr(tm)
    _same_module(cm, tm, [x.astype(np.float64)])
    if dtype == np.float64:
        ts = [cr.tensor(a, requires_grad=True) for a in (x[:2], w, b)]
        assert cr.autograd.gradcheck(lambda t, a, c: F.layer_norm(t, (4, 5), a, c), ts)
        assert cr.autograd.gradcheck(lambda t, a: F.rms_norm(t, (4, 5), a), ts[:2])


def test_layer_norm_errors():
    for L, FF in ((cr, F), (torch, TF)):
        with pytest.raises(RuntimeError):
            FF.layer_norm(L.ones(3, 4), (5,))
        with pytest.raises(RuntimeError):
            FF.layer_norm(L.ones(3, 4), (4,), L.ones(3))
        with pytest.raises(RuntimeError):
            FF.rms_norm(L.ones(3, 4), (5,))
        with pytest.raises(TypeError):
            FF.layer_norm(L.ones(3, 4), 4)


def _float32_grads(L, fn, arrays, up):
    ts = [L.tensor(a, requires_grad=True) for a in arrays]
    out = fn(L, *ts)
    (out * L.tensor(up)).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("numba", ["1", "0"])
@pytest.mark.parametrize("blas_threads", [1, 2])
def test_seq_kernels_match_torch_float32(monkeypatch, numba, blas_threads):
    """softmax (with -inf, an all -inf row and a nan), causal attention with L != S, layer_norm and
    gelu(tanh) in float32, large enough for the numba kernels and, with two BLAS threads, for their
    two-thread split (CHAINRULE_NUMBA=0: the NumPy rules); values and gradients against torch."""
    from threadpoolctl import threadpool_limits
    monkeypatch.setenv("CHAINRULE_NUMBA", numba)
    x = rng.standard_normal((6, 4, 97, 97)).astype(np.float32) * 3
    x[0, 0, 0, :5] = -np.inf
    x[0, 0, 1] = -np.inf
    x[0, 0, 2, 3] = np.nan
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((6, 4, 97, 16), (6, 4, 120, 16), (6, 4, 120, 8)))
    rows = rng.standard_normal((1100, 128)).astype(np.float32) * 2 + 1
    w, b = rng.standard_normal(128).astype(np.float32), rng.standard_normal(128).astype(np.float32)
    cases = [(lambda L, a: a.softmax(-1), [x]),
             (lambda L, a, c, d: L.nn.functional.scaled_dot_product_attention(a, c, d, is_causal=True), [q, k, v]),
             (lambda L, a, c, d: L.nn.functional.layer_norm(a, (128,), c, d), [rows, w, b]),
             (lambda L, a: L.nn.functional.gelu(a, approximate="tanh"), [rows])]
    with threadpool_limits(blas_threads):
        for fn, arrays in cases:
            up = np.cos(np.arange(fn(cr, *[cr.tensor(a) for a in arrays]).numel())).astype(np.float32)
            up = up.reshape(tuple(fn(cr, *[cr.tensor(a) for a in arrays]).shape))
            for a, t in zip(_float32_grads(cr, fn, arrays, up), _float32_grads(torch, fn, arrays, up)):
                # (atol: layer_norm's weight gradient sums 1,100 float32 terms of size ~30 that cancel)
                np.testing.assert_allclose(a, t, rtol=1e-4, atol=1e-5 * max(1, np.abs(np.nan_to_num(t)).max()))


def _gpt_blocks(L, d=32, heads=4):
    L.manual_seed(0)
    block = L.nn.TransformerEncoderLayer(d, heads, 2 * d, 0.0, activation=lambda x: L.nn.functional.gelu(
        x, approximate="tanh"), batch_first=True, norm_first=True)
    return L.nn.ModuleList([block, L.nn.TransformerEncoderLayer(d, heads, 2 * d, 0.0, batch_first=True)])


@pytest.mark.parametrize("numba", ["1", "0"])
def test_batch_first_self_attention_rows_path_matches_torch(monkeypatch, numba):
    """A transformer's blocks (batch-first self-attention, no weights: MultiheadAttention's rows
    path) with the causal hint, a float mask, a bool mask and no mask; float32 values and gradients
    of the input and every parameter against torch."""
    monkeypatch.setenv("CHAINRULE_NUMBA", numba)
    n, length, d = 3, 50, 32
    causal = np.triu(np.full((length, length), -np.inf, np.float32), 1)
    x0 = rng.standard_normal((n, length, d)).astype(np.float32)
    for mask, is_causal in ((causal, True), (causal, False), (rng.random((length, length)) < 0.2, False), (None, False)):
        res = []
        for L in (cr, torch):
            blocks = _gpt_blocks(L)
            if L is cr:
                _load_torch_state(blocks, _gpt_blocks(torch))
            x = L.tensor(x0, requires_grad=True)
            h = x
            for blk in blocks:
                h = blk(h, src_mask=None if mask is None else L.tensor(mask), is_causal=is_causal)
            (h * L.tensor(np.sin(np.arange(h.numel())).reshape(h.shape).astype(np.float32))).sum().backward()
            res.append([h.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in blocks.parameters()])
        for a, t in zip(*res):
            np.testing.assert_allclose(a, t, rtol=1e-4, atol=2e-5)
