"""The first lecture example: f = (x + y) z at x = -2, y = 5, z = -4.

An add gate hands its upstream gradient to both inputs; a mul gate swaps its inputs.
Run:  python examples/lecture_add_mul.py   (or: chainrule explain "(x + y) * z" x=-2 y=5 z=-4)
"""
import chainrule as cr

x = cr.tensor(-2.0, dtype=cr.float64, requires_grad=True)
y = cr.tensor(5.0, dtype=cr.float64, requires_grad=True)
z = cr.tensor(-4.0, dtype=cr.float64, requires_grad=True)
q = x + y          # q = 3
f = q * z          # f = -12

steps = cr.viz.explain(f, names={"x": x, "y": y, "z": z, "q": q, "f": f})
print(steps)       # df/dx = -4, df/dy = -4, df/dz = 3 (and df/dq = -4 in the table)
print(steps.graph.to_dot())
