"""Differentiable arithmetic: add, sub, mul, div, neg, pow and their in-place forms.

Each op is a ``Function`` (forward on rt_tensor, backward in differentiable ops, so
``create_graph=True`` works) plus a registered wrapper with PyTorch's signature that records
only when needed. Gradients come back in the broadcast shape; the engine sums them to each
input's shape and dtype (rt_autograd._autograd._validate). Complex: the gradient of a
holomorphic f is ``grad * conj(f'(z))`` (PyTorch's convention, autograd docs "Complex
Autograd").
"""
from rt_autograd._ops._registry import register
from rt_autograd._ops._util import (Function, check_out, conj_if_complex, inplace, needs_grad,
                                    rtt)


class Add(Function):
    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return rtt.add(a, b, alpha=alpha)

    @staticmethod
    def backward(ctx, g):
        alpha = ctx.alpha
        gb = None
        if ctx.needs_input_grad[1]:
            gb = g if alpha == 1 else g * (alpha.conjugate() if isinstance(alpha, complex) else alpha)
        return (g if ctx.needs_input_grad[0] else None), gb, None


class Sub(Function):
    node_name = "SubBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return rtt.sub(a, b, alpha=alpha)

    @staticmethod
    def backward(ctx, g):
        alpha = ctx.alpha
        gb = None
        if ctx.needs_input_grad[1]:
            gb = -g if alpha == 1 else g * -(alpha.conjugate() if isinstance(alpha, complex) else alpha)
        return (g if ctx.needs_input_grad[0] else None), gb, None


class Mul(Function):
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return rtt.mul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * conj_if_complex(b) if ctx.needs_input_grad[0] else None
        gb = g * conj_if_complex(a) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return rtt.div(a, b, rounding_mode=rounding_mode)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g / conj_if_complex(b)
        if ctx.needs_input_grad[1]:
            gb = -g * conj_if_complex(a / (b * b))
        return ga, gb, None


class _ZeroGrad(Function):
    """Ops whose derivative is zero almost everywhere (rounding divisions, floor, ...)."""
    node_name = "DivBackward1"

    @staticmethod
    def forward(ctx, fn, *args):
        ctx.shapes = [(a.shape, a.dtype) if isinstance(a, rtt.Tensor) else None for a in args]
        return fn(*args)

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(None if s is None else rtt.zeros(s[0], dtype=s[1])
                               for s in ctx.shapes)


class Neg(Function):
    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx, a):
        return rtt.neg(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, a, b):
        y = rtt.pow(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, rtt.Tensor):
                # b * a^(b-1), with 0 where b == 0 (PyTorch's pow_backward masks that case)
                d = rtt.where(b == 0, rtt.zeros((), dtype=y.dtype), b * a ** (b - 1)) \
                    if not b.dtype.is_complex else b * a ** (b - 1)
            elif b == 0:
                d = rtt.zeros((), dtype=y.dtype)
            else:
                d = b * a ** (b - 1)
            ga = g * conj_if_complex(d)
        if ctx.needs_input_grad[1]:
            # y * log(a), with 0 where a == 0 and b >= 0 (PyTorch's pow_backward_exponent)
            if isinstance(a, rtt.Tensor):
                la = _log(a)
                d = y * la
                if not y.dtype.is_complex:
                    d = rtt.where((a == 0) & (b >= 0), rtt.zeros((), dtype=y.dtype), d)
            else:
                import math
                d = y * (math.log(a) if not isinstance(a, complex) and a > 0 else
                         (__import__("cmath").log(a) if a != 0 else 0.0))
            gb = g * conj_if_complex(d)
        return ga, gb


def _log(a):
    from rt_autograd._ops._registry import FUNCTIONS
    return FUNCTIONS["log"](a) if "log" in FUNCTIONS else rtt.log(a)


# ---- wrappers ------------------------------------------------------------------------------

@register("add")
def add(input, other, *, alpha=1, out=None):
    if out is None and needs_grad(input, other):
        return Add.apply(input, other, alpha)
    check_out("add", out, input, other)
    return rtt.add(input, other, alpha=alpha, out=out)


@register("sub", aliases=("subtract",))
def sub(input, other, *, alpha=1, out=None):
    if out is None and needs_grad(input, other):
        return Sub.apply(input, other, alpha)
    check_out("sub", out, input, other)
    return rtt.sub(input, other, alpha=alpha, out=out)


@register("mul", aliases=("multiply",))
def mul(input, other, *, out=None):
    if out is None and needs_grad(input, other):
        return Mul.apply(input, other)
    check_out("mul", out, input, other)
    return rtt.mul(input, other, out=out)


@register("div", aliases=("divide", "true_divide"))
def div(input, other, *, rounding_mode=None, out=None):
    if out is None and needs_grad(input, other):
        if rounding_mode is not None:
            return _ZeroGrad.apply(lambda a, b: rtt.div(a, b, rounding_mode=rounding_mode),
                                   input, other)
        return Div.apply(input, other, None)
    check_out("div", out, input, other)
    return rtt.div(input, other, rounding_mode=rounding_mode, out=out)


@register("neg", aliases=("negative",))
def neg(input, *, out=None):
    if out is None and needs_grad(input):
        return Neg.apply(input)
    check_out("neg", out, input)
    return rtt.neg(input, out=out)


@register("pow")
def pow(input, exponent, *, out=None):
    if out is None and needs_grad(input, exponent):
        return Pow.apply(input, exponent)
    check_out("pow", out, input, exponent)
    return rtt.pow(input, exponent, out=out)


@register("add_", function=False)
def add_(self, other, *, alpha=1):
    return inplace(self, add, (other,), {"alpha": alpha}, rtt.Tensor.add_)


@register("sub_", function=False, aliases=("subtract_",))
def sub_(self, other, *, alpha=1):
    return inplace(self, sub, (other,), {"alpha": alpha}, rtt.Tensor.sub_)


@register("mul_", function=False, aliases=("multiply_",))
def mul_(self, other):
    return inplace(self, mul, (other,), None, rtt.Tensor.mul_)


@register("div_", function=False, aliases=("divide_", "true_divide_"))
def div_(self, other, *, rounding_mode=None):
    return inplace(self, div, (other,), {"rounding_mode": rounding_mode}, rtt.Tensor.div_)


@register("neg_", function=False, aliases=("negative_",))
def neg_(self):
    return inplace(self, neg, (), None, rtt.Tensor.neg_)


@register("pow_", function=False)
def pow_(self, exponent):
    return inplace(self, pow, (exponent,), None, rtt.Tensor.pow_)
