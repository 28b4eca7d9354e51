"""Reverse-mode backward: count dependencies, then run each node once all its gradients arrived.

Gradients are raw arrays, except under ``create_graph`` where the same rules run on Tensors
(through ``tensor_xp``) so that the gradients are themselves differentiable.
"""
from .node import Node, writes, check_saved
from . import grad_mode
from ..backend import namespace

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time.")

# The engine sits below the Tensor type; ``chainrule.ops.bind_tensor_type`` hands it these once,
# at package import: how to wrap an array as a Tensor, and the Tensor namespace that rules run
# in under create_graph.
make_tensor = None
tensor_xp = None


def bind(make, tensor_namespace):
    global make_tensor, tensor_xp
    make_tensor, tensor_xp = make, tensor_namespace

# Observers of the walk (viz.explain), cr.compile's recorder (it runs the walk itself); empty unless in use.
observers, recorders = [], []


def sum_to(xp, g, shape):
    """Reduce a broadcast gradient ``g`` back to ``shape`` (the one unbroadcast helper)."""
    lead = g.ndim - len(shape)
    if lead:
        g = xp.sum(g, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return g


def _fit(xp, g, shape, dtype):
    """A gradient brought to its input's shape (undoing broadcasting) and dtype (undoing casts)."""
    if g.shape != shape:
        g = sum_to(xp, g, shape).reshape(shape)
    if g.dtype is not dtype and g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _count_dependencies(roots):
    """node -> number of consumers inside the graph reachable from ``roots`` (roots start at 0)."""
    deps = dict.fromkeys(roots, 0)
    stack = list(deps)
    while stack:
        for p in stack.pop().parents:
            if type(p) is Node:
                if p in deps:
                    deps[p] += 1
                else:
                    deps[p] = 1
                    stack.append(p)
    return deps


def _reaching(roots, target_nodes, target_leaves):
    """The nodes that reach a target (a node, or a leaf by id): all autograd.grad runs (a skipped node's
    parents are skipped too, so what it holds back never runs)."""
    reaches, stack = {}, [(r, False) for r in roots]
    while stack:
        node, done = stack.pop()
        if done:
            reaches[node] = any(p in target_nodes or reaches.get(p) if type(p) is Node else
                                p is not None and id(p) in target_leaves for p in node.parents)
        elif node not in reaches:
            reaches[node] = False
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if type(p) is Node and p not in reaches)
    return {node for node, hit in reaches.items() if hit}


def run_backward(tensors, grads, retain_graph=False, create_graph=False, capture=None):
    """Propagate ``grads`` (arrays, or Tensors under create_graph) from ``tensors`` to the leaves.

    Without ``capture`` the leaf gradients accumulate into ``.grad``. With ``capture`` (a list of
    tensors, for autograd.grad) nothing is accumulated: the gradient reaching each captured tensor
    is returned instead, in order (None where none arrived).
    """
    if recorders:
        return recorders[-1](tensors, grads, retain_graph, create_graph, capture)
    pending = {}     # node -> gradient of its output, summed over consumers
    leaf_grads = {}  # leaf tensor -> summed gradient
    roots = []
    for t, g in zip(tensors, grads):
        node = t._node
        if node is None:
            leaf_grads[t] = leaf_grads[t] + g if t in leaf_grads else g
        else:
            pending[node] = pending[node] + g if node in pending else g
            roots.append(node)
    captured_nodes = needed = None
    if capture is not None:
        captured_nodes = {t._node: None for t in capture if t._node is not None}
        needed = _reaching(roots, captured_nodes, {id(t) for t in capture if t._node is None})
    deps = _count_dependencies(roots)
    ready = [n for n in dict.fromkeys(roots) if not deps[n]]

    mode = grad_mode.state
    prev_mode = mode.enabled
    mode.enabled = create_graph
    watchers = observers
    epoch = writes.epoch
    try:
        while ready:
            node = ready.pop()
            g = pending.pop(node)
            if g is None:  # every consumer returned None for it: pass "no gradient" upstream
                _release_parents(node, deps, pending, ready)
                continue
            if node.hooks is not None:
                g = _run_hooks(node.hooks, g, create_graph)
            if captured_nodes is not None and node in captured_nodes:
                captured_nodes[node] = g
            if needed is not None and node not in needed:
                continue  # reaches no input of autograd.grad: not run, not freed (as torch)
            args = node.args
            if args is None:
                raise RuntimeError(_FREED)
            if node.epoch != epoch:  # something was written in place since this node was recorded
                check_saved(node)
            if create_graph:
                if node.op.once_differentiable:
                    raise RuntimeError(f"{node.name()} is a fused op whose backward is not differentiable: "
                                       "create_graph=True through it is not supported")
                xp = tensor_xp
                args = [_saved_tensor(a, p) for a, p in zip(args, node.parents)]
                out = None if node.out is None else make_tensor(node.out, node)
                in_grads = node.op.backward(node, xp, g, out, *args)
            else:
                xp = node.xp
                in_grads = node.op.backward(node, xp, g, node.out, *args)
            if watchers:
                for obs in watchers:
                    obs(node, g, in_grads)
            if not retain_graph:
                node.args = None
                node.out = None
                node.saved = None
            for p, ig in zip(node.parents, in_grads):
                if p is None:
                    continue
                if type(p) is Node:
                    if ig is not None:
                        if ig.shape != p.shape or ig.dtype is not p.dtype:
                            ig = _fit(xp, ig, p.shape, p.dtype)
                        pending[p] = pending[p] + ig if pending.get(p) is not None else ig
                    left = deps[p] - 1
                    deps[p] = left
                    if not left:
                        pending.setdefault(p, None)
                        ready.append(p)
                elif ig is not None:
                    data = p._data
                    if ig.shape != data.shape or ig.dtype is not data.dtype:
                        ig = _fit(xp, ig, data.shape, data.dtype)
                    leaf_grads[p] = leaf_grads[p] + ig if p in leaf_grads else ig

        if capture is not None:
            found = []
            for t in capture:
                g = leaf_grads.get(t) if t._node is None else captured_nodes.get(t._node)
                if t._node is None and g is not None and t._meta is not None and t._meta.get("hooks"):
                    g = _run_hooks(t._meta["hooks"], g, create_graph)  # leaf hooks run for grad() too
                found.append(g)
            return found
        given = set()
        for leaf, g in leaf_grads.items():
            if leaf._meta is not None and leaf._meta.get("hooks"):
                g = _run_hooks(leaf._meta["hooks"], g, create_graph)
            _accumulate(leaf, g, create_graph, given)
    finally:
        mode.enabled = prev_mode
    return None


def _release_parents(node, deps, pending, ready):
    for p in node.parents:
        if type(p) is Node:
            deps[p] -= 1
            if not deps[p]:
                pending.setdefault(p, None)
                ready.append(p)


def _saved_tensor(array, parent):
    """A saved input as a Tensor for create_graph: connected to the graph where it came from."""
    if parent is None:
        return make_tensor(array) if hasattr(array, "shape") else array
    if type(parent) is Node:
        return make_tensor(array, parent)
    return parent  # the leaf itself


def _run_hooks(hooks, g, create_graph):
    for hook in hooks:
        gt = g if create_graph else make_tensor(g)
        res = hook(gt)
        if res is not None:
            if res.shape != gt.shape:
                raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value: "
                                   f"expected {list(gt.shape)}, got {list(res.shape)}")
            g = res if create_graph else res._data
    return g


def _accumulate(leaf, g, create_graph, given):
    if create_graph:
        leaf._grad = g if leaf._grad is None else leaf._grad + g
        return
    if leaf._grad is None:
        # Own the buffer: the same array may reach two leaves, or be a read-only broadcast view.
        if type(g) is not type(leaf._data) or g.base is not None or id(g) in given:
            g = namespace(leaf._data).array(g)
        given.add(id(g))
        leaf._grad = make_tensor(g)
    elif leaf._grad._node is not None:
        leaf._grad = make_tensor(leaf._grad._data + g)
    else:
        leaf._grad._data += g
