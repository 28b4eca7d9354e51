"""See backprop: computation-graph pictures and a step-by-step backward explainer."""
from .graph import graph, Graph, record_modules, set_renderer
from .ir import graph, ir_graph, IRGraph  # graph: the autograd one, or a traced/compiled graph
from .explain import explain, Explanation, Step
from .health import grad_stats, record_activations

__all__ = ["graph", "Graph", "record_modules", "explain", "Explanation", "Step", "grad_stats",
           "record_activations", "set_renderer", "ir_graph", "IRGraph"]
