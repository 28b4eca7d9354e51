"""chainrule.amp against torch.amp: GradScaler's loss scaling (scale, unscale_, skipped steps on
inf/nan, back-off and growth of the scale, state_dict, its errors) and autocast's region API (it casts
nothing in chainrule: no mixed precision yet)."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

rng = np.random.default_rng(0)
W = rng.standard_normal((3, 4)).astype(np.float32)
X = rng.standard_normal((5, 4)).astype(np.float32)


def _run(L, poison_steps, **kwargs):
    """A few SGD steps through GradScaler('cpu'); the steps in poison_steps get an inf gradient."""
    w = L.nn.Parameter(L.tensor(W))
    opt = L.optim.SGD([w], lr=0.1)
    scaler = L.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2, **kwargs)
    scales, losses = [], []
    for step in range(6):
        opt.zero_grad()
        loss = (L.tensor(X) @ w.T).square().mean()
        scaled = scaler.scale(loss)
        losses.append(float(scaled))
        scaled.backward()
        if step in poison_steps:
            w.grad[0, 0] = float("inf")
        scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return w.detach().numpy(), scales, losses, scaler.state_dict()


def test_grad_scaler_matches_torch():
    for poison in ((), (1,), (0, 3, 4)):
        ours, ref = _run(cr, poison), _run(torch, poison)
        np.testing.assert_allclose(ours[0], ref[0], rtol=1e-5)
        assert ours[1] == ref[1] and ours[3] == ref[3]
        np.testing.assert_allclose(ours[2], ref[2], rtol=1e-5)


def test_grad_scaler_errors_and_state_as_torch():
    for L in (cr, torch):
        w = L.nn.Parameter(L.ones(2))
        opt = L.optim.SGD([w], lr=0.1)
        scaler = L.amp.GradScaler("cpu")
        scaler.scale(w.sum()).backward()
        scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="already been called on this optimizer"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            L.amp.GradScaler("cpu").step(opt, closure=lambda: 0)
        scaler.update()
        with pytest.raises(AssertionError, match="No inf checks"):
            scaler.update()
        other = L.amp.GradScaler("cpu")
        other.load_state_dict(scaler.state_dict())
        assert other.get_scale() == scaler.get_scale() == 65536.0
        off = L.amp.GradScaler("cpu", enabled=False)
        assert off.state_dict() == {} and off.get_scale() == 1.0 and off.scale(w) is w
        with pytest.raises(RuntimeError, match="source state dict is empty"):
            other.load_state_dict({})


def test_cuda_grad_scaler_is_enabled_only_with_cuda():
    """Without CUDA it warns and disables itself, as torch's; with CUDA it is enabled."""
    if cr.cuda.is_available():
        assert cr.cuda.amp.GradScaler().is_enabled()
        return
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = cr.cuda.amp.GradScaler()
    assert not scaler.is_enabled()


def test_autocast_region_and_errors():
    assert not cr.is_autocast_enabled("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cr.autocast("cpu", dtype=cr.float16):
            assert cr.is_autocast_enabled("cpu")
            out = cr.ones(2, 3) @ cr.ones(3, 2)
            assert out.dtype == cr.float32  # chainrule casts nothing (torch would give bfloat16/float16)
        with cr.amp.autocast("cpu", enabled=False):
            assert not cr.is_autocast_enabled("cpu")

        @cr.cuda.amp.autocast()
        def f():
            return cr.is_autocast_enabled("cuda")
        assert f() and not cr.is_autocast_enabled("cuda")
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        cr.autocast("tpu")
    with pytest.raises(RuntimeError, match="tpu"):  # torch: "Expected one of cpu, cuda, ... string: tpu"
        torch.autocast("tpu")


def test_bfloat16_is_named_but_refused():
    assert repr(cr.bfloat16) == "chainrule.bfloat16" and not cr.cuda.is_bf16_supported()
    with pytest.raises(TypeError, match="bfloat16"):
        cr.zeros(2, dtype=cr.bfloat16)
    with pytest.raises(TypeError, match="bfloat16"):
        cr.ones(2).to(cr.bfloat16)
