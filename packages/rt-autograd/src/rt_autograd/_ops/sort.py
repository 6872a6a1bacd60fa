"""Differentiable sorting: sort, msort, topk, kthvalue.

The values get the gradient at their indices (PyTorch's value_selecting_reduction_backward,
a scatter into zeros; its own backward is a gather, so second derivatives work); the indices
are not differentiable.
"""
from rt_tensor import return_types as _rt

from rt_autograd._ops._registry import register
from rt_autograd._ops._util import Function, check_out, needs_grad, rtt
from rt_autograd._ops.reduce import ValueSelecting, _wrap_dim, value_selecting_backward


class _Sort(Function):
    node_name = "SortBackward0"

    @staticmethod
    def forward(ctx, a, dim, descending, stable):
        values, indices = rtt.sort(a, dim, descending, stable)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.shape = tuple(a.shape)
        ctx.dim = _wrap_dim(dim, a.dim())
        return values, indices

    @staticmethod
    def backward(ctx, g, _gi):
        indices, = ctx.saved_tensors
        return value_selecting_backward(g, ctx.dim, indices, ctx.shape, True), None, None, None


class _SortStable(_Sort):
    node_name = "SortBackward1"          # PyTorch's sort.stable overload


class _Topk(Function):
    node_name = "TopkBackward0"

    @staticmethod
    def forward(ctx, a, k, dim, largest, sorted):
        values, indices = rtt.topk(a, k, dim, largest, sorted)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.shape = tuple(a.shape)
        ctx.dim = _wrap_dim(dim, a.dim())
        return values, indices

    @staticmethod
    def backward(ctx, g, _gi):
        indices, = ctx.saved_tensors
        return value_selecting_backward(g, ctx.dim, indices, ctx.shape, True), None, None, \
            None, None


class _Kthvalue(ValueSelecting):
    node_name = "KthvalueBackward0"


@register("sort")
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    if out is None and needs_grad(input):
        return _rt.sort((_SortStable if stable else _Sort).apply(input, dim, descending, stable))
    check_out("sort", out, input)
    return rtt.sort(input, dim, descending, stable, out=out)


@register("msort")
def msort(input, *, out=None):
    if out is None and needs_grad(input):
        return _Sort.apply(input, 0, False, False)[0]
    check_out("msort", out, input)
    return rtt.msort(input, out=out)


@register("topk")
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    if out is None and needs_grad(input):
        return _rt.topk(_Topk.apply(input, k, dim, largest, sorted))
    check_out("topk", out, input)
    return rtt.topk(input, k, dim, largest, sorted, out=out)


@register("kthvalue")
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    if out is None and needs_grad(input):
        return _rt.kthvalue(_Kthvalue.apply(
            input, lambda t: rtt.kthvalue(t, k, dim, keepdim), dim, keepdim))
    check_out("kthvalue", out, input)
    return rtt.kthvalue(input, k, dim, keepdim, out=out)
