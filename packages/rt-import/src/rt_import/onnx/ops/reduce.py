"""ONNX reduction converters: Reduce{Sum,Mean,Max,Min,Prod,L1,L2,LogSum,LogSumExp,SumSquare},
ArgMax/ArgMin and CumSum.

The reduced axes come from the ``axes`` attribute before ReduceSum-13 and before opset 18 for
the other Reduce* operators, and from an optional int64 ``axes`` input after. No axes means
every axis, unless ``noop_with_empty_axes=1`` (input form only), which reduces nothing: the
output is then the operator's elementwise part applied to the input (ReduceL1 gives |X|,
ReduceSumSquare X*X, ReduceMax X), as the operators' function bodies and the reference
implementation define it. ``keepdims`` defaults to 1.

Results keep the input's element type (an int32 ReduceSum is int32, an integer ReduceMean
truncates toward zero). Reducing an axis of length 0 gives the reduction's identity: 0 for
Sum/L1/L2/SumSquare, 1 for Prod, -inf for LogSum/LogSumExp, NaN for Mean, and the lowest
(highest) value of the type for Max (Min), False (True) for bool, as the ONNX reference.

    >>> from rt_import.onnx.registry import lookup
    >>> lookup("", "ReduceSum", 12) is not lookup("", "ReduceSum", 13)
    True
"""
import math

import numpy as np

import rt_autograd as rt

from rt_import.onnx.ops.elementwise import is_float
from rt_import.onnx.registry import converter

__all__ = []

_INT_RANGE = {rt.int8: np.int8, rt.int16: np.int16, rt.int32: np.int32, rt.int64: np.int64,
              rt.uint8: np.uint8}


def _axes_list(node, axes):
    """A Python list from the ``axes`` input (None when omitted)."""
    if axes is None:
        return None
    if is_float(axes) or axes.dtype == rt.bool or axes.dim() > 1:
        raise node.error("axes must be a 1-D int64 tensor")
    return [int(a) for a in axes.reshape(-1).tolist()]


def _normalize_axes(node, axes, rank):
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise node.error(f"axis {a} is out of range for a rank-{rank} input")
        a = a + rank if a < 0 else a
        if a in out:
            raise node.error(f"axis {a} appears twice in axes {list(axes)}")
        out.append(a)
    return tuple(sorted(out))


def _out_shape(shape, dims, keepdims):
    if keepdims:
        return tuple(1 if i in dims else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in dims)


def _identity_max(dtype):
    if dtype == rt.bool:
        return False
    if dtype in _INT_RANGE:
        return int(np.iinfo(_INT_RANGE[dtype]).min)
    return -math.inf


def _identity_min(dtype):
    if dtype == rt.bool:
        return True
    if dtype in _INT_RANGE:
        return int(np.iinfo(_INT_RANGE[dtype]).max)
    return math.inf


def _same_type(x, out):
    return out if out.dtype == x.dtype else out.to(x.dtype)


def _sum(x, dims, keepdims):
    return _same_type(x, rt.sum(x, dim=dims, keepdim=keepdims))


def _mean(x, dims, keepdims):
    if is_float(x) or x.is_complex():
        return rt.mean(x, dim=dims, keepdim=keepdims)
    # numpy's mean with an integer dtype (the reference) truncates the quotient.
    count = 1
    for d in dims:
        count *= x.shape[d]
    total = rt.sum(x, dim=dims, keepdim=keepdims)
    if count == 0:
        return rt.zeros(tuple(total.shape), dtype=x.dtype)
    return _same_type(x, rt.div(total, count, rounding_mode="trunc"))


def _max(x, dims, keepdims):
    if any(x.shape[d] == 0 for d in dims):
        return rt.full(_out_shape(tuple(x.shape), dims, keepdims), _identity_max(x.dtype),
                       dtype=x.dtype)
    if x.dtype == rt.bool:
        return rt.any(x, dim=dims, keepdim=keepdims)
    return rt.amax(x, dim=dims, keepdim=keepdims)


def _min(x, dims, keepdims):
    if any(x.shape[d] == 0 for d in dims):
        return rt.full(_out_shape(tuple(x.shape), dims, keepdims), _identity_min(x.dtype),
                       dtype=x.dtype)
    if x.dtype == rt.bool:
        return rt.all(x, dim=dims, keepdim=keepdims)
    return rt.amin(x, dim=dims, keepdim=keepdims)


def _prod(x, dims, keepdims):
    out = x
    for d in sorted(dims, reverse=True):    # the highest first: lower indices stay valid
        out = rt.prod(out, dim=d, keepdim=keepdims)
    return _same_type(x, out)


def _float_of(x):
    """Integer inputs are computed in float64 and truncated back (the reference does so
    through numpy's float64 results)."""
    return x if is_float(x) else x.to(rt.float64)


def _l1(x, dims, keepdims):
    return _same_type(x, rt.sum(rt.abs(x), dim=dims, keepdim=keepdims))


def _l2(x, dims, keepdims):
    # A vector norm rather than sqrt(sum(x*x)): the same value, and a zero gradient at 0
    # instead of NaN.
    return _same_type(x, rt.norm(_float_of(x), 2, dim=dims, keepdim=keepdims))


def _log_sum(x, dims, keepdims):
    return _same_type(x, rt.log(rt.sum(_float_of(x), dim=dims, keepdim=keepdims)))


def _log_sum_exp(x, dims, keepdims):
    if any(x.shape[d] == 0 for d in dims):
        return rt.full(_out_shape(tuple(x.shape), dims, keepdims), -math.inf,
                       dtype=_float_of(x).dtype).to(x.dtype)
    return _same_type(x, rt.logsumexp(_float_of(x), dim=dims, keepdim=keepdims))


def _sum_square(x, dims, keepdims):
    return _same_type(x, rt.sum(x * x, dim=dims, keepdim=keepdims))


# (reduction, elementwise part for a reduction over no axis, what types it takes)
_KINDS = {
    "ReduceSum": (_sum, lambda x: x, "numeric"),
    "ReduceMean": (_mean, lambda x: x, "numeric"),
    "ReduceMax": (_max, lambda x: x, "any"),
    "ReduceMin": (_min, lambda x: x, "any"),
    "ReduceProd": (_prod, lambda x: x, "numeric"),
    "ReduceL1": (_l1, rt.abs, "numeric"),
    "ReduceL2": (_l2, lambda x: _same_type(x, rt.abs(x)), "numeric"),
    "ReduceLogSum": (_log_sum, lambda x: _same_type(x, rt.log(_float_of(x))), "numeric"),
    "ReduceLogSumExp": (_log_sum_exp, lambda x: x, "numeric"),
    "ReduceSumSquare": (_sum_square, lambda x: x * x, "numeric"),
}


def _reduce(node, x, axes, noop_with_empty_axes):
    reduce_fn, elementwise, types = _KINDS[node.op_type]
    if types == "numeric" and x.dtype == rt.bool:
        raise node.error("is not defined for bool tensors")
    keepdims = bool(node.attr("keepdims", 1))
    if not axes:
        if noop_with_empty_axes:
            return elementwise(x)
        dims = tuple(range(x.dim()))
    else:
        dims = _normalize_axes(node, axes, x.dim())
    if not dims:            # a 0-d input: reducing all of its (no) axes changes nothing
        return elementwise(x)
    return reduce_fn(x, dims, keepdims)


def _register_reduce(op_type, attribute_versions, input_versions):
    def with_attribute(node, x):
        return _reduce(node, x, node.attr("axes", None), False)

    def with_input(node, x, axes=None):
        return _reduce(node, x, _axes_list(node, axes), node.attr("noop_with_empty_axes", 0))

    with_attribute.__name__ = with_attribute.__qualname__ = f"{op_type.lower()}_axes_attr"
    with_input.__name__ = with_input.__qualname__ = f"{op_type.lower()}_axes_input"
    with_attribute.__doc__ = (f"ONNX {op_type} with the ``axes`` attribute (opset < "
                              f"{input_versions[0]}), see the module doc.")
    with_input.__doc__ = (f"ONNX {op_type} with the optional ``axes`` input and "
                          "``noop_with_empty_axes``, see the module doc.")
    converter(op_type, *attribute_versions)(with_attribute)
    converter(op_type, *input_versions)(with_input)


_register_reduce("ReduceSum", (1, 11), (13,))
_register_reduce("ReduceMean", (1, 11, 13), (18,))
_register_reduce("ReduceMax", (1, 11, 12, 13), (18, 20))
_register_reduce("ReduceMin", (1, 11, 12, 13), (18, 20))
_register_reduce("ReduceProd", (1, 11, 13), (18,))
_register_reduce("ReduceL1", (1, 11, 13), (18,))
_register_reduce("ReduceL2", (1, 11, 13), (18,))
_register_reduce("ReduceLogSum", (1, 11, 13), (18, 28))
_register_reduce("ReduceLogSumExp", (1, 11, 13), (18, 28))
_register_reduce("ReduceSumSquare", (1, 11, 13), (18,))


# --- ArgMax / ArgMin ------------------------------------------------------------------------

def _arg(node, x, fn):
    if x.dim() == 0:
        raise node.error("needs an input of rank 1 or more")
    axis = node.attr("axis", 0)
    rank = x.dim()
    if not -rank <= axis < rank:
        raise node.error(f"axis {axis} is out of range for a rank-{rank} input")
    axis = axis + rank if axis < 0 else axis
    n = x.shape[axis]
    if n == 0:
        raise node.error(f"axis {axis} has length 0: there is no extreme value to locate")
    keepdims = bool(node.attr("keepdims", 1))
    x = x.detach()
    if x.dtype == rt.bool:
        x = x.to(rt.uint8)
    if node.attr("select_last_index", 0):
        # The first extreme of the reversed axis is the last one of the original.
        return (n - 1) - fn(rt.flip(x, (axis,)), dim=axis, keepdim=keepdims)
    return fn(x, dim=axis, keepdim=keepdims)


@converter("ArgMax", 1, 11, 12, 13)
def argmax(node, x):
    """ONNX ArgMax: int64 index of the maximum along ``axis`` (default 0), the first one or
    (``select_last_index=1``, opset 12) the last one; ``keepdims`` default 1. NaN counts as
    the maximum, as numpy's argmax."""
    return _arg(node, x, rt.argmax)


@converter("ArgMin", 1, 11, 12, 13)
def argmin(node, x):
    """ONNX ArgMin: as ArgMax for the minimum."""
    return _arg(node, x, rt.argmin)


# --- CumSum ---------------------------------------------------------------------------------

@converter("CumSum", 11, 14)
def cumsum(node, x, axis):
    """ONNX CumSum along the 0-d (or one-element) int ``axis`` input; ``exclusive=1`` leaves
    out each element itself (the first sum is 0), ``reverse=1`` sums from the end. The
    result keeps X's type."""
    if axis is None or is_float(axis) or axis.dtype == rt.bool or axis.numel() != 1:
        raise node.error("axis must be an int32/int64 scalar tensor")
    if x.dtype == rt.bool:
        raise node.error("CumSum is not defined for bool tensors")
    rank = max(x.dim(), 1)
    a = int(axis.reshape(()).item())
    if not -rank <= a < rank:
        raise node.error(f"axis {a} is out of range for a rank-{x.dim()} input")
    a = a + rank if a < 0 else a
    squeeze = x.dim() == 0
    if squeeze:
        x = x.reshape(1)
    t = rt.flip(x, (a,)) if node.attr("reverse", 0) else x
    out = _same_type(x, rt.cumsum(t, a))
    if node.attr("exclusive", 0):
        n = t.shape[a]
        # Shift by one along the axis: [0, s_0, ..., s_{n-2}] (no subtraction, so no
        # rounding error and no overflow beyond the inclusive sums').
        zeros = rt.zeros_like(rt.narrow(out, a, 0, min(n, 1)))
        out = rt.cat([zeros, rt.narrow(out, a, 0, max(n - 1, 0))], a) if n else out
    if node.attr("reverse", 0):
        out = rt.flip(out, (a,))
    return out.reshape(()) if squeeze else out
