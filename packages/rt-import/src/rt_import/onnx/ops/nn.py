"""ONNX neural-network operators as rt ops: MatMul, Gemm, Conv, ConvTranspose,
BatchNormalization, LayerNormalization, InstanceNormalization, LRN, MaxPool, AveragePool,
GlobalAveragePool, GlobalMaxPool and Resize.

The common cases run rt_nn.functional's kernels (``linear``, ``conv{1,2,3}d``,
``conv_transpose{1,2,3}d``, ``max_pool{1,2}d``, ``avg_pool{1,2}d``, ``batch_norm``,
``layer_norm``); what those cannot express (asymmetric or SAME padding, 3-D pooling, dilated
average pooling, MaxPool's Indices output, every Resize mode) is composed from differentiable
rt ops, so every converter here trains.

>>> import numpy as np, rt_autograd as rt
>>> from rt_import.onnx.registry import lookup
>>> class Node:                        # a stand-in for the NodeContext the graph passes
...     opset, num_outputs, training = 17, 1, False
...     attrs = {"kernel_shape": [2, 2], "strides": [2, 2]}
...     def attr(self, name, default=None): return self.attrs.get(name, default)
...     def has(self, name): return name in self.attrs
>>> lookup("", "MaxPool", 17)(Node(), rt.arange(16.).reshape(1, 1, 4, 4)).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
"""
import math

import numpy as np

import rt_autograd as rt
import rt_nn
import rt_nn.functional as F
import rt_tensor as rtt
from rt_autograd._autograd import needs_grad
from rt_tensor import _nn_conv, _nn_pool

from rt_import.onnx.graph import ONNX_TO_RT_DTYPE
from rt_import.onnx.ops.shape import (check_size, index_tensor, ints, norm_axes, norm_axis,
                                      to_numpy)
from rt_import.onnx.registry import absorbs, apply_absorbed, converter, preparer

__all__ = []

_FLOAT_KERNEL_DTYPES = (rt.float32, rt.float64)


def _is_float(t):
    return t.dtype.is_floating_point


def _bcast(t, rank, axis=1):
    """A per-channel (C,) tensor shaped (1, C, 1, ...) for a rank-``rank`` input."""
    return t.reshape((1,) * axis + (-1,) + (1,) * (rank - axis - 1))


# ---- MatMul, Gemm --------------------------------------------------------------------------------

@converter("MatMul", 9, 13)
def matmul(node, a, b):
    """MatMul-9/13: numpy.matmul (1-D operands promoted and squeezed, batch dims broadcast)."""
    if a.dim() == 0 or b.dim() == 0:
        raise node.error("MatMul does not take 0-d operands")
    if a.dtype != b.dtype:
        raise node.error(f"A and B must have one element type, got {str(a.dtype)[10:]} and "
                         f"{str(b.dtype)[10:]}")
    # numpy.matmul's shape rules: the contracted sizes agree, the batch dimensions broadcast
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.dim() == 1 else b.shape[-2]
    try:
        if k_a != k_b:
            raise ValueError
        np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    except ValueError:
        raise node.error(f"A of shape {list(a.shape)} and B of shape {list(b.shape)} cannot "
                         "be multiplied") from None
    return rt.matmul(a, b)


@converter("Gemm", 9, 11, 13)
def gemm(node, a, b, c=None):
    """Gemm-9/11/13: ``alpha * A' @ B' + beta * C`` with A' = A.T if ``transA``, B' = B.T if
    ``transB``; C (optional from 11) broadcasts to (M, N)."""
    alpha = float(node.attr("alpha", 1.0))
    beta = float(node.attr("beta", 1.0))
    ta, tb = bool(node.attr("transA", 0)), bool(node.attr("transB", 0))
    if a.dim() != 2 or b.dim() != 2:
        raise node.error(f"A and B must be 2-D, got shapes {list(a.shape)} and {list(b.shape)}")
    if any(t is not None and t.dtype != a.dtype for t in (b, c)):
        raise node.error("A, B and C must have one element type, got "
                         f"{', '.join(str(t.dtype)[10:] for t in (a, b, c) if t is not None)}")
    m, k = (a.shape[1], a.shape[0]) if ta else (a.shape[0], a.shape[1])
    k2, n = (b.shape[1], b.shape[0]) if tb else (b.shape[0], b.shape[1])
    if k != k2:
        raise node.error(f"A' is {m}x{k} but B' is {k2}x{n}")
    if c is not None:
        try:
            np.broadcast_shapes(tuple(c.shape), (m, n))
        except ValueError:
            raise node.error(f"C of shape {list(c.shape)} does not broadcast to "
                             f"({m}, {n})") from None
    # the layout torch.nn.Linear exports: one BLAS call with the bias folded in
    if (not ta and tb and alpha == 1.0 and beta == 1.0 and a.dtype in _FLOAT_KERNEL_DTYPES
            and (c is None or (tuple(c.shape) == (n,) and c.dtype == a.dtype))):
        return F.linear(a, b, c)
    y = rt.matmul(a.t() if ta else a, b.t() if tb else b)
    dtype = y.dtype
    if alpha != 1.0:
        y = y * alpha
    if c is not None and beta != 0.0:
        y = y + (c if beta == 1.0 else c * beta)
    return y if y.dtype == dtype else y.to(dtype)


@preparer(gemm)
def _prepare_gemm(node):
    """torch.nn.Linear's layout (transB, alpha = beta = 1) goes straight to ``F.linear`` when
    the operands pass gemm's checks with the kernel's conditions; anything else runs gemm."""
    if (float(node.attr("alpha", 1.0)) != 1.0 or float(node.attr("beta", 1.0)) != 1.0
            or node.attr("transA", 0) or not node.attr("transB", 0)):
        return None

    def run(a, b, c=None):
        # size(i), not shape[i]: no Size object per check
        if (a is not None and b is not None and a.dtype in _FLOAT_KERNEL_DTYPES
                and b.dtype == a.dtype and a.dim() == 2
                and b.dim() == 2 and a.size(1) == b.size(1)
                and (c is None or (c.dtype == a.dtype and c.dim() == 1
                                   and c.size(0) == b.size(0)))):
            return F.linear(a, b, c)
        return gemm(node, a, b, c)
    return run


# ---- spatial attribute handling (Conv, ConvTranspose, pools) -------------------------------------

def _spatial(node, nd, name, default):
    v = node.attr(name)
    if v is None:
        return [default] * nd
    v = [int(e) for e in v]
    if len(v) != nd:
        raise node.error(f"{name} {v} must have {nd} values (one per spatial axis)")
    return v


def _geometry(node, x, kernel):
    """strides, dilations and the explicit pads attribute (begin, end lists) of a
    convolution or pooling node over ``x``'s spatial axes."""
    nd = len(kernel)
    if x.dim() != nd + 2:
        raise node.error(f"input of rank {x.dim()} does not match a {nd}-D kernel "
                         "(expected N, C and the spatial axes)")
    strides = _spatial(node, nd, "strides", 1)
    dilations = _spatial(node, nd, "dilations", 1)
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations):
        raise node.error(f"strides {strides} and dilations {dilations} must be positive")
    if any(k < 1 for k in kernel):
        raise node.error(f"kernel_shape {list(kernel)} must be positive")
    pads = node.attr("pads")
    if pads is None:
        pads = [0] * (2 * nd)
    pads = [int(p) for p in pads]
    if len(pads) != 2 * nd or any(p < 0 for p in pads):
        raise node.error(f"pads {pads} must hold {2 * nd} non-negative values")
    auto_pad = node.attr("auto_pad", "NOTSET") or "NOTSET"
    if auto_pad not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise node.error(f"auto_pad {auto_pad!r} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")
    return strides, dilations, pads[:nd], pads[nd:], auto_pad


def _same_pads(auto_pad, total):
    """SAME_UPPER puts the odd padding element at the end, SAME_LOWER at the beginning."""
    if auto_pad == "SAME_UPPER":
        return total // 2, total - total // 2
    return total - total // 2, total // 2


def _conv_pads(in_sizes, kernel, strides, dilations, begin, end, auto_pad):
    """Conv-11's padding: explicit, VALID (none) or SAME (output = ceil(in / stride))."""
    if auto_pad == "VALID":
        return [0] * len(in_sizes), [0] * len(in_sizes)
    if auto_pad == "NOTSET":
        return begin, end
    b, e = [], []
    for n, k, s, d in zip(in_sizes, kernel, strides, dilations):
        out = -(-n // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
        lo, hi = _same_pads(auto_pad, total)
        b.append(lo)
        e.append(hi)
    return b, e


def _torch_pad_list(begin, end):
    """ONNX (begin..., end...) as constant_pad_nd's (left, right) pairs from the last axis."""
    out = []
    for lo, hi in zip(reversed(begin), reversed(end)):
        out += [lo, hi]
    return out


# ops are looked up in these tables (or F) when a node runs, never kept in a plan or a
# closure: the exporter's tracer records an imported model by replacing them here
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX_POOL = {3: F.max_pool1d, 4: F.max_pool2d}             # by input rank
_AVG_POOL = {3: F.avg_pool1d, 4: F.avg_pool2d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _check_kernel_attr(node, w):
    ks = node.attr("kernel_shape")
    if ks is not None and list(ks) != list(w.shape[2:]):
        raise node.error(f"kernel_shape {list(ks)} does not match the weight's "
                         f"{list(w.shape[2:])}")


# the tensor types of real values (export_onnx's tracer passes subclasses)
_PLAIN_TENSORS = frozenset((rtt.Tensor, rt.Tensor, rt_nn.Parameter))


def _conv_plan(node, x, w):
    """Conv's checks and geometry from the shapes (and dtypes) of ``x`` and ``w``, nothing
    else, so a prepared node computes it once per shape (``_cached_plans``): (spatial rank,
    strides, padding, dilations, group, the zero pad applied first for asymmetric pads or
    None, the arguments of the one ``_nn_conv.conv_forward`` call that computes the node
    with what it absorbed when these shapes and dtypes allow it, else None)."""
    nd = w.dim() - 2
    if nd not in _CONV:
        raise node.error(f"rt convolves 1 to 3 spatial axes, this weight has {nd}")
    _check_kernel_attr(node, w)
    kernel = list(w.shape[2:])
    strides, dilations, begin, end, auto_pad = _geometry(node, x, kernel)
    group = int(node.attr("group", 1))
    if group < 1 or x.shape[1] % group or w.shape[0] % group or \
            x.shape[1] // group != w.shape[1]:
        raise node.error(f"group {group} does not fit input channels {x.shape[1]} and weight "
                         f"shape {list(w.shape)}")
    begin, end = _conv_pads(list(x.shape[2:]), kernel, strides, dilations, begin, end, auto_pad)
    padded = [n + lo + hi for n, lo, hi in zip(x.shape[2:], begin, end)]
    check_size(node, list(x.shape[:2]) + padded)
    # Conv's output length floor((padded - dilated kernel) / stride) + 1 must be positive
    dilated = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    if any(k > n for k, n in zip(dilated, padded)):
        raise node.error(f"the dilated kernel {dilated} is larger than the padded input "
                         f"{padded}")
    pad = None
    if begin != end:
        pad = _torch_pad_list(begin, end)
        begin = [0] * nd
    ops = node.absorbed_ops
    pool = "MaxPool" in ops
    kernel_args = None
    # (plain tensors first: the exporter's traced values have symbolic sizes)
    if (type(x) in _PLAIN_TENSORS and type(w) in _PLAIN_TENSORS and pad is None
            and x.numel() > 0 and x.dtype in _FLOAT_KERNEL_DTYPES and w.dtype == x.dtype
            # the fused pool takes a 2-d output of at least 2x2 (a smaller one is the MaxPool
            # converter's error, which the unfused path raises)
            and (not pool or (nd == 2 and all((n - k) // s + 1 >= 2 for n, k, s in
                                              zip(padded, dilated, strides))))):
        kernel_args = (strides, begin, dilations, group, None, "Relu" in ops, pool)
    return nd, strides, begin, dilations, group, pad, kernel_args


def _conv_run(node, plan, x, w, b):
    """The convolution of ``plan``, then the nodes Conv absorbed (Relu, a 2x2 MaxPool): the
    plan's one kernel call, with them in its epilogue, when nothing needs a gradient and the
    tensors are plain; else ``rt_nn.functional.conv*d`` and the absorbed converters, which
    autograd and ``export_onnx``'s tracer see (its traced values are not plain tensors)."""
    nd, strides, padding, dilations, group, pad, kernel_args = plan
    # (the plan has kernel arguments only for plain x and w: plans are kept per tensor type)
    if (kernel_args is not None
            and (b is None or (type(b) in _PLAIN_TENSORS and b.dtype == x.dtype
                               and b.dim() == 1 and b.size(0) == w.size(0)))
            and not needs_grad(x, w, b)):
        return _nn_conv.conv_forward(x, w, b, *kernel_args)
    if pad is not None:
        x = rt.constant_pad_nd(x, pad, 0)
    y = _CONV[nd](x, w, b, stride=strides, padding=padding, dilation=dilations, groups=group)
    return apply_absorbed(node, y)


@converter("Conv", 1, 11, 22)
def conv(node, x, w, b=None):
    """Conv-11/22 over 1 to 3 spatial axes: ``strides``, ``dilations``, ``group``, explicit
    ``pads`` (asymmetric pads are applied as a zero pad first) or ``auto_pad``
    SAME_UPPER/SAME_LOWER/VALID. Absorbs a following Relu, then a 2x2 stride-2 MaxPool
    (``_conv_absorbs``)."""
    return _conv_run(node, _conv_plan(node, x, w), x, w, b)


def _conv_absorbs(absorbed, follower):
    """What the convolution kernel's epilogue applies: relu(conv + b), then max_pool2d(., 2)
    (ONNX MaxPool with kernel_shape and strides [2, 2] and nothing else: no pads, dilations,
    ceil_mode or Indices output), in that order."""
    if follower.op_type == "Relu":
        return absorbed == ()
    if follower.op_type != "MaxPool" or "MaxPool" in absorbed or follower.num_outputs != 1:
        return False
    a = follower.attrs
    return (list(a.get("kernel_shape", ())) == [2, 2] and list(a.get("strides", ())) == [2, 2]
            and not any(a.get("pads", ())) and list(a.get("dilations", [1, 1])) == [1, 1]
            and not a.get("ceil_mode", 0) and a.get("auto_pad", "NOTSET") in ("NOTSET", "VALID")
            and set(a) <= {"kernel_shape", "strides", "pads", "dilations", "ceil_mode",
                           "auto_pad", "storage_order"})


absorbs(conv, _conv_absorbs)


# plans kept per node, one per input shape; a node fed ever new shapes starts over
_PLAN_CACHE_SIZE = 32


def _cached_plans(make_plan):
    """``make_plan(node, *tensors)`` memoized on the tensors' shapes and dtypes: a plan
    function must read nothing else of its tensors (checks on values or on other inputs
    belong outside it)."""
    cache = {}

    def plan(node, *tensors):
        try:
            if len(tensors) == 1:               # spelled out: a generator costs ~0.4 us
                t = tensors[0]
                key = ((type(t), t.shape, t.dtype),)
            elif len(tensors) == 2:
                t, u = tensors
                key = ((type(t), t.shape, t.dtype), (type(u), u.shape, u.dtype))
            else:
                key = tuple((type(t), t.shape, t.dtype) for t in tensors)
        except AttributeError:                  # a missing input: the plan reports it
            return make_plan(node, *tensors)
        p = cache.get(key)
        if p is None:
            p = make_plan(node, *tensors)        # raises for shapes the node cannot take
            # only plans of plain tensors are kept: the exporter's traced tensors have
            # symbolic sizes that must be computed afresh in every trace
            if all(k[0] in _PLAIN_TENSORS for k in key):
                if len(cache) >= _PLAN_CACHE_SIZE:
                    cache.clear()
                cache[key] = p
        return p
    return plan


@preparer(conv)
def _prepare_conv(node):
    """Conv with its plan (and kernel call) computed once per (input shape, weight shape)."""
    plan = _cached_plans(_conv_plan)

    def run(x, w, b=None):
        return _conv_run(node, plan(node, x, w), x, w, b)
    return run


@converter("ConvTranspose", 1, 11, 22)
def conv_transpose(node, x, w, b=None):
    """ConvTranspose-11/22 over 1 to 3 spatial axes. The output size follows the ONNX
    formulas: from ``pads`` and ``output_padding``, from ``output_shape`` (pads derived, the
    odd element at the beginning unless SAME_UPPER), or ``auto_pad`` SAME_* (output = input *
    stride)."""
    nd = w.dim() - 2
    if nd not in _CONV_T:
        raise node.error(f"rt convolves 1 to 3 spatial axes, this weight has {nd}")
    _check_kernel_attr(node, w)
    kernel = list(w.shape[2:])
    strides, dilations, begin, end, auto_pad = _geometry(node, x, kernel)
    group = int(node.attr("group", 1))
    if group < 1 or x.shape[1] % group or x.shape[1] != w.shape[0]:
        raise node.error(f"group {group} does not fit input channels {x.shape[1]} and weight "
                         f"shape {list(w.shape)}")
    out_pad = _spatial(node, nd, "output_padding", 0)
    out_shape = node.attr("output_shape")
    in_sizes = list(x.shape[2:])
    full = [s * (n - 1) + (k - 1) * d + 1
            for n, k, s, d in zip(in_sizes, kernel, strides, dilations)]
    if out_shape is not None:
        out_shape = [int(v) for v in out_shape][-nd:]
        if len(out_shape) != nd or any(v < 0 for v in out_shape):
            raise node.error(f"output_shape {node.attr('output_shape')} must give {nd} sizes")
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out_shape = [n * s for n, s in zip(in_sizes, strides)]
    if out_shape is not None:
        begin = []
        for f, op, o in zip(full, out_pad, out_shape):
            total = f + op - o
            if total < 0:
                # an output longer than the full one: the extra elements go at the end, as
                # output_padding's do (onnxruntime; the formula's floor division would put
                # SAME_UPPER's odd one at the beginning)
                begin.append(0)
                continue
            lo, _ = _same_pads("SAME_UPPER" if auto_pad == "SAME_UPPER" else "SAME_LOWER",
                               total)
            begin.append(lo)
        out_len = out_shape
    else:
        if auto_pad == "VALID":
            begin, end = [0] * nd, [0] * nd
        out_len = [f + op - lo - hi for f, op, lo, hi in zip(full, out_pad, begin, end)]
    if any(o < 0 for o in out_len):
        raise node.error(f"the output size {out_len} is negative")
    check_size(node, [x.shape[0], w.shape[1] * group] + out_len)
    # PyTorch's padding p trims p from both ends of the full output and output_padding (less
    # than the stride or the dilation) extends the end: use the kernel directly when it fits
    extra = [o - (f - 2 * lo) for o, f, lo in zip(out_len, full, begin)]
    if all(lo >= 0 for lo in begin) and all(0 <= e < max(s, d)
                                            for e, s, d in zip(extra, strides, dilations)):
        return _CONV_T[nd](x, w, b, stride=strides, padding=begin, output_padding=extra,
                           groups=group, dilation=dilations)
    y = _CONV_T[nd](x, w, None, stride=strides, padding=0, output_padding=0, groups=group,
                    dilation=dilations)
    # out[j] = full[j + begin]: a negative pad crops, a positive one adds zeros
    y = rt.constant_pad_nd(y, _torch_pad_list([-lo for lo in begin],
                                              [o - f + lo for o, f, lo in
                                               zip(out_len, full, begin)]), 0)
    if b is not None:
        y = y + _bcast(b, y.dim())
    return y


# ---- pooling -------------------------------------------------------------------------------------

def _pool_plan(node, x):
    """Output sizes and the explicit (begin, end) pads of MaxPool/AveragePool, following the
    ONNX formulas: explicit pads with floor or ceil (a window may not start in the end
    padding), auto_pad VALID or SAME_* (output ceil(in / stride))."""
    kernel = node.attr("kernel_shape")
    if kernel is None:
        raise node.error("attribute kernel_shape is required")
    kernel = [int(k) for k in kernel]
    nd = len(kernel)
    strides, dilations, begin, end, auto_pad = _geometry(node, x, kernel)
    ceil_mode = bool(node.attr("ceil_mode", 0))
    in_sizes = list(x.shape[2:])
    keff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    out = []
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for n, ke, s in zip(in_sizes, keff, strides):
            o = -(-n // s)
            lo, hi = _same_pads(auto_pad, max(0, (o - 1) * s + ke - n))
            out.append(o)
            begin.append(lo)
            end.append(hi)
    elif auto_pad == "VALID":
        begin, end = [0] * nd, [0] * nd
        for n, ke, s in zip(in_sizes, keff, strides):
            out.append(-(-(n - ke + 1) // s) if ceil_mode else (n - ke) // s + 1)
    else:
        for n, ke, s, lo, hi in zip(in_sizes, keff, strides, begin, end):
            span = n + lo + hi - ke
            o = (-(-span // s) if ceil_mode else span // s) + 1
            if ceil_mode and (o - 1) * s >= n + lo:
                o -= 1                              # the last window would start in the padding
            out.append(o)
    if any(o < 1 for o in out):
        raise node.error(f"the kernel {kernel} (dilations {dilations}) does not fit the padded "
                         f"input {in_sizes}")
    # the padded input the windows cover (huge pads must not allocate)
    check_size(node, list(x.shape[:2]) + [(o - 1) * s + ke for o, s, ke in
                                          zip(out, strides, keff)])
    return kernel, strides, dilations, begin, end, out, ceil_mode


def _windows(xp, kernel, strides, dilations, out):
    """A (N, C, *out, *kernel) view of the padded input's sliding windows."""
    xp = xp.contiguous()
    st = list(xp.stride())
    nd = len(kernel)
    size = list(xp.shape[:2]) + list(out) + list(kernel)
    stride = st[:2] + [st[2 + i] * strides[i] for i in range(nd)] + \
        [st[2 + i] * dilations[i] for i in range(nd)]
    return xp.as_strided(size, stride, xp.storage_offset())


def _pad_to_windows(x, begin, kernel, strides, dilations, out, value):
    """``x`` padded with ``value`` so the windows of ``out`` exactly cover it (right pads
    beyond the explicit ones cover ceil-mode windows; negative ones crop unused rows)."""
    right = [(o - 1) * s + (k - 1) * d + 1 - n - lo
             for o, s, k, d, n, lo in zip(out, strides, kernel, dilations, x.shape[2:], begin)]
    pads = _torch_pad_list(begin, right)
    return rt.constant_pad_nd(x, pads, value) if any(pads) else x


def _lowest(dtype):
    if dtype.is_floating_point:
        return -math.inf
    if dtype == rt.bool:
        return False
    return int(np.iinfo(np.dtype(dtype.name)).min)


def _torch_pool_out(n, k, s, d, p, ceil_mode):
    """PyTorch's pooling output size (pooling_output_shape), to know when a kernel fits."""
    span = n + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def _fits_torch(x, kernel, strides, dilations, begin, end, out, ceil_mode):
    return (x.dim() in (3, 4) and begin == end
            and all(p <= k // 2 for p, k in zip(begin, kernel))
            and all(_torch_pool_out(n, k, s, d, p, ceil_mode) == o
                    for n, k, s, d, p, o in zip(x.shape[2:], kernel, strides, dilations, begin,
                                                out)))


def _max_indices(x, arg, kernel, out, strides, dilations, begin, storage_order):
    """MaxPool's Indices from each window's argmax ``arg`` (a flat offset in the kernel): the
    flat index over N, C and the spatial axes, the spatial part column-major when
    ``storage_order`` is 1."""
    shape = tuple(x.shape)
    nd = len(shape) - 2
    spatial = shape[2:]
    offs = np.unravel_index(arg, kernel)
    coords = []
    for i in range(nd):
        o = np.arange(out[i]).reshape((1, 1) + tuple(-1 if j == i else 1 for j in range(nd)))
        # padded position of the chosen element, back in input coordinates
        coords.append(np.clip(o * strides[i] + offs[i] * dilations[i] - begin[i], 0,
                              spatial[i] - 1))
    spatial_idx = np.ravel_multi_index(tuple(coords), spatial,
                                       order="F" if storage_order else "C")
    nc = np.arange(shape[0] * shape[1], dtype=np.int64).reshape(shape[:2] + (1,) * nd)
    return rt.tensor(np.ascontiguousarray(nc * math.prod(spatial) + spatial_idx))


@converter("MaxPool", 1, 8, 10, 11, 12, 22)
def max_pool(node, x):
    """MaxPool-8/10/11/12/22 over 1 to 3 spatial axes: ``kernel_shape``, ``strides``,
    ``dilations``, ``pads`` or ``auto_pad``, ``ceil_mode``; the optional Indices output
    (flat indices, ``storage_order``). int8/uint8 inputs (12+) as well as floats.

    Each window's value is its first maximum (as the reference and PyTorch's kernel pick it),
    so the gradient goes to that one element, ties included."""
    return _max_pool_run(node, x, _max_pool_plan(node, x))


def _max_pool_plan(node, x):
    """(the window plan, the rt_nn.functional call ``(input rank, args, the 2-d values
    kernel's arguments or None)`` when PyTorch's kernel computes exactly these windows, else
    None), from ``x``'s shape and dtype alone."""
    plan = _pool_plan(node, x)
    kernel, strides, dilations, begin, end, out, ceil_mode = plan
    call = None
    if node.num_outputs <= 1 and x.dtype in _FLOAT_KERNEL_DTYPES and \
            _fits_torch(x, kernel, strides, dilations, begin, end, out, ceil_mode):
        if x.dim() == 3:
            call = 3, (kernel, strides, begin, dilations, ceil_mode), None
        else:
            # equal values per axis as ints: F.max_pool2d's direct argument path
            k, st, p, d = (v[0] if v[0] == v[1] else v for v in (kernel, strides, begin,
                                                                dilations))
            # what F.max_pool2d passes its values kernel without autograd (same windows)
            kernel_args = (kernel[0], kernel[1], strides[0], strides[1], begin[0], begin[1],
                           dilations[0], dilations[1], out[0], out[1])
            call = 4, (k, st, p, d, ceil_mode), kernel_args
    return plan, call


def _max_pool_run(node, x, plans):
    plan, call = plans
    if call is not None:
        kernel_args = call[2]
        if (kernel_args is not None and type(x) in _PLAIN_TENSORS and not needs_grad(x)
                and x.is_contiguous()):
            # F.max_pool2d's inference path without its per-call argument handling
            return _nn_pool.max_pool2d(x, *kernel_args, False)[0]
        return _MAX_POOL[call[0]](x, *call[1])
    kernel, strides, dilations, begin, end, out, ceil_mode = plan
    want_indices = node.num_outputs > 1
    xp = _pad_to_windows(x, begin, kernel, strides, dilations, out, _lowest(x.dtype))
    win = _windows(xp, kernel, strides, dilations, out)
    flat = win.reshape(tuple(win.shape[:2 + len(kernel)]) + (math.prod(kernel),))
    arg = flat.detach().argmax(-1, keepdim=True)
    y = flat.gather(-1, arg).squeeze(-1)
    if not want_indices:
        return y
    idx = _max_indices(x, arg.squeeze(-1).numpy().astype(np.int64), tuple(kernel), out,
                       strides, dilations, begin, int(node.attr("storage_order", 0)))
    return y, idx


def _avg_counts(in_sizes, kernel, strides, dilations, begin, end, out, include_pad):
    """Per-axis counts of the window elements that are averaged: those inside the input
    (count_include_pad 0) or inside the input and its explicit pads (1); the product over
    the axes is the divisor (``onnx.reference`` and PyTorch agree on both)."""
    counts = None
    for i, (n, k, s, d, lo, hi, o) in enumerate(zip(in_sizes, kernel, strides, dilations,
                                                    begin, end, out)):
        q = np.arange(o).reshape(-1, 1) * s + np.arange(k).reshape(1, -1) * d
        if include_pad:
            inside = q < lo + n + hi
        else:
            inside = (q >= lo) & (q < lo + n)
        c = inside.sum(axis=1).astype(np.float64)
        shape = [1] * len(in_sizes)
        shape[i] = o
        c = c.reshape(shape)
        counts = c if counts is None else counts * c
    return counts


@converter("AveragePool", 1, 7, 10, 11, 19, 22)
def average_pool(node, x):
    """AveragePool-7/10/11/19/22 over 1 to 3 spatial axes: ``kernel_shape``, ``strides``,
    ``pads`` or ``auto_pad``, ``ceil_mode``, ``count_include_pad``, ``dilations`` (19+)."""
    return _average_pool_run(node, x, _average_pool_plan(node, x))


def _average_pool_plan(node, x):
    """(the window plan, the rt_nn.functional call ``(input rank, args)`` when PyTorch's
    kernel computes exactly these windows, else None), from ``x``'s shape and dtype alone."""
    if not _is_float(x):
        raise node.error(f"AveragePool takes floating-point inputs, got {x.dtype}")
    plan = _pool_plan(node, x)
    kernel, strides, dilations, begin, end, out, ceil_mode = plan
    include_pad = bool(node.attr("count_include_pad", 0))
    call = None
    if x.dtype in _FLOAT_KERNEL_DTYPES and all(d == 1 for d in dilations) and \
            _fits_torch(x, kernel, strides, dilations, begin, end, out, ceil_mode):
        call = x.dim(), (kernel, strides, begin, ceil_mode, include_pad)
    return plan, call


def _average_pool_run(node, x, plans):
    plan, call = plans
    if call is not None:
        return _AVG_POOL[call[0]](x, *call[1])
    kernel, strides, dilations, begin, end, out, ceil_mode = plan
    include_pad = bool(node.attr("count_include_pad", 0))
    xp = _pad_to_windows(x, begin, kernel, strides, dilations, out, 0)
    win = _windows(xp, kernel, strides, dilations, out)
    nd = len(kernel)
    total = win.sum(dim=tuple(range(2 + nd, 2 + 2 * nd)))
    counts = _avg_counts(list(x.shape[2:]), kernel, strides, dilations, begin, end, out,
                         include_pad)
    counts = np.maximum(counts, 1).reshape((1, 1) + counts.shape)
    return total / rt.tensor(counts).to(x.dtype)


@preparer(max_pool)
def _prepare_max_pool(node):
    """MaxPool with its plan computed once per input shape and dtype."""
    plan = _cached_plans(_max_pool_plan)

    def run(x):
        return _max_pool_run(node, x, plan(node, x))
    return run


@preparer(average_pool)
def _prepare_average_pool(node):
    """AveragePool with its plan computed once per input shape and dtype."""
    plan = _cached_plans(_average_pool_plan)

    def run(x):
        return _average_pool_run(node, x, plan(node, x))
    return run


@converter("GlobalAveragePool", 1, 22)
def global_average_pool(node, x):
    """GlobalAveragePool: the mean over every spatial axis, kept as size 1."""
    if x.dim() < 3:
        raise node.error(f"needs an (N, C, spatial...) input, got rank {x.dim()}")
    return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


@converter("GlobalMaxPool", 1, 22)
def global_max_pool(node, x):
    """GlobalMaxPool: the maximum over every spatial axis, kept as size 1."""
    if x.dim() < 3:
        raise node.error(f"needs an (N, C, spatial...) input, got rank {x.dim()}")
    return x.amax(dim=tuple(range(2, x.dim())), keepdim=True)


# ---- normalization -------------------------------------------------------------------------------

def _as(t, dtype):
    return t if t.dtype == dtype else t.to(dtype)


@converter("BatchNormalization", 9, 14, 15)
def batch_normalization(node, x, scale, bias, mean, var):
    """BatchNormalization-9/14/15 over axis 1. Inference (``training_mode`` 0, the default;
    opset 9: a single output) normalises with ``mean``/``var`` - the graph's statistics,
    which receive no gradient, so an imported eval-mode model fine-tunes like a frozen
    BatchNorm. ``training_mode`` 1 (opset 9: more than one output) uses the batch
    statistics (biased variance) and also returns ``running = input * momentum + batch *
    (1 - momentum)``."""
    eps = float(node.attr("epsilon", 1e-5))
    momentum = float(node.attr("momentum", 0.9))
    if not eps >= 0.0:          # a negative or NaN epsilon: no variance it could guard
        raise node.error(f"epsilon must be a non-negative number, got {eps}")
    if x.dim() < 2:
        raise node.error(f"needs an (N, C, ...) input, got rank {x.dim()}")
    c = x.shape[1]
    for name, t in (("scale", scale), ("B", bias), ("mean", mean), ("var", var)):
        if tuple(t.shape) != (c,):
            raise node.error(f"{name} has shape {list(t.shape)}, expected [{c}]")
    training = bool(node.attr("training_mode", 0)) if node.opset >= 14 else \
        node.num_outputs > 1
    r = x.dim()
    mean, var = mean.detach(), var.detach()
    if not training:
        if x.dtype in _FLOAT_KERNEL_DTYPES and all(t.dtype == x.dtype for t in
                                                   (scale, bias, mean, var)):
            return F.batch_norm(x, mean, var, scale, bias, False, 0.0, eps)
        dt = x.dtype
        inv = (_as(var, dt) + eps).rsqrt() * _as(scale, dt)
        return (x - _bcast(_as(mean, dt), r)) * _bcast(inv, r) + _bcast(_as(bias, dt), r)
    dims = (0,) + tuple(range(2, r))
    bmean = x.mean(dim=dims)
    centered = x - _bcast(bmean, r)
    bvar = (centered * centered).mean(dim=dims)
    y = centered * _bcast((bvar + eps).rsqrt() * _as(scale, x.dtype), r) + \
        _bcast(_as(bias, x.dtype), r)
    with rt.no_grad():
        run_mean = _as(mean, x.dtype) * momentum + bmean.detach() * (1 - momentum)
        run_var = _as(var, x.dtype) * momentum + bvar.detach() * (1 - momentum)
    if node.opset >= 14:
        return y, _as(run_mean, mean.dtype), _as(run_var, var.dtype)
    return y, run_mean, run_var, bmean, bvar


@preparer(batch_normalization)
def _prepare_batch_normalization(node):
    """Inference BatchNormalization (its attributes read once) goes straight to
    ``F.batch_norm`` when the inputs pass the converter's checks with the kernel's
    conditions; training mode and anything else runs the converter."""
    eps = float(node.attr("epsilon", 1e-5))
    float(node.attr("momentum", 0.9))       # a malformed momentum: the converter reports it
    training = bool(node.attr("training_mode", 0)) if node.opset >= 14 else \
        node.num_outputs > 1
    if training or not eps >= 0.0:
        return None

    def run(x, scale, bias, mean, var):
        if x is not None and x.dtype in _FLOAT_KERNEL_DTYPES and x.dim() >= 2:
            dt, c = x.dtype, x.size(1)
            if all(t is not None and t.dtype == dt and t.dim() == 1 and t.size(0) == c
                   for t in (scale, bias, mean, var)):
                return F.batch_norm(x, mean.detach(), var.detach(), scale, bias, False, 0.0,
                                    eps)
        return batch_normalization(node, x, scale, bias, mean, var)
    return run


@converter("InstanceNormalization", 6, 22)
def instance_normalization(node, x, scale, bias):
    """InstanceNormalization: each (sample, channel) normalised over its spatial elements
    (biased variance), then ``scale`` and ``B`` per channel."""
    eps = float(node.attr("epsilon", 1e-5))
    if x.dim() < 3:
        raise node.error(f"needs an (N, C, spatial...) input, got rank {x.dim()}")
    c = x.shape[1]
    if tuple(scale.shape) != (c,) or tuple(bias.shape) != (c,):
        raise node.error(f"scale and B must have shape [{c}], got {list(scale.shape)} and "
                         f"{list(bias.shape)}")
    if x.dtype in _FLOAT_KERNEL_DTYPES and math.prod(x.shape[2:]) > 1 and \
            scale.dtype == bias.dtype == x.dtype:
        return F.instance_norm(x, weight=scale, bias=bias, eps=eps)
    dims = tuple(range(2, x.dim()))
    centered = x - x.mean(dim=dims, keepdim=True)
    var = (centered * centered).mean(dim=dims, keepdim=True)
    r = x.dim()
    return centered * (var + eps).rsqrt() * _bcast(_as(scale, x.dtype), r) + \
        _bcast(_as(bias, x.dtype), r)


@converter("LayerNormalization", 17)
def layer_normalization(node, x, scale, bias=None):
    """LayerNormalization-17: normalises over the axes from ``axis`` on (biased variance),
    then ``Scale`` and ``B`` (broadcast to the input's shape). Statistics are computed in
    ``stash_type`` (float32 by default) or the input's type if wider; the optional Mean and
    InvStdDev outputs have the stash type and size 1 on the normalised axes."""
    r = x.dim()
    axis = norm_axis(node, node.attr("axis", -1), r)
    eps = float(node.attr("epsilon", 1e-5))
    stash = node.attr("stash_type", 1)
    stash_dtype = ONNX_TO_RT_DTYPE.get(stash)
    if stash_dtype is None or not stash_dtype.is_floating_point:
        raise node.error(f"stash_type {stash} is not a floating-point ONNX type")
    norm_shape = tuple(x.shape[axis:])
    for name, t in (("Scale", scale), ("B", bias)):
        if t is None:
            continue
        # the reference multiplies and adds them to X's shape (unidirectional broadcasting)
        try:
            if np.broadcast_shapes(tuple(t.shape), tuple(x.shape)) != tuple(x.shape):
                raise ValueError
        except ValueError:
            raise node.error(f"{name} of shape {list(t.shape)} does not broadcast to the "
                             f"input shape {list(x.shape)}") from None
    if (node.num_outputs == 1 and x.dtype in _FLOAT_KERNEL_DTYPES
            and tuple(scale.shape) == norm_shape and scale.dtype == x.dtype
            and (bias is None or (tuple(bias.shape) == norm_shape and bias.dtype == x.dtype))):
        return F.layer_norm(x, norm_shape, scale, bias, eps)
    cdt = x.dtype if x.dtype == rt.float64 else (
        stash_dtype if stash_dtype in _FLOAT_KERNEL_DTYPES else rt.float32)
    xc = _as(x, cdt)
    dims = tuple(range(axis, r))
    mean = xc.mean(dim=dims, keepdim=True)
    centered = xc - mean
    inv_std = ((centered * centered).mean(dim=dims, keepdim=True) + eps).rsqrt()
    y = _as(centered * inv_std, x.dtype) * _as(scale, x.dtype)
    if bias is not None:
        y = y + _as(bias, x.dtype)
    return y, _as(mean, stash_dtype), _as(inv_std, stash_dtype)


@converter("LRN", 1, 13)
def lrn(node, x):
    """LRN: ``x / (bias + alpha / size * square_sum) ** beta``, the sum over channels
    c - floor((size-1)/2) .. c + ceil((size-1)/2) (the ONNX window; PyTorch's differs for
    even sizes)."""
    size = node.attr("size")
    if size is None or size < 1:
        raise node.error(f"size must be a positive int, got {size}")
    alpha = float(node.attr("alpha", 1e-4))
    beta = float(node.attr("beta", 0.75))
    k = float(node.attr("bias", 1.0))
    if x.dim() < 3:
        raise node.error(f"needs an (N, C, spatial...) input, got rank {x.dim()}")
    if x.numel() == 0:
        return x
    n, c = x.shape[0], x.shape[1]
    sq = (x * x).reshape((n, c, -1))
    # window reach beyond c - 1 channels only adds zero padding: cap it (a hostile size must
    # not allocate or loop size times)
    lo = min((size - 1) // 2, c - 1)
    hi = min(-(-(size - 1) // 2), c - 1)
    padded = rt.constant_pad_nd(sq, (0, 0, lo, hi), 0)
    total = padded.narrow(1, 0, c)
    for j in range(1, lo + hi + 1):
        total = total + padded.narrow(1, j, c)
    return x / (total * (alpha / size) + k).pow(beta).reshape(tuple(x.shape))


# ---- Resize --------------------------------------------------------------------------------------

_CTM = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_crop_and_resize")
_NEAREST = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _source_coords(ctm, out_len, in_len, scale, roi):
    """x_original for every output index (Resize-19's coordinate_transformation_mode), and
    for tf_crop_and_resize the mask of positions outside the input (extrapolated).

    ``length_resized`` in the specification's formulas is the output's (integer) length, as
    onnxruntime and PyTorch (whose exporter emits align_corners) use it; onnx.reference
    divides by the fractional ``scale * length_original`` instead, which differs when a scale
    does not give a whole length. Only half_pixel_symmetric uses the fractional length, by
    its definition."""
    y = np.arange(out_len, dtype=np.float64)
    extrapolated = None
    if ctm == "align_corners":
        x = np.zeros(out_len) if out_len == 1 else y * (in_len - 1) / (out_len - 1)
    elif ctm == "asymmetric":
        x = y / scale
    elif ctm == "tf_crop_and_resize":
        lo, hi = roi
        # the reference's order of operations: ties (nearest) round the same way
        if out_len == 1:
            x = np.full(out_len, (hi - lo) * (in_len - 1) / 2)
        else:
            x = y * (hi - lo) * (in_len - 1) / (out_len - 1)
        x = x + lo * (in_len - 1)
        extrapolated = (x < 0) | (x > in_len - 1)
    elif ctm == "pytorch_half_pixel":
        x = np.zeros(out_len) if out_len == 1 else (y + 0.5) / scale - 0.5
    elif ctm == "half_pixel":
        x = (y + 0.5) / scale - 0.5
    else:                            # half_pixel_symmetric (19)
        offset = in_len / 2 * (1 - out_len / (scale * in_len))
        x = offset + (y + 0.5) / scale - 0.5
    return x, extrapolated


def _cubic_kernel(d, a):
    d = np.abs(d)
    return np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                    np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0.0))


def _taps(mode, nearest_mode, cubic_a, antialias, exclude_outside, x, in_len, scale):
    """(indices, weights), each (out_len, n): output j = sum_t weights[j, t] *
    input[indices[j, t]] (indices clamped into the input, i.e. edge padding).

    With base = the integer left of x (x - 1 when x is an integer) and ratio = x - base in
    (0, 1], tap t sits at base + start + t, start = 1 - n/2, as in the ONNX reference."""
    base = np.floor(x)
    integer = base == x
    base = np.where(integer, base - 1, base)
    ratio = x - base
    if mode == "nearest":
        if nearest_mode == "round_prefer_floor":
            up = ratio > 0.5
        elif nearest_mode == "round_prefer_ceil":
            up = ratio >= 0.5
        else:
            up = np.full(ratio.shape, nearest_mode == "ceil")
        idx = (base + np.where(integer, True, up)).astype(np.int64)
        return np.clip(idx, 0, in_len - 1)[:, None], None
    s = min(scale, 1.0) if antialias else 1.0
    if mode == "linear":
        start = int(np.floor(-1 / s) + 1)
        n = 2 - 2 * start
        d = (start + np.arange(n)[None, :] - ratio[:, None]) * s
        w = np.clip(1 - np.abs(d), 0, 1)
    else:
        start = int(np.floor(-2 / s) + 1)
        n = 2 - 2 * start
        d = (start + np.arange(n)[None, :] - ratio[:, None]) * s
        w = _cubic_kernel(d, cubic_a)
    if antialias:
        w = w / w.sum(axis=1, keepdims=True)
    idx = base[:, None].astype(np.int64) + start + np.arange(n)[None, :]
    if exclude_outside:
        w = np.where((idx < 0) | (idx >= in_len), 0.0, w)
        total = w.sum(axis=1, keepdims=True)
        w = w / np.where(total == 0, 1.0, total)
    return np.clip(idx, 0, in_len - 1), w


def _resize_axis(x, axis, idx, w, extrapolated, extrapolation_value):
    """Apply one axis' taps: index_select the taps, weight and sum them (differentiable)."""
    out_len, n = idx.shape
    shape = tuple(x.shape)
    g = x.index_select(axis, index_tensor(idx))
    if w is not None:
        g = g.reshape(shape[:axis] + (out_len, n) + shape[axis + 1:])
        wt = rt.tensor(np.ascontiguousarray(
            w.reshape((out_len, n) + (1,) * (len(shape) - axis - 1)))).to(x.dtype)
        g = (g * wt).sum(dim=axis + 1)
    if extrapolated is not None and extrapolated.any():
        m = extrapolated.reshape((out_len,) + (1,) * (len(shape) - axis - 1))
        keep = rt.tensor(np.ascontiguousarray(~m)).to(g.dtype)
        fill = rt.tensor(np.ascontiguousarray(m * extrapolation_value)).to(g.dtype)
        g = g * keep + fill
    return g


def _float_array(node, t, what):
    if t is None:
        return None
    a = to_numpy(t)
    if a.size == 0:
        return None
    if a.ndim != 1:
        raise node.error(f"{what} must be 1-D, got shape {list(a.shape)}")
    return a


@converter("Resize", 11, 13, 18, 19)
def resize(node, x, roi=None, scales=None, sizes=None):
    """Resize-11/13/18/19: ``mode`` nearest (every ``nearest_mode``), linear and cubic
    (``cubic_coeff_a``, ``exclude_outside``, ``antialias``) over any axes (``axes``, 18),
    every ``coordinate_transformation_mode`` (tf_crop_and_resize with ``roi`` and
    ``extrapolation_value``; half_pixel_symmetric, 19) and ``keep_aspect_ratio_policy`` (18).

    Resizing is separable: each resized axis is one ``index_select`` of its taps (the
    reference's neighbour indices, clamped to the edge) and, for linear and cubic, a weighted
    sum, so the result is differentiable in X; integer inputs are rounded and saturated back
    after linear or cubic interpolation."""
    mode = node.attr("mode", "nearest")
    if mode not in ("nearest", "linear", "cubic"):
        raise node.error(f"mode {mode!r} is not nearest, linear or cubic")
    ctm = node.attr("coordinate_transformation_mode", "half_pixel")
    if ctm not in _CTM or (ctm == "half_pixel_symmetric" and node.opset < 19):
        raise node.error(f"coordinate_transformation_mode {ctm!r} is not supported at opset "
                         f"{node.opset}")
    nearest_mode = node.attr("nearest_mode", "round_prefer_floor")
    if nearest_mode not in _NEAREST:
        raise node.error(f"nearest_mode {nearest_mode!r} is not one of {', '.join(_NEAREST)}")
    antialias = bool(node.attr("antialias", 0)) and node.opset >= 18
    if antialias and mode == "nearest":
        raise node.error("antialias applies to the linear and cubic modes only")
    policy = node.attr("keep_aspect_ratio_policy", "stretch") if node.opset >= 18 else "stretch"
    if policy not in ("stretch", "not_larger", "not_smaller"):
        raise node.error(f"keep_aspect_ratio_policy {policy!r} is not stretch, not_larger or "
                         "not_smaller")
    r = x.dim()
    axes = node.attr("axes") if node.opset >= 18 else None
    axes = list(range(r)) if axes is None else norm_axes(node, axes, r)
    scales = _float_array(node, scales, "scales")
    sizes = None if sizes is None else (ints(node, sizes, "sizes") or None)
    if (scales is None) == (sizes is None):
        raise node.error("exactly one of scales and sizes must be given")
    in_shape = list(x.shape)
    out_shape = list(in_shape)
    scale = [1.0] * r
    if scales is not None:
        if len(scales) != len(axes):
            raise node.error(f"scales has {len(scales)} values for {len(axes)} axes")
        if not np.all(np.isfinite(scales)) or np.any(scales <= 0):
            raise node.error(f"scales {scales.tolist()} must be positive")
        for a, s in zip(axes, scales):
            scale[a] = float(s)
            out_shape[a] = int(float(s) * in_shape[a])
    else:
        if len(sizes) != len(axes):
            raise node.error(f"sizes has {len(sizes)} values for {len(axes)} axes")
        if any(v < 0 for v in sizes):
            raise node.error(f"sizes {sizes} must be non-negative")
        if any(in_shape[a] == 0 for a in axes):
            raise node.error(f"cannot resize the empty axes of an input of shape {in_shape}")
        for a, v in zip(axes, sizes):
            scale[a] = v / in_shape[a]
            out_shape[a] = v
        if policy != "stretch":
            pick = min if policy == "not_larger" else max
            s = pick(scale[a] for a in axes)
            for a in axes:
                scale[a] = s
                out_shape[a] = int(s * in_shape[a] + 0.5)
    check_size(node, out_shape)
    roi_pairs = {a: (0.0, 1.0) for a in range(r)}
    if ctm == "tf_crop_and_resize":
        roi_v = _float_array(node, roi, "roi")
        if roi_v is None or len(roi_v) != 2 * len(axes):
            raise node.error(f"tf_crop_and_resize needs a roi of {2 * len(axes)} values")
        for i, a in enumerate(axes):
            # kept in the roi's own type: (end - start) rounds as in the reference, so
            # nearest ties fall on the same side
            roi_pairs[a] = (roi_v[i], roi_v[i + len(axes)])
    cubic_a = float(node.attr("cubic_coeff_a", -0.75))
    exclude_outside = bool(node.attr("exclude_outside", 0))
    extrapolation_value = float(node.attr("extrapolation_value", 0.0))
    dtype = x.dtype
    if mode != "nearest" and dtype not in _FLOAT_KERNEL_DTYPES:
        if not dtype.is_floating_point and not dtype.is_complex and dtype != rt.bool:
            y = x.to(rt.float64)
        elif dtype.is_floating_point:
            y = x.to(rt.float32)            # float16/bfloat16: weights in float32
        else:
            raise node.error(f"{mode} resizing of {dtype} tensors is not supported")
    else:
        y = x
    for a in axes:
        n_in, n_out, s = in_shape[a], out_shape[a], scale[a]
        if math.isclose(s, 1.0) and n_in == n_out and \
                (float(roi_pairs[a][0]), float(roi_pairs[a][1])) == (0.0, 1.0):
            continue
        if n_out == 0 or n_in == 0:
            new_shape = list(y.shape)
            new_shape[a] = n_out
            y = y.narrow(a, 0, 0).reshape(tuple(new_shape)) if n_out == 0 else \
                rt.zeros(tuple(new_shape), dtype=y.dtype)
            continue
        coords, extrapolated = _source_coords(ctm, n_out, n_in, s, roi_pairs[a])
        idx, w = _taps(mode, nearest_mode, cubic_a, antialias, exclude_outside, coords, n_in, s)
        y = _resize_axis(y, a, idx, w, extrapolated, extrapolation_value)
    if y.dtype != dtype:
        if dtype.is_floating_point:
            y = y.to(dtype)
        else:
            info = np.iinfo(np.dtype(dtype.name))
            y = y.round().clamp(info.min, info.max).to(dtype)
    return y
