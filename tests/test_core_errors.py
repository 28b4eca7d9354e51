"""Bad input raises the exception type torch raises, with a message naming the op and the shapes,
dtypes or values (never a bare NumPy error)."""
import pytest
import torch

import chainrule as cr


def both_raise(fn, exc, *message_parts):
    """``fn(lib)`` raises ``exc`` for torch and for chainrule; chainrule's message names every part."""
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc) as info:
        fn(cr)
    msg = str(info.value)
    for part in message_parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    assert "numpy" not in type(info.value).__module__
    return msg


CASES = {
    "broadcast_add": (lambda L: L.ones(2, 3) + L.ones(4), RuntimeError, ["add", "[2, 3]", "[4]"]),
    "broadcast_mul": (lambda L: L.ones(2, 3) * L.ones(3, 2), RuntimeError, ["mul", "[2, 3]", "[3, 2]"]),
    "broadcast_div": (lambda L: L.ones(5) / L.ones(2), RuntimeError, ["div", "[5]", "[2]"]),
    "broadcast_compare": (lambda L: L.ones(5) < L.ones(2), RuntimeError, ["lt", "[5]", "[2]"]),
    "broadcast_where": (lambda L: L.where(L.ones(3) > 0, L.ones(3), L.ones(2)), RuntimeError, ["where"]),
    "broadcast_maximum": (lambda L: L.maximum(L.ones(3), L.ones(2)), RuntimeError, ["maximum", "[3]", "[2]"]),
    "matmul_inner": (lambda L: L.ones(2, 3) @ L.ones(4, 5), RuntimeError, ["2x3", "4x5"]),
    "matmul_vec": (lambda L: L.ones(3) @ L.ones(4), RuntimeError, ["[3]", "[4]"]),
    "matmul_batch": (lambda L: L.ones(2, 3, 4) @ L.ones(3, 4, 5), RuntimeError, ["[2, 3, 4]", "[3, 4, 5]"]),
    "matmul_0d": (lambda L: L.ones(()) @ L.ones(3), RuntimeError, ["1D", "0D"]),
    "matmul_dtype": (lambda L: L.ones(2, 2) @ L.ones(2, 2, dtype=L.float64), RuntimeError, ["float32", "float64"]),
    "mm_3d": (lambda L: L.ones(2, 2, 2).mm(L.ones(2, 2)), RuntimeError, ["mm"]),
    "bmm_batches": (lambda L: L.ones(2, 2, 3).bmm(L.ones(3, 3, 2)), RuntimeError, ["bmm", "2", "3"]),
    "reshape": (lambda L: L.ones(2, 3).reshape(4, 2), RuntimeError, ["reshape", "[4, 2]", "6"]),
    "view_infer": (lambda L: L.ones(2, 3).view(-1, 4), RuntimeError, ["[-1, 4]", "6"]),
    "reshape_two_minus_one": (lambda L: L.ones(6).reshape(-1, -1), RuntimeError, ["one dimension"]),
    "cat_shapes": (lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)], 0), RuntimeError, ["cat", "3", "4"]),
    "cat_ndim": (lambda L: L.cat([L.ones(2, 3), L.ones(3)]), RuntimeError, ["cat", "2", "1"]),
    "cat_empty_list": (lambda L: L.cat([]), ValueError, ["cat"]),
    "stack_shapes": (lambda L: L.stack([L.ones(2), L.ones(3)]), RuntimeError, ["stack", "[2]", "[3]"]),
    "expand": (lambda L: L.ones(2, 3).expand(4, 3), RuntimeError, ["expand", "2", "4"]),
    "permute_len": (lambda L: L.ones(2, 3).permute(0, 1, 2), RuntimeError, ["permute"]),
    "split_sizes": (lambda L: L.ones(5).split([2, 2]), RuntimeError, ["split", "5", "[2, 2]"]),
    "repeat_few": (lambda L: L.ones(2, 3).repeat(2), RuntimeError, ["repeat"]),
    "sum_dim_range": (lambda L: L.ones(2, 3).sum(2), IndexError, ["sum", "range", "2"]),
    "mean_dim_range": (lambda L: L.ones(2, 3).mean(-3), IndexError, ["mean", "-3"]),
    "softmax_dim_range": (lambda L: L.ones(2, 3).softmax(5), IndexError, ["softmax", "5"]),
    "max_dim_range": (lambda L: L.ones(2, 3).max(3), IndexError, ["max", "3"]),
    "argmax_dim_range": (lambda L: L.ones(2, 3).argmax(2), IndexError, ["argmax", "2"]),
    "transpose_dim_range": (lambda L: L.ones(2, 3).transpose(0, 2), IndexError, ["transpose", "2"]),
    "unsqueeze_dim_range": (lambda L: L.ones(2, 3).unsqueeze(4), IndexError, ["unsqueeze", "4"]),
    "squeeze_dim_range": (lambda L: L.ones(2, 3).squeeze(2), IndexError, ["squeeze", "2"]),
    "cat_dim_range": (lambda L: L.cat([L.ones(2), L.ones(2)], 1), IndexError, ["cat", "1"]),
    "size_dim_range": (lambda L: L.ones(2, 3).size(2), IndexError, ["2"]),
    "sum_dim_repeated": (lambda L: L.ones(2, 3).sum((0, 0)), RuntimeError, ["sum", "multiple"]),
    "index_out_of_range": (lambda L: L.ones(3)[3], IndexError, ["3", "size 3"]),
    "index_neg_out_of_range": (lambda L: L.ones(2, 3)[:, -4], IndexError, ["-4", "dimension 1", "size 3"]),
    "index_array_out_of_range": (lambda L: L.ones(3)[L.tensor([0, 5])], IndexError, ["5", "size 3"]),
    "too_many_indices": (lambda L: L.ones(3)[0, 0], IndexError, ["too many indices"]),
    "float_index": (lambda L: L.ones(3)[L.tensor([0.0, 1.0])], IndexError, ["long", "float"]),
    "mask_shape": (lambda L: L.ones(3)[L.tensor([True, False])], IndexError, ["mask", "[2]", "[3]"]),
    "float_op_on_bool_neg": (lambda L: -L.tensor([True]), RuntimeError, ["bool"]),
    "bool_sub": (lambda L: L.tensor([True]) - L.tensor([False]), RuntimeError, ["Subtraction", "bool"]),
    "bool_relu": (lambda L: L.tensor([True]).relu(), RuntimeError, ["Bool"]),
    "bool_abs": (lambda L: L.tensor([True]).abs(), RuntimeError, ["Bool"]),
    "mean_int": (lambda L: L.tensor([1, 2]).mean(), RuntimeError, ["mean", "int64"]),
    "var_int": (lambda L: L.tensor([1, 2]).var(), RuntimeError, ["var"]),
    "bitwise_float": (lambda L: L.ones(2) & L.ones(2), RuntimeError, ["and", "floating"]),
    "invert_float": (lambda L: ~L.ones(2), TypeError, ["float"]),
    "int_neg_pow": (lambda L: L.tensor([2, 3]) ** -1, RuntimeError, ["negative"]),
    "where_non_bool": (lambda L: L.where(L.ones(2), L.ones(2), L.ones(2)), RuntimeError, ["where", "bool"]),
    "backward_no_grad": (lambda L: L.ones(2).sum().backward(), RuntimeError, ["does not require grad"]),
    "backward_nonscalar": (lambda L: (L.ones(2, requires_grad=True) * 2).backward(), RuntimeError,
                           ["scalar", "[2]"]),
    "requires_grad_int": (lambda L: L.ones(2, dtype=L.int64).requires_grad_(), RuntimeError, ["floating point"]),
    "inplace_leaf_add": (lambda L: L.ones(2, requires_grad=True).add_(1), RuntimeError, ["add_", "leaf"]),
    "inplace_leaf_mul": (lambda L: L.ones(2, requires_grad=True).mul_(2), RuntimeError, ["mul_", "leaf"]),
    "inplace_leaf_zero": (lambda L: L.ones(2, requires_grad=True).zero_(), RuntimeError, ["zero", "leaf"]),
    "inplace_leaf_fill": (lambda L: L.ones(2, requires_grad=True).fill_(1), RuntimeError, ["fill_", "leaf"]),
    "inplace_leaf_copy": (lambda L: L.ones(2, requires_grad=True).copy_(L.zeros(2)), RuntimeError, ["copy_", "leaf"]),
    "inplace_leaf_uniform": (lambda L: L.ones(2, requires_grad=True).uniform_(), RuntimeError, ["uniform_", "leaf"]),
    "inplace_leaf_normal": (lambda L: L.ones(2, requires_grad=True).normal_(), RuntimeError, ["normal_", "leaf"]),
    "inplace_leaf_clamp": (lambda L: L.ones(2, requires_grad=True).clamp_(0, 1), RuntimeError, ["clamp_", "leaf"]),
    "inplace_leaf_div": (lambda L: L.ones(2, requires_grad=True).div_(2), RuntimeError, ["div_", "leaf"]),
    "inplace_leaf_sub": (lambda L: L.ones(2, requires_grad=True).sub_(2), RuntimeError, ["sub_", "leaf"]),
    "setitem_leaf": (lambda L: L.ones(2, requires_grad=True).__setitem__(0, 1.0), RuntimeError, ["leaf"]),
    "inplace_broadcast_out": (lambda L: L.ones(3).add_(L.ones(2, 3)), RuntimeError, ["[3]", "[2, 3]"]),
    "copy_shape": (lambda L: L.ones(3).copy_(L.ones(4)), RuntimeError, ["copy_", "[4]", "[3]"]),
    "setitem_shape": (lambda L: L.zeros(3).__setitem__(slice(None), L.ones(2)), RuntimeError, ["[2]", "[3]"]),
    "item_many": (lambda L: L.ones(3).item(), RuntimeError, ["3 elements"]),
    "bool_ambiguous": (lambda L: bool(L.ones(3)), RuntimeError, ["ambiguous"]),
    "zeros_negative": (lambda L: L.zeros(2, -1), RuntimeError, ["negative dimension", "-1"]),
    "zeros_float_size": (lambda L: L.zeros(2.5), TypeError, ["zeros", "float"]),
    "tensor_ragged": (lambda L: L.tensor([[1, 2], [3]]), ValueError, ["tensor"]),
    "tensor_strings": (lambda L: L.tensor(["a"]), (TypeError, ValueError), []),
    "randint_bounds": (lambda L: L.randint(5, 2, (3,)), RuntimeError, ["from=5", "to=2"]),
    "arange_sign": (lambda L: L.arange(0, 5, -1), RuntimeError, ["arange"]),
    "arange_zero_step": (lambda L: L.arange(0, 5, 0), RuntimeError, ["step"]),
    "chunk_zero": (lambda L: L.ones(4).chunk(0), RuntimeError, ["chunk", "0"]),
    "flatten_order": (lambda L: L.ones(2, 3, 4).flatten(2, 1), RuntimeError, ["flatten", "start_dim"]),
    "numpy_requires_grad": (lambda L: L.ones(2, requires_grad=True).numpy(), RuntimeError, ["numpy", "detach"]),
    "grad_outputs_shape": (lambda L: (L.ones(2, requires_grad=True) * 2).backward(L.ones(3)), RuntimeError,
                           ["shape", "[3]", "[2]"]),
    "len_0d": (lambda L: len(L.tensor(1.0)), TypeError, ["0-d"]),
    "clamp_none": (lambda L: L.ones(2).clamp(), RuntimeError, ["clamp"]),
    "bool_abs_not_impl": (lambda L: L.tensor([True]).abs(), NotImplementedError, ["abs", "Bool"]),
    "bool_argmax": (lambda L: L.tensor([True, False]).argmax(), RuntimeError, ["argmax", "bool"]),
    "bool_softmax": (lambda L: L.tensor([True, False]).softmax(0), NotImplementedError, ["softmax", "bool"]),
    "int_log_softmax": (lambda L: L.tensor([1, 2]).log_softmax(0), NotImplementedError, ["log_softmax", "int64"]),
    "int_norm": (lambda L: L.tensor([3, 4]).norm(), RuntimeError, ["norm", "int64"]),
    "bool_matmul": (lambda L: L.tensor([True, False]) @ L.tensor([True, True]), NotImplementedError,
                    ["matmul", "bool"]),
    "bool_floordiv": (lambda L: L.tensor([True]) // L.tensor([True]), NotImplementedError, ["floor_divide"]),
    "bool_mod": (lambda L: L.tensor([True]) % L.tensor([True]), NotImplementedError, ["remainder"]),
    "bool_pow_bool": (lambda L: L.tensor([True]) ** L.tensor([True]), NotImplementedError, ["pow", "bool"]),
    "max_empty": (lambda L: L.ones(0).max(), RuntimeError, ["max", "numel() == 0"]),
    "max_empty_dim": (lambda L: L.ones(3, 0).min(1), IndexError, ["min", "dim 1", "non-zero size"]),
    "dim_float": (lambda L: L.ones(2, 3).sum(0.5), TypeError, ["dim"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name):
    fn, exc, parts = CASES[name]
    both_raise(fn, exc, *parts)


def test_grad_of_unrelated_and_non_requiring_inputs():
    both_raise(lambda L: L.autograd.grad((L.ones(2, requires_grad=True) * 2).sum(), [L.ones(2)]),
               RuntimeError, "does not require grad")


def test_inplace_leaf_allowed_under_no_grad_and_on_non_requiring_tensors():
    w = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        w.add_(1).mul_(2).sub_(1).div_(3).clamp_(0, 1).fill_(0.5).zero_()
        w.copy_(cr.ones(2)).uniform_().normal_()
        w[0] = 3.0
    cr.ones(2).add_(1)
    assert w[0].item() == 3.0


def test_error_message_for_index_names_dimension_and_size():
    msg = both_raise(lambda L: L.ones(4, 2)[1, 2], IndexError, "index 2", "dimension 1", "size 2")
    assert "is out of bounds" in msg


def _assign_grad(value):
    """``lib -> (p.grad = value(lib))`` for a float32 leaf p of shape (2, 3)."""
    def fn(lib):
        p = lib.zeros(2, 3, requires_grad=True)
        p.grad = value(lib)
    return fn


@pytest.mark.parametrize("value, exc, words", [
    (lambda L: 0.0, TypeError, ["Tensor or None", "float"]),              # the tutorial's `a.grad = 0.`
    (lambda L: [[0.0] * 3] * 2, TypeError, ["Tensor or None", "list"]),
    (lambda L: L.zeros(3, 2), RuntimeError, ["size", "[3, 2]", "[2, 3]"]),
    (lambda L: L.zeros(6), RuntimeError, ["size", "[6]", "[2, 3]"]),
    (lambda L: L.zeros(2, 3, dtype=L.float64), RuntimeError, ["dtype", "float64", "float32"]),
])
def test_assigned_grad_is_checked_like_torch(value, exc, words):
    both_raise(_assign_grad(value), exc, *words)


def test_assigned_grad_that_fits_is_used_by_backward_and_the_optimizer():
    got = []
    for lib in (torch, cr):
        p = lib.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError):
            p.grad = p  # its own grad
        p.grad = lib.full((2, 3), 0.5)
        (p * 2).sum().backward()  # accumulates onto the assigned gradient
        lib.optim.SGD([p], lr=0.1).step()
        p.grad = None
        got.append((p.detach().numpy().copy(), p.grad))
    assert (got[0][0] == got[1][0]).all() and got[1][1] is None
