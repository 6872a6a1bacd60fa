"""Differentiable dtype casts: ``to``, ``float``, ``double``, ``half``, ``bfloat16``, ``type``,
``type_as``.

A cast between floating/complex dtypes is recorded (``ToCopyBackward0``): the gradient is cast
back to the input's dtype (its real part first when a real tensor became complex, as PyTorch's
``_to_copy_backward``). A cast to an integer or bool dtype gives a tensor that does not
require grad; a cast to the same dtype returns the tensor itself, as PyTorch does.
"""
from rt_autograd._ops._registry import FUNCTIONS, register
from rt_autograd._ops._util import Function, needs_grad, rtt

_T = rtt.Tensor


class ToCopy(Function):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, a, box):
        ctx.dtype = a.dtype
        return box[0]           # computed by the caller (rt_tensor's conversion)

    @staticmethod
    def backward(ctx, g):
        dtype = ctx.dtype
        if not dtype.is_complex and g.dtype.is_complex:
            g = FUNCTIONS["real"](g) if "real" in FUNCTIONS else rtt.real(g)
        if g.dtype != dtype:
            g = to(g, dtype)
        return g, None


def _record(self, out):
    """The cast result ``out`` of ``self``, connected to the graph when it should be."""
    if out is self:
        return self
    d = out.dtype
    if not (d.is_floating_point or d.is_complex):
        return out
    return ToCopy.apply(self, [out])


@register("to", function=False)
def to(self, *args, **kwargs):
    if needs_grad(self):
        return _record(self, _T.to(self, *args, **kwargs))
    return _T.to(self, *args, **kwargs)


@register("float", function=False)
def float_(self):
    if needs_grad(self):
        return _record(self, _T.to(self, rtt.float32))
    return _T.float(self)


@register("double", function=False)
def double(self):
    if needs_grad(self):
        return _record(self, _T.to(self, rtt.float64))
    return _T.double(self)


@register("half", function=False)
def half(self):
    if needs_grad(self):
        return _record(self, _T.to(self, rtt.float16))
    return _T.half(self)


@register("bfloat16", function=False)
def bfloat16(self):
    if needs_grad(self):
        return _record(self, _T.to(self, rtt.bfloat16))
    return _T.bfloat16(self)


@register("type", function=False)
def type_(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return _T.type(self)
    if needs_grad(self):
        return _record(self, _T.type(self, dtype))
    return _T.type(self, dtype)


@register("type_as", function=False)
def type_as(self, other):
    if needs_grad(self):
        return _record(self, _T.type_as(self, other))
    return _T.type_as(self, other)
