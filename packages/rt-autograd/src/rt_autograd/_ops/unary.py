"""Differentiable unary math: exp, log, abs, sgn, sign, sqrt, rsqrt, trigonometric and
hyperbolic functions and their inverses, sigmoid, relu, erf, erfc, lgamma, digamma, exp2,
expm1, log2, log10, log1p, reciprocal, rounding (zero gradient), frac, deg2rad, rad2deg, and
their in-place forms.

Backward formulas follow PyTorch's derivatives.yaml (complex: ``grad * conj(f'(z))``);
``abs'(0) = 0`` (grad * sgn), ``relu'(0) = 0``, and sign/round/floor/ceil/trunc have zero
gradient. rt_tensor has no digamma: it is a differentiable composite here (recurrence,
reflection and the asymptotic series), so lgamma is twice differentiable too.
"""
import math

from rt_autograd._ops._registry import register
from rt_autograd._ops._util import Function, check_out, inplace, needs_grad, rtt
from rt_autograd._ops.arith import _cj, _where, _zero_grad, _zeros_of
from rt_autograd.grad_mode import no_grad

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _rsqrt(t):
    # rt_tensor's rsqrt has no complex kernel: 1 / sqrt there
    return t.sqrt().reciprocal() if t.dtype.is_complex else t.rsqrt()


# ---- Functions ------------------------------------------------------------------------------

def _unary_class(node_name, fn, grad, save="input"):
    """A Function for ``fn`` whose backward is ``grad(g, saved)`` (saved = the input or the
    result)."""
    if save == "input":
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return fn(a)
    elif save == "result":
        def forward(ctx, a):
            y = fn(a)
            ctx.save_for_backward(y)
            return y
    else:
        def forward(ctx, a):
            return fn(a)

    if save is None:
        def backward(ctx, g):
            return grad(g, None)
    else:
        def backward(ctx, g):
            s, = ctx.saved_tensors
            return grad(g, s)

    return type(node_name.replace("Backward0", ""), (Function,),
                {"node_name": node_name, "forward": staticmethod(forward),
                 "backward": staticmethod(backward)})


Exp = _unary_class("ExpBackward0", rtt.exp, lambda g, y: g * _cj(y), "result")
Log = _unary_class("LogBackward0", rtt.log, lambda g, a: g / _cj(a))
Abs = _unary_class("AbsBackward0", rtt.abs, lambda g, a: g * sgn(a))
Sqrt = _unary_class("SqrtBackward0", rtt.sqrt, lambda g, y: g / (2 * _cj(y)), "result")
Rsqrt = _unary_class("RsqrtBackward0", rtt.rsqrt, lambda g, y: -0.5 * g * _cj(y ** 3), "result")
Sin = _unary_class("SinBackward0", rtt.sin, lambda g, a: g * _cj(cos(a)))
Cos = _unary_class("CosBackward0", rtt.cos, lambda g, a: g * -_cj(sin(a)))
Tan = _unary_class("TanBackward0", rtt.tan, lambda g, y: g * _cj(1 + y ** 2), "result")
Asin = _unary_class("AsinBackward0", rtt.asin, lambda g, a: g * _cj(_rsqrt(-a * a + 1)))
Acos = _unary_class("AcosBackward0", rtt.acos, lambda g, a: g * -_cj(_rsqrt(-a * a + 1)))
Atan = _unary_class("AtanBackward0", rtt.atan, lambda g, a: g / _cj(a * a + 1))
Sinh = _unary_class("SinhBackward0", rtt.sinh, lambda g, a: g * _cj(cosh(a)))
Cosh = _unary_class("CoshBackward0", rtt.cosh, lambda g, a: g * _cj(sinh(a)))
Tanh = _unary_class("TanhBackward0", rtt.tanh, lambda g, y: g * _cj(1 - y * y), "result")
Asinh = _unary_class("AsinhBackward0", rtt.asinh, lambda g, a: g * _cj(_rsqrt(a ** 2 + 1)))


def _acosh_grad(g, a):
    if a.dtype.is_complex:
        return g * _cj(_rsqrt(a + 1) * _rsqrt(a - 1))
    return g * _rsqrt(a * a - 1)


Acosh = _unary_class("AcoshBackward0", rtt.acosh, _acosh_grad)
Atanh = _unary_class("AtanhBackward0", rtt.atanh, lambda g, a: g * 1 / _cj(1 - a ** 2))
Sigmoid = _unary_class("SigmoidBackward0", rtt.sigmoid,
                       lambda g, y: g * _cj((1 - y) * y), "result")
# threshold_backward(grad, result, 0): relu'(0) = 0
Relu = _unary_class("ReluBackward0", rtt.relu, lambda g, y: _where(y <= 0, 0, g), "result")
Erf = _unary_class("ErfBackward0", rtt.erf,
                   lambda g, a: _TWO_OVER_SQRT_PI * exp(-(a ** 2)) * g)
Erfc = _unary_class("ErfcBackward0", rtt.erfc,
                    lambda g, a: -_TWO_OVER_SQRT_PI * exp(-(a ** 2)) * g)
Lgamma = _unary_class("LgammaBackward0", rtt.lgamma, lambda g, a: g * digamma(a))
Exp2 = _unary_class("Exp2Backward0", rtt.exp2, lambda g, y: g * _cj(y) * _LN2, "result")
Expm1 = _unary_class("Expm1Backward0", rtt.expm1, lambda g, y: g * (_cj(y) + 1), "result")
Log2 = _unary_class("Log2Backward0", rtt.log2, lambda g, a: g / (_cj(a) * _LN2))
Log10 = _unary_class("Log10Backward0", rtt.log10, lambda g, a: g / (_cj(a) * _LN10))
Log1p = _unary_class("Log1PBackward0", rtt.log1p, lambda g, a: g / _cj(a + 1))
Reciprocal = _unary_class("ReciprocalBackward0", rtt.reciprocal,
                          lambda g, y: -g * _cj(y * y), "result")
Frac = _unary_class("FracBackward0", rtt.frac, lambda g, _: g, None)
Deg2rad = _unary_class("Deg2RadBackward0", rtt.deg2rad, lambda g, _: g * (math.pi / 180.0), None)
Rad2deg = _unary_class("Rad2DegBackward0", rtt.rad2deg, lambda g, _: g * (180.0 / math.pi), None)


class Sgn(Function):
    node_name = "SgnBackward0"

    @staticmethod
    def forward(ctx, a):
        y = rtt.sgn(a)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, s = ctx.saved_tensors
        if not a.dtype.is_complex:
            return _zeros_of(g)
        # sgn_backward: (gx - (sgn * sgn) * gx.conj()) / (2 * abs), 0 where abs == 0
        r = abs(a)
        return _where(r == 0, 0, (g - (s * s) * g.conj()) / (2 * r))


# ---- digamma: a differentiable composite -----------------------------------------------------

# Cephes' asymptotic coefficients (psi(x) ~ log x - 1/(2x) - sum B_2k / (2k x^2k)), highest
# power of 1/x^2 first
_PSI_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
          -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
          8.33333333333333333333E-2)
_PSI_SHIFT = 10


def _digamma(x):
    """psi(x) built from differentiable ops, as PyTorch's calc_digamma: x < 0 reflects
    (psi(1 - x) - pi / tan(pi * frac(x))); then the recurrence psi(y) = psi(y + 10) -
    sum_k 1 / (y + k) and the asymptotic series at y + 10 >= 10 (error < 1e-16 relative).
    psi(+0) = -inf, psi(-0) = +inf, psi(negative integer) = nan."""
    neg = x < 0
    r = x - trunc(x)                                 # fractional part, derivative 1
    r_safe = _where(neg, r, 0.25)                    # keep the unused branch finite
    refl = _where(neg, math.pi / tan(math.pi * r_safe), 0.0)
    y = _where(neg, 1 - x, x)
    acc = reciprocal(y)
    for k in range(1, _PSI_SHIFT):
        acc = acc + reciprocal(y + k)
    z = y + _PSI_SHIFT
    zz = reciprocal(z * z)
    poly = _PSI_A[0]
    for c in _PSI_A[1:]:
        poly = poly * zz + c
    res = log(z) - 0.5 * reciprocal(z) - zz * poly - acc - refl
    pole = neg & (r == 0)
    if rtt.any(pole):
        res = _where(pole, math.nan, res)
    return res


def _float_input(input):
    if input.dtype.is_floating_point:
        return input
    return rtt.Tensor.to(input, rtt.get_default_dtype())


# ---- wrappers --------------------------------------------------------------------------------

def _def_unary(name, fn_cls, rtt_fn, aliases=(), inplace_aliases=(), has_inplace=True):
    apply = fn_cls.apply

    def op(input, *, out=None):
        if out is None:
            if needs_grad(input):
                return apply(input)
            return rtt_fn(input)
        check_out(name, out, input)
        return rtt_fn(input, out=out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Differentiable ``{name}`` (PyTorch's ``torch.{name}``)."
    register(name, aliases=aliases)(op)
    if has_inplace:
        rtt_inplace = getattr(rtt.Tensor, name + "_")

        def op_(self):
            return inplace(self, op, (), None, rtt_inplace)
        op_.__name__ = op_.__qualname__ = name + "_"
        register(name + "_", function=False, aliases=inplace_aliases)(op_)
    return op


exp = _def_unary("exp", Exp, rtt.exp)
log = _def_unary("log", Log, rtt.log)
abs = _def_unary("abs", Abs, rtt.abs, aliases=("absolute",), inplace_aliases=("absolute_",))
sqrt = _def_unary("sqrt", Sqrt, rtt.sqrt)
rsqrt = _def_unary("rsqrt", Rsqrt, rtt.rsqrt)
sin = _def_unary("sin", Sin, rtt.sin)
cos = _def_unary("cos", Cos, rtt.cos)
tan = _def_unary("tan", Tan, rtt.tan)
asin = _def_unary("asin", Asin, rtt.asin, aliases=("arcsin",))
acos = _def_unary("acos", Acos, rtt.acos, aliases=("arccos",))
atan = _def_unary("atan", Atan, rtt.atan, aliases=("arctan",))
sinh = _def_unary("sinh", Sinh, rtt.sinh)
cosh = _def_unary("cosh", Cosh, rtt.cosh)
tanh = _def_unary("tanh", Tanh, rtt.tanh)
asinh = _def_unary("asinh", Asinh, rtt.asinh, aliases=("arcsinh",))
acosh = _def_unary("acosh", Acosh, rtt.acosh, aliases=("arccosh",))
atanh = _def_unary("atanh", Atanh, rtt.atanh, aliases=("arctanh",))
sigmoid = _def_unary("sigmoid", Sigmoid, rtt.sigmoid)
erf = _def_unary("erf", Erf, rtt.erf)
erfc = _def_unary("erfc", Erfc, rtt.erfc)
lgamma = _def_unary("lgamma", Lgamma, rtt.lgamma)
exp2 = _def_unary("exp2", Exp2, rtt.exp2)
expm1 = _def_unary("expm1", Expm1, rtt.expm1)
log2 = _def_unary("log2", Log2, rtt.log2)
log10 = _def_unary("log10", Log10, rtt.log10)
log1p = _def_unary("log1p", Log1p, rtt.log1p)
reciprocal = _def_unary("reciprocal", Reciprocal, rtt.reciprocal)
sgn = _def_unary("sgn", Sgn, rtt.sgn)
frac = _def_unary("frac", Frac, rtt.frac)
deg2rad = _def_unary("deg2rad", Deg2rad, rtt.deg2rad, has_inplace=False)
rad2deg = _def_unary("rad2deg", Rad2deg, rtt.rad2deg, has_inplace=False)


@register("relu")
def relu(input, *, out=None):
    if out is None:
        if needs_grad(input):
            return Relu.apply(input)
        return rtt.relu(input)
    check_out("relu", out, input)
    return rtt.relu(input, out=out)


@register("relu_", function=False)
def relu_(self):
    return inplace(self, relu, (), None, rtt.Tensor.relu_)


def _def_zero_grad(name, node_name, rtt_fn, aliases=(), inplace_aliases=()):
    def op(input, *, out=None):
        if out is None:
            if needs_grad(input):
                return _zero_grad(node_name, rtt_fn, input)
            return rtt_fn(input)
        check_out(name, out, input)
        return rtt_fn(input, out=out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``torch.{name}``: its gradient is zero."
    register(name, aliases=aliases)(op)
    rtt_inplace = getattr(rtt.Tensor, name + "_")

    def op_(self):
        return inplace(self, op, (), None, rtt_inplace)
    op_.__name__ = op_.__qualname__ = name + "_"
    register(name + "_", function=False, aliases=inplace_aliases)(op_)
    return op


sign = _def_zero_grad("sign", "SignBackward0", rtt.sign)
floor = _def_zero_grad("floor", "FloorBackward0", rtt.floor)
ceil = _def_zero_grad("ceil", "CeilBackward0", rtt.ceil)
trunc = _def_zero_grad("trunc", "TruncBackward0", rtt.trunc)
fix = _def_zero_grad("fix", "TruncBackward0", rtt.fix)


def _round_decimals(decimals):
    return lambda a: rtt.round(a, decimals=decimals)


@register("round")
def round(input, *, decimals=0, out=None):
    if out is None:
        if needs_grad(input):
            if decimals == 0:
                return _zero_grad("RoundBackward0", rtt.round, input)
            return _zero_grad("RoundBackward1", _round_decimals(decimals), input)
        return rtt.round(input, decimals=decimals)
    check_out("round", out, input)
    return rtt.round(input, decimals=decimals, out=out)


@register("round_", function=False)
def round_(self, *, decimals=0):
    if decimals == 0:
        return inplace(self, round, (), None, rtt.Tensor.round_)
    return inplace(self, round, (), {"decimals": decimals}, None)


@register("digamma")
def digamma(input, *, out=None):
    """``torch.digamma``: the logarithmic derivative of the gamma function (a composite of
    differentiable ops; rt_tensor has no kernel for it)."""
    if out is None and needs_grad(input):
        return _digamma(input)
    check_out("digamma", out, input)
    with no_grad():
        res = _digamma(_float_input(input))
    if out is None:
        return res
    if tuple(out.shape) != tuple(res.shape):
        rtt.Tensor.resize_(out, tuple(res.shape))
    rtt.Tensor.copy_(out, res)
    return out


@register("digamma_", function=False)
def digamma_(self):
    return inplace(self, digamma, (), None, None)
