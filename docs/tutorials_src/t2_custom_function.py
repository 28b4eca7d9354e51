"""
2. Gates to layers: a custom autograd.Function
==============================================

The gates of tutorial 1 each know two things: how to compute their output (forward) and how to
turn the upstream gradient into gradients for their inputs (backward). A *layer* is the same
thing at a larger grain, and this is how Caffe and Torch7 defined them: a ``forward`` that saves
what the backward will need, and a ``backward`` that multiplies the upstream gradient by the
local Jacobian, without ever forming that Jacobian.

``chainrule.autograd.Function`` is that interface, with torch's names: ``forward(ctx, ...)`` and
``backward(ctx, grad_output)`` as static methods, ``ctx.save_for_backward`` and
``ctx.saved_tensors``, and ``Function.apply`` to call it.
"""

import numpy as np

import chainrule as cr

# %%
# A fully connected layer, y = x W^T + b
# --------------------------------------
# For a batch x of shape (N, D_in), weights W of shape (D_out, D_in) and bias b of shape
# (D_out,), with upstream gradient g = dL/dy of shape (N, D_out):
#
# * dL/dx = g W       (N, D_out) @ (D_out, D_in): the mul gate's "swap", as a matrix product;
# * dL/dW = g^T x     (D_out, N) @ (N, D_in): summed over the batch by the product itself;
# * dL/db = sum of g over the batch: the bias was copied to every row, and copies add.


class LinearFunction(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_output @ weight
        grad_weight = grad_output.t() @ x
        grad_bias = grad_output.sum(0)
        return grad_x, grad_weight, grad_bias


# %%
# gradcheck compares every entry of the analytic gradient with central differences
# (f(x + eps) - f(x - eps)) / 2 eps, in float64 where the comparison is meaningful.

rng = np.random.default_rng(0)
x = cr.tensor(rng.standard_normal((4, 3)), requires_grad=True)
w = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
b = cr.tensor(rng.standard_normal(2), requires_grad=True)
print("gradcheck:", cr.autograd.gradcheck(LinearFunction.apply, (x, w, b)))

# %%
# The same numbers as the built-in ``nn.functional.linear``:

y = LinearFunction.apply(x, w, b)
y.backward(cr.ones_like(y))
ours = [t.grad.clone() for t in (x, w, b)]
for t in (x, w, b):
    t.grad = None
cr.nn.functional.linear(x, w, b).backward(cr.ones_like(y))
for name, mine, t in zip(("x", "W", "b"), ours, (x, w, b)):
    print(f"d/d{name}: max difference {float((mine - t.grad).abs().max()):.1e}")

# %%
# A wrong backward is caught
# --------------------------
# Forgetting the sum over the batch is a classic bug. Here the bias gradient takes only the first
# row of g; gradcheck names the input and the worst entry:


class BuggyLinear(LinearFunction):
    @staticmethod
    def backward(ctx, grad_output):
        grad_x, grad_weight, _ = LinearFunction.backward(ctx, grad_output)
        return grad_x, grad_weight, grad_output[0]


try:
    cr.autograd.gradcheck(BuggyLinear.apply, (x, w, b))
except cr.autograd.GradcheckError as e:
    print("GradcheckError:", e)

# %%
# A gate with a cheaper backward: the sigmoid
# -------------------------------------------
# Saving the *output* instead of the input lets the backward reuse it: ds/da = s (1 - s).


class Sigmoid(cr.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        s = 1 / (1 + (-a).exp())
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


a = cr.tensor(rng.standard_normal(5), requires_grad=True)
print("gradcheck:", cr.autograd.gradcheck(Sigmoid.apply, (a,)))

# %%
# Used inside a module, the custom layer trains like any other:


class MyLinear(cr.nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = cr.nn.Parameter(cr.randn(d_out, d_in) * d_in ** -0.5)
        self.bias = cr.nn.Parameter(cr.zeros(d_out))

    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias)


cr.manual_seed(0)
layer = MyLinear(3, 1)
opt = cr.optim.SGD(layer.parameters(), lr=0.1)
inputs = cr.randn(64, 3)
targets = inputs @ cr.tensor([[1.0], [-2.0], [0.5]]) + 0.3
for step in range(101):
    loss = ((layer(inputs) - targets) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 25 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}")
print("learned W:", layer.weight.detach().numpy().round(3), " b:", layer.bias.detach().numpy().round(3))
