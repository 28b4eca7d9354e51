"""``torch.func``: function transforms, built on chainrule's reverse-mode autograd.

    grad(f, argnums=0, has_aux=False)(*args)        d f / d args[argnums] of a scalar f (a nest of dicts,
                                                    lists and tuples of Tensors in, the same nest out)
    grad_and_value(f, argnums=0, has_aux=False)     (the gradient, f(*args))
    vjp(f, *primals, has_aux=False)                 (f(*primals), vjp_fn); vjp_fn(v) is the tuple of v^T J
    jvp(f, primals, tangents, has_aux=False)        (f(*primals), J tangents)
    jacrev(f, argnums=0, has_aux=False)(*args)      the Jacobian, out.shape + arg.shape
    jacfwd(f, argnums=0, has_aux=False)             the same Jacobian (no forward-mode AD: row by row)
    hessian(f, argnums=0)                           jacfwd(jacrev(f))
    vmap(f, in_dims=0, out_dims=0)(*args)           f over one dimension of its inputs, results stacked
    functional_call(module, params_and_buffers, args, kwargs=None, strict=False)
    stack_module_state(models)                      (params, buffers) of same-class models, stacked (ensembles)

torch runs these through functorch's interpreter stack; here each is a function of the function. A
derivative is autograd.grad of f at detached copies of the inputs, with create_graph when an input, or an
enclosing transform's input, requires grad: grad(grad(f)), jacrev(grad(f)) and vmap(grad(f)) compose. vmap
calls f once per index of the mapped dimension and stacks the results: torch's values, not its speed (torch
batches the kernels). Unlike torch, a Tensor that f captures from outside, requiring grad, is not
differentiated through by the outermost transform (its result carries no graph).
"""
from .autograd import functional as _functional
from .autograd.grad_mode import enable_grad, is_grad_enabled
from .tensor import Tensor, functions

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap", "functional_call",
           "stack_module_state"]
_depth = [0]  # differentiating transforms now running: a nested one keeps its graph for the enclosing one


def _flatten(tree):
    """(the leaves of a nest of dicts, lists and tuples, a function rebuilding the nest from new leaves)."""
    if isinstance(tree, (dict, list, tuple)):
        keys = list(tree) if isinstance(tree, dict) else range(len(tree))
        parts = [_flatten(tree[k]) for k in keys]
        sizes = [len(p[0]) for p in parts]

        def rebuild(leaves):
            values, at = [], 0
            for (_, build), n in zip(parts, sizes):
                values.append(build(leaves[at:at + n]))
                at += n
            return dict(zip(keys, values)) if isinstance(tree, dict) else type(tree)(values)
        return [leaf for p in parts for leaf in p[0]], rebuild
    return [tree], lambda leaves: leaves[0]


def _detach(tree):
    leaves, rebuild = _flatten(tree)
    return rebuild([t.detach() if isinstance(t, Tensor) else t for t in leaves])


def _keep_graph(args):
    """Whether results keep their graph: nested in another derivative, or an input requires grad."""
    return is_grad_enabled() and (_depth[0] > 0 or any(
        isinstance(t, Tensor) and t.requires_grad for t in _flatten(list(args))[0]))


def _argnums(argnums, args, name):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{name}: argnums must be non-empty")
    for n in nums:
        if not isinstance(n, int) or not -len(args) <= n < len(args):
            raise RuntimeError(f"{name}: Got argnum={n}, but only {len(args)} positional inputs")
    return tuple(n % len(args) for n in nums)


def _with_inputs(args, nums, keep, name):
    """(args with the differentiated ones replaced by fresh inputs, those inputs, their nests' rebuilders)."""
    args, inputs, builds = list(args), [], []
    for n in nums:
        leaves, rebuild = _flatten(args[n])
        if not all(isinstance(t, Tensor) for t in leaves):
            raise RuntimeError(f"{name}: Expected the argument {n} to be a Tensor or a nest of Tensors")
        fresh = _functional._prepare(leaves, keep)
        args[n] = rebuild(list(fresh))
        inputs += fresh
        builds.append((len(fresh), rebuild))
    return args, tuple(inputs), builds


def _regroup(values, builds, argnums):
    """Per-input results back into the arguments' nests (one, or a tuple for tuple argnums)."""
    out, at = [], 0
    for n, rebuild in builds:
        out.append(rebuild(list(values[at:at + n])))
        at += n
    return out[0] if isinstance(argnums, int) else tuple(out)


def _split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{name}(f)(*args): output of function f should be a tuple: (output, aux) if has_aux "
                           f"is True")
    return out


def _call(func, args, kwargs):
    _depth[0] += 1
    try:
        with enable_grad():
            return func(*args, **kwargs)
    finally:
        _depth[0] -= 1


def grad_and_value(func, argnums=0, has_aux=False):
    """(d func / d args[argnums], func(*args)) of a scalar func, as ``torch.func.grad_and_value``."""
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, args, "grad_and_value")
        keep = _keep_graph(args)
        call_args, inputs, builds = _with_inputs(args, nums, keep, "grad_and_value")
        out, aux = _split_aux(_call(func, call_args, kwargs), has_aux, "grad_and_value")
        if not isinstance(out, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}")
        if out.dim() != 0:
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                               f"with {out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
        grads = _functional._grads((out,), inputs, (out.new_ones(()),), keep, False, "grad")
        if not keep:
            grads, out, aux = _detach(grads), out.detach(), _detach(aux)
        g = _regroup(grads, builds, argnums)
        return (g, (out, aux)) if has_aux else (g, out)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """d func / d args[argnums] of a scalar func, as ``torch.func.grad`` ((gradient, aux) with has_aux)."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]) as ``torch.func.vjp``: vjp_fn(cotangents) is the tuple (one per primal,
    in its nest) of the cotangents times the Jacobian; it may be called again."""
    keep = _keep_graph(primals)
    call_args, inputs, builds = _with_inputs(primals, range(len(primals)), keep, "vjp")
    out, aux = _split_aux(_call(func, call_args, {}), has_aux, "vjp")
    outputs, rebuild_out = _flatten(out)
    if not all(isinstance(t, Tensor) for t in outputs):
        raise RuntimeError("vjp(f, *primals): Expected f to be a function that has only Tensors as outputs")

    def vjp_fn(cotangents):
        cot = _flatten(cotangents)[0]
        if len(cot) != len(outputs) or any(c.shape != o.shape for c, o in zip(cot, outputs)):
            raise RuntimeError("vjp_fn: Expected cotangents to have the structure and shapes of the output, got "
                               f"{[tuple(c.shape) for c in cot]} for {[tuple(o.shape) for o in outputs]}")
        grads = _functional._grads(tuple(outputs), inputs, tuple(cot), keep, False, "vjp")
        return _regroup(grads if keep else _detach(grads), builds, tuple(range(len(primals))))
    result = rebuild_out(outputs if keep else [o.detach() for o in outputs])
    return (result, vjp_fn, aux if keep else _detach(aux)) if has_aux else (result, vjp_fn)


def jvp(func, primals, tangents, has_aux=False):
    """(func(*primals), J tangents) as ``torch.func.jvp`` (by two backward passes, as autograd.functional.jvp)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be tuples")
    keep, auxes = _keep_graph(primals), []

    def plain(*xs):
        out, aux = _split_aux(func(*xs), has_aux, "jvp")
        auxes.append(aux)
        return out
    _depth[0] += 1
    try:
        out, tangent_out = _functional.jvp(plain, tuple(primals), tuple(tangents), create_graph=keep)
    finally:
        _depth[0] -= 1
    return (out, tangent_out, auxes[0] if keep else _detach(auxes[0])) if has_aux else (out, tangent_out)


def jacrev(func, argnums=0, has_aux=False):
    """The Jacobian of func with respect to args[argnums] (Tensors), as ``torch.func.jacrev``: shape
    out.shape + arg.shape; tuples over argnums (inner) and outputs (outer) where those are tuples."""
    def wrapper(*args, **kwargs):
        nums, auxes = _argnums(argnums, args, "jacrev"), []

        def of_inputs(*xs):
            call = list(args)
            for n, x in zip(nums, xs):
                call[n] = x
            out, aux = _split_aux(func(*call, **kwargs), has_aux, "jacrev")
            auxes.append(aux)
            return out
        for n in nums:
            if not isinstance(args[n], Tensor):
                raise RuntimeError(f"jacrev: Expected the argument {n} to be a Tensor, got {type(args[n])}")
        keep = _keep_graph(args)
        _depth[0] += 1
        try:
            jac = _functional.jacobian(of_inputs, args[nums[0]] if isinstance(argnums, int) else
                                       tuple(args[n] for n in nums), create_graph=keep)
        finally:
            _depth[0] -= 1
        return (jac, auxes[0] if keep else _detach(auxes[0])) if has_aux else jac
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, randomness="error"):
    """``torch.func.jacfwd``: the same Jacobian as jacrev (computed in reverse mode here)."""
    return jacrev(func, argnums, has_aux)


def hessian(func, argnums=0):
    """The Hessian of a scalar func, as ``torch.func.hessian``: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension in_dims of its inputs (per argument: an int, or None for an argument used
    whole), the results stacked at out_dims, as ``torch.func.vmap`` (one call of func per index: random ops
    draw anew in each, as torch's randomness="different"; ``randomness`` and ``chunk_size`` are accepted)."""
    name = getattr(func, "__name__", type(func).__name__)

    def wrapper(*args, **kwargs):
        dims = tuple(in_dims) if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        where = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if len(dims) != len(args):
            raise ValueError(f"{where}: in_dims is not compatible with the structure of `inputs`: {len(dims)} "
                             f"in_dims for {len(args)} inputs")
        flat = [_flatten(a) for a in args]
        sizes = []
        for (leaves, _), d in zip(flat, dims):
            for t in leaves:
                if d is None or not isinstance(t, Tensor):
                    continue
                if not -t.dim() <= d < t.dim():
                    raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a Tensor of "
                                     f"dimensionality {t.dim()} so expected in_dim to satisfy -{t.dim()} <= in_dim "
                                     f"< {t.dim()}.")
                sizes.append(t.shape[d])
        if not sizes:
            raise ValueError(f"{where}: at least one input must be a Tensor mapped over (an in_dim not None)")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        results = []
        for i in range(sizes[0]):
            call = [rebuild([t.select(d, i) if d is not None and isinstance(t, Tensor) else t for t in leaves])
                    for (leaves, rebuild), d in zip(flat, dims)]
            results.append(_flatten(func(*call, **kwargs)))
        leaves0, rebuild = results[0]
        outs = tuple(out_dims) if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(leaves0)
        if len(outs) != len(leaves0):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): out_dims is not compatible with the "
                             f"structure of `outputs`: {len(outs)} out_dims for {len(leaves0)} outputs")
        stacked = []
        for k, (leaf, d) in enumerate(zip(leaves0, outs)):
            if d is None:
                stacked.append(leaf)
                continue
            if not isinstance(leaf, Tensor):
                raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(leaf)}. Did "
                                 f"you mean to set out_dims= to None for output?")
            stacked.append(functions["stack"]([r[0][k] for r in results], dim=d))
        return rebuild(stacked)
    return wrapper


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """module(*args, **kwargs) with its parameters and buffers replaced, for this call only, by the Tensors
    given by dotted name (a dict, or a tuple of dicts), as ``torch.func.functional_call``. A parameter tied
    to a replaced one (the same Parameter under two names) is replaced with it (tie_weights)."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list)) else (
        parameter_and_buffer_dicts,)
    given = {}
    for d in dicts:
        for key, value in d.items():
            if key in given:
                raise ValueError(f"functional_call: {key!r} appeared in multiple dictionaries")
            given[key] = value
    members = dict(module.named_parameters(remove_duplicate=False))
    members.update(module.named_buffers(remove_duplicate=False))
    if strict:
        missing, unexpected = sorted(set(members) - set(given)), sorted(set(given) - set(members))
        if missing or unexpected:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(
                f"{what} key(s): {', '.join(repr(k) for k in keys)}." for what, keys in
                (("Missing", missing), ("Unexpected", unexpected)) if keys))
    if tie_weights:
        by_member = {id(members[k]): v for k, v in given.items() if k in members}
        given.update({k: by_member[id(m)] for k, m in members.items() if k not in given and id(m) in by_member})
    swapped = []
    try:
        for key, value in given.items():
            path, _, leaf = key.rpartition(".")
            owner = module.get_submodule(path)
            store = owner._parameters if leaf in owner._parameters else owner._buffers \
                if leaf in owner._buffers else owner.__dict__
            swapped.append((store, leaf, store.get(leaf, swapped)))  # (swapped itself: "was not there")
            store[leaf] = value
        args = args if isinstance(args, tuple) else () if args is None else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, leaf, old in reversed(swapped):
            if old is swapped:
                del store[leaf]
            else:
                store[leaf] = old


def stack_module_state(models):
    """(params, buffers): each parameter and buffer of same-class models stacked along a new first dimension,
    as ``torch.func.stack_module_state`` (for ``vmap`` over an ensemble with ``functional_call``). Stacked
    parameters are new leaves that require grad where all the models' do."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named, leaf):
        tables = [dict(named(m)) for m in models]
        out = {}
        for key in tables[0]:
            members = [t[key] for t in tables]
            value = functions["stack"]([v.detach() for v in members])
            out[key] = value.requires_grad_(True) if leaf and all(v.requires_grad for v in members) else value
        return out
    return (stacked(lambda m: m.named_parameters(), True), stacked(lambda m: m.named_buffers(), False))
