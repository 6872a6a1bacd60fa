"""Differentiable arithmetic: add, sub, mul, div, neg, pow, remainder, fmod, floor_divide,
atan2, hypot, maximum/minimum, fmax/fmin, copysign, xlogy, lerp, addcmul, addcdiv, logaddexp,
float_power, clamp/clip/clamp_min/clamp_max, nan_to_num, positive, square, and their in-place
forms.

Each op is a ``Function`` (forward on rt_tensor, backward in differentiable ops, so
``create_graph=True`` works) plus a registered wrapper with PyTorch's signature that records
only when needed. Gradients come back in the broadcast shape; the engine sums them to each
input's shape and dtype (rt_autograd._autograd._validate). Complex: the gradient of a
holomorphic f is ``grad * conj(f'(z))`` (PyTorch's convention, autograd docs "Complex
Autograd"). Formulas and subgradient choices follow PyTorch's derivatives.yaml.

Private helpers shared with unary.py / complex_ops.py: ``_where`` (a differentiable where,
self-contained so this family does not depend on another module's), ``_cast`` (a
differentiable dtype cast), ``_cj`` (conj of a tensor or a Python scalar), ``_zero_grad`` (ops
whose derivative is zero almost everywhere).
"""
import cmath
import math

from rt_autograd._ops._registry import register
from rt_autograd._ops._util import Function, check_out, inplace, needs_grad, rtt

try:                    # the core's cdef arithmetic nodes (what `a + b` records)
    from rt_autograd._autograd import arith as _core_arith
except ImportError:     # pragma: no cover - an older core
    _core_arith = None


# ---- shared helpers -----------------------------------------------------------------------

def _is_t(x):
    return isinstance(x, rtt.Tensor)


def _cj(x):
    """conj of a tensor (differentiable, a no-op for real dtypes) or of a Python scalar."""
    if isinstance(x, rtt.Tensor):
        return x.conj() if x.dtype.is_complex else x
    if isinstance(x, complex):
        return x.conjugate()
    return x


def _is_complex(x):
    return x.dtype.is_complex if isinstance(x, rtt.Tensor) else isinstance(x, complex)


class _Where(Function):
    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.cond = cond
        return rtt.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        c = ctx.cond
        gx = _where(c, g, 0) if ctx.needs_input_grad[1] else None
        gy = _where(c, 0, g) if ctx.needs_input_grad[2] else None
        return None, gx, gy


def _where(cond, x, y):
    """``where(cond, x, y)``, recording when x or y needs grad (cond is a bool tensor)."""
    if needs_grad(x, y):
        return _Where.apply(cond, x, y)
    return rtt.where(cond, x, y)


class _Cast(Function):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.src = x.dtype
        return rtt.Tensor.to(x, dtype)

    @staticmethod
    def backward(ctx, g):
        if g.dtype.is_complex and not ctx.src.is_complex:
            g = g.real
        return _cast(g, ctx.src), None


def _cast(x, dtype):
    """``x.to(dtype)``, differentiable."""
    if x.dtype == dtype:
        return x
    if needs_grad(x):
        return _Cast.apply(x, dtype)
    return rtt.Tensor.to(x, dtype)


def _zeros_of(g):
    return rtt.zeros(tuple(g.shape), dtype=g.dtype)


_ZERO_GRAD_CLASSES = {}


def _zero_grad_class(node_name):
    cls = _ZERO_GRAD_CLASSES.get(node_name)
    if cls is None:
        def forward(ctx, fn, *args):
            return fn(*args)

        def backward(ctx, g):
            z = _zeros_of(g)
            return (None,) + tuple(z if n else None for n in ctx.needs_input_grad[1:])

        cls = type(node_name.replace("Backward", "") + "ZeroGrad", (Function,),
                   {"node_name": node_name, "forward": staticmethod(forward),
                    "backward": staticmethod(backward)})
        _ZERO_GRAD_CLASSES[node_name] = cls
    return cls


def _zero_grad(node_name, fn, *args):
    """Apply ``fn(*args)`` recording a node whose gradient is zero (rounding, sign, ...): as
    PyTorch's ``zeros_like(grad)``."""
    return _zero_grad_class(node_name).apply(fn, *args)


class _NotImplemented(Function):
    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, name, fn, *args):
        ctx.op_name = name
        return fn(*args)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(f"derivative for aten::{ctx.op_name} is not implemented")


def _exp(t):
    return t.exp()


def _log(t):
    return t.log()


# ---- add, sub, mul, div, neg -------------------------------------------------------------

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
            gb = g if alpha == 1 else g * _cj(alpha)
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
            gb = -g if alpha == 1 else g * (-_cj(alpha))
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
        ga = g * _cj(b) if ctx.needs_input_grad[0] else None
        gb = g * _cj(a) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, b, rounding_mode=None):
        ctx.rounding_mode = rounding_mode
        if rounding_mode is None:
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return rtt.div(a, b, rounding_mode=rounding_mode)

    @staticmethod
    def backward(ctx, g):
        if ctx.rounding_mode is not None:
            z = _zeros_of(g)
            return (z if ctx.needs_input_grad[0] else None,
                    z if ctx.needs_input_grad[1] else None, None)
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g / _cj(b)
        if ctx.needs_input_grad[1]:
            # PyTorch's order (-grad * ((self / other) / other).conj()), for stability
            gb = -g * _cj((a / b) / b)
        return ga, gb, None


class Neg(Function):
    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx, a):
        return rtt.neg(a)

    @staticmethod
    def backward(ctx, g):
        return -g


# ---- pow ------------------------------------------------------------------------------------

def _scalar_log(x):
    """log of a Python scalar as PyTorch's Scalar::log: complex log for complex, nan for a
    negative real, -inf at 0."""
    if isinstance(x, complex):
        return cmath.log(x) if x != 0 else complex(-math.inf, 0.0)
    x = float(x)
    if x > 0:
        return math.log(x)
    if x == 0:
        return -math.inf
    return math.nan


class Pow(Function):
    """``pow`` for every overload: tensor ** scalar (PowBackward0), tensor ** tensor
    (PowBackward1), scalar ** tensor (PowBackward2); the node is named after the overload."""
    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, a, b):
        y = rtt.pow(a, b)
        if not _is_t(b):
            ctx.kind = 0
            ctx.exponent = b
            ctx.save_for_backward(a)
        elif not _is_t(a):
            ctx.kind = 2
            ctx.base = a
            ctx._forward_cls = _PowScalarTensor
            ctx.save_for_backward(b, y)
        else:
            ctx.kind = 1
            ctx._forward_cls = _PowTensorTensor
            ctx.save_for_backward(a, b, y if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, g):
        kind = ctx.kind
        if kind == 0:
            a, = ctx.saved_tensors
            b = ctx.exponent
            if b == 0:
                return _zeros_of(g), None
            return g * _cj(b * a ** (b - 1)), None
        if kind == 2:
            b, y = ctx.saved_tensors
            base = ctx.base
            if b.dtype.is_complex and not isinstance(base, complex):
                base = complex(base)
            d = _cj(y * _scalar_log(base))
            if base == 0:
                if b.dtype.is_complex:
                    cond = rtt.logical_and(rtt.imag(b) == 0, rtt.real(b) >= 0)
                else:
                    cond = b >= 0
                d = _where(cond, 0, d)
            return None, g * d
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # pow_backward_self: 0 where the exponent is 0
            ga = _where(b == 0, 0, g * _cj(b * a ** (b - 1)))
        if ctx.needs_input_grad[1]:
            # pow_backward_exponent: 0 where self == 0 and the exponent is real and >= 0
            if b.dtype.is_complex:
                cond = (a == 0) & rtt.logical_and(rtt.imag(b) == 0, rtt.real(b) >= 0)
            else:
                cond = (a == 0) & (b >= 0)
            a_ = _cast(a, y.dtype) if a.dtype != y.dtype else a
            gb = g * _where(cond, 0, _cj(y * _log(a_)))
        return ga, gb


class _PowTensorTensor(Pow):
    node_name = "PowBackward1"


class _PowScalarTensor(Pow):
    node_name = "PowBackward2"


# ---- binary ops with one gradient formula per input -----------------------------------------

class Remainder(Function):
    node_name = "RemainderBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[1] else None)
        return rtt.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = None
        if ctx.needs_input_grad[1]:
            # -grad * self.div(other, rounding_mode="floor"): the quotient is piecewise
            # constant, so it enters as a constant
            gb = -g * rtt.div(a, b, rounding_mode="floor")
        return (g if ctx.needs_input_grad[0] else None), gb


class Fmod(Function):
    node_name = "FmodBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[1] else None)
        return rtt.fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = None
        if ctx.needs_input_grad[1]:
            gb = -g * rtt.div(a, b, rounding_mode="trunc")
        return (g if ctx.needs_input_grad[0] else None), gb


class Atan2(Function):
    node_name = "Atan2Backward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return rtt.atan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        recip = (a * a + b * b).reciprocal()
        ga = g * b * recip if ctx.needs_input_grad[0] else None
        gb = g * -a * recip if ctx.needs_input_grad[1] else None
        return ga, gb


class Hypot(Function):
    node_name = "HypotBackward0"

    @staticmethod
    def forward(ctx, a, b):
        y = rtt.hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        ga = g * a / y if ctx.needs_input_grad[0] else None
        gb = g * b / y if ctx.needs_input_grad[1] else None
        return ga, gb


class Maximum(Function):
    node_name = "MaximumBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return rtt.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _max_min_backward(ctx, g, True)


class Minimum(Function):
    node_name = "MinimumBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return rtt.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _max_min_backward(ctx, g, False)


def _max_min_backward(ctx, g, is_max):
    # at::where(self == other, grad / 2, grad).masked_fill_(self < other, 0) (max), and the
    # mirror for other: ties share the gradient 0.5 / 0.5
    a, b = ctx.saved_tensors
    ga = gb = None
    half = _where(a == b, g / 2, g)
    if ctx.needs_input_grad[0]:
        ga = _where((a < b) if is_max else (a > b), 0, half)
    if ctx.needs_input_grad[1]:
        gb = _where((a > b) if is_max else (a < b), 0, half)
    return ga, gb


def _or_nan(cmp, b):
    if _is_t(b):
        return rtt.logical_or(cmp, rtt.isnan(b))
    return rtt.logical_or(cmp, True) if math.isnan(b) else cmp


class Fmax(Function):
    node_name = "FmaxBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return rtt.fmax(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # self gets the gradient where self >= other or other is nan; other elsewhere
        sel = _or_nan(a >= b, b)
        ga = _where(sel, g, 0) if ctx.needs_input_grad[0] else None
        gb = _where(sel, 0, g) if ctx.needs_input_grad[1] else None
        return ga, gb


class Fmin(Function):
    node_name = "FminBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return rtt.fmin(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sel = _or_nan(a <= b, b)
        ga = _where(sel, g, 0) if ctx.needs_input_grad[0] else None
        gb = _where(sel, 0, g) if ctx.needs_input_grad[1] else None
        return ga, gb


class Copysign(Function):
    node_name = "CopysignBackward0"

    @staticmethod
    def forward(ctx, a, b):
        y = rtt.copysign(a, b)
        if ctx.needs_input_grad[0]:
            # copysign_tensor_self_backward: result / self, 0 where self == 0 (a constant:
            # its derivative is zero)
            ctx.ratio = rtt.where(a == 0, 0, rtt.div(y, a))
        return y

    @staticmethod
    def backward(ctx, g):
        ga = g * ctx.ratio if ctx.needs_input_grad[0] else None
        gb = _zeros_of(g) if ctx.needs_input_grad[1] else None
        return ga, gb


class Xlogy(Function):
    node_name = "XlogyBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return rtt.xlogy(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # xlogy(grad, other), 0 where self == 0 and other <= 0 (PyTorch's choice)
            if _is_t(b):
                ga = _where((a == 0) & (b <= 0), 0, xlogy(g, b))
            elif b > 0:
                ga = xlogy(g, b)
            else:
                ga = _where(a == 0, 0, xlogy(g, b))
        if ctx.needs_input_grad[1]:
            gb = g * a / b
        return ga, gb


class Logaddexp(Function):
    node_name = "LogaddexpBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return rtt.logaddexp(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g / _cj(1 + _exp(b - a)) if ctx.needs_input_grad[0] else None
        gb = g / _cj(1 + _exp(a - b)) if ctx.needs_input_grad[1] else None
        return ga, gb


# ---- ternary ----------------------------------------------------------------------------------

class Lerp(Function):
    node_name = "LerpBackward1"

    @staticmethod
    def forward(ctx, a, end, weight):
        ctx.save_for_backward(a if ctx.needs_input_grad[2] else None,
                              end if ctx.needs_input_grad[2] else None, weight)
        return rtt.lerp(a, end, weight)

    @staticmethod
    def backward(ctx, g):
        a, end, w = ctx.saved_tensors
        ga = gend = gw = None
        if ctx.needs_input_grad[0]:
            ga = g * _cj(1 - w)
        if ctx.needs_input_grad[1]:
            gend = g * _cj(w)
        if ctx.needs_input_grad[2]:
            gw = g * _cj(end - a)
        return ga, gend, gw


class Addcmul(Function):
    node_name = "AddcmulBackward0"

    @staticmethod
    def forward(ctx, a, t1, t2, value):
        ctx.value = value
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None,
                              t2 if ctx.needs_input_grad[1] else None)
        return rtt.addcmul(a, t1, t2, value=value)

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        v = ctx.value
        ga = g if ctx.needs_input_grad[0] else None
        g1 = g * _cj(t2 * v) if ctx.needs_input_grad[1] else None
        g2 = g * _cj(t1 * v) if ctx.needs_input_grad[2] else None
        return ga, g1, g2, None


class Addcdiv(Function):
    node_name = "AddcdivBackward0"

    @staticmethod
    def forward(ctx, a, t1, t2, value):
        ctx.value = value
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None, t2)
        return rtt.addcdiv(a, t1, t2, value=value)

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        v = ctx.value
        ga = g if ctx.needs_input_grad[0] else None
        g1 = g * _cj(v / t2) if ctx.needs_input_grad[1] else None
        g2 = -g * _cj(v * t1 / (t2 * t2)) if ctx.needs_input_grad[2] else None
        return ga, g1, g2, None


# ---- clamp ------------------------------------------------------------------------------------

class ClampScalar(Function):
    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(a)
        return rtt.clamp(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        lo, hi = ctx.lo, ctx.hi
        # the gradient passes at the bounds: min <= x <= max
        if lo is not None and hi is not None:
            mask = (a >= lo) & (a <= hi)
        elif lo is not None:
            mask = a >= lo
        else:
            mask = a <= hi
        return _where(mask, g, 0), None, None


class ClampTensor(Function):
    node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.save_for_backward(a, lo, hi)
        return rtt.clamp(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        # clamp_backward / clamp_backward_min_max: when min > max the result is max, and
        # min gets no gradient
        a, lo, hi = ctx.saved_tensors
        ga = glo = ghi = None
        if lo is not None and hi is not None:
            if ctx.needs_input_grad[0]:
                ga = _where((a >= lo) & (a <= hi), g, 0)
            if ctx.needs_input_grad[1]:
                glo = _where((a < lo) & (lo < hi), g, 0)
            if ctx.needs_input_grad[2]:
                ghi = _where((a > hi) | (hi < lo), g, 0)
        elif lo is not None:
            if ctx.needs_input_grad[0]:
                ga = _where(a >= lo, g, 0)
            if ctx.needs_input_grad[1]:
                glo = _where(a < lo, g, 0)
        else:
            if ctx.needs_input_grad[0]:
                ga = _where(a <= hi, g, 0)
            if ctx.needs_input_grad[2]:
                ghi = _where(a > hi, g, 0)
        return ga, glo, ghi


class NanToNum(Function):
    node_name = "NanToNumBackward0"

    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.finite = rtt.isfinite(a)
        return rtt.nan_to_num(a, nan, posinf, neginf)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.finite, None, None, None


# the recording paths of add/sub/mul/div/neg: the core's arithmetic nodes when it has them
if _core_arith is not None:
    def _record_add(a, b, alpha):
        return _core_arith(0, a, b, alpha)

    def _record_sub(a, b, alpha):
        return _core_arith(1, a, b, alpha)

    def _record_mul(a, b):
        return _core_arith(2, a, b, 1)

    def _record_div(a, b):
        return _core_arith(3, a, b, 1)

    def _record_neg(a):
        return _core_arith(4, a, None, 1)
else:  # pragma: no cover
    _record_add = Add.apply
    _record_sub = Sub.apply
    _record_mul = Mul.apply

    def _record_div(a, b):
        return Div.apply(a, b, None)

    _record_neg = Neg.apply


# ---- wrappers ---------------------------------------------------------------------------------

@register("add")
def add(input, other, *, alpha=1, out=None):
    if out is None:
        if needs_grad(input, other):
            return _record_add(input, other, alpha)
        return rtt.add(input, other, alpha=alpha)
    check_out("add", out, input, other)
    return rtt.add(input, other, alpha=alpha, out=out)


@register("sub", aliases=("subtract",))
def sub(input, other, *, alpha=1, out=None):
    if out is None:
        if needs_grad(input, other):
            return _record_sub(input, other, alpha)
        return rtt.sub(input, other, alpha=alpha)
    check_out("sub", out, input, other)
    return rtt.sub(input, other, alpha=alpha, out=out)


@register("mul", aliases=("multiply",))
def mul(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            return _record_mul(input, other)
        return rtt.mul(input, other)
    check_out("mul", out, input, other)
    return rtt.mul(input, other, out=out)


@register("div", aliases=("divide", "true_divide"))
def div(input, other, *, rounding_mode=None, out=None):
    if out is None:
        if needs_grad(input, other):
            if rounding_mode is not None:
                return _zero_grad("DivBackward2", _div_mode(rounding_mode), input, other)
            return _record_div(input, other)
        return rtt.div(input, other, rounding_mode=rounding_mode)
    check_out("div", out, input, other)
    return rtt.div(input, other, rounding_mode=rounding_mode, out=out)


def _div_mode(rounding_mode):
    return lambda a, b: rtt.div(a, b, rounding_mode=rounding_mode)


@register("neg", aliases=("negative",))
def neg(input, *, out=None):
    if out is None:
        if needs_grad(input):
            return _record_neg(input)
        return rtt.neg(input)
    check_out("neg", out, input)
    return rtt.neg(input, out=out)


@register("pow")
def pow(input, exponent, *, out=None):
    if out is None:
        if needs_grad(input, exponent):
            return Pow.apply(input, exponent)
        return rtt.pow(input, exponent)
    check_out("pow", out, input, exponent)
    return rtt.pow(input, exponent, out=out)


@register("float_power")
def float_power(input, exponent, *, out=None):
    if out is None:
        if needs_grad(input, exponent):
            # PyTorch's composite: pow(self.to(double), exponent.to(double))
            dt = rtt.complex128 if (_is_complex(input) or _is_complex(exponent)) else rtt.float64
            a = _cast(input, dt) if _is_t(input) else input
            b = _cast(exponent, dt) if _is_t(exponent) else exponent
            return pow(a, b)
        return rtt.float_power(input, exponent)
    check_out("float_power", out, input, exponent)
    return rtt.float_power(input, exponent, out=out)


@register("square")
def square(input, *, out=None):
    if out is None:
        if needs_grad(input):
            return Pow.apply(input, 2)
        return rtt.square(input)
    check_out("square", out, input)
    return rtt.square(input, out=out)


@register("positive")
def positive(input, *, out=None):
    if out is None:
        if needs_grad(input):
            return input            # PyTorch returns self
        return rtt.positive(input)
    check_out("positive", out, input)
    return rtt.positive(input, out=out)


@register("remainder")
def remainder(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            if not _is_t(other):
                # remainder.Scalar: self gets grad
                return _identity_grad("RemainderBackward0", rtt.remainder, input, other)
            return Remainder.apply(input, other)
        return rtt.remainder(input, other)
    check_out("remainder", out, input, other)
    return rtt.remainder(input, other, out=out)


@register("fmod")
def fmod(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            if not _is_t(other):
                return _identity_grad("FmodBackward0", rtt.fmod, input, other)
            return Fmod.apply(input, other)
        return rtt.fmod(input, other)
    check_out("fmod", out, input, other)
    return rtt.fmod(input, other, out=out)


_IDENTITY_GRAD_CLASSES = {}


def _identity_grad(node_name, fn, a, b):
    """``fn(a, b)`` for a tensor ``a`` and a scalar ``b``, with gradient ``grad`` for ``a``
    (remainder / fmod by a scalar)."""
    cls = _IDENTITY_GRAD_CLASSES.get(node_name)
    if cls is None:
        def forward(ctx, fn_, a_, b_):
            return fn_(a_, b_)

        def backward(ctx, g):
            return None, g, None

        cls = type(node_name, (Function,), {"node_name": node_name,
                                            "forward": staticmethod(forward),
                                            "backward": staticmethod(backward)})
        _IDENTITY_GRAD_CLASSES[node_name] = cls
    return cls.apply(fn, a, b)


@register("floor_divide")
def floor_divide(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            # PyTorch has no derivative for floor_divide: the result records a node whose
            # backward raises
            return _NotImplemented.apply("floor_divide", rtt.floor_divide, input, other)
        return rtt.floor_divide(input, other)
    check_out("floor_divide", out, input, other)
    return rtt.floor_divide(input, other, out=out)


@register("atan2", aliases=("arctan2",))
def atan2(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            return Atan2.apply(input, other)
        return rtt.atan2(input, other)
    check_out("atan2", out, input, other)
    return rtt.atan2(input, other, out=out)


@register("hypot")
def hypot(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            return Hypot.apply(input, other)
        return rtt.hypot(input, other)
    check_out("hypot", out, input, other)
    return rtt.hypot(input, other, out=out)


@register("maximum")
def maximum(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            return Maximum.apply(input, other)
        return rtt.maximum(input, other)
    check_out("maximum", out, input, other)
    return rtt.maximum(input, other, out=out)


@register("minimum")
def minimum(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            return Minimum.apply(input, other)
        return rtt.minimum(input, other)
    check_out("minimum", out, input, other)
    return rtt.minimum(input, other, out=out)


@register("fmax")
def fmax(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            return Fmax.apply(input, other)
        return rtt.fmax(input, other)
    check_out("fmax", out, input, other)
    return rtt.fmax(input, other, out=out)


@register("fmin")
def fmin(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            return Fmin.apply(input, other)
        return rtt.fmin(input, other)
    check_out("fmin", out, input, other)
    return rtt.fmin(input, other, out=out)


class _CopysignScalar(Copysign):
    node_name = "CopysignBackward1"


@register("copysign")
def copysign(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            if not _is_t(other):
                return _CopysignScalar.apply(input, other)
            return Copysign.apply(input, other)
        return rtt.copysign(input, other)
    check_out("copysign", out, input, other)
    return rtt.copysign(input, other, out=out)


class _XlogyScalarSelf(Xlogy):
    node_name = "XlogyBackward1"


class _XlogyScalarOther(Xlogy):
    node_name = "XlogyBackward2"


@register("xlogy")
def xlogy(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            if not _is_t(input):
                return _XlogyScalarSelf.apply(input, other)
            if not _is_t(other):
                return _XlogyScalarOther.apply(input, other)
            return Xlogy.apply(input, other)
        return rtt.xlogy(input, other)
    check_out("xlogy", out, input, other)
    return rtt.xlogy(input, other, out=out)


@register("logaddexp")
def logaddexp(input, other, *, out=None):
    if out is None:
        if needs_grad(input, other):
            return Logaddexp.apply(input, other)
        return rtt.logaddexp(input, other)
    check_out("logaddexp", out, input, other)
    return rtt.logaddexp(input, other, out=out)


class _LerpScalar(Lerp):
    node_name = "LerpBackward0"


@register("lerp")
def lerp(input, end, weight, *, out=None):
    if out is None:
        if needs_grad(input, end, weight):
            if not _is_t(weight):
                return _LerpScalar.apply(input, end, weight)
            return Lerp.apply(input, end, weight)
        return rtt.lerp(input, end, weight)
    check_out("lerp", out, input, end, weight)
    return rtt.lerp(input, end, weight, out=out)


@register("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    if out is None:
        if needs_grad(input, tensor1, tensor2):
            return Addcmul.apply(input, tensor1, tensor2, value)
        return rtt.addcmul(input, tensor1, tensor2, value=value)
    check_out("addcmul", out, input, tensor1, tensor2)
    return rtt.addcmul(input, tensor1, tensor2, value=value, out=out)


@register("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if out is None:
        if needs_grad(input, tensor1, tensor2):
            return Addcdiv.apply(input, tensor1, tensor2, value)
        return rtt.addcdiv(input, tensor1, tensor2, value=value)
    check_out("addcdiv", out, input, tensor1, tensor2)
    return rtt.addcdiv(input, tensor1, tensor2, value=value, out=out)


def _clamp(input, min, max):
    if min is None and max is None:
        return rtt.clamp(input, min, max)          # raises PyTorch's error
    if _is_t(min) or _is_t(max):
        return ClampTensor.apply(input, min, max)
    return ClampScalar.apply(input, min, max)


@register("clamp")
def clamp(input, min=None, max=None, *, out=None):
    if out is None:
        if needs_grad(input, min, max):
            return _clamp(input, min, max)
        return rtt.clamp(input, min, max)
    check_out("clamp", out, input, min, max)
    return rtt.clamp(input, min, max, out=out)


@register("clip")
def clip(input, min=None, max=None, *, out=None):
    if out is None:
        if needs_grad(input, min, max):
            return _clamp(input, min, max)
        return rtt.clip(input, min, max)
    check_out("clip", out, input, min, max)
    return rtt.clip(input, min, max, out=out)


class _ClampMinScalar(ClampScalar):
    node_name = "ClampMinBackward0"


class _ClampMinTensor(ClampTensor):
    node_name = "ClampMinBackward1"


class _ClampMaxScalar(ClampScalar):
    node_name = "ClampMaxBackward0"


class _ClampMaxTensor(ClampTensor):
    node_name = "ClampMaxBackward1"


@register("clamp_min")
def clamp_min(input, min):
    if needs_grad(input, min):
        if _is_t(min):
            return _clamp_min_tensor(input, min)
        return _ClampMinScalar.apply(input, min, None)
    return rtt.clamp_min(input, min)


@register("clamp_max")
def clamp_max(input, max):
    if needs_grad(input, max):
        if _is_t(max):
            return _clamp_max_tensor(input, max)
        return _ClampMaxScalar.apply(input, None, max)
    return rtt.clamp_max(input, max)


def _clamp_min_tensor(input, min):
    return _ClampMinTensor.apply(input, min, None)


def _clamp_max_tensor(input, max):
    return _ClampMaxTensor.apply(input, None, max)


@register("nan_to_num")
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if out is None:
        if needs_grad(input):
            return NanToNum.apply(input, nan, posinf, neginf)
        return rtt.nan_to_num(input, nan, posinf, neginf)
    check_out("nan_to_num", out, input)
    return rtt.nan_to_num(input, nan, posinf, neginf, out=out)


# ---- in-place forms ---------------------------------------------------------------------------

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


@register("float_power_", function=False)
def float_power_(self, exponent):
    return inplace(self, float_power, (exponent,), None, rtt.Tensor.float_power_)


@register("square_", function=False)
def square_(self):
    return inplace(self, square, (), None, rtt.Tensor.square_)


@register("positive_", function=False)
def positive_(self):
    return inplace(self, positive, (), None, rtt.Tensor.positive_)


@register("remainder_", function=False)
def remainder_(self, other):
    return inplace(self, remainder, (other,), None, rtt.Tensor.remainder_)


@register("fmod_", function=False)
def fmod_(self, other):
    return inplace(self, fmod, (other,), None, rtt.Tensor.fmod_)


@register("floor_divide_", function=False)
def floor_divide_(self, other):
    return inplace(self, floor_divide, (other,), None, rtt.Tensor.floor_divide_)


@register("atan2_", function=False)
def atan2_(self, other):
    return inplace(self, atan2, (other,), None, rtt.Tensor.atan2_)


@register("hypot_", function=False)
def hypot_(self, other):
    return inplace(self, hypot, (other,), None, rtt.Tensor.hypot_)


@register("maximum_", function=False)
def maximum_(self, other):
    return inplace(self, maximum, (other,), None, rtt.Tensor.maximum_)


@register("minimum_", function=False)
def minimum_(self, other):
    return inplace(self, minimum, (other,), None, rtt.Tensor.minimum_)


@register("fmax_", function=False)
def fmax_(self, other):
    return inplace(self, fmax, (other,), None, rtt.Tensor.fmax_)


@register("fmin_", function=False)
def fmin_(self, other):
    return inplace(self, fmin, (other,), None, rtt.Tensor.fmin_)


@register("copysign_", function=False)
def copysign_(self, other):
    return inplace(self, copysign, (other,), None, rtt.Tensor.copysign_)


@register("xlogy_", function=False)
def xlogy_(self, other):
    return inplace(self, xlogy, (other,), None, rtt.Tensor.xlogy_)


@register("logaddexp_", function=False)
def logaddexp_(self, other):
    return inplace(self, logaddexp, (other,), None, rtt.Tensor.logaddexp_)


@register("lerp_", function=False)
def lerp_(self, end, weight):
    return inplace(self, lerp, (end, weight), None, rtt.Tensor.lerp_)


@register("addcmul_", function=False)
def addcmul_(self, tensor1, tensor2, *, value=1):
    return inplace(self, addcmul, (tensor1, tensor2), {"value": value}, rtt.Tensor.addcmul_)


@register("addcdiv_", function=False)
def addcdiv_(self, tensor1, tensor2, *, value=1):
    return inplace(self, addcdiv, (tensor1, tensor2), {"value": value}, rtt.Tensor.addcdiv_)


@register("clamp_", function=False)
def clamp_(self, min=None, max=None):
    return inplace(self, clamp, (min, max), None, rtt.Tensor.clamp_)


@register("clip_", function=False)
def clip_(self, min=None, max=None):
    return inplace(self, clip, (min, max), None, rtt.Tensor.clip_)


@register("clamp_min_", function=False)
def clamp_min_(self, min):
    return inplace(self, clamp_min, (min,), None, rtt.Tensor.clamp_min_)


@register("clamp_max_", function=False)
def clamp_max_(self, max):
    return inplace(self, clamp_max, (max,), None, rtt.Tensor.clamp_max_)


@register("nan_to_num_", function=False)
def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return inplace(self, nan_to_num, (nan, posinf, neginf), None, rtt.Tensor.nan_to_num_)
