"""chainrule.nn.utils against torch.nn.utils: clip_grad_value_, parameters_to_vector /
vector_to_parameters, rnn (pad_sequence, pack_sequence, pack_padded_sequence, pad_packed_sequence,
PackedSequence, unpad/unpack) with values and gradients through every round trip, and
parametrizations.weight_norm (state dict keys, values, gradients, right_inverse, removal)."""
import copy
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import rnn, parametrize, parametrizations

RNG = np.random.default_rng(0)


def _arrays(lengths, trailing=(2,), dtype=np.float32):
    return [RNG.standard_normal((n,) + trailing).astype(dtype) for n in lengths]


def _leaves(arrays):
    return ([cr.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _np(t):
    return t.detach().numpy() if isinstance(t, (cr.Tensor, torch.Tensor)) else np.asarray(t)


def _backward_same(c_out, t_out, c_leaves, t_leaves):
    """Backward a random weighting of both outputs; the leaves' gradients must agree."""
    w = RNG.standard_normal(tuple(t_out.shape)).astype(np.float32)
    (c_out * cr.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for c, t in zip(c_leaves, t_leaves):
        np.testing.assert_allclose(_np(c.grad), _np(t.grad), rtol=1e-6, atol=1e-6)


def _same_error(c_call, t_call):
    with pytest.raises(Exception) as want:
        t_call()
    with pytest.raises(want.type) as got:
        c_call()
    assert str(got.value) == str(want.value)


# ---- clip_grad_value_ ----------------------------------------------------------------------------

@pytest.mark.parametrize("clip_value", [0.5, 2, "1.5", -1.0, math.nan, math.inf, 0.0])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_value_like_torch(clip_value, foreach):
    grads = [np.array([[1.0, -5.0, math.nan], [0.2, 2.0, -0.7]], np.float32), np.array([3.0, -0.1], np.float32)]
    cps = [nn.Parameter(cr.zeros(*g.shape)) for g in grads] + [nn.Parameter(cr.zeros(2))]
    tps = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads] + [torch.nn.Parameter(torch.zeros(2))]
    for cp, tp, g in zip(cps, tps, grads):
        cp.grad, tp.grad = cr.tensor(g), torch.tensor(g)
    kept = [cp.grad for cp in cps[:2]]
    assert nn.utils.clip_grad_value_(iter(cps), clip_value, foreach=foreach) is None
    torch.nn.utils.clip_grad_value_(tps, clip_value, foreach=foreach)
    for cp, tp in zip(cps[:2], tps[:2]):
        np.testing.assert_array_equal(_np(cp.grad), _np(tp.grad))
    assert all(cp.grad is k for cp, k in zip(cps, kept))        # clipped in place
    assert cps[2].grad is None


def test_clip_grad_value_single_tensor_and_bad_values():
    p, tp = nn.Parameter(cr.zeros(3)), torch.nn.Parameter(torch.zeros(3))
    p.grad, tp.grad = cr.tensor([4.0, -4.0, 0.5]), torch.tensor([4.0, -4.0, 0.5])
    nn.utils.clip_grad_value_(p, 1.0)
    torch.nn.utils.clip_grad_value_(tp, 1.0)
    np.testing.assert_array_equal(_np(p.grad), _np(tp.grad))
    for bad in ["x", None, [1.0]]:
        _same_error(lambda: nn.utils.clip_grad_value_([p], bad), lambda: torch.nn.utils.clip_grad_value_([tp], bad))


def test_clip_grad_value_in_grad_mode_records_nothing():
    p = nn.Parameter(cr.ones(3))
    (p * cr.tensor([5.0, -5.0, 0.1])).sum().backward()
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_allclose(_np(p.grad), [1.0, -1.0, 0.1], rtol=1e-6)
    assert p.grad.grad_fn is None and p.is_leaf


def test_clip_grad_norm_accepts_foreach():
    p, tp = nn.Parameter(cr.zeros(3)), torch.nn.Parameter(torch.zeros(3))
    p.grad, tp.grad = cr.tensor([3.0, 4.0, 0.0]), torch.tensor([3.0, 4.0, 0.0])
    total = nn.utils.clip_grad_norm_([p], 1.0, foreach=True)
    ref = torch.nn.utils.clip_grad_norm_([tp], 1.0, foreach=True)
    assert total.item() == pytest.approx(ref.item())
    np.testing.assert_allclose(_np(p.grad), _np(tp.grad), rtol=1e-6)


# ---- parameters_to_vector / vector_to_parameters ---------------------------------------------------

def test_parameters_to_vector_values_and_gradients_like_torch():
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,), (2, 1, 3)]]
    cps, tps = [nn.Parameter(cr.tensor(a)) for a in arrays], [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    cv, tv = nn.utils.parameters_to_vector(cps), torch.nn.utils.parameters_to_vector(tps)
    np.testing.assert_array_equal(_np(cv), _np(tv))
    assert cv.shape == (12 + 5 + 6,) and cv.grad_fn is not None
    _backward_same(cv, tv, cps, tps)
    model = nn.Linear(3, 2)
    assert nn.utils.parameters_to_vector(model.parameters()).shape == (8,)
    mixed = nn.utils.parameters_to_vector([cr.zeros(2), cr.zeros(2, dtype=cr.float64)])
    assert mixed.dtype == torch_dtype_to_cr(
        torch.nn.utils.parameters_to_vector([torch.zeros(2), torch.zeros(2, dtype=torch.float64)]).dtype)


def torch_dtype_to_cr(dt):
    return getattr(cr, str(dt).split(".")[1])


def test_vector_to_parameters_like_torch():
    cps = [nn.Parameter(cr.zeros(2, 3)), nn.Parameter(cr.zeros(4))]
    tps = [torch.nn.Parameter(torch.zeros(2, 3)), torch.nn.Parameter(torch.zeros(4))]
    cvec, tvec = cr.arange(12.0), torch.arange(12.0)
    assert nn.utils.vector_to_parameters(cvec, cps) is None
    torch.nn.utils.vector_to_parameters(tvec, tps)
    for c, t in zip(cps, tps):
        np.testing.assert_array_equal(_np(c), _np(t))
        assert c.shape == tuple(t.shape) and c.requires_grad and c.is_leaf
    # as torch, the parameters' data now share the vector's memory
    cvec[0] = 100.0
    tvec[0] = 100.0
    assert _np(cps[0])[0, 0] == _np(tps[0])[0, 0] == 100.0
    # and take its dtype
    c64, t64 = nn.Parameter(cr.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    nn.utils.vector_to_parameters(cr.ones(2, dtype=cr.float64), [c64])
    torch.nn.utils.vector_to_parameters(torch.ones(2, dtype=torch.float64), [t64])
    assert c64.dtype == cr.float64 and t64.dtype == torch.float64
    # a round trip through an optimizer step still works
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters()).detach() * 0 + 1
    nn.utils.vector_to_parameters(vec, model.parameters())
    model(cr.ones(1, 3)).sum().backward()
    cr.optim.SGD(model.parameters(), lr=0.5).step()
    np.testing.assert_allclose(_np(model.weight), np.full((2, 3), 0.5))


def test_convert_parameters_errors():
    with pytest.raises(TypeError, match=r"^expected chainrule.Tensor, but got: list$"):
        nn.utils.vector_to_parameters([1.0], [nn.Parameter(cr.zeros(2))])
    with pytest.raises(TypeError, match=r"^expected torch.Tensor, but got: list$"):
        torch.nn.utils.vector_to_parameters([1.0], [torch.nn.Parameter(torch.zeros(2))])
    with pytest.raises(TypeError, match=r"^expected chainrule.Tensor, but got: numpy.ndarray$"):
        nn.utils.vector_to_parameters(np.ones(2), [nn.Parameter(cr.zeros(2))])
    with pytest.raises(RuntimeError, match=r"shape '\[2, 3\]' is invalid for input of size 5"):
        nn.utils.vector_to_parameters(cr.arange(5.0), [nn.Parameter(cr.zeros(2, 3))])
    with pytest.raises(RuntimeError, match=r"shape '\[2, 3\]' is invalid for input of size 5"):
        torch.nn.utils.vector_to_parameters(torch.arange(5.0), [torch.nn.Parameter(torch.zeros(2, 3))])
    with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
        nn.utils.parameters_to_vector([])


# ---- pad_sequence --------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("padding_value", [0.0, -1.5])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 2)])
def test_pad_sequence_values_and_gradients_like_torch(batch_first, padding_side, padding_value, trailing):
    cs, ts = _leaves(_arrays([3, 5, 1, 5, 2], trailing))
    c = rnn.pad_sequence(cs, batch_first=batch_first, padding_value=padding_value, padding_side=padding_side)
    t = torch.nn.utils.rnn.pad_sequence(ts, batch_first=batch_first, padding_value=padding_value,
                                        padding_side=padding_side)
    assert c.shape == tuple(t.shape)
    np.testing.assert_array_equal(_np(c), _np(t))
    _backward_same(c, t, cs, ts)


def test_pad_sequence_dtypes_broadcasting_and_tensor_input_like_torch():
    ints = [np.arange(3), np.arange(1), np.arange(2)]
    for value in (0, -1, 1.7):
        c = rnn.pad_sequence([cr.tensor(a) for a in ints], padding_value=value)
        t = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in ints], padding_value=value)
        np.testing.assert_array_equal(_np(c), _np(t))
        assert c.dtype == cr.int64
    # the first sequence's dtype and trailing shape; the others cast and broadcast into it
    a, b = RNG.standard_normal((3, 2)).astype(np.float32), RNG.standard_normal((2, 1))
    cs, ts = [cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)], \
        [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    c, t = rnn.pad_sequence(cs, batch_first=True), torch.nn.utils.rnn.pad_sequence(ts, batch_first=True)
    assert c.dtype == cr.float32 and t.dtype == torch.float32
    np.testing.assert_allclose(_np(c), _np(t), rtol=1e-6)
    _backward_same(c, t, cs, ts)
    x = RNG.standard_normal((3, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(_np(rnn.pad_sequence(cr.tensor(x))), _np(torch.nn.utils.rnn.pad_sequence(
        torch.tensor(x))))
    np.testing.assert_array_equal(_np(rnn.pad_sequence(iter([cr.tensor(x[0]), cr.tensor(x[1])]))),
                                  _np(torch.nn.utils.rnn.pad_sequence(iter([torch.tensor(x[0]), torch.tensor(x[1])]))))
    empty_first = rnn.pad_sequence([cr.zeros(0, 2), cr.ones(2, 2)], padding_value=7.0)
    ref = torch.nn.utils.rnn.pad_sequence([torch.zeros(0, 2), torch.ones(2, 2)], padding_value=7.0)
    np.testing.assert_array_equal(_np(empty_first), _np(ref))


def test_pad_sequence_errors_like_torch():
    P, T = rnn.pad_sequence, torch.nn.utils.rnn.pad_sequence
    a, b = np.ones((3, 2), np.float32), np.ones((2, 3), np.float32)
    for c_args, t_args, kw in [
            (([],), ([],), {}),
            ((5,), (5,), {}),
            (([cr.tensor(a), cr.tensor(b)],), ([torch.tensor(a), torch.tensor(b)],), {}),
            (([cr.tensor(a), cr.ones(2, 1, 2)],), ([torch.tensor(a), torch.ones(2, 1, 2)],), {}),
            (([cr.ones(3, 1), cr.ones(2, 2)],), ([torch.ones(3, 1), torch.ones(2, 2)],), {}),
            (([cr.ones(3, 2, 3), cr.ones(2, 3, 2)],), ([torch.ones(3, 2, 3), torch.ones(2, 3, 2)],), {}),
            (([cr.tensor(a), cr.tensor(a)],), ([torch.tensor(a), torch.tensor(a)],), {"padding_side": "middle"}),
            (([cr.tensor(a), cr.tensor(a)],), ([torch.tensor(a), torch.tensor(a)],), {"batch_first": 1}),
            (([cr.tensor(a), [1.0, 2.0]],), ([torch.tensor(a), [1.0, 2.0]],), {}),
            (([cr.arange(3), cr.arange(2)],), ([torch.arange(3), torch.arange(2)],), {"padding_value": math.nan}),
            (([cr.arange(3), cr.arange(2)],), ([torch.arange(3), torch.arange(2)],), {"padding_value": 1e30})]:
        _same_error(lambda: P(*c_args, **kw), lambda: T(*t_args, **kw))
    with pytest.raises(RuntimeError, match="at least one dimension"):
        P([cr.tensor(1.0), cr.tensor(2.0)])


# ---- packing -------------------------------------------------------------------------------------

def _same_packed(c, t):
    assert isinstance(c, rnn.PackedSequence) and isinstance(c, tuple) and len(c) == 4
    np.testing.assert_array_equal(_np(c.data), _np(t.data))
    np.testing.assert_array_equal(_np(c.batch_sizes), _np(t.batch_sizes))
    assert c.batch_sizes.dtype == cr.int64 and c.batch_sizes.device.type == "cpu"
    for ci, ti in [(c.sorted_indices, t.sorted_indices), (c.unsorted_indices, t.unsorted_indices)]:
        assert (ci is None) == (ti is None)
        if ci is not None:
            np.testing.assert_array_equal(_np(ci), _np(ti))


@pytest.mark.parametrize("lengths, enforce_sorted", [([5, 3, 3, 1], True), ([5, 3, 3, 1], False), ([4], True),
                                                     ([2, 5, 1, 4], False), ([1, 1, 1], True), ([1, 3, 3], False)])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_pad_round_trip_values_and_gradients_like_torch(lengths, enforce_sorted, batch_first, as_tensor):
    cs, ts = _leaves(_arrays(lengths, (3,)))
    cpad = rnn.pad_sequence(cs, batch_first=batch_first)
    tpad = torch.nn.utils.rnn.pad_sequence(ts, batch_first=batch_first)
    clen = cr.tensor(lengths) if as_tensor else lengths
    tlen = torch.tensor(lengths) if as_tensor else lengths
    c = rnn.pack_padded_sequence(cpad, clen, batch_first=batch_first, enforce_sorted=enforce_sorted)
    t = torch.nn.utils.rnn.pack_padded_sequence(tpad, tlen, batch_first=batch_first, enforce_sorted=enforce_sorted)
    _same_packed(c, t)
    for total_length in (None, max(lengths) + 2):
        cout, cl = rnn.pad_packed_sequence(c, batch_first=batch_first, padding_value=-2.0, total_length=total_length)
        tout, tl = torch.nn.utils.rnn.pad_packed_sequence(t, batch_first=batch_first, padding_value=-2.0,
                                                          total_length=total_length)
        assert cout.shape == tuple(tout.shape)
        np.testing.assert_array_equal(_np(cout), _np(tout))
        np.testing.assert_array_equal(_np(cl), _np(tl))
        assert cl.dtype == cr.int64 and cl.device.type == "cpu"
    _backward_same(cout, tout, cs, ts)   # gradients through pad -> pack -> pad


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_like_torch(enforce_sorted):
    lengths = [4, 4, 2, 1] if enforce_sorted else [2, 4, 1, 4, 3]
    cs, ts = _leaves(_arrays(lengths, (2, 2)))
    c = rnn.pack_sequence(cs, enforce_sorted=enforce_sorted)
    t = torch.nn.utils.rnn.pack_sequence(ts, enforce_sorted=enforce_sorted)
    _same_packed(c, t)
    _backward_same(c.data, t.data, cs, ts)
    cu, tu = rnn.unpack_sequence(c), torch.nn.utils.rnn.unpack_sequence(t)
    assert len(cu) == len(tu) == len(lengths)
    for a, b, arr in zip(cu, tu, _arrays(lengths, (2, 2))):
        np.testing.assert_array_equal(_np(a), _np(b))
    cpad, cl = rnn.pad_packed_sequence(c)
    tpad, tl = torch.nn.utils.rnn.pad_packed_sequence(t)
    assert cpad.shape == tuple(tpad.shape) == (max(lengths), len(lengths), 2, 2)
    for a, b in zip(rnn.unpad_sequence(cpad, cl), torch.nn.utils.rnn.unpad_sequence(tpad, tl)):
        np.testing.assert_array_equal(_np(a), _np(b))
    # chainrule leaves the padded input as it is; torch's unpad_sequence transposed it in place
    assert cpad.shape == (max(lengths), len(lengths), 2, 2) and tuple(tpad.shape) == (len(lengths), max(lengths), 2, 2)


def test_packed_sequence_is_torchs_named_tuple():
    c = rnn.pack_sequence([cr.ones(3, 2), cr.ones(1, 2)])
    data, batch_sizes, sorted_indices, unsorted_indices = c
    assert rnn.PackedSequence._fields == torch.nn.utils.rnn.PackedSequence._fields
    assert data is c.data and sorted_indices is None and unsorted_indices is None
    assert c.batch_sizes.tolist() == [2, 1, 1] and not c.is_cuda
    d = c.double()
    assert d.data.dtype == cr.float64 and d.batch_sizes is c.batch_sizes and c.to(cr.float32) is c
    again = rnn.PackedSequence(c.data, c.batch_sizes)
    assert again.unsorted_indices is None and again == c
    from_pair = rnn.PackedSequence((c.data, c.batch_sizes))
    assert from_pair.batch_sizes is c.batch_sizes
    u = rnn.pack_sequence([cr.ones(1, 2), cr.ones(3, 2)], enforce_sorted=False)
    assert u.sorted_indices.tolist() == [1, 0] and u.unsorted_indices.tolist() == [1, 0]
    assert rnn.invert_permutation(cr.tensor([2, 0, 1])).tolist() == \
        torch.nn.utils.rnn.invert_permutation(torch.tensor([2, 0, 1])).tolist()
    assert rnn.invert_permutation(None) is None


def test_packing_errors_like_torch():
    a = _arrays([3, 2, 1])
    cpad = rnn.pad_sequence([cr.tensor(x) for x in a])
    tpad = torch.nn.utils.rnn.pad_sequence([torch.tensor(x) for x in a])
    cases = [([1, 2, 3], {}), ([3, 2, 0], {}), ([3, 2], {}), ([3, 2, -1], {"enforce_sorted": False}),
             ("tensor2d", {}), ([0, 2, 3], {}), (3, {})]
    for lengths, kw in cases:
        cl = cr.tensor([[3, 2, 1]]) if lengths == "tensor2d" else lengths
        tl = torch.tensor([[3, 2, 1]]) if lengths == "tensor2d" else lengths
        _same_error(lambda: rnn.pack_padded_sequence(cpad, cl, **kw),
                    lambda: torch.nn.utils.rnn.pack_padded_sequence(tpad, tl, **kw))
    _same_error(lambda: rnn.pack_padded_sequence(cr.ones(3), [3]),
                lambda: torch.nn.utils.rnn.pack_padded_sequence(torch.ones(3), [3]))
    _same_error(lambda: rnn.pack_padded_sequence(cr.ones(0, 2), [1, 1]),
                lambda: torch.nn.utils.rnn.pack_padded_sequence(torch.ones(0, 2), [1, 1]))
    _same_error(lambda: rnn.pack_padded_sequence(np.ones((3, 2)), [3, 2]),
                lambda: torch.nn.utils.rnn.pack_padded_sequence(np.ones((3, 2)), [3, 2]))
    _same_error(lambda: rnn.pack_sequence([]), lambda: torch.nn.utils.rnn.pack_sequence([]))
    _same_error(lambda: rnn.pack_sequence([cr.ones(1, 2), cr.ones(3, 2)]),
                lambda: torch.nn.utils.rnn.pack_sequence([torch.ones(1, 2), torch.ones(3, 2)]))
    c = rnn.pack_padded_sequence(cpad, [3, 2, 1])
    t = torch.nn.utils.rnn.pack_padded_sequence(tpad, [3, 2, 1])
    _same_error(lambda: rnn.pad_packed_sequence(c, total_length=2),
                lambda: torch.nn.utils.rnn.pad_packed_sequence(t, total_length=2))
    # torch reads past the end of the input for a length longer than the padded input; chainrule refuses
    with pytest.raises(RuntimeError, match="does not fit in the padded input's 3 time steps"):
        rnn.pack_padded_sequence(cpad, [4, 2, 1])


def test_pack_lengths_given_as_floats_truncate_like_torch():
    a = _arrays([3, 2, 1])
    c = rnn.pack_padded_sequence(rnn.pad_sequence([cr.tensor(x) for x in a]), cr.tensor([3.0, 2.5, 1.0]))
    t = torch.nn.utils.rnn.pack_padded_sequence(torch.nn.utils.rnn.pad_sequence([torch.tensor(x) for x in a]),
                                                torch.tensor([3.0, 2.5, 1.0]))
    _same_packed(c, t)


# ---- weight_norm ---------------------------------------------------------------------------------

def _twin(make, dim):
    """The same module in both libraries (torch's weights copied in), both weight-normed."""
    c, t = make(nn), make(torch.nn)
    t.load_state_dict({k: torch.tensor(_np(v)) for k, v in c.state_dict().items()})
    return (parametrizations.weight_norm(c, dim=dim),
            torch.nn.utils.parametrizations.weight_norm(t, dim=dim))


@pytest.mark.parametrize("make, x_shape", [(lambda m: m.Linear(3, 4), (5, 3)),
                                           (lambda m: m.Conv2d(2, 3, 3), (2, 2, 5, 5))])
@pytest.mark.parametrize("dim", [0, 1, None, -1, -2])
def test_weight_norm_like_torch(make, x_shape, dim):
    c, t = _twin(make, dim)
    assert type(c).__name__ == type(t).__name__ and repr(c) == repr(t)
    assert parametrize.type_before_parametrizations(c) is type(make(nn))
    assert list(c.state_dict()) == list(t.state_dict())
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    for (n, a), (_, b) in zip(c.state_dict().items(), t.state_dict().items()):
        assert a.shape == tuple(b.shape), n
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_np(c.weight), _np(t.weight), rtol=1e-5, atol=1e-7)
    x = RNG.standard_normal(x_shape).astype(np.float32)
    cy, ty = c(cr.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(_np(cy), _np(ty), rtol=1e-5, atol=1e-6)
    _backward_same(cy, ty, list(c.parameters()), list(t.parameters()))


def test_weight_norm_set_remove_train_copy():
    c, t = _twin(lambda m: m.Linear(3, 4), 0)
    new = RNG.standard_normal((4, 3)).astype(np.float32)
    c.weight, t.weight = cr.tensor(new), torch.tensor(new)          # right_inverse: g = ||w||, v = w
    for a, b in zip(c.state_dict().values(), t.state_dict().values()):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6)
    np.testing.assert_allclose(_np(c.weight), new, rtol=1e-5)
    _same_error(lambda: setattr(c, "weight", nn.Parameter(cr.ones(4, 3))),
                lambda: setattr(t, "weight", torch.nn.Parameter(torch.ones(4, 3))))
    with parametrize.cached():                                       # computed once inside cached()
        assert c.weight is c.weight
    assert c.weight is not c.weight
    # the state dict loads back into a fresh weight-normed module
    fresh = parametrizations.weight_norm(nn.Linear(3, 4))
    fresh.load_state_dict(c.state_dict())
    np.testing.assert_allclose(_np(fresh.weight), new, rtol=1e-5)
    # an optimizer updates g and v
    g_before = _np(c.parametrizations.weight.original0).copy()
    c(cr.ones(2, 3)).pow(2).sum().backward()
    cr.optim.SGD(c.parameters(), lr=0.1).step()
    assert not np.allclose(_np(c.parametrizations.weight.original0), g_before)
    copied = copy.deepcopy(c)
    np.testing.assert_array_equal(_np(copied.weight), _np(c.weight))
    assert copied.parametrizations.weight.original1 is not c.parametrizations.weight.original1
    # removal leaves a plain Linear holding the current weight
    w = _np(c.weight).copy()
    out = parametrize.remove_parametrizations(c, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    assert out is c and type(c) is nn.Linear and type(t) is torch.nn.Linear
    assert list(c.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert isinstance(c.weight, nn.Parameter)
    np.testing.assert_allclose(_np(c.weight), w, rtol=1e-6)
    assert not parametrize.is_parametrized(c)


def test_weight_norm_errors_like_torch():
    with pytest.raises(ValueError, match=r"does not have a parameter, a buffer, or a parametrized element with "
                                         r"name 'foo'"):
        parametrizations.weight_norm(nn.Linear(3, 4), name="foo")
    with pytest.raises(ValueError, match=r"does not have a parameter, a buffer, or a parametrized element with "
                                         r"name 'foo'"):
        torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 4), name="foo")
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(nn.Linear(3, 4), "weight")
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        parametrize.remove_parametrizations(parametrizations.weight_norm(nn.Linear(3, 4)), "weight",
                                            leave_parametrized=False)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.weight_norm(nn.Linear(3, 4), dim=2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 4), dim=2)
