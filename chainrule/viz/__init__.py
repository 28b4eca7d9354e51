"""See backprop: computation-graph pictures and a step-by-step backward explainer."""
from .graph import graph, Graph, record_modules
from .explain import explain, Explanation, Step

__all__ = ["graph", "Graph", "record_modules", "explain", "Explanation", "Step"]
