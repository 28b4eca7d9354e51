"""Anomaly mode (a NaN/Inf produced by a forward op or a backward rule raises at once, naming the op
and the user's source line) and gradcheck/gradgradcheck of Modules."""
import numpy as np
import pytest
import torch

import chainrule as cr


def test_forward_nonfinite_raises_naming_op_index_and_line():
    x = cr.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with cr.autograd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError) as info:
            (x * 2).log()  # the line the message must name
    msg = str(info.value)
    assert "Log" in msg and "float32[3]" in msg and "index [1]" in msg and "-inf" in msg
    assert "test_anomaly.py" in msg and "(x * 2).log()" in msg


def test_nonfinite_from_the_data_is_not_blamed_on_an_op():
    x = cr.tensor([1.0, float("nan")])
    with cr.autograd.detect_anomaly():
        y = x * 2 + 1  # propagates the data's NaN: no op produced it
    assert np.isnan(y.numpy()[1])


def test_backward_rule_nonfinite_raises_naming_function_and_forward_line():
    x = cr.tensor([4.0, 0.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = x.sqrt()  # sqrt's gradient at 0 is inf
        with pytest.raises(RuntimeError) as info, np.errstate(divide="ignore"):
            y.sum().backward()
    msg = str(info.value)
    assert "SqrtBackward" in msg and "index [1]" in msg and "y = x.sqrt()" in msg
    # torch's anomaly mode also stops there (it checks NaN; 0 * inf makes one in the next rule)
    xt = torch.tensor([4.0, 0.0], requires_grad=True)
    with torch.autograd.detect_anomaly(check_nan=True), pytest.raises(RuntimeError):
        (xt.sqrt() * 0).sum().backward()


def test_off_by_default_and_restored():
    assert not cr.autograd.is_anomaly_enabled()
    with np.errstate(divide="ignore"):
        assert np.isinf(cr.tensor([0.0]).log().item())
    with cr.autograd.detect_anomaly():
        assert cr.autograd.is_anomaly_enabled()
    assert not cr.autograd.is_anomaly_enabled()
    cr.autograd.set_detect_anomaly(True)
    assert cr.autograd.is_anomaly_enabled()
    cr.autograd.set_detect_anomaly(False)
    assert not cr.autograd.is_anomaly_enabled() and cr.autograd.engine.observers == []


def _mlp():
    cr.manual_seed(0)
    return cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 2))


def test_gradcheck_and_gradgradcheck_take_a_module():
    model = _mlp()
    x = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(model, x)
    assert cr.autograd.gradgradcheck(model, (x,))
    assert model[0].weight.dtype is cr.float32  # checked on a float64 copy


class _CubeWrongSecondDerivative(cr.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * 3 * a * a.detach()  # right value, but half the second derivative is lost


def test_gradgradcheck_finds_a_wrong_second_derivative():
    x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(_CubeWrongSecondDerivative.apply, [x])
    assert not cr.autograd.gradgradcheck(_CubeWrongSecondDerivative.apply, [x], raise_exception=False)
    with pytest.raises(cr.autograd.GradcheckError):
        cr.autograd.gradgradcheck(_CubeWrongSecondDerivative.apply, [x])


@pytest.mark.parametrize("fn", [lambda L, a: (a.sin() * a).sum(), lambda L, a: L.softmax(a, 0) * a,
                                lambda L, a: (a * a).tanh().sum(0)])
def test_gradgradcheck_agrees_with_torch(fn):
    a = np.random.default_rng(0).standard_normal((3, 2))
    assert cr.autograd.gradgradcheck(lambda t: fn(cr, t), [cr.tensor(a, requires_grad=True)])
    assert torch.autograd.gradgradcheck(lambda t: fn(torch, t), [torch.tensor(a, requires_grad=True)])
