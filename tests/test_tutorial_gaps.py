"""Gaps pytorch/tutorials' intermediate custom-function and recipe scripts hit, each against torch: autograd.grad
runs only what leads to its inputs, a custom Function's saved outputs carry the graph (second derivatives),
extra trailing None gradients, once_differentiable, gradcheck's keyword options, named_parameters'
remove_duplicate, load_state_dict(assign=True), cuda memory queries without CUDA, load(mmap=...)."""
import importlib

import numpy as np
import pytest
import torch

import chainrule as cr

LIBS = (torch, cr)


def test_grad_wrt_a_non_leaf_leaves_the_graph_above_it():
    got = []
    for lib in LIBS:
        a = lib.tensor(1.0, requires_grad=True)
        x = a * 2
        y = x.exp()
        first = lib.autograd.grad(y, x)[0].item()
        second = lib.autograd.grad(x.exp(), x)[0].item()
        x.backward(retain_graph=True)  # the graph above x is still there
        both = [g.item() for g in lib.autograd.grad((x * x).sum(), [x, a])]
        got.append((first, second, both, a.grad.item()))
    assert got[1] == pytest.approx(got[0])


def _exp_function(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = lib.exp(x)
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            r, = ctx.saved_tensors
            return r * g, None, None  # trailing Nones beyond the inputs: accepted
    return Exp


def test_saved_output_gives_a_second_derivative():
    got = []
    for lib in LIBS:
        exp = _exp_function(lib)
        x = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
        gx, = lib.autograd.grad(exp.apply(x), x, create_graph=True)
        assert gx.requires_grad
        got.append(lib.autograd.grad(gx, x)[0].item())
        assert lib.autograd.gradgradcheck(exp.apply, (x,))
        x_clone = x.clone()  # a non-leaf input, checked twice (the tutorial's order)
        assert lib.autograd.gradcheck(exp.apply, x_clone) and lib.autograd.gradgradcheck(exp.apply, x_clone)
    assert got[1] == pytest.approx(got[0]) == pytest.approx(np.exp(0.5))


def test_multi_output_function_saved_outputs_are_the_returned_ones():
    class SinCos(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            s, c = x.sin(), x.cos()
            ctx.save_for_backward(s, c)
            return s, c

        @staticmethod
        def backward(ctx, gs, gc):
            s, c = ctx.saved_tensors
            return gs * c - gc * s
    x = cr.tensor([0.3, 1.1], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda t: SinCos.apply(t), (x,))


def test_once_differentiable_like_torch():
    outcomes = []
    for lib in LIBS:
        once = importlib.import_module(lib.__name__ + ".autograd.function").once_differentiable

        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @once
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g
        x = lib.tensor([3.0], requires_grad=True)
        Square.apply(x).sum().backward()
        v = lib.ones(1, requires_grad=True)
        gx, = lib.autograd.grad(Square.apply(x), x, grad_outputs=v, create_graph=True)
        with pytest.raises(RuntimeError, match="once_differentiable"):
            gx.sum().backward()
        outcomes.append((x.grad.item(), gx.item()))
    assert outcomes[1] == outcomes[0]


def test_gradcheck_takes_torchs_options():
    for lib in LIBS:
        x = lib.tensor([0.2, 0.7], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lib.sin, (x,), fast_mode=False, check_undefined_grad=False,
                                      check_batched_grad=False, nondet_tol=0.0)
        assert lib.autograd.gradgradcheck(lib.sin, (x,), fast_mode=True, check_batched_grad=False)
        with pytest.raises(TypeError):
            lib.autograd.gradcheck(lib.sin, (x,), no_such_option=1)
    x = cr.tensor([0.2], dtype=cr.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        cr.autograd.gradcheck(cr.sin, (x,), check_forward_ad=True)


def test_named_parameters_remove_duplicate_like_torch():
    names = []
    for lib in LIBS:
        m = lib.nn.Linear(2, 2)
        m.alias = m.weight
        s = lib.nn.Sequential(m, m)
        names.append(([n for n, _ in s.named_parameters(remove_duplicate=False)],
                      [n for n, _ in s.named_parameters()],
                      [n for n, _ in lib.nn.BatchNorm1d(2).named_buffers(remove_duplicate=False)]))
    assert names[1] == names[0]


def test_load_state_dict_assign_like_torch():
    got = []
    for lib in LIBS:
        m, src = lib.nn.Linear(3, 2), lib.nn.Linear(3, 2)
        src.weight.requires_grad_(False)
        sd = src.state_dict()
        assert repr(m.load_state_dict(sd, assign=True)) == "<All keys matched successfully>"
        assert type(m.weight).__name__ == "Parameter" and m.weight.requires_grad  # the module's flag kept
        assert m.weight.data_ptr() == sd["weight"].data_ptr() and m.weight in list(m.parameters())
        bn = lib.nn.BatchNorm1d(2)
        stats = lib.nn.BatchNorm1d(2).state_dict()
        bn.load_state_dict(stats, assign=True)
        assert bn.running_mean.data_ptr() == stats["running_mean"].data_ptr()
        with pytest.raises(RuntimeError, match="size mismatch"):
            lib.nn.Linear(3, 2).load_state_dict(lib.nn.Linear(4, 2).state_dict(), assign=True)
        got.append(m(lib.ones(1, 3)).detach().numpy() - src(lib.ones(1, 3)).detach().numpy())
    assert not got[0].any() and not got[1].any()


def test_cuda_memory_queries_like_torch():
    if cr.cuda.is_available():  # CuPy's pool: in use <= held; no peak kept
        assert 0 <= cr.cuda.memory_allocated() <= cr.cuda.memory_reserved()
        with pytest.raises(NotImplementedError):
            cr.cuda.max_memory_allocated()
    else:  # 0 without CUDA, as torch's CPU build
        for name in ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved"):
            assert getattr(cr.cuda, name)() == getattr(torch.cuda, name)() == 0
    assert cr.cuda.empty_cache() is None


def test_load_accepts_mmap(tmp_path):
    path = str(tmp_path / "m.pt")
    m = cr.nn.Linear(2, 2)
    cr.save(m.state_dict(), path)
    loaded = cr.load(path, mmap=True, weights_only=True)
    assert np.array_equal(loaded["weight"].numpy(), m.weight.detach().numpy())


def test_device_as_a_context_manager_sets_the_default_for_factories():
    for lib in LIBS:
        before = lib.get_default_device()
        with lib.device("cpu") as dev:
            assert str(lib.nn.Linear(2, 3).weight.device) == str(lib.zeros(1).device) == str(dev) == "cpu"
            with lib.device("cpu"):
                assert str(lib.get_default_device()) == "cpu"
        assert lib.get_default_device() == before
    if not cr.cuda.is_available():
        with cr.device("cuda"):
            with pytest.raises(RuntimeError, match="CUDA"):
                cr.zeros(1)
        assert str(cr.zeros(1).device) == "cpu"
