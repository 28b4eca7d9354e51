"""The computation graph of a 2-layer MLP's loss, with values and gradients, as SVG (or DOT).

Run:  python examples/mlp_graph_svg.py [out.svg]
Without Graphviz's `dot` program installed it writes the .dot file instead and says how to install it.
"""
import shutil
import sys

import chainrule as cr

cr.manual_seed(0)
x = cr.randn(4, 3)
target = cr.tensor([0, 2, 1, 0])
w1 = cr.randn(3, 5, requires_grad=True)
b1 = cr.zeros(5, requires_grad=True)
w2 = cr.randn(5, 3, requires_grad=True)
b2 = cr.zeros(3, requires_grad=True)

hidden = (x @ w1 + b1).relu()
logits = hidden @ w2 + b2
loss = cr.nn.functional.cross_entropy(logits, target)

steps = cr.viz.explain(loss, names={"x": x, "W1": w1, "b1": b1, "W2": w2, "b2": b2,
                                    "hidden": hidden, "logits": logits, "loss": loss})
print(steps)  # tensor nodes show each op's rule, e.g. matmul "da = g b^T,  db = a^T g"
path = sys.argv[1] if len(sys.argv) > 1 else "mlp_graph.svg"
if not shutil.which("dot"):
    path = path.rsplit(".", 1)[0] + ".dot"
    print("Graphviz's dot program is not installed (apt-get install graphviz / brew install graphviz): "
          "writing DOT text instead")
print("saved", steps.graph.save(path))
