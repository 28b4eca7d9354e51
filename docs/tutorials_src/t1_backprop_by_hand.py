"""
1. Backprop by hand on the computation graph
============================================

Backpropagation is the chain rule applied node by node, walking the computation graph backward
from the output. At every node the same local step happens::

    downstream gradient = upstream gradient x local gradient

where the *upstream* gradient is d(output)/d(this node's result), arriving from the node above,
and the *local* gradient is d(result)/d(input), a property of the node's operation alone. Where a
value feeds several nodes, the gradients coming back from them add.

This tutorial works three lecture examples by hand, then lets chainrule's engine do the same walk
(``cr.viz.explain`` records the engine's real backward pass) and draw the graph with every value
and gradient.
"""

import chainrule as cr

cr.viz.set_renderer("python")   # the built-in layout: the same pictures with or without Graphviz

# %%
# A first graph: f(x, y, z) = (x + y) z
# ---------------------------------------
# At x = -2, y = 5, z = -4. Forward: q = x + y = 3, f = q z = -12. Backward, by hand:
#
# * df/df = 1 (the seed);
# * f = q z is a **mul** gate: df/dq = z = -4 and df/dz = q = 3 (the inputs are swapped);
# * q = x + y is an **add** gate: its local gradients are 1, so df/dx = df/dy = df/dq x 1 = -4.
#
# The same with chainrule:

x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
q = x + y
f = q * z
steps = cr.viz.explain(f, names={"x": x, "y": y, "z": z, "q": q})
print(steps)

# %%
# The graph, with each node's value and (after the backward pass) gradient, and the steps as a
# table: one row per (node, input) pair, upstream x local = downstream.

steps

# %%
# The sigmoid gate
# ----------------
# f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3), x = (-1, -2): a
# 2-input neuron. Walking back through 1/u, +1, exp, negation, the sum and the products gives the
# five gradients below. Grouping the last four nodes as one **sigmoid gate** shortens it: with
# s = sigmoid(a), ds/da = s (1 - s) = 0.73 x 0.27 = 0.2, and a's inputs get 0.2 times their local
# gradients (w0's is x0 = -1, so df/dw0 = -0.2).

w0, x0, w1, x1, w2 = (cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in (2., -1., -3., -2., -3.))
f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
gate = cr.viz.explain(f, names={"w0": w0, "x0": x0, "w1": w1, "x1": x1, "w2": w2})
print(f"f = {f.item():.2f}")
gate

# %%
# The one-node version: ``torch.sigmoid`` is a single op whose local gradient is s (1 - s).

a = w0.detach() * x0.detach() + w1.detach() * x1.detach() + w2.detach()
a.requires_grad_()
s = a.sigmoid()
s.backward()
print(f"s = {s.item():.4f}, ds/da = {a.grad.item():.4f} = s (1 - s) = {s.item() * (1 - s.item()):.4f}")

# %%
# Apples and tax
# --------------
# Two apples at 10 and one watermelon at 30, with 5% tax: total = (10 x 2 + 30 x 1) x 1.05 = 52.5.
# The mul gate at the end sends 1.05 back to the subtotal, the add gate copies it to both costs,
# and each cost's mul gate swaps: d total/d apple price = 2 x 1.05 = 2.1,
# d total/d apples = 10 x 1.05 = 10.5, d total/d tax = subtotal = 50.

inputs = {"apple_price": 10.0, "apples": 2.0, "watermelon_price": 30.0, "watermelons": 1.0, "tax": 1.05}
t = {k: cr.tensor(v, dtype=cr.float64, requires_grad=True) for k, v in inputs.items()}
apple_cost = t["apple_price"] * t["apples"]
watermelon_cost = t["watermelon_price"] * t["watermelons"]
subtotal = apple_cost + watermelon_cost
total = subtotal * t["tax"]
bill = cr.viz.explain(total, names=dict(t, apple_cost=apple_cost, watermelon_cost=watermelon_cost,
                                        subtotal=subtotal, total=total))
print(f"total = {total.item():g}")
bill

# %%
# Patterns in the backward flow
# -----------------------------
# Four gates cover most of what a graph does with a gradient:
#
# * **add** distributes: every input gets the upstream gradient unchanged;
# * **mul** swaps: each input gets the upstream gradient times the *other* input;
# * **max** routes: the larger input gets the whole upstream gradient, the other gets 0;
# * **copy** (a value used twice) adds: the gradients from both uses are summed.

x, y, z, w = (cr.tensor(v, requires_grad=True) for v in (3.0, -4.0, 2.0, -1.0))
out = 2 * ((x * y) + cr.maximum(z, w))       # the lecture's add/mul/max example
patterns = cr.viz.explain(out, names={"x": x, "y": y, "z": z, "w": w})
print(patterns)
print("mul swaps:   dx =", x.grad.item(), "= 2 * y;  dy =", y.grad.item(), "= 2 * x")
print("max routes:  dz =", z.grad.item(), "(z won);  dw =", w.grad.item())

# %%
# A value used twice: the two branches' gradients add at the copy.

u = cr.tensor(3.0, requires_grad=True)
g = u * u + u          # u feeds three places: both mul inputs and the add
copy = cr.viz.explain(g, names={"u": u})
print(copy)
print("d(u*u + u)/du = 2u + 1 =", u.grad.item())
copy
