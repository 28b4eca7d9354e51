"""Edge cases of the fused nn ops against torch: -inf/nan logits and ignored or empty batches in
cross_entropy/nll_loss, empty inputs, conv2d padding='same'/'valid', pooling's ceil_mode,
count_include_pad and divisor_override, and where max_pool2d and the activations send the gradient
at nan/inf. Each compares values, dtypes, nan/inf positions and gradients (random upstream) with
torch, and errors by type (torch's) and message (ours names the op and the bad value)."""
import inspect
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from helpers import assert_close, compare, raises_like

nan, inf = np.nan, np.inf
DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "sum", "mean"]


# ---- 1, 2. cross_entropy / nll_loss at -inf, nan, ignored and empty batches -----------------------

def _rows(*rows):
    return np.array(rows, dtype=np.float64)


# (logits, targets): row 0 carries the edge, row 1 is ordinary
LOGIT_CASES = {
    "-inf non-target": (_rows([1.0, -inf, 2.0, 0.5], [0.5, 1.0, 2.0, -1.0]), [0, 2]),
    "-inf non-targets (masked)": (_rows([-inf, 3.0, -inf, -inf], [0.5, 1.0, 2.0, -1.0]), [1, 3]),
    "-inf target": (_rows([1.0, -inf, 2.0, 0.5], [0.5, 1.0, 2.0, -1.0]), [1, 2]),
    "nan non-target": (_rows([1.0, nan, 2.0, 0.5], [0.5, 1.0, 2.0, -1.0]), [0, 2]),
    "nan target": (_rows([1.0, nan, 2.0, 0.5], [0.5, 1.0, 2.0, -1.0]), [1, 2]),
    "+inf non-target": (_rows([1.0, inf, 2.0, 0.5], [0.5, 1.0, 2.0, -1.0]), [0, 2]),
    "nan in ignored row": (_rows([1.0, nan, 2.0, 0.5], [0.5, 1.0, 2.0, -1.0]), [-100, 2]),
    "all -inf ignored row": (_rows([-inf] * 4, [0.5, 1.0, 2.0, -1.0]), [-100, 2]),
    "all -inf row": (_rows([-inf] * 4, [0.5, 1.0, 2.0, -1.0]), [0, 2]),
    "all ignored": (_rows([1.0, 2.0, 0.5, 0.0], [0.5, 1.0, 2.0, -1.0]), [-100, -100]),
    "all ignored, nan": (_rows([1.0, nan, 0.5, 0.0], [0.5, 1.0, 2.0, -1.0]), [-100, -100]),
    "no rows": (np.zeros((0, 4)), []),
}
LOSS_OPTIONS = {"plain": {}, "weight": {"weight": [1.0, 2.0, 0.5, 3.0]}, "label_smoothing": {"label_smoothing": 0.1},
                "weight+smoothing": {"weight": [1.0, 2.0, 0.5, 3.0], "label_smoothing": 0.2},
                "zero weights": {"weight": [0.0, 0.0, 0.0, 1.0]}, "ignore_index=3": {"ignore_index": 3}}


def _loss_kwargs(lib, options, dtype):
    kw = dict(options)
    if "weight" in kw:
        kw["weight"] = lib.tensor(np.array(kw["weight"], dtype=dtype))
    return kw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", list(LOSS_OPTIONS))
@pytest.mark.parametrize("case", list(LOGIT_CASES))
def test_class_losses_at_inf_nan_ignored_and_empty(case, options, reduction, dtype):
    x, t = LOGIT_CASES[case]
    x, t = x.astype(dtype), np.array(t, dtype=np.int64)
    opts = LOSS_OPTIONS[options]
    if "ignore_index" in opts:
        t[t == -100] = opts["ignore_index"]
    ckw, tkw = _loss_kwargs(cr, opts, dtype), _loss_kwargs(torch, opts, dtype)
    tx = torch.tensor(x, requires_grad=True)
    loss = TF.cross_entropy(tx, torch.tensor(t), reduction=reduction, **tkw)
    loss.sum().backward()
    finite = bool(torch.isfinite(tx.grad).all() and torch.isfinite(loss).all())  # then no NumPy warning either
    with warnings.catch_warnings():
        warnings.simplefilter("error" if finite else "ignore")
        compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **ckw),
                lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **tkw), [x, t])
        if "label_smoothing" not in opts:
            compare(lambda a, b: F.nll_loss(a, b, reduction=reduction, **ckw),
                    lambda a, b: TF.nll_loss(a, b, reduction=reduction, **tkw), [x, t])
            compare(lambda a, b: cr.nn.NLLLoss(reduction=reduction, **ckw)(a, b),
                    lambda a, b: torch.nn.NLLLoss(reduction=reduction, **tkw)(a, b), [x, t])
        compare(lambda a, b: cr.nn.CrossEntropyLoss(reduction=reduction, **ckw)(a, b),
                lambda a, b: torch.nn.CrossEntropyLoss(reduction=reduction, **tkw)(a, b), [x, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_losses_spatial_with_masked_and_ignored_positions(reduction):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3, 2)).astype(np.float32)
    t = rng.integers(0, 4, (2, 3, 2))
    x[0, :, 0, 0] = nan  # an ignored position holding nan
    t[0, 0, 0] = -100
    x[1, 1, 2, 1] = -inf  # a masked class
    t[1, 2, 1] = 3
    compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
            lambda a, b: TF.cross_entropy(a, b, reduction=reduction), [x, t])
    compare(lambda a, b: F.nll_loss(a, b, reduction=reduction),
            lambda a, b: TF.nll_loss(a, b, reduction=reduction), [x, t])
    t[:] = -100  # only padding: nan mean, zero gradients
    compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
            lambda a, b: TF.cross_entropy(a, b, reduction=reduction), [np.nan_to_num(x), t])


def test_padding_only_batch_leaves_weights_finite():
    """One all-ignore_index batch must not poison the weights: nan loss (as torch), zero gradients."""
    cr.manual_seed(0)
    model = cr.nn.Linear(5, 3)
    before = model.weight.detach().numpy().copy()
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = F.cross_entropy(model(cr.randn(4, 5)), cr.tensor([-100] * 4))
    assert np.isnan(loss.item())
    loss.backward()
    assert np.array_equal(model.weight.grad.numpy(), np.zeros((3, 5), np.float32))
    assert np.array_equal(model.bias.grad.numpy(), np.zeros(3, np.float32))
    opt.step()
    assert np.array_equal(model.weight.detach().numpy(), before)


def test_masked_logits_second_derivative_finite():
    """create_graph through the masked loss: the gradient of the gradient is finite where torch's is."""
    x = np.array([[1.0, -inf, 2.0], [0.5, 1.0, 2.0]])
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (cg,) = cr.autograd.grad(F.cross_entropy(cx, cr.tensor([0, 2])), [cx], create_graph=True)
    (tg,) = torch.autograd.grad(TF.cross_entropy(tx, torch.tensor([0, 2])), [tx], create_graph=True)
    assert_close(cg, tg)
    w = np.array([[0.3, 0.0, -1.0], [2.0, 1.0, 0.5]])
    (cg * cr.tensor(w)).sum().backward()
    (tg * torch.tensor(w)).sum().backward()
    assert_close(cx.grad, tx.grad)


# ---- 3. empty inputs --------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(), dict(padding=1), dict(stride=2), dict(padding=1, stride=2, dilation=2),
                                dict(padding="same"), dict(groups=3)])
def test_conv2d_empty_batch(kw):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 3 // kw.get("groups", 1), 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    out, ref = compare(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw),
                       [np.zeros((0, 3, 7, 7), np.float32), w, b])
    assert out.shape[0] == 0


def test_conv2d_empty_out_channels_raises_like_torch():
    raises_like(lambda: F.conv2d(cr.zeros(2, 3, 5, 5), cr.zeros(0, 3, 3, 3)),
                lambda: TF.conv2d(torch.zeros(2, 3, 5, 5), torch.zeros(0, 3, 3, 3)), "conv2d", "[0, 3, 3, 3]")


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)])
def test_pooling_empty_batch(pool, kw):
    ours, theirs = (F.max_pool2d, TF.max_pool2d) if pool == "max" else (F.avg_pool2d, TF.avg_pool2d)
    compare(lambda x: ours(x, **kw), lambda x: theirs(x, **kw), [np.zeros((0, 3, 5, 5), np.float32)])


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("shape", [(2, 0, 4, 4), (2, 3, 0, 4), (2, 3, 4, 0), (0, 4, 4)])
def test_pooling_empty_non_batch_dim_raises_like_torch(pool, shape):
    raises_like(lambda: getattr(F, pool)(cr.zeros(*shape), 2), lambda: getattr(TF, pool)(torch.zeros(*shape), 2),
                pool, str(list(shape)))


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("shape", [(0, 3, 4, 4), (0, 3), (2, 3, 0)])
def test_batch_norm_empty_batch(training, shape):
    rm, rv = np.array([0.5, -1.0, 2.0], np.float32), np.array([2.0, 0.5, 1.0], np.float32)
    stats = {}

    def run(lib, fn):
        def f(x, w, b):
            stats[lib] = (lib.tensor(rm), lib.tensor(rv))
            return fn(x, *stats[lib], w, b, training)
        return f
    rng = np.random.default_rng(0)
    compare(run(cr, F.batch_norm), run(torch, TF.batch_norm),
            [np.zeros(shape, np.float32), rng.standard_normal(3).astype(np.float32),
             rng.standard_normal(3).astype(np.float32)])
    for ours, theirs in zip(stats[cr], stats[torch]):  # torch leaves the running statistics alone
        assert_close(ours, theirs)
    if training:
        compare(lambda x: F.batch_norm(x, None, None, training=True),
                lambda x: TF.batch_norm(x, None, None, training=True), [np.zeros(shape, np.float32)])


@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_module_empty_batch(training):
    c, t = cr.nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    c.train(training), t.train(training)
    compare(c, t, [np.zeros((0, 3, 2, 2), np.float32)])
    assert_close(c.running_mean, t.running_mean)
    assert_close(c.running_var, t.running_var)
    raises_like(lambda: F.batch_norm(cr.zeros(1, 3, 1, 1), None, None, training=True),
                lambda: TF.batch_norm(torch.zeros(1, 3, 1, 1), None, None, training=True), "[1, 3, 1, 1]")


def test_flatten_empty():
    compare(lambda x: cr.nn.Flatten()(x), lambda x: torch.nn.Flatten()(x), [np.zeros((0, 3, 2), np.float32)])
    compare(lambda x: F.flatten(x, 1), lambda x: torch.flatten(x, 1), [np.zeros((0, 3, 2), np.float32)])


@pytest.mark.parametrize("num_classes", [3, 1])
@pytest.mark.parametrize("shape", [(0,), (2, 0)])
def test_one_hot_empty(shape, num_classes):
    compare(lambda t: F.one_hot(t, num_classes), lambda t: TF.one_hot(t, num_classes),
            [np.zeros(shape, np.int64)])


@pytest.mark.parametrize("values, num_classes, words", [
    ([], -1, ["one_hot", "empty", "num_classes=-1"]),
    ([], 0, ["one_hot", "empty", "num_classes=0"]),
    ([0, -1], 3, ["one_hot", "non-negative", "-1"]),
    ([0, 3], 3, ["one_hot", "smaller than num_classes", "3"]),
    ([0, 1], -2, ["one_hot", "num_classes=-2"]),
])
def test_one_hot_bad_input_raises_like_torch(values, num_classes, words):
    raises_like(lambda: F.one_hot(cr.tensor(np.array(values, np.int64)), num_classes),
                lambda: TF.one_hot(torch.tensor(values, dtype=torch.int64), num_classes), *words)


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_one_hot_non_long_raises_like_torch(dtype):
    raises_like(lambda: F.one_hot(cr.tensor(np.array([0, 1], dtype)), 3),
                lambda: TF.one_hot(torch.tensor(np.array([0, 1], dtype)), 3), "one_hot", "LongTensor")


# ---- 4. conv2d padding='same'/'valid', pooling options -------------------------------------------------

@pytest.mark.parametrize("kernel, dilation", [(3, 1), (2, 1), ((2, 3), 1), ((4, 1), (1, 2)), (3, 2), (2, 3),
                                              (1, 1), ((5, 2), (2, 1))])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_string_padding(kernel, dilation, padding, dtype):
    rng = np.random.default_rng(1)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = rng.standard_normal((2, 4, 9, 8)).astype(dtype)
    w = rng.standard_normal((6, 2, kh, kw)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "padding='same' with even kernel lengths ... zero-padded copy"
        out, _ = compare(lambda x, w, b: F.conv2d(x, w, b, padding=padding, dilation=dilation, groups=2),
                         lambda x, w, b: TF.conv2d(x, w, b, padding=padding, dilation=dilation, groups=2), [x, w, b])
        if padding == "same":
            assert out.shape[2:] == x.shape[2:]
        compare(lambda x, w: F.conv2d(x, w, padding=padding, dilation=dilation),  # unbatched
                lambda x, w: TF.conv2d(x, w, padding=padding, dilation=dilation), [x[0], w[:, :1].repeat(4, 1)])


def test_conv2d_string_padding_errors_like_torch():
    x, w = np.zeros((1, 2, 5, 5), np.float32), np.zeros((3, 2, 3, 3), np.float32)
    for kw, words in [(dict(padding="same", stride=2), ["conv2d", "padding='same'", "(2, 2)"]),
                      (dict(padding="same", stride=(1, 2)), ["conv2d", "(1, 2)"]),
                      (dict(padding="full"), ["conv2d", "'full'"])]:
        raises_like(lambda: F.conv2d(cr.tensor(x), cr.tensor(w), **kw),
                    lambda: TF.conv2d(torch.tensor(x), torch.tensor(w), **kw), *words)
    raises_like(lambda: F.conv2d(cr.tensor(x), cr.zeros(3, 2, 7, 7), padding="valid"),
                lambda: TF.conv2d(torch.tensor(x), torch.zeros(3, 2, 7, 7), padding="valid"), "conv2d", "7 x 7")
    compare(lambda x: F.conv2d(x, cr.tensor(w), padding="valid", stride=2),  # 'valid' with any stride
            lambda x: TF.conv2d(x, torch.tensor(w), padding="valid", stride=2), [np.ones((1, 2, 6, 7), np.float32)])


@pytest.mark.parametrize("kernel", [2, 3, (2, 4)])
def test_conv2d_module_same_and_valid(kernel):
    rng = np.random.default_rng(2)
    for padding in ("same", "valid"):
        c, t = cr.nn.Conv2d(3, 4, kernel, padding=padding), torch.nn.Conv2d(3, 4, kernel, padding=padding)
        with torch.no_grad():
            t.weight.copy_(torch.tensor(c.weight.detach().numpy()))
            t.bias.copy_(torch.tensor(c.bias.detach().numpy()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compare(c, t, [rng.standard_normal((2, 3, 6, 5)).astype(np.float32)])


# every (size, kernel, stride, padding, dilation) torch accepts, ceil_mode on and off
POOL_GRID = [(n, k, s, p, d) for n in (1, 2, 4, 5, 6, 7) for k in (1, 2, 3) for s in (1, 2, 3)
             for p in range(k // 2 + 1) for d in (1, 2)]


def _pool_out(n, k, s, p, d, ceil):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1) * ceil) // s + 1
    return out - 1 if ceil and (out - 1) * s >= n + p else out


def _pool_ok(n, k, s, p, d, ceil):
    return _pool_out(n, k, s, p, d, ceil) > 0


def _windows_touch_input(n, k, s, p, d, ceil):
    """Every window holds an input element (a dilated window lying wholly in the padding makes torch's
    max_pool2d backward corrupt memory, e.g. size 1, kernel 2, padding 1, dilation 2)."""
    return all(any(0 <= o * s - p + j * d < n for j in range(k)) for o in range(_pool_out(n, k, s, p, d, ceil)))


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool2d_ceil_mode_grid(ceil_mode):
    rng = np.random.default_rng(4)
    checked = 0
    for n, k, s, p, d in POOL_GRID:
        if not _pool_ok(n, k, s, p, d, ceil_mode):
            raises_like(lambda: F.max_pool2d(cr.zeros(1, 1, n, 7), k, s, p, d, ceil_mode),
                        lambda: TF.max_pool2d(torch.zeros(1, 1, n, 7), k, s, p, d, ceil_mode), "max_pool2d",
                        "Output size is too small")
            continue
        if not (_windows_touch_input(n, k, s, p, d, ceil_mode) and _windows_touch_input(7, k, s, p, d, ceil_mode)):
            continue
        x = rng.standard_normal((2, 2, n, 7))
        compare(lambda a: F.max_pool2d(a, k, s, p, d, ceil_mode=ceil_mode),
                lambda a: TF.max_pool2d(a, k, s, p, d, ceil_mode=ceil_mode), [x])
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("divisor_override", [None, 3, -2])
def test_avg_pool2d_options_grid(ceil_mode, count_include_pad, divisor_override):
    rng = np.random.default_rng(5)
    kw = dict(ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=divisor_override)
    for n, k, s, p, d in POOL_GRID:
        if d == 2 or not _pool_ok(n, k, s, p, 1, ceil_mode):
            continue
        for dtype in DTYPES:
            x = rng.standard_normal((2, 2, n, 6)).astype(dtype)
            compare(lambda a: F.avg_pool2d(a, k, s, p, **kw), lambda a: TF.avg_pool2d(a, k, s, p, **kw), [x])
            compare(lambda a: F.avg_pool2d(a, (k, 2), (s, 1), (p, 1), **kw),
                    lambda a: TF.avg_pool2d(a, (k, 2), (s, 1), (p, 1), **kw), [x[0]])  # unbatched


@pytest.mark.parametrize("divisor_override", [None, 5])
@pytest.mark.parametrize("shape, kernel", [((2, 3, 8, 8), 8), ((2, 3, 4, 9), (2, 3)), ((3, 4, 6), 3)])
def test_avg_pool2d_tiling_windows(shape, kernel, divisor_override):
    """Windows that tile the input (global pooling, ResNet's head): backward's one broadcast copy."""
    x = np.random.default_rng(6).standard_normal(shape)
    for dtype in DTYPES:
        compare(lambda a: F.avg_pool2d(a, kernel, divisor_override=divisor_override),
                lambda a: TF.avg_pool2d(a, kernel, divisor_override=divisor_override), [x.astype(dtype)])


def test_avg_pool2d_divisor_override_errors_like_torch():
    x = np.zeros((1, 1, 4, 4), np.float32)
    raises_like(lambda: F.avg_pool2d(cr.tensor(x), 2, divisor_override=0),
                lambda: TF.avg_pool2d(torch.tensor(x), 2, divisor_override=0), "avg_pool2d", "divisor_override=0")
    raises_like(lambda: F.avg_pool2d(cr.tensor(x), 2, divisor_override=1.5),
                lambda: TF.avg_pool2d(torch.tensor(x), 2, divisor_override=1.5), "avg_pool2d", "float")


def test_pool_modules_forward_the_options():
    x = np.random.default_rng(6).standard_normal((2, 3, 7, 6)).astype(np.float32)
    compare(cr.nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True), [x])
    compare(cr.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
            torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), [x])


@pytest.mark.skipif("divisor_override" not in inspect.signature(cr.nn.AvgPool2d).parameters,
                    reason="nn.AvgPool2d does not take divisor_override yet (chainrule/nn/layers.py)")
def test_avg_pool_module_divisor_override():
    x = np.random.default_rng(7).standard_normal((2, 3, 7, 6)).astype(np.float32)
    compare(cr.nn.AvgPool2d(3, 2, 1, ceil_mode=True, divisor_override=4),
            torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, divisor_override=4), [x])


# ---- 5. where the gradient goes at nan/inf -------------------------------------------------------------

MAXPOOL_NONFINITE = [
    ([[1.0, nan], [nan, 2.0]], dict(kernel_size=2)),  # two nans: the last gets g
    ([[nan, 1.0], [2.0, nan]], dict(kernel_size=2)),
    ([[nan, nan], [nan, nan]], dict(kernel_size=2)),
    ([[inf, inf], [1.0, 2.0]], dict(kernel_size=2)),  # tie at inf: the first
    ([[-inf, -inf], [-inf, -inf]], dict(kernel_size=2)),  # all -inf: the first
    ([[-inf] * 3] * 3, dict(kernel_size=2, padding=1)),  # all -inf with padding: the first inside the input
    ([[-inf] * 3] * 3, dict(kernel_size=3, padding=1, stride=1)),
    ([[-inf] * 3 + [1.0]] * 3 + [[1.0] * 4], dict(kernel_size=2, padding=1, dilation=2, stride=1)),
    ([[-inf] * 5] * 3, dict(kernel_size=2, ceil_mode=True)),  # -inf beside ceil_mode's extra cells
    ([[1.0, nan, 1.0], [1.0, 1.0, nan], [nan, 1.0, 1.0]], dict(kernel_size=2, padding=1, stride=1)),
    ([[1.0, nan, 1.0], [1.0, 1.0, nan], [nan, 1.0, 1.0]], dict(kernel_size=2, ceil_mode=True)),
    ([[nan, -inf, inf, nan], [inf, nan, -inf, -inf], [1.0, inf, nan, 2.0], [-inf, 3.0, 3.0, nan]],
     dict(kernel_size=3, stride=1, padding=1)),
    ([[nan, -inf, inf, nan], [inf, nan, -inf, -inf], [1.0, inf, nan, 2.0], [-inf, 3.0, 3.0, nan]],
     dict(kernel_size=2, stride=2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(MAXPOOL_NONFINITE)))
def test_max_pool2d_gradient_at_nan_and_inf(case, dtype):
    x, kw = MAXPOOL_NONFINITE[case]
    x = np.array(x, dtype)[None, None].repeat(2, 1)
    compare(lambda a: F.max_pool2d(a, **kw), lambda a: TF.max_pool2d(a, **kw), [x])


def test_max_pool2d_random_nans_and_infs():
    rng = np.random.default_rng(8)
    x = rng.integers(-2, 3, (2, 3, 9, 8)).astype(np.float64)
    x[rng.random(x.shape) < 0.15] = nan
    x[rng.random(x.shape) < 0.1] = inf
    x[rng.random(x.shape) < 0.1] = -inf
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2,
               ceil_mode=True), dict(kernel_size=2, stride=1, dilation=2, padding=1)]:
        compare(lambda a: F.max_pool2d(a, **kw), lambda a: TF.max_pool2d(a, **kw), [x])


SPECIAL = [nan, inf, -inf, 0.0, -0.0, 1e30, -1e30, 50.0, -50.0, 1e-30, 3.0, -3.0]
ACTIVATIONS = {
    "leaky_relu": (lambda x: F.leaky_relu(x), lambda x: TF.leaky_relu(x)),
    "leaky_relu slope -0.5": (lambda x: F.leaky_relu(x, -0.5), lambda x: TF.leaky_relu(x, -0.5)),
    "elu": (lambda x: F.elu(x), lambda x: TF.elu(x)),
    "elu alpha 2": (lambda x: F.elu(x, 2.0), lambda x: TF.elu(x, 2.0)),
    "gelu": (lambda x: F.gelu(x), lambda x: TF.gelu(x)),
    "gelu tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_at_nan_and_inf(name, dtype):
    values = SPECIAL
    if name == "gelu" and dtype == np.float32:
        # torch's vectorised float32 erf gives gelu(+inf) = nan, its scalar path (a 1-element tensor)
        # and float64 give inf, as chainrule does: +inf is checked on its own below
        values = [v for v in SPECIAL if v != inf]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's overflow warnings in the tanh approximation
        compare(*ACTIVATIONS[name], [np.array(values, dtype)])


def test_gelu_at_inf():
    for dtype in DTYPES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compare(F.gelu, TF.gelu, [np.array([inf], dtype)])  # torch's scalar path: inf, gradient nan
            out = F.gelu(cr.tensor(np.array([inf, -inf, 1.0], dtype))).numpy()
        assert out[0] == inf and np.isnan(out[1])


# ---- issue 12: divergences the differential fuzzer found (tests/test_fuzz.py) ------------------------

def _both(fn, arrays, grad=True):
    return compare(lambda *t: fn(F, *t), lambda *t: fn(TF, *t), list(arrays), grad=grad)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_inf_weight_or_bias(training, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    w, b = np.array([inf, 1.5, -inf], dtype), np.array([0.5, inf, -inf], dtype)
    rm, rv = np.array([0.1, -0.2, 0.3], dtype), np.array([1.0, 2.0, 0.5], dtype)

    def fn(M, x, w, b):
        L = cr if M is F else torch
        return M.batch_norm(x, L.tensor(rm), L.tensor(rv), w, b, training=training)
    out, ref = _both(fn, (x, w, b), grad=False)
    assert np.isnan(ref.numpy()).any()  # torch's x (w inv_std) + (b - mean w inv_std): inf - inf
    _both(fn, (x, w, rng.standard_normal(3).astype(dtype)), grad=False)
    _both(fn, (x, rng.standard_normal(3).astype(dtype), b), grad=False)
    _both(fn, (x, rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)))


@pytest.mark.parametrize("target", [[0.5, 1.5], [0.5, nan], [-1e-30, 0.5], [0.5, -inf]])
def test_binary_cross_entropy_target_out_of_range(target):
    p, t = np.array([0.3, 0.6], np.float32), np.array(target, np.float32)
    raises_like(lambda: F.binary_cross_entropy(cr.tensor(p), cr.tensor(t)),
                lambda: TF.binary_cross_entropy(torch.tensor(p), torch.tensor(t)),
                "all elements of target should be between 0 and 1")
    _both(lambda M, p, t: M.binary_cross_entropy(p, t.clamp(0, 1)), (p, np.nan_to_num(t, nan=0.5)))


@pytest.mark.parametrize("padding", [0, 1, "same"])
@pytest.mark.parametrize("bad", [nan, inf])
@pytest.mark.parametrize("where", ["weight", "input"])
def test_conv2d_backward_nonfinite(padding, bad, where):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 5, 6))
    w = rng.standard_normal((3, 2, 3, 2))
    if where == "weight":
        w[1, 0, 2, 1] = bad
    else:
        x[0, 1, 4, 5] = bad
        x[1, 0, 2, 0] = bad
    _both(lambda M, x, w: M.conv2d(x, w, padding=padding), (x, w))


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("bad", [nan, inf])
def test_class_losses_nonfinite_weight_of_an_ignored_class(smoothing, reduction, bad):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4))
    t = np.array([1, -100, 2, 0, -100])
    w = np.array([1.5, 0.5, 2.0, 1.0])
    w_bad = w.copy()
    w_bad[3] = bad  # no target is class 3 (but smoothing reads every class)
    w_zero = w.copy()
    w_zero[0] = bad  # class 0: what an ignored target must not look up
    t_zero = np.where(t == 0, 1, t)
    for weight, target in ((w_bad, t), (w_zero, t_zero)):
        if smoothing and weight is w_bad:
            continue  # every valid row reads class 3's inf weight: nan/inf in both, not this edge
        def w_of(M):
            return (cr if M is F else torch).tensor(weight)
        # with smoothing torch's gradient of an ignored row is nan (its masked_fill's 0 times the inf weight in
        # backward) while its loss is 0: a torch quirk (TORCH_QUIRKS in test_fuzz.py); the values match
        _both(lambda M, x, t: M.cross_entropy(x, t, weight=w_of(M), reduction=reduction, label_smoothing=smoothing),
              (x, target), grad=not smoothing)
        if not smoothing:
            _both(lambda M, x, t: M.nll_loss(x.log_softmax(1), t, weight=w_of(M), reduction=reduction), (x, target))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", [((3, 0), (3,)), ((0,), ()), ((0, 0), (0,)), ((2, 0, 3, 4), (2, 3, 4)),
                                    ((2, 0, 0), (2, 0)), ((0, 0, 2), (0, 2))])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_zero_classes(reduction, shapes, smoothing):
    xs, ts = shapes
    x, t = np.zeros(xs, np.float32), np.full(ts, -100)
    _both(lambda M, x, t: M.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing), (x, t))
    if not smoothing:
        _both(lambda M, x, t: M.nll_loss(x, t, reduction=reduction), (x, t))
    if t.size:  # a target that is not ignored is out of bounds
        t0 = np.zeros(ts, np.int64)
        raises_like(lambda: F.cross_entropy(cr.tensor(x), cr.tensor(t0), reduction=reduction),
                    lambda: TF.cross_entropy(torch.tensor(x), torch.tensor(t0), reduction=reduction), "out of bounds")


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_class_loss_zero_classes_3d_raises(op):
    x, t = np.zeros((2, 0, 3), np.float32), np.full((2, 3), -100)
    raises_like(lambda: getattr(F, op)(cr.tensor(x), cr.tensor(t)),
                lambda: getattr(TF, op)(torch.tensor(x), torch.tensor(t)), "size mismatch")
