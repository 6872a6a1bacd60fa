"""ONNX elementwise converters: arithmetic, math functions, comparisons and logic,
variadic Min/Max/Sum/Mean, Where, Clip, Cast/CastLike.

Semantics follow the ONNX operator specification (``onnx.defs.get_schema(op, v).doc``) and
its reference implementation (``onnx.reference.ops``):

- Broadcasting is numpy's multidirectional broadcasting from opset 7 on (opset 8 for the
  variadic Min/Max/Sum/Mean). Before that, binary operators broadcast only with
  ``broadcast=1``, aligning B with A's dimensions from ``axis`` (default: A's trailing
  dimensions), and variadic operators require equal shapes.
- Both operands of a binary operator have one type ``T`` (a mismatch is a ``FormatError``,
  as onnxruntime refuses such a model); the result has that type: int8 + int8 wraps as int8.
- Div on integers truncates toward zero (C semantics; ONNX reference ``op_div.py``).
- Pow's result has the base's type (ONNX Pow-12 on: ``T`` for X, ``T1`` for Y); an integer
  base with a floating exponent is computed in float64 and truncated, as the reference.

Every converter is made of differentiable rt ops, so gradients flow through an imported
model::

    >>> import rt_autograd as rt
    >>> from rt_import.onnx.registry import lookup
    >>> add = lookup("", "Add", 17)
"""
import numpy as np
import onnx

import rt_autograd as rt

from rt_import.onnx.graph import ONNX_TO_RT_DTYPE
from rt_import.onnx.registry import converter

__all__ = []

_FLOATS = (rt.float16, rt.bfloat16, rt.float32, rt.float64)


def is_float(x):
    return x.dtype in _FLOATS


def check_same_type(node, *tensors):
    """Raise FormatError unless every given (not None) tensor has one dtype (ONNX type
    constraint ``T`` shared by the inputs)."""
    dtypes = [t.dtype for t in tensors if t is not None]
    if any(d != dtypes[0] for d in dtypes[1:]):
        names = ", ".join(str(d).replace("rt_tensor.", "") for d in dtypes)
        raise node.error(f"inputs must have one element type, got {names}")


def check_broadcast(node, *tensors):
    """Raise FormatError unless the given (not None) tensors' shapes broadcast together
    (ONNX multidirectional broadcasting, numpy's rules), before any kernel sees them."""
    shapes = [tuple(t.shape) for t in tensors if t is not None]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise node.error(f"input shapes {', '.join(str(list(s)) for s in shapes)} do not "
                         "broadcast together") from None


def check_bool(node, *tensors):
    for t in tensors:
        if t is not None and t.dtype != rt.bool:
            raise node.error(f"inputs must be bool tensors, got {str(t.dtype)[10:]}")


def legacy_broadcast(node, a, b):
    """B aligned with A for the opset-1/6 ``broadcast``/``axis`` attributes (Add-6 doc:
    "B's shape must be a contiguous subset of A's shape", starting at ``axis``; by default
    A's trailing dimensions). Without ``broadcast=1`` the shapes must be equal."""
    if not node.attr("broadcast", 0):
        if tuple(a.shape) != tuple(b.shape):
            raise node.error(f"shapes {tuple(a.shape)} and {tuple(b.shape)} differ and the "
                             "node does not set broadcast=1 (opset < 7)")
        return b
    if b.dim() == 0:
        return b
    axis = node.attr("axis", a.dim() - b.dim())
    if axis < 0:
        axis += a.dim()
    if axis < 0 or axis + b.dim() > a.dim() or any(
            sb not in (sa, 1) for sa, sb in zip(a.shape[axis:axis + b.dim()], b.shape)):
        raise node.error(f"cannot broadcast B of shape {tuple(b.shape)} to A of shape "
                         f"{tuple(a.shape)} at axis {node.attr('axis', None)}")
    return b.reshape(tuple(b.shape) + (1,) * (a.dim() - axis - b.dim()))


def _register_binary(op_type, fn, legacy_versions, versions, doc, same_type=True):
    """Register ``fn(node, a, b)`` for ``versions`` (numpy broadcasting) and, through
    ``legacy_broadcast``, for ``legacy_versions``."""
    def modern(node, a, b):
        if same_type:
            check_same_type(node, a, b)
        check_broadcast(node, a, b)
        return fn(node, a, b)

    def legacy(node, a, b):
        if same_type:
            check_same_type(node, a, b)
        return fn(node, a, legacy_broadcast(node, a, b))

    for f, kind in ((modern, "numpy broadcasting"), (legacy, "broadcast/axis attributes")):
        f.__name__ = f"{op_type.lower()}_{'legacy' if f is legacy else 'converter'}"
        f.__qualname__ = f.__name__
        f.__doc__ = f"ONNX {op_type} ({kind}): {doc}"
    if legacy_versions:
        converter(op_type, *legacy_versions)(legacy)
    converter(op_type, *versions)(modern)


# --- arithmetic ---------------------------------------------------------------------------

def _div(node, a, b):
    if a.dtype in _FLOATS or a.is_complex():
        return rt.div(a, b)
    if a.dtype == rt.bool:
        raise node.error("Div is not defined for bool tensors")
    if bool((b == 0).any()):
        raise node.error("integer division by zero")
    # ONNX Div on integers truncates toward zero (reference op_div.py, C++ semantics).
    return rt.div(a, b, rounding_mode="trunc")


def _pow(node, x, y):
    # Pow-7..: the result has X's type (Pow-12 lets Y have another numeric type).
    if is_float(x):
        # A wider float exponent promotes (float16 ** float32 is computed in float32) and
        # the result is rounded back to X's type once, as numpy's power + astype.
        out = rt.pow(x, y)
    elif is_float(y):
        # An integer base with a float exponent: numpy computes in float64 and the ONNX
        # reference truncates the result back to X's type.
        out = rt.pow(x.to(rt.float64), y.to(rt.float64))
    else:
        if x.dtype == rt.bool or y.dtype == rt.bool:
            raise node.error("Pow is not defined for bool tensors")
        if bool((y < 0).any()):
            raise node.error("an integer base to a negative integer power is not "
                             "representable (numpy and PyTorch refuse it too)")
        out = rt.pow(x, y)
    return out if out.dtype == x.dtype else out.to(x.dtype)


def _mod(node, a, b):
    # Mod-10/13/28: fmod=0 is A - floor(A/B)*B (sign of B, Python's %, torch.remainder);
    # fmod=1 is C's fmod (sign of A). Mod-28 defines fmod=0 for floats as well.
    fmod = node.attr("fmod", 0)
    if fmod not in (0, 1):
        raise node.error(f"fmod must be 0 or 1, got {fmod}")
    if a.dtype == rt.bool:
        raise node.error("Mod is not defined for bool tensors")
    if not is_float(a) and bool((b == 0).any()):
        raise node.error("integer Mod by zero")
    return rt.fmod(a, b) if fmod else rt.remainder(a, b)


_register_binary("Add", lambda node, a, b: rt.add(a, b), (1, 6), (7, 13, 14), "A + B.")
_register_binary("Sub", lambda node, a, b: rt.sub(a, b), (1, 6), (7, 13, 14), "A - B.")
_register_binary("Mul", lambda node, a, b: rt.mul(a, b), (1, 6), (7, 13, 14), "A * B.")
_register_binary("Div", _div, (1, 6), (7, 13, 14),
                 "A / B; integer division truncates toward zero.")
_register_binary("Pow", _pow, (1,), (7, 12, 13, 15),
                 "X ** Y with X's result type.", same_type=False)
_register_binary("Mod", _mod, (), (10, 13, 28),
                 "remainder with B's sign (fmod=0) or C fmod with A's sign (fmod=1).")


# --- unary math -------------------------------------------------------------------------

def _register_unary(op_type, fn, versions, doc):
    def unary(node, x):
        return fn(x)
    unary.__name__ = unary.__qualname__ = op_type.lower()
    unary.__doc__ = f"ONNX {op_type}: {doc}"
    converter(op_type, *versions)(unary)


_register_unary("Neg", rt.neg, (1, 6, 13), "-X.")
_register_unary("Abs", rt.abs, (1, 6, 13), "|X|.")
_register_unary("Sqrt", rt.sqrt, (1, 6, 13), "square root (NaN below zero).")
_register_unary("Reciprocal", rt.reciprocal, (1, 6, 13), "1 / X.")
_register_unary("Exp", rt.exp, (1, 6, 13), "e ** X.")
_register_unary("Log", rt.log, (1, 6, 13), "natural logarithm.")
_register_unary("Erf", rt.erf, (9, 13), "the error function.")
_register_unary("Floor", rt.floor, (1, 6, 13), "round toward -inf.")
_register_unary("Ceil", rt.ceil, (1, 6, 13), "round toward +inf.")
# Round-11: "rounds halves to the nearest even integer", as torch.round.
_register_unary("Round", rt.round, (11, 22), "round half to even.")
_register_unary("Sign", rt.sign, (9, 13), "-1, 0 or 1 (0 for 0, NaN for NaN).")
_register_unary("Sin", rt.sin, (7, 22), "sine.")
_register_unary("Cos", rt.cos, (7, 22), "cosine.")
_register_unary("Tan", rt.tan, (7, 22), "tangent.")
_register_unary("Asin", rt.asin, (7, 22), "arcsine.")
_register_unary("Acos", rt.acos, (7, 22), "arccosine.")
_register_unary("Atan", rt.atan, (7, 22), "arctangent.")
_register_unary("Sinh", rt.sinh, (9, 22), "hyperbolic sine.")
_register_unary("Cosh", rt.cosh, (9, 22), "hyperbolic cosine.")
_register_unary("Asinh", rt.asinh, (9, 22), "inverse hyperbolic sine.")
_register_unary("Acosh", rt.acosh, (9, 22), "inverse hyperbolic cosine.")
_register_unary("Atanh", rt.atanh, (9, 22), "inverse hyperbolic tangent.")
_register_unary("IsNaN", rt.isnan, (9, 13, 20), "True where X is NaN.")


@converter("IsInf", 10, 20)
def isinf(node, x):
    """ONNX IsInf: True where X is +inf (``detect_positive``, default 1) or -inf
    (``detect_negative``, default 1)."""
    pos, neg = node.attr("detect_positive", 1), node.attr("detect_negative", 1)
    if pos and neg:
        return rt.isinf(x)
    if pos:
        return rt.isposinf(x)
    if neg:
        return rt.isneginf(x)
    return rt.zeros(tuple(x.shape), dtype=rt.bool)


# --- comparisons and logic ----------------------------------------------------------------

_register_binary("Equal", lambda node, a, b: rt.eq(a, b), (1,), (7, 11, 13, 19), "A == B.")
_register_binary("Less", lambda node, a, b: rt.lt(a, b), (1,), (7, 9, 13), "A < B.")
_register_binary("Greater", lambda node, a, b: rt.gt(a, b), (1,), (7, 9, 13), "A > B.")
_register_binary("LessOrEqual", lambda node, a, b: rt.le(a, b), (), (12, 16), "A <= B.")
_register_binary("GreaterOrEqual", lambda node, a, b: rt.ge(a, b), (), (12, 16), "A >= B.")


def _logical(fn):
    def run(node, a, b):
        check_bool(node, a, b)
        return fn(a, b)
    return run


_register_binary("And", _logical(rt.logical_and), (1,), (7,), "logical and of bool tensors.")
_register_binary("Or", _logical(rt.logical_or), (1,), (7,), "logical or of bool tensors.")
_register_binary("Xor", _logical(rt.logical_xor), (1,), (7,), "logical xor of bool tensors.")


@converter("Not", 1)
def not_(node, x):
    """ONNX Not: logical negation of a bool tensor."""
    check_bool(node, x)
    return rt.logical_not(x)


def _bitwise(fn):
    def run(node, a, b):
        if is_float(a):
            raise node.error("bitwise operators take integer tensors")
        return fn(a, b)
    return run


_register_binary("BitwiseAnd", _bitwise(rt.bitwise_and), (), (18,), "bitwise and.")
_register_binary("BitwiseOr", _bitwise(rt.bitwise_or), (), (18,), "bitwise or.")
_register_binary("BitwiseXor", _bitwise(rt.bitwise_xor), (), (18,), "bitwise xor.")


@converter("BitwiseNot", 18)
def bitwise_not(node, x):
    """ONNX BitwiseNot: ~X of an integer tensor."""
    if is_float(x):
        raise node.error("bitwise operators take integer tensors")
    return rt.bitwise_not(x)


# --- variadic -------------------------------------------------------------------------------

def _register_variadic(op_type, fn, legacy_versions, versions, doc):
    """``fn(node, tensors)``; before opset 8 the inputs must have equal shapes."""
    def check(node, xs):
        if not xs or any(x is None for x in xs):
            raise node.error("needs at least one input and no omitted ones")
        check_same_type(node, *xs)

    def modern(node, *xs):
        check(node, xs)
        check_broadcast(node, *xs)
        return fn(node, xs)

    def legacy(node, *xs):
        check(node, xs)
        if any(tuple(x.shape) != tuple(xs[0].shape) for x in xs):
            raise node.error("inputs must have one shape before opset 8 (no broadcasting)")
        return fn(node, xs)

    for f, kind in ((modern, "numpy broadcasting"), (legacy, "equal shapes")):
        f.__name__ = f.__qualname__ = f"{op_type.lower()}_{'legacy' if f is legacy else 'converter'}"
        f.__doc__ = f"ONNX {op_type} ({kind}): {doc}"
    converter(op_type, *legacy_versions)(legacy)
    converter(op_type, *versions)(modern)


def _fold(fn):
    def run(node, xs):
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return out
    return run


def _mean(node, xs):
    if not is_float(xs[0]):
        raise node.error("Mean takes floating point tensors")
    return _fold(rt.add)(node, xs) / len(xs)


def _minmax_check(fn):
    def run(node, xs):
        if xs[0].dtype == rt.bool:
            raise node.error("Min/Max are not defined for bool tensors")
        return _fold(fn)(node, xs)
    return run


# maximum/minimum propagate NaN, as numpy's (the ONNX reference).
_register_variadic("Max", _minmax_check(rt.maximum), (1, 6), (8, 12, 13),
                   "elementwise maximum (NaN propagates).")
_register_variadic("Min", _minmax_check(rt.minimum), (1, 6), (8, 12, 13),
                   "elementwise minimum (NaN propagates).")
_register_variadic("Sum", _fold(rt.add), (1, 6), (8, 13), "elementwise sum.")
_register_variadic("Mean", _mean, (1, 6), (8, 13), "elementwise mean.")


# --- Where, Clip ----------------------------------------------------------------------------

@converter("Where", 9, 16)
def where(node, condition, x, y):
    """ONNX Where: X where ``condition`` else Y, all three broadcast together."""
    check_bool(node, condition)
    check_same_type(node, x, y)
    check_broadcast(node, condition, x, y)
    return rt.where(condition, x, y)


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _clip_attributes(node, x, default):
    if x.dtype == rt.bool:
        raise node.error("Clip is not defined for bool tensors")
    lo = node.attr("min", -default if default is not None else None)
    hi = node.attr("max", default)
    if lo is None and hi is None:
        return x
    return rt.clamp(x, lo, hi)


@converter("Clip", 1)
def clip_1(node, x):
    """ONNX Clip-1: ``min``/``max`` attributes; an unset bound is open."""
    return _clip_attributes(node, x, None)


@converter("Clip", 6)
def clip_6(node, x):
    """ONNX Clip-6: ``min``/``max`` attributes defaulting to float32's lowest and largest
    values (so an infinity is clipped to them)."""
    return _clip_attributes(node, x, _FLOAT32_MAX)


@converter("Clip", 11, 12, 13)
def clip(node, x, min=None, max=None):
    """ONNX Clip-11..: optional 0-d ``min`` and ``max`` inputs; where min > max every value
    becomes max (Clip-13 doc), which is what min(max(x, lo), hi) gives."""
    for bound, name in ((min, "min"), (max, "max")):
        if bound is not None:
            if bound.numel() != 1:
                raise node.error(f"{name} must be a scalar, got shape {tuple(bound.shape)}")
            check_same_type(node, x, bound)
    if min is None and max is None:
        return x
    if x.dtype == rt.bool:
        raise node.error("Clip is not defined for bool tensors")
    lo = min.reshape(()) if min is not None else None
    hi = max.reshape(()) if max is not None else None
    return rt.clamp(x, lo, hi)


# --- Cast -------------------------------------------------------------------------------

def onnx_type_name(code):
    try:
        return onnx.TensorProto.DataType.Name(code)
    except ValueError:
        return f"#{code}"


def rt_dtype_for(node, to):
    """The rt dtype of an ONNX element type given as a code or (Cast-1) a name."""
    if isinstance(to, str):
        try:
            to = onnx.TensorProto.DataType.Value(to.upper())
        except ValueError:
            raise node.error(f"unknown ONNX element type {to!r}") from None
    dtype = ONNX_TO_RT_DTYPE.get(to)
    if dtype is None:
        raise node.error(f"rt has no {onnx_type_name(to)} element type")
    return dtype


@converter("Cast", 1, 6, 9, 13, 19, 21, 23, 24, 25, 28)
def cast(node, x):
    """ONNX Cast to the element type ``to``: floats to integers truncate toward zero, any
    nonzero value (NaN too) becomes True, bool becomes 0/1. ``saturate`` and
    ``round_mode`` only concern float8/float4 targets, which rt does not have."""
    to = node.attr("to")
    if to is None:
        raise node.error("the 'to' attribute is required")
    dtype = rt_dtype_for(node, to)
    return x if x.dtype == dtype else x.to(dtype)


@converter("CastLike", 15, 19, 21, 23, 24, 25)
def cast_like(node, x, target_type):
    """ONNX CastLike: Cast to ``target_type``'s element type."""
    return x if x.dtype == target_type.dtype else x.to(target_type.dtype)
