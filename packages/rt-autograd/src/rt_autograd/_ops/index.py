"""Differentiable indexing: ``t[index]`` and ``t[index] = value``."""
from rt_autograd._ops._registry import register
from rt_autograd._ops._util import Function, check_inplace, inplace, needs_grad, rtt

_T = rtt.Tensor


class GetItem(Function):
    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape = tuple(a.shape)
        ctx.dtype = a.dtype
        ctx.index = index
        return _T.__getitem__(a, index)

    @staticmethod
    def backward(ctx, g):
        # zeros of the input's shape with g accumulated at the indexed positions
        from rt_autograd._ops._registry import FUNCTIONS
        z = rtt.zeros(ctx.shape, dtype=g.dtype)
        return FUNCTIONS["_index_put_accumulate"](z, ctx.index, g), None


class _IndexPutAccumulate(Function):
    """``base`` with ``values`` added at ``base[index]`` (repeated positions accumulate)."""
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, base, index, values):
        ctx.index = index
        out = _T.clone(base)
        _accumulate_at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, g):
        gv = _T.__getitem__(g, ctx.index) if ctx.needs_input_grad[2] else None
        return (g if ctx.needs_input_grad[0] else None), None, gv


def _accumulate_at(out, index, values):
    """out[index] += values, accumulating repeated positions (index_put_ accumulate=True)."""
    # map every indexed element to its flat position, then index_add over the flat view
    positions = rtt.arange(out.numel(), dtype=rtt.int64).reshape(out.shape)
    pos = _T.__getitem__(positions, index)
    vals = rtt.broadcast_to(values, pos.shape) if isinstance(values, rtt.Tensor) else \
        rtt.full(pos.shape, values, dtype=out.dtype)
    flat = out.view(-1) if out.is_contiguous() else None
    if flat is None:
        raise RuntimeError("internal: accumulate into a non-contiguous tensor")
    _T.index_add_(flat, 0, pos.reshape(-1), _T.reshape(vals, -1).to(out.dtype))


class SetItem(Function):
    """``x[index] = value`` out of place: a copy of x with the region replaced (the in-place
    form goes through _util.inplace, which handles versions, views and history)."""
    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index = index
        out = _T.clone(x)
        _T.__setitem__(out, index, value)
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = g.clone()
            gx[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            gv = g[ctx.index]
        return gx, gv, None


@register("__getitem__", function=False)
def getitem(self, index):
    if needs_grad(self):
        return GetItem.apply(self, index)
    return _T.__getitem__(self, index)


@register("__setitem__", function=False)
def setitem(self, index, value):
    if needs_grad(self, value):
        inplace(self, lambda x, v: SetItem.apply(x, v, index), (value,))
        return
    check_inplace(self)
    _T.__setitem__(self, index, value)


@register("_index_put_accumulate", method=False)
def _index_put_accumulate(base, index, values):
    if needs_grad(base, values):
        return _IndexPutAccumulate.apply(base, index, values)
    out = _T.clone(base)
    _accumulate_at(out, index, values)
    return out
