"""Graphs are freed by reference counting alone, and training loops do not grow memory."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def no_cyclic_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _step(w, b, x, t):
    h = (x @ w + b).tanh()
    loss = ((h - t) ** 2).mean() + h.softmax(1).max() + h[[0, 0, 1]].sum() * 0.1
    loss.backward()
    with cr.no_grad():
        w.sub_(w.grad * 0.01)
        b.sub_(b.grad * 0.01)
    w.grad = None
    b.grad = None
    return loss.item()


def test_10000_steps_do_not_grow_memory(no_cyclic_gc):
    w = cr.randn(4, 3, requires_grad=True)
    b = cr.zeros(3, requires_grad=True)
    x, t = cr.randn(5, 4), cr.randn(5, 3)
    for _ in range(200):  # warm caches (dispatch tables, interned shapes)
        _step(w, b, x, t)
    tracemalloc.start()
    try:
        for _ in range(5000):
            _step(w, b, x, t)
        first, _ = tracemalloc.get_traced_memory()
        for _ in range(5000):
            _step(w, b, x, t)
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 64 * 1024, f"memory grew by {second - first} bytes over 5,000 steps"


def test_graph_freed_without_cyclic_gc_after_backward(no_cyclic_gc):
    x = cr.randn(100, 100, requires_grad=True)
    mid = (x * 2).exp()
    node_ref = weakref.ref(mid.grad_fn)
    array_ref = weakref.ref(mid._data) if hasattr(mid._data, "__weakref__") else None
    out = (mid.sin() * mid).sum()
    out.backward()
    del mid, out
    assert node_ref() is None, "an intermediate's node survived backward without the cyclic GC"
    if array_ref is not None:
        assert array_ref() is None, "an intermediate's array survived backward without the cyclic GC"
    assert x.grad is not None


def test_graph_freed_when_dropped_without_backward(no_cyclic_gc):
    x = cr.randn(10, requires_grad=True)
    mid = x.tanh() * 3
    node_ref, tensor_ref = weakref.ref(mid.grad_fn), weakref.ref(mid)
    y = mid.sum()
    del mid, y
    assert node_ref() is None and tensor_ref() is None


def test_saved_arrays_released_by_backward_but_kept_with_retain_graph(no_cyclic_gc):
    x = cr.randn(50, 50, requires_grad=True)
    y = x.exp()  # Exp saves its output
    z = (y * y).sum()
    node = y.grad_fn
    z.backward(retain_graph=True)
    assert node.out is not None
    z.backward()
    assert node.out is None and node.args is None


def test_retain_grad_and_hooks_do_not_leak(no_cyclic_gc):
    x = cr.randn(5, requires_grad=True)
    refs = []
    for _ in range(3):
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g)
        y.sum().backward()
        refs.append(weakref.ref(y))
        del y
    assert all(r() is None for r in refs)


def test_create_graph_grad_freed(no_cyclic_gc):
    x = cr.randn(5, dtype=cr.float64, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    node_ref = weakref.ref(g.grad_fn)
    (g.sum()).backward()
    del g, y
    assert node_ref() is None
    assert np.allclose(x.grad.numpy(), 6 * x.detach().numpy())


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="glibc's malloc: Linux only")
@pytest.mark.parametrize("keep, most_faults", [("1", 50), ("0", None)])
def test_freed_arrays_are_reused_without_page_faults(keep, most_faults):
    """backend/heap.py: with the heap kept (the default), a step's four 4 MB arrays, freed together at its
    end, come back without touching fresh pages; with CHAINRULE_KEEP_HEAP=0 glibc returns the freed top of
    the heap to the OS and every step faults their ~4,000 pages in again."""
    import subprocess
    import sys
    code = ("import resource, numpy as np, chainrule as cr\n"
            "def step():\n"
            "    a = cr.ones(1 << 20); b = a * 2.0; c = b.relu(); d = c + a; return float(d.sum())\n"
            "step()\n"
            "r = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "for _ in range(20): step()\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r)\n")
    env = dict(__import__("os").environ, CHAINRULE_KEEP_HEAP=keep)
    faults = int(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)
    if most_faults is None:
        assert faults > 20 * 1000, faults  # (40,000 measured): the test can tell the difference
    else:
        assert faults <= most_faults, faults
