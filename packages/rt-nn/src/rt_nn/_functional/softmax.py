"""Softmax family of ``torch.nn.functional``: ``softmax``, ``log_softmax``, ``softmin``.

Forward and backward are rt_tensor kernels (``rt_tensor._nn_softmax``: max-subtracted,
threaded over rows). With ``create_graph=True`` the backward is written in differentiable
ops instead (softmax: ``y * (g - sum(g * y))``; log-softmax: ``g - exp(y) * sum(g)``), so
higher derivatives work. float16/bfloat16 compute in float32 and round the result, as
PyTorch's CPU kernels do.
"""
import warnings

import rt_tensor as rtt
from rt_autograd._autograd import is_grad_enabled, needs_grad
from rt_autograd.autograd import Function
from rt_tensor import _nn_softmax as _K

__all__ = ["softmax", "log_softmax", "softmin"]

_FLOATS = (rtt.float32, rtt.float64)
_HALFS = (rtt.float16, rtt.bfloat16)


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


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


def _apply(input, dim, dtype, log):
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
        return _apply(input.float(), dim, None, log).to(d)
    raise NotImplementedError(f'"{_kernel_name(log, dim, nd)}" not implemented for '
                              f"'{d.scalar_name}'")


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    r"""Softmax over ``dim``: :math:`\exp(x_i) / \sum_j \exp(x_j)`. ``dtype`` casts the input
    first. ``dim=None`` is PyTorch's deprecated implicit choice (0 for 0-, 1- and 3-d inputs,
    else 1), with its warning."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return _apply(input, dim, dtype, False)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) over ``dim``, computed as ``x - max - log(sum(exp(x - max)))``."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _apply(input, dim, dtype, True)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) over ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    return _apply(-input, dim, dtype, False)
