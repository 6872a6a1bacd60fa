"""Differentiable reductions."""
from rt_autograd._ops._registry import register
from rt_autograd._ops._util import Function, check_out, needs_grad, rtt


def _dims(dim, ndim):
    """Normalised reduced dims (all when dim is None or empty)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    if len(dim) == 0:
        return tuple(range(ndim))
    return tuple(sorted(d % ndim if ndim else 0 for d in dim))


def _unsqueeze_to(g, shape, dims, keepdim):
    """Reshape a reduced gradient so that it broadcasts against the input's shape."""
    if keepdim or len(shape) == 0:
        return g
    for d in dims:
        g = g.unsqueeze(d)
    return g


class Sum(Function):
    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, a, dim, keepdim, dtype):
        ctx.shape = tuple(a.shape)
        ctx.dims = _dims(dim, a.dim())
        ctx.keepdim = keepdim
        if dim is None:
            ctx.keepdim = False
            return rtt.sum(a, dtype=dtype)
        return rtt.sum(a, dim, keepdim=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        g = _unsqueeze_to(g, ctx.shape, ctx.dims, ctx.keepdim)
        return g.expand(ctx.shape), None, None, None


class Mean(Function):
    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, a, dim, keepdim, dtype):
        ctx.shape = tuple(a.shape)
        ctx.dims = _dims(dim, a.dim())
        ctx.keepdim = keepdim
        n = 1
        for d in ctx.dims:
            n *= ctx.shape[d] if ctx.shape else 1
        ctx.count = n
        if dim is None:
            ctx.keepdim = False
            return rtt.mean(a, dtype=dtype)
        return rtt.mean(a, dim, keepdim=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        g = _unsqueeze_to(g, ctx.shape, ctx.dims, ctx.keepdim)
        return (g / ctx.count).expand(ctx.shape), None, None, None


@register("sum")
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is None and needs_grad(input):
        return Sum.apply(input, dim, keepdim, dtype)
    check_out("sum", out, input)
    if dim is None:
        return rtt.sum(input, dtype=dtype) if out is None else rtt.sum(input, dtype=dtype, out=out)
    return rtt.sum(input, dim, keepdim=keepdim, dtype=dtype, out=out)


@register("mean")
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is None and needs_grad(input):
        return Mean.apply(input, dim, keepdim, dtype)
    check_out("mean", out, input)
    if dim is None:
        return rtt.mean(input, dtype=dtype) if out is None else rtt.mean(input, dtype=dtype, out=out)
    return rtt.mean(input, dim, keepdim=keepdim, dtype=dtype, out=out)
