"""Differentiable ``softmax`` and ``log_softmax`` (``torch.softmax``, ``Tensor.softmax``).

Forward and backward are rt_tensor kernels (``rt_tensor._nn_softmax``: max-subtracted,
threaded over rows). With ``create_graph=True`` the backward is written in differentiable
ops instead (softmax: ``y * (g - sum(g * y))``; log-softmax: ``g - exp(y) * sum(g)``), so
higher derivatives work. float16/bfloat16 compute in float32 and round the result, as
PyTorch's CPU kernels do. rt_nn.functional's softmax family calls these.
"""
import rt_tensor as rtt
from rt_tensor import _nn_softmax as _K

from rt_autograd._autograd import is_grad_enabled, needs_grad
from rt_autograd._ops._registry import register
from rt_autograd.function import Function

__all__ = ["softmax", "log_softmax", "apply_softmax"]

_FLOATS = (rtt.float32, rtt.float64)
_HALFS = (rtt.float16, rtt.bfloat16)


def _wrap_dim(dim, ndim):
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


class _Softmax(Function):
    node_name = "SoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        y = _K.softmax_forward(x, dim, False)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        if is_grad_enabled():           # create_graph: differentiable formula
            return y * (g - (g * y).sum(ctx.dim, keepdim=True)), None
        if g.dtype != y.dtype:
            g = g.to(y.dtype)
        return _K.softmax_backward(g, y, ctx.dim, False), None


class _LogSoftmax(Function):
    node_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        y = _K.softmax_forward(x, dim, True)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        if is_grad_enabled():
            return g - y.exp() * g.sum(ctx.dim, keepdim=True), None
        if g.dtype != y.dtype:
            g = g.to(y.dtype)
        return _K.softmax_backward(g, y, ctx.dim, True), None


def _kernel_name(log, dim, ndim):
    last = dim == ndim - 1 or ndim == 0
    return ("log_softmax" if log else "softmax") + ("_lastdim" if last else "") + "_kernel_impl"


def apply_softmax(input, dim, dtype, log):
    if dtype is not None and input.dtype != dtype:
        input = input.to(dtype)
    d = input.dtype
    nd = input.dim()
    dim = _wrap_dim(dim, nd)
    fn = _LogSoftmax if log else _Softmax
    if d in _FLOATS:
        if needs_grad(input):
            return fn.apply(input, dim)
        return _K.softmax_forward(input, dim, log)
    if d in _HALFS:
        return apply_softmax(input.float(), dim, None, log).to(d)
    raise NotImplementedError(f'"{_kernel_name(log, dim, nd)}" not implemented for '
                              f"'{d.scalar_name}'")


@register("softmax")
def softmax(input, dim, dtype=None):
    """softmax over ``dim`` (``torch.softmax``)."""
    return apply_softmax(input, dim, dtype, False)


@register("log_softmax")
def log_softmax(input, dim, dtype=None):
    """log(softmax(x)) over ``dim`` (``torch.log_softmax``)."""
    return apply_softmax(input, dim, dtype, True)
