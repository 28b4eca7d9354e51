"""Devices on a machine without CUDA: everything is on the CPU and asking for CUDA fails clearly."""
import pytest

import chainrule as cr

no_cuda = pytest.mark.skipif(cr.cuda.is_available(), reason="checks the behaviour without a GPU")


def test_device_parsing():
    d = cr.device("cuda:1")
    assert d.type == "cuda" and d.index == 1 and str(d) == "cuda:1"
    assert repr(d) == "device(type='cuda', index=1)"
    assert cr.device("cuda").index == 0 and cr.device("cpu").index is None
    assert cr.device("cuda", 2) == cr.device("cuda:2") and cr.device("cpu") == "cpu"
    assert cr.device(cr.device("cuda:3")).index == 3
    assert len({cr.device("cpu"), cr.device("cpu"), cr.device("cuda:0")}) == 2
    with pytest.raises(RuntimeError, match="tpu"):
        cr.device("tpu")
    with pytest.raises(RuntimeError, match="cuda:x"):
        cr.device("cuda:x")


def test_tensors_live_on_cpu():
    x = cr.ones(2)
    assert x.device == cr.device("cpu") and x.device.type == "cpu" and not x.is_cuda
    assert x.cpu() is x and x.to("cpu") is x and x.to(cr.device("cpu")) is x
    assert (x * 2).device.type == "cpu" and x.to("cpu", cr.float64).dtype == cr.float64


@no_cuda
def test_cuda_reported_unavailable():
    assert cr.cuda.is_available() is False
    assert cr.cuda.device_count() == 0
    cr.cuda.synchronize()  # a no-op without a GPU
    cr.cuda.manual_seed(0)


@no_cuda
@pytest.mark.parametrize("make", [
    lambda: cr.ones(2).to("cuda"), lambda: cr.ones(2).cuda(), lambda: cr.ones(2).to(cr.device("cuda:0")),
    lambda: cr.ones(2).to("cuda", cr.float64), lambda: cr.zeros(2, device="cuda"),
    lambda: cr.tensor([1.0], device="cuda:0"), lambda: cr.randn(2, device="cuda"),
    lambda: cr.rand(2, device="cuda"), lambda: cr.full((2,), 1.0, device="cuda"),
    lambda: cr.arange(3, device="cuda"), lambda: cr.eye(2, device="cuda"), lambda: cr.ones(2, device="cuda"),
    lambda: cr.randint(0, 3, (2,), device="cuda"), lambda: cr.zeros_like(cr.ones(2), device="cuda"),
    lambda: cr.linspace(0, 1, 3, device="cuda"), lambda: cr.empty(2, device="cuda"),
], ids=range(16))
def test_cuda_requests_raise_clear_error(make):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        make()


def test_bad_device_type_argument():
    with pytest.raises(TypeError, match="device"):
        cr.zeros(2, device=1.5)
