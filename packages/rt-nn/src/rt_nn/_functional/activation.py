"""Activation functions of ``torch.nn.functional``: relu, relu6, leaky_relu, prelu, rrelu,
elu, selu, celu, gelu, silu, mish, softplus, softsign, hardtanh, hardswish, hardsigmoid,
sigmoid, tanh, threshold, glu, logsigmoid, tanhshrink, softshrink, hardshrink, and the
in-place forms PyTorch has (``inplace=True`` and ``relu_``, ``elu_``, ...).

Most are one-pass rt_tensor kernels (``rt_tensor._nn_act``) in an autograd Function: the
forward is ``f(x)``, the backward another Function computing ``g * f'(x)`` in one pass,
whose own backward (for double backward) is ``gg * f'(x)`` for the gradient and
``gg * g * f''(x)`` in differentiable ops for the input. Subgradients at kinks are PyTorch's
(hardtanh's gradient is 0 at its bounds, hardswish's is 0 at -3 and 1 at 3, ...).
float16/bfloat16 compute in float32 and round the result, as PyTorch's CPU kernels do.
"""
import math

import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd._autograd import is_grad_enabled, needs_grad
from rt_autograd._ops._util import inplace as _inplace
from rt_autograd.autograd import Function
from rt_tensor import _nn_act as _K

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_",
           "elu", "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus",
           "softsign", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "sigmoid", "tanh",
           "threshold", "threshold_", "glu", "logsigmoid", "tanhshrink", "softshrink",
           "hardshrink"]

_OPS = _K.OPS
_FLOATS = (rtt.float32, rtt.float64)
_HALFS = (rtt.float16, rtt.bfloat16)
_SHORT = {rtt.int64: "Long", rtt.int32: "Int", rtt.int16: "Short", rtt.int8: "Char",
          rtt.uint8: "Byte", rtt.bool: "Bool", rtt.complex64: "ComplexFloat",
          rtt.complex128: "ComplexDouble", rtt.float16: "Half", rtt.bfloat16: "BFloat16",
          rtt.float32: "Float", rtt.float64: "Double"}

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_KBETA = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _check_tensor(input, name):
    if not isinstance(input, rtt.Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


# ---- second derivatives, in differentiable ops (double backward) ----------------------------

def _f2(op, x, p):
    """f''(x) for activation ``op`` (None where it is 0 everywhere)."""
    p0, p1, p2 = p
    if op == "gelu":
        return (x * x * -0.5).exp() * _INV_SQRT_2PI * (2.0 - x * x)
    if op == "gelu_tanh":
        xsq = x * x
        th = (_KBETA * (x + 0.044715 * xsq * x)).tanh()
        u1 = _KBETA * (1.0 + 3.0 * 0.044715 * xsq)
        u2 = _KBETA * 6.0 * 0.044715 * x
        return (1.0 - th * th) * (u1 - x * th * u1 * u1 + 0.5 * x * u2)
    if op == "silu":
        s = x.sigmoid()
        return s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s))
    if op == "mish":
        s = x.sigmoid()
        t = softplus(x).tanh()
        return (1.0 - t * t) * s * (2.0 + x * (1.0 - s) - 2.0 * x * t * s)
    if op == "elu":
        return rt.where(x <= 0, (x * p2).exp() * (p0 * p2 * p2), 0.0)
    if op == "softplus":
        z = (x * p0).sigmoid()
        return rt.where(x * p0 > p1, 0.0, z * (1.0 - z) * p0)
    if op == "hardswish":
        return rt.logical_and(x > -3.0, x < 3.0).to(x.dtype) * (1.0 / 3.0)
    if op == "logsigmoid":
        s = x.sigmoid()
        return -s * (1.0 - s)
    return None


def _make(op, node):
    code = _OPS[op]
    back_node = node.replace("Backward0", "BackwardBackward0")

    def grad_forward(ctx, g, x, p0, p1, p2):
        ctx.save_for_backward(g, x)
        ctx.p = (p0, p1, p2)
        return _K.act_backward(code, g.contiguous(), x.contiguous(), p0, p1, p2)

    def grad_backward(ctx, gg):
        g, x = ctx.saved_tensors
        dg = dx = None
        if ctx.needs_input_grad[0]:
            dg = Grad.apply(gg, x, *ctx.p)
        if ctx.needs_input_grad[1]:
            f2 = _f2(op, x, ctx.p)
            if f2 is not None:
                dx = gg * g * f2
        return dg, dx, None, None, None

    Grad = type(back_node.replace("Backward0", ""), (Function,),
                {"node_name": back_node, "forward": staticmethod(grad_forward),
                 "backward": staticmethod(grad_backward)})

    def forward(ctx, x, p0, p1, p2):
        ctx.save_for_backward(x)
        ctx.p = (p0, p1, p2)
        return _K.act_forward(code, x.contiguous(), p0, p1, p2)

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return Grad.apply(g, x, *ctx.p), None, None, None

    Fwd = type(node.replace("Backward0", ""), (Function,),
               {"node_name": node, "forward": staticmethod(forward),
                "backward": staticmethod(backward)})
    return code, Fwd


_FUNCS = {op: _make(op, node) for op, node in [
    ("gelu", "GeluBackward0"), ("gelu_tanh", "GeluBackward0"), ("silu", "SiluBackward0"),
    ("mish", "MishBackward0"), ("elu", "EluBackward0"), ("softplus", "SoftplusBackward0"),
    ("relu", "ReluBackward0"), ("leaky_relu", "LeakyReluBackward0"),
    ("hardtanh", "HardtanhBackward0"),
    ("hardswish", "HardswishBackward0"), ("hardsigmoid", "HardsigmoidBackward0"),
    ("threshold", "ThresholdBackward0"), ("softshrink", "SoftshrinkBackward0"),
    ("hardshrink", "HardshrinkBackward0"), ("logsigmoid", "LogSigmoidBackward0")]}


def _apply(op, input, kernel_name, p0=0.0, p1=0.0, p2=0.0):
    """f(input) through the kernel, recording the graph when input needs a gradient."""
    code, Fwd = _FUNCS[op]
    dt = input.dtype
    if dt not in _FLOATS:
        if dt in _HALFS:
            return _apply(op, input.float(), kernel_name, p0, p1, p2).to(dt)
        raise NotImplementedError(f'"{kernel_name}" not implemented for '
                                  f"'{_SHORT.get(dt, str(dt))}'")
    if needs_grad(input):
        return Fwd.apply(input, p0, p1, p2)
    return _K.act_forward(code, input.contiguous(), p0, p1, p2)


def _kernel_inplace(op, kernel_name):
    """rt_tensor-level in-place form (no graph): the kernel writes into input when it is a
    contiguous float tensor; otherwise the result is copied in."""
    code = _OPS[op]

    def run(input, p0=0.0, p1=0.0, p2=0.0):
        if input.dtype in _FLOATS and input.is_contiguous():
            _K.act_forward(code, input, p0, p1, p2, out=input)
            input._bump_version()
            return input
        rtt.Tensor.copy_(input, _apply(op, input, kernel_name, p0, p1, p2))
        return input
    return run


def _def_inplace(op, kernel_name):
    raw = _kernel_inplace(op, kernel_name)

    def out_of_place(input, p0=0.0, p1=0.0, p2=0.0):
        return _apply(op, input, kernel_name, p0, p1, p2)

    def run(input, p0=0.0, p1=0.0, p2=0.0):
        return _inplace(input, out_of_place, (p0, p1, p2), None, raw)
    return run


_relu_inplace = _def_inplace("relu", "relu_cpu")
_elu_inplace = _def_inplace("elu", "elu_cpu")
_leaky_inplace = _def_inplace("leaky_relu", "leaky_relu_cpu")
_hardtanh_inplace = _def_inplace("hardtanh", "hardtanh_cpu")
_threshold_inplace = _def_inplace("threshold", "threshold_cpu")
_silu_inplace = _def_inplace("silu", "silu_cpu")
_mish_inplace = _def_inplace("mish", "mish_cpu")
_hardswish_inplace = _def_inplace("hardswish", "hardswish_cpu")
_hardsigmoid_inplace = _def_inplace("hardsigmoid", "hardsigmoid_cpu")


# ---- relu family -----------------------------------------------------------------------------

def relu(input, inplace=False):
    """``max(0, x)`` (``torch.nn.functional.relu``); ``inplace=True`` writes into input."""
    _check_tensor(input, "relu")
    if input.dtype not in _FLOATS:
        return input.relu_() if inplace else rt.relu(input)
    if inplace:
        return _relu_inplace(input)
    return _apply("relu", input, "relu_cpu")


def relu_(input):
    """In-place :func:`relu`."""
    return relu(input, inplace=True)


def _hardtanh_any(input, min_val, max_val, inplace, name):
    if input.dtype in _FLOATS or input.dtype in _HALFS:
        if inplace:
            return _hardtanh_inplace(input, float(min_val), float(max_val))
        return _apply("hardtanh", input, "hardtanh_cpu", float(min_val), float(max_val))
    if input.dtype.is_complex or input.dtype == rtt.bool:
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{_SHORT.get(input.dtype, str(input.dtype))}'")
    # integer tensors: clamp with the bounds converted to the tensor's type (no gradient)
    if inplace:
        return input.clamp_(int(min_val), int(max_val))
    return input.clamp(int(min_val), int(max_val))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``clamp(x, min_val, max_val)`` with gradient 0 outside (and at) the bounds."""
    _check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _hardtanh_any(input, min_val, max_val, inplace, "hardtanh_cpu")


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """``min(max(0, x), 6)`` (hardtanh(0, 6), as PyTorch)."""
    _check_tensor(input, "relu6")
    return _hardtanh_any(input, 0.0, 6.0, inplace, "hardtanh_cpu")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x if x > 0 else negative_slope * x``."""
    _check_tensor(input, "leaky_relu")
    if inplace:
        return _leaky_inplace(input, float(negative_slope))
    return _apply("leaky_relu", input, "leaky_relu_cpu", float(negative_slope))


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """``x if x > 0 else weight * x``, weight one value or one per channel (dim 1)."""
    _check_tensor(input, "prelu")
    _check_tensor(weight, "prelu")
    if weight.dim() > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    n = weight.numel()
    if input.dim() == 0 and n != 1:
        raise RuntimeError("Not allow zero-dim input tensor.")
    channels = input.shape[1] if input.dim() >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {channels}.")
    if input.dtype not in _FLOATS and input.dtype not in _HALFS:
        raise NotImplementedError(f"\"prelu_cpu\" not implemented for "
                                  f"'{_SHORT.get(input.dtype, str(input.dtype))}'")
    inner = 1
    for s in input.shape[2:]:
        inner *= s
    if input.dtype in _FLOATS and weight.dtype == input.dtype and input.numel() > 0 and (
            n == 1 or inner >= 16):
        # the kernel: rows of `inner` elements (n == 1: chunks), channel = row % n
        L = inner if n > 1 else min(input.numel(), 8192)
        if needs_grad(input, weight):
            return _PReLU.apply(input, weight, n, L)
        return _K.prelu_forward(input.contiguous(), weight.contiguous(), n, L)
    if n == 1:
        w = weight.reshape(())
    else:
        w = weight.reshape((n,) + (1,) * (input.dim() - 2))
    return rt.where(input > 0, input, w * input)


def _prelu_composite_backward(x, w, g, n, needs):
    wb = w.reshape(()) if n == 1 else w.reshape((n,) + (1,) * (x.dim() - 2))
    pos = x > 0
    gx = rt.where(pos, g, wb * g) if needs[0] else None
    gw = None
    if needs[1]:
        contrib = rt.where(pos, 0.0, x * g).to(x.dtype)
        if n == 1:
            gw = contrib.sum().reshape(w.shape)
        else:
            gw = contrib.sum((0,) + tuple(range(2, x.dim())))
    return gx, gw


class _PReLU(Function):
    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w, n, L):
        ctx.save_for_backward(x, w)
        ctx.nL = (n, L)
        return _K.prelu_forward(x.contiguous(), w.contiguous(), n, L)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        n, L = ctx.nL
        needs = ctx.needs_input_grad[:2]
        if is_grad_enabled():
            gx, gw = _prelu_composite_backward(x, w, g, n, needs)
        else:
            gx, gw = _K.prelu_backward(g.contiguous(), x.contiguous(), w.contiguous(), n, L,
                                       needs[0], needs[1])
        return gx, gw, None, None


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training, negative inputs are scaled by a slope drawn
    uniformly from [lower, upper] per element; otherwise by (lower + upper) / 2."""
    _check_tensor(input, "rrelu")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    with rt.no_grad():
        noise = rt.empty_like(input).uniform_(lower, upper)
        noise = rt.where(input >= 0, 1.0, noise).to(input.dtype)
    if inplace:
        return input.mul_(noise)
    return input * noise


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)


# ---- exponential family ----------------------------------------------------------------------

def elu(input, alpha=1.0, inplace=False):
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    _check_tensor(input, "elu")
    if inplace:
        return _elu_inplace(input, float(alpha), 1.0, 1.0)
    return _apply("elu", input, "elu_cpu", float(alpha), 1.0, 1.0)


def elu_(input, alpha=1.0):
    """In-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    _check_tensor(input, "selu")
    args = (_SELU_ALPHA * _SELU_SCALE, _SELU_SCALE, 1.0)
    if inplace:
        return _elu_inplace(input, *args)
    return _apply("elu", input, "elu_cpu", *args)


def selu_(input):
    """In-place :func:`selu`."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    _check_tensor(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    args = (float(alpha), 1.0, 1.0 / alpha)
    if inplace:
        return _elu_inplace(input, *args)
    return _apply("elu", input, "elu_cpu", *args)


def celu_(input, alpha=1.0):
    """In-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


def gelu(input, approximate="none"):
    """``x * Phi(x)`` (``approximate='none'``, with erf) or its tanh approximation."""
    _check_tensor(input, "gelu")
    if approximate == "none":
        return _apply("gelu", input, "GeluKernelImpl")
    if approximate == "tanh":
        return _apply("gelu_tanh", input, "GeluKernelImpl")
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input, inplace=False):
    """``x * sigmoid(x)``."""
    _check_tensor(input, "silu")
    if inplace:
        return _silu_inplace(input)
    return _apply("silu", input, "silu_cpu")


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    _check_tensor(input, "mish")
    if inplace:
        return _mish_inplace(input)
    return _apply("mish", input, "mish_cpu")


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    _check_tensor(input, "softplus")
    return _apply("softplus", input, "softplus_cpu", float(beta), float(threshold))


def logsigmoid(input):
    """``log(sigmoid(x))``, computed stably."""
    _check_tensor(input, "logsigmoid")
    return _apply("logsigmoid", input, "log_sigmoid_cpu")


# ---- hard / piecewise ------------------------------------------------------------------------

def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    _check_tensor(input, "hardswish")
    if inplace:
        return _hardswish_inplace(input)
    return _apply("hardswish", input, "hardswish_cpu")


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    _check_tensor(input, "hardsigmoid")
    if inplace:
        return _hardsigmoid_inplace(input)
    return _apply("hardsigmoid", input, "hardsigmoid_cpu")


def threshold(input, threshold, value, inplace=False):
    """``x if x > threshold else value``."""
    _check_tensor(input, "threshold")
    if input.dtype in _FLOATS or input.dtype in _HALFS:
        if inplace:
            return _threshold_inplace(input, float(threshold), float(value))
        return _apply("threshold", input, "threshold_cpu", float(threshold), float(value))
    if input.dtype.is_complex:
        raise NotImplementedError("\"threshold_cpu\" not implemented for "
                                  f"'{_SHORT.get(input.dtype)}'")
    # integer and bool tensors: no gradient, PyTorch computes them too
    with rt.no_grad():
        result = rt.where(input <= threshold, rt.tensor(value, dtype=input.dtype), input)
    if inplace:
        return input.copy_(result)
    return result


_threshold = threshold


def threshold_(input, threshold, value):
    """In-place :func:`threshold`."""
    return _threshold(input, threshold, value, inplace=True)


def _check_lambd(lambd, input):
    if lambd < 0:
        limit = "1.79769e+308" if input.dtype == rtt.float64 else "3.40282e+38"
        name = _SHORT.get(input.dtype, str(input.dtype))
        raise RuntimeError(f"lambda must be in range [0, {limit}] for input dtype {name}, but "
                           f"found {lambd:g}")


def softshrink(input, lambd=0.5):
    """``x - lambd if x > lambd, x + lambd if x < -lambd, else 0``."""
    _check_tensor(input, "softshrink")
    _check_lambd(lambd, input)
    return _apply("softshrink", input, "softshrink_cpu", float(lambd))


def hardshrink(input, lambd=0.5):
    """``x if |x| > lambd else 0``."""
    _check_tensor(input, "hardshrink")
    return _apply("hardshrink", input, "hardshrink_cpu", float(lambd))


# ---- composites --------------------------------------------------------------------------------

def sigmoid(input):
    """``1 / (1 + exp(-x))``."""
    return input.sigmoid()


def tanh(input):
    """``tanh(x)``."""
    return input.tanh()


def softsign(input):
    """``x / (1 + |x|)``."""
    _check_tensor(input, "softsign")
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``x - tanh(x)``."""
    _check_tensor(input, "tanhshrink")
    return input - input.tanh()


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the halves of input along
    ``dim``."""
    _check_tensor(input, "glu")
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    nd = input.dim()
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}],"
                         f" but got {dim})")
    d = dim + nd if dim < 0 else dim
    size = input.shape[d]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()
