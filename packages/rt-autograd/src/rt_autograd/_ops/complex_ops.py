"""Differentiable complex-number ops: real, imag (functions, and ``Tensor.real`` /
``Tensor.imag`` properties as in PyTorch), conj, angle, polar, complex.

PyTorch's convention: for a real input x feeding a complex output, the gradient is the real
part of ``grad * conj(dy/dx)``; for a complex input z it is ``grad * conj(df/dz)`` for
holomorphic f, and the conjugate-Wirtinger formula of derivatives.yaml otherwise.
"""
from rt_autograd._ops._registry import register
from rt_autograd._ops._util import Function, check_out, inplace, needs_grad, rtt
from rt_autograd._ops.arith import _where, _zeros_of


class Real(Function):
    node_name = "RealBackward0"

    @staticmethod
    def forward(ctx, a):
        return rtt.real(a)

    @staticmethod
    def backward(ctx, g):
        # the real part of z = x + iy is x: gradient g + 0j
        return g * (1 + 0j)


class Imag(Function):
    node_name = "ImagBackward0"

    @staticmethod
    def forward(ctx, a):
        return rtt.imag(a)

    @staticmethod
    def backward(ctx, g):
        return g * 1j


class Conj(Function):
    node_name = "ConjBackward0"

    @staticmethod
    def forward(ctx, a):
        return rtt.conj(a)

    @staticmethod
    def backward(ctx, g):
        return conj(g)


class Angle(Function):
    node_name = "AngleBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return rtt.angle(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        if not a.dtype.is_complex:
            return _zeros_of(g)
        # angle_backward: grad * self / |self|^2 * 1j, 0 at 0
        return _where(a == 0, 0, g * a / (a.abs() ** 2) * 1j)


class Polar(Function):
    node_name = "PolarBackward0"

    @staticmethod
    def forward(ctx, r, theta):
        y = rtt.polar(r, theta)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        gc = conj(g)
        ga = real(gc * y.sgn()) if ctx.needs_input_grad[0] else None
        gt = real(gc * (y * 1j)) if ctx.needs_input_grad[1] else None
        return ga, gt


class Complex(Function):
    node_name = "ComplexBackward0"

    @staticmethod
    def forward(ctx, re, im):
        return rtt.complex(re, im)

    @staticmethod
    def backward(ctx, g):
        gr = real(g) if ctx.needs_input_grad[0] else None
        gi = imag(g) if ctx.needs_input_grad[1] else None
        return gr, gi


# ---- wrappers --------------------------------------------------------------------------------

@register("real", method=False)
def real(input):
    if needs_grad(input):
        if not input.dtype.is_complex:
            return input                       # PyTorch returns self for real tensors
        return Real.apply(input)
    return rtt.real(input)


@register("imag", method=False)
def imag(input):
    if needs_grad(input) and input.dtype.is_complex:
        return Imag.apply(input)
    return rtt.imag(input)


def _set_real(self, value):
    real(self).copy_(value)


def _set_imag(self, value):
    imag(self).copy_(value)


# Tensor.real / Tensor.imag are attributes in PyTorch (views, assignable)
register("real", function=False)(property(real, _set_real, doc="The real part (a view)."))
register("imag", function=False)(property(imag, _set_imag, doc="The imaginary part (a view)."))


@register("conj")
def conj(input, *, out=None):
    if out is None:
        if needs_grad(input):
            if not input.dtype.is_complex:
                return input                       # PyTorch returns self for real tensors
            return Conj.apply(input)
        return rtt.conj(input)
    check_out("conj", out, input)
    return rtt.conj(input, out=out)


@register("conj_", function=False)
def conj_(self):
    return inplace(self, conj, (), None, rtt.Tensor.conj_)


@register("angle")
def angle(input, *, out=None):
    if out is None:
        if needs_grad(input):
            return Angle.apply(input)
        return rtt.angle(input)
    check_out("angle", out, input)
    return rtt.angle(input, out=out)


@register("angle_", function=False)
def angle_(self):
    return inplace(self, angle, (), None, rtt.Tensor.angle_)


@register("polar", method=False)
def polar(abs, angle, *, out=None):
    if out is None:
        if needs_grad(abs, angle):
            return Polar.apply(abs, angle)
        return rtt.polar(abs, angle)
    check_out("polar", out, abs, angle)
    return rtt.polar(abs, angle, out=out)


@register("complex", method=False)
def complex(real, imag, *, out=None):
    if out is None:
        if needs_grad(real, imag):
            return Complex.apply(real, imag)
        return rtt.complex(real, imag)
    check_out("complex", out, real, imag)
    return rtt.complex(real, imag, out=out)
