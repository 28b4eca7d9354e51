"""The sigmoid neuron of the lecture: f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))).

At w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3 the output is 0.73 and the gradients are
dw0 = -0.2, dx0 = 0.39, dw1 = -0.39, dx1 = -0.59, dw2 = 0.2.
Run:  python examples/lecture_sigmoid_gate.py
"""
import chainrule as cr

values = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
v = {k: cr.tensor(x, dtype=cr.float64, requires_grad=True) for k, x in values.items()}
f = 1 / (1 + (-(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"])).exp())
print(f"f = {f.item():.2f}")

steps = cr.viz.explain(f, names=v)
print(steps)

# The same neuron with the sigmoid as one gate: its local gradient is out (1 - out) = 0.2.
w = {k: cr.tensor(x, dtype=cr.float64, requires_grad=True) for k, x in values.items()}
g = (w["w0"] * w["x0"] + w["w1"] * w["x1"] + w["w2"]).sigmoid()
print(cr.viz.explain(g, names=w).table())
