"""Differentiable joins: cat (concat, concatenate), stack, hstack, vstack (row_stack), dstack,
column_stack, block_diag.

The forward is rt_tensor's (argument checks, dtype promotion); the backward hands every input
its slice of the gradient (narrow/select views of it, reshaped to the input's shape), and the
engine casts each slice back to its input's dtype. The tensors are passed to the Function as
separate arguments so that each gets its own edge in the graph.
"""
from rt_autograd._ops._registry import FUNCTIONS, register
from rt_autograd._ops._util import Function, check_out, needs_grad, rtt

_T = rtt.Tensor


def _is_legacy_empty(shape):
    return len(shape) == 1 and shape[0] == 0


class _Join(Function):
    """``fn(tensors)``, with every input's gradient a slice along ``dim`` of the output's
    gradient. ``reps``: each input's shape as it enters the concatenation (after the
    atleast_nd / column reshaping of hstack & co.)."""
    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, fn, layout, *tensors):
        out = fn(list(tensors))
        ctx.shapes = [tuple(t.shape) for t in tensors]
        ctx.dim, ctx.reps = layout(tensors, out)
        return out

    @staticmethod
    def backward(ctx, g):
        grads = []
        off = 0
        d = ctx.dim
        for shape, rep, need in zip(ctx.shapes, ctx.reps, ctx.needs_input_grad[2:]):
            if _is_legacy_empty(rep):
                grads.append(None)          # skipped by cat (legacy empty tensor)
                continue
            n = rep[d]
            if need:
                gi = g.narrow(d, off, n)
                grads.append(gi if tuple(gi.shape) == shape else gi.reshape(shape))
            else:
                grads.append(None)
            off += n
        return (None, None) + tuple(grads)


class _Stack(Function):
    node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, *tensors):
        out = rtt.stack(list(tensors), dim)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(g.select(ctx.dim, i) if need else None
                               for i, need in enumerate(ctx.needs_input_grad[1:]))


def _cat_layout(dim):
    def layout(tensors, out):
        ref = next((t for t in tensors if not _is_legacy_empty(tuple(t.shape))), None)
        if ref is None:
            return 0, [tuple(t.shape) for t in tensors]
        n = ref.dim()
        d = dim + n if dim < 0 else dim
        return d, [tuple(t.shape) for t in tensors]
    return layout


def _rep_layout(rep_fn, dim_fn):
    def layout(tensors, out):
        reps = [rep_fn(tuple(t.shape)) for t in tensors]
        return dim_fn(reps), reps
    return layout


def _atleast_1d_shape(s):
    return s if len(s) >= 1 else (1,)


def _atleast_2d_shape(s):
    if len(s) == 0:
        return (1, 1)
    if len(s) == 1:
        return (1,) + s
    return s


def _atleast_3d_shape(s):
    if len(s) == 0:
        return (1, 1, 1)
    if len(s) == 1:
        return (1,) + s + (1,)
    if len(s) == 2:
        return s + (1,)
    return s


def _column_shape(s):
    if len(s) <= 1:
        n = 1
        for x in s:
            n *= x
        return (n, 1)
    return s


_HSTACK = _rep_layout(_atleast_1d_shape, lambda reps: 0 if len(reps[0]) == 1 else 1)
_VSTACK = _rep_layout(_atleast_2d_shape, lambda reps: 0)
_DSTACK = _rep_layout(_atleast_3d_shape, lambda reps: 2)
_COLUMN = _rep_layout(_column_shape, lambda reps: 0 if len(reps[0]) == 1 else 1)


def _tensors(tensors, fname):
    if isinstance(tensors, rtt.Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    return tuple(tensors)


@register("cat", method=False, aliases=("concat", "concatenate"))
def cat(tensors, dim=0, *, out=None):
    if out is None and needs_grad(tensors):
        ts = _tensors(tensors, "cat")
        return _Join.apply(lambda xs: rtt.cat(xs, dim), _cat_layout(dim), *ts)
    if out is not None:
        check_out("cat", out, tensors)
    return rtt.cat(tensors, dim, out=out)


@register("stack", method=False)
def stack(tensors, dim=0, *, out=None):
    if out is None and needs_grad(tensors):
        ts = _tensors(tensors, "stack")
        if not ts:
            return rtt.stack(ts, dim)
        n = ts[0].dim() + 1
        d = dim + n if isinstance(dim, int) and dim < 0 else dim
        return _Stack.apply(d, *ts)
    if out is not None:
        check_out("stack", out, tensors)
    return rtt.stack(tensors, dim, out=out)


def _joiner(name, rt_fn, layout):
    def fn(tensors, *, out=None):
        if out is None and needs_grad(tensors):
            ts = _tensors(tensors, name)
            return _Join.apply(rt_fn, layout, *ts)
        if out is not None:
            check_out(name, out, tensors)
        return rt_fn(tensors, out=out)
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = getattr(rt_fn, "__doc__", None)
    return fn


hstack = register("hstack", method=False)(_joiner("hstack", rtt.hstack, _HSTACK))
vstack = register("vstack", method=False, aliases=("row_stack",))(
    _joiner("vstack", rtt.vstack, _VSTACK))
dstack = register("dstack", method=False)(_joiner("dstack", rtt.dstack, _DSTACK))
column_stack = register("column_stack", method=False)(
    _joiner("column_stack", rtt.column_stack, _COLUMN))


class _BlockDiag(Function):
    node_name = "BlockDiagBackward0"

    @staticmethod
    def forward(ctx, *tensors):
        out = rtt.block_diag(*tensors)
        ctx.shapes = [tuple(t.shape) for t in tensors]
        return out

    @staticmethod
    def backward(ctx, g):
        grads = []
        r = c = 0
        for shape, need in zip(ctx.shapes, ctx.needs_input_grad):
            h, w = (1, 1) if len(shape) == 0 else ((1, shape[0]) if len(shape) == 1 else shape)
            if need:
                gi = g.narrow(0, r, h).narrow(1, c, w)
                grads.append(gi if tuple(gi.shape) == shape else gi.reshape(shape))
            else:
                grads.append(None)
            r += h
            c += w
        return tuple(grads)


@register("block_diag", method=False)
def block_diag(*tensors):
    if needs_grad(*tensors) or (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))
                                and needs_grad(tensors[0])):
        ts = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
            else tensors
        return _BlockDiag.apply(*ts)
    return rtt.block_diag(*tensors)


# ---- grids -----------------------------------------------------------------------------------

@register("meshgrid", method=False)
def meshgrid(*tensors, indexing=None):
    """``torch.meshgrid``: expanded views, differentiable (composite of reshape/expand)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not needs_grad(*tensors):
        return rtt.meshgrid(*tensors, indexing=indexing)
    # rt_tensor validates the arguments (and warns for a missing indexing, as PyTorch)
    shapes = [tuple(o.shape) for o in rtt.meshgrid(*[t.detach() for t in tensors],
                                                    indexing=indexing)]
    n = len(tensors)
    xy = indexing == "xy" and n >= 2
    outs = []
    for i, t in enumerate(tensors):
        pos = (1 - i if i < 2 else i) if xy else i
        view = [1] * n
        view[pos] = -1
        outs.append(t.reshape(view).expand(shapes[i]))
    return tuple(outs)


@register("cartesian_prod", method=False)
def cartesian_prod(*tensors):
    """``torch.cartesian_prod``: differentiable (meshgrid, flatten, stack)."""
    if not needs_grad(*tensors):
        return rtt.cartesian_prod(*tensors)
    rtt.cartesian_prod(*[t.detach() for t in tensors])     # argument checks
    if len(tensors) == 1:
        return tensors[0].clone()
    grids = meshgrid(*tensors, indexing="ij")
    return FUNCTIONS["stack"]([g.reshape(-1) for g in grids], 1)
