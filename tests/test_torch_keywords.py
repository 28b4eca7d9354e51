"""torch's argument parser accepts NumPy's names (``axis`` for ``dim``, ``keepdims`` for
``keepdim``) and the size arguments of permute/reshape/view/expand/repeat/flip/tile by keyword:
scripts written that way (the makemore lectures use ``sum(1, keepdims=True)``) run unchanged."""
import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import assert_close

X = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
EXPRESSIONS = [
    "x.sum(axis=0, keepdims=True)", "L.sum(x, axis=1)", "x.mean(axis=(0, 1))", "x.std(axis=1, keepdims=True)",
    "x.amax(axis=1, keepdims=True)", "x.max(axis=1)[0]", "x.argmax(axis=1)", "x.logsumexp(axis=1, keepdims=True)",
    "x.softmax(axis=1)", "x.cumsum(axis=1)", "x.squeeze(axis=0)", "x.unsqueeze(axis=0)",
    "L.cat([x, x], axis=0)", "L.stack([x, x], axis=1)", "x.topk(2, axis=1)[0]", "x.sort(axis=1)[0]",
    "x.permute(dims=(1, 0))", "x.reshape(shape=(3, 2))", "x.view(size=(3, 2))", "x.expand(size=(2, 2, 3))",
    "x.repeat(repeats=(1, 2))", "x.flip(dims=(0,))", "x.tile(dims=(2,))",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_keyword_spelling_matches_torch(expr):
    out = eval(expr, {"L": cr, "x": cr.tensor(X)})
    ref = eval(expr, {"L": torch, "x": torch.tensor(X)})
    assert_close(out, ref, what=expr)


def test_unknown_keyword_still_raises():
    with pytest.raises(TypeError):
        cr.tensor(X).sum(axes=0)
