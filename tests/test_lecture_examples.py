"""The classic lecture worked examples of backprop, with their hand-derived numbers."""
import math

import pytest

import chainrule as cr


def test_add_mul_circuit():
    x, y, z = (cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    q = x + y
    f = q * z
    f.backward()
    assert q.item() == 3 and f.item() == -12
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4, -4, 3)


def test_sigmoid_gate():
    w0, x0, w1, x1, w2 = (cr.tensor(v, dtype=cr.float64, requires_grad=True)
                          for v in (2.0, -1.0, -3.0, -2.0, -3.0))
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f.backward()
    s = 1 / (1 + math.exp(-1.0))
    assert f.item() == pytest.approx(s)
    local = s * (1 - s)  # the sigmoid's local gradient, 0.1966
    assert w0.grad.item() == pytest.approx(local * -1.0)
    assert x0.grad.item() == pytest.approx(local * 2.0)
    assert w1.grad.item() == pytest.approx(local * -2.0)
    assert x1.grad.item() == pytest.approx(local * -3.0)
    assert w2.grad.item() == pytest.approx(local)
    assert round(f.item(), 2) == 0.73 and round(w0.grad.item(), 1) == -0.2
    assert round(x0.grad.item(), 2) == 0.39 and round(x1.grad.item(), 2) == -0.59


def test_apples_and_watermelon_bill():
    apple_price, apple_count = cr.tensor(10.0, requires_grad=True), cr.tensor(2.0, requires_grad=True)
    melon_price, melon_count = cr.tensor(30.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    tax = cr.tensor(1.05, requires_grad=True)
    total = (apple_price * apple_count + melon_price * melon_count) * tax
    total.backward()
    assert total.item() == pytest.approx(52.5)
    assert apple_price.grad.item() == pytest.approx(2.1)
    assert apple_count.grad.item() == pytest.approx(10.5)
    assert tax.grad.item() == pytest.approx(50.0)
    assert melon_price.grad.item() == pytest.approx(1.05)
