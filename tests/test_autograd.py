"""The autograd engine: accumulation, retain_graph, create_graph, grad mode, hooks, autograd.grad,
custom Functions, gradcheck and deep graphs, compared with torch where torch has an answer."""
import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import assert_close

# torch warns about reading .grad of non-leaves and backward(create_graph=True); both are intended here
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def pair(values, dtype="float64"):
    a = np.asarray(values, dtype=dtype)
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def test_branch_accumulation():
    x, tx = pair([1.0, -2.0, 3.0])
    for t in (x, tx):
        a = t * 2
        b = a.exp() + a * a + a.sin()   # a feeds three consumers
        (b * t).sum().backward()        # t itself feeds two
    assert_close(x.grad, tx.grad)


def test_accumulation_across_backward_calls():
    x, tx = pair([0.5, 1.5])
    for t in (x, tx):
        (t * t).sum().backward()
        (t ** 3).sum().backward()
    assert_close(x.grad, tx.grad)
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_grad_is_owned_not_aliased():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    assert x.grad is not y.grad and not np.shares_memory(x.grad._data, y.grad._data)
    x.grad.data += 1
    assert y.grad.tolist() == [1.0, 1.0]
    s = cr.tensor(2.0, requires_grad=True)
    (s * cr.ones(3)).sum().backward()
    s2 = cr.tensor([1.0], requires_grad=True)
    s2.expand(4).sum().backward()
    s2.expand(4).sum().backward()  # accumulating into a grad that came from a broadcast
    assert s.grad.item() == 3.0 and s2.grad.tolist() == [8.0]


def test_retain_graph_allows_second_backward():
    x, tx = pair([1.0, 2.0])
    for t in (x, tx):
        y = (t.exp() * t).sum()
        y.backward(retain_graph=True)
        y.backward()
    assert_close(x.grad, tx.grad)


def test_second_backward_through_freed_graph_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = (tx.exp() * tx).sum()
    ty.backward()
    with pytest.raises(RuntimeError):
        ty.backward()


def test_nonscalar_root_needs_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError):
        (torch.tensor([1.0, 2.0], requires_grad=True) * 2).backward()
    (x * 2).backward(cr.tensor([1.0, -1.0]))
    assert x.grad.tolist() == [2.0, -2.0]
    x.grad = None
    (x * 2).backward(gradient=[0.5, 0.5])
    assert x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(cr.tensor([1.0, 2.0, 3.0]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor(1.0).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        (cr.tensor([1.0]) * 2).sum().backward()
    with pytest.raises(RuntimeError):
        torch.tensor(1.0).backward()


def test_create_graph_second_derivative():
    x, tx = pair([0.3, -1.2, 2.0])
    gs = []
    for lib, t in ((cr, x), (torch, tx)):
        y = (t.sin() * t ** 3).sum()
        (g,) = lib.autograd.grad(y, t, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), t)
        gs.append((g, gg))
    assert_close(gs[0][0], gs[1][0])
    assert_close(gs[0][1], gs[1][1])


def test_create_graph_backward_then_grad_of_grad():
    x, tx = pair([1.5, 0.5])
    for t in (x, tx):
        y = (t.tanh() * t.exp()).sum()
        y.backward(create_graph=True)
        assert t.grad.requires_grad
        g = t.grad
        t.grad = None
        (g * g).sum().backward()
    assert_close(x.grad, tx.grad)


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal((4, 4)), rng.standard_normal(4)
    x, tx = pair(rng.standard_normal(4))
    res = []
    for lib, t in ((cr, x), (torch, tx)):
        A, V = lib.tensor(a), lib.tensor(v)
        f = ((A @ t).tanh() ** 2).sum() + (t.exp() * t).sum() + t.softmax(0).max()
        (g,) = lib.autograd.grad(f, t, create_graph=True)
        (hv,) = lib.autograd.grad((g * V).sum(), t)
        res.append(hv)
    assert_close(res[0], res[1])


@pytest.mark.parametrize("fn", [
    lambda t: (t / (t * t + 1)).sum(), lambda t: (t.log_softmax(0) * t).sum(), lambda t: t.var() * t.std(),
    lambda t: (t.reshape(2, 2).T @ t.reshape(2, 2)).logsumexp(1).sum(), lambda t: t.prod() + t.max(),
    lambda t: (t.sigmoid() * t.sqrt() + t.cos()).mean(), lambda t: (t.abs() ** 1.5).sum(),
    lambda t: (t.clamp(0.4, 1.8) * t).sum(), lambda t: (2.0 ** t).sum() + t.repeat(2).sum() ** 2,
    lambda t: torch.where(t > 1, t * t, t) .sum() if isinstance(t, torch.Tensor) else cr.where(t > 1, t * t, t).sum(),
    lambda t: (t.amax() * t.amin()) + (t[[0, 0, 3]] ** 2).sum(),
    lambda t: (torch if isinstance(t, torch.Tensor) else cr).cat([t, t * t]).pow(2).sum(),
    lambda t: (torch if isinstance(t, torch.Tensor) else cr).maximum(t, t.flip(0) if isinstance(t, torch.Tensor)
                                                                       else t[[3, 2, 1, 0]]).pow(3).sum(),
], ids=range(13))
def test_second_derivatives_match_torch(fn):
    x, tx = pair([0.7, 1.3, 0.4, 1.9])
    H = []
    for lib, t in ((cr, x), (torch, tx)):
        (g,) = lib.autograd.grad(fn(t), t, create_graph=True)
        rows = [lib.autograd.grad(g[i], t, retain_graph=True, allow_unused=True)[0] for i in range(4)]
        H.append([r if r is not None else lib.zeros(4, dtype=lib.float64) for r in rows])
        H[-1].insert(0, g)
    for c, t in zip(*H):
        assert_close(c, t)


def test_no_grad_and_enable_grad_context_and_decorator():
    x = cr.tensor([1.0], requires_grad=True)
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            z = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad

    @cr.no_grad()
    def f(t):
        assert not cr.is_grad_enabled()
        return t * 3

    @cr.enable_grad()
    def g(t):
        return t * 3

    assert not f(x).requires_grad and cr.is_grad_enabled()
    with cr.no_grad():
        assert g(x).requires_grad
    with cr.set_grad_enabled(False):
        assert not (x * 1).requires_grad
    assert cr.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with cr.no_grad():
            raise ValueError("boom")
    assert cr.is_grad_enabled()


def test_hooks_on_leaf_and_nonleaf_modify_grad():
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: g * 10)
        y = x * x
        y.register_hook(lambda g: seen.append(g.tolist()))
        y.register_hook(lambda g: g + 1)
        y.sum().backward()
        assert seen == [[1.0, 1.0]]
        assert x.grad.tolist() == [40.0, 80.0]


def test_hook_handle_remove_and_requires_grad():
    x = cr.tensor([1.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 0)
    h.remove()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0]
    with pytest.raises(RuntimeError):
        cr.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad():
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        z = y * y
        z.sum().backward()
        assert y.grad.tolist() == [6.0, 12.0]
        assert y.retains_grad
        w = x * 3
        (w * 2).sum().backward()
        assert w.grad is None


def test_retain_grad_sees_hook_modified_grad():
    for lib in (cr, torch):
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 5)
        y.sum().backward()
        assert y.grad.tolist() == [5.0] and x.grad.tolist() == [10.0]


def test_autograd_grad_allow_unused_and_nonleaf_inputs():
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        u = lib.tensor([5.0], requires_grad=True)
        h = x * x
        y = (h * 3).sum()
        gh, gx, gu = lib.autograd.grad(y, [h, x, u], allow_unused=True)
        assert gh.tolist() == [3.0, 3.0] and gx.tolist() == [6.0, 12.0] and gu is None
        assert x.grad is None and h.grad is None
        with pytest.raises(RuntimeError):
            lib.autograd.grad((x * 2).sum(), [x, u])
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.autograd.grad((x * 2).sum(), [x, cr.tensor([1.0], requires_grad=True)])


def test_autograd_grad_outputs_list_and_grad_outputs():
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = x * 2, x ** 2
        (g,) = lib.autograd.grad([a, b], [x], grad_outputs=[lib.tensor([1.0, 0.0]), lib.tensor([1.0, 1.0])])
        assert g.tolist() == [4.0, 4.0]
        y = x.exp().sum()
        lib.autograd.grad(y, x, retain_graph=True)
        lib.autograd.grad(y, x)
        with pytest.raises(RuntimeError):
            lib.autograd.grad(y, x)


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x ** 3 * k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.k, None


class MulAdd(cr.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b)
        ctx.flags = ctx.needs_input_grad
        return a * b + c

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb, g if ctx.needs_input_grad[2] else None


def test_custom_function():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.tolist() == [2.0, 16.0] and y.requires_grad and "Cube" in y.grad_fn.name()
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    assert cr.autograd.gradcheck(lambda t: Cube.apply(t, 1.5), [cr.tensor([0.3, -0.7], dtype=cr.float64,
                                                                         requires_grad=True)])
    with cr.no_grad():
        assert not Cube.apply(x, 1.0).requires_grad


def test_custom_function_needs_input_grad():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0])
    c = cr.tensor([0.5, 0.5], requires_grad=True)
    out = MulAdd.apply(a, b, c)
    assert out.grad_fn is not None
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 4.0] and b.grad is None and c.grad.tolist() == [1.0, 1.0]
    assert cr.autograd.gradcheck(MulAdd.apply, [cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True),
                                                cr.tensor([3.0, 4.0], dtype=cr.float64, requires_grad=True),
                                                cr.tensor([0.1, 0.2], dtype=cr.float64)])


def test_custom_function_inside_graph_and_double_backward():
    x, tx = pair([0.5, -1.5])
    # chainrule Cube.backward is written with tensor ops, so it is differentiable again
    y = Cube.apply(x.sin(), 1.0).sum()
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x)
    ty = (tx.sin() ** 3).sum()
    (tg,) = torch.autograd.grad(ty, tx, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), tx)
    assert_close(g, tg)
    assert_close(gg, tgg)


def test_custom_function_wrong_number_of_grads():
    class Bad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x).sum().backward()


def test_gradcheck_true_and_failure_message():
    x = cr.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: (t.exp() * t).sum(1), [x]) is True

    class WrongSin(cr.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t.sin()

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * t.cos() * 1.5

    y = cr.tensor([0.1, 0.2], dtype=cr.float64, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        cr.autograd.gradcheck(lambda a, b: WrongSin.apply(b) + a, [cr.tensor([0.0, 0.0], dtype=cr.float64), y])
    msg = str(info.value)
    expected_worst = 1.5 * np.cos(0.1)
    assert "input 1" in msg and "numerical" in msg and "analytical" in msg
    assert f"{np.cos(0.1):.6f}"[:7] in msg and f"{expected_worst:.6f}"[:7] in msg
    assert cr.autograd.gradcheck(lambda b: WrongSin.apply(b), [y], raise_exception=False) is False


def test_deep_graph_no_recursion_limit():
    x = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 5000)
    z = x
    for _ in range(5000):
        z = z.sin()
    (g,) = cr.autograd.grad(z, x, create_graph=True)
    assert g.requires_grad


def test_detached_and_no_grad_parts_get_no_gradient():
    x, tx = pair([1.0, 2.0])
    for t in (x, tx):
        (t.detach() * t + (t * 2).detach()).sum().backward()
    assert_close(x.grad, tx.grad)


def test_integer_and_nonrequiring_inputs_in_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    k = cr.tensor([3, 4])
    (x * k).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0] and k.grad is None


def test_gradient_dtype_follows_input():
    x = cr.tensor([1.0, 2.0], dtype=cr.float32, requires_grad=True)
    (x * cr.tensor([1.0, 1.0], dtype=cr.float64)).sum().backward()
    assert x.grad.dtype == cr.float32
    x64 = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    (x64 * cr.ones(3)).sum().backward()
    assert x64.grad.dtype == cr.float64


def test_leaf_hook_applies_to_autograd_grad():
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 2)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        assert g.tolist() == [4.0, 8.0] and x.grad is None


def test_grad_mode_decorators_without_parentheses_and_set_grad_enabled():
    x = cr.ones(1, requires_grad=True)

    @cr.no_grad
    def f(t):
        return t * 2

    @cr.enable_grad
    def g(t):
        return t * 2

    @cr.set_grad_enabled(False)
    def h(t):
        return t * 2

    assert not f(x).requires_grad and not h(x).requires_grad and cr.is_grad_enabled()
    with cr.no_grad():
        assert g(x).requires_grad
    cr.set_grad_enabled(False)
    try:
        assert not cr.is_grad_enabled()
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()


def _lib(t):
    return cr if isinstance(t, cr.Tensor) else torch


DOUBLE_BACKWARD = {
    "exp_log": lambda t: (t.exp() + (t * t + 1).log()).sum(),
    "sqrt_rsqrt": lambda t: ((t * t + 1).sqrt() * (t * t + 2).rsqrt()).sum(),
    "trig": lambda t: (t.sin() * t.cos() + t.tanh() ** 2).sum(),
    "sigmoid_relu": lambda t: (t.sigmoid() * t.relu() * t).sum(),
    "div_pow_tensor": lambda t: (t / (t.abs() + 1) + (t * t + 1) ** t).sum(),
    "reciprocal_square": lambda t: ((t * t + 1).reciprocal() + t.square() * t).sum(),
    "matmul_batched": lambda t: (t.reshape(2, 2, 3) @ t.reshape(2, 3, 2)).tanh().sum(),
    "matmul_vec": lambda t: (t.reshape(3, 4)[:, :3] @ t[:3]).sin().sum(),
    "softmax": lambda t: (t.reshape(3, 4).softmax(1) * t.reshape(3, 4)).sum(),
    "log_softmax": lambda t: (t.reshape(3, 4).log_softmax(0) ** 2).sum(),
    "logsumexp": lambda t: t.reshape(3, 4).logsumexp(1).exp().sum(),
    "var_std": lambda t: t.reshape(3, 4).var(1).sum() * t.std(),
    "mean_keepdim": lambda t: ((t.reshape(3, 4) - t.reshape(3, 4).mean(1, keepdim=True)) ** 3).sum(),
    "prod": lambda t: t.reshape(3, 4).prod(1).sum() + t[:3].prod(),
    "amax_max_dim": lambda t: (t.reshape(3, 4).amax(1) ** 2).sum() + (t.reshape(3, 4).max(0).values ** 3).sum(),
    "index_repeat": lambda t: (t[[0, 0, 5, 11]] ** 3).sum() + (t.reshape(3, 4)[1:, ::2] ** 2).sum(),
    "mask": lambda t: (t[t > 0] ** 3).sum(),
    "shape_ops": lambda t: (t.reshape(3, 4).T.unsqueeze(0).expand(2, 4, 3).permute(2, 0, 1).flatten() ** 3).sum(),
    "repeat_cat_split": lambda t: (_lib(t).cat([t.repeat(2), t.split(5)[1]]) ** 3).sum(),
    "stack_chunk": lambda t: (_lib(t).stack(t.chunk(3)) ** 3).sum(),
    "where_clamp": lambda t: (_lib(t).where(t > 0, t ** 3, -t) + t.clamp(-0.5, 0.5) * t).sum(),
    "max_min_pair": lambda t: (_lib(t).maximum(t, t * 0.5) * _lib(t).minimum(t, t ** 2)).sum(),
    "abs_neg_sub": lambda t: ((1 - t).abs() * (-t) - t * 2).pow(2).sum(),
    "cast": lambda t: (t.float().double() ** 3).sum(),
}


@pytest.mark.parametrize("name", sorted(DOUBLE_BACKWARD))
def test_hessian_vector_products_match_torch(name):
    fn = DOUBLE_BACKWARD[name]
    rng = np.random.default_rng(3)
    x0, v = rng.standard_normal(12), rng.standard_normal(12)
    x0[7] = 0.0  # a zero for prod's special case
    out = []
    for lib in (cr, torch):
        x = lib.tensor(x0, requires_grad=True)
        (g,) = lib.autograd.grad(fn(x), x, create_graph=True)
        (hv,) = lib.autograd.grad((g * lib.tensor(v)).sum(), x)
        out.append((g, hv))
    assert_close(out[0][0], out[1][0], what="gradient")
    assert_close(out[0][1], out[1][1], what="Hessian-vector product")


def test_gradcheck_on_non_contiguous_inputs():
    base = np.arange(6.0).reshape(2, 3)
    for x in (cr.tensor(base.T.copy(order="K"), requires_grad=True), cr.from_numpy(base.T).requires_grad_()):
        assert cr.autograd.gradcheck(lambda t: (t.exp() * t)[1:], [x])


def test_custom_function_broadcast_and_invalid_gradient_shapes():
    class Broadcasting(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return cr.ones(4, 1) * 2  # broadcast form of the input's shape: summed back

    class WrongShape(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return cr.ones(3)

    x = cr.ones(1, requires_grad=True)
    Broadcasting.apply(x).sum().backward()
    assert x.grad.tolist() == [8.0]
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward returned an invalid gradient .*\[3\].*\[2\]"):
        WrongShape.apply(cr.ones(2, requires_grad=True)).sum().backward()


def test_hook_changing_gradient_shape_raises():
    for lib in (cr, torch):
        x = lib.ones(2, requires_grad=True)
        x.register_hook(lambda g: lib.ones(3))
        with pytest.raises(RuntimeError, match="size"):
            (x * 2).sum().backward()
        y = lib.ones(2, requires_grad=True) * 2
        y.register_hook(lambda g: lib.ones(2, 2))
        with pytest.raises(RuntimeError, match="size"):
            y.sum().backward()


# ---- in-place writes to values saved for backward (torch's version counters) ----------------

_MODIFIED = "modified by an inplace operation"


def _saved_then_written(lib, case):
    """Record a graph, write (under no_grad) into something its backward needs, return the root."""
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = lib.tensor([[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    if case == "input":
        s = x[0].clone()
        y = (w * s).sum()
        with lib.no_grad():
            s.mul_(2)
    elif case == "view of the saved input's base":
        y = (w * x[1]).sum()  # x[1] is a view of x
        with lib.no_grad():
            x.add_(1)
    elif case == "output":
        e = w.exp()
        y = e.sum()  # exp's backward reads its output
        with lib.no_grad():
            e.fill_(0)
    elif case == "setitem":
        s = x[0].clone()
        y = (w * s).sum()
        with lib.no_grad():
            s[1] = 0.0
    return y


@pytest.mark.parametrize("case", ["input", "view of the saved input's base", "output", "setitem"])
def test_backward_after_saved_value_written_in_place_raises_like_torch(case):
    for lib in (cr, torch):
        y = _saved_then_written(lib, case)
        with pytest.raises(RuntimeError, match=_MODIFIED):
            y.backward()


def test_optimizer_step_between_forward_and_backward_raises_like_torch():
    for lib in (cr, torch):
        lin = lib.nn.Linear(3, 2)
        opt = lib.optim.SGD(lin.parameters(), lr=0.1)
        x = lib.ones(4, 3, requires_grad=True)  # dx needs the weight: the graph saves it
        loss = lin(x).pow(2).sum()
        loss.backward(retain_graph=True)
        opt.step()  # writes that weight
        with pytest.raises(RuntimeError, match=_MODIFIED):
            loss.backward()
        # with an input that needs no gradient the weight is not needed: no error, as in torch
        loss = lin(lib.ones(4, 3)).pow(2).sum()
        loss.backward(retain_graph=True)
        opt.step()
        loss.backward()


def test_in_place_writes_that_backward_does_not_need_are_fine():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0, 6.0])
    unrelated = cr.zeros(3)
    y = (w + x).sum()  # add saves neither input
    z = (w * x).sum()
    with cr.no_grad():
        x.mul_(2)
        unrelated.fill_(1.0)
    y.backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]
    z2 = (w * x).sum()  # recorded after the write: sees the new x
    z2.backward()
    assert w.grad.tolist() == [9.0, 11.0, 13.0]
    # a training loop writes only after backward: never flagged
    lin = cr.nn.Linear(3, 1)
    opt = cr.optim.SGD(lin.parameters(), lr=0.01, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        lin(cr.ones(2, 3)).sum().backward()
        opt.step()
    with pytest.raises(RuntimeError, match=_MODIFIED):
        z.backward()  # z's graph saved the old x


# ---- custom Functions with several outputs -------------------------------------------------

def _split_fn(lib):
    class SplitScale(lib.autograd.Function):
        """(2x, 3x^2, argmax index): two differentiable outputs and an integer one."""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x * x * 3, x.argmax()

        @staticmethod
        def backward(ctx, ga, gb, gi):
            (x,) = ctx.saved_tensors
            return ga * 2 + gb * 6 * x
    return SplitScale


@pytest.mark.parametrize("use", ["both", "first only", "second twice"])
def test_multi_output_function_matches_torch(use):
    x0 = np.array([0.5, -1.5, 2.0])
    grads = []
    for lib in (cr, torch):
        x = lib.tensor(x0, requires_grad=True)
        a, b, i = _split_fn(lib).apply(x)
        assert not i.requires_grad and int(i) == 2
        if use == "both":
            loss = (a * b).sum()
        elif use == "first only":  # the unused output's gradient is materialised as zeros
            loss = a.sum()
        else:
            loss = b.sum() + (b * a).sum()
        loss.backward()
        grads.append(x.grad)
    assert_close(*grads)


def test_multi_output_function_second_derivatives_and_explain():
    x0 = np.array([0.5, -1.5, 2.0])
    results = []
    for lib in (cr, torch):
        x = lib.tensor(x0, requires_grad=True)
        a, b, _ = _split_fn(lib).apply(x)
        (g,) = lib.autograd.grad((a * b).sum(), [x], create_graph=True)
        g.sum().backward()
        results.append((g, x.grad))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])
    x = cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
    a, b, _ = _split_fn(cr).apply(x)
    steps = cr.viz.explain(a * b, names={"x": x})
    assert float(steps.leaf_grads["x"]) == pytest.approx(18 * 1.5 ** 2)  # d(2x 3x^2)/dx = 18 x^2
    assert "SplitScale" in str(steps)


def test_data_is_a_tensor_sharing_memory_without_history():
    """torch's .data: a Tensor with no history sharing the memory; writes through it change the
    parameter and autograd does not see them; assigning .data swaps the memory."""
    import torch
    rng = np.random.default_rng(0)
    w0, g0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    results = []
    for L in (cr, torch):
        w = L.tensor(w0, requires_grad=True)
        (w * L.tensor(g0)).sum().backward()
        d = w.data
        assert type(d) is L.Tensor and not d.requires_grad and d.grad_fn is None
        w.data.add_(w.grad, alpha=-0.1)           # the classic manual SGD step
        w.data -= 0.1 * w.grad.data
        w.data.mul_(2)
        y = (w * 3).sum()
        y.backward()                               # no version error: .data writes are invisible
        results.append((w.detach().numpy().copy(), w.grad.numpy().copy()))
        w.data = L.zeros(2, dtype=L.float64)       # swapping the memory (shape may change)
        assert tuple(w.shape) == (2,) and w.requires_grad
        with pytest.raises(TypeError):
            w.data = np.zeros(2)
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-7)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-7)


@pytest.mark.parametrize("expr", [lambda b: 2 * b, lambda b: 1 + b, lambda b: b * 2, lambda b: 3.5 + b])
def test_scalar_on_the_left_of_add_and_mul_lists_the_tensor_first_like_torch(expr):
    names = []
    for lib in (torch, cr):
        b = lib.ones(3, requires_grad=True).sin()
        nf = expr(b).grad_fn.next_functions
        names.append([fn.name() if fn is not None else None for fn, _ in nf])
    assert names[1] == names[0]


def test_leaves_appear_as_accumulate_grad_in_next_functions_like_torch():
    seen = []
    for lib in (torch, cr):
        a = lib.ones(3, requires_grad=True)
        nf = (a.sin() * lib.ones(3)).grad_fn.next_functions
        acc = nf[0][0].next_functions[0][0]
        assert acc.variable is a and acc.next_functions == ()
        assert (a * 2).grad_fn.next_functions[0][0] is acc  # one per leaf
        seen.append((type(acc).__name__, acc.name(), nf[1][0]))
    assert seen[1] == seen[0]


@pytest.mark.parametrize("key", [0, -1, (slice(None), 3), (slice(1, 3), 0), (0, slice(1, 3)), None, (0, None),
                                 slice(None), Ellipsis, (Ellipsis, 0), (slice(None), slice(None)), [0, 1],
                                 (slice(0, 2), Ellipsis, None), (slice(None, None, 2),)])
def test_indexing_grad_fn_names_like_torch(key):
    names = []
    for lib in (torch, cr):
        x = lib.ones(3, 4, requires_grad=True) * 1
        names.append(x[key].grad_fn.name())
    assert names[1] == names[0]


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_grad_fn_name_like_torch(padding_idx):
    names = [lib.nn.Embedding(4, 3, padding_idx=padding_idx)(lib.tensor([[0, 2]])).grad_fn.name()
             for lib in (torch, cr)]
    assert names[1] == names[0] == "EmbeddingBackward0"


def _walk(fn, depth=0):
    """grad_fn's name and its next_functions' walks, to depth 4."""
    if fn is None or depth > 4:
        return None
    return fn.name(), [_walk(p, depth + 1) for p, _ in fn.next_functions]


@pytest.mark.parametrize("shape", [(2, 4), (5, 2, 4)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("module", [True, False, "constant input"])
def test_linear_shows_torchs_graph_in_next_functions(shape, bias, module):
    """linear as torch's graph shows it (the neural-networks tutorial walks it): AddmmBackward0 over (bias, input,
    TBackward0(weight)), MmBackward0 without a bias, under (Unsafe)ViewBackward0 for 3-d inputs."""
    shown = []
    for lib in (torch, cr):
        lin = lib.nn.Linear(4, 3, bias=bias)
        x = lib.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape), dtype=lib.float32, requires_grad=True)
        if module == "constant input":
            out = lin(x.detach())
        else:
            out = lin(x.relu()) if module else lib.nn.functional.linear(x, lin.weight.detach(), lin.bias)
        shown.append(_walk(out.grad_fn))
    assert shown[1] == shown[0]


@pytest.mark.parametrize("loss", ["mse", "mse_none", "smooth_l1", "huber", "bce", "bce_weight", "bce_logits",
                                  "bce_logits_pos_weight", "cross_entropy", "cross_entropy_none", "nll",
                                  "mse_target_requires_grad"])
def test_fused_losses_show_torchs_graph_in_next_functions(loss):
    """A loss torch runs as one kernel shows its inputs in next_functions (cross_entropy: NllLoss over
    LogSoftmax), not the ops chainrule composes it of: what the tutorials print walking grad_fn."""
    shown = []
    for lib in (torch, cr):
        F = lib.nn.functional
        z = lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True) * 2
        t, w, cls = lib.tensor(np.full((4, 3), 0.25)), lib.tensor([0.5, 1.0, 2.0]), lib.tensor([0, 1, 2, 0])
        out = {"mse": lambda: F.mse_loss(z, t), "mse_none": lambda: F.mse_loss(z, t, reduction="none"),
               "smooth_l1": lambda: F.smooth_l1_loss(z, t), "huber": lambda: F.huber_loss(z, t),
               "bce": lambda: F.binary_cross_entropy(z.sigmoid(), t),
               "bce_weight": lambda: F.binary_cross_entropy(z.sigmoid(), t, weight=w),
               "bce_logits": lambda: F.binary_cross_entropy_with_logits(z, t),
               "bce_logits_pos_weight": lambda: F.binary_cross_entropy_with_logits(z, t, pos_weight=w),
               "cross_entropy": lambda: F.cross_entropy(z, cls),
               "cross_entropy_none": lambda: F.cross_entropy(z, cls, reduction="none"),
               "nll": lambda: F.nll_loss(z, cls),
               "mse_target_requires_grad": lambda: F.mse_loss(z, t.clone().requires_grad_())}[loss]()
        shown.append(_walk(out.grad_fn))
    assert shown[1] == shown[0]
