"""Pooling family of ``torch.nn.functional``: ``max_pool1d/2d`` (with indices),
``avg_pool1d/2d``, ``adaptive_avg_pool1d/2d``, ``adaptive_max_pool1d/2d`` and ``lp_pool1d/2d``.

The kernels are rt_tensor._nn_pool's (Cython, threads over the (N, C) planes, PyTorch's window
and index formulas). Argument checks and messages are PyTorch's (aten/src/ATen/native/Pool.h,
DilatedMaxPool2d.cpp, AveragePool2d.cpp, MaxPooling.cpp, AdaptiveAveragePooling.cpp). 1-d ops
run the 2-d kernels on (..., 1, L) views.

Gradients: every pooling map but max is linear, so its backward is the adjoint kernel, and the
adjoint's backward is the forward kernel again (double backward for free). Max pooling's
backward scatters the gradient to the argmax indices; that scatter's backward gathers at the
same indices, and vice versa.
"""
import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd._autograd import needs_grad
from rt_autograd.autograd import Function
from rt_tensor import _nn_pool as _k

__all__ = ["max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "lp_pool1d", "lp_pool2d"]

_F32 = rtt.float32
_F64 = rtt.float64
_KERNEL_DTYPES = (_F32, _F64)
_contiguous = rtt.Tensor.contiguous
_reshape = rtt.Tensor.reshape


# ---- argument helpers ---------------------------------------------------------------------------

def _sizes(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _is_int(v):
    if isinstance(v, rtt.Tensor):
        return v.dim() == 0 and not v.dtype.is_floating_point
    return hasattr(v, "__index__")


def _int_list(value, fname, argname, pos):
    """An int or a sequence of ints as a list (PyTorch's IntArrayRef argument parsing)."""
    if type(value) is int:
        return [value]
    if isinstance(value, bool) or (not isinstance(value, (list, tuple)) and _is_int(value)):
        return [int(value)]
    if isinstance(value, (list, tuple)):
        out = []
        for i, v in enumerate(value):
            if not _is_int(v):
                raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be tuple "
                                f"of ints, but found element of type {type(v).__name__} at pos {i}")
            out.append(int(v))
        return out
    raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be tuple of ints, "
                    f"not {type(value).__name__}")


def _check1d(fname, argname, values):
    if len(values) != 1:
        raise RuntimeError(f"{fname}() argument '{argname}' should contain one int "
                           f"(got {len(values)})")


def _check_dim_range(fname, t, lo, hi):
    """PyTorch's checkDimRange(fname, TensorArg(t, "self", 1), lo, hi) (hi exclusive)."""
    d = t.dim()
    if d < lo or d >= hi:
        raise RuntimeError(f"Expected {lo} to {hi - 1} dimensions, but got {d}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for {fname})")


def _cdiv(a, b):
    """C++ integer division (truncates toward zero)."""
    if a >= 0 and b > 0:
        return a // b
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _pool_out(size, k, pad, stride, dilation, ceil_mode):
    """pooling_output_shape (aten/src/ATen/native/Pool.h)."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > _cdiv((k - 1) * dilation + 1, 2):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={pad}, kernel_size={k} and dilation={dilation}")
    out = (size + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pool2d_shape_check(shape, kH, kW, dH, dW, pH, pW, dilH, dilW, oH, oW):
    """pool2d_shape_check (Pool.h) on an input of this shape (3-d or 4-d)."""
    if kW <= 0 or kH <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kH} kW: {kW}")
    if dW <= 0 or dH <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {dH} dW: {dW}")
    if dilH <= 0 or dilW <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dilH} "
                           f"dilationW: {dilW}")
    nd = len(shape)
    valid = nd >= 3 and shape[1] != 0 and shape[2] != 0
    if not ((nd == 3 and shape[0] != 0 and valid) or (nd == 4 and valid and shape[3] != 0)):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{_sizes(shape)}")
    if not (_cdiv(kW, 2) >= pW and _cdiv(kH, 2) >= pH):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {pW}, padH = {pH}, kW = {kW}, kH = {kH}")
    if oW < 1 or oH < 1:
        c, h, w = shape[-3], shape[-2], shape[-1]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{oH}x{oW}). Output size is too small")


def _pair_args(fname, kernel_size, stride, padding, dilation):
    k = _int_list(kernel_size, fname, "kernel_size", 2)
    s = [] if stride is None else _int_list(stride, fname, "stride", 3)
    p = _int_list(padding, fname, "padding", 4)
    d = None if dilation is None else _int_list(dilation, fname, "dilation", 5)
    return k, s, p, d


def _float_kernel_input(x):
    """(tensor in a kernel dtype, dtype to return in): half types compute in float32."""
    dt = x.dtype
    if dt in _KERNEL_DTYPES:
        return x, None
    if dt.is_floating_point:
        return x.float(), dt
    return None, dt


def _not_implemented(name, dt):
    return NotImplementedError(f"\"{name}\" not implemented for '{dt.scalar_name}'")


def _as_planes(t, one_d):
    """A contiguous rt_tensor view of ``t`` whose last two dims are a plane; 1-d: (..., 1, L)."""
    t = _contiguous(t)
    if one_d:
        shape = tuple(t.shape)
        t = _reshape(t, shape[:-1] + (1, shape[-1]))
    return t


def _from_planes(t, one_d):
    if one_d:
        shape = tuple(t.shape)
        return _reshape(t, shape[:-2] + (shape[-1],))
    return t


# ---- Functions ----------------------------------------------------------------------------------

class _PlaneMap:
    """A linear map between planes (..., H, W) -> (..., oH, oW), as a forward kernel and its
    adjoint; ``one_d`` maps (..., L) -> (..., oL) through (..., 1, L) views."""

    __slots__ = ("fwd", "adj", "in_hw", "out_hw", "one_d")

    def __init__(self, fwd, adj, in_hw, out_hw, one_d):
        self.fwd = fwd          # fwd(x_planes) -> y_planes
        self.adj = adj          # adj(g_planes, H, W) -> gx_planes
        self.in_hw = in_hw
        self.out_hw = out_hw
        self.one_d = one_d

    def apply(self, x):
        return _from_planes(self.fwd(_as_planes(x, self.one_d)), self.one_d)

    def adjoint(self, g):
        return _from_planes(self.adj(_as_planes(g, self.one_d), *self.in_hw), self.one_d)


def _linear_pair(name, adjoint_name):
    class Forward(Function):
        node_name = name

        @staticmethod
        def forward(ctx, x, op):
            ctx.op = op
            return op.apply(x)

        @staticmethod
        def backward(ctx, g):
            return Adjoint.apply(g, ctx.op), None

    class Adjoint(Function):
        node_name = adjoint_name

        @staticmethod
        def forward(ctx, g, op):
            ctx.op = op
            return op.adjoint(g)

        @staticmethod
        def backward(ctx, gg):
            return Forward.apply(gg, ctx.op), None

    Forward.__name__ = Forward.__qualname__ = "_" + name.replace("Backward0", "")
    Adjoint.__name__ = Adjoint.__qualname__ = "_" + adjoint_name.replace("Backward0", "")
    return Forward, Adjoint


_AvgPool2d, _AvgPool2dAdjoint = _linear_pair("AvgPool2DBackward0", "AvgPool2DBackwardBackward0")
_AdaptiveAvgPool2d, _AdaptiveAvgPool2dAdjoint = _linear_pair(
    "AdaptiveAvgPool2DBackward0", "AdaptiveAvgPool2DBackwardBackward0")


def _apply_linear(cls, x, op):
    """Run the linear map ``op`` on x (float32/float64), recording a node when needed."""
    if needs_grad(x):
        return cls.apply(x, op)
    return op.apply(x)


class _IndexScatter(Function):
    """zeros(..., H, W) with g added at each plane's flat ``indices`` (max pooling's backward)."""
    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, g, indices, in_hw, one_d):
        ctx.save_for_backward(indices)
        ctx.in_hw = in_hw
        ctx.one_d = one_d
        return _from_planes(_k.max_pool_backward(_as_planes(g, one_d), _as_planes(indices, one_d),
                                                 *in_hw), one_d)

    @staticmethod
    def backward(ctx, gg):
        indices, = ctx.saved_tensors
        return _IndexGather.apply(gg, indices, ctx.in_hw, ctx.one_d), None, None, None


class _IndexGather(Function):
    """x_plane[indices] for each plane (the values max pooling picked)."""
    node_name = "MaxPoolDoubleBackwardBackward0"

    @staticmethod
    def forward(ctx, x, indices, in_hw, one_d):
        ctx.save_for_backward(indices)
        ctx.in_hw = in_hw
        ctx.one_d = one_d
        return _from_planes(_k.max_pool_gather(_as_planes(x, one_d), _as_planes(indices, one_d)),
                            one_d)

    @staticmethod
    def backward(ctx, g):
        indices, = ctx.saved_tensors
        return _IndexScatter.apply(g, indices, ctx.in_hw, ctx.one_d), None, None, None


class _MaxPool(Function):
    """Max pooling (or adaptive max pooling): (values, indices); the gradient goes to the
    argmax of each window (an _IndexScatter, twice differentiable)."""
    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, run, in_hw, one_d):
        values, indices = run(_as_planes(x, one_d))
        values = _from_planes(values, one_d)
        indices = _from_planes(indices, one_d)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.in_hw = in_hw
        ctx.one_d = one_d
        return values, indices

    @staticmethod
    def backward(ctx, g, _gi):
        indices, = ctx.saved_tensors
        return _IndexScatter.apply(g, indices, ctx.in_hw, ctx.one_d), None, None, None


class _AdaptiveMaxPool(_MaxPool):
    node_name = "AdaptiveMaxPool2DBackward0"


def _run_max(cls, input, run, in_hw, one_d):
    """values, indices of a max pooling ``run`` (a kernel on planes), for any float or integer
    input; integers go through float64 (exact below 2**53) and back."""
    x, back = _float_kernel_input(input)
    if x is None:
        values, indices = run(_as_planes(rtt.Tensor.to(input, _F64), one_d))
        return rtt.Tensor.to(_from_planes(values, one_d), back), _from_planes(indices, one_d)
    if needs_grad(x):
        values, indices = cls.apply(x, run, in_hw, one_d)
    else:
        values, indices = run(_as_planes(x, one_d))
        values = _from_planes(values, one_d)
        indices = _from_planes(indices, one_d)
    if back is not None:
        values = values.to(back)
    return values, indices


class _Runner:
    """A kernel call with its parameters bound (the ``run`` of _MaxPool)."""
    __slots__ = ("kernel", "args")

    def __init__(self, kernel, args):
        self.kernel = kernel
        self.args = args

    def __call__(self, planes):
        return self.kernel(planes, *self.args)


# ---- max pooling --------------------------------------------------------------------------------

def _max_pool2d_params(fname, shape, k, s, p, d, ceil_mode):
    if len(k) not in (1, 2):
        raise RuntimeError(f"{fname}: kernel_size must either be a single int, or a tuple of "
                           f"two ints")
    kH, kW = k[0], k[-1]
    if len(s) not in (0, 1, 2):
        raise RuntimeError(f"{fname}: stride must either be omitted, a single int, or a tuple of "
                           f"two ints")
    sH, sW = (kH, kW) if not s else (s[0], s[-1])
    if len(p) not in (1, 2):
        raise RuntimeError(f"{fname}: padding must either be a single int, or a tuple of two ints")
    pH, pW = p[0], p[-1]
    if len(d) not in (1, 2):
        raise RuntimeError(f"{fname}: dilation must be either a single int, or a tuple of two ints")
    dH, dW = d[0], d[-1]
    if len(shape) not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    H, W = shape[-2], shape[-1]
    oH = _pool_out(H, kH, pH, sH, dH, ceil_mode)
    oW = _pool_out(W, kW, pW, sW, dW, ceil_mode)
    _pool2d_shape_check(shape, kH, kW, sH, sW, pH, pW, dH, dW, oH, oW)
    return (kH, kW, sH, sW, pH, pW, dH, dW, oH, oW), (H, W)


def _square_params(shape, k, s, p, d, ceil_mode):
    """The common case of plain int arguments on a valid (C, H, W) or (N, C, H, W) input:
    the max_pool2d kernel arguments without the general path's per-call cost; None when
    anything needs the general path (its checks raise PyTorch's errors)."""
    if type(k) is not int or type(p) is not int or type(d) is not int:
        return None
    if s is None:
        s = k
    elif type(s) is not int:
        return None
    nd = len(shape)
    if nd not in (3, 4) or k <= 0 or s <= 0 or d <= 0 or p < 0 or 2 * p > k:
        return None
    H, W = shape[-2], shape[-1]
    if shape[-3] == 0 or H == 0 or W == 0 or (nd == 3 and shape[0] == 0):
        return None
    ext = d * (k - 1) + 1
    if 2 * p > ext:
        return None
    extra = s - 1 if ceil_mode else 0
    oH = (H + 2 * p - ext + extra) // s + 1
    oW = (W + 2 * p - ext + extra) // s + 1
    if ceil_mode:
        if (oH - 1) * s >= H + p:
            oH -= 1
        if (oW - 1) * s >= W + p:
            oW -= 1
    if oH < 1 or oW < 1:
        return None
    return (k, k, s, s, p, p, d, d, oH, oW), (H, W)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``F.max_pool2d(..., return_indices=True)``: (values, int64 indices into each flattened
    (H, W) plane)."""
    shape = tuple(input.shape)
    fast = _square_params(shape, kernel_size, stride, padding, dilation, ceil_mode)
    if fast is None:
        k, s, p, d = _pair_args("max_pool2d", kernel_size, stride, padding, dilation)
        fast = _max_pool2d_params("max_pool2d", shape, k, s, p, d, ceil_mode)
    params, in_hw = fast
    return _run_max(_MaxPool, input, _Runner(_k.max_pool2d, params), in_hw, False)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``torch.nn.functional.max_pool2d``: max over (kH, kW) windows of a (C, H, W) or
    (N, C, H, W) input; padding is implicit -inf; ``return_indices`` also returns the argmax
    as a flat index into each (H, W) plane."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    x, back = _float_kernel_input(input)
    if x is None or needs_grad(x):
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation,
                                       ceil_mode)[0]
    # inference: no argmax is needed, the kernel skips computing it
    shape = tuple(input.shape)
    fast = _square_params(shape, kernel_size, stride, padding, dilation, ceil_mode)
    if fast is None:
        k, s, p, d = _pair_args("max_pool2d", kernel_size, stride, padding, dilation)
        fast = _max_pool2d_params("max_pool2d", shape, k, s, p, d, ceil_mode)
    values = _from_planes(_k.max_pool2d(_as_planes(x, False), *fast[0], False)[0], False)
    return values if back is None else values.to(back)


def _max_pool1d_impl_checks(input, k, s, p, d, ceil_mode):
    """max_pool1d's checks and messages (MaxPooling.cpp) when no indices are asked for."""
    shape = tuple(input.shape)
    nd = len(shape)
    if not ((nd == 2 and shape[0] != 0 and shape[1] != 0) or
            (nd == 3 and shape[1] != 0 and shape[2] != 0)):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{_sizes(shape)}")
    if len(k) != 1:
        raise RuntimeError("max_pool1d() kernel_size must be an int, list of ints or tuple of "
                           f"ints of size 1 but got size {len(k)}")
    if len(s) not in (0, 1):
        raise RuntimeError("max_pool1d() stride must be None, an int, list of ints, or tuple of "
                           f"ints of size 1 but got size {len(s)}")
    if len(p) != 1:
        raise RuntimeError("max_pool1d() padding must be an int, list of ints, or tuple of ints "
                           f"of size 1 but got size {len(p)}")
    if len(d) != 1:
        raise RuntimeError("max_pool1d() dilation must be an int, list of ints or tuple of ints "
                           f"of size 1 but got size {len(d)}")
    kw, pw, dw = k[0], p[0], d[0]
    sw = s[0] if s else kw
    if kw <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {kw}")
    if sw <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {sw}")
    if pw < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {pw}")
    if pw > kw // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={pw} and kernel_size={kw}")
    if dw <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dw}")
    ow = _pool_out(shape[-1], kw, pw, sw, dw, ceil_mode)
    if ow <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {ow}")
    return (1, kw, 1, sw, 0, pw, 1, dw, 1, ow), (1, shape[-1])


def _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, with_indices):
    k, s, p, d = _pair_args("max_pool1d", kernel_size, stride, padding, dilation)
    if not with_indices:
        # PyTorch checks max_pool1d's arguments with max_pool1d_impl's messages (and computes
        # through max_pool1d_with_indices when the input requires grad)
        params, in_hw = _max_pool1d_impl_checks(input, k, s, p, d, ceil_mode)
        if not input.dtype.is_floating_point:
            raise _not_implemented("max_pool1d_impl", input.dtype)
    else:
        if not s:
            s = k
        _check_dim_range("max_pool1d", input, 2, 4)
        for name, v in (("kernel_size", k), ("stride", s), ("padding", p), ("dilation", d)):
            _check1d("max_pool1d", name, v)
        shape = tuple(input.shape)
        params, in_hw = _max_pool2d_params("max_pool2d", shape[:-1] + (1, shape[-1]), [1, k[0]],
                                           [1, s[0]], [0, p[0]], [1, d[0]], ceil_mode)
    run = _Runner(_k.max_pool2d, params)
    return _run_max(_MaxPool, input, run, in_hw, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``F.max_pool1d(..., return_indices=True)``: (values, int64 indices along L)."""
    return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``torch.nn.functional.max_pool1d`` over the last dim of a (C, L) or (N, C, L) input."""
    if return_indices:
        return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)
    return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, False)[0]


# ---- average pooling ----------------------------------------------------------------------------

def _avg_pool2d(input, k, s, p, ceil_mode, count_include_pad, divisor_override, one_d):
    if len(k) not in (1, 2):
        raise RuntimeError("avg_pool2d: kernel_size must either be a single int, or a tuple of "
                           "two ints")
    kH, kW = k[0], k[-1]
    if len(s) not in (0, 1, 2):
        raise RuntimeError("avg_pool2d: stride must either be omitted, a single int, or a tuple "
                           "of two ints")
    sH, sW = (kH, kW) if not s else (s[0], s[-1])
    if len(p) not in (1, 2):
        raise RuntimeError("avg_pool2d: padding must either be a single int, or a tuple of two "
                           "ints")
    pH, pW = p[0], p[-1]
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    shape = tuple(input.shape)
    if one_d:
        shape = shape[:-1] + (1, shape[-1])
    if len(shape) < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-len(shape)}, {len(shape) - 1}], but got -3)")
    H, W = shape[-2], shape[-1]
    oH = _pool_out(H, kH, pH, sH, 1, ceil_mode)
    oW = _pool_out(W, kW, pW, sW, 1, ceil_mode)
    _pool2d_shape_check(shape, kH, kW, sH, sW, pH, pW, 1, 1, oH, oW)
    x, back = _float_kernel_input(input)
    integer = x is None
    if integer:
        if input.dtype != rtt.int64:
            raise _not_implemented("avg_pool2d", input.dtype)
        x = rtt.Tensor.to(input, _F64)
    div = int(divisor_override) if divisor_override is not None else 0
    args = (kH, kW, sH, sW, pH, pW)

    def fwd(planes):
        return _k.avg_pool2d(planes, *args, oH, oW, count_include_pad, div)

    def adj(g, h, w):
        return _k.avg_pool2d_backward(g, h, w, *args, count_include_pad, div)

    op = _PlaneMap(fwd, adj, (H, W), (oH, oW), one_d)
    y = _apply_linear(_AvgPool2d, x, op)
    if integer:                        # PyTorch divides int64 sums with C++ truncation
        return rtt.Tensor.to(rtt.trunc(y), rtt.int64)
    return y.to(back) if back is not None else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """``torch.nn.functional.avg_pool2d`` over (kH, kW) windows of a (C, H, W) or (N, C, H, W)
    input (zero padding; ``count_include_pad``, ``divisor_override`` as PyTorch)."""
    k = _int_list(kernel_size, "avg_pool2d", "kernel_size", 2)
    s = [] if stride is None else _int_list(stride, "avg_pool2d", "stride", 3)
    p = _int_list(padding, "avg_pool2d", "padding", 4)
    return _avg_pool2d(input, k, s, p, ceil_mode, count_include_pad, divisor_override, False)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """``torch.nn.functional.avg_pool1d`` over the last dim of a (C, L) or (N, C, L) input."""
    k = _int_list(kernel_size, "avg_pool1d", "kernel_size", 2)
    s = k if stride is None else _int_list(stride, "avg_pool1d", "stride", 3)
    p = _int_list(padding, "avg_pool1d", "padding", 4)
    if not s:
        s = k
    _check_dim_range("avg_pool1d", input, 2, 4)
    _check1d("avg_pool1d", "kernel_size", k)
    _check1d("avg_pool1d", "stride", s)
    _check1d("avg_pool1d", "padding", p)
    return _avg_pool2d(input, [1, k[0]], [1, s[0]], [0, p[0]], ceil_mode, count_include_pad,
                       None, True)


# ---- adaptive pooling ---------------------------------------------------------------------------

def _list_with_default(out_size, defaults):
    if not isinstance(out_size, (list, tuple)):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def _adaptive_avg(input, oH, oW, one_d):
    shape = tuple(input.shape)
    H, W = (1, shape[-1]) if one_d else (shape[-2], shape[-1])
    x, back = _float_kernel_input(input)
    if x is None:
        raise _not_implemented("adaptive_avg_pool2d", input.dtype)

    def fwd(planes):
        return _k.adaptive_avg_pool2d(planes, oH, oW)

    def adj(g, h, w):
        return _k.adaptive_avg_pool2d_backward(g, h, w)

    op = _PlaneMap(fwd, adj, (H, W), (oH, oW), one_d)
    y = _apply_linear(_AdaptiveAvgPool2d, x, op)
    return y.to(back) if back is not None else y


def _adaptive_avg_2d_checks(shape, oH, oW):
    nd = len(shape)
    if nd not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{_sizes(shape)}")
    for i in (-2, -1):
        if shape[i] <= 0:
            raise RuntimeError("adaptive_avg_pool2d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {_sizes(shape)} with "
                               f"dimension {i + nd} being empty")


def adaptive_avg_pool2d(input, output_size):
    """``torch.nn.functional.adaptive_avg_pool2d``: output (oH, oW) windows
    [floor(i*H/oH), ceil((i+1)*H/oH)); ``None`` in output_size keeps that input size."""
    output_size = _list_with_default(output_size, tuple(input.shape))
    size = _int_list(output_size, "adaptive_avg_pool2d", "output_size", 2)
    if len(size) == 1:
        size = size * 2
    if len(size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    oH, oW = size
    if oH < 0 or oW < 0:
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than or "
                           f"equal to 0 but received {{{oH}, {oW}}}")
    if oH == 1 and oW == 1 and not (input.dim() in (3, 4) and input.dtype.is_floating_point
                                    and input.shape[-1] > 0 and input.shape[-2] > 0):
        # PyTorch computes this case as a mean over the last two dims (any input with two
        # dims or more); 3-d and 4-d float inputs take the kernel's whole-plane sum below
        if input.dim() < 2:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(input.dim(), 1)}, {max(input.dim(), 1) - 1}], but got -2)")
        if not input.dtype.is_floating_point:
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                               "a floating point or complex dtype. Got: "
                               f"{input.dtype.scalar_name}")
        return input.mean((-1, -2), keepdim=True)
    _adaptive_avg_2d_checks(tuple(input.shape), oH, oW)
    return _adaptive_avg(input, oH, oW, False)


def adaptive_avg_pool1d(input, output_size):
    """``torch.nn.functional.adaptive_avg_pool1d`` over the last dim of (C, L) or (N, C, L)."""
    size = _int_list(output_size, "adaptive_avg_pool1d", "output_size", 2)
    _check_dim_range("adaptive_avg_pool1d", input, 2, 4)
    _check1d("adaptive_avg_pool1d", "output_size", size)
    oW = size[0]
    if oW < 0:
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than or "
                           f"equal to 0 but received {{1, {oW}}}")
    shape = tuple(input.shape)
    if oW == 1:
        return input.mean(-1, keepdim=True) if input.dtype.is_floating_point else \
            adaptive_avg_pool2d(input.unsqueeze(-2), [1, 1]).squeeze(-2)
    _adaptive_avg_2d_checks(shape[:-1] + (1, shape[-1]), 1, oW)
    return _adaptive_avg(input, 1, oW, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``F.adaptive_max_pool2d(..., return_indices=True)``: (values, int64 indices)."""
    output_size = _list_with_default(output_size, tuple(input.shape))
    size = _int_list(output_size, "adaptive_max_pool2d", "output_size", 2)
    if len(size) == 1:
        size = size * 2
    shape = tuple(input.shape)
    nd = len(shape)
    if nd not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: "
                           f"{_sizes(shape)}")
    for i in range(1, nd):
        if shape[i] <= 0:
            raise RuntimeError("adaptive_max_pool2d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {_sizes(shape)} with "
                               f"dimension {i} being empty")
    if len(size) != 2:
        raise RuntimeError("adaptive_max_pool2d(): internal error: output_size.size() must be 2")
    oH, oW = size
    if oH < 0 or oW < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{oH if oH < 0 else oW}: {_sizes(shape[:-2] + (oH, oW))}")
    if not input.dtype.is_floating_point:
        raise _not_implemented("adaptive_max_pool2d", input.dtype)
    run = _Runner(_k.adaptive_max_pool2d, (oH, oW))
    return _run_max(_AdaptiveMaxPool, input, run, (shape[-2], shape[-1]), False)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool2d`` (``return_indices``: also the argmax as a
    flat index into each (H, W) plane)."""
    values, indices = adaptive_max_pool2d_with_indices(input, output_size)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``F.adaptive_max_pool1d(..., return_indices=True)``: (values, int64 indices)."""
    size = _int_list(output_size, "adaptive_max_pool1d", "output_size", 2)
    _check_dim_range("adaptive_max_pool1d", input, 2, 4)
    _check1d("adaptive_max_pool1d", "output_size", size)
    shape = tuple(input.shape)
    for i in range(1, len(shape)):
        if shape[i] <= 0:
            raise RuntimeError("adaptive_max_pool1d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {_sizes(shape)} with "
                               f"dimension {i} being empty")
    oW = size[0]
    if oW < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {oW}: "
                           f"{_sizes(shape[:-1] + (1, oW))}")
    if not input.dtype.is_floating_point:
        raise _not_implemented("adaptive_max_pool2d", input.dtype)
    run = _Runner(_k.adaptive_max_pool2d, (1, oW))
    return _run_max(_AdaptiveMaxPool, input, run, (1, shape[-1]), True)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool1d`` over the last dim of (C, L) or (N, C, L)."""
    values, indices = adaptive_max_pool1d_with_indices(input, output_size)
    return (values, indices) if return_indices else values


# ---- power-average pooling ----------------------------------------------------------------------

def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``torch.nn.functional.lp_pool2d``: (sum over each window of x**p) ** (1/p)."""
    kw, kh = (kernel_size, kernel_size) if not isinstance(kernel_size, (list, tuple)) \
        else tuple(kernel_size)
    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (rt.sign(out) * out.abs().relu()).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``torch.nn.functional.lp_pool1d``: (sum over each window of x**p) ** (1/p)."""
    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return max_pool1d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -max_pool1d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (rt.sign(out) * out.abs().relu()).mul(kernel_size).pow(1.0 / norm_type)
