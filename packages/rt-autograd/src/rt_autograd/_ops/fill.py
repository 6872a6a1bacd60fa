"""In-place ops whose new values do not depend on the old ones (fill_, zero_, the random
fills, in-place comparisons), ``new_*`` factories with ``requires_grad``, complex casts,
and resize guards.

Under autograd these go through ``_util.inplace`` like every in-place op: the tensor (or
the base it is a view of) gets a node whose gradient for the old values is zero, as
PyTorch's ``fill_``/``zero_``/``eq_`` (derivatives.yaml: ``self: zeros_like(grad)``).
"""
import functools

from rt_autograd._ops._registry import METHODS, register
from rt_autograd._ops._util import Function, inplace, needs_grad, rtt

_T = rtt.Tensor


class _Overwrite(Function):
    """``fn(clone of self, *args)`` computed in place on a fresh copy: new values that do not
    depend on the old ones (zero gradient for them); a 0-d tensor ``value`` of ``fill_``
    gets the sum of the gradient."""
    node_name = "FillBackward0"

    @staticmethod
    def forward(ctx, x, fn, value, *args):
        out = _T.clone(x)
        fn(out, *((value,) if value is not None else ()), *args)
        return out

    @staticmethod
    def backward(ctx, g):
        gx = g.mul(0) if ctx.needs_input_grad[0] else None
        gv = g.sum() if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
        return (gx, None, gv) + (None,) * (len(ctx.needs_input_grad) - 3)


def _overwrite_method(name, fn, has_value=False):
    def method(self, *args, **kwargs):
        if not needs_grad(self, *args):
            return fn(self, *args, **kwargs)
        if kwargs:
            bound = functools.partial(fn, **kwargs)
        else:
            bound = fn
        if has_value:
            value, rest = args[0], args[1:]
            return inplace(self, lambda x, v, *r: _Overwrite.apply(x, bound, v, *r),
                           (value,) + tuple(rest))
        return inplace(self, lambda x, *r: _Overwrite.apply(x, bound, None, *r), args)
    method.__name__ = name
    method.__doc__ = f"``Tensor.{name}`` (see PyTorch); under autograd the old values get a " \
                     f"zero gradient."
    return method


register("fill_", function=False)(_overwrite_method("fill_", _T.fill_, has_value=True))
register("zero_", function=False)(_overwrite_method("zero_", _T.zero_))
for _name in ("normal_", "uniform_", "bernoulli_", "exponential_", "cauchy_", "geometric_",
              "log_normal_", "random_"):
    register(_name, function=False)(_overwrite_method(_name, getattr(_T, _name)))


class _CompareInPlace(Function):
    """An in-place comparison or logical op on a float tensor: 0/1 values, zero gradient."""
    node_name = "EqBackward0"

    @staticmethod
    def forward(ctx, x, fn, *args):
        out = _T.clone(x)
        fn(out, *args)
        return out

    @staticmethod
    def backward(ctx, g):
        return (g.mul(0) if ctx.needs_input_grad[0] else None,) + \
            (None,) * (len(ctx.needs_input_grad) - 1)


def _compare_method(name, fn):
    def method(self, *args):
        if not needs_grad(self, *args):
            return fn(self, *args)
        return inplace(self, lambda x, *r: _CompareInPlace.apply(x, fn, *r), args)
    method.__name__ = name
    return method


for _name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "logical_and_", "logical_or_",
              "logical_xor_", "logical_not_", "signbit_", "isnan_", "isinf_", "isfinite_",
              "isposinf_", "isneginf_"):
    if hasattr(_T, _name):
        register(_name, function=False)(_compare_method(_name, getattr(_T, _name)))


def _new_factory(name, fn):
    @functools.wraps(fn)
    def method(self, *args, requires_grad=False, **kwargs):
        t = fn(self, *args, **kwargs)
        if requires_grad:
            t.requires_grad_(True)
        return t
    return method


for _name in ("new_zeros", "new_ones", "new_full", "new_empty", "new_tensor",
              "new_empty_strided"):
    register(_name, function=False)(_new_factory(_name, getattr(_T, _name)))


@register("cfloat", function=False)
def cfloat(self):
    """``self.to(complex64)``: differentiable for float tensors."""
    return METHODS["to"](self, rtt.complex64) if needs_grad(self) else _T.cfloat(self)


@register("cdouble", function=False)
def cdouble(self):
    """``self.to(complex128)``: differentiable for float tensors."""
    return METHODS["to"](self, rtt.complex128) if needs_grad(self) else _T.cdouble(self)


def _no_resize(name, fn):
    def method(self, *args, **kwargs):
        if getattr(self, "requires_grad", False):
            raise RuntimeError("cannot resize variables that require grad")
        return fn(self, *args, **kwargs)
    method.__name__ = name
    return method


register("resize_", function=False)(_no_resize("resize_", _T.resize_))
register("resize_as_", function=False)(_no_resize("resize_as_", _T.resize_as_))
